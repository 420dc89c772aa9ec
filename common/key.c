/* key.c: key material, its policy checks and its RFC 7638 thumbprint. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "b64url.h"
#include "key.h"

struct ts_key {
	ts_alg alg;
	EVP_PKEY *pkey; /* NULL for HMAC */
	EVP_MD *md; /* fetched once; NULL for EdDSA */
	/* DigestVerifyInit done once at load (it costs ~2.5 us, an eighth of
	 * an RSA-2048 verification); each verification works on a copy.
	 * Copying only reads the template, so threads may share it. */
	EVP_MD_CTX *tmpl;
	unsigned char *secret; /* HMAC only; wiped on free */
	size_t secret_len;
	size_t sig_len;
	int bits;
	const char *kty;
	char thumbprint[TS_THUMBPRINT_LEN + 1];
};

static const char *
ec_crv_name(const ts_alg_info *ai)
{
	switch (ai->alg) {
	case TS_ALG_ES256: return "P-256";
	case TS_ALG_ES384: return "P-384";
	case TS_ALG_ES512: return "P-521";
	default: return NULL;
	}
}

static int
pkey_group_is(EVP_PKEY *pkey, const char *group)
{
	char name[64];
	size_t len = 0;

	if (EVP_PKEY_get_utf8_string_param(
	        pkey, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof(name), &len) != 1)
		return 0;
	return strcmp(name, group) == 0;
}

int
ts_key_alg_fits(EVP_PKEY *pkey, ts_alg alg)
{
	const ts_alg_info *ai = ts_alg_info_get(alg);

	if (ai == NULL)
		return 0;
	if (pkey == NULL)
		return ai->family == TS_FAM_HMAC;
	switch (ai->family) {
	case TS_FAM_RSA_PKCS1:
	case TS_FAM_RSA_PSS:
		/* RSA-PSS-typed keys carry their own restrictions: not accepted */
		return EVP_PKEY_get_id(pkey) == EVP_PKEY_RSA;
	case TS_FAM_ECDSA:
		return EVP_PKEY_get_id(pkey) == EVP_PKEY_EC && pkey_group_is(pkey, ai->curve);
	case TS_FAM_EDDSA:
		return EVP_PKEY_get_id(pkey) == EVP_PKEY_ED25519 ||
		    EVP_PKEY_get_id(pkey) == EVP_PKEY_ED448;
	case TS_FAM_HMAC: return 0;
	}
	return 0;
}

ts_reason
ts_key_pick_alg(EVP_PKEY *pkey, size_t secret_len, unsigned allowed, ts_alg *out, ts_err *e)
{
	ts_alg a, found = TS_ALG_INVALID;
	int n = 0;

	for (a = TS_ALG_INVALID + 1; a < TS_ALG__COUNT; a++) {
		if (!(allowed & (1u << a)) || !ts_key_alg_fits(pkey, a))
			continue;
		if (pkey == NULL && secret_len < ts_alg_info_get(a)->hash_len)
			continue;
		if (n++ == 0)
			found = a;
	}
	if (n == 0)
		return ts_fail(
		    e, TS_R_CONFIG_ERROR, "no allowed algorithm fits this key; name one with alg=");
	if (n > 1)
		return ts_fail(e, TS_R_CONFIG_ERROR,
		    "key algorithm is ambiguous (%s and others are allowed); name it with alg=",
		    ts_alg_name(found));
	*out = found;
	return TS_OK;
}

/* Big-endian unsigned value of a BIGNUM parameter, minimal length. */
static int
bn_param(EVP_PKEY *pkey, const char *name, BIGNUM **bn)
{
	*bn = NULL;
	return EVP_PKEY_get_bn_param(pkey, name, bn) == 1;
}

static int
b64_append(char *dst, size_t cap, const unsigned char *bin, size_t len)
{
	size_t used = strlen(dst);

	return ts_b64url_encode(bin, len, dst + used, cap - used) > 0 || len == 0;
}

/*
 * RFC 7638 section 3: the required members only, lexicographic order, no
 * whitespace; then SHA-256 and base64url.
 */
