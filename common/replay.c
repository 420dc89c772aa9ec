/* replay.c: the replay cache (see replay.h). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "replay.h"
#include "safe_file.h"

static ts_reason
check_dir(const char *dir, ts_err *e)
{
	struct stat st;

	if (lstat(dir, &st) != 0)
		return ts_fail(e, TS_R_CONFIG_ERROR, "replay_cache %s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode) || !ts_owner_ok(st.st_uid) || (st.st_mode & 077) != 0)
		return ts_fail(e, TS_R_CONFIG_ERROR,
		    "replay_cache %s: must be a directory owned by root with mode 0700", dir);
	return TS_OK;
}

ts_reason
ts_replay_check(const char *dir, const char *iss, size_t iss_len, const char *jti, size_t jti_len,
    long long exp, long skew, time_t now, ts_err *e)
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	char path[4096], name[65];
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	struct timespec ts[2];
	int fd, i, ok;
	ts_reason r;

	if (c == NULL)
		return ts_fail(e, TS_R_INTERNAL, "out of memory");
	/* length-prefixed, so ("ab","c") and ("a","bc") differ */
	ok = EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(c, &iss_len, sizeof(iss_len)) == 1 &&
	    EVP_DigestUpdate(c, iss, iss_len) == 1 &&
	    EVP_DigestUpdate(c, &jti_len, sizeof(jti_len)) == 1 &&
	    EVP_DigestUpdate(c, jti, jti_len) == 1 && EVP_DigestFinal_ex(c, md, &mdlen) == 1;
	EVP_MD_CTX_free(c);
	if (!ok)
		return ts_fail(e, TS_R_INTERNAL, "hash failure");
	if ((r = check_dir(dir, e)) != TS_OK)
		return r;
	for (i = 0; i < 32; i++)
		snprintf(name + 2 * i, 3, "%02x", md[i]);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST)
		return ts_fail(e, TS_R_REPLAYED, "token (iss, jti) was already used");
	if (fd < 0)
		return ts_fail(e, TS_R_CONFIG_ERROR, "replay_cache %s: %s", dir, strerror(errno));
	/* mtime = exp + this configuration's skew, the moment it stops
	 * accepting the token: the sweep needs neither file contents nor the
	 * skew of whoever recorded the entry */
	ts[0].tv_sec = now;
	ts[0].tv_nsec = 0;
	ts[1].tv_sec = (time_t)(exp > LLONG_MAX - skew ? exp : exp + skew);
	ts[1].tv_nsec = 0;
	(void)futimens(fd, ts);
	close(fd);
	return TS_OK;
}

long
ts_replay_sweep(const char *dir, time_t now)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	struct stat st;
	long n = 0;
	int dfd;

	if (d == NULL)
		return -1;
	dfd = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		if (strlen(de->d_name) != 64)
			continue;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
			continue;
		/* the configuration that recorded it refuses this token as
		 * expired by now, so its entry cannot matter any more */
		if (st.st_mtime + 60 < now && unlinkat(dfd, de->d_name, 0) == 0)
			n++;
	}
	closedir(d);
	return n;
}
