/* t_config.c: config errors with file:line (fail closed), safe file opening
 * (M2), key-set rules (K7, K8, K10), key formats (PEM, certificate, JWK,
 * JWKS) and the Wycheproof key sets that must fail. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fx.h"
#include "keyring.h"
#include "safe_file.h"
#include "tap.h"
#include "tsenv.h"

static const char *dir;

#define HEAD                                                                                       \
	"[global]\nreload_interval = 0\n[issuer corp]\nissuer = "                                  \
	"https://sso.example.com/realms/corp\n"
#define SVC "[service dovecot]\nissuers = corp\naudiences = imap.example.com\n"

/* Loads text as a config as a module does, and decides one token of
 * [issuer corp]; returns the reason and copies the error. K15: a module's
 * first load parses a key file at the first use of a section naming it,
 * so a broken key file is that decision's config_error, with the message
 * a load gives; the admin command's full check at load (check_at_load)
 * must refuse the same file at load, with the same message, or the result
 * is TS_R_INTERNAL with both messages. */
static ts_reason
load(const char *text, char *msg, size_t cap)
{
	const char *path = env_write(dir, "tokenscope.conf", text, 0644);
	char p[4096], lazy[TS_ERR_MSG_MAX];
	ts_request req = env_req("case_good_corp_es256", "dovecot", "alice");
	ts_request rsa = env_req("case_good_corp_rs256_shared_kid", "dovecot", "alice");
	ts_result res;
	ts_ctx *ctx = NULL;
	ts_err e = { "" };
	ts_reason r, full;

	snprintf(p, sizeof(p), "%s", path);
	r = ts_ctx_new(p, env_log, NULL, &ctx, &e);
	snprintf(lazy, sizeof(lazy), "%s", e.msg);
	if (r != TS_OK) {
		/* fail closed: a validation now gives config_error, never accept */
		if (ts_validate(ctx, &req, &res) != TS_R_CONFIG_ERROR || res.accepted)
			tap_bail("a broken configuration did not fail closed");
	} else if (ts_validate(ctx, &req, &res) == TS_R_CONFIG_ERROR ||
	    ts_validate(ctx, &rsa, &res) == TS_R_CONFIG_ERROR) {
		/* one of the two reaches the key lookup whatever the section's
		 * algorithms */
		r = TS_R_CONFIG_ERROR;
		snprintf(lazy, sizeof(lazy), "%s", res.detail);
	}
	ts_ctx_free(ctx);
	ctx = NULL;
	e.msg[0] = '\0';
	ts_keyring_check_at_load(1);
	full = ts_ctx_new(p, env_log, NULL, &ctx, &e);
	ts_keyring_check_at_load(0);
	ts_ctx_free(ctx);
	if (full != r || (r != TS_OK && strcmp(e.msg, lazy) != 0)) {
		if (msg != NULL)
			snprintf(msg, cap, "first use: %s; full check at load: %s", lazy, e.msg);
		return TS_R_INTERNAL;
	}
	if (msg != NULL)
		snprintf(msg, cap, "%s", lazy);
	return r;
}

/* Expects an error whose message contains "tokenscope.conf:LINE:" and want. */
static void
expect_error(const char *name, const char *text, int line, const char *want)
{
	char msg[512], loc[64];

	snprintf(loc, sizeof(loc), "tokenscope.conf:%d:", line);
	ok(load(text, msg, sizeof(msg)) == TS_R_CONFIG_ERROR && strstr(msg, loc) != NULL &&
	        strstr(msg, want) != NULL,
	    "%s (%s)", name, msg);
}