static ts_reason
compute_thumbprint(ts_key *k, ts_err *e)
{
	/* 16384-bit modulus: 2731 b64 chars; plus the small members */
	char json[3072] = "";
	unsigned char buf[2048], md[32];
	BIGNUM *n = NULL, *ex = NULL, *x = NULL, *y = NULL;
	size_t len;
	unsigned int mdlen = 0;
	int ok = 0;

	if (k->pkey == NULL) {
		if (TS_B64URL_ENCODED_LEN(k->secret_len) + 32 > sizeof(json))
			goto out;
		strcpy(json, "{\"k\":\"");
		if (!b64_append(json, sizeof(json), k->secret, k->secret_len))
			goto out;
		strcat(json, "\",\"kty\":\"oct\"}");
	} else if (EVP_PKEY_get_id(k->pkey) == EVP_PKEY_RSA) {
		if (!bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_N, &n) ||
		    !bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_E, &ex) ||
		    (size_t)BN_num_bytes(n) > sizeof(buf))
			goto out;
		strcpy(json, "{\"e\":\"");
		len = (size_t)BN_bn2bin(ex, buf);
		if (!b64_append(json, sizeof(json), buf, len))
			goto out;
		strcat(json, "\",\"kty\":\"RSA\",\"n\":\"");
		len = (size_t)BN_bn2bin(n, buf);
		if (!b64_append(json, sizeof(json), buf, len))
			goto out;
		strcat(json, "\"}");
	} else if (EVP_PKEY_get_id(k->pkey) == EVP_PKEY_EC) {
		const ts_alg_info *ai = ts_alg_info_get(k->alg);
		size_t cl = ai->coord_len;

		if (!bn_param(k->pkey, OSSL_PKEY_PARAM_EC_PUB_X, &x) ||
		    !bn_param(k->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &y))
			goto out;
		snprintf(
		    json, sizeof(json), "{\"crv\":\"%s\",\"kty\":\"EC\",\"x\":\"", ec_crv_name(ai));
		if (BN_bn2binpad(x, buf, (int)cl) < 0 || !b64_append(json, sizeof(json), buf, cl))
			goto out;
		strcat(json, "\",\"y\":\"");
		if (BN_bn2binpad(y, buf, (int)cl) < 0 || !b64_append(json, sizeof(json), buf, cl))
			goto out;
		strcat(json, "\"}");
	} else {
		int ed448 = EVP_PKEY_get_id(k->pkey) == EVP_PKEY_ED448;

		len = sizeof(buf);
		if (EVP_PKEY_get_raw_public_key(k->pkey, buf, &len) != 1)
			goto out;
		snprintf(json, sizeof(json), "{\"crv\":\"%s\",\"kty\":\"OKP\",\"x\":\"",
		    ed448 ? "Ed448" : "Ed25519");
		if (!b64_append(json, sizeof(json), buf, len))
			goto out;
		strcat(json, "\"}");
	}
	if (EVP_Digest(json, strlen(json), md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
		goto out;
	ts_b64url_encode(md, 32, k->thumbprint, sizeof(k->thumbprint));
	ok = 1;
out:
	/* for HMAC keys the JSON held the secret */
	OPENSSL_cleanse(json, sizeof(json));
	BN_free(n);
	BN_free(ex);
	BN_free(x);
	BN_free(y);
	return ok ? TS_OK : ts_fail(e, TS_R_INTERNAL, "cannot compute key thumbprint");
}

static ts_reason
check_rsa(EVP_PKEY *pkey, int *bits, ts_err *e)
{
	BIGNUM *ex = NULL;
	ts_reason r;

	*bits = EVP_PKEY_get_bits(pkey);
	if (*bits < TS_RSA_MIN_BITS)
		return ts_fail(e, TS_R_CONFIG_ERROR,
		    "RSA key of %d bits is below the %d-bit minimum", *bits, TS_RSA_MIN_BITS);
	if (*bits > TS_RSA_MAX_BITS)
		return ts_fail(e, TS_R_CONFIG_ERROR,
		    "RSA key of %d bits is above the %d-bit maximum", *bits, TS_RSA_MAX_BITS);
	if (!bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &ex))
		return ts_fail(e, TS_R_CONFIG_ERROR, "RSA key without public exponent");
	r = BN_is_word(ex, 65537)
	    ? TS_OK
	    : ts_fail(e, TS_R_CONFIG_ERROR, "RSA public exponent is not 65537");
	BN_free(ex);
	return r;
}

