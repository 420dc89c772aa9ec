/* threads.c: sections 6 and 7 of the bench: two threads against one shared
 * keyring, and memory over many validations. */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench.h"

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

long
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

/* 6: two threads against one shared keyring */
void
bench_threads(bench *b)
{
	core_arg *core = &b->core;
	double secs = b->smoke ? 0.05 : 2.0;
	thr one = { core, secs, 0 }, two[2] = { { core, secs, 0 }, { core, secs, 0 } };
	pthread_t th[2];

	core->req.token = b->algs[BENCH_ES256].token;
	core->req.token_len = strlen(core->req.token);
	thr_run(&one);
	pthread_create(&th[0], NULL, thr_run, &two[0]);
	pthread_create(&th[1], NULL, thr_run, &two[1]);
	pthread_join(th[0], NULL);
	pthread_join(th[1], NULL);
	printf("6. two threads, one shared keyring, ES256: %ld vs %ld checks in %.1f s\n",
	    two[0].n + two[1].n, one.n, secs);
	put(b, "two_threads_over_one", (double)(two[0].n + two[1].n) / (double)one.n);
	target("2 threads / 1 thread", (double)(two[0].n + two[1].n) / (double)one.n, ">=", 1.8);
	printf("\n");
}

/* 7: memory: peak, and growth over many validations (EdDSA: cheap to verify) */
void
bench_rss(bench *b)
{
	core_arg *core = &b->core;
	long n1 = b->smoke ? 1000 : 10000, n2 = b->smoke ? 5000 : 1000000, i, before, after;
	struct rusage ru;

	core->req.token = b->algs[BENCH_EDDSA].token;
	core->req.token_len = strlen(core->req.token);
	for (i = 0; i < n1; i++)
		core_once(core);
	before = rss_kb();
	for (; i < n2; i++)
		core_once(core);
	after = rss_kb();
	getrusage(RUSAGE_SELF, &ru);
	printf("7. memory: peak RSS %ld KiB; RSS after %ld validations minus after %ld: %ld KiB\n",
	    ru.ru_maxrss, n2, n1, after - before);
	put(b, "peak_rss_kib", (double)ru.ru_maxrss);
	put(b, "rss_growth_kib", (double)(after - before));
	json_object_set_new(b->results, "rss_validations", json_integer(n2));
	target("RSS growth over the long run, KiB (allocator noise: <= 64)",
	    (double)(after - before), "<=", 64);
	printf("\n");
}
