/* t_json.c: the strict JSON reader for token headers and claims
 * (common/json.c), case by case and against jansson (tests/jdiff.h). */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jdiff.h"
#include "json.h"
#include "jws.h"
#include "tap.h"

static int
parses(const char *s, size_t depth)
{
	ts_jdoc *d = NULL;
	int r = ts_jdoc_parse(s, strlen(s), depth, &d, NULL) == TS_OK;

	ts_jdoc_free(d);
	return r;
}

/* Valid JSON objects: both readers accept, with the same tree. */
static const char *const good[] = {
	"{}",
	" \t\r\n{ \t\r\n} \t\r\n",
	"{\"\":0}",
	"{\"a\":{\"b\":[1,2,{\"c\":[]}]},\"d\":\"e\"}",
	"{\"s\":\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\"}",
	"{\"u\":\"\\u00e9\\u20ac\\ud83d\\ude00\\uFFFF\\u007f\"}",
	"{\"raw\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\xee\x80\x80\"}",
	"{\"n\":[0,-0,1,-1,123456789,9223372036854775807,-9223372036854775808]}",
	"{\"r\":[1.5,-0.25,1e3,1E+3,1e-3,-1.5e-300,0.0,1e308,5e-324,1e-400]}",
	"{\"l\":[true,false,null]}",
	"{\"iss\":\"https:\\/\\/idp.example.com\",\"exp\":1.7e9}",
	"{\"del\":\"\x7f\"}",
	"{\"k\":\"v\",\"K\":\"w\"}",
	"{\"a\":[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]}",
};

/* Invalid or refused: both readers refuse. */
static const char *const bad[] = {
	"",
	"   ",
	"[]",
	"\"s\"",
	"1",
	"null",
	"{",
	"}",
	"{\"a\"}",
	"{\"a\" 1}",
	"{a:1}",
	"{'a':1}",
	"{\"a\":1,}",
	"{\"a\":[1,]}",
	"{\"a\":[1 2]}",
	"{\"a\":1}{}",
	"{\"a\":1} x",
	"{\"a\":01}",
	"{\"a\":-}",
	"{\"a\":1.}",
	"{\"a\":.5}",
	"{\"a\":1e}",
	"{\"a\":1e+}",
	"{\"a\":+1}",
	"{\"a\":NaN}",
	"{\"a\":Infinity}",
	"{\"a\":-Infinity}",
	"{\"a\":0x10}",
	"{\"a\":tru}",
	"{\"a\":nul}",
	"{\"a\":True}",
	"{\"a\":\"\x01\"}",
	"{\"a\":\"\t\"}",
	"{\"a\":\"\n\"}",
	"{\"a\":\"\\u0000\"}",
	"{\"a\\u0000\":1}",
	"{\"a\":\"\\ud800\"}",
	"{\"a\":\"\\udc00\"}",
	"{\"a\":\"\\ud800\\u0041\"}",
	"{\"a\":\"\\ud800x\"}",
	"{\"a\":\"\\x41\"}",
	"{\"a\":\"\\'\"}",
	"{\"a\":\"\\u12\"}",
	"{\"a\":\"\\u12g4\"}",
	"{\"a\":\"unterminated}",
	"{\"a\":\"\xc0\x80\"}",
	"{\"a\":\"\xc1\xbf\"}",
	"{\"a\":\"\xe0\x80\x80\"}",
	"{\"a\":\"\xe0\x9f\xbf\"}",
	"{\"a\":\"\xed\xa0\x80\"}",
	"{\"a\":\"\xf0\x80\x80\x80\"}",
	"{\"a\":\"\xf4\x90\x80\x80\"}",
	"{\"a\":\"\xf5\x80\x80\x80\"}",
	"{\"a\":\"\x80\"}",
	"{\"a\":\"\xc3\"}",
	"{\"a\":\"\xe2\x82\"}",
	"{\"a\":\"\xff\"}",
	"\xef\xbb\xbf{}",
	"{\"a\":1 /* c */}",
	"{\"a\":9223372036854775808}",
	"{\"a\":-9223372036854775809}",
	"{\"a\":99999999999999999999999}",
	"{\"a\":1e400}",
	"{\"a\":-1e400}",
	"{\"a\":1,\"a\":2}",
	"{\"a\":1,\"\\u0061\":2}",
	"{\"x\":{\"a\":1,\"b\":2,\"a\":3}}",
	"{\"x\":[{\"a\":1,\"a\":1}]}",
};

