/*
 * http.h: the libmicrohttpd glue of the introspection service: one MHD
 * daemon per listening socket, a shared connection count, request size and
 * time limits, and a drain at stop. All decisions are ti_handle's.
 *
 * Ownership: ti_http borrows env (which must outlive it) and takes the
 * listening descriptors (closed by ti_http_stop).
 */
#ifndef TI_HTTP_H
#define TI_HTTP_H

#include "handler.h"
#include "listen.h"

typedef struct ti_limits {
	unsigned threads; /* per listener */
	unsigned max_connections; /* soft: over it a request gets 429 and close */
	unsigned idle_timeout; /* seconds without a byte: the connection is closed */
	unsigned request_timeout; /* seconds for one request's body */
	unsigned conn_max_requests; /* keep-alive: then close */
	unsigned conn_max_age; /* seconds: then close after the current request */
	size_t body_max; /* bytes of a POST body */
	size_t header_mem; /* libmicrohttpd's per-connection memory (headers) */
} ti_limits;

typedef struct ti_http ti_http;

/* Starts serving every listener. NULL with err on failure. */
ti_http *ti_http_start(
    const ti_env *env, const ti_limits *lim, ti_listeners *l, char *err, size_t errlen);
/* Stops accepting, lets running requests finish for up to drain_seconds
 * (every response from then on closes its connection), then stops. */
void ti_http_stop(ti_http *h, unsigned drain_seconds);
/* Connections open now (tests, drain). */
unsigned ti_http_connections(ti_http *h);

#endif
