/* t_policy.c: the whole entry point against tests/policy.conf, one case per
 * rule (K1-K6, C1-C6), tokens from the independent signer. */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "claims.h"
#include "decision.h"
#include "fx.h"
#include "inspect.h"
#include "json.h"
#include "keyring.h"
#include "tap.h"
#include "tsenv.h"
#include "usermap.h"

static void
check_thumbprints(void *arg, const struct ts_conf *conf, const struct ts_keyring *kr)
{
	size_t i, matched = 0;
	static const struct {
		const char *kid, *key;
	} want[] = { { "corp-1", "p256" }, { "shared", "rsa2048" }, { "corp-revoked", "ed448" },
		{ "legacy-1", "ed25519" } };

	(void)conf;
	(void)arg;
	for (i = 0; i < ts_keyring_count(kr); i++) {
		const ts_binding *b = ts_keyring_get(kr, i);
		size_t k;

		for (k = 0; k < sizeof(want) / sizeof(want[0]); k++)
			if (b->kid && strcmp(b->kid, want[k].kid) == 0 && b->issuer_idx != 1 &&
			    strcmp(ts_key_thumbprint(b->key), fx_thumbprint(want[k].key)) == 0)
				matched++;
	}
	ok(matched == 4, "rfc7638_thumbprints_match_jwcrypto (%zu/4)", matched);
}

/* K1 with the key's own issuer (JWK "issuer", Entra): exact match, and
 * "{tenantid}" stands for exactly the token's non-empty tid. */
static void
key_issuer_rule(void)
{
	static char tmpl[] = "https://login.microsoftonline.com/{tenantid}/v2.0",
	            lit[] = "https://sts.windows.net/t1/";
	ts_binding b;
	const char *v2 = "https://login.microsoftonline.com/t1/v2.0";

	memset(&b, 0, sizeof(b));
	ok(ts_binding_issuer_ok(&b, v2, strlen(v2), NULL, 0), "K1_key_without_issuer_any_token");
	b.key_issuer = tmpl;
	ok(ts_binding_issuer_ok(&b, v2, strlen(v2), "t1", 2), "K1_key_issuer_template_matches_tid");
	ok(!ts_binding_issuer_ok(&b, v2, strlen(v2), "t2", 2), "K1_key_issuer_other_tid_refused");
	ok(!ts_binding_issuer_ok(&b, v2, strlen(v2), NULL, 0) &&
	        !ts_binding_issuer_ok(&b, v2, strlen(v2), "", 0),
	    "K1_key_issuer_template_without_tid_refused");
	ok(!ts_binding_issuer_ok(&b, "https://login.microsoftonline.com/a/b/v2.0", 42, "a/b", 3),
	    "K1_key_issuer_tid_with_slash_refused");
	ok(!ts_binding_issuer_ok(&b, v2, strlen(v2) - 1, "t1", 2) &&
	        !ts_binding_issuer_ok(
	            &b, "https://login.microsoftonline.com/t1/v2.0x", 42, "t1", 2),
	    "K1_key_issuer_prefix_or_suffix_refused");
	b.key_issuer = lit;
	ok(ts_binding_issuer_ok(&b, "https://sts.windows.net/t1/", 27, NULL, 0) &&
	        !ts_binding_issuer_ok(&b, v2, strlen(v2), "t1", 2),
	    "K1_key_issuer_literal_byte_for_byte");
}

/* The claim policy's verdict on a payload and header typ (signature and
 * keys do not matter for C3: ts_claims_check runs after them). */
static ts_reason
typ_verdict(const char *payload, const char *typ)
{
	ts_issuer_conf is;
	ts_service_conf svc;
	ts_claims_out out;
	ts_jdoc *d = NULL;
	ts_err e = { "" };
	ts_reason r;

	memset(&is, 0, sizeof(is));
	memset(&svc, 0, sizeof(svc));
	is.token_type = TS_TYP_AT_JWT;
	is.max_lifetime = 3600;
	if (ts_jdoc_parse(payload, strlen(payload), 8, &d, &e) != TS_OK)
		tap_bail("typ_verdict payload: %s", e.msg);
	ts_claims_in in = { .claims = ts_jdoc_root(d),
		.typ = typ,
		.is = &is,
		.svc = &svc,
		.skew = 60,
		.now = 1500 };

	r = ts_claims_check(&in, &out, &e);
	ts_jdoc_free(d);
	return r;
}

/* C3: typ is compared case-insensitively in ASCII only, never through the
 * host's locale (tr_TR.ISO-8859-9 folds 'I' to 0xFD and 0xDD to 'i'). */
static void
typ_locale(void)
{
	static const char pl[] = "{\"iss\":\"x\",\"iat\":1000,\"exp\":2000}";
	static const char pl_id[] = "{\"iss\":\"x\",\"iat\":1000,\"exp\":2000,\"typ\":\"id\"}";
	const char *loc = "tr_TR.ISO-8859-9";

	if (setlocale(LC_CTYPE, loc) == NULL) {
		const char *b = getenv("TS_BUILDDIR");
		char dir[2048], cmd[4300];

		snprintf(dir, sizeof(dir), "%s/tests/tmp/locale", b ? b : ".");
		snprintf(cmd, sizeof(cmd),
		    "mkdir -p '%s' && localedef -i tr_TR -f ISO-8859-9 '%s/%s' >/dev/null 2>&1",
		    dir, dir, loc);
		if (system(cmd) == -1)
			tap_diag("localedef could not run");
		setenv("LOCPATH", dir, 1);
	}
	/* the host's strcasecmp differing there is what makes the cases below
	 * mean something; it is a fact about the host, not a check of ours
	 * (ASan's interceptor, for one, folds ASCII only) */
	if (setlocale(LC_CTYPE, loc) == NULL)
		tap_diag("no Turkish locale (localedef failed); typ checked under C only");
	else if (strcasecmp("APPLICATION/AT+JWT", "application/at+jwt") != 0)
		tap_diag("the host's strcasecmp differs on 'I' under %s", loc);
	else
		tap_diag("the host's strcasecmp folds ASCII only under %s (an interceptor?)", loc);
	ok(typ_verdict(pl, "APPLICATION/AT+JWT") != TS_R_WRONG_TOKEN_TYPE,
	    "C3_typ_upper_case_accepted_whatever_the_locale");
	ok(typ_verdict(pl,
	       "appl\xdd"
	       "cation/at+jwt") == TS_R_WRONG_TOKEN_TYPE,
	    "C3_typ_non_ascii_letter_never_folds_to_ascii");
	ok(typ_verdict(pl_id, "at+jwt") == TS_R_ID_TOKEN, "C3_payload_typ_id_lower_case_refused");
	ok(ts_ascii_caseeq("ID", "id") && !ts_ascii_caseeq("\xdd", "i") &&
	        !ts_ascii_caseeq("ID", "I") && ts_ascii_caseeq("", ""),
	    "C3_ascii_caseeq_is_ascii_only");
	setlocale(LC_CTYPE, "C");
}

