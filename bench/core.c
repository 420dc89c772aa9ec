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
	bench_authz(b);
	bench_peers(b);
	printf("  (floor: EVP_DigestVerifyInit + EVP_DigestVerify, key parsed, signature decoded;\n"
	       "   floor2: the same from a context initialised once and copied, as the core does;\n"
	       "   core: ts_validate including the decision log line, formatted for a sink)\n\n");
}
