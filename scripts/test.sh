#!/bin/sh
# The whole test suite: installs what is missing, builds, runs `make check`,
# the style check, `make distcheck`, a warning-free clang build with ASan and
# UBSan (and without the bench's optional peers), valgrind, fuzzing and the
# packages, prints how long each stage took, and ends with one summary line
# "N passed, N failed, N skipped".
set -u
cd "$(dirname "$0")/.."
top=$(pwd)
fail=0
t_all=$(date +%s)
t_stage=$t_all
stage_name=""
# stage NAME: closes the previous stage with its duration and opens the next
stage() {
	now=$(date +%s)
	[ -n "$stage_name" ] && echo "   ($stage_name: $((now - t_stage)) s)"
	t_stage=$now
	stage_name=$1
	[ -n "$1" ] && echo "== $1"
}
# the totals of an automake test-suite summary (the block after its title)
summary() {
	awk '/^Testsuite summary/ {on = 1} on && /^# [A-Z]+:/ {print} on && /^# ERROR:/ {exit}' "$1"
}

stage "packages (scripts/deps.sh test)"
scripts/deps.sh test || exit 1
stage "build (scripts/build.sh)"
scripts/build.sh || exit 1

stage "make check"
make -j2 check >make-check.out 2>&1 || fail=1
grep -E '^(PASS|FAIL|SKIP|ERROR|XFAIL|XPASS):' make-check.out | grep -v '^PASS' || true
grep -E '^# (Wycheproof|[a-z_0-9]+\.json)' tests/*.log 2>/dev/null | sed 's/^tests\///' || true
summary make-check.out
# a summary that shows nothing hides what ran: that is a failure of its own
[ -n "$(summary make-check.out)" ] || { echo "FAIL: no test-suite totals in make-check.out"; fail=1; }
if [ "$fail" = 1 ]; then
	for l in tests/*.log; do
		grep -qE '^(not ok|Bail out!)' "$l" 2>/dev/null && { echo "--- $l"; grep -E '^(not ok|Bail out!|#)' "$l" | head -40; }
	done
fi

stage "style (clang-format $(clang-format --version | grep -oE '[0-9]+\.[0-9.]+' | head -1))"
if ! find common pam_token sasl_token tools introspect tests bench -name '*.[ch]' 2>/dev/null |
	xargs clang-format --dry-run --Werror 2>format.out; then
	head -20 format.out
	echo "FAIL: style check (run: clang-format -i on the files above)"
	fail=1
fi

# the release tarball is made once, here, and every build below starts from
# it. distcheck checks the tarball itself (an out-of-tree build, install,
# uninstall, a clean tree again); the test suite from that tarball, in an
# out-of-tree build, runs under the sanitizers below (TESTS= here, so the
# same suite is not run twice)
stage "make distcheck (its test run: in the sanitizer build below)"
if ! TS_SKIP_E2E=1 make -j2 distcheck TESTS= >distcheck.out 2>&1; then
	tail -30 distcheck.out
	echo "FAIL: make distcheck"
	fail=1
else
	grep -A1 'archives ready' distcheck.out | tail -1
fi

stage "clang build with ASan + UBSan from the tarball, out of tree, warnings as errors, bench peers left out; make check under it"
rm -rf _build-san && mkdir _build-san
san=_build-san/_none
if tar -xzf tokenscope-*.tar.gz -C _build-san && san=$(ls -d _build-san/tokenscope-*)/_san && mkdir "$san" &&
	(cd "$san" && ../configure -q --enable-werror --enable-sanitizers --without-bench-peers \
		--with-wycheproof-dir="$top/../shared/testvectors/wycheproof" \
		CC=clang >/dev/null && make -j2 -s >build.out 2>&1); then
	# servers skipped here: they are not instrumented
	(cd "$san" && TS_SKIP_E2E=1 TS_SANITIZERS=1 \
		ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:abort_on_error=0 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 make -j2 check >"$top/sanitizers.out" 2>&1) || fail=1
	grep -E '^(FAIL|ERROR):' sanitizers.out || true
	summary sanitizers.out | tr '\n' ' '
	echo
	# no totals: the test programs did not even build (clang -Werror)
	if [ -z "$(summary sanitizers.out)" ]; then
		grep -E 'error:|Error [0-9]' sanitizers.out | head -20
		echo "FAIL: make check under clang with sanitizers did not run"
		echo "# FAIL: 1" >>sanitizers.out
		fail=1
	fi
else
	tail -20 "$san/build.out" 2>/dev/null
	echo "FAIL: clang build (-Werror, sanitizers, no bench peers)"
	echo "# FAIL: 1" >sanitizers.out
	fail=1
fi
rm -rf _build-san

stage "valgrind: the C unit and integration tests under memcheck"
tests/valgrind.sh >valgrind.out 2>&1 || fail=1
grep -E "^(not ok|#)" valgrind.out || true
echo "$(grep -c '^ok' valgrind.out) test programs valgrind-clean"

# each run starts from the committed corpora (the build tree goes): a
# regression check on every change, not a long campaign, which is
# `make fuzz FUZZ_SECONDS=N` in a fuzzing build
fuzz_s=${FUZZ_SECONDS:-30}
stage "fuzzing: libFuzzer + ASan/UBSan with fault injection, corpora replayed, $fuzz_s s per target"
rm -rf _build-fuzz && mkdir _build-fuzz
if tar -xzf tokenscope-*.tar.gz -C _build-fuzz && (cd _build-fuzz/tokenscope-* &&
	./configure -q --enable-fuzzing --with-wycheproof-dir="$top/../shared/testvectors/wycheproof" \
		CC=clang >/dev/null && make -j2 -s fuzz-build >build.out 2>&1); then
	(cd _build-fuzz/tokenscope-* && make -s fuzz FUZZ_SECONDS="$fuzz_s") >fuzz.out 2>&1 || fail=1
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

stage "packages: .deb built, linted, installed, end-to-end as installed, removed; RPMs built"
: >packages.out
if [ "$(id -u)" = 0 ]; then
	# the package builds skip their unit suite (nocheck): it ran above, in
	# this tree and from the same tarball under the sanitizers, and the
	# packaged binaries are tested end to end as installed
	DEB_BUILD_OPTIONS=nocheck packaging/test-installed.sh >>packages.out 2>&1 || fail=1
	TS_RPM_NOCHECK=1 packaging/build-rpm.sh >>packages.out 2>&1 || fail=1
	grep -E "^(ok|not ok|1\.\.)" packages.out | grep -v "^ok" || true
	# what each failed check said: the comment lines just before it
	awk '/^# / {buf = buf $0 "\n"; next} /^not ok/ {printf "%s", buf; print} {buf = ""}' \
		packages.out | head -120
	echo "$(grep -c '^ok' packages.out) package checks passed"
else
	echo "SKIP: building and installing packages needs root" | tee packages.out
fi

stage ""
echo "   (all stages: $(($(date +%s) - t_all)) s)"
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
