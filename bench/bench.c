/*
 * bench.c: `make bench`. Every figure is measured in this one run and
 * reported as a ratio to raw OpenSSL (EVP_DigestVerify with the key parsed
 * and the signature decoded) or to the plumbing of PAM / libsasl2 itself.
 * Writes a table to stdout and every figure to bench-results.json.
 * `bench --smoke` runs with tiny counts (make check keeps it working).
 */
#include "config.h"

#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <sasl/sasl.h>
#include <security/pam_appl.h>

#include "alg.h"
#include "b64url.h"
#include "peers.h"
#include "tokenscope.h"

static int smoke;
static const char *only;
static char work[256], builddir[4096];
static json_t *results;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs fn(arg) repeatedly for about `secs` seconds (at least 3 times);
 * returns seconds per call. */
static double
per_call(void (*fn)(void *), void *arg, double secs)
{
	long n = 0, batch = 1;
	double t0 = now_s(), t;

	if (smoke)
		secs = 0.02;
	do {
		long i;

		for (i = 0; i < batch; i++)
			fn(arg);
		n += batch;
		batch *= 2;
		t = now_s() - t0;
	} while (t < secs || n < 3);
	return t / (double)n;
}

/* Interleaved rounds: each function measured in turn, five times, and the
 * least disturbed (minimum) of each kept. Figures that are subtracted or
 * divided are taken in the same few seconds, so that a noisy neighbour on a
 * shared host cannot land on one side of a ratio only. */
typedef void bench_fn(void *);

static void
interleaved(int nf, bench_fn *const fns[], void *const args[], double out[])
{
	int r, i;

	for (i = 0; i < nf; i++)
		out[i] = 1e9;
	for (r = 0; r < 5; r++)
		for (i = 0; i < nf; i++) {
			double t = per_call(fns[i], args[i], smoke ? 0.02 : 0.3);

			if (t < out[i])
				out[i] = t;
		}
}

/* ---- keys and tokens made here ---- */

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

static EVP_PKEY *
keygen(ts_alg alg)
{
	EVP_PKEY *k = NULL;

	switch (alg) {
	case TS_ALG_RS256:
	case TS_ALG_PS256: k = EVP_RSA_gen(2048); break;
	case TS_ALG_ES256: k = EVP_EC_gen("P-256"); break;
	case TS_ALG_ES384: k = EVP_EC_gen("P-384"); break;
	case TS_ALG_EDDSA: k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"); break;
	default: break;
	}
	if (k == NULL)
		abort();
	return k;
}

static char *
b64json(const char *json)
{
	size_t n = strlen(json);
	char *o = malloc(TS_B64URL_ENCODED_LEN(n) + 1);

	ts_b64url_encode((const unsigned char *)json, n, o, TS_B64URL_ENCODED_LEN(n) + 1);
	return o;
}

/* Signs header.payload; fills the floor's inputs (signature in the form
 * OpenSSL verifies: DER for ECDSA). */
static void
sign_token(algcase *a, const char *iss, long long t)
{
	const ts_alg_info *ai = ts_alg_info_get(a->alg);
	char hdr[128], pl[1200], *h, *p, *sig64;
	unsigned char raw[600];
	size_t rawlen = sizeof(raw);
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pc = NULL;

	snprintf(hdr, sizeof(hdr), "{\"alg\":\"%s\",\"kid\":\"%s\",\"typ\":\"%s\"}", ai->name,
	    a->kid, a->typ ? a->typ : "at+jwt");
	/* a realistic access token, with the claims a mail login carries:
	 * ~800 bytes with an RS256 signature */
	snprintf(pl, sizeof(pl),
	    "{\"iss\":\"%s\",\"aud\":[\"imap.example.com\",\"smtp.example.com\"],"
	    "\"sub\":\"alice\",\"scope\":\"openid profile email mail.read mail.send\","
	    "\"exp\":%lld,\"iat\":%lld,\"nbf\":%lld,\"jti\":\"8f6e3c1a-4b2d-4e7f-9a0b-"
	    "1c2d3e4f5a6b\",\"tid\":\"72f988bf-86f1-41af-91ab-2d7cd011db47\","
	    "\"azp\":\"webmail\"}",
	    iss, t + 3600, t, t);
	h = b64json(hdr);
	p = b64json(pl);
	a->input_len = strlen(h) + 1 + strlen(p);
	a->input = malloc(a->input_len + 1);
	sprintf((char *)a->input, "%s.%s", h, p);
	a->md = ai->digest ? EVP_get_digestbyname(ai->digest) : NULL;
	if (EVP_DigestSignInit(m, &pc, a->md, NULL, a->key) != 1)
		abort();
	if (ai->family == TS_FAM_RSA_PSS) {
		EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING);
		EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, (int)ai->hash_len);
	}
	a->sig_len = sizeof(a->sig);
	if (EVP_DigestSign(m, a->sig, &a->sig_len, a->input, a->input_len) != 1)
		abort();
	a->tmpl = EVP_MD_CTX_new();
	pc = NULL;
	if (EVP_DigestVerifyInit(a->tmpl, &pc, a->md, NULL, a->key) != 1)
		abort();
	if (ai->family == TS_FAM_RSA_PSS) {
		EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING);
		EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, (int)ai->hash_len);
	}
	memcpy(raw, a->sig, a->sig_len);
	rawlen = a->sig_len;
	if (ai->family == TS_FAM_ECDSA) { /* JWS wants raw r||s */
		const unsigned char *q = a->sig;
		ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &q, (long)a->sig_len);
		const BIGNUM *r, *s;

		ECDSA_SIG_get0(es, &r, &s);
		BN_bn2binpad(r, raw, (int)ai->coord_len);
		BN_bn2binpad(s, raw + ai->coord_len, (int)ai->coord_len);
		rawlen = 2 * ai->coord_len;
		ECDSA_SIG_free(es);
	}
	sig64 = malloc(TS_B64URL_ENCODED_LEN(rawlen) + 1);
	ts_b64url_encode(raw, rawlen, sig64, TS_B64URL_ENCODED_LEN(rawlen) + 1);
	a->token = malloc(a->input_len + strlen(sig64) + 2);
	sprintf(a->token, "%s.%s", (char *)a->input, sig64);
	free(h);
	free(p);
	free(sig64);
	EVP_MD_CTX_free(m);
}

