/* t_sasl.c: libtoken.so through libsasl2's own server API in one process,
 * the plugin loaded from the build tree (SASL_CB_GETPATH), options through
 * SASL_CB_GETOPT. Tokens signed now by PyJWT (tests/mint_now.py). */
#include "config.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sasl/sasl.h>
#include <sasl/saslplug.h>

#include "fx.h"
#include "tap.h"
#include "tsenv.h"

#define VISIBLE __attribute__((visibility("default")))
#define OPENID "https://sso.example.com/realms/corp/.well-known/openid-configuration"

/* What libsasl logs without a connection (a plugin's initialisation) goes
 * to syslog(), not to the log callback: defined here (exported with
 * -export-dynamic), syslog captures it into the test log, where it is
 * asserted and scanned for token pieces (M3). */
/* M9: the last lines each way, "facility/level line" for syslog (the
 * stand-in below) and "level line" for the log callback. */
static char sys_lines[64][700], cb_lines[64][700];
static unsigned nsys, ncb, openlogs, no_syslog_warnings;

static void
remember(char (*lines)[700], unsigned *n, int tag, const char *line)
{
	/* lines over the slot are cut: the checks look at their start */
	snprintf(lines[(*n)++ % 64], sizeof(lines[0]), "%d %.680s", tag, line);
}

/* True when one of the last 64 lines of that way starts with tag and
 * holds needle. */
static int
seen(char (*lines)[700], unsigned n, int tag, const char *needle)
{
	char pre[16];
	unsigned i;

	snprintf(pre, sizeof(pre), "%d ", tag);
	for (i = 0; i < 64 && i < n; i++)
		if (strncmp(lines[i], pre, strlen(pre)) == 0 && strstr(lines[i], needle) != NULL)
			return 1;
	return 0;
}

