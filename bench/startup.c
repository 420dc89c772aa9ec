/* startup.c: section 8 of the bench: what a fresh process pays before its
 * first decision (K15). A new smtpd process, Dovecot auth worker or
 * sshd-session is executed afresh by its master: its heap is new. So each
 * figure is taken in a child forked from a small process forked at the
 * bench's start (the zygote), whose heap holds nothing but a warmed-up
 * OpenSSL: load the configuration, decide one token, report time and RSS
 * growth. (A child forked from the bench itself, whose heap the earlier
 * sections fragmented, pays a copy-on-write fault for each page its
 * allocations touch: a cost of the fork, not of a fresh process.) The small
 * and the large case take turns, and their medians are compared (the host
 * is shared: one run alone says little). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "keyring.h"

typedef struct fresh {
	double ms;
	long rss_kib;
	int ok;
} fresh;

/* What one turn does in its fresh child. */
enum turn_mode {
	TURN_LOAD, /* load and decide: what a consumer pays */
	TURN_FULL_CHECK, /* the same with every key set up at load, as before K15 */
	TURN_READ_ONLY /* only read the case's key files, as a load does */
};

typedef struct fresh_case {
	char conf[700];
	const char *token;
	long now;
	enum turn_mode mode;
	size_t files_size;
} fresh_case;

/* What the bench asks the zygote: one turn of one case. */
typedef struct zygote_req {
	char conf[700];
	char token[8192];
	long now;
	enum turn_mode mode;
	size_t files_size; /* TURN_READ_ONLY: what its files hold */
} zygote_req;

static struct {
	pid_t pid;
	int req_fd, res_fd; /* the bench's ends */
} zygote = { -1, -1, -1 };

/* The floor under a load of write_scale_conf's key files: each opened,
 * checked with fstat and read whole into memory that stays (a load keeps
 * every file's bytes, since a consumer may drop its privileges or chroot
 * before its first use, K15); nothing parsed. The memory is one populated
 * mapping of exactly the files' size, the cheapest way into fresh pages of
 * the base size (huge pages, cheaper to populate on some hosts, can stall
 * a fresh process in compaction; measured slower in a whole load, too).
 * 1 when every file was read. */
