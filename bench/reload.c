/* reload.c: section 5 of the bench: the "did anything change?" check a
 * validation starts with, and full load times. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

/* Rewrites "reload_interval = 1" (first line of [global]) to 0. */
void
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

static void
refresh_once(void *arg)
{
	ts_ctx_refresh(arg, 0, NULL);
}

void
bench_reload(bench *b)
{
	static const int sizes[] = { 1, 100, 10000 };
	char path[700], iss[128], kid[32], k[64];
	int i, n = b->smoke ? 2 : 3;

	printf("5. the \"did anything change?\" check, and full load times\n");
	for (i = 0; i < n; i++) {
		ts_ctx *ctx = NULL;
		EVP_PKEY *key = NULL;
		double t0, load, chk, chk0;

		snprintf(path, sizeof(path), "%s/reload-%d.conf", b->work, sizes[i]);
		write_scale_conf(path, 100, sizes[i], &key, iss, kid);
		EVP_PKEY_free(key);
		t0 = now_s();
		if (ts_ctx_new(path, NULL, NULL, &ctx, NULL) != TS_OK)
			abort();
		load = now_s() - t0;
		chk = per_call(b, refresh_once, ctx, 0.5); /* reload_interval 1: a clock read */
		ts_ctx_free(ctx);
		/* reload_interval 0: a stat of every file read, on every call */
		set_reload_interval_zero(path);
		if (ts_ctx_new(path, NULL, NULL, &ctx, NULL) != TS_OK)
			abort();
		chk0 = per_call(b, refresh_once, ctx, 0.5);
		ts_ctx_free(ctx);
		printf(
		    "  %5d keys: load %8.1f ms; unchanged check %.3f us (%.2f%% of ES256 verify); "
		    "with reload_interval = 0: %.2f us (%.2f%%)\n",
		    sizes[i], load * 1e3, chk * 1e6, 100 * chk / b->es256_floor, chk0 * 1e6,
		    100 * chk0 / b->es256_floor);
		snprintf(k, sizeof(k), "load_ms_%d_keys", sizes[i]);
		put(b, k, load * 1e3);
		snprintf(k, sizeof(k), "change_check_percent_of_es256_%d_keys", sizes[i]);
		put(b, k, 100 * chk / b->es256_floor);
		snprintf(k, sizeof(k), "stat_check_percent_of_es256_%d_keys", sizes[i]);
		put(b, k, 100 * chk0 / b->es256_floor);
		if (i == n - 1)
			target("unchanged-config check / ES256 verify (%, default interval)",
			    100 * chk / b->es256_floor, "<", 2.0);
	}
	printf("\n");
}
