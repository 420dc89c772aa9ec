#!/bin/sh
# t_cli.sh: the tokenscope admin command: every subcommand and exit code, the
# same decision as ts_validate() for every policy case (t_policy asserts the
# same expectations through the C API), check-config line numbers, keys
# status, mint round trip checked by an independent verifier (PyJWT).
set -u
: "${TS_BUILDDIR:?}" "${TS_SRCDIR:?}" "${TS_FIXTURES:?}"
TS="$TS_BUILDDIR/tools/tokenscope"
PY=/usr/bin/python3
NOW=1700000100
n=0
failed=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi; }
fx() { "$PY" -c "import json,sys; d=json.load(open('$TS_FIXTURES/tokens.json')); print(eval(sys.argv[1]))" "$1"; }

[ -x "$PY" ] || { echo "1..0 # SKIP /usr/bin/python3 missing"; exit 0; }
dir="$TS_BUILDDIR/tests/tmp/cli"
rm -rf "$dir" && mkdir -p "$dir" && chmod 755 "$dir"
for k in p256 rsa2048 p384 rsa3072 ed448 partner_p256 partner_rsa2048 ed25519; do
	cp "$TS_FIXTURES/keys/$k.pub.pem" "$dir/" && chmod 644 "$dir/$k.pub.pem"
done
cp "$TS_SRCDIR/tests/policy.conf" "$dir/tokenscope.conf" && chmod 644 "$dir/tokenscope.conf"
cp "$TS_SRCDIR/tests/policy-users.map" "$dir/" && chmod 644 "$dir/policy-users.map"
fx "d['thumbprints']['ed448']" >"$dir/revoked-keys" && chmod 644 "$dir/revoked-keys"
C="$dir/tokenscope.conf"

# --- verify: the same decision as ts_validate for every policy case -------
fx "'\n'.join('%s %s %s %s' % (c['name'], c['expect'], c['service'], c['user'] or '-') for c in d['cases'])" >"$dir/cases"
same=0 differ=0
while read -r name expect service user; do
	tok=$(fx "d['tokens']['case_$name']['token']")
	if [ "$user" = - ]; then set --; else set -- -u "$user"; fi
	out=$(printf '%s\n' "$tok" | "$TS" verify -c "$C" -s "$service" "$@" --time $NOW --json)
	rc=$?
	got=$(printf '%s' "$out" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["reason"])')
	want_rc=1; [ "$expect" = ok ] && want_rc=0
	if [ "$got" = "$expect" ] && [ "$rc" = "$want_rc" ]; then same=$((same + 1)); else
		differ=$((differ + 1)); echo "# $name: want $expect/$want_rc, got $got/$rc"; fi
done <"$dir/cases"
ok $((differ != 0)) "verify_same_decision_as_ts_validate_for_all_cases ($same same, $differ differ)"

good=$(fx "d['tokens']['case_good_corp_es256']['token']")
out=$(printf '%s' "$good" | "$TS" verify -c "$C" -s dovecot -u alice --time $NOW)
ok $? "verify_accept_exit_0"
echo "$out" | grep -q "^user: *alice$" && echo "$out" | grep -q "^issuer: *corp " &&
	echo "$out" | grep -q "^kid: *corp-1$" && echo "$out" | grep -q "^thumbprint: *$(fx "d['thumbprints']['p256']")$"
