/*
 * json.h: a strict, small JSON reader for what arrives inside a token (the
 * JOSE header and the JWT claims) and in key files. Owned by the core.
 * Key files are read with it rather than jansson because it wipes its
 * string arena on free (an HMAC secret's text must not stay in freed heap)
 * and its errors give a position, never input bytes.
 *
 * Why not jansson here: on the hot path its per-value allocations and
 * hash tables cost more than an RSA-2048 verification's margin.
 * This reader makes two allocations per document and does not build hash
 * tables: a token's objects are small and lookups are few.
 *
 * Strict, and at least as strict as jansson with JSON_REJECT_DUPLICATES
 * (tests/t_json.c and the jansson differential fuzzer hold it to that):
 * RFC 8259 grammar only; the top level is an object; duplicate member names
 * (compared after unescaping) are refused at every level; nesting is
 * bounded; strings must be valid UTF-8 (no overlongs, no surrogates, no
 * code point above U+10FFFF), escapes must pair surrogates, and "\u0000" is
 * refused so that every string is also a C string; integers must fit in a
 * long long; a real that overflows a double is refused; nothing but
 * whitespace may follow the top-level object.
 *
 * Values live in one array in document order: a container is followed by
 * its children (an object by key, value, key, value...), and `skip` counts
 * the value's nodes including itself, so the next sibling is v + v->skip.
 */
#ifndef TS_JSON_H
#define TS_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef enum ts_jtype {
	TS_JSON_OBJECT = 1,
	TS_JSON_ARRAY,
	TS_JSON_STRING,
	TS_JSON_INTEGER,
	TS_JSON_REAL,
	TS_JSON_TRUE,
	TS_JSON_FALSE,
	TS_JSON_NULL
} ts_jtype;

typedef struct ts_jv {
	uint8_t type;
	uint32_t n; /* object: members; array: elements; string: bytes */
	uint32_t skip; /* nodes in this value's subtree, itself included */
	union {
		const char *s; /* string: unescaped, NUL-terminated */
		long long i;
		double d;
	} u;
} ts_jv;

typedef struct ts_jdoc ts_jdoc;

/* Largest input accepted (far above TS_TOKEN_HARD_MAX). */
#define TS_JDOC_MAX (1024 * 1024)
/* Deepest nesting any caller may ask for. */
#define TS_JDOC_MAX_DEPTH 64

/* Parses (buf, len) into *out. Returns TS_OK, TS_R_MALFORMED (message
 * "invalid JSON at line L, column C: why", never quoting input bytes) or
 * TS_R_INTERNAL (out of memory). */
ts_reason ts_jdoc_parse(const char *buf, size_t len, size_t max_depth, ts_jdoc **out, ts_err *e);
/* The same with another size cap than TS_JDOC_MAX (key files are larger). */
ts_reason ts_jdoc_parse_limit(
    const char *buf, size_t len, size_t max_len, size_t max_depth, ts_jdoc **out, ts_err *e);
/* The top-level object. */
const ts_jv *ts_jdoc_root(const ts_jdoc *d);
/* Wipes the unescaped strings and frees. NULL is fine. */
void ts_jdoc_free(ts_jdoc *d);

/* Member `name` of an object, or NULL (also when obj is not an object). */
const ts_jv *ts_jv_get(const ts_jv *obj, const char *name);
/* Element i of an array, or NULL. */
const ts_jv *ts_jv_at(const ts_jv *arr, size_t i);
/* The string's bytes and length, or NULL when v is NULL or not a string. */
const char *ts_jv_str(const ts_jv *v, size_t *len);

/* M8: writes (s, len) as one JSON string, quotes included, into dst:
 * '"', '\\' and every control character escaped, valid UTF-8 kept, every
 * byte of invalid UTF-8 written as \ufffd. When the whole string does not
 * fit in cap, it is cut at a character boundary and ends in "..." inside
 * the quotes, so the result is always one whole JSON string. Returns its
 * length (dst NUL-terminated), 0 only when cap < 8. */
size_t ts_json_put_string(char *dst, size_t cap, const char *s, size_t len);

static inline int
ts_jv_is(const ts_jv *v, ts_jtype t)
{
	return v != NULL && v->type == (uint8_t)t;
}

#endif
