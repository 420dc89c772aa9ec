/* key.c: key material, its policy checks and its RFC 7638 thumbprint. */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
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
	/* K15: a key made by ts_key_from_raw keeps its public material until
	 * its first use sets up pkey, md and tmpl (KEY_PENDING); those three
	 * are read only after state was seen KEY_READY (acquire) */
	unsigned char *raw;
	ts_key_raw rawd; /* points into raw */
	atomic_int state;
	atomic_int reported; /* KEY_FAILED was logged */
	char *setup_err; /* KEY_FAILED: why; written before state */
};

enum { KEY_READY = 0, KEY_PENDING, KEY_FAILED };

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

/* type: an EVP_PKEY id, or 0 for an HMAC secret; group: an EC key's. */
static int
kind_fits(int type, const char *group, ts_alg alg)
{
	const ts_alg_info *ai = ts_alg_info_get(alg);

	if (ai == NULL)
		return 0;
	switch (ai->family) {
	case TS_FAM_RSA_PKCS1:
	case TS_FAM_RSA_PSS:
		/* RSA-PSS-typed keys carry their own restrictions: not accepted */
		return type == EVP_PKEY_RSA;
	case TS_FAM_ECDSA:
		return type == EVP_PKEY_EC && group != NULL && strcmp(group, ai->curve) == 0;
	case TS_FAM_EDDSA: return type == EVP_PKEY_ED25519 || type == EVP_PKEY_ED448;
	case TS_FAM_HMAC: return type == 0;
	}
	return 0;
}

int
ts_key_alg_fits(EVP_PKEY *pkey, ts_alg alg)
{
	const ts_alg_info *ai = ts_alg_info_get(alg);

	if (pkey == NULL)
		return kind_fits(0, NULL, alg);
	if (EVP_PKEY_get_id(pkey) == EVP_PKEY_EC)
		return ai != NULL && ai->curve != NULL && pkey_group_is(pkey, ai->curve) &&
		    kind_fits(EVP_PKEY_EC, ai->curve, alg);
	return kind_fits(EVP_PKEY_get_id(pkey), NULL, alg);
}

int
ts_key_raw_fits(const ts_key_raw *raw, ts_alg alg)
{
	return raw->type != 0 && kind_fits(raw->type, raw->group, alg);
}

