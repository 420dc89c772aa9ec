/*
 * classify.h: M7, telling a correctly signed token under an out-of-scope
 * key (a stolen or misused key) from noise, after the decision has already
 * refused it. Classification never accepts and never changes the reason:
 * it only names an alert for the log.
 */
#ifndef TS_CLASSIFY_H
#define TS_CLASSIFY_H

#include "conf.h"
#include "jws.h"
#include "keyring.h"

/* M7: with no kid, an HS* token is tried against at most this many of its
 * issuer's public keys (two encodings each). */
#define TS_CLASSIFY_MAX_KEYS 4

typedef struct ts_classify_in {
	const ts_conf *conf;
	const ts_keyring *kr;
	const ts_jws *j;
	ts_reason refused; /* the decision's reason, never TS_OK */
	const ts_issuer_conf *is; /* the trusted issuer the token claims, or NULL */
	const ts_binding *b; /* the key found by (issuer, kid), or NULL */
	const char *kid; /* NULL when the header has none */
	size_t kid_len;
} ts_classify_in;

typedef struct ts_classify_out {
	const char *alert; /* NULL: none */
	const ts_binding *key; /* the out-of-scope key the signature verified with */
	/* K15: another section's key is read without making that section;
	 * key may point here */
	ts_binding peeked;
	unsigned checks; /* signature verifications and HMACs spent */
	char why[160]; /* what was tried and concluded, for explain */
} ts_classify_out;

/* Classifies the refusal in->refused. At most one signature verification
 * (only when a key matched the token's kid), or, for an HS* token, at most
 * two HMACs per candidate public key. */
void ts_classify(const ts_classify_in *in, ts_classify_out *out);

#endif
