/*
 * fetch_req.c: the fetcher's side of K14 for `tokenscope fetch-keys
 * --requested`, and the per-issuer record of the last fetch that `tokenscope
 * keys` shows.
 *
 * The spool is emptied before anything is fetched: a request made while a
 * fetch runs leaves a new entry and so a new run, never a lost one. A name
 * in the spool is only ever compared with the configuration's [issuer]
 * sections: anyone who may write in the spool may make an entry, so an
 * entry can at most ask for what the timer does anyway, once per
 * fetch_interval per issuer.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "conf.h"
#include "fetchreq.h"
#include "safe_file.h"

/* Entries read from the spool in one run at most: a spool filled faster
 * than it is read must not keep one run going for ever. */
#define SPOOL_MAX_ENTRIES 4096

char *
cli_fetch_state_path(const ts_conf *c)
{
	return cli_conf_path(c, c->fetch_state, "fetch-state");
}

int
cli_lock_dir_of(const char *path, char *err, size_t cap)
{
	char *d = strdup(path);
	int fd = -1;

	if (d == NULL) {
		snprintf(err, cap, "out of memory");
		return -1;
	}
	if ((fd = open(dirname(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    flock(fd, LOCK_EX) != 0) {
		snprintf(err, cap, "%s: %s", d, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	free(d);
	return fd;
}

int
cli_fetch_state_get(const char *text, const char *name, long long *when, char *result, size_t cap)
{
	size_t nl = strlen(name);
	const char *p = text;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, name, nl) == 0 && p[nl] == ' ') {
			char res[32] = "";

			if (sscanf(p + nl + 1, "%lld %31s", when, res) == 2) {
				snprintf(result, cap, "%s", res);
				return 1;
			}
		}
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	}
	return 0;
}

/* The state text with name's line replaced (or added): malloc'ed. */
static char *
state_with(const char *old, const char *name, long long when, const char *result)
{
	size_t ol = old ? strlen(old) : 0, nl = strlen(name), n = 0;
	char *out = malloc(ol + nl + strlen(result) + 48);
	const char *p = old;

	if (out == NULL)
		return NULL;
	while (p != NULL && *p != '\0') {
		const char *e = strchr(p, '\n');
		size_t len = e ? (size_t)(e - p) + 1 : strlen(p);

		if (!(strncmp(p, name, nl) == 0 && p[nl] == ' ')) {
			memcpy(out + n, p, len);
			n += len;
			if (out[n - 1] != '\n')
				out[n++] = '\n';
		}
		p += len;
	}
	sprintf(out + n, "%s %lld %s\n", name, when, result);
	return out;
}

int
cli_fetch_state_record(const ts_conf *c, const char *name, time_t when, const char *result)
{
	char *path = cli_fetch_state_path(c), *old = NULL, *out = NULL;
	char err[TS_ERR_MSG_MAX + 64] = "out of memory";
	size_t len = 0;
	int lock = -1, rc = -1;

	/* two fetchers at once (the timer, a request) must not lose a line */
	if (path == NULL || (lock = cli_lock_dir_of(path, err, sizeof(err))) < 0)
		goto out;
	if (cli_read_safe(path, &old, &len, err, sizeof(err)) < 0)
		goto out;
	if ((out = state_with(old, name, (long long)when, result)) == NULL)
		goto out;
	rc = cli_write_atomic(path, out, strlen(out), 0644, err, sizeof(err));
out:
	if (rc != 0)
		fprintf(stderr, "tokenscope fetch-keys: fetch state not recorded: %s\n", err);
	if (lock >= 0)
		close(lock); /* releases the lock */
	free(path);
	free(old);
	free(out);
	return rc;
}

char *
cli_fetch_state_text(const ts_conf *c)
{
	return cli_text_of(cli_fetch_state_path(c));
}

/* The issuer a spool entry asks for: a section that has somewhere to fetch
 * from, or NULL. */
static const ts_issuer_conf *
requested_issuer(const ts_conf *c, const char *name)
{
	size_t i;

	if (!ts_fetchreq_name_ok(name))
		return NULL;
	for (i = 0; i < c->nissuers; i++)
		if (strcmp(c->issuers[i].name, name) == 0)
			return c->issuers[i].discovery != NULL || c->issuers[i].jwks_uri != NULL
			    ? &c->issuers[i]
			    : NULL;
	return NULL;
}

int
cli_spool_take(const ts_conf *c, unsigned char *want)
{
	struct stat st;
	struct dirent *de;
	DIR *d = NULL;
	int dfd, n = 0, seen = 0;

	if ((dfd = open(c->fetch_spool, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		fprintf(stderr, "tokenscope fetch-keys: fetch_spool %s: %s\n", c->fetch_spool,
		    strerror(errno));
		return -1;
	}
	/* the modules refuse a spool like that too; say so here, where an
	 * administrator looks */
	if (fstat(dfd, &st) != 0 || !ts_owner_ok(st.st_uid) ||
	    ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 && (st.st_mode & S_ISVTX) == 0)) {
		fprintf(stderr,
		    "tokenscope fetch-keys: fetch_spool %s: must be a directory owned by root, "
		    "sticky if others may write in it (mode 1733)\n",
		    c->fetch_spool);
		close(dfd);
		return -1;
	}
	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return -1;
	}
	while ((de = readdir(d)) != NULL && seen < SPOOL_MAX_ENTRIES) {
		const ts_issuer_conf *is;
		char shown[TS_NAME_MAX + 8];

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		seen++;
		/* removed whatever it is: never opened, never followed */
		if (unlinkat(dfd, de->d_name, 0) != 0 && errno == EISDIR)
			(void)unlinkat(dfd, de->d_name, AT_REMOVEDIR);
		ts_sanitize(shown, sizeof(shown), de->d_name, strlen(de->d_name));
		if ((is = requested_issuer(c, de->d_name)) == NULL) {
			printf("fetch request %s: no [issuer] of that name with discovery= or "
			       "jwks_uri=: ignored\n",
			    shown);
			continue;
		}
		want[is - c->issuers] = 1;
		n++;
	}
	closedir(d);
	return n;
}
