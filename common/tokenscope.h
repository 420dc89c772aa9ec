/*
 * tokenscope.h: the one validation entry point. PAM, SASL and the admin
 * command call this and nothing lower; it is the only way to get at claims.
 *
 * Ownership: a ts_ctx owns its loaded configuration and keyring and may be
 * shared by many threads; ts_validate() takes a reference to the current
 * state for the duration of one call, so a reload never changes keys under
 * a running validation. The caller owns request and result.
 */
#ifndef TOKENSCOPE_H
#define TOKENSCOPE_H

#include <stddef.h>
#include <time.h>

#include "claims.h"
#include "reason.h"

#define TS_DEFAULT_CONFIG "/etc/tokenscope/tokenscope.conf"
#define TS_LOG_VALUE_MAX 128

/* Log sink: prio is a syslog priority (LOG_ERR, LOG_WARNING, LOG_INFO,
 * LOG_DEBUG). Lines never contain a token, a signature or a secret. */
typedef void ts_log_fn(void *arg, int prio, const char *line);

typedef struct ts_ctx ts_ctx;

typedef struct ts_request {
	const char *token; /* not NUL-terminated necessarily */
	size_t token_len;
	const char *service; /* [service NAME] to apply */
	const char *user; /* requested user, or NULL */
	time_t now; /* the verifier's clock (injectable) */
	const char *rhost; /* remote host for the log, or NULL */
	ts_step_fn *step; /* optional: each check, in order (explain) */
	void *step_arg;
} ts_request;

typedef struct ts_result {
	int accepted;
	ts_reason reason;
	char detail[TS_ERR_MSG_MAX];
	char user[TS_USER_MAX + 1]; /* mapped user: set only on accept */
	/* for logs and the CLI: sanitised, length-capped copies */
	char issuer_name[TS_LOG_VALUE_MAX + 1];
	char iss[TS_LOG_VALUE_MAX + 1];
	char kid[TS_LOG_VALUE_MAX + 1];
	char thumbprint[48];
	char alg[16];
	char typ[TS_LOG_VALUE_MAX + 1];
	char aud[TS_LOG_VALUE_MAX + 1];
	char sub[TS_LOG_VALUE_MAX + 1];
	char jti[TS_LOG_VALUE_MAX + 1];
	long long exp;
	long long valid_until; /* on accept: exp + clock_skew, when it stops passing */
} ts_result;

/*
 * Creates a context for config_path (NULL: TS_DEFAULT_CONFIG) and loads it.
 * A load failure still returns a context (validations then give
 * config_error, and a later fix of the file is picked up); the error is in
 * err (may be NULL) and the return value is TS_R_CONFIG_ERROR. Returns
 * TS_R_INTERNAL and *out NULL only when out of memory.
 */
ts_reason ts_ctx_new(
    const char *config_path, ts_log_fn *log, void *log_arg, ts_ctx **out, ts_err *err);
void ts_ctx_free(ts_ctx *ctx);

/* Checks the config and key files for changes (at most once per
 * reload_interval unless force) and reloads all or nothing. A broken new
 * state keeps the last good one in force for what it adds, is logged once,
 * and still applies what it takes away (K11: revocations, removed key lines,
 * deleted key files; an unreadable revoked-key list refuses every token).
 * Returns TS_OK when the new state loaded whole or a good one is in force. */
ts_reason ts_ctx_refresh(ts_ctx *ctx, int force, ts_err *err);
/* The error of the last failed load, or "" (for check-config / status). */
const char *ts_ctx_last_error(ts_ctx *ctx);

/* Validates one token. Always fills result; returns result->reason. */
ts_reason ts_validate(ts_ctx *ctx, const ts_request *req, ts_result *result);

/* Read-only view of the loaded state for the admin command. The callback
 * runs with a reference held. Returns TS_R_CONFIG_ERROR if nothing loaded. */
struct ts_conf;
struct ts_keyring;
typedef void ts_inspect_fn(void *arg, const struct ts_conf *conf, const struct ts_keyring *kr);
ts_reason ts_ctx_inspect(ts_ctx *ctx, ts_inspect_fn *fn, void *arg);

#endif
