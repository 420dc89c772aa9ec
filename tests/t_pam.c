/* t_pam.c: pam_token.so through real Linux-PAM (pam_start_confdir with
 * service files in the build tree; no root, no /etc/pam.d). Covers the
 * major decision classes, use_/try_first_pass, passthrough, the account
 * stack, config errors, and the same decision as `tokenscope verify` for
 * every policy case, with tokens signed now by PyJWT (tests/mint_now.py). */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>

#include <jansson.h>
#include <security/pam_appl.h>

#include "fx.h"
#include "tap.h"
#include "tsenv.h"

/* M7: the last line logged at LOG_ALERT */
static char alert_line[4096];

/* pam_syslog() ends in vsyslog(); defined here (exported with
 * -export-dynamic), it captures the module's log lines into the test log,
 * where they are asserted and scanned for token pieces (M3). */
static void capture(int prio, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void
capture(int prio, const char *fmt, va_list ap)
{
	char line[4096];

	vsnprintf(line, sizeof(line), fmt, ap);
	env_log(NULL, prio & 7, line);
	if ((prio & 7) == LOG_ALERT)
		snprintf(alert_line, sizeof(alert_line), "%s", line);
}

#define VISIBLE __attribute__((visibility("default")))
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
static char module[4096], conf[4096];
static json_t *fresh;

typedef struct conv_state {
	const char *answer;
	int prompts;
	char last_prompt[128];
	char **parts; /* when set: the answer to each prompt in turn, then "" */
} conv_state;

/* Answers every echo-off prompt with the whole token (never cut at 512),
 * or with the next of its parts. */
static int
conv(int n, const struct pam_message **msg, struct pam_response **resp, void *arg)
{
	conv_state *st = arg;
	struct pam_response *r = calloc((size_t)n, sizeof(*r));
	const char *a;
	int i;

	if (r == NULL)
		return PAM_BUF_ERR;
	for (i = 0; i < n; i++) {
		if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF) {
			a = st->answer;
			if (st->parts != NULL)
				a = st->parts[st->prompts] != NULL ? st->parts[st->prompts] : "";
			st->prompts++;
			snprintf(st->last_prompt, sizeof(st->last_prompt), "%s", msg[i]->msg);
			r[i].resp = a ? strdup(a) : NULL;
		}
	}
	*resp = r;
	return st->answer != NULL || st->parts != NULL ? PAM_SUCCESS : PAM_CONV_ERR;
}

static const char *
tok(const char *name)
{
	return env_fresh_token(fresh, name);
}

/* Runs auth (+ account when acct) for service/user, answering prompts as
 * st says. Returns the auth result; *acct_r the account one. */
static int
login_conv(const char *service, const char *user, conv_state *st, int acct, int *acct_r)
{
	struct pam_conv c = { conv, st };
	pam_handle_t *pamh = NULL;
	int r;

	if (pam_start_confdir(service, user, &c, dir, &pamh) != PAM_SUCCESS)
		tap_bail("pam_start_confdir(%s) failed", service);
	pam_set_item(pamh, PAM_RHOST, "192.0.2.44");
	r = pam_authenticate(pamh, 0);
	if (acct_r != NULL)
		*acct_r = acct ? pam_acct_mgmt(pamh, 0) : -1;
	pam_end(pamh, r);
	return r;
}

/* login_conv answering every prompt with `answer`. */
static int
login(const char *service, const char *user, const char *answer, int acct, int *acct_r,
    conv_state *st_out)
{
	conv_state st = { answer, 0, "", NULL };
	int r = login_conv(service, user, &st, acct, acct_r);

	if (st_out != NULL)
		*st_out = st;
	return r;
}

/* Writes a PAM service file; "MOD" stands for the module's path and "CONF"
 * for the test configuration. */
static void
service_file(const char *name, const char *lines)
{
	char text[16384];
	size_t n = 0;
	const char *p;

	for (p = lines; *p != '\0' && n + 4200 < sizeof(text);) {
		if (strncmp(p, "MOD", 3) == 0) {
			n += (size_t)snprintf(text + n, sizeof(text) - n, "%s", module);
			p += 3;
		} else if (strncmp(p, "CONF", 4) == 0) {
			n += (size_t)snprintf(text + n, sizeof(text) - n, "%s", conf);
			p += 4;
		} else {
			text[n++] = *p++;
		}
	}
	text[n] = '\0';
	env_write(dir, name, text, 0644);
}

