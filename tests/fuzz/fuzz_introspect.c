/* fuzz_introspect.c: the introspection request logic (introspect/handler.c
 * behind libmicrohttpd) on arbitrary requests, with fault injection. The
 * input is the request: a flags byte (method, unix peer, busy, body too
 * large), then NUL-separated path, Content-Type, Authorization, the client
 * header, X-Dovecot-Auth-Protocol, X-Dovecot-Auth-Remote and the body.
 * Whatever arrives and whatever fails inside: no crash, no leak, a status
 * from the documented set, and never "active":true when a fault was injected
 * or the caller did not authenticate. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faults.h"
#include "fuzz_common.h"
#include "handler.h"
#include "tokenscope.h"

static ts_ctx *ctx;
static ti_clients *clients;

/* client a, secret "x"; client p authenticated by unix peer uid 0 */
#define CLIENTS                                                                                    \
	"a 2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881 "                      \
	"services=dovecot,smtp protocols=imap:dovecot,smtp:smtp trust_remote=yes rate=1000000\n"   \
	"p - services=dovecot peer_uid=0 rate=1000000\n"
#define GOOD_AUTH "Basic YTp4"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
status_ok(int s)
{
	static const int known[] = { 200, 400, 401, 403, 404, 405, 413, 415, 429, 503 };
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (s == known[i])
			return 1;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy, *f[7] = { NULL };
	size_t i, start = 1, nf = 0, body_len = 0;
	ti_request rq;
	ti_response rs;
	ti_env env;
	int faulted, authed;

	if (ctx == NULL && (ts_ctx_new(fuzz_policy_dir(), NULL, NULL, &ctx, NULL) != TS_OK))
		abort();
	if (clients == NULL) {
		char buf[] = CLIENTS, err[256];

		if (ti_clients_parse("fuzz", buf, &clients, err, sizeof(err)) != 0)
			abort();
	}
	if (size < 1)
		return 0;
	/* split the fields before arming, so faults land in the handler */
	if ((copy = malloc(size + 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	for (i = 1; i <= size && nf < 6; i++) {
		if (copy[i] == '\0' || i == size) {
			f[nf++] = copy + start;
			start = i + 1;
		}
	}
	if (nf == 6 && start <= size) {
		f[6] = copy + start;
		body_len = size - start;
	}
	memset(&rq, 0, sizeof(rq));
	rq.method = (ti_method)(data[0] % 3);
	rq.peer_uid_known = (data[0] & 0x04) != 0;
	rq.peer_uid = (data[0] & 0x08) ? 1000 : 0;
	rq.busy = (data[0] & 0x10) != 0;
	rq.body_too_large = (data[0] & 0x20) != 0;
	rq.path = f[0] != NULL ? f[0] : "/introspect";
	rq.content_type = f[1];
	rq.authorization = f[2] != NULL && f[2][0] != '\0' ? f[2] : NULL;
	rq.client_authorization = f[3] != NULL && f[3][0] != '\0' ? f[3] : NULL;
	rq.protocol = f[4] != NULL && f[4][0] != '\0' ? f[4] : NULL;
	rq.remote = f[5];
	rq.peer = "127.0.0.1";
	rq.body = f[6];
	rq.body_len = body_len;
	rq.now = 1700000100;
	rq.mono = 1.0;
	env.ctx = ctx;
	env.clients = clients;
	env.log = NULL;
	env.log_arg = NULL;

	faults_arm(data, size);
	ti_handle(&env, &rq, &rs);
	faulted = faults_disarm();

	{
		const char *cred =
		    rq.method == TI_M_POST ? rq.authorization : rq.client_authorization;

		/* a valid credential is GOOD_AUTH up to the scheme's case and
		 * surrounding blanks; the peer uid counts only without one */
		authed = cred != NULL ? strstr(cred, "YTp4") != NULL
		                      : (rq.peer_uid_known && rq.peer_uid == 0);
	}
	if (!status_ok(rs.status) && !(faulted && rs.status == 500))
		abort();
	if (rs.body != NULL && strstr(rs.body, "\"active\":true") != NULL &&
	    (faulted || !authed || rs.status != 200))
		abort(); /* no accept from a failure inside, or for a stranger */
	ti_response_clear(&rs);
	free(copy);
	return 0;
}
