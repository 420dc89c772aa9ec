/*
 * b64url.h: strict base64url (RFC 7515 section 2, RFC 4648 section 5).
 *
 * Strict means: only [A-Za-z0-9_-], no '=' padding, no whitespace, no length
 * congruent to 1 mod 4, and the unused low bits of the last character zero,
 * so that every byte string has exactly one accepted encoding (P2).
 */
#ifndef TS_B64URL_H
#define TS_B64URL_H

#include <stdbool.h>
#include <stddef.h>

/* Decoded length of a valid encoding of inlen characters. */
#define TS_B64URL_DECODED_LEN(inlen) (((inlen) / 4) * 3 + (((inlen) % 4) ? ((inlen) % 4) - 1 : 0))
/* Encoded length (no padding) of n bytes, without the NUL. */
#define TS_B64URL_ENCODED_LEN(n) (((n) / 3) * 4 + (((n) % 3) ? ((n) % 3) + 1 : 0))

/* True if c is in the base64url alphabet. */
bool ts_b64url_char(unsigned char c);
/* Length of the longest prefix of (s, len) in the base64url alphabet. */
size_t ts_b64url_span(const char *s, size_t len);

/* Decodes (in, inlen) into out, which holds outcap bytes. Returns 0 and sets
 * *outlen, or -1 on any non-strict input or if out is too small. On failure
 * out may hold partial data (callers wipe it if it matters). */
int ts_b64url_decode(
    const char *in, size_t inlen, unsigned char *out, size_t outcap, size_t *outlen);

/* Encodes n bytes into out (outcap >= TS_B64URL_ENCODED_LEN(n) + 1), NUL-terminated.
 * Returns the length written, or 0 with out="" if out is too small. */
size_t ts_b64url_encode(const unsigned char *in, size_t n, char *out, size_t outcap);

#endif
