/* t_sasl_client.c: the client side of libtoken.so through libsasl2's own
 * client API, talking in one process to the server side through libsasl2's
 * server API, both loaded from the build tree. The token is the
 * application's password (a callback, or a prompt answered after
 * SASL_INTERACT). Tokens signed now by PyJWT (tests/mint_now.py). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sasl/sasl.h>

#include "tap.h"
#include "tsenv.h"

static char plugdir[4096], config_opt[4096];
static json_t *fresh;

/* What the client application hands over: names and the token. */
static const char *app_user, *app_auth, *app_token;
static size_t app_token_len;
static int asked[3]; /* prompts asked: user, authname, password */

/* libsasl2's allocator: every block it frees is searched for a piece of
 * the token first (M4: the client wipes what held it). */
static const char *watch;
static size_t watch_len;
static int freed_with_token;

static void *
a_malloc(size_t n)
{
	/* zeroed, so that the scan in a_free reads no uninitialised byte */
	size_t *p = calloc(1, n + sizeof(size_t) * 2);

	if (p == NULL)
		return NULL;
	p[0] = n;
	return p + 2;
}

static void *
a_calloc(size_t k, size_t n)
{
	void *p = k != 0 && n > ((size_t)-1 - 64) / k ? NULL : a_malloc(k * n);

	if (p != NULL)
		memset(p, 0, k * n);
	return p;
}

static void
a_free(void *v)
{
	size_t *p = v;

	if (p == NULL)
		return;
	p -= 2;
	if (watch != NULL && p[0] >= watch_len && memmem(v, p[0], watch, watch_len) != NULL)
		freed_with_token++;
	free(p);
}

static void *
a_realloc(void *v, size_t n)
{
	void *q;

	if (v == NULL)
		return a_malloc(n);
	if ((q = a_malloc(n)) == NULL)
		return NULL;
	memcpy(q, v, ((size_t *)v)[-2] < n ? ((size_t *)v)[-2] : n);
	a_free(v);
	return q;
}

/* the server side's options: its config, and every log line */
static int
getopt_cb(void *ctx, const char *plugin, const char *option, const char **result, unsigned *len)
{
	(void)ctx;
	(void)plugin;
	*result = NULL;
	if (strcmp(option, "token_config") == 0)
		*result = config_opt;
	if (strcmp(option, "log_level") == 0)
		*result = "7";
	if (*result != NULL && len != NULL)
		*len = (unsigned)strlen(*result);
	return *result ? SASL_OK : SASL_FAIL;
}

static int
simple(void *ctx, int id, const char **result, unsigned *len)
{
	(void)ctx;
	*result = id == SASL_CB_USER ? app_user : app_auth;
	if (len != NULL)
		*len = *result ? (unsigned)strlen(*result) : 0;
	return SASL_OK;
}

static int
secret(sasl_conn_t *conn, void *ctx, int id, sasl_secret_t **psecret)
{
	static sasl_secret_t *s;

	(void)conn;
	(void)ctx;
	(void)id;
	free(s);
	if ((s = malloc(sizeof(*s) + app_token_len + 1)) == NULL)
		return SASL_NOMEM;
	s->len = (unsigned long)app_token_len;
	memcpy(s->data, app_token, app_token_len);
	s->data[app_token_len] = '\0';
	*psecret = s;
	return SASL_OK;
}

