/* tokens.c: the keys, tokens, key files and configurations the bench
 * makes, and the floor (raw OpenSSL) it measures everything against. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "b64url.h"
#include "bench.h"

EVP_PKEY *
keygen(ts_alg alg)
{
	EVP_PKEY *k = NULL;

	switch (alg) {
	case TS_ALG_RS256:
	case TS_ALG_PS256: k = EVP_RSA_gen(2048); break;
	case TS_ALG_ES256: k = EVP_EC_gen("P-256"); break;
	case TS_ALG_ES384: k = EVP_EC_gen("P-384"); break;
	case TS_ALG_EDDSA: k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"); break;
	default: break;
	}
	if (k == NULL)
		abort();
	return k;
}

static char *
b64json(const char *json)
{
	size_t n = strlen(json);
	char *o = malloc(TS_B64URL_ENCODED_LEN(n) + 1);

	ts_b64url_encode((const unsigned char *)json, n, o, TS_B64URL_ENCODED_LEN(n) + 1);
	return o;
}

/* The signature kept for the floor is in the form OpenSSL verifies: DER for
 * ECDSA. */
void
sign_token(algcase *a, const char *iss, long long t)
{
	const ts_alg_info *ai = ts_alg_info_get(a->alg);
	char hdr[128], pl[1200], *h, *p, *sig64;
	unsigned char raw[600];
	size_t rawlen = sizeof(raw);
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pc = NULL;

	snprintf(hdr, sizeof(hdr), "{\"alg\":\"%s\",\"kid\":\"%s\",\"typ\":\"%s\"}", ai->name,
	    a->kid, a->typ ? a->typ : "at+jwt");
	/* a realistic access token, with the claims a mail login carries:
	 * ~800 bytes with an RS256 signature */
	snprintf(pl, sizeof(pl),
	    "{\"iss\":\"%s\",\"aud\":[\"imap.example.com\",\"smtp.example.com\"],"
	    "\"sub\":\"alice\",\"scope\":\"openid profile email mail.read mail.send\","
	    "\"exp\":%lld,\"iat\":%lld,\"nbf\":%lld,\"jti\":\"8f6e3c1a-4b2d-4e7f-9a0b-"
	    "1c2d3e4f5a6b\",\"tid\":\"72f988bf-86f1-41af-91ab-2d7cd011db47\","
	    "\"azp\":\"webmail\",\"groups\":[\"staff\",\"mail-users\",\"unix-admins\"]}",
	    iss, t + 3600, t, t);
	h = b64json(hdr);
	p = b64json(pl);
	a->input_len = strlen(h) + 1 + strlen(p);
	a->input = malloc(a->input_len + 1);
	sprintf((char *)a->input, "%s.%s", h, p);
	a->md = ai->digest ? EVP_get_digestbyname(ai->digest) : NULL;
	if (EVP_DigestSignInit(m, &pc, a->md, NULL, a->key) != 1)
		abort();
	if (ai->family == TS_FAM_RSA_PSS) {
		EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING);
		EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, (int)ai->hash_len);
	}
	a->sig_len = sizeof(a->sig);
	if (EVP_DigestSign(m, a->sig, &a->sig_len, a->input, a->input_len) != 1)
		abort();
	a->tmpl = EVP_MD_CTX_new();
	pc = NULL;
	if (EVP_DigestVerifyInit(a->tmpl, &pc, a->md, NULL, a->key) != 1)
		abort();
	if (ai->family == TS_FAM_RSA_PSS) {
		EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING);
		EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, (int)ai->hash_len);
	}
	memcpy(raw, a->sig, a->sig_len);
	rawlen = a->sig_len;
	if (ai->family == TS_FAM_ECDSA) { /* JWS wants raw r||s */
		const unsigned char *q = a->sig;
		ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &q, (long)a->sig_len);
		const BIGNUM *r, *s;

		ECDSA_SIG_get0(es, &r, &s);
		BN_bn2binpad(r, raw, (int)ai->coord_len);
		BN_bn2binpad(s, raw + ai->coord_len, (int)ai->coord_len);
		rawlen = 2 * ai->coord_len;
		ECDSA_SIG_free(es);
	}
	sig64 = malloc(TS_B64URL_ENCODED_LEN(rawlen) + 1);
	ts_b64url_encode(raw, rawlen, sig64, TS_B64URL_ENCODED_LEN(rawlen) + 1);
	a->token = malloc(a->input_len + strlen(sig64) + 2);
	sprintf(a->token, "%s.%s", (char *)a->input, sig64);
	free(h);
	free(p);
	free(sig64);
	EVP_MD_CTX_free(m);
}

void
write_pem(const char *path, EVP_PKEY *k)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || PEM_write_PUBKEY(f, k) != 1)
		abort();
	fclose(f);
	chmod(path, 0644);
}

/* The floor: raw OpenSSL. */
void
floor_once(void *arg)
{
	algcase *a = arg;
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pc = NULL;

	EVP_DigestVerifyInit(m, &pc, a->md, NULL, a->key);
	if (a->alg == TS_ALG_PS256) {
		EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING);
		EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, 32);
	}
	if (EVP_DigestVerify(m, a->sig, a->sig_len, a->input, a->input_len) != 1)
		abort();
	EVP_MD_CTX_free(m);
}

