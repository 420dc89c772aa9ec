/* json.c: strict JSON reader for token headers and claims (see json.h). */
#include "config.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "json.h"

struct ts_jdoc {
	ts_jv *v;
	size_t nv, cap;
	char *arena; /* unescaped strings, each NUL-terminated */
	size_t arena_len, arena_cap;
};

typedef struct parser {
	const unsigned char *p, *start, *end;
	size_t max_depth;
	ts_jdoc *d;
	ts_err *e;
	int oom;
} parser;

/* strtod must not follow the host's LC_NUMERIC (sshd or Dovecot may run
 * under a locale whose decimal point is a comma). */
static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void
make_c_locale(void)
{
	c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

/* A position, never the bytes there: a key file's JSON may hold a secret. */
static int
bad(parser *ps, const char *why)
{
	const unsigned char *q, *bol = ps->start;
	size_t line = 1;

	for (q = ps->start; q < ps->p; q++)
		if (*q == '\n') {
			line++;
			bol = q + 1;
		}
	ts_fail(ps->e, TS_R_MALFORMED, "invalid JSON at line %zu, column %zu: %s", line,
	    (size_t)(ps->p - bol) + 1, why);
	return -1;
}

static void
skip_ws(parser *ps)
{
	while (ps->p < ps->end &&
	    (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

/* Appends a node; returns its index or -1. */
static long
push(parser *ps, ts_jtype t)
{
	ts_jdoc *d = ps->d;

	if (d->nv == d->cap) {
		size_t ncap = d->cap * 2;
		ts_jv *nv = realloc(d->v, ncap * sizeof(*nv));

		if (nv == NULL) {
			ps->oom = 1;
			return -1;
		}
		d->v = nv;
		d->cap = ncap;
	}
	memset(&d->v[d->nv], 0, sizeof(d->v[0]));
	d->v[d->nv].type = (uint8_t)t;
	d->v[d->nv].skip = 1;
	return (long)d->nv++;
}

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static long
hex4(const unsigned char *q)
{
	long v = 0;
	int i, h;

	for (i = 0; i < 4; i++) {
		if ((h = hexval(q[i])) < 0)
			return -1;
		v = v << 4 | h;
	}
	return v;
}

/* Length of the valid UTF-8 sequence at q (RFC 3629: shortest form, no
 * surrogates, at most U+10FFFF), or 0. */
static size_t
utf8_len(const unsigned char *q, const unsigned char *end)
{
	unsigned char c = q[0];
	size_t n, i;
	unsigned long cp;

	if (c < 0xc2 || c > 0xf4)
		return 0; /* continuation byte, overlong 2-byte lead, or beyond */
	n = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
	if ((size_t)(end - q) < n)
		return 0;
	cp = c & (0x7f >> n);
	for (i = 1; i < n; i++) {
		if ((q[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (q[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

size_t
ts_json_put_string(char *dst, size_t cap, const char *s, size_t len)
{
	const unsigned char *q = (const unsigned char *)s, *end = q + len;
	size_t n = 0;

	if (cap < 8)
		return 0;
	dst[n++] = '"';
	while (q < end) {
		char piece[8];
		size_t plen, u = 0;

		if (*q == '"' || *q == '\\') {
			piece[0] = '\\';
			piece[1] = (char)*q;
			plen = 2;
			u = 1;
		} else if (*q < 0x20 || *q == 0x7f) {
			plen = (size_t)snprintf(piece, sizeof(piece), "\\u%04x", *q);
			u = 1;
		} else if (*q < 0x80) {
			piece[0] = (char)*q;
			plen = u = 1;
		} else if ((u = utf8_len(q, end)) != 0) {
			memcpy(piece, q, u);
			plen = u;
		} else {
			memcpy(piece, "\\ufffd", 6);
			plen = 6;
			u = 1;
		}
		/* room for this piece and still for "...", the quote, the NUL */
		if (n + plen + 5 > cap) {
			memcpy(dst + n, "...", 3);
			n += 3;
			break;
		}
		memcpy(dst + n, piece, plen);
		n += plen;
		q += u;
	}
	dst[n++] = '"';
	dst[n] = '\0';
	return n;
}

static size_t
put_utf8(char *o, unsigned long cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* At an opening quote. Unescapes into the arena, which always has room:
 * an unescaped string plus its NUL is never longer than its quoted form. */
static long
parse_string(parser *ps)
{
	ts_jdoc *d = ps->d;
	char *o = d->arena + d->arena_len, *o0 = o;
	long idx;

	ps->p++;
	for (;;) {
		const unsigned char *q = ps->p;
		size_t n;

		/* the common case: a run of plain ASCII */
		while (q < ps->end && *q >= 0x20 && *q < 0x80 && *q != '"' && *q != '\\')
			q++;
		memcpy(o, ps->p, (size_t)(q - ps->p));
		o += q - ps->p;
		ps->p = q;
		if (q >= ps->end)
			return bad(ps, "unterminated string");
		if (*q == '"')
			break;
		if (*q < 0x20)
			return bad(ps, "control character in string");
		if (*q >= 0x80) {
			if ((n = utf8_len(q, ps->end)) == 0)
				return bad(ps, "invalid UTF-8 in string");
			memcpy(o, q, n);
			o += n;
			ps->p += n;
			continue;
		}
		/* a backslash */
		if (ps->end - q < 2)
			return bad(ps, "unterminated string");
		switch (q[1]) {
		case '"': *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '/': *o++ = '/'; break;
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u': {
			long cp, lo;

			if (ps->end - q < 6 || (cp = hex4(q + 2)) < 0)
				return bad(ps, "invalid \\u escape");
			if (cp == 0)
				return bad(ps, "\\u0000 in string");
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return bad(ps, "unpaired low surrogate");
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (ps->end - q < 12 || q[6] != '\\' || q[7] != 'u' ||
				    (lo = hex4(q + 8)) < 0xdc00 || lo > 0xdfff)
					return bad(ps, "unpaired high surrogate");
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				ps->p += 6;
			}
			o += put_utf8(o, (unsigned long)cp);
			ps->p += 4;
			break;
		}
		default: return bad(ps, "invalid escape");
		}
		ps->p += 2;
	}
	ps->p++; /* the closing quote */
	*o++ = '\0';
	if ((idx = push(ps, TS_JSON_STRING)) < 0)
		return -1;
	d->v[idx].n = (uint32_t)(o - o0 - 1);
	d->v[idx].u.s = o0;
	d->arena_len += (size_t)(o - o0);
	return idx;
}

static long
parse_number(parser *ps)
{
	const unsigned char *s = ps->p, *q = ps->p;
	int neg = 0, real = 0;
	unsigned long long acc = 0;
	long idx;

	if (*q == '-') {
		neg = 1;
		q++;
	}
	if (q >= ps->end || *q < '0' || *q > '9')
		return bad(ps, "invalid number");
	if (*q == '0' && q + 1 < ps->end && q[1] >= '0' && q[1] <= '9')
		return bad(ps, "leading zero in number");
	for (; q < ps->end && *q >= '0' && *q <= '9'; q++) {
		if (acc > (9223372036854775808ULL - (unsigned)(*q - '0')) / 10)
			acc = 9223372036854775809ULL; /* too big; keeps scanning */
		else
			acc = acc * 10 + (unsigned)(*q - '0');
	}
	if (q < ps->end && *q == '.') {
		real = 1;
		if (++q >= ps->end || *q < '0' || *q > '9')
			return bad(ps, "invalid number");
		while (q < ps->end && *q >= '0' && *q <= '9')
			q++;
	}
	if (q < ps->end && (*q == 'e' || *q == 'E')) {
		real = 1;
		if (++q < ps->end && (*q == '+' || *q == '-'))
			q++;
		if (q >= ps->end || *q < '0' || *q > '9')
			return bad(ps, "invalid number");
		while (q < ps->end && *q >= '0' && *q <= '9')
			q++;
	}
	if ((idx = push(ps, real ? TS_JSON_REAL : TS_JSON_INTEGER)) < 0)
		return -1;
	if (!real) {
		if (acc > 9223372036854775807ULL + (unsigned)neg)
			return bad(ps, "integer out of range");
		ps->d->v[idx].u.i = neg ? (long long)(0 - acc) : (long long)acc;
	} else {
		/* strtod needs a NUL: the arena's free tail is long enough only
		 * by accident, so copy to a buffer of our own */
		size_t n = (size_t)(q - s);
		char small[64], *buf = n < sizeof(small) ? small : malloc(n + 1);
		double dv;

		if (buf == NULL) {
			ps->oom = 1;
			return -1;
		}
		memcpy(buf, s, n);
		buf[n] = '\0';
		pthread_once(&c_locale_once, make_c_locale);
		if (c_locale == (locale_t)0) {
			/* never the host's locale: "9.9e9" could read as 9 */
			if (buf != small)
				free(buf);
			ps->oom = 1;
			return -1;
		}
		errno = 0;
		dv = strtod_l(buf, NULL, c_locale);
		if (buf != small)
			free(buf);
		if (errno == ERANGE && isinf(dv))
			return bad(ps, "real number overflow");
		ps->d->v[idx].u.d = dv;
	}
	ps->p = q;
	return idx;
}

static int
literal(parser *ps, const char *word, size_t n)
{
	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
		return bad(ps, "invalid literal");
	ps->p += n;
	return 0;
}

static int
key_cmp(const void *a, const void *b)
{
	const ts_jv *x = *(const ts_jv *const *)a, *y = *(const ts_jv *const *)b;

	if (x->n != y->n)
		return x->n < y->n ? -1 : 1;
	return memcmp(x->u.s, y->u.s, x->n);
}

/* Duplicate member names of the object at index obj. Pairwise for small
 * objects; for large ones the names are sorted and neighbours compared, so
 * that no choice of names (an unkeyed hash could be flooded) costs more
 * than n log n before the signature has been checked. */
static int
check_duplicates(parser *ps, size_t obj)
{
	const ts_jv *v = ps->d->v, **keys, *small[16];
	size_t n = v[obj].n, i, j, k = obj + 1;

	keys = n <= 16 ? small : malloc(n * sizeof(*keys));
	if (keys == NULL) {
		ps->oom = 1;
		return -1;
	}
	for (i = 0; i < n; i++) {
		keys[i] = &v[k];
		k += 1 + v[k + 1].skip;
	}
	if (n <= 16) {
		for (i = 1; i < n; i++)
			for (j = 0; j < i; j++)
				if (key_cmp(&keys[i], &keys[j]) == 0)
					return bad(ps, "duplicate object member");
		return 0;
	}
	qsort(keys, n, sizeof(*keys), key_cmp);
	for (i = 1; i < n && key_cmp(&keys[i - 1], &keys[i]) != 0; i++)
		;
	free(keys);
	return i < n ? bad(ps, "duplicate object member") : 0;
}

static long parse_value(parser *ps, size_t depth);

static long
parse_container(parser *ps, size_t depth)
{
	int is_obj = *ps->p == '{';
	unsigned char close = is_obj ? '}' : ']';
	long idx, k;
	uint32_t count = 0;

	if (depth + 1 > ps->max_depth)
		return bad(ps, "nested too deeply");
	if ((idx = push(ps, is_obj ? TS_JSON_OBJECT : TS_JSON_ARRAY)) < 0)
		return -1;
	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == close) {
		ps->p++;
		return idx;
	}
	for (;;) {
		skip_ws(ps);
		if (is_obj) {
			if (ps->p >= ps->end || *ps->p != '"')
				return bad(ps, "expected a member name");
			if ((k = parse_string(ps)) < 0)
				return -1;
			skip_ws(ps);
			if (ps->p >= ps->end || *ps->p != ':')
				return bad(ps, "expected ':'");
			ps->p++;
		}
		if (parse_value(ps, depth + 1) < 0)
			return -1;
		if (++count > UINT32_MAX / 2)
			return bad(ps, "too many members");
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == close) {
			ps->p++;
			break;
		}
		return bad(ps, is_obj ? "expected ',' or '}'" : "expected ',' or ']'");
	}
	ps->d->v[idx].n = count;
	ps->d->v[idx].skip = (uint32_t)(ps->d->nv - (size_t)idx);
	if (is_obj && check_duplicates(ps, (size_t)idx) < 0)
		return -1;
	return idx;
}

static long
parse_value(parser *ps, size_t depth)
{
	skip_ws(ps);
	if (ps->p >= ps->end)
		return bad(ps, "unexpected end of input");
	switch (*ps->p) {
	case '{':
	case '[': return parse_container(ps, depth);
	case '"': return parse_string(ps);
	case 't':
		if (literal(ps, "true", 4) < 0)
			return -1;
		return push(ps, TS_JSON_TRUE);
	case 'f':
		if (literal(ps, "false", 5) < 0)
			return -1;
		return push(ps, TS_JSON_FALSE);
	case 'n':
		if (literal(ps, "null", 4) < 0)
			return -1;
		return push(ps, TS_JSON_NULL);
	default:
		if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))
			return parse_number(ps);
		return bad(ps, "unexpected character");
	}
}

ts_reason
ts_jdoc_parse(const char *buf, size_t len, size_t max_depth, ts_jdoc **out, ts_err *e)
{
	return ts_jdoc_parse_limit(buf, len, TS_JDOC_MAX, max_depth, out, e);
}

ts_reason
ts_jdoc_parse_limit(
    const char *buf, size_t len, size_t max_len, size_t max_depth, ts_jdoc **out, ts_err *e)
{
	parser ps;
	ts_jdoc *d;

	*out = NULL;
	if (len > max_len || len >= UINT32_MAX)
		return ts_fail(e, TS_R_MALFORMED, "JSON text longer than %zu bytes", max_len);
	if (max_depth > TS_JDOC_MAX_DEPTH) /* the recursion follows it */
		max_depth = TS_JDOC_MAX_DEPTH;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		goto oom;
	d->cap = 32;
	d->arena_cap = len + 1;
	if ((d->v = malloc(d->cap * sizeof(*d->v))) == NULL ||
	    (d->arena = malloc(d->arena_cap)) == NULL)
		goto oom;
	memset(&ps, 0, sizeof(ps));
	ps.p = ps.start = (const unsigned char *)buf;
	ps.end = ps.p + len;
	ps.max_depth = max_depth;
	ps.d = d;
	ps.e = e;
	skip_ws(&ps);
	if (ps.p >= ps.end || *ps.p != '{') {
		bad(&ps, "the top level is not an object");
		goto fail;
	}
	if (parse_container(&ps, 0) < 0)
		goto fail;
	skip_ws(&ps);
	if (ps.p != ps.end) {
		bad(&ps, "data after the top-level object");
		goto fail;
	}
	*out = d;
	return TS_OK;
fail:
	if (!ps.oom) {
		ts_jdoc_free(d);
		return TS_R_MALFORMED;
	}
oom:
	ts_jdoc_free(d);
	return ts_fail(e, TS_R_INTERNAL, "out of memory parsing JSON");
}

const ts_jv *
ts_jdoc_root(const ts_jdoc *d)
{
	return d != NULL && d->nv > 0 ? &d->v[0] : NULL;
}

void
ts_jdoc_free(ts_jdoc *d)
{
	if (d == NULL)
		return;
	if (d->arena != NULL) {
		/* claims may hold personal data; headers nothing secret, but
		 * one rule is simpler than two */
		OPENSSL_cleanse(d->arena, d->arena_cap); /* a failed parse leaves a tail */
		free(d->arena);
	}
	free(d->v);
	free(d);
}

const ts_jv *
ts_jv_get(const ts_jv *obj, const char *name)
{
	size_t nl, i;
	const ts_jv *k;

	if (!ts_jv_is(obj, TS_JSON_OBJECT))
		return NULL;
	nl = strlen(name);
	for (i = 0, k = obj + 1; i < obj->n; i++, k += 1 + k[1].skip)
		if (k->n == nl && memcmp(k->u.s, name, nl) == 0)
			return k + 1;
	return NULL;
}

const ts_jv *
ts_jv_at(const ts_jv *arr, size_t i)
{
	const ts_jv *v;
	size_t k;

	if (!ts_jv_is(arr, TS_JSON_ARRAY) || i >= arr->n)
		return NULL;
	for (k = 0, v = arr + 1; k < i; k++)
		v += v->skip;
	return v;
}

const char *
ts_jv_str(const ts_jv *v, size_t *len)
{
	if (!ts_jv_is(v, TS_JSON_STRING)) {
		if (len != NULL)
			*len = 0;
		return NULL;
	}
	if (len != NULL)
		*len = v->n;
	return v->u.s;
}
