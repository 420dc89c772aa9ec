#!/bin/sh
# Replays the corpora and fuzzes every target for SECONDS seconds.
# Usage: run.sh SRCDIR BUILDDIR SECONDS [WYCHEPROOF_DIR]
# Prints one line per target with executions and coverage; any crash, leak,
# timeout or sanitizer report fails (the reproducer is left in BUILDDIR).
set -u
src=$1 build=$2 secs=$3 wp=${4:-}
# the documented test hook (common/safe_file.h): the targets' files belong to
# whoever runs the fuzzer
TOKENSCOPE_TEST_OWN_FILES=1
export TOKENSCOPE_TEST_OWN_FILES
work="$build/tests/fuzz/work"
mkdir -p "$work"
fail=0
# the Wycheproof JWS vectors as extra seeds, read in place, never committed
if [ -n "$wp" ] && [ -f "$wp/json_web_signature_test.json" ]; then
	mkdir -p "$work/wycheproof"
	/usr/bin/python3 - "$wp" "$work/wycheproof" <<'PY'
import hashlib, json, os, sys
src, out = sys.argv[1], sys.argv[2]
for f in ("json_web_signature_test.json", "json_web_key_test.json", "json_web_crypto_test.json"):
    for g in json.load(open(os.path.join(src, f)))["testGroups"]:
        for t in g["tests"]:
            j = t.get("jws")
            data = (j if isinstance(j, str) else json.dumps(j)).encode()
            open(os.path.join(out, hashlib.sha1(data).hexdigest()[:16]), "wb").write(data)
PY
fi
run_one() {
	t=$1
	corpus="$work/corpus-$t"
	mkdir -p "$corpus"
	extra=""
	[ "$t" = validate ] && [ -d "$work/wycheproof" ] && extra="$work/wycheproof"
	log="$work/$t.log"
	(cd "$work" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		"$build/tests/fuzz/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2560 \
		-dict="$src/tests/fuzz/jose.dict" -print_final_stats=1 -artifact_prefix="$work/$t-" \
		"$corpus" "$src/tests/fuzz/corpus/$t" $extra >"$log" 2>&1)
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)
	seeds=$(grep -oE 'INITED cov: [0-9]+' "$log" | head -1)
	if [ $rc = 0 ]; then
		echo "ok fuzz_$t: ${execs:-?} executions in ${secs}s, $cov (corpus replay: $seeds), corpus $(ls "$corpus" | wc -l) files"
	else
		echo "not ok fuzz_$t: exit $rc"
		grep -E "ERROR|SUMMARY|Test unit written|==[0-9]+==" "$log" | head -15 | sed 's/^/# /'
	fi >"$work/$t.result"
}
# two at a time: one per core
for pair in "validate keyfile" "conf sasl_msg" "pam json" "introspect"; do
	for t in $pair; do run_one "$t" & done
	wait
done
for t in validate keyfile conf sasl_msg pam json introspect; do
	cat "$work/$t.result"
	grep -q "^ok" "$work/$t.result" || fail=1
done
exit $fail
