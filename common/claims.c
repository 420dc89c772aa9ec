/* claims.c: claim policy (see claims.h). */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "claims.h"

/* 9999-12-31T23:59:59Z: anything later is absurd for a token */
#define NUMERICDATE_MAX 253402300799LL

static ts_reason
step(ts_step_fn *fn, void *arg, const char *name, ts_reason r, ts_err *e)
{
	if (fn != NULL)
		fn(arg, name, r, r == TS_OK ? "" : (e ? e->msg : ""));
	return r;
}

/* C1: NumericDate as integer or real (a real is floored, never read as 0). */
static ts_reason
numeric_date(
    const json_t *claims, const char *name, int required, long long *out, int *present, ts_err *e)
{
	const json_t *v = json_object_get(claims, name);
	double d;

	*present = v != NULL;
	if (v == NULL)
		return required
		    ? ts_fail(e, TS_R_MISSING_CLAIM, "required claim \"%s\" is missing", name)
		    : TS_OK;
	if (json_is_integer(v)) {
		*out = (long long)json_integer_value(v);
	} else if (json_is_real(v)) {
		d = json_real_value(v);
		if (!isfinite(d) || d < 0 || d > (double)NUMERICDATE_MAX)
			return ts_fail(e, TS_R_INVALID_CLAIM, "\"%s\" is out of range", name);
		*out = (long long)floor(d);
	} else {
		return ts_fail(e, TS_R_INVALID_CLAIM, "\"%s\" is not a number", name);
	}
	if (*out < 0 || *out > NUMERICDATE_MAX)
		return ts_fail(e, TS_R_INVALID_CLAIM, "\"%s\" is out of range", name);
	return TS_OK;
}

static ts_reason
check_times(const json_t *claims, const ts_issuer_conf *is, long skew, time_t now,
    long long *exp_out, ts_err *e)
{
	long long exp = 0, iat = 0, nbf = 0, t = (long long)now;
	int has_exp, has_iat, has_nbf;
	ts_reason r;

	if ((r = numeric_date(claims, "exp", 1, &exp, &has_exp, e)) != TS_OK ||
	    (r = numeric_date(claims, "iat", 1, &iat, &has_iat, e)) != TS_OK ||
	    (r = numeric_date(claims, "nbf", 0, &nbf, &has_nbf, e)) != TS_OK)
		return r;
	*exp_out = exp;
	if (exp + skew <= t)
		return ts_fail(
		    e, TS_R_EXPIRED, "token expired (exp=%lld, now=%lld, skew=%ld)", exp, t, skew);
	if (has_nbf && nbf > t + skew)
		return ts_fail(
		    e, TS_R_NOT_YET_VALID, "token not yet valid (nbf=%lld, now=%lld)", nbf, t);
	if (iat > t + skew)
		return ts_fail(e, TS_R_ISSUED_IN_FUTURE,
		    "token issued in the future (iat=%lld, now=%lld)", iat, t);
	if (exp < iat)
		return ts_fail(e, TS_R_INVALID_CLAIM, "exp is before iat");
	if (exp - iat > is->max_lifetime)
		return ts_fail(e, TS_R_LIFETIME_EXCEEDED,
		    "lifetime exp-iat=%lld exceeds max_lifetime=%ld", exp - iat, is->max_lifetime);
	if (is->has_revoke_before && iat < (long long)is->revoke_before)
		return ts_fail(e, TS_R_TOKEN_REVOKED, "issued before the issuer's revoke_before");
	return TS_OK;
}

static int
in_list(const ts_strlist *l, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strlen(l->v[i]) == len && memcmp(l->v[i], s, len) == 0)
			return 1;
	return 0;
}

static int
typ_is_at_jwt(const char *typ)
{
	return strcasecmp(typ, "at+jwt") == 0 || strcasecmp(typ, "application/at+jwt") == 0;
}

