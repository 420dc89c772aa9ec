/* safe_file.c: safe opening of config and key files (see safe_file.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "safe_file.h"

#define TS_OPEN_FLAGS (O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)

/* K13: the directories of the files a context read while the process still
 * had its first root directory, held as O_PATH descriptors so that the
 * same files can be reached after the process chroots (Postfix's smtpd).
 * Process-wide, like the root directory itself. */
#define PIN_MAX 32
static pthread_mutex_t pin_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pin {
	char *dir;
	int fd;
	dev_t dev; /* of the directory at pin time: a descriptor the host */
	ino_t ino; /* closed and reused for something else is not used */
} pins[PIN_MAX];
static size_t npins, users;
static int root_known;
static dev_t root_dev;
static ino_t root_ino;

/* How one path is reached now. */
typedef struct where {
	int dirfd; /* AT_FDCWD: the plain path */
	const char *name; /* path, or its last component under a pin */
	int lost; /* chrooted, and its directory was never pinned */
} where;

/* 1 when "/" is no longer the root directory seen at the first pin. */
static int
chrooted_now(void)
{
	struct stat st;

	if (!root_known)
		return 0;
	/* a root that cannot be examined at all is not the one pinned at */
	return stat("/", &st) != 0 || st.st_dev != root_dev || st.st_ino != root_ino;
}

/* A change check or a load examines each of its files: the root once per
 * file doubled their cost (a stat of "/" beside each). Within one pass of
 * one thread the root is examined once (see ts_file_batch_begin). */
static __thread int batch_depth, batch_chrooted;

void
ts_file_batch_begin(void)
{
	/* the root pinned at is written under pin_lock by other contexts'
	 * loads (a PAM process may hold several) */
	if (batch_depth++ == 0) {
		pthread_mutex_lock(&pin_lock);
		batch_chrooted = chrooted_now();
		pthread_mutex_unlock(&pin_lock);
	}
}

void
ts_file_batch_end(void)
{
	if (batch_depth > 0)
		batch_depth--;
}

static int
chrooted(void)
{
	return batch_depth > 0 ? batch_chrooted : chrooted_now();
}

/* The directory part of path in dir[cap] ("." for a bare name); -1 when it
 * does not fit. */
static int
dir_of(const char *path, char *dir, size_t cap, const char **base)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	if (slash == NULL) {
		*base = path;
		return snprintf(dir, cap, ".") >= (int)cap ? -1 : 0;
	}
	*base = slash + 1;
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= cap)
		return -1;
	memcpy(dir, path, n);
	dir[n] = '\0';
	return 0;
}

void
ts_pins_hold(void)
{
	pthread_mutex_lock(&pin_lock);
	users++;
	pthread_mutex_unlock(&pin_lock);
}

void
ts_pins_release(void)
{
	size_t i;

	pthread_mutex_lock(&pin_lock);
	if (users > 0 && --users == 0) {
		for (i = 0; i < npins; i++) {
			close(pins[i].fd);
			free(pins[i].dir);
		}
		npins = 0;
		root_known = 0;
	}
	pthread_mutex_unlock(&pin_lock);
}

