/*
 * t_wycheproof.c: Project Wycheproof vectors against the verification core
 * (A3-A6, K2, K4, K7, K8, P1-P4).
 *
 * The vectors are read in place from $TS_WYCHEPROOF_DIR (see
 * ../shared/testvectors/wycheproof/README.md); without them the whole program
 * is skipped visibly, as in a release-tarball build.
 *
 * Primitive files (ECDSA P1363, RSA PKCS#1 v1.5, RSA-PSS, EdDSA, HMAC): every
 * vector goes through ts_key_verify() with the group's key, loaded through
 * ts_jwk_to_key() and, where the group also has one, through publicKeyDer +
 * ts_key_from_pkey() (both forms must agree). Only a failing vector prints its
 * own TAP line; each file ends with summary assertions and a count line.
 *
 * JOSE files (json_web_*): one TAP line per vector, since each of them tests a
 * decision of the parser, the key loader or the key selection. Where the
 * project deliberately differs from a label, the vector is listed in
 * `divergences` with the outcome asserted instead and a recheck that bounds
 * the difference.
 *
 * After every call into common/ the OpenSSL error queue must be empty (A6).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "alg.h"
#include "b64url.h"
#include "jwk.h"
#include "jws.h"
#include "key.h"
#include "keyfile.h"
#include "tap.h"

#define ALL_ALGS (~0u)
#define NAME_MAX_CHARS 40 /* comment excerpt in a TAP line */
#define KS_MAX 16 /* keys in one test key set */

static const char *wp_dir;

/* ---- small helpers ---- */

typedef struct counts {
	const char *file;
	size_t valid, invalid, acceptable, na; /* na: not applicable, divergences included */
	size_t div, fail;
	char divlist[256];
} counts;

static void
counts_init(counts *c, const char *file)
{
	memset(c, 0, sizeof(*c));
	c->file = file;
}

static void
counts_divergence(counts *c, int tcid)
{
	size_t used = strlen(c->divlist);

	c->div++;
	c->na++;
	snprintf(c->divlist + used, sizeof(c->divlist) - used, "%s%d", used ? ", " : "", tcid);
}

/* Count line and the summary assertions of one file. */
static void
counts_report(const counts *c, const json_t *root)
{
	size_t run = c->valid + c->invalid + c->acceptable;
	size_t total = run + c->na;
	json_int_t declared = json_integer_value(json_object_get(root, "numberOfTests"));

	tap_diag("%s: %zu vectors run (valid %zu, invalid %zu, acceptable %zu, not applicable %zu)",
	    c->file, total, c->valid, c->invalid, c->acceptable, c->na);
	if (c->div > 0)
		tap_diag("%s: %zu documented divergences (tcId %s), counted as not applicable",
		    c->file, c->div, c->divlist);
	ok(run > 0, "%s: at least one vector applies and ran", c->file);
	ok((json_int_t)total == declared, "%s: all %lld vectors accounted for (%zu)", c->file,
	    (long long)declared, total);
	ok(c->fail == 0, "%s: every vector as expected (%zu failures)", c->file, c->fail);
}

static json_t *
load_vectors(const char *file)
{
	char path[4096];
	json_error_t jerr;
	json_t *root;

	snprintf(path, sizeof(path), "%s/%s", wp_dir, file);
	/* The vector files are trusted data: plain load. The tokens inside them
	 * are what goes through our strict parser. */
	root = json_load_file(path, 0, &jerr);
	if (root == NULL || !json_is_array(json_object_get(root, "testGroups"))) {
		ok(0, "%s: readable Wycheproof file (%s)", file,
		    root ? "no testGroups" : jerr.text);
		json_decref(root);
		return NULL;
	}
	return root;
}

static const char *
jstr(const json_t *o, const char *name)
{
	return json_string_value(json_object_get(o, name));
}

static int
jint(const json_t *o, const char *name)
{
	return (int)json_integer_value(json_object_get(o, name));
}

static int
hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Decodes a hex member of the vector file; a malformed one is a broken
 * harness or file, so it bails. Never returns NULL (an empty string gives a
 * valid 1-byte buffer and *len 0). */
