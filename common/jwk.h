/*
 * jwk.h: one JSON Web Key (RFC 7517) to a ts_key, strictly (K7).
 *
 * Refused: unknown kty, private members (d, p, q, dp, dq, qi, oth) in a
 * public key, use other than "sig", key_ops without "verify", an "alg"
 * member that is unknown or does not fit the key, non-minimal or wrongly
 * sized base64url integers and coordinates, EC points off their curve, and
 * everything ts_key_from_pkey() refuses, a "k" member on a non-oct key, and
 * an "x5c" whose first certificate holds another public key (K12). A
 * symmetric ("oct") key is accepted only when the caller passes
 * TS_JWK_ALLOW_SECRET.
 *
 * The JWK is read from the project's own JSON reader (json.h), not jansson:
 * that reader wipes its string arena on free, so an HMAC secret's text does
 * not stay behind in freed heap memory (K8, M4).
 */
#ifndef TS_JWK_H
#define TS_JWK_H

#include <time.h>

#include <openssl/x509.h>

#include "json.h"
#include "key.h"

#define TS_JWK_ALLOW_SECRET 0x1u
/* K15: a key without x5c gets its EVP key and the checks on it (an EC
 * point on its curve) at its first use (ts_key_from_raw) */
#define TS_JWK_LAZY 0x2u

/* The validity window of the JWK's x5c certificate, when it has one (K12). */
typedef struct ts_jwk_window {
	int has_cert;
	time_t not_before, not_after;
} ts_jwk_window;

/*
 * alg: the algorithm the configuration pins for this key, or TS_ALG_INVALID
 * to take it from the JWK's "alg" member, or failing that to infer it from
 * `allowed` (a bit per ts_alg) when exactly one allowed alg fits.
 * On success *out is the key; *kid_out (may be NULL) points into jwk's
 * document; *win (may be NULL) holds the x5c certificate's window.
 */
/* Members that carry private or secret key material, NULL-terminated: a
 * JWK holding one is not a public key. "k" is an oct key's secret, which a
 * keyring with HMAC enabled accepts and fetch-keys never publishes. */
extern const char *const ts_jwk_private_members[];

ts_reason ts_jwk_to_key(const ts_jv *jwk, ts_alg alg, unsigned allowed, unsigned flags,
    ts_key **out, const char **kid_out, ts_jwk_window *win, ts_err *e);

/* A certificate's validity window (PEM key files and x5c alike). */
ts_reason ts_x509_window(const X509 *cert, time_t *not_before, time_t *not_after);

#endif
