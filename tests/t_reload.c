/* t_reload.c: reload without restart (all or nothing, last good state kept,
 * logged once), revocation taking effect, and the replay cache race (C7). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fx.h"
#include "inspect.h"
#include "tap.h"
#include "tsenv.h"

static const char *dir;
static int errors_logged, expiry_warnings;

static void
count_log(void *arg, int prio, const char *line)
{
	if (prio == 4 /* LOG_WARNING */ && strstr(line, "expires in") != NULL)
		expiry_warnings++;
	/* LOG_ALERT (1) is M7's line for a token signed by a revoked key,
	 * which these tests present on purpose: not a load error */
	if (prio == 3 /* LOG_ERR */ || prio == 2 /* LOG_CRIT */)
		errors_logged++;
	env_log(arg, prio, line);
}

#define BASE                                                                                       \
	"[global]\nreload_interval = 0\n%s\n[issuer corp]\n"                                       \
	"issuer = https://sso.example.com/realms/corp\nalgorithms = ES256 RS256\n"                 \
	"tenant = corp-tenant\nclients = webmail\nusername_claim = preferred_username\n"           \
	"username_strip_domain = example.com\nmax_lifetime = 7200\n%s\n"                           \
	"[service dovecot]\nissuers = corp\naudiences = imap.example.com\nrequired_scopes = "      \
	"mail.read\n"

static void
write_conf(const char *global, const char *keys)
{
	char text[2048];

	snprintf(text, sizeof(text), BASE, global, keys);
	env_write(dir, "tokenscope.conf", text, 0644);
}

static ts_reason
check(ts_ctx *ctx, const char *case_name)
{
	char tok[128];
	ts_request req;
	ts_result res;

	snprintf(tok, sizeof(tok), "case_%s", case_name);
	req = env_req(tok, "dovecot", "alice");
	return ts_validate(ctx, &req, &res);
}

static void
test_reload(void)
{
	char conf[4096], revoked[128];
	char *rsa = tap_slurp(fx_path("keys/rsa2048.pub.pem"), NULL);
	ts_ctx *ctx = NULL;
	ts_err e = { "" };

	write_conf("", "key = p256.pub.pem kid=corp-1");
	snprintf(conf, sizeof(conf), "%s/tokenscope.conf", dir);
	ok(ts_ctx_new(conf, count_log, NULL, &ctx, &e) == TS_OK, "initial_load (%s)", e.msg);
	ok(check(ctx, "good_corp_es256") == TS_OK, "reload_before_good_token_accepted");
	ok(check(ctx, "good_corp_rs256_shared_kid") == TS_R_UNKNOWN_KEY,
	    "reload_before_new_key_unknown");

	env_write(dir, "rsa.pem", rsa, 0644);
	write_conf("", "key = p256.pub.pem kid=corp-1\nkey = rsa.pem kid=shared alg=RS256");
	ok(check(ctx, "good_corp_rs256_shared_kid") == TS_OK, "reload_picks_up_new_key");

	/* a broken key file: the last good keyring stays, the error is logged once */
	errors_logged = 0;
	env_write(dir, "rsa.pem", "-----BEGIN PUBLIC KEY-----\ngarbage\n-----END PUBLIC KEY-----\n",
	    0644);
	ok(check(ctx, "good_corp_es256") == TS_OK &&
	        check(ctx, "good_corp_rs256_shared_kid") == TS_OK &&
	        check(ctx, "good_corp_es256") == TS_OK,
	    "reload_broken_file_keeps_last_good_state");
	ok(errors_logged == 1, "reload_broken_file_logged_once (%d)", errors_logged);
	ok(strstr(ts_ctx_last_error(ctx), "rsa.pem") != NULL, "reload_error_names_the_file (%s)",
	    ts_ctx_last_error(ctx));
	/* a broken config that still names both keys: same (K11: a config
	 * that no longer names a key takes it away, see test_take_away) */
	{
		char text[2048];

		snprintf(text, sizeof(text), BASE, "",
		    "key = p256.pub.pem kid=corp-1\nkey = rsa.pem kid=shared alg=RS256");
		memmove(text + 19, text + 9, strlen(text + 9) + 1);
		memcpy(text + 9, "bogus = 1\n", 10);
		env_write(dir, "tokenscope.conf", text, 0644);
	}
	ok(check(ctx, "good_corp_es256") == TS_OK, "reload_broken_config_keeps_last_good_state");
	ok(strstr(ts_ctx_last_error(ctx), "tokenscope.conf:2:") != NULL,
	    "reload_config_error_has_file_line (%s)", ts_ctx_last_error(ctx));

	/* fixed: the new state is in force, with the key removed */
	write_conf("", "key = p256.pub.pem kid=corp-1");
	ok(check(ctx, "good_corp_rs256_shared_kid") == TS_R_UNKNOWN_KEY &&
	        ts_ctx_last_error(ctx)[0] == '\0',
	    "reload_removed_key_no_longer_verifies");

	/* K6: revoking by thumbprint takes effect at the next validation */
	snprintf(revoked, sizeof(revoked), "%s\n", fx_thumbprint("p256"));
	env_write(dir, "revoked", revoked, 0644);
	write_conf("revoked_keys = revoked", "key = p256.pub.pem kid=corp-1");
	ok(check(ctx, "good_corp_es256") == TS_R_KEY_REVOKED,
	    "K6_revocation_takes_effect_on_reload");
	env_write(dir, "revoked", "# nothing revoked\n", 0644);
	ok(check(ctx, "good_corp_es256") == TS_OK, "K6_revoked_list_change_detected");
	ts_ctx_free(ctx);
	free(rsa);
}

