/*
 * bench.c: `make bench`. Every figure is measured in this one run and
 * reported as a ratio to raw OpenSSL (EVP_DigestVerify with the key parsed
 * and the signature decoded) or to the plumbing of PAM / libsasl2 itself.
 * The sections are files of their own (core.c, pam.c, sasl.c, reload.c,
 * threads.c), each handed the one `bench` main owns (bench.h).
 * Writes a table to stdout and every figure to bench-results.json.
 * `bench --smoke` runs with tiny counts (make check keeps it working).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

/* A section to run alone after the core's, for profiling (no JSON). */
static const struct {
	const char *name;
	void (*run)(bench *b);
} alone[] = {
	{ "pam", bench_pam },
	{ "sasl", bench_sasl },
	{ "threads", bench_threads },
	{ "startup", bench_startup },
};

static void
cpu_name(char *cpu, size_t cap)
{
	char line[256];
	FILE *f;

	snprintf(cpu, cap, "unknown");
	if ((f = fopen("/proc/cpuinfo", "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "model name", 10) == 0) {
			snprintf(cpu, cap, "%s", strchr(line, ':') + 2);
			cpu[strcspn(cpu, "\n")] = '\0';
			break;
		}
	fclose(f);
}

int
main(int argc, char **argv)
{
	static bench b; /* large (key material, paths): not on the stack */
	char line[256], cpu[256], path[4200];
	const char *bd = getenv("TS_BUILDDIR"), *only = NULL;
	size_t i;

	bench_zygote_start(); /* before anything fills the heap */
	b.smoke = argc > 1 && strcmp(argv[1], "--smoke") == 0;
	if (argc > 2 && strcmp(argv[1], "--only") == 0)
		only = argv[2]; /* core, pam, sasl or threads */
	snprintf(b.builddir, sizeof(b.builddir), "%s", bd ? bd : ".");
	snprintf(b.work, sizeof(b.work), "/tmp/tokenscope-bench-XXXXXX");
	if (mkdtemp(b.work) == NULL)
		abort();
	chmod(b.work, 0755);
	b.start_time = (long)time(NULL);
	b.results = json_object();
	cpu_name(cpu, sizeof(cpu));
	json_object_set_new(b.results, "cpu", json_string(cpu));
	json_object_set_new(b.results, "smoke", json_boolean(b.smoke));
	printf("tokenscope bench%s on %s (%ld cores)\n\n",
	    b.smoke ? " (smoke run, figures meaningless)" : "", cpu, sysconf(_SC_NPROCESSORS_ONLN));
	bench_core(&b);
	if (only != NULL) { /* one section, for profiling; no JSON written */
		for (i = 0; i < sizeof(alone) / sizeof(alone[0]); i++)
			if (strcmp(only, alone[i].name) == 0)
				alone[i].run(&b);
		goto out;
	}
	bench_pam(&b);
	bench_sasl(&b);
	bench_reload(&b);
	bench_threads(&b);
	bench_rss(&b);
	bench_startup(&b);
	printf("targets:\n");
	for (i = 0; i < BENCH_NALGS; i++) {
		char what[80];

		if (b.algs[i].alg == TS_ALG_PS256 || b.algs[i].alg == TS_ALG_ES384)
			continue;
		snprintf(what, sizeof(what), "core / floor (throughput), %s", b.algs[i].name);
		snprintf(line, sizeof(line), "core_over_floor_%s", b.algs[i].name);
		target(what, json_real_value(json_object_get(b.results, line)), ">=", 0.95);
	}
	snprintf(path, sizeof(path), "%s/bench-results.json", b.builddir);
	json_dump_file(b.results, path, JSON_INDENT(1) | JSON_SORT_KEYS);
	printf("\nall figures: %s\n", path);
out:
	bench_zygote_stop();
	snprintf(path, sizeof(path), "rm -rf --one-file-system '%s'", b.work);
	if (system(path) != 0)
		return 1;
	ts_ctx_free(b.core.ctx);
	json_decref(b.results);
	return 0;
}