/* M3: the decision line always ends whole, user= included, however long
 * the remote host, service and claims are. */
static void
decision_line(void)
{
	static char longs[600];
	char line[TS_DECISION_LINE_MAX], want[TS_USER_MAX + 8];
	ts_request req;
	ts_result res;
	size_t n;

	memset(longs, 'r', sizeof(longs) - 1);
	memset(&req, 0, sizeof(req));
	req.service = longs;
	req.rhost = longs;
	memset(&res, 0, sizeof(res));
	res.accepted = 1;
	res.reason = TS_R_KEY_ISSUER_MISMATCH; /* the longest reason code */
	res.exp = -9223372036854775807LL - 1;
#define FILL(f) (memset(res.f, 'x', sizeof(res.f) - 1), res.f[sizeof(res.f) - 1] = '\0')
	FILL(issuer_name);
	FILL(iss);
	FILL(kid);
	FILL(thumbprint);
	FILL(alg);
	FILL(typ);
	FILL(aud);
	FILL(sub);
	FILL(jti);
	memset(res.user, 'u', TS_USER_MAX);
	res.user[TS_USER_MAX] = '\0';
	res.fetch_requested = -1; /* the longest K14 field */
#undef FILL
	snprintf(want, sizeof(want), " user=%s", res.user);
	n = ts_decision_line(line, sizeof(line), &req, &res);
	ok(n == strlen(line) && n + 1 < sizeof(line) &&
	        strcmp(line + n - strlen(want), want) == 0 && strstr(line, "... exp=") == NULL &&
	        strstr(line, " fetch_requested=failed exp=") != NULL,
	    "M3_decision_line_worst_case_ends_with_whole_user (%zu bytes)", n);
	res.fetch_requested = 1;
	n = ts_decision_line(line, sizeof(line), &req, &res);
	ok(strstr(line, " fetch_requested=yes exp=") != NULL,
	    "K14_decision_line_says_fetch_requested_yes");
	res.fetch_requested = 0;
	n = ts_decision_line(line, sizeof(line), &req, &res);
	ok(strstr(line, "fetch_requested") == NULL, "K14_decision_line_silent_without_a_request");
	n = ts_decision_line(line, 900, &req, &res);
	ok(n == strlen(line) && n < 900 && strcmp(line + n - strlen(want), want) == 0 &&
	        strstr(line, "... exp=-9223372036854775808 user=") != NULL,
	    "M3_decision_line_cut_before_exp_never_in_user (%zu bytes)", n);
	/* a result without exp prints "-" like every other empty field */
	memset(&res, 0, sizeof(res));
	n = ts_decision_line(line, sizeof(line), &req, &res);
	ok(n > 6 && strcmp(line + n - 6, " exp=-") == 0 && strstr(line, "exp=0") == NULL,
	    "M3_decision_line_without_exp_prints_dash");
}

/* M7: the alert line of the last validation, logged at LOG_ALERT. */
static char alert_line[TS_DECISION_LINE_MAX];

static void
alert_log(void *arg, int prio, const char *line)
{
	env_log(arg, prio, line);
	if (prio == LOG_ALERT)
		snprintf(alert_line, sizeof(alert_line), "%s", line);
}

static ts_reason
check_token(ts_ctx *ctx, const char *tok, time_t now, ts_result *res)
{
	ts_request req;

	memset(&req, 0, sizeof(req));
	req.token = tok;
	req.token_len = strlen(tok);
	req.service = "dovecot";
	req.user = "alice";
	req.now = now;
	req.rhost = "192.0.2.7";
	alert_line[0] = '\0';
	return ts_validate(ctx, &req, res);
}

/* The token with one signature character changed (not the last, whose
 * low bits base64url may not carry). Static storage. */
static const char *
broken(const char *tok)
{
	static char b[TS_TOKEN_HARD_MAX];
	char *sig;

	snprintf(b, sizeof(b), "%s", tok);
	sig = strrchr(b, '.') + 5;
	*sig = *sig == 'A' ? 'B' : 'A';
	return b;
}

/* M7: every kind of alert, from tokens PyJWT signed with an out-of-scope
 * key; the reason each gets is the one it got before classification
 * existed (a refusal stays that refusal). */
static const struct {
	const char *token, *reason, *alert, *key_issuer;
	unsigned max_checks;
} alert_cases[] = {
	{ "forged_cross_issuer", "unknown_key", "forged_cross_issuer", "partner", 1 },
	{ "forged_shared_kid", "bad_signature", "forged_cross_issuer", "partner", 1 },
	{ "stolen_expired", "key_expired", "stolen_key_in_use", "corp", 1 },
	{ "stolen_not_yet_valid", "key_not_yet_valid", "stolen_key_in_use", "corp", 1 },
	{ "stolen_revoked", "key_revoked", "stolen_key_in_use", "corp", 1 },
	{ "cross_tenant", "key_issuer_mismatch", "cross_tenant", "tenant-a", 0 },
	{ "alg_confusion_pem", "alg_not_allowed", "alg_confusion", "corp", 2 },
	{ "alg_confusion_der_no_kid", "alg_not_allowed", "alg_confusion", "corp", 8 },
	{ "stolen_hmac", "key_expired", "stolen_key_in_use", "hmac", 1 },
};

/* K15: whether the [issuer partner] section is made, and how many are. */
typedef struct made_view {
	int partner_made;
	size_t made, total;
} made_view;

static void
view_made(void *arg, const ts_conf *c, const ts_keyring *kr)
{
	made_view *v = arg;
	size_t i;

	v->partner_made = -1;
	for (i = 0; i < c->nissuers; i++)
		if (strcmp(c->issuers[i].name, "partner") == 0)
			v->partner_made = ts_keyring_section_made(kr, i);
	v->made = ts_keyring_sections_made(kr);
	v->total = c->nissuers;
}