/* The best raw OpenSSL can do: the context initialised once, copied per
 * verification (what the core itself does), shown so that the core's own
 * overhead is visible even where it beats the plain floor. */
void
floor_copy_once(void *arg)
{
	algcase *a = arg;
	EVP_MD_CTX *m = EVP_MD_CTX_new();

	if (EVP_MD_CTX_copy_ex(m, a->tmpl) != 1)
		abort();
	EVP_MD_CTX_set_flags(m, EVP_MD_CTX_FLAG_FINALISE);
	if (EVP_DigestVerify(m, a->sig, a->sig_len, a->input, a->input_len) != 1)
		abort();
	EVP_MD_CTX_free(m);
}

char *
b64bn(EVP_PKEY *k, const char *param, int len)
{
	BIGNUM *bn = NULL;
	unsigned char *buf = malloc((size_t)len);
	size_t cap = TS_B64URL_ENCODED_LEN((size_t)len) + 1;
	char *o = malloc(cap);

	EVP_PKEY_get_bn_param(k, param, &bn);
	BN_bn2binpad(bn, buf, len);
	ts_b64url_encode(buf, (size_t)len, o, cap);
	BN_free(bn);
	free(buf);
	return o;
}

void
peer_inputs(algcase *a, const char *iss, long long t)
{
	algcase twin = *a;
	BIO *b = BIO_new(BIO_s_mem());
	char *mem, *x, *y;
	long n;

	twin.typ = "JWT";
	sign_token(&twin, iss, t);
	a->twin = twin.token;
	free(twin.input);
	EVP_MD_CTX_free(twin.tmpl);
	PEM_write_bio_PUBKEY(b, a->key);
	n = BIO_get_mem_data(b, &mem);
	a->pem = strndup(mem, (size_t)n);
	BIO_free(b);
	a->jwk = malloc(1024);
	if (a->alg == TS_ALG_RS256 || a->alg == TS_ALG_PS256) {
		x = b64bn(a->key, OSSL_PKEY_PARAM_RSA_N, 256);
		snprintf(a->jwk, 1024, "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\"}", x);
		free(x);
	} else if (a->alg == TS_ALG_ES256 || a->alg == TS_ALG_ES384) {
		int cl = a->alg == TS_ALG_ES256 ? 32 : 48;

		x = b64bn(a->key, OSSL_PKEY_PARAM_EC_PUB_X, cl);
		y = b64bn(a->key, OSSL_PKEY_PARAM_EC_PUB_Y, cl);
		snprintf(a->jwk, 1024, "{\"kty\":\"EC\",\"crv\":\"%s\",\"x\":\"%s\",\"y\":\"%s\"}",
		    cl == 32 ? "P-256" : "P-384", x, y);
		free(x);
		free(y);
	} else {
		a->jwk[0] = '\0';
	}
}

/* The target key is in issuer issuers/3 (of those made: no more issuers
 * than keys), kid "t<n>". */
void
write_scale_conf(
    const char *path, int issuers, int nkeys, EVP_PKEY **target, char *iss_out, char *kid_out)
{
	FILE *c = fopen(path, "w");
	int i, k, per = nkeys / issuers > 0 ? nkeys / issuers : 1, ti;

	if (nkeys < issuers)
		issuers = nkeys;
	ti = issuers / 3;
	fprintf(c, "[global]\nreload_interval = 1\n\n");
	for (i = 0; i < issuers; i++) {
		char jwks[512];
		FILE *j;

		snprintf(jwks, sizeof(jwks), "%s.iss%d.jwks", path, i);
		j = fopen(jwks, "w");
		fprintf(j, "{\"keys\":[");
		for (k = 0; k < per; k++) {
			EVP_PKEY *key = EVP_EC_gen("P-256");
			char *x = b64bn(key, OSSL_PKEY_PARAM_EC_PUB_X, 32),
			     *y = b64bn(key, OSSL_PKEY_PARAM_EC_PUB_Y, 32);

			fprintf(j,
			    "%s{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\",\"kid\":"
			    "\"%s%d\","
			    "\"alg\":\"ES256\",\"use\":\"sig\"}",
			    k ? "," : "", x, y, (i == ti && k == per / 2) ? "t" : "k", k);
			if (i == ti && k == per / 2)
				*target = key;
			else
				EVP_PKEY_free(key);
			free(x);
			free(y);
		}
		fprintf(j, "]}\n");
		fclose(j);
		chmod(jwks, 0644);
		fprintf(c,
		    "[issuer i%d]\nissuer = https://idp%d.example/realm\nkey = %s\nalgorithms = "
		    "ES256\n\n",
		    i, i, jwks);
	}
	fprintf(c, "[service bench]\nissuers =");
	for (i = 0; i < issuers; i++)
		fprintf(c, " i%d", i);
	fprintf(c, "\naudiences = imap.example.com\nrequired_scopes = mail.read\n");
	fclose(c);
	chmod(path, 0644);
	sprintf(iss_out, "https://idp%d.example/realm", ti);
	sprintf(kid_out, "t%d", per / 2);
}
