/* args.c: module argument parsing. */
#include "config.h"

#include <string.h>
#include <syslog.h>

#include <security/pam_ext.h>

#include "args.h"

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
		else
			pam_syslog(pamh, LOG_ERR, "unknown option: %s", s);
	}
}
