/* t_sig_rules.c: signature rules A2-A6, K4, K7 (key policy), K8, with tokens
 * from the independent signer (tests/fixtures/gen.py). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "b64url.h"
#include "fx.h"
#include "jws.h"
#include "tap.h"

/* Parses and verifies tok with key; checks the error queue is empty (A6). */
static ts_reason
check(const char *tok, size_t len, const ts_key *key)
{
	ts_jws *j = NULL;
	ts_err e = { "" };
	ts_reason r = ts_jws_parse(tok, len, 0, &j, &e);

	if (r == TS_OK)
		r = ts_jws_verify(j, key, &e);
	if (ERR_peek_error() != 0)
		tap_bail("A6: OpenSSL error queue not empty after verification");
	ts_jws_free(j);
	return r;
}

static ts_reason
check_str(const char *tok, const ts_key *key)
{
	return check(tok, strlen(tok), key);
}

/* Replaces the signature segment of a fixture token. */
static char *
with_sig(const char *tok, const unsigned char *sig, size_t siglen)
{
	const char *d2 = strrchr(tok, '.');
	size_t pre = (size_t)(d2 - tok) + 1;
	char *t = malloc(pre + TS_B64URL_ENCODED_LEN(siglen) + 1);

	memcpy(t, tok, pre);
	ts_b64url_encode(sig, siglen, t + pre, TS_B64URL_ENCODED_LEN(siglen) + 1);
	return t;
}

static size_t
sig_of(const char *tok, unsigned char *out, size_t cap)
{
	const char *d2 = strrchr(tok, '.') + 1;
	size_t n = 0;

	if (ts_b64url_decode(d2, strlen(d2), out, cap, &n) != 0)
		tap_bail("fixture signature not base64url");
	return n;
}

static ts_alg
alg_of(const char *name)
{
	const char *a = fx_token_alg(name);

	return ts_alg_from_name(a, strlen(a));
}

static void
test_independent_tokens(void)
{
	const char *const *names = fx_token_names();
	int n = 0, good = 0;

	for (; *names != NULL; names++) {
		ts_key *k;

		if (strncmp(*names, "good_", 5) != 0)
			continue;
		n++;
		k = fx_key(fx_token_key(*names), alg_of(*names));
		good += ok(check_str(fx_token(*names), k) == TS_OK,
		    "independent_signer_%s_verifies", *names + 5);
		ts_key_free(k);
	}
	ok(n == 14, "all_14_algorithm_fixtures_present (%d, %d of them verify)", n, good);
}

static void
test_alg_pinning(void)
{
	ts_key *rs256 = fx_key("rsa2048", TS_ALG_RS256), *ps256 = fx_key("rsa2048", TS_ALG_PS256);
	ts_key *es256 = fx_key("p256", TS_ALG_ES256);

	ok(check_str(fx_token("good_PS256_rsa2048"), rs256) == TS_R_ALG_NOT_ALLOWED,
	    "K4_rs256_key_refuses_ps256_token");
	ok(check_str(fx_token("good_RS256_rsa2048"), ps256) == TS_R_ALG_NOT_ALLOWED,
	    "K4_ps256_key_refuses_rs256_token");
	ok(check_str(fx_token("good_RS512_rsa4096"), rs256) == TS_R_ALG_NOT_ALLOWED,
	    "K4_rs256_key_refuses_rs512_token");
	ok(check_str(fx_token("good_ES384_p384"), es256) == TS_R_ALG_NOT_ALLOWED,
	    "K4_es256_key_refuses_es384_token");
	ok(check_str(fx_token("good_HS256"), rs256) == TS_R_ALG_NOT_ALLOWED,
	    "K4_rs256_key_refuses_hs256_token");
	ts_key_free(rs256);
	ts_key_free(ps256);
	ts_key_free(es256);
}

/* A2: HS256 tokens whose "secret" is the configured public key in various
 * encodings. The RSA key is pinned to RS256, so alg HS256 never reaches an
 * HMAC; and no public key can be turned into an HMAC key at all. */
