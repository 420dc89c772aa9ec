/* keyfile.c: key file formats (see keyfile.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "jwk.h"
#include "jws.h"
#include "keyfile.h"

#define MAX_KEYS_PER_FILE 20000

void
ts_loaded_keys_free(ts_loaded_key *keys, size_t n)
{
	size_t i;

	if (keys == NULL)
		return;
	for (i = 0; i < n; i++) {
		ts_key_free(keys[i].key);
		free(keys[i].kid);
		free(keys[i].issuer);
	}
	free(keys);
}

static const char *
skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
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

/* The one public key of a PEM file, and a certificate's validity window. */
static ts_reason
parse_pem(const char *buf, size_t len, ts_loaded_key *lk, EVP_PKEY **pk, ts_err *e)
{
	BIO *bio = BIO_new_mem_buf(buf, (int)len);
	X509 *cert = NULL;
	const char *p = skip_ws(buf);
	ts_reason r = TS_R_CONFIG_ERROR;

	if (bio == NULL)
		return ts_fail(e, TS_R_INTERNAL, "out of memory");
	if (strncmp(p, "-----BEGIN PUBLIC KEY-----", 26) == 0) {
		if ((*pk = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL)) == NULL) {
			ts_fail(e, r, "not a valid PEM public key");
			goto out;
		}
	} else if (strncmp(p, "-----BEGIN CERTIFICATE-----", 27) == 0) {
		if ((cert = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL ||
		    (*pk = X509_get_pubkey(cert)) == NULL) {
			ts_fail(e, r, "not a valid PEM certificate");
			goto out;
		}
		if (asn1_time(X509_get0_notBefore(cert), &lk->not_before) != TS_OK ||
		    asn1_time(X509_get0_notAfter(cert), &lk->not_after) != TS_OK) {
			ts_fail(e, r, "certificate validity cannot be read");
			goto out;
		}
		lk->has_not_before = lk->has_not_after = 1;
	} else {
		ts_fail(e, r,
		    "PEM file is neither a PUBLIC KEY nor a CERTIFICATE "
		    "(private keys do not belong here)");
		goto out;
	}
	/* exactly one block: a second key would be silently ignored otherwise */
	if (*skip_ws(buf + len - (size_t)BIO_pending(bio)) != '\0') {
		ts_fail(e, r, "more than one PEM block in a key file");
		goto out;
	}
	r = TS_OK;
out:
	if (r != TS_OK) {
		EVP_PKEY_free(*pk);
		*pk = NULL;
	}
	X509_free(cert);
	BIO_free(bio);
	return r;
}

/* The configured window narrows the file's own (certificate) window. */
static void
apply_window(ts_loaded_key *lk, const ts_keyspec *ks)
{
	if (ks->has_not_before && (!lk->has_not_before || ks->not_before > lk->not_before)) {
		lk->not_before = ks->not_before;
		lk->has_not_before = 1;
	}
	if (ks->has_not_after && (!lk->has_not_after || ks->not_after < lk->not_after)) {
		lk->not_after = ks->not_after;
		lk->has_not_after = 1;
	}
}

/* A JWK's own "issuer" member (Entra ID publishes one per key): kept, so
 * that the key verifies only tokens of that issuer (see keyring.h). */
static ts_reason
key_issuer(const json_t *jwk, ts_loaded_key *lk, ts_err *e)
{
	const json_t *v = json_object_get(jwk, "issuer");

	if (v == NULL)
		return TS_OK;
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return ts_fail(e, TS_R_CONFIG_ERROR, "JWK \"issuer\" is not a non-empty string");
	if (json_string_length(v) > TS_KEY_ISSUER_MAX)
		return ts_fail(
		    e, TS_R_CONFIG_ERROR, "JWK \"issuer\" longer than %d bytes", TS_KEY_ISSUER_MAX);
	if ((lk->issuer = strdup(json_string_value(v))) == NULL)
		return TS_R_INTERNAL;
	return TS_OK;
}

static ts_reason
one_jwk(const json_t *jwk, const ts_keyspec *ks, unsigned allowed, int allow_secret,
    ts_loaded_key *lk, ts_err *e)
{
	const char *kid = NULL;
	ts_reason r;

	r = ts_jwk_to_key(
	    jwk, ks->alg, allowed, allow_secret ? TS_JWK_ALLOW_SECRET : 0, &lk->key, &kid, e);
	if (r != TS_OK)
		return r;
	if (kid != NULL && strlen(kid) > TS_KID_MAX)
		return ts_fail(e, TS_R_CONFIG_ERROR, "JWK kid longer than %d bytes", TS_KID_MAX);
	if (kid != NULL && ks->kid != NULL && strcmp(kid, ks->kid) != 0)
		return ts_fail(
		    e, TS_R_CONFIG_ERROR, "kid= on the key line differs from the JWK's kid");
	if (kid == NULL)
		kid = ks->kid;
	if (kid != NULL && (lk->kid = strdup(kid)) == NULL)
		return TS_R_INTERNAL;
	if ((r = key_issuer(jwk, lk, e)) != TS_OK)
		return r;
	apply_window(lk, ks);
	return TS_OK;
}

