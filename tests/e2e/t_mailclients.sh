#!/bin/sh
# t_mailclients.sh: the mail clients people use, not our own drivers, against
# real Dovecot (passdb pam, pam_token.so) and real Postfix (libtoken.so):
# curl --oauth2-bearer over IMAP and SMTP with OAUTHBEARER and XOAUTH2, msmtp
# with auth oauthbearer and auth xoauth2 and passwordeval (fetchmail's auth
# oauthbearer is a SKIP line: see there). What each client sends is first
# recorded by a fake server (tests/e2e/sasl_recorder.py); the message shapes
# no client sends (no a=, a lower-case scheme, no host/port) come from our
# drivers. A good token logs in (and mail is delivered); a forged one is
# refused with the server's own reply, and Postfix logs tokenscope's reason.
set -u
. "$(dirname "$0")/common.sh"
E="$TS_SRCDIR/tests/e2e"
[ -x "$DOVECOT" ] || skip_all "dovecot-imapd is not installed (scripts/deps.sh test installs it)"
[ -x /usr/sbin/postfix ] || skip_all "postfix is not installed (scripts/deps.sh test installs it)"
[ -f "$PAM_WRAPPER_LIB" ] || skip_all "libpam-wrapper is not installed"
command -v curl >/dev/null || skip_all "curl is not installed"
command -v msmtp >/dev/null || skip_all "msmtp is not installed"
echo "# $(curl --version | head -1)"
echo "# $(msmtp --version | head -1); dovecot $("$DOVECOT" --version); postfix $(postconf -d -h mail_version)"
skip_one() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }

e2e_dir mailclients
policy_in "$W"
FETCHMAIL=$(command -v fetchmail || true)
FM_VERSION=""
[ -n "$FETCHMAIL" ] && FM_VERSION=$(HOME=$W "$FETCHMAIL" --version 2>/dev/null |
	sed -n 's/.*fetchmail release \([0-9.]*\).*/\1/p' | head -1)
