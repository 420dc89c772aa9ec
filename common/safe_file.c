/* safe_file.c: safe opening of config and key files (see safe_file.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safe_file.h"

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

	if (lstat(path, &st) != 0) {
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
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

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
open_failed(const char *path, int err, ts_err *e)
{
	struct stat st;

	if (err == ELOOP)
		return ts_fail(e, TS_R_CONFIG_ERROR,
		    "%s: cannot open: %s (symbolic links are not followed)", path, strerror(err));
	if (err != EACCES && err != EPERM)
		return ts_fail(e, TS_R_CONFIG_ERROR, "%s: cannot open: %s", path, strerror(err));
	if (lstat(path, &st) != 0)
		return ts_fail(e, TS_R_CONFIG_ERROR,
		    "%s: cannot open: %s (as uid %ld; a directory above it is not searchable)",
		    path, strerror(err), (long)geteuid());
	return ts_fail(e, TS_R_CONFIG_ERROR,
	    "%s: cannot open: %s (as uid %ld; the file is owned by uid %ld, mode %04o)", path,
	    strerror(err), (long)geteuid(), (long)st.st_uid, (unsigned)(st.st_mode & 07777));
}

ts_reason
ts_read_file(const char *path, size_t max_size, unsigned flags, char **buf, size_t *len,
    ts_file_id *id, ts_err *e)
{
	struct stat st;
	char *b = NULL;
	size_t got = 0;
	ssize_t n;
	int fd;
	ts_reason r = TS_R_CONFIG_ERROR;

	*buf = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0)
		return open_failed(path, errno, e);
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
	if ((b = malloc((size_t)st.st_size + 1)) == NULL) {
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
	if (b != NULL)
		ts_freezero(b, (size_t)st.st_size + 1);
	close(fd);
	return r;
}