static void
test_config_errors(void)
{
	char msg[512];

	ok(load(HEAD "algorithms = ES256\nkey = p256.pub.pem kid=k1\n" SVC, msg, sizeof(msg)) ==
	        TS_OK,
	    "minimal_config_loads (%s)", msg);
	expect_error("config_unknown_setting",
	    HEAD "algorithms = ES256\nkey = p256.pub.pem\nfoo = 1\n" SVC, 7,
	    "unknown setting \"foo\"");
	expect_error("config_unknown_section", "[globl]\n", 1, "unknown section");
	expect_error("config_duplicate_section",
	    HEAD "algorithms = ES256\nkey = p256.pub.pem\n[issuer corp]\n" SVC, 7,
	    "duplicate section");
	expect_error("config_duplicate_setting",
	    HEAD "algorithms = ES256\nalgorithms = RS256\nkey = p256.pub.pem\n" SVC, 6,
	    "duplicate setting");
	expect_error("config_bad_alg", HEAD "algorithms = ES256 none\nkey = p256.pub.pem\n" SVC, 5,
	    "\"none\" is not a supported");
	expect_error("config_bad_number", "[global]\nclock_skew = 60s\n", 2, "clock_skew");
	expect_error("config_token_size_over_hard_cap", "[global]\nmax_token_size = 70000\n", 2,
	    "max_token_size");
	expect_error(
	    "config_setting_outside_section", "clock_skew = 5\n", 1, "outside any section");
	expect_error("config_no_value", "[global]\nclock_skew =\n", 2, "no value");
	expect_error("config_bad_time",
	    HEAD "algorithms = ES256\nkey = p256.pub.pem not_after=2027-02-30T00:00:00Z\n" SVC, 6,
	    "not_after");
	expect_error("config_key_alg_not_allowed",
	    HEAD "algorithms = ES256\nkey = rsa2048.pub.pem alg=RS256\n" SVC, 6,
	    "not in [issuer corp]");
	expect_error("config_service_unknown_issuer",
	    HEAD "algorithms = ES256\nkey = p256.pub.pem\n[service x]\nissuers = nobody\naudiences "
	         "= a\n",
	    7, "unknown issuer section");
	expect_error("config_service_without_audiences",
	    HEAD "algorithms = ES256\nkey = p256.pub.pem\n[service x]\nissuers = corp\n", 7,
	    "no \"audiences\"");
	expect_error("config_accept_client_audience_yes_or_no",
	    HEAD "algorithms = ES256\nkey = p256.pub.pem\naccept_client_audience = maybe\n" SVC, 7,
	    "yes or no");
	expect_error("config_discovery_https_only",
	    HEAD "algorithms = ES256\nkey = p256.pub.pem\ndiscovery = http://idp/x\n" SVC, 7,
	    "https://");
	expect_error("config_discovery_and_jwks_uri_exclusive",
	    HEAD "algorithms = ES256\nkey = p256.pub.pem\ndiscovery = https://idp/d\n"
	         "jwks_uri = https://idp/k\n" SVC,
	    3, "both");
	expect_error("config_fetched_issuer_one_key_file",
	    HEAD "algorithms = ES256\nkey = p256.pub.pem\nkey = p256.pub.pem kid=k2\n"
	         "jwks_uri = https://idp/k\n" SVC,
	    3, "exactly one");
	expect_error("config_issuer_without_algorithms", HEAD "key = p256.pub.pem\n" SVC, 3,
	    "no \"algorithms\"");
	expect_error("config_missing_key_file", HEAD "algorithms = ES256\nkey = nothere.pem\n" SVC,
	    6, "cannot open");
	expect_error("K4_ambiguous_rsa_key_is_config_error",
	    HEAD "algorithms = RS256 PS256\nkey = rsa2048.pub.pem\n" SVC, 6, "ambiguous");
	expect_error("K7_rsa_1024_key_file_refused",
	    HEAD "algorithms = RS256\nkey = rsa1024.pub.pem\n" SVC, 6, "below");
	expect_error("K7_rsa_e3_key_file_refused",
	    HEAD "algorithms = RS256\nkey = rsa2048e3.pub.pem\n" SVC, 6, "65537");
	expect_error("K7_private_key_pem_refused",
	    HEAD "algorithms = ES256\nkey = p256.key.pem\n" SVC, 6, "private keys do not belong");
}

static void
test_key_sets(void)
{
	char jwks[8192], msg[512];
	char *a = tap_slurp(fx_path("keys/p256.jwk"), NULL),
	     *b = tap_slurp(fx_path("keys/p384.jwk"), NULL);
	char *h = tap_slurp(fx_path("keys/hs256.jwk"), NULL);

	snprintf(jwks, sizeof(jwks), "{\"keys\":[%s,%s]}", a, b);
	env_write(dir, "set.jwks", jwks, 0644);
	ok(load(HEAD "algorithms = ES256 ES384\nkey = set.jwks\n" SVC, msg, sizeof(msg)) == TS_OK,
	    "jwks_loads (%s)", msg);
	env_write(dir, "empty.jwks", "{\"keys\":[]}", 0644);
	expect_error("K7_jwks_with_no_keys_refused",
	    HEAD "algorithms = ES256\nkey = empty.jwks\n" SVC, 6, "non-empty array");
	env_write(dir, "notarray.jwks", "{\"keys\":{}}", 0644);
	expect_error("K7_jwks_keys_not_an_array_refused",
	    HEAD "algorithms = ES256\nkey = notarray.jwks\n" SVC, 6, "non-empty array");
	snprintf(jwks, sizeof(jwks), "{\"keys\":[%s,%s]}", a, b);
	env_write(dir, "kidline.jwks", jwks, 0644);
	expect_error("K10_kid_on_key_line_of_a_jwks_refused",
	    HEAD "algorithms = ES256 ES384\nkey = kidline.jwks kid=x\n" SVC, 6, "single key");
	snprintf(jwks, sizeof(jwks), "{\"keys\":[%s,%s]}", a, a);
	env_write(dir, "dup.jwks", jwks, 0644);
	expect_error("K7_duplicate_kid_in_jwks", HEAD "algorithms = ES256\nkey = dup.jwks\n" SVC, 6,
	    "duplicate kid");
	expect_error("K7_duplicate_issuer_kid_across_files",
	    HEAD "algorithms = ES256\nkey = p256.jwk\nkey = p256.pub.pem kid=p256\n" SVC, 7,
	    "duplicate kid");
	ok(load(HEAD
	       "algorithms = ES256\nkey = p256.jwk\n[issuer other]\nissuer = https://o.example\n"
	       "algorithms = ES256\nkey = p256.jwk\n" SVC,
	       msg, sizeof(msg)) == TS_OK,
	    "K1_same_file_bound_to_two_issuers (%s)", msg);
	env_copy_key(dir, "hs256.jwk");
	ok(load(HEAD "algorithms = HS256\nkey = hs256.jwk\n" SVC, msg, sizeof(msg)) == TS_OK,
	    "K8_hmac_secret_in_0600_file_loads (%s)", msg);
	chmod(env_write(dir, "hs-open.jwk", h, 0644), 0644);
	expect_error("K8_hmac_secret_in_0644_file_refused",
	    HEAD "algorithms = HS256\nkey = hs-open.jwk\n" SVC, 6, "0600");
	expect_error("K8_hmac_off_unless_enabled", HEAD "algorithms = ES256\nkey = hs256.jwk\n" SVC,
	    6, "symmetric");
	expect_error("K7_mixed_symmetric_and_asymmetric",
	    HEAD "algorithms = HS256 ES256\nkey = hs256.jwk\nkey = p256.pub.pem\n" SVC, 7,
	    "mixes HMAC");
	free(a);
	free(b);
	free(h);
}

