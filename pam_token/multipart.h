/* multipart.h: a token longer than the application's answer limit, taken
 * in several conversation answers (pam_token(8) "TOKEN LENGTH"; P6). */
#ifndef PAM_TOKEN_MULTIPART_H
#define PAM_TOKEN_MULTIPART_H

#include <security/pam_modules.h>

#include "args.h"

/* The most parts multipart=N may allow, and the default. */
#define PT_PARTS_MAX 64
#define PT_PARTS_DEFAULT 16

/* The prompt for every part after the first. */
#define PT_NEXT_PROMPT "Token, next part (empty answer ends): "

/* Asks once, echo off. On PAM_SUCCESS *resp is the answer (never NULL),
 * the caller's to wipe and free. */
int pt_ask(pam_handle_t *pamh, const char *prompt, char **resp);

/*
 * first is the first answer, owned by the caller. When a->multipart is set
 * and first looks like the beginning of a token cut at an application's
 * limit (ts_token_looks_cut), asks for the next parts until an empty
 * answer and sets *whole to the joined token (malloc'd; the caller wipes
 * and frees it). Otherwise, and when the application answers the next-part
 * prompt with the first answer again (it gives one password to every
 * prompt, as Dovecot does), *whole stays NULL and first stands alone.
 * More than a->multipart parts, or more than the configuration's
 * max_token_size bytes, refuse (PAM_AUTH_ERR) without asking further.
 */
int pt_multipart(pam_handle_t *pamh, const pt_args *a, const char *first, char **whole);

#endif
