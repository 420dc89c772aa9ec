#!/bin/sh
# bench/introspect.sh: section 8 of `make bench`: tokenscope-introspect over
# loopback against the ES256 verify floor (bench/introspect_bench.c), with
# the test policy and a fresh ES256 token from the independent signer.
# usage: introspect.sh SRCDIR BUILDDIR [SECONDS]
set -u
src=$1 build=$2 secs=${3:-6}
W=$(mktemp -d /tmp/tokenscope-bench-introspect-XXXXXX)
chmod 755 "$W"
trap 'kill $DPID 2>/dev/null; rm -rf --one-file-system "$W"' EXIT
DPID=
for k in p256 rsa2048 p384 rsa3072 ed448 partner_p256 partner_rsa2048 ed25519; do
	cp "$src/tests/fixtures/keys/$k.pub.pem" "$W/" && chmod 644 "$W/$k.pub.pem"
done
# decisions logged at info, one line per request, formatted and written to a
# pipe that only counts them: as sections 1-2 (the core's log line formatted
# for a sink), the cost of a syslog daemon is not the service's own
sed 's/^log_level .*/log_level = info/' "$src/tests/policy.conf" >"$W/tokenscope.conf"
chmod 644 "$W/tokenscope.conf"
# the user map the test policy names (C10)
cp "$src/tests/policy-users.map" "$W/" && chmod 644 "$W/policy-users.map"
: >"$W/revoked-keys"
chmod 644 "$W/revoked-keys"
if ! /usr/bin/python3 "$src/tests/mint_now.py" "$src/tests/fixtures" >"$W/fresh.json" 2>/dev/null; then
	echo "8. introspection: skipped (python3-jwt / python3-jwcrypto missing)"
	exit 0
fi
/usr/bin/python3 -c "import json; print(json.load(open('$W/fresh.json'))['tokens']['good_corp_es256'])" >"$W/token"
printf 'bench %s services=dovecot rate=1000000\n' "$(printf bench-secret | sha256sum | cut -d' ' -f1)" >"$W/clients"
chmod 600 "$W/clients"
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
U=""
if [ "$(id -u)" = 0 ]; then
	if runuser -u nobody -- test -r "$W/tokenscope.conf" 2>/dev/null; then U="-u nobody"; else U="-u root"; fi
fi
mkfifo "$W/log.fifo"
wc -l <"$W/log.fifo" >"$W/lines" &
# shellcheck disable=SC2086
"$build/introspect/tokenscope-introspect" -c "$W/tokenscope.conf" -k "$W/clients" \
	-l "127.0.0.1:$PORT" $U --threads 2 --log-stderr 2>"$W/log.fifo" &
DPID=$!
for i in $(seq 1 100); do
	/usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1', $PORT), timeout=1)" 2>/dev/null && break
	sleep 0.05
done
"$build/bench/introspect_bench" "$PORT" "Basic $(printf bench:bench-secret | base64 -w0)" \
	"$W/token" "$W/p256.pub.pem" "$secs" "$build/bench-introspect.json"
rc=$?
kill "$DPID" 2>/dev/null
wait "$DPID" 2>/dev/null
DPID=
sleep 0.2
echo "  (decision lines logged: $(cat "$W/lines" 2>/dev/null || echo ?))"
exit $rc