#define X5C_CONF(file, extra)                                                                      \
	"[global]\nreload_interval = 0\n[issuer x]\nissuer = https://issuer.example\n"             \
	"algorithms = RS256\nkey = " file extra "\n[service dovecot]\nissuers = x\n"               \
	"audiences = imap.example.com\n"

/* Validates the fixture token good_RS256_rsa2048 under conf; returns the
 * reason (or the load error). */
static ts_reason
x5c_verdict(const char *conf, char *msg, size_t cap)
{
	const char *path = env_write(dir, "x5c.conf", conf, 0644);
	char p[4096];
	ts_ctx *ctx = NULL;
	ts_err e = { "" };
	ts_request req = env_req("good_RS256_rsa2048", "dovecot", "alice");
	ts_result res;
	ts_reason r;

	snprintf(p, sizeof(p), "%s", path);
	if ((r = ts_ctx_new(p, env_log, NULL, &ctx, &e)) == TS_OK) {
		r = ts_validate(ctx, &req, &res);
		snprintf(msg, cap, "%s", res.detail);
	} else {
		snprintf(msg, cap, "%s", e.msg);
	}
	ts_ctx_free(ctx);
	return r;
}

/* K12: an x5c certificate inside a JWK counts like a PEM certificate. */
static void
test_x5c(void)
{
	char msg[512];

	env_copy_key(dir, "rsa2048.jwk");
	env_copy_key(dir, "rsa2048_x5c_valid.jwk");
	env_copy_key(dir, "rsa2048_x5c_expired.jwk");
	env_copy_key(dir, "rsa2048_x5c_other_key.jwk");
	ok(x5c_verdict(X5C_CONF("rsa2048.jwk", ""), msg, sizeof(msg)) == TS_OK,
	    "x5c_baseline_plain_jwk_verifies (%s)", msg);
	ok(x5c_verdict(X5C_CONF("rsa2048_x5c_valid.jwk", ""), msg, sizeof(msg)) == TS_OK,
	    "K12_x5c_valid_cert_key_verifies (%s)", msg);
	ok(x5c_verdict(X5C_CONF("rsa2048_x5c_expired.jwk", ""), msg, sizeof(msg)) ==
	        TS_R_KEY_EXPIRED,
	    "K12_x5c_expired_cert_limits_key (%s)", msg);
	ok(x5c_verdict(X5C_CONF("rsa2048_x5c_valid.jwk", " not_after=2023-06-01T00:00:00Z"), msg,
	       sizeof(msg)) == TS_R_KEY_EXPIRED,
	    "K12_x5c_window_intersected_with_key_line (%s)", msg);
	ok(x5c_verdict(X5C_CONF("rsa2048_x5c_other_key.jwk", ""), msg, sizeof(msg)) ==
	            TS_R_CONFIG_ERROR &&
	        strstr(msg, "x5c") != NULL,
	    "K12_x5c_cert_of_another_key_refused (%s)", msg);
}

/* Log sink that counts lines carrying a control byte (a forged syslog line
 * starts with one), then keeps the line like env_log. */
static size_t log_lines, log_bad;

static void
scan_log(void *arg, int prio, const char *line)
{
	const char *p;

	log_lines++;
	for (p = line; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			log_bad++;
			tap_diag("log line with a control byte at %zu", (size_t)(p - line));
			break;
		}
	env_log(arg, prio, line);
}

/* Runs the admin command; counts output lines (stdout and stderr) with a
 * control byte other than the newline ending them. */
static size_t
scan_cli(const char *args, size_t *lines)
{
	char cmd[8192], buf[4096];
	size_t bad = 0;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "'%s/tools/tokenscope' %s 2>&1", tap_env("TS_BUILDDIR"), args);
	if ((f = popen(cmd, "r")) == NULL)
		tap_bail("popen");
	while (fgets(buf, sizeof(buf), f) != NULL) {
		const char *p;

		(*lines)++;
		for (p = buf; *p != '\0' && *p != '\n'; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f) {
				bad++;
				break;
			}
	}
	pclose(f);
	return bad;
}

#define FORGED "\nJan  1 00:00:00 host sshd[1]: Accepted publickey for root\r\x1b[2J\x7f"

/* Writes a JWKS of the fixture keys p256 and p384 with hostile kids (the
 * second the same as the first when dup) and a hostile key issuer. */
static void
write_hostile_jwks(int dup)
{
	json_t *a = json_load_file(fx_path("keys/p256.jwk"), 0, NULL),
	       *b = json_load_file(fx_path("keys/p384.jwk"), 0, NULL), *set;
	char *text;

	if (a == NULL || b == NULL)
		tap_bail("fixture JWK");
	json_object_set_new(a, "kid", json_string("k1" FORGED));
	json_object_set_new(b, "kid", json_string(dup ? "k1" FORGED : "k2" FORGED));
	json_object_set_new(
	    b, "issuer", json_string("https://sso.example.com/realms/corp" FORGED "{tenantid}"));
	set = json_pack("{s:[o,o]}", "keys", a, b); /* takes a and b */
	if (set == NULL || (text = json_dumps(set, JSON_COMPACT)) == NULL)
		tap_bail("hostile JWKS");
	env_write(dir, "hostile.jwks", text, 0644);
	free(text);
	json_decref(set);
}

