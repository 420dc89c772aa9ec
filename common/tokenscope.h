/*
 * tokenscope.h: the one validation entry point, and all a front-end
 * includes. PAM, SASL and the admin command's decisions call this and
 * nothing lower; it is the only way to get at claims. It pulls in only
 * reason.h (the reason codes) and err.h (error messages, sanitising,
 * wiping); every other header of common/ is private to the core.
 * tests/t_public_headers.sh compiles the modules and the admin command
 * against these three alone; only the admin subcommands that print or
 * rewrite configured keys (check-config, keys, fetch-keys, mint) may use a
 * named list of private headers besides.
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

#include "err.h"
#include "reason.h"

#define TS_DEFAULT_CONFIG "/etc/tokenscope/tokenscope.conf"
#define TS_LOG_VALUE_MAX 128
/* C6: the longest local user name a token may map to, in bytes. */
#define TS_USER_MAX 256
/* P1: no configuration may let a longer token through, so a front-end may
 * refuse a longer message before it reaches the core. */
#define TS_TOKEN_HARD_MAX 65536

/* Called for each check, in order, for `tokenscope explain`: its name,
 * TS_OK or the reason it failed, and a detail (sanitised; never "" on a
 * failure). */
typedef void ts_step_fn(void *arg, const char *step, ts_reason r, const char *detail);

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
	/* K14: a front-end serving logins sets this: a refusal as unknown_key
	 * for an issuer with discovery= or jwks_uri= then leaves a fetch request
	 * in [global] fetch_spool (a file create, never the network), after the
	 * decision and without changing it */
	int request_fetch;
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
	/* M7: a refusal whose signature is valid under an out-of-scope key:
	 * "forged_cross_issuer", "stolen_key_in_use", "cross_tenant" or
	 * "alg_confusion"; "" when none. Never changes accepted or reason. */
	char alert[24];
	char alert_key_issuer[TS_LOG_VALUE_MAX + 1]; /* the key's [issuer] section */
	char alert_thumbprint[48]; /* the key's RFC 7638 thumbprint */
	/* M7: signature checks and HMACs the classification spent (bench,
	 * tests): 0 unless a key matched the refused token's kid, or an HS*
	 * token met public keys of its issuer */
	unsigned classify_checks;
	int fetch_requested; /* K14: 1 pending fetch request, -1 none could be left */
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

/* The required scopes of [service service] in the configuration in force,
 * space-separated, into out (cut to fit cap, always NUL-terminated): ""
 * when it requires none or has no section. For the RFC 7628 error
 * challenge's "scope". Returns TS_R_CONFIG_ERROR if nothing loaded. */
ts_reason ts_ctx_service_scopes(ts_ctx *ctx, const char *service, char *out, size_t cap);

/* The configuration in force's max_token_size (bytes), for a front-end
 * that sizes its own input limits (the introspection service's HTTP body
 * cap). Returns TS_R_CONFIG_ERROR if nothing loaded. */
ts_reason ts_ctx_max_token_size(ts_ctx *ctx, size_t *out);

/* TS_OK when the configuration in force has a [service service] section,
 * TS_R_UNKNOWN_SERVICE when it has none, TS_R_CONFIG_ERROR if nothing
 * loaded: lets a front-end warn at start about a service no request can
 * get, rather than once per request. */
ts_reason ts_ctx_has_service(ts_ctx *ctx, const char *service);

/* 1 when the NUL-terminated t is shaped like a compact JWS: three
 * non-empty base64url segments, the header starting as a JSON object. Not
 * a validation: it only tells a token from a password (PAM passthrough). */
int ts_token_looks_like_jws(const char *t);

/* 1 when t (len bytes) starts like a JWS header ("eyJ", the base64url of
 * '{"') and is exactly as long as a client or PAM application's cut (511,
 * 512, 1023, 1024 bytes; M5): a token cut short, whatever shape is left of
 * it, and never a password to pass on. */
int ts_token_looks_cut(const char *t, size_t len);

#endif
