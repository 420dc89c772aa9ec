#!/bin/sh
# t_introspect.sh: tokenscope-introspect behind real Dovecot (passdb oauth2,
# introspection_mode = post, send_auth_headers = yes) on 127.0.0.1, and
# real Postfix authenticating through that Dovecot (smtpd_sasl_type =
# dovecot). IMAP OAUTHBEARER and XOAUTH2 log in and SELECT INBOX; forged,
# expired-key, other-issuer, wrong-audience and wrong-user tokens are
# refused by the server's own NO / 535; Postfix's service comes from the
# X-Dovecot-Auth-Protocol map of the dovecot client.
set -u
. "$(dirname "$0")/common.sh"
POSTFIX=/usr/sbin/postfix
DAEMON=${TS_INTROSPECT:-$TS_BUILDDIR/introspect/tokenscope-introspect}
dovecot_imap_missing && skip_all "dovecot-imapd is not installed (scripts/deps.sh test installs it)"
[ -x "$DAEMON" ] || skip_all "no $DAEMON"

e2e_dir introspect
policy_in "$W"
mkdir -p "$W/run" "$W/state" "$W/mail" "$W/home"
chmod 1777 "$W/mail" "$W/home"
SECRET=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
HASH=$(printf '%s' "$SECRET" | sha256sum | cut -d' ' -f1)
cat >"$W/clients" <<CL
# the Dovecot auth process: IMAP logins get [service dovecot], Postfix
# (through Dovecot's auth socket, protocol smtp) gets [service smtp]
dovecot $HASH services=dovecot,smtp protocols=imap:dovecot,pop3:dovecot,smtp:smtp,submission:smtp trust_remote=yes
CL
chmod 600 "$W/clients"
IPORT=$(free_port)
# as root it drops to nobody (the files here are root-owned and 0644, as
# key files readable by the service's group would be), where nobody can
# reach them
U=nobody
runuser -u nobody -- test -r "$W/tokenscope.conf" 2>/dev/null || U=root
"$DAEMON" -c "$W/tokenscope.conf" -k "$W/clients" -l "127.0.0.1:$IPORT" -u "$U" \
	--log-stderr 2>"$W/introspect.log" &
DPID=$!
PORT=$(free_port)
DOVECOT_VERSION=$("$DOVECOT" --version | cut -d' ' -f1)
URL="http://dovecot:$SECRET@127.0.0.1:$IPORT/introspect"
case "$DOVECOT_VERSION" in
2.3.*)
	cat >"$W/dovecot-oauth2.conf.ext" <<EXT
introspection_mode = post
introspection_url = $URL
send_auth_headers = yes
username_attribute = username
active_attribute = active
active_value = true
EXT
	cat >"$W/dovecot.conf" <<CONF
