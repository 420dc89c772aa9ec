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
DAEMON=${TS_INTROSPECT:-$TS_BUILDDIR/introspect/tokenscope-introspect}
dovecot_imap_missing && skip_all "dovecot-imapd is not installed (scripts/deps.sh test installs it)"
[ -x "$DAEMON" ] || skip_all "no $DAEMON"

e2e_dir introspect
policy_in "$W"
dovecot_dirs
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
at_exit 'kill "$DPID" 2>/dev/null'
PORT=$(free_port)
URL="http://dovecot:$SECRET@127.0.0.1:$IPORT/introspect"
OAUTH2="introspection_mode = post
introspection_url = $URL
send_auth_headers = yes
username_attribute = username
active_attribute = active
active_value = true"
# the oauth2 passdb: 2.3 reads its settings from a file of their own, 2.4
# from an oauth2 block
case "$DOVECOT_VERSION" in
2.3.*)
	echo "$OAUTH2" >"$W/dovecot-oauth2.conf.ext"
	PASSDB="passdb {
  driver = oauth2
  mechanisms = oauthbearer xoauth2
  args = $W/dovecot-oauth2.conf.ext
}"
	;;
*)
	PASSDB="oauth2 {
$(echo "$OAUTH2" | sed 's/^/  /')
}
passdb oauth2 {
  mechanisms_filter = oauthbearer xoauth2
}"
	;;
esac
# Postfix asks this Dovecot's auth service (smtpd_sasl_type = dovecot)
dovecot_base "$PORT" "$(dovecot_auth "oauthbearer xoauth2")
$PASSDB
service auth {
  unix_listener $W/postfix-auth {
    mode = 0666
  }
}"
dovecot_start
at_exit dovecot_halt
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

if [ -x /usr/sbin/postfix ]; then
	SPORT=$(free_port)
	postfix_base "$W/pfconf" "$SPORT"
	postfix_mail dovecot "$W/postfix-auth"
	postfix_start postfix_with_dovecot_sasl
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