static void
write_pem(const char *path, EVP_PKEY *k)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || PEM_write_PUBKEY(f, k) != 1)
		abort();
	fclose(f);
	chmod(path, 0644);
}

/* ---- the floor: raw OpenSSL ---- */

static void
floor_once(void *arg)
{
	algcase *a = arg;
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pc = NULL;

	EVP_DigestVerifyInit(m, &pc, a->md, NULL, a->key);
	if (a->alg == TS_ALG_PS256) {
		EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING);
		EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, 32);
	}
	if (EVP_DigestVerify(m, a->sig, a->sig_len, a->input, a->input_len) != 1)
		abort();
	EVP_MD_CTX_free(m);
}

/* The best raw OpenSSL can do: the context initialised once, copied per
 * verification (what the core itself does), shown so that the core's own
 * overhead is visible even where it beats the plain floor. */
static void
floor_copy_once(void *arg)
{
	algcase *a = arg;
	EVP_MD_CTX *m = EVP_MD_CTX_new();

	if (EVP_MD_CTX_copy_ex(m, a->tmpl) != 1)
		abort();
	EVP_MD_CTX_set_flags(m, EVP_MD_CTX_FLAG_FINALISE);
	if (EVP_DigestVerify(m, a->sig, a->sig_len, a->input, a->input_len) != 1)
		abort();
	EVP_MD_CTX_free(m);
}

/* ---- the core ---- */

typedef struct core_arg {
	ts_ctx *ctx;
	ts_request req;
	long logs;
} core_arg;

static void
count_log(void *arg, int prio, const char *line)
{
	(void)prio;
	(void)line;
	((core_arg *)arg)->logs++; /* the line is formatted; the sink costs nothing */
}

static void
core_once(void *arg)
{
	core_arg *c = arg;
	ts_result res;

	if (ts_validate(c->ctx, &c->req, &res) != TS_OK) {
		fprintf(
		    stderr, "bench: token refused: %s %s\n", ts_reason_str(res.reason), res.detail);
		abort();
	}
}

/* ---- configurations ---- */

static char *
b64bn(EVP_PKEY *k, const char *param, int len)
{
	BIGNUM *bn = NULL;
	unsigned char *buf = malloc((size_t)len);
	size_t cap = TS_B64URL_ENCODED_LEN((size_t)len) + 1;
	char *o = malloc(cap);

	EVP_PKEY_get_bn_param(k, param, &bn);
	BN_bn2binpad(bn, buf, len);
	ts_b64url_encode(buf, (size_t)len, o, cap);
	BN_free(bn);
	free(buf);
	return o;
}

/* nkeys EC P-256 keys over `issuers` issuers (JWKS per issuer), plus the
 * service; returns the key of (issuer 0 when nkeys < issuers, else issuer
 * issuers/3), kid "t" in *target, for the token to use. */
/* The twin token, JWK and PEM the peers need (peers.h). */
static void
peer_inputs(algcase *a, const char *iss, long long t)
{
	algcase twin = *a;
	BIO *b = BIO_new(BIO_s_mem());
	char *mem, *x, *y;
	long n;

	twin.typ = "JWT";
	sign_token(&twin, iss, t);
	a->twin = twin.token;
	free(twin.input);
	EVP_MD_CTX_free(twin.tmpl);
	PEM_write_bio_PUBKEY(b, a->key);
	n = BIO_get_mem_data(b, &mem);
	a->pem = strndup(mem, (size_t)n);
	BIO_free(b);
	a->jwk = malloc(1024);
	if (a->alg == TS_ALG_RS256 || a->alg == TS_ALG_PS256) {
		x = b64bn(a->key, OSSL_PKEY_PARAM_RSA_N, 256);
		snprintf(a->jwk, 1024, "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\"}", x);
		free(x);
	} else if (a->alg == TS_ALG_ES256 || a->alg == TS_ALG_ES384) {
		int cl = a->alg == TS_ALG_ES256 ? 32 : 48;

		x = b64bn(a->key, OSSL_PKEY_PARAM_EC_PUB_X, cl);
		y = b64bn(a->key, OSSL_PKEY_PARAM_EC_PUB_Y, cl);
		snprintf(a->jwk, 1024, "{\"kty\":\"EC\",\"crv\":\"%s\",\"x\":\"%s\",\"y\":\"%s\"}",
		    cl == 32 ? "P-256" : "P-384", x, y);
		free(x);
		free(y);
	} else {
		a->jwk[0] = '\0';
	}
}

