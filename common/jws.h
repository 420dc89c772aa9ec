/*
 * jws.h: compact JWS (RFC 7515 section 7.1), strictly.
 *
 * Two stages, so that no claim can be read before its signature verified
 * (M6): ts_jws_parse() checks the token's shape and header and decodes the
 * parts; before verification only the header fields and the payload's `iss`
 * (needed to find the key, K1) can be read. ts_jws_verify() checks the
 * signature with a key the caller chose; only after it succeeded does
 * ts_jws_claims() / ts_jws_payload() return anything.
 *
 * The ts_jws points into the caller's token buffer, which must outlive it.
 */
#ifndef TS_JWS_H
#define TS_JWS_H

#include <stddef.h>

#include <jansson.h>

#include "alg.h"
#include "err.h"
#include "json.h"
#include "key.h"
#include "tokenscope.h" /* TS_TOKEN_HARD_MAX */

#define TS_TOKEN_DEFAULT_MAX 8192 /* P1: default cap on the whole token */
#define TS_HEADER_MAX 1024 /* decoded header bytes */
#define TS_KID_MAX 256 /* K10: kid bytes */
#define TS_TYP_MAX 64
#define TS_JSON_MAX_DEPTH 16 /* P3: nesting of [ and { */

typedef struct ts_jws ts_jws;

/*
 * Parses (tok, len). max_len is the configured cap (clamped to
 * TS_TOKEN_HARD_MAX). Rejects: too long; not exactly three segments;
 * characters outside base64url; non-strict base64url; header not a JSON
 * object, duplicate members, too deep; alg missing, not a string, "none" or
 * unknown; kid/typ not strings or too long; crit, b64, zip, enc or cty
 * present. Returns TS_OK and *out, or a reason with e->msg set.
 */
ts_reason ts_jws_parse(const char *tok, size_t len, size_t max_len, ts_jws **out, ts_err *e);

ts_alg ts_jws_alg(const ts_jws *j);
/* kid bytes and length, or NULL when the header has no kid. Not NUL-safe to
 * print: use ts_sanitize(). */
const char *ts_jws_kid(const ts_jws *j, size_t *len);
/* typ, or NULL when absent. */
const char *ts_jws_typ(const ts_jws *j);

/*
 * Parses the payload as a JSON object (json.h: duplicates rejected, depth
 * bounded) and returns its `iss`, which must be a string (K3: arrays,
 * numbers and strings with NUL are rejected; json.h refuses \u0000).
 * The pointer stays valid for the life of j. This is the only payload
 * member readable before verification, because the key depends on it.
 */
ts_reason ts_jws_iss(ts_jws *j, const char **iss, size_t *iss_len, ts_err *e);

/* Checks that the header alg equals the key's pinned alg (K4) and verifies
 * the signature over the exact received bytes (P2). */
ts_reason ts_jws_verify(ts_jws *j, const ts_key *key, ts_err *e);

/* The claims object, or NULL unless ts_jws_verify() succeeded and the
 * payload is a JSON object (see ts_jws_iss for the parse). */
const ts_jv *ts_jws_claims(ts_jws *j, ts_err *e);
/* The decoded payload bytes, or NULL unless verified. */
const unsigned char *ts_jws_payload(const ts_jws *j, size_t *len);

/* 1 when len is one of the lengths at which clients and PAM applications
 * cut their input (M5: Linux-PAM's 512-byte PAM_MAX_RESP_SIZE, the ssh
 * client's 1024-byte line, Dovecot's IMAP LOGIN buffer). */
int ts_jws_cut_length(size_t len);

/* Frees and wipes the decoded parts. NULL is fine. */
void ts_jws_free(ts_jws *j);

/* Parses a JSON object strictly with jansson: duplicates rejected, depth
 * bounded, trailing data rejected. For fetch-keys, which wants a mutable
 * tree of public keys; token parts and the keyring's key files use json.h
 * (jansson does not wipe what it frees). Errors give line and column and a
 * fixed description, never jansson's text, which quotes the input. */
json_t *ts_json_parse_object(const char *buf, size_t len, size_t max_depth, ts_err *e);

#endif
