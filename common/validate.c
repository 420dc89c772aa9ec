/* validate.c: ts_validate(), the one entry point (see tokenscope.h). */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "claims.h"
#include "classify.h"
#include "ctx.h"
#include "decision.h"
#include "fetchreq.h"
#include "jws.h"
#include "replay.h"
#include "tenants.h"

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

static void
log_decision(ts_ctx *ctx, const ts_request *req, const ts_result *res, int debug, int json)
{
	char line[TS_DECISION_LINE_MAX];

	if (ctx->log == NULL)
		return;
	if (json)
		ts_decision_json(line, sizeof(line), req, res);
	else
		ts_decision_line(line, sizeof(line), req, res);
	ctx->log(ctx->log_arg, res->accepted ? LOG_INFO : LOG_NOTICE, line);
	/* M7: a line of its own, so that syslog can route it to a pager */
	if (ts_alert_line(line, sizeof(line), req, res, json) > 0)
		ctx->log(ctx->log_arg, LOG_ALERT, line);
	if (debug && !res->accepted && ts_detail_line(line, sizeof(line), req, res, json) > 0)
		ctx->log(ctx->log_arg, LOG_DEBUG, line);
}

/*
 * One validation in progress: what the phases found so far, each phase
 * reading what the earlier ones left and adding its own finding.
 */
typedef struct ts_check {
	ts_ctx *ctx;
	const ts_conf *conf;
	const ts_keyring *kr;
	const ts_request *req;
	ts_result *res;
	ts_err *e;
	const ts_service_conf *svc; /* service */
	ts_jws *j; /* parse and header */
	const char *kid; /* parse and header: NULL when the header has none */
	size_t kid_len;
	const char *iss; /* issuer: the payload's, byte for byte */
	size_t iss_len;
	const ts_issuer_conf *is; /* issuer: the section that trusts iss */
	const char *tenant; /* issuer: the listed tenant iss names (K16), or NULL */
	const ts_binding *b; /* key lookup */
	const ts_jv *claims; /* claims: only once the signature verified */
	ts_claims_out co; /* claim policy: mapped user and exp */
	ts_reason refused; /* classification: the refusal it classifies */
	int quiet; /* the phase did not apply, or reported its own steps */
	char info[TS_ERR_MSG_MAX + 300]; /* the phase's explain detail, when it has one */
} ts_check;

