#!/bin/sh
# The tokenscope demo, run against a built tree (scripts/demo.sh builds it).
# Everything happens in a temporary directory; nothing under /etc is touched.
# Two issuers with their own keys, one configuration, tokens minted now, and
# the decision for each through every authentication path that is built.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build="${TOKENSCOPE_BUILD:-$top}" # the build tree (differs from the source in VPATH builds)
TS="$build/tools/tokenscope"
PAMLOGIN="$build/tools/pam_login"
SASLLOGIN="$build/tools/sasl_login"
PLUGDIR="$build/sasl_token/.libs"
MODULE="$build/pam_token/.libs/pam_token.so"
[ -x "$TS" ] && [ -x "$PAMLOGIN" ] && [ -f "$MODULE" ] && [ -x "$SASLLOGIN" ] && [ -f "$PLUGDIR/libtoken.so" ] || { echo "demo: build first (scripts/demo.sh)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
cd "$work"

now=$(date +%s)
past=$(date -u -d "@$((now - 86400))" +%Y-%m-%dT%H:%M:%SZ)
for k in corp-2026 corp-2023 partner-1; do
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$k.key" 2>/dev/null
	openssl pkey -in "$k.key" -pubout -out "$k.pub.pem" 2>/dev/null
	chmod 644 "$k.pub.pem"
done
cat >tokenscope.conf <<CONF
[global]
clock_skew = 60

[issuer corp]
issuer         = https://sso.corp.example/realms/staff
algorithms     = ES256
key            = corp-2026.pub.pem kid=corp-2026
key            = corp-2023.pub.pem kid=corp-2023 not_after=$past
username_claim = preferred_username
max_lifetime   = 3600

[issuer partner]
issuer         = https://login.partner.example
algorithms     = ES256
key            = partner-1.pub.pem kid=partner-1

[service imap]
issuers         = corp
audiences       = imap.corp.example
required_scopes = mail.read

[service smtp]
issuers         = corp partner
audiences       = smtp.corp.example
required_scopes = mail.send
CONF
chmod 644 tokenscope.conf
# PAM service files for pam_start_confdir: nothing under /etc/pam.d is used
mkdir pam.d
for svc in imap smtp; do
	printf 'auth    required %s config=%s/tokenscope.conf\naccount required %s config=%s/tokenscope.conf\n' \
		"$MODULE" "$work" "$MODULE" "$work" >"pam.d/$svc"
done

claims() { # iss user aud scope
	printf '{"iss":"%s","sub":"%s-id","preferred_username":"%s","aud":"%s","scope":"%s","iat":%d,"exp":%d,"jti":"demo-%s"}\n' \
		"$1" "$2" "$2" "$3" "$4" "$now" $((now + 600)) "$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
}
CORP=https://sso.corp.example/realms/staff
mint() { "$TS" mint --key "$1.key" --alg ES256 --kid "$2" -; }

claims $CORP alice imap.corp.example "openid mail.read" | mint corp-2026 corp-2026 >good
# the 2023 forgery: a partner's key signs a token claiming corp's issuer
claims $CORP alice imap.corp.example "openid mail.read" | mint partner-1 partner-1 >forged_kid
claims $CORP alice imap.corp.example "openid mail.read" | mint partner-1 corp-2026 >forged_corpkid
claims $CORP alice imap.corp.example "openid mail.read" | mint corp-2023 corp-2023 >oldkey
claims $CORP alice smtp.corp.example "mail.send" | mint corp-2026 corp-2026 >smtp_token

printf '\ntokenscope demo: two issuers (corp, partner), config in %s\n\n' "$work"
printf '%-44s %-7s %-27s %-27s %s\n' "case" "expect" "CLI: tokenscope verify" "PAM: pam_token.so" "SASL: libtoken.so OAUTHBEARER"
printf '%-44s %-7s %-27s %-27s %s\n' "----" "------" "----------------------" "-----------------" "-----------------"
row() { # label file service user expect
	out=$("$TS" verify -c tokenscope.conf -s "$3" -u "$4" <"$2" 2>/dev/null) && rc=0 || rc=$?
	reason=$(echo "$out" | sed -n 's/^reason: *//p')
	if [ "$rc" = 0 ]; then got="accepted"; else got="refused: $reason"; fi
	pmsg=$("$PAMLOGIN" "$work/pam.d" "$3" "$4" <"$2" 2>&1) && prc=0 || prc=$?
	case $prc in 0) pgot="accepted" ;; 1) pgot="refused: PAM_AUTH_ERR" ;; *) pgot="error: $pmsg" ;; esac
	smsg=$("$SASLLOGIN" "$PLUGDIR" "$work/tokenscope.conf" "$3" "$4" <"$2" 2>&1) && src=0 || src=$?
	case $src in 0) sgot="accepted" ;; 1) sgot="refused: SASL_BADAUTH" ;; *) sgot="error: $smsg" ;; esac
	printf '%-44s %-7s %-27s %-27s %s\n' "$1" "$5" "$got" "$pgot" "$sgot"
	case "$5:$rc:$prc:$src" in accept:0:0:0 | refuse:1:1:1) ;; *) echo "demo: UNEXPECTED result for $1" >&2; exit 1 ;; esac
}
row "good corp token, user alice, imap" good imap alice accept
row "forgery: partner key, corp iss (partner kid)" forged_kid imap alice refuse
row "forgery: partner key, corp iss (corp's kid)" forged_corpkid imap alice refuse
row "expired key corp-2023, fresh token" oldkey imap alice refuse
row "token for smtp used at imap (audience)" smtp_token imap alice refuse
row "good token, but logging in as bob" good imap bob refuse
row "good smtp token at smtp" smtp_token smtp alice accept

printf '\nWhy the forgery fails, step by step (tokenscope explain):\n'
"$TS" explain -c tokenscope.conf -s imap -u alice <forged_corpkid | sed 's/^/  /' || true
printf '\nThe keyring (tokenscope keys):\n'
"$TS" keys -c tokenscope.conf | sed "s|$work/||" | sed 's/^/  /'