static void
write_scale_conf(
    const char *path, int issuers, int nkeys, EVP_PKEY **target, char *iss_out, char *kid_out)
{
	FILE *c = fopen(path, "w");
	int i, k, per = nkeys / issuers > 0 ? nkeys / issuers : 1, ti;

	if (nkeys < issuers)
		issuers = nkeys;
	ti = issuers / 3;
	fprintf(c, "[global]\nreload_interval = 1\n\n");
	for (i = 0; i < issuers; i++) {
		char jwks[512];
		FILE *j;

		snprintf(jwks, sizeof(jwks), "%s.iss%d.jwks", path, i);
		j = fopen(jwks, "w");
		fprintf(j, "{\"keys\":[");
		for (k = 0; k < per; k++) {
			EVP_PKEY *key = EVP_EC_gen("P-256");
			char *x = b64bn(key, OSSL_PKEY_PARAM_EC_PUB_X, 32),
			     *y = b64bn(key, OSSL_PKEY_PARAM_EC_PUB_Y, 32);

			fprintf(j,
			    "%s{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\",\"kid\":"
			    "\"%s%d\","
			    "\"alg\":\"ES256\",\"use\":\"sig\"}",
			    k ? "," : "", x, y, (i == ti && k == per / 2) ? "t" : "k", k);
			if (i == ti && k == per / 2)
				*target = key;
			else
				EVP_PKEY_free(key);
			free(x);
			free(y);
		}
		fprintf(j, "]}\n");
		fclose(j);
		chmod(jwks, 0644);
		fprintf(c,
		    "[issuer i%d]\nissuer = https://idp%d.example/realm\nkey = %s\nalgorithms = "
		    "ES256\n\n",
		    i, i, jwks);
	}
	fprintf(c, "[service bench]\nissuers =");
	for (i = 0; i < issuers; i++)
		fprintf(c, " i%d", i);
	fprintf(c, "\naudiences = imap.example.com\nrequired_scopes = mail.read\n");
	fclose(c);
	chmod(path, 0644);
	sprintf(iss_out, "https://idp%d.example/realm", ti);
	sprintf(kid_out, "t%d", per / 2);
}

/* ---- PAM ---- */

static int
pam_conv_fn(int n, const struct pam_message **msg, struct pam_response **resp, void *arg)
{
	struct pam_response *r = calloc((size_t)n, sizeof(*r));
	int i;

	for (i = 0; i < n; i++)
		r[i].resp = strdup(arg);
	*resp = r;
	return PAM_SUCCESS;
}

typedef struct pam_arg {
	const char *service, *token;
} pam_arg;

static void
pam_once(void *arg)
{
	pam_arg *p = arg;
	struct pam_conv c = { pam_conv_fn, (void *)(uintptr_t)p->token };
	pam_handle_t *h = NULL;
	int r;

	c.appdata_ptr = (void *)(uintptr_t)p->token;
	if (pam_start_confdir(p->service, "alice", &c, work, &h) != PAM_SUCCESS)
		abort();
	r = pam_authenticate(h, 0);
	pam_end(h, r);
	if (r != PAM_SUCCESS) {
		fprintf(stderr, "bench: PAM %s refused: %s\n", p->service, pam_strerror(NULL, r));
		abort();
	}
}

/* ---- SASL ---- */

static char sasl_path[8300], sasl_conf[600];

static int
sasl_getpath(void *ctx, const char **path)
{
	(void)ctx;
	*path = sasl_path;
	return SASL_OK;
}

static int
sasl_getopt_fn(
    void *ctx, const char *plugin, const char *option, const char **result, unsigned *len)
{
	(void)ctx;
	(void)plugin;
	*result = strcmp(option, "token_config") == 0 ? sasl_conf : NULL;
	if (*result && len)
		*len = (unsigned)strlen(*result);
	return *result ? SASL_OK : SASL_FAIL;
}

typedef struct sasl_arg {
	const char *mech;
	char *msg;
	unsigned len;
} sasl_arg;

static void
sasl_once(void *arg)
{
	sasl_arg *s = arg;
	sasl_conn_t *c = NULL;
	const char *out;
	unsigned outl;
	int r;

	if (sasl_server_new("bench", "localhost", NULL, NULL, NULL, NULL, 0, &c) != SASL_OK)
		abort();
	r = sasl_server_start(c, s->mech, s->msg, s->len, &out, &outl);
	sasl_dispose(&c);
	if (r != SASL_OK) {
		fprintf(stderr, "bench: SASL %s: %s\n", s->mech, sasl_errstring(r, NULL, NULL));
		abort();
	}
}

/* ---- threads ---- */

typedef struct thr {
	core_arg *c;
	double secs;
	long n;
} thr;