/* `tokenscope verify` on the same token: 0 accept, 1 reject, 2 error. */
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

static void
test_same_as_cli(void)
{
	const json_t *cases = fx_cases();
	size_t i, same = 0, total = 0;

	for (i = 0; i < json_array_size(cases); i++) {
		const json_t *c = json_array_get(cases, i);
		const char *name = json_string_value(json_object_get(c, "name"));
		const char *service = json_string_value(json_object_get(c, "service"));
		const char *user = json_string_value(json_object_get(c, "user"));
		int pr, cr;

		if (user == NULL || json_is_true(json_object_get(c, "boundary")))
			continue; /* PAM always has a user; boundary cases need a fixed clock */
		total++;
		pr = login(service, user, tok(name), 0, NULL, NULL);
		cr = cli(tok(name), service, user);
		if ((pr == PAM_SUCCESS && cr == 0) || (pr == PAM_AUTH_ERR && cr == 1))
			same++;
		else
			tap_diag("%s: PAM %s, verify exit %d", name, pam_strerror(NULL, pr), cr);
	}
	ok(same == total && total > 70, "same_decision_as_tokenscope_verify (%zu/%zu cases)", same,
	    total);
}

/* The scratch dir: the policy fixture, tokens signed now, and one PAM
 * service file per stack the tests below log in through. */
static void
setup(void)
{
	const char *stack = "auth required MOD config=CONF\naccount required MOD config=CONF\n";
	static char dirbuf[4096]; /* env_dir's buffer is reused by later fixtures */
	char path[4200], text[8400];
	const char *d;

	snprintf(conf, sizeof(conf), "%s", env_policy_fixture("pam", &d));
	snprintf(dirbuf, sizeof(dirbuf), "%s", d);
	dir = dirbuf;
	snprintf(module, sizeof(module), "%s/pam_token/.libs/pam_token.so", tap_env("TS_BUILDDIR"));
	fresh = env_fresh_tokens(dir);

	service_file("dovecot", stack);
	service_file("smtp", stack);
	/* the [service] sections of the C8-C11 cases */
	service_file("groups", stack);
	service_file("assurance", stack);
	service_file("mapped", stack);
	service_file("mapopt", stack);
	service_file("rootok", stack);
	service_file("ftp", stack);
	service_file("other", "auth required pam_deny.so\naccount required pam_deny.so\n");
	service_file("ufp", "auth required MOD config=CONF use_first_pass service=dovecot\n");
	service_file("tfp", "auth required MOD config=CONF try_first_pass service=dovecot\n");
	/* PAM_AUTHTOK is set by an earlier module, never by the application: the
	 * first line prompts (and fails: no [service ftp]), the second reuses */
	service_file("ufp2",
	    "auth optional MOD config=CONF service=ftp\n"
	    "auth required MOD config=CONF use_first_pass service=dovecot\n");
	service_file("tfp2",
	    "auth optional MOD config=CONF service=ftp\n"
	    "auth required MOD config=CONF try_first_pass service=dovecot\n");
	service_file(
	    "prompt", "auth required MOD config=CONF service=dovecot prompt=Bearer-token:\n");
	service_file("pass",
	    "auth [success=done ignore=ignore default=die] MOD config=CONF service=dovecot "
	    "passthrough\n"
	    "auth required pam_permit.so\n");
	service_file("nopass",
	    "auth [success=done ignore=ignore default=die] MOD config=CONF service=dovecot\n"
	    "auth required pam_permit.so\n");
	service_file("mp", "auth required MOD config=CONF service=dovecot multipart\n");
	service_file("mp3", "auth required MOD config=CONF service=dovecot multipart=3\n");
	service_file("mp_bad", "auth required MOD config=CONF service=dovecot multipart=1\n");
	service_file("mp_pass",
	    "auth [success=done ignore=ignore default=die] MOD config=CONF service=dovecot "
	    "passthrough multipart\n"
	    "auth required pam_permit.so\n");
	service_file("mp_ufp",
	    "auth required MOD config=CONF service=dovecot multipart\n"
	    "auth required MOD config=CONF service=dovecot use_first_pass\n");
	service_file(
	    "acct_other", "auth required pam_permit.so\naccount required MOD config=CONF\n");
	env_write(dir, "badconf", "[global]\nnonsense = 1\n", 0644);
	snprintf(path, sizeof(path), "%s/badconf", dir);
	snprintf(text, sizeof(text), "auth required %s config=%s service=dovecot\n", module, path);
	env_write(dir, "broken", text, 0644);
	snprintf(text, sizeof(text), "auth required %s config=%s service=dovecot bogus_option\n",
	    module, conf);
	env_write(dir, "unknownarg", text, 0644);
}