/* K15, M7: classifying a forged token reads another section's key without
 * making that section: one refused token must not make every section. The
 * key's owner, partner, gets one key line here (a section of several is
 * made at load), so the alert can only come from reading it in place. */
static void
forgery_makes_own_section_only(const char *conf, json_t *tokens)
{
	static const char second[] = "key             = partner_rsa2048.pub.pem kid=shared "
	                             "alg=RS256\n";
	char text[8192], path[4200], *at;
	ts_ctx *ctx = NULL;
	ts_result res;
	made_view before, after;
	FILE *f;
	size_t n;

	if ((f = fopen(conf, "r")) == NULL || (n = fread(text, 1, sizeof(text) - 1, f)) == 0)
		tap_bail("cannot read %s", conf);
	fclose(f);
	text[n] = '\0';
	if ((at = strstr(text, second)) == NULL)
		tap_bail("policy.conf no longer gives partner a second key line");
	memmove(at, at + strlen(second), strlen(at + strlen(second)) + 1);
	snprintf(path, sizeof(path), "%s", conf);
	if ((at = strrchr(path, '/')) == NULL)
		tap_bail("%s", conf);
	snprintf(at + 1, sizeof(path) - (size_t)(at + 1 - path), "one-line-partner.conf");
	if ((f = fopen(path, "w")) == NULL || fputs(text, f) == EOF || fclose(f) != 0)
		tap_bail("cannot write %s", path);
	if (ts_ctx_new(path, NULL, NULL, &ctx, NULL) != TS_OK)
		tap_bail("%s does not load", path);
	ts_ctx_inspect(ctx, view_made, &before);
	check_token(
	    ctx, json_string_value(json_object_get(tokens, "forged_cross_issuer")), fx_now(), &res);
	ts_ctx_inspect(ctx, view_made, &after);
	ok(before.partner_made == 0 && after.partner_made == 0 &&
	        strcmp(res.alert, "forged_cross_issuer") == 0 &&
	        strcmp(res.alert_key_issuer, "partner") == 0 && strlen(res.alert_thumbprint) == 43,
	    "K15_M7_forged_token_alert_without_making_the_key_owners_section (%s [issuer %s]; "
	    "partner made %d -> %d; made %zu -> %zu of %zu)",
	    res.alert, res.alert_key_issuer, before.partner_made, after.partner_made, before.made,
	    after.made, after.total);
	ts_ctx_free(ctx);
	unlink(path);
}

static void
alerts(void)
{
	json_t *tokens = NULL;
	const char *conf = env_forgery_fixture("alerts", (long long)fx_now(), 0, &tokens, NULL);
	ts_ctx *ctx = NULL;
	ts_err e = { "" };
	ts_result res;
	size_t i;

	if (!ok(ts_ctx_new(conf, alert_log, NULL, &ctx, &e) == TS_OK, "M7_alert_config_loads (%s)",
	        e.msg))
		return;
	forgery_makes_own_section_only(conf, tokens);
#define TOK(n) json_string_value(json_object_get(tokens, n))
	for (i = 0; i < sizeof(alert_cases) / sizeof(alert_cases[0]); i++) {
		const char *tok = TOK(alert_cases[i].token);
		char want[128];
		ts_reason r = check_token(ctx, tok, fx_now(), &res);

		snprintf(want, sizeof(want), "tokenscope: ALERT alert=%s ", alert_cases[i].alert);
		ok(r != TS_OK && !res.accepted && res.user[0] == '\0' &&
		        strcmp(ts_reason_str(r), alert_cases[i].reason) == 0,
		    "M7_%s_keeps_its_reason (%s)", alert_cases[i].token, ts_reason_str(r));
		ok(strcmp(res.alert, alert_cases[i].alert) == 0 &&
		        strcmp(res.alert_key_issuer, alert_cases[i].key_issuer) == 0 &&
		        strlen(res.alert_thumbprint) == 43,
		    "M7_%s_alert_%s (got '%s' [issuer %s])", alert_cases[i].token,
		    alert_cases[i].alert, res.alert, res.alert_key_issuer);
		ok(strstr(env_last_log(), alert_cases[i].alert) != NULL &&
		        strncmp(alert_line, want, strlen(want)) == 0 &&
		        strstr(alert_line, " key_issuer=") != NULL &&
		        strstr(alert_line, res.alert_thumbprint) != NULL,
		    "M7_%s_logged_at_log_alert_with_key_section_and_thumbprint",
		    alert_cases[i].token);
		ok(res.classify_checks <= alert_cases[i].max_checks,
		    "M7_%s_costs_at_most_%u_checks (%u)", alert_cases[i].token,
		    alert_cases[i].max_checks, res.classify_checks);
		r = check_token(ctx, broken(tok), fx_now(), &res);
		ok(r != TS_OK && res.alert[0] == '\0' && alert_line[0] == '\0' &&
		        strstr(env_last_log(), "alert=") == NULL,
		    "M7_%s_broken_signature_no_alert (%s)", alert_cases[i].token, ts_reason_str(r));
	}
	{
		/* M7: no key matched by kid, nothing spent */
		static const struct {
			const char *what, *tok, *reason;
		} free_cases[] = {
			{ "unknown_kid", NULL, "unknown_key" },
			{ "no_kid", NULL, "ambiguous_key" },
			{ "unparseable", "x.y.z", "malformed" },
			{ "random", "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJodHRwczovL2V4YW1wbGUifQ.c2ln",
			    "unknown_issuer" },
			{ "good", NULL, "ok" },
		};

		for (i = 0; i < sizeof(free_cases) / sizeof(free_cases[0]); i++) {
			const char *tok =
			    free_cases[i].tok ? free_cases[i].tok : TOK(free_cases[i].what);
			ts_reason r = check_token(ctx, tok, fx_now(), &res);

			ok(strcmp(ts_reason_str(r), free_cases[i].reason) == 0 &&
			        res.classify_checks == 0 && res.alert[0] == '\0' &&
			        alert_line[0] == '\0',
			    "M7_%s_no_extra_verification (%s, %u checks)", free_cases[i].what,
			    ts_reason_str(r), res.classify_checks);
		}
	}
	ts_ctx_free(ctx);
	json_decref(tokens);
}

