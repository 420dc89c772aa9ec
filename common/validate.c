/* validate.c: ts_validate(), the one entry point (see tokenscope.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "ctx.h"
#include "decision.h"
#include "jws.h"
#include "replay.h"

/* Lengths at which PAM applications and Dovecot's IMAP LOGIN cut a
 * password (M5): a token failing at exactly this length was truncated. */
static int
looks_truncated(size_t len)
{
	return len == 511 || len == 512 || len == 1023 || len == 1024;
}

static void
step(const ts_request *req, const char *name, ts_reason r, const char *detail)
{
	if (req->step != NULL)
		req->step(req->step_arg, name, r, detail);
}

static void
copy_str(char *dst, size_t cap, const ts_jv *v)
{
	if (ts_jv_is(v, TS_JSON_STRING))
		ts_sanitize(dst, cap, v->u.s, v->n);
}

/* Fills the log fields of the result from the (verified) claims. */
static void
describe_claims(ts_result *res, const ts_jv *claims)
{
	const ts_jv *aud = ts_jv_get(claims, "aud"), *exp = ts_jv_get(claims, "exp");

	if (ts_jv_is(aud, TS_JSON_ARRAY))
		aud = ts_jv_at(aud, 0);
	copy_str(res->aud, sizeof(res->aud), aud);
	copy_str(res->sub, sizeof(res->sub), ts_jv_get(claims, "sub"));
	copy_str(res->jti, sizeof(res->jti), ts_jv_get(claims, "jti"));
	/* for the log only (the claim policy checks exp itself); a real outside
	 * long long's range must not be converted: that is undefined behaviour */
	if (ts_jv_is(exp, TS_JSON_INTEGER))
		res->exp = exp->u.i;
	else if (ts_jv_is(exp, TS_JSON_REAL) && exp->u.d >= 0 && exp->u.d < 1e18)
		res->exp = (long long)exp->u.d;
}

/* The fixed text of a decision line and the widest values its fields can
 * hold: the line must always end whole, user= included (M3), so the
 * buffer is sized for the worst case. */
#define DECISION_FIXED 160
#define DECISION_WORST                                                                             \
	(DECISION_FIXED + 8 * TS_LOG_VALUE_MAX + (sizeof(((ts_result *)0)->thumbprint) - 1) +      \
	    (sizeof(((ts_result *)0)->alg) - 1) + 20 + TS_USER_MAX)
_Static_assert(DECISION_WORST < TS_DECISION_LINE_MAX, "a decision line can be cut");

size_t
ts_decision_line(char *line, size_t cap, const ts_request *req, const ts_result *res)
{
	char svc[TS_LOG_VALUE_MAX + 1] = "-", rhost[TS_LOG_VALUE_MAX + 1] = "-";
	char tail[TS_USER_MAX + 48];
	size_t hcap;
	int hn, tn;

	if (cap == 0)
		return 0;
	line[0] = '\0';
	if (req->service != NULL)
		ts_sanitize(svc, sizeof(svc), req->service, strlen(req->service));
	if (req->rhost != NULL)
		ts_sanitize(rhost, sizeof(rhost), req->rhost, strlen(req->rhost));
	/* the end of the line first: were the head ever too long it is the
	 * head that is cut (and marked), never exp= or user= */
	tn = snprintf(
	    tail, sizeof(tail), " exp=%lld%s%s", res->exp, res->user[0] ? " user=" : "", res->user);
	if (tn < 0 || (size_t)tn >= sizeof(tail) || (size_t)tn + 4 >= cap)
		return 0;
	hcap = cap - (size_t)tn;
	/* M3: every value here is sanitised and capped; never the token */
	hn = snprintf(line, hcap,
	    "tokenscope: result=%s reason=%s service=%s rhost=%s issuer=%s kid=%s thumbprint=%s "
	    "alg=%s typ=%s aud=%s sub=%s jti=%s",
	    res->accepted ? "accept" : "reject", ts_reason_str(res->reason), svc, rhost,
	    res->issuer_name[0] ? res->issuer_name : "-", res->kid[0] ? res->kid : "-",
	    res->thumbprint[0] ? res->thumbprint : "-", res->alg[0] ? res->alg : "-",
	    res->typ[0] ? res->typ : "-", res->aud[0] ? res->aud : "-",
	    res->sub[0] ? res->sub : "-", res->jti[0] ? res->jti : "-");
	if (hn < 0)
		hn = 0;
	if ((size_t)hn >= hcap) {
		hn = (int)hcap - 1;
		memcpy(line + hn - 3, "...", 3);
	}
	memcpy(line + hn, tail, (size_t)tn + 1);
	return (size_t)hn + (size_t)tn;
}