static void
test_alg_confusion(void)
{
	ts_key *rs256 = fx_key("rsa2048", TS_ALG_RS256), *hk = NULL;
	size_t pemlen = 0, derlen = 0;
	char *pem = tap_slurp(fx_path("keys/rsa2048.pub.pem"), &pemlen);
	char *jwktext = tap_slurp(fx_path("keys/rsa2048.jwk"), NULL);
	unsigned char der[4096], *dp = der, mac[64];
	EVP_PKEY *pk;
	BIO *bio = BIO_new_mem_buf(pem, (int)pemlen);
	struct {
		const char *what;
		const unsigned char *s;
		size_t len;
	} secrets[5];
	const char *hdr = "eyJhbGciOiJIUzI1NiIsInR5cCI6ImF0K2p3dCIsImtpZCI6InJzYTIwNDgifQ";
	const char *tok = fx_token("good_RS256_rsa2048");
	const char *payload = strchr(tok, '.') + 1;
	size_t i, plen = (size_t)(strrchr(tok, '.') - payload), maclen = 0;
	int refused = 0;
	ts_err e = { "" };

	pk = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	derlen = (size_t)i2d_PUBKEY(pk, &dp);
	secrets[0].what = "pem";
	secrets[0].s = (const unsigned char *)pem;
	secrets[0].len = pemlen;
	secrets[1].what = "pem_without_newline";
	secrets[1].s = (const unsigned char *)pem;
	secrets[1].len = pemlen - 1;
	secrets[2].what = "der";
	secrets[2].s = der;
	secrets[2].len = derlen;
	secrets[3].what = "jwk_text";
	secrets[3].s = (const unsigned char *)jwktext;
	secrets[3].len = strlen(jwktext);
	secrets[4].what = "empty";
	secrets[4].s = (const unsigned char *)"";
	secrets[4].len = 0;
	for (i = 0; i < 5; i++) {
		char input[4096], *t;

		snprintf(input, sizeof(input), "%s.%.*s", hdr, (int)plen, payload);
		EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, secrets[i].s, secrets[i].len,
		    (const unsigned char *)input, strlen(input), mac, sizeof(mac), &maclen);
		strcat(input, ".");
		t = with_sig(input, mac, maclen);
		ok(check_str(t, rs256) == TS_R_ALG_NOT_ALLOWED,
		    "A2_hs256_with_public_key_%s_as_secret", secrets[i].what);
		free(t);
	}
	ok(ts_key_from_pkey(pk, TS_ALG_HS256, &hk, &e) != TS_OK && hk == NULL,
	    "A2_public_key_cannot_be_an_hmac_key");
	ok(ts_key_from_secret((const unsigned char *)"", 0, TS_ALG_HS256, &hk, &e) != TS_OK,
	    "A2_empty_hmac_secret_refused");
	for (i = TS_ALG_HS256; i <= TS_ALG_HS512; i++)
		refused += ts_key_from_pkey(pk, (ts_alg)i, &hk, &e) != TS_OK;
	ok(refused == 3, "A2_no_hs_alg_accepts_an_rsa_key");
	EVP_PKEY_free(pk);
	BIO_free(bio);
	free(pem);
	free(jwktext);
	ts_key_free(rs256);
}

