/*
 * t_stress.c: concurrency under key rotation. Four threads in this process
 * and two forked processes validate continuously while a third process
 * rotates keys as an administrator would (write a new file, rename it over
 * the old): add key C, break C's file, and, while it is broken, delete A's
 * file (its key line stays) in a change that also breaks the config, and
 * revoke B in a list that also holds a broken line; then fix everything.
 * K15: A is a JWK, so each new keyring sets it up at its first use, by
 * whichever threads get there at once, and a second section names the
 * same files, so its keys are shared. Each worker asserts what it observes:
 *  - once A was refused as unknown, A is never accepted again;
 *  - once B was refused as revoked, B is never accepted again;
 *  - once C was accepted, C is never refused (a broken file keeps the last
 *    good keyring for what it adds; there is never half a keyring);
 *  - K11: a process worker (one thread, so every check of its own is a
 *    change check) never sees A or B accepted in a check that began after
 *    the rotator published the change, although the same change broke
 *    another file;
 *  - no config_error or internal_error, no crash.
 * Bounded: the rotation takes about two seconds. Also built with
 * ThreadSanitizer by tests/t_stress_tsan.sh.
 */
#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fx.h"
#include "tap.h"
#include "tsenv.h"

static const char *dir;
static char conf[4200];
static ts_request req_a, req_b, req_c; /* built before any thread starts */
static atomic_int done;
/* the rotator's progress, shared with every process (MAP_SHARED) */
enum { PH_START, PH_A_FILE_GONE, PH_B_REVOKED };
static atomic_int *phase;

typedef struct worker {
	ts_ctx *ctx;
	int strict; /* one thread per context: assert against phase */
	long checks, violations, k11_violations;
	char why[200];
} worker;

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static ts_reason
check(ts_ctx *ctx, const ts_request *req)
{
	ts_result res;

	return ts_validate(ctx, req, &res);
}

static void
violation(worker *w, const char *what)
{
	if (w->violations++ == 0)
		snprintf(w->why, sizeof(w->why), "%s", what);
}

static void *
work(void *arg)
{
	worker *w = arg;
	int a_gone = 0, b_revoked = 0, c_seen = 0;

	while (!atomic_load(&done)) {
		int ph = atomic_load(phase);
		ts_reason a = check(w->ctx, &req_a), b = check(w->ctx, &req_b),
		          c = check(w->ctx, &req_c);

		w->checks += 3;
		if (w->strict && a == TS_OK && ph >= PH_A_FILE_GONE) {
			w->k11_violations++;
			violation(w, "K11: key A accepted after its file was deleted");
		}
		if (w->strict && b == TS_OK && ph >= PH_B_REVOKED) {
			w->k11_violations++;
			violation(w, "K11: key B accepted after its revocation was written");
		}
		if (a == TS_R_CONFIG_ERROR || b == TS_R_CONFIG_ERROR || c == TS_R_CONFIG_ERROR ||
		    a == TS_R_INTERNAL || b == TS_R_INTERNAL || c == TS_R_INTERNAL)
			violation(w, "config or internal error seen");
		if (a == TS_OK && a_gone)
			violation(w, "key A accepted after its removal was observed");
		if (a == TS_R_UNKNOWN_KEY)
			a_gone = 1;
		if (b == TS_OK && b_revoked)
			violation(w, "key B accepted after its revocation was observed");
		if (b == TS_R_KEY_REVOKED)
			b_revoked = 1;
		if (c != TS_OK && c_seen)
			violation(w, "key C refused after it was in force");
		if (c == TS_OK)
			c_seen = 1;
	}
	/* the end state */
	if (check(w->ctx, &req_a) != TS_R_UNKNOWN_KEY ||
	    check(w->ctx, &req_b) != TS_R_KEY_REVOKED || check(w->ctx, &req_c) != TS_OK)
		violation(w, "wrong end state");
	return NULL;
}

static void
write_conf(const char *keys, const char *revoked)
{
	char text[2048];

	snprintf(text, sizeof(text),
	    "[global]\nreload_interval = 0\nrevoked_keys = revoked\n[issuer corp]\n"
	    "issuer = https://sso.example.com/realms/corp\nalgorithms = ES256 RS256 EdDSA\n%s\n"
	    "token_type = jwt\n[issuer copy]\nissuer = https://sso.example.com/realms/copy\n"
	    "algorithms = ES256 RS256 EdDSA\n%s\ntoken_type = jwt\n"
	    "[service dovecot]\nissuers = corp copy\naudiences = imap.example.com\n",
	    keys, keys);
	env_write(dir, "revoked", revoked, 0644);
	env_write(dir, "tokenscope.conf", text, 0644);
}

