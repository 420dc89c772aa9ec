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
	cp "$TS_SRCDIR/tests/policy-users.map" "$1/" && chmod 644 "$1/policy-users.map"
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

# Dovecot IMAP on 127.0.0.1 from a config of the test's own. DOVECOT_VERSION
# picks the syntax: Dovecot 2.4 (Debian 13) has a new configuration syntax,
# and its OAUTHBEARER and XOAUTH2 go only to its oauth2 passdb, never to
# passdb pam: there the token reaches pam_token.so through LOGIN and
# AUTHENTICATE PLAIN only.
DOVECOT=/usr/sbin/dovecot
# dovecot-core alone has the master but no IMAP server (another IMAP
# package, such as cyrus-imapd, replaces dovecot-imapd)
dovecot_imap_missing() { [ ! -x "$DOVECOT" ] || [ ! -x /usr/lib/dovecot/imap ]; }

# dovecot_dirs: the directories under $W a Dovecot of the tests uses; sets
# DOVECOT_VERSION
dovecot_dirs() {
	mkdir -p "$W/run" "$W/state" "$W/mail" "$W/home"
	chmod 1777 "$W/mail" "$W/home"
	DOVECOT_VERSION=$("$DOVECOT" --version | cut -d' ' -f1)
}

# dovecot_worker PAMDIR [VAR=VALUE...]: $W/auth-worker.sh, Dovecot's auth
# worker with pam_wrapper (only there): PAM reads its service files from
# PAMDIR; the further variables go to its environment too
dovecot_worker() {
	WORKER="$W/auth-worker.sh"
	_pamdir=$1
	shift
	cat >"$WORKER" <<SH
#!/bin/sh
# pam_wrapper only in the auth worker: PAM reads its service files from $_pamdir
export LD_PRELOAD=$PAM_WRAPPER_LIB PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR=$_pamdir${*:+ $*}
exec /usr/lib/dovecot/auth "\$@"
SH
	chmod 755 "$WORKER"
}

# Dovecot with passdb pam and pam_token.so, for t_dovecot.sh,
# t_dovecot_cache.sh and t_mailclients.sh. dovecot_setup NAME: the
# directories, the PAM stack (service dovecot in $W/pam.d through
# pam_wrapper, or a uniquely named /etc/pam.d file for the installed
# module) and the auth worker; sets SERVICE, PAMDIR, MODULE, WORKER and
# DOVECOT_VERSION.
dovecot_setup() {
	dovecot_dirs
	mkdir -p "$W/pam.d"
	if [ -n "${TS_E2E_INSTALLED:-}" ]; then
		# the installed module by name, from a uniquely named /etc/pam.d file
		SERVICE=tokenscope-e2e-$1
		PAMDIR=/etc/pam.d
		MODULE=pam_token.so
		[ -e "$PAMDIR/$SERVICE" ] && skip_all "$PAMDIR/$SERVICE exists: not ours to overwrite"
		WORKER=/usr/lib/dovecot/auth
	else
		SERVICE=dovecot
		PAMDIR=$W/pam.d
		MODULE=$PAM_MODULE
		echo "auth required pam_deny.so" >"$W/pam.d/other"
		dovecot_worker "$W/pam.d"
	fi
	cat >"$PAMDIR/$SERVICE" <<PAM
auth    required $MODULE config=$W/tokenscope.conf service=dovecot
account required $MODULE config=$W/tokenscope.conf service=dovecot
PAM
}

# dovecot_base PORT TEXT: writes $W/dovecot.conf in the syntax of the
# installed version: directories under $W, IMAP on 127.0.0.1:PORT, maildir
# in $W/mail, a static userdb (nobody, homes in $W/home), then TEXT (the
# authentication: passdb, services, settings) in the same syntax
dovecot_base() {
	case "$DOVECOT_VERSION" in
	2.3.*)
		_head=""
		_mail="mail_location = maildir:$W/mail/%u"
		_userdb="userdb {
  driver = static
  args = uid=65534 gid=65534 home=$W/home/%u
}"
		_listen=address
		;;
	*)
		# the first settings 2.4 requires
		_head="dovecot_config_version = 2.4.1