/* K11: what takes trust away always takes effect, whatever else the same
 * change breaks. Each case starts from a good state with both keys. */
static ts_ctx *
k11_start(const char *revoked_text)
{
	char conf[4096];
	char *rsa = tap_slurp(fx_path("keys/rsa2048.pub.pem"), NULL);
	ts_ctx *ctx = NULL;
	ts_err e = { "" };

	env_write(dir, "rsa.pem", rsa, 0644);
	env_write(dir, "revoked", revoked_text, 0644);
	write_conf("revoked_keys = revoked",
	    "key = p256.pub.pem kid=corp-1\nkey = rsa.pem kid=shared alg=RS256");
	snprintf(conf, sizeof(conf), "%s/tokenscope.conf", dir);
	if (ts_ctx_new(conf, count_log, NULL, &ctx, &e) != TS_OK ||
	    check(ctx, "good_corp_es256") != TS_OK ||
	    check(ctx, "good_corp_rs256_shared_kid") != TS_OK)
		tap_bail("K11 start state (%s)", e.msg);
	free(rsa);
	return ctx;
}

static void
test_take_away(void)
{
	char revoked[256], conf[4096], path[4200];
	const char *broken_pem = "-----BEGIN PUBLIC KEY-----\ngarbage\n-----END PUBLIC KEY-----\n";
	ts_ctx *ctx, *fresh = NULL;
	ts_err e = { "" };
	int i, before;

	snprintf(conf, sizeof(conf), "%s/tokenscope.conf", dir);
	/* a malformed line next to a valid thumbprint */
	ctx = k11_start("# none\n");
	snprintf(revoked, sizeof(revoked), "%s\nnot-a-thumbprint\n", fx_thumbprint("p256"));
	env_write(dir, "revoked", revoked, 0644);
	ok(check(ctx, "good_corp_es256") == TS_R_KEY_REVOKED,
	    "K11_revocation_applies_despite_broken_line");
	ok(check(ctx, "good_corp_rs256_shared_kid") == TS_OK,
	    "K11_broken_revocation_line_keeps_other_keys");
	before = errors_logged;
	for (i = 0; i < 3; i++)
		(void)check(ctx, "good_corp_rs256_shared_kid");
	ok(errors_logged - before == 3 && env_log_seen("revoked-key list has a broken line"),
	    "K11_broken_revocation_line_logged_at_every_change_check (%d)", errors_logged - before);
	ok(ts_ctx_new(conf, NULL, NULL, &fresh, &e) == TS_R_CONFIG_ERROR &&
	        strstr(e.msg, "revoked:2:") != NULL,
	    "K11_broken_revocation_line_fails_check_config (%s)", e.msg);
	ts_ctx_free(fresh);
	/* fixed: logged no more */
	snprintf(revoked, sizeof(revoked), "%s\n", fx_thumbprint("p256"));
	env_write(dir, "revoked", revoked, 0644);
	before = errors_logged;
	ok(check(ctx, "good_corp_es256") == TS_R_KEY_REVOKED &&
	        check(ctx, "good_corp_rs256_shared_kid") == TS_OK && errors_logged == before &&
	        ts_ctx_last_error(ctx)[0] == '\0',
	    "K11_fixed_revocation_list_loads_whole");
	ts_ctx_free(ctx);

	/* a revocation in the same change as a broken key file */
	ctx = k11_start("# none\n");
	snprintf(revoked, sizeof(revoked), "%s\n", fx_thumbprint("rsa2048"));
	env_write(dir, "revoked", revoked, 0644);
	env_write(dir, "rsa.pem", broken_pem, 0644);
	ok(check(ctx, "good_corp_rs256_shared_kid") == TS_R_KEY_REVOKED &&
	        check(ctx, "good_corp_es256") == TS_OK,
	    "K11_revocation_applies_despite_broken_key_file");
	ts_ctx_free(ctx);

	/* a revocation list that cannot be read refuses every token */
	ctx = k11_start("# none\n");
	env_write(dir, "revoked", "# none\n", 0666);
	ok(check(ctx, "good_corp_es256") == TS_R_CONFIG_ERROR &&
	        check(ctx, "good_corp_rs256_shared_kid") == TS_R_CONFIG_ERROR,
	    "K11_unsafe_revocation_list_refuses_every_token");
	env_write(dir, "revoked", "# none\n", 0644);
	ok(check(ctx, "good_corp_es256") == TS_OK, "K11_readable_revocation_list_restores");
	snprintf(path, sizeof(path), "%s/revoked", dir);
	unlink(path);
	ok(check(ctx, "good_corp_es256") == TS_R_CONFIG_ERROR,
	    "K11_deleted_revocation_list_refuses_every_token");
	ts_ctx_free(ctx);

	/* key removal: the file deleted while its key line stays */
	ctx = k11_start("# none\n");
	snprintf(path, sizeof(path), "%s/rsa.pem", dir);
	unlink(path);
	ok(check(ctx, "good_corp_rs256_shared_kid") == TS_R_UNKNOWN_KEY &&
	        check(ctx, "good_corp_es256") == TS_OK,
	    "K11_deleted_key_file_stops_verifying");
	ts_ctx_free(ctx);

	/* the key line removed in a config that is broken elsewhere */
	ctx = k11_start("# none\n");
	write_conf("revoked_keys = revoked\nbogus = 1", "key = p256.pub.pem kid=corp-1");
	ok(check(ctx, "good_corp_rs256_shared_kid") == TS_R_UNKNOWN_KEY &&
	        check(ctx, "good_corp_es256") == TS_OK,
	    "K11_removed_key_line_applies_despite_broken_config");
	ok(strstr(ts_ctx_last_error(ctx), "bogus") != NULL, "K11_broken_config_still_reported");
	ts_ctx_free(ctx);

	/* a revoke_before set in a config that is broken elsewhere */
	ctx = k11_start("# none\n");
	write_conf("revoked_keys = revoked\nbogus = 1",
	    "key = p256.pub.pem kid=corp-1\nkey = rsa.pem kid=shared alg=RS256\n"
	    "revoke_before = 2023-11-14T22:15:00Z");
	ok(check(ctx, "good_corp_es256") == TS_R_TOKEN_REVOKED,
	    "K11_revoke_before_applies_despite_broken_config");
	ts_ctx_free(ctx);

	/* the key file now holds another key, and another file is broken */
	ctx = k11_start("# none\n");
	{
		char *other = tap_slurp(fx_path("keys/partner_rsa2048.pub.pem"), NULL);

		env_write(dir, "rsa.pem", other, 0644);
		free(other);
	}
	env_write(dir, "p256.pub.pem", broken_pem, 0644);
	ok(check(ctx, "good_corp_rs256_shared_kid") == TS_R_UNKNOWN_KEY &&
	        check(ctx, "good_corp_es256") == TS_OK,
	    "K11_key_no_longer_in_its_file_stops_verifying");
	env_copy_key(dir, "p256.pub.pem");
	ts_ctx_free(ctx);

	/* a config that is there but unsafe names no key at all */
	ctx = k11_start("# none\n");
	chmod(conf, 0666);
	ok(check(ctx, "good_corp_es256") == TS_R_UNKNOWN_KEY &&
	        check(ctx, "good_corp_rs256_shared_kid") == TS_R_UNKNOWN_KEY,
	    "K11_unsafe_config_takes_every_key_away");
	chmod(conf, 0644);
	ok(check(ctx, "good_corp_es256") == TS_OK, "K11_readable_config_restores");
	ts_ctx_free(ctx);

	/* out of reach (a chroot): the loaded state keeps deciding, even
	 * with the revoked-key list out of reach too */
	ctx = k11_start("# none\n");
	{
		char moved[4200];

		snprintf(moved, sizeof(moved), "%s.moved", conf);
		if (rename(conf, moved) != 0)
			tap_bail("rename");
		snprintf(path, sizeof(path), "%s/revoked", dir);
		unlink(path);
		ok(check(ctx, "good_corp_es256") == TS_OK &&
		        check(ctx, "good_corp_rs256_shared_kid") == TS_OK,
		    "K11_config_out_of_reach_keeps_the_loaded_state");
		if (rename(moved, conf) != 0)
			tap_bail("rename back");
	}
	ts_ctx_free(ctx);
}

