/*
 * tsenv.h: a scratch directory per test under the build tree, with copies of
 * fixture keys and configs (git does not keep file modes, and the loader
 * insists on safe ones), and a log sink that keeps every line.
 */
#ifndef TS_TSENV_H
#define TS_TSENV_H

#include <stddef.h>

#include "tokenscope.h"

/* Creates (and empties) $TS_BUILDDIR/tests/tmp/<name>; returns its path. */
const char *env_dir(const char *name);
/* Copies tests/fixtures/keys/<key> (or tests/<file>) into the scratch dir. */
void env_copy_key(const char *dir, const char *key);
void env_copy_src(const char *dir, const char *src, const char *dst);
/* Writes text to dir/file with mode; returns the full path (static). */
const char *env_write(const char *dir, const char *file, const char *text, unsigned mode);
/* Log sink: appends to $TS_BUILDDIR/tests/logs/<prog>.log (scanned by
 * t_zz_no_token_in_logs) and remembers the last line. */
void env_log(void *arg, int prio, const char *line);
const char *env_last_log(void);
/* The same sink as a libsasl2 SASL_CB_LOG callback (returns SASL_OK). */
int env_sasl_log(void *ctx, int level, const char *msg);
/* True when one of the last 64 logged lines contains needle. */
int env_log_seen(const char *needle);
/* The policy fixture, shared by the tests that decide on every policy
 * case: tests/policy.conf, the keys it names, and a revoked-key list
 * naming ed448 ("revoked after compromise"), in a fresh scratch dir
 * `name`. Returns the config's path (static); *dir_out (unless NULL) gets
 * the dir. */
const char *env_policy_fixture(const char *name, const char **dir_out);
/* The fixture tokens signed now by PyJWT (tests/mint_now.py) into
 * dir/fresh.json, as a JSON object (caller decrefs); bails on failure. */
struct json_t;
struct json_t *env_fresh_tokens(const char *dir);
/* One of them by case name; bails when it is missing. */
const char *env_fresh_token(const struct json_t *fresh, const char *name);

/* M7: the policy fixture `name` plus [issuer tenant-a], whose one key
 * (p256, kid t-1) is published for any tenant by an "issuer" template, in
 * service dovecot; json 1 adds log_format = json. The forgeries of
 * tests/mint_forgeries.py (PyJWT), made for the clock `now`, go into
 * *tokens ({name: token}; caller decrefs). Returns the config path;
 * *dir_out (unless NULL) gets the dir. */
const char *env_forgery_fixture(
    const char *name, long long now, int json, struct json_t **tokens, const char **dir_out);

/* Builds a request for the fixture token `name`. */
ts_request env_req(const char *token_name, const char *service, const char *user);

#endif