/* M8: a JSON decision line, parsed back; every field present. */
static json_t *
json_of(const char *line)
{
	const char *p = strstr(line, "tokenscope: {");

	return p ? json_loads(p + strlen("tokenscope: "), JSON_REJECT_DUPLICATES, NULL) : NULL;
}

static void
json_lines(void)
{
	static const char *const fields[] = { "event", "time", "result", "reason", "alert",
		"service", "rhost", "issuer", "kid", "thumbprint", "alg", "typ", "aud", "sub",
		"jti", "exp", "user" };
	json_t *tokens = NULL, *o, *a;
	const char *conf =
	    env_forgery_fixture("alerts_json", (long long)fx_now(), 1, &tokens, NULL);
	ts_ctx *ctx = NULL;
	ts_err e = { "" };
	ts_result res;
	size_t i, n = 0;

	if (!ok(ts_ctx_new(conf, alert_log, NULL, &ctx, &e) == TS_OK, "M8_json_config_loads (%s)",
	        e.msg))
		return;
	check_token(ctx, TOK("good"), fx_now(), &res);
	o = json_of(env_last_log());
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		n += json_object_get(o, fields[i]) != NULL;
	ok(o != NULL && n == sizeof(fields) / sizeof(fields[0]) && json_object_size(o) == n &&
	        res.accepted &&
	        strcmp(json_string_value(json_object_get(o, "result")), "accept") == 0 &&
	        strcmp(json_string_value(json_object_get(o, "user")), "alice") == 0 &&
	        json_is_null(json_object_get(o, "alert")) &&
	        json_integer_value(json_object_get(o, "time")) == (json_int_t)fx_now(),
	    "M8_json_decision_line_has_every_field (%zu/%zu)", n,
	    sizeof(fields) / sizeof(fields[0]));
	json_decref(o);
	check_token(ctx, TOK("forged_cross_issuer"), fx_now(), &res);
	o = json_of(env_last_log());
	a = json_of(alert_line);
	ok(o != NULL && a != NULL &&
	        strcmp(json_string_value(json_object_get(o, "alert")), "forged_cross_issuer") ==
	            0 &&
	        strcmp(json_string_value(json_object_get(o, "reason")), "unknown_key") == 0 &&
	        strcmp(json_string_value(json_object_get(a, "event")), "alert") == 0 &&
	        strcmp(json_string_value(json_object_get(a, "key_issuer")), "partner") == 0 &&
	        strcmp(json_string_value(json_object_get(a, "key_thumbprint")),
	            fx_thumbprint("partner_p256")) == 0,
	    "M8_json_alert_in_decision_and_alert_line");
	json_decref(o);
	json_decref(a);
	check_token(ctx, TOK("hostile_claims"), fx_now(), &res);
	o = json_of(env_last_log());
	ok(o != NULL && res.accepted && strchr(env_last_log(), '\n') == NULL &&
	        strcmp(json_string_value(json_object_get(o, "sub")), res.sub) == 0 &&
	        strcmp(json_string_value(json_object_get(o, "jti")), res.jti) == 0,
	    "M8_hostile_claims_cannot_break_the_json_line (sub %s)", res.sub);
	json_decref(o);
	ts_ctx_free(ctx);
	json_decref(tokens);
}

/* M8: the JSON writer itself, fed what sanitising would never let through
 * (defence in depth: the line must hold whatever reaches it). */
static void
json_hostile(void)
{
	static const char hostile[] = "q\"b\\s\n\r\t\x01\x7f\xff\xc3\xa9\xe2\x80\xa8}{,:";
	char line[TS_DECISION_LINE_MAX], big[600], s[64];
	ts_request req;
	ts_result res;
	json_t *o;
	size_t n;

	memset(&req, 0, sizeof(req));
	memset(&res, 0, sizeof(res));
	req.service = "dovecot";
	snprintf(res.sub, sizeof(res.sub), "%s", hostile);
	snprintf(res.jti, sizeof(res.jti), "%s", hostile);
	memset(res.aud, 'a', sizeof(res.aud) - 1);
	snprintf(res.alert, sizeof(res.alert), "a\"l\nert");
	n = ts_decision_json(line, sizeof(line), &req, &res);
	o = json_of(line);
	ok(o != NULL && n == strlen(line) && strchr(line, '\n') == NULL &&
	        strchr(line, '\r') == NULL &&
	        strcmp(json_string_value(json_object_get(o, "sub")),
	            "q\"b\\s\n\r\t\x01\x7f\xef\xbf\xbd\xc3\xa9\xe2\x80\xa8}{,:") == 0 &&
	        strlen(json_string_value(json_object_get(o, "aud"))) == TS_LOG_VALUE_MAX,
	    "M8_json_writer_escapes_quotes_controls_and_invalid_utf8");
	json_decref(o);
	memset(big, '"', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	n = ts_json_put_string(s, sizeof(s), big, strlen(big));
	o = json_loads(s, JSON_DECODE_ANY, NULL);
	ok(o != NULL && n == strlen(s) && n < sizeof(s) && strcmp(s + n - 4, "...\"") == 0,
	    "M8_json_string_cut_stays_one_whole_string (%s)", s);
	json_decref(o);
}

/* The decision on one fixture case's token for (service, user). */
static ts_reason
decide(ts_ctx *ctx, const char *name, const char *service, const char *user, ts_result *res)
{
	ts_request req = env_req(name, service, user);

	return ts_validate(ctx, &req, res);
}

/* K15: every policy case decides the same when each key comes from a JWK
 * (kid and alg left to the key line), set up at its first use, as from
 * the PEM files the fixture names (checked at load). */
static void
lazy_jwk_keys(void)
{
	static const char *const keys[] = { "p256", "rsa2048", "p384", "rsa3072", "ed448",
		"partner_p256", "partner_rsa2048", "ed25519" };
	const json_t *cases = fx_cases();
	const char *dir, *pem_conf = env_policy_fixture("policy-pem", NULL);
	const char *conf = env_policy_fixture("policy-jwk", &dir);
	char *text = tap_slurp(conf, NULL), *at, name[64];
	ts_ctx *pem = NULL, *jwk = NULL;
	ts_err e = { "" };
	size_t i, differ = 0;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		json_t *j;
		char *dump;

		snprintf(name, sizeof(name), "keys/%s.jwk", keys[i]);
		if ((j = json_load_file(fx_path(name), 0, NULL)) == NULL)
			tap_bail("%s", name);
		json_object_del(j, "kid");
		json_object_del(j, "alg");
		dump = json_dumps(j, JSON_COMPACT);
		snprintf(name, sizeof(name), "%s.nokid.jwk", keys[i]);
		env_write(dir, name, dump, 0644);
		free(dump);
		json_decref(j);
	}
	/* ".pub.pem" and ".nokid.jwk" differ in length: rewrite through a copy */
	{
		char out[16384] = "", *from = text;

		while ((at = strstr(from, ".pub.pem")) != NULL) {
			strncat(out, from, (size_t)(at - from));
			strcat(out, ".nokid.jwk");
			from = at + strlen(".pub.pem");
		}
		strcat(out, from);
		env_write(dir, "tokenscope.conf", out, 0644);
	}
	ok(ts_ctx_new(pem_conf, NULL, NULL, &pem, &e) == TS_OK &&
	        ts_ctx_new(conf, NULL, NULL, &jwk, &e) == TS_OK,
	    "K15_jwk_policy_loads (%s)", e.msg);
	for (i = 0; pem != NULL && jwk != NULL && i < json_array_size(cases); i++) {
		const json_t *c = json_array_get(cases, i);
		const char *service = json_string_value(json_object_get(c, "service"));
		const char *user = json_string_value(json_object_get(c, "user"));
		ts_result r1, r2;

		snprintf(
		    name, sizeof(name), "case_%s", json_string_value(json_object_get(c, "name")));
		if (decide(pem, name, service, user, &r1) !=
		        decide(jwk, name, service, user, &r2) ||
		    strcmp(r1.thumbprint, r2.thumbprint) != 0) {
			tap_diag("%s: %s with PEM keys, %s with JWKs", name,
			    ts_reason_str(r1.reason), ts_reason_str(r2.reason));
			differ++;
		}
	}
	ok(i > 70 && differ == 0,
	    "K15_policy_cases_decide_the_same_with_keys_set_up_at_first_use "
	    "(%zu cases, %zu differ)",
	    i, differ);
	ts_ctx_free(pem);
	ts_ctx_free(jwk);
	free(text);
}

