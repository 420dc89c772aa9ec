/* tsenv.c: scratch directories and log capture for tests (see tsenv.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fx.h"
#include "tap.h"
#include "tsenv.h"

static char last_line[2048];
static char recent[64][512]; /* the last 64 lines, any kind */
static unsigned nrecent;

const char *
env_dir(const char *name)
{
	static char path[4096];
	char cmd[13000];

	snprintf(path, sizeof(path), "%s/tests/tmp/%s", tap_env("TS_BUILDDIR"), name);
	snprintf(
	    cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s' && chmod 755 '%s'", path, path, path);
	if (system(cmd) != 0)
		tap_bail("cannot make %s", path);
	return path;
}

static void
copy(const char *from, const char *to, unsigned mode)
{
	size_t len;
	char *buf = tap_slurp(from, &len);
	FILE *f = fopen(to, "wb");

	if (f == NULL || fwrite(buf, 1, len, f) != len || fclose(f) != 0)
		tap_bail("cannot write %s", to);
	chmod(to, mode);
	free(buf);
}

void
env_copy_key(const char *dir, const char *key)
{
	char to[4096], rel[512];

	snprintf(rel, sizeof(rel), "keys/%s", key);
	snprintf(to, sizeof(to), "%s/%s", dir, key);
	copy(fx_path(rel), to, strncmp(key, "hs", 2) == 0 ? 0600 : 0644);
}

void
env_copy_src(const char *dir, const char *src, const char *dst)
{
	char from[4096], to[4096];

	snprintf(from, sizeof(from), "%s/tests/%s", tap_env("TS_SRCDIR"), src);
	snprintf(to, sizeof(to), "%s/%s", dir, dst);
	copy(from, to, 0644);
}

const char *
env_write(const char *dir, const char *file, const char *text, unsigned mode)
{
	static char path[4096];
	char tmp[4200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	/* write then rename, as an administrator's editor or tool would */
	snprintf(tmp, sizeof(tmp), "%s.tmp%d", path, (int)getpid());
	if ((f = fopen(tmp, "w")) == NULL || fputs(text, f) < 0 || fclose(f) != 0)
		tap_bail("cannot write %s", tmp);
	chmod(tmp, mode);
	if (rename(tmp, path) != 0)
		tap_bail("cannot rename %s", tmp);
	return path;
}

void
env_log(void *arg, int prio, const char *line)
{
	static FILE *f;

	(void)arg;
	if (f == NULL) {
		char path[8192], dir[4096];
		const char *prog = getenv("TS_TEST_NAME");

		snprintf(dir, sizeof(dir), "%s/tests/logs", tap_env("TS_BUILDDIR"));
		mkdir(dir, 0755);
		snprintf(path, sizeof(path), "%s/%s.log", dir, prog ? prog : "test");
		if ((f = fopen(path, "w")) == NULL)
			tap_bail("cannot open %s", path);
	}
	fprintf(f, "<%d> %s\n", prio, line);
	fflush(f);
	snprintf(recent[nrecent++ % 64], sizeof(recent[0]), "%s", line);
	/* the decision line, not a debug detail that may follow it */
	if (strstr(line, "tokenscope: result=") != NULL)
		snprintf(last_line, sizeof(last_line), "%s", strstr(line, "tokenscope: result="));
	else if (strstr(line, "tokenscope: {\"event\":\"decision\"") != NULL)
		snprintf(last_line, sizeof(last_line), "%s", strstr(line, "tokenscope: {"));
}

const char *
env_last_log(void)
{
	return last_line;
}

ts_request
env_req(const char *token_name, const char *service, const char *user)
{
	ts_request r;

	memset(&r, 0, sizeof(r));
	r.token = fx_token(token_name);
	r.token_len = strlen(r.token);
	r.service = service;
	r.user = user;
	r.now = fx_now();
	return r;
}

int
env_log_seen(const char *needle)
{
	unsigned i;

	for (i = 0; i < 64 && i < nrecent; i++)
		if (strstr(recent[i], needle) != NULL)
			return 1;
	return 0;
}

const char *
env_policy_fixture(const char *name, const char **dir_out)
{
	static const char *const keys[] = { "p256.pub.pem", "rsa2048.pub.pem", "p384.pub.pem",
		"rsa3072.pub.pem", "ed448.pub.pem", "partner_p256.pub.pem",
		"partner_rsa2048.pub.pem", "ed25519.pub.pem" };
	static char conf[4096];
	const char *dir = env_dir(name);
	char revoked[128];
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		env_copy_key(dir, keys[i]);
	env_copy_src(dir, "policy.conf", "tokenscope.conf");
	env_copy_src(dir, "policy-users.map", "policy-users.map");
	snprintf(
	    revoked, sizeof(revoked), "# revoked after compromise\n%s\n", fx_thumbprint("ed448"));
	env_write(dir, "revoked-keys", revoked, 0644);
	snprintf(conf, sizeof(conf), "%s/tokenscope.conf", dir);
	if (dir_out != NULL)
		*dir_out = dir;
	return conf;
}

json_t *
env_fresh_tokens(const char *dir)
{
	char path[4200], cmd[8400];
	json_t *fresh;

	snprintf(path, sizeof(path), "%s/fresh.json", dir);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 '%s/tests/mint_now.py' '%s' >'%s'",
	    tap_env("TS_SRCDIR"), tap_env("TS_FIXTURES"), path);
	if (system(cmd) != 0)
		tap_bail("tests/mint_now.py failed (python3-jwt installed?)");
	if ((fresh = json_load_file(path, 0, NULL)) == NULL)
		tap_bail("cannot read %s", path);
	return fresh;
}

/* text with every `from` replaced once by `to`, into out */
static void
replace_once(char *out, size_t cap, const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);

	if (at == NULL)
		tap_bail("policy.conf no longer holds \"%s\"", from);
	snprintf(out, cap, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
}

const char *
env_forgery_fixture(
    const char *name, long long now, int json, json_t **tokens, const char **dir_out)
{
	static const char tenant[] = "[issuer tenant-a]\n"
	                             "issuer = https://login.example.com/tenant-a/v2.0\n"
	                             "algorithms = ES256\n"
	                             "key = tenant.jwks\n"
	                             "token_type = at+jwt\n\n"
	                             "[issuer hmac]\n"
	                             "issuer = https://hmac.example.net\n"
	                             "algorithms = HS256\n"
	                             "key = hs256.jwk not_after=2020-01-01T00:00:00Z\n"
	                             "token_type = at+jwt\n\n"
	                             "[service dovecot]";
	static char text[8192], a[8192], b[8192];
	const char *dir, *conf = env_policy_fixture(name, &dir);
	char path[4200], cmd[8600];
	FILE *f;
	size_t n;

	env_copy_key(dir, "hs256.jwk");
	if ((f = fopen(conf, "r")) == NULL || (n = fread(text, 1, sizeof(text) - 1, f)) == 0)
		tap_bail("cannot read %s", conf);
	fclose(f);
	text[n] = '\0';
	replace_once(a, sizeof(a), text, "issuers         = corp partner legacy\n",
	    "issuers         = corp partner legacy tenant-a hmac\n");
	replace_once(b, sizeof(b), a, "[service dovecot]", tenant);
	replace_once(
	    a, sizeof(a), b, "[global]\n", json ? "[global]\nlog_format = json\n" : "[global]\n");
	env_write(dir, "tokenscope.conf", a, 0644);
	snprintf(path, sizeof(path), "%s/forgeries.json", dir);
	snprintf(cmd, sizeof(cmd),
	    "/usr/bin/python3 '%s/tests/mint_forgeries.py' '%s' '%s' %lld >'%s'",
	    tap_env("TS_SRCDIR"), tap_env("TS_FIXTURES"), dir, now, path);
	if (system(cmd) != 0 || (*tokens = json_load_file(path, 0, NULL)) == NULL)
		tap_bail("tests/mint_forgeries.py failed (python3-jwt installed?)");
	if (dir_out != NULL)
		*dir_out = dir;
	return conf;
}

const char *
env_fresh_token(const struct json_t *fresh, const char *name)
{
	const char *t = json_string_value(json_object_get(json_object_get(fresh, "tokens"), name));

	if (t == NULL)
		tap_bail("no fresh token %s", name);
	return t;
}

int
env_sasl_log(void *ctx, int level, const char *msg)
{
	(void)ctx;
	env_log(NULL, level, msg);
	return 0; /* SASL_OK */
}
