#!/bin/sh
# .ci/fresh-root.sh RELEASE COMMAND...: a new user's first minutes on a fresh
# Debian RELEASE (bookworm, trixie). Makes a `debootstrap --variant=minbase`
# root, puts a clean clone of this checkout's HEAD in it with ../shared beside
# it (read-only, as CI has it), and runs each COMMAND (the README's own
# command lines, scripts/demo.sh and scripts/test.sh) inside it as root, from
# the clone's top directory, in the order given. Exits with the status of the first command that fails.
#
# The minbase root is cached as a tarball (TS_ROOT_CACHE, default
# /var/cache/tokenscope-ci): it holds only what debootstrap put there, never a
# package of the project's, so the README commands still install everything
# themselves. It is made again when missing. Services started inside listen
# on 127.0.0.1 only and are stopped by the tests that start them.
set -eu
rel=$1
shift
top=$(cd "$(dirname "$0")/.." && pwd)
shared=$(cd "$top/../shared" && pwd)
cache=${TS_ROOT_CACHE:-/var/cache/tokenscope-ci}
mirror=${TS_DEBIAN_MIRROR:-http://deb.debian.org/debian}
base="$cache/$rel-minbase.tar"

[ "$(id -u)" = 0 ] || { echo "fresh-root: needs root (debootstrap, chroot, mounts)" >&2; exit 2; }
if ! command -v debootstrap >/dev/null; then
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi
mkdir -p "$cache"
if [ ! -s "$base" ]; then
	t0=$(date +%s)
	tmp=$(mktemp -d /var/tmp/ts-base-$rel.XXXXXX)
	debootstrap --variant=minbase "$rel" "$tmp" "$mirror" >"$cache/$rel-debootstrap.log" 2>&1 ||
		{ tail -20 "$cache/$rel-debootstrap.log"; rm -rf "$tmp"; exit 1; }
	chmod 755 "$tmp"
	tar -C "$tmp" -cf "$base.tmp" . && mv "$base.tmp" "$base"
	rm -rf "$tmp"
	echo "fresh-root: made the $rel minbase root in $(($(date +%s) - t0)) s"
fi

R=$(mktemp -d /var/tmp/ts-root-$rel.XXXXXX)
cleanup() {
	# services the tests started are stopped by the tests; anything left
	# running inside the root is ended before its mounts go
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/root" 2>/dev/null)" = "$R" ] && kill -9 "${p#/proc/}" 2>/dev/null
	done
	sleep 1
	for m in build/shared var/cache/apt/archives dev sys proc; do
		umount -R "$R/$m" 2>/dev/null || umount -lR "$R/$m" 2>/dev/null || true
	done
	# remove only when nothing is mounted there any more (TS_KEEP_ROOT=1
	# keeps it for a look at what failed)
	if [ -n "${TS_KEEP_ROOT:-}" ]; then
		echo "fresh-root: kept $R"
	elif ! grep -q " $R/" /proc/mounts; then
		rm -rf "$R"
	fi
}
trap cleanup EXIT
tar -C "$R" -xf "$base"
# mktemp made it 0700 (and the tarball's "." may say so too): the daemons'
# own users must be able to reach the tests' directories inside
chmod 755 "$R"
mount -t proc proc "$R/proc"
# the .deb files apt downloads are kept between runs (TS_ROOT_CACHE/
# RELEASE-archives, checked against the fresh index like any download):
# nothing is installed in the root until the README's commands install it,
# only the download is saved
mkdir -p "$cache/$rel-archives/partial"
mount --bind "$cache/$rel-archives" "$R/var/cache/apt/archives"
mount --rbind /sys "$R/sys" && mount --make-rslave "$R/sys"
mount --rbind /dev "$R/dev" && mount --make-rslave "$R/dev"
cp /etc/resolv.conf "$R/etc/resolv.conf"
mkdir -p "$R/build/shared" "$R/build/tokenscope"
mount --bind "$shared" "$R/build/shared" && mount -o remount,bind,ro "$R/build/shared"
git clone -q "$top" "$R/build/tokenscope"
echo "fresh-root: Debian $(cat "$R/etc/debian_version") ($rel) at $R, clone of $(git -C "$top" rev-parse --short HEAD)"

rc=0
for cmd in "$@"; do
	t0=$(date +%s)
	echo "fresh-root: $rel: $cmd"
	# a login-like environment, as a new user's root shell has it
	chroot "$R" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		LANG=C.UTF-8 TERM=dumb /bin/sh -c "cd /build/tokenscope && $cmd" </dev/null || rc=$?
	echo "fresh-root: $rel: $cmd exited $rc after $(($(date +%s) - t0)) s"
	[ "$rc" = 0 ] || break
done
exit "$rc"