#define CB(f) ((int (*)(void))(void (*)(void))(f))
static const sasl_callback_t global_cb[] = {
	{ SASL_CB_GETOPT, CB(getopt_cb), NULL },
	{ SASL_CB_LOG, CB(env_sasl_log), NULL },
	{ SASL_CB_LIST_END, NULL, NULL },
};
/* an application with callbacks (imtest's -w, Postfix's smtp client) */
static const sasl_callback_t with_callbacks[] = {
	{ SASL_CB_USER, CB(simple), NULL },
	{ SASL_CB_AUTHNAME, CB(simple), NULL },
	{ SASL_CB_PASS, CB(secret), NULL },
	{ SASL_CB_LOG, CB(env_sasl_log), NULL },
	{ SASL_CB_LIST_END, NULL, NULL },
};
/* an application with no authorization name to offer */
static const sasl_callback_t without_user[] = {
	{ SASL_CB_AUTHNAME, CB(simple), NULL },
	{ SASL_CB_PASS, CB(secret), NULL },
	{ SASL_CB_LIST_END, NULL, NULL },
};
/* an application that answers prompts instead (libldap's tools) */
static const sasl_callback_t with_prompts[] = {
	{ SASL_CB_USER, NULL, NULL },
	{ SASL_CB_AUTHNAME, NULL, NULL },
	{ SASL_CB_PASS, NULL, NULL },
	{ SASL_CB_LOG, CB(env_sasl_log), NULL },
	{ SASL_CB_LIST_END, NULL, NULL },
};

static void
answer(sasl_interact_t *p)
{
	for (; p->id != SASL_CB_LIST_END; p++) {
		const char *v = app_token;
		int i = 2;

		if (p->id == SASL_CB_USER)
			v = app_user, i = 0;
		else if (p->id == SASL_CB_AUTHNAME)
			v = app_auth, i = 1;
		asked[i]++;
		p->result = v ? v : "";
		p->len = (unsigned)(v == app_token ? app_token_len : strlen(p->result));
	}
}

typedef struct run {
	int first; /* sasl_client_start */
	int client, server; /* the last result of each side */
	char mech[32];
	char sent[8192]; /* the client's first message */
	size_t sent_len;
	char ack[8]; /* the client's answer to the error challenge */
	int ack_len; /* -1: none was asked for */
	char user[300], detail[512];
} run;

/* One whole exchange between a client (callbacks cb) and a server for
 * service, offered the mechanism list mechs. */
static run
drive(const char *service, const char *mechs, const sasl_callback_t *cb)
{
	sasl_conn_t *cc = NULL, *sc = NULL;
	sasl_interact_t *need = NULL;
	const char *out = NULL, *sout = NULL, *chosen = NULL;
	unsigned outl = 0, soutl = 0;
	const void *user = NULL;
	run r;

	memset(&r, 0, sizeof(r));
	r.ack_len = -1;
	r.server = -100;
	asked[0] = asked[1] = asked[2] = 0;
	if (sasl_client_new(service, "mx.example.com", "192.0.2.9;41234", "192.0.2.1;143", cb, 0,
	        &cc) != SASL_OK ||
	    sasl_server_new(service, "mx.example.com", NULL, "192.0.2.1;143", "192.0.2.9;41234",
	        NULL, 0, &sc) != SASL_OK)
		tap_bail("sasl_client_new / sasl_server_new");
	do {
		r.client = sasl_client_start(cc, mechs, &need, &out, &outl, &chosen);
		if (r.client == SASL_INTERACT)
			answer(need);
	} while (r.client == SASL_INTERACT);
	r.first = r.client;
	snprintf(r.mech, sizeof(r.mech), "%s", chosen ? chosen : "");
	if (r.client == SASL_OK || r.client == SASL_CONTINUE) {
		r.sent_len = outl < sizeof(r.sent) ? outl : sizeof(r.sent);
		memcpy(r.sent, out, r.sent_len);
		r.server = sasl_server_start(sc, chosen, out, outl, &sout, &soutl);
	}
	while (r.server == SASL_CONTINUE) {
		r.client = sasl_client_step(cc, sout, soutl, &need, &out, &outl);
		if (r.client != SASL_OK && r.client != SASL_CONTINUE)
			break;
		if (r.ack_len < 0 && outl < sizeof(r.ack)) {
			r.ack_len = (int)outl;
			memcpy(r.ack, out, outl);
		}
		r.server = sasl_server_step(sc, out, outl, &sout, &soutl);
	}
	/* the server's success ends the client's side too (libldap and mutt
	 * step with it; imtest and Postfix simply stop) */
	if (r.server == SASL_OK && r.client == SASL_CONTINUE)
		r.client = sasl_client_step(cc, sout, soutl, &need, &out, &outl);
	if (r.server == SASL_OK && sasl_getprop(sc, SASL_USERNAME, &user) == SASL_OK && user)
		snprintf(r.user, sizeof(r.user), "%s", (const char *)user);
	snprintf(r.detail, sizeof(r.detail), "%s", sasl_errdetail(cc));
	sasl_dispose(&cc);
	sasl_dispose(&sc);
	return r;
}

