/* keyfile.c: key file formats (see keyfile.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "json.h"
#include "jwk.h"
#include "jws.h"
#include "keyfile.h"

#define MAX_KEYS_PER_FILE 20000
/* the keyring's cap on a key file's size */
#define KEYFILE_JSON_MAX (16 * 1024 * 1024)

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
		if (ts_x509_window(cert, &lk->not_before, &lk->not_after) != TS_OK) {
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
key_issuer(const ts_jv *jwk, ts_loaded_key *lk, ts_err *e)
{
	const ts_jv *v = ts_jv_get(jwk, "issuer");

	if (v == NULL)
		return TS_OK;
	/* the reader refuses \u0000, so the string is also a C string */
	if (!ts_jv_is(v, TS_JSON_STRING) || v->n == 0)
		return ts_fail(e, TS_R_CONFIG_ERROR, "JWK \"issuer\" is not a non-empty string");
	if (v->n > TS_KEY_ISSUER_MAX)
		return ts_fail(
		    e, TS_R_CONFIG_ERROR, "JWK \"issuer\" longer than %d bytes", TS_KEY_ISSUER_MAX);
	if ((lk->issuer = strdup(v->u.s)) == NULL)
		return TS_R_INTERNAL;
	return TS_OK;
}

static ts_reason
one_jwk(const ts_jv *jwk, const ts_keyspec *ks, unsigned allowed, unsigned flags, ts_loaded_key *lk,
    ts_err *e)
{
	const char *kid = NULL;
	ts_jwk_window win;
	ts_reason r;

	r = ts_jwk_to_key(jwk, ks->alg, allowed, flags & (TS_JWK_ALLOW_SECRET | TS_JWK_LAZY),
	    &lk->key, &kid, &win, e);
	if (r != TS_OK)
		return r;
	/* K12: an x5c certificate's window bounds the key, as a PEM
	 * certificate's does; the key line's window narrows it further */
	if (win.has_cert) {
		lk->not_before = win.not_before;
		lk->not_after = win.not_after;
		lk->has_not_before = lk->has_not_after = 1;
	}
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

static int
kid_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* 1 when two keys of the set share a kid, -1 when out of memory: sorted, so that a JWKS of
 * thousands of keys costs n log n, not n^2. */
static int
duplicate_kid(const ts_loaded_key *keys, size_t n)
{
	char **kids = malloc((n + 1) * sizeof(*kids));
	size_t i, m = 0;
	int dup = 0;

	if (kids == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (keys[i].kid != NULL)
			kids[m++] = keys[i].kid;
	qsort(kids, m, sizeof(*kids), kid_cmp);
	for (i = 1; i < m && !dup; i++)
		dup = strcmp(kids[i - 1], kids[i]) == 0;
	free(kids);
	return dup;
}

ts_reason
ts_keyfile_parse(const char *buf, size_t len, const ts_keyspec *ks, unsigned allowed,
    unsigned flags, ts_loaded_key **keys, size_t *n, ts_err *e)
{
	ts_loaded_key *out = NULL;
	size_t count = 0, i;
	int dup;
	ts_jdoc *doc = NULL;
	EVP_PKEY *pk = NULL;
	ts_reason r = TS_R_CONFIG_ERROR;
	const char *p = skip_ws(buf);

	*keys = NULL;
	*n = 0;
	ERR_set_mark();
	if (*p == '{') {
		const ts_jv *root, *set, *jwk;

		/* not jansson: its copies of the strings (an HMAC secret's "k")
		 * would be freed unwiped, and its error text quotes the input;
		 * this reader wipes its arena and reports a position only */
		if ((r = ts_jdoc_parse_limit(buf, len, KEYFILE_JSON_MAX, 8, &doc, e)) != TS_OK) {
			if (r == TS_R_MALFORMED)
				r = TS_R_CONFIG_ERROR;
			goto out;
		}
		r = TS_R_CONFIG_ERROR;
		root = ts_jdoc_root(doc);
		set = ts_jv_get(root, "keys");
		if (set != NULL) {
			if (!ts_jv_is(set, TS_JSON_ARRAY) || set->n == 0 ||
			    set->n > MAX_KEYS_PER_FILE) {
				ts_fail(e, r, "JWKS \"keys\" is not a non-empty array");
				goto out;
			}
			if (ks->kid != NULL) {
				ts_fail(e, r, "kid= applies to a single key, not to a JWKS");
				goto out;
			}
			count = set->n;
		} else {
			count = 1;
		}
		if ((out = calloc(count, sizeof(*out))) == NULL) {
			r = ts_fail(e, TS_R_INTERNAL, "out of memory");
			goto out;
		}
		for (i = 0, jwk = set ? set + 1 : root; i < count; i++, jwk += jwk->skip) {
			ts_err ke = { "" };

			if ((r = one_jwk(jwk, ks, allowed, flags, &out[i], &ke)) != TS_OK) {
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
			if (ts_key_is_secret(out[i].key) != ts_key_is_secret(out[0].key)) {
				r = ts_fail(e, TS_R_CONFIG_ERROR,
				    "symmetric and asymmetric keys in one key set");
				goto out;
			}
		/* a duplicate kid in one set makes the set ambiguous (Wycheproof) */
		if ((dup = duplicate_kid(out, count)) != 0) {
			r = dup < 0 ? ts_fail(e, TS_R_INTERNAL, "out of memory")
			            : ts_fail(e, TS_R_CONFIG_ERROR, "duplicate kid in one key set");
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
	ts_jdoc_free(doc);
	ERR_pop_to_mark();
	return r;
}
