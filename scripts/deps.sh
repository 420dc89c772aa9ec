#!/bin/sh
# Installs the Debian 12 or 13 packages tokenscope needs that are not there yet.
# Usage: scripts/deps.sh [build|test]   (test = build + test-only packages)
set -eu
what=${1:-build}
# the few names that differ between releases
codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
case "$codename" in
bookworm) clang_rt=libclang-rt-14-dev ;;
*) clang_rt=libclang-rt-dev ;; # trixie and later: the unversioned name
esac
pkgs="autoconf automake libtool pkg-config make gcc openssl libssl-dev libjansson-dev libpam0g-dev libsasl2-dev libcurl4-openssl-dev libmicrohttpd-dev"
if [ "$what" = test ]; then
	# clang: the warning-free build is checked with both compilers;
	# clang-format: style check; python3-jwt/jwcrypto: the independent signer
	# used to regenerate fixtures (make fixtures) and by later tests.
	pkgs="$pkgs clang clang-format python3 python3-jwt python3-jwcrypto python3-cryptography groff-base"
	# end-to-end tests: real servers started by the tests on 127.0.0.1
	pkgs="$pkgs dovecot-imapd openssh-server python3-paramiko libpam-wrapper libnss-wrapper sasl2-bin postfix"
	# the quick start's own test commands (t_quickstart), the mail clients
	# people use against those servers (t_mailclients), and OpenSSH's own
	# ssh client (t_sshd_multipart)
	pkgs="$pkgs curl msmtp openssh-client"
	# OpenLDAP: slapd runs the plugin's server side, ldapwhoami its client side
	pkgs="$pkgs slapd ldap-utils"
	# Cyrus IMAP: imapd runs the plugin's server side, imtest its client
	# side. cyrus-imapd itself conflicts with dovecot-imapd (both are the
	# imap-server): its imapd is unpacked beside, see cyrus_imapd below
	pkgs="$pkgs cyrus-common cyrus-clients"
	# packaging: Debian packages built, linted and installed; RPMs built
	pkgs="$pkgs build-essential debhelper dpkg-dev fakeroot lintian rpm"
	# hardening: memcheck, the sanitizer runtime, strace for the no-network test
	pkgs="$pkgs valgrind $clang_rt llvm strace"
	# t_json compiles a comma-decimal locale with localedef
	pkgs="$pkgs locales"
	# make bench: the peers it compares with (cjose, libjwt 1.x), and the
	# ANONYMOUS mechanism its SASL section measures against (a minimal
	# system has no libsasl2-modules)
	pkgs="$pkgs libcjose-dev libjwt-dev libsasl2-modules"
fi
# cyrus_imapd: Debian's imapd for tests/e2e/t_cyrus.sh, unpacked (not
# installed: the package would remove Dovecot's) from the cyrus-imapd
# package of the installed cyrus-common's version
CYRUS_DIR=/usr/local/lib/tokenscope-test/cyrus-imapd
cyrus_imapd() {
	[ "$what" = test ] || return 0
	[ -x /usr/lib/cyrus/bin/imapd ] || [ -x "$CYRUS_DIR/usr/lib/cyrus/bin/imapd" ] && return 0
	[ "$(id -u)" = 0 ] || { echo "tests/e2e/t_cyrus.sh needs $CYRUS_DIR: run scripts/deps.sh test as root" >&2; return 0; }
	v=$(dpkg-query -W -f='${Version}' cyrus-common) || return 1
	d=$(mktemp -d) && chmod 755 "$d" || return 1
	(cd "$d" && apt-get download -qq "cyrus-imapd=$v" 2>/dev/null) &&
		mkdir -p "$CYRUS_DIR" && dpkg-deb -x "$d"/cyrus-imapd_*.deb "$CYRUS_DIR"
	rc=$?
	rm -rf "$d"
	return $rc
}
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
	cyrus_imapd
	exit
fi
if [ "$(id -u)" != 0 ]; then
	echo "missing Debian packages:$missing" >&2
	echo "install them as root: apt-get install$missing" >&2
	exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# the tests start and stop their own servers: apt must not start any
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
cyrus_imapd
