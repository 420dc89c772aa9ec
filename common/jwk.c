/* jwk.c: JSON Web Key import (see jwk.h). */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include "b64url.h"
#include "jwk.h"

#define JWK_MAX_FIELD 2048 /* decoded bytes: a 16384-bit modulus */

/* Decodes a required base64url member into buf. Returns length or -1. */
static long
member_b64(const ts_jv *jwk, const char *name, unsigned char *buf, size_t cap, ts_err *e)
{
	const ts_jv *v = ts_jv_get(jwk, name);
	size_t n = 0;

	if (!ts_jv_is(v, TS_JSON_STRING)) {
		ts_fail(e, TS_R_CONFIG_ERROR, "JWK member \"%s\" missing or not a string", name);
		return -1;
	}
	if (ts_b64url_decode(v->u.s, v->n, buf, cap, &n) != 0) {
		ts_fail(e, TS_R_CONFIG_ERROR, "JWK member \"%s\" is not strict base64url", name);
		return -1;
	}
	return (long)n;
}

/* The JWK's public members, decoded and checked for form; the bytes live
 * in buf (the caller's). */
typedef struct jwk_raw {
	ts_key_raw raw;
	unsigned char buf[JWK_MAX_FIELD + 16];
} jwk_raw;

static ts_reason
rsa_from_jwk(const ts_jv *jwk, jwk_raw *jr, ts_err *e)
{
	unsigned char *nb = jr->buf, *eb = jr->buf + JWK_MAX_FIELD;
	long nl, el;

	if ((nl = member_b64(jwk, "n", nb, JWK_MAX_FIELD, e)) < 0 ||
	    (el = member_b64(jwk, "e", eb, 16, e)) < 0)
		return TS_R_CONFIG_ERROR;
	/* RFC 7518 6.3.1: minimum number of octets, so one key has one form */
	if (nl == 0 || el == 0 || nb[0] == 0 || eb[0] == 0)
		return ts_fail(e, TS_R_CONFIG_ERROR, "JWK RSA n or e empty or with leading zero");
	jr->raw.type = EVP_PKEY_RSA;
	jr->raw.a = nb;
	jr->raw.alen = (size_t)nl;
	jr->raw.b = eb;
	jr->raw.blen = (size_t)el;
	return TS_OK;
}

static ts_reason
ec_from_jwk(const ts_jv *jwk, const char *crv, jwk_raw *jr, ts_err *e)
{
	static const struct {
		const char *crv, *group;
		size_t len;
	} curves[] = { { "P-256", "prime256v1", 32 }, { "P-384", "secp384r1", 48 },
		{ "P-521", "secp521r1", 66 } };
	unsigned char *pt = jr->buf, tmp[JWK_MAX_FIELD];
	const char *group = NULL;
	size_t clen = 0, i;
	long xl, yl;

	for (i = 0; i < sizeof(curves) / sizeof(curves[0]); i++)
		if (strcmp(crv, curves[i].crv) == 0) {
			group = curves[i].group;
			clen = curves[i].len;
		}
	if (group == NULL)
		return ts_fail(e, TS_R_CONFIG_ERROR, "JWK EC curve is not P-256, P-384 or P-521");
	/* RFC 7518 6.2.1.2: coordinates are exactly the field size */
	if ((xl = member_b64(jwk, "x", tmp, sizeof(tmp), e)) < 0)
		return TS_R_CONFIG_ERROR;
	if ((size_t)xl != clen)
		return ts_fail(
		    e, TS_R_CONFIG_ERROR, "JWK EC x is %ld bytes, %s needs %zu", xl, crv, clen);
	memcpy(pt + 1, tmp, clen);
	if ((yl = member_b64(jwk, "y", tmp, sizeof(tmp), e)) < 0)
		return TS_R_CONFIG_ERROR;
	if ((size_t)yl != clen)
		return ts_fail(
		    e, TS_R_CONFIG_ERROR, "JWK EC y is %ld bytes, %s needs %zu", yl, crv, clen);
	memcpy(pt + 1 + clen, tmp, clen);
	pt[0] = 0x04; /* uncompressed point */
	jr->raw.type = EVP_PKEY_EC;
	jr->raw.group = group;
	jr->raw.a = pt;
	jr->raw.alen = 1 + 2 * clen;
	return TS_OK;
}

