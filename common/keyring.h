/*
 * keyring.h: every configured key, bound to the issuer section that named
 * its file (K1), found by (issuer, kid) only, never by kid alone.
 *
 * A keyring is built whole from a ts_conf or not at all (a reload never
 * leaves half a keyring), and does not change visibly afterwards: many
 * threads may look keys up at once. K15: every key file is read, parsed
 * and checked at load, but a section's bindings (one per key it may use)
 * are made at its first lookup, once, under the keyring's lock; a section
 * of several key lines is made at load, so that a kid twice in it is a
 * config error there. Lookup cost does not depend on the number of keys
 * (a section's own hash on kid). The keyring points into the ts_conf it
 * was made from, which must outlive it.
 */
#ifndef TS_KEYRING_H
#define TS_KEYRING_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "conf.h"
#include "key.h"
#include "safe_file.h"

typedef struct ts_binding {
	size_t issuer_idx; /* into ts_conf.issuers */
	char *kid; /* NULL: the key has no kid */
	size_t kid_len;
	/* the JWK's own "issuer" (Entra publishes one per key, "{tenantid}"
	 * standing for the token's tid): the key verifies only tokens of that
	 * issuer. NULL when the key file does not say. */
	char *key_issuer;
	ts_key *key;
	time_t not_before, not_after; /* 0 / TS_TIME_NO_END when unbounded */
	const char *source; /* the key file path (owned by the conf) */
	/* the ints together: no padding (a host with 2,000 tenant sections
	 * holds 20,000 bindings) */
	/* key_issuer can never be this section's issuer (a literal for another
	 * issuer, or a template whose fixed parts differ): verifies nothing,
	 * and does not count as a usable key for K2 */
	int other_issuer;
	int revoked; /* K6: thumbprint on the revoked list */
	/* K11: a newer, broken config no longer names this key (its key line
	 * or its file is gone, or its file no longer holds it): it verifies
	 * nothing and is not found */
	int removed;
	int line; /* the key line in the config */
} ts_binding;

typedef struct ts_keyring ts_keyring;

/* A binding's not_after when nothing ends it: the largest time_t, so that
 * "now < not_after" always holds. */
#define TS_TIME_NO_END ((time_t)((~(uint64_t)0) >> 1))

/* Whether a key may verify now, and if not, why: the one answer the
 * decision (K5, K6, K11), the keyless lookup (K2) and `tokenscope keys`
 * share. Checked in this order; only ACTIVE and EXPIRING may verify. */
typedef enum ts_key_status {
	TS_KEY_ACTIVE,
	TS_KEY_EXPIRING, /* active, ending within TS_EXPIRING_SOON */
	TS_KEY_REMOVED, /* K11: a newer, broken config no longer names it */
	TS_KEY_REVOKED, /* K6 */
	TS_KEY_NOT_YET_VALID, /* K5 */
	TS_KEY_EXPIRED, /* K5 */
} ts_key_status;
ts_key_status ts_binding_status(const ts_binding *b, time_t now);

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
 * fix of the broken file is noticed). K15: prev (NULL: none) is the last
 * good keyring; a key file it parsed alike that has not changed since is
 * shared with it, not read again. seen (NULL or empty: none) holds the
 * identities the change check that started this load found: a file named
 * there is not examined again. */
ts_reason ts_keyring_load(const ts_conf *c, const ts_keyring *prev, const ts_filelist *seen,
    ts_keyring **out, ts_filelist *files, ts_err *e);
void ts_keyring_free(ts_keyring *kr);
/* K15: on, every key of a load is checked fully at once (the admin
 * command); off (the default), a JWK's EVP key and the checks on it wait
 * for its first verification in this process. Process-wide. */
void ts_keyring_check_at_load(int on);

/* K11: what a failed reload still applies. A copy of good (whose keys it
 * borrows: good must outlive it) less what the current files take away:
 * bindings whose [issuer] key line is not in names (the current config,
 * read leniently; NULL when it is there but cannot be read safely, which
 * takes every key away), whose key file is gone, or whose file, where it
 * still parses, no longer holds the key; plus every well-formed thumbprint
 * of the revoked-key list (the one names gives, else c's). When that list
 * cannot be read, the copy refuses every token
 * (ts_keyring_revocations_unknown). c is good's configuration. Files read
 * are appended to *files. *removed and *revoked count what changed;
 * revoke_err gets an error of the revoked-key list ("" when none). */