static const char *
tok(const char *name)
{
	return env_fresh_token(fresh, name);
}

static void
as(const char *user, const char *auth, const char *token)
{
	app_user = user;
	app_auth = auth;
	app_token = token;
	app_token_len = token ? strlen(token) : 0;
}

/* The message on the wire, byte for byte (RFC 7628 3.1, XOAUTH2). */
static void
test_messages(void)
{
	char want[8192];
	int n;
	run r;

	as(NULL, "alice", tok("good_corp_es256"));
	r = drive("dovecot", "OAUTHBEARER", with_callbacks);
	n = snprintf(want, sizeof(want),
	    "n,a=alice,\001host=mx.example.com\001port=143\001auth=Bearer %s\001\001", app_token);
	ok(r.sent_len == (size_t)n && memcmp(r.sent, want, r.sent_len) == 0,
	    "oauthbearer_client_message_is_rfc7628_gs2_header_host_port_auth");
	ok(r.client == SASL_OK && r.server == SASL_OK && strcmp(r.user, "alice") == 0,
	    "oauthbearer_client_logs_in_through_the_server (%s)", r.detail);
	ok(r.ack_len < 0, "no_error_challenge_on_success");
	ok(r.first == SASL_CONTINUE, "client_not_done_before_the_server_answers");
	r = drive("dovecot", "XOAUTH2", with_callbacks);
	n = snprintf(want, sizeof(want), "user=alice\001auth=Bearer %s\001\001", app_token);
	ok(r.sent_len == (size_t)n && memcmp(r.sent, want, r.sent_len) == 0,
	    "xoauth2_client_message_user_auth");
	ok(r.client == SASL_OK && r.server == SASL_OK && strcmp(r.user, "alice") == 0,
	    "xoauth2_client_logs_in_through_the_server (%s)", r.detail);
	r = drive("dovecot", "XOAUTH2", without_user);
	ok(r.server == SASL_OK && strcmp(r.user, "alice") == 0,
	    "application_without_an_authorization_name_callback (%s)", r.detail);
	r = drive("dovecot", "PLAIN XOAUTH2 OAUTHBEARER", with_callbacks);
	ok(r.server == SASL_OK && r.mech[0] != '\0', "client_picks_one_of_ours_from_a_list (%s)",
	    r.mech);
	/* the authorization name wins over the authentication name, escaped */
	as("al,i=ce", "alice", tok("good_corp_es256"));
	r = drive("dovecot", "OAUTHBEARER", with_callbacks);
	ok(r.sent_len > 20 && memcmp(r.sent, "n,a=al=2Ci=3Dce,\001", 17) == 0,
	    "M10_authzid_escaped_as_saslname");
	ok(r.server != SASL_OK, "C6_other_authzid_than_the_tokens_user_refused_by_the_server");
}

