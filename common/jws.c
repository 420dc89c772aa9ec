/* jws.c: compact JWS parsing and verification (see jws.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "b64url.h"
#include "jws.h"

struct ts_jws {
	const char *signing_input; /* header.payload, exactly as received */
	size_t signing_len;
	ts_jdoc *header;
	unsigned char *payload;
	size_t payload_len, payload_cap;
	ts_jdoc *claims; /* parsed lazily by ts_jws_iss / ts_jws_claims */
	unsigned char *sig;
	size_t sig_len, sig_cap;
	ts_alg alg;
	const char *kid;
	size_t kid_len;
	const char *typ;
	int verified;
};

/* Maximum nesting of arrays/objects, scanning outside strings only. jansson
 * would accept up to 2048 levels; we bound it far lower (P3). */
static size_t
json_depth(const char *p, size_t len)
{
	size_t i, depth = 0, max = 0;
	int in_str = 0, esc = 0;

	for (i = 0; i < len; i++) {
		char c = p[i];

		if (in_str) {
			if (esc)
				esc = 0;
			else if (c == '\\')
				esc = 1;
			else if (c == '"')
				in_str = 0;
		} else if (c == '"') {
			in_str = 1;
		} else if (c == '{' || c == '[') {
			if (++depth > max)
				max = depth;
		} else if ((c == '}' || c == ']') && depth > 0) {
			depth--;
		}
	}
	return max;
}

/* A fixed description of a jansson error class (never its text). */
static const char *
json_error_what(enum json_error_code c)
{
	switch (c) {
	case json_error_premature_end_of_input: return "premature end of input";
	case json_error_end_of_input_expected: return "data after the top-level value";
	case json_error_invalid_syntax: return "invalid syntax";
	case json_error_invalid_format: return "invalid format";
	case json_error_wrong_type: return "wrong type";
	case json_error_null_character: return "NUL character";
	case json_error_null_value: return "null value";
	case json_error_null_byte_in_key: return "NUL byte in a member name";
	case json_error_duplicate_key: return "duplicate object member";
	case json_error_numeric_overflow: return "number out of range";
	case json_error_item_not_found: return "item not found";
	case json_error_index_out_of_range: return "index out of range";
	case json_error_invalid_utf8: return "invalid UTF-8";
	case json_error_out_of_memory: return "out of memory";
	case json_error_stack_overflow: return "nested too deeply";
	case json_error_cannot_open_file: return "cannot open file";
	case json_error_invalid_argument: return "invalid argument";
	default: return "invalid JSON";
	}
}

json_t *
ts_json_parse_object(const char *buf, size_t len, size_t max_depth, ts_err *e)
{
	json_error_t jerr;
	json_t *j;

	if (json_depth(buf, len) > max_depth) {
		ts_fail(e, TS_R_MALFORMED, "JSON nested deeper than %zu levels", max_depth);
		return NULL;
	}
	/* no JSON_DECODE_ANY: only an object or array at the top; no
	 * JSON_ALLOW_NUL: "\u0000" inside a string is refused */
	j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL) {
		/* jansson's text quotes input ("near '...'", a duplicate key's
		 * name): from a key file that can be part of a secret, so only
		 * the position and a fixed description leave this function */
		ts_fail(e, TS_R_MALFORMED, "invalid JSON at line %d, column %d: %s", jerr.line,
		    jerr.column, json_error_what(json_error_code(&jerr)));
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		ts_fail(e, TS_R_MALFORMED, "JSON value is not an object");
		return NULL;
	}
	return j;
}

/* Header members that change how the payload or signature is to be read.
 * None is implemented, so each is a reason to refuse (P4). */
static const char *const refused_members[] = { "crit", "b64", "zip", "enc", "cty" };