static unsigned char *
hex_decode(const char *hex, size_t *len)
{
	size_t n, i;
	unsigned char *out;

	if (hex == NULL)
		tap_bail("hex member missing in a vector");
	n = strlen(hex);
	if (n % 2 != 0)
		tap_bail("odd-length hex in a vector");
	if ((out = malloc(n / 2 + 1)) == NULL)
		tap_bail("out of memory");
	for (i = 0; i < n / 2; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			tap_bail("bad hex digit in a vector");
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	*len = n / 2;
	return out;
}

/* A comment excerpt safe for a TAP description: printable ASCII, no '#'
 * (it would start a TAP directive), at most NAME_MAX_CHARS characters. */
static void
excerpt(char *dst, size_t cap, const char *s)
{
	size_t i = 0;

	if (s == NULL || *s == '\0')
		s = "-";
	for (; *s != '\0' && i < NAME_MAX_CHARS && i + 4 < cap; s++) {
		unsigned char ch = (unsigned char)*s;

		dst[i++] = (ch < 0x20 || ch > 0x7e || ch == '#') ? '_' : (char)ch;
	}
	if (*s != '\0' && i + 4 <= cap) {
		memcpy(dst + i, "...", 3);
		i += 3;
	}
	dst[i] = '\0';
}

/* A6: the error queue must be empty after every call into common/. Clears it
 * when not, so that one leak is reported once. */
static int
queue_clean(void)
{
	if (ERR_peek_error() == 0)
		return 1;
	ERR_clear_error();
	return 0;
}

static void
check_queue(counts *c, const char *what)
{
	if (!queue_clean()) {
		c->fail++;
		ok(0, "%s: %s left the OpenSSL error queue non-empty (A6)", c->file, what);
	}
}

/* Digest length from a Wycheproof hash name; 0 for any hash no JWS alg uses. */
static size_t
sha_len(const char *sha)
{
	if (sha == NULL)
		return 0;
	if (strcmp(sha, "SHA-256") == 0)
		return 32;
	if (strcmp(sha, "SHA-384") == 0)
		return 48;
	if (strcmp(sha, "SHA-512") == 0)
		return 64;
	return 0;
}

static ts_alg
alg_for(ts_alg_family fam, size_t hash_len)
{
	int a;

	for (a = TS_ALG_INVALID + 1; a < TS_ALG__COUNT; a++) {
		const ts_alg_info *ai = ts_alg_info_get((ts_alg)a);

		if (ai->family == fam && ai->hash_len == hash_len)
			return (ts_alg)a;
	}
	return TS_ALG_INVALID;
}

static int
has_flag(const json_t *t, const char *flag)
{
	const json_t *flags = json_object_get(t, "flags");
	size_t i;

	for (i = 0; i < json_array_size(flags); i++) {
		const char *f = json_string_value(json_array_get(flags, i));

		if (f != NULL && strcmp(f, flag) == 0)
			return 1;
	}
	return 0;
}

/*
 * The project's decision for a vector labelled "acceptable" (either outcome is
 * allowed by Wycheproof). Returns 1 (must verify), 0 (must be rejected), or -1
 * when no decision was made for its flags: a failing assertion, so that a new
 * version of the vector files forces a documented decision.
 *
 * In the files used here only RSASSA-PKCS1-v1_5 has acceptable vectors (one per
 * file, flag MissingNull). The ECDSA P1363, EdDSA, PSS and HMAC files have
 * none, so nothing is decided for them (-1).
 */
static int
acceptable_decision(ts_alg_family fam, const json_t *t)
{
	/*
	 * MissingNull: the DigestInfo omits the NULL parameters of the hash
	 * AlgorithmIdentifier. Decision: REJECT. RFC 8017 9.2 (note 1) gives the
	 * DigestInfo encodings with NULL, which every JWS signer produces; a
	 * verifier that accepts one encoding per (key, message) never parses
	 * ASN.1 leniently. This is also what OpenSSL 3 strictly does: it
	 * re-encodes the expected DigestInfo and compares bytes.
	 */
	if (fam == TS_FAM_RSA_PKCS1 && has_flag(t, "MissingNull"))
		return 0;
	return -1;
}

/* ---- primitive signature files ---- */

/*
 * Verifies one vector with k. want_reject_na: the label does not apply (e.g.
 * a truncated HMAC tag); the vector must be rejected whatever its label and is
 * counted as not applicable. Returns 1 when the outcome was as expected.
 */
static int
verify_vector(counts *c, const char *tag, const ts_key *k, const json_t *t, const char *sigm,
    int want_reject_na)
{
	int tcid = jint(t, "tcId");
	const char *res = jstr(t, "result");
	size_t mlen = 0, slen = 0;
	unsigned char *msg = hex_decode(jstr(t, "msg"), &mlen);
	unsigned char *sig = hex_decode(jstr(t, sigm), &slen);
	ts_err e = { "" };
	ts_reason r = ts_key_verify(k, msg, mlen, sig, slen, &e);
	int clean = queue_clean();
	int want, pass;
	char nm[64];

	if (res == NULL)
		tap_bail("%s tcId %d has no result", tag, tcid);
	excerpt(nm, sizeof(nm), jstr(t, "comment"));
	if (want_reject_na) {
		want = 0;
		c->na++;
	} else if (strcmp(res, "valid") == 0) {
		want = 1;
		c->valid++;
	} else if (strcmp(res, "invalid") == 0) {
		want = 0;
		c->invalid++;
	} else if (strcmp(res, "acceptable") == 0) {
		want = acceptable_decision(ts_alg_info_get(ts_key_alg(k))->family, t);
		c->acceptable++;
	} else {
		tap_bail("%s tcId %d: unknown result \"%s\"", tag, tcid, res);
	}
	/* a rejection of a signature is bad_signature, never internal_error */
	pass = want >= 0 && clean && (r == TS_OK) == (want == 1) &&
	    (r == TS_OK || r == TS_R_BAD_SIGNATURE);
	if (!pass) {
		c->fail++;
		ok(0, "%s tcId %d (%s: %s)", tag, tcid, res, nm);
		tap_diag("  expected %s, got %s (%s)%s",
		    want < 0   ? "a documented decision"
		        : want ? "ok"
		               : "bad_signature",
		    ts_reason_str(r), r == TS_OK ? "verified" : e.msg,
		    clean ? "" : "; OpenSSL error queue left non-empty (A6)");
	} else if (strcmp(res, "acceptable") == 0 && !want_reject_na) {
		/* decisions are visible one by one */
		ok(1, "%s tcId %d (acceptable: %s): %s as decided", tag, tcid, nm,
		    want ? "accepted" : "rejected");
	}
	free(msg);
	free(sig);
	return pass;
}

/* ts_jwk_to_key on the core JSON reader's view of a vector's JWK (the core
 * reads key files with json.h, not jansson). *kid (may be NULL) is a copy. */
static ts_reason
jwk_import(const json_t *jwk, ts_alg alg, ts_key **out, char **kid, ts_err *e)
{
	char *text = json_dumps(jwk, JSON_COMPACT);
	const char *k = NULL;
	ts_jdoc *d = NULL;
	ts_reason r;

	*out = NULL;
	if (kid != NULL)
		*kid = NULL;
	if (text == NULL)
		tap_bail("json_dumps");
	if ((r = ts_jdoc_parse(text, strlen(text), 8, &d, e)) == TS_OK)
		r = ts_jwk_to_key(ts_jdoc_root(d), alg, ALL_ALGS, 0, out, &k, NULL, e);
	else
		r = TS_R_CONFIG_ERROR;
	if (r == TS_OK && kid != NULL && k != NULL && (*kid = strdup(k)) == NULL)
		tap_bail("out of memory");
	ts_jdoc_free(d);
	free(text);
	return r;
}

/*
 * Loads a group's public key pinned to alg from its JWK member (jwkm) and from
 * publicKeyDer (d2i_PUBKEY + ts_key_from_pkey), whichever exist. When both
 * exist they must agree: both refused, or both loaded with one thumbprint.
 * Returns the JWK's result when the group has a JWK, else the DER's; e holds
 * the refusal message.
 */
static ts_reason
group_key(counts *c, const char *tag, size_t gi, const json_t *g, const char *jwkm, ts_alg alg,
    ts_key **out, ts_err *e)
{
	const json_t *jwk = json_object_get(g, jwkm);
	const char *derhex = jstr(g, "publicKeyDer");
	ts_key *kj = NULL, *kd = NULL;
	ts_reason rj = TS_R__COUNT, rd = TS_R__COUNT;
	ts_err ed = { "" };

	*out = NULL;
	if (jwk != NULL) {
		rj = jwk_import(jwk, alg, &kj, NULL, e);
		check_queue(c, "ts_jwk_to_key");
	}
	if (derhex != NULL) {
		size_t dlen = 0;
		unsigned char *der = hex_decode(derhex, &dlen);
		const unsigned char *p = der;
		EVP_PKEY *pk = d2i_PUBKEY(NULL, &p, (long)dlen);

		if (pk == NULL) {
			ERR_clear_error(); /* our own call, not common/'s */
			rd = ts_fail(&ed, TS_R_CONFIG_ERROR, "OpenSSL cannot parse publicKeyDer");
		} else {
			rd = ts_key_from_pkey(pk, alg, &kd, &ed);
			check_queue(c, "ts_key_from_pkey");
			EVP_PKEY_free(pk);
		}
		free(der);
	}
	if (rj != TS_R__COUNT && rd != TS_R__COUNT &&
	    ((rj == TS_OK) != (rd == TS_OK) ||
	        (rj == TS_OK && strcmp(ts_key_thumbprint(kj), ts_key_thumbprint(kd)) != 0))) {
		c->fail++;
		ok(0, "%s group %zu: JWK and DER forms of the key load differently (%s / %s)", tag,
		    gi, rj == TS_OK ? "ok" : e->msg, rd == TS_OK ? "ok" : ed.msg);
	}
	if (rj != TS_R__COUNT) {
		ts_key_free(kd);
		*out = kj;
		return rj;
	}
	if (rd == TS_R__COUNT)
		tap_bail("%s group %zu has no public key", tag, gi);
	if (rd != TS_OK)
		memcpy(e->msg, ed.msg, sizeof(e->msg));
	*out = kd;
	return rd;
}

typedef struct sigspec {
	const char *file;
	ts_alg_family fam;
	ts_alg alg; /* fixed alg (ES*, EdDSA), or TS_ALG_INVALID: from the group's sha */
	const char *jwkm; /* the group's JWK member */
} sigspec;

/* Why a group does not apply to its JWS alg, or NULL when it does. */
static const char *
group_not_applicable(const sigspec *s, const json_t *g, ts_alg alg)
{
	const ts_alg_info *ai = ts_alg_info_get(alg);

	if (ai == NULL)
		return "hash is not one a JWS alg uses";
	if (s->fam == TS_FAM_ECDSA && sha_len(jstr(g, "sha")) != ai->hash_len)
		return "hash differs from the alg's";
	if (s->fam == TS_FAM_RSA_PSS) {
		/* RFC 7518 3.5: MGF1 with the same hash, salt as long as the hash */
		const char *mgf = jstr(g, "mgf");

		if (mgf == NULL || strcmp(mgf, "MGF1") != 0 ||
		    sha_len(jstr(g, "mgfSha")) != ai->hash_len ||
		    (size_t)jint(g, "sLen") != ai->hash_len)
			return "MGF or salt length differs from RFC 7518 3.5";
	}
	return NULL;
}

/* K7: the key policy, from the group's own description of its key. */
static int
policy_refuses(const sigspec *s, const json_t *g, char *why, size_t cap)
{
	const json_t *pk = json_object_get(g, "publicKey");
	const char *ex;
	int bits;

	if (s->fam != TS_FAM_RSA_PKCS1 && s->fam != TS_FAM_RSA_PSS)
		return 0;
	ex = jstr(pk, "publicExponent");
	bits = jint(g, "keySize");
	snprintf(why, cap, "e=%s, %d bits", ex ? ex : "?", bits);
	return ex == NULL || strcmp(ex, "010001") != 0 || bits < TS_RSA_MIN_BITS;
}

static void
run_sig_file(const sigspec *s)
{
	json_t *root = load_vectors(s->file);
	const json_t *groups;
	counts c;
	size_t gi, ti;

	if (root == NULL)
		return;
	counts_init(&c, s->file);
	groups = json_object_get(root, "testGroups");
	for (gi = 0; gi < json_array_size(groups); gi++) {
		const json_t *g = json_array_get(groups, gi);
		const json_t *tests = json_object_get(g, "tests");
		ts_alg alg =
		    s->alg != TS_ALG_INVALID ? s->alg : alg_for(s->fam, sha_len(jstr(g, "sha")));
		const char *tag = ts_alg_name(alg), *na;
		char pol[64] = "";
		int refuse;
		ts_key *k = NULL;
		ts_err e = { "" };
		ts_reason r;

		if ((na = group_not_applicable(s, g, alg)) != NULL) {
			tap_diag("%s group %zu not applicable: %s", s->file, gi, na);
			c.na += json_array_size(tests);
			continue;
		}
		refuse = policy_refuses(s, g, pol, sizeof(pol));
		r = group_key(&c, tag, gi, g, s->jwkm, alg, &k, &e);
		if (refuse) {
			/* K7: the refusal shows at key load; the vectors cannot run */
			ok(r != TS_OK, "%s group %zu (%s): key refused at load (K7): %s", tag, gi,
			    pol, r != TS_OK ? e.msg : "ACCEPTED");
			if (r != TS_OK)
				c.na += json_array_size(tests);
			else
				c.fail++;
			ts_key_free(k);
			continue;
		}
		if (r != TS_OK) {
			c.fail++;
			c.na += json_array_size(tests);
			ok(0, "%s group %zu: key refused at load: %s", tag, gi, e.msg);
			continue;
		}
		for (ti = 0; ti < json_array_size(tests); ti++)
			verify_vector(&c, tag, k, json_array_get(tests, ti), "sig", 0);
		ts_key_free(k);
	}
	counts_report(&c, root);
	json_decref(root);
}

/*
 * HMAC: JWS uses the full tag and (K8) a key at least as long as the hash.
 * Groups with a full tag and a long enough key run normally. Groups with a
 * short key must show every key refused at load (K8). Groups with a truncated
 * tag and a long enough key must see every tag rejected, valid or not, since
 * the verifier demands the exact length (counted as not applicable).
 */
static void
run_hmac(const char *file, ts_alg alg)
{
	const ts_alg_info *ai = ts_alg_info_get(alg);
	json_t *root = load_vectors(file);
	const json_t *groups;
	counts c;
	size_t gi, ti;
	int hbits = (int)ai->hash_len * 8;

	if (root == NULL)
		return;
	counts_init(&c, file);
	groups = json_object_get(root, "testGroups");
	for (gi = 0; gi < json_array_size(groups); gi++) {
		const json_t *g = json_array_get(groups, gi);
		const json_t *tests = json_object_get(g, "tests");
		int ksize = jint(g, "keySize"), tsize = jint(g, "tagSize");
		size_t good = 0, n = json_array_size(tests);

		for (ti = 0; ti < n; ti++) {
			const json_t *t = json_array_get(tests, ti);
			size_t klen = 0;
			unsigned char *key = hex_decode(jstr(t, "key"), &klen);
			ts_key *k = NULL;
			ts_err e = { "" };
			ts_reason r = ts_key_from_secret(key, klen, alg, &k, &e);

			check_queue(&c, "ts_key_from_secret");
			free(key);
			if (ksize < hbits) {
				/* K8: short secret refused; the vector cannot run */
				c.na++;
				if (r != TS_OK)
					good++;
				else
					c.fail++;
			} else if (r != TS_OK) {
				c.fail++;
				c.na++;
				ok(0, "%s tcId %d: %d-bit key refused: %s", ai->name,
				    jint(t, "tcId"), ksize, e.msg);
			} else {
				good += (size_t)verify_vector(
				    &c, ai->name, k, t, "tag", tsize != hbits);
			}
			ts_key_free(k);
		}
		if (ksize < hbits)
			ok(good == n,
			    "%s group %zu (%d-bit keys): all %zu keys refused at load (K8)",
			    ai->name, gi, ksize, n);
		else if (tsize != hbits)
			ok(good == n, "%s group %zu (%d-bit tags): all %zu truncated tags rejected",
			    ai->name, gi, tsize, n);
	}
	counts_report(&c, root);
	json_decref(root);
}

/* ---- JOSE files ---- */

/* Members that make a JWK private (as in jwk.c). */
static const char *const private_members[] = { "d", "p", "q", "dp", "dq", "qi", "oth" };

static int
jwk_is_private(const json_t *jwk)
{
	size_t i;

	for (i = 0; i < sizeof(private_members) / sizeof(private_members[0]); i++)
		if (json_object_get(jwk, private_members[i]) != NULL)
			return 1;
	return 0;
}

static void
jwk_strip_private(json_t *jwk)
{
	size_t i;

	for (i = 0; i < sizeof(private_members) / sizeof(private_members[0]); i++)
		json_object_del(jwk, private_members[i]);
}

typedef struct keyset {
	ts_key *key[KS_MAX];
	char *kid[KS_MAX]; /* owned; may be NULL */
	size_t n;
} keyset;

static void
keyset_free(keyset *ks)
{
	size_t i;

	for (i = 0; i < ks->n; i++) {
		ts_key_free(ks->key[i]);
		free(ks->kid[i]);
	}
	memset(ks, 0, sizeof(*ks));
}

/*
 * Loads a key set {"keys": [...]} through the keyring's own key-file loader
 * (ts_keyfile_parse: every JWK through ts_jwk_to_key, then a duplicate kid
 * or symmetric keys mixed with asymmetric ones refuse the whole set, K7),
 * as a key file of an issuer that allows every algorithm, HS* included.
 */
static ts_reason
load_set(const json_t *jwks, keyset *ks, ts_err *e)
{
	char *text = json_dumps(jwks, JSON_COMPACT);
	ts_keyspec spec;
	ts_loaded_key *lk = NULL;
	size_t n = 0, i;
	ts_reason r;

	memset(ks, 0, sizeof(*ks));
	memset(&spec, 0, sizeof(spec));
	if (text == NULL)
		return ts_fail(e, TS_R_INTERNAL, "out of memory");
	r = ts_keyfile_parse(text, strlen(text), &spec, ALL_ALGS, 1, &lk, &n, e);
	free(text);
	if (r != TS_OK)
		return r;
	if (n > KS_MAX) {
		ts_loaded_keys_free(lk, n);
		return ts_fail(e, TS_R_CONFIG_ERROR, "more than %d keys in a test set", KS_MAX);
	}
	for (i = 0; i < n; i++) {
		ks->key[i] = lk[i].key;
		ks->kid[i] = lk[i].kid;
		lk[i].key = NULL; /* transferred */
		lk[i].kid = NULL;
	}
	ks->n = n;
	ts_loaded_keys_free(lk, n);
	return TS_OK;
}

/* K1/K2 as the keyring does it: by exact kid; without a kid only when the
 * set has exactly one key. NULL: no key for this token. */
static const ts_key *
pick_key(const keyset *ks, const ts_jws *j)
{
	size_t klen = 0, i;
	const char *kid = ts_jws_kid(j, &klen);

	if (kid == NULL)
		return ks->n == 1 ? ks->key[0] : NULL;
	for (i = 0; i < ks->n; i++)
		if (ks->kid[i] != NULL && strlen(ks->kid[i]) == klen &&
		    memcmp(ks->kid[i], kid, klen) == 0)
			return ks->key[i];
	return NULL;
}

typedef enum outcome {
	OUT_KEY_REFUSED,
	OUT_PARSE_REJECTED,
	OUT_NO_KEY,
	OUT_VERIFY_REJECTED,
	OUT_ACCEPTED,
} outcome;

static const char *const outcome_str[] = {
	[OUT_KEY_REFUSED] = "key refused at load",
	[OUT_PARSE_REJECTED] = "refused by the parser",
	[OUT_NO_KEY] = "no key with its kid",
	[OUT_VERIFY_REJECTED] = "refused by verification",
	[OUT_ACCEPTED] = "accepted",
};

/* A second check that shows what a divergence is limited to. */
typedef enum recheck {
	RC_NONE,
	RC_RAW_VERIFY, /* the group key verifies the signature over the signing input */
	RC_RELABEL, /* with the JWK's "alg" removed and `alg` pinned, the token verifies */
	RC_SAME_AS, /* the token is byte-identical to vector `same_as` (a file defect) */
} recheck;

/*
 * Documented divergences from the Wycheproof labels: the outcome asserted
 * instead of the label's, and a recheck that bounds the divergence. Each is
 * counted as not applicable and listed in the file's count lines.
 */
typedef struct divergence {
	const char *file;
	int tcid;
	outcome out;
	recheck rc;
	ts_alg alg; /* RC_RELABEL */
	int same_as; /* RC_SAME_AS */
	int pad_seg; /* RC_SAME_AS: segment (1 payload, 2 signature) that the
	              * vector's name says was padded; "==" there must be refused */
	const char *why;
} divergence;

#define WS "json_web_signature_test.json"

static const divergence divergences[] = {
	/* Empty payload (RFC 7515 allows one). ts_jws_parse refuses an empty
     * header or payload segment: a JWT always has a claims object with iss,
     * so nothing is lost. The signatures themselves verify (recheck). */
	{ WS, 259, OUT_PARSE_REJECTED, RC_RAW_VERIFY, TS_ALG_INVALID, 0, 0,
	    "empty payload segment refused by the parser; a JWT always has claims" },
	{ WS, 264, OUT_PARSE_REJECTED, RC_RAW_VERIFY, TS_ALG_INVALID, 0, 0,
	    "empty payload segment refused by the parser; a JWT always has claims" },
	{ WS, 268, OUT_PARSE_REJECTED, RC_RAW_VERIFY, TS_ALG_INVALID, 0, 0,
	    "empty payload segment refused by the parser; a JWT always has claims" },
	{ WS, 272, OUT_PARSE_REJECTED, RC_RAW_VERIFY, TS_ALG_INVALID, 0, 0,
	    "empty payload segment refused by the parser; a JWT always has claims" },
	{ WS, 320, OUT_PARSE_REJECTED, RC_RAW_VERIFY, TS_ALG_INVALID, 0, 0,
	    "empty payload segment refused by the parser; a JWT always has claims" },
	{ WS, 325, OUT_PARSE_REJECTED, RC_RAW_VERIFY, TS_ALG_INVALID, 0, 0,
	    "empty payload segment refused by the parser; a JWT always has claims" },
	/* RFC 7520 figure 20 is a PS384 signature, but the group's JWK says
     * "alg":"PS256". K4 pins the key to its JWK alg, so the header alg does
     * not match: alg_not_allowed. Relabelled PS384, it verifies. */
	{ WS, 346, OUT_VERIFY_REJECTED, RC_RELABEL, TS_ALG_PS384, 0, 0,
	    "the key's JWK says PS256, the token is PS384 (K4)" },
	{ WS, 350, OUT_VERIFY_REJECTED, RC_RELABEL, TS_ALG_PS384, 0, 0,
	    "the key's JWK says PS256, the token is PS384 (K4)" },
	/* RFC 7520 figure 27: the key's JWK says "alg":"ES521", which is no JOSE
     * algorithm (RFC 7518 3.1 names it ES512); K7 refuses a JWK whose alg is
     * unknown. Relabelled ES512, it verifies. */
	{ WS, 347, OUT_KEY_REFUSED, RC_RELABEL, TS_ALG_ES512, 0, 0,
	    "the key's JWK says \"ES521\", not a JOSE algorithm (K7)" },
	{ WS, 351, OUT_KEY_REFUSED, RC_RELABEL, TS_ALG_ES512, 0, 0,
	    "the key's JWK says \"ES521\", not a JOSE algorithm (K7)" },
	/* Labelled invalid, but in this revision of the file the token is
     * byte-identical to tcId 357 (valid): the padding these vectors are
     * named after is not there. Nothing can reject it without rejecting a
     * valid token; the padded form the name describes is checked instead. */
	{ WS, 367, OUT_ACCEPTED, RC_SAME_AS, TS_ALG_INVALID, 357, 2,
	    "token identical to valid tcId 357 (padding missing from the file)" },
	{ WS, 370, OUT_ACCEPTED, RC_SAME_AS, TS_ALG_INVALID, 357, 1,
	    "token identical to valid tcId 357 (padding missing from the file)" },
	/* Labelled valid, but the signing input holds '?', which is outside the
     * base64url alphabet: a strict parser (P1, P2) refuses the token. Never
     * loosen the decoder for them (testvectors README). */
	{ WS, 372, OUT_PARSE_REJECTED, RC_NONE, TS_ALG_INVALID, 0, 0,
	    "'?' in the header segment is not base64url (P1/P2)" },
	{ WS, 373, OUT_PARSE_REJECTED, RC_NONE, TS_ALG_INVALID, 0, 0,
	    "'?' in the payload segment is not base64url (P1/P2)" },
	/* ROCA (CVE-2017-15361): the 2049-bit RSA key with e=65537 passes every
     * K7 rule and the project has no ROCA fingerprint check, so a correct
     * signature by this key verifies. Reported for a decision. */
	{ "json_web_key_test.json", 7, OUT_ACCEPTED, RC_NONE, TS_ALG_INVALID, 0, 0,
	    "no ROCA fingerprint check: the weak key passes K7" },
	{ "json_web_crypto_test.json", 46, OUT_ACCEPTED, RC_NONE, TS_ALG_INVALID, 0, 0,
	    "no ROCA fingerprint check: the weak key passes K7" },
};

static const divergence *
find_divergence(const char *file, int tcid)
{
	size_t i;

	for (i = 0; i < sizeof(divergences) / sizeof(divergences[0]); i++)
		if (strcmp(divergences[i].file, file) == 0 && divergences[i].tcid == tcid)
			return &divergences[i];
	return NULL;
}

/* Parse, select by kid, verify; *r the reason of the last step. */
static outcome
run_token(counts *c, const keyset *ks, const char *tok, size_t len, ts_reason *r, ts_err *e)
{
	ts_jws *j = NULL;
	const ts_key *k;
	outcome out;

	if ((*r = ts_jws_parse(tok, len, 0, &j, e)) != TS_OK) {
		out = OUT_PARSE_REJECTED;
	} else if ((k = pick_key(ks, j)) == NULL) {
		*r = ts_fail(e, TS_R_UNKNOWN_KEY, "no key in the set has the token's kid");
		out = OUT_NO_KEY;
	} else {
		*r = ts_jws_verify(j, k, e);
		out = *r == TS_OK ? OUT_ACCEPTED : OUT_VERIFY_REJECTED;
	}
	check_queue(c, "parse/verify");
	ts_jws_free(j);
	return out;
}

/* The token of vector tcid anywhere in the file, or NULL. */
static const char *
token_of(const json_t *root, int tcid)
{
	const json_t *groups = json_object_get(root, "testGroups");
	size_t gi, ti;

	for (gi = 0; gi < json_array_size(groups); gi++) {
		const json_t *tests = json_object_get(json_array_get(groups, gi), "tests");

		for (ti = 0; ti < json_array_size(tests); ti++)
			if (jint(json_array_get(tests, ti), "tcId") == tcid)
				return jstr(json_array_get(tests, ti), "jws");
	}
	return NULL;
}

/* Copy of tok with "==" appended to segment seg (0 header, 1 payload, 2 sig). */
static char *
pad_segment(const char *tok, int seg)
{
	size_t len = strlen(tok), at = len, i;
	int dots = 0;
	char *out = malloc(len + 3);

	if (out == NULL)
		tap_bail("out of memory");
	for (i = 0; i < len; i++)
		if (tok[i] == '.' && dots++ == seg) {
			at = i;
			break;
		}
	memcpy(out, tok, at);
	memcpy(out + at, "==", 2);
	memcpy(out + at + 2, tok + at, len - at + 1);
	return out;
}

/* Recheck of a divergence: bounds it to what its comment says. */
static void
run_recheck(counts *c, const char *tag, const divergence *dv, const json_t *root, const json_t *pub,
    const keyset *ks, const char *tok, size_t len)
{
	ts_err e = { "" };
	int pass = 0;

	switch (dv->rc) {
	case RC_NONE: return;
	case RC_RAW_VERIFY: {
		/* the signature over the exact signing input, with the group's key */
		const char *d2 = memchr(tok, '.', len);
		unsigned char sig[1024];
		size_t slen = 0, silen;

		d2 = d2 ? memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - tok)) : NULL;
		if (d2 != NULL && ks->n == 1 &&
		    ts_b64url_decode(
		        d2 + 1, len - (size_t)(d2 + 1 - tok), sig, sizeof(sig), &slen) == 0) {
			silen = (size_t)(d2 - tok);
			pass = ts_key_verify(ks->key[0], (const unsigned char *)tok, silen, sig,
			           slen, &e) == TS_OK;
			check_queue(c, "ts_key_verify");
		}
		ok(pass,
		    "%s tcId %d: its signature over the signing input verifies with the key (%s)",
		    tag, dv->tcid, pass ? "ok" : e.msg);
		break;
	}
	case RC_RELABEL: {
		json_t *copy = json_deep_copy(pub);
		keyset one;
		ts_reason r = TS_R_INTERNAL;

		memset(&one, 0, sizeof(one));
		json_object_del(copy, "alg");
		if (jwk_import(copy, dv->alg, &one.key[0], &one.kid[0], &e) == TS_OK) {
			one.n = 1;
			pass = run_token(c, &one, tok, len, &r, &e) == OUT_ACCEPTED;
		}
		check_queue(c, "ts_jwk_to_key");
		ok(pass,
		    "%s tcId %d: with the JWK's \"alg\" removed and %s pinned, the token verifies "
		    "(%s)",
		    tag, dv->tcid, ts_alg_name(dv->alg), pass ? "ok" : e.msg);
		keyset_free(&one);
		json_decref(copy);
		break;
	}
	case RC_SAME_AS: {
		const char *other = token_of(root, dv->same_as);
		char *padded = pad_segment(tok, dv->pad_seg);
		ts_jws *j = NULL;

		ok(other != NULL && strcmp(other, tok) == 0,
		    "%s tcId %d: token is byte-identical to valid tcId %d (defect in the vector "
		    "file)",
		    tag, dv->tcid, dv->same_as);
		pass = ts_jws_parse(padded, strlen(padded), 0, &j, &e) != TS_OK;
		check_queue(c, "ts_jws_parse");
		ok(pass,
		    "%s tcId %d as named: \"==\" padding in the %s segment refused by the parser "
		    "(P2)",
		    tag, dv->tcid, dv->pad_seg == 1 ? "payload" : "signature");
		ts_jws_free(j);
		free(padded);
		pass = pass && other != NULL && strcmp(other, tok) == 0;
		break;
	}
	}
	if (!pass)
		c->fail++;
}