/* Decisions through PAM: K1, K5, C1, C2, C6, and the decision line (M3). */
static void
test_decisions(void)
{
	conv_state st;
	int r, ar;

	r = login("dovecot", "alice", tok("good_corp_es256"), 1, &ar, &st);
	ok(r == PAM_SUCCESS, "pam_good_token_success (%s)", pam_strerror(NULL, r));
	ok(strstr(env_last_log(),
	       "result=accept reason=ok service=dovecot rhost=192.0.2.44 issuer=corp "
	       "kid=corp-1") != NULL,
	    "M3_pam_decision_logged_with_service_and_rhost (%s)", env_last_log());
	ok(ar == PAM_SUCCESS, "pam_account_after_token_auth_success (%s)", pam_strerror(NULL, ar));
	ok(st.prompts == 1 && strcmp(st.last_prompt, "Token: ") == 0, "pam_prompts_once_echo_off");
	ok(login("dovecot", "alice", tok("good_corp_rs256_shared_kid"), 0, NULL, NULL) ==
	        PAM_SUCCESS,
	    "pam_good_rs256_token_success");
	ok(login("dovecot", "bob", tok("good_corp_es256"), 0, NULL, NULL) == PAM_AUTH_ERR,
	    "C6_pam_wrong_user_auth_err");
	ok(login("dovecot", "alice", tok("K1_partner_key_claims_corp_issuer"), 0, NULL, NULL) ==
	        PAM_AUTH_ERR,
	    "K1_pam_cross_issuer_forgery_auth_err");
	ok(strstr(env_last_log(), "result=reject reason=unknown_key service=dovecot") != NULL,
	    "pam_log_names_the_reason (%s)", env_last_log());
	ok(login("dovecot", "alice", tok("K5_expired_key_future_exp"), 0, NULL, NULL) ==
	        PAM_AUTH_ERR,
	    "K5_pam_expired_key_auth_err");
	ok(login("dovecot", "alice", tok("C1_expired"), 0, NULL, NULL) == PAM_AUTH_ERR,
	    "C1_pam_expired_token_auth_err");
	ok(login("smtp", "alice", tok("good_corp_es256"), 0, NULL, NULL) == PAM_AUTH_ERR,
	    "C2_pam_service_from_PAM_SERVICE_audience_mismatch");
	ok(login("ftp", "alice", tok("good_corp_es256"), 0, NULL, NULL) == PAM_AUTH_ERR,
	    "pam_service_without_section_auth_err");
	ok(login("groups", "alice", tok("C8_groups_array_ok"), 0, NULL, NULL) == PAM_SUCCESS &&
	        login("groups", "alice", tok("C8_groups_not_member_refused"), 0, NULL, NULL) ==
	            PAM_AUTH_ERR &&
	        strstr(env_last_log(), "reason=group_required service=groups") != NULL,
	    "C8_pam_group_rule_both_ways (%s)", env_last_log());
	ok(login("mapopt", "root", tok("C11_root_refused"), 0, NULL, NULL) == PAM_AUTH_ERR &&
	        strstr(env_last_log(), "reason=root_refused service=mapopt") != NULL,
	    "C11_pam_root_refused (%s)", env_last_log());
	ok(login("mapped", "alice", tok("C10_mapped_user_ok"), 0, NULL, NULL) == PAM_SUCCESS &&
	        login("mapped", "alice", tok("C10_unmapped_refused"), 0, NULL, NULL) ==
	            PAM_AUTH_ERR &&
	        strstr(env_last_log(), "reason=user_unmapped service=mapped") != NULL,
	    "C10_pam_user_map_both_ways (%s)", env_last_log());
}

