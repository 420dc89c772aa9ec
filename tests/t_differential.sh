#!/bin/sh
# t_differential.sh: tokenscope against PyJWT on >= 10,000 tokens (differential.py).
: "${TS_BUILDDIR:?}" "${TS_SRCDIR:?}" "${TS_FIXTURES:?}"
/usr/bin/python3 -c "import jwt" 2>/dev/null || { echo "1..0 # SKIP python3-jwt missing"; exit 0; }
exec /usr/bin/python3 "$TS_SRCDIR/tests/differential.py" "$TS_BUILDDIR/tests/batch_verify" \
	"$TS_FIXTURES" "$TS_BUILDDIR/tests/tmp/differential"
