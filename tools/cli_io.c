/* cli_io.c: reading a token from an argument or standard input, shared by
 * the admin command and the demo's PAM application. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "jws.h"

char *
cli_read_token(const char *arg, size_t *len)
{
	size_t cap = TS_TOKEN_HARD_MAX + 2, n = 0, start = 0;
	char *buf;

	if (arg != NULL && strcmp(arg, "-") != 0) {
		n = strlen(arg);
		if ((buf = malloc(n + 1)) == NULL)
			return NULL;
		memcpy(buf, arg, n + 1);
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
				ts_freezero(buf, cap);
				return NULL;
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
	if (start > 0) {
		memmove(buf, buf + start, n - start + 1);
		n -= start;
	}
	if (n == 0) {
		fprintf(stderr, "tokenscope: no token given\n");
		ts_freezero(buf, n + 1);
		return NULL;
	}
	*len = n;
	return buf;
}
