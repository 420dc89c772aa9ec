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

# Postfix with libtoken.so behind SMTP AUTH on 127.0.0.1:$PORT, from a config
# directory of its own ($C, in the scratch dir $W with the test policy).
# postfix_setup NAME CHROOT: CHROOT y runs that smtpd chrooted in its queue
# directory ($W/spool), as Debian's default master.cf does; every other
# service runs unchrooted. Skips the whole test without Postfix.
postfix_setup() {
	POSTFIX=/usr/sbin/postfix
	[ -x "$POSTFIX" ] || skip_all "postfix is not installed (scripts/deps.sh test installs it)"
	# the build tree's plugin, or the installed one from libsasl's own path
	SASLENV="SASL_PATH=$TS_BUILDDIR/sasl_token/.libs"
	[ -n "${TS_E2E_INSTALLED:-}" ] && SASLENV=""
	e2e_dir "$1"
	policy_in "$W"
	C="$W/conf"
	mkdir -p "$C/sasl" "$W/spool" "$W/data" "$W/vmail"
	chown postfix "$W/data"
	chown 65534:65534 "$W/vmail"
	cp /etc/postfix/master.cf "$C/master.cf"
	PORT=$(free_port)
	sed -i "s/^smtp      inet/127.0.0.1:$PORT inet/" "$C/master.cf"
	cat >"$C/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $W/spool
data_directory = $W/data
myhostname = mx.example.com
mydomain = example.com
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
virtual_mailbox_domains = example.com
virtual_mailbox_base = $W/vmail
virtual_mailbox_maps = static:mailbox/
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
alias_maps =
alias_database =
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
smtpd_sasl_security_options = noanonymous
smtpd_tls_security_level = none
smtpd_relay_restrictions = permit_sasl_authenticated, reject
smtpd_recipient_restrictions = permit_sasl_authenticated, reject
import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C $SASLENV
maillog_file = $W/postfix.log
maillog_file_prefixes = $W
line_length_limit = 8192
service_throttle_time = 1s
smtpd_error_sleep_time = 0
CF
	# Debian 12's Postfix 3.7 reads the SASL config from CONFIG_DIR/sasl
	# whatever cyrus_sasl_config_path says; Debian 13's 3.10 honours the
	# setting and otherwise reads /etc/postfix/sasl: name the directory for both
	postconf -c "$C" -e "cyrus_sasl_config_path = $C/sasl"
	postconf -c "$C" -F '*/*/chroot = n' >/dev/null
	postconf -c "$C" -F "127.0.0.1:$PORT/inet/chroot = $2" >/dev/null
	cat >"$C/sasl/smtpd.conf" <<SASL
mech_list: OAUTHBEARER XOAUTH2
token_config: $W/tokenscope.conf
token_openid_configuration: https://sso.example.com/realms/corp/.well-known/openid-configuration
log_level: 4
SASL
}

# postfix_start: starts it, stops it at exit (then runs $E2E_CLEANUP, a
# command of the test's own), and checks the SMTP banner.
postfix_start() {
	"$POSTFIX" -c "$C" start >"$W/start.out" 2>&1
	trap '"$POSTFIX" -c "$C" stop >/dev/null 2>&1; eval "${E2E_CLEANUP:-}"' EXIT
	wait_banner "$PORT" "220"
	ok $? "postfix_started_on_127.0.0.1:$PORT ($(tail -1 "$W/start.out"))"
}

# smtp MECH USER TOKEN [RCPT]: one SMTP AUTH, each from its own 127.0.0.N
src=1
smtp() { src=$((src + 1)); "$PY" "$TS_SRCDIR/tests/e2e/smtp_client.py" "$PORT" "127.0.0.$src" "$@"; }
# tok NAME: a fixture token signed now (policy_in's fresh.json)
tok() { "$PY" -c "import json; print(json.load(open('$W/fresh.json'))['tokens']['$1'])"; }