[ -n "$FM_VERSION" ] && echo "# fetchmail $FM_VERSION"
printf '%s' "$(tok good_corp_es256)" >"$W/imap.good"
printf '%s' "$(tok K1_partner_key_claims_corp_issuer)" >"$W/imap.forged"
printf '%s' "$(tok good_smtp)" >"$W/smtp.good"
printf '%s' "$(tok K1_partner_key_claims_corp_issuer)" >"$W/smtp.forged"
chmod 600 "$W"/*.good "$W"/*.forged
# next_src: SRC, the next 127.0.0.N source address (one count with imap and smtp)
next_src() { src=$((src + 1)); SRC=127.0.0.$src; }

# curl's and msmtp's exit status as the test clients': 0 logged in, 1 only
# for the server's refusal (curl 67 "login denied", msmtp 77 with the
# server's 535), 2 anything else (a connection refused is never a refusal)
curl_rc() {
	case $1 in
	0) return 0 ;;
	67) return 1 ;;
	*) sed 's/^/# curl: /' "$W/client.err"; echo "# curl exit $1"; return 2 ;;
	esac
}

# --- what each client sends, recorded by a fake server -------------------
# record PROTO MECHS COMMAND: runs the shell COMMAND, in which $RPORT is the
# port of sasl_recorder.py offering MECHS, and prints the message the client
# sent, token blanked and \x01 as ^A.
record() {
	rm -f "$W/rec.port" "$W/rec.msg"
	"$PY" "$E/sasl_recorder.py" "$1" "$2" "$W/rec.msg" >"$W/rec.port" &
	_rp=$!
	for _i in 1 2 3 4 5 6 7 8 9 10; do [ -s "$W/rec.port" ] && break; sleep 0.2; done
	RPORT=$(cat "$W/rec.port")
	eval "$3" >/dev/null 2>&1 </dev/null
	wait "$_rp"
	cat "$W/rec.msg" 2>/dev/null
}
msmtprc() { # msmtprc FILE PORT MECH TOKENFILE SOURCE
	cat >"$1" <<RC
account default
host 127.0.0.1
port $2
source_ip $5
from alice@example.com
auth $3
user alice
passwordeval cat $4
tls off
RC
	chmod 600 "$1"
}
printf 'From: alice@example.com\r\nTo: alice@example.com\r\nSubject: tokenscope e2e\r\n\r\nhello\r\n' >"$W/mail.txt"
oauthbearer_shape='^n,a=alice,\^Ahost=127\.0\.0\.1\^Aport=[0-9]+\^Aauth=Bearer <token>\^A\^A$'
xoauth2_shape='^user=alice\^Aauth=Bearer <token>\^A\^A$'
shape() { # shape NAME MESSAGE REGEX
	echo "# $1 sends: $2"
	echo "$2" | grep -qE "$3"
	ok $? "$1_sends_the_expected_message"
}
good='"$(cat "$W/imap.good")"'
shape curl_imap_oauthbearer "$(record imap "OAUTHBEARER XOAUTH2" \
	"curl -s imap://127.0.0.1:\$RPORT/ --user alice: --oauth2-bearer $good")" "$oauthbearer_shape"
# curl 7.88 takes OAUTHBEARER whenever the server offers it, AUTH=XOAUTH2 in
# --login-options or not: only a server offering XOAUTH2 alone gets XOAUTH2
echo "# curl with --login-options AUTH=XOAUTH2 sends: $(record imap "OAUTHBEARER XOAUTH2" \
	"curl -s imap://127.0.0.1:\$RPORT/ --login-options AUTH=XOAUTH2 --user alice: --oauth2-bearer $good")"
shape curl_imap_xoauth2 "$(record imap XOAUTH2 \
	"curl -s imap://127.0.0.1:\$RPORT/ --user alice: --oauth2-bearer $good")" "$xoauth2_shape"
send='--mail-from alice@example.com --mail-rcpt alice@example.com -T "$W/mail.txt"'
shape curl_smtp_oauthbearer "$(record smtp "OAUTHBEARER XOAUTH2" \
	"curl -s smtp://127.0.0.1:\$RPORT $send --user alice: --oauth2-bearer $good")" "$oauthbearer_shape"
shape curl_smtp_xoauth2 "$(record smtp XOAUTH2 \
	"curl -s smtp://127.0.0.1:\$RPORT $send --user alice: --oauth2-bearer $good")" "$xoauth2_shape"
for mech in oauthbearer xoauth2; do
	eval "shape_re=\$${mech}_shape"
	shape msmtp_$mech "$(record smtp "OAUTHBEARER XOAUTH2" \
		"msmtprc '$W/msmtprc.rec' \$RPORT $mech '$W/smtp.good' 127.0.0.1;
		msmtp -C '$W/msmtprc.rec' alice@example.com <'$W/mail.txt'")" "$shape_re"
done
fetchmail_has_oauthbearer=0
if [ -n "$FETCHMAIL" ]; then
	HOME=$W "$FETCHMAIL" --auth oauthbearer --version 2>&1 | grep -q "Invalid authentication" ||
		fetchmail_has_oauthbearer=1
fi

# --- Dovecot: curl over IMAP --------------------------------------------
# dovecot_up MECHS: Dovecot with passdb pam (pam_token.so through
# pam_wrapper in the auth worker) offering MECHS, on a fresh port
dovecot_setup mailclients
dovecot_up() {
	PORT=$(free_port)
	dovecot_conf "$PORT" "" "" "$1"
	dovecot_start
	wait_banner "$PORT" "* OK"
}
at_exit dovecot_stop

# optional_fields SERVER DRIVER TOKENFILE: RFC 7628 makes host and port
# optional and the scheme case-insensitive; no client tested sends either
# shape, our driver does
optional_fields() {
	$2 oauthbearer-nohostport alice "$(cat "$3")"
	accepted $? "$1_oauthbearer_without_host_and_port_logs_in"
	$2 oauthbearer-lowercase alice "$(cat "$3")"
	accepted $? "$1_oauthbearer_lower_case_bearer_scheme_logs_in"
}
# curl_imap TOKENFILE [CURL OPTIONS]: log in, then EXAMINE INBOX
curl_imap() {
	_t=$1
	shift
	next_src
	curl -sS --interface "$SRC" --max-time 30 "imap://127.0.0.1:$PORT/" -X "EXAMINE INBOX" \
		--user alice: --oauth2-bearer "$(cat "$_t")" "$@" >"$W/client.out" 2>"$W/client.err"
	curl_rc $?
}
case $("$DOVECOT" --version) in
2.3.*)
	# OAUTHBEARER and XOAUTH2 offered: curl takes OAUTHBEARER
	dovecot_up "plain login oauthbearer xoauth2"
	ok $? "dovecot_started_on_127.0.0.1:$PORT offering OAUTHBEARER and XOAUTH2"
	server_accepted=0
	curl_imap "$W/imap.good"
	accepted $? "curl_imap_oauthbearer_good_token_logs_in_and_examines_INBOX"
	grep -q "EXISTS" "$W/client.out"; ok $? "curl_imap_oauthbearer_INBOX_examined"
	curl_imap "$W/imap.forged"; refused $? "K1_curl_imap_oauthbearer_forged_token_refused"
	# the shapes no client sends: Dovecot 2.3 needs a= (it names the PAM
	# user) and takes the rest
	optional_fields dovecot imap "$W/imap.good"
	imap oauthbearer-noauthzid alice "$(cat "$W/imap.good")"
	refused $? "dovecot_oauthbearer_without_a_refused_by_dovecot"
	grep -q "pam_authenticate() failed" "$W/dovecot.log"
	ok $? "dovecot_log_shows_the_pam_refusals"
	dovecot_halt
	# XOAUTH2 alone: curl takes XOAUTH2
	dovecot_up "plain login xoauth2"
	ok $? "dovecot_restarted_on_127.0.0.1:$PORT offering XOAUTH2 alone"
	server_accepted=0
	curl_imap "$W/imap.good"; accepted $? "curl_imap_xoauth2_good_token_logs_in_and_examines_INBOX"
	curl_imap "$W/imap.forged"; refused $? "K1_curl_imap_xoauth2_forged_token_refused"
	dovecot_halt
	grep -q "Login: user=<alice>, method=OAUTHBEARER" "$W/dovecot.log" &&
		grep -q "Login: user=<alice>, method=XOAUTH2" "$W/dovecot.log"
	ok $? "dovecot_log_shows_alice_logged_in_with_both_mechanisms"
	;;
*)
	# Dovecot 2.4 sends OAUTHBEARER and XOAUTH2 only to its oauth2
	# passdb, never to PAM (pam_token(8))
	for t in curl_imap_oauthbearer curl_imap_xoauth2; do
		skip_one "${t}_against_dovecot" "Dovecot $("$DOVECOT" --version) gives OAuth mechanisms to its oauth2 passdb, not PAM"
	done
	;;
esac
# fetchmail: Debian 12's 6.4 has no OAUTHBEARER; Debian 13's 6.5 has, but
# its Dovecot 2.4 never gives OAUTHBEARER to PAM: nothing to log in to here
if [ "$fetchmail_has_oauthbearer" = 1 ]; then
	skip_one fetchmail_imap_oauthbearer "no Dovecot here gives OAUTHBEARER to PAM beside a fetchmail that has it"
elif [ -n "$FETCHMAIL" ]; then
	skip_one fetchmail_imap_oauthbearer "fetchmail $FM_VERSION has no auth oauthbearer"
else
	skip_one fetchmail_imap_oauthbearer "fetchmail is not installed"
fi

# --- Postfix: curl and msmtp over SMTP ----------------------------------
# two smtpd services: SASL application "smtpd" offers OAUTHBEARER and
# XOAUTH2, "smtpdxo" XOAUTH2 alone (curl takes OAUTHBEARER when offered)
postfix_conf n smtpdxo XOAUTH2
postfix_start
server_accepted=0

# curl_smtp PORT TOKENFILE: authenticate and send a message to alice
curl_smtp() {
	next_src
	curl -sS --interface "$SRC" --max-time 30 "smtp://127.0.0.1:$1" \
		--mail-from alice@example.com --mail-rcpt alice@example.com -T "$W/mail.txt" \
		--user alice: --oauth2-bearer "$(cat "$2")" >"$W/client.out" 2>"$W/client.err"
	curl_rc $?
}
# msmtp_send PORT MECH TOKENFILE: the same with msmtp (passwordeval)
msmtp_send() {
	next_src
	msmtprc "$W/msmtprc" "$1" "$2" "$3" "$SRC"
	msmtp -C "$W/msmtprc" alice@example.com <"$W/mail.txt" >"$W/client.out" 2>"$W/client.err"
	_rc=$?
	[ $_rc = 0 ] && return 0
	[ $_rc = 77 ] && grep -q "server message: 535" "$W/client.err" && return 1
	sed 's/^/# msmtp: /' "$W/client.err"
	echo "# msmtp exit $_rc"
	return 2
}
curl_smtp "$SPORT" "$W/smtp.good"; accepted $? "curl_smtp_oauthbearer_good_token_sends"
curl_smtp "$XPORT" "$W/smtp.good"; accepted $? "curl_smtp_xoauth2_good_token_sends"
msmtp_send "$SPORT" oauthbearer "$W/smtp.good"; accepted $? "msmtp_oauthbearer_passwordeval_good_token_sends"
msmtp_send "$SPORT" xoauth2 "$W/smtp.good"; accepted $? "msmtp_xoauth2_passwordeval_good_token_sends"
n_delivered=$(delivered 4)
[ "$n_delivered" -ge 4 ]; ok $? "postfix_delivered_the_four_messages ($n_delivered)"
curl_smtp "$SPORT" "$W/smtp.forged"; refused $? "K1_curl_smtp_oauthbearer_forged_token_refused"
curl_smtp "$XPORT" "$W/smtp.forged"; refused $? "K1_curl_smtp_xoauth2_forged_token_refused"
msmtp_send "$SPORT" oauthbearer "$W/smtp.forged"; refused $? "K1_msmtp_oauthbearer_forged_token_refused"
msmtp_send "$SPORT" xoauth2 "$W/smtp.forged"; refused $? "K1_msmtp_xoauth2_forged_token_refused"
# the shapes no client sends, by our driver: RFC 7628 makes a= optional (the
# user is then the token's)
optional_fields postfix smtp "$W/smtp.good"
smtp oauthbearer-noauthzid alice "$(cat "$W/smtp.good")"
accepted $? "postfix_oauthbearer_without_a_logs_in_as_the_tokens_user"
smtp oauthbearer-noauthzid alice "$(cat "$W/smtp.forged")"
refused $? "K1_postfix_oauthbearer_without_a_forged_token_refused"
sleep 1
n_refusals=$(grep -c "SASL authentication failure: .*reason=unknown_key" "$W/postfix.log")
[ "$n_refusals" -ge 5 ]; ok $? "postfix_log_shows_tokenscopes_refusal_for_each_forged_token ($n_refusals)"
grep -q "sasl_method=XOAUTH2, sasl_username=alice" "$W/postfix.log" &&
	grep -q "sasl_method=OAUTHBEARER, sasl_username=alice" "$W/postfix.log"
ok $? "postfix_log_shows_both_mechanisms_logging_in_as_alice"
for f in "$W/postfix.log" "$W/dovecot.log"; do
	for t in imap.good smtp.good smtp.forged; do
		! grep -qF "$(cut -c1-60 "$W/$t")" "$f" 2>/dev/null || { echo "# a token in $f"; false; } || break 2
	done
done
ok $? "M3_server_logs_never_hold_a_token"
finish