/* A key member of a group as a key set: {"keys": [...]} as is, a single JWK
 * wrapped. strip: remove private members (a verifier only ever holds the
 * public half). New reference. */
static json_t *
as_set(const json_t *keyjson, int strip)
{
	json_t *set, *keys;
	size_t i;

	if (json_object_get(keyjson, "keys") != NULL) {
		set = json_deep_copy(keyjson);
	} else {
		set = json_object();
		keys = json_array();
		json_array_append_new(keys, json_deep_copy(keyjson));
		json_object_set_new(set, "keys", keys);
	}
	keys = json_object_get(set, "keys");
	if (strip)
		for (i = 0; i < json_array_size(keys); i++)
			jwk_strip_private(json_array_get(keys, i));
	return set;
}

static int
set_has_private(const json_t *set)
{
	const json_t *keys = json_object_get(set, "keys");
	size_t i;

	for (i = 0; i < json_array_size(keys); i++)
		if (jwk_is_private(json_array_get(keys, i)))
			return 1;
	return 0;
}

static int
group_has_jws(const json_t *g)
{
	const json_t *tests = json_object_get(g, "tests");
	size_t i;

	for (i = 0; i < json_array_size(tests); i++)
		if (json_object_get(json_array_get(tests, i), "jws") != NULL)
			return 1;
	return 0;
}

