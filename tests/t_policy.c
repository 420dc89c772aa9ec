/* t_policy.c: the whole entry point against tests/policy.conf, one case per
 * rule (K1-K6, C1-C6), tokens from the independent signer. */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "claims.h"
#include "decision.h"
#include "fx.h"
#include "inspect.h"
#include "keyring.h"
#include "tap.h"
#include "tsenv.h"

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
			ok(r == TS_OK && res.accepted && strcmp(res.user, "alice") == 0 &&
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
