#!/bin/sh
# t_sshd_multipart.sh: a 3 KB token through real OpenSSH keyboard-interactive
# with pam_token.so's multipart option (P6). OpenSSH's own ssh client sends at
# most 1,023 bytes of an answer; driven by an SSH_ASKPASS program that gives
# the token in parts, it logs in. paramiko, which sends answers whole, logs in
# both ways. Set-up as t_sshd.sh (tests/e2e/sshd.sh).
set -u
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/sshd.sh"
command -v ssh >/dev/null || skip_all "openssh-client is not installed"
sshd_start sshd-multipart multipart
echo "# $(ssh -V 2>&1); python3-paramiko $("$PY" -c 'import paramiko; print(paramiko.__version__)')"

tok() { "$PY" -c "import json; print(json.load(open('$W/fresh.json'))['tokens']['$1'])"; }
long=$(tok long_good_corp_es256)
# the same token with one signature byte changed: a forgery of the same size
forged=$(echo "$long" | sed 's/.\(.\)$/\1/; s/\(.\)$/A\1/')
[ "$forged" = "$long" ] && forged=$(echo "$long" | sed 's/.\(.\)$/B\1/')

# ssh_parts TOKEN PART_LEN: OpenSSH's ssh, every prompt answered by
# askpass_parts.sh. Exit 0 logged in (the command's output on stdout), 1
# only when sshd refused the authentication, 2 anything else.
ssh_parts() {
	printf '%s' "$1" >"$W/token"
	chmod 600 "$W/token"
	rm -f "$W/askpass.state"
	TOKEN_FILE="$W/token" PART_LEN=$2 ASKPASS_STATE="$W/askpass.state" \
		SSH_ASKPASS="$TS_SRCDIR/tests/e2e/askpass_parts.sh" SSH_ASKPASS_REQUIRE=force \
		setsid -w ssh -F /dev/null -p "$PORT" -o StrictHostKeyChecking=no \
		-o UserKnownHostsFile=/dev/null -o PreferredAuthentications=keyboard-interactive \
		-o NumberOfPasswordPrompts=1 -o LogLevel=ERROR -o ConnectTimeout=20 \
		alice@127.0.0.1 'echo tokenscope-login-ok; id -u' </dev/null 2>"$W/ssh.err"
	_rc=$?
	[ $_rc = 0 ] && return 0
	grep -q "Permission denied (keyboard-interactive)" "$W/ssh.err" && return 1
	sed 's/^/# ssh: /' "$W/ssh.err"
	return 2
}
asked() { cat "$W/askpass.state"; }

out=$(ssh_parts "$long" 1023)
accepted $? "P6_ssh_keyboard_interactive_${#long}_byte_token_in_1023_byte_parts ($(asked) prompts)"
echo "$out" | grep -q "^tokenscope-login-ok$" && echo "$out" | grep -q "^4242$"
ok $? "P6_ssh_command_runs_as_alice"
out=$(ssh_parts "$long" 511)
accepted $? "P6_ssh_token_in_511_byte_parts ($(asked) prompts)"
# the whole token in one answer: ssh sends its first 1,023 bytes, the module
# asks for the next part, the empty answer ends it: refused as cut (M5)
ssh_parts "$long" 100000 >/dev/null
refused $? "P6_M5_ssh_whole_3KB_token_in_one_answer_is_cut_by_ssh_and_refused ($(asked) prompts)"
# 1,024-byte parts lose their last byte in ssh: 1,023 is the most it sends
ssh_parts "$long" 1024 >/dev/null
refused $? "P6_ssh_1024_byte_parts_arrive_cut_and_are_refused"
ssh_parts "$forged" 1023 >/dev/null
refused $? "P6_K1_ssh_forged_3KB_token_in_parts_refused"
ssh_parts "hunter2" 1023 >/dev/null
refused $? "P6_ssh_password_asked_once_and_refused ($(asked) prompt)"
[ "$(asked)" = 1 ]; ok $? "P6_ssh_password_asked_once"

client() { "$PY" "$TS_SRCDIR/tests/e2e/ssh_client.py" "$PORT" alice "$@"; }
client "$long" 1023 >/dev/null; accepted $? "P6_paramiko_3KB_token_in_1023_byte_parts"
client "$long" >/dev/null; accepted $? "P6_paramiko_3KB_token_whole_in_one_answer"
client "$(tok good_corp_es256)" >/dev/null
accepted $? "P6_paramiko_511_byte_token_repeated_at_the_next_part_prompt_logs_in"
client "$forged" 1023 >/dev/null 2>&1; refused $? "P6_K1_paramiko_forged_3KB_token_in_parts_refused"
client "$(tok C1_expired)" >/dev/null 2>&1; refused $? "P6_C1_paramiko_expired_token_refused"
grep -q "Accepted keyboard-interactive/pam for alice" "$W/sshd.log"; ok $? "sshd_log_shows_accepted_login"
v=$(echo "$long" | cut -c1100-1160)
! grep -qF "$v" "$W/sshd.log"; ok $? "M3_sshd_log_never_holds_a_token_part"
finish
