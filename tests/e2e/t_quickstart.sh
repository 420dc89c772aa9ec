#!/bin/sh
# t_quickstart.sh: runs the quick start's commands as written and reaches
# what it promises: a first IMAP login (Dovecot, pam_token.so), a first SMTP
# login (Postfix submission, the SASL plugin, smtpd chrooted as in the text),
# and an accept line for each in the log the quick start names.
#
# The commands are the "```sh qs-NAME" blocks of the quick start itself: the
# installed /usr/share/doc/tokenscope/README.Debian when TS_E2E_INSTALLED is
# set (packaging/test-installed.sh), doc/quickstart.md of the source tree
# otherwise. Nothing is copied from it into this file.
#
# The machine is left as it was. Each block is run after these substitutions
# of the defaults the text gives, and nothing else:
#   /etc/tokenscope /etc/dovecot /etc/pam.d /etc/postfix /etc/ssh
#                            -> the same names under a scratch directory E
#   /var/log/auth.log        -> the scratch file a private /dev/log writes
#                               (authpriv lines only, as rsyslog's auth.log)
#   127.0.0.1:143, :587      -> ports on 127.0.0.1 this test chose
#   "submission inet"        -> "127.0.0.1:PORT inet" (the same listener, on
#                               that port)
#   from the build tree only: pam_token.so -> the module's absolute path
#                               (in the PAM lines the blocks write)
# and in this environment: HOME (the "~" of the issuer's directory) in the
# scratch directory, MAIL_CONFIG=E/postfix (postconf -e edits that main.cf),
# and a `tokenscope` in PATH that adds "-c E/tokenscope/tokenscope.conf" to
# the commands that read the default configuration. "systemctl restart" is
# this test starting Dovecot and Postfix from E (base directory, listener,
# static userdb and pam_wrapper are this test's, the rest is the block's).
# Everything runs in a mount namespace of its own whose /dev is private, so
# its /dev/log is this test's and never the host's.
set -u
. "$(dirname "$0")/common.sh"
command -v curl >/dev/null || skip_all "curl is not installed (scripts/deps.sh test installs it)"
[ -x /usr/sbin/dovecot ] && [ -x /usr/lib/dovecot/imap ] && [ -x /usr/sbin/postfix ] ||
	skip_all "dovecot-imapd or postfix is not installed (scripts/deps.sh test installs them)"
[ -f "$PAM_WRAPPER_LIB" ] || skip_all "libpam-wrapper is not installed"
# Inside a chroot (CI's fresh roots) "/" is no mount point and unshare cannot
# make it private: the namespace then keeps the propagation it inherits and
# makes its /dev private itself, before the only mount it makes (on /dev)
if [ -z "${TS_QS_PRIVATE_DEV:-}" ]; then
	if unshare --mount --propagation private true 2>/dev/null; then
		TS_QS_PRIVATE_DEV=private exec unshare --mount --propagation private sh "$0"
	elif unshare --mount --propagation unchanged sh -c 'mount --make-rprivate /dev' 2>/dev/null; then
		TS_QS_PRIVATE_DEV=dev exec unshare --mount --propagation unchanged sh "$0"
	fi
	skip_all "no mount namespace (unshare --mount failed)"
fi
[ "$TS_QS_PRIVATE_DEV" = private ] || mount --make-rprivate /dev || skip_all "no private /dev"

