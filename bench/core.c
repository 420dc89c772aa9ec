/* core.c: sections 1-2 of the bench: one token check by the core against
 * raw OpenSSL, per algorithm, and the peer libraries on the same input. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bench.h"
#include "peers.h"

static void
count_log(void *arg, int prio, const char *line)
{
	(void)prio;
	(void)line;
	((core_arg *)arg)->logs++; /* the line is formatted; the sink costs nothing */
}

void
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

/* A refusal, as expected: the token must be refused, and the forged one
 * must raise its alert (M7), or the figure measures something else. */
typedef struct refused_arg {
	ts_ctx *ctx;
	ts_request req;
	const char *alert; /* "" for none */
} refused_arg;

static void
refused_once(void *arg)
{
	refused_arg *r = arg;
	ts_result res;

	if (ts_validate(r->ctx, &r->req, &res) == TS_OK || strcmp(res.alert, r->alert) != 0) {
		fprintf(stderr, "bench: want a refusal with alert '%s', got %s '%s'\n", r->alert,
		    ts_reason_str(res.reason), res.alert);
		abort();
	}
}

/* M7: what a refusal costs next to the floor. A forgery signed with
 * another issuer's key (same key file, another section's kid) pays one
 * classification verification; random bytes in a token's shape pay none. */
static void
bench_refused(bench *b)
{
	algcase *a = &b->algs[0], forged = b->algs[0];
	refused_arg fa, ra;
	char conf[700], path[900], randtok[900];
	size_t i;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.pem", b->work, a->kid);
	snprintf(conf, sizeof(conf), "%s/refused.conf", b->work);
	if ((f = fopen(conf, "w")) == NULL)
		abort();
	fprintf(f,
	    "[global]\nreload_interval = 3600\n\n[issuer bench]\nissuer = "
	    "https://sso.example.com/realms/bench\nalgorithms = RS256\nkey = %s kid=%s\n\n"
	    "[issuer partner]\nissuer = https://partner.example.org\nalgorithms = RS256\n"
	    "key = %s kid=p-RS256\n\n[service bench]\nissuers = bench\n"
	    "audiences = imap.example.com\n",
	    path, a->kid, path);
	fclose(f);
	chmod(conf, 0644);
	snprintf(forged.kid, sizeof(forged.kid), "p-RS256");
	sign_token(&forged, "https://sso.example.com/realms/bench", b->start_time);
	/* base64url noise cut like a token: three segments, the header not JSON */
	srand(7);
	for (i = 0; i < strlen(a->token) && i + 1 < sizeof(randtok); i++)
		randtok[i] =
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[rand() % 64];
	randtok[i] = '\0';
	randtok[40] = randtok[500] = '.';
	memset(&fa, 0, sizeof(fa));
	if (ts_ctx_new(conf, count_log, &b->core, &fa.ctx, NULL) != TS_OK)
		abort();
	fa.req = b->core.req;
	fa.req.token = forged.token;
	fa.req.token_len = strlen(forged.token);
	fa.alert = "forged_cross_issuer";
	ra = fa;
	ra.req.token = randtok;
	ra.req.token_len = strlen(randtok);
	ra.alert = "";
	{
		bench_fn *const fns[] = { floor_once, refused_once, refused_once };
		void *const args[] = { a, &fa, &ra };
		double t[3];

		interleaved(b, 3, fns, args, t);
		printf("  refused RS256 tokens (floor %.2f us):\n", t[0] * 1e6);
		printf("  %-34s %10.2f us  floor/refused %.3f\n",
		    "forged (other issuer's key, alert)", t[1] * 1e6, t[0] / t[1]);
		printf("  %-34s %10.2f us  floor/refused %.3f\n", "random bytes, token-shaped",
		    t[2] * 1e6, t[0] / t[2]);
		put(b, "refused_forged_us", t[1] * 1e6);
		put(b, "floor_over_refused_forged", t[0] / t[1]);
		put(b, "refused_random_us", t[2] * 1e6);
		put(b, "floor_over_refused_random", t[0] / t[2]);
	}
	ts_ctx_free(fa.ctx);
}

/* Peers on the same tokens and keys (peers.h), as ratios to the floor. */
static void
bench_peers(bench *b)
{
	size_t i, k;
	char key[64];

	if (npeers == 0) {
		printf("  peers: none built (install libcjose-dev, libjwt-dev and reconfigure)\n");
		return;
	}
	printf("  peers, same token and key (libjwt gets a typ JWT twin):\n");
	for (i = 0; i < 5; i++) {
		algcase *a = &b->algs[i];
		peer_case pc = { ts_alg_name(a->alg), a->token, a->twin, a->jwk, a->pem,
			"https://sso.example.com/realms/bench", "imap.example.com", "alice",
			"mail.read", b->start_time + 10 };
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

				interleaved(b, 2, fns, args, tt);
				fl = tt[0];
				t = tt[1];
			}
			peers[k].close(st);
			printf("  %-6s %-8s %10.2f us  floor/%s %.3f\n", a->name, peers[k].name,
			    t * 1e6, peers[k].name, fl / t);
			snprintf(key, sizeof(key), "peer_%s_over_floor_%s", peers[k].name, a->name);
			put(b, key, fl / t);
		}
	}
}