static ts_reason
check_ec(EVP_PKEY *pkey, ts_err *e)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	int ok = ctx != NULL && EVP_PKEY_public_check(ctx) == 1;

	EVP_PKEY_CTX_free(ctx);
	return ok ? TS_OK
	          : ts_fail(e, TS_R_CONFIG_ERROR, "EC public key is not a valid curve point");
}

static ts_key *
key_new(ts_alg alg)
{
	ts_key *k = calloc(1, sizeof(*k));

	if (k != NULL)
		k->alg = alg;
	return k;
}

/* The verification context every signature of this key starts from. */
static int
verify_init(const ts_key *k, EVP_MD_CTX *mctx)
{
	const ts_alg_info *ai = ts_alg_info_get(k->alg);
	EVP_PKEY_CTX *pctx = NULL;

	if (EVP_DigestVerifyInit(mctx, &pctx, k->md, NULL, k->pkey) != 1)
		return 0;
	if (ai->family == TS_FAM_RSA_PSS) {
		/* RFC 7518 3.5: MGF1 with the same hash, salt as long as the hash */
		if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
		    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, k->md) != 1 ||
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, (int)ai->hash_len) != 1)
			return 0;
	} else if (ai->family == TS_FAM_RSA_PKCS1) {
		if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
			return 0;
	}
	return 1;
}

ts_reason
ts_key_from_pkey(EVP_PKEY *pkey, ts_alg alg, ts_key **out, ts_err *e)
{
	const ts_alg_info *ai = ts_alg_info_get(alg);
	ts_key *k = NULL;
	ts_reason r = TS_R_INTERNAL;

	*out = NULL;
	ERR_set_mark();
	if (ai == NULL || ai->family == TS_FAM_HMAC || pkey == NULL) {
		r = ts_fail(e, TS_R_CONFIG_ERROR, "algorithm %s needs another kind of key",
		    ts_alg_name(alg));
		goto out;
	}
	if (!ts_key_alg_fits(pkey, alg)) {
		r = ts_fail(
		    e, TS_R_CONFIG_ERROR, "key type or curve does not fit algorithm %s", ai->name);
		goto out;
	}
	if ((k = key_new(alg)) == NULL)
		goto out;
	switch (ai->family) {
	case TS_FAM_RSA_PKCS1:
	case TS_FAM_RSA_PSS:
		if ((r = check_rsa(pkey, &k->bits, e)) != TS_OK)
			goto out;
		k->sig_len = (size_t)EVP_PKEY_get_size(pkey);
		k->kty = "RSA";
		break;
	case TS_FAM_ECDSA:
		if ((r = check_ec(pkey, e)) != TS_OK)
			goto out;
		k->bits = EVP_PKEY_get_bits(pkey);
		k->sig_len = 2 * ai->coord_len;
		k->kty = "EC";
		break;
	case TS_FAM_EDDSA:
		k->bits = EVP_PKEY_get_bits(pkey);
		k->sig_len = EVP_PKEY_get_id(pkey) == EVP_PKEY_ED448 ? 114 : 64;
		k->kty = "OKP";
		break;
	default: goto out;
	}
	if (ai->digest != NULL && (k->md = EVP_MD_fetch(NULL, ai->digest, NULL)) == NULL) {
		r = ts_fail(e, TS_R_INTERNAL, "digest %s unavailable", ai->digest);
		goto out;
	}
	/* from here on every failure is ours: r must not stay TS_OK from the
	 * checks above (a NULL key returned as success; found by fuzz_keyfile's
	 * fault injection) */
	r = TS_R_INTERNAL;
	if (EVP_PKEY_up_ref(pkey) != 1)
		goto out;
	k->pkey = pkey;
	if ((k->tmpl = EVP_MD_CTX_new()) == NULL || !verify_init(k, k->tmpl))
		goto out;
	if ((r = compute_thumbprint(k, e)) != TS_OK)
		goto out;
	*out = k;
	k = NULL; /* transferred */
	r = TS_OK;
out:
	if (r == TS_R_INTERNAL && e != NULL && e->msg[0] == '\0')
		ts_fail(e, r, "out of memory or OpenSSL failure while loading a key");
	ts_key_free(k);
	ERR_pop_to_mark();
	return r;
}

