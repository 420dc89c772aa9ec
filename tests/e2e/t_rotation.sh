#!/bin/sh
# t_rotation.sh: K14 end to end. The identity provider (tests/e2e/rotation_idp.py,
# HTTPS on 127.0.0.1) rotates to a key nobody has yet; a login under it through
# Dovecot (passdb pam, pam_token.so) and through Postfix (SMTP AUTH, libtoken.so)
# is refused once, leaves a fetch request, and the retry is accepted a few
# seconds later: no administrator, no restart of either server. The fetcher
# runs outside the servers, as tokenscope-fetch-requested.path would start it
# (here a loop that runs `tokenscope fetch-keys --requested` whenever the spool
# is not empty).
set -u
. "$(dirname "$0")/common.sh"
[ -x /usr/sbin/postfix ] || skip_all "postfix is not installed"
# the Dovecot half needs the IMAP server and pam_wrapper; the Postfix half runs without
dv=1
! dovecot_imap_missing && [ -f "$PAM_WRAPPER_LIB" ] ||
	{ dv=0; echo "# dovecot-imapd or libpam-wrapper missing: the Dovecot half is skipped"; }
[ -n "${TS_E2E_INSTALLED:-}" ] && skip_all "runs against the build tree only"
"$PY" -c 'import jwt, jwcrypto' 2>/dev/null || skip_all "python3-jwt / python3-jwcrypto missing"
TS="$TS_BUILDDIR/tools/tokenscope"

e2e_dir rotation
mkdir -p "$W/idp" "$W/keys"
chmod 755 "$W/keys"
mkdir -m 1733 "$W/fetch-spool" # as the path unit makes it: smtpd (user postfix) may write
"$PY" "$TS_SRCDIR/tests/e2e/rotation_idp.py" "$W/idp" >"$W/idp.out" 2>&1 &
IDP=$!
at_exit 'kill $IDP 2>/dev/null; sleep 1'
i=0
while [ ! -f "$W/idp/idp.port" ] && [ $i -lt 100 ] && kill -0 "$IDP" 2>/dev/null; do sleep 0.2; i=$((i + 1)); done
[ -f "$W/idp/idp.port" ]; ok $? "identity_provider_up_on_127.0.0.1 $(cat "$W/idp.out")"
BASE=$(cat "$W/idp/idp.port")
CA="$W/idp/ca.pem"
rtok() { "$PY" -c "import json; print(json.load(open('$W/idp/tokens.json'))['$1'])"; }
fetches() { wc -l <"$W/idp/jwks-gets" 2>/dev/null || echo 0; }

cat >"$W/tokenscope.conf" <<CONF
[global]
fetch_spool = $W/fetch-spool
fetch_interval = 1

[issuer rot]
issuer = $BASE/realms/rot
discovery = $BASE/realms/rot/.well-known/openid-configuration
key = $W/keys/rot.jwks
algorithms = RS256

[service dovecot]
issuers = rot
audiences = imap.example.com

[service smtp]
issuers = rot
audiences = smtp.example.com
CONF
chmod 644 "$W/tokenscope.conf"
"$TS" fetch-keys -c "$W/tokenscope.conf" --ca-file "$CA" >"$W/fetch0.out" 2>&1
ok $? "first_fetch_by_hand_writes_key_R1 ($(grep -c 'added kid=R1' "$W/fetch0.out"))"

# ---- Dovecot with passdb pam (pam_wrapper in the auth worker only) ----
if [ $dv = 1 ]; then
	dovecot_setup rotation
	DPORT=$(free_port)
	dovecot_conf "$DPORT"
	dovecot_start
	at_exit dovecot_stop
	wait_banner "$DPORT" "* OK"
	ok $? "dovecot_started_on_127.0.0.1:$DPORT"
	DPID=$(cat "$W/run/master.pid" 2>/dev/null)
fi

# ---- Postfix with the SASL plugin (smtpd as user postfix, no chroot) ----
postfix_conf n
postfix_start
PPID_=$(head -1 "$W/spool/pid/master.pid" 2>/dev/null | tr -d ' ')

