#!/bin/sh
# Regenerates the autotools files (a release tarball does not need this).
set -e
cd "$(dirname "$0")"
autoreconf -fi
