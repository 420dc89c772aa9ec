/* args.c: module argument parsing. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <security/pam_ext.h>

#include "args.h"
#include "multipart.h"

/* multipart=N: 2 to PT_PARTS_MAX parts. Anything else is logged and
 * leaves the option off, so a typo never widens what is accepted. */
static int
parts_arg(pam_handle_t *pamh, const char *v)
{
	char *end = NULL;
	long n = strtol(v, &end, 10);

	if (end == v || *end != '\0' || n < 2 || n > PT_PARTS_MAX) {
		pam_syslog(pamh, LOG_ERR, "multipart=%s: not a number of parts from 2 to %d", v,
		    PT_PARTS_MAX);
		return 0;
	}
	return (int)n;
}

void
pt_parse_args(pam_handle_t *pamh, int argc, const char **argv, pt_args *a)
{
	int i;

	memset(a, 0, sizeof(*a));
	a->prompt = "Token: ";
	for (i = 0; i < argc; i++) {
		const char *s = argv[i];

		if (strncmp(s, "config=", 7) == 0 && s[7] != '\0')
			a->config = s + 7;
		else if (strncmp(s, "service=", 8) == 0 && s[8] != '\0')
			a->service = s + 8;
		else if (strncmp(s, "prompt=", 7) == 0)
			a->prompt = s + 7;
		else if (strcmp(s, "debug") == 0)
			a->debug = 1;
		else if (strcmp(s, "use_first_pass") == 0)
			a->use_first_pass = 1;
		else if (strcmp(s, "try_first_pass") == 0)
			a->try_first_pass = 1;
		else if (strcmp(s, "passthrough") == 0)
			a->passthrough = 1;
		else if (strcmp(s, "multipart") == 0)
			a->multipart = PT_PARTS_DEFAULT;
		else if (strncmp(s, "multipart=", 10) == 0)
			a->multipart = parts_arg(pamh, s + 10);
		else
			pam_syslog(pamh, LOG_ERR, "unknown option: %s", s);
	}
}
