/*
 * usermap.h: a user map file (C10) and the local account file (C11): "claim-value local-user" a line, read
 * with the safe-file rules of key files and loaded with the state, so that
 * an edit is picked up like a key file's and a broken map keeps the last
 * good state. Internal to the core.
 */
#ifndef TS_USERMAP_H
#define TS_USERMAP_H

#include <stddef.h>

#include "conf.h"
#include "err.h"
#include "keyring.h"

/* Largest map file read, in bytes. */
#define TS_USERMAP_MAX_SIZE (16 * 1024 * 1024)
/* the account file read for the uid-0 names (C11) */
#define TS_PASSWD_MAX_SIZE (16 * 1024 * 1024)

typedef struct ts_usermap ts_usermap;

/* Reads path into *out. Each value must be a C6 username; a duplicate
 * claim value, an extra or missing field and an unsafe file are errors
 * (TS_R_CONFIG_ERROR, e->msg "path:line: message"). The file read is
 * appended to *files, even on error. */
ts_reason ts_usermap_load(const char *path, ts_usermap **out, ts_filelist *files, ts_err *e);
/* The local user mapped to the claim value (s, len), or NULL. */
const char *ts_usermap_find(const ts_usermap *m, const char *s, size_t len);
size_t ts_usermap_count(const ts_usermap *m);
void ts_usermap_free(ts_usermap *m);

/* Loads the map of every section of c that names one. */
ts_reason ts_usermaps_load(ts_conf *c, ts_filelist *files, ts_err *e);

/* The local account file C11 reads uid-0 names from. */
#define TS_PASSWD_FILE "/etc/passwd"

/* C11: c->root_names gets every name with uid 0 in path (TS_PASSWD_FILE),
 * read once with the state and watched for changes like a key file (the
 * file is appended to *files). Not NSS: NSS may ask a directory server or
 * a daemon's socket, and loading, like deciding, touches no network. A
 * missing file (a chroot) names none; an unreadable one is an error. */
ts_reason ts_root_names_load(ts_conf *c, const char *path, ts_filelist *files, ts_err *e);

#endif
