#!/bin/sh
# t_idp.sh: real identity providers' token shapes against the
# shipped example configurations (packaging/examples/<provider>.conf), with
# keys and tokens made now by an independent signer (tests/idp.py: PyJWT,
# jwcrypto): for each provider an access token is accepted for the right
# user, and its ID token, a token of another tenant / realm / instance and a
# token for another audience are refused with the reason named; where the
# provider puts groups and roles, a [service sshd] rule on them (C8).
set -u
: "${TS_BUILDDIR:?}" "${TS_SRCDIR:?}"
TS="$TS_BUILDDIR/tools/tokenscope"
PY=/usr/bin/python3
n=0
failed=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi; }

[ -x "$PY" ] && "$PY" -c 'import jwt, jwcrypto' 2>/dev/null ||
	{ echo "1..0 # SKIP python3-jwt / python3-jwcrypto missing"; exit 0; }
dir="$TS_BUILDDIR/tests/tmp/idp"
rm -rf "$dir" && mkdir -p "$dir" && chmod 755 "$dir"
"$PY" "$TS_SRCDIR/tests/idp.py" "$dir" >"$dir/cases.jsonl" || { echo "Bail out! idp.py failed"; exit 1; }
chmod 755 "$dir/keys" && chmod 644 "$dir"/keys/*

for p in keycloak entra okta auth0 authentik zitadel dex; do
	sed "s|/etc/tokenscope/keys/|$dir/keys/|" "$TS_SRCDIR/packaging/examples/$p.conf" >"$dir/$p.conf"
	chmod 644 "$dir/$p.conf"
	"$TS" check-config -c "$dir/$p.conf" >"$dir/$p.check" 2>&1
	ok $? "${p}_example_config_loads"
	good=0 bad=0
	"$PY" -c 'import json,sys
for l in open(sys.argv[1]):
    c = json.loads(l)
    if c["provider"] == sys.argv[2]:
        print(c["case"], c["expect"], c["user"] or "-", c["service"], c["token"])' "$dir/cases.jsonl" "$p" >"$dir/$p.cases"
	while read -r name expect user service tok; do
		if [ "$user" = - ]; then set --; else set -- -u "$user"; fi
		out=$(printf '%s\n' "$tok" | "$TS" verify -c "$dir/$p.conf" -s "$service" "$@" --json)
		rc=$?
		got=$(printf '%s' "$out" | "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(d["reason"], d.get("user") or "-")')
		want_rc=1; [ "$expect" = ok ] && want_rc=0
		want="$expect -"; [ "$expect" = ok ] && want="ok $user"
		if [ "$got" = "$want" ] && [ "$rc" = "$want_rc" ]; then good=$((good + 1)); else
			bad=$((bad + 1)); echo "# $p $name: want $want/$want_rc, got $got/$rc"; fi
	done <"$dir/$p.cases"
	ok $((bad != 0 || good < 4)) "${p}_access_token_accepted_lookalikes_refused ($good cases)"
done
# M7: the Entra forgeries stay key_issuer_mismatch refusals and are alerts,
# naming the section whose key file published the key
alerts=0
for c in v2_consumer_key_forgery v2_tid_differs_from_iss; do
	awk -v c=$c '$1 == c { print $5 }' "$dir/entra.cases" |
		"$TS" verify -c "$dir/entra.conf" -s dovecot --json 2>/dev/null |
		"$PY" -c 'import json,sys; d=json.load(sys.stdin); sys.exit(not (d["reason"] == "key_issuer_mismatch" and d["alert"] == "cross_tenant" and d["alert_key_issuer"]))' &&
		alerts=$((alerts + 1))
done
ok $((alerts != 2)) "M7_entra_forgeries_alert_cross_tenant ($alerts/2)"
# C8: the provider shapes of group and role rules, through the examples
for c in keycloak:C8_realm_role_ssh keycloak:C8_without_realm_role_ssh entra:C8_app_role_ssh \
	entra:C8_other_app_role_ssh entra:C8_groups_overage_ssh okta:C8_group_ssh \
	okta:C8_not_in_group_ssh auth0:C8_namespaced_role_ssh auth0:C8_other_namespaced_role_ssh; do
	grep -q "^${c#*:} " "$dir/${c%%:*}.cases"
	ok $? "${c#*:}_${c%%:*}_case_present"
done
# the consumer tenant's key in the shared Entra file verifies nothing for contoso
"$TS" keys -c "$dir/entra.conf" >"$dir/entra.keys" 2>&1
grep -- "-KI3Q9nNR7bRofxmeZoXqbHZGew" "$dir/entra.keys" | grep -q other-issuer &&
	! grep "nOo3ZDrODXEK1jKWhXslHR_KXEg" "$dir/entra.keys" | grep -q other-issuer
ok $? "entra_consumer_key_listed_as_other_issuer"
# (cases: name expect user service token)
# [service smtp] asks for SMTP.Send, as tokenscope.conf(5) does: a token
# with both scopes passes, one with the IMAP scope alone does not
tok_of() { awk -v c="$1" '$1 == c { print $5 }' "$dir/entra.cases"; }
printf '%s\n' "$(tok_of v2_access_token)" | "$TS" verify -c "$dir/entra.conf" -s smtp >/dev/null 2>&1 &&
	printf '%s\n' "$(tok_of v1_access_token)" | "$TS" verify -c "$dir/entra.conf" -s smtp --json 2>/dev/null |
	grep -q '"insufficient_scope"'
ok $? "entra_smtp_service_requires_SMTP.Send"
# the shipped examples must say where the matching service lines are
miss=0
for p in keycloak entra okta auth0 authentik zitadel dex; do
	grep -q "pam.d-dovecot" "$TS_SRCDIR/packaging/examples/$p.conf" || miss=1
done
ok $miss "examples_name_the_pam_and_postfix_lines"
echo "1..$n"
exit $failed
