/* conf_scan.c: the lenient reading of K11 (see conf.h, ts_conf_names):
 * what a config that may be broken still names, so that a failed reload
 * can take away what it no longer names. It reads three settings by name on
 * its own (key, revoke_before, revoked_keys), past any error, and never
 * adds trust; the strict parser (conf.c) is the only one that does. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "safe_file.h"
#include "timeutil.h"

void
ts_conf_names_free(ts_conf_names *n)
{
	size_t i;

	for (i = 0; i < n->n; i++) {
		free(n->issuer[i]);
		free(n->path[i]);
	}
	free(n->issuer);
	free(n->path);
	free(n->revoked_keys);
	for (i = 0; i < n->nrb; i++)
		free(n->rb_issuer[i]);
	free(n->rb_issuer);
	free(n->rb_time);
	for (i = 0; i < n->ntn; i++) {
		free(n->tn_issuer[i]);
		free(n->tn_value[i]);
	}
	free(n->tn_issuer);
	free(n->tn_value);
	memset(n, 0, sizeof(*n));
}

static char *
join_path(const char *dir, const char *v, size_t vlen)
{
	char *r;

	if (v[0] == '/')
		return strndup(v, vlen);
	if ((r = malloc(strlen(dir) + vlen + 2)) != NULL)
		sprintf(r, "%s/%.*s", dir, (int)vlen, v);
	return r;
}

static int
names_add(ts_conf_names *n, const char *issuer, const char *dir, const char *v)
{
	size_t vlen = strcspn(v, " \t");
	char **ni, **np;

	if ((ni = realloc(n->issuer, (n->n + 1) * sizeof(*ni))) == NULL)
		return -1;
	n->issuer = ni;
	if ((np = realloc(n->path, (n->n + 1) * sizeof(*np))) == NULL)
		return -1;
	n->path = np;
	if ((n->issuer[n->n] = strdup(issuer)) == NULL)
		return -1;
	if ((n->path[n->n] = join_path(dir, v, vlen)) == NULL) {
		free(n->issuer[n->n]);
		return -1;
	}
	n->n++;
	return 0;
}

static int
names_add_tenants(ts_conf_names *n, const char *issuer, const char *dir, const char *v)
{
	char **ni, **nv;

	if ((ni = realloc(n->tn_issuer, (n->ntn + 1) * sizeof(*ni))) == NULL)
		return -1;
	n->tn_issuer = ni;
	if ((nv = realloc(n->tn_value, (n->ntn + 1) * sizeof(*nv))) == NULL)
		return -1;
	n->tn_value = nv;
	if ((n->tn_issuer[n->ntn] = strdup(issuer)) == NULL)
		return -1;
	/* a value with a '/' is a file, as the strict parser reads it */
	n->tn_value[n->ntn] = strchr(v, '/') ? join_path(dir, v, strlen(v)) : strdup(v);
	if (n->tn_value[n->ntn] == NULL) {
		free(n->tn_issuer[n->ntn]);
		return -1;
	}
	n->ntn++;
	return 0;
}

static int
names_add_revoke_before(ts_conf_names *n, const char *issuer, time_t t)
{
	char **ni;
	time_t *nt;

	if ((ni = realloc(n->rb_issuer, (n->nrb + 1) * sizeof(*ni))) == NULL)
		return -1;
	n->rb_issuer = ni;
	if ((nt = realloc(n->rb_time, (n->nrb + 1) * sizeof(*nt))) == NULL)
		return -1;
	n->rb_time = nt;
	if ((n->rb_issuer[n->nrb] = strdup(issuer)) == NULL)
		return -1;
	n->rb_time[n->nrb++] = t;
	return 0;
}

ts_reason
ts_conf_scan_buf(char *buf, size_t len, const char *dir, ts_conf_names *out)
{
	char *line, *next, *hash, *eq, *k, *v;
	char section[TS_NAME_MAX + 16] = "";
	time_t t;

	memset(out, 0, sizeof(*out));
	/* the same line syntax as parse_line, but nothing stops the scan */
	for (line = buf; line != NULL; line = next) {
		if ((next = memchr(line, '\n', len - (size_t)(line - buf))) != NULL)
			*next++ = '\0';
		for (hash = line; (hash = strchr(hash, '#')) != NULL; hash++) {
			if (hash == line || hash[-1] == ' ' || hash[-1] == '\t') {
				*hash = '\0';
				break;
			}
		}
		line = ts_conf_trim(line);
		if (*line == '[') {
			/* "[issuer NAME]" sets the section; any other header ends it */
			if (strncmp(line, "[issuer ", 8) == 0 && line[strlen(line) - 1] == ']' &&
			    strlen(line) - 9 < sizeof(section)) {
				snprintf(section, sizeof(section), "%.*s", (int)(strlen(line) - 9),
				    line + 8);
			} else {
				snprintf(section, sizeof(section), "%s",
				    strcmp(line, "[global]") == 0 ? "[global]" : "");
			}
			continue;
		}
		if ((eq = strchr(line, '=')) == NULL)
			continue;
		*eq = '\0';
		k = ts_conf_trim(line);
		v = ts_conf_trim(eq + 1);
		if (*v == '\0' || section[0] == '\0')
			continue;
		if (strcmp(section, "[global]") == 0) {
			if (strcmp(k, "revoked_keys") == 0 && out->revoked_keys == NULL &&
			    (out->revoked_keys = join_path(dir, v, strlen(v))) == NULL)
				goto oom;
		} else if (strcmp(k, "key") == 0) {
			if (names_add(out, section, dir, v) != 0)
				goto oom;
		} else if (strcmp(k, "tenants") == 0) {
			if (names_add_tenants(out, section, dir, v) != 0)
				goto oom;
		} else if (strcmp(k, "revoke_before") == 0 && ts_time_parse(v, &t) == 0) {
			if (names_add_revoke_before(out, section, t) != 0)
				goto oom;
		}
	}
	return TS_OK;
oom:
	ts_conf_names_free(out);
	return TS_R_INTERNAL;
}

ts_reason
ts_conf_scan_names(
    const char *path, const char *dir, ts_conf_names *out, struct ts_file_id *id, ts_err *e)
{
	char *buf = NULL;
	size_t len = 0;
	ts_reason r;

	memset(out, 0, sizeof(*out));
	if ((r = ts_read_file(path, TS_CONF_MAX_SIZE, 0, &buf, &len, id, e)) != TS_OK)
		return r;
	if ((r = ts_conf_scan_buf(buf, len, dir, out)) != TS_OK)
		ts_fail(e, r, "%s: out of memory", path);
	free(buf);
	return r;
}
