#!/bin/sh
# t_slapd.sh: libtoken.so on both sides of an LDAP SASL bind. OpenLDAP's
# slapd (Debian's package) runs the server side on 127.0.0.1, with the
# documented olcAuthzRegexp (packaging/examples/slapd-oauthbearer.ldif)
# mapping the token's user to a DN; OpenLDAP's own
# ldapwhoami runs the client side (-Y OAUTHBEARER / XOAUTH2, the token as
# its -w password). Refusals must be slapd's own result 49.
set -u
. "$(dirname "$0")/common.sh"
SLAPD=/usr/sbin/slapd
[ -x "$SLAPD" ] || skip_all "slapd is not installed (scripts/deps.sh test installs it)"
command -v ldapwhoami >/dev/null || skip_all "ldapwhoami (ldap-utils) is not installed"
# Debian's slapd reads its SASL options from /etc/ldap/sasl2/slapd.conf
# alone (SASL_CONF_PATH is ignored): the test's own file is bound over that
# directory in a mount namespace of slapd's, and the host's stays untouched.
# Where no mount namespace can be made (a container without the
# capability), the file is written there when there is none, and removed
SASLDIR=/etc/ldap/sasl2
[ -d "$SASLDIR" ] || skip_all "$SASLDIR missing"
NS=1
if ! unshare -m --propagation private true 2>/dev/null; then
	[ ! -e "$SASLDIR/slapd.conf" ] || skip_all "no mount namespace here (unshare -m), and $SASLDIR/slapd.conf is the host's"
	NS=0
fi
# the build tree's plugin for both sides, or the installed one
PLUGINS="$TS_BUILDDIR/sasl_token/.libs"
[ -n "${TS_E2E_INSTALLED:-}" ] && PLUGINS=""

e2e_dir slapd
policy_in "$W"
# slapd's SASL service name is "ldap"; this directory trusts the corp
# issuer alone, for tokens meant for imap.example.com
policy_for ldap
mkdir -p "$W/sasl2" "$W/db"
# the packaged example, pointed at this run's configuration
sed -e "s|^token_config: .*|token_config: $W/tokenscope.conf|" \
	-e "s|^# token_openid_configuration:|token_openid_configuration:|" \
	-e "s|^log_level: .*|log_level: 5|" \
	"$TS_SRCDIR/packaging/examples/slapd-sasl2.conf" >"$W/sasl2/slapd.conf"
PORT=$(free_port)
SOCK="$W/ldapi"
LDAPI="ldapi://$(echo "$SOCK" | sed 's|/|%2F|g')"
# cn=config from a minimal slapd.conf (root over ldapi manages it); the
# mapping is then added exactly as the packaged example LDIF documents it
cat >"$W/slapd.conf" <<CONF
include /etc/ldap/schema/core.schema
pidfile $W/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
database config
access to * by dn.exact=gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth manage by * none
database mdb
suffix "dc=example,dc=com"
directory $W/db
CONF
mkdir -p "$W/slapd.d"
# (slaptest then fails to open the empty database read-only: the
# conversion is written before that, and is what counts)
slaptest -f "$W/slapd.conf" -F "$W/slapd.d" >"$W/slaptest.out" 2>&1
[ -s "$W/slapd.d/cn=config.ldif" ]; ok $? "slapd_cn_config_made_by_slaptest"
ENV=""
[ -n "$PLUGINS" ] && ENV="SASL_PATH=$PLUGINS"
# -d keeps slapd in the foreground with its log on stderr
if [ "$NS" = 1 ]; then
	unshare -m --propagation private sh -c \
		'mount --bind "$1/sasl2" "$2" && exec env $3 "$4" -d stats -h "ldap://127.0.0.1:$5/ $6" -F "$1/slapd.d"' \
		slapd "$W" "$SASLDIR" "$ENV" "$SLAPD" "$PORT" "$LDAPI" >"$W/slapd.log" 2>&1 &
else
	cp "$W/sasl2/slapd.conf" "$SASLDIR/slapd.conf"
	env $ENV "$SLAPD" -d stats -h "ldap://127.0.0.1:$PORT/ $LDAPI" -F "$W/slapd.d" >"$W/slapd.log" 2>&1 &
fi
SPID=$!
stop() {
	kill "$SPID" 2>/dev/null
	wait "$SPID" 2>/dev/null
	[ "$NS" = 1 ] || rm -f "$SASLDIR/slapd.conf"
}
trap stop EXIT
up=1
for _ in $(seq 1 100); do
	ldapsearch -Q -Y EXTERNAL -H "$LDAPI" -s base -b "" namingContexts >/dev/null 2>&1 && { up=0; break; }
	sleep 0.2