ts_reason
ts_keyfile_parse(const char *buf, size_t len, const ts_keyspec *ks, unsigned allowed,
    int allow_secret, ts_loaded_key **keys, size_t *n, ts_err *e)
{
	ts_loaded_key *out = NULL;
	size_t count = 0, i, j;
	json_t *doc = NULL;
	EVP_PKEY *pk = NULL;
	ts_reason r = TS_R_CONFIG_ERROR;
	const char *p = skip_ws(buf);

	*keys = NULL;
	*n = 0;
	ERR_set_mark();
	if (*p == '{') {
		const json_t *set;

		if ((doc = ts_json_parse_object(buf, len, 8, e)) == NULL) {
			r = TS_R_CONFIG_ERROR;
			goto out;
		}
		set = json_object_get(doc, "keys");
		if (set != NULL) {
			if (!json_is_array(set) || json_array_size(set) == 0 ||
			    json_array_size(set) > MAX_KEYS_PER_FILE) {
				ts_fail(e, r, "JWKS \"keys\" is not a non-empty array");
				goto out;
			}
			if (ks->kid != NULL) {
				ts_fail(e, r, "kid= applies to a single key, not to a JWKS");
				goto out;
			}
			count = json_array_size(set);
		} else {
			count = 1;
		}
		if ((out = calloc(count, sizeof(*out))) == NULL) {
			r = ts_fail(e, TS_R_INTERNAL, "out of memory");
			goto out;
		}
		for (i = 0; i < count; i++) {
			const json_t *jwk = set ? json_array_get(set, i) : doc;
			ts_err ke = { "" };

			if ((r = one_jwk(jwk, ks, allowed, allow_secret, &out[i], &ke)) != TS_OK) {
				if (set)
					ts_fail(e, r, "key %zu of the JWKS: %s", i + 1, ke.msg);
				else
					ts_fail(e, r, "%s", ke.msg);
				goto out;
			}
		}
		/* K7: one set never mixes shared secrets with public keys (the
		 * keyring checks the same across the files of one issuer) */
		for (i = 1; i < count; i++)
			if ((strcmp(ts_key_kty(out[i].key), "oct") == 0) !=
			    (strcmp(ts_key_kty(out[0].key), "oct") == 0)) {
				r = ts_fail(e, TS_R_CONFIG_ERROR,
				    "symmetric and asymmetric keys in one key set");
				goto out;
			}
		/* a duplicate kid in one set makes the set ambiguous (Wycheproof) */
		for (i = 0; i < count; i++)
			for (j = 0; out[i].kid && j < i; j++)
				if (out[j].kid && strcmp(out[i].kid, out[j].kid) == 0) {
					r = ts_fail(
					    e, TS_R_CONFIG_ERROR, "duplicate kid in one key set");
					goto out;
				}
	} else if (strncmp(p, "-----BEGIN ", 11) == 0) {
		ts_alg alg = ks->alg;

		count = 1;
		if ((out = calloc(1, sizeof(*out))) == NULL) {
			r = ts_fail(e, TS_R_INTERNAL, "out of memory");
			goto out;
		}
		if ((r = parse_pem(buf, len, &out[0], &pk, e)) != TS_OK)
			goto out;
		if (alg == TS_ALG_INVALID &&
		    (r = ts_key_pick_alg(pk, 0, allowed, &alg, e)) != TS_OK)
			goto out;
		if ((r = ts_key_from_pkey(pk, alg, &out[0].key, e)) != TS_OK)
			goto out;
		if (ks->kid != NULL && (out[0].kid = strdup(ks->kid)) == NULL) {
			r = ts_fail(e, TS_R_INTERNAL, "out of memory");
			goto out;
		}
		apply_window(&out[0], ks);
	} else {
		ts_fail(e, r, "not a PEM public key, PEM certificate, JWK or JWKS");
		goto out;
	}
	*keys = out;
	*n = count;
	out = NULL; /* transferred */
	r = TS_OK;
out:
	ts_loaded_keys_free(out, count);
	EVP_PKEY_free(pk);
	json_decref(doc);
	ERR_pop_to_mark();
	return r;
}