typedef struct josespec {
	const char *file;
	const char *tag;
	int strip; /* no "public": use "private" with private members removed */
	int refusal_test; /* a refused key set is the vector's point: count by label */
} josespec;

/* One "jwe" vector: P4, a JWS-only validator refuses every JWE, compact (five
 * segments) or JSON, whatever its label. A valid JWE is outside the
 * project's scope: not applicable, but still asserted refused. */
static void
run_jwe(counts *c, const json_t *t, const char *tok, size_t len)
{
	const char *res = jstr(t, "result");
	ts_jws *j = NULL;
	ts_err e = { "" };
	ts_reason r = ts_jws_parse(tok, len, 0, &j, &e);
	char nm[64];

	check_queue(c, "ts_jws_parse");
	ts_jws_free(j);
	excerpt(nm, sizeof(nm), jstr(t, "comment"));
	if (strcmp(res, "invalid") == 0)
		c->invalid++;
	else
		c->na++;
	if (!ok(r != TS_OK, "JWE tcId %d (%s: %s): refused by the JWS parser (%s)", jint(t, "tcId"),
	        res, nm, ts_reason_str(r)))
		c->fail++;
}

/*
 * json_web_key_test.json tcId 4 ("DuplicateKid") is refused before the kid
 * rule is reached: its second key's "k" has non-zero unused bits (not strict
 * base64url, P2). The rule the vector is named after is checked here on the
 * "jws_keyset" group's two good keys with the second kid set to the first.
 */