static ts_reason
okp_from_jwk(const ts_jv *jwk, const char *crv, jwk_raw *jr, ts_err *e)
{
	long xl;
	int ed448;

	if (strcmp(crv, "Ed25519") == 0)
		ed448 = 0;
	else if (strcmp(crv, "Ed448") == 0)
		ed448 = 1;
	else
		return ts_fail(e, TS_R_CONFIG_ERROR, "JWK OKP curve is not Ed25519 or Ed448");
	if ((xl = member_b64(jwk, "x", jr->buf, JWK_MAX_FIELD, e)) < 0)
		return TS_R_CONFIG_ERROR;
	if (xl != (ed448 ? 57 : 32))
		return ts_fail(e, TS_R_CONFIG_ERROR, "JWK %s x has the wrong length", crv);
	jr->raw.type = ed448 ? EVP_PKEY_ED448 : EVP_PKEY_ED25519;
	jr->raw.a = jr->buf;
	jr->raw.alen = (size_t)xl;
	return TS_OK;
}

const char *const ts_jwk_private_members[] = { "d", "p", "q", "dp", "dq", "qi", "oth", "k", NULL };

static ts_reason
check_usage(const ts_jv *jwk, ts_err *e)
{
	const ts_jv *use = ts_jv_get(jwk, "use"), *ops = ts_jv_get(jwk, "key_ops"), *op;
	size_t i;
	int verify = 0;

	if (use != NULL && !(ts_jv_is(use, TS_JSON_STRING) && strcmp(use->u.s, "sig") == 0))
		return ts_fail(e, TS_R_CONFIG_ERROR, "JWK \"use\" is not \"sig\"");
	if (ops != NULL) {
		if (!ts_jv_is(ops, TS_JSON_ARRAY))
			return ts_fail(e, TS_R_CONFIG_ERROR, "JWK \"key_ops\" is not an array");
		for (i = 0, op = ops + 1; i < ops->n; i++, op += op->skip) {
			if (!ts_jv_is(op, TS_JSON_STRING))
				return ts_fail(
				    e, TS_R_CONFIG_ERROR, "JWK \"key_ops\" holds a non-string");
			if (strcmp(op->u.s, "verify") == 0)
				verify = 1;
		}
		if (!verify)
			return ts_fail(
			    e, TS_R_CONFIG_ERROR, "JWK \"key_ops\" does not allow \"verify\"");
	}
	return TS_OK;
}

static ts_reason
asn1_time(const ASN1_TIME *t, time_t *out)
{
	struct tm tm;

	if (ASN1_TIME_to_tm(t, &tm) != 1)
		return TS_R_CONFIG_ERROR;
	*out = timegm(&tm);
	return TS_OK;
}

ts_reason
ts_x509_window(const X509 *cert, time_t *not_before, time_t *not_after)
{
	if (asn1_time(X509_get0_notBefore(cert), not_before) != TS_OK ||
	    asn1_time(X509_get0_notAfter(cert), not_after) != TS_OK)
		return TS_R_CONFIG_ERROR;
	return TS_OK;
}

/* Strict standard base64 (RFC 7517 4.7: x5c is base64, not base64url):
 * alphabet, padding only at the end, length a multiple of 4. */
static int
b64std_decode(const char *in, size_t len, unsigned char **out, size_t *outlen)
{
	size_t i, pad = 0;
	unsigned char *buf;
	int n;

	*out = NULL;
	if (len == 0 || len % 4 != 0 || len > (size_t)INT_MAX)
		return -1;
	if (in[len - 1] == '=')
		pad = in[len - 2] == '=' ? 2 : 1;
	for (i = 0; i < len - pad; i++) {
		unsigned char c = (unsigned char)in[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		        c == '+' || c == '/'))
			return -1;
	}
	if ((buf = malloc(len / 4 * 3 + 1)) == NULL)
		return -1;
	/* EVP_DecodeBlock counts padding as zero bytes */
	if ((n = EVP_DecodeBlock(buf, (const unsigned char *)in, (int)len)) < 0 ||
	    (size_t)n < pad) {
		free(buf);
		return -1;
	}
	*out = buf;
	*outlen = (size_t)n - pad;
	return 0;
}

/*
 * K12: the first x5c certificate must hold this very key (RFC 7517 4.7),
 * and its validity window becomes the key's, as for a PEM certificate. No
 * chain is verified: trust comes from the file, not from a CA; the
 * certificate only narrows the key's window.
 */