dovecot_storage_version = 2.4.1"
		_mail="mail_driver = maildir
mail_path = $W/mail/%{user}"
		_userdb="userdb static {
  fields {
    uid = 65534
    gid = 65534
    home = $W/home/%{user}
  }
}"
		_listen=listen
		;;
	esac
	cat >"$W/dovecot.conf" <<CONF
$_head
base_dir = $W/run
state_dir = $W/state
log_path = $W/dovecot.log
listen = 127.0.0.1
protocols = imap
ssl = no
$_mail
$_userdb
service imap-login {
  inet_listener imap {
    $_listen = 127.0.0.1
    port = $1
  }
  inet_listener imaps {
    port = 0
  }
}
$2
CONF
}

# dovecot_auth MECHS: the authentication settings of the tests' Dovecot
# (cleartext allowed on 127.0.0.1 without TLS, MECHS, verbose, no delay)
dovecot_auth() {
	case "$DOVECOT_VERSION" in
	2.3.*) echo "disable_plaintext_auth = no" ;;
	*) echo "auth_allow_cleartext = yes" ;;
	esac
	printf 'auth_mechanisms = %s\nauth_verbose = yes\nauth_failure_delay = 0\n' "$1"
}

# dovecot_pam_passdb [PAM_ARGS]: passdb pam for the PAM service $SERVICE
# (PAM_ARGS, 2.3 only: cache_key=..., before it) and the auth worker
# $WORKER that runs it
dovecot_pam_passdb() {
	case "$DOVECOT_VERSION" in
	2.3.*) printf 'passdb {\n  driver = pam\n  args = %s %s\n}\n' "${1:-}" "$SERVICE" ;;
	*) printf 'passdb pam {\n  service_name = %s\n}\n' "$SERVICE" ;;
	esac
	printf 'service auth-worker {\n  executable = %s -w\n  user = root\n}\n' "$WORKER"
}

# dovecot_conf PORT [EXTRA [PAM_ARGS [AUTH_MECHS]]]: $W/dovecot.conf with
# passdb pam (dovecot_setup's), IMAP on 127.0.0.1:PORT; EXTRA lines go to
# the top level, PAM_ARGS as in dovecot_pam_passdb, AUTH_MECHS are the
# auth_mechanisms offered (by default every one that reaches PAM in that
# version). Sets MECHS, the mechanisms that reach PAM.
dovecot_conf() {
	case "$DOVECOT_VERSION" in
	2.3.*) MECHS="login plain xoauth2 oauthbearer" _mechs="plain login oauthbearer xoauth2" ;;
	*) MECHS="login plain" _mechs="plain login" ;;
	esac
	dovecot_base "$1" "$(dovecot_auth "${4:-$_mechs}")
${2:-}
$(dovecot_pam_passdb "${3:-}")"
}

# dovecot_start / dovecot_stop: the master from $W/dovecot.conf, and its
# end (dovecot_stop also removes an /etc/pam.d file dovecot_setup made).
dovecot_start() { "$DOVECOT" -c "$W/dovecot.conf"; }
dovecot_halt() {
	_pid=$(cat "$W/run/master.pid" 2>/dev/null) || return 0
	kill "$_pid" 2>/dev/null
	# a bounded wait for the master to be gone, so the next start finds
	# its base_dir free
	_i=0
	while kill -0 "$_pid" 2>/dev/null && [ $_i -lt 50 ]; do sleep 0.2; _i=$((_i + 1)); done
	sleep 1
}
dovecot_stop() {
	dovecot_halt
	[ "${PAMDIR:-}" = /etc/pam.d ] && rm -f "$PAMDIR/$SERVICE"
}

