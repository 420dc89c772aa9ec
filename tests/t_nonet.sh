#!/bin/sh
# t_nonet.sh: K9. Decisions on tokens whose headers carry jku, x5u, x5c and an
# embedded jwk, through the CLI, a full PAM authentication (pam_token.so via
# Linux-PAM) and a full SASL authentication (libtoken.so via libsasl2), run
# under strace (and, as root, in a network namespace of their own with
# unshare -n): no network socket is ever created (only libpam's own AF_UNIX
# syslog socket to /dev/log and its AF_NETLINK audit socket may appear), and
# no file is opened but the configured ones, shared libraries and the few
# system files listed here. K14: a refusal for a kid the issuer does not have
# leaves its fetch request in the spool, still without a socket.
set -u
: "${TS_BUILDDIR:?}" "${TS_SRCDIR:?}" "${TS_FIXTURES:?}"
command -v strace >/dev/null || { echo "1..0 # SKIP strace missing"; exit 0; }
[ -z "${TS_SANITIZERS:-}" ] || { echo "1..0 # SKIP sanitizer runtimes open extra files"; exit 0; }
PY=/usr/bin/python3
n=0 failed=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi; }
dir="$TS_BUILDDIR/tests/tmp/nonet"
rm -rf "$dir" && mkdir -p "$dir/pam.d" && chmod 755 "$dir"
for k in p256 rsa2048 p384 rsa3072 ed448 partner_p256 partner_rsa2048 ed25519; do
	cp "$TS_FIXTURES/keys/$k.pub.pem" "$dir/" && chmod 644 "$dir/$k.pub.pem"
done
cp "$TS_SRCDIR/tests/policy.conf" "$dir/tokenscope.conf" && chmod 644 "$dir/tokenscope.conf"
cp "$TS_SRCDIR/tests/policy-users.map" "$dir/" && chmod 644 "$dir/policy-users.map"
"$PY" -c "import json; print(json.load(open('$TS_FIXTURES/tokens.json'))['thumbprints']['ed448'])" >"$dir/revoked-keys"
"$PY" "$TS_SRCDIR/tests/mint_now.py" "$TS_FIXTURES" >"$dir/fresh.json"
tok() { "$PY" -c "import json; print(json.load(open('$dir/fresh.json'))['tokens']['$1'])"; }
m="$TS_BUILDDIR/pam_token/.libs/pam_token.so"
printf 'auth required %s config=%s/tokenscope.conf\naccount required %s config=%s/tokenscope.conf\n' \
	"$m" "$dir" "$m" "$dir" >"$dir/pam.d/dovecot"
