/* reason.c: names of the reason codes (see reason.h). */
#include "config.h"

#include "reason.h"

static const char *const names[TS_R__COUNT] = {
	[TS_OK] = "ok",
	[TS_R_MALFORMED] = "malformed",
	[TS_R_TOO_LARGE] = "too_large",
	[TS_R_TRUNCATED] = "truncated",
	[TS_R_UNSUPPORTED_HEADER] = "unsupported_header",
	[TS_R_ALG_NOT_ALLOWED] = "alg_not_allowed",
	[TS_R_UNKNOWN_SERVICE] = "unknown_service",
	[TS_R_UNKNOWN_ISSUER] = "unknown_issuer",
	[TS_R_UNKNOWN_KEY] = "unknown_key",
	[TS_R_AMBIGUOUS_KEY] = "ambiguous_key",
	[TS_R_KEY_EXPIRED] = "key_expired",
	[TS_R_KEY_NOT_YET_VALID] = "key_not_yet_valid",
	[TS_R_KEY_REVOKED] = "key_revoked",
	[TS_R_KEY_ISSUER_MISMATCH] = "key_issuer_mismatch",
	[TS_R_BAD_SIGNATURE] = "bad_signature",
	[TS_R_MISSING_CLAIM] = "missing_claim",
	[TS_R_INVALID_CLAIM] = "invalid_claim",
	[TS_R_EXPIRED] = "expired",
	[TS_R_NOT_YET_VALID] = "not_yet_valid",
	[TS_R_ISSUED_IN_FUTURE] = "issued_in_future",
	[TS_R_LIFETIME_EXCEEDED] = "lifetime_exceeded",
	[TS_R_TOKEN_REVOKED] = "token_revoked",
	[TS_R_AUDIENCE_MISMATCH] = "audience_mismatch",
	[TS_R_TENANT_MISMATCH] = "tenant_mismatch",
	[TS_R_CLIENT_MISMATCH] = "client_mismatch",
	[TS_R_WRONG_TOKEN_TYPE] = "wrong_token_type",
	[TS_R_ID_TOKEN] = "id_token",
	[TS_R_INSUFFICIENT_SCOPE] = "insufficient_scope",
	[TS_R_BAD_USERNAME] = "bad_username",
	[TS_R_USER_MISMATCH] = "user_mismatch",
	[TS_R_REPLAYED] = "replayed",
	[TS_R_CONFIG_ERROR] = "config_error",
	[TS_R_INTERNAL] = "internal_error",
	[TS_R_GROUP_REQUIRED] = "group_required",
	[TS_R_GROUP_DENIED] = "group_denied",
	[TS_R_GROUPS_OVERAGE] = "groups_overage",
	[TS_R_ACR_REFUSED] = "acr_refused",
	[TS_R_AMR_MISSING] = "amr_missing",
	[TS_R_AUTH_TIME_MISSING] = "auth_time_missing",
	[TS_R_AUTH_IN_FUTURE] = "auth_in_future",
	[TS_R_AUTH_TOO_OLD] = "auth_too_old",
	[TS_R_USER_UNMAPPED] = "user_unmapped",
	[TS_R_USER_NOT_ALLOWED] = "user_not_allowed",
	[TS_R_USER_DENIED] = "user_denied",
	[TS_R_ROOT_REFUSED] = "root_refused",
};

const char *
ts_reason_str(ts_reason r)
{
	if ((unsigned)r >= TS_R__COUNT || names[r] == 0)
		return "internal_error";
	return names[r];
}

int
ts_reason_is_authz(ts_reason r)
{
	switch (r) {
	case TS_R_INSUFFICIENT_SCOPE:
	case TS_R_GROUP_REQUIRED:
	case TS_R_GROUP_DENIED:
	case TS_R_GROUPS_OVERAGE:
	case TS_R_ACR_REFUSED:
	case TS_R_AMR_MISSING:
	case TS_R_AUTH_TIME_MISSING:
	case TS_R_AUTH_TOO_OLD:
	case TS_R_USER_UNMAPPED:
	case TS_R_USER_NOT_ALLOWED:
	case TS_R_USER_DENIED:
	case TS_R_ROOT_REFUSED: return 1;
	default: return 0;
	}
}