/* M3: kids and key issuers from a key file, holding newlines and control
 * bytes, come out sanitised on every log path: the load, the key-expiry
 * warning (K5), load errors, decisions, and the admin command's keys and
 * check-config output. */
static void
test_hostile_key_values(void)
{
	char conf[2048], soon[32], args[4200], path[4096];
	time_t t = time(NULL) + 2 * 86400;
	struct tm tm;
	ts_ctx *ctx = NULL;
	ts_err e = { "" };
	ts_request req = env_req("case_good_corp_es256", "dovecot", "alice");
	ts_result res;
	size_t cli_lines = 0, cli_bad = 0;

	write_hostile_jwks(0);
	gmtime_r(&t, &tm);
	strftime(soon, sizeof(soon), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(conf, sizeof(conf),
	    HEAD "algorithms = ES256 ES384\nkey = hostile.jwks not_after=%s\n" SVC, soon);
	/* env_write reuses its buffer */
	snprintf(path, sizeof(path), "%s", env_write(dir, "hostile.conf", conf, 0644));
	snprintf(args, sizeof(args), "%s", path);
	log_lines = log_bad = 0;
	ok(ts_ctx_new(args, scan_log, NULL, &ctx, &e) == TS_OK, "hostile_kids_load (%s)", e.msg);
	/* K15: the file is parsed, and its keys warned about, at its first use */
	ts_validate(ctx, &req, &res);
	ok(env_log_seen("expires in"), "K5_expiry_warning_logged_for_hostile_kid");
	ts_ctx_free(ctx);
	ctx = NULL;
	/* a parse error about the same file, at its first use */
	write_hostile_jwks(1);
	ok(ts_ctx_new(args, scan_log, NULL, &ctx, &e) == TS_OK &&
	        ts_validate(ctx, &req, &res) == TS_R_CONFIG_ERROR,
	    "hostile_duplicate_kid_refused (%s)", res.detail);
	ts_ctx_free(ctx);
	ok(log_lines >= 3 && log_bad == 0,
	    "M3_hostile_kid_and_key_issuer_sanitised_in_every_log_line (%zu lines, %zu with a "
	    "control byte)",
	    log_lines, log_bad);
	/* the admin command, on the loadable file */
	write_hostile_jwks(0);
	snprintf(args, sizeof(args), "keys -c '%s'", path);
	cli_bad += scan_cli(args, &cli_lines);
	snprintf(args, sizeof(args), "check-config -n -c '%s'", path);
	cli_bad += scan_cli(args, &cli_lines);
	ok(cli_lines >= 4 && cli_bad == 0,
	    "M3_hostile_kid_and_key_issuer_sanitised_in_keys_and_check_config (%zu lines, %zu "
	    "with a control byte)",
	    cli_lines, cli_bad);
}

/* The Wycheproof key sets that must fail, through the real loader. */
static void
test_wycheproof_key_sets(void)
{
	char path[4096], msg[512], conf[512];
	json_t *doc;
	size_t g, refused = 0, invalid_sets = 0;

	snprintf(
	    path, sizeof(path), "%s/json_web_key_test.json", getenv("TS_WYCHEPROOF_DIR") ?: "");
	if (access(path, R_OK) != 0) {
		tap_diag("SKIP Wycheproof json_web_key_test.json: not found at %s", path);
		return;
	}
	doc = json_load_file(path, 0, NULL);
	for (g = 0; g < json_array_size(json_object_get(doc, "testGroups")); g++) {
		const json_t *grp = json_array_get(json_object_get(doc, "testGroups"), g);
		const json_t *t0 = json_array_get(json_object_get(grp, "tests"), 0);
		char *text = json_dumps(json_object_get(grp, "private"), 0);
		const char *result = json_string_value(json_object_get(t0, "result"));
		const json_t *flags = json_object_get(t0, "flags");
		int must_fail = json_array_size(flags) > 0 && strcmp(result, "invalid") == 0;
		ts_reason r;

		env_write(dir, "wp.jwks", text, 0600);
		free(text);
		snprintf(conf, sizeof(conf),
		    HEAD "algorithms = HS256 HS384 HS512 ES256 ES384 ES512 RS256 PS256 EdDSA\nkey "
		         "= wp.jwks\n" SVC);
		r = load(conf, msg, sizeof(msg));
		if (must_fail) {
			invalid_sets++;
			refused += r == TS_R_CONFIG_ERROR;
			ok(r == TS_R_CONFIG_ERROR, "K7_wycheproof_key_set_%s_refused (%s)",
			    json_string_value(json_object_get(grp, "comment")), msg);
		}
	}
	tap_diag("json_web_key_test.json: %zu key sets flagged invalid, %zu refused by the loader",
	    invalid_sets, refused);
	ok(invalid_sets > 0, "wycheproof_key_sets_ran");
	json_decref(doc);
}

static void
test_safe_files(void)
{
	char target[4096], link[4096];

	snprintf(target, sizeof(target), "%s/p256.pub.pem", dir);
	snprintf(link, sizeof(link), "%s/link.pem", dir);
	unlink(link);
	if (symlink(target, link) != 0)
		tap_bail("symlink");
	expect_error("M2_symlinked_key_file_refused",
	    HEAD "algorithms = ES256\nkey = link.pem\n" SVC, 6, "symbolic links");
	chmod(target, 0664);
	expect_error("M2_group_writable_key_file_refused",
	    HEAD "algorithms = ES256\nkey = p256.pub.pem\n" SVC, 6, "writable");
	chmod(target, 0644);
	if (geteuid() == 0) {
		if (chown(target, 65534, 65534) != 0)
			tap_bail("chown");
		expect_error("M2_key_file_owned_by_other_user_refused",
		    HEAD "algorithms = ES256\nkey = p256.pub.pem\n" SVC, 6,
		    "must be owned by root");
		if (chown(target, 0, 0) != 0)
			tap_bail("chown");
	} else {
		tap_diag("SKIP M2 owner test: needs root to chown");
	}
	snprintf(link, sizeof(link), "%s/adir", dir);
	mkdir(link, 0755);
	expect_error("M2_directory_as_key_file_refused",
	    HEAD "algorithms = ES256\nkey = adir\n" SVC, 6, "regular file");
}

/* M2: a file the process may not read names the uid that was refused and
 * the file's owner and mode, since that uid is often a daemon's worker and
 * not the root the administrator tested as. As root the read runs in a
 * child as uid 65534 over a 0600 file; otherwise over a 0000 file of ours. */
static void
test_refused_open_names_uid(void)
{
	const char *path = env_write(dir, "unreadable.pem", "x", geteuid() == 0 ? 0600 : 0);
	char want[64];
	int fds[2], st = 0;
	pid_t pid;
	ts_err e = { "" };
	ssize_t n;

	if (pipe(fds) != 0 || (pid = fork()) < 0)
		tap_bail("pipe/fork");
	if (pid == 0) {
		char *buf = NULL;
		size_t len = 0;

		close(fds[0]);
		if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
			_exit(2);
		ts_read_file(path, 1024, 0, &buf, &len, NULL, &e);
		n = write(fds[1], e.msg, strlen(e.msg) + 1);
		_exit(n > 0 ? 0 : 3);
	}
	close(fds[1]);
	n = read(fds[0], e.msg, sizeof(e.msg) - 1);
	e.msg[n > 0 ? n : 0] = '\0';
	close(fds[0]);
	waitpid(pid, &st, 0);
	snprintf(want, sizeof(want), "(as uid %ld;", geteuid() == 0 ? 65534L : (long)geteuid());
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0 && strstr(e.msg, "Permission denied") != NULL &&
	        strstr(e.msg, want) != NULL,
	    "M2_refused_open_names_the_refused_uid (%s)", e.msg);
	unlink(path);
}