/* The administrator, in a process of its own. */
static void
rotate(void)
{
	char *ckey = tap_slurp(fx_path("keys/ed25519.pub.pem"), NULL), revoked[128], path[4200];
	const char *broken = "-----BEGIN PUBLIC KEY-----\nbroken\n-----END PUBLIC KEY-----\n";

	sleep_ms(300);
	write_conf(
	    "key = a.jwk kid=a\nkey = b.pem kid=b alg=RS256", "# none\n"); /* rewrite, same keys */
	sleep_ms(300);
	env_write(dir, "c.pem", ckey, 0644);
	write_conf("key = a.jwk kid=a\nkey = b.pem kid=b alg=RS256\nkey = c.pem kid=c",
	    "# none\n"); /* add C */
	sleep_ms(300);
	env_write(dir, "c.pem", broken, 0644); /* break C: the last good C stays */
	sleep_ms(300);
	/* K11, while C is broken: A's file deleted, its key line left, and
	 * the same change breaks the config too */
	snprintf(path, sizeof(path), "%s/a.jwk", dir);
	unlink(path);
	write_conf("key = a.jwk kid=a\nkey = b.pem kid=b alg=RS256\nkey = c.pem kid=c\n"
	           "no_such_setting = 1",
	    "# none\n");
	atomic_store(phase, PH_A_FILE_GONE);
	sleep_ms(300);
	/* K11, while C is broken: B revoked in a list with a broken line */
	snprintf(revoked, sizeof(revoked), "%s\nnot a thumbprint\n", fx_thumbprint("rsa2048"));
	env_write(dir, "revoked", revoked, 0644);
	atomic_store(phase, PH_B_REVOKED);
	sleep_ms(300);
	/* everything fixed: A's line gone, the list clean, C whole */
	env_write(dir, "c.pem", ckey, 0644);
	snprintf(revoked, sizeof(revoked), "%s\n", fx_thumbprint("rsa2048"));
	write_conf("key = b.pem kid=b alg=RS256\nkey = c.pem kid=c", revoked);
	sleep_ms(300);
	free(ckey);
}

static void
stop(int sig)
{
	(void)sig;
	atomic_store(&done, 1); /* lock-free: safe in a signal handler */
}

static int
run_process_worker(void)
{
	worker w;

	memset(&w, 0, sizeof(w));
	w.strict = 1;
	if (ts_ctx_new(conf, NULL, NULL, &w.ctx, NULL) != TS_OK)
		return 3;
	work(&w);
	ts_ctx_free(w.ctx);
	if (w.violations)
		fprintf(stderr, "process worker: %s\n", w.why);
	return w.k11_violations ? 2 : w.violations ? 1 : 0;
}

/* Key A as a JWK without its kid (the key line names it): set up at its
 * first use (K15). */
static void
write_jwk_a(void)
{
	char *jwk = tap_slurp(fx_path("keys/p256.jwk"), NULL), *kid;

	if ((kid = strstr(jwk, "\"kid\": \"p256\",")) == NULL)
		tap_bail("p256.jwk changed");
	memset(kid, ' ', strlen("\"kid\": \"p256\","));
	env_write(dir, "a.jwk", jwk, 0644);
	free(jwk);
}

typedef struct first_use {
	ts_ctx *ctx;
	pthread_barrier_t *go;
	ts_reason r;
} first_use;

static void *
first_use_thread(void *arg)
{
	first_use *f = arg;

	pthread_barrier_wait(f->go);
	f->r = check(f->ctx, &req_a);
	return NULL;
}

/* K15: two threads reach a key's deferred set-up at once, on fresh
 * keyrings again and again: both verify, and the set-up runs once (a
 * second run would leak or, under ThreadSanitizer, race). With one key
 * line, the section's bindings are made at that first use too. */
