#!/bin/sh
# Configures (once) and builds the tree in place. Extra arguments go to configure.
set -eu
cd "$(dirname "$0")/.."
[ -x configure ] || ./bootstrap.sh >/dev/null 2>&1 || ./bootstrap.sh
if [ ! -f Makefile ] || [ "$#" -gt 0 ]; then
	./configure -q --enable-werror "$@"
fi
make -j2 -s
