/* t_zz_no_token_in_logs.c: M3. Runs after the tests that log (see
 * tests/Makefile.inc) and asserts that no 16-character piece of any test
 * token appears in any log line they captured, at debug level. */
#include "config.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fx.h"
#include "tap.h"

#define W 16

static uint64_t
h16(const char *p)
{
	uint64_t h = 1469598103934665603ULL;
	int i;

	for (i = 0; i < W; i++) {
		h ^= (unsigned char)p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static void
add_token(const char *t, uint64_t **set, size_t *n, size_t *cap)
{
	size_t len = strlen(t), i;

	for (i = 0; i + W <= len; i++) {
		if (*n == *cap &&
		    (*set = realloc(*set, (*cap = *cap ? 2 * *cap : 4096) * sizeof(**set))) == NULL)
			tap_bail("oom");
		(*set)[(*n)++] = h16(t + i);
	}
}

/* Tokens signed at test time by the PAM, SASL and end-to-end tests: their
 * scratch directories keep them in fresh.json (tests/mint_now.py, under
 * "tokens") and forgeries.json (tests/mint_forgeries.py, M7: at the top). */
static size_t
add_fresh_tokens(uint64_t **set, size_t *n, size_t *cap)
{
	char path[8192], tmp[4096];
	struct dirent *de;
	size_t count = 0;
	DIR *d;

	snprintf(tmp, sizeof(tmp), "%s/tests/tmp", tap_env("TS_BUILDDIR"));
	if ((d = opendir(tmp)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		int forgeries;

		for (forgeries = 0; forgeries < 2; forgeries++) {
			json_t *j, *v;
			const char *k;

			snprintf(path, sizeof(path), "%s/%s/%s", tmp, de->d_name,
			    forgeries ? "forgeries.json" : "fresh.json");
			if ((j = json_load_file(path, 0, NULL)) == NULL)
				continue;
			json_object_foreach(forgeries ? j : json_object_get(j, "tokens"), k, v)
			{
				add_token(json_string_value(v), set, n, cap);
				count++;
			}
			json_decref(j);
		}
	}
	closedir(d);
	return count;
}

static int
cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int
main(void)
{
	const char *const *names = fx_token_names();
	uint64_t *set = NULL;
	size_t n = 0, cap = 0, files = 0, bytes = 0, hits = 0, i, fresh;
	char dirpath[4096];
	DIR *d;
	struct dirent *de;

	for (; *names; names++)
		add_token(fx_token(*names), &set, &n, &cap);
	fresh = add_fresh_tokens(&set, &n, &cap);
	qsort(set, n, sizeof(*set), cmp);
	snprintf(dirpath, sizeof(dirpath), "%s/tests/logs", tap_env("TS_BUILDDIR"));
	if ((d = opendir(dirpath)) == NULL)
		tap_bail("no logs in %s: run the whole suite", dirpath);
	while ((de = readdir(d)) != NULL) {
		char path[8192];
		size_t len;
		char *buf;

		if (strstr(de->d_name, ".log") == NULL)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dirpath, de->d_name);
		buf = tap_slurp(path, &len);
		files++;
		bytes += len;
		for (i = 0; i + W <= len; i++) {
			uint64_t h = h16(buf + i);

			if (bsearch(&h, set, n, sizeof(*set), cmp) != NULL) {
				hits++;
				tap_diag(
				    "%s offset %zu holds a piece of a test token", de->d_name, i);
			}
		}
		free(buf);
	}
	closedir(d);
	ok(files >= 3 && bytes > 1000, "logs_were_captured (%zu files, %zu bytes)", files, bytes);
	ok(n > 10000, "token_pieces_indexed (%zu, from fixtures and %zu freshly signed tokens)", n,
	    fresh);
	ok(hits == 0, "M3_no_token_piece_in_any_log (%zu hits)", hits);
	free(set);
	return tap_done();
}