static void
cases(void)
{
	size_t i, agree = 0, accepted = 0, refused = 0;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		accepted += parses(good[i], 16);
		agree += jdiff_check(good[i], strlen(good[i]), 16) == 0;
	}
	ok(accepted == sizeof(good) / sizeof(good[0]), "valid_objects_accepted (%zu/%zu)", accepted,
	    sizeof(good) / sizeof(good[0]));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parses(bad[i], 16))
			tap_diag("accepted bad case %zu", i);
		else
			refused++;
		agree += jdiff_check(bad[i], strlen(bad[i]), 16) == 0;
	}
	ok(refused == sizeof(bad) / sizeof(bad[0]), "invalid_objects_refused (%zu/%zu)", refused,
	    sizeof(bad) / sizeof(bad[0]));
	ok(agree == sizeof(good) / sizeof(good[0]) + sizeof(bad) / sizeof(bad[0]),
	    "same_verdict_and_tree_as_jansson (%zu cases)", agree);
}

static void
nul_byte(void)
{
	static const char in[] = "{\"a\":1}\0";
	ts_jdoc *d = NULL;

	ok(ts_jdoc_parse(in, sizeof(in) - 1, 16, &d, NULL) == TS_R_MALFORMED,
	    "P3_nul_byte_after_object_refused");
	ok(ts_jdoc_parse("{\"a\":\"x\0y\"}", 11, 16, &d, NULL) == TS_R_MALFORMED,
	    "P3_raw_nul_in_string_refused");
}

/* P3: the depth limit counts [ and { exactly. */
static void
depth(void)
{
	char buf[200];
	size_t n, i;

	for (n = 1; n <= 18; n++) {
		size_t o = 0;

		for (i = 0; i < n; i++)
			o += (size_t)snprintf(
			    buf + o, sizeof(buf) - o, "%s", i == 0 ? "{\"a\":" : "[");
		buf[o++] = '1';
		for (i = n; i > 1; i--)
			buf[o++] = ']';
		buf[o++] = '}';
		buf[o] = '\0';
		if (n == 16)
			ok(parses(buf, 16), "P3_depth_16_of_16_accepted");
		if (n == 17)
			ok(!parses(buf, 16), "P3_depth_17_of_16_refused");
	}
	ok(parses("{\"a\":{\"b\":{\"c\":{}}}}", 4) &&
	        !parses("{\"a\":{\"b\":{\"c\":{\"d\":{}}}}}", 4),
	    "P3_header_depth_4");
}

/* Values, lookups and sibling skipping over nested content. */
static void
values(void)
{
	static const char in[] =
	    "{\"x\":{\"y\":[1,{\"z\":2}],\"w\":\"\"},\"aud\":[\"a\",[\"b\",\"c\"],\"d\"],"
	    "\"exp\":1700000000,\"f\":1.5,\"s\":\"h\\u00e9\\n\",\"t\":true,\"n\":null}";
	ts_jdoc *d = NULL;
	const ts_jv *r, *v;
	size_t len;
	int fine;

	if (!ok(ts_jdoc_parse(in, sizeof(in) - 1, 16, &d, NULL) == TS_OK, "values_parse"))
		return;
	r = ts_jdoc_root(d);
	ok(r->type == TS_JSON_OBJECT && r->n == 7, "root_object_members");
	v = ts_jv_get(r, "aud");
	fine = ts_jv_is(v, TS_JSON_ARRAY) && v->n == 3 &&
	    strcmp(ts_jv_str(ts_jv_at(v, 0), NULL), "a") == 0 &&
	    ts_jv_is(ts_jv_at(v, 1), TS_JSON_ARRAY) &&
	    strcmp(ts_jv_str(ts_jv_at(v, 2), NULL), "d") == 0 && ts_jv_at(v, 3) == NULL;
	ok(fine, "array_elements_skip_nested_arrays");
	v = ts_jv_get(r, "exp");
	ok(ts_jv_is(v, TS_JSON_INTEGER) && v->u.i == 1700000000, "integer_value");
	v = ts_jv_get(r, "f");
	ok(ts_jv_is(v, TS_JSON_REAL) && v->u.d == 1.5, "real_value");
	ok(strcmp(ts_jv_str(ts_jv_get(r, "s"), &len), "h\xc3\xa9\n") == 0 && len == 4,
	    "string_unescaped_nul_terminated");
	ok(ts_jv_is(ts_jv_get(r, "t"), TS_JSON_TRUE) && ts_jv_is(ts_jv_get(r, "n"), TS_JSON_NULL),
	    "literals");
	ok(ts_jv_get(r, "y") == NULL && ts_jv_get(r, "z") == NULL,
	    "lookup_sees_only_direct_members");
	ok(ts_jv_get(ts_jv_get(r, "aud"), "a") == NULL && ts_jv_at(r, 0) == NULL &&
	        ts_jv_str(ts_jv_get(r, "exp"), &len) == NULL && len == 0,
	    "accessors_refuse_the_wrong_type");
	ts_jdoc_free(d);
}