/* A key under a deep directory (an RPM build root, an admin's long path):
 * the message must still carry its whole reason, and name the file. */
static void
test_long_paths(void)
{
	char deep[4096], conf[4096 + 256], msg[512];
	size_t n;

	n = (size_t)snprintf(deep, sizeof(deep), "%s", dir);
	while (n < 220) {
		n += (size_t)snprintf(deep + n, sizeof(deep) - n, "/a-rather-long-directory-name");
		mkdir(deep, 0755);
	}
	env_copy_key(deep, "p256.key.pem");
	snprintf(conf, sizeof(conf), HEAD "algorithms = ES256\nkey = %s/p256.key.pem\n" SVC, deep);
	ok(load(conf, msg, sizeof(msg)) == TS_R_CONFIG_ERROR &&
	        strstr(msg, "tokenscope.conf:6:") != NULL &&
	        strstr(msg, "(private keys do not belong here)") != NULL &&
	        strstr(msg, "/p256.key.pem: PEM file is neither") != NULL,
	    "error_keeps_whole_reason_beside_a_%zu_byte_path (%s)", n, msg);
	snprintf(conf, sizeof(conf), HEAD "algorithms = ES256\nkey = %s/nothere.pem\n" SVC, deep);
	ok(load(conf, msg, sizeof(msg)) == TS_R_CONFIG_ERROR &&
	        strstr(msg, "tokenscope.conf:6:") != NULL &&
	        strstr(msg, "/nothere.pem: cannot open: No such file or directory") != NULL &&
	        strstr(msg, "nothere.pem") == strrchr(msg, '/') + 1,
	    "unreadable_key_error_names_a_long_path_once (%s)", msg);
}

/* Log lines of one priority holding one text, counted (count_from
 * says which, and starts again from 0). */
static struct {
	int prio;
	const char *needle;
	int n;
} counted;

static void
count_log(void *arg, int prio, const char *line)
{
	if (counted.needle != NULL && prio == counted.prio && strstr(line, counted.needle) != NULL)
		counted.n++;
	env_log(arg, prio, line);
}

static void
count_from(int prio, const char *needle)
{
	counted.prio = prio;
	counted.needle = needle;
	counted.n = 0;
}

/* K15: a JWK whose EC point is off its curve loads (its check waits for
 * its first use), then verifies nothing, with the reason a key refused at
 * load gives (config_error), logged once; the other keys work. The admin
 * command's full check at load refuses the file as before. */
