/* usermap.c: user map files (see usermap.h). */
#include "config.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "claims.h"
#include "safe_file.h"
#include "usermap.h"

typedef struct entry {
	const char *key, *user; /* into buf */
	size_t klen;
	int line;
} entry;

struct ts_usermap {
	char *buf;
	entry *v; /* sorted by key: looked up by binary search */
	size_t n;
};

static int
cmp_key(const char *a, size_t al, const char *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);

	return c != 0 ? c : (al > bl) - (al < bl);
}

static int
cmp_entry(const void *a, const void *b)
{
	const entry *x = a, *y = b;
	int c = cmp_key(x->key, x->klen, y->key, y->klen);

	return c != 0 ? c : (x->line > y->line) - (x->line < y->line);
}

/* The next field of a line, NUL-terminated in place, or NULL at its end. */
static char *
field(char **s)
{
	char *f = *s;

	while (*f == ' ' || *f == '\t')
		f++;
	if (*f == '\0')
		return NULL;
	*s = f + strcspn(f, " \t");
	if (**s != '\0')
		*(*s)++ = '\0';
	return f;
}

static ts_reason
parse(ts_usermap *m, const char *path, ts_err *e)
{
	char *line, *next, *hash, *s, *k, *u;
	size_t cap = 0, i;
	int lineno = 0;

	for (line = m->buf; line != NULL; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		/* a comment starts a line or follows whitespace, as in the config */
		for (hash = line; (hash = strchr(hash, '#')) != NULL; hash++) {
			if (hash == line || hash[-1] == ' ' || hash[-1] == '\t') {
				*hash = '\0';
				break;
			}
		}
		s = ts_conf_trim(line);
		if ((k = field(&s)) == NULL)
			continue;
		if ((u = field(&s)) == NULL || field(&s) != NULL)
			return ts_fail(e, TS_R_CONFIG_ERROR,
			    "%s:%d: expected \"claim-value local-user\"", path, lineno);
		/* a value outside C6 could never match a token, or name a user */
		if (!ts_username_ok(k, strlen(k)) || !ts_username_ok(u, strlen(u)))
			return ts_fail(e, TS_R_CONFIG_ERROR,
			    "%s:%d: names must be 1-256 bytes of [A-Za-z0-9._@-], not starting "
			    "with "
			    "'-'",
			    path, lineno);
		if (m->n == cap) {
			entry *nv;

			cap = cap ? 2 * cap : 64;
			if ((nv = realloc(m->v, cap * sizeof(*nv))) == NULL)
				return ts_fail(e, TS_R_INTERNAL, "%s: out of memory", path);
			m->v = nv;
		}
		m->v[m->n++] = (entry){ k, u, strlen(k), lineno };
	}
	if (m->n > 0)
		qsort(m->v, m->n, sizeof(*m->v), cmp_entry);
	/* sorted by key, then line: a duplicate sits right after the first */
	for (i = 1; i < m->n; i++)
		if (cmp_key(m->v[i - 1].key, m->v[i - 1].klen, m->v[i].key, m->v[i].klen) == 0)
			return ts_fail(e, TS_R_CONFIG_ERROR,
			    "%s:%d: %s is mapped already on line %d", path, m->v[i].line,
			    m->v[i].key, m->v[i - 1].line);
	return TS_OK;
}

ts_reason
ts_usermap_load(const char *path, ts_usermap **out, ts_filelist *files, ts_err *e)
{
	ts_usermap *m;
	ts_file_id id;
	size_t len;
	ts_reason r;

	*out = NULL;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return ts_fail(e, TS_R_INTERNAL, "%s: out of memory", path);
	r = ts_read_file(path, TS_USERMAP_MAX_SIZE, 0, &m->buf, &len, &id, e);
	if (r != TS_OK)
		ts_file_id_of(path, &id);
	if (ts_filelist_add(files, path, &id) != 0)
		r = ts_fail(e, TS_R_INTERNAL, "%s: out of memory", path);
	if (r == TS_OK && memchr(m->buf, '\0', len) != NULL)
		r = ts_fail(e, TS_R_CONFIG_ERROR, "%s: contains a NUL byte", path);
	if (r == TS_OK)
		r = parse(m, path, e);
	if (r != TS_OK) {
		ts_usermap_free(m);
		return r;
	}
	*out = m;
	return TS_OK;
}

const char *
ts_usermap_find(const ts_usermap *m, const char *s, size_t len)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cmp_key(s, len, m->v[mid].key, m->v[mid].klen);

		if (c == 0)
			return m->v[mid].user;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

size_t
ts_usermap_count(const ts_usermap *m)
{
	return m->n;
}

void
ts_usermap_free(ts_usermap *m)
{
	if (m == NULL)
		return;
	free(m->buf);
	free(m->v);
	free(m);
}

ts_reason
ts_usermaps_load(ts_conf *c, ts_filelist *files, ts_err *e)
{
	ts_reason r = TS_OK;
	size_t i;

	for (i = 0; i < c->nissuers && r == TS_OK; i++)
		if (c->issuers[i].user_map != NULL)
			r = ts_usermap_load(c->issuers[i].user_map, &c->issuers[i].umap, files, e);
	for (i = 0; i < c->nservices && r == TS_OK; i++)
		if (c->services[i].user_map != NULL)
			r = ts_usermap_load(
			    c->services[i].user_map, &c->services[i].umap, files, e);
	return r;
}

ts_reason
ts_root_names_load(ts_conf *c, const char *path, ts_filelist *files, ts_err *e)
{
	char pwbuf[16384], *buf = NULL;
	struct passwd pw, *res;
	ts_file_id id;
	size_t len = 0;
	FILE *f = NULL;
	int r = ENOENT, nomem = 0;
	ts_reason rr;

	/* watched like a key file, and read like one: through the directory
	 * held since before a chroot (K13), with the M2 checks, never the
	 * jail's own copy. Only a file that is really missing (not one out of
	 * reach) means "no uid-0 names but root"; anything else is a
	 * configuration error, and K11 keeps the last good names */
	ts_file_id_of(path, &id);
	if (ts_filelist_add(files, path, &id) != 0)
		return ts_fail(e, TS_R_INTERNAL, "%s: out of memory", path);
	if (!id.exists && !ts_file_lost(path) && access(path, F_OK) != 0 && errno == ENOENT)
		return TS_OK;
	if ((rr = ts_read_file(path, TS_PASSWD_MAX_SIZE, 0, &buf, &len, &id, e)) != TS_OK)
		return rr;
	if (len > 0 && (f = fmemopen(buf, len, "r")) == NULL)
		nomem = 1;
	while (f != NULL && !nomem && (r = fgetpwent_r(f, &pw, pwbuf, sizeof(pwbuf), &res)) == 0) {
		char **nv;

		if (pw.pw_uid != 0)
			continue;
		if ((nv = realloc(c->root_names.v, (c->root_names.n + 1) * sizeof(*nv))) == NULL ||
		    (nv[c->root_names.n] = strdup(pw.pw_name)) == NULL) {
			if (nv != NULL)
				c->root_names.v = nv;
			nomem = 1;
			break;
		}
		c->root_names.v = nv;
		c->root_names.n++;
	}
	if (f != NULL)
		fclose(f);
	free(buf);
	if (nomem)
		return ts_fail(e, TS_R_INTERNAL, "%s: out of memory", path);
	if (r != ENOENT)
		return ts_fail(e, TS_R_CONFIG_ERROR, "%s: cannot read the uid-0 names", path);
	return TS_OK;
}
