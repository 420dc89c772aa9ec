/* t_jws_parse.c: compact JWS shape and header rules (P1-P5, A1, K9, M6). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64url.h"
#include "fx.h"
#include "jws.h"
#include "tap.h"

static char tokbuf[TS_TOKEN_HARD_MAX * 2];

/* header.payload.sig from raw parts (header/payload given as JSON text). */
static const char *
make(const char *hdr, size_t hlen, const char *payload, const char *sig)
{
	size_t n;

	n = ts_b64url_encode((const unsigned char *)hdr, hlen, tokbuf, sizeof(tokbuf));
	tokbuf[n++] = '.';
	n += ts_b64url_encode(
	    (const unsigned char *)payload, strlen(payload), tokbuf + n, sizeof(tokbuf) - n);
	tokbuf[n++] = '.';
	n += ts_b64url_encode(
	    (const unsigned char *)sig, strlen(sig), tokbuf + n, sizeof(tokbuf) - n);
	return tokbuf;
}

static const char *
mk(const char *hdr)
{
	return make(hdr, strlen(hdr), "{\"iss\":\"https://issuer.example\"}", "signature-bytes");
}

static ts_reason
parse_len(const char *tok, size_t len, size_t max)
{
	ts_jws *j = NULL;
	ts_err e = { "" };
	ts_reason r = ts_jws_parse(tok, len, max, &j, &e);

	if ((r == TS_OK) != (j != NULL))
		tap_bail("parse result and object disagree");
	if (r != TS_OK && e.msg[0] == '\0')
		tap_bail("rejection without a message");
	ts_jws_free(j);
	return r;
}

static ts_reason
parse(const char *tok)
{
	return parse_len(tok, strlen(tok), 0);
}

static ts_reason
iss_of(const char *payload, const char **iss_out)
{
	static char issbuf[256];
	ts_jws *j = NULL;
	ts_err e = { "" };
	const char *iss;
	size_t len;
	const char *tok = make("{\"alg\":\"ES256\"}", 15, payload, "sig");
	ts_reason r = ts_jws_parse(tok, strlen(tok), 0, &j, &e);

	if (r == TS_OK && (r = ts_jws_iss(j, &iss, &len, &e)) == TS_OK && iss_out != NULL) {
		snprintf(issbuf, sizeof(issbuf), "%.*s", (int)len, iss);
		*iss_out = issbuf;
	}
	ts_jws_free(j);
	return r;
}

