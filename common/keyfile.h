/*
 * keyfile.h: the contents of one key file: a PEM SubjectPublicKeyInfo, a PEM
 * X.509 certificate (its validity window becomes the key's), a single JWK or
 * a JWKS. Internal to the keyring.
 */
#ifndef TS_KEYFILE_H
#define TS_KEYFILE_H

#include <stddef.h>
#include <time.h>

#include "conf.h"
#include "key.h"

#define TS_KEY_ISSUER_MAX 1024

typedef struct ts_loaded_key {
	ts_key *key;
	char *kid; /* NULL when none */
	char *issuer; /* the JWK's own "issuer" member, NULL when none */
	time_t not_before, not_after;
	int has_not_before, has_not_after;
} ts_loaded_key;

/* Parses buf (a file's contents) for the key line ks of an issuer that
 * allows `allowed` algorithms. flags: TS_JWK_ALLOW_SECRET (jwk.h): HMAC
 * (oct) keys are accepted; TS_JWK_LAZY: JWKs are set up at first use. On success *keys holds *n keys (caller frees with
 * ts_loaded_keys_free). Errors: TS_R_CONFIG_ERROR, e->msg without location. */
ts_reason ts_keyfile_parse(const char *buf, size_t len, const ts_keyspec *ks, unsigned allowed,
    unsigned flags, ts_loaded_key **keys, size_t *n, ts_err *e);
void ts_loaded_keys_free(ts_loaded_key *keys, size_t n);

#endif