/* M7, M8: each kind of alert through PAM, with JSON decision lines: the
 * login is still refused, the alert is in the decision and on a LOG_ALERT
 * line of its own; with the signature broken, no alert. */
static void
test_alerts(void)
{
	static const struct {
		const char *token, *alert;
	} cases[] = { { "forged_cross_issuer", "forged_cross_issuer" },
		{ "stolen_expired", "stolen_key_in_use" },
		{ "stolen_revoked", "stolen_key_in_use" }, { "cross_tenant", "cross_tenant" },
		{ "alg_confusion_pem", "alg_confusion" } };
	json_t *forg = NULL;
	const char *fconf =
	    env_forgery_fixture("pam_alerts", (long long)time(NULL), 1, &forg, NULL);
	char text[8400], want[96], *broken, *sig;
	size_t i;

	snprintf(text, sizeof(text), "auth required %s config=%s service=dovecot\n", module, fconf);
	env_write(dir, "alerts", text, 0644);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *t = json_string_value(json_object_get(forg, cases[i].token));
		int r;

		alert_line[0] = '\0';
		r = login("alerts", "alice", t, 0, NULL, NULL);
		snprintf(want, sizeof(want), "\"alert\":\"%s\"", cases[i].alert);
		ok(r == PAM_AUTH_ERR && strstr(env_last_log(), "{\"event\":\"decision\"") != NULL &&
		        strstr(env_last_log(), want) != NULL && strstr(alert_line, want) != NULL &&
		        strstr(alert_line, "\"key_thumbprint\":\"") != NULL,
		    "M7_pam_%s_refused_with_alert_%s (%s)", cases[i].token, cases[i].alert,
		    alert_line);
		broken = strdup(t);
		sig = strrchr(broken, '.') + 5;
		*sig = *sig == 'A' ? 'B' : 'A';
		alert_line[0] = '\0';
		r = login("alerts", "alice", broken, 0, NULL, NULL);
		ok(r == PAM_AUTH_ERR && alert_line[0] == '\0' &&
		        strstr(env_last_log(), "\"alert\":null") != NULL,
		    "M7_pam_%s_broken_signature_no_alert", cases[i].token);
		free(broken);
	}
	ok(login("alerts", "alice", json_string_value(json_object_get(forg, "good")), 0, NULL,
	       NULL) == PAM_SUCCESS &&
	        strstr(env_last_log(), "\"result\":\"accept\"") != NULL,
	    "M8_pam_json_decision_line_on_accept");
	json_decref(forg);
}

/* M1: a broken config fails closed; module options and conversation. */
static void
test_module_errors(void)
{
	ok(login("broken", "alice", tok("good_corp_es256"), 0, NULL, NULL) == PAM_AUTHINFO_UNAVAIL,
	    "M1_pam_config_error_authinfo_unavail");
	ok(login("unknownarg", "alice", tok("good_corp_es256"), 0, NULL, NULL) == PAM_SUCCESS,
	    "pam_unknown_argument_not_fatal");
	ok(env_log_seen("unknown option: bogus_option"), "pam_unknown_argument_logged");
	ok(login("dovecot", "alice", "hunter2", 0, NULL, NULL) == PAM_AUTH_ERR,
	    "M1_pam_password_without_passthrough_auth_err");
	ok(login("dovecot", "alice", NULL, 0, NULL, NULL) == PAM_CONV_ERR,
	    "pam_conversation_failure_conv_err");
}

/* M5: a token cut at 511 bytes by the application. */
static void
test_truncated(void)
{
	char cut[600];

	snprintf(cut, sizeof(cut), "%.511s", tok("good_corp_rs256_shared_kid"));
	ok(strlen(cut) == 511 && login("dovecot", "alice", cut, 0, NULL, NULL) == PAM_AUTH_ERR,
	    "M5_pam_truncated_token_auth_err");
	ok(strstr(env_last_log(), "result=reject reason=truncated") != NULL,
	    "M5_pam_log_says_truncated (%s)", env_last_log());
}

/* t cut into parts of len bytes (the last shorter), NULL-terminated; the
 * conversation answers "" after the last. */
