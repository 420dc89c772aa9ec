# sshd.sh: OpenSSH's sshd with pam_token.so for keyboard-interactive logins
# (sourced after common.sh), started on a high loopback port through a
# symlink so its PAM service is "sshd-tokenscope-test" (never
# /etc/pam.d/sshd), with pam_wrapper and a fake user alice (uid 4242) from
# nss_wrapper. sshd_start NAME OPTIONS: the scratch directory NAME, the auth
# line's extra module OPTIONS; sets W and PORT, stops sshd at exit.
sshd_start() {
	_name=$1 _opts=$2
	SSHD=/usr/sbin/sshd
	[ -x "$SSHD" ] || skip_all "openssh-server is not installed (scripts/deps.sh test installs it)"
	[ -f "$PAM_WRAPPER_LIB" ] && [ -f "$NSS_WRAPPER_LIB" ] || skip_all "pam_wrapper/nss_wrapper missing"
	"$PY" -c "import paramiko" 2>/dev/null || skip_all "python3-paramiko missing"

	e2e_dir "$_name"
	policy_in "$W"
	# the PAM service of this sshd is the name it runs as
	sed -i 's/^\[service dovecot\]$/[service sshd-tokenscope-test]/' "$W/tokenscope.conf"
	mkdir -p "$W/pam.d" "$W/home/alice" /run/sshd
	chown 4242:4242 "$W/home/alice"
	if [ -n "${TS_E2E_INSTALLED:-}" ]; then
		# the installed module by name, from a uniquely named /etc/pam.d file
		PAMDIR=/etc/pam.d MODULE=pam_token.so PRELOAD="$NSS_WRAPPER_LIB"
		[ -e "$PAMDIR/sshd-tokenscope-test" ] && skip_all "$PAMDIR/sshd-tokenscope-test exists: not ours"
	else
		PAMDIR=$W/pam.d MODULE=$PAM_MODULE PRELOAD="$PAM_WRAPPER_LIB $NSS_WRAPPER_LIB"
		echo "auth required pam_deny.so" >"$W/pam.d/other"
	fi
	cat >"$PAMDIR/sshd-tokenscope-test" <<PAM
auth     required $MODULE config=$W/tokenscope.conf prompt=Token: $_opts
account  required $MODULE config=$W/tokenscope.conf
session  required pam_permit.so
password required pam_deny.so
PAM
	sshd_user=$(getent passwd sshd || echo "sshd:x:101:65534::/run/sshd:/usr/sbin/nologin")
	cat >"$W/passwd" <<PW
root:x:0:0:root:/root:/bin/sh
$sshd_user
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
alice:x:4242:4242:Alice:$W/home/alice:/bin/sh
PW
	cat >"$W/group" <<GR
root:x:0:
nogroup:x:65534:
alice:x:4242:
GR
	ssh-keygen -q -t ed25519 -N "" -f "$W/hostkey"
	ln -s "$SSHD" "$W/sshd-tokenscope-test"
	PORT=$(free_port)
	cat >"$W/sshd_config" <<CONF
Port $PORT
ListenAddress 127.0.0.1
HostKey $W/hostkey
PidFile $W/sshd.pid
UsePAM yes
KbdInteractiveAuthentication yes
PasswordAuthentication no
PubkeyAuthentication no
PermitRootLogin no
StrictModes no
LogLevel VERBOSE
CONF
	# OpenSSH 9.8 and later (Debian 13 has 10.0) run each connection in a separate
	# sshd-session (and sshd-auth) program: the PAM service is no longer the name
	# sshd was started as but PAMServiceName, and failed logins earn the source
	# address a penalty that would drop the next test's connection.
	for opt in "PAMServiceName sshd-tokenscope-test" "PerSourcePenalties no"; do
		cp "$W/sshd_config" "$W/sshd_config.try"
		echo "$opt" >>"$W/sshd_config.try"
		"$W/sshd-tokenscope-test" -t -f "$W/sshd_config.try" 2>/dev/null && echo "$opt" >>"$W/sshd_config"
	done
	rm -f "$W/sshd_config.try"
	LD_PRELOAD="$PRELOAD" PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$W/pam.d" \
		NSS_WRAPPER_PASSWD="$W/passwd" NSS_WRAPPER_GROUP="$W/group" \
		"$W/sshd-tokenscope-test" -f "$W/sshd_config" -D -e -E "$W/sshd.log" &
	sshd_pid=$!
	stop() {
		kill "$sshd_pid" 2>/dev/null
		wait "$sshd_pid" 2>/dev/null
		[ "$PAMDIR" = /etc/pam.d ] && rm -f "$PAMDIR/sshd-tokenscope-test"
	}
	trap stop EXIT
	wait_banner "$PORT" "SSH-2.0"
	ok $? "sshd_started_on_127.0.0.1:$PORT"
}
