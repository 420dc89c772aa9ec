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
if [ -z "${TS_QS_PRIVATE_DEV:-}" ]; then
	unshare --mount --propagation private true 2>/dev/null || skip_all "no mount namespace (unshare --mount failed)"
	TS_QS_PRIVATE_DEV=1 exec unshare --mount --propagation private sh "$0"
fi

e2e_dir quickstart
E="$W/etc"
mkdir -p "$E/pam.d" "$E/dovecot/conf.d" "$E/postfix" "$E/ssh/sshd_config.d" "$W/home" "$W/bin" \
	"$W/run" "$W/state" "$W/mail" "$W/spool" "$W/data" "$W/hostdev"
chmod 755 "$E" "$E"/* "$W/home"
chmod 1777 "$W/mail"
chown postfix "$W/data"

# a private /dev: the host's few device nodes a daemon needs, and a /dev/log
# of our own (the host's syslog, if any, never sees these lines)
mount --rbind /dev "$W/hostdev" && mount -t tmpfs -o mode=0755 tmpfs /dev ||
	skip_all "no private /dev (mount failed)"
for d in null zero random urandom full; do
	: >"/dev/$d" && mount --bind "$W/hostdev/$d" "/dev/$d"
done
umount -l "$W/hostdev" && rmdir "$W/hostdev"
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

if [ -n "${TS_E2E_INSTALLED:-}" ]; then
	QS=$(ls /usr/share/doc/tokenscope/README.Debian /usr/share/doc/tokenscope/README.Debian.gz 2>/dev/null | head -1)
	TS=/usr/bin/tokenscope MODSUB="" SASLENV=""
else
	QS="$TS_SRCDIR/doc/quickstart.md"
	TS="$TS_BUILDDIR/tools/tokenscope"
	MODSUB="/^\(auth\|account\) /s| pam_token.so | $PAM_MODULE |"
	SASLENV="SASL_PATH=$TS_BUILDDIR/sasl_token/.libs"
fi
[ -n "$QS" ] && [ -f "$QS" ]; ok $? "quickstart_text_found (${QS:-no README.Debian installed})"

IPORT=$(free_port)
SPORT=$(free_port)
DOVECOT_VERSION=$(/usr/sbin/dovecot --version | cut -d' ' -f1)
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
export HOME="$W/home" MAIL_CONFIG="$E/postfix" PATH="$W/bin:$PATH"
cp /etc/pam.d/sshd "$E/pam.d/sshd" 2>/dev/null || printf 'auth required pam_permit.so\n@include common-auth\n' >"$E/pam.d/sshd"
cp "$E/pam.d/sshd" "$W/sshd.stock"
echo "auth required pam_deny.so" >"$E/pam.d/other"
# Postfix as installed: the package's master.cf, and a main.cf for a config
# directory of its own (Debian's "No configuration" leaves none); its own
# smtp listener off, every other service unchrooted (the jail is this
# queue directory) so that only the quick start's own entry is chrooted
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=mx.example.com \
	-keyout "$W/tls.key" -out "$W/tls.crt" >/dev/null 2>&1
cat >"$E/postfix/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $W/spool
data_directory = $W/data
myhostname = mx.example.com
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
alias_maps =
alias_database =
smtpd_tls_cert_file = $W/tls.crt
smtpd_tls_key_file = $W/tls.key
import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C $SASLENV
cyrus_sasl_config_path = $E/postfix/sasl
maillog_file = $W/postfix.log
maillog_file_prefixes = $W
service_throttle_time = 1s
CF
cp /etc/postfix/master.cf "$E/postfix/master.cf"
sed -i 's/^smtp      inet/#&/' "$E/postfix/master.cf"
postconf -F '*/*/chroot = n' >/dev/null

# 1-5: issuer, configuration, tokens, Dovecot, Postfix, sshd as written
{
	echo "set -e"
	for b in qs-issuer qs-config qs-mint qs-dovecot-$DV qs-postfix qs-sshd; do
		echo "echo '### $b' >&2"
		block $b
	done
} >"$W/setup.sh"
(cd "$W/home" && sh "$W/setup.sh") >"$W/setup.out" 2>&1
rc=$?
[ $rc = 0 ] || sed 's/^/# /' "$W/setup.out" | tail -20
ok $rc "quickstart_setup_blocks_run_as_written (Dovecot $DV blocks)"
[ "$(grep -c '^result: *accepted' "$W/setup.out")" = 2 ] && ! grep -q "^result: *rejected" "$W/setup.out"
ok $? "quickstart_tokens_pass_tokenscope_verify"