static void
test_lazy_failing_key(void)
{
	char *jwk = tap_slurp(fx_path("keys/p256.jwk"), NULL), *y, conf[4200];
	const char *text =
	    HEAD "algorithms = ES256 RS256\n"
	         "key = off-curve.jwk kid=corp-1\n"
	         "key = rsa2048.pub.pem kid=shared alg=RS256\n"
	         "tenant = corp-tenant\nclients = webmail\n"
	         "username_claim = preferred_username\n"
	         "username_strip_domain = example.com\n" SVC "required_scopes = mail.read\n";
	ts_request good = env_req("case_good_corp_rs256_shared_kid", "dovecot", "alice");
	ts_request bad = env_req("case_good_corp_es256", "dovecot", "alice");
	ts_ctx *ctx = NULL;
	ts_result res;
	ts_err e = { "" };

	/* the last character of y: 4 bits of the coordinate, 2 zero bits */
	if ((y = strstr(jwk, "CiQ\"")) == NULL)
		tap_bail("p256.jwk changed");
	y[2] = 'U';
	/* the JWK's own kid would differ from the key line's */
	if ((y = strstr(jwk, "\"kid\": \"p256\",")) == NULL)
		tap_bail("p256.jwk changed");
	memset(y, ' ', strlen("\"kid\": \"p256\","));
	env_write(dir, "off-curve.jwk", jwk, 0644);
	snprintf(conf, sizeof(conf), "%s", env_write(dir, "tokenscope.conf", text, 0644));
	count_from(3 /* LOG_ERR */, "fails its checks");
	ok(ts_ctx_new(conf, count_log, NULL, &ctx, &e) == TS_OK, "K15_off_curve_jwk_loads (%s)",
	    e.msg);
	ok(ts_validate(ctx, &good, &res) == TS_OK, "K15_other_keys_verify (%s)", res.detail);
	ok(ts_validate(ctx, &bad, &res) == TS_R_CONFIG_ERROR &&
	        strstr(res.detail, "JWK EC point is not on curve P-256") != NULL,
	    "K15_failing_key_refuses_as_config_error (%s)", res.detail);
	ok(ts_validate(ctx, &bad, &res) == TS_R_CONFIG_ERROR && counted.n == 1,
	    "K15_failing_key_logged_once (%d)", counted.n);
	ok(ts_validate(ctx, &good, &res) == TS_OK, "K15_other_keys_still_verify");
	ts_ctx_free(ctx);
	ctx = NULL;
	ts_keyring_check_at_load(1);
	ok(ts_ctx_new(conf, NULL, NULL, &ctx, &e) == TS_R_CONFIG_ERROR &&
	        strstr(e.msg, "off-curve.jwk: JWK EC point is not on curve P-256") != NULL,
	    "K15_full_check_at_load_refuses_the_file (%s)", e.msg);
	ts_keyring_check_at_load(0);
	ts_ctx_free(ctx);
	free(jwk);
}

#define CORP_POLICY                                                                                \
	"tenant = corp-tenant\nclients = webmail\nusername_claim = preferred_username\n"           \
	"username_strip_domain = example.com\n"
#define OTHER "[issuer other]\nissuer = https://other.example.com\nalgorithms = ES256\n"

/* K15: a key file broken at a process's first load. The load succeeds:
 * the file waits for the first use of a section naming it. A decision of
 * that section is then config_error with the message a load would give
 * (file:line), logged once however many follow; a section naming a sound
 * file decides as ever, in either order. */
static void
test_lazy_failing_file(void)
{
	char conf[4200];
	ts_request req = env_req("case_good_corp_es256", "dovecot", "alice");
	ts_result res;
	ts_ctx *ctx = NULL;
	ts_err e = { "" };
	ts_reason r1, r2;

	env_write(dir, "bad.jwks", "{\"keys\": 5}", 0644);
	snprintf(conf, sizeof(conf), "%s",
	    env_write(dir, "tokenscope.conf",
	        HEAD "algorithms = ES256\nkey = bad.jwks\n" CORP_POLICY OTHER
	             "key = p256.pub.pem kid=corp-1\n" SVC "required_scopes = mail.read\n",
	        0644));
	count_from(3 /* LOG_ERR */, "bad.jwks: JWKS");
	ok(ts_ctx_new(conf, count_log, NULL, &ctx, &e) == TS_OK,
	    "K15_broken_key_file_loads_until_its_first_use (%s)", e.msg);
	r1 = ts_validate(ctx, &req, &res);
	ok(r1 == TS_R_CONFIG_ERROR && strstr(res.detail, "tokenscope.conf:6: [issuer corp]") &&
	        strstr(res.detail, "bad.jwks: JWKS \"keys\" is not a non-empty array"),
	    "K15_broken_key_file_refuses_its_section_as_config_error_at_file_line (%s)",
	    res.detail);
	r2 = ts_validate(ctx, &req, &res);
	ok(r2 == TS_R_CONFIG_ERROR && counted.n == 1, "K15_broken_key_file_logged_once (%d)",
	    counted.n);
	ts_ctx_free(ctx);
	ctx = NULL;

	snprintf(conf, sizeof(conf), "%s",
	    env_write(dir, "tokenscope.conf",
	        HEAD "algorithms = ES256\nkey = p256.pub.pem kid=corp-1\n" CORP_POLICY OTHER
	             "key = bad.jwks\n" SVC "required_scopes = mail.read\n",
	        0644));
	count_from(3 /* LOG_ERR */, "bad.jwks: JWKS");
	ok(ts_ctx_new(conf, count_log, NULL, &ctx, &e) == TS_OK &&
	        ts_validate(ctx, &req, &res) == TS_OK && counted.n == 0,
	    "K15_broken_key_file_of_another_section_leaves_this_one_deciding (%s)", res.detail);
	ts_ctx_free(ctx);
	ctx = NULL;

	/* a token without kid looks for the section's one usable key: the
	 * broken file is the answer there too, not "no usable key" */
	req = env_req("case_K2_no_kid_issuer_with_one_key", "dovecot", "alice");
	snprintf(conf, sizeof(conf), "%s",
	    env_write(dir, "tokenscope.conf",
	        "[global]\nreload_interval = 0\n[issuer legacy]\nissuer = "
	        "https://legacy.example.net\nalgorithms = EdDSA\nkey = bad.jwks\ntoken_type = "
	        "jwt\n[service dovecot]\nissuers = legacy\naudiences = imap.example.com\n",
	        0644));
	ok(ts_ctx_new(conf, count_log, NULL, &ctx, &e) == TS_OK &&
	        ts_validate(ctx, &req, &res) == TS_R_CONFIG_ERROR &&
	        strstr(res.detail, "bad.jwks: JWKS") != NULL,
	    "K15_broken_key_file_refuses_a_token_without_kid_as_config_error (%s)", res.detail);
	ts_ctx_free(ctx);
}