/* The explain detail of a phase; formatted only when someone listens. */
static void explain(ts_check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
explain(ts_check *c, const char *fmt, ...)
{
	va_list ap;

	if (c->req->step == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(c->info, sizeof(c->info), fmt, ap);
	va_end(ap);
}

/* The [service] section the request names. */
static ts_reason
phase_service(ts_check *c)
{
	if (c->req->service == NULL || (c->svc = ts_conf_service(c->conf, c->req->service)) == NULL)
		return ts_fail(c->e, TS_R_UNKNOWN_SERVICE, "no [service] section for this service");
	return TS_OK;
}

/* P1-P3: the token's shape and its header (jws.c). */
static ts_reason
phase_header(ts_check *c)
{
	const ts_request *req = c->req;
	ts_result *res = c->res;
	ts_reason r;

	r = ts_jws_parse(req->token, req->token_len, c->conf->max_token_size, &c->j, c->e);
	/* M5: malformed at exactly a length where applications cut their
	 * input is a token cut short */
	if (r == TS_R_MALFORMED && ts_jws_cut_length(req->token_len)) {
		/* the parser's message goes inside the new one: a copy, since
		 * ts_fail writes where it would read */
		char why[sizeof(c->e->msg)];

		snprintf(why, sizeof(why), "%s", c->e->msg);
		r = ts_fail(c->e, TS_R_TRUNCATED, "token cut at %zu bytes by the application (%s)",
		    req->token_len, why);
	}
	if (r != TS_OK)
		return r;
	snprintf(res->alg, sizeof(res->alg), "%s", ts_alg_name(ts_jws_alg(c->j)));
	if (ts_jws_typ(c->j) != NULL)
		ts_sanitize(res->typ, sizeof(res->typ), ts_jws_typ(c->j), strlen(ts_jws_typ(c->j)));
	c->kid = ts_jws_kid(c->j, &c->kid_len);
	if (c->kid != NULL)
		ts_sanitize(res->kid, sizeof(res->kid), c->kid, c->kid_len);
	explain(c, "alg=%s kid=%s typ=%s", res->alg, c->kid ? res->kid : "(none)",
	    res->typ[0] ? res->typ : "(none)");
	return TS_OK;
}

/* 1 when a and b differ only by one trailing '/' on either side. */
static int
differ_by_trailing_slash(const char *a, size_t an, const char *b, size_t bn)
{
	if (an == bn + 1)
		return a[bn] == '/' && memcmp(a, b, bn) == 0;
	if (bn == an + 1)
		return b[an] == '/' && memcmp(a, b, an) == 0;
	return 0;
}

/* K3: refused all the same, but an issuer configured with or without the
 * trailing slash the token's lacks or has is the commonest typo in a
 * config: the detail (and explain) name it instead of leaving a bare
 * unknown_issuer to puzzle over. */
static ts_reason
unknown_issuer(ts_check *c)
{
	const ts_service_conf *svc = c->svc;
	size_t i;

	for (i = 0; i < svc->issuers.n; i++) {
		const ts_issuer_conf *cand = &c->conf->issuers[svc->issuer_idx[i]];

		if (differ_by_trailing_slash(cand->issuer, cand->issuer_len, c->iss, c->iss_len))
			return ts_fail(c->e, TS_R_UNKNOWN_ISSUER,
			    "issuer is not trusted by service %s: configured issuer %s differs "
			    "only by a trailing slash (issuers are compared byte for byte)",
			    svc->name, cand->name);
	}
	return ts_fail(c->e, TS_R_UNKNOWN_ISSUER, "issuer is not trusted by service %s", svc->name);
}

/* K1, K3: the issuer, byte for byte, among those this service trusts. */
static ts_reason
phase_issuer(ts_check *c)
{
	const ts_service_conf *svc = c->svc;
	size_t i;
	ts_reason r;

	if ((r = ts_jws_iss(c->j, &c->iss, &c->iss_len, c->e)) != TS_OK)
		return r;
	ts_sanitize(c->res->iss, sizeof(c->res->iss), c->iss, c->iss_len);
	for (i = 0; i < svc->issuers.n && c->is == NULL; i++) {
		const ts_issuer_conf *cand = &c->conf->issuers[svc->issuer_idx[i]];

		/* K16: a section with tenants matches its listed tenants only */
		if (ts_issuer_matches(cand, c->iss, c->iss_len, &c->tenant))
			c->is = cand;
	}
	if (c->is == NULL)
		return unknown_issuer(c);
	snprintf(c->res->issuer_name, sizeof(c->res->issuer_name), "%s", c->is->name);
	explain(c, "iss=%s -> [issuer %s]", c->res->iss, c->is->name);
	return TS_OK;
}

/* The issuer's algorithm allow-list. */
static ts_reason
phase_alg(ts_check *c)
{
	if (!(c->is->algorithms & (1u << ts_jws_alg(c->j))))
		return ts_fail(c->e, TS_R_ALG_NOT_ALLOWED, "alg %s is not allowed for issuer %s",
		    ts_alg_name(ts_jws_alg(c->j)), c->is->name);
	return TS_OK;
}

/* K1, K2: by (issuer, kid) only; without a kid, the issuer's one usable key. */
static ts_reason
phase_key_lookup(ts_check *c)
{
	size_t idx = (size_t)(c->is - c->conf->issuers), nusable = 0;
	ts_reason r = TS_OK;
	int first = 0;

	if (c->kid != NULL) {
		c->b = ts_keyring_find(c->kr, idx, c->kid, c->kid_len);
		if (c->b == NULL)
			r = ts_fail(c->e, TS_R_UNKNOWN_KEY, "no key for this issuer with kid %s",
			    c->res->kid);
	} else {
		c->b = ts_keyring_only_key(c->kr, idx, c->req->now, &nusable);
		if (c->b == NULL)
			r = ts_fail(c->e, TS_R_AMBIGUOUS_KEY,
			    "token has no kid and issuer %s has %zu usable keys (needs exactly 1)",
			    c->is->name, nusable);
	}
	/* K15: a key file parsed at this first use that fails refuses its
	 * section's tokens as its failure at load would have, logged once; a
	 * section the process could not set up says so, not "unknown key" */
	if (r != TS_OK) {
		ts_reason why = ts_keyring_section_failed(c->kr, idx, c->e, &first);

		if (why != TS_OK)
			r = why;
		if (first)
			ts_ctx_log_error(c->ctx, c->e->msg);
	}
	/* K5: the keys of a file parsed at this first use, warned about now */
	if (ts_keyring_first_use_pending(c->kr, idx))
		ts_ctx_warn_first_use(c->ctx, c->conf, c->kr, idx);
	/* the (issuer, kid) pair looked for, whatever the outcome */
	explain(c, "looked up (issuer %s, kid %s)%s%s", c->is->name,
	    c->kid ? c->res->kid : "(none)", c->b != NULL ? " -> key " : ": ",
	    c->b != NULL ? ts_key_thumbprint(c->b->key) : c->e->msg);
	if (r == TS_OK)
		snprintf(c->res->thumbprint, sizeof(c->res->thumbprint), "%s",
		    ts_key_thumbprint(c->b->key));
	return r;
}

/* K5, K6: the key's own scope, on the verifier's clock; K11: with the
 * revoked-key list unreadable, no key is known not to be revoked. */
static ts_reason
phase_key_scope(ts_check *c)
{
	const ts_binding *b = c->b;

	if (ts_keyring_revocations_unknown(c->kr))
		return ts_fail(c->e, TS_R_CONFIG_ERROR,
		    "the revoked-key list cannot be read: every token is refused");
	switch (ts_binding_status(b, c->req->now)) {
	case TS_KEY_REVOKED:
		return ts_fail(c->e, TS_R_KEY_REVOKED, "key %s is revoked", c->res->thumbprint);
	case TS_KEY_NOT_YET_VALID:
		return ts_fail(c->e, TS_R_KEY_NOT_YET_VALID, "key is not valid before %lld",
		    (long long)b->not_before);
	case TS_KEY_EXPIRED:
		return ts_fail(
		    c->e, TS_R_KEY_EXPIRED, "key expired at %lld", (long long)b->not_after);
	case TS_KEY_REMOVED: /* the lookup never finds one; fail closed */
		return ts_fail(
		    c->e, TS_R_UNKNOWN_KEY, "key %s is no longer configured", c->res->thumbprint);
	default: return TS_OK;
	}
}

/* P2, K4: the signature over the exact received bytes, by the found key. */
static ts_reason
phase_signature(ts_check *c)
{
	ts_reason r = ts_jws_verify(c->j, c->b->key, c->e);

	/* K15: a key whose checks failed at its first use is logged once, as
	 * a key refused at load would have been; every decision on it says
	 * config_error */
	if (r == TS_R_CONFIG_ERROR && c->ctx->log != NULL && ts_key_failure_unreported(c->b->key))
		ts_ctx_log_error(c->ctx, c->e->msg);
	if (r == TS_R_BAD_SIGNATURE && ts_jws_cut_length(c->req->token_len))
		r = ts_fail(c->e, TS_R_TRUNCATED, "token cut at %zu bytes by the application",
		    c->req->token_len);
	return r;
}

/* M6: the claims, readable only now that the signature verified. */
static ts_reason
phase_claims_read(ts_check *c)
{
	if ((c->claims = ts_jws_claims(c->j, c->e)) == NULL)
		return TS_R_MALFORMED;
	describe_claims(c->res, c->claims);
	c->quiet = 1; /* a step of its own only when it fails */
	return TS_OK;
}

/* The key's own issuer, where its JWK names one (Entra ID): checked on
 * verified claims, since "{tenantid}" stands for the token's tid. */
static ts_reason
phase_key_issuer(ts_check *c)
{
	size_t tid_len;
	const char *tid;

	if (c->b->key_issuer == NULL) {
		c->quiet = 1;
		return TS_OK;
	}
	tid = ts_jv_str(ts_jv_get(c->claims, "tid"), &tid_len);
	if (!ts_binding_issuer_ok(c->b, c->iss, c->iss_len, tid, tid_len))
		return ts_fail(c->e, TS_R_KEY_ISSUER_MISMATCH,
		    "key %s is published for another issuer (or tenant)", c->res->thumbprint);
	explain(c, "the key's own issuer matches");
	return TS_OK;
}

/* C1-C6 (claims.c), each check reporting its own step. */
static ts_reason
phase_claims(ts_check *c)
{
	const ts_claims_in in = {
		.claims = c->claims,
		.typ = ts_jws_typ(c->j),
		.is = c->is,
		.tenant = c->tenant != NULL ? c->tenant : c->is->tenant,
		.svc = c->svc,
		.skew = c->conf->clock_skew,
		.now = c->req->now,
		.user = c->req->user,
		.root_names = &c->conf->root_names,
		.step = c->req->step,
		.step_arg = c->req->step_arg,
	};

	c->quiet = 1; /* each check is a step of its own */
	return ts_claims_check(&in, &c->co, c->e);
}

/* C7: last, so that only fully valid tokens enter the cache. */
static ts_reason
phase_replay(ts_check *c)
{
	const ts_conf *conf = c->conf;
	const ts_jv *jti = ts_jv_get(c->claims, "jti");
	ts_reason r;

	if (conf->replay_cache == NULL) {
		c->quiet = 1;
		return TS_OK;
	}
	if (!ts_jv_is(jti, TS_JSON_STRING) || jti->n == 0)
		return ts_fail(
		    c->e, TS_R_MISSING_CLAIM, "replay cache is on and the token has no jti");
	r = ts_replay_check(conf->replay_cache, c->iss, c->iss_len, jti->u.s, jti->n, c->co.exp,
	    conf->clock_skew, c->req->now, c->e);
	if (r == TS_OK && ts_ctx_sweep_due(c->ctx, c->req->now))
		(void)ts_replay_sweep(conf->replay_cache, c->req->now);
	return r;
}

/* M7: after a refusal, whether a valid signature under an out-of-scope key
 * is behind it (classify.c). Runs after the decision is made and cannot
 * change it: its return value is never read. */
static ts_reason
phase_classify(ts_check *c)
{
	ts_classify_in in = {
		.conf = c->conf,
		.kr = c->kr,
		.j = c->j,
		.refused = c->refused,
		.is = c->is,
		.b = c->b,
		.kid = c->kid,
		.kid_len = c->kid_len,
	};
	ts_classify_out out;
	ts_result *res = c->res;

	if (c->j == NULL || c->refused == TS_R_TRUNCATED) {
		c->quiet = 1; /* nothing parsed, or a cut token: nothing to classify */
		return TS_OK;
	}
	ts_classify(&in, &out);
	res->classify_checks = out.checks;
	if (out.alert != NULL) {
		snprintf(res->alert, sizeof(res->alert), "%s", out.alert);
		snprintf(res->alert_key_issuer, sizeof(res->alert_key_issuer), "%s",
		    c->conf->issuers[out.key->issuer_idx].name);
		snprintf(res->alert_thumbprint, sizeof(res->alert_thumbprint), "%s",
		    ts_key_thumbprint(out.key->key));
	}
	explain(c, "%s (%u extra checks)", out.why, out.checks);
	return TS_OK;
}

/*
 * The decision, in order. Each phase either passes or gives the reason
 * that ends the decision; each is one step of `tokenscope explain` under
 * its name. A new rule is one more phase here (or one more claim check in
 * claims.c), nothing else.
 */
static const struct phase {
	const char *name;
	ts_reason (*fn)(ts_check *c);
	int after_refusal; /* runs only once a phase refused, never before */
} phases[] = {
	{ "service", phase_service, 0 },
	{ "parse and header", phase_header, 0 },
	{ "issuer", phase_issuer, 0 },
	{ "algorithm allowed", phase_alg, 0 },
	{ "key lookup", phase_key_lookup, 0 },
	{ "key scope (validity, revocation)", phase_key_scope, 0 },
	{ "signature", phase_signature, 0 },
	{ "claims", phase_claims_read, 0 },
	{ "key issuer", phase_key_issuer, 0 },
	{ "claim policy", phase_claims, 0 },
	{ "replay", phase_replay, 0 },
	{ "classification (alert?)", phase_classify, 1 },
};

static ts_reason
run(ts_ctx *ctx, ts_state *st, const ts_request *req, ts_result *res, ts_err *e)
{
	ts_check c;
	ts_reason r = TS_OK;
	size_t i;

	memset(&c, 0, sizeof(c));
	c.ctx = ctx;
	c.conf = st->conf;
	c.kr = st->kr;
	c.req = req;
	c.res = res;
	c.e = e;
	for (i = 0; i < sizeof(phases) / sizeof(phases[0]); i++) {
		ts_reason pr;

		if (phases[i].after_refusal ? r == TS_OK : r != TS_OK)
			continue;
		c.quiet = 0;
		c.info[0] = '\0';
		c.refused = r;
		pr = phases[i].fn(&c);
		/* M7: a phase after the refusal never decides */
		if (!phases[i].after_refusal)
			r = pr;
		/* the detail of a failure is the phase's explain text where it
		 * wrote one (key lookup), else the error */
		if (req->step != NULL && !c.quiet)
			req->step(req->step_arg, phases[i].name, pr,
			    c.info[0] != '\0' ? c.info
			        : pr != TS_OK ? e->msg
			                      : "");
	}
	/* K14: decided already; a kid this issuer does not have (not a key
	 * withdrawn, c.b set) may mean it rotated: leave a note for the fetcher */
	if (r == TS_R_UNKNOWN_KEY && req->request_fetch && c.is != NULL && c.kid != NULL &&
	    c.b == NULL && c.conf->fetch_spool != NULL &&
	    (c.is->discovery != NULL || c.is->jwks_uri != NULL))
		res->fetch_requested = ts_fetchreq_note(c.conf->fetch_spool, c.is->name) ? 1 : -1;
	if (r == TS_OK) {
		memcpy(res->user, c.co.user, sizeof(res->user));
		res->valid_until = c.co.exp + c.conf->clock_skew;
		res->accepted = 1;
	}
	ts_jws_free(c.j);
	return r;
}

ts_reason
ts_validate(ts_ctx *ctx, const ts_request *req, ts_result *res)
{
	ts_state *st;
	ts_err e = { "" };
	ts_reason r;
	int debug = 0, json = 0;

	memset(res, 0, sizeof(*res));
	st = ts_ctx_acquire(ctx);
	if (st == NULL) {
		r = ts_fail(&e, TS_R_CONFIG_ERROR, "no usable configuration: %s", ctx->last_error);
		step(req, "configuration", r, e.msg);
	} else {
		debug = st->conf->log_debug;
		json = st->conf->log_json;
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
	log_decision(ctx, req, res, debug, json);
	return r;
}
