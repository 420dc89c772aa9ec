/* fetchreq.c: leaving a fetch request in the spool (see fetchreq.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "fetchreq.h"
#include "safe_file.h"

int
ts_fetchreq_name_ok(const char *name)
{
	size_t n = 0;

	for (; name[n] != '\0'; n++)
		if (!(name[n] >= 'a' && name[n] <= 'z') && !(name[n] >= 'A' && name[n] <= 'Z') &&
		    !(name[n] >= '0' && name[n] <= '9') && strchr("._-", name[n]) == NULL)
			return 0;
	return n > 0 && n <= TS_NAME_MAX && name[0] != '.';
}

int
ts_fetchreq_note(const char *spool, const char *name)
{
	struct stat st;
	int dfd, fd, pending = 0;

	if (spool == NULL || !ts_fetchreq_name_ok(name))
		return 0;
	/* O_PATH: a service account may search the spool (mode 1733) but not
	 * read it, so that it cannot learn which issuers others asked for */
	if ((dfd = open(spool, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return 0;
	/* a spool others may write in is only safe when sticky: otherwise one
	 * account could remove or replace what another left */
	if (fstat(dfd, &st) != 0 || !S_ISDIR(st.st_mode) || !ts_owner_ok(st.st_uid) ||
	    ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 && (st.st_mode & S_ISVTX) == 0)) {
		close(dfd);
		return 0;
	}
	/* O_EXCL: never opens what is there (a link, a fifo someone made);
	 * EEXIST is a request already pending, which is all this is */
	fd = openat(
	    dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
	if (fd >= 0) {
		pending = 1;
		close(fd);
	} else if (errno == EEXIST) {
		pending = 1;
	}
	close(dfd);
	return pending;
}
