/*
 * pam_login.c: a minimal PAM application for the demo (not installed):
 * authenticates USER for SERVICE with the service files of CONFDIR
 * (pam_start_confdir, so nothing under /etc/pam.d is used), answering the
 * prompt with the whole token read from standard input.
 * Exit: 0 PAM_SUCCESS, 1 refused, 2 other error. Prints pam_strerror.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <security/pam_appl.h>

#include "cli.h"

static int
conv(int n, const struct pam_message **msg, struct pam_response **resp, void *arg)
{
	struct pam_response *r = calloc((size_t)n, sizeof(*r));
	int i;

	if (r == NULL)
		return PAM_BUF_ERR;
	for (i = 0; i < n; i++)
		if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF)
			r[i].resp = strdup(arg);
	*resp = r;
	return PAM_SUCCESS;
}

int
main(int argc, char **argv)
{
	struct pam_conv c = { conv, NULL };
	pam_handle_t *pamh = NULL;
	size_t len = 0;
	char *tok;
	int r, a = PAM_SUCCESS;

	if (argc != 4) {
		fprintf(stderr, "usage: pam_login CONFDIR SERVICE USER < token\n");
		return 2;
	}
	if ((tok = cli_read_token("-", &len)) == NULL)
		return 2;
	c.appdata_ptr = tok;
	if (pam_start_confdir(argv[2], argv[3], &c, argv[1], &pamh) != PAM_SUCCESS)
		return 2;
	r = pam_authenticate(pamh, 0);
	if (r == PAM_SUCCESS)
		a = pam_acct_mgmt(pamh, 0);
	printf("%s\n", pam_strerror(pamh, r != PAM_SUCCESS ? r : a));
	pam_end(pamh, r);
	ts_freezero(tok, len + 1);
	return r == PAM_SUCCESS && a == PAM_SUCCESS ? 0 : r == PAM_AUTH_ERR ? 1 : 2;
}
