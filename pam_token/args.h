/* args.h: pam_token.so module arguments (see pam_token(8)). */
#ifndef PAM_TOKEN_ARGS_H
#define PAM_TOKEN_ARGS_H

#include <security/pam_modules.h>

typedef struct pt_args {
	const char *config; /* config=PATH; NULL = default */
	const char *service; /* service=NAME; NULL = PAM_SERVICE */
	const char *prompt; /* prompt=TEXT */
	int debug;
	int use_first_pass;
	int try_first_pass;
	int passthrough;
	int multipart; /* the most parts of one token (P6); 0 = one answer */
} pt_args;

/* Parses argv; unknown arguments are logged, never silently ignored. */
void pt_parse_args(pam_handle_t *pamh, int argc, const char **argv, pt_args *a);

#endif
