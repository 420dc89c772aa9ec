/* err.c: error messages, sanitising of untrusted strings, wiping. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "err.h"

ts_reason
ts_fail(ts_err *e, ts_reason r, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return r;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
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