static ts_reason
pick_alg(EVP_PKEY *pkey, const ts_key_raw *raw, size_t secret_len, unsigned allowed, ts_alg *out,
    ts_err *e)
{
	ts_alg a, found = TS_ALG_INVALID;
	int n = 0;

	for (a = TS_ALG_INVALID + 1; a < TS_ALG__COUNT; a++) {
		if (!(allowed & (1u << a)))
			continue;
		if (raw != NULL ? !ts_key_raw_fits(raw, a) : !ts_key_alg_fits(pkey, a))
			continue;
		if (raw == NULL && pkey == NULL && secret_len < ts_alg_info_get(a)->hash_len)
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

ts_reason
ts_key_pick_alg(EVP_PKEY *pkey, size_t secret_len, unsigned allowed, ts_alg *out, ts_err *e)
{
	return pick_alg(pkey, NULL, secret_len, allowed, out, e);
}

ts_reason
ts_key_pick_alg_raw(const ts_key_raw *raw, unsigned allowed, ts_alg *out, ts_err *e)
{
	return pick_alg(NULL, raw, 0, allowed, out, e);
}

/* Big-endian unsigned value of a BIGNUM parameter, minimal length. */
static int
bn_param(EVP_PKEY *pkey, const char *name, BIGNUM **bn)
{
	*bn = NULL;
	return EVP_PKEY_get_bn_param(pkey, name, bn) == 1;
}

/* The thumbprint's JSON, built with its length at hand (a load of 10,000
 * keys builds 10,000 of them); ok drops to 0 when it does not fit. */
typedef struct tp_json {
	char buf[3072]; /* 16384-bit modulus: 2731 b64 chars; plus the small members */
	size_t len;
	int ok;
} tp_json;

static void
put_str(tp_json *j, const char *s)
{
	size_t n = strlen(s);

	if (!j->ok || n >= sizeof(j->buf) - j->len) {
		j->ok = 0;
		return;
	}
	memcpy(j->buf + j->len, s, n + 1);
	j->len += n;
}

static void
put_b64(tp_json *j, const unsigned char *bin, size_t len)
{
	size_t n;

	if (!j->ok || len == 0)
		return;
	if ((n = ts_b64url_encode(bin, len, j->buf + j->len, sizeof(j->buf) - j->len)) == 0)
		j->ok = 0;
	j->len += n;
}

/* SHA-256 fetched once while a context lives: an implicit fetch per
 * thumbprint takes the provider store's lock, a tenth of a key's load.
 * Freed with the last context, as libsasl unloads the plugin after its
 * last server (M4 under valgrind: a fetched digest left behind by an
 * unloaded plugin is lost); with no context alive (the admin command's
 * own keyring reads) the implicit fetch serves. */
static EVP_MD *sha256_md;
static unsigned sha256_holders;
static pthread_mutex_t sha256_lock = PTHREAD_MUTEX_INITIALIZER;

void
ts_key_digest_hold(void)
{
	pthread_mutex_lock(&sha256_lock);
	if (sha256_holders++ == 0 && sha256_md == NULL)
		sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
	pthread_mutex_unlock(&sha256_lock);
}

void
ts_key_digest_release(void)
{
	pthread_mutex_lock(&sha256_lock);
	if (sha256_holders > 0 && --sha256_holders == 0) {
		EVP_MD_free(sha256_md);
		sha256_md = NULL;
	}
	pthread_mutex_unlock(&sha256_lock);
}

/*
 * RFC 7638 section 3: the required members only, lexicographic order, no
 * whitespace; then SHA-256 and base64url. m1/m2 are the members' bytes: k
 * (oct); e and n (RSA); x and y (EC); x (OKP, m2 NULL).
 */
static ts_reason
thumbprint_of(ts_key *k, const char *crv, const unsigned char *m1, size_t l1,
    const unsigned char *m2, size_t l2, ts_err *e)
{
	tp_json j;
	unsigned char md[32];
	const EVP_MD *digest;
	unsigned int mdlen = 0;
	int ok;

	j.buf[0] = '\0';
	j.len = 0;
	j.ok = 1;
	if (strcmp(k->kty, "oct") == 0) {
		put_str(&j, "{\"k\":\"");
		put_b64(&j, m1, l1);
		put_str(&j, "\",\"kty\":\"oct\"}");
	} else if (strcmp(k->kty, "RSA") == 0) {
		put_str(&j, "{\"e\":\"");
		put_b64(&j, m1, l1);
		put_str(&j, "\",\"kty\":\"RSA\",\"n\":\"");
		put_b64(&j, m2, l2);
		put_str(&j, "\"}");
	} else if (crv == NULL) {
		j.ok = 0;
	} else {
		put_str(&j, "{\"crv\":\"");
		put_str(&j, crv);
		put_str(&j, "\",\"kty\":\"");
		put_str(&j, k->kty);
		put_str(&j, "\",\"x\":\"");
		put_b64(&j, m1, l1);
		if (m2 != NULL) {
			put_str(&j, "\",\"y\":\"");
			put_b64(&j, m2, l2);
		}
		put_str(&j, "\"}");
	}
	pthread_mutex_lock(&sha256_lock);
	digest = sha256_md != NULL ? sha256_md : EVP_sha256();
	pthread_mutex_unlock(&sha256_lock);
	ok = j.ok && EVP_Digest(j.buf, j.len, md, &mdlen, digest, NULL) == 1 && mdlen == 32;
	if (ok)
		ts_b64url_encode(md, 32, k->thumbprint, sizeof(k->thumbprint));
	/* for HMAC keys the JSON held the secret (public keys' need no
	 * wiping, and a load of 10,000 keys would pay for it) */
	if (k->secret != NULL)
		OPENSSL_cleanse(&j, sizeof(j));
	return ok ? TS_OK : ts_fail(e, TS_R_INTERNAL, "cannot compute key thumbprint");
}

/* The thumbprint of a key made from an EVP_PKEY or a secret. */
static ts_reason
compute_thumbprint(ts_key *k, ts_err *e)
{
	unsigned char b1[2048], b2[2048];
	BIGNUM *n1 = NULL, *n2 = NULL;
	size_t l1 = 0, l2 = 0;
	ts_reason r = TS_R_INTERNAL;
	const ts_alg_info *ai = ts_alg_info_get(k->alg);
	int id = k->pkey ? EVP_PKEY_get_id(k->pkey) : 0;

	if (k->pkey == NULL) {
		r = thumbprint_of(k, NULL, k->secret, k->secret_len, NULL, 0, e);
	} else if (id == EVP_PKEY_RSA) {
		if (bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_E, &n1) &&
		    bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_N, &n2) &&
		    (size_t)BN_num_bytes(n2) <= sizeof(b2) &&
		    (size_t)BN_num_bytes(n1) <= sizeof(b1)) {
			l1 = (size_t)BN_bn2bin(n1, b1);
			l2 = (size_t)BN_bn2bin(n2, b2);
			r = thumbprint_of(k, NULL, b1, l1, b2, l2, e);
		}
	} else if (id == EVP_PKEY_EC) {
		l1 = l2 = ai->coord_len;
		if (bn_param(k->pkey, OSSL_PKEY_PARAM_EC_PUB_X, &n1) &&
		    bn_param(k->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &n2) &&
		    BN_bn2binpad(n1, b1, (int)l1) >= 0 && BN_bn2binpad(n2, b2, (int)l2) >= 0)
			r = thumbprint_of(k, ec_crv_name(ai), b1, l1, b2, l2, e);
	} else {
		l1 = sizeof(b1);
		if (EVP_PKEY_get_raw_public_key(k->pkey, b1, &l1) == 1)
			r = thumbprint_of(
			    k, id == EVP_PKEY_ED448 ? "Ed448" : "Ed25519", b1, l1, NULL, 0, e);
	}
	BN_free(n1);
	BN_free(n2);
	return r == TS_OK ? r : ts_fail(e, TS_R_INTERNAL, "cannot compute key thumbprint");
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

/* The part of a key's set-up that needs its EVP key: the digest and the
 * prepared verification context. Returns an error, never TS_OK, when any
 * step fails. */
static ts_reason
key_prepare(ts_key *k, EVP_PKEY *pkey, ts_err *e)
{
	const ts_alg_info *ai = ts_alg_info_get(k->alg);

	if (ai->digest != NULL && (k->md = EVP_MD_fetch(NULL, ai->digest, NULL)) == NULL)
		return ts_fail(e, TS_R_INTERNAL, "digest %s unavailable", ai->digest);
	if (EVP_PKEY_up_ref(pkey) != 1)
		return TS_R_INTERNAL;
	k->pkey = pkey;
	if ((k->tmpl = EVP_MD_CTX_new()) == NULL || !verify_init(k, k->tmpl))
		return TS_R_INTERNAL;
	return TS_OK;
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
	/* every failure from here on must leave r an error, never TS_OK from
	 * the checks above (a NULL key returned as success; found by
	 * fuzz_keyfile's fault injection) */
	if ((r = key_prepare(k, pkey, e)) != TS_OK)
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

/* ---- K15: keys set up at their first use ---- */

/* One lock for every key's deferred set-up: it runs once per key and
 * process, so contention does not matter, and a key needs no lock of its
 * own (memory grows with the number of keys). */
static pthread_mutex_t setup_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *
group_crv(const char *group)
{
	if (strcmp(group, "prime256v1") == 0)
		return "P-256";
	if (strcmp(group, "secp384r1") == 0)
		return "P-384";
	return "P-521";
}

static ts_reason
rsa_pkey(const ts_key_raw *raw, EVP_PKEY **pk, ts_err *e)
{
	BIGNUM *n = NULL, *ex = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	ts_reason r = TS_R_INTERNAL;

	if ((n = BN_bin2bn(raw->a, (int)raw->alen, NULL)) == NULL ||
	    (ex = BN_bin2bn(raw->b, (int)raw->blen, NULL)) == NULL)
		goto out;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, ex) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto out;
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, pk, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		r = ts_fail(e, TS_R_CONFIG_ERROR, "JWK RSA key rejected by OpenSSL");
		goto out;
	}
	r = TS_OK;
out:
	BN_free(n);
	BN_free(ex);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	return r;
}