static void
test_shape(void)
{
	const char *good = mk("{\"alg\":\"ES256\",\"kid\":\"k1\"}");
	char *big;
	size_t n;

	ok(parse(good) == TS_OK, "well_formed_token_parses");
	ok(parse("a.b") == TS_R_MALFORMED, "P1_two_segments_rejected");
	ok(parse("eyJhbGciOiJFUzI1NiJ9.e30.c2ln.c2ln") == TS_R_MALFORMED,
	    "P1_four_segments_rejected");
	ok(parse("eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.a.b.c.d") == TS_R_MALFORMED,
	    "P4_jwe_five_segments_rejected");
	ok(parse("{\"payload\":\"e30\",\"protected\":\"eyJhbGciOiJFUzI1NiJ9\",\"signature\":"
	         "\"c2ln\"}") == TS_R_MALFORMED,
	    "P4_json_serialization_rejected");
	ok(parse("eyJhbGciOiJFUzI1NiJ9.e30.") == TS_R_MALFORMED, "A1_empty_signature_rejected");
	ok(parse(".e30.c2ln") == TS_R_MALFORMED, "P1_empty_header_rejected");
	ok(parse("eyJhbGciOiJFUzI1NiJ9..c2ln") == TS_R_MALFORMED, "P1_empty_payload_rejected");
	ok(parse("") == TS_R_MALFORMED, "P1_empty_token_rejected");

	/* P1: characters outside base64url anywhere */
	{
		static const char bad_chars[] = { '+', '/', '=', ' ', '\n', '\t', '~', '\0',
			(char)0xc3 };
		size_t i;
		int rejected = 0;

		for (i = 0; i < sizeof(bad_chars); i++) {
			char t[512];

			snprintf(t, sizeof(t), "%s", good);
			n = strlen(t);
			t[n / 3] = bad_chars[i];
			rejected += parse_len(t, n, 0) == TS_R_MALFORMED;
		}
		ok(rejected == (int)sizeof(bad_chars),
		    "P1_non_base64url_characters_rejected (%d/%zu)", rejected, sizeof(bad_chars));
	}
	/* P2: a padded or non-canonical segment */
	{
		char t[512];

		snprintf(t, sizeof(t), "eyJhbGciOiJFUzI1NiJ9.e30.c2lnbmF0dXJl");
		ok(parse(t) == TS_OK, "P2_canonical_segments_accepted");
		snprintf(t, sizeof(t), "eyJhbGciOiJFUzI1NiJ9.e31.c2lnbmF0dXJl");
		ok(parse(t) == TS_R_MALFORMED, "P2_payload_nonzero_trailing_bits_rejected");
		snprintf(t, sizeof(t), "eyJhbGciOiJFUzI1NiJ9.e30.c2lnbmF0dXJlcx");
		ok(parse(t) == TS_R_MALFORMED, "P2_signature_nonzero_trailing_bits_rejected");
		snprintf(t, sizeof(t), "eyJhbGciOiJFUzI1NiJ9.e30.c2lnbmF0dXJlc");
		ok(parse(t) == TS_R_MALFORMED, "P2_signature_length_1_mod_4_rejected");
	}
	/* P1: size caps before decoding */
	big = malloc(TS_TOKEN_HARD_MAX + 16);
	memset(big, 'A', TS_TOKEN_HARD_MAX + 16);
	memcpy(big, "eyJhbGciOiJFUzI1NiJ9.", 21);
	big[8192] = '.';
	ok(parse_len(big, 8193, 8192) == TS_R_TOO_LARGE, "P1_token_over_configured_cap_rejected");
	ok(parse_len(big, TS_TOKEN_HARD_MAX + 1, 1u << 30) == TS_R_TOO_LARGE,
	    "P1_hard_cap_64KiB_not_overridable");
	ok(parse_len(big, TS_TOKEN_HARD_MAX + 1, 0) == TS_R_TOO_LARGE, "P1_hard_cap_default");
	free(big);
	{
		char hdr[2048];

		memset(hdr, ' ', sizeof(hdr));
		memcpy(hdr, "{\"alg\":\"ES256\"", 14);
		hdr[sizeof(hdr) - 1] = '}';
		ok(parse(make(hdr, sizeof(hdr), "{}", "s")) == TS_R_TOO_LARGE,
		    "P1_decoded_header_cap");
	}
}

