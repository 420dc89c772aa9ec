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
			int r, f, rounds = b->smoke ? 2 : 40;

			/* a 2% question on a shared host: many short alternating
			 * rounds, the fastest of each, so that a neighbour's burst
			 * lands on one round of one side, not on a whole figure */
			t[0] = t[1] = t[2] = 1e9;
			for (r = 0; r < rounds; r++)
				for (f = 0; f < 3; f++) {
					double x = per_call(b, fns[f], args[f], 0.05);

					t[f] = x < t[f] ? x : t[f];
				}
		}
		printf("  %-6s %10.2f %10.2f %12.3f %12.3f %10.3f\n", a->name, t[1] * 1e6,
		    t[2] * 1e6, t[0] / t[1], t[0] / t[2], t[1] / t[2]);
		snprintf(k, sizeof(k), "authz_over_core_%s", a->name);
		put(b, k, t[1] / t[2]);
		snprintf(k, sizeof(k), "  core with the rules / without, %s", a->name);
		target(k, t[1] / t[2], ">=", 0.98);
	}
}
