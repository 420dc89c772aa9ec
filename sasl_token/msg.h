/*
 * msg.h: the client messages of OAUTHBEARER (RFC 7628 section 3.1) and
 * XOAUTH2, parsed strictly within their explicit length (no NUL, nothing
 * left over). Pure functions: no SASL, no allocation; results point into
 * the message, except the authzid, which is unescaped into a buffer.
 */
#ifndef SASL_TOKEN_MSG_H
#define SASL_TOKEN_MSG_H

#include <stddef.h>

#define TM_AUTHZID_MAX 256

typedef struct tm_msg {
	char authzid[TM_AUTHZID_MAX + 1]; /* OAUTHBEARER a= / XOAUTH2 user=; "" if none */
	int has_authzid;
	const char *token; /* the bearer token, not NUL-terminated */
	size_t token_len;
	const char *host, *port; /* OAUTHBEARER only; not NUL-terminated */
	size_t host_len, port_len;
} tm_msg;

/* Returns 0, or -1 with a precise message in err (for SASL_BADPROT).
 * max_token caps the token before anything else looks at it. */
int tm_parse_oauthbearer(
    const char *in, size_t len, size_t max_token, tm_msg *m, char *err, size_t errlen);
int tm_parse_xoauth2(
    const char *in, size_t len, size_t max_token, tm_msg *m, char *err, size_t errlen);

/* True when (in, len) is the lone \x01 that ends an OAUTHBEARER exchange
 * after the server's error challenge (RFC 7628 section 3.2.3). */
int tm_is_oauthbearer_ack(const char *in, size_t len);

/* True when (v, len) is a non-empty b64token (RFC 6750 section 2.1). */
int tm_is_b64token(const char *v, size_t len);

/* A message under construction, in a buffer the caller owns. */
typedef struct tm_out {
	char *buf;
	size_t cap, len;
	int full; /* set when the message did not fit */
} tm_out;

/* The client messages: 0, or -1 with a message in err (a token that is not
 * a b64token or is larger than max_token, a name with a control character
 * or over TM_AUTHZID_MAX bytes, a buffer too small). authzid may be NULL
 * or "" (no a=); host and port are sent only when they are clean. The
 * XOAUTH2 user is required. */
int tm_build_oauthbearer(const char *authzid, const char *host, const char *port, const char *token,
    size_t token_len, size_t max_token, tm_out *o, char *err, size_t errlen);
int tm_build_xoauth2(const char *user, const char *token, size_t token_len, size_t max_token,
    tm_out *o, char *err, size_t errlen);
/* A buffer size that holds either message for these inputs when they are
 * within their caps (at most about 66 KiB for max_token 64 KiB). */
size_t tm_build_size(const char *user, const char *host, size_t token_len, size_t max_token);

#endif