ts_reason ts_keyring_take_away(const ts_keyring *good, const ts_conf *c, const ts_conf_names *names,
    ts_keyring **out, ts_filelist *files, size_t *removed, size_t *revoked, ts_err *revoke_err);
/* 1 when the revoked-key list could not be read: no key may be trusted. */
int ts_keyring_revocations_unknown(const ts_keyring *kr);

/* 1 when the key may verify a token of issuer (iss, iss_len) whose tid
 * claim is (tid, tid_len) (tid NULL when absent): always when the key names
 * no issuer of its own; otherwise its issuer, with each "{tenantid}"
 * replaced by the non-empty tid, must equal iss byte for byte. */
int ts_binding_issuer_ok(
    const ts_binding *b, const char *iss, size_t iss_len, const char *tid, size_t tid_len);
/* The same rule for a key issuer string (fetch-keys uses it too). */
int ts_key_issuer_match(
    const char *key_issuer, const char *iss, size_t iss_len, const char *tid, size_t tid_len);
/* 1 when a key with this own issuer can verify some token of section is:
 * "{tenantid}" filled with the section's tenant, or, without one, with
 * what the section's issuer has in its place. */
int ts_key_issuer_fits(const char *key_issuer, const ts_issuer_conf *is);

/* The binding for (issuer, kid), or NULL. */
const ts_binding *ts_keyring_find(
    const ts_keyring *kr, size_t issuer_idx, const char *kid, size_t kid_len);
/* M7, K15: the binding ts_keyring_find would give, without making the
 * section when it is not made yet (a refused token must not make every
 * section of the process): then *tmp is filled and returned. */
const ts_binding *ts_keyring_peek(
    const ts_keyring *kr, size_t issuer_idx, const char *kid, size_t kid_len, ts_binding *tmp);
/* For a token without kid (K2): the issuer's only usable key at `now`.
 * Returns NULL and *count = number of usable keys when that is not 1. */
const ts_binding *ts_keyring_only_key(
    const ts_keyring *kr, size_t issuer_idx, time_t now, size_t *count);

/* M7: the bindings of one issuer section (a run of ts_keyring_get), *n of
 * them; NULL when it has none. */
const ts_binding *ts_keyring_issuer_keys(const ts_keyring *kr, size_t issuer_idx, size_t *n);

/* K5: warn(arg, b) for each key whose window ends within TS_EXPIRING_SOON
 * of now and that is not revoked, without making any section's bindings
 * (b may be a temporary: valid during the call only). */
void ts_keyring_each_expiring(
    const ts_keyring *kr, time_t now, void (*warn)(void *, const ts_binding *), void *arg);

/* K15: after a lookup in section i found nothing, why, when the keyring
 * rather than the token is the cause: TS_R_CONFIG_ERROR when a key file of
 * the section failed the parse that waited for its first use (a process's
 * first load reads key files and parses each when a section naming it is
 * first used), e getting "conf:line: [issuer] path: message" and *first
 * 1 the first time that file's failure is asked about in this process (to
 * log it once); TS_R_INTERNAL when the parse or the section failed for
 * want of memory or of OpenSSL; TS_OK otherwise. */
ts_reason ts_keyring_section_failed(const ts_keyring *kr, size_t i, ts_err *e, int *first);
/* K5, K15: whether a file of section i was parsed at its first use and
 * its keys not yet warned about (cheap: for every decision); then
 * ts_keyring_warn_first_use calls warn as ts_keyring_each_expiring does,
 * for those files' keys, once per file. */
int ts_keyring_first_use_pending(const ts_keyring *kr, size_t i);
void ts_keyring_warn_first_use(const ts_keyring *kr, size_t i, time_t now,
    void (*warn)(void *, const ts_binding *), void *arg);

/* K15: how many sections have their bindings made, and whether section i
 * has (tests, the bench); neither makes one. */
size_t ts_keyring_sections_made(const ts_keyring *kr);
/* K15: how many of its *total key files have had their parse (whether it
 * succeeded or not), parsing none (tests, the bench). */
size_t ts_keyring_files_parsed(const ts_keyring *kr, size_t *total);
int ts_keyring_section_made(const ts_keyring *kr, size_t i);

/* All bindings, grouped by issuer in config order. ts_keyring_get makes
 * the section that holds binding i (see K15 above); NULL only when out of
 * memory. */
size_t ts_keyring_count(const ts_keyring *kr);
const ts_binding *ts_keyring_get(const ts_keyring *kr, size_t i);

void ts_filelist_free(ts_filelist *f);
int ts_filelist_add(ts_filelist *f, const char *path, const ts_file_id *id);

#endif
