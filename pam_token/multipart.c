/*
 * multipart.c: a token in several conversation answers (P6).
 *
 * The ssh client sends at most 1,023 bytes of a keyboard-interactive
 * answer and Linux-PAM's own conversation 511, while access tokens run to
 * several KB. With the multipart option, a first answer that starts like a
 * token and is exactly as long as such a cut is taken as the first part:
 * the module asks for the next ones, an empty answer ends. Every other
 * first answer (a password, a whole token of any other length) is used as
 * it is, as without the option.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <security/pam_ext.h>

#include "ctxcache.h"
#include "multipart.h"
#include "tokenscope.h"

int
pt_ask(pam_handle_t *pamh, const char *prompt, char **resp)
{
	int r;

	*resp = NULL;
	r = pam_prompt(pamh, PAM_PROMPT_ECHO_OFF, resp, "%s", prompt);
	if (r != PAM_SUCCESS || *resp == NULL) {
		if (*resp != NULL)
			ts_freezero(*resp, strlen(*resp));
		*resp = NULL;
		return r == PAM_CONV_AGAIN ? PAM_INCOMPLETE : PAM_CONV_ERR;
	}
	return PAM_SUCCESS;
}

/* The most bytes the joined token may have: what the configuration in
 * force would accept at all (P1), so a longer one is refused before it is
 * all read. */
static size_t
size_limit(const pt_args *a)
{
	ts_ctx *ctx = pt_ctx_get(a->config);
	size_t max = TS_TOKEN_HARD_MAX;

	if (ctx == NULL || ts_ctx_max_token_size(ctx, &max) != TS_OK || max > TS_TOKEN_HARD_MAX)
		max = TS_TOKEN_HARD_MAX;
	return max;
}

int
pt_multipart(pam_handle_t *pamh, const pt_args *a, const char *first, char **whole)
{
	size_t len = strlen(first), cap, n;
	char *buf = NULL, *part = NULL;
	int parts = 1, r;

	*whole = NULL;
	if (a->multipart == 0 || !ts_token_looks_cut(first, len))
		return PAM_SUCCESS;
	cap = size_limit(a);
	if (len > cap)
		return PAM_SUCCESS; /* the core refuses it as too long */
	/* the capacity is allocated once and never moved, so the one wipe at
	 * the end covers every byte a part was copied to */
	if ((buf = calloc(1, cap + 1)) == NULL)
		return PAM_BUF_ERR;
	memcpy(buf, first, len);
	for (;;) {
		if ((r = pt_ask(pamh, PT_NEXT_PROMPT, &part)) != PAM_SUCCESS)
			goto out;
		n = strlen(part);
		if (n == 0)
			break;
		/* an application that answers every prompt with its one
		 * password (Dovecot, pam_exec) cannot give parts: the first
		 * answer is all there is and is judged alone (a cut token as
		 * truncated, M5; a whole one of that length as it is) */
		if (parts == 1 && strcmp(part, first) == 0) {
			pam_syslog(pamh, LOG_NOTICE,
			    "multipart: the application repeats its answer; no parts taken");
			ts_freezero(buf, cap + 1);
			buf = NULL;
			r = PAM_SUCCESS;
			goto out;
		}
		if (++parts > a->multipart || n > cap - len) {
			pam_syslog(pamh, LOG_NOTICE,
			    "multipart: refused after %d parts (at most %d parts, %zu bytes)",
			    parts, a->multipart, cap);
			r = PAM_AUTH_ERR;
			goto out;
		}
		memcpy(buf + len, part, n);
		len += n;
		ts_freezero(part, n);
		part = NULL;
	}
	if (a->debug)
		pam_syslog(
		    pamh, LOG_DEBUG, "multipart: token of %zu bytes in %d parts", len, parts);
	*whole = buf; /* transferred */
	buf = NULL;
	r = PAM_SUCCESS;
out:
	if (part != NULL)
		ts_freezero(part, strlen(part));
	if (buf != NULL)
		ts_freezero(buf, cap + 1);
	return r;
}
