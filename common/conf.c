/* conf.c: the tokenscope.conf parser (see conf.h). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "jws.h"
#include "safe_file.h"
#include "timeutil.h"

#define DEFAULT_SKEW 60
#define DEFAULT_MAX_LIFETIME 86400
#define DEFAULT_RELOAD_INTERVAL 1

enum section { SEC_NONE, SEC_GLOBAL, SEC_ISSUER, SEC_SERVICE };

typedef struct parser {
	ts_conf *c;
	const char *file;
	int line;
	enum section sec;
	int seen_global;
	char seen[16][32]; /* settings given in the current section */
	size_t nseen;
	ts_err *e;
} parser;

static ts_reason perr(parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static ts_reason
perr(parser *p, const char *fmt, ...)
{
	char msg[TS_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ts_fail(p->e, TS_R_CONFIG_ERROR, "%s:%d: %s", p->file, p->line, msg);
}

static void
strlist_free(ts_strlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* Splits a value on spaces and tabs into a list; empty lists are refused.
 * On any failure the list is left empty (nothing to free). */
static int
strlist_parse(const char *v, ts_strlist *out)
{
	char *copy = strdup(v), *tok, *save = NULL;
	int r = -1;

	if (copy == NULL)
		return -1;
	for (tok = strtok_r(copy, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		char **nv = realloc(out->v, (out->n + 1) * sizeof(*nv));

		if (nv == NULL)
			goto out;
		out->v = nv;
		if ((out->v[out->n] = strdup(tok)) == NULL)
			goto out;
		out->n++;
	}
	r = out->n > 0 ? 0 : -1;
out:
	free(copy);
	if (r != 0)
		strlist_free(out);
	return r;
}

static int
valid_name(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!isalnum((unsigned char)s[n]) && !strchr("._-", s[n]))
			return 0;
	return n > 0 && n <= TS_NAME_MAX;
}

static int
parse_long(const char *v, long min, long max, long *out)
{
	char *end;
	long n;

	if (!isdigit((unsigned char)v[0]))
		return -1;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < min || n > max)
		return -1;
	*out = n;
	return 0;
}

static char *
abs_path(parser *p, const char *v)
{
	char *r;

	if (v[0] == '/')
		return strdup(v);
	if ((r = malloc(strlen(p->c->dir) + strlen(v) + 2)) != NULL)
		sprintf(r, "%s/%s", p->c->dir, v);
	return r;
}

/* Every setting but "key" may appear once per section. Unknown names
 * never get here twice: they are errors already. */
static int
seen_before(parser *p, const char *key)
{
	size_t i;

	if (strcmp(key, "key") == 0)
		return 0;
	for (i = 0; i < p->nseen; i++)
		if (strcmp(p->seen[i], key) == 0)
			return 1;
	if (p->nseen < sizeof(p->seen) / sizeof(p->seen[0]))
		snprintf(p->seen[p->nseen++], sizeof(p->seen[0]), "%s", key);
	return 0;
}

static ts_reason
set_global(parser *p, const char *k, const char *v)
{
	ts_conf *c = p->c;
	long n;

	if (strcmp(k, "clock_skew") == 0) {
		if (parse_long(v, 0, 600, &c->clock_skew))
			return perr(p, "clock_skew must be 0..600 seconds");
	} else if (strcmp(k, "max_token_size") == 0) {
		if (parse_long(v, 512, TS_TOKEN_HARD_MAX, &n))
			return perr(p, "max_token_size must be 512..65536 bytes");
		c->max_token_size = (size_t)n;
	} else if (strcmp(k, "approved_keys") == 0) {
		/* read by `tokenscope fetch-keys --pin` only */
		if ((c->approved_keys = abs_path(p, v)) == NULL)
			return TS_R_CONFIG_ERROR;
	} else if (strcmp(k, "revoked_keys") == 0) {
		if ((c->revoked_keys = abs_path(p, v)) == NULL)
			return TS_R_CONFIG_ERROR;
	} else if (strcmp(k, "log_level") == 0) {
		if (strcmp(v, "info") == 0)
			c->log_debug = 0;
		else if (strcmp(v, "debug") == 0)
			c->log_debug = 1;
		else
			return perr(p, "log_level must be info or debug");
	} else if (strcmp(k, "replay_cache") == 0) {
		if ((c->replay_cache = abs_path(p, v)) == NULL)
			return TS_R_CONFIG_ERROR;
	} else if (strcmp(k, "reload_interval") == 0) {
		if (parse_long(v, 0, 3600, &c->reload_interval))
			return perr(p, "reload_interval must be 0..3600 seconds");
	} else {
		return perr(p, "unknown setting \"%s\" in [global]", k);
	}
	return TS_OK;
}

static ts_reason
parse_keyspec(parser *p, ts_issuer_conf *is, const char *v)
{
	ts_keyspec ks, *nk;
	char *copy = strdup(v), *tok, *save = NULL;
	int first = 1;
	ts_reason r = TS_R_CONFIG_ERROR;

	memset(&ks, 0, sizeof(ks));
	ks.line = p->line;
	if (copy == NULL)
		return TS_R_INTERNAL;
	for (tok = strtok_r(copy, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		char *eq = strchr(tok, '=');

		if (first) {
			if (eq != NULL) {
				perr(p, "key: the file path comes first");
				goto out;
			}
			if ((ks.path = abs_path(p, tok)) == NULL) {
				r = TS_R_INTERNAL;
				goto out;
			}
			first = 0;
			continue;
		}
		if (eq == NULL) {
			perr(p, "key: \"%s\" is not attr=value", tok);
			goto out;
		}
		*eq++ = '\0';
		if (strcmp(tok, "kid") == 0 && ks.kid == NULL) {
			if (*eq == '\0' || strlen(eq) > TS_KID_MAX) {
				perr(p, "key: kid must be 1..256 bytes");
				goto out;
			}
			if ((ks.kid = strdup(eq)) == NULL) {
				r = TS_R_INTERNAL;
				goto out;
			}
		} else if (strcmp(tok, "alg") == 0 && ks.alg == TS_ALG_INVALID) {
			if ((ks.alg = ts_alg_from_name(eq, strlen(eq))) == TS_ALG_INVALID) {
				perr(p, "key: unknown alg \"%s\"", eq);
				goto out;
			}
		} else if (strcmp(tok, "not_before") == 0 && !ks.has_not_before) {
			if (ts_time_parse(eq, &ks.not_before) != 0) {
				perr(p, "key: not_before \"%s\" is not YYYY-MM-DDTHH:MM:SSZ", eq);
				goto out;
			}
			ks.has_not_before = 1;
		} else if (strcmp(tok, "not_after") == 0 && !ks.has_not_after) {
			if (ts_time_parse(eq, &ks.not_after) != 0) {
				perr(p, "key: not_after \"%s\" is not YYYY-MM-DDTHH:MM:SSZ", eq);
				goto out;
			}
			ks.has_not_after = 1;
		} else {
			perr(p, "key: unknown or repeated attribute \"%s\"", tok);
			goto out;
		}
	}
	if (ks.path == NULL) {
		perr(p, "key: no file named");
		goto out;
	}
	if (ks.has_not_before && ks.has_not_after && ks.not_after <= ks.not_before) {
		perr(p, "key: not_after is not later than not_before");
		goto out;
	}
	if ((nk = realloc(is->keys, (is->nkeys + 1) * sizeof(*nk))) == NULL) {
		r = TS_R_INTERNAL;
		goto out;
	}
	is->keys = nk;
	is->keys[is->nkeys++] = ks;
	memset(&ks, 0, sizeof(ks)); /* transferred */
	r = TS_OK;
out:
	free(ks.path);
	free(ks.kid);
	free(copy);
	return r;
}

/* A string setting; running out of memory must never leave a check off. */
static ts_reason
set_str(parser *p, char **dst, const char *v)
{
	free(*dst);
	if ((*dst = strdup(v)) == NULL)
		return ts_fail(p->e, TS_R_INTERNAL, "%s:%d: out of memory", p->file, p->line);
	return TS_OK;
}

static ts_reason
set_issuer(parser *p, const char *k, const char *v)
{
	ts_issuer_conf *is = &p->c->issuers[p->c->nissuers - 1];
	ts_strlist l = { NULL, 0 };
	size_t i;

	if (strcmp(k, "key") == 0)
		return parse_keyspec(p, is, v);
	if (strcmp(k, "issuer") == 0) {
		if (strpbrk(v, " \t") != NULL)
			return perr(p, "issuer must not contain spaces");
		is->issuer_len = strlen(v);
		return set_str(p, &is->issuer, v);
	} else if (strcmp(k, "algorithms") == 0) {
		if (strlist_parse(v, &l))
			return perr(p, "algorithms: empty list");
		for (i = 0; i < l.n; i++) {
			ts_alg a = ts_alg_from_name(l.v[i], strlen(l.v[i]));

			if (a == TS_ALG_INVALID) {
				perr(p, "algorithms: \"%s\" is not a supported algorithm", l.v[i]);
				strlist_free(&l);
				return TS_R_CONFIG_ERROR;
			}
			is->algorithms |= 1u << a;
		}
		strlist_free(&l);
	} else if (strcmp(k, "token_type") == 0) {
		if (strcmp(v, "at+jwt") == 0)
			is->token_type = TS_TYP_AT_JWT;
		else if (strcmp(v, "jwt") == 0)
			is->token_type = TS_TYP_JWT;
		else
			return perr(p, "token_type must be at+jwt or jwt");
	} else if (strcmp(k, "tenant") == 0) {
		return set_str(p, &is->tenant, v);
	} else if (strcmp(k, "clients") == 0) {
		if (strlist_parse(v, &is->clients))
			return perr(p, "clients: empty list");
	} else if (strcmp(k, "username_claim") == 0) {
		return set_str(p, &is->username_claim, v);
	} else if (strcmp(k, "username_strip_domain") == 0) {
		return set_str(p, &is->strip_domain, v);
	} else if (strcmp(k, "max_lifetime") == 0) {
		if (parse_long(v, 1, 31L * 86400, &is->max_lifetime))
			return perr(p, "max_lifetime must be 1..2678400 seconds");
	} else if (strcmp(k, "revoke_before") == 0) {
		if (ts_time_parse(v, &is->revoke_before) != 0)
			return perr(p, "revoke_before \"%s\" is not YYYY-MM-DDTHH:MM:SSZ", v);
		is->has_revoke_before = 1;
	} else if (strcmp(k, "accept_client_audience") == 0) {
		if (strcmp(v, "yes") == 0)
			is->accept_client_audience = 1;
		else if (strcmp(v, "no") == 0)
			is->accept_client_audience = 0;
		else
			return perr(p, "accept_client_audience must be yes or no");
	} else if (strcmp(k, "discovery") == 0 || strcmp(k, "jwks_uri") == 0) {
		/* fetched over HTTPS only, with certificate verification */
		if (strncmp(v, "https://", 8) != 0 || strpbrk(v, " \t") != NULL)
			return perr(p, "%s must be an https:// URL", k);
		return set_str(p, k[0] == 'd' ? &is->discovery : &is->jwks_uri, v);
	} else {
		return perr(p, "unknown setting \"%s\" in an [issuer] section", k);
	}
	return TS_OK;
}

static ts_reason
set_service(parser *p, const char *k, const char *v)
{
	ts_service_conf *s = &p->c->services[p->c->nservices - 1];
	ts_strlist *l;

	if (strcmp(k, "issuers") == 0) {
		l = &s->issuers;
	} else if (strcmp(k, "audiences") == 0) {
		l = &s->audiences;
	} else if (strcmp(k, "required_scopes") == 0) {
		l = &s->required_scopes;
	} else {
		return perr(p, "unknown setting \"%s\" in a [service] section", k);
	}
	if (strlist_parse(v, l) != 0)
		return perr(p, "%s: empty list", k);
	return TS_OK;
}

static ts_reason
new_issuer(parser *p, const char *name)
{
	ts_conf *c = p->c;
	ts_issuer_conf *n;
	size_t i;

	for (i = 0; i < c->nissuers; i++)
		if (strcmp(c->issuers[i].name, name) == 0)
			return perr(p, "duplicate section [issuer %s]", name);
	if ((n = realloc(c->issuers, (c->nissuers + 1) * sizeof(*n))) == NULL)
		return TS_R_INTERNAL;
	c->issuers = n;
	n = &c->issuers[c->nissuers];
	memset(n, 0, sizeof(*n));
	n->max_lifetime = DEFAULT_MAX_LIFETIME;
	n->line = p->line;
	c->nissuers++; /* counted before the strdups, so ts_conf_free sees them */
	if ((n->name = strdup(name)) == NULL || (n->username_claim = strdup("sub")) == NULL)
		return TS_R_INTERNAL;
	p->sec = SEC_ISSUER;
	return TS_OK;
}

static ts_reason
new_service(parser *p, const char *name)
{
	ts_conf *c = p->c;
	ts_service_conf *n;
	size_t i;

	for (i = 0; i < c->nservices; i++)
		if (strcmp(c->services[i].name, name) == 0)
			return perr(p, "duplicate section [service %s]", name);
	if ((n = realloc(c->services, (c->nservices + 1) * sizeof(*n))) == NULL)
		return TS_R_INTERNAL;
	c->services = n;
	n = &c->services[c->nservices];
	memset(n, 0, sizeof(*n));
	n->line = p->line;
	c->nservices++;
	if ((n->name = strdup(name)) == NULL)
		return TS_R_INTERNAL;
	p->sec = SEC_SERVICE;
	return TS_OK;
}

/* "[global]", "[issuer NAME]" or "[service NAME]". */
static ts_reason
open_section(parser *p, char *line)
{
	char *end = strchr(line, ']'), *name;

	if (end == NULL || end[1] != '\0')
		return perr(p, "malformed section header");
	*end = '\0';
	line++;
	p->nseen = 0;
	if (strcmp(line, "global") == 0) {
		if (p->seen_global)
			return perr(p, "duplicate section [global]");
		p->seen_global = 1;
		p->sec = SEC_GLOBAL;
		return TS_OK;
	}
	if ((name = strchr(line, ' ')) == NULL)
		return perr(p, "unknown section [%s]", line);
	*name++ = '\0';
	if (strcmp(line, "issuer") != 0 && strcmp(line, "service") != 0)
		return perr(p, "unknown section [%s %s]", line, name);
	if (!valid_name(name))
		return perr(p, "%s section name \"%s\" must be [A-Za-z0-9._-]{1,64}", line, name);
	return strcmp(line, "issuer") == 0 ? new_issuer(p, name) : new_service(p, name);
}

static char *
trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

static ts_reason
parse_line(parser *p, char *line)
{
	char *hash, *eq, *k, *v;

	/* a comment starts a line or follows whitespace ("value  # note") */
	for (hash = line; (hash = strchr(hash, '#')) != NULL; hash++) {
		if (hash == line || hash[-1] == ' ' || hash[-1] == '\t') {
			*hash = '\0';
			break;
		}
	}
	line = trim(line);
	if (*line == '\0')
		return TS_OK;
	if (*line == '[')
		return open_section(p, line);
	if ((eq = strchr(line, '=')) == NULL)
		return perr(p, "expected \"setting = value\"");
	*eq = '\0';
	k = trim(line);
	v = trim(eq + 1);
	if (*v == '\0')
		return perr(p, "setting \"%s\" has no value", k);
	if (seen_before(p, k))
		return perr(p, "duplicate setting \"%s\" in this section", k);
	switch (p->sec) {
	case SEC_GLOBAL: return set_global(p, k, v);
	case SEC_ISSUER: return set_issuer(p, k, v);
	case SEC_SERVICE: return set_service(p, k, v);
	case SEC_NONE: break;
	}
	return perr(p, "setting \"%s\" outside any section", k);
}

/* Cross-section checks, reported at the line of the section concerned. */
static ts_reason
check_conf(parser *p)
{
	ts_conf *c = p->c;
	size_t i, j, k;

	for (i = 0; i < c->nissuers; i++) {
		ts_issuer_conf *is = &c->issuers[i];

		p->line = is->line;
		if (is->issuer == NULL)
			return perr(p, "[issuer %s] has no \"issuer\"", is->name);
		if (is->algorithms == 0)
			return perr(p, "[issuer %s] has no \"algorithms\" allow-list", is->name);
		if (is->nkeys == 0)
			return perr(p, "[issuer %s] has no \"key\"", is->name);
		if (is->discovery != NULL && is->jwks_uri != NULL)
			return perr(
			    p, "[issuer %s] has both \"discovery\" and \"jwks_uri\"", is->name);
		if ((is->discovery != NULL || is->jwks_uri != NULL) &&
		    (is->nkeys != 1 || is->keys[0].kid != NULL ||
		        is->keys[0].alg != TS_ALG_INVALID))
			return perr(p,
			    "[issuer %s]: fetch-keys writes one key file: with \"discovery\" or "
			    "\"jwks_uri\" the section needs exactly one \"key\" line, without kid= "
			    "or "
			    "alg=",
			    is->name);
		for (k = 0; k < is->nkeys; k++) {
			if (is->keys[k].alg != TS_ALG_INVALID &&
			    !(is->algorithms & (1u << is->keys[k].alg))) {
				p->line = is->keys[k].line;
				return perr(p, "key alg %s is not in [issuer %s] algorithms",
				    ts_alg_name(is->keys[k].alg), is->name);
			}
		}
	}
	for (i = 0; i < c->nservices; i++) {
		ts_service_conf *s = &c->services[i];

		p->line = s->line;
		if (s->issuers.n == 0)
			return perr(p, "[service %s] has no \"issuers\"", s->name);
		if (s->audiences.n == 0)
			return perr(p, "[service %s] has no \"audiences\"", s->name);
		if ((s->issuer_idx = calloc(s->issuers.n, sizeof(size_t))) == NULL)
			return TS_R_INTERNAL;
		for (j = 0; j < s->issuers.n; j++) {
			for (k = 0; k < c->nissuers; k++)
				if (strcmp(c->issuers[k].name, s->issuers.v[j]) == 0)
					break;
			if (k == c->nissuers)
				return perr(p, "[service %s] names unknown issuer section \"%s\"",
				    s->name, s->issuers.v[j]);
			s->issuer_idx[j] = k;
			/* one iss value must lead to one section within a service */
			for (k = 0; k < j; k++) {
				const ts_issuer_conf *a = &c->issuers[s->issuer_idx[k]];
				const ts_issuer_conf *b = &c->issuers[s->issuer_idx[j]];

				if (a == b ||
				    (a->issuer_len == b->issuer_len &&
				        memcmp(a->issuer, b->issuer, a->issuer_len) == 0))
					return perr(p, "[service %s] lists issuer \"%s\" twice",
					    s->name, b->issuer);
			}
		}
	}
	return TS_OK;
}

/* Key paths resolve against the config's folder, which must not depend on
 * the working directory of a later reload (daemons chdir). */
static char *
absolute(const char *path)
{
	char cwd[4096], *r;

	if (path[0] == '/')
		return strdup(path);
	if (getcwd(cwd, sizeof(cwd)) == NULL ||
	    (r = malloc(strlen(cwd) + strlen(path) + 2)) == NULL)
		return NULL;
	sprintf(r, "%s/%s", cwd, path);
	return r;
}

ts_reason
ts_conf_parse(const char *path, char *buf, size_t len, ts_conf **out, ts_err *e)
{
	parser p;
	ts_err local;
	ts_conf *c = NULL;
	char *line, *next, *slash;
	ts_reason r = TS_R_INTERNAL;

	*out = NULL;
	if (e == NULL)
		e = &local;
	memset(&p, 0, sizeof(p));
	p.e = e;
	p.file = path;
	if ((c = calloc(1, sizeof(*c))) == NULL || (c->path = absolute(path)) == NULL ||
	    (c->dir = strdup(c->path)) == NULL)
		goto out;
	slash = strrchr(c->dir, '/');
	if (slash == NULL)
		strcpy(c->dir, ".");
	else if (slash == c->dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	c->clock_skew = DEFAULT_SKEW;
	c->max_token_size = TS_TOKEN_DEFAULT_MAX;
	c->reload_interval = DEFAULT_RELOAD_INTERVAL;
	p.c = c;
	if (memchr(buf, '\0', len) != NULL) {
		r = ts_fail(e, TS_R_CONFIG_ERROR, "%s: contains a NUL byte", path);
		goto out;
	}
	for (line = buf; line != NULL; line = next) {
		p.line++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		e->msg[0] = '\0';
		if ((r = parse_line(&p, line)) != TS_OK)
			goto out;
	}
	if ((r = check_conf(&p)) != TS_OK)
		goto out;
	*out = c;
	c = NULL; /* transferred */
	r = TS_OK;
out:
	if (r == TS_R_INTERNAL)
		ts_fail(e, r, "%s: out of memory", path);
	ts_conf_free(c);
	return r;
}

ts_reason
ts_conf_load(const char *path, ts_conf **out, struct ts_file_id *id, ts_err *e)
{
	char *buf = NULL;
	size_t len = 0;
	ts_reason r;

	*out = NULL;
	if ((r = ts_read_file(path, TS_CONF_MAX_SIZE, 0, &buf, &len, id, e)) != TS_OK)
		return r;
	r = ts_conf_parse(path, buf, len, out, e);
	free(buf);
	return r;
}

void
ts_conf_free(ts_conf *c)
{
	size_t i, k;

	if (c == NULL)
		return;
	for (i = 0; i < c->nissuers; i++) {
		ts_issuer_conf *is = &c->issuers[i];

		free(is->name);
		free(is->issuer);
		for (k = 0; k < is->nkeys; k++) {
			free(is->keys[k].path);
			free(is->keys[k].kid);
		}
		free(is->keys);
		free(is->tenant);
		free(is->discovery);
		free(is->jwks_uri);
		strlist_free(&is->clients);
		free(is->username_claim);
		free(is->strip_domain);
	}
	for (i = 0; i < c->nservices; i++) {
		free(c->services[i].name);
		strlist_free(&c->services[i].issuers);
		strlist_free(&c->services[i].audiences);
		strlist_free(&c->services[i].required_scopes);
		free(c->services[i].issuer_idx);
	}
	free(c->issuers);
	free(c->services);
	free(c->path);
	free(c->dir);
	free(c->revoked_keys);
	free(c->approved_keys);
	free(c->replay_cache);
	free(c);
}

const ts_service_conf *
ts_conf_service(const ts_conf *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nservices; i++)
		if (strcmp(c->services[i].name, name) == 0)
			return &c->services[i];
	return NULL;
}

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
		line = trim(line);
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
		k = trim(line);
		v = trim(eq + 1);
		if (*v == '\0' || section[0] == '\0')
			continue;
		if (strcmp(section, "[global]") == 0) {
			if (strcmp(k, "revoked_keys") == 0 && out->revoked_keys == NULL &&
			    (out->revoked_keys = join_path(dir, v, strlen(v))) == NULL)
				goto oom;
		} else if (strcmp(k, "key") == 0) {
			if (names_add(out, section, dir, v) != 0)
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
