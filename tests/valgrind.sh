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
for t in t_b64url t_json t_jws_parse t_jwk t_sig_rules t_policy t_config t_kept t_reload t_pam t_sasl t_sasl_client t_exports t_wycheproof t_introspect_handler; do
	n=$((n + 1))
	log="$TS_BUILDDIR/tests/$t.valgrind"
	TS_TEST_NAME="$t-valgrind" valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
		--show-leak-kinds=definite,indirect --error-exitcode=97 --trace-children=no \
		"$TS_BUILDDIR/tests/$t" >"$log" 2>&1
	rc=$?
	if [ $rc = 0 ]; then
		echo "ok $n - valgrind_clean_$t ($(grep -c '^ok' "$log") assertions)"
	else
		echo "not ok $n - valgrind_clean_$t (exit $rc)"
		grep -E "^==[0-9]+==|^not ok" "$log" | head -30 | sed 's/^/# /'
		failed=1
	fi
done
echo "1..$n"
exit $failed