e2e_dir quickstart
E="$W/etc"
mkdir -p "$E/pam.d" "$E/dovecot/conf.d" "$E/postfix" "$E/ssh/sshd_config.d" "$W/root" "$W/bin"
chmod 755 "$E" "$E"/* "$W/root"

# a private /dev: the host's few device nodes a daemon needs, and a /dev/log
# of our own (the host's syslog, if any, never sees these lines)
mount -t tmpfs -o mode=0755 tmpfs /dev || skip_all "no private /dev (mount failed)"
mknod -m 666 /dev/null c 1 3 && mknod -m 666 /dev/zero c 1 5 && mknod -m 666 /dev/full c 1 7 &&
	mknod -m 666 /dev/random c 1 8 && mknod -m 666 /dev/urandom c 1 9 ||
	skip_all "no device nodes in the private /dev (mknod failed)"
"$PY" - "$W/auth.log" <<'PYEOF' &
# authpriv (facility 10) lines, as rsyslog's /var/log/auth.log keeps them
import os, re, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
os.chmod("/dev/log", 0o666)
out = open(sys.argv[1], "a", buffering=1)
while True:
    m = re.match(rb"<(\d+)>(.*)", s.recv(65536), re.S)
    if m and int(m.group(1)) >> 3 == 10:
        out.write(m.group(2).decode("utf-8", "replace").rstrip("\n") + "\n")
PYEOF
LOGGER=$!
at_exit 'kill "$LOGGER" 2>/dev/null'

if [ -n "${TS_E2E_INSTALLED:-}" ]; then
	QS=$(ls /usr/share/doc/tokenscope/README.Debian /usr/share/doc/tokenscope/README.Debian.gz 2>/dev/null | head -1)
	TS=/usr/bin/tokenscope MODSUB=""
else
	QS="$TS_SRCDIR/doc/quickstart.md"
	TS="$TS_BUILDDIR/tools/tokenscope"
	MODSUB="/^\(auth\|account\) /s| pam_token.so | $PAM_MODULE |"
fi
[ -n "$QS" ] && [ -f "$QS" ]; ok $? "quickstart_text_found (${QS:-no README.Debian installed})"

IPORT=$(free_port)
SPORT=$(free_port)
dovecot_dirs
case "$DOVECOT_VERSION" in 2.3.*) DV=2.3 ;; *) DV=2.4 ;; esac
# block NAME: the commands of the quick start's "```sh NAME" block, with the
# substitutions above
block() {
	zcat -f "$QS" | awk -v open="\`\`\`sh $1" '$0 == open { on = 1; next } on && $0 == "```" { exit } on { print }' |
		sed -e "s|/etc/tokenscope|$E/tokenscope|g" -e "s|/etc/dovecot|$E/dovecot|g" \
			-e "s|/etc/pam.d|$E/pam.d|g" -e "s|/etc/postfix|$E/postfix|g" -e "s|/etc/ssh|$E/ssh|g" \
			-e "s|/var/log/auth.log|$W/auth.log|g" -e "s|127.0.0.1:143/|127.0.0.1:$IPORT/|g" \
			-e "s|127.0.0.1:587\"|127.0.0.1:$SPORT\"|g" -e "s|^submission inet|127.0.0.1:$SPORT inet|" \
			${MODSUB:+-e "$MODSUB"}
}
missing=""
for b in qs-issuer qs-config qs-mint qs-dovecot-$DV qs-postfix qs-login qs-logs qs-sshd; do
	[ -n "$(block $b)" ] || missing="$missing $b"
done
[ -z "$missing" ]; ok $? "quickstart_has_every_block${missing:+ (missing:$missing)}"

# the environment the text assumes: a root shell with tokenscope in PATH
cat >"$W/bin/tokenscope" <<SH
#!/bin/sh
# the quick start's tokenscope, reading E's configuration by default
sub=\$1; shift
case "\$sub" in
check-config | keys | verify | explain) exec "$TS" "\$sub" -c "$E/tokenscope/tokenscope.conf" "\$@" ;;
*) exec "$TS" "\$sub" "\$@" ;;
esac
SH
chmod 755 "$W/bin/tokenscope"
export HOME="$W/root" MAIL_CONFIG="$E/postfix" PATH="$W/bin:$PATH"
cp /etc/pam.d/sshd "$E/pam.d/sshd" 2>/dev/null || printf 'auth required pam_permit.so\n@include common-auth\n' >"$E/pam.d/sshd"
cp "$E/pam.d/sshd" "$W/sshd.stock"
echo "auth required pam_deny.so" >"$E/pam.d/other"
# Postfix as installed: the package's master.cf, and a main.cf for a config
# directory of its own (Debian's "No configuration" leaves none); its own
# smtp listener off, every other service unchrooted (the jail is this
# queue directory) so that only the quick start's own entry is chrooted
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=mx.example.com \
	-keyout "$W/tls.key" -out "$W/tls.crt" >/dev/null 2>&1
postfix_base "$E/postfix" -
cat >>"$E/postfix/main.cf" <<CF
smtpd_tls_cert_file = $W/tls.crt
smtpd_tls_key_file = $W/tls.key
CF
postfix_cyrus

# 1-5: issuer, configuration, tokens, Dovecot, Postfix, sshd as written
{
	echo "set -e"
	for b in qs-issuer qs-config qs-mint qs-dovecot-$DV qs-postfix qs-sshd; do
		echo "echo '### $b' >&2"
		block $b
	done
} >"$W/setup.sh"
(cd "$W/root" && sh "$W/setup.sh") >"$W/setup.out" 2>&1
rc=$?
[ $rc = 0 ] || sed 's/^/# /' "$W/setup.out" | tail -20
ok $rc "quickstart_setup_blocks_run_as_written (Dovecot $DV blocks)"
[ "$(grep -c '^result: *accepted' "$W/setup.out")" = 2 ] && ! grep -q "^result: *rejected" "$W/setup.out"
ok $? "quickstart_tokens_pass_tokenscope_verify"

# "systemctl restart dovecot postfix": the servers from E, on our ports.
# pam_wrapper: PAM reads its service files from $E/pam.d, and modules'
# syslog lines reach /dev/log as without it; passdb pam as Debian's stock
# config has it (service dovecot); the rest is the block's conf.d file
dovecot_worker "$E/pam.d" PAM_WRAPPER_USE_SYSLOG=1
SERVICE=dovecot
dovecot_base "$IPORT" "$(dovecot_pam_passdb)
!include $E/dovecot/conf.d/99-tokenscope.conf"
dovecot_start
at_exit dovecot_halt
wait_banner "$IPORT" "* OK"; ok $? "dovecot_${DOVECOT_VERSION}_started_on_127.0.0.1:$IPORT"
postfix_start postfix_submission

# 6: the first logins, as written (the tokens minted again, as a shell that
# ran the blocks in order would still hold them)
{
	echo "set -e"
	block qs-mint
	echo "echo '### qs-login' >&2"
	block qs-login
} >"$W/login.sh"
(cd "$W/root" && sh "$W/login.sh") >"$W/login.out" 2>&1
rc=$?
[ $rc = 0 ] || sed 's/^/# /' "$W/login.out" | tail -20
accepted $rc "quickstart_first_imap_and_smtp_logins"
grep -qE "(Login|Logged in): user=<alice>" "$W/dovecot.log"; ok $? "dovecot_log_shows_alice_logged_in"
grep -q "postfix/submission/smtpd.* disconnect from .* auth=1 " "$W/postfix.log" &&
	[ "$(postconf -c "$E/postfix" -Fh "127.0.0.1:$SPORT/inet/chroot")" = y ]
ok $? "postfix_log_shows_an_auth_in_the_chrooted_submission_smtpd"

# 7: the log the quick start names, read with its own command
sleep 1
(cd "$W/root" && block qs-logs | sh) >"$W/logs.out" 2>&1
sed 's/^/# /' "$W/logs.out"
grep -q "tokenscope: result=accept reason=ok service=dovecot .* user=alice" "$W/logs.out"
ok $? "quickstart_log_command_shows_the_imap_accept"
# the SASL plugin copies its decisions to authpriv itself (M9): Postfix
# drops the SASL log level of accepts
grep -q "tokenscope: result=accept reason=ok service=smtp .* user=alice" "$W/logs.out"
ok $? "M9_quickstart_log_command_shows_the_smtp_accept"
! grep -rqE "eyJ[A-Za-z0-9_-]{20,}\.eyJ" "$W/auth.log" "$W/dovecot.log" "$W/postfix.log"
ok $? "M3_quickstart_logs_never_hold_a_token"

# 8: sshd: one line inserted above the stock file's first "@include
# common-auth", the rest of the file untouched
diff "$W/sshd.stock" "$E/pam.d/sshd" >"$W/sshd.diff"
[ "$(grep -c '^[<>]' "$W/sshd.diff")" = 1 ] &&
	grep -q "^> auth \[success=done ignore=ignore default=die\] pam_token.so passthrough" "$W/sshd.diff" &&
	grep -A1 "pam_token.so" "$E/pam.d/sshd" | tail -1 | grep -q "^@include common-auth"
ok $? "quickstart_sshd_line_inserted_stock_file_otherwise_untouched"
finish
