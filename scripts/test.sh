#!/bin/sh
# The whole test suite: installs what is missing, builds, runs `make check`,
# the style check, a warning-free clang build and `make distcheck`, and ends
# with one summary line "N passed, N failed, N skipped".
set -u
cd "$(dirname "$0")/.."
top=$(pwd)
fail=0

scripts/deps.sh test || exit 1
scripts/build.sh || exit 1

echo "== make check"
make -j2 check >make-check.out 2>&1 || fail=1
grep -E '^(PASS|FAIL|SKIP|ERROR|XFAIL|XPASS):' make-check.out | grep -v '^PASS' || true
grep -E '^# (Wycheproof|[a-z_0-9]+\.json)' tests/*.log 2>/dev/null | sed 's/^tests\///' || true
sed -n '/^Testsuite summary/,/^=====/p' make-check.out
if [ "$fail" = 1 ]; then
	for l in tests/*.log; do
		grep -qE '^(not ok|Bail out!)' "$l" 2>/dev/null && { echo "--- $l"; grep -E '^(not ok|Bail out!|#)' "$l" | head -40; }
	done
fi

echo "== style (clang-format)"
if ! find common pam_token sasl_token tools tests bench -name '*.[ch]' 2>/dev/null |
	xargs clang-format --dry-run --Werror 2>format.out; then
	head -20 format.out
	echo "FAIL: style check (run: clang-format -i on the files above)"
	fail=1
fi

echo "== make distcheck"
if ! make -j2 distcheck >distcheck.out 2>&1; then
	tail -30 distcheck.out
	echo "FAIL: make distcheck"
	fail=1
else
	grep -A1 'archives ready' distcheck.out | tail -1
fi

echo "== clang build from the release tarball (warnings are errors)"
rm -rf _build-clang && mkdir _build-clang
if ! (tar -xzf tokenscope-*.tar.gz -C _build-clang && cd _build-clang/tokenscope-* &&
	./configure -q --enable-werror CC=clang >/dev/null && make -j2 -s >build.out 2>&1); then
	tail -20 _build-clang/tokenscope-*/build.out 2>/dev/null
	echo "FAIL: clang build"
	fail=1
fi
rm -rf _build-clang

echo "== make check again with ASan + UBSan (halt on error; servers skipped: they are not instrumented)"
rm -rf _build-san && mkdir _build-san
if tar -xzf tokenscope-*.tar.gz -C _build-san && (cd _build-san/tokenscope-* &&
	./configure -q --enable-sanitizers --with-wycheproof-dir="$top/../shared/testvectors/wycheproof" \
		CC=clang >/dev/null && make -j2 -s >build.out 2>&1); then
	(cd _build-san/tokenscope-* && TS_SKIP_E2E=1 TS_SANITIZERS=1 \
		ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:abort_on_error=0 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 make -j2 check >"$top/sanitizers.out" 2>&1) || fail=1
	grep -E '^(FAIL|ERROR):' sanitizers.out || true
	grep -E '^# (TOTAL|PASS|FAIL|ERROR):' sanitizers.out | tr '\n' ' '
	echo
else
	echo "FAIL: sanitizer build"
	echo "# FAIL: 1" >sanitizers.out
	fail=1
fi
rm -rf _build-san

echo "== valgrind: the C unit and integration tests under memcheck"
tests/valgrind.sh >valgrind.out 2>&1 || fail=1
grep -E "^(not ok|#)" valgrind.out || true
echo "$(grep -c '^ok' valgrind.out) test programs valgrind-clean"

echo "== fuzzing: libFuzzer + ASan/UBSan with fault injection, corpora replayed, 60 s per target"
rm -rf _build-fuzz && mkdir _build-fuzz
if tar -xzf tokenscope-*.tar.gz -C _build-fuzz && (cd _build-fuzz/tokenscope-* &&
	./configure -q --enable-fuzzing --with-wycheproof-dir="$top/../shared/testvectors/wycheproof" \
		CC=clang >/dev/null && make -j2 -s >build.out 2>&1); then
	(cd _build-fuzz/tokenscope-* && make -s fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-60}") >fuzz.out 2>&1 || fail=1
	grep -E "^(ok|not ok|#)" fuzz.out
	# keep any reproducer (the build tree goes away below) and show it
	for r in _build-fuzz/tokenscope-*/tests/fuzz/work/*-crash-* \
		_build-fuzz/tokenscope-*/tests/fuzz/work/*-leak-* \
		_build-fuzz/tokenscope-*/tests/fuzz/work/*-timeout-*; do
		[ -f "$r" ] || continue
		mkdir -p fuzz-artifacts && cp "$r" fuzz-artifacts/
		echo "# reproducer fuzz-artifacts/$(basename "$r") (base64): $(head -c 3000 "$r" | base64 -w0)"
	done
else
	echo "not ok fuzz build" | tee fuzz.out
	tail -20 _build-fuzz/tokenscope-*/build.out
	fail=1
fi
rm -rf _build-fuzz

echo "== packages: .deb built, linted, installed, end-to-end as installed, removed; RPMs built"
: >packages.out
if [ "$(id -u)" = 0 ]; then
	packaging/test-installed.sh >>packages.out 2>&1 || fail=1
	packaging/build-rpm.sh >>packages.out 2>&1 || fail=1
	grep -E "^(ok|not ok|1\.\.)" packages.out | grep -v "^ok" || true
	echo "$(grep -c '^ok' packages.out) package checks passed"
else
	echo "SKIP: building and installing packages needs root" | tee packages.out
fi

# one closing line CI can read
awk -v f="$fail" '
	FILENAME == "make-check.out" && /^# PASS:/ {p+=$3}
	FILENAME == "make-check.out" && (/^# FAIL:/ || /^# ERROR:/ || /^# XPASS:/) {x+=$3}
	FILENAME == "make-check.out" && /^# SKIP:/ {s+=$3}
	FILENAME == "sanitizers.out" && /^# PASS:/ {p+=$3}
	FILENAME == "sanitizers.out" && (/^# FAIL:/ || /^# ERROR:/ || /^# XPASS:/) {x+=$3}
	FILENAME == "sanitizers.out" && /^# SKIP:/ {s+=$3}
	FILENAME != "make-check.out" && FILENAME != "sanitizers.out" && /^ok / {p++}
	FILENAME != "make-check.out" && FILENAME != "sanitizers.out" && /^not ok / {x++}
	FILENAME != "make-check.out" && FILENAME != "sanitizers.out" && /^(1\.\.0 # SKIP|SKIP:)/ {s++}
	END { if (f && x == 0) x = 1; printf "%d passed, %d failed, %d skipped\n", p, x, s }' make-check.out sanitizers.out valgrind.out fuzz.out packages.out
exit "$fail"