static ts_reason
check_header(ts_jws *j, ts_err *e)
{
	const ts_jv *h = ts_jdoc_root(j->header), *alg, *kid, *typ;
	size_t i;

	for (i = 0; i < sizeof(refused_members) / sizeof(refused_members[0]); i++) {
		if (ts_jv_get(h, refused_members[i]) != NULL)
			return ts_fail(e, TS_R_UNSUPPORTED_HEADER,
			    "header member \"%s\" is not supported", refused_members[i]);
	}
	alg = ts_jv_get(h, "alg");
	if (alg == NULL)
		return ts_fail(e, TS_R_MALFORMED, "header has no \"alg\"");
	if (!ts_jv_is(alg, TS_JSON_STRING))
		return ts_fail(e, TS_R_MALFORMED, "header \"alg\" is not a string");
	/* A1: "none" in any spelling is simply not a known name */
	j->alg = ts_alg_from_name(alg->u.s, alg->n);
	if (j->alg == TS_ALG_INVALID) {
		char shown[24];

		ts_sanitize(shown, sizeof(shown), alg->u.s, alg->n);
		return ts_fail(e, TS_R_ALG_NOT_ALLOWED,
		    "header alg \"%s\" is not a supported algorithm", shown);
	}
	kid = ts_jv_get(h, "kid");
	if (kid != NULL) {
		if (!ts_jv_is(kid, TS_JSON_STRING))
			return ts_fail(e, TS_R_MALFORMED, "header \"kid\" is not a string");
		if (kid->n > TS_KID_MAX)
			return ts_fail(
			    e, TS_R_MALFORMED, "header \"kid\" longer than %d bytes", TS_KID_MAX);
		j->kid = kid->u.s;
		j->kid_len = kid->n;
	}
	typ = ts_jv_get(h, "typ");
	if (typ != NULL) {
		if (!ts_jv_is(typ, TS_JSON_STRING))
			return ts_fail(e, TS_R_MALFORMED, "header \"typ\" is not a string");
		if (typ->n > TS_TYP_MAX)
			return ts_fail(
			    e, TS_R_MALFORMED, "header \"typ\" longer than %d bytes", TS_TYP_MAX);
		j->typ = typ->u.s;
	}
	/* jwk, jku, x5u, x5c, x5t: ignored by design (K9); they never select
	 * or supply a key. */
	return TS_OK;
}

ts_reason
ts_jws_parse(const char *tok, size_t len, size_t max_len, ts_jws **out, ts_err *e)
{
	const char *d1 = NULL, *d2 = NULL;
	char hbuf[TS_HEADER_MAX];
	size_t i, next, hlen = 0, plen_enc, slen_enc;
	ts_jws *j = NULL;
	ts_reason r = TS_R_INTERNAL;

	*out = NULL;
	if (max_len == 0 || max_len > TS_TOKEN_HARD_MAX)
		max_len = TS_TOKEN_HARD_MAX;
	/* P1: caps before any decoding */
	if (tok == NULL || len == 0)
		return ts_fail(e, TS_R_MALFORMED, "empty token");
	if (len > max_len)
		return ts_fail(
		    e, TS_R_TOO_LARGE, "token is %zu bytes, the limit is %zu", len, max_len);
	for (i = ts_b64url_span(tok, len); i < len; i += 1 + next) {
		if (tok[i] != '.')
			return ts_fail(e, TS_R_MALFORMED,
			    "character at offset %zu is outside the base64url alphabet", i);
		if (d1 == NULL)
			d1 = tok + i;
		else if (d2 == NULL)
			d2 = tok + i;
		else
			return ts_fail(e, TS_R_MALFORMED,
			    "more than three segments (JWE or nested tokens are not accepted)");
		next = ts_b64url_span(tok + i + 1, len - i - 1);
	}
	if (d2 == NULL)
		return ts_fail(e, TS_R_MALFORMED, "not three dot-separated segments");
	hlen = (size_t)(d1 - tok);
	plen_enc = (size_t)(d2 - d1 - 1);
	slen_enc = len - (size_t)(d2 - tok) - 1;
	if (hlen == 0 || plen_enc == 0)
		return ts_fail(e, TS_R_MALFORMED, "empty header or payload segment");
	if (slen_enc == 0)
		return ts_fail(e, TS_R_MALFORMED, "no signature (unsecured JWS is never accepted)");
	if (TS_B64URL_DECODED_LEN(hlen) > sizeof(hbuf))
		return ts_fail(e, TS_R_TOO_LARGE, "header longer than %d bytes", TS_HEADER_MAX);

	if ((j = calloc(1, sizeof(*j))) == NULL)
		goto out;
	j->signing_input = tok;
	j->signing_len = (size_t)(d2 - tok);
	if (ts_b64url_decode(tok, hlen, (unsigned char *)hbuf, sizeof(hbuf), &hlen) != 0) {
		r = ts_fail(e, TS_R_MALFORMED, "header is not strict base64url");
		goto out;
	}
	if ((r = ts_jdoc_parse(hbuf, hlen, 4, &j->header, e)) != TS_OK)
		goto out;
	if ((r = check_header(j, e)) != TS_OK)
		goto out;
	r = TS_R_INTERNAL;
	j->payload_cap = TS_B64URL_DECODED_LEN(plen_enc) + 1;
	if ((j->payload = malloc(j->payload_cap)) == NULL)
		goto out;
	if (ts_b64url_decode(d1 + 1, plen_enc, j->payload, TS_B64URL_DECODED_LEN(plen_enc),
	        &j->payload_len) != 0) {
		r = ts_fail(e, TS_R_MALFORMED, "payload is not strict base64url");
		goto out;
	}
	j->sig_cap = TS_B64URL_DECODED_LEN(slen_enc) + 1;
	if ((j->sig = malloc(j->sig_cap)) == NULL)
		goto out;
	if (ts_b64url_decode(
	        d2 + 1, slen_enc, j->sig, TS_B64URL_DECODED_LEN(slen_enc), &j->sig_len) != 0) {
		r = ts_fail(e, TS_R_MALFORMED, "signature is not strict base64url");
		goto out;
	}
	*out = j;
	j = NULL; /* transferred */
	r = TS_OK;
out:
	if (r == TS_R_INTERNAL)
		ts_fail(e, r, "out of memory");
	ts_jws_free(j);
	return r;
}

