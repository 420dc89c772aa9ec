/*
 * reason.h: the one flat table of decision reason codes.
 *
 * Every rejection in tokenscope carries exactly one of these. Their strings
 * are a stable, documented vocabulary (tokenscope(1), logs, tests): never
 * rename one, only add. PAM and SASL return codes are chosen from these at
 * the edge, never inside common/.
 */
#ifndef TS_REASON_H
#define TS_REASON_H

typedef enum ts_reason {
	TS_OK = 0,
	TS_R_MALFORMED, /* not a well-formed compact JWS / JSON */
	TS_R_TOO_LARGE, /* token or a decoded part over its cap */
	TS_R_TRUNCATED, /* looks cut at a PAM/SASL buffer limit */
	TS_R_UNSUPPORTED_HEADER, /* crit, b64, zip, enc, cty: never understood */
	TS_R_ALG_NOT_ALLOWED, /* none, unknown, or not the key's own alg */
	TS_R_UNKNOWN_SERVICE, /* no [service] section for this service */
	TS_R_UNKNOWN_ISSUER, /* iss is not an issuer this service trusts */
	TS_R_UNKNOWN_KEY, /* no key for (issuer, kid) */
	TS_R_AMBIGUOUS_KEY, /* no kid and the issuer has != 1 usable key */
	TS_R_KEY_EXPIRED, /* key's validity window ended */
	TS_R_KEY_NOT_YET_VALID, /* key's validity window not started */
	TS_R_KEY_REVOKED, /* key thumbprint on the revoked list */
	TS_R_KEY_ISSUER_MISMATCH, /* the JWK names another issuer (Entra "issuer") */
	TS_R_BAD_SIGNATURE, /* signature does not verify */
	TS_R_MISSING_CLAIM, /* a required claim is absent */
	TS_R_INVALID_CLAIM, /* a claim has the wrong type or an absurd value */
	TS_R_EXPIRED, /* exp passed (beyond skew) */
	TS_R_NOT_YET_VALID, /* nbf in the future (beyond skew) */
	TS_R_ISSUED_IN_FUTURE, /* iat in the future (beyond skew) */
	TS_R_LIFETIME_EXCEEDED, /* exp - iat above max_lifetime */
	TS_R_TOKEN_REVOKED, /* iat before the issuer's revoke_before */
	TS_R_AUDIENCE_MISMATCH, /* no aud the service accepts */
	TS_R_TENANT_MISMATCH, /* tid differs from the issuer's tenant */
	TS_R_CLIENT_MISMATCH, /* azp / client_id not an allowed client */
	TS_R_WRONG_TOKEN_TYPE, /* typ does not fit the issuer's profile */
	TS_R_ID_TOKEN, /* an OpenID Connect ID token, not an access token */
	TS_R_INSUFFICIENT_SCOPE, /* a required scope is missing */
	TS_R_BAD_USERNAME, /* username claim missing or unsafe */
	TS_R_USER_MISMATCH, /* mapped user differs from the requested one */
	TS_R_REPLAYED, /* (iss, jti) already seen */
	TS_R_CONFIG_ERROR, /* configuration or key files unusable */
	TS_R_INTERNAL, /* allocation or library failure */
	TS_R_GROUP_REQUIRED, /* in none of the service's required_groups */
	TS_R_GROUP_DENIED, /* in one of the service's denied_groups */
	TS_R_GROUPS_OVERAGE, /* the groups were left out of the token (Entra) */
	TS_R_ACR_REFUSED, /* acr absent or not one the service accepts */
	TS_R_AMR_MISSING, /* a method of required_amr is not in amr */
	TS_R_AUTH_TIME_MISSING, /* max_auth_age set and no auth_time */
	TS_R_AUTH_IN_FUTURE, /* auth_time in the future (beyond skew) */
	TS_R_AUTH_TOO_OLD, /* auth_time older than max_auth_age (plus skew) */
	TS_R_USER_UNMAPPED, /* not in the user map, and the map is required */
	TS_R_USER_NOT_ALLOWED, /* local user not in allowed_users */
	TS_R_USER_DENIED, /* local user in denied_users */
	TS_R_ROOT_REFUSED, /* local user is root (uid 0) and allow_root is off */
	TS_R__COUNT
} ts_reason;

/* Stable lower-case name; never NULL (unknown values give "internal_error"). */
const char *ts_reason_str(ts_reason r);

/* 1 for a refusal of a valid token that does not grant this login
 * (scopes, groups, assurance, the local user's rules): RFC 7628's
 * "insufficient_scope" rather than "invalid_token". */
int ts_reason_is_authz(ts_reason r);

#endif
