/* decision.c: the decision and alert log lines (M3, M7, M8), as text
 * key=value pairs or as one JSON object (see decision.h). */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "decision.h"
#include "json.h"

/* The fixed text of a decision line and the widest values its fields can
 * hold: the line must always end whole, user= included (M3), so the
 * buffer is sized for the worst case. */
#define DECISION_FIXED 230 /* incl. " fetch_requested=failed" (K14) */
#define DECISION_WORST                                                                             \
	(DECISION_FIXED + 8 * TS_LOG_VALUE_MAX + (sizeof(((ts_result *)0)->thumbprint) - 1) +      \
	    (sizeof(((ts_result *)0)->alg) - 1) + (sizeof(((ts_result *)0)->alert) - 1) + 20 +     \
	    TS_USER_MAX)
_Static_assert(DECISION_WORST < TS_DECISION_LINE_MAX, "a decision line can be cut");

/* M8: a JSON value is at most its field's size plus "..." and the quotes
 * (ts_json_put_string cuts it there), so the JSON line has a worst case too. */
#define JSON_FIXED 400 /* incl. ,"fetch_requested":"failed" (K14) */
#define JSON_VALUE(n) ((n) + 8)
#define JSON_WORST                                                                                 \
	(JSON_FIXED + 11 * JSON_VALUE(TS_LOG_VALUE_MAX) + JSON_VALUE(TS_USER_MAX) + 2 * 24)
_Static_assert(JSON_WORST < TS_DECISION_LINE_MAX, "a JSON decision line can be cut");

static const char *
dash(const char *v)
{
	return v[0] ? v : "-";
}

/* service and remote host, sanitised and capped like every other value */
static void
request_fields(const ts_request *req, char *svc, char *rhost, size_t cap)
{
	snprintf(svc, cap, "-");
	snprintf(rhost, cap, "-");
	if (req->service != NULL)
		ts_sanitize(svc, cap, req->service, strlen(req->service));
	if (req->rhost != NULL)
		ts_sanitize(rhost, cap, req->rhost, strlen(req->rhost));
}

size_t
ts_decision_line(char *line, size_t cap, const ts_request *req, const ts_result *res)
{
	char svc[TS_LOG_VALUE_MAX + 1], rhost[TS_LOG_VALUE_MAX + 1];
	char tail[TS_USER_MAX + 48], alert[sizeof(res->alert) + 8] = "", exp[24] = "-";
	const char *fetch = "";
	size_t hcap;
	int hn, tn;

	if (cap == 0)
		return 0;
	line[0] = '\0';
	request_fields(req, svc, rhost, sizeof(svc));
	if (res->alert[0])
		snprintf(alert, sizeof(alert), " alert=%s", res->alert);
	/* K14: said only when a request was asked for */
	if (res->fetch_requested > 0)
		fetch = " fetch_requested=yes";
	else if (res->fetch_requested < 0)
		fetch = " fetch_requested=failed";
	/* the end of the line first: were the head ever too long it is the
	 * head that is cut (and marked), never exp= or user= */
	/* exp 0 is how a result says "no exp" (as in verify's JSON): "-" like
	 * every other field without a value */
	if (res->exp != 0)
		snprintf(exp, sizeof(exp), "%lld", res->exp);
	tn = snprintf(
	    tail, sizeof(tail), " exp=%s%s%s", exp, res->user[0] ? " user=" : "", res->user);
	if (tn < 0 || (size_t)tn >= sizeof(tail) || (size_t)tn + 4 >= cap)
		return 0;
	hcap = cap - (size_t)tn;
	/* M3: every value here is sanitised and capped; never the token */
	hn = snprintf(line, hcap,
	    "tokenscope: result=%s reason=%s service=%s rhost=%s issuer=%s kid=%s thumbprint=%s "
	    "alg=%s typ=%s aud=%s sub=%s jti=%s%s%s",
	    res->accepted ? "accept" : "reject", ts_reason_str(res->reason), svc, rhost,
	    dash(res->issuer_name), dash(res->kid), dash(res->thumbprint), dash(res->alg),
	    dash(res->typ), dash(res->aud), dash(res->sub), dash(res->jti), alert, fetch);
	if (hn < 0)
		hn = 0;
	if ((size_t)hn >= hcap) {
		hn = (int)hcap - 1;
		memcpy(line + hn - 3, "...", 3);
	}
	memcpy(line + hn, tail, (size_t)tn + 1);
	return (size_t)hn + (size_t)tn;
}

/* A JSON object being written into a fixed buffer: every member whole or
 * none (the buffer is sized for the worst case, JSON_WORST). */
typedef struct jout {
	char *p;
	size_t cap, n;
	int members;
} jout;

