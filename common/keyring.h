/*
 * keyring.h: every configured key, bound to the issuer section that named
 * its file (K1), found by (issuer, kid) only, never by kid alone.
 *
 * A keyring is built whole from a ts_conf or not at all (a reload never
 * leaves half a keyring), and is immutable afterwards: many threads may
 * look keys up at once. Lookup cost does not depend on the number of keys
 * (hash on issuer index and kid).
 */
#ifndef TS_KEYRING_H
#define TS_KEYRING_H

#include <stddef.h>
#include <time.h>

#include "conf.h"
#include "key.h"
#include "safe_file.h"

typedef struct ts_binding {
	size_t issuer_idx; /* into ts_conf.issuers */
	char *kid; /* NULL: the key has no kid */
	size_t kid_len;
	ts_key *key;
	time_t not_before, not_after; /* 0 / TIME_MAX when unbounded */
	int revoked; /* K6: thumbprint on the revoked list */
	const char *source; /* the key file path (owned by the conf) */
	int line; /* the key line in the config */
} ts_binding;

typedef struct ts_keyring ts_keyring;

/* K5: keys ending within this many seconds are warned about. */
#define TS_EXPIRING_SOON (30 * 86400)

/* Files read while building, for change detection. */
typedef struct ts_filelist {
	char **paths;
	ts_file_id *ids;
	size_t n;
} ts_filelist;

/* Loads every key file named by c and the revoked-key list. On any error
 * returns TS_R_CONFIG_ERROR with e->msg "conf:line: keyfile: message" and
 * no keyring. Files read are appended to *files (even on error, so that a
 * fix of the broken file is noticed). */
ts_reason ts_keyring_load(const ts_conf *c, ts_keyring **out, ts_filelist *files, ts_err *e);
void ts_keyring_free(ts_keyring *kr);

/* The binding for (issuer, kid), or NULL. */
const ts_binding *ts_keyring_find(
    const ts_keyring *kr, size_t issuer_idx, const char *kid, size_t kid_len);
/* For a token without kid (K2): the issuer's only usable key at `now`.
 * Returns NULL and *count = number of usable keys when that is not 1. */
const ts_binding *ts_keyring_only_key(
    const ts_keyring *kr, size_t issuer_idx, time_t now, size_t *count);

/* All bindings, grouped by issuer in config order. */
size_t ts_keyring_count(const ts_keyring *kr);
const ts_binding *ts_keyring_get(const ts_keyring *kr, size_t i);

void ts_filelist_free(ts_filelist *f);
int ts_filelist_add(ts_filelist *f, const char *path, const ts_file_id *id);

#endif
