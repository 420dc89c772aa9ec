/*
 * bench.h: what the sections of `make bench` share. Nothing is global: main
 * (bench.c) owns one `bench` and hands it to each section in turn; the core
 * section (core.c) makes the keys, tokens and context the later sections
 * reuse.
 */
#ifndef TS_BENCH_H
#define TS_BENCH_H

#include <stddef.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "alg.h"
#include "tokenscope.h"

/* One algorithm's key and token, and the floor's inputs for it. */
typedef struct algcase {
	const char *name;
	ts_alg alg;
	EVP_PKEY *key;
	char kid[32];
	char *token;
	/* the floor's inputs */
	unsigned char *input, sig[600];
	size_t input_len, sig_len;
	const EVP_MD *md;
	EVP_MD_CTX *tmpl; /* for floor_copy_once */
	const char *typ; /* NULL: at+jwt */
	char *twin, *jwk, *pem; /* for the peers (peers.h) */
} algcase;

/* The core's context and a request for it (core_once). */
typedef struct core_arg {
	ts_ctx *ctx;
	ts_request req;
	long logs;
} core_arg;

#define BENCH_NALGS 5
#define BENCH_ES256 2 /* algs[] index of ES256, the PAM and SASL sections' */
#define BENCH_EDDSA 4

typedef struct bench {
	int smoke; /* tiny counts: make check keeps the bench working */
	char work[256]; /* scratch directory, removed at the end */
	char builddir[4096];
	char conf[600]; /* the core section's configuration */
	long start_time;
	json_t *results; /* every figure, written to bench-results.json */
	algcase algs[BENCH_NALGS]; /* RS256 PS256 ES256 ES384 EdDSA */
	core_arg core;
	double es256_floor; /* seconds, from the core section */
} bench;

/* authz.c: the core with a group rule and a 1,000-line user map, against
 * the same token without them */
void bench_authz_conf(bench *b, FILE *conf);
void bench_authz(bench *b);

/* timing.c */
typedef void bench_fn(void *);
double now_s(void);
/* Runs fn(arg) repeatedly for about `secs` seconds (at least 3 times);
 * returns seconds per call. */
double per_call(const bench *b, bench_fn *fn, void *arg, double secs);
/* Interleaved rounds: each function measured in turn, five times, and the
 * least disturbed (minimum) of each kept. */
void interleaved(const bench *b, int nf, bench_fn *const fns[], void *const args[], double out[]);
void put(bench *b, const char *key, double v);
void target(const char *what, double got, const char *op, double want);

/* tokens.c: keys, tokens, key files and configurations made here */
EVP_PKEY *keygen(ts_alg alg);
/* Signs header.payload; fills the floor's inputs. */
void sign_token(algcase *a, const char *iss, long long t);
/* The twin token, JWK and PEM the peers need (peers.h). */
void peer_inputs(algcase *a, const char *iss, long long t);
void write_pem(const char *path, EVP_PKEY *k);
/* base64url of a key's big-number parameter, left-padded to len bytes
 * (malloc'd) */
char *b64bn(EVP_PKEY *k, const char *param, int len);
/* nkeys EC P-256 keys over `issuers` issuers (a JWKS per issuer), plus the
 * service "bench"; *target gets the key with kid kid_out of issuer
 * iss_out, for the token to use. */
void write_scale_conf(
    const char *path, int issuers, int nkeys, EVP_PKEY **target, char *iss_out, char *kid_out);
/* The floor: raw OpenSSL on an algcase (key parsed, signature decoded),
 * and the same from a context initialised once and copied. */
void floor_once(void *arg);
void floor_copy_once(void *arg);

/* core.c */
void core_once(void *arg);
/* 1-2: the floor and the core per algorithm, and the peers; makes
 * b->algs, b->core and b->conf for the sections after it. */
void bench_core(bench *b);

/* pam.c, sasl.c, reload.c, threads.c: sections 3 to 7 */
void bench_pam(bench *b);
void bench_sasl(bench *b);
void bench_reload(bench *b);
/* A write_scale_conf file's "reload_interval = 1" made 0 */
void set_reload_interval_zero(const char *path);
void bench_threads(bench *b);
void bench_rss(bench *b);
/* resident set size of this process, KiB */
long rss_kb(void);
/* startup.c: section 8, what a fresh process pays before its first
 * decision (K15) */
void bench_startup(bench *b);
/* The zygote section 8 forks its fresh processes from: started first
 * thing in main, before any section dirties the bench's heap; stopped at
 * the end. */
void bench_zygote_start(void);
void bench_zygote_stop(void);

#endif
