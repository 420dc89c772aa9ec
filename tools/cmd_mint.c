/* cmd_mint.c: `tokenscope mint`, a token signer for tests and the demo.
 * Signing lives only here, never in the modules. Positive test tokens in
 * `make check` come from an independent signer, not from this command. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "alg.h"
#include "b64url.h"
#include "cli.h"
#include "jws.h"
#include "key.h"

static const char usage_mint[] =
    "usage: tokenscope mint --key PRIVATE.pem --alg ALG [--kid KID] [--typ TYP] CLAIMS.json | -\n"
    "  Signs the claims (a JSON object) and prints the compact token. ALG is one of\n"
    "  RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA; \"none\" is\n"
    "  refused. typ defaults to at+jwt. For tests and demonstrations only.\n";

/* DER ECDSA signature to JWS raw r||s of the alg's coordinate length. */
static int
der_to_raw(const unsigned char *der, size_t derlen, size_t coord, unsigned char *out)
{
	const unsigned char *p = der;
	ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)derlen);
	const BIGNUM *r, *s;
	int ok;

	if (es == NULL)
		return 0;
	ECDSA_SIG_get0(es, &r, &s);
	ok = BN_bn2binpad(r, out, (int)coord) > 0 && BN_bn2binpad(s, out + coord, (int)coord) > 0;
	ECDSA_SIG_free(es);
	return ok;
}

static char *
sign(EVP_PKEY *pk, ts_alg alg, const char *input)
{
	const ts_alg_info *ai = ts_alg_info_get(alg);
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	unsigned char sig[1200], raw[132];
	size_t siglen = sizeof(sig), n = strlen(input);
	char *out = NULL;
	const unsigned char *s = sig;

	if (m == NULL || EVP_DigestSignInit_ex(m, &pctx, ai->digest, NULL, NULL, pk, NULL) != 1)
		goto done;
	if (ai->family == TS_FAM_RSA_PSS &&
	    (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, (int)ai->hash_len) != 1))
		goto done;
	if (EVP_DigestSign(m, sig, &siglen, (const unsigned char *)input, n) != 1)
		goto done;
	if (ai->family == TS_FAM_ECDSA) {
		if (!der_to_raw(sig, siglen, ai->coord_len, raw))
			goto done;
		s = raw;
		siglen = 2 * ai->coord_len;
	}
	if ((out = malloc(n + 1 + TS_B64URL_ENCODED_LEN(siglen) + 1)) == NULL)
		goto done;
	memcpy(out, input, n);
	out[n] = '.';
	ts_b64url_encode(s, siglen, out + n + 1, TS_B64URL_ENCODED_LEN(siglen) + 1);
done:
	EVP_MD_CTX_free(m);
	return out;
}

static char *
b64_json(json_t *j)
{
	char *text = json_dumps(j, JSON_COMPACT), *out;
	size_t n;

	if (text == NULL)
		return NULL;
	n = strlen(text);
	if ((out = malloc(TS_B64URL_ENCODED_LEN(n) + 1)) != NULL)
		ts_b64url_encode((unsigned char *)text, n, out, TS_B64URL_ENCODED_LEN(n) + 1);
	free(text);
	return out;
}

int
cmd_mint(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "alg", required_argument, NULL, 'a' },
		{ "kid", required_argument, NULL, 'i' },
		{ "typ", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *keypath = NULL, *algname = NULL, *kid = NULL, *typ = "at+jwt", *claims_path;
	json_t *claims = NULL, *hdr = NULL;
	json_error_t jerr;
	EVP_PKEY *pk = NULL;
	FILE *f = NULL;
	char *h64 = NULL, *p64 = NULL, *input = NULL, *tok = NULL;
	ts_alg alg;
	int ch, rc = EXIT_USAGE;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'k': keypath = optarg; break;
		case 'a': algname = optarg; break;
		case 'i': kid = optarg; break;
		case 't': typ = optarg; break;
		case 'h': fputs(usage_mint, stdout); return 0;
		default:
			return cli_usage_error("mint", usage_mint,
			    "unknown or incomplete option \"%s\"", argv[optind - 1]);
		}
	}
	if (keypath == NULL || algname == NULL)
		return cli_usage_error("mint", usage_mint, "--key and --alg are required");
	if (optind != argc - 1)
		return cli_usage_error("mint", usage_mint, "one CLAIMS.json (or -) is required");
	claims_path = argv[optind];
	alg = ts_alg_from_name(algname, strlen(algname));
	if (alg == TS_ALG_INVALID)
		return cli_usage_error("mint", usage_mint, "\"%s\" is not a signing algorithm%s",
		    algname,
		    strcasecmp(algname, "none") == 0 ? " (unsigned tokens are never made)" : "");
	if (ts_alg_info_get(alg)->family == TS_FAM_HMAC)
		return cli_usage_error(
		    "mint", usage_mint, "HS* tokens are not minted by this command");
	if ((f = fopen(keypath, "r")) == NULL ||
	    (pk = PEM_read_PrivateKey(f, NULL, NULL, NULL)) == NULL) {
		fprintf(stderr, "tokenscope mint: %s: not a readable PEM private key\n", keypath);
		goto out;
	}
	if (!ts_key_alg_fits(pk, alg)) {
		fprintf(stderr, "tokenscope mint: the key does not fit %s\n", algname);
		goto out;
	}
	claims = strcmp(claims_path, "-") == 0
	    ? json_loadf(stdin, JSON_REJECT_DUPLICATES, &jerr)
	    : json_load_file(claims_path, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(claims)) {
		fprintf(stderr, "tokenscope mint: %s: claims must be a JSON object (%s)\n",
		    claims_path, claims ? "not an object" : jerr.text);
		goto out;
	}
	hdr = json_pack("{s:s}", "alg", ts_alg_name(alg));
	if (kid != NULL)
		json_object_set_new(hdr, "kid", json_string(kid));
	if (*typ != '\0')
		json_object_set_new(hdr, "typ", json_string(typ));
	if ((h64 = b64_json(hdr)) == NULL || (p64 = b64_json(claims)) == NULL ||
	    (input = malloc(strlen(h64) + strlen(p64) + 2)) == NULL)
		goto out;
	sprintf(input, "%s.%s", h64, p64);
	if ((tok = sign(pk, alg, input)) == NULL) {
		fprintf(stderr, "tokenscope mint: signing failed\n");
		goto out;
	}
	puts(tok);
	rc = 0;
out:
	if (f != NULL)
		fclose(f);
	EVP_PKEY_free(pk);
	json_decref(claims);
	json_decref(hdr);
	free(h64);
	free(p64);
	free(input);
	free(tok);
	ERR_clear_error();
	return rc;
}