ok $? "verify_accept_names_user_issuer_kid_thumbprint"
"$TS" verify -c "$C" -s dovecot -u alice --time $NOW "$good" >/dev/null
ok $? "verify_token_as_argument"
printf '%s' "$good" | "$TS" verify -c "$C" -s dovecot -u alice --time $NOW - >/dev/null
ok $? "verify_token_from_stdin_dash"
printf '%s' "$good" | "$TS" verify -c "$C" -s dovecot -u bob --time $NOW >/dev/null
ok $(($? != 1)) "verify_reject_exit_1"
printf '%s' "$good" | "$TS" verify -c "$C" -u alice --time $NOW >/dev/null 2>"$dir/err"
ok $(($? != 2)) "verify_without_service_is_usage_error_2"
grep -q "usage: tokenscope verify" "$dir/err"; ok $? "usage_error_names_the_right_usage"
printf '%s' "$good" | "$TS" verify -c "$C" -s dovecot --time yesterday >/dev/null 2>&1
ok $(($? != 2)) "verify_bad_time_is_usage_error"
printf '%s' "$good" | "$TS" verify -c "$dir/nothere.conf" -s dovecot --time $NOW >/dev/null 2>&1
ok $(($? != 2)) "verify_config_error_exit_2"
"$TS" verify -c "$C" -s dovecot --time $NOW </dev/null >/dev/null 2>&1
ok $(($? != 2)) "verify_empty_input_exit_2"
out=$(printf '%s' "$good" | "$TS" verify -c "$C" -s dovecot -u alice --time $NOW --json)
printf '%s' "$out" | "$PY" -c 'import json,sys; o=json.load(sys.stdin); assert o["result"]=="accepted" and o["user"]=="alice" and o["kid"]=="corp-1"'
ok $? "verify_json_is_one_object"
# no output path ever carries the token or its signature
sig=${good##*.}
all=$(printf '%s' "$good" | "$TS" verify -c "$C" -s dovecot -u alice --time $NOW -v 2>&1;
	printf '%s' "$good" | "$TS" explain -c "$C" -s dovecot -u bob --time $NOW 2>&1)
case "$all" in *"$sig"* | *"$(printf '%s' "$good" | cut -c1-40)"*) r=1 ;; *) r=0 ;; esac
ok $r "M3_cli_output_never_holds_token_or_signature"

# --- big tokens through stdin ----------------------------------------------
"$PY" -c "import json; print(json.dumps({'iss':'https://sso.example.com/realms/corp','sub':'x','preferred_username':'alice@example.com','aud':'imap.example.com','scope':'mail.read','azp':'webmail','tid':'corp-tenant','iat':1700000000,'exp':1700003600,'pad':'x'*5500}))" >"$dir/big.json"
big=$("$TS" mint --key "$TS_FIXTURES/keys/p256.key.pem" --alg ES256 --kid corp-1 "$dir/big.json")
ok $? "mint_exit_0"
[ ${#big} -gt 7000 ]; ok $? "mint_big_token_is_over_7KiB (${#big})"
printf '%s' "$big" | "$TS" verify -c "$C" -s dovecot -u alice --time $NOW >/dev/null
ok $? "verify_multi_KiB_token_from_stdin"
# the minted token verifies with an independent implementation too
printf '%s' "$big" | "$PY" -c "
import sys, jwt
key = open('$TS_FIXTURES/keys/p256.pub.pem').read()
jwt.decode(sys.stdin.read().strip(), key, algorithms=['ES256'], audience='imap.example.com', options={'verify_exp': False})"
ok $? "mint_output_verifies_with_pyjwt"
for alg in RS256 PS384 EdDSA ES512; do
	case $alg in RS256) k=rsa2048 ;; PS384) k=rsa3072 ;; EdDSA) k=ed25519 ;; ES512) k=p521 ;; esac
	t=$("$TS" mint --key "$TS_FIXTURES/keys/$k.key.pem" --alg $alg "$dir/big.json") &&
		printf '%s' "$t" | "$PY" -c "
import sys, jwt
from cryptography.hazmat.primitives.serialization import load_pem_public_key
key = load_pem_public_key(open('$TS_FIXTURES/keys/$k.pub.pem','rb').read())
jwt.decode(sys.stdin.read().strip(), key, algorithms=['$alg'], audience='imap.example.com', options={'verify_exp': False})"
	ok $? "mint_${alg}_verifies_with_pyjwt"
done
"$TS" mint --key "$TS_FIXTURES/keys/p256.key.pem" --alg none "$dir/big.json" >/dev/null 2>"$dir/err"
ok $(($? != 2)) "A1_mint_refuses_none"
"$TS" mint --key "$TS_FIXTURES/keys/p256.key.pem" --alg RS256 "$dir/big.json" >/dev/null 2>&1
ok $(($? != 2)) "mint_refuses_key_alg_mismatch"

# --- explain ------------------------------------------------------------------
forged=$(fx "d['tokens']['case_K1_partner_key_claims_corp_issuer']['token']")
out=$(printf '%s' "$forged" | "$TS" explain -c "$C" -s dovecot -u alice --time $NOW)
rc=$?
ok $((rc != 1)) "explain_reject_exit_1"
echo "$out" | grep -q "FAIL  key lookup .*looked up (issuer corp, kid partner-1).*first failure"
ok $? "explain_shows_issuer_kid_pair_and_first_failure"
echo "$out" | grep -q "ok    parse and header" && echo "$out" | grep -q "ok    issuer"
ok $? "explain_lists_passed_steps_in_order"
out=$(printf '%s' "$good" | "$TS" explain -c "$C" -s dovecot -u alice --time $NOW)
ok $? "explain_accept_exit_0"
for s in signature "key scope" "times" "token type" audience "tenant and client" scopes \
	"groups and roles" acr amr "authentication age" username "local user"; do
	echo "$out" | grep -q "ok    $s" || { echo "# missing step $s"; false; } || break