static void
test_replay(void)
{
	char conf[4096], cache[4096], global[4200];
	ts_ctx *ctx = NULL;
	ts_err e = { "" };
	int p[2], i, winners = 0, replayed = 0, status;
	pid_t kids[2];
	char go = 'g';

	snprintf(cache, sizeof(cache), "%s/replay", dir);
	mkdir(cache, 0700);
	snprintf(global, sizeof(global), "replay_cache = %s", cache);
	write_conf(
	    global, "key = p256.pub.pem kid=corp-1\nkey = rsa2048.pub.pem kid=shared alg=RS256");
	snprintf(conf, sizeof(conf), "%s/tokenscope.conf", dir);
	ok(ts_ctx_new(conf, env_log, NULL, &ctx, &e) == TS_OK, "replay_config_loads (%s)", e.msg);
	ok(check(ctx, "good_corp_rs256_shared_kid") == TS_OK, "C7_first_use_accepted");
	ok(check(ctx, "good_corp_rs256_shared_kid") == TS_R_REPLAYED, "C7_second_use_replayed");

	/* two processes race the same fresh token: exactly one wins */
	if (pipe(p) != 0)
		tap_bail("pipe");
	for (i = 0; i < 2; i++) {
		if ((kids[i] = fork()) == 0) {
			char c;

			close(p[1]);
			if (read(p[0], &c, 1) != 1)
				_exit(3);
			_exit(check(ctx, "good_corp_es256") == TS_OK             ? 0
			        : check(ctx, "good_corp_es256") == TS_R_REPLAYED ? 1
			                                                         : 2);
		}
	}
	close(p[0]);
	if (write(p[1], &go, 1) != 1 || write(p[1], &go, 1) != 1)
		tap_bail("write");
	close(p[1]);
	for (i = 0; i < 2; i++) {
		waitpid(kids[i], &status, 0);
		winners += WIFEXITED(status) && WEXITSTATUS(status) == 0;
		replayed += WIFEXITED(status) && WEXITSTATUS(status) == 1;
	}
	ok(winners == 1 && replayed == 1,
	    "C7_two_processes_race_exactly_one_wins (%d won, %d replayed)", winners, replayed);
	chmod(cache, 0755);
	ok(check(ctx, "good_no_user_requested") == TS_R_CONFIG_ERROR,
	    "C7_unsafe_cache_directory_fails_closed");
	ts_ctx_free(ctx);
}

