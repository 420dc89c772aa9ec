/*
 * pam_token.c: the Linux-PAM entry points. This file only translates: the
 * PAM user, the token and the service go in; ts_validate() decides; its
 * reason comes out as a PAM return code. See pam_token(8).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "args.h"
#include "ctxcache.h"
#include "multipart.h"

#define PT_EXPORT __attribute__((visibility("default")))
#define PT_DATA "pam_token_auth" /* what account management needs */

/* Set on this handle only by a successful pam_token authentication. */
typedef struct pt_auth {
	long long valid_until; /* exp + clock_skew of the accepted token */
	/* PAM_USER at that authentication: an application may change
	 * PAM_USER on the same handle before account management */
	char user[TS_USER_MAX + 1];
} pt_auth;

static void
auth_cleanup(pam_handle_t *pamh, void *data, int status)
{
	(void)pamh;
	(void)status;
	free(data);
}

/* The token: PAM_AUTHTOK when asked to (use_/try_first_pass), otherwise from
 * the conversation, echo off, in parts with multipart (P6). *owned is set
 * when tok must be wiped and freed. */
static int
get_token(pam_handle_t *pamh, const pt_args *a, const char **tok, char **owned)
{
	const void *item = NULL;
	char *resp = NULL, *whole = NULL;
	int r;

	*owned = NULL;
	if (a->use_first_pass || a->try_first_pass) {
		r = pam_get_item(pamh, PAM_AUTHTOK, &item);
		if (r == PAM_SUCCESS && item != NULL) {
			*tok = item;
			return PAM_SUCCESS;
		}
		if (a->use_first_pass)
			return PAM_AUTH_ERR; /* nothing to use: never prompt */
	}
	if ((r = pt_ask(pamh, a->prompt, &resp)) != PAM_SUCCESS)
		return r;
	if ((r = pt_multipart(pamh, a, resp, &whole)) != PAM_SUCCESS) {
		ts_freezero(resp, strlen(resp));
		return r;
	}
	if (whole != NULL) {
		ts_freezero(resp, strlen(resp));
		resp = whole; /* transferred */
	}
	/* later modules with try_first_pass see it, as after pam_unix; PAM
	 * wipes its copy at pam_end */
	(void)pam_set_item(pamh, PAM_AUTHTOK, resp);
	*tok = resp;
	*owned = resp;
	return PAM_SUCCESS;
}

static int
pam_code(ts_reason r)
{
	switch (r) {
	case TS_OK: return PAM_SUCCESS;
	case TS_R_CONFIG_ERROR: return PAM_AUTHINFO_UNAVAIL;
	case TS_R_INTERNAL: return PAM_SYSTEM_ERR;
	default: return PAM_AUTH_ERR;
	}
}

PT_EXPORT int
pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	pt_args a;
	const char *user = NULL, *tok = NULL, *service;
	const void *item = NULL;
	char *owned = NULL;
	ts_ctx *ctx;
	ts_request req;
	ts_result res;
	pt_auth *auth;
	int r;

	(void)flags;
	pt_parse_args(pamh, argc, argv, &a);
	pt_log_handle(pamh, a.debug);
	r = pam_get_user(pamh, &user, NULL);
	if (r != PAM_SUCCESS)
		goto out;
	if (user == NULL || *user == '\0') {
		r = PAM_USER_UNKNOWN;
		goto out;
	}
	if ((r = get_token(pamh, &a, &tok, &owned)) != PAM_SUCCESS)
		goto out;
	/* only what is not shaped like a token goes on to the next module; a
	 * token the client cut (ssh at 1023 bytes) is no longer shaped like
	 * one, but is still a token: validated, so refused as truncated (M5) */
	if (a.passthrough && !ts_token_looks_like_jws(tok) &&
	    !ts_token_looks_cut(tok, strlen(tok))) {
		if (a.debug)
			pam_syslog(pamh, LOG_DEBUG, "input is not a token: passed through");
		r = PAM_IGNORE;
		goto out;
	}
	if (a.service != NULL)
		service = a.service;
	else if (pam_get_item(pamh, PAM_SERVICE, &item) == PAM_SUCCESS && item != NULL)
		service = item;
	else {
		r = PAM_SYSTEM_ERR;
		goto out;
	}
	if ((ctx = pt_ctx_get(a.config)) == NULL) {
		r = PAM_AUTHINFO_UNAVAIL;
		goto out;
	}
	memset(&req, 0, sizeof(req));
	req.token = tok;
	req.token_len = strlen(tok);
	req.service = service;
	req.user = user;
	req.now = time(NULL);
	req.request_fetch = 1; /* K14: a login; the core leaves the note */
	if (pam_get_item(pamh, PAM_RHOST, &item) == PAM_SUCCESS)
		req.rhost = item;
	r = pam_code(ts_validate(ctx, &req, &res));
	if (r != PAM_SUCCESS)
		goto out;
	/* M1: the one success path */
	if ((auth = malloc(sizeof(*auth))) == NULL) {
		r = PAM_BUF_ERR;
		goto out;
	}
	auth->valid_until = res.valid_until;
	snprintf(auth->user, sizeof(auth->user), "%s", user);
	if (pam_set_data(pamh, PT_DATA, auth, auth_cleanup) != PAM_SUCCESS) {
		free(auth);
		r = PAM_BUF_ERR;
		goto out;
	}
	r = PAM_SUCCESS;
out:
	if (owned != NULL)
		ts_freezero(owned, strlen(owned));
	pt_log_handle(NULL, 0);
	return r;
}

PT_EXPORT int
pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh;
	(void)flags;
	(void)argc;
	(void)argv;
	return PAM_SUCCESS; /* no credentials to establish */
}

/*
 * Account: PAM_SUCCESS when this handle was authenticated by pam_token for
 * the user now in PAM_USER and its token has not expired since;
 * PAM_PERM_DENIED when PAM_USER is another user than the one authenticated;
 * PAM_ACCT_EXPIRED when the token has expired; PAM_IGNORE when another
 * module did the authentication (stack an account module of its own beside
 * it).
 */
PT_EXPORT int
pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	const void *data = NULL, *user = NULL;
	const pt_auth *auth;
	pt_args a;

	(void)flags;
	pt_parse_args(pamh, argc, argv, &a);
	if (pam_get_data(pamh, PT_DATA, &data) != PAM_SUCCESS || data == NULL)
		return PAM_IGNORE;
	auth = data;
	/* the token vouched for one user: an application that retries on the
	 * same handle with another user must not skip that user's checks */
	if (pam_get_item(pamh, PAM_USER, &user) != PAM_SUCCESS || user == NULL ||
	    strcmp(user, auth->user) != 0) {
		pam_syslog(pamh, LOG_NOTICE, "PAM_USER is not the user this handle authenticated");
		return PAM_PERM_DENIED;
	}
	if ((long long)time(NULL) >= auth->valid_until) {
		pam_syslog(pamh, LOG_NOTICE, "token expired since authentication");
		return PAM_ACCT_EXPIRED;
	}
	return PAM_SUCCESS;
}