ts_reason
ts_key_from_secret(const unsigned char *secret, size_t len, ts_alg alg, ts_key **out, ts_err *e)
{
	const ts_alg_info *ai = ts_alg_info_get(alg);
	ts_key *k = NULL;
	ts_reason r = TS_R_INTERNAL;

	*out = NULL;
	ERR_set_mark();
	if (ai == NULL || ai->family != TS_FAM_HMAC) {
		r = ts_fail(e, TS_R_CONFIG_ERROR, "a shared secret can only be an HS* key");
		goto out;
	}
	if (len < ai->hash_len) {
		r = ts_fail(e, TS_R_CONFIG_ERROR, "%s secret of %zu bytes is shorter than %zu",
		    ai->name, len, ai->hash_len);
		goto out;
	}
	if (len > 1024) {
		r = ts_fail(e, TS_R_CONFIG_ERROR, "HMAC secret longer than 1024 bytes");
		goto out;
	}
	if ((k = key_new(alg)) == NULL || (k->secret = malloc(len)) == NULL)
		goto out;
	memcpy(k->secret, secret, len);
	k->secret_len = len;
	k->sig_len = ai->hash_len;
	k->bits = (int)(len * 8);
	k->kty = "oct";
	if ((k->md = EVP_MD_fetch(NULL, ai->digest, NULL)) == NULL)
		goto out;
	if ((r = compute_thumbprint(k, e)) != TS_OK)
		goto out;
	*out = k;
	k = NULL; /* transferred */
	r = TS_OK;
out:
	if (r == TS_R_INTERNAL && e != NULL && e->msg[0] == '\0')
		ts_fail(e, r, "out of memory or OpenSSL failure while loading a secret");
	ts_key_free(k);
	ERR_pop_to_mark();
	return r;
}

void
ts_key_free(ts_key *k)
{
	if (k == NULL)
		return;
	EVP_MD_CTX_free(k->tmpl);
	EVP_PKEY_free(k->pkey);
	EVP_MD_free(k->md);
	ts_freezero(k->secret, k->secret_len);
	OPENSSL_cleanse(k, sizeof(*k));
	free(k);
}

ts_alg
ts_key_alg(const ts_key *k)
{
	return k->alg;
}

const char *
ts_key_thumbprint(const ts_key *k)
{
	return k->thumbprint;
}

size_t
ts_key_sig_len(const ts_key *k)
{
	return k->sig_len;
}

int
ts_key_bits(const ts_key *k)
{
	return k->bits;
}

int
ts_key_is_secret(const ts_key *k)
{
	return k->secret != NULL;
}

const char *
ts_key_kty(const ts_key *k)
{
	return k->kty;
}

/* ---- verification ---- */

/* Raw r||s (JWS) to DER for OpenSSL. r and s must each be non-zero; values
 * >= the group order are refused by OpenSSL's own verification. */
static int
ecdsa_raw_to_der(
    const unsigned char *sig, size_t coord, unsigned char *der, size_t cap, size_t *derlen)
{
	ECDSA_SIG *es = NULL;
	BIGNUM *r = BN_bin2bn(sig, (int)coord, NULL);
	BIGNUM *s = BN_bin2bn(sig + coord, (int)coord, NULL);
	unsigned char *p = der;
	int n, ok = 0;

	if (r == NULL || s == NULL || BN_is_zero(r) || BN_is_zero(s))
		goto out;
	if ((es = ECDSA_SIG_new()) == NULL || ECDSA_SIG_set0(es, r, s) != 1)
		goto out;
	r = s = NULL; /* transferred */
	if ((n = i2d_ECDSA_SIG(es, NULL)) <= 0 || (size_t)n > cap)
		goto out;
	if (i2d_ECDSA_SIG(es, &p) != n)
		goto out;
	*derlen = (size_t)n;
	ok = 1;
out:
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	return ok;
}

