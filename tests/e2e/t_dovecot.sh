#!/bin/sh
# t_dovecot.sh: pam_token.so behind real Dovecot IMAP (passdb pam), logins
# with LOGIN, AUTHENTICATE PLAIN, XOAUTH2 and OAUTHBEARER from Python imaplib.
set -u
. "$(dirname "$0")/common.sh"
DOVECOT=/usr/sbin/dovecot
[ -x "$DOVECOT" ] || skip_all "dovecot-imapd is not installed (scripts/deps.sh test installs it)"
[ -f "$PAM_WRAPPER_LIB" ] || skip_all "libpam-wrapper is not installed"

e2e_dir dovecot
policy_in "$W"
mkdir -p "$W/pam.d" "$W/run" "$W/state" "$W/mail" "$W/home"
chmod 1777 "$W/mail" "$W/home"
if [ -n "${TS_E2E_INSTALLED:-}" ]; then
	# the installed module by name, from a uniquely named /etc/pam.d file
	SERVICE=tokenscope-e2e-dovecot
	PAMDIR=/etc/pam.d
	MODULE=pam_token.so
	[ -e "$PAMDIR/$SERVICE" ] && skip_all "$PAMDIR/$SERVICE exists: not ours to overwrite"
	WORKER=/usr/lib/dovecot/auth
else
	SERVICE=dovecot
	PAMDIR=$W/pam.d
	MODULE=$PAM_MODULE
	echo "auth required pam_deny.so" >"$W/pam.d/other"
	WORKER="$W/auth-worker.sh"
	cat >"$W/auth-worker.sh" <<SH
#!/bin/sh
# pam_wrapper only in the auth worker: PAM reads its service files from $W/pam.d
export LD_PRELOAD=$PAM_WRAPPER_LIB PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR=$W/pam.d
exec /usr/lib/dovecot/auth "\$@"
SH
	chmod 755 "$W/auth-worker.sh"
fi
cat >"$PAMDIR/$SERVICE" <<PAM
auth    required $MODULE config=$W/tokenscope.conf service=dovecot
account required $MODULE config=$W/tokenscope.conf service=dovecot
PAM
PORT=$(free_port)
# Dovecot 2.4 (Debian 13) has a new configuration syntax, and its OAUTHBEARER
# and XOAUTH2 go only to its oauth2 passdb, never to passdb pam: there the
# token reaches pam_token.so through LOGIN and AUTHENTICATE PLAIN only.
DOVECOT_VERSION=$("$DOVECOT" --version | cut -d' ' -f1)
case "$DOVECOT_VERSION" in
2.3.*)
	MECHS="login plain xoauth2 oauthbearer"
	cat >"$W/dovecot.conf" <<CONF
base_dir = $W/run
state_dir = $W/state
log_path = $W/dovecot.log
listen = 127.0.0.1
protocols = imap
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login oauthbearer xoauth2
auth_verbose = yes
auth_failure_delay = 0
mail_location = maildir:$W/mail/%u
passdb {
  driver = pam
  args = $SERVICE
}
userdb {
  driver = static
  args = uid=65534 gid=65534 home=$W/home/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $PORT
  }
  inet_listener imaps {
    port = 0
  }
}
service auth-worker {
  executable = $WORKER -w
  user = root
}
CONF
	;;
*)
	MECHS="login plain"
	cat >"$W/dovecot.conf" <<CONF
dovecot_config_version = 2.4.1
dovecot_storage_version = 2.4.1
base_dir = $W/run
state_dir = $W/state
log_path = $W/dovecot.log
listen = 127.0.0.1
protocols = imap
ssl = no
auth_allow_cleartext = yes
auth_mechanisms = plain login
auth_verbose = yes
auth_failure_delay = 0
mail_driver = maildir
mail_path = $W/mail/%{user}
passdb pam {
  service_name = $SERVICE
}
userdb static {
  fields {
    uid = 65534
    gid = 65534
    home = $W/home/%{user}
  }
}
service imap-login {
  inet_listener imap {
    listen = 127.0.0.1
    port = $PORT
  }
  inet_listener imaps {
    port = 0
  }
}
service auth-worker {
  executable = $WORKER -w
  user = root
}
CONF
	;;