NS=""
if [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null; then NS="unshare -n"; fi

# traced RESULT NAME CMD...: runs CMD (token on stdin) under strace; checks the
# exit status, that no socket/connect happened and which files were opened
traced() {
	want=$1 name=$2 token=$3
	shift 3
	printf '%s' "$token" | $NS strace -f -qq -e trace=socket,connect,openat,open -o "$dir/$name.trace" "$@" >"$dir/$name.out" 2>&1
	rc=$?
	ok $((rc != want)) "$name: decision as expected (exit $rc)"
	! grep -E "^[0-9]+ +socket\(" "$dir/$name.trace" | grep -qvE "socket\((AF_UNIX|AF_NETLINK), "
	ok $? "K9_$name: no network socket created$([ -n "$NS" ] && echo ', in its own network namespace')"
	! grep -E "^[0-9]+ +connect\(" "$dir/$name.trace" | grep -qv 'sun_path="/dev/log"'
	ok $? "K9_$name: no connection but syslog's /dev/log"
	# K13: the configured files' directories are held as O_PATH
	# descriptors (/etc for /etc/passwd, C11); ^rot$ is the K14 spool
	# entry, made by openat relative to the spool
	grep -vE "ENOENT|ENOTDIR" "$dir/$name.trace" | grep -vE "\"($dir|/etc)\", [A-Z_|]*O_PATH[A-Z_|]*\)" | sed -n 's/.*open[a-z]*([^"]*"\([^"]*\)".*/\1/p' | sort -u |
		grep -vE "^$dir/|\.so(\.[0-9.]+)?$|^/etc/ld\.so\.cache$|^/usr/lib/ssl/openssl\.cnf$|^/dev/urandom$|^/etc/localtime$|^/etc/passwd$|^/etc/pam\.d/other$|^/etc/security/|^/usr/lib/x86_64-linux-gnu/gconv/|^/etc/sasl2/|^/usr/lib/locale/|^/usr/share/locale/|^/proc/sys/kernel/cap_last_cap$|^$TS_BUILDDIR/sasl_token/\.libs$|^rot$" >"$dir/$name.files"
	[ ! -s "$dir/$name.files" ]
	ok $? "K9_$name: no file opened but configured ones and system libraries$( [ -s "$dir/$name.files" ] && echo " (also: $(tr '\n' ' ' <"$dir/$name.files"))")"
}
NOW=$(date +%s)
traced 0 cli_good_token_with_key_urls "$(tok K9_key_urls_in_header_ignored)" \
	"$TS_BUILDDIR/tools/tokenscope" verify -c "$dir/tokenscope.conf" -s dovecot -u alice --time "$NOW"
traced 1 cli_attacker_jwk_in_header "$(tok K9_attacker_key_in_header)" \
	"$TS_BUILDDIR/tools/tokenscope" verify -c "$dir/tokenscope.conf" -s dovecot -u alice --time "$NOW"
traced 0 pam_auth_token_with_key_urls "$(tok K9_key_urls_in_header_ignored)" \
	"$TS_BUILDDIR/tools/pam_login" "$dir/pam.d" dovecot alice
traced 1 pam_auth_attacker_jwk_in_header "$(tok K9_attacker_key_in_header)" \
	"$TS_BUILDDIR/tools/pam_login" "$dir/pam.d" dovecot alice
traced 0 sasl_auth_token_with_key_urls "$(tok K9_key_urls_in_header_ignored)" \
	"$TS_BUILDDIR/tools/sasl_login" "$TS_BUILDDIR/sasl_token/.libs" "$dir/tokenscope.conf" dovecot alice
traced 1 sasl_auth_attacker_jwk_in_header "$(tok K9_attacker_key_in_header)" \
	"$TS_BUILDDIR/tools/sasl_login" "$TS_BUILDDIR/sasl_token/.libs" "$dir/tokenscope.conf" dovecot alice

# K14: [issuer rot] fetches its keys (jwks_uri) and the logins may leave
# requests; a token under a kid rot does not have leaves one, and only that
"$PY" -c "import json,sys; k=json.load(open(sys.argv[1])); k.update(kid='rot-1', alg='ES512'); print(json.dumps({'keys': [k]}))" \
	"$TS_FIXTURES/keys/p521.jwk" >"$dir/rot.jwks" && chmod 644 "$dir/rot.jwks"
sed -e 's|^reload_interval = 0|&\nfetch_spool = spool|' -e 's|^issuers         = corp partner legacy|& rot|' \
	"$dir/tokenscope.conf" >"$dir/fetch.conf"
printf '[issuer rot]\nissuer = https://rot.example.com\nalgorithms = ES512\nkey = rot.jwks\njwks_uri = https://127.0.0.1:1/keys\ntoken_type = jwt\n' >>"$dir/fetch.conf"
chmod 644 "$dir/fetch.conf"
mkdir -m 1733 "$dir/spool"
printf 'auth required %s config=%s/fetch.conf service=dovecot\naccount required %s config=%s/fetch.conf service=dovecot\n' \
	"$m" "$dir" "$m" "$dir" >"$dir/pam.d/rotated"
rotated=$("$PY" -c '
import base64, json, os, time
b = lambda d: base64.urlsafe_b64encode(d).rstrip(b"=").decode()
now = int(time.time())
print(".".join([b(json.dumps({"alg": "ES512", "kid": "rotated-1"}).encode()),
    b(json.dumps({"iss": "https://rot.example.com", "aud": "imap.example.com",
                  "iat": now, "exp": now + 300}).encode()), b(os.urandom(132))]))')
traced 1 pam_auth_unknown_kid_leaves_a_fetch_request "$rotated" \
	"$TS_BUILDDIR/tools/pam_login" "$dir/pam.d" rotated alice
[ "$(ls -A "$dir/spool")" = rot ]
ok $? "K14_pam_unknown_kid_leaves_one_request_without_network ($(ls -A "$dir/spool" | tr '\n' ' '))"
echo "1..$n"
exit $failed