/* C3, plus ID-token refusal under both profiles. */
static ts_reason
check_type(const json_t *claims, const char *typ, const ts_issuer_conf *is, ts_err *e)
{
	const json_t *aud = json_object_get(claims, "aud"), *azp = json_object_get(claims, "azp");
	size_t i;

	if (json_object_get(claims, "nonce") != NULL || json_object_get(claims, "at_hash") != NULL)
		return ts_fail(
		    e, TS_R_ID_TOKEN, "an ID token (nonce or at_hash), not an access token");
	if (is->token_type == TS_TYP_AT_JWT) {
		if (typ == NULL || !typ_is_at_jwt(typ))
			return ts_fail(e, TS_R_WRONG_TOKEN_TYPE, "typ must be at+jwt (RFC 9068)");
		return TS_OK;
	}
	if (typ != NULL && strcasecmp(typ, "JWT") != 0 && !typ_is_at_jwt(typ))
		return ts_fail(e, TS_R_WRONG_TOKEN_TYPE, "typ is neither JWT nor at+jwt");
	/* an ID token's audience is the client it was issued to */
	for (i = 0; i < (json_is_array(aud) ? json_array_size(aud) : 1); i++) {
		const json_t *a = json_is_array(aud) ? json_array_get(aud, i) : aud;

		if (!json_is_string(a))
			continue;
		if ((json_is_string(azp) && json_equal(a, azp)) ||
		    in_list(&is->clients, json_string_value(a), json_string_length(a)))
			return ts_fail(
			    e, TS_R_ID_TOKEN, "audience is the client itself: an ID token");
	}
	return TS_OK;
}

/* C2 */
static ts_reason
check_aud(const json_t *claims, const ts_service_conf *svc, ts_err *e)
{
	const json_t *aud = json_object_get(claims, "aud");
	size_t i, n;
	int match = 0;

	if (aud == NULL)
		return ts_fail(e, TS_R_MISSING_CLAIM, "required claim \"aud\" is missing");
	if (json_is_string(aud))
		return in_list(&svc->audiences, json_string_value(aud), json_string_length(aud))
		    ? TS_OK
		    : ts_fail(e, TS_R_AUDIENCE_MISMATCH, "no audience accepted by service %s",
		          svc->name);
	if (!json_is_array(aud) || (n = json_array_size(aud)) == 0)
		return ts_fail(e, TS_R_INVALID_CLAIM, "\"aud\" is not a string or non-empty array");
	for (i = 0; i < n; i++) {
		const json_t *a = json_array_get(aud, i);

		if (!json_is_string(a))
			return ts_fail(e, TS_R_INVALID_CLAIM, "\"aud\" array holds a non-string");
		match |= in_list(&svc->audiences, json_string_value(a), json_string_length(a));
	}
	return match
	    ? TS_OK
	    : ts_fail(e, TS_R_AUDIENCE_MISMATCH, "no audience accepted by service %s", svc->name);
}

/* C5 */
static ts_reason
check_tenant_client(const json_t *claims, const ts_issuer_conf *is, ts_err *e)
{
	const json_t *tid = json_object_get(claims, "tid"), *c;

	if (is->tenant != NULL &&
	    !(json_is_string(tid) && strcmp(json_string_value(tid), is->tenant) == 0 &&
	        json_string_length(tid) == strlen(is->tenant)))
		return ts_fail(e, TS_R_TENANT_MISMATCH, "tid is not tenant %s", is->tenant);
	if (is->clients.n == 0)
		return TS_OK;
	c = json_object_get(claims, "azp");
	if (c == NULL)
		c = json_object_get(claims, "client_id");
	if (!json_is_string(c) ||
	    !in_list(&is->clients, json_string_value(c), json_string_length(c)))
		return ts_fail(e, TS_R_CLIENT_MISMATCH, "azp/client_id is not an allowed client");
	return TS_OK;
}

/* Whole-word search of `want` in a space-separated list. */
static int
has_word(const char *list, size_t len, const char *want)
{
	size_t wl = strlen(want), i = 0;

	while (i < len) {
		size_t j = i;

		while (j < len && list[j] != ' ')
			j++;
		if (j - i == wl && memcmp(list + i, want, wl) == 0)
			return 1;
		i = j + 1;
	}
	return 0;
}