/* Duplicates in large objects go through the hash table: still found, and
 * thousands of distinct members stay cheap. */
static void
large_objects(void)
{
	size_t n = 5000, i, o = 0, cap = n * 16 + 16;
	char *buf = malloc(cap);
	ts_jdoc *d = NULL;

	buf[o++] = '{';
	for (i = 0; i < n; i++)
		o += (size_t)snprintf(buf + o, cap - o, "%s\"m%zu\":%zu", i ? "," : "", i, i);
	buf[o++] = '}';
	ok(ts_jdoc_parse(buf, o, 16, &d, NULL) == TS_OK && ts_jdoc_root(d)->n == n &&
	        ts_jv_get(ts_jdoc_root(d), "m4999")->u.i == 4999,
	    "P3_5000_distinct_members_accepted");
	ts_jdoc_free(d);
	d = NULL;
	/* the last member repeats the first, spelled with an escape */
	o--;
	o += (size_t)snprintf(buf + o, cap - o, ",\"\\u006d0\":1}");
	ok(ts_jdoc_parse(buf, o, 16, &d, NULL) == TS_R_MALFORMED,
	    "P3_duplicate_among_5000_members_refused");
	ok(jdiff_check(buf, o, 16) == 0, "large_duplicate_same_verdict_as_jansson");
	free(buf);
}

static void
messages(void)
{
	const char *quasi;
	ts_err e = { "" };
	ts_jdoc *d = NULL;

	ts_jdoc_parse("{\"secret-value\":tru}", 20, 16, &d, &e);
	ok(strstr(e.msg, "line 1, column 17") != NULL && strstr(e.msg, "secret") == NULL,
	    "M3_error_gives_position_never_input (%s)", e.msg);
	/* the jansson path too (fetch-keys reads key files with it): its own
	 * text would say "invalid token near 'QuasiSecretText'" */
	e.msg[0] = '\0';
	quasi = "{\"k\":\n QuasiSecretText7}";
	json_decref(ts_json_parse_object(quasi, strlen(quasi), 8, &e));
	ok(strstr(e.msg, "line 2") != NULL && strstr(e.msg, "Quasi") == NULL &&
	        strstr(e.msg, "Secret") == NULL,
	    "M3_jansson_error_never_quotes_input (%s)", e.msg);
}

/* strtod must not follow LC_NUMERIC: under a comma locale "1.5" is still
 * 1.5 (skipped when no such locale is installed). */
static void
locale_independent(void)
{
	ts_jdoc *d = NULL;

	if (setlocale(LC_NUMERIC, "de_DE.UTF-8") == NULL) {
		/* not installed: compile one into the build tree */
		const char *b = getenv("TS_BUILDDIR");
		char dir[2048], cmd[4300];

		snprintf(dir, sizeof(dir), "%s/tests/tmp/locale", b ? b : ".");
		snprintf(cmd, sizeof(cmd),
		    "mkdir -p '%s' && localedef -i de_DE -f UTF-8 '%s/de_DE.UTF-8' >/dev/null 2>&1",
		    dir, dir);
		if (system(cmd) == -1)
			tap_diag("localedef could not run");
		setenv("LOCPATH", dir, 1);
	}
	if (setlocale(LC_NUMERIC, "de_DE.UTF-8") == NULL) {
		tap_diag("no comma-decimal locale (localedef failed); checked under C only");
		setlocale(LC_NUMERIC, "C");
	} else {
		ok(strtod("1.5", NULL) == 1.0, "the host's strtod reads 1.5 as 1 under de_DE");
	}
	ok(ts_jdoc_parse("{\"f\":1.5}", 9, 16, &d, NULL) == TS_OK &&
	        ts_jv_get(ts_jdoc_root(d), "f")->u.d == 1.5,
	    "real_parsing_ignores_LC_NUMERIC");
	ts_jdoc_free(d);
	setlocale(LC_NUMERIC, "C");
}

int
main(void)
{
	cases();
	nul_byte();
	depth();
	values();
	large_objects();
	messages();
	locale_independent();
	return tap_done();
}