/* The client alone, fed what a server (or a broken one) sends. */
static void
test_state_machine(void)
{
	sasl_conn_t *cc = NULL;
	const char *out = NULL, *chosen = NULL;
	unsigned outl = 0;
	int rc;

	as(NULL, "alice", tok("good_corp_es256"));
	sasl_client_new("imap", "mx.example.com", NULL, NULL, with_callbacks, 0, &cc);
	/* an application without an initial response: the message follows
	 * the server's empty challenge */
	rc = sasl_client_start(cc, "OAUTHBEARER", NULL, NULL, NULL, &chosen);
	ok(rc == SASL_CONTINUE, "start_without_initial_response_continues");
	rc = sasl_client_step(cc, "", 0, NULL, &out, &outl);
	ok(rc == SASL_CONTINUE && outl > 2 && memcmp(out, "n,a=alice,", 10) == 0,
	    "message_after_an_empty_server_challenge");
	rc = sasl_client_step(cc, "{\"status\":\"invalid_token\"}", 26, NULL, &out, &outl);
	ok(rc == SASL_CONTINUE && outl == 1 && out[0] == '\001', "error_challenge_gets_x01");
	rc = sasl_client_step(cc, "more", 4, NULL, &out, &outl);
	ok(rc == SASL_BADPROT, "server_data_after_the_ack_badprot");
	sasl_dispose(&cc);
	sasl_client_new("imap", "mx.example.com", NULL, NULL, with_callbacks, 0, &cc);
	rc = sasl_client_start(cc, "XOAUTH2", NULL, NULL, NULL, &chosen);
	rc = sasl_client_step(cc, "surprise", 8, NULL, &out, &outl);
	ok(rc == SASL_BADPROT, "server_data_before_the_client_message_badprot");
	sasl_dispose(&cc);
}

/* A refusal: the server's error challenge, answered with \x01
 * (OAUTHBEARER) or nothing (XOAUTH2), then SASL_BADAUTH. */
static void
test_refusals(void)
{
	run r;

	as(NULL, "alice", tok("K1_partner_key_claims_corp_issuer"));
	r = drive("dovecot", "OAUTHBEARER", with_callbacks);
	ok(r.ack_len == 1 && r.ack[0] == '\001', "oauthbearer_error_challenge_answered_with_x01");
	ok(r.server == SASL_BADAUTH, "K1_forged_token_from_the_client_badauth");
	ok(strstr(r.detail, "invalid_token") != NULL, "client_error_detail_shows_the_status (%s)",
	    r.detail);
	as(NULL, "alice", tok("C1_expired"));
	r = drive("dovecot", "XOAUTH2", with_callbacks);
	ok(r.ack_len == 0, "xoauth2_error_challenge_answered_with_an_empty_response");
	ok(r.server == SASL_BADAUTH, "C1_expired_token_from_the_xoauth2_client_badauth");
	as(NULL, "bob", tok("good_corp_es256"));
	r = drive("dovecot", "OAUTHBEARER", with_callbacks);
	ok(r.server == SASL_BADAUTH, "C6_client_bob_with_alices_token_badauth");
}

/* An application that answers prompts: asked for the three, then in. */
static void
test_prompts(void)
{
	run r;

	as("", "alice", tok("good_corp_es256"));
	r = drive("dovecot", "OAUTHBEARER", with_prompts);
	ok(asked[0] == 1 && asked[1] == 1 && asked[2] == 1,
	    "prompts_for_authzid_authname_and_token (%d %d %d)", asked[0], asked[1], asked[2]);
	ok(r.server == SASL_OK && strcmp(r.user, "alice") == 0, "prompted_token_logs_in (%s)",
	    r.detail);
	r = drive("dovecot", "XOAUTH2", with_prompts);
	ok(r.server == SASL_OK && strcmp(r.user, "alice") == 0, "xoauth2_prompted_token_logs_in");
}

