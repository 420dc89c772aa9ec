/*
 * key.h: key material pinned to exactly one algorithm (K4, K7, A4).
 *
 * A ts_key is immutable once made and safe to share between threads. It
 * knows nothing about issuers or validity windows: that binding lives in
 * the keyring (keyring.h), which owns its ts_keys.
 */
#ifndef TS_KEY_H
#define TS_KEY_H

#include <stddef.h>

#include <openssl/evp.h>

#include "alg.h"
#include "err.h"

/* RFC 7638 thumbprint: base64url(SHA-256) is 43 characters. */
#define TS_THUMBPRINT_LEN 43

#define TS_RSA_MIN_BITS 2048
#define TS_RSA_MAX_BITS 16384 /* larger keys only cost verification time */

typedef struct ts_key ts_key;

/* Makes a key from a public EVP_PKEY for one algorithm. Checks that the key
 * type, curve and size fit alg (RSA >= 2048 bits and e = 65537; EC public
 * point valid on the alg's own curve; Ed25519 or Ed448 for EdDSA).
 * On success the key holds its own reference to pkey (the caller keeps and
 * frees its own). */
ts_reason ts_key_from_pkey(EVP_PKEY *pkey, ts_alg alg, ts_key **out, ts_err *e);

/* The SHA-256 of key thumbprints, fetched while a context lives: each
 * context holds it from its creation to its free (ctx.c). */
void ts_key_digest_hold(void);
void ts_key_digest_release(void);

/* A public key as a JWK carries it, before OpenSSL has seen it. */
typedef struct ts_key_raw {
	int type; /* EVP_PKEY_RSA, EVP_PKEY_EC, EVP_PKEY_ED25519 or EVP_PKEY_ED448 */
	const char *group; /* EC: the OpenSSL group name ("prime256v1") */
	const unsigned char *a; /* RSA n, EC 04||x||y, OKP x */
	size_t alen;
	const unsigned char *b; /* RSA e */
	size_t blen;
} ts_key_raw;

/* The EVP_PKEY of raw (the caller frees it); TS_R_CONFIG_ERROR when OpenSSL
 * refuses it (an EC point off its curve). */
ts_reason ts_pkey_from_raw(const ts_key_raw *raw, EVP_PKEY **pk, ts_err *e);

/* K15: a key whose expensive set-up (EVP key, curve point check, prepared
 * verification context) waits for its first use in this process. What is
 * cheap is checked now, as ts_key_from_pkey does (alg fits the key type,
 * RSA size and exponent), and the thumbprint is computed from raw. The
 * rest runs once, thread-safely, at the first ts_key_verify or
 * ts_key_public_bytes; a key that fails it verifies nothing
 * (TS_R_CONFIG_ERROR, as a key refused at load). raw is copied. */
ts_reason ts_key_from_raw(const ts_key_raw *raw, ts_alg alg, ts_key **out, ts_err *e);
/* Runs the deferred set-up now (nothing when done already): TS_OK, or the
 * error of the failed checks. */
ts_reason ts_key_setup(const ts_key *k, ts_err *e);
/* 1 exactly once for a key whose deferred set-up failed: time to log it. */
int ts_key_failure_unreported(const ts_key *k);
/* The same kind-and-curve test as ts_key_alg_fits, on a raw key. */
int ts_key_raw_fits(const ts_key_raw *raw, ts_alg alg);
ts_reason ts_key_pick_alg_raw(const ts_key_raw *raw, unsigned allowed, ts_alg *out, ts_err *e);

/* Makes an HMAC key; the secret is copied (and wiped on free). len must be
 * at least the hash length of alg (K8). */
ts_reason ts_key_from_secret(
    const unsigned char *secret, size_t len, ts_alg alg, ts_key **out, ts_err *e);

/* Chooses the one algorithm for a key from an allow-list (bit (1 << ts_alg)
 * per allowed alg). pkey NULL means an HMAC secret of secret_len bytes.
 * More than one candidate is an error, never a guess. */
ts_reason ts_key_pick_alg(
    EVP_PKEY *pkey, size_t secret_len, unsigned allowed, ts_alg *out, ts_err *e);

/* True when alg can be used with pkey's type and curve (or an HMAC secret
 * when pkey is NULL). */
int ts_key_alg_fits(EVP_PKEY *pkey, ts_alg alg);

/* M7: the public key's bytes as an attacker holding only the public key
 * would use them as an HMAC secret: pem 1 gives the SPKI PEM text as
 * OpenSSL and python3-cryptography write a .pub.pem file (trailing newline
 * included), pem 0 its DER. *out is malloc'd (free it); TS_R_INTERNAL for
 * an HMAC key or a library failure. */
ts_reason ts_key_public_bytes(const ts_key *k, int pem, unsigned char **out, size_t *len);

void ts_key_free(ts_key *k);

ts_alg ts_key_alg(const ts_key *k);
/* NUL-terminated, TS_THUMBPRINT_LEN characters. */
const char *ts_key_thumbprint(const ts_key *k);
/* Exact signature length this key verifies: modulus length for RSA, 2x the
 * coordinate length for ECDSA, 64/114 for Ed25519/Ed448, hash length for HMAC. */
size_t ts_key_sig_len(const ts_key *k);
/* Key size in bits (RSA modulus, EC field, Ed curve, HMAC secret). */
int ts_key_bits(const ts_key *k);
/* "RSA", "EC", "OKP" or "oct". */
const char *ts_key_kty(const ts_key *k);
/* 1 for a shared (HMAC) secret, which must never sit beside public keys
 * (K7) nor in a file others can read (K8). */
int ts_key_is_secret(const ts_key *k);

/* Verifies sig over (msg, msglen) with k, enforcing the exact signature
 * length and format for k's algorithm (A3, A4). Returns TS_OK only when
 * OpenSSL's verification returned exactly 1 (A6); TS_R_BAD_SIGNATURE for a
 * wrong signature; TS_R_INTERNAL for a library failure. The OpenSSL error
 * queue is left as it was found. */
ts_reason ts_key_verify(const ts_key *k, const unsigned char *msg, size_t msglen,
    const unsigned char *sig, size_t siglen, ts_err *e);

#endif