esac
"$DOVECOT" -c "$W/dovecot.conf"
stop() {
	[ -f "$W/run/master.pid" ] && kill "$(cat "$W/run/master.pid")" 2>/dev/null
	sleep 1
	[ "$PAMDIR" = /etc/pam.d ] && rm -f "$PAMDIR/$SERVICE"
}
trap stop EXIT
wait_banner "$PORT" "* OK"
ok $? "dovecot_${DOVECOT_VERSION}_started_on_127.0.0.1:$PORT"

tok() { "$PY" -c "import json; print(json.load(open('$W/fresh.json'))['tokens']['$1'])"; }
src=1
imap() { src=$((src + 1)); "$PY" "$TS_SRCDIR/tests/e2e/imap_client.py" "$PORT" "127.0.0.$src" "$@"; }
good=$(tok good_corp_es256)
for m in $MECHS; do
	imap $m alice "$good"; accepted $? "dovecot_${m}_good_token_logs_in"
done
# Cyrus's imtest through libtoken.so's client side, from 127.0.0.1 (no
# refusal slows it down: the refusals above and below come from 127.0.0.N)
PLUGINS="$TS_BUILDDIR/sasl_token/.libs"
[ -n "${TS_E2E_INSTALLED:-}" ] && PLUGINS=""
if [ -x "$CYRUS_CLIENTS/imtest" ]; then
	for m in $MECHS; do
		case $m in oauthbearer | xoauth2) ;; *) continue ;; esac
		cyrus_client imtest "$PORT" "$(echo $m | tr a-z A-Z)" alice "$good" 'b LOGOUT\r\n' '^b OK'
		accepted $? "dovecot_${m}_login_with_imtest_and_the_client_plugin (cyrus-clients $(dpkg-query -W -f='${Version}' cyrus-clients 2>/dev/null))"
	done
fi
imap login alice "$(tok K1_partner_key_claims_corp_issuer)"; refused $? "K1_dovecot_forged_token_refused"
# the OAuth mechanisms where they reach PAM (2.3), else the same tokens by PLAIN
case "$MECHS" in *oauthbearer*) om=oauthbearer xm=xoauth2 ;; *) om=plain xm=plain ;; esac
imap $om alice "$(tok K1_corp_key_claims_partner_with_shared_kid)"; refused $? "K1_dovecot_${om}_forged_refused"
imap login alice "$(tok C1_expired)"; refused $? "C1_dovecot_expired_token_refused"
imap $xm alice "$(tok K5_expired_key_future_exp)"; refused $? "K5_dovecot_${xm}_expired_key_refused"
imap login bob "$good"; refused $? "C6_dovecot_login_as_bob_with_alices_token_refused"
imap $om bob "$good"; refused $? "C6_dovecot_${om}_as_bob_with_alices_token_refused"
imap login alice "hunter2"; refused $? "dovecot_plain_password_refused"
case "$MECHS" in *oauthbearer*)
	[ -x "$CYRUS_CLIENTS/imtest" ] &&
		{ cyrus_client imtest "$PORT" OAUTHBEARER alice "$(tok K1_partner_key_claims_corp_issuer)" 'b LOGOUT\r\n' '^b OK'
		refused $? "K1_dovecot_forged_token_from_imtest_refused"; } ;;
esac
sleep 1
# 2.3: "auth-worker(...): pam(alice,127.0.0.N,...): pam_authenticate() failed";
# 2.4: "auth-worker(alice,127.0.0.N)<...>: ...: pam: pam_authenticate() failed"
grep -qE "(pam|auth-worker)\(alice,127\.0\.0\.[0-9]+" "$W/dovecot.log" && grep -q "pam_authenticate() failed" "$W/dovecot.log"
ok $? "dovecot_log_shows_the_pam_decisions"
grep -qE "(Login|Logged in): user=<alice>" "$W/dovecot.log"; ok $? "dovecot_log_shows_successful_logins"
for t in good_corp_es256 K1_partner_key_claims_corp_issuer; do
	v=$(tok $t | cut -c1-60)
	! grep -qF "$v" "$W/dovecot.log"
done
ok $? "M3_dovecot_log_never_holds_a_token"
finish