done
ok $? "explain_shows_every_claim_step"
# C8-C11: each rule is a step of its own, named where it refuses
ax() { "$PY" -c "import json; print(json.load(open('$TS_FIXTURES/authz.json'))['tokens']['case_$1']['token'])"; }
for c in "groups C8_group_denied alice groups and roles.*group_denied" \
	"assurance C9_amr_missing_one_method alice amr .*amr_missing: amr lacks otp" \
	"assurance C9_auth_time_too_old alice authentication age .*auth_too_old" \
	"mapped C10_unmapped_refused alice username .*user_unmapped" \
	"mapopt C11_root_refused root local user .*root_refused"; do
	set -- $c
	svc=$1 case=$2 u=$3
	shift 3
	ax "$case" | "$TS" explain -c "$C" -s "$svc" -u "$u" --time $NOW | grep -q "FAIL  $*.*first failure"
	ok $? "${case}_explain_names_its_step"
done

# M7: the classification step and what it concluded
echo "$out" | grep -q "ok    signature" && ! echo "$out" | grep -q "classification"
ok $? "M7_explain_no_classification_step_on_accept"
out=$(printf '%s' "$forged" | "$TS" explain -c "$C" -s dovecot -u alice --time $NOW)
echo "$out" | grep -q "ok    classification (alert?) .*ALERT forged_cross_issuer: the signature is valid under key $(fx "d['thumbprints']['partner_p256']") of \[issuer partner\] (1 extra checks)" &&
	echo "$out" | grep -q "^decision: rejected: unknown_key; ALERT forged_cross_issuer$"
ok $? "M7_explain_shows_classification_and_alert"
unknown=$(fx "d['tokens']['case_K9_attacker_key_in_header']['token']")
out=$(printf '%s' "$unknown" | "$TS" explain -c "$C" -s dovecot -u alice --time $NOW)
echo "$out" | grep -q "ok    classification (alert?) .*nothing to classify (0 extra checks)" &&
	echo "$out" | grep -q "^decision: rejected: bad_signature$"
ok $? "M7_explain_classification_concludes_noise"
expkey=$(fx "d['tokens']['case_K5_expired_key_future_exp']['token']")
out=$(printf '%s' "$expkey" | "$TS" verify -c "$C" -s dovecot -u alice --time $NOW --json 2>"$dir/err")
rc=$?
[ $rc = 1 ] && printf '%s' "$out" | "$PY" -c 'import json,sys; o=json.load(sys.stdin); sys.exit(not (o["reason"]=="key_expired" and o["alert"]=="stolen_key_in_use" and o["alert_key_issuer"]=="corp" and o["result"]=="rejected"))' &&
	grep -q "^tokenscope: ALERT alert=stolen_key_in_use reason=key_expired .* key_issuer=corp key_thumbprint=$(fx "d['thumbprints']['p384']")$" "$dir/err"
ok $? "M7_verify_refuses_and_names_the_alert (exit $rc)"

# --- audit (M7, M8): a log the command itself wrote ----------------------------
: >"$dir/audit.log"
for t in case_good_corp_es256 case_good_corp_es256 case_good_corp_rs256_shared_kid case_C6_wrong_user; do
	u=alice; [ $t = case_C6_wrong_user ] && u=bob
	fx "d['tokens']['$t']['token']" | "$TS" verify -v -c "$C" -s dovecot -u $u --time $NOW >/dev/null 2>>"$dir/audit.log"
done
sed 's/^/2023-11-14T22:15:00+00:00 mx pam_token(dovecot:auth): /' "$dir/audit.log" >"$dir/clean.log"
out=$("$TS" audit "$dir/clean.log"); rc=$?
[ $rc = 0 ] && echo "$out" | grep -q "^tokenscope audit: 4 decision lines, 0 with an alert, 0 alert lines$" &&
	echo "$out" | grep -q "^\[issuer corp\] key $(fx "d['thumbprints']['p256']")$" &&
	echo "$out" | grep -q "^  accepted 2, distinct users 1, refused 1, first 2023-11-14T22:15:00Z, last 2023-11-14T22:15:00Z$" &&
	echo "$out" | grep -q "^  refused user_mismatch  *1$" && ! echo "$out" | grep -q ALERTS