static void
dup_kid_as_named(counts *c, const json_t *root)
{
	const json_t *groups = json_object_get(root, "testGroups");
	size_t gi;

	for (gi = 0; gi < json_array_size(groups); gi++) {
		const json_t *g = json_array_get(groups, gi);
		const char *cm = jstr(g, "comment");
		json_t *set, *keys;
		keyset ks;
		ts_err e = { "" };
		ts_reason r;
		int pass;

		if (cm == NULL || strcmp(cm, "jws_keyset") != 0)
			continue;
		set = as_set(json_object_get(g, "private"), 0);
		keys = json_object_get(set, "keys");
		json_object_set(json_array_get(keys, 1), "kid",
		    json_object_get(json_array_get(keys, 0), "kid"));
		r = load_set(set, &ks, &e);
		check_queue(c, "key set load");
		pass = r != TS_OK && strstr(e.msg, "duplicate kid") != NULL;
		if (!ok(pass,
		        "JWK tcId 4 as named: two loadable keys sharing a kid refuse the set (K7): "
		        "%s",
		        r != TS_OK ? e.msg : "ACCEPTED"))
			c->fail++;
		keyset_free(&ks);
		json_decref(set);
		return;
	}
	c->fail++;
	ok(0, "JWK: group jws_keyset not found for the duplicate-kid check");
}