ts_reason
ts_pkey_from_raw(const ts_key_raw *raw, EVP_PKEY **pk, ts_err *e)
{
	char gname[16]; /* OSSL_PARAM wants a mutable pointer */
	unsigned char pt[1 + 2 * 66];
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *ctx = NULL;
	int ed448 = raw->type == EVP_PKEY_ED448;
	ts_reason r;

	*pk = NULL;
	if (raw->type == EVP_PKEY_RSA)
		return rsa_pkey(raw, pk, e);
	if (raw->type != EVP_PKEY_EC) {
		*pk = EVP_PKEY_new_raw_public_key_ex(
		    NULL, ed448 ? "ED448" : "ED25519", NULL, raw->a, raw->alen);
		return *pk ? TS_OK
		           : ts_fail(e, TS_R_CONFIG_ERROR, "JWK %s key rejected",
		                 ed448 ? "Ed448" : "Ed25519");
	}
	if (raw->alen > sizeof(pt))
		return ts_fail(e, TS_R_CONFIG_ERROR, "EC point too long");
	memcpy(pt, raw->a, raw->alen);
	snprintf(gname, sizeof(gname), "%s", raw->group);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, gname, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pt, raw->alen);
	params[2] = OSSL_PARAM_construct_end();
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, pk, EVP_PKEY_PUBLIC_KEY, params) != 1)
		r = ts_fail(
		    e, TS_R_CONFIG_ERROR, "JWK EC point is not on curve %s", group_crv(raw->group));
	else
		r = TS_OK;
	EVP_PKEY_CTX_free(ctx);
	return r;
}