static void jraw(jout *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
jraw(jout *o, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (o->n >= o->cap)
		return;
	va_start(ap, fmt);
	k = vsnprintf(o->p + o->n, o->cap - o->n, fmt, ap);
	va_end(ap);
	if (k > 0)
		o->n = (size_t)k < o->cap - o->n ? o->n + (size_t)k : o->cap - 1;
}

/* "name":"value" (null when value is empty), the value through the one
 * JSON string writer, capped at its field's size */
static void
jstr(jout *o, const char *name, const char *v, size_t field)
{
	size_t room, k;

	jraw(o, "%s\"%s\":", o->members++ ? "," : "", name);
	if (v == NULL || v[0] == '\0') {
		jraw(o, "null");
		return;
	}
	room = o->cap - o->n;
	if (room > JSON_VALUE(field))
		room = JSON_VALUE(field);
	k = ts_json_put_string(o->p + o->n, room, v, strnlen(v, field));
	o->n += k;
}

size_t
ts_decision_json(char *line, size_t cap, const ts_request *req, const ts_result *res)
{
	char svc[TS_LOG_VALUE_MAX + 1], rhost[TS_LOG_VALUE_MAX + 1];
	jout o = { line, cap, 0, 1 };

	if (cap < JSON_WORST)
		return 0;
	request_fields(req, svc, rhost, sizeof(svc));
	jraw(&o, "tokenscope: {\"event\":\"decision\",\"time\":%lld", (long long)req->now);
	jstr(&o, "result", res->accepted ? "accept" : "reject", 8);
	jstr(&o, "reason", ts_reason_str(res->reason), TS_LOG_VALUE_MAX);
	jstr(&o, "alert", res->alert, sizeof(res->alert));
	jstr(&o, "service", svc, TS_LOG_VALUE_MAX);
	jstr(&o, "rhost", rhost, TS_LOG_VALUE_MAX);
	jstr(&o, "issuer", res->issuer_name, TS_LOG_VALUE_MAX);
	jstr(&o, "kid", res->kid, TS_LOG_VALUE_MAX);
	jstr(&o, "thumbprint", res->thumbprint, sizeof(res->thumbprint));
	jstr(&o, "alg", res->alg, sizeof(res->alg));
	jstr(&o, "typ", res->typ, TS_LOG_VALUE_MAX);
	jstr(&o, "aud", res->aud, TS_LOG_VALUE_MAX);
	jstr(&o, "sub", res->sub, TS_LOG_VALUE_MAX);
	jstr(&o, "jti", res->jti, TS_LOG_VALUE_MAX);
	if (res->exp != 0)
		jraw(&o, ",\"exp\":%lld", res->exp);
	else
		jraw(&o, ",\"exp\":null");
	jstr(&o, "user", res->user, TS_USER_MAX);
	/* K14: said only when a request was asked for */
	if (res->fetch_requested != 0)
		jstr(&o, "fetch_requested", res->fetch_requested > 0 ? "yes" : "failed", 8);
	jraw(&o, "}");
	return o.n;
}

size_t
ts_alert_line(char *line, size_t cap, const ts_request *req, const ts_result *res, int json)
{
	char svc[TS_LOG_VALUE_MAX + 1], rhost[TS_LOG_VALUE_MAX + 1];
	int n;

	if (cap == 0 || res->alert[0] == '\0')
		return 0;
	line[0] = '\0';
	request_fields(req, svc, rhost, sizeof(svc));
	if (json) {
		jout o = { line, cap, 0, 1 };

		if (cap < JSON_WORST)
			return 0;
		jraw(&o, "tokenscope: {\"event\":\"alert\",\"time\":%lld", (long long)req->now);
		jstr(&o, "alert", res->alert, sizeof(res->alert));
		jstr(&o, "reason", ts_reason_str(res->reason), TS_LOG_VALUE_MAX);
		jstr(&o, "service", svc, TS_LOG_VALUE_MAX);
		jstr(&o, "rhost", rhost, TS_LOG_VALUE_MAX);
		jstr(&o, "issuer", res->issuer_name, TS_LOG_VALUE_MAX);
		jstr(&o, "iss", res->iss, TS_LOG_VALUE_MAX);
		jstr(&o, "kid", res->kid, TS_LOG_VALUE_MAX);
		jstr(&o, "alg", res->alg, sizeof(res->alg));
		jstr(&o, "key_issuer", res->alert_key_issuer, TS_LOG_VALUE_MAX);
		jstr(&o, "key_thumbprint", res->alert_thumbprint, sizeof(res->alert_thumbprint));
		jraw(&o, "}");
		return o.n;
	}
	/* M7: the key's section and thumbprint, what was claimed; never the
	 * token */
	n = snprintf(line, cap,
	    "tokenscope: ALERT alert=%s reason=%s service=%s rhost=%s issuer=%s iss=%s kid=%s "
	    "alg=%s key_issuer=%s key_thumbprint=%s",
	    res->alert, ts_reason_str(res->reason), svc, rhost, dash(res->issuer_name),
	    dash(res->iss), dash(res->kid), dash(res->alg), dash(res->alert_key_issuer),
	    dash(res->alert_thumbprint));
	return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

size_t
ts_detail_line(char *line, size_t cap, const ts_request *req, const ts_result *res, int json)
{
	jout o = { line, cap, 0, 1 };

	if (cap == 0 || res->detail[0] == '\0')
		return 0;
	line[0] = '\0';
	if (!json) {
		jraw(&o, "tokenscope: detail: %s", res->detail);
		return o.n;
	}
	if (cap < JSON_WORST)
		return 0;
	jraw(&o, "tokenscope: {\"event\":\"detail\",\"time\":%lld", (long long)req->now);
	jstr(&o, "detail", res->detail, sizeof(res->detail));
	jraw(&o, "}");
	return o.n;
}