# tok CASE: a fresh token of policy_in's fresh.json; imap MECH USER SECRET:
# one IMAP login to 127.0.0.1:$PORT from the next 127.0.0.N source address
tok() { "$PY" -c "import json; print(json.load(open('$W/fresh.json'))['tokens']['$1'])"; }
src=1
imap() { src=$((src + 1)); "$PY" "$TS_SRCDIR/tests/e2e/imap_client.py" "$PORT" "127.0.0.$src" "$@"; }

# mint_expiring CASE SECONDS: CASE of the fixtures re-signed by the
# independent signer (PyJWT) with iat now and exp SECONDS from now; prints
# the token and, on the second line, its exp.
mint_expiring() {
	"$PY" - "$TS_FIXTURES" "$1" "$2" <<'PYEOF'
import json, sys, time
import jwt
fx, case, secs = sys.argv[1], sys.argv[2], int(sys.argv[3])
t = json.load(open(fx + "/tokens.json"))["tokens"]["case_" + case]
header = jwt.get_unverified_header(t["token"])
claims = jwt.decode(t["token"], options={"verify_signature": False})
now = int(time.time())
claims.update(iat=now, nbf=now, exp=now + secs)
header.pop("alg", None)
header.setdefault("typ", None)
key = open("%s/keys/%s.key.pem" % (fx, t["key"]), "rb").read()
print(jwt.encode(claims, key, algorithm=t["alg"], headers=header))
print(now + secs)
PYEOF
}

# at_exit CMD: the shell command CMD runs when the test exits, before those
# added earlier (the server started last is stopped first)
E2E_AT_EXIT=:
at_exit() {
	E2E_AT_EXIT="$1; $E2E_AT_EXIT"
	trap 'eval "$E2E_AT_EXIT"' EXIT
}

# Postfix from a config directory of its own ($C), its queue and data in the
# scratch dir $W. postfix_base DIR PORT: the package's master.cf with its
# smtp listener moved to 127.0.0.1:PORT (commented out for PORT "-") and
# every service unchrooted, and a main.cf of what every test's Postfix
# needs (loopback only, no local delivery, its log in $W/postfix.log).
# Skips the whole test without Postfix.
postfix_base() {
	POSTFIX=/usr/sbin/postfix
	[ -x "$POSTFIX" ] || skip_all "postfix is not installed (scripts/deps.sh test installs it)"
	C=$1
	mkdir -p "$C" "$W/spool" "$W/data"
	chown postfix "$W/data"
	cp /etc/postfix/master.cf "$C/master.cf"
	if [ "$2" = - ]; then
		sed -i 's/^smtp      inet/#&/' "$C/master.cf"
	else
		sed -i "s/^smtp      inet/127.0.0.1:$2 inet/" "$C/master.cf"
	fi
	cat >"$C/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $W/spool
data_directory = $W/data
myhostname = mx.example.com
mydomain = example.com
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
alias_maps =
alias_database =
maillog_file = $W/postfix.log
maillog_file_prefixes = $W
service_throttle_time = 1s
CF
	postconf -c "$C" -F '*/*/chroot = n' >/dev/null
}

# postfix_cyrus: Postfix's Cyrus SASL finds our plugin: the build tree's
# (SASL_PATH), or the installed one from libsasl's own path; its config in
# $C/sasl
postfix_cyrus() {
	SASLENV="SASL_PATH=$TS_BUILDDIR/sasl_token/.libs"
	[ -n "${TS_E2E_INSTALLED:-}" ] && SASLENV=""
	# Debian 12's Postfix 3.7 reads the SASL config from CONFIG_DIR/sasl
	# whatever cyrus_sasl_config_path says; Debian 13's 3.10 honours the
	# setting and otherwise reads /etc/postfix/sasl: name the directory for both
	cat >>"$C/main.cf" <<CF
import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C $SASLENV
cyrus_sasl_config_path = $C/sasl
CF
}