/* K5, K15: a key about to end, in a file a first load did not parse, is
 * warned about at the first use of its section, once; the admin command's
 * full check warns at load. */
static void
test_expiry_warned_at_first_use(void)
{
	char conf[4200], text[1024], soon[32];
	time_t t = time(NULL) + 2 * 86400;
	struct tm tm;
	ts_request req = env_req("case_good_corp_es256", "dovecot", "alice");
	ts_result res;
	ts_ctx *ctx = NULL;
	int at_load, first, second;

	gmtime_r(&t, &tm);
	strftime(soon, sizeof(soon), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(text, sizeof(text),
	    HEAD "algorithms = ES256\nkey = p256.pub.pem kid=corp-1 not_after=%s\n" CORP_POLICY SVC
	         "required_scopes = mail.read\n",
	    soon);
	snprintf(conf, sizeof(conf), "%s", env_write(dir, "tokenscope.conf", text, 0644));
	count_from(4 /* LOG_WARNING */, "expires in");
	if (ts_ctx_new(conf, count_log, NULL, &ctx, NULL) != TS_OK)
		tap_bail("expiring key config");
	at_load = counted.n;
	ts_validate(ctx, &req, &res);
	first = counted.n;
	ts_validate(ctx, &req, &res);
	second = counted.n;
	ts_ctx_free(ctx);
	ctx = NULL;
	ok(at_load == 0 && first == 1 && second == 1,
	    "K5_K15_key_in_a_file_parsed_at_first_use_warned_about_then_once (%d, %d, %d)", at_load,
	    first, second);
	count_from(4 /* LOG_WARNING */, "expires in");
	ts_keyring_check_at_load(1);
	if (ts_ctx_new(conf, count_log, NULL, &ctx, NULL) != TS_OK)
		tap_bail("expiring key config");
	ts_keyring_check_at_load(0);
	ok(counted.n == 1, "K5_full_check_warns_at_load (%d)", counted.n);
	ts_ctx_free(ctx);
}

/* A config of n [issuer sK] sections (comments naming sections between
 * them) and one service listing them last to first; dup: the last
 * section's issuer is the first one's. */
static char *
many_sections(int n, int dup)
{
	char *t = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&t, &len);
	int i;

	if (f == NULL)
		tap_bail("open_memstream");
	for (i = 0; i < n; i++)
		fprintf(f,
		    "# [issuer not-one]\n[issuer s%d]\nissuer = https://idp.example/t%d\n"
		    "key = /k.pem\nalgorithms = ES256\n",
		    i, dup && i == n - 1 ? 0 : i);
	fprintf(f, "[service svc]\naudiences = a\nissuers =");
	for (i = n - 1; i >= 0; i--)
		fprintf(f, " s%d", i);
	fprintf(f, "\n");
	if (fclose(f) != 0 || t == NULL)
		tap_bail("out of memory");
	return t;
}

/* K15: the cross-section checks go by hash, not pairwise: thousands of
 * sections resolve each to its own, and the errors still come at the
 * line an administrator reading from the top meets first. */
