/*
 * jdiff.h: compares common/json.c with jansson on one input (shared by
 * tests/t_json.c and tests/fuzz/fuzz_json.c). Header-only: both link it.
 *
 * The contract: whatever json.c accepts, jansson (JSON_REJECT_DUPLICATES,
 * top-level object) accepts too, with the same tree; and jansson accepts
 * nothing json.c refuses, except the input classes listed in
 * jdiff_known_stricter().
 */
#ifndef TS_JDIFF_H
#define TS_JDIFF_H

#include <string.h>

#include <jansson.h>

#include "json.h"

/* Deep equality of a json.c value and a jansson value; 1 when equal. */
static int
jdiff_equal(const ts_jv *a, const json_t *b)
{
	size_t i;
	const ts_jv *k;

	switch (a->type) {
	case TS_JSON_OBJECT:
		if (!json_is_object(b) || json_object_size(b) != a->n)
			return 0;
		for (i = 0, k = a + 1; i < a->n; i++, k += 1 + k[1].skip) {
			const json_t *bv = json_object_get(b, k->u.s);

			if (bv == NULL || !jdiff_equal(k + 1, bv))
				return 0;
		}
		return 1;
	case TS_JSON_ARRAY:
		if (!json_is_array(b) || json_array_size(b) != a->n)
			return 0;
		for (i = 0, k = a + 1; i < a->n; i++, k += k->skip)
			if (!jdiff_equal(k, json_array_get(b, i)))
				return 0;
		return 1;
	case TS_JSON_STRING:
		return json_is_string(b) && json_string_length(b) == a->n &&
		    memcmp(json_string_value(b), a->u.s, a->n) == 0 && a->u.s[a->n] == '\0';
	case TS_JSON_INTEGER: return json_is_integer(b) && json_integer_value(b) == a->u.i;
	case TS_JSON_REAL:
		return json_is_real(b) &&
		    memcmp(&(double){ json_real_value(b) }, &a->u.d, sizeof(double)) == 0;
	case TS_JSON_TRUE: return json_is_true(b);
	case TS_JSON_FALSE: return json_is_false(b);
	case TS_JSON_NULL: return json_is_null(b);
	default: return 0;
	}
}

/* Nesting of [ and { outside strings (how json.c and jws.c count depth). */
static size_t
jdiff_depth(const char *p, size_t len)
{
	size_t i, d = 0, max = 0;
	int in_str = 0, esc = 0;

	for (i = 0; i < len; i++) {
		if (in_str) {
			if (esc)
				esc = 0;
			else if (p[i] == '\\')
				esc = 1;
			else if (p[i] == '"')
				in_str = 0;
		} else if (p[i] == '"') {
			in_str = 1;
		} else if (p[i] == '{' || p[i] == '[') {
			if (++d > max)
				max = d;
		} else if ((p[i] == '}' || p[i] == ']') && d > 0) {
			d--;
		}
	}
	return max;
}

/* Inputs jansson takes and json.c refuses on purpose: a NUL byte ends
 * jansson's reading of some inputs early. None else is known. */
static int
jdiff_known_stricter(const char *buf, size_t len)
{
	return memchr(buf, '\0', len) != NULL;
}

/*
 * 0: agree. 1: json.c accepted what jansson refused, or their trees
 * differ (a bug). 2: jansson accepted what json.c refused, outside the
 * known classes (a bug or a new documented divergence).
 */
static int
jdiff_check(const char *buf, size_t len, size_t max_depth)
{
	ts_jdoc *d = NULL;
	json_error_t je;
	json_t *j = NULL;
	int ours, theirs, rc = 0;

	ours = ts_jdoc_parse(buf, len, max_depth, &d, NULL) == TS_OK;
	if (jdiff_depth(buf, len) <= max_depth)
		j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	theirs = j != NULL && json_is_object(j);
	if (ours && (!theirs || !jdiff_equal(ts_jdoc_root(d), j)))
		rc = 1;
	else if (!ours && theirs && !jdiff_known_stricter(buf, len))
		rc = 2;
	ts_jdoc_free(d);
	json_decref(j);
	return rc;
}

#endif
