#!/bin/sh
# t_dovecot.sh: pam_token.so behind real Dovecot IMAP (passdb pam), logins
# with LOGIN, AUTHENTICATE PLAIN, XOAUTH2 and OAUTHBEARER from Python imaplib.
set -u
. "$(dirname "$0")/common.sh"
dovecot_imap_missing && skip_all "dovecot-imapd is not installed (scripts/deps.sh test installs it)"
[ -f "$PAM_WRAPPER_LIB" ] || skip_all "libpam-wrapper is not installed"

e2e_dir dovecot
policy_in "$W"
dovecot_setup dovecot
PORT=$(free_port)
dovecot_conf "$PORT"
dovecot_start
trap dovecot_stop EXIT
wait_banner "$PORT" "* OK"
ok $? "dovecot_${DOVECOT_VERSION}_started_on_127.0.0.1:$PORT"

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