# "systemctl restart dovecot postfix": the servers from E, on our ports
cat >"$W/auth-worker.sh" <<SH
#!/bin/sh
# pam_wrapper: PAM reads its service files from $E/pam.d, and modules'
# syslog lines reach /dev/log as without it
export LD_PRELOAD=$PAM_WRAPPER_LIB PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR=$E/pam.d PAM_WRAPPER_USE_SYSLOG=1
exec /usr/lib/dovecot/auth "\$@"
SH
chmod 755 "$W/auth-worker.sh"
if [ "$DV" = 2.3 ]; then
	cat >"$W/dovecot.conf" <<CONF
base_dir = $W/run
state_dir = $W/state
log_path = $W/dovecot.log
listen = 127.0.0.1
protocols = imap
ssl = no
mail_location = maildir:$W/mail/%u
passdb {
  driver = pam
}
userdb {
  driver = static
  args = uid=65534 gid=65534 home=$W/mail/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $IPORT
  }
  inet_listener imaps {
    port = 0
  }
}
service auth-worker {
  executable = $W/auth-worker.sh -w
  user = root
}
!include $E/dovecot/conf.d/99-tokenscope.conf
CONF
else
	cat >"$W/dovecot.conf" <<CONF
dovecot_config_version = 2.4.1
dovecot_storage_version = 2.4.1
base_dir = $W/run
state_dir = $W/state
log_path = $W/dovecot.log
listen = 127.0.0.1
protocols = imap
ssl = no
mail_driver = maildir
mail_path = $W/mail/%{user}
passdb pam {
}
userdb static {
  fields {
    uid = 65534
    gid = 65534
    home = $W/mail/%{user}
  }
}
service imap-login {
  inet_listener imap {
    listen = 127.0.0.1
    port = $IPORT
  }
  inet_listener imaps {
    port = 0
  }
}
service auth-worker {
  executable = $W/auth-worker.sh -w
  user = root
}
!include $E/dovecot/conf.d/99-tokenscope.conf
CONF
fi
/usr/sbin/dovecot -c "$W/dovecot.conf"
/usr/sbin/postfix -c "$E/postfix" start >"$W/postfix-start.out" 2>&1
stop() {
	/usr/sbin/postfix -c "$E/postfix" stop >/dev/null 2>&1
	[ -f "$W/run/master.pid" ] && kill "$(cat "$W/run/master.pid")" 2>/dev/null
	kill "$LOGGER" 2>/dev/null
	sleep 1
}
trap stop EXIT
wait_banner "$IPORT" "* OK"; ok $? "dovecot_${DOVECOT_VERSION}_started_on_127.0.0.1:$IPORT"
wait_banner "$SPORT" "220"; ok $? "postfix_submission_started_on_127.0.0.1:$SPORT ($(tail -1 "$W/postfix-start.out"))"

# 6: the first logins, as written (the tokens minted again, as a shell that
# ran the blocks in order would still hold them)
{
	echo "set -e"
	block qs-mint
	echo "echo '### qs-login' >&2"
	block qs-login
} >"$W/login.sh"
(cd "$W/home" && sh "$W/login.sh") >"$W/login.out" 2>&1
rc=$?
[ $rc = 0 ] || sed 's/^/# /' "$W/login.out" | tail -20
accepted $rc "quickstart_first_imap_and_smtp_logins"
grep -qE "(Login|Logged in): user=<alice>" "$W/dovecot.log"; ok $? "dovecot_log_shows_alice_logged_in"
grep -q "postfix/submission/smtpd.* disconnect from .* auth=1 " "$W/postfix.log" &&
	[ "$(postconf -c "$E/postfix" -Fh "127.0.0.1:$SPORT/inet/chroot")" = y ]
ok $? "postfix_log_shows_an_auth_in_the_chrooted_submission_smtpd"

# 7: the log the quick start names, read with its own command
sleep 1
(cd "$W/home" && block qs-logs | sh) >"$W/logs.out" 2>&1
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
