#!/bin/sh
# Runs the C unit and integration tests under valgrind memcheck: any
# definite or indirect leak or memory error fails. Prints TAP, one line per
# test program. Usage (from the build tree): tests/valgrind.sh
set -u
: "${TS_BUILDDIR:=$(pwd)}" "${TS_SRCDIR:=$TS_BUILDDIR}"
export TS_BUILDDIR TS_SRCDIR TS_FIXTURES="${TS_FIXTURES:-$TS_SRCDIR/tests/fixtures}"
export TOKENSCOPE_TEST_OWN_FILES=1 # the documented test hook (safe_file.h)
export TS_WYCHEPROOF_DIR="${TS_WYCHEPROOF_DIR:-$TS_SRCDIR/../shared/testvectors/wycheproof}"
command -v valgrind >/dev/null || { echo "1..0 # SKIP valgrind missing"; exit 0; }
n=0 failed=0
# the longest first, so the two workers below end close together
progs="t_wycheproof t_pam t_sasl t_policy t_b64url t_json t_jws_parse t_jwk t_sig_rules t_config t_kept t_reload t_sasl_client t_exports t_introspect_handler"
# one program under memcheck; its exit status into tests/T.vgresult
vg_one() {
	TS_TEST_NAME="$1-valgrind" valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
		--show-leak-kinds=definite,indirect --error-exitcode=97 --trace-children=no \
		"$TS_BUILDDIR/tests/$1" >"$TS_BUILDDIR/tests/$1.valgrind" 2>&1
	echo $? >"$TS_BUILDDIR/tests/$1.vgresult"
}
# two workers, one per core, each taking the next program not yet taken
# (mkdir claims it atomically); each program names its own temporary files.
# The verdicts are printed below in the list's order; none left from an
# earlier run can stand for this one's
for t in $progs; do rm -f "$TS_BUILDDIR/tests/$t.vgresult"; done
claims=$(mktemp -d)
worker() {
	for t in $progs; do
		mkdir "$claims/$t" 2>/dev/null && vg_one "$t"
	done
}
worker &
worker
wait
rmdir "$claims"/* "$claims"
for t in $progs; do
	n=$((n + 1))
	log="$TS_BUILDDIR/tests/$t.valgrind"
	rc=$(cat "$TS_BUILDDIR/tests/$t.vgresult" 2>/dev/null || echo "no verdict")
	rm -f "$TS_BUILDDIR/tests/$t.vgresult"
	if [ "$rc" = 0 ]; then
		echo "ok $n - valgrind_clean_$t ($(grep -c '^ok' "$log") assertions)"
	else
		echo "not ok $n - valgrind_clean_$t (exit $rc)"
		grep -E "^==[0-9]+==|^not ok" "$log" 2>/dev/null | head -30 | sed 's/^/# /'
		failed=1
	fi
done
echo "1..$n"
exit $failed