void
ts_pin_dir_of(const char *path)
{
	char dir[4096];
	const char *base;
	struct stat st;
	size_t i;
	int fd;

	pthread_mutex_lock(&pin_lock);
	if (chrooted() || dir_of(path, dir, sizeof(dir), &base) != 0)
		goto out;
	/* never "/" itself: a descriptor of the whole tree would undo any
	 * chroot; a file right under "/" is simply not reachable after one */
	if (strcmp(dir, "/") == 0 || npins == PIN_MAX)
		goto out;
	for (i = 0; i < npins; i++)
		if (strcmp(pins[i].dir, dir) == 0)
			goto out;
	if (!root_known) {
		if (stat("/", &st) != 0)
			goto out;
		root_dev = st.st_dev;
		root_ino = st.st_ino;
		root_known = 1;
	}
	/* O_PATH: the descriptor grants nothing by itself, neither reading
	 * nor listing; every open through it is checked as usual */
	if ((fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		goto out;
	/* "/" under another name ("." in a daemon whose cwd is "/", a link)
	 * is "/" all the same */
	if (fstat(fd, &st) != 0 || (st.st_dev == root_dev && st.st_ino == root_ino) ||
	    (pins[npins].dir = strdup(dir)) == NULL) {
		close(fd);
		goto out;
	}
	pins[npins].fd = fd;
	pins[npins].dev = st.st_dev;
	pins[npins].ino = st.st_ino;
	npins++;
out:
	pthread_mutex_unlock(&pin_lock);
}

/* Where path is to be opened: the plain path unless the process changed
 * its root since the first pin, then under its directory's pin. */
static where
locate(const char *path)
{
	where w = { AT_FDCWD, path, 0 };
	char dir[4096];
	const char *base;
	struct stat st;
	size_t i;

	pthread_mutex_lock(&pin_lock);
	if (!chrooted())
		goto out;
	w.lost = 1;
	if (dir_of(path, dir, sizeof(dir), &base) != 0 || base[0] == '\0' ||
	    strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		goto out;
	for (i = 0; i < npins; i++)
		if (strcmp(pins[i].dir, dir) == 0 && fstat(pins[i].fd, &st) == 0 &&
		    S_ISDIR(st.st_mode) && st.st_dev == pins[i].dev && st.st_ino == pins[i].ino) {
			w.dirfd = pins[i].fd;
			w.name = base;
			w.lost = 0;
			break;
		}
out:
	pthread_mutex_unlock(&pin_lock);
	return w;
}

/* Opens what locate found. Under a pin, openat2 confines the lookup to the
 * pinned directory (no "..", no symbolic or magic links) where the kernel
 * has it; elsewhere openat with O_NOFOLLOW on a name without a slash does
 * the same. */
static int
open_at(const where *w)
{
	struct open_how how;
	int fd;

	if (w->lost) {
		errno = ENOENT;
		return -1;
	}
	if (w->dirfd == AT_FDCWD)
		return open(w->name, TS_OPEN_FLAGS);
	memset(&how, 0, sizeof(how));
	how.flags = TS_OPEN_FLAGS;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
	fd = (int)syscall(SYS_openat2, w->dirfd, w->name, &how, sizeof(how));
	if (fd < 0 && (errno == ENOSYS || errno == EPERM))
		fd = openat(w->dirfd, w->name, TS_OPEN_FLAGS);
	return fd;
}

static const char *
lost_hint(const where *w)
{
	return w->lost ? " (out of reach since a chroot)" : "";
}

int
ts_file_lost(const char *path)
{
	return locate(path).lost;
}

static void
id_from_stat(const struct stat *st, ts_file_id *id)
{
	memset(id, 0, sizeof(*id));
	id->exists = 1;
	id->dev = st->st_dev;
	id->ino = st->st_ino;
	id->size = st->st_size;
	id->mtime = st->st_mtim;
	id->ctime = st->st_ctim;
	id->mode = st->st_mode;
}

void
ts_file_id_of(const char *path, ts_file_id *id)
{
	struct stat st;
	where w = locate(path);

	if (w.lost || fstatat(w.dirfd, w.name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		memset(id, 0, sizeof(*id));
		return;
	}
	id_from_stat(&st, id);
}

int
ts_owner_ok(uid_t uid)
{
	const char *hook;

	if (uid == 0)
		return 1;
	hook = secure_getenv("TOKENSCOPE_TEST_OWN_FILES");
	return hook != NULL && strcmp(hook, "1") == 0 && uid == geteuid();
}

int
ts_file_out_of_reach(const char *path)
{
	where w = locate(path);
	int fd = open_at(&w);

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	return errno == ENOENT || errno == ENOTDIR || errno == EACCES || errno == EPERM;
}

int
ts_file_id_equal(const ts_file_id *a, const ts_file_id *b)
{
	return a->exists == b->exists && a->dev == b->dev && a->ino == b->ino &&
	    a->size == b->size && a->mtime.tv_sec == b->mtime.tv_sec &&
	    a->mtime.tv_nsec == b->mtime.tv_nsec && a->ctime.tv_sec == b->ctime.tv_sec &&
	    a->ctime.tv_nsec == b->ctime.tv_nsec;
}

/* Why path could not be opened. A refusal names the uid that was refused
 * and, when the file can be seen, its owner and mode: the process is often
 * a daemon's unprivileged worker (Postfix's smtpd, Dovecot's auth-worker),
 * not the root an administrator tested as. */
static ts_reason
open_failed(const char *path, int err, const where *w, ts_err *e)
{
	struct stat st;

	if (err == ELOOP || err == EXDEV)
		return ts_fail(e, TS_R_CONFIG_ERROR,
		    "%s: cannot open: %s (symbolic links are not followed)%s", path, strerror(err),
		    lost_hint(w));
	if (w->lost || (err != EACCES && err != EPERM))
		return ts_fail(e, TS_R_CONFIG_ERROR, "%s: cannot open: %s%s", path, strerror(err),
		    lost_hint(w));
	if (fstatat(w->dirfd, w->name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return ts_fail(e, TS_R_CONFIG_ERROR,
		    "%s: cannot open: %s (as uid %ld; a directory above it is not searchable)",
		    path, strerror(err), (long)geteuid());
	return ts_fail(e, TS_R_CONFIG_ERROR,
	    "%s: cannot open: %s (as uid %ld; the file is owned by uid %ld, mode %04o)", path,
	    strerror(err), (long)geteuid(), (long)st.st_uid, (unsigned)(st.st_mode & 07777));
}

static char *
with_malloc(void *arg, size_t size)
{
	(void)arg;
	return malloc(size);
}

ts_reason
ts_read_file(const char *path, size_t max_size, unsigned flags, char **buf, size_t *len,
    ts_file_id *id, ts_err *e)
{
	return ts_read_file_with(path, max_size, flags, with_malloc, NULL, buf, len, id, e);
}

ts_reason
ts_read_file_with(const char *path, size_t max_size, unsigned flags, char *(*get)(void *, size_t),
    void *arg, char **buf, size_t *len, ts_file_id *id, ts_err *e)
{
	struct stat st;
	char *b = NULL;
	size_t got = 0;
	ssize_t n;
	int fd;
	ts_reason r = TS_R_CONFIG_ERROR;
	where w = locate(path);

	*buf = NULL;
	*len = 0;
	if ((fd = open_at(&w)) < 0)
		return open_failed(path, errno, &w, e);
	if (fstat(fd, &st) != 0) {
		ts_fail(e, r, "%s: cannot stat: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ts_fail(e, r, "%s: not a regular file", path);
		goto out;
	}
	if (!ts_owner_ok(st.st_uid)) {
		ts_fail(e, r, "%s: owned by uid %ld, must be owned by root", path, (long)st.st_uid);
		goto out;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		ts_fail(e, r, "%s: group- or world-writable (mode %04o)", path,
		    (unsigned)(st.st_mode & 07777));
		goto out;
	}
	if ((flags & TS_FILE_SECRET) && (st.st_mode & (S_IRWXG | S_IRWXO))) {
		ts_fail(e, r, "%s: holds a secret, so its mode must be 0600 (is %04o)", path,
		    (unsigned)(st.st_mode & 07777));
		goto out;
	}
	if (st.st_size < 0 || (size_t)st.st_size > max_size) {
		ts_fail(e, r, "%s: larger than %zu bytes", path, max_size);
		goto out;
	}
	if ((b = get(arg, (size_t)st.st_size + 1)) == NULL) {
		r = ts_fail(e, TS_R_INTERNAL, "%s: out of memory", path);
		goto out;
	}
	/* read exactly what fstat promised; a file growing meanwhile is an
	 * edit in progress and will be seen as changed again */
	while (got < (size_t)st.st_size) {
		n = read(fd, b + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ts_fail(e, r, "%s: read failed", path);
			goto out;
		}
		got += (size_t)n;
	}
	b[got] = '\0';
	*buf = b;
	*len = got;
	b = NULL; /* transferred */
	if (id != NULL)
		id_from_stat(&st, id);
	r = TS_OK;
out:
	/* a buffer of the caller's getter is the caller's to drop */
	if (b != NULL && get == with_malloc)
		ts_freezero(b, (size_t)st.st_size + 1);
	close(fd);
	return r;
}
