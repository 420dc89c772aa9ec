/* faults.c: the wrapped constructors (see faults.h). */
#include "config.h"

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <stdlib.h>
#include <string.h>

#include "faults.h"

static int armed, injected;
static long countdown;

int
faults_arm(const uint8_t *data, size_t size)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < size; i++) {
		h ^= data[i];
		h *= 1099511628211ULL;
	}
	injected = 0;
	armed = (h & 1) == 0;
	countdown = (long)((h >> 1) % 48);
	return armed;
}

int
faults_disarm(void)
{
	armed = 0;
	return injected;
}

static int
fail_now(void)
{
	if (!armed || countdown-- != 0)
		return 0;
	injected++;
	return 1;
}

#define WRAP(ret, name, params, args)                                                              \
	ret __real_##name params;                                                                  \
	ret __wrap_##name params;                                                                  \
	ret __wrap_##name params                                                                   \
	{                                                                                          \
		if (fail_now())                                                                    \
			return NULL;                                                               \
		return __real_##name args;                                                         \
	}

WRAP(void *, malloc, (size_t n), (n))
WRAP(void *, calloc, (size_t n, size_t m), (n, m))
WRAP(void *, realloc, (void *p, size_t n), (p, n))
WRAP(char *, strdup, (const char *s), (s))
WRAP(EVP_MD_CTX *, EVP_MD_CTX_new, (void), ())
WRAP(EVP_MD *, EVP_MD_fetch, (OSSL_LIB_CTX * c, const char *a, const char *p), (c, a, p))
WRAP(EVP_PKEY_CTX *, EVP_PKEY_CTX_new_from_name, (OSSL_LIB_CTX * c, const char *n, const char *p),
    (c, n, p))
WRAP(EVP_PKEY_CTX *, EVP_PKEY_CTX_new_from_pkey, (OSSL_LIB_CTX * c, EVP_PKEY *k, const char *p),
    (c, k, p))
WRAP(BIGNUM *, BN_bin2bn, (const unsigned char *s, int len, BIGNUM *r), (s, len, r))
WRAP(ECDSA_SIG *, ECDSA_SIG_new, (void), ())
WRAP(OSSL_PARAM_BLD *, OSSL_PARAM_BLD_new, (void), ())
WRAP(BIO *, BIO_new_mem_buf, (const void *b, int len), (b, len))
WRAP(json_t *, json_loadb, (const char *b, size_t len, size_t f, json_error_t *e), (b, len, f, e))
WRAP(json_t *, json_object, (void), ())
WRAP(char *, json_dumps, (const json_t *j, size_t f), (j, f))
