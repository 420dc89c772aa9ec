#!/bin/sh
# t_stress_tsan.sh: tests/t_stress.c and the core built with ThreadSanitizer
# (clang -fsanitize=thread) and run: any data race report fails.
set -u
: "${TS_BUILDDIR:?}" "${TS_SRCDIR:?}" "${TS_FIXTURES:?}"
[ -z "${TS_SANITIZERS:-}" ] || { echo "1..0 # SKIP ThreadSanitizer does not mix with ASan"; exit 0; }
command -v clang >/dev/null || { echo "1..0 # SKIP clang missing"; exit 0; }
out="$TS_BUILDDIR/tests/t_stress_tsan.bin"
s="$TS_SRCDIR"
# shellcheck disable=SC2046
if ! clang -fsanitize=thread -O1 -g -pthread -I"$TS_BUILDDIR" -I"$s/common" -I"$s/tests" \
	-o "$out" "$s/tests/t_stress.c" "$s/tests/tap.c" "$s/tests/fx.c" "$s/tests/tsenv.c" \
	$(ls "$s"/common/*.c) $(pkg-config --cflags --libs libcrypto jansson) -lm \
	>"$out.build" 2>&1; then
	echo "1..0 # SKIP cannot build with -fsanitize=thread: $(head -1 "$out.build")"
	exit 0
fi
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" TS_TEST_NAME=t_stress_tsan "$out" >"$out.log" 2>&1
rc=$?
grep -E "^(ok|not ok) " "$out.log"
next=$(($(grep -cE "^(ok|not ok) " "$out.log") + 1))
if grep -q "WARNING: ThreadSanitizer" "$out.log"; then
	grep -A12 "WARNING: ThreadSanitizer" "$out.log" | head -30 | sed 's/^/# /'
	echo "not ok $next - threadsanitizer_reports_nothing"
	echo "1..$next"
	exit 1
fi
echo "ok $next - threadsanitizer_reports_nothing"
echo "1..$next"
exit $rc