static void *
thr_run(void *arg)
{
	thr *t = arg;
	double t0 = now_s();

	while (now_s() - t0 < t->secs) {
		core_once(t->c);
		t->n++;
	}
	return NULL;
}

static long
rss_kb(void)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f != NULL) {
		if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static void
put(const char *key, double v)
{
	json_object_set_new(results, key, json_real(v));
}

static void
target(const char *what, double got, const char *op, double want)
{
	int met = strcmp(op, ">=") == 0 ? got >= want : got <= want;

	printf(
	    "  %-62s %8.3f  (target %s %.3g)  %s\n", what, got, op, want, met ? "met" : "MISSED");
}

static algcase algs_[5];
static core_arg core;
static double es256_floor;
static long start_time;

/* Peers on the same tokens and keys (peers.h), as ratios to the floor. */
static void
bench_peers(void)
{
	size_t i, k;
	char key[64];

	if (npeers == 0) {
		printf("  peers: none built (install libcjose-dev, libjwt-dev and reconfigure)\n");
		return;
	}
	printf("  peers, same token and key (libjwt gets a typ JWT twin):\n");
	for (i = 0; i < 5; i++) {
		algcase *a = &algs_[i];
		peer_case pc = { ts_alg_name(a->alg), a->token, a->twin, a->jwk, a->pem,
			"https://sso.example.com/realms/bench", "imap.example.com", "alice",
			"mail.read", start_time + 10 };
		double fl;

		for (k = 0; k < npeers; k++) {
			void *st = peers[k].open(&pc);
			double t;

			if (st == NULL) {
				printf("  %-6s %-8s (cannot verify %s)\n", a->name, peers[k].name,
				    a->name);
				continue;
			}
			{
				bench_fn *const fns[] = { floor_once, peers[k].once };
				void *const args[] = { a, st };
				double tt[2];

				interleaved(2, fns, args, tt);
				fl = tt[0];
				t = tt[1];
			}
			peers[k].close(st);
			printf("  %-6s %-8s %10.2f us  floor/%s %.3f\n", a->name, peers[k].name,
			    t * 1e6, peers[k].name, fl / t);
			snprintf(key, sizeof(key), "peer_%s_over_floor_%s", peers[k].name, a->name);
			put(key, fl / t);
		}
	}
}

/* 1-2: the floor and the core, per algorithm */
static void
bench_core(const char *conf)
{
	static const struct {
		const char *name;
		ts_alg alg;
	} algs[] = { { "RS256", TS_ALG_RS256 }, { "PS256", TS_ALG_PS256 },
		{ "ES256", TS_ALG_ES256 }, { "ES384", TS_ALG_ES384 }, { "EdDSA", TS_ALG_EDDSA } };
	char path[900], k[64];
	FILE *f = fopen(conf, "w");
	size_t i;

	fprintf(f,
	    "[global]\nreload_interval = 1\n\n[issuer bench]\nissuer = "
	    "https://sso.example.com/realms/bench\n"
	    "algorithms = RS256 PS256 ES256 ES384 EdDSA\ntenant = "
	    "72f988bf-86f1-41af-91ab-2d7cd011db47\n"
	    "clients = webmail\n");
	for (i = 0; i < 5; i++) {
		algcase *a = &algs_[i];

		a->name = algs[i].name;
		a->alg = algs[i].alg;
		a->key = keygen(a->alg);
		snprintf(a->kid, sizeof(a->kid), "k-%s", a->name);
		snprintf(path, sizeof(path), "%s/%s.pem", work, a->kid);
		write_pem(path, a->key);
		fprintf(f, "key = %s kid=%s alg=%s\n", path, a->kid, a->name);
		sign_token(a, "https://sso.example.com/realms/bench", start_time);
		peer_inputs(a, "https://sso.example.com/realms/bench", start_time);
	}
	fprintf(f,
	    "\n[service bench]\nissuers = bench\naudiences = imap.example.com\nrequired_scopes = "
	    "mail.read\n");
	fclose(f);
	chmod(conf, 0644);
	if (ts_ctx_new(conf, count_log, &core, &core.ctx, NULL) != TS_OK)
		abort();
	core.req.service = "bench";
	core.req.user = "alice";
	core.req.now = (time_t)start_time + 10;
	printf("1-2. one token check vs raw OpenSSL EVP_DigestVerify (token %zu bytes)\n",
	    strlen(algs_[0].token));
	printf("  %-6s %10s %10s %10s %11s %15s\n", "alg", "floor us", "core us", "floor/core",
	    "floor2 us", "floor2/core");
	for (i = 0; i < 5; i++) {
		algcase *a = &algs_[i];
		double fl, fl2, co;

		core.req.token = a->token;
		core.req.token_len = strlen(a->token);
		{
			bench_fn *const fns[] = { floor_once, floor_copy_once, core_once };
			void *const args[] = { a, a, &core };
			double t[3];

			interleaved(3, fns, args, t);
			fl = t[0];
			fl2 = t[1];
			co = t[2];
		}
		if (a->alg == TS_ALG_ES256)
			es256_floor = fl;
		printf("  %-6s %10.2f %10.2f %10.3f %11.2f %15.3f\n", a->name, fl * 1e6, co * 1e6,
		    fl / co, fl2 * 1e6, fl2 / co);
		snprintf(k, sizeof(k), "floor_us_%s", a->name);
		put(k, fl * 1e6);
		snprintf(k, sizeof(k), "core_us_%s", a->name);
		put(k, co * 1e6);
		snprintf(k, sizeof(k), "core_over_floor_%s", a->name);
		put(k, fl / co);
		snprintf(k, sizeof(k), "floor2_us_%s", a->name);
		put(k, fl2 * 1e6);
		snprintf(k, sizeof(k), "core_over_floor2_%s", a->name);
		put(k, fl2 / co);
	}
	bench_peers();
	printf("  (floor: EVP_DigestVerifyInit + EVP_DigestVerify, key parsed, signature decoded;\n"
	       "   floor2: the same from a context initialised once and copied, as the core does;\n"
	       "   core: ts_validate including the decision log line, formatted for a sink)\n\n");
}

/* pam_token.so logs each decision with pam_syslog(), as it must. On a
 * machine without a syslog daemon (a CI container) glibc then tries, and
 * fails, to connect to /dev/log on every line, which no real server pays.
 * As root, give this process (only) a private mount namespace whose /dev
 * has a /dev/log socket drained by a thread, so the PAM figures are those
 * of a host with syslog running. */
static volatile sig_atomic_t drain_stop; /* the drain must not share the cores with section 6 */
static pthread_t drain_thread;
static int drain_running, log_fd = -1;
/* what the drain received: a line no real stack writes (libpam's complaint
 * about a missing `other` file) would be a cost no real server pays */
static long drained_lines, drained_no_other;

static void *
drain_log(void *arg)
{
	static const char no_other[] = "no default config other";
	char buf[4096];
	ssize_t n;

	/* polls instead of blocking in recv(): a blocked reader would be woken
	 * by every line, a cost a busy syslog daemon does not impose */
	while (!drain_stop) {
		usleep(100);
		while ((n = recv(*(int *)arg, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
			drained_lines++;
			drained_no_other +=
			    memmem(buf, (size_t)n, no_other, sizeof(no_other) - 1) != NULL;
		}
	}
	return NULL;
}

static const char *
private_syslog(void)
{
	static const char *const nodes[] = { "null", "zero", "random", "urandom" };
	struct sockaddr_un sa;
	char old[900], p[1000], q[1000];
	size_t i;
	int nf;

	if (geteuid() != 0)
		return "no syslog daemon: each log line includes a failed /dev/log connect";
	snprintf(old, sizeof(old), "%s/hostdev", work);
	if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
	    mkdir(old, 0700) != 0 || mount("/dev", old, NULL, MS_BIND | MS_REC, NULL) != 0)
		return "no syslog daemon, no private namespace: failed connects included";
	if (mount("tmpfs", "/dev", "tmpfs", 0, "mode=0755") != 0) {
		umount2(old, MNT_DETACH);
		return "no syslog daemon, no private /dev: failed connects included";
	}
	for (i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", old, nodes[i]);
		snprintf(q, sizeof(q), "/dev/%s", nodes[i]);
		if ((nf = open(q, O_CREAT | O_WRONLY, 0666)) >= 0)
			close(nf);
		(void)mount(p, q, NULL, MS_BIND, NULL);
	}
	/* never leave the host's /dev reachable under the scratch directory,
	 * which is removed with rm -rf at the end */
	umount2(old, MNT_DETACH);
	rmdir(old);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/dev/log");
	if ((log_fd = socket(AF_UNIX, SOCK_DGRAM, 0)) < 0 ||
	    bind(log_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    pthread_create(&drain_thread, NULL, drain_log, &log_fd) != 0)
		return "no syslog daemon; a private /dev/log could not be made";
	drain_running = 1;
	/* glibc keeps the socket of an earlier run connected to the host's
	 * receiver, whatever /dev/log names now */
	closelog();
	return "a private /dev/log drained by the bench";
}

/* 3: PAM per authentication, 1 / 100 / 10,000 keys over 100 issuers, with the
 * log lines going where the caller arranged. Files, services and JSON keys get
 * suffix: a second run must not find the first one's keyring still cached. */
static void
pam_sizes(const char *suffix, int with_targets)
{
	static const int sizes[] = { 1, 100, 10000 };
	double pam_t[3] = { 0, 0, 0 }, fl[3] = { 1, 1, 1 }, over[3] = { 0, 0, 0 }, permit, t0;
	pam_arg pp = { "permit", "x" };
	char path[900], k[96], iss[128], kid[32];
	int n = smoke ? 2 : 3, i;
	FILE *f;

	for (i = 0; i < n; i++) {
		char scale[700], svc[32];
		algcase tok;
		pam_arg p;

		memset(&tok, 0, sizeof(tok));
		snprintf(scale, sizeof(scale), "%s/scale-%d%s.conf", work, sizes[i], suffix);
		write_scale_conf(scale, 100, sizes[i], &tok.key, iss, kid);
		tok.alg = TS_ALG_ES256;
		snprintf(tok.kid, sizeof(tok.kid), "%s", kid);
		sign_token(&tok, iss, start_time);
		snprintf(svc, sizeof(svc), "scale%d%s", sizes[i], suffix);
		snprintf(path, sizeof(path), "%s/%s", work, svc);
		f = fopen(path, "w");
		fprintf(f,
		    "auth required %s/pam_token/.libs/pam_token.so config=%s service=bench\n",
		    builddir, scale);
		fclose(f);
		p.service = svc;
		p.token = tok.token;
		t0 = now_s();
		pam_once(&p); /* the first authentication of the process loads the keyring */
		printf(
		    "  pam_token.so, %5d keys: first authentication %.1f ms (loads the keyring)\n",
		    sizes[i], (now_s() - t0) * 1e3);
		{
			bench_fn *const fns[] = { pam_once, pam_once, floor_once };
			void *const args[] = { &pp, &p, &algs_[2] };
			double t[3];

			interleaved(3, fns, args, t);
			permit = t[0];
			pam_t[i] = t[1];
			fl[i] = t[2];
			over[i] = (pam_t[i] - permit) / fl[i];
		}
		printf("  pam_token.so, %5d keys: %8.2f us, pam_permit.so %6.2f us: difference "
		       "%.2f us = %.3f x floor(ES256) (%.2f us)\n",
		    sizes[i], pam_t[i] * 1e6, permit * 1e6, (pam_t[i] - permit) * 1e6, over[i],
		    fl[i] * 1e6);
		snprintf(k, sizeof(k), "pam_us_%d_keys%s", sizes[i], suffix);
		put(k, pam_t[i] * 1e6);
		snprintf(k, sizeof(k), "pam_permit_us_%d_keys%s", sizes[i], suffix);
		put(k, permit * 1e6);
		snprintf(k, sizeof(k), "pam_minus_permit_over_floor_%d_keys%s", sizes[i], suffix);
		put(k, over[i]);
		EVP_PKEY_free(tok.key);
	}
	if (n == 3 && with_targets) {
		put("pam_10000_keys_over_1_key", over[2] / over[0]);
		target("PAM: (pam_token - pam_permit) / floor(ES256), 10,000 keys", over[2],
		    "<=", 1.25);
		target("PAM: 10,000-key overhead / 1-key overhead", over[2] / over[0], "<=", 1.10);
	}
}

static void
bench_pam(void)
{
	pam_arg pp = { "permit", "x" };
	int host = access("/dev/log", F_OK) == 0, own = geteuid() == 0, i;
	char path[900];
	FILE *f;

	snprintf(path, sizeof(path), "%s/permit", work);
	f = fopen(path, "w");
	fprintf(f, "auth required pam_permit.so\n");
	fclose(f);
	/* what every real stack has: without `other`, libpam logs "no default
	 * config other" at every pam_start, a cost no real server pays */
	snprintf(path, sizeof(path), "%s/other", work);
	f = fopen(path, "w");
	fprintf(f,
	    "auth required pam_deny.so\naccount required pam_deny.so\n"
	    "password required pam_deny.so\nsession required pam_deny.so\n");
	fclose(f);
	printf("3. PAM: pam_start_confdir + pam_authenticate + pam_end in one process, ES256\n");
	/* pam_token.so is linked -z nodelete, so PAM's dlopen/dlclose per
	 * handle costs it only a reference count; pin pam_permit.so (and
	 * pam_deny.so, which `other` loads for both services) the same way, or
	 * the figures would include a full load and unload per authentication
	 * and flatter the difference. */
	for (i = 0; i < 2; i++) {
		static const char *const dirs[] = { "/lib/" TS_MULTIARCH "/security",
			"/usr/lib/" TS_MULTIARCH "/security", "/lib/security" };
		const char *mod = i == 0 ? "pam_permit.so" : "pam_deny.so";
		size_t d;

		for (d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++) {
			snprintf(path, sizeof(path), "%s/%s", dirs[d], mod);
			if (dlopen(path, RTLD_NOW | RTLD_NODELETE) != NULL)
				break;
		}
		if (d == sizeof(dirs) / sizeof(dirs[0]))
			printf(
			    "  (%s could not be pinned: its figure includes load/unload)\n", mod);
	}
	pam_once(&pp);
	printf("  (each size: pam_permit.so, pam_token.so and the ES256 floor measured in\n"
	       "   interleaved rounds, the minimum of each)\n");
	/* A host's receiver (a syslog daemon) shows what a login costs on that
	 * host, daemon included; the private drained /dev/log gives figures that
	 * compare across hosts, so the targets are held on it when it can be
	 * made. */
	if (host) {
		printf("  (log lines go to the host's syslog receiver at /dev/log)\n");
		pam_sizes(own ? "_host_syslog" : "", !own);
	}
	if (!host || own) {
		printf("  (log lines go to %s)\n", private_syslog());
		pam_sizes("", 1);
	}
	if (drain_running) { /* later lines fail fast, as with no daemon */
		drain_stop = 1;
		pthread_join(drain_thread, NULL);
		drain_running = 0;
		close(log_fd);
		unlink("/dev/log"); /* in our private /dev only */
		printf("  (the private /dev/log received %ld lines, %ld of them libpam's "
		       "\"no default config other\")\n",
		    drained_lines, drained_no_other);
	}
	printf("\n");
}

/* 4: SASL per authentication, OAUTHBEARER against ANONYMOUS */
static void
bench_sasl(const char *conf)
{
#define CB(fn) ((int (*)(void))(void (*)(void))(fn))
	const sasl_callback_t cbs[] = { { SASL_CB_GETPATH, CB(sasl_getpath), NULL },
		{ SASL_CB_GETOPT, CB(sasl_getopt_fn), NULL }, { SASL_CB_LIST_END, NULL, NULL } };
	algcase *es = &algs_[2];
	static char anon_trace[] = "bench@example.com";
	sasl_arg ob, an = { "ANONYMOUS", anon_trace, sizeof(anon_trace) - 1 };
	double to, ta, fl;
	char *msg = malloc(strlen(es->token) + 64);

	snprintf(sasl_conf, sizeof(sasl_conf), "%s", conf);
	/* the plugin from the build tree, ANONYMOUS from the system's plugins */
	snprintf(sasl_path, sizeof(sasl_path),
	    "%s/sasl_token/.libs:/usr/lib/%s/sasl2:/usr/lib/sasl2", builddir, TS_MULTIARCH);
	if (sasl_server_init(cbs, "tokenscope-bench") != SASL_OK)
		abort();
	ob.mech = "OAUTHBEARER";
	ob.len = (unsigned)sprintf(msg, "n,a=alice,\001auth=Bearer %s\001\001", es->token);
	ob.msg = msg;
	printf("4. SASL: sasl_server_new + sasl_server_start + sasl_dispose, ES256\n");
	{
		bench_fn *const fns[] = { sasl_once, sasl_once, floor_once };
		void *const args[] = { &an, &ob, es };
		double t[3];

		interleaved(3, fns, args, t); /* as for PAM */
		ta = t[0];
		to = t[1];
		fl = t[2];
	}
	printf("  ANONYMOUS %10.2f us; OAUTHBEARER %10.2f us; difference = %.3f x floor(ES256) "
	       "(%.2f us)\n",
	    ta * 1e6, to * 1e6, (to - ta) / fl, fl * 1e6);
	put("sasl_anonymous_us", ta * 1e6);
	put("sasl_oauthbearer_us", to * 1e6);
	put("sasl_minus_anonymous_over_floor", (to - ta) / fl);
	target("SASL: (OAUTHBEARER - ANONYMOUS) / floor(ES256)", (to - ta) / fl, "<=", 1.15);
	sasl_server_done();
	free(msg);
	printf("\n");
}

/* Rewrites "reload_interval = 1" (first line of [global]) to 0. */
static void
set_reload_interval_zero(const char *path)
{
	FILE *f = fopen(path, "r+");
	char head[64];
	size_t n;

	if (f == NULL || (n = fread(head, 1, sizeof(head) - 1, f)) == 0)
		abort();
	head[n] = '\0';
	if (strncmp(head, "[global]\nreload_interval = 1", 28) != 0)
		abort();
	fseek(f, 27, SEEK_SET); /* the "1" */
	fputc('0', f);
	fclose(f);
}

/* 5: the change check when nothing changed, and load times */
static void
refresh_once(void *arg)
{
	ts_ctx_refresh(arg, 0, NULL);
}

static void
bench_reload(void)
{
	static const int sizes[] = { 1, 100, 10000 };
	char path[700], iss[128], kid[32], k[64];
	int i, n = smoke ? 2 : 3;

	printf("5. the \"did anything change?\" check, and full load times\n");
	for (i = 0; i < n; i++) {
		ts_ctx *ctx = NULL;
		EVP_PKEY *key = NULL;
		double t0, load, chk, chk0;

		snprintf(path, sizeof(path), "%s/reload-%d.conf", work, sizes[i]);
		write_scale_conf(path, 100, sizes[i], &key, iss, kid);
		EVP_PKEY_free(key);
		t0 = now_s();
		if (ts_ctx_new(path, NULL, NULL, &ctx, NULL) != TS_OK)
			abort();
		load = now_s() - t0;
		chk = per_call(refresh_once, ctx, 0.5); /* reload_interval 1: a clock read */
		ts_ctx_free(ctx);
		/* reload_interval 0: a stat of every file read, on every call */
		set_reload_interval_zero(path);
		if (ts_ctx_new(path, NULL, NULL, &ctx, NULL) != TS_OK)
			abort();
		chk0 = per_call(refresh_once, ctx, 0.5);
		ts_ctx_free(ctx);
		printf(
		    "  %5d keys: load %8.1f ms; unchanged check %.3f us (%.2f%% of ES256 verify); "
		    "with reload_interval = 0: %.2f us (%.2f%%)\n",
		    sizes[i], load * 1e3, chk * 1e6, 100 * chk / es256_floor, chk0 * 1e6,
		    100 * chk0 / es256_floor);
		snprintf(k, sizeof(k), "load_ms_%d_keys", sizes[i]);
		put(k, load * 1e3);
		snprintf(k, sizeof(k), "change_check_percent_of_es256_%d_keys", sizes[i]);
		put(k, 100 * chk / es256_floor);
		snprintf(k, sizeof(k), "stat_check_percent_of_es256_%d_keys", sizes[i]);
		put(k, 100 * chk0 / es256_floor);
		if (i == n - 1)
			target("unchanged-config check / ES256 verify (%, default interval)",
			    100 * chk / es256_floor, "<", 2.0);
	}
	printf("\n");
}

/* 6: two threads against one shared keyring */
static void
bench_threads(void)
{
	double secs = smoke ? 0.05 : 2.0;
	thr one = { &core, secs, 0 }, two[2] = { { &core, secs, 0 }, { &core, secs, 0 } };
	pthread_t th[2];

	core.req.token = algs_[2].token;
	core.req.token_len = strlen(algs_[2].token);
	thr_run(&one);
	pthread_create(&th[0], NULL, thr_run, &two[0]);
	pthread_create(&th[1], NULL, thr_run, &two[1]);
	pthread_join(th[0], NULL);
	pthread_join(th[1], NULL);
	printf("6. two threads, one shared keyring, ES256: %ld vs %ld checks in %.1f s\n",
	    two[0].n + two[1].n, one.n, secs);
	put("two_threads_over_one", (double)(two[0].n + two[1].n) / (double)one.n);
	target("2 threads / 1 thread", (double)(two[0].n + two[1].n) / (double)one.n, ">=", 1.8);
	printf("\n");
}

/* 7: memory: peak, and growth over many validations (EdDSA: cheap to verify) */
static void
bench_rss(void)
{
	long n1 = smoke ? 1000 : 10000, n2 = smoke ? 5000 : 1000000, i, before, after;
	struct rusage ru;

	core.req.token = algs_[4].token;
	core.req.token_len = strlen(algs_[4].token);
	for (i = 0; i < n1; i++)
		core_once(&core);
	before = rss_kb();
	for (; i < n2; i++)
		core_once(&core);
	after = rss_kb();
	getrusage(RUSAGE_SELF, &ru);
	printf("7. memory: peak RSS %ld KiB; RSS after %ld validations minus after %ld: %ld KiB\n",
	    ru.ru_maxrss, n2, n1, after - before);
	put("peak_rss_kib", (double)ru.ru_maxrss);
	put("rss_growth_kib", (double)(after - before));
	json_object_set_new(results, "rss_validations", json_integer(n2));
	target("RSS growth over the long run, KiB (allocator noise: <= 64)",
	    (double)(after - before), "<=", 64);
	printf("\n");
}

int
main(int argc, char **argv)
{
	char conf[600], line[256], cpu[256] = "unknown", path[4200];
	const char *bd = getenv("TS_BUILDDIR");
	FILE *f;
	size_t i;

	smoke = argc > 1 && strcmp(argv[1], "--smoke") == 0;
	if (argc > 2 && strcmp(argv[1], "--only") == 0)
		only = argv[2]; /* core, pam, sasl or threads */
	snprintf(builddir, sizeof(builddir), "%s", bd ? bd : ".");
	snprintf(work, sizeof(work), "/tmp/tokenscope-bench-XXXXXX");
	if (mkdtemp(work) == NULL)
		abort();
	chmod(work, 0755);
	start_time = (long)time(NULL);
	results = json_object();
	if ((f = fopen("/proc/cpuinfo", "r")) != NULL) {
		while (fgets(line, sizeof(line), f))
			if (strncmp(line, "model name", 10) == 0) {
				snprintf(cpu, sizeof(cpu), "%s", strchr(line, ':') + 2);
				cpu[strcspn(cpu, "\n")] = '\0';
				break;
			}
		fclose(f);
	}
	json_object_set_new(results, "cpu", json_string(cpu));
	json_object_set_new(results, "smoke", json_boolean(smoke));
	printf("tokenscope bench%s on %s (%ld cores)\n\n",
	    smoke ? " (smoke run, figures meaningless)" : "", cpu, sysconf(_SC_NPROCESSORS_ONLN));
	memset(&core, 0, sizeof(core));
	snprintf(conf, sizeof(conf), "%s/bench.conf", work);
	bench_core(conf);
	if (only != NULL) { /* one section, for profiling; no JSON written */
		if (strcmp(only, "pam") == 0)
			bench_pam();
		else if (strcmp(only, "sasl") == 0)
			bench_sasl(conf);
		else if (strcmp(only, "threads") == 0)
			bench_threads();
		goto out;
	}
	bench_pam();
	bench_sasl(conf);
	bench_reload();
	bench_threads();
	bench_rss();
	printf("targets:\n");
	for (i = 0; i < 5; i++) {
		char what[80];

		if (algs_[i].alg == TS_ALG_PS256 || algs_[i].alg == TS_ALG_ES384)
			continue;
		snprintf(what, sizeof(what), "core / floor (throughput), %s", algs_[i].name);
		target(what,
		    json_real_value(json_object_get(results,
		        (snprintf(line, sizeof(line), "core_over_floor_%s", algs_[i].name), line))),
		    ">=", 0.95);
	}
	snprintf(path, sizeof(path), "%s/bench-results.json", builddir);
	json_dump_file(results, path, JSON_INDENT(1) | JSON_SORT_KEYS);
	printf("\nall figures: %s\n", path);
out:
	snprintf(path, sizeof(path), "rm -rf --one-file-system '%s'", work);
	if (system(path) != 0)
		return 1;
	ts_ctx_free(core.ctx);
	json_decref(results);
	return 0;
}