static void
test_header(void)
{
	/* A1: every spelling of none, and near-misses, are not algorithms */
	static const char *const nones[] = { "{\"alg\":\"none\"}", "{\"alg\":\"None\"}",
		"{\"alg\":\"NONE\"}", "{\"alg\":\"nOnE\"}", "{\"alg\":\"\"}", "{\"alg\":\"n\"}",
		"{\"alg\":\"non\"}", "{\"alg\":\"none \"}", "{\"alg\":\"es256\"}",
		"{\"alg\":\"HS999\"}", "{\"alg\":\"RS256 \"}" };
	size_t i;
	int rejected = 0;

	for (i = 0; i < sizeof(nones) / sizeof(nones[0]); i++)
		rejected += parse(mk(nones[i])) == TS_R_ALG_NOT_ALLOWED;
	ok(rejected == (int)(sizeof(nones) / sizeof(nones[0])),
	    "A1_alg_none_all_spellings_rejected (%d)", rejected);
	ok(parse(mk("{\"alg\":\"none\\u0000\"}")) != TS_OK, "A1_alg_none_with_nul_rejected");
	ok(parse(mk("{\"alg\":\"ES256\\u0000\"}")) != TS_OK, "A1_alg_with_nul_suffix_rejected");
	ok(parse(make("{\"alg\":\"none\"}", 15, "{}", "")) != TS_OK,
	    "A1_alg_none_without_signature_rejected");
	ok(parse(mk("{\"kid\":\"x\"}")) == TS_R_MALFORMED, "P5_alg_missing_rejected");
	ok(parse(mk("{\"alg\":256}")) == TS_R_MALFORMED, "P5_alg_number_rejected");
	ok(parse(mk("{\"alg\":[\"ES256\"]}")) == TS_R_MALFORMED, "P5_alg_array_rejected");
	ok(parse(mk("{\"alg\":null}")) == TS_R_MALFORMED, "P5_alg_null_rejected");
	ok(parse(mk("{\"alg\":\"ES256\",\"kid\":1}")) == TS_R_MALFORMED, "P5_kid_number_rejected");
	ok(parse(mk("{\"alg\":\"ES256\",\"kid\":{}}")) == TS_R_MALFORMED, "P5_kid_object_rejected");
	ok(parse(mk("{\"alg\":\"ES256\",\"typ\":true}")) == TS_R_MALFORMED,
	    "P5_typ_boolean_rejected");
	{
		char h[600];

		snprintf(h, sizeof(h), "{\"alg\":\"ES256\",\"kid\":\"%0257d\"}", 0);
		ok(parse(mk(h)) == TS_R_MALFORMED, "K10_kid_over_256_bytes_rejected");
		snprintf(h, sizeof(h), "{\"alg\":\"ES256\",\"kid\":\"%0256d\"}", 0);
		ok(parse(mk(h)) == TS_OK, "K10_kid_of_256_bytes_accepted");
	}
	/* P4 */
	ok(parse(mk("{\"alg\":\"ES256\",\"crit\":[\"exp\"]}")) == TS_R_UNSUPPORTED_HEADER,
	    "P4_crit_array_rejected");
	ok(parse(mk("{\"alg\":\"ES256\",\"crit\":[]}")) == TS_R_UNSUPPORTED_HEADER,
	    "P4_crit_empty_rejected");
	ok(parse(mk("{\"alg\":\"ES256\",\"crit\":\"b64\"}")) == TS_R_UNSUPPORTED_HEADER,
	    "P4_crit_string_rejected");
	ok(parse(mk("{\"alg\":\"ES256\",\"crit\":null}")) == TS_R_UNSUPPORTED_HEADER,
	    "P4_crit_null_rejected");
	ok(parse(mk("{\"alg\":\"ES256\",\"b64\":false}")) == TS_R_UNSUPPORTED_HEADER,
	    "P4_b64_false_rejected");
	ok(parse(mk("{\"alg\":\"ES256\",\"zip\":\"DEF\"}")) == TS_R_UNSUPPORTED_HEADER,
	    "P4_zip_rejected");
	ok(parse(mk("{\"alg\":\"ES256\",\"enc\":\"A256GCM\"}")) == TS_R_UNSUPPORTED_HEADER,
	    "P4_enc_rejected");
	ok(parse(mk("{\"alg\":\"ES256\",\"cty\":\"JWT\"}")) == TS_R_UNSUPPORTED_HEADER,
	    "P4_cty_jwt_nested_rejected");
	ok(parse(mk("{\"alg\":\"ES256\",\"cty\":\"jwt\"}")) == TS_R_UNSUPPORTED_HEADER,
	    "P4_cty_jwt_lowercase_rejected");
	/* P3 */
	ok(parse(mk("{\"alg\":\"ES256\",\"alg\":\"none\"}")) == TS_R_MALFORMED,
	    "P3_duplicate_header_member_rejected");
	ok(parse(mk("[\"alg\",\"ES256\"]")) == TS_R_MALFORMED, "P3_header_array_rejected");
	ok(parse(mk("\"ES256\"")) == TS_R_MALFORMED, "P3_header_string_rejected");
	ok(parse(mk("{\"alg\":\"ES256\"} ")) == TS_OK, "P3_header_trailing_whitespace_is_json");
	ok(parse(mk("{\"alg\":\"ES256\"}x")) == TS_R_MALFORMED, "P3_header_trailing_data_rejected");
	ok(parse(mk("{\"alg\":\"ES256\"}{}")) == TS_R_MALFORMED, "P3_header_two_objects_rejected");
	ok(parse(mk("{\"alg\":\"ES256\",\"x\":[[[[[1]]]]]}")) == TS_R_MALFORMED,
	    "P3_header_depth_bounded");
	ok(parse(mk("{\"alg\":\"ES256\",\"x\":\"\xff\"}")) == TS_R_MALFORMED,
	    "P3_header_invalid_utf8_rejected");
	/* K9: accepted as members, never used: see the signature test below */
	ok(parse(mk("{\"alg\":\"ES256\",\"jku\":\"https://a.example/\",\"x5u\":\"https://a/\","
	            "\"x5c\":[\"AAAA\"],\"jwk\":{\"kty\":\"EC\"}}")) == TS_OK,
	    "K9_key_supplying_members_are_inert");
}

