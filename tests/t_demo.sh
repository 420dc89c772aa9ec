#!/bin/sh
# t_demo.sh: the README's demo runs and shows the decisions it promises.
set -u
: "${TS_SRCDIR:?}"
command -v openssl >/dev/null || { echo "1..0 # SKIP openssl command missing"; exit 0; }
out=$(TOKENSCOPE_BUILD="${TS_BUILDDIR:?}" "$TS_SRCDIR/scripts/demo-run.sh" 2>&1)
rc=$?
n=0 failed=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi; }
ok $rc "demo_exits_0"
row() { # label expect cli-result: the PAM column must agree
	case "$3" in accepted) pam="accepted" sasl="accepted" ;; *) pam="refused: PAM_AUTH_ERR" sasl="refused: SASL_BADAUTH" ;; esac
	echo "$out" | grep -E "^$1 +$2 +$3 +$pam +$sasl\$" >/dev/null; ok $? "demo_row: $1 -> $3 (CLI, PAM and SASL)"
}
row "good corp token, user alice, imap" accept "accepted"
row "forgery: partner key, corp iss \(partner kid\)" refuse "refused: unknown_key"
row "forgery: partner key, corp iss \(corp's kid\)" refuse "refused: bad_signature"
row "expired key corp-2023, fresh token" refuse "refused: key_expired"
row "token for smtp used at imap \(audience\)" refuse "refused: audience_mismatch"
row "good token, but logging in as bob" refuse "refused: user_mismatch"
row "good smtp token at smtp" accept "accepted"
echo "$out" | grep -q "FAIL  signature .*first failure"; ok $? "demo_explains_the_forgery"
echo "$out" | grep -qE "^ +corp +corp-2023 .* expired "; ok $? "demo_keys_shows_expired_key"
echo "$out" | grep -q "UNEXPECTED"; ok $((! $?)) "demo_reports_no_unexpected_result"
echo "1..$n"
exit $failed
