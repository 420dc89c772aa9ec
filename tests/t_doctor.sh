#!/bin/sh
# t_doctor.sh: `tokenscope doctor` (D1-D6) against consumer configurations
# in a scratch directory, read through the consumers' real tools (doveconf,
# postconf, sshd -T): each trap is named with its evidence and exit status,
# and the fixed configuration gives no finding. A case whose tool is not
# installed is skipped with the reason.
set -u
: "${TS_BUILDDIR:?}" "${TS_SRCDIR:?}" "${TS_FIXTURES:?}"
TS="$TS_BUILDDIR/tools/tokenscope"
PY=/usr/bin/python3
n=0
failed=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }

# D5 asks whether the consumers' users can read the files: the scratch tree
# must be reachable by them, which a package build's tree under a 0700
# directory is not; a directory of our own under /tmp then
T="$TS_BUILDDIR/tests/tmp/doctor"
rm -rf "$T" && mkdir -p "$T" && chmod 755 "$T"
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1 && ! runuser -u nobody -- test -x "$T" 2>/dev/null; then
	T=$(mktemp -d /tmp/ts-doctor-XXXXXX) && chmod 755 "$T" || exit 1
	trap 'rm -rf "$T"' EXIT
fi
cp "$TS_FIXTURES/keys/p256.pub.pem" "$T/" && chmod 644 "$T/p256.pub.pem"

# policy SERVICE...: a tokenscope.conf with one issuer and these services
policy() {
	{
		printf '[global]\nclock_skew = 60\n\n[issuer corp]\n'
		printf 'issuer = https://sso.example.com/realms/corp\nalgorithms = ES256\n'
		printf 'key = p256.pub.pem kid=corp-1\nmax_lifetime = 3600\n'
		for s in "$@"; do printf '\n[service %s]\nissuers = corp\naudiences = x\n' "$s"; done
	} >"$T/tokenscope.conf"
	chmod 644 "$T/tokenscope.conf"
}
# fresh: an empty consumer tree (nothing under $T/root: no default path
# of the host is ever read)
fresh() { rm -rf "$T/pam.d" "$T/pf" "$T/ssh" "$T/dovecot.conf"; mkdir -p "$T/pam.d" "$T/pf/sasl" "$T/ssh"; }
# doctor [ARGS]: the command on the scratch tree; output in $out, status in $rc
doctor() {
	out=$("$TS" doctor -c "$T/tokenscope.conf" --root "$T/root" --pam-dir "$T/pam.d" "$@" 2>&1)
	rc=$?
}
# expect NAME RC ID EVIDENCE: the status, the finding and its evidence
expect() {
	if [ "$rc" = "$2" ] && printf '%s\n' "$out" | grep -q "^$3: " &&
		printf '%s\n' "$out" | grep "evidence:" | grep -qF -- "$4"; then
		ok 0 "$1"
	else
		ok 1 "$1 (exit $rc)"
		printf '%s\n' "$out" | sed 's/^/# /'
	fi
}
# clean NAME: exit 0 and nothing found
clean() {
	if [ "$rc" = 0 ] && printf '%s\n' "$out" | grep -q "nothing found"; then ok 0 "$1"; else
		ok 1 "$1 (exit $rc)"
		printf '%s\n' "$out" | sed 's/^/# /'
	fi
}
pam_stack() { printf '%s\n' "$@" >"$T/pam.d/$PAMSVC"; }