static void
test_payload(void)
{
	const char *iss = NULL;
	char deep[200];
	size_t i;

	ok(iss_of("{\"iss\":\"https://issuer.example\"}", &iss) == TS_OK && iss &&
	        strcmp(iss, "https://issuer.example") == 0,
	    "iss_read_as_exact_string");
	ok(iss_of("{\"iss\":[\"https://issuer.example\"]}", NULL) == TS_R_INVALID_CLAIM,
	    "K3_iss_array_rejected");
	ok(iss_of("{\"iss\":42}", NULL) == TS_R_INVALID_CLAIM, "K3_iss_number_rejected");
	ok(iss_of("{\"iss\":null}", NULL) == TS_R_INVALID_CLAIM, "K3_iss_null_rejected");
	ok(iss_of("{\"iss\":\"https://issuer.example\\u0000.evil\"}", NULL) == TS_R_MALFORMED,
	    "K3_iss_with_nul_rejected");
	ok(iss_of("{\"sub\":\"x\"}", NULL) == TS_R_MISSING_CLAIM, "C1_iss_missing_rejected");
	ok(iss_of("{\"iss\":\"a\",\"iss\":\"b\"}", NULL) == TS_R_MALFORMED,
	    "P3_duplicate_claim_rejected");
	ok(iss_of("[{\"iss\":\"a\"}]", NULL) == TS_R_MALFORMED, "P3_payload_array_rejected");
	ok(iss_of("\"iss\"", NULL) == TS_R_MALFORMED, "P3_payload_string_rejected");
	ok(iss_of("{\"iss\":\"a\"} x", NULL) == TS_R_MALFORMED,
	    "P3_payload_trailing_data_rejected");
	for (i = 0; i < 17; i++)
		deep[i] = '[';
	deep[i] = '\0';
	{
		char p[256];

		snprintf(p, sizeof(p), "{\"iss\":\"a\",\"x\":%s1%s}", deep + 1, "]]]]]]]]]]]]]]]]");
		ok(iss_of(p, NULL) == TS_R_MALFORMED, "P3_payload_depth_17_rejected");
		snprintf(p, sizeof(p), "{\"iss\":\"a\",\"x\":%s1%s}", deep + 2, "]]]]]]]]]]]]]]]");
		ok(iss_of(p, NULL) == TS_OK, "P3_payload_depth_16_accepted");
		snprintf(p, sizeof(p), "{\"iss\":\"a\",\"x\":\"[[[[[[[[[[[[[[[[[[[[[[[[\"}");
		ok(iss_of(p, NULL) == TS_OK, "P3_brackets_inside_strings_do_not_count");
	}
}

static void
test_verified_only(void)
{
	const char *tok = fx_token("good_ES256_p256");
	ts_key *key = fx_key("p256", TS_ALG_ES256), *other = fx_key("partner_p256", TS_ALG_ES256);
	ts_jws *j = NULL;
	ts_err e = { "" };
	const char *iss;
	size_t len;

	ok(ts_jws_parse(tok, strlen(tok), 0, &j, &e) == TS_OK, "fixture_token_parses");
	ok(ts_jws_claims(j, NULL) == NULL && ts_jws_payload(j, &len) == NULL,
	    "M6_no_claims_before_verification");
	ok(ts_jws_iss(j, &iss, &len, &e) == TS_OK, "iss_readable_before_verification");
	ok(ts_jws_verify(j, other, &e) == TS_R_BAD_SIGNATURE, "wrong_key_bad_signature");
	ok(ts_jws_claims(j, NULL) == NULL, "M6_no_claims_after_failed_verification");
	ok(ts_jws_verify(j, key, &e) == TS_OK, "independent_signer_token_verifies");
	ok(ts_jws_claims(j, NULL) != NULL, "claims_after_verification");
	ts_jws_free(j);

	/* K9: the header carries the attacker's own key and URLs; the token
	 * verifies only with the key we chose, so it fails */
	tok = fx_token("attack_embedded_jwk");
	ok(ts_jws_parse(tok, strlen(tok), 0, &j, &e) == TS_OK &&
	        ts_jws_verify(j, key, &e) == TS_R_BAD_SIGNATURE,
	    "K9_embedded_jwk_jku_x5u_never_used");
	ts_jws_free(j);
	ts_key_free(key);
	ts_key_free(other);
}

int
main(void)
{
	test_shape();
	test_header();
	test_payload();
	test_verified_only();
	return tap_done();
}
