/* classify.c: M7, the alert classification of a refusal (see classify.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"

/* The first key of another issuer section with this kid and the token's
 * algorithm (any algorithm when alg_any), skipping the key the decision
 * already tried: the one candidate a forgery made with another issuer's
 * key can have. */
static const ts_binding *
other_issuer_key(const ts_classify_in *in, int alg_any, ts_binding *tmp)
{
	size_t own = (size_t)(in->is - in->conf->issuers), i;

	for (i = 0; i < in->conf->nissuers; i++) {
		const ts_binding *o;

		if (i == own || (o = ts_keyring_peek(in->kr, i, in->kid, in->kid_len, tmp)) == NULL)
			continue;
		if (in->b != NULL &&
		    strcmp(ts_key_thumbprint(o->key), ts_key_thumbprint(in->b->key)) == 0)
			continue;
		if (alg_any || ts_key_alg(o->key) == ts_jws_alg(in->j))
			return o;
	}
	return NULL;
}

/* One verification of the token's signature with key b, for classifying
 * only (the JWS is never marked verified). */
static int
verifies(const ts_classify_in *in, const ts_binding *b, ts_classify_out *out)
{
	ts_err e = { "" };

	out->checks++;
	return ts_jws_verify_only(in->j, b->key, &e) == TS_OK;
}

/* The HMAC of an HS* token keyed with a public key's PEM text, then its
 * DER: the algorithm-confusion attack against verifiers that hand "the
 * key bytes" to whatever algorithm the header names. */
static int
confused_with(const ts_classify_in *in, const ts_binding *b, ts_classify_out *out)
{
	int pem, hit = 0;

	if (ts_key_is_secret(b->key))
		return 0;
	for (pem = 1; pem >= 0 && !hit; pem--) {
		unsigned char *bytes = NULL;
		size_t len = 0;

		if (ts_key_public_bytes(b->key, pem, &bytes, &len) != TS_OK)
			continue;
		out->checks++;
		hit = ts_jws_hmac_matches(in->j, bytes, len);
		free(bytes);
	}
	return hit;
}

static void
alg_confusion(const ts_classify_in *in, ts_classify_out *out)
{
	const ts_binding *cand = NULL;
	size_t n = 0, i;

	if (in->kid != NULL) {
		cand = ts_keyring_find(
		    in->kr, (size_t)(in->is - in->conf->issuers), in->kid, in->kid_len);
		if (cand == NULL)
			cand = other_issuer_key(in, 1, &out->peeked);
		n = cand != NULL;
	} else {
		cand = ts_keyring_issuer_keys(in->kr, (size_t)(in->is - in->conf->issuers), &n);
		if (n > TS_CLASSIFY_MAX_KEYS)
			n = TS_CLASSIFY_MAX_KEYS;
	}
	for (i = 0; i < n; i++) {
		if (confused_with(in, &cand[i], out)) {
			out->alert = "alg_confusion";
			out->key = &cand[i];
			return;
		}
	}
	snprintf(out->why, sizeof(out->why),
	    "%s token: no configured public key's bytes (%u HMACs) make its signature: noise",
	    ts_alg_name(ts_jws_alg(in->j)), out->checks);
}

/* The refusals of a key's scope (K1, K5, K6) and of a kid that only
 * another issuer has. */
static void
classify_key(const ts_classify_in *in, ts_classify_out *out)
{
	const ts_binding *o = NULL;
	unsigned before = out->checks;

	switch (in->refused) {
	case TS_R_KEY_EXPIRED:
	case TS_R_KEY_NOT_YET_VALID:
	case TS_R_KEY_REVOKED:
		if (in->b != NULL && verifies(in, in->b, out)) {
			out->alert = "stolen_key_in_use";
			out->key = in->b;
		}
		break;
	case TS_R_KEY_ISSUER_MISMATCH:
		/* the signature verified already: no check spent */
		if (in->b != NULL) {
			out->alert = "cross_tenant";
			out->key = in->b;
		}
		break;
	case TS_R_UNKNOWN_KEY:
	case TS_R_BAD_SIGNATURE:
		if (in->kid != NULL && (o = other_issuer_key(in, 0, &out->peeked)) != NULL &&
		    verifies(in, o, out)) {
			out->alert = "forged_cross_issuer";
			out->key = o;
		}
		break;
	default: break;
	}
	if (out->alert == NULL && out->checks > before)
		snprintf(out->why, sizeof(out->why),
		    "the signature does not verify under the matching out-of-scope key: noise");
}

void
ts_classify(const ts_classify_in *in, ts_classify_out *out)
{
	const ts_alg_info *ai = ts_alg_info_get(ts_jws_alg(in->j));

	memset(out, 0, sizeof(*out));
	snprintf(out->why, sizeof(out->why),
	    "no out-of-scope key matches the token: nothing to classify");
	if (in->is == NULL)
		return;
	/* an HS* token may also be one under an issuer's own, out-of-scope
	 * HMAC secret: the key classification follows the confusion check */
	if (ai != NULL && ai->family == TS_FAM_HMAC)
		alg_confusion(in, out);
	if (out->alert == NULL)
		classify_key(in, out);
	if (out->alert != NULL)
		snprintf(out->why, sizeof(out->why),
		    "ALERT %s: the signature is valid under key %s of [issuer %s]", out->alert,
		    ts_key_thumbprint(out->key->key), in->conf->issuers[out->key->issuer_idx].name);
}