/* C4 */
static ts_reason
check_scopes(const json_t *claims, const ts_service_conf *svc, ts_err *e)
{
	const json_t *scope = json_object_get(claims, "scope"),
	             *scp = json_object_get(claims, "scp");
	size_t i, k;

	if (svc->required_scopes.n == 0)
		return TS_OK;
	if (scope != NULL && !json_is_string(scope))
		return ts_fail(e, TS_R_INVALID_CLAIM, "\"scope\" is not a string");
	if (scp != NULL && !json_is_string(scp) && !json_is_array(scp))
		return ts_fail(e, TS_R_INVALID_CLAIM, "\"scp\" is not a string or array");
	for (i = 0; i < svc->required_scopes.n; i++) {
		const char *want = svc->required_scopes.v[i];
		int found = 0;

		if (scope != NULL)
			found = has_word(json_string_value(scope), json_string_length(scope), want);
		if (!found && json_is_string(scp))
			found = has_word(json_string_value(scp), json_string_length(scp), want);
		if (!found && json_is_array(scp)) {
			for (k = 0; k < json_array_size(scp) && !found; k++) {
				const json_t *s = json_array_get(scp, k);

				if (!json_is_string(s))
					return ts_fail(e, TS_R_INVALID_CLAIM,
					    "\"scp\" array holds a non-string");
				found = strlen(want) == json_string_length(s) &&
				    memcmp(json_string_value(s), want, json_string_length(s)) == 0;
			}
		}
		if (!found)
			return ts_fail(
			    e, TS_R_INSUFFICIENT_SCOPE, "required scope %s is missing", want);
	}
	return TS_OK;
}

int
ts_username_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > TS_USER_MAX || s[0] == '-')
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		        c == '.' || c == '_' || c == '@' || c == '-'))
			return 0;
	}
	return 1;
}

/* C6 */
static ts_reason
map_user(const json_t *claims, const ts_issuer_conf *is, const char *req_user, ts_claims_out *out,
    ts_err *e)
{
	const json_t *v = json_object_get(claims, is->username_claim);
	const char *s;
	size_t len;

	if (v == NULL)
		return ts_fail(
		    e, TS_R_BAD_USERNAME, "username claim \"%s\" is missing", is->username_claim);
	if (!json_is_string(v))
		return ts_fail(e, TS_R_BAD_USERNAME, "username claim \"%s\" is not a string",
		    is->username_claim);
	s = json_string_value(v);
	len = json_string_length(v);
	if (strlen(s) != len || !ts_username_ok(s, len))
		return ts_fail(e, TS_R_BAD_USERNAME,
		    "username claim \"%s\" is not 1-256 bytes of [A-Za-z0-9._@-]",
		    is->username_claim);
	if (is->strip_domain != NULL) {
		size_t dl = strlen(is->strip_domain);

		if (len > dl + 1 && s[len - dl - 1] == '@' &&
		    memcmp(s + len - dl, is->strip_domain, dl) == 0)
			len -= dl + 1;
	}
	memcpy(out->user, s, len);
	out->user[len] = '\0';
	if (req_user != NULL && (strlen(req_user) != len || memcmp(req_user, s, len) != 0))
		return ts_fail(e, TS_R_USER_MISMATCH, "token is for another user");
	return TS_OK;
}

ts_reason
ts_claims_check(const json_t *claims, const char *typ, const ts_issuer_conf *is,
    const ts_service_conf *svc, long skew, time_t now, const char *req_user, ts_claims_out *out,
    ts_step_fn *fn, void *arg, ts_err *e)
{
	ts_reason r;

	out->user[0] = '\0';
	out->exp = 0;
	if ((r = step(fn, arg, "times (exp, nbf, iat, max_lifetime)",
	         check_times(claims, is, skew, now, &out->exp, e), e)) != TS_OK)
		return r;
	if ((r = step(fn, arg, "token type", check_type(claims, typ, is, e), e)) != TS_OK)
		return r;
	if ((r = step(fn, arg, "audience", check_aud(claims, svc, e), e)) != TS_OK)
		return r;
	if ((r = step(fn, arg, "tenant and client", check_tenant_client(claims, is, e), e)) !=
	    TS_OK)
		return r;
	if ((r = step(fn, arg, "scopes", check_scopes(claims, svc, e), e)) != TS_OK)
		return r;
	if ((r = step(fn, arg, "username", map_user(claims, is, req_user, out, e), e)) != TS_OK) {
		out->user[0] = '\0';
		return r;
	}
	return TS_OK;
}
