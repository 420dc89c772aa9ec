#!/bin/sh
# t_postfix.sh: libtoken.so behind real Postfix SMTP AUTH (smtpd_sasl_type =
# cyrus), started from a config directory of its own on 127.0.0.1 and
# stopped afterwards; Python's smtplib authenticates with OAUTHBEARER and
# XOAUTH2 and delivers a message to a local mailbox.
set -u
. "$(dirname "$0")/common.sh"
POSTFIX=/usr/sbin/postfix
[ -x "$POSTFIX" ] || skip_all "postfix is not installed (scripts/deps.sh test installs it)"
# the build tree's plugin, or the installed one from libsasl's own path
SASLENV="SASL_PATH=$TS_BUILDDIR/sasl_token/.libs"
[ -n "${TS_E2E_INSTALLED:-}" ] && SASLENV=""

e2e_dir postfix
policy_in "$W"
C="$W/conf"
mkdir -p "$C/sasl" "$W/spool" "$W/data" "$W/vmail"
chown postfix "$W/data"
chown 65534:65534 "$W/vmail"
cp /etc/postfix/master.cf "$C/master.cf"
PORT=$(free_port)
# the smtpd service on our port; no chroot, so the plugin reaches its files
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
# Debian 12's Postfix 3.7 reads the SASL config from CONFIG_DIR/sasl whatever
# cyrus_sasl_config_path says; Debian 13's 3.10 honours the setting and
# otherwise reads /etc/postfix/sasl: name the directory for both
postconf -c "$C" -e "cyrus_sasl_config_path = $C/sasl"
postconf -c "$C" -F '*/*/chroot = n' >/dev/null
# Debian's Postfix reads the SASL config from CONFIG_DIR/sasl/smtpd.conf
cat >"$C/sasl/smtpd.conf" <<SASL
mech_list: OAUTHBEARER XOAUTH2
token_config: $W/tokenscope.conf
token_openid_configuration: https://sso.example.com/realms/corp/.well-known/openid-configuration
log_level: 4
SASL
"$POSTFIX" -c "$C" start >"$W/start.out" 2>&1
stop() { "$POSTFIX" -c "$C" stop >/dev/null 2>&1; }
trap stop EXIT
wait_banner "$PORT" "220"
ok $? "postfix_started_on_127.0.0.1:$PORT ($(tail -1 "$W/start.out"))"

if [ -n "${TS_E2E_INSTALLED:-}" ]; then
	out=$(saslpluginviewer -s 2>&1)
	echo "$out" | grep -q "SASL mechanism: OAUTHBEARER" && echo "$out" | grep -q "SASL mechanism: XOAUTH2"
	ok $? "saslpluginviewer_lists_both_mechanisms_from_the_system_directory"
fi
tok() { "$PY" -c "import json; print(json.load(open('$W/fresh.json'))['tokens']['$1'])"; }
src=1
smtp() { src=$((src + 1)); "$PY" "$TS_SRCDIR/tests/e2e/smtp_client.py" "$PORT" "127.0.0.$src" "$@"; }
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
delivered=0
for i in $(seq 1 50); do
	delivered=$(find "$W/vmail/mailbox/new" -type f 2>/dev/null | wc -l)
	[ "$delivered" -ge 2 ] && break
	sleep 0.2
done
[ "$delivered" -ge 2 ]; ok $? "postfix_delivered_both_messages_to_the_mailbox ($delivered)"
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
