/*
 * alg.h: the JWS algorithms tokenscope knows (RFC 7518, RFC 8037).
 * "none" is not among them and cannot be named by any config or token.
 */
#ifndef TS_ALG_H
#define TS_ALG_H

#include <stddef.h>

typedef enum ts_alg {
	TS_ALG_INVALID = 0,
	TS_ALG_HS256,
	TS_ALG_HS384,
	TS_ALG_HS512,
	TS_ALG_RS256,
	TS_ALG_RS384,
	TS_ALG_RS512,
	TS_ALG_PS256,
	TS_ALG_PS384,
	TS_ALG_PS512,
	TS_ALG_ES256,
	TS_ALG_ES384,
	TS_ALG_ES512,
	TS_ALG_EDDSA,
	TS_ALG__COUNT
} ts_alg;

typedef enum ts_alg_family {
	TS_FAM_HMAC = 1,
	TS_FAM_RSA_PKCS1,
	TS_FAM_RSA_PSS,
	TS_FAM_ECDSA,
	TS_FAM_EDDSA,
} ts_alg_family;

typedef struct ts_alg_info {
	ts_alg alg;
	const char *name; /* exact JOSE spelling */
	ts_alg_family family;
	const char *digest; /* OpenSSL digest name; NULL for EdDSA */
	size_t hash_len; /* digest output bytes; PSS salt length; HMAC minimum key */
	const char *curve; /* OpenSSL group name for ECDSA, else NULL */
	size_t coord_len; /* ECDSA: bytes of r and of s (signature is 2x) */
} ts_alg_info;

/* Exact, case-sensitive match on the JOSE name; NULL-safe. Returns
 * TS_ALG_INVALID for "none", unknown names and names holding NUL (the
 * length is explicit for that reason). */
ts_alg ts_alg_from_name(const char *name, size_t len);

/* Never NULL for a valid alg; NULL for TS_ALG_INVALID or out of range. */
const ts_alg_info *ts_alg_info_get(ts_alg alg);

const char *ts_alg_name(ts_alg alg); /* "?" for invalid */

#endif