#define TENANTS_CONF                                                                               \
	"[global]\nreload_interval = 0\n[issuer entra]\n"                                          \
	"issuer = https://login.example.com/{tenantid}/v2.0\nalgorithms = ES256\n"                 \
	"key = tenant.jwks\ntoken_type = at+jwt\n%s\n%s"                                           \
	"[service dovecot]\nissuers = entra%s\naudiences = imap.example.com\n"                     \
	"required_scopes = mail.read\n"

static const char *
tenants_write(const char *dir, const char *tenants, const char *more, const char *svc_more)
{
	char text[2048];

	snprintf(text, sizeof(text), TENANTS_CONF, tenants, more, svc_more);
	return env_write(dir, "tokenscope.conf", text, 0644);
}

/* The load of a TENANTS_CONF variant: its reason, the message into msg. */
static ts_reason
tenants_load(const char *dir, const char *tenants, const char *more, const char *svc_more,
    ts_ctx **ctx, char *msg, size_t cap)
{
	char path[4200];
	ts_err e = { "" };
	ts_reason r;

	snprintf(path, sizeof(path), "%s", tenants_write(dir, tenants, more, svc_more));
	*ctx = NULL;
	r = ts_ctx_new(path, NULL, NULL, ctx, &e);
	snprintf(msg, cap, "%s", e.msg);
	return r;
}

static ts_reason
tenant_decides(ts_ctx *ctx, const json_t *toks, const char *name, long long now)
{
	ts_request req;
	ts_result res;

	memset(&req, 0, sizeof(req));
	req.token = json_string_value(json_object_get(toks, name));
	req.token_len = strlen(req.token);
	req.service = "dovecot";
	req.now = (time_t)now;
	return ts_validate(ctx, &req, &res);
}

/* K16: a "{tenantid}" issuer with a tenants list stands for one exact
 * issuer per listed tenant; any other tenant is unknown_issuer. Tokens
 * from PyJWT (tests/mint_tenants.py). */
