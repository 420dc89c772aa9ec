/*
 * ctxcache.h: validation contexts that outlive one PAM handle.
 *
 * Linux-PAM dlopens the module at pam_start and dlcloses it at pam_end;
 * pam_token.so is linked with -z nodelete so it stays mapped, and the
 * parsed configuration and keyring stay with it. An authentication then
 * costs a change check (a few stat calls at most once per reload_interval)
 * instead of a re-parse of every key, whatever the keyring size.
 */
#ifndef PAM_TOKEN_CTXCACHE_H
#define PAM_TOKEN_CTXCACHE_H

#include <security/pam_modules.h>

#include "tokenscope.h"

/* The context for config path (NULL = default), made on first use. NULL
 * only when out of memory. The context lives as long as the process. */
ts_ctx *pt_ctx_get(const char *config);

/* Log sink: pam_syslog on the handle of the current call (LOG_AUTHPRIV),
 * plain syslog when none. pt_log_handle() sets it for this thread. */
void pt_log(void *arg, int prio, const char *line);
void pt_log_handle(pam_handle_t *pamh, int debug);

#endif