/* Bits of a big-endian unsigned number without leading zero bytes. */
static int
raw_bits(const unsigned char *p, size_t len)
{
	int bits = (int)len * 8;
	unsigned char top = len ? p[0] : 0;

	if (len == 0)
		return 0;
	while (!(top & 0x80)) {
		top = (unsigned char)(top << 1);
		bits--;
	}
	return bits;
}

/* What ts_key_from_pkey learns from the EVP key, learnt from raw bytes. */
static ts_reason
describe_raw(ts_key *k, const ts_alg_info *ai, const ts_key_raw *raw, ts_err *e)
{
	static const unsigned char f4[] = { 0x01, 0x00, 0x01 };

	switch (ai->family) {
	case TS_FAM_RSA_PKCS1:
	case TS_FAM_RSA_PSS:
		if (raw->alen == 0 || raw->a[0] == 0 || raw->blen == 0 || raw->b[0] == 0)
			return ts_fail(
			    e, TS_R_CONFIG_ERROR, "RSA n or e empty or with leading zero");
		k->bits = raw_bits(raw->a, raw->alen);
		if (k->bits < TS_RSA_MIN_BITS)
			return ts_fail(e, TS_R_CONFIG_ERROR,
			    "RSA key of %d bits is below the %d-bit minimum", k->bits,
			    TS_RSA_MIN_BITS);
		if (k->bits > TS_RSA_MAX_BITS)
			return ts_fail(e, TS_R_CONFIG_ERROR,
			    "RSA key of %d bits is above the %d-bit maximum", k->bits,
			    TS_RSA_MAX_BITS);
		if (raw->blen != sizeof(f4) || memcmp(raw->b, f4, sizeof(f4)) != 0)
			return ts_fail(e, TS_R_CONFIG_ERROR, "RSA public exponent is not 65537");
		k->sig_len = raw->alen;
		k->kty = "RSA";
		return TS_OK;
	case TS_FAM_ECDSA:
		if (raw->alen != 1 + 2 * ai->coord_len || raw->a[0] != 0x04)
			return ts_fail(e, TS_R_CONFIG_ERROR, "EC point of the wrong size");
		k->bits = ai->alg == TS_ALG_ES512 ? 521 : (int)(8 * ai->coord_len);
		k->sig_len = 2 * ai->coord_len;
		k->kty = "EC";
		return TS_OK;
	case TS_FAM_EDDSA:
		if (raw->alen != (raw->type == EVP_PKEY_ED448 ? 57u : 32u))
			return ts_fail(e, TS_R_CONFIG_ERROR, "OKP key of the wrong size");
		/* as EVP_PKEY_get_bits says for the curves */
		k->bits = raw->type == EVP_PKEY_ED448 ? 456 : 253;
		k->sig_len = raw->type == EVP_PKEY_ED448 ? 114 : 64;
		k->kty = "OKP";
		return TS_OK;
	default: return TS_R_INTERNAL;
	}
}

