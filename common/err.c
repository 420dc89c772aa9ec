/* err.c: error messages, sanitising of untrusted strings, wiping. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "err.h"

/* A path is never shortened below this: its start and its file name stay
 * readable. */
#define TS_PATH_KEEP 40

/* Shortens the longest word of s (length *n) that holds a '/' by up to need
 * bytes, replacing its middle by "..." and keeping more of its end (the file
 * name, a ":line:") than of its start. Returns the bytes removed, 0 when no
 * path is left to shorten. */
static size_t
elide_path(char *s, size_t *n, size_t need)
{
	size_t i = 0, at = 0, len = 0, keep, head, tail;

	while (i < *n) {
		size_t j = i;
		int slash = 0;

		for (; j < *n && s[j] != ' '; j++)
			slash |= s[j] == '/';
		if (slash && j - i > len) {
			at = i;
			len = j - i;
		}
		i = j + 1;
	}
	if (len <= TS_PATH_KEEP)
		return 0;
	keep = len - need >= TS_PATH_KEEP && need < len ? len - need : TS_PATH_KEEP;
	tail = (keep - 3) * 2 / 3;
	head = keep - 3 - tail;
	memcpy(s + at + head, "...", 3);
	memmove(s + at + head + 3, s + at + len - tail, *n - (at + len - tail) + 1);
	*n -= len - keep;
	return len - keep;
}

/* A message that does not fit is almost always one about a file under a deep
 * directory, and cutting its end would lose the reason, the one part an
 * administrator needs. So the paths in it are shortened in the middle first,
 * and only what still does not fit is cut. */
ts_reason
ts_fail(ts_err *e, ts_reason r, const char *fmt, ...)
{
	char full[2 * 4096 + TS_ERR_MSG_MAX];
	va_list ap, again;
	int len;
	size_t n;

	if (e == NULL)
		return r;
	va_start(ap, fmt);
	va_copy(again, ap);
	len = vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	if (len >= (int)sizeof(e->msg)) {
		vsnprintf(full, sizeof(full), fmt, again);
		n = strlen(full);
		while (n >= sizeof(e->msg) && elide_path(full, &n, n - (sizeof(e->msg) - 1)) > 0)
			;
		if (n >= sizeof(e->msg))
			n = sizeof(e->msg) - 1;
		memcpy(e->msg, full, n);
		e->msg[n] = '\0';
	}
	va_end(again);
	return r;
}

void
ts_sanitize(char *dst, size_t cap, const char *src, size_t len)
{
	size_t i, n = 0;

	if (cap < 4)
		return;
	for (i = 0; i < len && n + 1 < cap; i++) {
		unsigned char c = (unsigned char)src[i];

		if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '=')
			c = '?';
		dst[n++] = (char)c;
	}
	if (i < len) {
		/* cut: make it visible rather than silently shorter */
		n = n > cap - 4 ? cap - 4 : n;
		memcpy(dst + n, "...", 3);
		n += 3;
	}
	dst[n] = '\0';
}

void
ts_freezero(void *p, size_t len)
{
	if (p == NULL)
		return;
	OPENSSL_cleanse(p, len);
	free(p);
}