static void
test_many_sections(void)
{
	char *t = many_sections(3000, 0), want[32];
	const ts_service_conf *svc;
	ts_conf *c = NULL;
	ts_err e = { "" };
	size_t j, wrong = 0;

	ok(ts_conf_parse("/etc/tokenscope/tokenscope.conf", t, strlen(t), &c, &e) == TS_OK &&
	        c->nissuers == 3000 && (svc = ts_conf_service(c, "svc")) != NULL &&
	        svc->issuers.n == 3000,
	    "K15_config_of_3000_sections_parses (%s)", e.msg);
	for (j = 0; c != NULL && j < 3000; j++) {
		snprintf(want, sizeof(want), "s%zu", 2999 - j);
		svc = ts_conf_service(c, "svc");
		if (strcmp(c->issuers[svc->issuer_idx[j]].name, want) != 0 ||
		    strcmp(svc->issuers.v[j], want) != 0)
			wrong++;
	}
	ok(c != NULL && wrong == 0, "K15_each_of_3000_listed_sections_resolves_to_its_own (%zu)",
	    wrong);
	ts_conf_free(c);
	free(t);

	t = many_sections(3000, 1);
	c = NULL;
	ok(ts_conf_parse("/etc/tokenscope/tokenscope.conf", t, strlen(t), &c, &e) ==
	            TS_R_CONFIG_ERROR &&
	        strstr(e.msg,
	            "tokenscope.conf:15001: [service svc] lists issuer "
	            "\"https://idp.example/t0\" twice") != NULL,
	    "K15_two_of_3000_sections_with_one_issuer_in_a_service_refused (%s)", e.msg);
	ts_conf_free(c);
	free(t);

	/* the first name repeated, reading from the top: b at line 5 */
	c = NULL;
	ok(ts_conf_parse("/etc/tokenscope/tokenscope.conf",
	       "[issuer b]\nissuer = https://b\n[issuer a]\nissuer = https://a\n"
	       "[issuer b]\nissuer = https://b2\n[issuer a]\nissuer = https://a2\n",
	       strlen("[issuer b]\nissuer = https://b\n[issuer a]\nissuer = https://a\n"
	              "[issuer b]\nissuer = https://b2\n[issuer a]\nissuer = https://a2\n"),
	       &c, &e) == TS_R_CONFIG_ERROR &&
	        strstr(e.msg, "tokenscope.conf:5: duplicate section [issuer b]") != NULL,
	    "config_duplicate_section_reported_at_the_first_repeat (%s)", e.msg);
	ts_conf_free(c);
}

/* Every section of c as check-config -n prints it, and its key lines. */
static char *
dump_all(const ts_conf *c)
{
	char *out = NULL;
	size_t len = 0, i, k;
	FILE *f = open_memstream(&out, &len);

	if (f == NULL)
		tap_bail("open_memstream");
	ts_conf_dump(f, c, TS_CONF_GLOBAL, 0);
	for (i = 0; i < c->nissuers; i++) {
		ts_conf_dump(f, c, TS_CONF_ISSUER, i);
		for (k = 0; k < c->issuers[i].nkeys; k++)
			fprintf(f, "key %s kid=%s\n", c->issuers[i].keys[k].path,
			    c->issuers[i].keys[k].kid ? c->issuers[i].keys[k].kid : "-");
	}
	for (i = 0; i < c->nservices; i++)
		ts_conf_dump(f, c, TS_CONF_SERVICE, i);
	fclose(f);
	return out;
}

/* The forms a line may take (CR at its end, tabs, a comment after the
 * value, no newline after the last) are read as the plain form is: the
 * parser splits values in place, so a byte off at a line's end would
 * show here. */
static void
test_line_forms(void)
{
	static const char plain[] =
	    "[global]\nclock_skew = 30\n[issuer a]\nissuer = https://a.example/\n"
	    "key = k.pem kid=k1\nkey = /etc/k2.pem\nalgorithms = ES256 RS256\n"
	    "clients = c1 c2\n[service s]\nissuers = a\naudiences = x y\n"
	    "required_scopes = mail.read\n";
	static const char decorated[] =
	    "[global]\r\n\tclock_skew = 30 # half a minute\r\n  [issuer a]  \r\n"
	    "issuer =\thttps://a.example/ \t\r\n"
	    "key = k.pem\tkid=k1 # the first\r\nkey=/etc/k2.pem\r\n"
	    "algorithms = ES256\t RS256\r\nclients = c1  c2\t\r\n#\r\n[service s]\r\n"
	    "issuers = a\r\naudiences = x y # two\r\nrequired_scopes = mail.read";
	ts_conf *a = NULL, *b = NULL;
	ts_err e = { "" };
	char *da = NULL, *db = NULL;

	if (ts_conf_parse("/etc/tokenscope/tokenscope.conf", plain, strlen(plain), &a, &e) !=
	        TS_OK ||
	    ts_conf_parse(
	        "/etc/tokenscope/tokenscope.conf", decorated, strlen(decorated), &b, &e) != TS_OK) {
		ok(0, "config_line_forms_read_as_the_plain_form (%s)", e.msg);
	} else {
		da = dump_all(a);
		db = dump_all(b);
		ok(strcmp(da, db) == 0 &&
		        strstr(da, "key /etc/tokenscope/k.pem kid=k1\n") != NULL &&
		        strstr(da, "= mail.read\n") != NULL,
		    "config_line_forms_read_as_the_plain_form (%s | %s)", da, db);
	}
	free(da);
	free(db);
	ts_conf_free(a);
	ts_conf_free(b);
}

int
main(void)
{
	static const char *const keys[] = { "p256.pub.pem", "p256.key.pem", "rsa2048.pub.pem",
		"rsa1024.pub.pem", "rsa2048e3.pub.pem", "p256.jwk", "p384.jwk" };
	size_t i;

	setenv("TS_TEST_NAME", "t_config", 1);
	dir = env_dir("config");
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		env_copy_key(dir, keys[i]);
	test_config_errors();
	test_key_sets();
	test_x5c();
	test_hostile_key_values();
	test_safe_files();
	test_refused_open_names_uid();
	test_long_paths();
	test_wycheproof_key_sets();
	test_lazy_failing_key();
	test_lazy_failing_file();
	test_expiry_warned_at_first_use();
	test_many_sections();
	test_line_forms();
	return tap_done();
}
