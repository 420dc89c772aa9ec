/* t_jwk.c: JWK import rules (K4, K7, K8). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "fx.h"
#include "jwk.h"
#include "tap.h"

#define ALL (~0u)
#define BIT(a) (1u << (a))

static json_t *
load(const char *name)
{
	char rel[128];
	json_error_t jerr;
	json_t *j;

	snprintf(rel, sizeof(rel), "keys/%s.jwk", name);
	if ((j = json_load_file(fx_path(rel), 0, &jerr)) == NULL)
		tap_bail("%s", rel);
	return j;
}

/* ts_jwk_to_key on the project reader's view of j (jansson edits the
 * fixture; the core reads key files with json.h). */
static ts_reason
import_json(const json_t *j, ts_alg alg, unsigned allowed, unsigned flags, ts_key **k,
    ts_jwk_window *win, ts_err *e)
{
	char *text = json_dumps(j, JSON_COMPACT);
	ts_jdoc *d = NULL;
	ts_reason r;

	if (text == NULL || ts_jdoc_parse(text, strlen(text), 8, &d, e) != TS_OK)
		tap_bail("fixture JWK does not parse");
	r = ts_jwk_to_key(ts_jdoc_root(d), alg, allowed, flags, k, NULL, win, e);
	ts_jdoc_free(d);
	free(text);
	return r;
}

/* Imports `jwk`, optionally after setting member `m` to JSON text `v` (or
 * deleting it when v is NULL). Returns the reason. */
static ts_reason
import_with(const char *name, const char *m, const char *v, ts_alg alg, unsigned allowed,
    unsigned flags, ts_alg *got)
{
	json_t *j = load(name);
	ts_key *k = NULL;
	ts_err e = { "" };
	ts_reason r;

	if (m != NULL) {
		if (v == NULL)
			json_object_del(j, m);
		else
			json_object_set_new(j, m, json_loads(v, JSON_DECODE_ANY, NULL));
	}
	r = import_json(j, alg, allowed, flags, &k, NULL, &e);
	if ((r == TS_OK) != (k != NULL) || (r != TS_OK && e.msg[0] == '\0'))
		tap_bail("inconsistent jwk result");
	if (got != NULL)
		*got = k ? ts_key_alg(k) : TS_ALG_INVALID;
	ts_key_free(k);
	json_decref(j);
	if (ERR_peek_error() != 0)
		tap_bail("A6: error queue not empty after JWK import");
	return r;
}

#define IMPORT(name, m, v) import_with(name, m, v, TS_ALG_INVALID, ALL, 0, NULL)