# --- PAM: D4 bypass, D3 passthrough, D6 services ---------------------------
policy dovecot
fresh
PAMSVC=dovecot
pam_stack "auth sufficient pam_unix.so" "auth required pam_token.so" "account required pam_token.so"
doctor
expect D4_doctor_sufficient_module_before_pam_token_named 1 D4_pam_token_bypassed "$T/pam.d/dovecot:1: auth sufficient pam_unix.so"
pam_stack "auth [success=2 default=ignore] pam_unix.so" "auth required pam_token.so" "auth required pam_permit.so"
doctor
expect D4_doctor_jump_over_pam_token_named 1 D4_pam_token_bypassed "$T/pam.d/dovecot:1: auth [success=2 default=ignore]"
printf 'auth sufficient pam_unix.so\n' >"$T/pam.d/common-auth"
pam_stack "@include common-auth" "auth required pam_token.so"
doctor
expect D4_doctor_included_sufficient_module_named 1 D4_pam_token_bypassed "$T/pam.d/common-auth:1: auth sufficient pam_unix.so"
rm "$T/pam.d/common-auth"
pam_stack "auth required pam_token.so" "account required pam_token.so"
doctor
clean D4_doctor_pam_token_first_nothing_found
pam_stack "auth [success=done ignore=ignore default=die] pam_token.so passthrough" "auth required pam_unix.so"
doctor
expect D3_doctor_passthrough_before_password_module_named 1 D3_pam_passthrough_cut_token "$T/pam.d/dovecot:1: passthrough; then $T/pam.d/dovecot:2: auth required pam_unix.so"
pam_stack "auth required pam_token.so service=nosuch"
doctor
expect D6_doctor_service_missing_from_the_policy_named 1 D6_service_not_in_policy "no [service nosuch]"
printf '%s\n' "$out" | grep -q "^D6_service_unused: " && printf '%s\n' "$out" | grep -qF "[service dovecot]"
ok $? "D6_doctor_policy_service_no_consumer_applies_named"

# --- the output: --json, exit 3, nothing changed ---------------------------
pam_stack "auth sufficient pam_unix.so" "auth required pam_token.so"
doctor --json
printf '%s' "$out" | "$PY" -c '
import json, sys
d = json.load(sys.stdin)
f = d["findings"]
assert d["status"] == 1 and d["warnings"] == 1 and d["traps"] == 0, d
assert f[0]["id"] == "D4_pam_token_bypassed" and f[0]["severity"] == "warning", f
assert all(f[0][k] for k in ("what", "evidence", "fix")), f'
ok $? "doctor_json_one_document_with_status_and_findings (exit $rc)"
[ "$rc" = 1 ]; ok $? "doctor_json_exit_status_as_the_text_one"
doctor --no-such-option
[ "$rc" = 3 ]; ok $? "doctor_usage_error_exits_3_not_2 (exit $rc)"
"$TS" doctor -c "$T/missing.conf" --root "$T/root" --pam-dir "$T/pam.d" >/dev/null 2>&1
[ $? = 3 ]; ok $? "doctor_unloadable_configuration_exits_3"

# --- Dovecot: D1 auth cache, D2 passwords in the log -----------------------
if command -v doveconf >/dev/null 2>&1; then
	VER=$(doveconf -c /dev/null -n 2>/dev/null | sed -n '1s/^# \([0-9.]*\).*/\1/p')
	[ -n "$VER" ] || VER=$(dovecot --version 2>/dev/null | cut -d' ' -f1)
	# dovecot_conf EXTRA: passdb pam (service dovecot) in the version's syntax
	dovecot_conf() {
		case "$VER" in
		2.3.*) printf 'base_dir = %s/run\n%s\npassdb {\n  driver = pam\n  args = cache_key=%%u%%w dovecot\n}\nuserdb {\n  driver = static\n  args = uid=65534 gid=65534 home=/nonexistent\n}\n' "$T" "$1" ;;
		*) printf 'dovecot_config_version = 2.4.1\ndovecot_storage_version = 2.4.1\nbase_dir = %s/run\n%s\npassdb pam {\n  service_name = dovecot\n}\nuserdb static {\n  fields {\n    uid = 65534\n    gid = 65534\n    home = /nonexistent\n  }\n}\n' "$T" "$1" ;;
		esac >"$T/dovecot.conf"
	}
	pam_stack "auth required pam_token.so" "account required pam_token.so"
	dovecot_conf "auth_cache_size = 1M"
	doctor --dovecot-config "$T/dovecot.conf"
	expect "D1_doctor_dovecot_${VER}_auth_cache_on_a_token_passdb_is_a_trap" 2 D1_dovecot_auth_cache "auth_cache_ttl = 1 hour (default); passdb driver = pam"
	printf '%s\n' "$out" | grep -qF "(PAM service dovecot: pam_token.so at $T/pam.d/dovecot:1); tokenscope clock_skew = 60 s, longest token lifetime allowed = 3600 s"
	ok $? "D1_doctor_evidence_names_the_stack_the_skew_and_the_longest_lifetime"
	dovecot_conf "auth_cache_size = 1M