static ts_reason
check_at(ts_ctx *ctx, const char *case_name, time_t now)
{
	char tok[128];
	ts_request req;
	ts_result res;

	snprintf(tok, sizeof(tok), "case_%s", case_name);
	req = env_req(tok, "dovecot", "alice");
	req.now = now;
	return ts_validate(ctx, &req, &res);
}

/* C7: one replay directory shared by configurations with different
 * clock_skew; the one with the smaller skew sweeps while the other still
 * accepts the token. */
static void
test_replay_mixed_skew(void)
{
	char cache[2048], global[2200], text[8192], path[4200];
	ts_ctx *wide = NULL, *narrow = NULL;
	ts_err e = { "" };
	/* exp = now + 70 at fx_now(); 300 s later: expired, but within 600 s */
	time_t later = fx_now() + 370;

	snprintf(cache, sizeof(cache), "%s/replay-skew", dir);
	mkdir(cache, 0700);
	snprintf(global, sizeof(global), "replay_cache = %s\nclock_skew = 600", cache);
	snprintf(text, sizeof(text), BASE, global, "key = p256.pub.pem kid=corp-1");
	snprintf(path, sizeof(path), "%s", env_write(dir, "wide.conf", text, 0644));
	if (ts_ctx_new(path, env_log, NULL, &wide, &e) != TS_OK)
		tap_bail("wide.conf: %s", e.msg);
	snprintf(global, sizeof(global), "replay_cache = %s\nclock_skew = 0", cache);
	snprintf(text, sizeof(text), BASE, global, "key = p256.pub.pem kid=corp-1");
	snprintf(path, sizeof(path), "%s", env_write(dir, "narrow.conf", text, 0644));
	if (ts_ctx_new(path, env_log, NULL, &narrow, &e) != TS_OK)
		tap_bail("narrow.conf: %s", e.msg);
	ok(check_at(wide, "good_within_skew", later) == TS_OK, "C7_mixed_skew_first_use_accepted");
	/* the narrow config's first accept sweeps the cache */
	ok(check_at(narrow, "good_corp_es256", later) == TS_OK,
	    "C7_mixed_skew_other_token_accepted");
	ok(check_at(wide, "good_within_skew", later) == TS_R_REPLAYED,
	    "C7_replay_cache_shared_with_smaller_skew_still_refuses_replay");
	ts_ctx_free(wide);
	ts_ctx_free(narrow);
}

