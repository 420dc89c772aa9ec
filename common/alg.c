/* alg.c: algorithm table (see alg.h). */
#include "config.h"

#include <string.h>

#include "alg.h"

static const ts_alg_info table[TS_ALG__COUNT] = {
	[TS_ALG_HS256] = { TS_ALG_HS256, "HS256", TS_FAM_HMAC, "SHA256", 32, NULL, 0 },
	[TS_ALG_HS384] = { TS_ALG_HS384, "HS384", TS_FAM_HMAC, "SHA384", 48, NULL, 0 },
	[TS_ALG_HS512] = { TS_ALG_HS512, "HS512", TS_FAM_HMAC, "SHA512", 64, NULL, 0 },
	[TS_ALG_RS256] = { TS_ALG_RS256, "RS256", TS_FAM_RSA_PKCS1, "SHA256", 32, NULL, 0 },
	[TS_ALG_RS384] = { TS_ALG_RS384, "RS384", TS_FAM_RSA_PKCS1, "SHA384", 48, NULL, 0 },
	[TS_ALG_RS512] = { TS_ALG_RS512, "RS512", TS_FAM_RSA_PKCS1, "SHA512", 64, NULL, 0 },
	[TS_ALG_PS256] = { TS_ALG_PS256, "PS256", TS_FAM_RSA_PSS, "SHA256", 32, NULL, 0 },
	[TS_ALG_PS384] = { TS_ALG_PS384, "PS384", TS_FAM_RSA_PSS, "SHA384", 48, NULL, 0 },
	[TS_ALG_PS512] = { TS_ALG_PS512, "PS512", TS_FAM_RSA_PSS, "SHA512", 64, NULL, 0 },
	[TS_ALG_ES256] = { TS_ALG_ES256, "ES256", TS_FAM_ECDSA, "SHA256", 32, "prime256v1", 32 },
	[TS_ALG_ES384] = { TS_ALG_ES384, "ES384", TS_FAM_ECDSA, "SHA384", 48, "secp384r1", 48 },
	[TS_ALG_ES512] = { TS_ALG_ES512, "ES512", TS_FAM_ECDSA, "SHA512", 64, "secp521r1", 66 },
	[TS_ALG_EDDSA] = { TS_ALG_EDDSA, "EdDSA", TS_FAM_EDDSA, NULL, 0, NULL, 0 },
};

ts_alg
ts_alg_from_name(const char *name, size_t len)
{
	int i;

	if (name == NULL)
		return TS_ALG_INVALID;
	for (i = 1; i < TS_ALG__COUNT; i++) {
		if (strlen(table[i].name) == len && memcmp(table[i].name, name, len) == 0)
			return (ts_alg)i;
	}
	return TS_ALG_INVALID;
}

const ts_alg_info *
ts_alg_info_get(ts_alg alg)
{
	if (alg <= TS_ALG_INVALID || alg >= TS_ALG__COUNT)
		return NULL;
	return &table[alg];
}

const char *
ts_alg_name(ts_alg alg)
{
	const ts_alg_info *ai = ts_alg_info_get(alg);

	return ai ? ai->name : "?";
}
