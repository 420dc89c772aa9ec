#!/bin/sh
# Builds the .deb packages, installs them on this machine, runs the Dovecot,
# OpenSSH and Postfix end-to-end tests against the installed module and
# plugin, checks upgrade and purge behaviour, and removes the packages.
# Prints TAP. Needs root; refuses to touch a machine where tokenscope is
# already installed or configured.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
n=0 failed=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi; }
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP installing packages needs root"; exit 0; }
if dpkg-query -W libpam-token libsasl2-modules-token tokenscope tokenscope-introspect >/dev/null 2>&1 ||
	[ -e /etc/tokenscope ]; then
	echo "1..0 # SKIP tokenscope is already installed or /etc/tokenscope exists: not ours to remove"
	exit 0
fi
debs="_deb/libpam-token_*_*.deb _deb/libsasl2-modules-token_*_*.deb _deb/tokenscope_*_*.deb _deb/tokenscope-introspect_*_*.deb"
had_user=0
getent passwd tokenscope >/dev/null && had_user=1
remove() {
	dpkg --purge tokenscope-introspect libpam-token libsasl2-modules-token tokenscope >/dev/null 2>&1
	rm -rf /etc/tokenscope
}
trap remove EXIT

packaging/build-deb.sh >_deb.log 2>&1
rc=$?
[ $rc = 0 ] || tail -40 _deb.log | sed 's/^/# /'
ok $rc "dpkg_buildpackage_and_lintian_clean ($(grep -E '^lintian:' _deb.log))"
# shellcheck disable=SC2086
dpkg -i $(ls $debs | grep -v dbgsym) >/dev/null 2>&1
ok $? "packages_install"
m=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
[ -f "/usr/lib/$m/security/pam_token.so" ] && [ -f "/usr/lib/$m/sasl2/libtoken.so" ] &&
	[ -x /usr/bin/tokenscope ] && [ -f /etc/tokenscope/tokenscope.conf ]
ok $? "files_at_their_system_paths"
! find /usr/lib -name 'pam_token.la' -o -name 'libtoken.la' | grep -q .
ok $? "no_la_files_installed"
# Debian 12 puts units in /lib/systemd/system, Debian 13 in /usr/lib/...
unit_installed() { [ -f "/usr/lib/systemd/system/$1" ] || [ -f "/lib/systemd/system/$1" ]; }
tokenscope check-config >/dev/null; ok $? "installed_default_config_loads"
[ -f /usr/share/man/man1/tokenscope.1.gz ] && [ -f /usr/share/man/man5/tokenscope.conf.5.gz ] &&
	[ -f /usr/share/man/man8/pam_token.8.gz ] && [ -f /usr/share/man/man8/sasl_token.8.gz ]
ok $? "man_pages_installed"
[ -x /usr/sbin/tokenscope-introspect ] && [ -f /usr/share/man/man8/tokenscope-introspect.8.gz ] &&
	unit_installed tokenscope-introspect.service && unit_installed tokenscope-introspect.socket &&
	[ -f /usr/share/doc/tokenscope-introspect/examples/dovecot-2.4-oauth2.conf ]
ok $? "introspect_daemon_units_man_page_and_examples_installed"
unit_installed tokenscope-fetch-keys.service && unit_installed tokenscope-fetch-keys.timer
ok $? "fetch_keys_timer_units_installed"
unit_installed tokenscope-fetch-requested.path && unit_installed tokenscope-fetch-requested.service
ok $? "K14_fetch_requested_path_units_installed"
getent passwd tokenscope >/dev/null && ! getent passwd tokenscope | cut -d: -f3 | grep -qx 0
ok $? "introspect_service_user_created"
[ ! -e /etc/systemd/system/sockets.target.wants/tokenscope-introspect.socket ] &&
	[ ! -e /etc/systemd/system/multi-user.target.wants/tokenscope-introspect.service ]
ok $? "introspect_units_installed_not_enabled"

export TS_SRCDIR="$top" TS_BUILDDIR="$top" TS_FIXTURES="$top/tests/fixtures" TS_E2E_INSTALLED=1
zcat -f /usr/share/doc/tokenscope/README.Debian* 2>/dev/null | cmp -s - doc/quickstart.md
ok $? "quickstart_installed_as_README.Debian"
# the quick start's commands, taken from the installed README.Debian
for t in dovecot sshd postfix postfix_chroot slapd cyrus quickstart; do
	out=$(sh tests/e2e/t_$t.sh 2>&1)
	echo "$out" | sed 's/^/# /' | grep -E "^# (not ok|ok|1\.\.)" | sed 's/^# ok/#   ok/'
	plan=$(echo "$out" | sed -n 's/^1\.\.\([0-9]*\).*/\1/p')
	bad=$(echo "$out" | grep -c "^not ok")
	[ "$bad" = 0 ] && [ "${plan:-0}" -gt 0 ]
	ok $? "installed_e2e_$t ($plan checks, $bad failed)"
done
out=$(TS_INTROSPECT=/usr/sbin/tokenscope-introspect sh tests/e2e/t_introspect.sh 2>&1)
echo "$out" | sed 's/^/# /' | grep -E "^# (not ok|ok|1\.\.)" | sed 's/^# ok/#   ok/'
plan=$(echo "$out" | sed -n 's/^1\.\.\([0-9]*\).*/\1/p')
bad=$(echo "$out" | grep -c "^not ok")
[ "$bad" = 0 ] && [ "${plan:-0}" -gt 0 ]
ok $? "installed_e2e_introspect ($plan checks, $bad failed)"
unset TS_E2E_INSTALLED

# upgrade (reinstall) keeps the administrator's config and keys
printf '\n# edited by the administrator\n' >>/etc/tokenscope/tokenscope.conf
mkdir -p /etc/tokenscope/keys && cp tests/fixtures/keys/p256.pub.pem /etc/tokenscope/keys/
# shellcheck disable=SC2086
dpkg -i $(ls $debs | grep -v dbgsym) >/dev/null 2>&1
grep -q "edited by the administrator" /etc/tokenscope/tokenscope.conf && [ -f /etc/tokenscope/keys/p256.pub.pem ]
ok $? "upgrade_keeps_config_and_keys"
# purge removes what the package made, never the administrator's keys
dpkg --purge tokenscope-introspect libpam-token libsasl2-modules-token tokenscope >/dev/null 2>&1
[ ! -e /etc/tokenscope/tokenscope.conf ] && [ ! -e /usr/sbin/tokenscope-introspect ] &&
	{ [ "$had_user" = 1 ] || ! getent passwd tokenscope >/dev/null; } && [ -f /etc/tokenscope/keys/p256.pub.pem ] &&
	[ ! -e "/usr/lib/$m/security/pam_token.so" ] && [ ! -e /usr/bin/tokenscope ]
ok $? "purge_removes_only_what_the_package_created"
echo "1..$n"
exit $failed