static void
log_decision(ts_ctx *ctx, const ts_request *req, const ts_result *res, int debug)
{
	char line[TS_DECISION_LINE_MAX];

	if (ctx->log == NULL)
		return;
	ts_decision_line(line, sizeof(line), req, res);
	ctx->log(ctx->log_arg, res->accepted ? LOG_INFO : LOG_NOTICE, line);
	if (debug && !res->accepted && res->detail[0]) {
		char d[TS_ERR_MSG_MAX + 32];

		snprintf(d, sizeof(d), "tokenscope: detail: %s", res->detail);
		ctx->log(ctx->log_arg, LOG_DEBUG, d);
	}
}

static ts_reason
run(ts_ctx *ctx, ts_state *st, const ts_request *req, ts_result *res, ts_err *e)
{
	const ts_conf *c = st->conf;
	const ts_service_conf *svc;
	const ts_issuer_conf *is = NULL;
	const ts_binding *b = NULL;
	ts_jws *j = NULL;
	const ts_jv *claims;
	const char *iss = NULL, *kid;
	size_t iss_len = 0, kid_len = 0, i, nusable = 0;
	ts_claims_out co;
	char info[TS_ERR_MSG_MAX + 300];
	ts_reason r;

	if (req->service == NULL || (svc = ts_conf_service(c, req->service)) == NULL) {
		r = ts_fail(e, TS_R_UNKNOWN_SERVICE, "no [service] section for this service");
		step(req, "service", r, e->msg);
		return r;
	}
	step(req, "service", TS_OK, "");
	r = ts_jws_parse(req->token, req->token_len, c->max_token_size, &j, e);
	if (r == TS_R_MALFORMED && looks_truncated(req->token_len))
		r = ts_fail(e, TS_R_TRUNCATED, "token cut at %zu bytes by the application (%s)",
		    req->token_len, e->msg);
	if (r != TS_OK) {
		step(req, "parse and header", r, e->msg);
		goto out;
	}
	snprintf(res->alg, sizeof(res->alg), "%s", ts_alg_name(ts_jws_alg(j)));
	if (ts_jws_typ(j) != NULL)
		ts_sanitize(res->typ, sizeof(res->typ), ts_jws_typ(j), strlen(ts_jws_typ(j)));
	kid = ts_jws_kid(j, &kid_len);
	if (kid != NULL)
		ts_sanitize(res->kid, sizeof(res->kid), kid, kid_len);
	if (req->step != NULL) {
		snprintf(info, sizeof(info), "alg=%s kid=%s typ=%s", res->alg,
		    kid ? res->kid : "(none)", res->typ[0] ? res->typ : "(none)");
		step(req, "parse and header", TS_OK, info);
	}

	/* K1, K3: the issuer, byte for byte, among those this service trusts */
	if ((r = ts_jws_iss(j, &iss, &iss_len, e)) == TS_OK) {
		ts_sanitize(res->iss, sizeof(res->iss), iss, iss_len);
		for (i = 0; i < svc->issuers.n && is == NULL; i++) {
			const ts_issuer_conf *cand = &c->issuers[svc->issuer_idx[i]];

			if (cand->issuer_len == iss_len && memcmp(cand->issuer, iss, iss_len) == 0)
				is = cand;
		}
		if (is == NULL)
			r = ts_fail(e, TS_R_UNKNOWN_ISSUER, "issuer is not trusted by service %s",
			    svc->name);
	}
	if (r != TS_OK || is == NULL) {
		step(req, "issuer", r, e->msg);
		goto out;
	}
	snprintf(res->issuer_name, sizeof(res->issuer_name), "%s", is->name);
	if (req->step != NULL) {
		snprintf(info, sizeof(info), "iss=%s -> [issuer %s]", res->iss, is->name);
		step(req, "issuer", TS_OK, info);
	}
	if (!(is->algorithms & (1u << ts_jws_alg(j)))) {
		r = ts_fail(e, TS_R_ALG_NOT_ALLOWED, "alg %s is not allowed for issuer %s",
		    ts_alg_name(ts_jws_alg(j)), is->name);
		step(req, "algorithm allowed", r, e->msg);
		goto out;
	}
	step(req, "algorithm allowed", TS_OK, "");

	/* K1, K2: (issuer, kid) only */
	if (kid != NULL) {
		b = ts_keyring_find(st->kr, (size_t)(is - c->issuers), kid, kid_len);
		if (b == NULL)
			r = ts_fail(
			    e, TS_R_UNKNOWN_KEY, "no key for this issuer with kid %s", res->kid);
	} else {
		b = ts_keyring_only_key(st->kr, (size_t)(is - c->issuers), req->now, &nusable);
		if (b == NULL)
			r = ts_fail(e, TS_R_AMBIGUOUS_KEY,
			    "token has no kid and issuer %s has %zu usable keys (needs exactly 1)",
			    is->name, nusable);
	}
	if (req->step != NULL) {
		/* the (issuer, kid) pair looked for, whatever the outcome */
		snprintf(info, sizeof(info), "looked up (issuer %s, kid %s)%s%s", is->name,
		    kid ? res->kid : "(none)", b != NULL ? " -> key " : ": ",
		    b != NULL ? ts_key_thumbprint(b->key) : e->msg);
		step(req, "key lookup", r, info);
	}
	if (r != TS_OK || b == NULL)
		goto out;
	snprintf(res->thumbprint, sizeof(res->thumbprint), "%s", ts_key_thumbprint(b->key));

	/* K5, K6: the key's own scope, on the verifier's clock; K11: with the
	 * revoked-key list unreadable, no key is known not to be revoked */
	if (ts_keyring_revocations_unknown(st->kr))
		r = ts_fail(e, TS_R_CONFIG_ERROR,
		    "the revoked-key list cannot be read: every token is refused");
	else if (b->revoked)
		r = ts_fail(e, TS_R_KEY_REVOKED, "key %s is revoked", res->thumbprint);
	else if (req->now < b->not_before)
		r = ts_fail(e, TS_R_KEY_NOT_YET_VALID, "key is not valid before %lld",
		    (long long)b->not_before);
	else if (req->now >= b->not_after)
		r = ts_fail(e, TS_R_KEY_EXPIRED, "key expired at %lld", (long long)b->not_after);
	step(req, "key scope (validity, revocation)", r, e->msg);
	if (r != TS_OK)
		goto out;

	r = ts_jws_verify(j, b->key, e);
	if (r == TS_R_BAD_SIGNATURE && looks_truncated(req->token_len))
		r = ts_fail(
		    e, TS_R_TRUNCATED, "token cut at %zu bytes by the application", req->token_len);
	step(req, "signature", r, e->msg);
	if (r != TS_OK)
		goto out;
	if ((claims = ts_jws_claims(j, e)) == NULL) {
		r = TS_R_MALFORMED;
		goto out;
	}
	describe_claims(res, claims);
	/* the key's own issuer, where its JWK names one (Entra ID): checked
	 * on verified claims, since "{tenantid}" stands for the token's tid */
	if (b->key_issuer != NULL) {
		size_t tid_len;
		const char *tid = ts_jv_str(ts_jv_get(claims, "tid"), &tid_len);

		if (!ts_binding_issuer_ok(b, iss, iss_len, tid, tid_len))
			r = ts_fail(e, TS_R_KEY_ISSUER_MISMATCH,
			    "key %s is published for another issuer (or tenant)", res->thumbprint);
		step(req, "key issuer", r, r == TS_OK ? "the key's own issuer matches" : e->msg);
		if (r != TS_OK)
			goto out;
	}
	r = ts_claims_check(claims, ts_jws_typ(j), is, svc, c->clock_skew, req->now, req->user, &co,
	    req->step, req->step_arg, e);
	if (r != TS_OK)
		goto out;

	/* C7: last, so that only fully valid tokens enter the cache */
	if (c->replay_cache != NULL) {
		const ts_jv *jti = ts_jv_get(claims, "jti");

		if (!ts_jv_is(jti, TS_JSON_STRING) || jti->n == 0)
			r = ts_fail(
			    e, TS_R_MISSING_CLAIM, "replay cache is on and the token has no jti");
		else
			r = ts_replay_check(c->replay_cache, iss, iss_len, jti->u.s, jti->n, co.exp,
			    c->clock_skew, req->now, e);
		step(req, "replay", r, e->msg);
		if (r != TS_OK)
			goto out;
		if (ts_ctx_sweep_due(ctx, req->now))
			(void)ts_replay_sweep(c->replay_cache, req->now);
	}
	memcpy(res->user, co.user, sizeof(res->user));
	res->valid_until = co.exp + c->clock_skew;
	res->accepted = 1;
out:
	ts_jws_free(j);
	return r;
}

ts_reason
ts_validate(ts_ctx *ctx, const ts_request *req, ts_result *res)
{
	ts_state *st;
	ts_err e = { "" };
	ts_reason r;
	int debug = 0;

	memset(res, 0, sizeof(*res));
	st = ts_ctx_acquire(ctx);
	if (st == NULL) {
		r = ts_fail(&e, TS_R_CONFIG_ERROR, "no usable configuration: %s", ctx->last_error);
		step(req, "configuration", r, e.msg);
	} else {
		debug = st->conf->log_debug;
		r = run(ctx, st, req, res, &e);
		ts_state_unref(st);
	}
	/* M1: one success path: accepted is set only at the end of run(), and
	 * TS_OK from anywhere else is a bug, never an accept */
	if (r == TS_OK && !res->accepted)
		r = ts_fail(&e, TS_R_INTERNAL, "validation ended without a decision");
	if (r != TS_OK) {
		res->accepted = 0;
		res->user[0] = '\0';
	}
	res->reason = r;
	snprintf(res->detail, sizeof(res->detail), "%s", e.msg);
	log_decision(ctx, req, res, debug);
	return r;
}
