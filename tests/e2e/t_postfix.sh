#!/bin/sh
# t_postfix.sh: libtoken.so behind real Postfix SMTP AUTH (smtpd_sasl_type =
# cyrus), started from a config directory of its own on 127.0.0.1 and
# stopped afterwards; Python's smtplib authenticates with OAUTHBEARER and
# XOAUTH2 and delivers a message to a local mailbox.
set -u
. "$(dirname "$0")/common.sh"
postfix_setup postfix n
postfix_start

if [ -n "${TS_E2E_INSTALLED:-}" ]; then
	out=$(saslpluginviewer -s 2>&1)
	echo "$out" | grep -q "SASL mechanism: OAUTHBEARER" && echo "$out" | grep -q "SASL mechanism: XOAUTH2"
	ok $? "saslpluginviewer_lists_both_mechanisms_from_the_system_directory"
fi
good=$(tok good_smtp)
smtp oauthbearer alice "$good" alice@example.com; accepted $? "postfix_oauthbearer_login_and_send"
smtp xoauth2 alice "$good" alice@example.com; accepted $? "postfix_xoauth2_login_and_send"
# Cyrus's smtptest through libtoken.so's client side: a relay recipient is
# accepted only after the login
PLUGINS="${SASLENV#SASL_PATH=}"
if [ -x "$CYRUS_CLIENTS/smtptest" ]; then
	for m in OAUTHBEARER XOAUTH2; do
		cyrus_client smtptest "$PORT" $m alice "$good" 'MAIL FROM:<alice@example.com>\r\nRCPT TO:<bob@example.org>\r\nQUIT\r\n' '^250 2\.1\.5 '
		accepted $? "postfix_${m}_login_with_smtptest_and_the_client_plugin (cyrus-clients $(dpkg-query -W -f='${Version}' cyrus-clients 2>/dev/null))"
	done
	cyrus_client smtptest "$PORT" OAUTHBEARER alice "$(tok K1_partner_key_claims_corp_issuer)" 'QUIT\r\n' '^221'
	refused $? "K1_postfix_forged_token_from_smtptest_535"
fi
n_delivered=$(delivered 2)
[ "$n_delivered" -ge 2 ]; ok $? "postfix_delivered_both_messages_to_the_mailbox ($n_delivered)"
smtp oauthbearer alice "$(tok K1_partner_key_claims_corp_issuer)"; refused $? "K1_postfix_forged_token_535"
smtp xoauth2 alice "$(tok C1_expired)"; refused $? "C1_postfix_expired_token_535"
smtp oauthbearer alice "$(tok C2_wrong_service_audience)"; refused $? "C2_postfix_wrong_audience_535"
smtp oauthbearer alice "$(tok C4_smtp_wrong_scope)"; refused $? "C4_postfix_wrong_scope_535"
smtp oauthbearer bob "$good"; refused $? "C6_postfix_authzid_bob_with_alices_token_535"
sleep 1
for r in unknown_key expired audience_mismatch insufficient_scope user_mismatch; do
	grep -q "SASL authentication failure: .*reason=$r" "$W/postfix.log" || { echo "# no $r in the Postfix log"; false; } || break
done
ok $? "postfix_log_shows_each_reason"
grep -q "sasl_method=OAUTHBEARER, sasl_username=alice" "$W/postfix.log"; ok $? "postfix_log_shows_the_authenticated_user"
v=$(echo "$good" | cut -c1-60)
! grep -qF "$v" "$W/postfix.log"; ok $? "M3_postfix_log_never_holds_a_token"
finish
