/*
 * safe_file.h: reading configuration, key and secret files safely (M2).
 *
 * Opened with O_NOFOLLOW | O_CLOEXEC, then checked on the descriptor with
 * fstat: a regular file, owned by root, not group- or world-writable, and
 * within a size cap. Secret files must also not be readable by group or
 * others (K8).
 *
 * Owned by root and nobody else: a SASL plugin runs inside a process of a
 * service account (postfix, cyrus), which must not be able to rewrite its
 * own trust anchors. The one exception is the test hook: with
 * TOKENSCOPE_TEST_OWN_FILES=1 in the environment (the test suite and the
 * bench set it, so that they run as any user), files owned by the effective
 * user are accepted too. It is read with secure_getenv, so set-user-ID and
 * other AT_SECURE programs ignore it; whoever sets the environment of any
 * other process could LD_PRELOAD into it anyway.
 */
#ifndef TS_SAFE_FILE_H
#define TS_SAFE_FILE_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "err.h"

#define TS_FILE_SECRET 0x1u /* mode must be 0600 or stricter */

/* What identifies one version of a file: a change in any field means the
 * file was replaced or edited. exists = 0 when stat failed. */
typedef struct ts_file_id {
	int exists;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	struct timespec ctime;
	mode_t mode; /* informational: not compared (chmod changes ctime) */
} ts_file_id;

/* Reads the whole file into a NUL-terminated malloc'ed buffer (*buf, *len).
 * On error returns TS_R_CONFIG_ERROR with e->msg "PATH: reason". *id gets
 * the identity of the file actually read (from fstat). */
ts_reason ts_read_file(const char *path, size_t max_size, unsigned flags, char **buf, size_t *len,
    ts_file_id *id, ts_err *e);
/* The same into a buffer from get(arg, size) (the file's size + 1) instead
 * of malloc; NULL from get fails as out of memory. On a later failure the
 * buffer is left as it is, for the getter's owner to drop. */
ts_reason ts_read_file_with(const char *path, size_t max_size, unsigned flags,
    char *(*get)(void *, size_t), void *arg, char **buf, size_t *len, ts_file_id *id, ts_err *e);

/* 1 when path cannot be reached at all (missing, a directory on the way
 * missing or not searchable, permission denied): a process that chrooted or
 * dropped privileges sees this for every file. 0 when it can be opened,
 * whether or not it is safe. */
int ts_file_out_of_reach(const char *path);

/* K13: holds the directory of path (O_PATH, close-on-exec) so that the
 * file can still be opened and checked for changes after the process
 * chroots: from then on every path of this file is resolved under the
 * directory held for it, and a path whose directory was not held is out of
 * reach, with an error message that says why and what to do. Does nothing
 * once the process has chrooted, for "/" itself, for a directory already
 * held, or past 32 directories. Without a chroot nothing changes: paths
 * are opened as given. */
void ts_pin_dir_of(const char *path);
/* The held directories belong to the contexts alive: each context holds
 * them from its creation to its free, and the last free closes them (a
 * SASL plugin is unloaded by sasl_server_done, and with it this storage). */
void ts_pins_hold(void);
void ts_pins_release(void);
/* 1 when path is out of reach because the process chrooted and its
 * directory was not held (see ts_pin_dir_of). */
int ts_file_lost(const char *path);

/* 1 when a file or directory owned by uid may hold configuration, keys or
 * the replay cache: root, or the effective user under the test hook. */
int ts_owner_ok(uid_t uid);

/* K13: the files of one change check or one load, examined by one thread:
 * whether the process has chrooted is found once at the start (a root
 * changing in the middle of a pass would leave it half read either way).
 * Nested passes count; each begin needs its end. */
void ts_file_batch_begin(void);
void ts_file_batch_end(void);

/* Identity by stat(2) on the path (following nothing: lstat). */
void ts_file_id_of(const char *path, ts_file_id *id);
int ts_file_id_equal(const ts_file_id *a, const ts_file_id *b);

#endif
