/* fx.c: loading tests/fixtures (see fixtures.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fx.h"
#include "jwk.h"
#include "tap.h"

static json_t *fx_root;

static json_t *
tokens(void)
{
	json_error_t jerr;

	json_t *authz;

	if (fx_root == NULL) {
		fx_root = json_load_file(fx_path("tokens.json"), JSON_REJECT_DUPLICATES, &jerr);
		if (fx_root == NULL)
			tap_bail("tokens.json: %s", jerr.text);
		/* the authorization cases (gen_authz.py), made for the same clock */
		authz = json_load_file(fx_path("authz.json"), JSON_REJECT_DUPLICATES, &jerr);
		if (authz == NULL)
			tap_bail("authz.json: %s", jerr.text);
		if (!json_equal(json_object_get(authz, "now"), json_object_get(fx_root, "now")) ||
		    json_object_update_missing(json_object_get(fx_root, "tokens"),
		        json_object_get(authz, "tokens")) != 0 ||
		    json_array_extend(
		        json_object_get(fx_root, "cases"), json_object_get(authz, "cases")) != 0)
			tap_bail("authz.json does not fit tokens.json");
		json_decref(authz);
	}
	return fx_root;
}

const char *
fx_path(const char *rel)
{
	static char buf[4096];

	snprintf(buf, sizeof(buf), "%s/%s", tap_env("TS_FIXTURES"), rel);
	return buf;
}

static const char *
field(const char *name, const char *f)
{
	json_t *t = json_object_get(json_object_get(tokens(), "tokens"), name);
	const char *v = json_string_value(json_object_get(t, f));

	if (v == NULL)
		tap_bail("no fixture token %s", name);
	return v;
}

const char *
fx_token(const char *name)
{
	return field(name, "token");
}

const char *
fx_token_key(const char *name)
{
	return field(name, "key");
}

const char *
fx_token_alg(const char *name)
{
	return field(name, "alg");
}

time_t
fx_now(void)
{
	return (time_t)json_integer_value(json_object_get(tokens(), "now"));
}

const char *const *
fx_token_names(void)
{
	static const char **names;
	json_t *t = json_object_get(tokens(), "tokens");
	const char *k;
	json_t *v;
	size_t i = 0;

	if (names == NULL) {
		names = calloc(json_object_size(t) + 1, sizeof(*names));
		json_object_foreach(t, k, v) names[i++] = k;
	}
	return names;
}

ts_key *
fx_key(const char *keyname, ts_alg alg)
{
	char rel[256];
	json_error_t jerr;
	json_t *j;
	ts_key *k = NULL;
	ts_err e = { "" };
	ts_jdoc *d = NULL;
	char *text;

	snprintf(rel, sizeof(rel), "keys/%s.jwk", keyname);
	if ((j = json_load_file(fx_path(rel), JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		tap_bail("%s: %s", rel, jerr.text);
	/* the fixture JWK's own "alg" names one use; tests pin others too */
	json_object_del(j, "alg");
	if ((text = json_dumps(j, JSON_COMPACT)) == NULL ||
	    ts_jdoc_parse(text, strlen(text), 8, &d, &e) != TS_OK ||
	    ts_jwk_to_key(ts_jdoc_root(d), alg, ~0u, TS_JWK_ALLOW_SECRET, &k, NULL, NULL, &e) !=
	        TS_OK)
		tap_bail("key %s as %s: %s", keyname, ts_alg_name(alg), e.msg);
	ts_jdoc_free(d);
	ts_freezero(text, strlen(text));
	json_decref(j);
	return k;
}

const json_t *
fx_cases(void)
{
	return json_object_get(tokens(), "cases");
}

const char *
fx_thumbprint(const char *keyname)
{
	const char *v =
	    json_string_value(json_object_get(json_object_get(tokens(), "thumbprints"), keyname));

	if (v == NULL)
		tap_bail("no thumbprint for %s", keyname);
	return v;
}
