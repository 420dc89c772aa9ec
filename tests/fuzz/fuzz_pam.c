/* fuzz_pam.c: pam_sm_authenticate driven through a real PAM handle
 * (pam_start_confdir, the module from the build tree), the conversation
 * answering with the arbitrary input. No crash, no leak, and no success for
 * input that is not a valid token of the policy (the fixed clock of the
 * fixtures has every fixture token expired by now). */
#include "config.h"

#include <stdint.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <security/pam_appl.h>

#include "fuzz_common.h"

static char confdir[4200];

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pam_conv c = { conv, NULL };
	pam_handle_t *pamh = NULL;
	char *tok;
	int r;

	if (confdir[0] == '\0') {
		const char *conf = fuzz_policy_dir();
		char path[4300];
		FILE *f;

		snprintf(confdir, sizeof(confdir), "%.*s", (int)(strrchr(conf, '/') - conf), conf);
		snprintf(path, sizeof(path), "%s/dovecot", confdir);
		if ((f = fopen(path, "w")) == NULL)
			abort();
		fprintf(f, "auth required %s/pam_token/.libs/pam_token.so config=%s\n",
		    TS_FUZZ_BUILDDIR, conf);
		fclose(f);
	}
	if ((tok = malloc(size + 1)) == NULL)
		return 0;
	memcpy(tok, data, size);
	tok[size] = '\0';
	c.appdata_ptr = tok;
	if (pam_start_confdir("dovecot", "alice", &c, confdir, &pamh) == PAM_SUCCESS) {
		r = pam_authenticate(pamh, 0);
		pam_end(pamh, r);
		if (r == PAM_SUCCESS)
			abort(); /* every fixture token is long expired; nothing else is valid */
	}
	free(tok);
	return 0;
}