done
ok $up "slapd_started_on_127.0.0.1:$PORT ($("$SLAPD" -VV 2>&1 | sed -n 's/.*\(slapd [^ ]*\).*/\1/p' | head -1), $(ldapwhoami -VV 2>&1 | sed -n 's/.*\(ldapwhoami [^ ]*\).*/\1/p' | head -1), libsasl2 $(dpkg-query -W -f='${Version}' libsasl2-2 2>/dev/null))"
ldapmodify -Q -Y EXTERNAL -H "$LDAPI" -f "$TS_SRCDIR/packaging/examples/slapd-oauthbearer.ldif" >"$W/modify.out" 2>&1
ok $? "the_packaged_example_ldif_applies_to_cn_config"
# the example's test-only setting: no TLS on this loopback listener, and a
# bearer token is a plaintext credential that slapd's default (noplain)
# offers only over TLS
printf 'dn: cn=config\nchangetype: modify\nreplace: olcSaslSecProps\nolcSaslSecProps: noanonymous\n-\n' |
	ldapmodify -Q -Y EXTERNAL -H "$LDAPI" >>"$W/modify.out" 2>&1
ok $? "olcSaslSecProps_noanonymous_for_loopback_without_tls"
ldapsearch -x -H "ldap://127.0.0.1:$PORT/" -s base -b "" supportedSASLMechanisms >"$W/rootdse" 2>&1
grep -q "supportedSASLMechanisms: OAUTHBEARER" "$W/rootdse" && grep -q "supportedSASLMechanisms: XOAUTH2" "$W/rootdse"
ok $? "slapd_offers_OAUTHBEARER_and_XOAUTH2"

tok() { "$PY" -c "import json; print(json.load(open('$W/fresh.json'))['tokens']['$1'])"; }
# whoami MECH USER TOKEN: the DN on success (exit 0); exit 1 only for
# slapd's invalidCredentials (49), 2 for anything else
whoami() {
	out=$(env ${PLUGINS:+SASL_PATH="$PLUGINS"} ldapwhoami -H "ldap://127.0.0.1:$PORT/" -O noanonymous \
		-Q -Y "$1" -U "$2" -w "$3" 2>&1)
	rc=$?
	echo "$out" >>"$W/client.log"
	case $rc in
	0) echo "$out" ;;
	49) return 1 ;;
	*) echo "# ldapwhoami exit $rc: $(echo "$out" | head -2 | tr '\n' ' ')" >&2; return 2 ;;
	esac
}
good=$(tok good_corp_es256)
dn=$(whoami OAUTHBEARER alice "$good"); accepted $? "slapd_oauthbearer_bind_with_ldapwhoami"
[ "$dn" = "dn:uid=alice,ou=people,dc=example,dc=com" ]; ok $? "whoami_gives_the_mapped_dn ($dn)"
dn=$(whoami XOAUTH2 alice "$good"); accepted $? "slapd_xoauth2_bind_with_ldapwhoami"
[ "$dn" = "dn:uid=alice,ou=people,dc=example,dc=com" ]; ok $? "xoauth2_whoami_gives_the_mapped_dn ($dn)"
# the token from a file, as sasl_token(8) advises (not on a command line)
(umask 077 && printf '%s' "$good" >"$W/token")
dn=$(env ${PLUGINS:+SASL_PATH="$PLUGINS"} ldapwhoami -H "ldap://127.0.0.1:$PORT/" -O noanonymous \
	-Q -Y OAUTHBEARER -U alice -y "$W/token" 2>>"$W/client.log")
[ "$dn" = "dn:uid=alice,ou=people,dc=example,dc=com" ]; ok $? "ldapwhoami_reads_the_token_from_a_file_with_y"
whoami OAUTHBEARER alice "$(tok K1_partner_key_claims_corp_issuer)" >/dev/null; refused $? "K1_slapd_forged_token_result_49"
whoami XOAUTH2 alice "$(tok K5_expired_key_future_exp)" >/dev/null; refused $? "K5_slapd_expired_key_result_49"
whoami OAUTHBEARER alice "$(tok good_partner)" >/dev/null; refused $? "K1_slapd_other_issuers_valid_token_result_49"
whoami OAUTHBEARER alice "$(tok good_smtp)" >/dev/null; refused $? "C2_slapd_wrong_audience_result_49"
whoami OAUTHBEARER bob "$good" >/dev/null; refused $? "C6_slapd_bob_with_alices_token_result_49"
whoami OAUTHBEARER alice "not a token" >/dev/null 2>&1
[ $? = 2 ] && grep -q "not a bearer token" "$W/client.log"; ok $? "M10_ldapwhoami_never_sends_a_password_that_is_not_a_token"
# a client that lost track of the mechanism would send its \x01 as a simple
# bind, which slapd refuses with 49 as well: every 49 here must be the
# plugin's refusal of a SASL bind
all=$(grep -c "RESULT tag=97 err=49 " "$W/slapd.log")
ours=$(grep -c "RESULT tag=97 err=49 .*SASL(-13): authentication failure: token refused: " "$W/slapd.log")
[ "$all" = 5 ] && [ "$ours" = 5 ]; ok $? "each_49_is_the_plugins_refusal_of_a_sasl_bind ($ours of $all)"
for r in unknown_key key_expired unknown_issuer audience_mismatch user_mismatch; do
	grep -q "reason=$r" "$W/slapd.log" || { echo "# no $r in the slapd log"; false; } || break
done
ok $? "slapd_log_shows_each_reason"
v=$(echo "$good" | cut -c1-60)
! grep -qF "$v" "$W/slapd.log" "$W/client.log"; ok $? "M3_slapd_and_client_logs_never_hold_a_token"
finish
