#!/bin/sh
# Configures (when needed) and builds the tree in place. Extra arguments go to configure.
set -eu
cd "$(dirname "$0")/.."
[ -x configure ] || ./bootstrap.sh >/dev/null 2>&1 || ./bootstrap.sh
# Configure again when it never finished, when arguments are given, or when
# packages were installed or removed since it ran: what it found may no longer
# be what is installed (the demo configures before the test suite's packages
# are there, and a stale Makefile would build without them, or with ones gone).
if [ ! -f Makefile ] || [ ! -f config.status ] || [ "$#" -gt 0 ] ||
	{ [ -f /var/lib/dpkg/status ] && [ /var/lib/dpkg/status -nt config.status ]; }; then
	./configure -q --enable-werror "$@"
fi
make -j2 -s