static ts_reason
check_x5c(const ts_jv *x5c, EVP_PKEY *pk, ts_jwk_window *win, ts_err *e)
{
	const ts_jv *first = ts_jv_at(x5c, 0);
	unsigned char *der = NULL;
	const unsigned char *p;
	size_t derlen = 0;
	X509 *cert = NULL;
	EVP_PKEY *cpk;
	const ts_jv *c;
	size_t i;
	ts_reason r = TS_R_CONFIG_ERROR;

	if (!ts_jv_is(x5c, TS_JSON_ARRAY) || x5c->n == 0)
		return ts_fail(e, r, "JWK \"x5c\" is not a non-empty array of strings");
	for (i = 0, c = first; i < x5c->n; i++, c += c->skip)
		if (!ts_jv_is(c, TS_JSON_STRING))
			return ts_fail(e, r, "JWK \"x5c\" is not a non-empty array of strings");
	if (pk == NULL)
		return ts_fail(e, r, "JWK \"x5c\" on a symmetric key");
	if (b64std_decode(first->u.s, first->n, &der, &derlen) != 0) {
		ts_fail(e, r, "JWK \"x5c\" certificate is not base64");
		goto out;
	}
	p = der;
	if ((cert = d2i_X509(NULL, &p, (long)derlen)) == NULL || p != der + derlen) {
		ts_fail(e, r, "JWK \"x5c\" certificate is not one DER certificate");
		goto out;
	}
	if ((cpk = X509_get0_pubkey(cert)) == NULL || EVP_PKEY_eq(cpk, pk) != 1) {
		ts_fail(e, r, "JWK \"x5c\" certificate holds another public key than the JWK");
		goto out;
	}
	if (ts_x509_window(cert, &win->not_before, &win->not_after) != TS_OK) {
		ts_fail(e, r, "JWK \"x5c\" certificate validity cannot be read");
		goto out;
	}
	win->has_cert = 1;
	r = TS_OK;
out:
	X509_free(cert);
	free(der);
	return r;
}

/* The key's algorithm: *alg as configured or named by the JWK (it must be
 * allowed and fit the key), else the one allowed algorithm that fits. The
 * key is pk (NULL: an HMAC secret of slen bytes) or, not yet made, raw. */
static ts_reason
choose_alg(
    EVP_PKEY *pk, const ts_key_raw *raw, size_t slen, unsigned allowed, ts_alg *alg, ts_err *e)
{
	if (*alg == TS_ALG_INVALID)
		return raw != NULL ? ts_key_pick_alg_raw(raw, allowed, alg, e)
		                   : ts_key_pick_alg(pk, slen, allowed, alg, e);
	if (!(allowed & (1u << *alg)))
		return ts_fail(e, TS_R_CONFIG_ERROR,
		    "key algorithm %s is not in the allowed algorithms", ts_alg_name(*alg));
	if (raw != NULL ? !ts_key_raw_fits(raw, *alg) : !ts_key_alg_fits(pk, *alg))
		return ts_fail(e, TS_R_CONFIG_ERROR, "JWK key type or curve does not fit %s",
		    ts_alg_name(*alg));
	return TS_OK;
}