base_dir = $W/run
state_dir = $W/state
log_path = $W/dovecot.log
listen = 127.0.0.1
protocols = imap
ssl = no
disable_plaintext_auth = no
auth_mechanisms = oauthbearer xoauth2
auth_verbose = yes
auth_failure_delay = 0
mail_location = maildir:$W/mail/%u
passdb {
  driver = oauth2
  mechanisms = oauthbearer xoauth2
  args = $W/dovecot-oauth2.conf.ext
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
service auth {
  unix_listener $W/postfix-auth {
    mode = 0666
  }
}
CONF
	;;
*)
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
auth_mechanisms = oauthbearer xoauth2
auth_verbose = yes
auth_failure_delay = 0
mail_driver = maildir
mail_path = $W/mail/%{user}
oauth2 {
  introspection_mode = post
  introspection_url = $URL
  send_auth_headers = yes
  username_attribute = username
  active_attribute = active
  active_value = true
}
passdb oauth2 {
  mechanisms_filter = oauthbearer xoauth2
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
service auth {
  unix_listener $W/postfix-auth {
    mode = 0666
  }
}
CONF
	;;
esac
"$DOVECOT" -c "$W/dovecot.conf"
C="$W/pfconf"
stop() {
	[ -d "$C" ] && "$POSTFIX" -c "$C" stop >/dev/null 2>&1
	[ -f "$W/run/master.pid" ] && kill "$(cat "$W/run/master.pid")" 2>/dev/null
	kill "$DPID" 2>/dev/null
	sleep 1
}
trap stop EXIT
wait_banner "$PORT" "* OK"
ok $? "dovecot_${DOVECOT_VERSION}_started_on_127.0.0.1:$PORT"

good=$(tok good_corp_es256)
imap oauthbearer alice "$good"; accepted $? "N_dovecot_oauthbearer_through_introspection_logs_in_and_selects_inbox"
imap xoauth2 alice "$good"; accepted $? "N_dovecot_xoauth2_through_introspection_logs_in_and_selects_inbox"
imap oauthbearer alice "$(tok K1_partner_key_claims_corp_issuer)"; refused $? "K1_introspect_dovecot_forged_token_refused"
imap xoauth2 alice "$(tok K5_expired_key_future_exp)"; refused $? "K5_introspect_dovecot_expired_key_refused"
imap oauthbearer alice "$(tok K1_corp_key_claims_partner_with_shared_kid)"; refused $? "K1_introspect_dovecot_other_issuer_refused"
imap xoauth2 alice "$(tok C2_aud_wrong)"; refused $? "C2_introspect_dovecot_wrong_audience_refused"
imap oauthbearer bob "$good"; refused $? "C6_introspect_dovecot_bob_with_alices_token_refused"
imap xoauth2 alice "$(tok good_smtp)"; refused $? "N3_introspect_dovecot_smtp_token_not_valid_for_imap"

if [ -x "$POSTFIX" ]; then
	mkdir -p "$C" "$W/spool" "$W/data" "$W/vmail"
	chown postfix "$W/data"
	chown 65534:65534 "$W/vmail"
	cp /etc/postfix/master.cf "$C/master.cf"
	SPORT=$(free_port)
	sed -i "s/^smtp      inet/127.0.0.1:$SPORT inet/" "$C/master.cf"
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
smtpd_sasl_type = dovecot
smtpd_sasl_path = $W/postfix-auth
smtpd_sasl_security_options = noanonymous
smtpd_tls_security_level = none
smtpd_relay_restrictions = permit_sasl_authenticated, reject
smtpd_recipient_restrictions = permit_sasl_authenticated, reject
maillog_file = $W/postfix.log
maillog_file_prefixes = $W
line_length_limit = 8192
service_throttle_time = 1s
smtpd_error_sleep_time = 0
CF
	postconf -c "$C" -F '*/*/chroot = n' >/dev/null
	"$POSTFIX" -c "$C" start >"$W/pfstart.out" 2>&1
	wait_banner "$SPORT" "220"
	ok $? "postfix_with_dovecot_sasl_started_on_127.0.0.1:$SPORT"
	smtp() { src=$((src + 1)); "$PY" "$TS_SRCDIR/tests/e2e/smtp_client.py" "$SPORT" "127.0.0.$src" "$@"; }
	server_accepted=0
	smtp xoauth2 alice "$(tok good_smtp)" alice@example.com; accepted $? "N_postfix_through_dovecot_xoauth2_login_and_send"
	smtp xoauth2 alice "$(tok K1_partner_key_claims_corp_issuer)"; refused $? "K1_postfix_through_dovecot_forged_token_535"
	smtp xoauth2 alice "$good"; refused $? "N3_postfix_through_dovecot_imap_token_not_valid_for_smtp"
fi
sleep 1
grep -q "result=accept reason=ok service=dovecot rhost=127.0.0.2:" "$W/introspect.log"
ok $? "N_decision_line_names_the_service_and_the_imap_client_address_from_dovecot"
grep -q "result=reject reason=unknown_key service=dovecot" "$W/introspect.log"; ok $? "N4_reason_in_the_daemon_log"
grep -q "service=smtp" "$W/introspect.log"; ok $? "N3_smtp_protocol_mapped_to_service_smtp"
for t in good_corp_es256 K1_partner_key_claims_corp_issuer good_smtp; do
	v=$(tok $t | cut -c1-60)
	! grep -qF "$v" "$W/dovecot.log" "$W/introspect.log"
done
ok $? "M3_no_token_in_the_dovecot_or_daemon_log"
! grep -qF "$SECRET" "$W/dovecot.log" "$W/introspect.log"; ok $? "M3_no_client_secret_in_the_logs"
# M7: the administrator's report on this run's own daemon log: the forged
# and stolen-key logins above are alerts, the good ones counted per key
TS=$TS_BUILDDIR/tools/tokenscope
[ -n "${TS_E2E_INSTALLED:-}" ] && TS=tokenscope
out=$("$TS" audit "$W/introspect.log"); rc=$?
[ $rc = 3 ] &&
	echo "$out" | grep -q "^  - ALERT alert=forged_cross_issuer reason=unknown_key service=dovecot .* key_issuer=partner key_thumbprint=" &&
	echo "$out" | grep -q "^  - ALERT alert=stolen_key_in_use reason=key_expired " &&
	echo "$out" | grep -q "^\[issuer corp\] key $("$PY" -c "import json; print(json.load(open('$TS_FIXTURES/tokens.json'))['thumbprints']['p256'])")$" &&
	echo "$out" | grep -qE "^  accepted [1-9][0-9]*, distinct users 1, refused [1-9]"
ok $? "M7_audit_of_the_daemon_log_names_the_forgeries_exit_3 (exit $rc)"
grep -v "alert" "$W/introspect.log" >"$W/no-alert.log"
"$TS" audit "$W/no-alert.log" >/dev/null; ok $? "M7_audit_of_the_daemon_log_without_the_alerts_exit_0"
kill -TERM "$DPID"
for i in $(seq 1 50); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.2; done
! kill -0 "$DPID" 2>/dev/null; ok $? "N_sigterm_stops_the_daemon"
finish
