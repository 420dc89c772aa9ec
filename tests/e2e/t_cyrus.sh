#!/bin/sh
# t_cyrus.sh: libtoken.so on both sides of IMAP AUTHENTICATE. Cyrus IMAP
# (the imapd of Debian's cyrus-imapd under cyrus-common's master, started
# from a config of its own on 127.0.0.1 and stopped afterwards) runs the
# server side, with the SASL options in imapd.conf; Cyrus's own imtest runs
# the client side (-m OAUTHBEARER / XOAUTH2, the token as its -w password),
# logs in and selects INBOX, created at the first login. Refusals must be
# Cyrus's own NO after the error challenge.
set -u
. "$(dirname "$0")/common.sh"
CYRUS=/usr/lib/cyrus/bin
# imapd from cyrus-imapd, or where scripts/deps.sh unpacks it (the package
# conflicts with dovecot-imapd); master and the rest from cyrus-common
IMAPD=$CYRUS/imapd
[ -x "$IMAPD" ] || IMAPD=/usr/local/lib/tokenscope-test/cyrus-imapd$CYRUS/imapd
[ -x "$CYRUS/master" ] && [ -x "$IMAPD" ] || skip_all "Cyrus imapd is not there (scripts/deps.sh test unpacks it)"
[ -x "$CYRUS_CLIENTS/imtest" ] || skip_all "imtest (cyrus-clients) is not installed"
id cyrus >/dev/null 2>&1 || skip_all "no cyrus user"
PLUGINS="$TS_BUILDDIR/sasl_token/.libs"
[ -n "${TS_E2E_INSTALLED:-}" ] && PLUGINS=""

e2e_dir cyrus
policy_in "$W"
# imapd's SASL service name is "imap"
policy_for imap
mkdir -p "$W/conf" "$W/spool" "$W/run/proc" "$W/run/lock" "$W/run/socket"
chown -R cyrus:mail "$W/conf" "$W/spool" "$W/run"
PORT=$(free_port)
# Cyrus hands libsasl the imapd.conf options named sasl_<option>
cat >"$W/imapd.conf" <<CONF
configdirectory: $W/conf
proc_path: $W/run/proc
mboxname_lockpath: $W/run/lock
lmtpsocket: $W/run/socket/lmtp
idlesocket: $W/run/socket/idle
notifysocket: $W/run/socket/notify
defaultpartition: default
partition-default: $W/spool
autocreate_quota: 0
# a bearer token is a plaintext credential, which Cyrus offers only over
# TLS unless told otherwise: this loopback listener has no TLS
allowplaintext: yes
sasl_mech_list: OAUTHBEARER XOAUTH2
sasl_token_config: $W/tokenscope.conf
sasl_token_openid_configuration: https://sso.example.com/realms/corp/.well-known/openid-configuration
syslog_prefix: cyrus-tokenscope-test
CONF
cat >"$W/cyrus.conf" <<CONF
START {
  recover cmd="ctl_cyrusdb -r -C $W/imapd.conf"
}
SERVICES {
  imap cmd="$IMAPD -C $W/imapd.conf" listen="127.0.0.1:$PORT" prefork=0 maxchild=10
}
EVENTS {
}
CONF
# master drops to the cyrus user; it passes SASL_PATH on to imapd
(cd "$W" && exec env ${PLUGINS:+SASL_PATH="$PLUGINS"} "$CYRUS/master" -C "$W/imapd.conf" \
	-M "$W/cyrus.conf" -p "$W/master.pid" -D >"$W/master.log" 2>&1) &
MPID=$!
# master stops its imapd children when it is stopped
stop() { kill "$MPID" 2>/dev/null; wait "$MPID" 2>/dev/null; }
trap stop EXIT
wait_banner "$PORT" "* OK"
ok $? "cyrus_imapd_started_on_127.0.0.1:$PORT ($("$PY" -c "
import socket; s=socket.create_connection(('127.0.0.1', $PORT)); print(s.recv(300).decode().split('] ')[-1].strip())"), imtest $(dpkg-query -W -f='${Version}' cyrus-clients 2>/dev/null), libsasl2 $(dpkg-query -W -f='${Version}' libsasl2-2 2>/dev/null))"

tok() { "$PY" -c "import json; print(json.load(open('$W/fresh.json'))['tokens']['$1'])"; }
# logged in with INBOX selected, or Cyrus's own NO
imap() { cyrus_client imtest "$PORT" "$1" "$2" "$3" 'a SELECT INBOX\r\nb LOGOUT\r\n' '^a OK \[READ-WRITE\]'; }
good=$(tok good_corp_es256)
imap OAUTHBEARER alice "$good"; accepted $? "cyrus_oauthbearer_login_and_select_inbox_with_imtest"
imap XOAUTH2 alice "$good"; accepted $? "cyrus_xoauth2_login_and_select_inbox_with_imtest"
imap OAUTHBEARER alice "$(tok K1_partner_key_claims_corp_issuer)"; refused $? "K1_cyrus_forged_token_NO"
# the OAUTHBEARER ack is the lone \x01, base64 AQ==
grep -q "^C: AQ==" "$W/imtest.$n_cyrus"; ok $? "imtest_answered_the_error_challenge_with_x01"
imap XOAUTH2 alice "$(tok K5_expired_key_future_exp)"; refused $? "K5_cyrus_xoauth2_expired_key_NO"
imap OAUTHBEARER alice "$(tok good_partner)"; refused $? "K1_cyrus_other_issuers_valid_token_NO"
imap OAUTHBEARER alice "$(tok good_smtp)"; refused $? "C2_cyrus_wrong_audience_NO"
imap XOAUTH2 bob "$good"; refused $? "C6_cyrus_bob_with_alices_token_NO"
# the mailbox list, read as the cyrus user
setpriv --reuid=cyrus --regid=mail --clear-groups "$CYRUS/ctl_mboxlist" -d -C "$W/imapd.conf" >"$W/mboxlist" 2>&1
grep -q '"user.alice"' "$W/mboxlist"; ok $? "alices_inbox_created_at_her_first_login"
! grep -q '"user.bob"' "$W/mboxlist"; ok $? "no_mailbox_for_bob"
v=$(echo "$good" | cut -c1-60)
! grep -qF "$v" "$W/master.log"; ok $? "M3_cyrus_master_output_never_holds_a_token"
finish