static void
tenants_rule(void)
{
	const char *dir = env_dir("tenants");
	long long now = (long long)time(NULL);
	char cmd[8600], msg[TS_ERR_MSG_MAX], path[4200];
	json_t *jwk, *toks;
	char *dump;
	ts_ctx *ctx = NULL;

	snprintf(cmd, sizeof(cmd),
	    "/usr/bin/python3 '%s/tests/mint_tenants.py' '%s' %lld >'%s/t.json'",
	    tap_env("TS_SRCDIR"), tap_env("TS_FIXTURES"), now, dir);
	snprintf(path, sizeof(path), "%s/t.json", dir);
	if (system(cmd) != 0 || (toks = json_load_file(path, 0, NULL)) == NULL)
		tap_bail("tests/mint_tenants.py failed (python3-jwt installed?)");
	if ((jwk = json_load_file(fx_path("keys/p256.jwk"), 0, NULL)) == NULL)
		tap_bail("p256.jwk");
	json_object_set_new(jwk, "kid", json_string("t-1"));
	json_object_set_new(
	    jwk, "issuer", json_string("https://login.example.com/{tenantid}/v2.0"));
	{
		/* "O" adds a reference to jwk: the set holds one, jwk one */
		json_t *set = json_pack("{s:[O]}", "keys", jwk);

		dump = json_dumps(set, JSON_COMPACT);
		json_decref(set);
	}
	env_write(dir, "tenant.jwks", dump, 0644);
	free(dump);
	json_decref(jwk);

	ok(tenants_load(dir, "tenants = tenant-b tenant-a", "", "", &ctx, msg, sizeof(msg)) ==
	        TS_OK,
	    "K16_tenants_section_loads (%s)", msg);
	ok(tenant_decides(ctx, toks, "tenant-a", now) == TS_OK &&
	        tenant_decides(ctx, toks, "tenant-b", now) == TS_OK,
	    "K16_listed_tenants_accepted");
	ok(tenant_decides(ctx, toks, "tenant-z", now) == TS_R_UNKNOWN_ISSUER,
	    "K16_tenant_not_listed_is_unknown_issuer");
	ok(tenant_decides(ctx, toks, "a_with_tid_b", now) == TS_R_KEY_ISSUER_MISMATCH,
	    "K16_tid_of_another_listed_tenant_refused");
	ts_ctx_free(ctx);

	/* a list in a file, reloaded like a key file */
	env_write(dir, "tenants.list", "# accepted tenants\ntenant-a\n", 0644);
	ok(tenants_load(dir, "tenants = ./tenants.list", "", "", &ctx, msg, sizeof(msg)) == TS_OK &&
	        tenant_decides(ctx, toks, "tenant-a", now) == TS_OK &&
	        tenant_decides(ctx, toks, "tenant-b", now) == TS_R_UNKNOWN_ISSUER,
	    "K16_tenants_file_read (%s)", msg);
	env_write(dir, "tenants.list", "# accepted tenants\ntenant-a\ntenant-b   # added\n", 0644);
	ok(tenant_decides(ctx, toks, "tenant-b", now) == TS_OK,
	    "K16_tenants_file_edit_picked_up_at_the_next_check");
	/* K11: taken off the list while the config is broken: refused all the
	 * same, and the tenant still listed keeps working */
	env_write(dir, "tenants.list", "tenant-a\nbroken line\n", 0644);
	tenants_write(dir, "tenants = ./tenants.list\nno_such_setting = 1", "", "");
	ok(tenant_decides(ctx, toks, "tenant-b", now) == TS_R_UNKNOWN_ISSUER &&
	        tenant_decides(ctx, toks, "tenant-a", now) == TS_OK,
	    "K11_K16_tenant_taken_off_a_file_applies_despite_a_broken_config");
	ts_ctx_free(ctx);
	ok(tenants_load(dir, "tenants = tenant-a tenant-b", "", "", &ctx, msg, sizeof(msg)) ==
	            TS_OK &&
	        tenant_decides(ctx, toks, "tenant-b", now) == TS_OK,
	    "K16_inline_tenants_load (%s)", msg);
	tenants_write(dir, "tenants = tenant-a\nno_such_setting = 1", "", "");
	ok(tenant_decides(ctx, toks, "tenant-b", now) == TS_R_UNKNOWN_ISSUER &&
	        tenant_decides(ctx, toks, "tenant-a", now) == TS_OK,
	    "K11_K16_tenant_taken_off_an_inline_list_applies_despite_a_broken_config");
	ts_ctx_free(ctx);
	env_write(dir, "tenants.list", "tenant-a\ntenant*\n", 0644);
	ok(tenants_load(dir, "tenants = ./tenants.list", "", "", &ctx, msg, sizeof(msg)) ==
	            TS_R_CONFIG_ERROR &&
	        strstr(msg, "tenants.list:2: not a tenant ID") != NULL,
	    "K16_bad_line_of_tenants_file_refused_at_file_line (%s)", msg);
	ts_ctx_free(ctx);

	/* what the section may not be */
	ok(tenants_load(dir, "", "", "", &ctx, msg, sizeof(msg)) == TS_R_CONFIG_ERROR &&
	        strstr(msg, "needs \"tenants\"") != NULL,
	    "K16_tenantid_issuer_without_tenants_refused (%s)", msg);
	ts_ctx_free(ctx);
	ok(tenants_load(dir, "tenants = tenant-a\ntenant = tenant-a", "", "", &ctx, msg,
	       sizeof(msg)) == TS_R_CONFIG_ERROR &&
	        strstr(msg, "exclude each other") != NULL,
	    "K16_tenant_and_tenants_refused (%s)", msg);
	ts_ctx_free(ctx);
	ok(tenants_load(dir, "tenants = tenant-a tenant-a", "", "", &ctx, msg, sizeof(msg)) ==
	            TS_R_CONFIG_ERROR &&
	        strstr(msg, "listed twice") != NULL,
	    "K16_tenant_listed_twice_refused (%s)", msg);
	ts_ctx_free(ctx);
	ok(tenants_load(dir, "tenants = tenant-a",
	       "[issuer a]\nissuer = https://login.example.com/tenant-a/v2.0\n"
	       "algorithms = ES256\nkey = tenant.jwks\n",
	       " a", &ctx, msg, sizeof(msg)) == TS_R_CONFIG_ERROR &&
	        strstr(msg, "is both [issuer a] and a tenant of [issuer entra]") != NULL,
	    "K16_tenant_issuer_also_a_section_of_the_service_refused (%s)", msg);
	ts_ctx_free(ctx);
	ok(tenants_load(dir, "tenants = tenant-a",
	       "[issuer b]\nissuer = https://login.example.com/b/v2.0\nalgorithms = ES256\n"
	       "key = tenant.jwks\ntenants = b\n",
	       "", &ctx, msg, sizeof(msg)) == TS_R_CONFIG_ERROR &&
	        strstr(msg, "holds no {tenantid}") != NULL,
	    "K16_tenants_without_tenantid_refused (%s)", msg);
	ts_ctx_free(ctx);
	json_decref(toks);
}

/* C10: a map file is read like a key file: an edit is picked up, a broken
 * or unsafe one is a config error at file:line and the last good state
 * keeps deciding (K11). */
