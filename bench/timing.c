/* timing.c: the bench's clock, per-call timing, interleaved rounds and the
 * figures it records. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bench.h"

double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double
per_call(const bench *b, bench_fn *fn, void *arg, double secs)
{
	long n = 0, batch = 1;
	double t0 = now_s(), t;

	if (b->smoke)
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

/* Figures that are subtracted or divided are taken in the same few seconds,
 * so that a noisy neighbour on a shared host cannot land on one side of a
 * ratio only. */
void
interleaved(const bench *b, int nf, bench_fn *const fns[], void *const args[], double out[])
{
	int r, i;

	for (i = 0; i < nf; i++)
		out[i] = 1e9;
	for (r = 0; r < 5; r++)
		for (i = 0; i < nf; i++) {
			double t = per_call(b, fns[i], args[i], b->smoke ? 0.02 : 0.3);

			if (t < out[i])
				out[i] = t;
		}
}

void
put(bench *b, const char *key, double v)
{
	json_object_set_new(b->results, key, json_real(v));
}

void
target(const char *what, double got, const char *op, double want)
{
	int met = strcmp(op, ">=") == 0 ? got >= want : got <= want;

	printf(
	    "  %-62s %8.3f  (target %s %.3g)  %s\n", what, got, op, want, met ? "met" : "MISSED");
}
