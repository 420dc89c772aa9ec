#!/bin/sh
# t_fetch.sh: `tokenscope fetch-keys` and `keys --approve` against a local
# HTTPS identity provider on 127.0.0.1 (tests/fetch_test.py prints the TAP).
set -u
: "${TS_BUILDDIR:?}" "${TS_SRCDIR:?}"
PY=/usr/bin/python3
[ -x "$PY" ] && "$PY" -c 'import jwt, jwcrypto' 2>/dev/null ||
	{ echo "1..0 # SKIP python3-jwt / python3-jwcrypto missing"; exit 0; }
command -v openssl >/dev/null || { echo "1..0 # SKIP openssl command missing"; exit 0; }
exec "$PY" "$TS_SRCDIR/tests/fetch_test.py"
