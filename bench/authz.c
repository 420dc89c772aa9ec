/* authz.c: part of section 1-2 of the bench: what group and role rules
 * (C8) and a 1,000-line user map (C10) cost a decision, as the core/floor
 * ratio with them over the ratio without them, on the same token. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bench.h"

#define MAP_LINES 1000
#define ROUNDS 15000

/* [service bench_authz]: [service bench] plus the rules, and its map. */
void
bench_authz_conf(bench *b, FILE *conf)
{
	char path[600];
	FILE *m;
	int i;

	snprintf(path, sizeof(path), "%s/users.map", b->work);
	if ((m = fopen(path, "w")) == NULL)
		abort();
	/* the token's user in the middle: a lookup walks the whole depth */
	for (i = 0; i < MAP_LINES; i++)
		if (i == MAP_LINES / 2)
			fprintf(m, "alice alice\n");
		else
			fprintf(m, "user%04d@corp.example local%04d\n", i, i);
	fclose(m);
	chmod(path, 0644);
	fprintf(conf,
	    "\n[service bench_authz]\nissuers = bench\naudiences = imap.example.com\n"
	    "required_scopes = mail.read\nrequired_groups = ops unix-admins\n"
	    "denied_groups = contractors\nuser_map = %s\nuser_map_required = yes\n",
	    path);
}

static int
cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, c = *(const double *)y;

	return (a > c) - (a < c);
}

/* A 2% question on a shared host: the floor and the two decisions take
 * turns call by call (in rotating order), each timed alone, and their
 * medians are compared, so that a neighbour's burst lands on a few samples
 * of every side, never on a whole figure. */
static void
rotating_medians(const bench *b, bench_fn *const fns[3], void *const args[3], double out[3])
{
	size_t i, n = b->smoke ? 16 : ROUNDS;
	double *s = malloc(3 * n * sizeof(*s));
	int k;

	if (s == NULL)
		abort();
	for (i = 0; i < n; i++)
		for (k = 0; k < 3; k++) {
			int f = (int)((i + (size_t)k) % 3);
			double t0 = now_s();

			fns[f](args[f]);
			s[(size_t)f * n + i] = now_s() - t0;
		}
	for (k = 0; k < 3; k++) {
		qsort(s + (size_t)k * n, n, sizeof(*s), cmp_double);
		out[k] = s[(size_t)k * n + n / 2];
	}
	free(s);
}

void
bench_authz(bench *b)
{
	static const int which[] = { 0, BENCH_ES256, BENCH_EDDSA }; /* RS256 ES256 EdDSA */
	core_arg plain, authz;
	char k[64];
	size_t i;

	printf("  with a group rule and a %d-line user map (same token):\n", MAP_LINES);
	printf("  %-6s %10s %10s %12s %12s %10s\n", "alg", "core us", "authz us", "floor/core",
	    "floor/authz", "ratio");
	for (i = 0; i < sizeof(which) / sizeof(which[0]); i++) {
		algcase *a = &b->algs[which[i]];
		double t[3];

		plain = b->core;
		plain.req.token = a->token;
		plain.req.token_len = strlen(a->token);
		authz = plain;
		authz.req.service = "bench_authz";
		{
			bench_fn *const fns[] = { floor_once, core_once, core_once };
			void *const args[] = { a, &plain, &authz };

			rotating_medians(b, fns, args, t);
		}
		printf("  %-6s %10.2f %10.2f %12.3f %12.3f %10.3f\n", a->name, t[1] * 1e6,
		    t[2] * 1e6, t[0] / t[1], t[0] / t[2], t[1] / t[2]);
		snprintf(k, sizeof(k), "authz_over_core_%s", a->name);
		put(b, k, t[1] / t[2]);
		snprintf(k, sizeof(k), "  core with the rules / without, %s", a->name);
		target(k, t[1] / t[2], ">=", 0.98);
	}
}