auth_cache_ttl = 60 s"
	doctor --dovecot-config "$T/dovecot.conf"
	clean "D1_doctor_dovecot_cache_ttl_within_the_clock_skew_nothing_found"
	dovecot_conf "auth_cache_size = 0"
	doctor --dovecot-config "$T/dovecot.conf"
	clean "D1_doctor_dovecot_cache_off_nothing_found"
	dovecot_conf "auth_verbose_passwords = plain"
	doctor --dovecot-config "$T/dovecot.conf"
	expect D2_doctor_dovecot_verbose_passwords_named 1 D2_dovecot_logs_tokens "auth_verbose_passwords = plain"
	dovecot_conf "auth_debug_passwords = yes"
	doctor --dovecot-config "$T/dovecot.conf"
	expect D2_doctor_dovecot_debug_passwords_named 1 D2_dovecot_logs_tokens "auth_debug_passwords = yes"
	dovecot_conf "auth_verbose_passwords = no"
	doctor --dovecot-config "$T/dovecot.conf"
	clean D2_doctor_dovecot_no_passwords_logged_nothing_found
	if id dovecot >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
		dovecot_conf "service auth-worker {
  user = dovecot
}"
		chmod 600 "$T/tokenscope.conf"
		doctor --dovecot-config "$T/dovecot.conf"
		chmod 644 "$T/tokenscope.conf"
		expect D5_doctor_config_dovecot_auth_worker_cannot_read_named 1 D5_files_unreadable_by_consumer "Dovecot's auth worker runs as dovecot (doveconf -n -c $T/dovecot.conf: service auth-worker { user = dovecot }); $T/tokenscope.conf cannot be read by it"
		doctor --dovecot-config "$T/dovecot.conf"
		clean D5_doctor_config_readable_by_the_auth_worker_nothing_found
	else
		skip D5_doctor_dovecot_auth_worker "no dovecot user, or not root"
	fi
	printf 'this is { not dovecot\n' >"$T/dovecot.conf"
	doctor --dovecot-config "$T/dovecot.conf"
	expect D6_doctor_dovecot_config_doveconf_refuses_named 1 D6_consumer_unreadable "doveconf -n -c $T/dovecot.conf:"
else
	skip D1_doctor_dovecot "doveconf is not installed (dovecot-core)"
fi