static void
user_map_files(void)
{
	const char *dir, *conf = env_policy_fixture("policy_map", &dir);
	static const char tok[] = "case_C10_mapped_user_ok";
	ts_ctx *ctx = NULL;
	ts_err e = { "" };
	ts_result res;

	if (!ok(ts_ctx_new(conf, NULL, NULL, &ctx, &e) == TS_OK, "C10_map_loads (%s)", e.msg))
		return;
	ok(decide(ctx, tok, "mapped", "alice", &res) == TS_OK, "C10_map_before_edit (%s)",
	    res.detail);
	env_write(dir, "policy-users.map", "alice.smith bob\n", 0644);
	ok(ts_ctx_refresh(ctx, 1, &e) == TS_OK &&
	        decide(ctx, tok, "mapped", "bob", &res) == TS_OK && strcmp(res.user, "bob") == 0 &&
	        decide(ctx, tok, "mapped", "alice", &res) == TS_R_USER_MISMATCH,
	    "C10_map_edit_picked_up (%s)", res.detail);
	env_write(dir, "policy-users.map",
	    "# two lines for one user\nalice.smith alice\n\nalice.smith bob\n", 0644);
	ok(ts_ctx_refresh(ctx, 1, &e) == TS_R_CONFIG_ERROR &&
	        strstr(e.msg, "policy-users.map:4: alice.smith is mapped already on line 2") !=
	            NULL,
	    "C10_map_duplicate_key_config_error_at_line (%s)", e.msg);
	ok(decide(ctx, tok, "mapped", "bob", &res) == TS_OK,
	    "C10_map_duplicate_key_last_good_state_kept (%s)", res.detail);
	env_write(dir, "policy-users.map", "alice.smith alice\n", 0666);
	ok(ts_ctx_refresh(ctx, 1, &e) == TS_R_CONFIG_ERROR &&
	        strstr(e.msg, "policy-users.map") != NULL,
	    "C10_map_writable_by_others_config_error (%s)", e.msg);
	ok(decide(ctx, tok, "mapped", "bob", &res) == TS_OK,
	    "C10_map_bad_mode_last_good_state_kept (%s)", res.detail);
	env_write(dir, "policy-users.map", "alice.smith\n", 0644);
	ok(ts_ctx_refresh(ctx, 1, &e) == TS_R_CONFIG_ERROR &&
	        strstr(e.msg, "policy-users.map:1: expected") != NULL,
	    "C10_map_missing_field_config_error (%s)", e.msg);
	env_write(dir, "policy-users.map", "alice.smith alice root\n", 0644);
	ok(ts_ctx_refresh(ctx, 1, &e) == TS_R_CONFIG_ERROR &&
	        strstr(e.msg, "policy-users.map:1: expected") != NULL,
	    "C10_map_extra_field_config_error (%s)", e.msg);
	env_write(dir, "policy-users.map", "x y\nalice.smith -alice\n", 0644);
	ok(ts_ctx_refresh(ctx, 1, &e) == TS_R_CONFIG_ERROR &&
	        strstr(e.msg, "policy-users.map:2: names must be") != NULL,
	    "C10_map_unsafe_name_config_error (%s)", e.msg);
	ts_ctx_free(ctx);
	/* a context that never loaded a good map decides nothing */
	ok(ts_ctx_new(conf, NULL, NULL, &ctx, &e) == TS_R_CONFIG_ERROR &&
	        decide(ctx, tok, "mapped", "alice", &res) == TS_R_CONFIG_ERROR,
	    "C10_map_broken_at_start_fails_closed (%s)", e.msg);
	ts_ctx_free(ctx);
}

/* C11: every name with uid 0 in the account file is root, read once with
 * the state; a missing file (a chroot) names none. */
static void
root_names(void)
{
	const char *dir = env_dir("policy_passwd");
	const char *pw = env_write(dir, "passwd",
	    "root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n"
	    "toor:x:0:0:another root:/root:/bin/sh\n",
	    0644);
	ts_conf c;
	ts_service_conf svc;
	ts_filelist files = { NULL, NULL, 0 };
	ts_claims_out out;
	ts_err e = { "" };
	char missing[4200];
	static char sname[] = "s";

	memset(&c, 0, sizeof(c));
	memset(&svc, 0, sizeof(svc));
	svc.name = sname;
	ok(ts_root_names_load(&c, pw, &files, &e) == TS_OK && c.root_names.n == 2 && files.n == 1,
	    "C11_uid0_names_read_from_the_account_file");
	{
		ts_claims_in in = { .svc = &svc, .root_names = &c.root_names };

		snprintf(out.user, sizeof(out.user), "toor");
		ok(ts_check_local_user(&in, &out, &e) == TS_R_ROOT_REFUSED,
		    "C11_uid0_alias_refused (%s)", e.msg);
		snprintf(out.user, sizeof(out.user), "alice");
		ok(ts_check_local_user(&in, &out, &e) == TS_OK, "C11_other_uid_accepted");
		svc.allow_root = 1;
		snprintf(out.user, sizeof(out.user), "toor");
		ok(ts_check_local_user(&in, &out, &e) == TS_OK,
		    "C11_uid0_alias_with_allow_root_ok");
	}
	snprintf(missing, sizeof(missing), "%s/no-such-passwd", dir);
	free(c.root_names.v[0]);
	free(c.root_names.v[1]);
	free(c.root_names.v);
	memset(&c, 0, sizeof(c));
	ok(ts_root_names_load(&c, missing, &files, &e) == TS_OK && c.root_names.n == 0,
	    "C11_no_account_file_names_no_uid0_but_root");
	ts_filelist_free(&files);
}

/* C8, C10: what a service asks of an issuer's tokens, the issuer's section
 * must say how to find; a bad path is refused at its line. */
