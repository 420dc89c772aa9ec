#!/bin/sh
# t_sshd.sh: pam_token.so behind real OpenSSH (UsePAM, keyboard-interactive),
# started on a high loopback port through a symlink so its PAM service is
# "sshd-tokenscope-test" (never /etc/pam.d/sshd), with pam_wrapper and a fake
# user from nss_wrapper. Client: python3-paramiko.
set -u
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/sshd.sh"
sshd_start sshd ""

out=$("$PY" "$TS_SRCDIR/tests/e2e/ssh_client.py" "$PORT" alice "$(tok good_corp_es256)")
accepted $? "sshd_keyboard_interactive_token_login"
echo "$out" | grep -q "^tokenscope-login-ok$" && echo "$out" | grep -q "^4242$"
ok $? "sshd_command_runs_as_alice ($(echo "$out" | tr '\n' ' '))"
"$PY" "$TS_SRCDIR/tests/e2e/ssh_client.py" "$PORT" alice "$(tok K1_partner_key_claims_corp_issuer)" >/dev/null 2>&1
refused $? "K1_sshd_forged_token_refused"
"$PY" "$TS_SRCDIR/tests/e2e/ssh_client.py" "$PORT" alice "$(tok C1_expired)" >/dev/null 2>&1
refused $? "C1_sshd_expired_token_refused"
"$PY" "$TS_SRCDIR/tests/e2e/ssh_client.py" "$PORT" alice "hunter2" >/dev/null 2>&1
refused $? "sshd_password_refused"
grep -q "Accepted keyboard-interactive/pam for alice" "$W/sshd.log"; ok $? "sshd_log_shows_accepted_login"
grep -q "Failed keyboard-interactive/pam for alice" "$W/sshd.log"; ok $? "sshd_log_shows_refusals"
finish
