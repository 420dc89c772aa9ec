/*
 * err.h: a precise, human-readable message travelling with a reason code
 * (the Dovecot error_r habit). Messages may quote untrusted values only
 * through ts_sanitize(); they never contain a token, signature or secret.
 */
#ifndef TS_ERR_H
#define TS_ERR_H

#include <stddef.h>

#include "reason.h"

#define TS_ERR_MSG_MAX 256

typedef struct ts_err {
	char msg[TS_ERR_MSG_MAX];
} ts_err;

/* Sets e->msg (if e is non-NULL) and returns r, so callers can write
 * `return ts_fail(e, TS_R_MALFORMED, "...")`. A message longer than
 * TS_ERR_MSG_MAX has its paths (words holding a '/') shortened in the middle
 * so that the reason after them stays whole. */
ts_reason ts_fail(ts_err *e, ts_reason r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Copies at most cap-1 bytes of untrusted (src, len) into dst, replacing
 * anything outside printable ASCII, and the characters that would confuse a
 * key=value log line (space, '"', '\\', '='), by '?'. Marks a cut with "...".
 * dst is always NUL-terminated; cap must be >= 4. */
void ts_sanitize(char *dst, size_t cap, const char *src, size_t len);

/* Wipe then free; NULL is fine. */
void ts_freezero(void *p, size_t len);

#endif