static char **
split(const char *t, size_t len)
{
	size_t n = strlen(t), k = (n + len - 1) / len, i;
	char **parts = calloc(k + 1, sizeof(*parts));

	if (parts == NULL)
		tap_bail("calloc");
	for (i = 0; i < k; i++)
		if ((parts[i] = strndup(t + i * len, len)) == NULL)
			tap_bail("strndup");
	return parts;
}

static void
free_parts(char **parts)
{
	size_t i;

	for (i = 0; parts[i] != NULL; i++)
		free(parts[i]);
	free(parts);
}

/* Logs in as alice on service with long_good_corp_es256 (or t) answered in
 * parts of len bytes. */
static int
login_parts(const char *service, const char *t, size_t len, conv_state *st)
{
	char **parts = split(t, len);
	int r;

	memset(st, 0, sizeof(*st));
	st->parts = parts;
	r = login_conv(service, "alice", st, 0, NULL);
	st->parts = NULL;
	free_parts(parts);
	return r;
}

/* P6: a token longer than the application's answer limit, in parts. */
static void
test_multipart(void)
{
	const char *lt = tok("long_good_corp_es256");
	char bad[9300], cut[1100], *parts[2] = { NULL, NULL };
	conv_state st;
	int r;

	r = login_parts("mp", lt, 1023, &st);
	ok(r == PAM_SUCCESS && st.prompts == 5 &&
	        strcmp(st.last_prompt, "Token, next part (empty answer ends): ") == 0,
	    "P6_multipart_1023_byte_parts_of_a_%zu_byte_token_success (%s, %d prompts)", strlen(lt),
	    pam_strerror(NULL, r), st.prompts);
	r = login_parts("mp", lt, 511, &st);
	ok(r == PAM_SUCCESS && st.prompts == 8, "P6_multipart_511_byte_parts_success (%d prompts)",
	    st.prompts);
	r = login_parts("mp_ufp", lt, 1024, &st);
	ok(r == PAM_SUCCESS, "P6_multipart_PAM_AUTHTOK_is_the_whole_token (%s)",
	    pam_strerror(NULL, r));
	r = login("mp", "alice", tok("good_corp_rs256_shared_kid"), 0, NULL, &st);
	ok(r == PAM_SUCCESS && st.prompts == 1,
	    "P6_multipart_short_token_asked_once (%s, %d prompts)", pam_strerror(NULL, r),
	    st.prompts);
	/* good_corp_es256 is 511 bytes long, a cut length: one more prompt,
	 * answered with nothing (a person) or the token again (Dovecot) */
	parts[0] = strdup(tok("good_corp_es256"));
	memset(&st, 0, sizeof(st));
	st.parts = parts;
	r = login_conv("mp", "alice", &st, 0, NULL);
	ok(strlen(parts[0]) == 511 && r == PAM_SUCCESS && st.prompts == 2,
	    "P6_multipart_whole_token_at_a_cut_length_and_an_empty_answer_success");
	free(parts[0]);
	r = login("mp", "alice", tok("good_corp_es256"), 0, NULL, &st);
	ok(r == PAM_SUCCESS && st.prompts == 2,
	    "P6_multipart_whole_token_at_a_cut_length_repeated_by_the_application_success");
	r = login("mp_pass", "alice", "hunter2", 0, NULL, &st);
	ok(r == PAM_SUCCESS && st.prompts == 1, "P6_multipart_password_passed_through_asked_once");
	r = login("mp", "bob", lt, 0, NULL, &st);
	ok(r == PAM_AUTH_ERR && st.prompts == 1, "P6_multipart_whole_long_token_checked_as_ever");
	/* parts of another length than a cut: the first is judged alone */
	r = login_parts("mp", lt, 1000, &st);
	ok(r == PAM_AUTH_ERR && st.prompts == 1,
	    "P6_multipart_first_part_not_at_a_cut_judged_alone");
	snprintf(bad, sizeof(bad), "%s", lt);
	bad[strlen(bad) - 2] = bad[strlen(bad) - 2] == 'A' ? 'B' : 'A';
	r = login_parts("mp", bad, 1023, &st);
	ok(r == PAM_AUTH_ERR && st.prompts == 5 &&
	        strstr(env_last_log(), "reason=bad_signature") != NULL,
	    "P6_multipart_joined_token_verified_whole (%s)", env_last_log());
	r = login_parts("mp", tok("K1_partner_key_claims_corp_issuer"), 511, &st);
	ok(r == PAM_AUTH_ERR, "P6_K1_multipart_forged_token_refused");
	r = login_parts("mp3", lt, 511, &st);
	ok(r == PAM_AUTH_ERR && st.prompts == 4,
	    "P6_multipart_more_parts_than_allowed_refused_without_asking_further (%d prompts)",
	    st.prompts);
	/* nine 1023-byte parts pass the default max_token_size of 8192 */
	memset(bad, 'A', sizeof(bad) - 1);
	bad[sizeof(bad) - 1] = '\0';
	memcpy(bad, lt, 40);
	r = login_parts("mp", bad, 1023, &st);
	ok(r == PAM_AUTH_ERR && st.prompts == 9 && env_log_seen("multipart: refused after 9 parts"),
	    "P6_multipart_over_max_token_size_refused_at_the_part_that_passes_it (%d prompts)",
	    st.prompts);
	/* an application answering every prompt with its one password */
	snprintf(cut, sizeof(cut), "%.1023s", lt);
	r = login("mp", "alice", cut, 0, NULL, &st);
	ok(r == PAM_AUTH_ERR && st.prompts == 2 &&
	        strstr(env_last_log(), "reason=truncated") != NULL,
	    "P6_M5_multipart_application_repeating_its_answer_judged_as_cut (%d prompts)",
	    st.prompts);
	r = login("dovecot", "alice", cut, 0, NULL, &st);
	ok(r == PAM_AUTH_ERR && st.prompts == 1, "P6_without_multipart_one_answer_only");
	r = login_parts("mp_bad", lt, 1023, &st);
	ok(r == PAM_AUTH_ERR && st.prompts == 1 && env_log_seen("multipart=1: not a number"),
	    "P6_multipart_bad_count_logged_and_off");
}