static int
read_key_files(const char *conf, size_t total)
{
	char path[760], *m, *at;
	int i, fd;

	m = mmap(
	    NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (m == MAP_FAILED)
		return 0;
	for (i = 0, at = m;; i++) {
		struct stat st;

		snprintf(path, sizeof(path), "%s.iss%d.jwks", conf, i);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
			return errno == ENOENT && (size_t)(at - m) == total;
		if (fstat(fd, &st) != 0 || (size_t)st.st_size > total - (size_t)(at - m) ||
		    read(fd, at, (size_t)st.st_size) != (ssize_t)st.st_size) {
			close(fd);
			return 0;
		}
		at += st.st_size;
		close(fd);
	}
}

/* The bytes of write_scale_conf's key files for conf. */
static size_t
key_files_size(const char *conf)
{
	char path[760];
	struct stat st;
	size_t total = 0;
	int i;

	for (i = 0;; i++) {
		snprintf(path, sizeof(path), "%s.iss%d.jwks", conf, i);
		if (stat(path, &st) != 0)
			return total;
		total += (size_t)st.st_size;
	}
}

/* In a fresh child of the zygote: load, decide, report. */
static void
one_turn(const zygote_req *q, int out)
{
	fresh f = { 0, 0, 0 };
	ts_ctx *ctx = NULL;
	ts_request req;
	ts_result res;
	long r0 = rss_kb();
	double t0 = now_s();

	memset(&req, 0, sizeof(req));
	req.token = q->token;
	req.token_len = strlen(q->token);
	req.service = "bench";
	req.user = "alice";
	req.now = (time_t)q->now;
	ts_keyring_check_at_load(q->mode == TURN_FULL_CHECK);
	if (q->mode == TURN_READ_ONLY)
		f.ok = read_key_files(q->conf, q->files_size);
	else
		f.ok = ts_ctx_new(q->conf, NULL, NULL, &ctx, NULL) == TS_OK &&
		    ts_validate(ctx, &req, &res) == TS_OK;
	f.ms = (now_s() - t0) * 1e3;
	f.rss_kib = rss_kb() - r0;
	if (write(out, &f, sizeof(f)) != (ssize_t)sizeof(f))
		_exit(1);
	_exit(0);
}

/* OpenSSL as warm as in a process that has verified before: its
 * providers loaded and the algorithms the cases use fetched once. */
static void
warm_openssl(void)
{
	static const char msg[] = "warm";
	unsigned char sig[600];
	size_t siglen;
	int i;

	for (i = 0; i < 2; i++) {
		EVP_PKEY *k = i ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
		EVP_MD_CTX *m = EVP_MD_CTX_new();

		siglen = sizeof(sig);
		if (k == NULL || m == NULL ||
		    EVP_DigestSignInit(m, NULL, EVP_sha256(), NULL, k) != 1 ||
		    EVP_DigestSign(m, sig, &siglen, (const unsigned char *)msg, 4) != 1 ||
		    EVP_DigestVerifyInit(m, NULL, EVP_sha256(), NULL, k) != 1 ||
		    EVP_DigestVerify(m, sig, siglen, (const unsigned char *)msg, 4) != 1)
			abort();
		EVP_MD_CTX_free(m);
		EVP_PKEY_free(k);
	}
}

void
bench_zygote_start(void)
{
	int q[2], r[2];
	zygote_req req;
	pid_t pid;

	if (pipe(q) != 0 || pipe(r) != 0 || (pid = fork()) < 0)
		abort();
	if (pid > 0) {
		close(q[0]);
		close(r[1]);
		zygote.pid = pid;
		zygote.req_fd = q[1];
		zygote.res_fd = r[0];
		return;
	}
	close(q[1]);
	close(r[0]);
	warm_openssl();
	/* one turn at a time, until the bench closes its end */
	while (read(q[0], &req, sizeof(req)) == (ssize_t)sizeof(req)) {
		pid_t c = fork();
		int st = 0;

		if (c == 0)
			one_turn(&req, r[1]);
		if (c < 0 || waitpid(c, &st, 0) != c)
			_exit(1);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			/* a turn that died wrote nothing: the bench must not
			 * wait for it */
			fresh f = { 0, 0, 0 };

			if (write(r[1], &f, sizeof(f)) != (ssize_t)sizeof(f))
				_exit(1);
		}
	}
	_exit(0);
}

void
bench_zygote_stop(void)
{
	if (zygote.pid <= 0)
		return;
	close(zygote.req_fd);
	close(zygote.res_fd);
	waitpid(zygote.pid, NULL, 0);
	zygote.pid = -1;
}