# imap and smtp (common.sh): IMAP to $DPORT, SMTP to $SPORT
imap() { src=$((src + 1)); "$PY" "$TS_SRCDIR/tests/e2e/imap_client.py" "$DPORT" "127.0.0.$src" "$@"; }
# retry CMD...: the client's retries, one a second for at most 30 s (tries: how many failed)
retry() {
	_i=0
	while [ $_i -lt 30 ]; do
		tries=$_i
		"$@" && return 0
		sleep 1
		_i=$((_i + 1))
	done
	return 1
}

[ $dv = 1 ] && { imap login alice "$(rtok R1)"; accepted $? "dovecot_login_under_the_current_key_R1"; }
smtp oauthbearer alice "$(rtok R1)"; accepted $? "postfix_login_under_the_current_key_R1"

# the fetcher, as the path unit starts it: whenever the spool is not empty;
# fetcher.busy marks a run, so a test can wait for the fetcher to go quiet
(
	while :; do
		if [ -n "$(ls -A "$W/fetch-spool")" ]; then
			: >"$W/fetcher.busy"
			"$TS" fetch-keys -c "$W/tokenscope.conf" --ca-file "$CA" --requested >>"$W/fetcher.out" 2>&1
			rm -f "$W/fetcher.busy"
		fi
		sleep 0.2
	done
) &
FETCHER=$!
at_exit 'kill $FETCHER 2>/dev/null'
# quiet: no request left and no run under way, twice half a second apart.
# Each refused retry leaves a request of its own; one still queued (a run
# waits out fetch_interval first) would otherwise fetch the next rotation's
# keys before the login meant to meet them as unknown.
quiet() {
	_q=0 _i=0
	while [ $_q -lt 2 ] && [ $_i -lt 60 ]; do
		if [ -z "$(ls -A "$W/fetch-spool")" ] && [ ! -e "$W/fetcher.busy" ]; then
			_q=$((_q + 1))
		else
			_q=0
		fi
		sleep 0.5
		_i=$((_i + 1))
	done
	[ $_q -ge 2 ]
}

# ---- rotation 1, met first by Dovecot ----
if [ $dv = 1 ]; then
	before=$(fetches)
	cp "$W/idp/jwks-R2.json" "$W/idp/docs/realms/rot/keys"
	imap login alice "$(rtok R2)"; refused $? "K14_dovecot_login_under_the_new_key_R2_refused_once"
	retry imap login alice "$(rtok R2)"; ok $? "K14_dovecot_retry_under_R2_accepted_without_admin_or_restart (after ${tries}s)"
	[ "$(fetches)" -gt "$before" ]; ok $? "K14_dovecot_refusal_made_the_fetcher_fetch ($before -> $(fetches))"
fi

# ---- rotation 2, met first by Postfix (smtpd writes the spool as postfix) ----
quiet; ok $? "fetcher_quiet_before_the_next_rotation"
before=$(fetches)
cp "$W/idp/jwks-R3.json" "$W/idp/docs/realms/rot/keys"
smtp oauthbearer alice "$(rtok R3)"; refused $? "K14_postfix_login_under_the_new_key_R3_refused_once"
retry smtp oauthbearer alice "$(rtok R3)"; ok $? "K14_postfix_retry_under_R3_accepted_without_admin_or_restart (after ${tries}s)"
[ "$(fetches)" -gt "$before" ]; ok $? "K14_postfix_refusal_made_the_fetcher_fetch ($before -> $(fetches))"
if [ $dv = 1 ]; then
	imap login alice "$(rtok R3)"; ok $? "K14_dovecot_takes_R3_too_without_a_request_of_its_own"
	[ "$(cat "$W/run/master.pid" 2>/dev/null)" = "$DPID" ]; ok $? "K14_dovecot_not_restarted"
fi
[ "$(head -1 "$W/spool/pid/master.pid" 2>/dev/null | tr -d ' ')" = "$PPID_" ]
ok $? "K14_postfix_not_restarted"
sleep 1
grep -q "reason=unknown_key .*fetch_requested=yes" "$W/postfix.log"
ok $? "K14_postfix_log_decision_line_says_fetch_requested_yes"
! grep -qF "$(rtok R3 | cut -c1-60)" "$W/postfix.log" &&
	! grep -qsF "$(rtok R2 | cut -c1-60)" "$W/postfix.log" "$W/dovecot.log"
ok $? "M3_rotation_logs_never_hold_a_token"
finish
