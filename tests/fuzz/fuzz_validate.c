/* fuzz_validate.c: the whole entry point, ts_validate(), on arbitrary tokens
 * against the multi-issuer test policy, with fault injection. Whatever the
 * input and whatever fails inside, there is no crash, no leak, and no accept
 * when a fault was injected. */
#include "config.h"

#include <stdint.h>

#include <stdlib.h>
#include <string.h>

#include "faults.h"
#include "fuzz_common.h"
#include "tokenscope.h"

static ts_ctx *ctx;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const services[] = { "dovecot", "smtp", "ftp" };
	ts_request req;
	ts_result res;
	int faulted;

	if (ctx == NULL && (ts_ctx_new(fuzz_policy_dir(), NULL, NULL, &ctx, NULL) != TS_OK))
		abort();
	memset(&req, 0, sizeof(req));
	req.token = (const char *)data;
	req.token_len = size;
	req.service = services[size % 3];
	req.user = (size & 4) ? "alice" : NULL;
	req.now = 1700000100;
	faults_arm(data, size);
	ts_validate(ctx, &req, &res);
	faulted = faults_disarm();
	if (faulted && res.accepted)
		abort(); /* a failure inside the core must never turn into an accept */
	return 0;
}
