#!/bin/sh
# The demo: installs what is missing, builds, and shows the core at work.
# Until the admin command exists (it brings the full two-issuer demo through
# PAM and SASL), this runs the core's self-check: tokens made by an
# independent signer verified per algorithm, and the attacks refused.
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh build
scripts/build.sh
make -s tests/t_sig_rules tests/t_jws_parse >/dev/null
export TS_FIXTURES="$(pwd)/tests/fixtures"
echo "tokenscope core self-check (the admin command and PAM/SASL paths are not built yet)"
for t in t_sig_rules t_jws_parse; do
	out=$(./tests/$t)
	n=$(echo "$out" | grep -c '^ok')
	bad=$(echo "$out" | grep -c '^not ok' || true)
	printf '  %-14s %4d checks passed, %d failed\n' "$t" "$n" "$bad"
	echo "$out" | grep -E '^ok .*(independent_signer|K9_|A1_alg_none_all|A2_hs256_with_public_key_pem )' | sed 's/^ok [0-9]* - /    refused or verified as expected: /'
	[ "$bad" = 0 ] || exit 1
done
