#!/bin/sh
# t_dovecot_cache.sh: D1 shown on a real Dovecot. With its auth cache on, a
# token that expires during the test still logs in after its expiry,
# served from the cache without asking pam_token.so (which refuses it, as
# `tokenscope verify` shows at the same moment); `tokenscope doctor` names
# that configuration a trap. With the recommended setting (auth cache off)
# the same sequence ends in Dovecot's refusal and the doctor finds nothing.
set -u
. "$(dirname "$0")/common.sh"
dovecot_imap_missing && skip_all "dovecot-imapd is not installed (scripts/deps.sh test installs it)"
[ -f "$PAM_WRAPPER_LIB" ] || skip_all "libpam-wrapper is not installed"
TS="$TS_BUILDDIR/tools/tokenscope"
[ -n "${TS_E2E_INSTALLED:-}" ] && TS=tokenscope

e2e_dir dovecot-cache
policy_in "$W"
# no clock skew: the token is refused by the validator from its exp on
sed -i 's/^clock_skew .*/clock_skew = 0/' "$W/tokenscope.conf"
dovecot_setup dovecot-cache
trap dovecot_stop EXIT
# the 2.3 pam passdb caches only with a cache_key; 2.4 keys it by itself
CACHE_ON="auth_cache_size = 1M
auth_cache_ttl = 1 hour"
LIFETIME=8

# run_case NAME EXTRA PAM_ARGS: start Dovecot, log in with a good token and
# with a token that expires LIFETIME seconds later, wait for its expiry,
# log in with it again; prints that last client's exit status
run_case() {
	PORT=$(free_port)
	dovecot_conf "$PORT" "$2" "$3"
	dovecot_start
	wait_banner "$PORT" "* OK"
	ok $? "dovecot_${DOVECOT_VERSION}_$1_started"
	imap login alice "$(tok good_corp_es256)"; accepted $? "dovecot_$1_good_token_logs_in"
	set -- "$1" "$(mint_expiring good_corp_es256 $LIFETIME)"
	short=$(echo "$2" | head -1)
	exp=$(echo "$2" | tail -1)
	imap login alice "$short"; accepted $? "dovecot_$1_short_lived_token_logs_in_before_exp"
	# waiting for the expiry is not a timing threshold: only the order matters
	while [ "$(date +%s)" -le "$exp" ]; do sleep 1; done
	echo "$short" | "$TS" verify -c "$W/tokenscope.conf" -s dovecot -u alice >/dev/null 2>&1
	[ $? = 1 ]; ok $? "C1_dovecot_$1_validator_refuses_the_token_after_exp"
	imap login alice "$short"
	last=$?
	sigs="$sigs ${short##*.}"
}
sigs=""

run_case cache_on "$CACHE_ON" "cache_key=%u%w"
accepted $last "D1_dovecot_auth_cache_accepts_the_token_after_exp_from_its_cache"
"$TS" doctor -c "$W/tokenscope.conf" --root "$W/none" --pam-dir "$PAMDIR" \
	--dovecot-config "$W/dovecot.conf" >"$W/doctor.out" 2>&1
rc=$?
[ $rc = 2 ] && grep -q "^D1_dovecot_auth_cache: trap" "$W/doctor.out"
ok $? "D1_doctor_names_the_auth_cache_a_trap (exit $rc)"
dovecot_halt

run_case cache_off "" ""
refused $last "D1_dovecot_without_auth_cache_refuses_the_token_after_exp"
"$TS" doctor -c "$W/tokenscope.conf" --root "$W/none" --pam-dir "$PAMDIR" \
	--dovecot-config "$W/dovecot.conf" >"$W/doctor.out" 2>&1
! grep -q "^D1_" "$W/doctor.out"
ok $? "D1_doctor_finds_no_auth_cache_trap_with_the_cache_off"
leak=0
for v in $(tok good_corp_es256 | cut -c1-60) $sigs; do
	grep -qF "$v" "$W/dovecot.log" && leak=1
done
ok $leak "M3_dovecot_cache_log_never_holds_a_token"
finish