static void
run_jose_file(const josespec *s)
{
	json_t *root = load_vectors(s->file);
	const json_t *groups;
	counts c;
	size_t gi, ti;

	if (root == NULL)
		return;
	counts_init(&c, s->file);
	groups = json_object_get(root, "testGroups");
	for (gi = 0; gi < json_array_size(groups); gi++) {
		const json_t *g = json_array_get(groups, gi);
		const json_t *tests = json_object_get(g, "tests");
		const json_t *pub = json_object_get(g, "public"),
		             *priv = json_object_get(g, "private");
		json_t *set = as_set(pub != NULL ? pub : priv, pub == NULL && s->strip);
		json_t *privset = as_set(priv, 0);
		keyset ks;
		ts_err ke = { "" };
		ts_reason kr = load_set(set, &ks, &ke);
		int jws = group_has_jws(g);
		char gname[64];

		check_queue(&c, "key set load");
		excerpt(gname, sizeof(gname), jstr(g, "comment"));
		/* K7: the private form of the keys is never loadable by a verifier */
		if (jws && pub != NULL && set_has_private(privset)) {
			keyset pks;
			ts_err pe = { "" };
			ts_reason pr = load_set(privset, &pks, &pe);

			check_queue(&c, "key set load");
			if (!ok(pr != TS_OK,
			        "%s group %zu (%s): private key form refused at load (K7): %s",
			        s->tag, gi, gname, pr != TS_OK ? pe.msg : "ACCEPTED"))
				c.fail++;
			keyset_free(&pks);
		}
		if (jws && kr != TS_OK)
			tap_diag(
			    "%s group %zu (%s): key set refused: %s", s->file, gi, gname, ke.msg);

		for (ti = 0; ti < json_array_size(tests); ti++) {
			const json_t *t = json_array_get(tests, ti);
			int tcid = jint(t, "tcId");
			const char *res = jstr(t, "result");
			const json_t *tv = json_object_get(t, "jws");
			int is_jwe = tv == NULL;
			char *dumped = NULL, nm[64];
			const char *tok;
			size_t len;
			const divergence *dv = find_divergence(s->file, tcid);
			ts_err e = { "" };
			ts_reason r = kr;
			outcome out;
			int pass;

			if (is_jwe)
				tv = json_object_get(t, "jwe");
			if (res == NULL || tv == NULL)
				tap_bail("%s tcId %d: no result or token", s->file, tcid);
			excerpt(nm, sizeof(nm), jstr(t, "comment"));
			if (json_is_string(tv)) {
				tok = json_string_value(tv);
				len = json_string_length(tv);
			} else {
				/* JSON serialisation: fed as its text (P4: must be refused) */
				if ((dumped = json_dumps(tv, JSON_COMPACT)) == NULL)
					tap_bail("json_dumps");
				tok = dumped;
				len = strlen(dumped);
			}
			if (is_jwe) {
				run_jwe(&c, t, tok, len);
				free(dumped);
				continue;
			}

			out = kr != TS_OK ? OUT_KEY_REFUSED : run_token(&c, &ks, tok, len, &r, &e);
			if (dv != NULL) {
				pass = out == dv->out;
				counts_divergence(&c, tcid);
			} else if (strcmp(res, "valid") == 0) {
				pass = out == OUT_ACCEPTED;
				c.valid++;
			} else if (strcmp(res, "invalid") == 0) {
				pass = out != OUT_ACCEPTED;
				/* outside json_web_key_test.json a refused key means the
				 * vector's own check never ran */
				if (out == OUT_KEY_REFUSED && !s->refusal_test)
					c.na++;
				else
					c.invalid++;
			} else {
				/* none in these files: an unreviewed label is a failure */
				pass = 0;
				c.acceptable++;
			}
			if (!pass)
				c.fail++;
			ok(pass, "%s tcId %d (%s: %s): %s (%s)%s%s%s", s->tag, tcid, res, nm,
			    outcome_str[out], ts_reason_str(r),
			    dv ? " [documented divergence: " : "", dv ? dv->why : "",
			    dv ? "]" : "");
			if (!pass || out == OUT_KEY_REFUSED || dv != NULL)
				tap_diag("  %s",
				    out == OUT_KEY_REFUSED    ? ke.msg
				        : out == OUT_ACCEPTED ? "verified"
				                              : e.msg);
			if (dv != NULL)
				run_recheck(&c, s->tag, dv, root, pub, &ks, tok, len);
			free(dumped);
		}
		keyset_free(&ks);
		json_decref(set);
		json_decref(privset);
	}
	if (s->refusal_test)
		dup_kid_as_named(&c, root);
	counts_report(&c, root);
	json_decref(root);
}

