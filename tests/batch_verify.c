/* batch_verify.c: test helper (not installed, not a test by itself): decides
 * on one token a line from standard input through ts_validate() and prints
 * one reason code a line. Usage: batch_verify CONF SERVICE EPOCH; with
 * TS_REQUEST_FETCH=1 it asks for fetch requests as the modules do (K14) and
 * adds " fetch_requested" to a line that left one. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenscope.h"

int
main(int argc, char **argv)
{
	static char line[70000];
	ts_ctx *ctx = NULL;
	ts_err e = { "" };
	const char *rf = getenv("TS_REQUEST_FETCH");

	if (argc != 4) {
		fprintf(stderr, "usage: batch_verify CONF SERVICE EPOCH < tokens\n");
		return 2;
	}
	if (ts_ctx_new(argv[1], NULL, NULL, &ctx, &e) != TS_OK) {
		fprintf(stderr, "batch_verify: %s\n", e.msg);
		return 2;
	}
	while (fgets(line, sizeof(line), stdin) != NULL) {
		size_t n = strcspn(line, "\n");
		ts_request req;
		ts_result res;

		memset(&req, 0, sizeof(req));
		req.token = line;
		req.token_len = n;
		req.service = argv[2];
		req.now = (time_t)strtoll(argv[3], NULL, 10);
		req.request_fetch = rf != NULL && strcmp(rf, "1") == 0;
		ts_validate(ctx, &req, &res);
		printf("%s%s\n", ts_reason_str(res.reason),
		    res.fetch_requested > 0 ? " fetch_requested" : "");
		fflush(stdout); /* a long-running peer reads each answer (t_fetch) */
	}
	ts_ctx_free(ctx);
	return 0;
}