ok $? "M7_audit_counts_per_issuer_and_key_exit_0_without_alert (exit $rc)"
printf '%s' "$forged" | "$TS" verify -v -c "$C" -s dovecot -u alice --time $NOW >/dev/null 2>>"$dir/audit.log"
printf '%s' "$expkey" | "$TS" verify -v -c "$C" -s dovecot -u alice --time $NOW >/dev/null 2>>"$dir/audit.log"
out=$("$TS" audit - <"$dir/audit.log"); rc=$?
[ $rc = 3 ] && echo "$out" | grep -q "^tokenscope audit: 6 decision lines, 2 with an alert, 2 alert lines, 8 without a time$" &&
	[ "$(echo "$out" | sed -n 3p)" = "ALERTS: a valid signature under a key out of its scope (tokenscope(1))" ] &&
	echo "$out" | grep -q "^  - ALERT alert=forged_cross_issuer reason=unknown_key .* key_issuer=partner key_thumbprint=$(fx "d['thumbprints']['partner_p256']")$" &&
	echo "$out" | grep -q "^  - ALERT alert=stolen_key_in_use reason=key_expired " &&
	echo "$out" | grep -q "^  refused key_expired  *1$"
ok $? "M7_audit_alerts_first_in_full_exit_3 (exit $rc)"
grep -v "ALERT" "$dir/audit.log" >"$dir/noalertlines.log"
"$TS" audit "$dir/noalertlines.log" | grep -q "^  - result=reject reason=unknown_key .* alert=forged_cross_issuer exp=-$"
ok $? "M7_audit_decision_lines_stand_in_for_missing_alert_lines"
"$TS" audit --since 2023-11-15 "$dir/clean.log" | grep -q "^tokenscope audit: 0 decision lines, .* 4 skipped"
ok $? "M7_audit_since_skips_older_lines"
"$TS" audit --since 2023-11-14T22:00:00Z "$dir/clean.log" | grep -q "^tokenscope audit: 4 decision lines"
ok $? "M7_audit_since_keeps_newer_lines"
"$TS" audit --since yesterday "$dir/clean.log" >/dev/null 2>&1; ok $(($? != 2)) "audit_bad_since_exit_2"
"$TS" audit "$dir/nothere.log" >/dev/null 2>&1; ok $(($? != 2)) "audit_missing_file_exit_2"
# M8: the same through JSON lines; a crafted line cannot put control
# characters on the terminal
sed 's/^\[global\]$/[global]\nlog_format = json/' "$C" >"$dir/json.conf" && chmod 644 "$dir/json.conf"
printf '%s' "$forged" | "$TS" verify -v -c "$dir/json.conf" -s dovecot -u alice --time $NOW >/dev/null 2>"$dir/json.log"
printf '%s' "$good" | "$TS" verify -v -c "$dir/json.conf" -s dovecot -u alice --time $NOW >/dev/null 2>>"$dir/json.log"
"$PY" -c 'import json,sys
for l in open(sys.argv[1]):
    o = json.loads(l.split("tokenscope: ", 1)[1])
    assert o["event"] in ("decision", "alert", "detail"), o' "$dir/json.log"
ok $? "M8_cli_json_lines_parse"
printf '2023-11-14T22:15:00+00:00 mx tokenscope: {"event":"alert","time":1700000000,"alert":"a\u001b[2Jb"}\n' >>"$dir/json.log"
out=$("$TS" audit "$dir/json.log"); rc=$?
[ $rc = 3 ] && echo "$out" | grep -q "^tokenscope audit: 2 decision lines, 1 with an alert, 2 alert lines" &&
	echo "$out" | grep -q "^\[issuer corp\] key $(fx "d['thumbprints']['p256']")$" &&
	echo "$out" | grep -q "first 2023-11-14T22:15:00Z" && ! echo "$out" | grep -q "$(printf '\033')"