int
main(void)
{
	static const sigspec sigfiles[] = {
		{ "ecdsa_secp256r1_sha256_p1363_test.json", TS_FAM_ECDSA, TS_ALG_ES256,
		    "publicKeyJwk" },
		{ "ecdsa_secp384r1_sha384_p1363_test.json", TS_FAM_ECDSA, TS_ALG_ES384,
		    "publicKeyJwk" },
		{ "ecdsa_secp521r1_sha512_p1363_test.json", TS_FAM_ECDSA, TS_ALG_ES512,
		    "publicKeyJwk" },
		{ "rsa_signature_2048_sha256_test.json", TS_FAM_RSA_PKCS1, TS_ALG_INVALID,
		    "keyJwk" },
		{ "rsa_signature_2048_sha384_test.json", TS_FAM_RSA_PKCS1, TS_ALG_INVALID,
		    "keyJwk" },
		{ "rsa_signature_2048_sha512_test.json", TS_FAM_RSA_PKCS1, TS_ALG_INVALID,
		    "keyJwk" },
		{ "rsa_signature_3072_sha384_test.json", TS_FAM_RSA_PKCS1, TS_ALG_INVALID,
		    "keyJwk" },
		{ "rsa_signature_4096_sha512_test.json", TS_FAM_RSA_PKCS1, TS_ALG_INVALID,
		    "keyJwk" },
		{ "rsa_pss_2048_sha256_mgf1_32_test.json", TS_FAM_RSA_PSS, TS_ALG_INVALID,
		    "publicKeyJwk" },
		{ "rsa_pss_2048_sha384_mgf1_48_test.json", TS_FAM_RSA_PSS, TS_ALG_INVALID,
		    "publicKeyJwk" },
		{ "rsa_pss_4096_sha512_mgf1_64_test.json", TS_FAM_RSA_PSS, TS_ALG_INVALID,
		    "publicKeyJwk" },
		{ "ed25519_test.json", TS_FAM_EDDSA, TS_ALG_EDDSA, "publicKeyJwk" },
		{ "ed448_test.json", TS_FAM_EDDSA, TS_ALG_EDDSA, "publicKeyJwk" },
	};
	static const josespec josefiles[] = {
		{ "json_web_signature_test.json", "JWS", 1, 0 },
		{ "json_web_key_test.json", "JWK", 0, 1 },
		{ "json_web_crypto_test.json", "JWC", 1, 0 },
		{ "json_web_encryption_test.json", "JWE", 1, 0 },
	};
	struct stat st;
	char why[4200];
	size_t i;

	wp_dir = getenv("TS_WYCHEPROOF_DIR");
	if (wp_dir == NULL || *wp_dir == '\0' || stat(wp_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(why, sizeof(why), "Wycheproof vectors not found at %s",
		    wp_dir && *wp_dir ? wp_dir : "(TS_WYCHEPROOF_DIR unset)");
		tap_skip_all(why);
	}
	ERR_clear_error();

	for (i = 0; i < sizeof(sigfiles) / sizeof(sigfiles[0]); i++)
		run_sig_file(&sigfiles[i]);
	run_hmac("hmac_sha256_test.json", TS_ALG_HS256);
	run_hmac("hmac_sha384_test.json", TS_ALG_HS384);
	run_hmac("hmac_sha512_test.json", TS_ALG_HS512);
	for (i = 0; i < sizeof(josefiles) / sizeof(josefiles[0]); i++)
		run_jose_file(&josefiles[i]);
	return tap_done();
}