ts_reason
ts_jwk_to_key(const ts_jv *jwk, ts_alg alg, unsigned allowed, unsigned flags, ts_key **out,
    const char **kid_out, ts_jwk_window *win, ts_err *e)
{
	const ts_jv *kty_j, *crv_j, *alg_j, *kid_j, *x5c;
	const char *kty, *crv;
	EVP_PKEY *pk = NULL;
	jwk_raw jr;
	unsigned char secret[1024 + 4];
	long slen = -1;
	int wipe = 0;
	ts_jwk_window w;
	ts_reason r = TS_R_CONFIG_ERROR;
	size_t i;

	*out = NULL;
	if (kid_out != NULL)
		*kid_out = NULL;
	memset(&w, 0, sizeof(w));
	memset(&jr.raw, 0, sizeof(jr.raw));
	if (win != NULL)
		*win = w;
	ERR_set_mark();
	if (!ts_jv_is(jwk, TS_JSON_OBJECT)) {
		ts_fail(e, r, "JWK is not a JSON object");
		goto out;
	}
	kty_j = ts_jv_get(jwk, "kty");
	crv_j = ts_jv_get(jwk, "crv");
	alg_j = ts_jv_get(jwk, "alg");
	kid_j = ts_jv_get(jwk, "kid");
	x5c = ts_jv_get(jwk, "x5c");
	if (!ts_jv_is(kty_j, TS_JSON_STRING)) {
		ts_fail(e, r, "JWK without a string \"kty\"");
		goto out;
	}
	kty = kty_j->u.s;
	if (kid_j != NULL && !ts_jv_is(kid_j, TS_JSON_STRING)) {
		ts_fail(e, r, "JWK \"kid\" is not a string");
		goto out;
	}
	if (crv_j != NULL && !ts_jv_is(crv_j, TS_JSON_STRING)) {
		ts_fail(e, r, "JWK \"crv\" is not a string");
		goto out;
	}
	crv = crv_j ? crv_j->u.s : "";
	for (i = 0; ts_jwk_private_members[i] != NULL; i++) {
		const char *m = ts_jwk_private_members[i];

		if (ts_jv_get(jwk, m) == NULL)
			continue;
		/* "k" is the secret of an oct key; on any other kty it is a
		 * secret where a public key was promised (K7) */
		if (strcmp(m, "k") == 0) {
			if (strcmp(kty, "oct") == 0)
				continue;
			ts_fail(e, r,
			    "JWK holds secret member \"k\" but is not an oct key: public keys "
			    "only");
		} else {
			ts_fail(e, r, "JWK holds private member \"%s\": public keys only", m);
		}
		goto out;
	}
	if ((r = check_usage(jwk, e)) != TS_OK)
		goto out;
	r = TS_R_CONFIG_ERROR;
	/* K4: the JWK's own alg, when present, must agree with the configuration */
	if (alg_j != NULL) {
		ts_alg ja;

		if (!ts_jv_is(alg_j, TS_JSON_STRING) ||
		    (ja = ts_alg_from_name(alg_j->u.s, alg_j->n)) == TS_ALG_INVALID) {
			ts_fail(e, r, "JWK \"alg\" is not a supported signature algorithm");
			goto out;
		}
		if (alg != TS_ALG_INVALID && alg != ja) {
			ts_fail(e, r, "JWK \"alg\" %s differs from the configured %s",
			    ts_alg_name(ja), ts_alg_name(alg));
			goto out;
		}
		alg = ja;
	}
	if (strcmp(kty, "RSA") == 0) {
		r = rsa_from_jwk(jwk, &jr, e);
	} else if (strcmp(kty, "EC") == 0) {
		r = ec_from_jwk(jwk, crv, &jr, e);
	} else if (strcmp(kty, "OKP") == 0) {
		r = okp_from_jwk(jwk, crv, &jr, e);
	} else if (strcmp(kty, "oct") == 0) {
		if (!(flags & TS_JWK_ALLOW_SECRET)) {
			r = ts_fail(e, TS_R_CONFIG_ERROR,
			    "symmetric (oct) JWK where only public keys are allowed");
			goto out;
		}
		wipe = 1;
		if ((slen = member_b64(jwk, "k", secret, sizeof(secret) - 4, e)) < 0) {
			r = TS_R_CONFIG_ERROR;
			goto out;
		}
		r = TS_OK;
	} else {
		r = ts_fail(e, TS_R_CONFIG_ERROR, "JWK kty is not RSA, EC, OKP or oct");
	}
	if (r != TS_OK)
		goto out;
	/* K15: without an x5c to compare, the EVP key and its checks can wait
	 * for the key's first use */
	if ((flags & TS_JWK_LAZY) && x5c == NULL && jr.raw.type != 0) {
		if ((r = choose_alg(NULL, &jr.raw, 0, allowed, &alg, e)) != TS_OK)
			goto out;
		r = ts_key_from_raw(&jr.raw, alg, out, e);
		goto done;
	}
	if (jr.raw.type != 0 && (r = ts_pkey_from_raw(&jr.raw, &pk, e)) != TS_OK)
		goto out;
	if (x5c != NULL && (r = check_x5c(x5c, pk, &w, e)) != TS_OK)
		goto out;
	if ((r = choose_alg(pk, NULL, slen < 0 ? 0 : (size_t)slen, allowed, &alg, e)) != TS_OK)
		goto out;
	if (pk != NULL)
		r = ts_key_from_pkey(pk, alg, out, e);
	else
		r = ts_key_from_secret(secret, (size_t)slen, alg, out, e);
done:
	if (r != TS_OK)
		goto out;
	if (kid_out != NULL && kid_j != NULL)
		*kid_out = kid_j->u.s;
	if (win != NULL)
		*win = w;
out:
	/* only an oct key's secret needs wiping; jr holds public members */
	if (wipe)
		OPENSSL_cleanse(secret, sizeof(secret));
	EVP_PKEY_free(pk);
	ERR_pop_to_mark();
	return r;
}
