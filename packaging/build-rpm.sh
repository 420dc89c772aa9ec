#!/bin/sh
# Builds the RPMs from the release tarball with packaging/rpm/tokenscope.spec
# (rpmbuild -bb; --nodeps because the build requirements are named the
# RPM way and this may be a Debian machine), then checks with rpm -qlp that
# each file sits in its subpackage at the right path. Prints TAP.
# TS_RPM_NOCHECK=1 builds without the spec's %check (rpmbuild --nocheck):
# scripts/test.sh sets it, having run the same unit suite before it.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
n=0 failed=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi; }
command -v rpmbuild >/dev/null || { echo "1..0 # SKIP rpmbuild missing (Debian package rpm)"; exit 0; }
[ -f Makefile ] || scripts/build.sh
make -s dist >/dev/null
rt=$(mktemp -d)
trap 'rm -rf "$rt"' EXIT
mkdir -p "$rt/SOURCES"
cp tokenscope-0.1.0.tar.gz "$rt/SOURCES/"
nocheck=""
[ -n "${TS_RPM_NOCHECK:-}" ] && nocheck=--nocheck
rpmbuild -bb --nodeps $nocheck --define "_topdir $rt" packaging/rpm/tokenscope.spec >"$rt/build.log" 2>&1
rc=$?
[ $rc = 0 ] || { grep -E "^(FAIL|ERROR):" "$rt/build.log"; tail -30 "$rt/build.log"; } | sed 's/^/# /'
ok $rc "rpmbuild_bb_from_the_dist_tarball"
if [ -z "$nocheck" ]; then
	grep -q "^# FAIL:  0" "$rt/build.log"
	ok $? "rpm_check_section_ran_make_check ($(grep -E '^# (PASS|SKIP):' "$rt/build.log" | tr '\n' ' '))"
else
	echo "# %check not run (TS_RPM_NOCHECK): the unit suite ran in the builds before"
fi
lib=$(rpm --eval '%{_libdir}')
files() { rpm -qlp "$rt"/RPMS/*/"$1"-0.1.0-*.rpm 2>/dev/null; }
has() { files "$1" | grep -qx "$2"; }
has pam_token "$lib/security/pam_token.so"; ok $? "pam_token_has $lib/security/pam_token.so"
# compressed or not, depending on the distribution's brp scripts
files pam_token | grep -qE '^/usr/share/man/man8/pam_token\.8(\.gz)?$'; ok $? "pam_token_has_its_man_page"
files cyrus-sasl-token | grep -qE '^/usr/share/man/man8/sasl_token\.8(\.gz)?$'; ok $? "cyrus_sasl_token_has_its_man_page"
files tokenscope | grep -qE '^/usr/share/man/man5/tokenscope\.conf\.5(\.gz)?$'; ok $? "tokenscope_has_tokenscope.conf.5"
has cyrus-sasl-token "$lib/sasl2/libtoken.so"; ok $? "cyrus_sasl_token_has $lib/sasl2/libtoken.so"
has tokenscope /usr/bin/tokenscope; ok $? "tokenscope_has /usr/bin/tokenscope"
has tokenscope /etc/tokenscope/tokenscope.conf; ok $? "tokenscope_has_its_config"
rpm -qp --configfiles "$rt"/RPMS/*/tokenscope-0.1.0-*.rpm | grep -qx /etc/tokenscope/tokenscope.conf
ok $? "config_is_a_noreplace_config_file"
has tokenscope-introspect /usr/sbin/tokenscope-introspect; ok $? "tokenscope_introspect_has /usr/sbin/tokenscope-introspect"
has tokenscope-introspect /usr/lib/systemd/system/tokenscope-introspect.service &&
	has tokenscope-introspect /usr/lib/systemd/system/tokenscope-introspect.socket
ok $? "tokenscope_introspect_has_its_units"
files tokenscope-introspect | grep -qE '^/usr/share/man/man8/tokenscope-introspect\.8(\.gz)?$'
ok $? "tokenscope_introspect_has_its_man_page"
rpm -qp --scripts "$rt"/RPMS/*/tokenscope-introspect-0.1.0-*.rpm | grep -q "useradd -r -g tokenscope"
ok $? "tokenscope_introspect_creates_its_service_user"
! files tokenscope | grep -q tokenscope-introspect; ok $? "the_daemon_only_in_its_subpackage"
! files pam_token | grep -qE 'libtoken|bin/tokenscope' && ! files cyrus-sasl-token | grep -q pam_token &&
	! files tokenscope | grep -qE 'pam_token.so|libtoken.so'
ok $? "each_file_in_one_subpackage_only"
! (files pam_token; files cyrus-sasl-token; files tokenscope) | grep -q '\.la$'
ok $? "no_la_files"
echo "1..$n"
exit $failed
