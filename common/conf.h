/*
 * conf.h: the tokenscope.conf file (format: tokenscope.conf(5), DESIGN.md).
 *
 * Parsing is strict: unknown settings, duplicate sections or settings, bad
 * values and unsafe files are errors reported as "file:line: message", and
 * an error means the whole configuration is refused (fail closed). The same
 * parser serves the PAM module, the SASL plugin and `tokenscope`.
 */
#ifndef TS_CONF_H
#define TS_CONF_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "alg.h"
#include "arena.h"
#include "err.h"
#include "tokenscope.h"

#define TS_CONF_MAX_SIZE (1024 * 1024)
#define TS_NAME_MAX 64
/* C8: longest groups_claim path, in bytes */
#define TS_CLAIM_PATH_MAX 256

typedef struct ts_strlist {
	char **v;
	size_t n;
	/* the strings are not the list's: they are words of a setting's
	 * value, in the memory of the ts_conf holding the list */
	int borrowed;
} ts_strlist;

typedef enum ts_token_type {
	TS_TYP_AT_JWT = 0, /* RFC 9068: typ at+jwt required */
	TS_TYP_JWT, /* untyped issuer: ID tokens refused by content */
} ts_token_type;

typedef struct ts_keyspec {
	char *path; /* absolute */
	char *kid; /* NULL: from the file (JWK) or none */
	ts_alg alg; /* TS_ALG_INVALID: from the file or inferred */
	time_t not_before, not_after;
	int has_not_before, has_not_after;
	int line;
} ts_keyspec;

typedef struct ts_issuer_conf {
	char *name;
	char *issuer; /* compared byte for byte (K3) */
	size_t issuer_len;
	ts_keyspec *keys;
	size_t nkeys;
	unsigned algorithms; /* bit (1 << ts_alg) */
	ts_token_type token_type;
	char *tenant; /* NULL: not checked */
	/* K16: issuer holds "{tenantid}" once and stands for one issuer per
	 * listed tenant (tenants.h); the list is sorted once loaded */
	int templated;
	size_t tpl_pre, tpl_suf; /* issuer bytes before and after it */
	ts_strlist tenants;
	char *tenants_file; /* the list's file (absolute), NULL when inline */
	int tenants_line;
	ts_strlist clients; /* empty: not checked */
	char *username_claim; /* default "sub" */
	char *strip_domain; /* NULL: none */
	long max_lifetime;
	time_t revoke_before;
	int has_revoke_before;
	/* an audience equal to the client (azp or a configured client) is not
	 * by itself the mark of an ID token: for providers whose access tokens
	 * carry the client as audience (Authentik, Dex) */
	int accept_client_audience;
	/* where `tokenscope fetch-keys` gets this issuer's keys (at most one
	 * set; never read by the modules) */
	char *discovery, *jwks_uri;
	/* C8: where this provider puts groups or roles, each a member path
	 * ("realm_access.roles") or a whole claim name holding "://" */
	ts_strlist groups_claims;
	/* C10: the map file (absolute path, NULL: none), loaded with the state */
	char *user_map;
	int user_map_required;
	struct ts_usermap *umap;
	int line;
} ts_issuer_conf;

typedef struct ts_service_conf {
	char *name;
	ts_strlist issuers; /* section names */
	size_t *issuer_idx; /* resolved, same order */
	ts_strlist audiences;
	ts_strlist required_scopes;
	ts_strlist required_groups, denied_groups; /* C8: any of / none of */
	ts_strlist required_acr, required_amr; /* C9: one of / all of */
	long max_auth_age; /* C9: seconds; 0 = not checked */
	char *user_map; /* C10: overrides the issuer's map */
	int user_map_required;
	struct ts_usermap *umap;
	ts_strlist allowed_users, denied_users; /* C11 */
	int allow_root; /* C11: root (uid 0) may be the local user */
	int line;
} ts_service_conf;