int
main(void)
{
	ts_alg got = TS_ALG_INVALID;

	ok(IMPORT("rsa2048", NULL, NULL) == TS_OK, "public_rsa_jwk_imports");
	ok(IMPORT("p256", NULL, NULL) == TS_OK && IMPORT("p384", NULL, NULL) == TS_OK &&
	        IMPORT("p521", NULL, NULL) == TS_OK,
	    "public_ec_jwks_import");
	ok(IMPORT("ed25519", NULL, NULL) == TS_OK && IMPORT("ed448", NULL, NULL) == TS_OK,
	    "public_okp_jwks_import");
	/* K7: private members */
	ok(IMPORT("rsa2048", "d", "\"AQAB\"") == TS_R_CONFIG_ERROR, "K7_rsa_private_d_refused");
	ok(IMPORT("rsa2048", "p", "\"AQAB\"") == TS_R_CONFIG_ERROR, "K7_rsa_private_p_refused");
	ok(IMPORT("rsa2048", "qi", "\"AQAB\"") == TS_R_CONFIG_ERROR, "K7_rsa_private_qi_refused");
	ok(IMPORT("p256", "d", "\"AQAB\"") == TS_R_CONFIG_ERROR, "K7_ec_private_d_refused");
	ok(IMPORT("ed25519", "d", "\"AQAB\"") == TS_R_CONFIG_ERROR, "K7_okp_private_d_refused");
	/* K7: "k" is a secret; on an RSA or EC key it makes the key not public */
	ok(IMPORT("rsa2048", "k", "\"AQAB\"") == TS_R_CONFIG_ERROR, "K7_rsa_jwk_with_k_refused");
	ok(IMPORT("p256", "k", "\"AQAB\"") == TS_R_CONFIG_ERROR, "K7_ec_jwk_with_k_refused");
	ok(IMPORT("ed25519", "k", "\"AQAB\"") == TS_R_CONFIG_ERROR, "K7_okp_jwk_with_k_refused");
	/* K12: an x5c must be well-formed and certify this very key */
	ok(IMPORT("rsa2048", "x5c", "\"MIIB\"") == TS_R_CONFIG_ERROR, "K12_x5c_not_array_refused");
	ok(IMPORT("rsa2048", "x5c", "[]") == TS_R_CONFIG_ERROR, "K12_x5c_empty_refused");
	ok(IMPORT("rsa2048", "x5c", "[\"AAAA\", 1]") == TS_R_CONFIG_ERROR,
	    "K12_x5c_non_string_element_refused");
	ok(IMPORT("rsa2048", "x5c", "[\"MIIB-_\"]") == TS_R_CONFIG_ERROR,
	    "K12_x5c_not_base64_refused");
	ok(IMPORT("rsa2048", "x5c", "[\"AAAA\"]") == TS_R_CONFIG_ERROR,
	    "K12_x5c_not_a_certificate_refused");
	ok(import_with("hs256", "x5c", "[\"AAAA\"]", TS_ALG_INVALID, ALL, TS_JWK_ALLOW_SECRET,
	       NULL) == TS_R_CONFIG_ERROR,
	    "K12_x5c_on_oct_key_refused");
	/* K7: use and key_ops */
	ok(IMPORT("rsa2048", "use", "\"enc\"") == TS_R_CONFIG_ERROR, "K7_use_enc_refused");
	ok(IMPORT("rsa2048", "use", "1") == TS_R_CONFIG_ERROR, "K7_use_non_string_refused");
	ok(IMPORT("rsa2048", "use", NULL) == TS_OK, "use_absent_accepted");
	ok(IMPORT("rsa2048", "key_ops", "[\"encrypt\"]") == TS_R_CONFIG_ERROR,
	    "K7_key_ops_without_verify_refused");
	ok(IMPORT("rsa2048", "key_ops", "[]") == TS_R_CONFIG_ERROR, "K7_key_ops_empty_refused");
	ok(IMPORT("rsa2048", "key_ops", "\"verify\"") == TS_R_CONFIG_ERROR,
	    "K7_key_ops_not_array_refused");
	ok(IMPORT("rsa2048", "key_ops", "[\"verify\"]") == TS_OK, "key_ops_verify_accepted");
	/* K4 / K7: alg must fit kty/crv */
	ok(IMPORT("rsa2048", "alg", "\"ES256\"") == TS_R_CONFIG_ERROR,
	    "K7_rsa_jwk_with_alg_es256_refused");
	ok(IMPORT("p256", "alg", "\"ES384\"") == TS_R_CONFIG_ERROR,
	    "K7_p256_jwk_with_alg_es384_refused");
	ok(IMPORT("p256", "alg", "\"none\"") == TS_R_CONFIG_ERROR, "K7_jwk_alg_none_refused");
	ok(IMPORT("p256", "alg", "\"HS256\"") == TS_R_CONFIG_ERROR, "K7_ec_jwk_with_hs256_refused");
	ok(IMPORT("rsa2048", "alg", "\"RSA-OAEP\"") == TS_R_CONFIG_ERROR,
	    "K7_encryption_alg_refused");
	ok(import_with("rsa2048", NULL, NULL, TS_ALG_PS256, ALL, 0, NULL) == TS_R_CONFIG_ERROR,
	    "K4_jwk_alg_rs256_differs_from_configured_ps256");
	/* alg inference only when unambiguous */
	ok(import_with("rsa2048", "alg", NULL, TS_ALG_INVALID,
	       BIT(TS_ALG_RS256) | BIT(TS_ALG_PS256), 0, NULL) == TS_R_CONFIG_ERROR,
	    "K4_ambiguous_rsa_key_refused");
	ok(import_with("rsa2048", "alg", NULL, TS_ALG_INVALID,
	       BIT(TS_ALG_RS256) | BIT(TS_ALG_ES256), 0, &got) == TS_OK &&
	        got == TS_ALG_RS256,
	    "K4_rsa_key_alg_inferred_when_unique");
	ok(import_with("p256", "alg", NULL, TS_ALG_INVALID, BIT(TS_ALG_ES384), 0, NULL) ==
	        TS_R_CONFIG_ERROR,
	    "K4_no_allowed_alg_fits_refused");
	ok(import_with("p256", NULL, NULL, TS_ALG_INVALID, BIT(TS_ALG_RS256), 0, NULL) ==
	        TS_R_CONFIG_ERROR,
	    "K4_jwk_alg_outside_allow_list_refused");
	/* K7: RSA size and exponent, encodings */
	ok(IMPORT("rsa1024", NULL, NULL) == TS_R_CONFIG_ERROR, "K7_rsa_1024_jwk_refused");
	ok(IMPORT("rsa2048e3", NULL, NULL) == TS_R_CONFIG_ERROR, "K7_rsa_e3_jwk_refused");
	ok(IMPORT("rsa2048", "e", "\"AAEAAQ\"") == TS_R_CONFIG_ERROR,
	    "K7_rsa_e_leading_zero_refused");
	ok(IMPORT("rsa2048", "e", "\"AQAB=\"") == TS_R_CONFIG_ERROR, "K7_rsa_e_padded_refused");
	ok(IMPORT("rsa2048", "n", NULL) == TS_R_CONFIG_ERROR, "K7_rsa_n_missing_refused");
	/* K7: EC points */
	ok(IMPORT("p256", "y", "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"") ==
	        TS_R_CONFIG_ERROR,
	    "K7_ec_point_not_on_curve_refused");
	ok(IMPORT("p256", "x", "\"AAAA\"") == TS_R_CONFIG_ERROR, "K7_ec_short_coordinate_refused");
	ok(IMPORT("p256", "crv", "\"P-384\"") == TS_R_CONFIG_ERROR, "K7_ec_wrong_curve_refused");
	ok(IMPORT("p256", "crv", "\"secp256k1\"") == TS_R_CONFIG_ERROR,
	    "K7_ec_unknown_curve_refused");
	ok(IMPORT("ed25519", "crv", "\"X25519\"") == TS_R_CONFIG_ERROR,
	    "K7_x25519_is_not_a_signing_key");
	ok(IMPORT("p256", "kty", "\"ec\"") == TS_R_CONFIG_ERROR, "K7_kty_case_sensitive");
	ok(IMPORT("p256", "kid", "7") == TS_R_CONFIG_ERROR, "K10_kid_non_string_refused");
	/* K8: symmetric keys only where allowed */
	ok(IMPORT("hs256", NULL, NULL) == TS_R_CONFIG_ERROR, "K8_oct_key_refused_without_hmac");
	ok(import_with("hs256", NULL, NULL, TS_ALG_INVALID, ALL, TS_JWK_ALLOW_SECRET, &got) ==
	            TS_OK &&
	        got == TS_ALG_HS256,
	    "K8_oct_key_accepted_when_enabled");
	ok(import_with("hs256", "k", "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"",
	       TS_ALG_INVALID, ALL, TS_JWK_ALLOW_SECRET, NULL) == TS_R_CONFIG_ERROR,
	    "K8_hs256_secret_of_31_bytes_refused");
	ok(import_with("hs256", "alg", "\"HS512\"", TS_ALG_INVALID, ALL, TS_JWK_ALLOW_SECRET,
	       NULL) == TS_R_CONFIG_ERROR,
	    "K8_hs512_with_32_byte_secret_refused");
	return tap_done();
}