void
bench_core(bench *b)
{
	static const struct {
		const char *name;
		ts_alg alg;
	} algs[] = { { "RS256", TS_ALG_RS256 }, { "PS256", TS_ALG_PS256 },
		{ "ES256", TS_ALG_ES256 }, { "ES384", TS_ALG_ES384 }, { "EdDSA", TS_ALG_EDDSA } };
	char path[900], k[64];
	const char *conf = b->conf;
	core_arg *core = &b->core;
	FILE *f;
	size_t i;

	snprintf(b->conf, sizeof(b->conf), "%s/bench.conf", b->work);
	f = fopen(conf, "w");
	fprintf(f,
	    "[global]\nreload_interval = 1\n\n[issuer bench]\nissuer = "
	    "https://sso.example.com/realms/bench\n"
	    "algorithms = RS256 PS256 ES256 ES384 EdDSA\ntenant = "
	    "72f988bf-86f1-41af-91ab-2d7cd011db47\n"
	    "clients = webmail\ngroups_claim = groups\n");
	for (i = 0; i < 5; i++) {
		algcase *a = &b->algs[i];

		a->name = algs[i].name;
		a->alg = algs[i].alg;
		a->key = keygen(a->alg);
		snprintf(a->kid, sizeof(a->kid), "k-%s", a->name);
		snprintf(path, sizeof(path), "%s/%s.pem", b->work, a->kid);
		write_pem(path, a->key);
		fprintf(f, "key = %s kid=%s alg=%s\n", path, a->kid, a->name);
		sign_token(a, "https://sso.example.com/realms/bench", b->start_time);
		peer_inputs(a, "https://sso.example.com/realms/bench", b->start_time);
	}
	fprintf(f,
	    "\n[service bench]\nissuers = bench\naudiences = imap.example.com\nrequired_scopes = "
	    "mail.read\n");
	bench_authz_conf(b, f);
	fclose(f);
	chmod(conf, 0644);
	if (ts_ctx_new(conf, count_log, core, &core->ctx, NULL) != TS_OK)
		abort();
	core->req.service = "bench";
	core->req.user = "alice";
	core->req.now = (time_t)b->start_time + 10;
	printf("1-2. one token check vs raw OpenSSL EVP_DigestVerify (token %zu bytes)\n",
	    strlen(b->algs[0].token));
	printf("  %-6s %10s %10s %10s %11s %15s\n", "alg", "floor us", "core us", "floor/core",
	    "floor2 us", "floor2/core");
	for (i = 0; i < 5; i++) {
		algcase *a = &b->algs[i];
		double fl, fl2, co;

		core->req.token = a->token;
		core->req.token_len = strlen(a->token);
		{
			bench_fn *const fns[] = { floor_once, floor_copy_once, core_once };
			void *const args[] = { a, a, core };
			double t[3];

			interleaved(b, 3, fns, args, t);
			fl = t[0];
			fl2 = t[1];
			co = t[2];
		}
		if (a->alg == TS_ALG_ES256)
			b->es256_floor = fl;
		printf("  %-6s %10.2f %10.2f %10.3f %11.2f %15.3f\n", a->name, fl * 1e6, co * 1e6,
		    fl / co, fl2 * 1e6, fl2 / co);
		snprintf(k, sizeof(k), "floor_us_%s", a->name);
		put(b, k, fl * 1e6);
		snprintf(k, sizeof(k), "core_us_%s", a->name);
		put(b, k, co * 1e6);
		snprintf(k, sizeof(k), "core_over_floor_%s", a->name);
		put(b, k, fl / co);
		snprintf(k, sizeof(k), "floor2_us_%s", a->name);
		put(b, k, fl2 * 1e6);
		snprintf(k, sizeof(k), "core_over_floor2_%s", a->name);
		put(b, k, fl2 / co);
	}
	bench_refused(b);
	bench_authz(b);
	bench_peers(b);
	printf("  (floor: EVP_DigestVerifyInit + EVP_DigestVerify, key parsed, signature decoded;\n"
	       "   floor2: the same from a context initialised once and copied, as the core does;\n"
	       "   core: ts_validate including the decision log line, formatted for a sink)\n\n");
}
