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

typedef struct ts_claims_out {
	char user[TS_USER_MAX + 1]; /* mapped user, set only when all passed */
	long long exp;
} ts_claims_out;

/* Called for each check, in order, for `tokenscope explain`. */
typedef void ts_step_fn(void *arg, const char *step, ts_reason r, const char *detail);

/* typ: the header's typ (NULL when absent). req_user: NULL when the caller
 * does not name a user. Returns TS_OK or the first failing reason. */
ts_reason ts_claims_check(const ts_jv *claims, const char *typ, const ts_issuer_conf *is,
    const ts_service_conf *svc, long skew, time_t now, const char *req_user, ts_claims_out *out,
    ts_step_fn *step, void *step_arg, ts_err *e);

/* C6: the portable username charset [A-Za-z0-9._@-], 1..256 bytes, no
 * leading '-'. */
int ts_username_ok(const char *s, size_t len);

/* ASCII-only case-insensitive equality of two C strings, whatever the
 * process's locale (C3's typ comparisons). */
int ts_ascii_caseeq(const char *a, const char *b);

#endif