static ts_reason
verify_hmac(const ts_key *k, const unsigned char *msg, size_t msglen, const unsigned char *sig,
    size_t siglen, ts_err *e)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	size_t maclen = 0;
	ts_reason r;

	if (EVP_Q_mac(NULL, "HMAC", NULL, EVP_MD_get0_name(k->md), NULL, k->secret, k->secret_len,
	        msg, msglen, mac, sizeof(mac), &maclen) == NULL ||
	    maclen != k->sig_len)
		r = ts_fail(e, TS_R_INTERNAL, "HMAC computation failed");
	else if (CRYPTO_memcmp(mac, sig, siglen) != 0)
		r = ts_fail(e, TS_R_BAD_SIGNATURE, "HMAC does not match");
	else
		r = TS_OK;
	OPENSSL_cleanse(mac, sizeof(mac));
	return r;
}

ts_reason
ts_key_public_bytes(const ts_key *k, int pem, unsigned char **out, size_t *len)
{
	BIO *bio = NULL;
	char *data = NULL;
	long n;
	ts_reason r = TS_R_INTERNAL;

	*out = NULL;
	*len = 0;
	if (k->pkey == NULL)
		return r;
	ERR_set_mark();
	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		goto out;
	if ((pem ? PEM_write_bio_PUBKEY(bio, k->pkey) : i2d_PUBKEY_bio(bio, k->pkey)) != 1)
		goto out;
	if ((n = BIO_get_mem_data(bio, &data)) <= 0 || (*out = malloc((size_t)n)) == NULL)
		goto out;
	memcpy(*out, data, (size_t)n);
	*len = (size_t)n;
	r = TS_OK;
out:
	BIO_free(bio);
	ERR_pop_to_mark();
	return r;
}

ts_reason
ts_key_verify(const ts_key *k, const unsigned char *msg, size_t msglen, const unsigned char *sig,
    size_t siglen, ts_err *e)
{
	const ts_alg_info *ai = ts_alg_info_get(k->alg);
	EVP_MD_CTX *mctx = NULL;
	unsigned char der[160];
	const unsigned char *vsig = sig;
	size_t vlen = siglen;
	ts_reason r = TS_R_INTERNAL;
	int rc;

	ERR_set_mark();
	/* A3, A4: exact length first; nothing else reaches OpenSSL */
	if (siglen != k->sig_len) {
		r = ts_fail(e, TS_R_BAD_SIGNATURE,
		    "signature is %zu bytes, %s with this key needs %zu", siglen, ai->name,
		    k->sig_len);
		goto out;
	}
	if (ai->family == TS_FAM_HMAC) {
		r = verify_hmac(k, msg, msglen, sig, siglen, e);
		goto out;
	}
	if (ai->family == TS_FAM_ECDSA) {
		if (!ecdsa_raw_to_der(sig, ai->coord_len, der, sizeof(der), &vlen)) {
			r = ts_fail(e, TS_R_BAD_SIGNATURE, "ECDSA signature r or s is zero");
			goto out;
		}
		vsig = der;
	}
	if ((mctx = EVP_MD_CTX_new()) == NULL || EVP_MD_CTX_copy_ex(mctx, k->tmpl) != 1)
		goto out;
	/* one verification per copy: no need for OpenSSL to keep it reusable */
	EVP_MD_CTX_set_flags(mctx, EVP_MD_CTX_FLAG_FINALISE);
	rc = EVP_DigestVerify(mctx, vsig, vlen, msg, msglen);
	/* A6: three outcomes; only exactly 1 accepts. A malformed signature is
	 * reported by some providers as an error (<0): still a bad signature
	 * from the caller's point of view, never an accept. */
	if (rc == 1)
		r = TS_OK;
	else
		r = ts_fail(e, TS_R_BAD_SIGNATURE, "%s signature does not verify", ai->name);
out:
	if (r == TS_R_INTERNAL && e != NULL)
		ts_fail(e, r, "OpenSSL failure during %s verification", ai ? ai->name : "?");
	EVP_MD_CTX_free(mctx);
	OPENSSL_cleanse(der, sizeof(der));
	ERR_pop_to_mark();
	return r;
}