static fresh
in_child(const fresh_case *fc)
{
	fresh f = { 0, 0, 0 };
	zygote_req q;

	memset(&q, 0, sizeof(q));
	if (strlen(fc->token) >= sizeof(q.token))
		abort();
	snprintf(q.conf, sizeof(q.conf), "%s", fc->conf);
	snprintf(q.token, sizeof(q.token), "%s", fc->token);
	q.now = fc->now;
	q.mode = fc->mode;
	q.files_size = fc->files_size;
	if (zygote.pid <= 0 || write(zygote.req_fd, &q, sizeof(q)) != (ssize_t)sizeof(q) ||
	    read(zygote.res_fd, &f, sizeof(f)) != (ssize_t)sizeof(f) || !f.ok)
		abort();
	return f;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#define RUNS 9

/* The cases of one figure, in turn, RUNS times; medians of time and RSS. */
static void
take_turns(const bench *b, int n, const fresh_case *fc, double *ms, double *kib)
{
	double t[4][RUNS], m[4][RUNS];
	int runs = b->smoke ? 1 : RUNS, i, r;

	for (r = 0; r < runs; r++)
		for (i = 0; i < n; i++) {
			fresh f = in_child(&fc[i]);

			t[i][r] = f.ms;
			m[i][r] = (double)f.rss_kib;
		}
	for (i = 0; i < n; i++) {
		ms[i] = median(t[i], runs);
		kib[i] = median(m[i], runs);
	}
}

/* 8a: 1 key against 10,000 ES256 keys over 100 issuers, and the 10,000
 * with every key set up at load (the cost before K15). Beside them, what
 * reading the 100 key files alone costs a fresh process: every load reads
 * every file (K15), so 1 key plus that read is as low as the 10,000-key
 * figure can go, whatever the core does, and the ratio to 1 key as low as
 * that over 1 key. */
static void
first_authentication(bench *b)
{
	static const int sizes[] = { 1, 10000 };
	fresh_case fc[4];
	algcase tok[2];
	char iss[128];
	double ms[4], kib[4], least;
	int i;

	memset(tok, 0, sizeof(tok));
	memset(fc, 0, sizeof(fc));
	for (i = 0; i < 2; i++) {
		snprintf(fc[i].conf, sizeof(fc[i].conf), "%s/fresh-%d.conf", b->work, sizes[i]);
		write_scale_conf(fc[i].conf, 100, sizes[i], &tok[i].key, iss, tok[i].kid);
		tok[i].alg = TS_ALG_ES256;
		sign_token(&tok[i], iss, b->start_time);
		fc[i].token = tok[i].token;
		fc[i].now = b->start_time + 10;
		fc[i].mode = TURN_LOAD;
	}
	fc[2] = fc[1];
	fc[2].mode = TURN_FULL_CHECK;
	fc[3] = fc[1];
	fc[3].mode = TURN_READ_ONLY;
	fc[3].files_size = key_files_size(fc[3].conf);
	take_turns(b, 4, fc, ms, kib);
	/* the 1-key case reads one of the hundred files too */
	least = (ms[0] + ms[3] * 99 / 100) / ms[0];
	printf("  first authentication in a fresh process, ES256: 1 key %.2f ms; 10,000 keys "
	       "over 100 issuers %.2f ms (%.2f x); the same with every key set up at load "
	       "%.1f ms (%.0f x slower)\n"
	       "  reading the 100 key files alone (open, fstat, read; nothing parsed) %.2f ms: "
	       "no lower than %.2f x while a load reads every file\n",
	    ms[0], ms[1], ms[1] / ms[0], ms[2], ms[2] / ms[1], ms[3], least);
	put(b, "first_auth_ms_1_key", ms[0]);
	put(b, "first_auth_ms_10000_keys", ms[1]);
	put(b, "first_auth_ms_10000_keys_full_check", ms[2]);
	put(b, "first_auth_10000_over_1", ms[1] / ms[0]);
	put(b, "read_100_key_files_ms", ms[3]);
	put(b, "first_auth_10000_over_1_least_with_reads", least);
	target("first authentication, 10,000 keys, fresh process (ms)", ms[1], "<=", 20);
	target("first authentication, 10,000 keys / 1 key", ms[1] / ms[0], "<=", 3);
	for (i = 0; i < 2; i++) {
		EVP_PKEY_free(tok[i].key);
		free(tok[i].token);
		free(tok[i].input);
		EVP_MD_CTX_free(tok[i].tmpl);
	}
}

#define TENANT0 "72f988bf-86f1-41af-91ab-2d7cd011db47" /* the bench token's tid */

/* A JWKS of 10 RSA-2048 keys as Entra ID publishes it (an issuer template
 * on each key); *first gets the key of kid e0. */
static void
write_entra_jwks(const char *path, EVP_PKEY **first)
{
	FILE *f = fopen(path, "w");
	int k;

	if (f == NULL)
		abort();
	fprintf(f, "{\"keys\":[");
	for (k = 0; k < 10; k++) {
		EVP_PKEY *key = keygen(TS_ALG_RS256);
		char *n = b64bn(key, OSSL_PKEY_PARAM_RSA_N, 256);

		fprintf(f,
		    "%s{\"kty\":\"RSA\",\"use\":\"sig\",\"kid\":\"e%d\",\"n\":\"%s\",\"e\":"
		    "\"AQAB\","
		    "\"issuer\":\"https://login.microsoftonline.com/{tenantid}/v2.0\"}",
		    k ? "," : "", k, n);
		free(n);
		if (k == 0)
			*first = key;
		else
			EVP_PKEY_free(key);
	}
	fprintf(f, "]}\n");
	fclose(f);
	chmod(path, 0644);
}

static void
tenant_id(char *out, size_t cap, int i)
{
	if (i == 0)
		snprintf(out, cap, "%s", TENANT0);
	else
		snprintf(out, cap, "00000000-0000-4000-8000-%012d", i);
}

/* ntenants [issuer] sections naming one JWKS, and service "bench". */
static void
write_tenant_sections(const char *path, const char *jwks, int ntenants)
{
	FILE *c = fopen(path, "w");
	char tid[64];
	int i;

	if (c == NULL)
		abort();
	fprintf(c, "[global]\nreload_interval = 1\n\n");
	for (i = 0; i < ntenants; i++) {
		tenant_id(tid, sizeof(tid), i);
		fprintf(c,
		    "[issuer t%d]\nissuer = https://login.microsoftonline.com/%s/v2.0\n"
		    "key = %s\nalgorithms = RS256\ntenant = %s\n\n",
		    i, tid, jwks, tid);
	}
	fprintf(c, "[service bench]\nissuers =");
	for (i = 0; i < ntenants; i++)
		fprintf(c, " t%d", i);
	fprintf(c, "\naudiences = imap.example.com\nrequired_scopes = mail.read\n");
	fclose(c);
	chmod(path, 0644);
}

/* One "{tenantid}" section listing ntenants tenants (K16). */
static void
write_tenant_template(const char *path, const char *jwks, int ntenants)
{
	FILE *c = fopen(path, "w");
	char tid[64];
	int i;

	if (c == NULL)
		abort();
	fprintf(c,
	    "[global]\nreload_interval = 1\n\n[issuer entra]\n"
	    "issuer = https://login.microsoftonline.com/{tenantid}/v2.0\n"
	    "key = %s\nalgorithms = RS256\ntenants =",
	    jwks);
	for (i = 0; i < ntenants; i++) {
		tenant_id(tid, sizeof(tid), i);
		fprintf(c, " %s", tid);
	}
	fprintf(c,
	    "\n\n[service bench]\nissuers = entra\naudiences = imap.example.com\n"
	    "required_scopes = mail.read\n");
	fclose(c);
	chmod(path, 0644);
}

/* 8b: one tenant against 2,000 tenant sections naming one 10-key JWKS,
 * and against one section listing 2,000 tenants. */
static void
many_tenants(bench *b)
{
	fresh_case fc[3];
	algcase tok;
	char jwks[700];
	double ms[3], kib[3];

	memset(&tok, 0, sizeof(tok));
	memset(fc, 0, sizeof(fc));
	snprintf(jwks, sizeof(jwks), "%s/entra.jwks", b->work);
	write_entra_jwks(jwks, &tok.key);
	tok.alg = TS_ALG_RS256;
	snprintf(tok.kid, sizeof(tok.kid), "e0");
	sign_token(&tok, "https://login.microsoftonline.com/" TENANT0 "/v2.0", b->start_time);
	snprintf(fc[0].conf, sizeof(fc[0].conf), "%s/tenants-1.conf", b->work);
	write_tenant_sections(fc[0].conf, jwks, 1);
	snprintf(fc[1].conf, sizeof(fc[1].conf), "%s/tenants-2000.conf", b->work);
	write_tenant_sections(fc[1].conf, jwks, 2000);
	snprintf(fc[2].conf, sizeof(fc[2].conf), "%s/tenants-template.conf", b->work);
	write_tenant_template(fc[2].conf, jwks, 2000);
	fc[0].token = fc[1].token = fc[2].token = tok.token;
	fc[0].now = fc[1].now = fc[2].now = b->start_time + 10;
	fc[0].mode = fc[1].mode = fc[2].mode = TURN_LOAD;
	take_turns(b, 3, fc, ms, kib);
	printf("  10-key RSA JWKS: 1 tenant section: load + first decision %.2f ms, RSS +%.0f "
	       "KiB; 2,000 tenant sections: %.2f ms (%.2f x), RSS +%.0f KiB (%.0f KiB more)\n",
	    ms[0], kib[0], ms[1], ms[1] / ms[0], kib[1], kib[1] - kib[0]);
	put(b, "tenants_1_ms", ms[0]);
	put(b, "tenants_2000_sections_ms", ms[1]);
	put(b, "tenants_2000_sections_over_1", ms[1] / ms[0]);
	put(b, "tenants_2000_sections_rss_growth_kib", kib[1] - kib[0]);
	printf("  one section listing 2,000 tenants: %.2f ms (%.2f x), RSS +%.0f KiB (%.0f KiB "
	       "more)\n",
	    ms[2], ms[2] / ms[0], kib[2], kib[2] - kib[0]);
	put(b, "tenants_2000_listed_ms", ms[2]);
	put(b, "tenants_2000_listed_over_1", ms[2] / ms[0]);
	put(b, "tenants_2000_listed_rss_growth_kib", kib[2] - kib[0]);
	target("2,000 tenant sections / 1 tenant, load", ms[1] / ms[0], "<=", 3);
	target("2,000 tenant sections, RSS over 1 tenant (KiB)", kib[1] - kib[0], "<=", 2048);
	target("2,000 listed tenants / 1 tenant, load", ms[2] / ms[0], "<=", 3);
	target("2,000 listed tenants, RSS over 1 tenant (KiB)", kib[2] - kib[0], "<=", 2048);
	EVP_PKEY_free(tok.key);
	free(tok.token);
	free(tok.input);
	EVP_MD_CTX_free(tok.tmpl);
}

/* Rewrites a file with its own bytes: a change for the change check. */
static void
rewrite(const char *path)
{
	char buf[65536];
	size_t n;
	FILE *f = fopen(path, "r");

	if (f == NULL || (n = fread(buf, 1, sizeof(buf), f)) == 0 || n == sizeof(buf))
		abort();
	fclose(f);
	if ((f = fopen(path, "w")) == NULL || fwrite(buf, 1, n, f) != n)
		abort();
	fclose(f);
}

/* 8c: a reload after one of 100 key files changed (10,000 keys), against
 * a reload after all 100 changed (what a reload that shares nothing
 * costs: a reload parses every file it reads, K11), in turns. A fresh
 * load, which reads the files and parses none (K15), is shown beside. */
static void
reload_one_file(bench *b)
{
	char conf[700], iss[128], kid[32], file[760];
	double full[RUNS], one[RUNS], all[RUNS], mf, mo, ma;
	int runs = b->smoke ? 1 : RUNS, r, i;
	EVP_PKEY *key = NULL;
	ts_ctx *ctx = NULL;

	snprintf(conf, sizeof(conf), "%s/reload-one.conf", b->work);
	write_scale_conf(conf, 100, 10000, &key, iss, kid);
	EVP_PKEY_free(key);
	set_reload_interval_zero(conf);
	if (ts_ctx_new(conf, NULL, NULL, &ctx, NULL) != TS_OK)
		abort();
	for (r = 0; r < runs; r++) {
		ts_ctx *other = NULL;
		double t0 = now_s();

		if (ts_ctx_new(conf, NULL, NULL, &other, NULL) != TS_OK)
			abort();
		full[r] = now_s() - t0;
		ts_ctx_free(other);
		snprintf(file, sizeof(file), "%s.iss%d.jwks", conf, r % 100);
		rewrite(file);
		t0 = now_s();
		if (ts_ctx_refresh(ctx, 0, NULL) != TS_OK)
			abort();
		one[r] = now_s() - t0;
		for (i = 0; i < 100; i++) {
			snprintf(file, sizeof(file), "%s.iss%d.jwks", conf, i);
			rewrite(file);
		}
		t0 = now_s();
		if (ts_ctx_refresh(ctx, 0, NULL) != TS_OK)
			abort();
		all[r] = now_s() - t0;
	}
	ts_ctx_free(ctx);
	mf = median(full, runs);
	mo = median(one, runs);
	ma = median(all, runs);
	printf("  10,000 keys in 100 files: reload after one file changed %.2f ms, after all "
	       "changed %.2f ms (%.1f%%); a fresh load, parsing no file, %.2f ms\n",
	    mo * 1e3, ma * 1e3, 100 * mo / ma, mf * 1e3);
	put(b, "full_load_ms_10000_keys", mf * 1e3);
	put(b, "full_reload_ms_10000_keys", ma * 1e3);
	put(b, "reload_one_of_100_files_ms", mo * 1e3);
	put(b, "reload_one_of_100_files_percent_of_full_reload", 100 * mo / ma);
	put(b, "reload_one_of_100_files_percent_of_fresh_load", 100 * mo / mf);
	target("reload after 1 of 100 files changed / after all 100 (%)", 100 * mo / ma, "<=", 5);
}

void
bench_startup(bench *b)
{
	printf("8. what a fresh process pays before its first decision (medians of %d turns)\n"
	       "  (each in a fresh child of a process forked at the bench's start, OpenSSL\n"
	       "   warmed there: what a cold process adds is OpenSSL's, on both sides)\n",
	    b->smoke ? 1 : RUNS);
	first_authentication(b);
	many_tenants(b);
	reload_one_file(b);
	printf("\n");
}
