/*
 * fx.h: access to the checked-in fixtures made by tests/fixtures/gen.py
 * (an independent signer). Everything bails the test on a missing fixture.
 */
#ifndef TS_FX_H
#define TS_FX_H

#include <time.h>

#include "key.h"

/* The token named `name` in tokens.json (static storage, do not free). */
const char *fx_token(const char *name);
/* The key name and alg recorded with a token. */
const char *fx_token_key(const char *name);
const char *fx_token_alg(const char *name);
/* The injected clock the fixtures were made for. */
time_t fx_now(void);
/* All token names, NULL-terminated (static storage). */
const char *const *fx_token_names(void);
/* Path of a file under tests/fixtures (static buffer, next call overwrites). */
const char *fx_path(const char *rel);
/* Public key `keyname` (keys/NAME.jwk) pinned to alg. Bails on failure. */
ts_key *fx_key(const char *keyname, ts_alg alg);

#include <jansson.h>
/* The policy cases: [{name, expect, service, user}] (tokens "case_<name>"). */
const json_t *fx_cases(void);
/* RFC 7638 thumbprint of a fixture key, computed by jwcrypto. */
const char *fx_thumbprint(const char *keyname);

#endif
