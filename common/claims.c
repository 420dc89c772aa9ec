/* claims.c: claim policy (see claims.h). */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "claims.h"

/* 9999-12-31T23:59:59Z: anything later is absurd for a token */
#define NUMERICDATE_MAX 253402300799LL

/* C1: NumericDate as integer or real (a real is floored, never read as 0). */
ts_reason
ts_numeric_date(
    const ts_jv *claims, const char *name, int required, long long *out, int *present, ts_err *e)
{
	const ts_jv *v = ts_jv_get(claims, name);
	double d;

	*present = v != NULL;
	if (v == NULL)
		return required
		    ? ts_fail(e, TS_R_MISSING_CLAIM, "required claim \"%s\" is missing", name)
		    : TS_OK;
	if (ts_jv_is(v, TS_JSON_INTEGER)) {
		*out = v->u.i;
	} else if (ts_jv_is(v, TS_JSON_REAL)) {
		d = v->u.d;
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
check_times(const ts_claims_in *in, ts_claims_out *out, ts_err *e)
{
	const ts_jv *claims = in->claims;
	const ts_issuer_conf *is = in->is;
	long skew = in->skew;
	long long exp = 0, iat = 0, nbf = 0, t = (long long)in->now;
	int has_exp, has_iat, has_nbf;
	ts_reason r;

	if ((r = ts_numeric_date(claims, "exp", 1, &exp, &has_exp, e)) != TS_OK ||
	    (r = ts_numeric_date(claims, "iat", 1, &iat, &has_iat, e)) != TS_OK ||
	    (r = ts_numeric_date(claims, "nbf", 0, &nbf, &has_nbf, e)) != TS_OK)
		return r;
	out->exp = exp;
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

int
ts_strlist_has(const ts_strlist *l, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strlen(l->v[i]) == len && memcmp(l->v[i], s, len) == 0)
			return 1;
	return 0;
}

int
ts_ascii_caseeq(const char *a, const char *b)
{
	/* not strcasecmp: it follows LC_CTYPE, and the host application's
	 * locale may fold a non-ASCII byte onto 'i' (tr_TR.ISO-8859-9 maps
	 * 0xDD to 'i') or 'I' onto a non-ASCII byte */
	for (;; a++, b++) {
		unsigned char x = (unsigned char)*a, y = (unsigned char)*b;

		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y - 'A' + 'a');
		if (x != y)
			return 0;
		if (x == '\0')
			return 1;
	}
}

static int
typ_is_at_jwt(const char *typ)
{
	return ts_ascii_caseeq(typ, "at+jwt") || ts_ascii_caseeq(typ, "application/at+jwt");
}

/* C3, plus ID-token refusal under both profiles. */
static ts_reason
check_type(const ts_claims_in *in, ts_claims_out *out, ts_err *e)
{
	const ts_jv *claims = in->claims;
	const char *typ = in->typ;
	const ts_issuer_conf *is = in->is;
	const ts_jv *aud = ts_jv_get(claims, "aud"), *azp = ts_jv_get(claims, "azp"), *a;
	const ts_jv *ptyp = ts_jv_get(claims, "typ");
	size_t i, n = ts_jv_is(aud, TS_JSON_ARRAY) ? aud->n : 1;

	if (ts_jv_get(claims, "nonce") != NULL || ts_jv_get(claims, "at_hash") != NULL)
		return ts_fail(
		    e, TS_R_ID_TOKEN, "an ID token (nonce or at_hash), not an access token");
	/* Keycloak types its tokens in the payload too: "Bearer" for access
	 * tokens; its ID, refresh, offline and logout tokens are never one */
	if (ts_jv_is(ptyp, TS_JSON_STRING)) {
		if (ts_ascii_caseeq(ptyp->u.s, "ID"))
			return ts_fail(e, TS_R_ID_TOKEN, "payload typ is ID: an ID token");
		if (ts_ascii_caseeq(ptyp->u.s, "Refresh") ||
		    ts_ascii_caseeq(ptyp->u.s, "Offline") || ts_ascii_caseeq(ptyp->u.s, "Logout"))
			return ts_fail(e, TS_R_WRONG_TOKEN_TYPE,
			    "payload typ says this is not an access token");
	}
	if (is->token_type == TS_TYP_AT_JWT) {
		if (typ == NULL || !typ_is_at_jwt(typ))
			return ts_fail(e, TS_R_WRONG_TOKEN_TYPE, "typ must be at+jwt (RFC 9068)");
		return TS_OK;
	}
	if (typ != NULL && !ts_ascii_caseeq(typ, "JWT") && !typ_is_at_jwt(typ))
		return ts_fail(e, TS_R_WRONG_TOKEN_TYPE, "typ is neither JWT nor at+jwt");
	if (is->accept_client_audience)
		return TS_OK;
	/* an ID token's audience is the client it was issued to */
	a = ts_jv_is(aud, TS_JSON_ARRAY) ? aud + 1 : aud;
	for (i = 0; i < n && a != NULL; i++, a += a->skip) {
		if (!ts_jv_is(a, TS_JSON_STRING))
			continue;
		if ((ts_jv_is(azp, TS_JSON_STRING) && azp->n == a->n &&
		        memcmp(azp->u.s, a->u.s, a->n) == 0) ||
		    ts_strlist_has(&is->clients, a->u.s, a->n))
			return ts_fail(
			    e, TS_R_ID_TOKEN, "audience is the client itself: an ID token");
	}
	return TS_OK;
}

/* C2 */
static ts_reason
check_aud(const ts_claims_in *in, ts_claims_out *out, ts_err *e)
{
	const ts_service_conf *svc = in->svc;
	const ts_jv *aud = ts_jv_get(in->claims, "aud"), *a;
	size_t i;
	int match = 0;

	if (aud == NULL)
		return ts_fail(e, TS_R_MISSING_CLAIM, "required claim \"aud\" is missing");
	if (ts_jv_is(aud, TS_JSON_STRING))
		return ts_strlist_has(&svc->audiences, aud->u.s, aud->n)
		    ? TS_OK
		    : ts_fail(e, TS_R_AUDIENCE_MISMATCH, "no audience accepted by service %s",
		          svc->name);
	if (!ts_jv_is(aud, TS_JSON_ARRAY) || aud->n == 0)
		return ts_fail(e, TS_R_INVALID_CLAIM, "\"aud\" is not a string or non-empty array");
	for (i = 0, a = aud + 1; i < aud->n; i++, a += a->skip) {
		if (!ts_jv_is(a, TS_JSON_STRING))
			return ts_fail(e, TS_R_INVALID_CLAIM, "\"aud\" array holds a non-string");
		match |= ts_strlist_has(&svc->audiences, a->u.s, a->n);
	}
	return match
	    ? TS_OK
	    : ts_fail(e, TS_R_AUDIENCE_MISMATCH, "no audience accepted by service %s", svc->name);
}

/* C5 */
static ts_reason
check_tenant_client(const ts_claims_in *in, ts_claims_out *out, ts_err *e)
{
	const ts_jv *claims = in->claims;
	const ts_issuer_conf *is = in->is;
	const ts_jv *tid = ts_jv_get(claims, "tid"), *c;

	if (in->tenant != NULL &&
	    !(ts_jv_is(tid, TS_JSON_STRING) && tid->n == strlen(in->tenant) &&
	        memcmp(tid->u.s, in->tenant, tid->n) == 0))
		return ts_fail(e, TS_R_TENANT_MISMATCH, "tid is not tenant %s", in->tenant);
	if (is->clients.n == 0)
		return TS_OK;
	c = ts_jv_get(claims, "azp");
	if (c == NULL)
		c = ts_jv_get(claims, "client_id");
	if (c == NULL)
		c = ts_jv_get(claims, "cid"); /* Okta */
	if (!ts_jv_is(c, TS_JSON_STRING) || !ts_strlist_has(&is->clients, c->u.s, c->n))
		return ts_fail(
		    e, TS_R_CLIENT_MISMATCH, "azp/client_id/cid is not an allowed client");
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
check_scopes(const ts_claims_in *in, ts_claims_out *out, ts_err *e)
{
	const ts_service_conf *svc = in->svc;
	const ts_jv *scope = ts_jv_get(in->claims, "scope"), *scp = ts_jv_get(in->claims, "scp"),
	            *s;
	size_t i, k;

	if (svc->required_scopes.n == 0)
		return TS_OK;
	if (scope != NULL && !ts_jv_is(scope, TS_JSON_STRING))
		return ts_fail(e, TS_R_INVALID_CLAIM, "\"scope\" is not a string");
	if (scp != NULL && !ts_jv_is(scp, TS_JSON_STRING) && !ts_jv_is(scp, TS_JSON_ARRAY))
		return ts_fail(e, TS_R_INVALID_CLAIM, "\"scp\" is not a string or array");
	for (i = 0; i < svc->required_scopes.n; i++) {
		const char *want = svc->required_scopes.v[i];
		int found = 0;

		if (scope != NULL)
			found = has_word(scope->u.s, scope->n, want);
		if (!found && ts_jv_is(scp, TS_JSON_STRING))
			found = has_word(scp->u.s, scp->n, want);
		if (!found && ts_jv_is(scp, TS_JSON_ARRAY)) {
			for (k = 0, s = scp + 1; k < scp->n && !found; k++, s += s->skip) {
				if (!ts_jv_is(s, TS_JSON_STRING))
					return ts_fail(e, TS_R_INVALID_CLAIM,
					    "\"scp\" array holds a non-string");
				found = strlen(want) == s->n && memcmp(s->u.s, want, s->n) == 0;
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

/* C6, then C10's map */
static ts_reason
map_user(const ts_claims_in *in, ts_claims_out *out, ts_err *e)
{
	const ts_issuer_conf *is = in->is;
	const char *req_user = in->user;
	const ts_jv *v = ts_jv_get(in->claims, is->username_claim);
	const char *s;
	size_t len;
	ts_reason r;

	if (v == NULL)
		return ts_fail(
		    e, TS_R_BAD_USERNAME, "username claim \"%s\" is missing", is->username_claim);
	if (!ts_jv_is(v, TS_JSON_STRING))
		return ts_fail(e, TS_R_BAD_USERNAME, "username claim \"%s\" is not a string",
		    is->username_claim);
	s = v->u.s;
	len = v->n;
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
	if ((r = ts_map_user(in, &s, &len, e)) != TS_OK)
		return r;
	memcpy(out->user, s, len);
	out->user[len] = '\0';
	if (req_user != NULL && (strlen(req_user) != len || memcmp(req_user, s, len) != 0))
		return ts_fail(e, TS_R_USER_MISMATCH, "token is for another user");
	return TS_OK;
}

/* The checks in the order explain lists them; a new claim rule is one
 * more function and one more row. */
static const struct claim_check {
	const char *name;
	ts_reason (*fn)(const ts_claims_in *in, ts_claims_out *out, ts_err *e);
} checks[] = {
	{ "times (exp, nbf, iat, max_lifetime)", check_times },
	{ "token type", check_type },
	{ "audience", check_aud },
	{ "tenant and client", check_tenant_client },
	{ "scopes", check_scopes },
	{ "groups and roles", ts_check_groups },
	{ "acr", ts_check_acr },
	{ "amr", ts_check_amr },
	{ "authentication age", ts_check_auth_age },
	{ "username", map_user },
	{ "local user", ts_check_local_user },
};

ts_reason
ts_claims_check(const ts_claims_in *in, ts_claims_out *out, ts_err *e)
{
	ts_reason r = TS_OK;
	size_t i;

	out->user[0] = '\0';
	out->exp = 0;
	for (i = 0; i < sizeof(checks) / sizeof(checks[0]) && r == TS_OK; i++) {
		r = checks[i].fn(in, out, e);
		if (in->step != NULL)
			in->step(in->step_arg, checks[i].name, r, r == TS_OK ? "" : e->msg);
	}
	/* C6: a user is named only for a token that passed every check */
	if (r != TS_OK)
		out->user[0] = '\0';
	return r;
}
