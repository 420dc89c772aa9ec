/* sasl.c: section 4 of the bench: an OAUTHBEARER authentication through
 * libtoken.so against an ANONYMOUS one, through libsasl2. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sasl/sasl.h>

#include "bench.h"

/* Where libsasl2 finds the plugins, and the plugin's token_config: the
 * context of both callbacks. */
typedef struct sasl_paths {
	char path[8300];
	char conf[600];
} sasl_paths;

static int
sasl_getpath(void *ctx, const char **path)
{
	*path = ((const sasl_paths *)ctx)->path;
	return SASL_OK;
}

static int
sasl_getopt_fn(
    void *ctx, const char *plugin, const char *option, const char **result, unsigned *len)
{
	(void)plugin;
	*result = strcmp(option, "token_config") == 0 ? ((const sasl_paths *)ctx)->conf : NULL;
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

/* 4: SASL per authentication, OAUTHBEARER against ANONYMOUS */
void
bench_sasl(bench *b)
{
	sasl_paths sp; /* libsasl2 calls back with it until sasl_server_done() */
#define CB(fn) ((int (*)(void))(void (*)(void))(fn))
	const sasl_callback_t cbs[] = { { SASL_CB_GETPATH, CB(sasl_getpath), &sp },
		{ SASL_CB_GETOPT, CB(sasl_getopt_fn), &sp }, { SASL_CB_LIST_END, NULL, NULL } };
	algcase *es = &b->algs[BENCH_ES256];
	static char anon_trace[] = "bench@example.com";
	sasl_arg ob, an = { "ANONYMOUS", anon_trace, sizeof(anon_trace) - 1 };
	double to, ta, fl;
	char *msg = malloc(strlen(es->token) + 64);

	snprintf(sp.conf, sizeof(sp.conf), "%s", b->conf);
	/* the plugin from the build tree, ANONYMOUS from the system's plugins */
	snprintf(sp.path, sizeof(sp.path), "%s/sasl_token/.libs:/usr/lib/%s/sasl2:/usr/lib/sasl2",
	    b->builddir, TS_MULTIARCH);
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

		interleaved(b, 3, fns, args, t); /* as for PAM */
		ta = t[0];
		to = t[1];
		fl = t[2];
	}
	printf("  ANONYMOUS %10.2f us; OAUTHBEARER %10.2f us; difference = %.3f x floor(ES256) "
	       "(%.2f us)\n",
	    ta * 1e6, to * 1e6, (to - ta) / fl, fl * 1e6);
	put(b, "sasl_anonymous_us", ta * 1e6);
	put(b, "sasl_oauthbearer_us", to * 1e6);
	put(b, "sasl_minus_anonymous_over_floor", (to - ta) / fl);
	target("SASL: (OAUTHBEARER - ANONYMOUS) / floor(ES256)", (to - ta) / fl, "<=", 1.15);
	sasl_server_done();
	free(msg);
	printf("\n");
}
