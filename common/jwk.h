/*
 * jwk.h: one JSON Web Key (RFC 7517) to a ts_key, strictly (K7).
 *
 * Refused: unknown kty, private members (d, p, q, dp, dq, qi, oth) in a
 * public key, use other than "sig", key_ops without "verify", an "alg"
 * member that is unknown or does not fit the key, non-minimal or wrongly
 * sized base64url integers and coordinates, EC points off their curve, and
 * everything ts_key_from_pkey() refuses. A symmetric ("oct") key is accepted
 * only when the caller passes TS_JWK_ALLOW_SECRET.
 */
#ifndef TS_JWK_H
#define TS_JWK_H

#include <jansson.h>

#include "key.h"

#define TS_JWK_ALLOW_SECRET 0x1u

/*
 * alg: the algorithm the configuration pins for this key, or TS_ALG_INVALID
 * to take it from the JWK's "alg" member, or failing that to infer it from
 * `allowed` (a bit per ts_alg) when exactly one allowed alg fits.
 * On success *out is the key; *kid_out (may be NULL) points into jwk.
 */
ts_reason ts_jwk_to_key(const json_t *jwk, ts_alg alg, unsigned allowed, unsigned flags,
    ts_key **out, const char **kid_out, ts_err *e);

#endif
