/*
 * handler.h: one introspection request to one response, as a function of a
 * small request struct. Nothing here knows libmicrohttpd: http.c fills the
 * struct from the connection and sends what comes back, the unit tests and
 * the fuzz target call ti_handle directly.
 *
 * Ownership: every pointer in ti_request is borrowed for the call and may be
 * NULL where marked. ti_response.body is malloc'ed by ti_handle and freed by
 * the caller (ti_response_clear); it never holds a token.
 */
#ifndef TI_HANDLER_H
#define TI_HANDLER_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "clients.h"
#include "tokenscope.h"

typedef enum ti_method { TI_M_OTHER = 0, TI_M_GET, TI_M_POST } ti_method;

typedef struct ti_request {
	ti_method method;
	const char *path; /* URL path, without the query */
	const char *content_type; /* or NULL */
	const char *authorization; /* Authorization header, or NULL */
	/* GET carries the token in Authorization, so the caller's own
	 * credentials come in this header (same "Basic ..." form), or NULL */
	const char *client_authorization;
	const char *protocol; /* X-Dovecot-Auth-Protocol, or NULL */
	const char *remote; /* X-Dovecot-Auth-Remote, or NULL */
	const char *peer; /* the peer address for the log, never NULL */
	int peer_uid_known; /* the request came over the unix socket */
	uid_t peer_uid;
	const char *body; /* POST body (not NUL-terminated), or NULL */
	size_t body_len;
	int body_too_large; /* the body went over the cap and was dropped */
	int busy; /* the connection is over the soft connection limit */
	time_t now; /* the verifier's clock */
	double mono; /* monotonic seconds, for the rate limit */
} ti_request;

#define TI_USER_HEADER "X-Tokenscope-User"
#define TI_CLIENT_AUTH_HEADER "X-Tokenscope-Client-Authorization"

typedef struct ti_response {
	int status;
	char *body; /* JSON, malloc'ed, or NULL */
	size_t body_len;
	const char *www_authenticate; /* static, or NULL */
	const char *allow; /* static, or NULL (405) */
	int retry_after; /* seconds, 0 = none (429) */
	int close; /* close the connection after this response */
	char user[TS_USER_MAX + 1]; /* GET + accept: the mapped user */
} ti_response;

typedef struct ti_env {
	ts_ctx *ctx; /* borrowed */
	ti_clients *clients; /* borrowed */
	ts_log_fn *log; /* the same sink as the core's */
	void *log_arg;
} ti_env;

/* Always fills rs (status 500 and no body if even that fails). */
void ti_handle(const ti_env *env, const ti_request *rq, ti_response *rs);
void ti_response_clear(ti_response *rs);

/* Decodes an application/x-www-form-urlencoded body and returns the one
 * "token" value in a malloc'ed NUL-terminated buffer (*out, *out_len; the
 * caller wipes it). 0 ok, -1 missing, repeated, empty or badly encoded. */
int ti_form_token(const char *body, size_t len, char **out, size_t *out_len);

#endif
