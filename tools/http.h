/*
 * http.h: HTTPS GET for `tokenscope fetch-keys` (libcurl). Lives in the
 * command only: the PAM module and the SASL plugin never touch the network.
 */
#ifndef TS_HTTP_H
#define TS_HTTP_H

#include <stddef.h>

/* Largest document fetched (discovery documents and JWKS are a few KiB). */
#define HTTP_MAX_BODY (1024 * 1024)

/*
 * GETs url: HTTPS only (redirects too), the server's certificate verified
 * against the system's CAs or cafile (when non-NULL) with its host name,
 * 10 s to connect, 30 s in all, HTTP status 2xx only. Returns 0 with a
 * malloc'ed NUL-terminated *body, or -1 with err set.
 */
int http_get(
    const char *url, const char *cafile, char **body, size_t *len, char *err, size_t errlen);

#endif