static void
conf_rules(void)
{
	static const char head[] = "[issuer a]\nissuer = https://a.example\nalgorithms = ES256\n"
	                           "key = /k.pem\n";
	static const struct {
		const char *name, *text, *want;
	} t[] = {
		{ "C8_group_rule_without_groups_claim_config_error",
		    "[service s]\nissuers = a\naudiences = x\ndenied_groups = g\n",
		    "t.conf:5: [service s] has group rules but [issuer a] has no "
		    "\"groups_claim\"" },
		{ "C8_groups_claim_empty_segment_config_error",
		    "groups_claim = realm_access..roles\n",
		    "t.conf:5: groups_claim \"realm_access..roles\" is not a member path" },
		{ "C8_groups_claim_trailing_dot_config_error", "groups_claim = groups.\n",
		    "t.conf:5: groups_claim" },
		{ "C8_groups_claim_path_into_a_url_member_config_error",
		    "groups_claim = resource_access.https://app.example.com.roles\n",
		    "t.conf:5: groups_claim \"resource_access.https://app.example.com.roles\": a "
		    "claim named by a URL is one whole name" },
		{ "C10_user_map_required_without_map_config_error",
		    "[service s]\nissuers = a\naudiences = x\nuser_map_required = yes\n",
		    "t.conf:5: [service s] requires a user map" },
		{ "C11_allow_root_yes_or_no", "[service s]\nissuers = a\nallow_root = 1\n",
		    "t.conf:7: allow_root must be yes or no" },
		{ "C9_max_auth_age_positive", "[service s]\nissuers = a\nmax_auth_age = 0\n",
		    "t.conf:7: max_auth_age must be 1..2678400 seconds" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char buf[1024];
		ts_conf *c = NULL;
		ts_err e = { "" };
		int n = snprintf(buf, sizeof(buf), "%s%s", head, t[i].text);

		ok(ts_conf_parse("t.conf", buf, (size_t)n, &c, &e) == TS_R_CONFIG_ERROR &&
		        c == NULL && strstr(e.msg, t[i].want) != NULL,
		    "%s (%s)", t[i].name, e.msg);
	}
}

int
main(void)
{
	const char *conf;
	const json_t *cases = fx_cases();
	ts_ctx *ctx = NULL;
	ts_err e = { "" };
	size_t i;

	setenv("TS_TEST_NAME", "t_policy", 1);
	key_issuer_rule();
	typ_locale();
	decision_line();
	alerts();
	json_lines();
	json_hostile();
	conf_rules();
	user_map_files();
	root_names();
	lazy_jwk_keys();
	tenants_rule();
	conf = env_policy_fixture("policy", NULL);
	if (!ok(ts_ctx_new(conf, env_log, NULL, &ctx, &e) == TS_OK, "policy_config_loads (%s)",
	        e.msg))
		return tap_done();
	ts_ctx_inspect(ctx, check_thumbprints, NULL);

	ok(json_array_size(cases) > 70, "policy_cases_present (%zu)", json_array_size(cases));
	for (i = 0; i < json_array_size(cases); i++) {
		const json_t *c = json_array_get(cases, i);
		const char *name = json_string_value(json_object_get(c, "name"));
		const char *expect = json_string_value(json_object_get(c, "expect"));
		const char *local = json_string_value(json_object_get(c, "local"));
		char tok[128];
		ts_request req;
		ts_result res;
		ts_reason r;

		snprintf(tok, sizeof(tok), "case_%s", name);
		req = env_req(tok, json_string_value(json_object_get(c, "service")),
		    json_string_value(json_object_get(c, "user")));
		req.rhost = "192.0.2.7";
		r = ts_validate(ctx, &req, &res);
		if (strcmp(expect, "ok") == 0)
			ok(r == TS_OK && res.accepted &&
			        strcmp(res.user, local != NULL ? local : "alice") == 0 &&
			        strstr(env_last_log(), "result=accept") != NULL,
			    "%s (%s: %s)", name, ts_reason_str(r), res.detail);
		else
			ok(r != TS_OK && !res.accepted && res.user[0] == '\0' &&
			        strcmp(ts_reason_str(r), expect) == 0 &&
			        strstr(env_last_log(), ts_reason_str(r)) != NULL,
			    "%s (want %s, got %s: %s)", name, expect, ts_reason_str(r), res.detail);
	}
	{
		/* M3: the decision line carries the fields an administrator needs */
		ts_request req = env_req("case_good_corp_es256", "dovecot", "alice");
		ts_result res;

		req.rhost = "192.0.2.7";
		ts_validate(ctx, &req, &res);
		ok(strstr(env_last_log(),
		       "result=accept reason=ok service=dovecot rhost=192.0.2.7 "
		       "issuer=corp kid=corp-1 thumbprint=") != NULL &&
		        strstr(env_last_log(),
		            "alg=ES256 typ=at+jwt aud=imap.example.com sub=3f2a-alice "
		            "jti=jti-good_corp_es256 exp=") != NULL,
		    "M3_decision_log_fields");
		ok(strcmp(res.thumbprint, fx_thumbprint("p256")) == 0 &&
		        strcmp(res.issuer_name, "corp") == 0,
		    "result_names_issuer_and_thumbprint");
	}
	{
		/* M5: a token cut at 511 bytes is reported as truncated */
		ts_request req = env_req("case_good_corp_rs256_shared_kid", "dovecot", "alice");
		ts_result res;

		req.token_len = 511;
		ok(ts_validate(ctx, &req, &res) == TS_R_TRUNCATED,
		    "M5_truncated_at_511_reported (%s)", ts_reason_str(res.reason));
		req.token_len = 400;
		ok(ts_validate(ctx, &req, &res) == TS_R_BAD_SIGNATURE ||
		        res.reason == TS_R_MALFORMED,
		    "M5_other_lengths_not_called_truncated");
	}
	{
		/* M5: the truncation detail wraps the parser's own message whole
		 * (it was once formatted over itself: undefined behaviour that
		 * showed as a garbled, doubled detail) */
		static const char want[] = "token cut at 512 bytes by the application (character "
		                           "at offset 40 is outside the base64url alphabet)";
		char cut[512];
		ts_request req = env_req("case_good_corp_es256", "dovecot", "alice");
		ts_result res;

		memset(cut, 'A', sizeof(cut));
		cut[10] = '.';
		cut[20] = '.';
		cut[40] = '%';
		req.token = cut;
		req.token_len = sizeof(cut);
		ok(ts_validate(ctx, &req, &res) == TS_R_TRUNCATED && strcmp(res.detail, want) == 0,
		    "M5_truncated_detail_keeps_the_parser_message_whole (%s)", res.detail);
	}
	{
		/* K3: a trailing slash is still refused, and the detail says
		 * which configured issuer it nearly named */
		ts_request req = env_req("case_K3_iss_trailing_slash", "dovecot", "alice");
		ts_result res;

		ok(ts_validate(ctx, &req, &res) == TS_R_UNKNOWN_ISSUER && !res.accepted &&
		        strstr(
		            res.detail, "configured issuer corp differs only by a trailing slash"),
		    "K3_trailing_slash_refused_with_a_hint (%s)", res.detail);
		req = env_req("case_K3_iss_prefix", "dovecot", "alice");
		ok(ts_validate(ctx, &req, &res) == TS_R_UNKNOWN_ISSUER &&
		        strstr(res.detail, "trailing slash") == NULL,
		    "K3_no_trailing_slash_hint_for_other_issuers (%s)", res.detail);
	}
	{
		/* K5: key validity uses the verifier's clock, never iat */
		ts_request req = env_req("case_good_corp_es256", "dovecot", "alice");
		ts_result res;

		req.now = fx_now() + 2 * 86400;
		ok(ts_validate(ctx, &req, &res) == TS_R_EXPIRED,
		    "C1_clock_injection_expires_token");
	}
	ts_ctx_free(ctx);
	return tap_done();
}