# --- Postfix: D3 line_length_limit, D5 chroot -------------------------------
if command -v postconf >/dev/null 2>&1; then
	policy smtp
	fresh
	# postfix_conf CHROOT [MAIN...]: smtpd with SASL through tokenscope's plugin
	postfix_conf() {
		chroot=$1
		shift
		printf '%s\n' "compatibility_level = 3.6" "smtpd_sasl_auth_enable = yes" "$@" >"$T/pf/main.cf"
		printf 'smtp      inet  n       -       %s       -       -       smtpd\n' "$chroot" >"$T/pf/master.cf"
		printf 'mech_list: OAUTHBEARER XOAUTH2\ntoken_config: %s\n' "$T/tokenscope.conf" >"$T/pf/sasl/smtpd.conf"
	}
	postfix_conf n
	doctor --postfix-config-dir "$T/pf"
	expect D3_doctor_postfix_default_line_length_limit_named 1 D3_postfix_line_length_limit "line_length_limit = 2048; max_token_size = 8192 needs"
	postfix_conf n "line_length_limit = 16384"
	doctor --postfix-config-dir "$T/pf"
	clean D3_doctor_postfix_line_length_limit_raised_nothing_found
	postfix_conf y "line_length_limit = 16384"
	doctor --postfix-config-dir "$T/pf"
	# K13: the plugin's reload reaches a chrooted smtpd
	clean D5_doctor_postfix_chrooted_smtpd_with_the_plugin_nothing_found
	postfix_conf y "line_length_limit = 16384" "smtpd_sasl_auth_enable = no"
	doctor --postfix-config-dir "$T/pf"
	expect D6_doctor_postfix_without_sasl_leaves_the_smtp_service_unused 1 D6_service_unused "[service smtp]"
	if id postfix >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
		postfix_conf n "line_length_limit = 16384"
		chmod 600 "$T/p256.pub.pem"
		doctor --postfix-config-dir "$T/pf"
		expect D5_doctor_key_file_postfix_smtpd_cannot_read_named 1 D5_files_unreadable_by_consumer "Postfix smtpd runs as postfix (postconf: mail_owner = postfix); $T/p256.pub.pem cannot be read by it"
		chmod 644 "$T/p256.pub.pem"
		doctor --postfix-config-dir "$T/pf"
		clean D5_doctor_key_files_readable_by_postfix_nothing_found
	else
		skip D5_doctor_key_file_postfix_smtpd_cannot_read "no postfix user, or not root"
	fi
	postfix_conf y "line_length_limit = 16384"
	printf 'mech_list: PLAIN LOGIN\n' >"$T/pf/sasl/smtpd.conf"
	policy
	doctor --postfix-config-dir "$T/pf"
	clean D5_doctor_postfix_chroot_without_the_plugin_nothing_found
else
	skip D5_doctor_postfix "postconf is not installed (postfix)"
fi

# --- sshd: D3 keyboard-interactive off --------------------------------------
if [ -x /usr/sbin/sshd ] && [ "$(id -u)" = 0 ]; then
	# sshd -T wants its privilege separation directory, which systemd's
	# tmpfiles makes at boot and a fresh root (CI) has not (t_sshd.sh makes
	# it too)
	mkdir -p /run/sshd
	policy sshd
	fresh
	ssh-keygen -q -t ed25519 -N '' -f "$T/ssh/host_key" >/dev/null
	PAMSVC=sshd
	pam_stack "auth required pam_token.so" "account required pam_token.so"
	printf 'HostKey %s/ssh/host_key\nUsePAM yes\nKbdInteractiveAuthentication no\n' "$T" >"$T/ssh/sshd_config"
	doctor --sshd-config "$T/ssh/sshd_config"
	expect D3_doctor_sshd_keyboard_interactive_off_named 1 D3_sshd_no_keyboard_interactive "usepam yes, kbdinteractiveauthentication no; pam_token.so at $T/pam.d/sshd:1"
	printf 'HostKey %s/ssh/host_key\nUsePAM yes\nKbdInteractiveAuthentication yes\n' "$T" >"$T/ssh/sshd_config"
	doctor --sshd-config "$T/ssh/sshd_config"
	clean D3_doctor_sshd_keyboard_interactive_on_nothing_found
else
	skip D3_doctor_sshd "sshd -T needs openssh-server and root"
fi

# the doctor only reads: the scratch tree is unchanged after all the runs
before=$(find "$T" -type f -newer "$T/tokenscope.conf" ! -path "$T/ssh/*" | wc -l)
doctor --dovecot-config "$T/dovecot.conf" --postfix-config-dir "$T/pf" --sshd-config "$T/ssh/sshd_config"
after=$(find "$T" -type f -newer "$T/tokenscope.conf" ! -path "$T/ssh/*" | wc -l)
[ "$before" = "$after" ] && [ ! -e "$T/root" ]
ok $? "doctor_changes_nothing_and_reads_no_default_path_under_root"
echo "1..$n"
exit $failed
