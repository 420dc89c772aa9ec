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
# one program's verdict into tests/T.vgresult, numbered N
vg_one() {
	t=$1
	log="$TS_BUILDDIR/tests/$t.valgrind"
	TS_TEST_NAME="$t-valgrind" valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
		--show-leak-kinds=definite,indirect --error-exitcode=97 --trace-children=no \
		"$TS_BUILDDIR/tests/$t" >"$log" 2>&1
	rc=$?
	if [ $rc = 0 ]; then
		echo "ok $2 - valgrind_clean_$t ($(grep -c '^ok' "$log") assertions)"
	else
		echo "not ok $2 - valgrind_clean_$t (exit $rc)"
		grep -E "^==[0-9]+==|^not ok" "$log" | head -30 | sed 's/^/# /'
	fi >"$TS_BUILDDIR/tests/$t.vgresult"
}
# two workers, one per core, each taking the next program not yet taken
# (mkdir claims it atomically); each program names its own temporary files,
# and the verdicts are printed in the list's order
claims=$(mktemp -d)
worker() {
	k=0
	for t in $progs; do
		k=$((k + 1))
		mkdir "$claims/$t" 2>/dev/null && vg_one "$t" $k
	done
}
worker &
worker
wait
rmdir "$claims"/* "$claims"
for t in $progs; do
	n=$((n + 1))
	if [ -f "$TS_BUILDDIR/tests/$t.vgresult" ]; then
		cat "$TS_BUILDDIR/tests/$t.vgresult"
	else
		echo "not ok $n - valgrind_clean_$t (no verdict)"
	fi
	grep -qs "^ok" "$TS_BUILDDIR/tests/$t.vgresult" || failed=1
	rm -f "$TS_BUILDDIR/tests/$t.vgresult"
done
echo "1..$n"
exit $failed