ok $? "M8_audit_reads_json_lines_and_prints_no_control_character (exit $rc)"
# a decision or alert line quoted inside another program's message (an ssh
# user name) is not ours: only lines whose header is a time, a host, an
# ident and pam_token's or Postfix's prefix count
line=$(sed -n 1p "$dir/clean.log" | sed 's/.*tokenscope: //')
{
	echo "Nov 14 22:15:00 mx sshd[1]: Invalid user tokenscope: $line from 192.0.2.1 port 22"
	echo "Nov 14 22:15:00 mx sshd[1]: Invalid user x: tokenscope: ALERT alert=forged_cross_issuer reason=unknown_key issuer=corp"
	echo "Nov 14 22:15:00 mx sshd[1]: pam_token(sshd:auth): tokenscope: $line"
	echo "Nov 14 22:15:00 mx postfix/smtpd[7]: warning: SASL authentication failure: tokenscope: $line"
} >"$dir/injected.log"
out=$("$TS" audit "$dir/injected.log"); rc=$?
[ $rc = 0 ] && echo "$out" | grep -q "^tokenscope audit: 2 decision lines, 0 with an alert, 0 alert lines"
ok $? "M7_audit_ignores_decision_and_alert_lines_quoted_in_other_messages (exit $rc)"

# --- check-config ----------------------------------------------------------
"$TS" check-config -c "$C" >/dev/null; ok $? "check_config_ok_exit_0"
out=$("$TS" check-config -c "$C" -n)
echo "$out" | grep -q "^\[issuer corp\]" && echo "$out" | grep -q "kid=corp-1 alg=ES256 thumbprint=$(fx "d['thumbprints']['p256']")"
ok $? "check_config_n_prints_effective_config_with_keys"
sed 's/^max_lifetime    = 7200$/max_lifetime    = forever/' "$C" >"$dir/broken.conf"
line=$(grep -n "= forever" "$dir/broken.conf" | cut -d: -f1)
"$TS" check-config -c "$dir/broken.conf" 2>"$dir/err" >/dev/null
ok $(($? != 2)) "check_config_error_exit_2"
grep -q "broken.conf:$line: max_lifetime" "$dir/err"
ok $? "check_config_reports_seeded_error_at_line_$line ($(cat "$dir/err"))"
# K11: a broken line of the revoked-key list fails check-config
mkdir -p "$dir/k11" && chmod 755 "$dir/k11"
cp "$dir"/*.pub.pem "$dir"/*.map "$dir/k11/" && cp "$C" "$dir/k11/tokenscope.conf"
{ cat "$dir/revoked-keys"; echo "not-a-thumbprint"; } >"$dir/k11/revoked-keys"
chmod 644 "$dir/k11/revoked-keys"
"$TS" check-config -c "$dir/k11/tokenscope.conf" 2>"$dir/err" >/dev/null
rc=$?
grep -q "revoked-keys:2: not an RFC 7638" "$dir/err"
ok $((rc != 2 || $? != 0)) "K11_check_config_fails_on_a_broken_revocation_line ($(cat "$dir/err"))"

cp "$TS_SRCDIR/packaging/tokenscope.conf" "$dir/shipped.conf" && chmod 644 "$dir/shipped.conf"
"$TS" check-config -c "$dir/shipped.conf" >/dev/null
ok $? "shipped_example_config_loads"
printf '%s' "$good" | "$TS" verify -c "$dir/shipped.conf" -s dovecot -u alice --time $NOW >/dev/null
ok $(($? != 1)) "shipped_example_config_trusts_nothing"

# --- keys --------------------------------------------------------------------
out=$("$TS" keys -c "$C" --time $NOW)
ok $? "keys_exit_0"
echo "$out" | grep -E "^corp +corp-old +ES384 .* expired " >/dev/null
ok $? "keys_marks_expired_key"
echo "$out" | grep -E "^corp +corp-revoked +EdDSA +$(fx "d['thumbprints']['ed448']") .* revoked " >/dev/null
ok $? "keys_marks_revoked_key"
echo "$out" | grep -E "^corp +corp-future .* not-yet-valid " >/dev/null
ok $? "keys_marks_not_yet_valid_key"
"$TS" keys -c "$C" --time 1699990000 | grep -E "^corp +corp-old .* expiring " >/dev/null
ok $? "keys_marks_key_expiring_within_30_days"

# --- help on every subcommand -------------------------------------------------
for sub in verify explain check-config keys mint audit; do
	"$TS" $sub --help | grep -q "usage: tokenscope $sub" || { echo "# $sub --help"; false; } || break
done
ok $? "help_on_every_subcommand"
"$TS" frobnicate >/dev/null 2>&1; ok $(($? != 2)) "unknown_command_exit_2"
"$TS" >/dev/null 2>&1; ok $(($? != 2)) "no_command_exit_2"

echo "1..$n"
exit $failed