/* M2: trust anchors are root's. A process running as a service account
 * (uid 4242 here) refuses a config, key file or replay directory that the
 * account owns itself; the test hook is off in that process. */
#define SERVICE_UID 4242
static int
as_service_account(const char *conf, const char *case_name)
{
	pid_t pid;
	int st;

	if ((pid = fork()) == 0) {
		ts_ctx *ctx = NULL;
		ts_err e = { "" };
		ts_reason r;

		unsetenv("TOKENSCOPE_TEST_OWN_FILES");
		if (setegid(SERVICE_UID) != 0 || seteuid(SERVICE_UID) != 0)
			_exit(9);
		r = ts_ctx_new(conf, env_log, NULL, &ctx, &e);
		if (r == TS_OK && case_name != NULL)
			r = check(ctx, case_name);
		ts_ctx_free(ctx);
		_exit(r == TS_OK ? 0 : r == TS_R_CONFIG_ERROR ? 1 : 2);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		tap_bail("fork");
	return WEXITSTATUS(st);
}

static void
test_root_owned(void)
{
	char sub[4096], conf[4200], cache[4200], key[4200], global[4300], text[8192];
	char *p256 = tap_slurp(fx_path("keys/p256.pub.pem"), NULL);

	if (geteuid() != 0) {
		tap_diag("SKIP M2 root-ownership tests: need root to play a service account");
		free(p256);
		return;
	}
	(void)fx_token("case_good_corp_es256"); /* loaded before the fork */
	/* the service account must reach the files: a package build's tree may
	 * sit under a 0700 directory (rpmbuild's mktemp), so a directory of
	 * our own under /tmp, 0755 */
	snprintf(sub, sizeof(sub), "/tmp/ts-m2-XXXXXX");
	if (mkdtemp(sub) == NULL || chmod(sub, 0755) != 0)
		tap_bail("mkdtemp");
	snprintf(cache, sizeof(cache), "%s/replay", sub);
	mkdir(cache, 0700);
	snprintf(key, sizeof(key), "%s", env_write(sub, "p256.pem", p256, 0644));
	snprintf(global, sizeof(global), "replay_cache = %s", cache);
	snprintf(text, sizeof(text), BASE, global, "key = p256.pem kid=corp-1");
	snprintf(conf, sizeof(conf), "%s", env_write(sub, "tokenscope.conf", text, 0644));
	ok(as_service_account(conf, NULL) == 0, "M2_root_owned_files_accepted");
	if (chown(cache, SERVICE_UID, SERVICE_UID) != 0)
		tap_bail("chown");
	ok(as_service_account(conf, "good_no_user_requested") == 1,
	    "M2_replay_directory_owned_by_the_service_account_refused");
	if (chown(key, SERVICE_UID, SERVICE_UID) != 0)
		tap_bail("chown");
	ok(as_service_account(conf, NULL) == 1, "M2_key_file_owned_by_the_service_account_refused");
	if (chown(key, 0, 0) != 0 || chown(conf, SERVICE_UID, SERVICE_UID) != 0)
		tap_bail("chown");
	ok(as_service_account(conf, NULL) == 1, "M2_config_owned_by_the_service_account_refused");
	unlink(conf);
	unlink(key);
	rmdir(cache);
	rmdir(sub);
	free(p256);
}

/* What the two sections of the shared-file test bind. */
typedef struct shared_view {
	const void *key[2];
	char thumbprint[2][48];
	ts_key_status status[2];
} shared_view;

static void
view_shared(void *arg, const ts_conf *c, const ts_keyring *kr)
{
	shared_view *v = arg;
	size_t i, n;

	memset(v, 0, sizeof(*v));
	for (i = 0; i < 2 && i < c->nissuers; i++) {
		const ts_binding *b = ts_keyring_issuer_keys(kr, i, &n);

		if (b == NULL || n != 1)
			continue;
		v->key[i] = b->key;
		snprintf(
		    v->thumbprint[i], sizeof(v->thumbprint[i]), "%s", ts_key_thumbprint(b->key));
		v->status[i] = ts_binding_status(b, fx_now());
	}
}

static void
write_shared_conf(const char *copy_window)
{
	char text[1024];

	snprintf(text, sizeof(text),
	    "[global]\nreload_interval = 0\n"
	    "[issuer corp]\nissuer = https://sso.example.com/realms/corp\nalgorithms = ES256 "
	    "RS256\nkey = shared.jwk kid=corp-1\ntenant = corp-tenant\nclients = webmail\n"
	    "username_claim = preferred_username\nusername_strip_domain = example.com\n"
	    "[issuer copy]\nissuer = https://sso.example.com/realms/copy\nalgorithms = ES256 "
	    "RS256\nkey = shared.jwk kid=corp-1 %s\n"
	    "[service dovecot]\nissuers = corp copy\naudiences = imap.example.com\n"
	    "required_scopes = mail.read\n",
	    copy_window);
	env_write(dir, "tokenscope.conf", text, 0644);
}

/* keys/<key>.jwk without kid and alg, as file (the key lines name them). */
static void
write_jwk(const char *key, const char *file)
{
	char rel[64], *text;
	json_t *j;

	snprintf(rel, sizeof(rel), "keys/%s.jwk", key);
	if ((j = json_load_file(fx_path(rel), 0, NULL)) == NULL)
		tap_bail("%s", rel);
	json_object_del(j, "kid");
	json_object_del(j, "alg");
	text = json_dumps(j, JSON_COMPACT);
	env_write(dir, file, text, 0644);
	free(text);
	json_decref(j);
}

static void
write_shared_jwk(const char *key)
{
	write_jwk(key, "shared.jwk");
}

static void
view_made(void *arg, const ts_conf *c, const ts_keyring *kr)
{
	(void)c;
	*(size_t *)arg = ts_keyring_sections_made(kr);
}

/* The two sections sharing one P-256 JWK, loaded as test `name`. */
static ts_ctx *
load_shared(const char *name)
{
	char conf[4200];
	ts_ctx *ctx = NULL;
	ts_err e = { "" };

	write_shared_jwk("p256");
	write_shared_conf("");
	snprintf(conf, sizeof(conf), "%s/tokenscope.conf", dir);
	if (!ok(ts_ctx_new(conf, count_log, NULL, &ctx, &e) == TS_OK, "%s (%s)", name, e.msg))
		tap_bail("%s", name);
	return ctx;
}

/* K15: a process pays for the sections it uses: none of one key line is
 * made at load, a decision makes its own section only, and a reload whose
 * files did not change makes none again. */
static void
test_sections_made_at_first_use(void)
{
	ts_ctx *ctx = load_shared("K15_lazy_sections_load");
	size_t made = 99;

	ts_ctx_inspect(ctx, view_made, &made);
	ok(made == 0, "K15_no_section_of_one_key_line_made_at_load (%zu)", made);
	ok(check(ctx, "good_corp_es256") == TS_OK, "K15_lazily_made_section_verifies");
	ts_ctx_inspect(ctx, view_made, &made);
	ok(made == 1, "K15_a_decision_makes_its_own_section_only (%zu of 2)", made);
	write_shared_conf("not_after=2000-01-01T00:00:00Z");
	ok(check(ctx, "good_corp_es256") == TS_OK, "K15_reloaded_lazy_section_verifies");
	ts_ctx_inspect(ctx, view_made, &made);
	ok(made == 1, "K15_a_reload_makes_only_the_section_a_decision_uses (%zu of 2)", made);
	ts_ctx_free(ctx);
}

/* K15: two sections naming one file share its parsed keys; a reload that
 * changes one section's key line gives that section its own parse and
 * leaves the other deciding as before; a change of the file reaches
 * both. */
static void
test_shared_file(void)
{
	ts_ctx *ctx = load_shared("K15_shared_file_loads");
	shared_view v;
	const void *first;

	ts_ctx_inspect(ctx, view_shared, &v);
	ok(v.key[0] != NULL && v.key[0] == v.key[1], "K15_sections_naming_one_file_share_its_keys");
	ok(check(ctx, "good_corp_es256") == TS_OK, "K15_shared_key_verifies");
	first = v.key[0];

	write_shared_conf("not_after=2000-01-01T00:00:00Z");
	ok(check(ctx, "good_corp_es256") == TS_OK,
	    "K15_reload_of_one_sharing_section_leaves_the_other_deciding");
	ts_ctx_inspect(ctx, view_shared, &v);
	ok(v.key[0] != v.key[1] && strcmp(v.thumbprint[0], v.thumbprint[1]) == 0 &&
	        v.status[0] == TS_KEY_ACTIVE && v.status[1] == TS_KEY_EXPIRED,
	    "K15_changed_section_gets_its_own_window");
	/* incremental reload: the file did not change, nor the section's
	 * line, so the new state shares the parse (and the set-up key); the
	 * old state lived while the new one was built, so an equal address is
	 * the same key */
	ok(v.key[0] == first, "K15_reload_keeps_the_parse_of_an_unchanged_file");

	write_shared_jwk("rsa2048");
	ok(check(ctx, "good_corp_es256") != TS_OK, "K15_changed_shared_file_reaches_the_decision");
	ts_ctx_inspect(ctx, view_shared, &v);
	ok(strcmp(v.thumbprint[0], fx_thumbprint("rsa2048")) == 0 &&
	        strcmp(v.thumbprint[1], fx_thumbprint("rsa2048")) == 0,
	    "K15_changed_shared_file_reaches_both_sections");
	ts_ctx_free(ctx);
}

static void
view_parsed(void *arg, const ts_conf *c, const ts_keyring *kr)
{
	size_t *v = arg;

	(void)c;
	v[0] = ts_keyring_files_parsed(kr, &v[1]);
}

/* corp and copy, each naming a file of its own; corp's key line ends
 * with window. */
static void
write_two_files_conf_window(const char *window)
{
	char text[1024];

	snprintf(text, sizeof(text),
	    "[global]\nreload_interval = 0\n"
	    "[issuer corp]\nissuer = https://sso.example.com/realms/corp\nalgorithms = ES256 "
	    "RS256\nkey = a.jwk kid=corp-1%s\ntenant = corp-tenant\nclients = webmail\n"
	    "username_claim = preferred_username\nusername_strip_domain = example.com\n"
	    "[issuer copy]\nissuer = https://sso.example.com/realms/copy\nalgorithms = ES256 "
	    "RS256\nkey = b.jwk kid=corp-1\n"
	    "[service dovecot]\nissuers = corp copy\naudiences = imap.example.com\n"
	    "required_scopes = mail.read\n",
	    window);
	env_write(dir, "tokenscope.conf", text, 0644);
}

/* A first load of corp and copy, both files holding the P-256 key, as
 * test `name`; NULL (and the test failed) when it does not load. */
static ts_ctx *
load_two_files(const char *window, const char *name)
{
	char conf[4200];
	ts_ctx *ctx = NULL;
	ts_err e = { "" };

	write_jwk("p256", "a.jwk");
	write_jwk("p256", "b.jwk");
	write_two_files_conf_window(window);
	snprintf(conf, sizeof(conf), "%s/tokenscope.conf", dir);
	if (!ok(ts_ctx_new(conf, count_log, NULL, &ctx, &e) == TS_OK, "%s (%s)", name, e.msg)) {
		ts_ctx_free(ctx);
		return NULL;
	}
	return ctx;
}

/* K15, K11: a process's first load reads each key file and parses it at
 * the first use of a section naming it; a reload parses what it reads at
 * once, so a broken file fails the reload, and the last good state decides
 * with the bytes it read, even those of a file it never parsed. */
static void
test_files_parsed_at_first_use(void)
{
	size_t v[2] = { 99, 99 };
	ts_ctx *ctx;
	ts_reason r;
	shared_view sv;
	char soon[48];
	time_t t;
	struct tm tm;
	int before;

	if ((ctx = load_two_files("", "K15_two_files_load")) == NULL)
		return;
	ts_ctx_inspect(ctx, view_parsed, v);
	ok(v[0] == 0 && v[1] == 2, "K15_no_key_file_parsed_at_a_first_load (%zu of %zu)", v[0],
	    v[1]);

	/* a.jwk changed: the reload parses it at once; b.jwk, unchanged and
	 * never used, waits still */
	write_jwk("rsa2048", "a.jwk");
	r = check(ctx, "good_corp_es256");
	ts_ctx_inspect(ctx, view_parsed, v); /* before view_shared makes both */
	ts_ctx_inspect(ctx, view_shared, &sv);
	ok(r != TS_OK && strcmp(sv.thumbprint[0], fx_thumbprint("rsa2048")) == 0,
	    "K15_changed_file_reaches_the_decision (%s)", ts_reason_str(r));
	ok(v[0] == 1 && v[1] == 2,
	    "K15_a_reload_parses_the_file_it_reads_and_leaves_an_unchanged_unused_one_waiting "
	    "(%zu of %zu)",
	    v[0], v[1]);
	ts_ctx_free(ctx);

	/* a first load again; a.jwk broken before any decision parsed it:
	 * the reload the next decision starts parses it and fails, and the
	 * state loaded first decides with the bytes it read, parsed only
	 * now */
	if ((ctx = load_two_files("", "K15_two_files_load_again")) == NULL)
		return;
	before = errors_logged;
	env_write(dir, "a.jwk", "{\"kty\": \"EC\", \"crv\": \"P-256\"", 0644);
	r = check(ctx, "good_corp_es256");
	ok(r == TS_OK && errors_logged > before,
	    "K15_K11_failed_reload_decides_with_the_last_good_bytes_of_a_file_never_parsed "
	    "(%d errors logged)",
	    errors_logged - before);
	ts_ctx_free(ctx);

	/* K5: a key about to end, in a file a first load did not parse and a
	 * failed reload then parsed for its copy of the state: warned about
	 * at its section's first use all the same */
	t = time(NULL) + 2 * 86400;
	gmtime_r(&t, &tm);
	strftime(soon, sizeof(soon), " not_after=%Y-%m-%dT%H:%M:%SZ", &tm);
	if ((ctx = load_two_files(soon, "K5_expiring_two_files_load")) == NULL)
		return;
	before = expiry_warnings;
	env_write(dir, "b.jwk", "not a key file", 0644);
	r = check(ctx, "good_corp_es256");
	ok(expiry_warnings == before + 1,
	    "K5_K15_first_use_after_a_failed_reload_warns_of_a_key_about_to_end (%d, %s)",
	    expiry_warnings - before, ts_reason_str(r));
	ts_ctx_free(ctx);
}

int
main(void)
{
	setenv("TS_TEST_NAME", "t_reload", 1);
	dir = env_dir("reload");
	env_copy_key(dir, "p256.pub.pem");
	env_copy_key(dir, "rsa2048.pub.pem");
	test_reload();
	test_take_away();
	test_replay();
	test_replay_mixed_skew();
	test_root_owned();
	test_sections_made_at_first_use();
	test_shared_file();
	test_files_parsed_at_first_use();
	return tap_done();
}
