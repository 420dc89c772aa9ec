#!/bin/sh
# Builds the Debian packages from the release tarball (make dist) with
# packaging/debian, runs lintian on them, and leaves the .deb files in
# OUTDIR (default: _deb). Usage: packaging/build-deb.sh [OUTDIR]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/_deb}
cd "$top"
[ -f Makefile ] || scripts/build.sh
make -s dist >/dev/null
tarball=$(ls -t tokenscope-*.tar.gz | head -1)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -xzf "$tarball" -C "$work"
src=$(ls -d "$work"/tokenscope-*)
cp -r packaging/debian "$src/debian"
(cd "$src" && dpkg-buildpackage -us -uc -b -Jauto >"$work/build.log" 2>&1) || {
	tail -40 "$work/build.log"
	echo "build-deb: dpkg-buildpackage failed" >&2
	exit 1
}
grep -E "^# (TOTAL|PASS|FAIL|SKIP):" "$work/build.log" | tr '\n' ' '
echo
# lintian: no errors and no warnings (overrides must say why, in debian/)
lrc=0
lintian --fail-on error,warning "$work"/*.changes >"$work/lintian.out" 2>&1 || lrc=$?
grep -v "running with root privileges" "$work/lintian.out" || true
[ "$lrc" = 0 ] || { echo "build-deb: lintian found errors or warnings" >&2; exit 1; }
echo "lintian: no errors, no warnings"
rm -rf "$out" && mkdir -p "$out"
mv "$work"/*.deb "$out/"
ls "$out"