/* What the client refuses to send: nothing leaves it. */
static void
test_client_refusals(void)
{
	char *big;
	run r;

	as("", "", tok("good_corp_es256"));
	r = drive("dovecot", "OAUTHBEARER", with_callbacks);
	ok(r.client == SASL_BADPARAM && r.sent_len == 0, "no_user_name_badparam_nothing_sent");
	r = drive("dovecot", "XOAUTH2", with_callbacks);
	ok(r.client == SASL_BADPARAM && r.sent_len == 0, "xoauth2_no_user_name_badparam");
	as(NULL, "alice", "correct horse battery staple");
	r = drive("dovecot", "OAUTHBEARER", with_callbacks);
	ok(r.client == SASL_BADPARAM && r.sent_len == 0 && strstr(r.detail, "b64token") != NULL,
	    "M10_a_password_that_is_not_a_token_never_sent (%s)", r.detail);
	as(NULL, "alice", "");
	r = drive("dovecot", "OAUTHBEARER", with_callbacks);
	ok(r.client == SASL_BADPARAM && r.sent_len == 0, "empty_token_badparam");
	as(NULL, "ali\001ce", tok("good_corp_es256"));
	r = drive("dovecot", "XOAUTH2", with_callbacks);
	ok(r.client == SASL_BADPARAM && r.sent_len == 0, "M10_user_with_x01_never_sent");
	as("ali\nce", "alice", tok("good_corp_es256"));
	r = drive("dovecot", "OAUTHBEARER", with_callbacks);
	ok(r.client == SASL_BADPARAM && r.sent_len == 0, "M10_authzid_with_newline_never_sent");
	big = malloc(100001);
	memset(big, 'a', 100000);
	big[100000] = '\0';
	as(NULL, big, tok("good_corp_es256"));
	r = drive("dovecot", "OAUTHBEARER", with_callbacks);
	ok(r.client == SASL_BADPARAM && r.sent_len == 0, "M10_user_name_over_256_bytes_never_sent");
	free(big);
	big = malloc(70001);
	memset(big, 'A', 70000);
	big[70000] = '\0';
	as(NULL, "alice", big);
	r = drive("dovecot", "OAUTHBEARER", with_callbacks);
	ok(r.client == SASL_BADPARAM && r.sent_len == 0, "P1_token_over_64KiB_never_sent");
	free(big);
}

/* M3, M4: no piece of the token in a log line or a freed libsasl block. */
static void
test_no_token_left(void)
{
	const char *t = tok("good_corp_es256");
	char piece[41];

	snprintf(piece, sizeof(piece), "%s", strrchr(t, '.') + 1);
	watch = piece;
	watch_len = strlen(piece);
	freed_with_token = 0;
	as(NULL, "alice", t);
	(void)drive("dovecot", "OAUTHBEARER", with_callbacks);
	(void)drive("dovecot", "XOAUTH2", with_prompts);
	as(NULL, "alice", tok("K1_partner_key_claims_corp_issuer"));
	snprintf(piece, sizeof(piece), "%s", strrchr(app_token, '.') + 1);
	(void)drive("dovecot", "OAUTHBEARER", with_callbacks);
	ok(freed_with_token == 0, "M4_client_message_wiped_before_libsasl_frees_it (%d blocks)",
	    freed_with_token);
	watch = NULL;
	ok(!env_log_seen(piece), "M3_no_signature_piece_in_the_logs");
}

int
main(void)
{
	const char *dir;

	setenv("TS_TEST_NAME", "t_sasl_client", 1);
	snprintf(config_opt, sizeof(config_opt), "%s", env_policy_fixture("sasl_client", &dir));
	/* the plugin path as an administrator (or t_slapd.sh) gives it */
	snprintf(plugdir, sizeof(plugdir), "%s/sasl_token/.libs", tap_env("TS_BUILDDIR"));
	setenv("SASL_PATH", plugdir, 1);
	fresh = env_fresh_tokens(dir);
	sasl_set_alloc(a_malloc, a_calloc, a_realloc, a_free);
	if (!ok(sasl_server_init(global_cb, "tokenscope-test") == SASL_OK &&
	            sasl_client_init(global_cb) == SASL_OK,
	        "libsasl2_client_and_server_load_libtoken"))
		return tap_done();
	test_messages();
	test_state_machine();
	test_refusals();
	test_prompts();
	test_client_refusals();
	test_no_token_left();
	sasl_server_done();
	sasl_client_done();
	json_decref(fresh);
	return tap_done();
}
