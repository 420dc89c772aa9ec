#!/bin/sh
# t_postfix_chroot.sh: K13 behind a real chrooted smtpd. Postfix's smtpd
# runs with chroot = y in its queue directory (Debian's default), one smtpd
# process for every connection (maxproc 1, never idle out), and the policy
# outside the jail. Edits made while that process runs reach it at its next
# change check, without `postfix reload`: a revocation, an audience edit,
# and the fix of a key file whose bad mode it started with.
set -u
. "$(dirname "$0")/common.sh"
postfix_setup postfix-chroot y
# one smtpd serves every connection, so "the same running smtpd" is a fact
postconf -c "$C" -F "127.0.0.1:$PORT/inet/process_limit = 1" >/dev/null
postconf -c "$C" -e "max_idle = 3600s" "max_use = 1000"
# the jail: what Debian's Postfix start copies into the queue directory
mkdir -p "$W/spool/etc"
for f in localtime services resolv.conf hosts nsswitch.conf; do
	[ -f "/etc/$f" ] && cp "/etc/$f" "$W/spool/etc/$f"
done
# M9: a syslog receiver inside the jail, where Debian's rsyslog listens
# for a chrooted Postfix (/var/spool/postfix/dev/log): the chrooted smtpd's
# syslog() reaches it, the plugin's decision lines included
mkdir -p "$W/spool/dev"
"$PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "ab", buffering=0) as f:
    while True:
        f.write(s.recv(65536) + b"\n")
' "$W/spool/dev/log" "$W/syslog.txt" &
listener=$!
at_exit 'kill "$listener" 2>/dev/null'
for i in $(seq 1 50); do [ -S "$W/spool/dev/log" ] && break; sleep 0.1; done
chmod 666 "$W/spool/dev/log" # smtpd writes to it as postfix
postfix_start

good=$(tok good_smtp)
# PIDs of the smtpd processes that ended a session with an accepted AUTH
accepted_pids() { sed -n 's/.*postfix\/smtpd\[\([0-9]*\)\]: disconnect from .* auth=1 .*/\1/p' "$W/postfix.log"; }
# PIDs of every smtpd that ended a session, refusals included
smtpd_pids() { sed -n 's/.*postfix\/smtpd\[\([0-9]*\)\]: disconnect from .*/\1/p' "$W/postfix.log" | sort -u; }
# the line for the last AUTH reaches the log through postlogd: wait for it
log_has() {
	for i in $(seq 1 50); do
		grep -q "$1" "$W/postfix.log" && return 0
		sleep 0.1
	done
	return 1
}

smtp oauthbearer alice "$good"; accepted $? "K13_chrooted_smtpd_accepts_a_good_token"
pid=$(accepted_pids)
ls -l /proc/"$pid"/root 2>/dev/null | grep -q -- "-> $W/spool$"
ok $? "K13_smtpd_runs_chrooted_in_its_queue_directory (pid $pid, $W/spool)"

# revoke the key the token is signed with (p256, kid corp-1)
thumb=$("$PY" -c "import json; print(json.load(open('$TS_FIXTURES/tokens.json'))['thumbprints']['p256'])")
cp "$W/revoked-keys" "$W/revoked-keys.orig"
echo "$thumb" >>"$W/revoked-keys"
smtp oauthbearer alice "$good"; refused $? "K13_revocation_reaches_the_chrooted_smtpd_without_reload"
log_has "SASL authentication failure: .*reason=key_revoked"
ok $? "K13_chrooted_smtpd_logs_key_revoked"
cp "$W/revoked-keys.orig" "$W/revoked-keys"
smtp xoauth2 alice "$good"; accepted $? "K13_unrevoked_key_accepted_again"

# the smtp service's audience edited
sed -i 's/^audiences       = smtp.example.com/audiences       = submission.example.com/' "$W/tokenscope.conf"
smtp oauthbearer alice "$good"; refused $? "K13_audience_edit_reaches_the_chrooted_smtpd"
log_has "SASL authentication failure: .*reason=audience_mismatch"
ok $? "K13_chrooted_smtpd_logs_audience_mismatch"
sed -i 's/^audiences       = submission.example.com/audiences       = smtp.example.com/' "$W/tokenscope.conf"
smtp oauthbearer alice "$good"; accepted $? "K13_audience_restored"
[ "$(smtpd_pids | wc -l)" = 1 ]
ok $? "K13_one_smtpd_process_saw_every_change ($(smtpd_pids | tr '\n' ' '))"

# a new smtpd that starts while a key file has a bad mode: config_error
# (Postfix answers 454, the client exits 2), then the mode is fixed
chmod 666 "$W/p256.pub.pem"
"$POSTFIX" -c "$C" reload >/dev/null 2>&1
sleep 1
wait_banner "$PORT" "220"
smtp oauthbearer alice "$good"
[ $? = 2 ]; ok $? "K13_smtpd_started_with_a_bad_key_mode_fails_closed"
log_has "SASL authentication problem: tokenscope: .*p256.pub.pem: group- or world-writable .*(logged before this exchange)"
ok $? "M9_config_error_in_postfixs_own_log"
bad_pid=$(sed -n 's/.*postfix\/smtpd\[\([0-9]*\)\]: .*reason=config_error.*/\1/p' "$W/postfix.log" | tail -1)
chmod 644 "$W/p256.pub.pem"
smtp oauthbearer alice "$good"; accepted $? "K13_key_mode_fixed_reaches_the_chrooted_smtpd_without_reload"
last_pid=$(accepted_pids | tail -1)
[ -n "$bad_pid" ] && [ "$bad_pid" = "$last_pid" ]
ok $? "K13_the_same_smtpd_recovered ($bad_pid, $last_pid)"
# authpriv.info is <86>, authpriv.notice <85>
grep -q "^<86>.*smtpd[^:]*: tokenscope: result=accept reason=ok service=smtp" "$W/syslog.txt"
ok $? "M9_chrooted_smtpd_accept_line_in_authpriv"
grep -q "^<85>.*smtpd[^:]*: tokenscope: result=reject reason=key_revoked" "$W/syslog.txt"
ok $? "M9_chrooted_smtpd_refusal_line_in_authpriv"
v=$(echo "$good" | cut -c1-60)
! grep -qF "$v" "$W/postfix.log" "$W/syslog.txt"; ok $? "M3_chrooted_postfix_log_never_holds_a_token"
finish
