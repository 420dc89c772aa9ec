#!/bin/sh
# t_introspect_load.sh: a bounded load test of tokenscope-introspect on
# loopback: several hundred concurrent keep-alive connections, a fixed
# number of requests and a time cap, then it stops (N5: nothing lost, no
# error, memory flat).
set -u
: "${TS_BUILDDIR:?}" "${TS_SRCDIR:?}" "${TS_FIXTURES:?}"
# like the end-to-end tests it runs a real server flat out on loopback: once,
# in the source tree's make check, not again inside package builds,
# distcheck or the sanitizer build, whose neighbours make its figures noise
[ -z "${TS_SKIP_E2E:-}" ] || { echo "1..0 # SKIP TS_SKIP_E2E is set (load test runs in the main make check)"; exit 0; }
W="$TS_BUILDDIR/tests/tmp/introspect-load"
rm -rf "$W" && mkdir -p "$W" && chmod 755 "$W"
for k in p256 rsa2048 p384 rsa3072 ed448 partner_p256 partner_rsa2048 ed25519; do
	cp "$TS_FIXTURES/keys/$k.pub.pem" "$W/" && chmod 644 "$W/$k.pub.pem"
done
# the test policy at log_level info: the load is about the server
sed 's/^log_level .*/log_level = info/' "$TS_SRCDIR/tests/policy.conf" >"$W/tokenscope.conf"
chmod 644 "$W/tokenscope.conf"
cp "$TS_SRCDIR/tests/policy-users.map" "$W/" && chmod 644 "$W/policy-users.map"
/usr/bin/python3 -c "import json; print(json.load(open('$TS_FIXTURES/tokens.json'))['thumbprints']['ed448'])" >"$W/revoked-keys"
chmod 644 "$W/revoked-keys"
/usr/bin/python3 "$TS_SRCDIR/tests/mint_now.py" "$TS_FIXTURES" >"$W/fresh.json" ||
	{ echo "1..0 # SKIP python3-jwt / python3-jwcrypto missing"; exit 0; }
SECRET=load-test-secret
printf 'load %s services=dovecot rate=1000000\n' "$(printf '%s' "$SECRET" | sha256sum | cut -d' ' -f1)" >"$W/clients"
chmod 600 "$W/clients"
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
U=""
if [ "$(id -u)" = 0 ]; then
	# nobody must reach the files here (not under rpmbuild's 0700 tree)
	if runuser -u nobody -- test -r "$W/tokenscope.conf" 2>/dev/null; then U="-u nobody"; else U="-u root"; fi
fi
[ "$(ulimit -n)" -lt 8192 ] && ulimit -n 8192 2>/dev/null
# shellcheck disable=SC2086
"$TS_BUILDDIR/introspect/tokenscope-introspect" -c "$W/tokenscope.conf" -k "$W/clients" \
	-l "127.0.0.1:$PORT" $U --max-connections 4000 --log-stderr 2>"$W/introspect.log" &
DPID=$!
trap 'kill $DPID 2>/dev/null' EXIT
for i in $(seq 1 100); do
	/usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1', $PORT), timeout=1)" 2>/dev/null && break
	sleep 0.05
done
TOKEN=$(/usr/bin/python3 -c "import json; print(json.load(open('$W/fresh.json'))['tokens']['good_corp_es256'])")
AUTH="Basic $(printf 'load:%s' "$SECRET" | base64 -w0)"
/usr/bin/python3 "$TS_SRCDIR/tests/introspect_load.py" "$PORT" "$AUTH" "$TOKEN" "$DPID" \
	"${TS_LOAD_CONNS:-400}" "${TS_LOAD_REQS:-10}" "${TS_LOAD_ROUNDS:-6}"
RC=$?
# a reset or a close the client saw is named by the daemon (closed with
# unread bytes, or a request ended unanswered: with how many answers, how
# long idle, the library's reason) or by the library: shown for the reader
grep -E 'unread bytes|without a complete answer|libmicrohttpd:' "$W/introspect.log" | head -20 | sed 's/^/# /'
exit $RC
