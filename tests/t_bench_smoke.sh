#!/bin/sh
# t_bench_smoke.sh: the benchmark keeps building and running (tiny counts;
# its figures mean nothing here and are never checked against thresholds).
: "${TS_BUILDDIR:?}"
[ -z "${TS_SANITIZERS:-}" ] || { echo "1..0 # SKIP timing under sanitizers is meaningless"; exit 0; }
out=$(TS_BUILDDIR="$TS_BUILDDIR" "$TS_BUILDDIR/bench/tokenscope-bench" --smoke 2>&1)
rc=$?
[ $rc = 0 ] && echo "ok 1 - bench_smoke_run_completes" || { echo "not ok 1 - bench_smoke_run_completes (exit $rc)"; echo "$out" | tail -5 | sed 's/^/# /'; }
for section in "1-2. one token check" "3. PAM" "4. SASL" "5. the" "6. two threads" "7. memory" "targets:"; do
	echo "$out" | grep -q "^$section" || { echo "not ok 2 - bench_prints_every_section (missing: $section)"; echo "1..2"; exit 1; }
done
echo "ok 2 - bench_prints_every_section"
echo "1..2"
[ $rc = 0 ]
