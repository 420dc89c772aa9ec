#!/bin/sh
# The demo: installs what is missing, builds, and runs scripts/demo-run.sh.
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh build
scripts/build.sh
exec scripts/demo-run.sh