# postfix_mail SASL_TYPE SASL_PATH: SMTP AUTH on every smtpd (SASL_TYPE
# cyrus or dovecot), relaying and delivery only after it, to the virtual
# mailbox $W/vmail/mailbox (example.com); long AUTH lines, no error sleep
postfix_mail() {
	mkdir -p "$W/vmail"
	chown 65534:65534 "$W/vmail"
	cat >>"$C/main.cf" <<CF
virtual_mailbox_domains = example.com
virtual_mailbox_base = $W/vmail
virtual_mailbox_maps = static:mailbox/
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = $1
smtpd_sasl_path = $2
smtpd_sasl_security_options = noanonymous
smtpd_tls_security_level = none
smtpd_relay_restrictions = permit_sasl_authenticated, reject
smtpd_recipient_restrictions = permit_sasl_authenticated, reject
line_length_limit = 8192
smtpd_error_sleep_time = 0
CF
}

# sasl_app APP MECHS: the plugin's config for the SASL application APP
# (smtpd_sasl_path) offering MECHS
sasl_app() {
	mkdir -p "$C/sasl"
	cat >"$C/sasl/$1.conf" <<SASL
mech_list: $2
token_config: $W/tokenscope.conf
token_openid_configuration: https://sso.example.com/realms/corp/.well-known/openid-configuration
log_level: 4
SASL
}

# Postfix with libtoken.so behind SMTP AUTH on 127.0.0.1:$SPORT (= $PORT),
# in $W/conf with the test policy. postfix_conf CHROOT [APP MECHS]: CHROOT
# y runs that smtpd chrooted in its queue directory ($W/spool), as
# Debian's default master.cf does; every other service runs unchrooted.
# With APP, a second smtpd on 127.0.0.1:$XPORT uses the SASL application
# APP offering MECHS. postfix_setup NAME CHROOT: the same in a fresh
# scratch directory NAME with the test policy.
postfix_conf() {
	SPORT=$(free_port)
	PORT=$SPORT
	postfix_base "$W/conf" "$SPORT"
	postfix_cyrus
	postfix_mail cyrus smtpd
	postconf -c "$C" -F "127.0.0.1:$PORT/inet/chroot = $1" >/dev/null
	sasl_app smtpd "OAUTHBEARER XOAUTH2"
	XPORT=""
	[ -n "${2:-}" ] || return 0
	XPORT=$(free_port)
	echo "127.0.0.1:$XPORT inet n - n - - smtpd -o smtpd_sasl_path=$2" >>"$C/master.cf"
	sasl_app "$2" "$3"
}
postfix_setup() {
	e2e_dir "$1"
	policy_in "$W"
	postfix_conf "$2"
}

# postfix_start [WHAT]: starts it, stops it at exit, and checks the SMTP
# banner of each smtpd (test WHAT_started_..., WHAT postfix by default)
postfix_start() {
	"$POSTFIX" -c "$C" start >"$W/start.out" 2>&1
	at_exit '"$POSTFIX" -c "$C" stop >/dev/null 2>&1'
	wait_banner "$SPORT" "220" && { [ -z "${XPORT:-}" ] || wait_banner "$XPORT" "220"; }
	ok $? "${1:-postfix}_started_on_127.0.0.1:$SPORT${XPORT:+ and :$XPORT} ($(tail -1 "$W/start.out"))"
}

# smtp MECH USER TOKEN [RCPT]: one SMTP AUTH to 127.0.0.1:$SPORT, each from
# its own 127.0.0.N (src: see imap above)
smtp() { src=$((src + 1)); "$PY" "$TS_SRCDIR/tests/e2e/smtp_client.py" "$SPORT" "127.0.0.$src" "$@"; }

# delivered N: waits (bounded) for N messages in the virtual mailbox;
# prints how many are there
delivered() {
	_i=0
	while [ $_i -lt 50 ]; do
		[ "$(find "$W/vmail/mailbox/new" -type f 2>/dev/null | wc -l)" -ge "$1" ] && break
		sleep 0.2
		_i=$((_i + 1))
	done
	find "$W/vmail/mailbox/new" -type f 2>/dev/null | wc -l
}