static void capture(int prio, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void
capture(int prio, const char *fmt, va_list ap)
{
	char line[2048];

	vsnprintf(line, sizeof(line), fmt, ap);
	remember(sys_lines, &nsys, prio, line);
	env_log(NULL, prio & 7, line);
}

VISIBLE void openlog(const char *ident, int option, int facility);
/* M9: the plugin never changes the host's identity or facility */
void
openlog(const char *ident, int option, int facility)
{
	(void)ident;
	(void)option;
	(void)facility;
	openlogs++;
}

VISIBLE void vsyslog(int prio, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
VISIBLE void __vsyslog_chk(int prio, int flag, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
VISIBLE void syslog(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
VISIBLE void __syslog_chk(int prio, int flag, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

void
vsyslog(int prio, const char *fmt, va_list ap)
{
	capture(prio, fmt, ap);
}

void
__vsyslog_chk(int prio, int flag, const char *fmt, va_list ap)
{
	(void)flag;
	capture(prio, fmt, ap);
}

void
syslog(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	capture(prio, fmt, ap);
	va_end(ap);
}

void
__syslog_chk(int prio, int flag, const char *fmt, ...)
{
	va_list ap;

	(void)flag;
	va_start(ap, fmt);
	capture(prio, fmt, ap);
	va_end(ap);
}

static const char *dir;
static char plugdir[4096], conf[4096], config_opt[4096];
static json_t *fresh, *forg;

static int
getpath(void *ctx, const char **path)
{
	(void)ctx;
	*path = plugdir;
	return SASL_OK;
}

static int
getopt_cb(void *ctx, const char *plugin, const char *option, const char **result, unsigned *len)
{
	(void)ctx;
	(void)plugin;
	*result = NULL;
	if (strcmp(option, "token_config") == 0)
		*result = config_opt;
	else if (strcmp(option, "token_openid_configuration") == 0)
		*result = OPENID;
	else if (strcmp(option, "token_debug") == 0)
		*result = "yes";
	else if (strcmp(option, "log_level") == 0)
		*result = "5"; /* libsasl drops plugin lines below its log_level */
	if (*result != NULL && len != NULL)
		*len = (unsigned)strlen(*result);
	return *result ? SASL_OK : SASL_FAIL;
}

/* M7: the last alert line, which the plugin logs at SASL_LOG_ERR */
static char alert_line[4096];

static int
log_cb(void *ctx, int level, const char *msg)
{
	(void)ctx;
	remember(cb_lines, &ncb, level, msg);
	no_syslog_warnings += level == SASL_LOG_WARN &&
	    strstr(msg, "tokenscope: no syslog receiver (/dev/log: ") != NULL;
	env_log(NULL, level, msg);
	if (level == SASL_LOG_ERR && strstr(msg, "tokenscope: ALERT ") != NULL)
		snprintf(alert_line, sizeof(alert_line), "%s", msg);
	return SASL_OK;
}

/* libsasl's callback table is untyped: void (*)(void) is the generic
 * function pointer C compilers accept in between */
#define CB(f) ((int (*)(void))(void (*)(void))(f))
static const sasl_callback_t callbacks[] = {
	{ SASL_CB_GETPATH, CB(getpath), NULL },
	{ SASL_CB_GETOPT, CB(getopt_cb), NULL },
	{ SASL_CB_LOG, CB(log_cb), NULL },
	{ SASL_CB_LIST_END, NULL, NULL },
};

static const char *
tok(const char *name)
{
	return env_fresh_token(fresh, name);
}

typedef struct result {
	int first, second; /* sasl_server_start, then the ack step (or -100) */
	char user[300];
	json_t *challenge;
} result;

/* One exchange: the client message, and when the server sends an error
 * challenge, the acknowledgement `ack` (ackl bytes). */
static result
exchange(const char *service, const char *mech, const char *msg, size_t len, const char *ack,
    unsigned ackl)
{
	sasl_conn_t *c = NULL;
	const char *out = NULL;
	unsigned outl = 0;
	result r;
	const void *user = NULL;

	memset(&r, 0, sizeof(r));
	r.second = -100;
	if (sasl_server_new(service, "mx.example.com", NULL, "127.0.0.1;25", "192.0.2.9;41234",
	        NULL, 0, &c) != SASL_OK)
		tap_bail("sasl_server_new");
	r.first = sasl_server_start(c, mech, msg, (unsigned)len, &out, &outl);
	if (r.first == SASL_CONTINUE && out != NULL) {
		r.challenge = json_loadb(out, outl, JSON_REJECT_DUPLICATES, NULL);
		r.second = sasl_server_step(c, ack, ackl, &out, &outl);
	}
	if ((r.first == SASL_OK || r.second == SASL_OK) &&
	    sasl_getprop(c, SASL_USERNAME, &user) == SASL_OK && user != NULL)
		snprintf(r.user, sizeof(r.user), "%s", (const char *)user);
	sasl_dispose(&c);
	return r;
}

static char msgbuf[200000];

static const char *
oauthbearer(const char *gs2, const char *auth, size_t *len)
{
	*len = (size_t)snprintf(msgbuf, sizeof(msgbuf),
	    "%s\001host=mx.example.com\001port=587\001auth=%s\001\001", gs2, auth);
	return msgbuf;
}

static result
ob(const char *service, const char *authzid, const char *token)
{
	char gs2[400], auth[100000];
	size_t len;
	const char *m;

	snprintf(gs2, sizeof(gs2), "n,%s%s,", authzid ? "a=" : "", authzid ? authzid : "");
	snprintf(auth, sizeof(auth), "Bearer %s", token);
	m = oauthbearer(gs2, auth, &len);
	return exchange(service, "OAUTHBEARER", m, len, "\001", 1);
}

static result
xo(const char *service, const char *user, const char *token)
{
	size_t len = (size_t)snprintf(
	    msgbuf, sizeof(msgbuf), "user=%s\001auth=Bearer %s\001\001", user, token);

	return exchange(service, "XOAUTH2", msgbuf, len, "", 0);
}

static int
raw(const char *mech, const char *m, size_t len)
{
	result r = exchange("dovecot", mech, m, len, "\001", 1);

	json_decref(r.challenge);
	return r.first;
}

static const char *
jstr(const json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v ? v : "(absent)";
}

static void *
worker(void *arg)
{
	int i, *good = arg;

	for (i = 0; i < 50; i++) {
		result r = ob("dovecot", "alice", tok("good_corp_es256"));

		*good += r.first == SASL_OK && strcmp(r.user, "alice") == 0;
		json_decref(r.challenge);
	}
	return NULL;
}

static int
cli(const char *token, const char *service, const char *user)
{
	char path[4200], cmd[13000];
	FILE *f;
	int st;

	snprintf(path, sizeof(path), "%s/token.tmp", dir);
	if ((f = fopen(path, "w")) == NULL || fputs(token, f) < 0 || fclose(f) != 0)
		tap_bail("write %s", path);
	snprintf(cmd, sizeof(cmd),
	    "'%s/tools/tokenscope' verify -c '%s' -s '%s' %s%s <'%s' >/dev/null 2>&1",
	    tap_env("TS_BUILDDIR"), conf, service, user ? "-u " : "", user ? user : "", path);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The scratch dir: the policy fixture and tokens signed now; the plugin
 * reads the config named by token_config (config_opt). */
static void
setup(void)
{
	/* the policy fixture and an issuer whose key is published for other
	 * tenants (M7): one plugin, one configuration a process */
	snprintf(conf, sizeof(conf), "%s",
	    env_forgery_fixture("sasl", (long long)time(NULL), 0, &forg, &dir));
	snprintf(config_opt, sizeof(config_opt), "%s", conf);
	snprintf(plugdir, sizeof(plugdir), "%s/sasl_token/.libs", tap_env("TS_BUILDDIR"));
	fresh = env_fresh_tokens(dir);
}

/* libsasl2 loads the plugin, which offers both mechanisms. */
static int
test_init(void)
{
	const char *mechs = NULL;
	sasl_conn_t *c = NULL;

	if (!ok(sasl_server_init(callbacks, "tokenscope-test") == SASL_OK,
	        "sasl_server_init_loads_plugin"))
		return -1;
	sasl_server_new("dovecot", "mx.example.com", NULL, NULL, NULL, NULL, 0, &c);
	sasl_listmech(c, NULL, "", " ", "", &mechs, NULL, NULL);
	ok(mechs && strstr(mechs, "OAUTHBEARER") && strstr(mechs, "XOAUTH2"),
	    "both_mechanisms_offered (%s)", mechs ? mechs : "");
	sasl_dispose(&c);
	return 0;
}

/* Good tokens through both mechanisms. */
static void
test_good_tokens(void)
{
	result r;

	r = ob("dovecot", "alice", tok("good_corp_es256"));
	ok(r.first == SASL_OK && strcmp(r.user, "alice") == 0,
	    "oauthbearer_good_token_ok (%s, user %s)", sasl_errstring(r.first, NULL, NULL), r.user);
	r = ob("dovecot", NULL, tok("good_corp_es256"));
	ok(r.first == SASL_OK && strcmp(r.user, "alice") == 0,
	    "oauthbearer_without_authzid_user_from_token");
	r = xo("dovecot", "alice", tok("good_corp_rs256_shared_kid"));
	ok(r.first == SASL_OK && strcmp(r.user, "alice") == 0, "xoauth2_good_token_ok");
}

/* RFC 7628 3.2.2: a refused token gets the error challenge (status, the
 * service's scopes, openid-configuration), then SASL_BADAUTH. */
static void
test_error_challenge(void)
{
	size_t len;
	result r;

	r = ob("dovecot", "alice", tok("K1_partner_key_claims_corp_issuer"));
	ok(r.first == SASL_CONTINUE && r.challenge != NULL, "invalid_token_gets_error_challenge");
	ok(strcmp(jstr(r.challenge, "status"), "invalid_token") == 0,
	    "challenge_status_invalid_token");
	ok(strcmp(jstr(r.challenge, "scope"), "mail.read") == 0,
	    "challenge_scope_is_service_scopes (%s)", jstr(r.challenge, "scope"));
	ok(strcmp(jstr(r.challenge, "openid-configuration"), OPENID) == 0,
	    "challenge_openid_configuration");
	ok(json_object_size(r.challenge) == 3, "challenge_has_exactly_three_members");
	ok(r.second == SASL_BADAUTH, "ack_after_challenge_badauth (%s)",
	    sasl_errstring(r.second, NULL, NULL));
	ok(env_log_seen("result=accept reason=ok service=dovecot rhost=192.0.2.9 ") &&
	        env_log_seen("result=reject reason=unknown_key service=dovecot"),
	    "decisions_logged_through_utils_log");
	/* libsasl's "address;port": the address alone, as every other rhost */
	ok(!env_log_seen("41234"), "M3_sasl_rhost_is_the_address_without_its_port");
	json_decref(r.challenge);
	r = ob("dovecot", "alice", tok("C4_scope_missing"));
	ok(r.first == SASL_CONTINUE &&
	        strcmp(jstr(r.challenge, "status"), "insufficient_scope") == 0 &&
	        r.second == SASL_BADAUTH,
	    "insufficient_scope_status");
	json_decref(r.challenge);
	/* RFC 7628: a valid token that does not grant this login is
	 * insufficient_scope, whichever rule refused it */
	r = ob("groups", "alice", tok("C8_groups_not_member_refused"));
	ok(r.first == SASL_CONTINUE &&
	        strcmp(jstr(r.challenge, "status"), "insufficient_scope") == 0 &&
	        r.second == SASL_BADAUTH && env_log_seen("reason=group_required service=groups"),
	    "C8_sasl_group_required_insufficient_scope");
	json_decref(r.challenge);
	r = ob("assurance", "alice", tok("C9_amr_missing_one_method"));
	ok(r.first == SASL_CONTINUE &&
	        strcmp(jstr(r.challenge, "status"), "insufficient_scope") == 0 &&
	        r.second == SASL_BADAUTH,
	    "C9_sasl_amr_missing_insufficient_scope");
	json_decref(r.challenge);
	r = ob("assurance", "alice", tok("C9_auth_time_in_future"));
	ok(r.first == SASL_CONTINUE && strcmp(jstr(r.challenge, "status"), "invalid_token") == 0 &&
	        r.second == SASL_BADAUTH,
	    "C9_sasl_auth_time_in_future_invalid_token");
	json_decref(r.challenge);
	r = ob("mapopt", "root", tok("C11_root_refused"));
	ok(r.first == SASL_CONTINUE &&
	        strcmp(jstr(r.challenge, "status"), "insufficient_scope") == 0 &&
	        r.second == SASL_BADAUTH && env_log_seen("reason=root_refused service=mapopt"),
	    "C11_sasl_root_refused_insufficient_scope");
	json_decref(r.challenge);
	r = ob("mapped", NULL, tok("C10_mapped_user_ok"));
	ok(r.first == SASL_OK && strcmp(r.user, "alice") == 0,
	    "C10_sasl_without_authzid_user_from_the_map (%s)", r.user);
	json_decref(r.challenge);
	json_decref(r.challenge);
	r = xo("dovecot", "alice", tok("C1_expired"));
	ok(r.first == SASL_CONTINUE && strcmp(jstr(r.challenge, "status"), "401") == 0 &&
	        strcmp(jstr(r.challenge, "schemes"), "bearer") == 0 &&
	        strcmp(jstr(r.challenge, "scope"), "mail.read") == 0 && r.second == SASL_BADAUTH,
	    "xoauth2_error_json_then_badauth");
	json_decref(r.challenge);
	{
		const char *m = oauthbearer("n,a=alice,", "Bearer x.y.z", &len);

		r = exchange("dovecot", "OAUTHBEARER", m, len, "x", 1);
	}
	ok(r.first == SASL_CONTINUE && r.second == SASL_BADPROT,
	    "wrong_ack_after_challenge_badprot");
	json_decref(r.challenge);
}

/* C2, C6: wrong user, escaped authzid, service without section or of
 * another audience. */
static void
test_refusals(void)
{
	result r;

	r = ob("dovecot", "bob", tok("good_corp_es256"));
	ok(r.first == SASL_CONTINUE && r.second == SASL_BADAUTH,
	    "authzid_mismatch_refused_no_proxy");
	json_decref(r.challenge);
	r = ob("dovecot", "al=2Cice", tok("good_corp_es256"));
	ok(r.first == SASL_CONTINUE && r.second == SASL_BADAUTH,
	    "escaped_authzid_compared_unescaped");
	json_decref(r.challenge);
	r = xo("dovecot", "bob", tok("good_corp_es256"));
	ok(r.first == SASL_CONTINUE && r.second == SASL_BADAUTH, "xoauth2_user_mismatch_refused");
	json_decref(r.challenge);
	r = ob("ftp", "alice", tok("good_corp_es256"));
	ok(r.first == SASL_CONTINUE && r.second == SASL_BADAUTH, "service_without_section_refused");
	json_decref(r.challenge);
	r = ob("smtp", "alice", tok("good_corp_es256"));
	ok(r.first == SASL_CONTINUE && strcmp(jstr(r.challenge, "scope"), "mail.send") == 0,
	    "service_from_sasl_server_new_audience_mismatch");
	json_decref(r.challenge);
}

/* M9: every decision goes to syslog's authpriv (whatever the application
 * shows of its SASL log) and to the application's log callback; the
 * host's openlog identity is never touched; a missing syslog receiver is
 * told to the application once. */
static void
test_logged_where_admins_look(void)
{
	result r;
	int fd, no_syslog;
	struct sockaddr_un a;

	nsys = ncb = 0;
	memset(sys_lines, 0, sizeof(sys_lines));
	memset(cb_lines, 0, sizeof(cb_lines));
	r = ob("dovecot", "alice", tok("good_corp_es256"));
	ok(r.first == SASL_OK &&
	        seen(sys_lines, nsys, LOG_AUTHPRIV | LOG_INFO,
	            "tokenscope: result=accept reason=ok service=dovecot") &&
	        seen(cb_lines, ncb, SASL_LOG_NOTE, "tokenscope: result=accept reason=ok"),
	    "M9_sasl_accept_to_authpriv_and_to_the_application");
	r = ob("dovecot", "alice", tok("K1_partner_key_claims_corp_issuer"));
	json_decref(r.challenge);
	ok(seen(sys_lines, nsys, LOG_AUTHPRIV | LOG_NOTICE, "result=reject reason=unknown_key") &&
	        seen(cb_lines, ncb, SASL_LOG_FAIL, "result=reject reason=unknown_key"),
	    "M9_sasl_reject_to_authpriv_and_to_the_application");
	ok(openlogs == 0, "M9_sasl_plugin_never_calls_openlog (%u)", openlogs);
	/* this machine's answer decides which way the warning must go */
	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	snprintf(a.sun_path, sizeof(a.sun_path), "/dev/log");
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	no_syslog = fd < 0 || connect(fd, (const struct sockaddr *)&a, sizeof(a)) != 0;
	if (fd >= 0)
		close(fd);
	r = ob("dovecot", "alice", tok("good_corp_es256"));
	ok(no_syslog_warnings == (no_syslog ? 1u : 0u),
	    "M9_missing_syslog_receiver_told_to_the_application_once (%s /dev/log, %u lines)",
	    no_syslog ? "no" : "a", no_syslog_warnings);
}

/* Malformed messages: SASL_BADPROT, never a decision. */
static void
test_malformed(void)
{
	const char *g = tok("good_corp_es256");
	char m[4000], *big;
	int n;
	result r;

#define BAD(name, fmt, ...)                                                                        \
	n = snprintf(m, sizeof(m), fmt, __VA_ARGS__);                                              \
	ok(raw("OAUTHBEARER", m, (size_t)n) == SASL_BADPROT, "badprot_" name)
	BAD("channel_binding_p", "p=tls-unique,a=alice,\001auth=Bearer %s\001\001", g);
	BAD("gs2_flag_x", "x,a=alice,\001auth=Bearer %s\001\001", g);
	BAD("gs2_no_comma", "n,a=alice\001auth=Bearer %s\001\001", g);
	BAD("gs2_other_field", "n,b=alice,\001auth=Bearer %s\001\001", g);
	BAD("bad_escape", "n,a=al=2Xice,\001auth=Bearer %s\001\001", g);
	BAD("missing_final_kvsep", "n,a=alice,\001auth=Bearer %s\001", g);
	BAD("trailing_data", "n,a=alice,\001auth=Bearer %s\001\001x", g);
	BAD("wrong_scheme", "n,a=alice,\001auth=Basic %s\001\001", g);
	BAD("two_spaces", "n,a=alice,\001auth=Bearer  %s\001\001", g);
	BAD("no_space", "n,a=alice,\001auth=Bearer%s\001\001", g);
	BAD("no_auth", "n,a=alice,\001host=x\001\001%s", "");
	BAD("two_auth", "n,a=alice,\001auth=Bearer %s\001auth=Bearer %s\001\001", g, g);
	BAD("key_not_alpha", "n,a=alice,\001au-th=x\001auth=Bearer %s\001\001", g);
	BAD("token_bad_chars", "n,a=alice,\001auth=Bearer %s!\001\001", g);
	BAD("empty_token", "n,a=alice,\001auth=Bearer %s\001\001", "");
#undef BAD
	ok(raw("OAUTHBEARER", "n,a=alice,\001auth=Bearer x\000y\001\001", 27) == SASL_BADPROT,
	    "badprot_nul_byte");
	ok(raw("OAUTHBEARER", "\001", 1) == SASL_BADPROT, "badprot_lone_kvsep_as_first_message");
	n = snprintf(m, sizeof(m), "user=alice\001auth=Bearer %s\001", g);
	ok(raw("XOAUTH2", m, (size_t)n) == SASL_BADPROT, "badprot_xoauth2_missing_final_kvsep");
	n = snprintf(m, sizeof(m), "auth=Bearer %s\001user=alice\001\001", g);
	ok(raw("XOAUTH2", m, (size_t)n) == SASL_BADPROT, "badprot_xoauth2_wrong_order");
	n = snprintf(m, sizeof(m), "user=alice\001auth=Bearer %s\001\001\001", g);
	ok(raw("XOAUTH2", m, (size_t)n) == SASL_BADPROT, "badprot_xoauth2_trailing_data");
	ok(raw("OAUTHBEARER", "n,,\001auth=bearer x.y.z\001\001",
	       sizeof("n,,\001auth=bearer x.y.z\001\001") - 1) == SASL_CONTINUE,
	    "scheme_is_case_insensitive");
	big = malloc(70100);
	memset(big, 'A', 70000);
	big[70000] = '\0';
	r = ob("dovecot", "alice", big);
	ok(r.first == SASL_BADPROT, "oversize_token_badprot");
	free(big);
}

/* The same decision as `tokenscope verify` for every policy case. */
static void
test_same_as_cli(void)
{
	const json_t *cases = fx_cases();
	size_t i, same = 0, total = 0;
	result r;

	for (i = 0; i < json_array_size(cases); i++) {
		const json_t *c = json_array_get(cases, i);
		const char *name = json_string_value(json_object_get(c, "name"));
		const char *service = json_string_value(json_object_get(c, "service"));
		const char *user = json_string_value(json_object_get(c, "user"));
		int cr;

		if (json_is_true(json_object_get(c, "boundary")))
			continue; /* within a minute of a time limit: needs a fixed clock */
		total++;
		r = ob(service, user, tok(name));
		json_decref(r.challenge);
		cr = cli(tok(name), service, user);
		if ((r.first == SASL_OK && cr == 0) ||
		    (r.first == SASL_CONTINUE && r.second == SASL_BADAUTH && cr == 1))
			same++;
		else
			tap_diag("%s: SASL %d/%d, verify exit %d", name, r.first, r.second, cr);
	}
	ok(same == total && total > 70, "same_decision_as_tokenscope_verify (%zu/%zu cases)", same,
	    total);
}

/* M7: each kind of alert through both mechanisms: still refused (error
 * challenge, then SASL_BADAUTH), alert= in the decision line and a line of
 * its own at SASL_LOG_ERR naming the key's section; none with the
 * signature broken. */
static void
test_alerts(void)
{
	static const struct {
		const char *token, *alert, *key_issuer;
	} cases[] = { { "forged_cross_issuer", "forged_cross_issuer", "partner" },
		{ "forged_shared_kid", "forged_cross_issuer", "partner" },
		{ "stolen_not_yet_valid", "stolen_key_in_use", "corp" },
		{ "cross_tenant", "cross_tenant", "tenant-a" },
		{ "alg_confusion_der_no_kid", "alg_confusion", "corp" } };
	char want[160], *broken, *sig;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *t = json_string_value(json_object_get(forg, cases[i].token));
		result r;

		alert_line[0] = '\0';
		r = i % 2 ? xo("dovecot", "alice", t) : ob("dovecot", "alice", t);
		json_decref(r.challenge);
		snprintf(want, sizeof(want), "tokenscope: ALERT alert=%s ", cases[i].alert);
		ok(r.first == SASL_CONTINUE && r.second == SASL_BADAUTH &&
		        strstr(alert_line, want) != NULL &&
		        strstr(alert_line, " key_issuer=") != NULL &&
		        strstr(alert_line, cases[i].key_issuer) != NULL,
		    "M7_sasl_%s_refused_with_alert_%s (%s)", cases[i].token, cases[i].alert,
		    alert_line);
		snprintf(want, sizeof(want), " alert=%s exp=", cases[i].alert);
		ok(env_log_seen(want), "M7_sasl_%s_alert_in_decision_line", cases[i].token);
		broken = strdup(t);
		sig = strrchr(broken, '.') + 5;
		*sig = *sig == 'A' ? 'B' : 'A';
		alert_line[0] = '\0';
		r = ob("dovecot", "alice", broken);
		json_decref(r.challenge);
		ok(r.second == SASL_BADAUTH && alert_line[0] == '\0',
		    "M7_sasl_%s_broken_signature_no_alert", cases[i].token);
		free(broken);
	}
}

/* Threads sharing the plugin's keyring. */
static void
test_threads(void)
{
	pthread_t th[4];
	int good[4] = { 0, 0, 0, 0 }, sum = 0;
	size_t i;

	for (i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, worker, &good[i]);
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		sum += good[i];
	}
	ok(sum == 200, "four_threads_authenticate_at_once (%d/200)", sum);
}

/* Postfix loads the plugin as root, then chroots: with the files out of
 * reach the loaded state keeps deciding. */
static void
test_kept_state(void)
{
	char moved[4200];
	result r;

	snprintf(moved, sizeof(moved), "%s.moved", conf);
	if (rename(conf, moved) != 0)
		tap_bail("rename");
	r = ob("dovecot", "alice", tok("good_corp_es256"));
	ok(r.first == SASL_OK, "state_kept_when_config_unreachable_after_init");
	r = ob("dovecot", "alice", tok("K1_partner_key_claims_corp_issuer"));
	ok(r.first == SASL_CONTINUE && r.second == SASL_BADAUTH,
	    "kept_state_still_refuses_forgery");
	json_decref(r.challenge);
	if (rename(moved, conf) != 0)
		tap_bail("rename back");
}

/* A second initialisation in the process naming another token_config
 * keeps the first, and logs it. */
static void
test_second_init(void)
{
	char so[4300];
	void *h;
	sasl_server_plug_init_t *init;
	result r;

	snprintf(so, sizeof(so), "%s/libtoken.so", plugdir);
	if ((h = dlopen(so, RTLD_NOW | RTLD_NOLOAD)) == NULL ||
	    (init = (sasl_server_plug_init_t *)dlsym(h, "sasl_server_plug_init")) == NULL)
		tap_bail("libtoken.so is not loaded");
	snprintf(config_opt, sizeof(config_opt), "%s/other.conf", dir);
	(void)sasl_server_add_plugin("TOKEN2", init);
	ok(env_log_seen("other.conf ignored: this process already uses"),
	    "sasl_second_different_token_config_logged");
	snprintf(config_opt, sizeof(config_opt), "%s", conf);
	r = ob("dovecot", "alice", tok("good_corp_es256"));
	ok(r.first == SASL_OK, "sasl_first_config_still_decides");
	json_decref(r.challenge);
	dlclose(h);
}

/* M1: a configuration that never loaded: fail closed with SASL_FAIL. */
static void
test_broken_config(void)
{
	result r;

	env_write(dir, "broken.conf", "[global]\nnonsense = 1\n", 0644);
	snprintf(config_opt, sizeof(config_opt), "%s/broken.conf", dir);
	if (sasl_server_init(callbacks, "tokenscope-test") == SASL_OK) {
		r = ob("dovecot", "alice", tok("good_corp_es256"));
		ok(r.first == SASL_FAIL, "M1_config_error_sasl_fail (%s)",
		    sasl_errstring(r.first, NULL, NULL));
		ok(seen(sys_lines, nsys, LOG_AUTHPRIV | LOG_ERR, "broken.conf:2:") &&
		        seen(cb_lines, ncb, SASL_LOG_ERR,
		            "broken.conf:2: unknown setting \"nonsense\" in [global] (logged "
		            "before this exchange)"),
		    "M9_config_error_to_authpriv_and_to_the_application");
		sasl_server_done();
	} else {
		ok(0, "sasl_server_init_again");
	}
}

int
main(void)
{
	setenv("TS_TEST_NAME", "t_sasl", 1);
	setup();
	if (test_init() != 0)
		return tap_done();
	test_good_tokens();
	test_error_challenge();
	test_logged_where_admins_look();
	test_refusals();
	test_malformed();
	test_alerts();
	test_same_as_cli();
	test_threads();
	test_kept_state();
	test_second_init();
	sasl_server_done();
	test_broken_config();
	json_decref(fresh);
	json_decref(forg);
	return tap_done();
}