ts_reason
ts_key_from_raw(const ts_key_raw *raw, ts_alg alg, ts_key **out, ts_err *e)
{
	const ts_alg_info *ai = ts_alg_info_get(alg);
	ts_key *k = NULL;
	ts_reason r = TS_R_INTERNAL;
	size_t coord;

	*out = NULL;
	if (ai == NULL || ai->family == TS_FAM_HMAC || !ts_key_raw_fits(raw, alg))
		return ts_fail(e, TS_R_CONFIG_ERROR, "key type or curve does not fit algorithm %s",
		    ts_alg_name(alg));
	if ((k = key_new(alg)) == NULL)
		goto out;
	if ((r = describe_raw(k, ai, raw, e)) != TS_OK)
		goto out;
	r = TS_R_INTERNAL;
	if ((k->raw = malloc(raw->alen + raw->blen + 1)) == NULL)
		goto out;
	memcpy(k->raw, raw->a, raw->alen);
	if (raw->blen)
		memcpy(k->raw + raw->alen, raw->b, raw->blen);
	k->rawd = *raw;
	k->rawd.a = k->raw;
	k->rawd.b = k->raw + raw->alen;
	k->rawd.group = ai->curve; /* static, where raw's may not be */
	coord = ai->coord_len;
	if (ai->family == TS_FAM_ECDSA)
		r = thumbprint_of(
		    k, group_crv(ai->curve), raw->a + 1, coord, raw->a + 1 + coord, coord, e);
	else if (ai->family == TS_FAM_EDDSA)
		r = thumbprint_of(k, raw->type == EVP_PKEY_ED448 ? "Ed448" : "Ed25519", raw->a,
		    raw->alen, NULL, 0, e);
	else
		r = thumbprint_of(k, NULL, raw->b, raw->blen, raw->a, raw->alen, e);
	if (r != TS_OK)
		goto out;
	atomic_init(&k->state, KEY_PENDING);
	*out = k;
	k = NULL; /* transferred */
out:
	if (r == TS_R_INTERNAL && e != NULL && e->msg[0] == '\0')
		ts_fail(e, r, "out of memory while loading a key");
	ts_key_free(k);
	return r;
}

/* The deferred set-up, under setup_lock: the checks ts_key_from_pkey makes
 * on the EVP key (an EC point on its curve, for one), then the digest and
 * the verification context. */
static ts_reason
setup_now(ts_key *k, ts_err *e)
{
	const ts_alg_info *ai = ts_alg_info_get(k->alg);
	EVP_PKEY *pk = NULL;
	int bits = 0;
	ts_reason r;

	ERR_set_mark();
	r = ts_pkey_from_raw(&k->rawd, &pk, e);
	if (r == TS_OK && !ts_key_alg_fits(pk, k->alg))
		r = ts_fail(
		    e, TS_R_CONFIG_ERROR, "key type or curve does not fit algorithm %s", ai->name);
	if (r == TS_OK && (ai->family == TS_FAM_RSA_PKCS1 || ai->family == TS_FAM_RSA_PSS))
		r = check_rsa(pk, &bits, e);
	if (r == TS_OK && ai->family == TS_FAM_ECDSA)
		r = check_ec(pk, e);
	if (r == TS_OK)
		r = key_prepare(k, pk, e);
	if (r == TS_R_INTERNAL && e != NULL && e->msg[0] == '\0')
		ts_fail(e, r, "out of memory or OpenSSL failure while setting up a key");
	EVP_PKEY_free(pk);
	ERR_pop_to_mark();
	return r;
}

ts_reason
ts_key_setup(const ts_key *ck, ts_err *e)
{
	/* the set-up is not a visible change of the key */
	ts_key *k = (ts_key *)(uintptr_t)ck;
	int st = atomic_load_explicit(&k->state, memory_order_acquire);

	if (st == KEY_PENDING) {
		pthread_mutex_lock(&setup_lock);
		if (atomic_load_explicit(&k->state, memory_order_relaxed) == KEY_PENDING) {
			ts_err se = { "" };

			st = setup_now(k, &se) == TS_OK ? KEY_READY : KEY_FAILED;
			if (st == KEY_FAILED)
				k->setup_err = strdup(se.msg); /* NULL: said below */
			atomic_store_explicit(&k->state, st, memory_order_release);
		}
		pthread_mutex_unlock(&setup_lock);
		st = atomic_load_explicit(&k->state, memory_order_acquire);
	}
	if (st == KEY_READY)
		return TS_OK;
	/* the reason of a key refused at load: the configuration is wrong */
	return ts_fail(e, TS_R_CONFIG_ERROR, "key %s fails its checks: %s", k->thumbprint,
	    k->setup_err ? k->setup_err : "out of memory");
}

int
ts_key_failure_unreported(const ts_key *ck)
{
	ts_key *k = (ts_key *)(uintptr_t)ck;

	return atomic_load_explicit(&k->state, memory_order_acquire) == KEY_FAILED &&
	    atomic_exchange(&k->reported, 1) == 0;
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
	free(k->raw);
	free(k->setup_err);
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
	if (ts_key_is_secret(k) || ts_key_setup(k, NULL) != TS_OK)
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

	/* K15: a key that failed its deferred checks verifies nothing */
	if ((r = ts_key_setup(k, e)) != TS_OK)
		return r;
	r = TS_R_INTERNAL;
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