static void
test_ecdsa_format(void)
{
	const char *tok = fx_token("good_ES256_p256");
	ts_key *k = fx_key("p256", TS_ALG_ES256);
	unsigned char sig[256], mod[256], der[256], *dp = der;
	size_t n = sig_of(tok, sig, sizeof(sig)), dl;
	BIGNUM *order = NULL, *r, *s;
	ECDSA_SIG *es;
	char *t;

	ok(n == 64, "A3_es256_fixture_signature_is_64_bytes");
	/* DER-encoded signature of the same r and s */
	r = BN_bin2bn(sig, 32, NULL);
	s = BN_bin2bn(sig + 32, 32, NULL);
	es = ECDSA_SIG_new();
	ECDSA_SIG_set0(es, r, s);
	dl = (size_t)i2d_ECDSA_SIG(es, &dp);
	t = with_sig(tok, der, dl);
	ok(check_str(t, k) == TS_R_BAD_SIGNATURE, "A3_der_encoded_ecdsa_signature_rejected");
	free(t);
	/* lengths */
	t = with_sig(tok, sig, 63);
	ok(check_str(t, k) == TS_R_BAD_SIGNATURE, "A3_ecdsa_63_bytes_rejected");
	free(t);
	memcpy(mod, sig, 64);
	mod[64] = 0;
	t = with_sig(tok, mod, 65);
	ok(check_str(t, k) == TS_R_BAD_SIGNATURE, "A3_ecdsa_65_bytes_rejected");
	free(t);
	mod[0] = 0;
	memcpy(mod + 1, sig, 64);
	t = with_sig(tok, mod, 65);
	ok(check_str(t, k) == TS_R_BAD_SIGNATURE, "A3_ecdsa_leading_zero_rejected");
	free(t);
	/* r = 0, s = 0 */
	memcpy(mod, sig, 64);
	memset(mod, 0, 32);
	t = with_sig(tok, mod, 64);
	ok(check_str(t, k) == TS_R_BAD_SIGNATURE, "A3_ecdsa_r_zero_rejected");
	free(t);
	memcpy(mod, sig, 64);
	memset(mod + 32, 0, 32);
	t = with_sig(tok, mod, 64);
	ok(check_str(t, k) == TS_R_BAD_SIGNATURE, "A3_ecdsa_s_zero_rejected");
	free(t);
	/* r = n, s = n, s + n does not fit; high-S (n - s) is valid in JWS */
	BN_hex2bn(&order, "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551");
	memcpy(mod, sig, 64);
	BN_bn2binpad(order, mod, 32);
	t = with_sig(tok, mod, 64);
	ok(check_str(t, k) == TS_R_BAD_SIGNATURE, "A3_ecdsa_r_equal_to_order_rejected");
	free(t);
	memcpy(mod, sig, 64);
	BN_bn2binpad(order, mod + 32, 32);
	t = with_sig(tok, mod, 64);
	ok(check_str(t, k) == TS_R_BAD_SIGNATURE, "A3_ecdsa_s_equal_to_order_rejected");
	free(t);
	{
		BIGNUM *sv = BN_bin2bn(sig + 32, 32, NULL), *hs = BN_new();

		BN_sub(hs, order, sv);
		memcpy(mod, sig, 64);
		BN_bn2binpad(hs, mod + 32, 32);
		t = with_sig(tok, mod, 64);
		ok(check_str(t, k) == TS_OK, "A3_ecdsa_high_s_is_valid_in_jws");
		free(t);
		/* r + n: same value mod n, but out of range */
		BN_add(hs, order, sv);
		ok(BN_num_bytes(hs) > 32 || check_str(tok, k) == TS_OK,
		    "A3_s_plus_order_does_not_fit");
		BN_free(sv);
		BN_free(hs);
	}
	BN_free(order);
	ECDSA_SIG_free(es);
	ts_key_free(k);
}

static void
test_rsa_length(void)
{
	const char *tok = fx_token("good_RS256_rsa2048");
	ts_key *k = fx_key("rsa2048", TS_ALG_RS256);
	unsigned char sig[600], mod[600];
	size_t n = sig_of(tok, sig, sizeof(sig));
	char *t;

	ok(n == 256 && ts_key_sig_len(k) == 256, "A4_rs256_2048_signature_is_256_bytes");
	mod[0] = 0;
	memcpy(mod + 1, sig, n);
	t = with_sig(tok, mod, n + 1);
	ok(check_str(t, k) == TS_R_BAD_SIGNATURE, "A4_rsa_signature_with_leading_zero_rejected");
	free(t);
	t = with_sig(tok, sig, n - 1);
	ok(check_str(t, k) == TS_R_BAD_SIGNATURE, "A4_rsa_signature_one_byte_short_rejected");
	free(t);
	t = with_sig(tok, sig + 1, n - 1);
	ok(check_str(t, k) == TS_R_BAD_SIGNATURE,
	    "A4_rsa_signature_stripped_leading_byte_rejected");
	free(t);
	ts_key_free(k);
}

