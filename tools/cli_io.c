/* cli_io.c: reading a token from an argument or standard input, shared by
 * the admin command and the demo's PAM application. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

char *
cli_read_token(const char *arg, size_t *len)
{
	size_t cap = TS_TOKEN_HARD_MAX + 2, n = 0, start = 0;
	char *buf = NULL, *out = NULL;

	if (arg != NULL && strcmp(arg, "-") != 0) {
		n = strlen(arg);
		cap = n + 1;
		if ((buf = malloc(cap)) == NULL)
			return NULL;
		memcpy(buf, arg, cap);
	} else {
		ssize_t got;

		if ((buf = malloc(cap)) == NULL)
			return NULL;
		/* one byte over the hard cap is enough to be refused as too large */
		while (n < cap - 1 && (got = read(STDIN_FILENO, buf + n, cap - 1 - n)) != 0) {
			if (got < 0 && errno == EINTR)
				continue;
			if (got < 0) {
				fprintf(stderr, "tokenscope: cannot read standard input\n");
				goto out;
			}
			n += (size_t)got;
		}
		buf[n] = '\0';
	}
	/* trailing newline (echo, files) and surrounding whitespace */
	while (n > 0 && strchr(" \t\r\n", buf[n - 1]) != NULL)
		buf[--n] = '\0';
	while (start < n && strchr(" \t\r\n", buf[start]) != NULL)
		start++;
	if (n == start) {
		fprintf(stderr, "tokenscope: no token given\n");
		goto out;
	}
	/* a copy of exactly len + 1 bytes: callers wipe len + 1, and the
	 * reading buffer (64 KiB, with the token and after trimming a partial
	 * second copy of it) is wiped here over its whole capacity (M4) */
	if ((out = malloc(n - start + 1)) == NULL)
		goto out;
	memcpy(out, buf + start, n - start + 1);
	*len = n - start;
out:
	ts_freezero(buf, cap);
	return out;
}