ts_alg
ts_jws_alg(const ts_jws *j)
{
	return j->alg;
}

const char *
ts_jws_kid(const ts_jws *j, size_t *len)
{
	*len = j->kid_len;
	return j->kid;
}

const char *
ts_jws_typ(const ts_jws *j)
{
	return j->typ;
}

static ts_reason
parse_claims(ts_jws *j, ts_err *e)
{
	if (j->claims != NULL)
		return TS_OK;
	return ts_jdoc_parse(
	    (const char *)j->payload, j->payload_len, TS_JSON_MAX_DEPTH, &j->claims, e);
}

ts_reason
ts_jws_iss(ts_jws *j, const char **iss, size_t *iss_len, ts_err *e)
{
	const ts_jv *v;
	ts_reason r;

	if ((r = parse_claims(j, e)) != TS_OK)
		return r;
	v = ts_jv_get(ts_jdoc_root(j->claims), "iss");
	if (v == NULL)
		return ts_fail(e, TS_R_MISSING_CLAIM, "token has no \"iss\" claim");
	if (!ts_jv_is(v, TS_JSON_STRING))
		return ts_fail(e, TS_R_INVALID_CLAIM, "\"iss\" is not a string");
	*iss = v->u.s;
	*iss_len = v->n;
	return TS_OK;
}

ts_reason
ts_jws_verify(ts_jws *j, const ts_key *key, ts_err *e)
{
	ts_reason r;

	j->verified = 0;
	/* K4: the key's pinned algorithm decides; the header must agree */
	if (ts_key_alg(key) != j->alg)
		return ts_fail(e, TS_R_ALG_NOT_ALLOWED, "header alg %s but the key is pinned to %s",
		    ts_alg_name(j->alg), ts_alg_name(ts_key_alg(key)));
	r = ts_key_verify(
	    key, (const unsigned char *)j->signing_input, j->signing_len, j->sig, j->sig_len, e);
	if (r == TS_OK)
		j->verified = 1;
	return r;
}

const ts_jv *
ts_jws_claims(ts_jws *j, ts_err *e)
{
	if (!j->verified) {
		ts_fail(e, TS_R_INTERNAL, "claims requested before signature verification");
		return NULL;
	}
	if (parse_claims(j, e) != TS_OK)
		return NULL;
	return ts_jdoc_root(j->claims);
}

const unsigned char *
ts_jws_payload(const ts_jws *j, size_t *len)
{
	if (!j->verified) {
		*len = 0;
		return NULL;
	}
	*len = j->payload_len;
	return j->payload;
}

void
ts_jws_free(ts_jws *j)
{
	if (j == NULL)
		return;
	ts_jdoc_free(j->header);
	ts_jdoc_free(j->claims);
	ts_freezero(j->payload, j->payload_cap);
	ts_freezero(j->sig, j->sig_cap);
	free(j);
}

int
ts_jws_cut_length(size_t len)
{
	return len == 511 || len == 512 || len == 1023 || len == 1024;
}

int
ts_token_looks_cut(const char *t, size_t len)
{
	return strncmp(t, "eyJ", 3) == 0 && ts_jws_cut_length(len);
}

int
ts_token_looks_like_jws(const char *t)
{
	size_t i, dots = 0, seg = 0;

	/* "eyJ" is base64url of the header's opening "{\"" */
	if (strncmp(t, "eyJ", 3) != 0)
		return 0;
	for (i = 0; t[i] != '\0'; i++) {
		if (t[i] == '.') {
			if (seg == 0)
				return 0;
			dots++;
			seg = 0;
		} else if (ts_b64url_char((unsigned char)t[i])) {
			seg++;
		} else {
			return 0;
		}
	}
	return dots == 2 && seg > 0;
}