static void
test_key_policy(void)
{
	ts_key *k = NULL;
	ts_err e = { "" };
	unsigned char secret[64] = { 1 };
	FILE *f;
	EVP_PKEY *pk;
	struct {
		const char *file;
		ts_alg alg;
		const char *name;
	} refused[] = {
		{ "keys/rsa1024.pub.pem", TS_ALG_RS256, "K7_rsa_1024_bits_refused" },
		{ "keys/rsa2048e3.pub.pem", TS_ALG_RS256, "K7_rsa_exponent_3_refused" },
		{ "keys/p384.pub.pem", TS_ALG_ES256, "K4_p384_key_cannot_be_es256" },
		{ "keys/p256.pub.pem", TS_ALG_ES384, "K4_p256_key_cannot_be_es384" },
		{ "keys/p256.pub.pem", TS_ALG_RS256, "K4_ec_key_cannot_be_rs256" },
		{ "keys/rsa2048.pub.pem", TS_ALG_ES256, "K4_rsa_key_cannot_be_es256" },
		{ "keys/rsa2048.pub.pem", TS_ALG_EDDSA, "K4_rsa_key_cannot_be_eddsa" },
		{ "keys/ed25519.pub.pem", TS_ALG_ES256, "K4_ed25519_key_cannot_be_es256" },
	};
	size_t i;

	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		if ((f = fopen(fx_path(refused[i].file), "r")) == NULL)
			tap_bail("%s", refused[i].file);
		pk = PEM_read_PUBKEY(f, NULL, NULL, NULL);
		fclose(f);
		e.msg[0] = '\0';
		ok(pk != NULL &&
		        ts_key_from_pkey(pk, refused[i].alg, &k, &e) == TS_R_CONFIG_ERROR &&
		        k == NULL && e.msg[0] != '\0',
		    "%s (%s)", refused[i].name, e.msg);
		EVP_PKEY_free(pk);
	}
	ok(ts_key_from_secret(secret, 31, TS_ALG_HS256, &k, &e) == TS_R_CONFIG_ERROR,
	    "K8_hs256_secret_shorter_than_32_refused");
	ok(ts_key_from_secret(secret, 47, TS_ALG_HS384, &k, &e) == TS_R_CONFIG_ERROR,
	    "K8_hs384_secret_shorter_than_48_refused");
	ok(ts_key_from_secret(secret, 63, TS_ALG_HS512, &k, &e) == TS_R_CONFIG_ERROR,
	    "K8_hs512_secret_shorter_than_64_refused");
	ok(ts_key_from_secret(secret, 32, TS_ALG_HS256, &k, &e) == TS_OK,
	    "K8_hs256_secret_of_32_ok");
	ts_key_free(k);
	ok(ERR_peek_error() == 0, "A6_error_queue_empty_after_refused_keys");
	{
		/* the host's own pending error is left in place, not wiped */
		ts_key *es = fx_key("p256", TS_ALG_ES256);

		const char *tok = fx_token("good_ES256_p256");
		char *bad = strdup(tok);
		ts_jws *j = NULL;

		bad[strlen(bad) - 2] = bad[strlen(bad) - 2] == 'A' ? 'B' : 'A';
		ERR_raise(ERR_LIB_USER, 42);
		if (ts_jws_parse(bad, strlen(bad), 0, &j, &e) == TS_OK)
			(void)ts_jws_verify(j, es, &e);
		ok(ERR_GET_REASON(ERR_peek_last_error()) == 42 &&
		        ERR_peek_error() == ERR_peek_last_error(),
		    "A6_host_error_queue_untouched");
		ts_jws_free(j);
		free(bad);
		ERR_clear_error();
		ts_key_free(es);
	}
}

/* Every character of every fixture signature changed: all rejected. */
static void
test_signature_mutations(void)
{
	const char *const *names = fx_token_names();
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	long tried = 0, accepted = 0;

	for (; *names != NULL; names++) {
		const char *tok;
		ts_key *k;
		char *t;
		size_t len, i, sigstart;

		if (strncmp(*names, "good_", 5) != 0)
			continue;
		tok = fx_token(*names);
		k = fx_key(fx_token_key(*names), alg_of(*names));
		len = strlen(tok);
		t = strdup(tok);
		sigstart = (size_t)(strrchr(tok, '.') - tok) + 1;
		for (i = sigstart; i < len; i++) {
			char orig = t[i];

			t[i] =
			    alphabet[(strchr(alphabet, orig) - alphabet + 1 + (long)i % 60) % 64];
			tried++;
			accepted += check(t, len, k) == TS_OK;
			t[i] = orig;
		}
		free(t);
		ts_key_free(k);
	}
	ok(tried > 3000 && accepted == 0,
	    "A6_every_signature_character_mutation_rejected (%ld tried)", tried);
}

int
main(void)
{
	test_independent_tokens();
	test_alg_pinning();
	test_alg_confusion();
	test_ecdsa_format();
	test_rsa_length();
	test_key_policy();
	test_signature_mutations();
	return tap_done();
}
