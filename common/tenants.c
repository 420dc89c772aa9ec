/* tenants.c: issuer sections for many tenants (see tenants.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "safe_file.h"
#include "tenants.h"

static int
tenant_shaped(const char *s)
{
	size_t i;

	/* spelled out: isalnum depends on the locale; never '/', which could
	 * stretch over the issuer's own path */
	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
		        (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_' || s[i] == '.'))
			return 0;
	return i > 0 && i <= TS_TENANT_MAX;
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
list_add(ts_strlist *l, const char *s)
{
	char **nv;

	if ((nv = realloc(l->v, (l->n + 1) * sizeof(*nv))) == NULL)
		return -1;
	l->v = nv;
	if ((nv[l->n] = strdup(s)) == NULL)
		return -1;
	l->n++;
	return 0;
}

/* The tenant IDs of a file's text (one a line, '#' comments and blank
 * lines) into l; *bad gets the first line that is none (0: none).
 * Returns -1 when out of memory. */
static int
parse_lines(char *buf, ts_strlist *l, int *bad)
{
	char *line, *next, *hash, *s;
	int lineno = 0;

	*bad = 0;
	for (line = buf; line != NULL; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if ((hash = strchr(line, '#')) != NULL)
			*hash = '\0';
		s = ts_conf_trim(line);
		if (*s == '\0')
			continue;
		if (!tenant_shaped(s)) {
			if (*bad == 0)
				*bad = lineno;
			continue;
		}
		if (list_add(l, s) != 0)
			return -1;
	}
	return 0;
}

/* A section's tenants file, strictly. */
static ts_reason
read_list(const ts_conf *c, ts_issuer_conf *is, ts_filelist *files, ts_err *e)
{
	char *buf = NULL;
	size_t len = 0;
	int bad = 0;
	ts_file_id id;
	ts_err fe = { "" };
	ts_reason r;

	r = ts_read_file(is->tenants_file, TS_CONF_MAX_SIZE, 0, &buf, &len, &id, &fe);
	if (r != TS_OK)
		ts_file_id_of(is->tenants_file, &id);
	if (ts_filelist_add(files, is->tenants_file, &id) != 0) {
		free(buf);
		return TS_R_INTERNAL;
	}
	if (r != TS_OK)
		return ts_fail(e, r, "%s:%d: [issuer %s] tenants: %s", c->path, is->tenants_line,
		    is->name, fe.msg);
	if (parse_lines(buf, &is->tenants, &bad) != 0)
		r = TS_R_INTERNAL;
	else if (bad != 0)
		r = ts_fail(e, TS_R_CONFIG_ERROR,
		    "%s:%d: not a tenant ID (1 to %d of A-Z a-z 0-9 . _ -)", is->tenants_file, bad,
		    TS_TENANT_MAX);
	else if (is->tenants.n == 0)
		r = ts_fail(e, TS_R_CONFIG_ERROR, "%s: lists no tenant", is->tenants_file);
	free(buf);
	return r;
}

/* Checks and sorts one section's list. */
static ts_reason
check_list(const ts_conf *c, ts_issuer_conf *is, ts_err *e)
{
	size_t i;

	for (i = 0; i < is->tenants.n; i++)
		if (!tenant_shaped(is->tenants.v[i]))
			return ts_fail(e, TS_R_CONFIG_ERROR,
			    "%s:%d: [issuer %s] tenants: \"%s\" is not a tenant ID (1 to %d of A-Z "
			    "a-z 0-9 . _ -)",
			    c->path, is->tenants_line, is->name, is->tenants.v[i], TS_TENANT_MAX);
	qsort(is->tenants.v, is->tenants.n, sizeof(*is->tenants.v), str_cmp);
	for (i = 1; i < is->tenants.n; i++)
		if (strcmp(is->tenants.v[i - 1], is->tenants.v[i]) == 0)
			return ts_fail(e, TS_R_CONFIG_ERROR,
			    "%s:%d: [issuer %s] tenants: \"%s\" is listed twice", c->path,
			    is->tenants_line, is->name, is->tenants.v[i]);
	return TS_OK;
}

typedef struct span {
	const char *p;
	size_t n;
} span;

static int
span_cmp(const void *key, const void *elem)
{
	const span *k = key;
	const char *t = *(char *const *)elem;
	size_t tl = strlen(t);
	int d = memcmp(k->p, t, k->n < tl ? k->n : tl);

	return d != 0 ? d : (k->n > tl) - (k->n < tl);
}

int
ts_issuer_matches(const ts_issuer_conf *is, const char *iss, size_t len, const char **tenant)
{
	size_t pre = is->tpl_pre, suf = is->tpl_suf;
	char **hit;
	span mid;

	if (tenant != NULL)
		*tenant = NULL;
	if (!is->templated)
		return is->issuer_len == len && memcmp(is->issuer, iss, len) == 0;
	if (len <= pre + suf || memcmp(iss, is->issuer, pre) != 0 ||
	    memcmp(iss + len - suf, is->issuer + is->issuer_len - suf, suf) != 0)
		return 0;
	mid.p = iss + pre;
	mid.n = len - pre - suf;
	hit = bsearch(&mid, is->tenants.v, is->tenants.n, sizeof(*is->tenants.v), span_cmp);
	if (hit != NULL && tenant != NULL)
		*tenant = *hit;
	return hit != NULL;
}

/* K1, K3: within a service one iss value leads to one section, tenants
 * included: no listed tenant's issuer of section a (one with tenants) may
 * be section b's. */
static ts_reason
check_overlap(const ts_conf *c, const ts_service_conf *s, const ts_issuer_conf *a,
    const ts_issuer_conf *b, ts_err *e)
{
	char iss[4096];
	size_t t;

	for (t = 0; t < a->tenants.n; t++) {
		int n = snprintf(iss, sizeof(iss), "%.*s%s%s", (int)a->tpl_pre, a->issuer,
		    a->tenants.v[t], a->issuer + a->issuer_len - a->tpl_suf);

		if (n <= 0 || (size_t)n >= sizeof(iss) ||
		    !ts_issuer_matches(b, iss, (size_t)n, NULL))
			continue;
		if (!b->templated)
			return ts_fail(e, TS_R_CONFIG_ERROR,
			    "%s:%d: [service %s]: issuer %s is both [issuer %s] and a tenant of "
			    "[issuer %s]",
			    c->path, s->line, s->name, iss, b->name, a->name);
		return ts_fail(e, TS_R_CONFIG_ERROR,
		    "%s:%d: [service %s]: issuer %s is a tenant of both [issuer %s] and [issuer "
		    "%s]",
		    c->path, s->line, s->name, iss, a->name, b->name);
	}
	return TS_OK;
}

ts_reason
ts_tenants_load(ts_conf *c, ts_filelist *files, ts_err *e)
{
	size_t i, j, k;
	ts_reason r;

	for (i = 0; i < c->nissuers; i++) {
		ts_issuer_conf *is = &c->issuers[i];

		if (is->tenants_file != NULL && (r = read_list(c, is, files, e)) != TS_OK)
			return r;
		if (is->templated && (r = check_list(c, is, e)) != TS_OK)
			return r;
	}
	for (i = 0; i < c->nservices; i++) {
		const ts_service_conf *s = &c->services[i];
		int any = 0;

		for (j = 0; j < s->issuers.n; j++)
			any |= c->issuers[s->issuer_idx[j]].templated;
		for (j = 0; any && j < s->issuers.n; j++)
			for (k = 0; k < s->issuers.n; k++) {
				const ts_issuer_conf *a = &c->issuers[s->issuer_idx[j]];
				const ts_issuer_conf *b = &c->issuers[s->issuer_idx[k]];

				if (j != k && a->templated &&
				    (r = check_overlap(c, s, a, b, e)) != TS_OK)
					return r;
			}
	}
	return TS_OK;
}

/* What the current files still list for section is, leniently (K11): the
 * last tenants line the config has for it, its file read past bad lines.
 * Nothing when the line, the section or the file is gone. */
static int
current_list(
    const ts_issuer_conf *is, const ts_conf_names *names, ts_filelist *files, ts_strlist *now)
{
	const char *v = NULL;
	char *buf = NULL, *words, *w, *save = NULL;
	size_t i, len = 0;
	ts_file_id id;
	int bad, rc = 0;

	for (i = 0; names != NULL && i < names->ntn; i++)
		if (strcmp(names->tn_issuer[i], is->name) == 0)
			v = names->tn_value[i];
	if (v == NULL)
		return 0;
	if (strchr(v, '/') != NULL) {
		if (ts_read_file(v, TS_CONF_MAX_SIZE, 0, &buf, &len, &id, NULL) != TS_OK) {
			ts_file_id_of(v, &id);
			return ts_filelist_add(files, v, &id);
		}
		rc = ts_filelist_add(files, v, &id) != 0 || parse_lines(buf, now, &bad) != 0 ? -1
		                                                                             : 0;
		free(buf);
		return rc;
	}
	if ((words = strdup(v)) == NULL)
		return -1;
	w = strtok_r(words, " \t", &save);
	while (w != NULL && rc == 0) {
		rc = tenant_shaped(w) ? list_add(now, w) : 0;
		w = strtok_r(NULL, " \t", &save);
	}
	free(words);
	return rc;
}

int
ts_tenants_still_listed(
    const ts_issuer_conf *is, const ts_conf_names *names, ts_filelist *files, ts_strlist *keep)
{
	ts_strlist now = { NULL, 0, 0 };
	size_t i;
	int rc;

	memset(keep, 0, sizeof(*keep));
	rc = current_list(is, names, files, &now);
	if (rc == 0 && now.n > 0)
		qsort(now.v, now.n, sizeof(*now.v), str_cmp);
	if (rc == 0 && (keep->v = calloc(is->tenants.n + 1, sizeof(*keep->v))) == NULL)
		rc = -1;
	keep->borrowed = 1; /* the strings are is's */
	for (i = 0; rc == 0 && i < is->tenants.n; i++) {
		span t = { is->tenants.v[i], strlen(is->tenants.v[i]) };

		if (bsearch(&t, now.v, now.n, sizeof(*now.v), span_cmp) != NULL)
			keep->v[keep->n++] = is->tenants.v[i];
	}
	for (i = 0; i < now.n; i++)
		free(now.v[i]);
	free(now.v);
	return rc;
}