/* use_first_pass, try_first_pass and prompt=. */
static void
test_first_pass(void)
{
	conv_state st;
	int r;

	r = login("ufp2", "alice", tok("good_corp_es256"), 0, NULL, &st);
	ok(r == PAM_SUCCESS && st.prompts == 1,
	    "pam_use_first_pass_takes_authtok_no_prompt (%s, %d prompts)", pam_strerror(NULL, r),
	    st.prompts);
	r = login("ufp", "alice", tok("good_corp_es256"), 0, NULL, &st);
	ok(r == PAM_AUTH_ERR && st.prompts == 0,
	    "pam_use_first_pass_without_authtok_never_prompts");
	r = login("tfp2", "alice", tok("good_corp_es256"), 0, NULL, &st);
	ok(r == PAM_SUCCESS && st.prompts == 1, "pam_try_first_pass_takes_authtok");
	r = login("tfp", "alice", tok("good_corp_es256"), 0, NULL, &st);
	ok(r == PAM_SUCCESS && st.prompts == 1, "pam_try_first_pass_prompts_when_no_authtok");
	r = login("prompt", "alice", tok("good_corp_es256"), 0, NULL, &st);
	ok(r == PAM_SUCCESS && strcmp(st.last_prompt, "Bearer-token:") == 0, "pam_prompt_option");
}

/* M1: passthrough lets only input that is not JWS-shaped go on to the next
 * module (pam_permit here). */
static void
test_passthrough(void)
{
	ok(login("pass", "alice", "hunter2", 0, NULL, NULL) == PAM_SUCCESS,
	    "M1_passthrough_password_reaches_next_module");
	ok(login("pass", "alice", tok("K1_partner_key_claims_corp_issuer"), 0, NULL, NULL) ==
	        PAM_AUTH_ERR,
	    "M1_passthrough_never_passes_a_bad_token");
	ok(login("pass", "alice", tok("good_corp_es256"), 0, NULL, NULL) == PAM_SUCCESS,
	    "passthrough_good_token_success");
	ok(login("nopass", "alice", "hunter2", 0, NULL, NULL) == PAM_AUTH_ERR,
	    "M1_without_passthrough_password_dies");
}

/* M5: with passthrough, a token the client cut (ssh at 1023 bytes, PAM
 * applications at 511) is no longer shaped like a token, yet is refused as
 * truncated, never passed on to the next module (pam_permit here). */
