# common.sh: shared set-up for the end-to-end tests (sourced). Servers are
# started from configs in a scratch directory on 127.0.0.1 and always stopped.
# Set TS_E2E_INSTALLED=1 to test the installed module/plugin instead of the
# build tree (what packaging/test-installed.sh does).
: "${TS_BUILDDIR:?}" "${TS_SRCDIR:?}" "${TS_FIXTURES:?}"
PY=/usr/bin/python3
n=0
failed=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi; }
skip_all() { echo "1..0 # SKIP $1"; exit 0; }

# A refusal only counts when it is the server's own refusal reply (the
# clients exit 1 for that alone: IMAP NO [AUTHENTICATIONFAILED], SMTP 535, an
# ssh authentication failure; a connection refused is 2) from a server this
# same run has shown accepting a good token (accepted RC NAME sets that).
# A server that never came up fails every refusal case instead of passing it.
server_accepted=0
accepted() { [ "$1" = 0 ] && server_accepted=1; ok "$1" "$2"; }
refused() {
	if [ "$server_accepted" != 1 ]; then
		ok 1 "$2 (the server was not shown accepting a good token in this run)"
	elif [ "$1" != 1 ]; then
		ok 1 "$2 (client exit $1: not the server's refusal reply)"
	else
		ok 0 "$2"
	fi
}
finish() { echo "1..$n"; exit $failed; }

[ -z "${TS_SKIP_E2E:-}" ] || skip_all "TS_SKIP_E2E is set (package build)"
[ "$(id -u)" = 0 ] || skip_all "end-to-end tests start real servers and need root"

LIBDIR=$(dirname "$(ls /usr/lib/*/libpam_wrapper.so /usr/lib/libpam_wrapper.so 2>/dev/null | head -1)")
PAM_WRAPPER_LIB="$LIBDIR/libpam_wrapper.so"
NSS_WRAPPER_LIB="$LIBDIR/libnss_wrapper.so"
PAM_MODULE="$TS_BUILDDIR/pam_token/.libs/pam_token.so"

# e2e_dir NAME: a fresh 0755 scratch directory (daemons' users must reach it)
e2e_dir() {
	W="$TS_BUILDDIR/tests/tmp/e2e-$1"
	rm -rf "$W" && mkdir -p "$W" && chmod 755 "$W"
}

# policy_in DIR: the test policy with its keys and revoked list
policy_in() {
	for k in p256 rsa2048 p384 rsa3072 ed448 partner_p256 partner_rsa2048 ed25519; do
		cp "$TS_FIXTURES/keys/$k.pub.pem" "$1/" && chmod 644 "$1/$k.pub.pem"
	done
	cp "$TS_SRCDIR/tests/policy.conf" "$1/tokenscope.conf" && chmod 644 "$1/tokenscope.conf"
	"$PY" -c "import json; print(json.load(open('$TS_FIXTURES/tokens.json'))['thumbprints']['ed448'])" >"$1/revoked-keys"
	chmod 644 "$1/revoked-keys"
	"$PY" "$TS_SRCDIR/tests/mint_now.py" "$TS_FIXTURES" >"$1/fresh.json"
}

# policy_for SERVICE: for a server whose SASL service name is fixed, the
# test policy's dovecot section renamed SERVICE and narrowed to the corp
# issuer (a partner's validly signed token is then another issuer's)
policy_for() {
	sed -i -e "s/^\[service dovecot\]\$/[service $1]/" \
		-e 's/^issuers *= corp partner legacy$/issuers         = corp/' "$W/tokenscope.conf"
}

# cyrus_client PROG PORT MECH USER TOKEN COMMANDS OK_RE: Cyrus's own
# imtest or smtptest (cyrus-clients) logging in through libtoken.so's
# client side (from $PLUGINS when set), then COMMANDS on its input. Exit 0
# when it logged in and OK_RE is in its transcript, 1 only for the
# server's own refusal (IMAP "NO", SMTP "535"), 2 for anything else. The
# transcript is $W/PROG.N, N counted in $n_cyrus.
CYRUS_CLIENTS=/usr/lib/cyrus/bin
n_cyrus=0
cyrus_client() {
	n_cyrus=$((n_cyrus + 1))
	t="$W/$1.$n_cyrus"
	printf "$6" | env ${PLUGINS:+SASL_PATH="$PLUGINS"} timeout 30 "$CYRUS_CLIENTS/$1" -p "$2" -m "$3" \
		-a "$4" -w "$5" 127.0.0.1 >"$t" 2>&1
	if grep -q "^Authenticated\." "$t" && grep -qE "$7" "$t"; then
		return 0
	fi
	grep -qE "^S: ([A-Z][0-9]+ NO |535 )" "$t" && return 1
	echo "# $1: $(grep -v '^C: ' "$t" | head -3 | cut -c1-120 | tr '\n' ' ')" >&2
	return 2
}

# free_port: a TCP port on 127.0.0.1 nobody listens on
free_port() {
	"$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_banner PORT TEXT: bounded wait for the protocol banner, not just accept
wait_banner() {
	"$PY" - "$1" "$2" <<'PYEOF'
import socket, sys, time
port, text = int(sys.argv[1]), sys.argv[2].encode()
deadline = time.time() + 20
while time.time() < deadline:
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=2)
        data = s.recv(200)
        s.close()
        if text in data:
            sys.exit(0)
    except OSError:
        pass
    time.sleep(0.2)
sys.exit(1)
PYEOF
}