static void
first_use_by_two_threads(const char *name)
{
	int round, both = 0;

	for (round = 0; round < 50; round++) {
		pthread_barrier_t go;
		first_use f[2];
		pthread_t t[2];
		ts_ctx *ctx = NULL;
		int i;

		if (ts_ctx_new(conf, NULL, NULL, &ctx, NULL) != TS_OK)
			tap_bail("load");
		pthread_barrier_init(&go, NULL, 2);
		for (i = 0; i < 2; i++) {
			f[i].ctx = ctx;
			f[i].go = &go;
			pthread_create(&t[i], NULL, first_use_thread, &f[i]);
		}
		for (i = 0; i < 2; i++)
			pthread_join(t[i], NULL);
		both += f[0].r == TS_OK && f[1].r == TS_OK;
		pthread_barrier_destroy(&go);
		ts_ctx_free(ctx);
	}
	ok(both == 50, "%s (%d/50)", name, both);
}

int
main(void)
{
	pid_t kids[2], rotator;
	pthread_t th[4];
	worker w[4];
	ts_ctx *ctx = NULL;
	int i, st, kid_fail = 0, kid_k11 = 0;
	long checks = 0, viol = 0;

	setenv("TS_TEST_NAME", "t_stress", 1);
	phase =
	    mmap(NULL, sizeof(*phase), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (phase == MAP_FAILED)
		tap_bail("mmap");
	atomic_init(phase, PH_START);
	dir = env_dir("stress");
	env_copy_key(dir, "rsa2048.pub.pem");
	write_jwk_a();
	{
		char from[4300], to[4300];

		snprintf(from, sizeof(from), "%s/rsa2048.pub.pem", dir);
		snprintf(to, sizeof(to), "%s/b.pem", dir);
		rename(from, to);
	}
	snprintf(conf, sizeof(conf), "%s/tokenscope.conf", dir);
	req_a = env_req("stress_a", "dovecot", "alice");
	req_b = env_req("stress_b", "dovecot", "alice");
	req_c = env_req("stress_c", "dovecot", "alice");
	(void)fx_thumbprint("rsa2048"); /* the fixtures are loaded before any fork or thread */
	/* one key line: the first load leaves the file unparsed, so the two
	 * threads race for its parse, the section and the key's set-up */
	write_conf("key = a.jwk kid=a", "# none\n");
	first_use_by_two_threads(
	    "K15_file_section_and_key_first_used_by_two_threads_at_once_verify_for_both");
	write_conf("key = a.jwk kid=a\nkey = b.pem kid=b alg=RS256", "# none\n");
	first_use_by_two_threads("K15_key_first_used_by_two_threads_at_once_verifies_for_both");

	/* the process workers stop on SIGUSR1; installed before forking */
	signal(SIGUSR1, stop);
	/* processes first: forking after threads start would copy held locks */
	for (i = 0; i < 2; i++)
		if ((kids[i] = fork()) == 0)
			_exit(run_process_worker());
	if ((rotator = fork()) == 0) {
		rotate();
		_exit(0);
	}
	if (ts_ctx_new(conf, NULL, NULL, &ctx, NULL) != TS_OK)
		tap_bail("initial load");
	for (i = 0; i < 4; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].ctx = ctx; /* one shared keyring, as in a threaded server */
		pthread_create(&th[i], NULL, work, &w[i]);
	}
	waitpid(rotator, &st, 0);
	sleep_ms(200);
	atomic_store(&done, 1);
	for (i = 0; i < 2; i++)
		kill(kids[i], SIGUSR1);
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		checks += w[i].checks;
		viol += w[i].violations;
		if (w[i].violations)
			tap_diag("thread %d: %s", i, w[i].why);
	}
	for (i = 0; i < 2; i++) {
		waitpid(kids[i], &st, 0);
		kid_fail += !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		kid_k11 += WIFEXITED(st) && WEXITSTATUS(st) == 2;
	}
	ok(checks > 1000, "stress_threads_validated_during_rotation (%ld decisions)", checks);
	ok(viol == 0, "stress_threads_never_saw_a_removed_or_revoked_key_or_half_a_keyring");
	ok(kid_fail == 0, "stress_processes_never_saw_a_removed_or_revoked_key_or_half_a_keyring");
	ok(kid_k11 == 0,
	    "K11_stress_removal_and_revocation_apply_at_the_next_check_despite_broken_files");
	ts_ctx_free(ctx);
	return tap_done();
}
