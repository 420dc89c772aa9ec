/*
 * claims.h: the claim policy of one issuer and one service (rules C1-C6),
 * applied to the claims of a token whose signature has already verified.
 */
#ifndef TS_CLAIMS_H
#define TS_CLAIMS_H

#include <time.h>

#include "conf.h"
#include "err.h"
#include "json.h"
#include "tokenscope.h"

typedef struct ts_claims_out {
	char user[TS_USER_MAX + 1]; /* mapped user, set only when all passed */
	long long exp;
} ts_claims_out;

/* What the claim policy is applied to and against. */
typedef struct ts_claims_in {
	const ts_jv *claims; /* verified claims object */
	const char *typ; /* the header's typ, or NULL when absent */
	const ts_issuer_conf *is;
	/* C5: the tid the token must carry: the section's tenant, or the
	 * listed tenant its iss names (K16); NULL when not checked */
	const char *tenant;
	const ts_service_conf *svc;
	long skew;
	time_t now;
	const char *user; /* the requested user, or NULL when none is named */
	const ts_strlist *root_names; /* C11: uid-0 names (conf), or NULL */
	ts_step_fn *step; /* each check, in order (explain), or NULL */
	void *step_arg;
} ts_claims_in;

/* Runs every check in order, reporting each to in->step. Returns TS_OK or
 * the first failing reason; out->user is set only when all passed. */
ts_reason ts_claims_check(const ts_claims_in *in, ts_claims_out *out, ts_err *e);

/* C1: the NumericDate `name` of claims into *out (*present: whether the
 * claim is there); a wrong type or an absurd value is invalid_claim, and
 * absence missing_claim when required. */
ts_reason ts_numeric_date(
    const ts_jv *claims, const char *name, int required, long long *out, int *present, ts_err *e);

/* 1 when the list holds the string (s, len), byte for byte. */
int ts_strlist_has(const ts_strlist *l, const char *s, size_t len);

/* authz.c: who may log in, after who the token says it is. Each is one
 * row of the claim checks' table. */
ts_reason ts_check_groups(const ts_claims_in *in, ts_claims_out *out, ts_err *e); /* C8 */
ts_reason ts_check_acr(const ts_claims_in *in, ts_claims_out *out, ts_err *e); /* C9 */
ts_reason ts_check_amr(const ts_claims_in *in, ts_claims_out *out, ts_err *e); /* C9 */
ts_reason ts_check_auth_age(const ts_claims_in *in, ts_claims_out *out, ts_err *e); /* C9 */
/* C10: the user map applied to the (stripped) claim value (*s, *len),
 * which becomes the local user it maps to. */
ts_reason ts_map_user(const ts_claims_in *in, const char **s, size_t *len, ts_err *e);
/* C11: allowed_users, denied_users and root, on the mapped out->user. */
ts_reason ts_check_local_user(const ts_claims_in *in, ts_claims_out *out, ts_err *e);

/* C6: the portable username charset [A-Za-z0-9._@-], 1..256 bytes, no
 * leading '-'. */
int ts_username_ok(const char *s, size_t len);

/* ASCII-only case-insensitive equality of two C strings, whatever the
 * process's locale (C3's typ comparisons). */
int ts_ascii_caseeq(const char *a, const char *b);

#endif
