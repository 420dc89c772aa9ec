/* t_introspect_handler.c: the introspection request logic without HTTP
 * (introspect/handler.c, clients.c) at the fixtures' clock: the clients
 * file's rules, the form decoder, and the answers for each outcome,
 * including 503 when no configuration is in force. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "fx.h"
#include "handler.h"
#include "tap.h"
#include "tsenv.h"

static const char *keys[] = { "p256.pub.pem", "rsa2048.pub.pem", "p384.pub.pem", "rsa3072.pub.pem",
	"ed448.pub.pem", "partner_p256.pub.pem", "partner_rsa2048.pub.pem", "ed25519.pub.pem" };

static const char *
sha_hex(const char *s)
{
	static char hex[65];
	unsigned char md[32];
	unsigned int n = 0, i;

	EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return hex;
}

static int
parses(const char *text, char *err, size_t errlen)
{
	char buf[1024];
	ti_clients *c = NULL;
	int r;

	snprintf(buf, sizeof(buf), "%s", text);
	err[0] = '\0';
	r = ti_clients_parse("clients", buf, &c, err, errlen);
	ti_clients_free(c);
	return r == 0;
}

static void
test_clients_file(void)
{
	char line[512], err[300] = "";

	snprintf(line, sizeof(line), "a %s services=dovecot\n", sha_hex("x"));
	ok(parses(line, err, sizeof(err)), "clients_minimal_line_parses (%s)", err);
	snprintf(line, sizeof(line), "a %s services=dovecot protocols=imap:smtp\n", sha_hex("x"));
	ok(!parses(line, err, sizeof(err)) && strstr(err, "not in services=") != NULL,
	    "N3_protocol_map_cannot_name_a_service_outside_the_clients_list (%s)", err);
	ok(!parses("a - services=dovecot\n", err, sizeof(err)),
	    "N2_client_without_secret_or_peer_uid_refused");
	snprintf(line, sizeof(line), "a %s services=dovecot bogus=1\n", sha_hex("x"));
	ok(!parses(line, err, sizeof(err)) && strstr(err, "clients:1:") != NULL,
	    "clients_unknown_option_is_an_error_with_file_line (%s)", err);
	snprintf(line, sizeof(line), "a %s\n", sha_hex("x"));
	ok(!parses(line, err, sizeof(err)), "N3_client_without_services_refused");
	ok(!parses("a s3cret services=dovecot\n", err, sizeof(err)),
	    "N2_plaintext_secret_refused_only_its_sha256");
	snprintf(
	    line, sizeof(line), "a %s services=d\na %s services=d\n", sha_hex("x"), sha_hex("y"));
	ok(!parses(line, err, sizeof(err)), "clients_duplicate_name_refused");
	ok(!parses("# nothing\n", err, sizeof(err)), "clients_empty_file_refused");
	ok(!parses("a - services=d peer_uid=5\nb - services=d peer_uid=5\n", err, sizeof(err)),
	    "clients_one_peer_uid_for_two_clients_refused");
	snprintf(line, sizeof(line), "a %s services=d;x\n", sha_hex("x"));
	ok(!parses(line, err, sizeof(err)), "clients_service_charset_enforced");
}

static int
form(const char *body, const char *want)
{
	char *out = NULL;
	size_t n = 0;
	int r = ti_form_token(body, strlen(body), &out, &n);
	int good =
	    want == NULL ? r != 0 : (r == 0 && n == strlen(want) && memcmp(out, want, n) == 0);

	free(out);
	return good;
}

static void
test_form(void)
{
	ok(form("token=abc", "abc"), "form_plain");
	ok(form("token_type_hint=x&token=a%2Eb+c", "a.b c"), "form_escapes_and_plus");
	ok(form("token=abc&", "abc") && form("&&token=abc", "abc"), "form_empty_fields_skipped");
	ok(form("token=a&token=b", NULL), "form_repeated_token_refused");
	ok(form("token=", NULL), "form_empty_token_refused");
	ok(form("token=%4", NULL) && form("token=%zz", NULL), "form_bad_escape_refused");
	ok(form("tok%65n=abc", NULL), "form_escaped_parameter_name_is_not_token");
	ok(form("TOKEN=abc", NULL), "form_parameter_name_is_case_sensitive");
}

static ti_request
post(const char *auth, const char *path, const char *body)
{
	ti_request rq;

	memset(&rq, 0, sizeof(rq));
	rq.method = TI_M_POST;
	rq.path = path;
	rq.content_type = "application/x-www-form-urlencoded";
	rq.authorization = auth;
	rq.peer = "127.0.0.1";
	rq.body = body;
	rq.body_len = strlen(body);
	rq.now = fx_now();
	rq.mono = 1.0;
	return rq;
}

static void
test_handler(const char *dir)
{
	char conf[4096], buf[1024], body[9000], bad_conf[4096];
	const char *auth = "Basic YTp4"; /* a:x */
	ti_clients *cl = NULL;
	ts_ctx *ctx = NULL, *broken = NULL;
	ts_err e = { "" };
	ti_env env;
	ti_request rq;
	ti_response rs;

	snprintf(conf, sizeof(conf), "%s/tokenscope.conf", dir);
	ok(ts_ctx_new(conf, env_log, NULL, &ctx, &e) == TS_OK, "policy_loads (%s)", e.msg);
	snprintf(
	    buf, sizeof(buf), "a %s services=dovecot,smtp protocols=imap:dovecot\n", sha_hex("x"));
	ok(ti_clients_parse("clients", buf, &cl, e.msg, sizeof(e.msg)) == 0, "clients_load");
	if (ctx == NULL || cl == NULL)
		return;
	env.ctx = ctx;
	env.clients = cl;
	env.log = env_log;
	env.log_arg = NULL;

	snprintf(body, sizeof(body), "token=%s", fx_token("case_good_corp_es256"));
	rq = post(auth, "/introspect/dovecot", body);
	ti_handle(&env, &rq, &rs);
	ok(rs.status == 200 && rs.body != NULL && strstr(rs.body, "\"active\":true") != NULL &&
	        strstr(rs.body, "\"username\":\"alice\"") != NULL,
	    "N_handler_good_token_active");
	ti_response_clear(&rs);
	rq.protocol = "imap";
	rq.path = "/introspect";
	ti_handle(&env, &rq, &rs);
	ok(rs.status == 200 && strstr(rs.body, "\"active\":true") != NULL,
	    "N3_handler_protocol_map");
	ti_response_clear(&rs);
	rq.protocol = NULL;
	ti_handle(&env, &rq, &rs);
	ok(rs.status == 403, "N3_handler_no_service_for_a_multi_service_client_403");
	ti_response_clear(&rs);

	snprintf(
	    body, sizeof(body), "token=%s", fx_token("case_K1_partner_key_claims_corp_issuer"));
	rq = post(auth, "/introspect/dovecot", body);
	ti_handle(&env, &rq, &rs);
	ok(rs.status == 200 && rs.body != NULL && strcmp(rs.body, "{\"active\":false}") == 0,
	    "N4_handler_refusal_is_exactly_active_false");
	ok(env_log_seen("reason=unknown_key"), "N4_handler_reason_in_the_log");
	ti_response_clear(&rs);

	rq = post("Basic YTp5", "/introspect/dovecot", body); /* a:y */
	ti_handle(&env, &rq, &rs);
	ok(rs.status == 401 && rs.www_authenticate != NULL, "N2_handler_wrong_secret_401");
	ti_response_clear(&rs);
	rq = post(auth, "/introspect/dovecot", body);
	rq.body_too_large = 1;
	ti_handle(&env, &rq, &rs);
	ok(rs.status == 413 && rs.close, "N5_handler_body_too_large_413_and_close");
	ti_response_clear(&rs);
	rq = post(auth, "/introspect/dovecot", body);
	rq.busy = 1;
	ti_handle(&env, &rq, &rs);
	ok(rs.status == 429 && rs.close, "N5_handler_busy_429_and_close");
	ti_response_clear(&rs);

	/* no configuration in force: not a judgement on the token */
	snprintf(bad_conf, sizeof(bad_conf), "%s/missing.conf", dir);
	(void)ts_ctx_new(bad_conf, env_log, NULL, &broken, &e);
	env.ctx = broken;
	snprintf(body, sizeof(body), "token=%s", fx_token("case_good_corp_es256"));
	rq = post(auth, "/introspect/dovecot", body);
	ti_handle(&env, &rq, &rs);
	ok(rs.status == 503 && rs.body != NULL && strstr(rs.body, "active") == NULL,
	    "N4_config_error_is_503_never_active_false_or_true");
	ti_response_clear(&rs);
	ts_ctx_free(broken);
	ts_ctx_free(ctx);
	ti_clients_free(cl);
}

int
main(void)
{
	const char *dir = env_dir("introspect_handler");
	char revoked[128];
	size_t i;

	setenv("TS_TEST_NAME", "t_introspect_handler", 1);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		env_copy_key(dir, keys[i]);
	env_copy_src(dir, "policy.conf", "tokenscope.conf");
	env_copy_src(dir, "policy-users.map", "policy-users.map");
	snprintf(revoked, sizeof(revoked), "%s\n", fx_thumbprint("ed448"));
	env_write(dir, "revoked-keys", revoked, 0644);
	test_clients_file();
	test_form();
	test_handler(dir);
	return tap_done();
}