static void
test_passthrough_truncated(void)
{
	static const size_t cuts[] = { 511, 512, 1023, 1024 };
	char in[1100];
	size_t i;

	for (i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		/* a header's "eyJ" and no dot left: the shape a cut in the
		 * payload leaves */
		memset(in, 'A', cuts[i]);
		memcpy(in, "eyJ", 3);
		in[cuts[i]] = '\0';
		ok(login("pass", "alice", in, 0, NULL, NULL) == PAM_AUTH_ERR &&
		        strstr(env_last_log(), "result=reject reason=truncated") != NULL,
		    "M5_passthrough_cut_at_%zu_refused_as_truncated (%s)", cuts[i], env_last_log());
	}
	snprintf(in, sizeof(in), "%.511s", tok("good_corp_rs256_shared_kid"));
	ok(login("pass", "alice", in, 0, NULL, NULL) == PAM_AUTH_ERR &&
	        strstr(env_last_log(), "result=reject reason=truncated") != NULL,
	    "M5_passthrough_real_token_cut_at_511_refused (%s)", env_last_log());
	/* any other length is a password that happens to start with eyJ */
	memset(in, 'A', 1022);
	memcpy(in, "eyJ", 3);
	in[1022] = '\0';
	ok(login("pass", "alice", in, 0, NULL, NULL) == PAM_SUCCESS,
	    "M5_passthrough_other_lengths_still_passed_on");
}

/* Account management when another module authenticated. */
static void
test_account_other_module(void)
{
	int r, ar;

	r = login("acct_other", "alice", "x", 1, &ar, NULL);
	ok(r == PAM_SUCCESS && ar != PAM_SUCCESS,
	    "pam_account_ignores_handles_it_did_not_authenticate (%s)", pam_strerror(NULL, ar));
}

/* C6: an application retrying on one handle: alice authenticated, then
 * PAM_USER becomes bob before account management. */
static void
test_account_same_handle(void)
{
	conv_state cs = { tok("good_corp_es256"), 0, "", NULL };
	struct pam_conv c = { conv, &cs };
	pam_handle_t *pamh = NULL;
	int r, ar;

	if (pam_start_confdir("dovecot", "alice", &c, dir, &pamh) != PAM_SUCCESS)
		tap_bail("pam_start_confdir");
	r = pam_authenticate(pamh, 0);
	ar = pam_acct_mgmt(pamh, 0);
	ok(r == PAM_SUCCESS && ar == PAM_SUCCESS, "pam_account_same_user_success");
	pam_set_item(pamh, PAM_USER, "bob");
	ar = pam_acct_mgmt(pamh, 0);
	ok(ar != PAM_SUCCESS, "C6_pam_account_refuses_other_user_on_same_handle (%s)",
	    pam_strerror(pamh, ar));
	pam_set_item(pamh, PAM_USER, "alice");
	ar = pam_acct_mgmt(pamh, 0);
	ok(ar == PAM_SUCCESS, "pam_account_back_to_authenticated_user_success");
	pam_end(pamh, ar);
}

/* The loaded keyring outlives pam_end (-z nodelete): with the config gone,
 * this process still decides on the state it has. */
static void
test_kept_state(void)
{
	char moved[4200];
	int r;

	snprintf(moved, sizeof(moved), "%s.moved", conf);
	if (rename(conf, moved) != 0)
		tap_bail("rename");
	r = login("dovecot", "alice", tok("good_corp_es256"), 0, NULL, NULL);
	ok(r == PAM_SUCCESS, "pam_state_survives_pam_end_and_unreachable_config (%s)",
	    pam_strerror(NULL, r));
	ok(login("dovecot", "bob", tok("good_corp_es256"), 0, NULL, NULL) == PAM_AUTH_ERR,
	    "pam_kept_state_still_refuses_wrong_user");
	if (rename(moved, conf) != 0)
		tap_bail("rename back");
}

int
main(void)
{
	setenv("TS_TEST_NAME", "t_pam", 1);
	setup();
	test_decisions();
	test_alerts();
	test_module_errors();
	test_truncated();
	test_first_pass();
	test_passthrough();
	test_passthrough_truncated();
	test_multipart();
	test_account_other_module();
	test_same_as_cli();
	test_account_same_handle();
	test_kept_state();
	json_decref(fresh);
	return tap_done();
}