typedef struct ts_conf {
	char *path;
	char *dir;
	long clock_skew;
	size_t max_token_size;
	char *revoked_keys; /* absolute path or NULL */
	char *approved_keys; /* for fetch-keys --pin; NULL: CONFDIR/approved-keys */
	int log_debug;
	int log_json; /* M8: log_format = json */
	char *replay_cache; /* absolute path or NULL */
	long reload_interval; /* seconds between change checks; 0 = every time */
	/* K14: where the login path leaves fetch requests (NULL: off), and how
	 * often `tokenscope fetch-keys --requested` fetches one issuer at most;
	 * fetch_state: last fetch per issuer (NULL: CONFDIR/fetch-state) */
	char *fetch_spool;
	long fetch_interval;
	char *fetch_state;
	ts_issuer_conf *issuers;
	size_t nissuers;
	ts_service_conf *services;
	size_t nservices;
	/* C11: the names with uid 0 in the local account file, read with the
	 * state (usermap.c), never per decision */
	ts_strlist root_names;
	/* the file's bytes and every string the parser made: the strings
	 * above point into it, and none is freed on its own */
	ts_arena mem;
} ts_conf;

/* Reads and checks path. On error returns TS_R_CONFIG_ERROR with
 * e->msg "file:line: message" and *out NULL. *id (may be NULL) gets the
 * file identity for change detection. */
struct ts_file_id;
ts_reason ts_conf_load(const char *path, ts_conf **out, struct ts_file_id *id, ts_err *e);
/* The same, from buf (len bytes, no NUL among them), which is copied;
 * path names the file in messages and anchors relative paths. */
ts_reason ts_conf_parse(const char *path, const char *buf, size_t len, ts_conf **out, ts_err *e);
void ts_conf_free(ts_conf *c);

const ts_service_conf *ts_conf_service(const ts_conf *c, const char *name);

typedef enum ts_conf_section {
	TS_CONF_GLOBAL = 1,
	TS_CONF_ISSUER,
	TS_CONF_SERVICE,
} ts_conf_section;

/* Prints the settings of one section (idx: which issuer or service; not
 * used for global) as "name = value" lines, from the same table the parser
 * reads them by: for `tokenscope check-config -n`. Settings left unset
 * print nothing; key lines are the keyring's to show. */
void ts_conf_dump(FILE *f, const ts_conf *c, ts_conf_section sec, size_t idx);

/* What a config file still names, read leniently, line by line, past any
 * error: for K11, so that a broken config takes away what it no longer
 * names. Never used to add trust. */
typedef struct ts_conf_names {
	char **issuer; /* [issuer NAME] of each key line */
	char **path; /* its key file, absolute */
	size_t n;
	char *revoked_keys; /* the [global] revoked_keys file, or NULL */
	/* well-formed revoke_before lines: [issuer NAME] and time */
	char **rb_issuer;
	time_t *rb_time;
	size_t nrb;
	/* K16: each tenants line, [issuer NAME] and value (a file made
	 * absolute, or the tenant IDs) */
	char **tn_issuer, **tn_value;
	size_t ntn;
} ts_conf_names;

/* Reads path (a safe file, as ts_conf_load) and fills *out; relative paths
 * resolve against dir. Returns TS_R_CONFIG_ERROR when the file cannot be
 * read at all (then *out is empty), TS_R_INTERNAL when out of memory. *id
 * (may be NULL) gets the file identity. */
ts_reason ts_conf_scan_names(
    const char *path, const char *dir, ts_conf_names *out, struct ts_file_id *id, ts_err *e);
/* The same from a NUL-terminated buffer of len bytes, modified in place. */
ts_reason ts_conf_scan_buf(char *buf, size_t len, const char *dir, ts_conf_names *out);
void ts_conf_names_free(ts_conf_names *n);

/* Strips spaces and tabs around s (and a CR at its end), in place; for the
 * two readers of the file format, strict and lenient. */
char *ts_conf_trim(char *s);

#endif
