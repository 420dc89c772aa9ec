/* conf.c: the tokenscope.conf parser (see conf.h). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "jws.h"
#include "safe_file.h"
#include "strset.h"
#include "timeutil.h"
#include "usermap.h"

#define DEFAULT_SKEW 60
#define DEFAULT_MAX_LIFETIME 86400
#define DEFAULT_RELOAD_INTERVAL 1
#define DEFAULT_FETCH_INTERVAL 60

/* The section values are ts_conf_section's, so that ts_conf_dump() reads
 * the rows of keywords[] by them. */
enum section {
	SEC_NONE = 0,
	SEC_GLOBAL = TS_CONF_GLOBAL,
	SEC_ISSUER = TS_CONF_ISSUER,
	SEC_SERVICE = TS_CONF_SERVICE
};

typedef struct parser {
	ts_conf *c;
	const char *file;
	int line;
	enum section sec;
	int seen_global;
	unsigned char *seen; /* per row of keywords[]: given in this section */
	ts_err *e;
	size_t issuers_cap; /* rows of c->issuers (issuer_rows) */
	char *sub; /* the default username_claim, shared */
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

	for (i = 0; !l->borrowed && i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* The next word of *s (spaces and tabs between words), *len its length,
 * *s moved past it; NULL when no word is left. */
static const char *
next_word(const char **s, size_t *len)
{
	const char *w = *s + strspn(*s, " \t");

	if (*w == '\0')
		return NULL;
	*len = strcspn(w, " \t");
	*s = w + *len;
	return w;
}

#define STRLIST_EMPTY (-1)
#define STRLIST_NOMEM (-2)

/* Splits a value on spaces and tabs into a list, in place: the words stay
 * where they are, in the conf's memory. Empty lists are refused
 * (STRLIST_EMPTY), and running out of memory is told apart
 * (STRLIST_NOMEM). On any failure the list is left empty (nothing to free). */
static int
strlist_parse(char *v, ts_strlist *out)
{
	const char *s = v, *w;
	size_t n = 0, len;

	while (next_word(&s, &len) != NULL)
		n++;
	if (n == 0)
		return STRLIST_EMPTY;
	if ((out->v = malloc(n * sizeof(*out->v))) == NULL)
		return STRLIST_NOMEM;
	out->borrowed = 1;
	for (s = v; (w = next_word(&s, &len)) != NULL; out->n++) {
		char *end = v + (w - v) + len;
		int more = *end != '\0';

		*end = '\0';
		out->v[out->n] = end - len;
		if (more)
			s = end + 1;
	}
	return 0;
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

/* v itself when absolute, else anchored at the config's folder (a copy in
 * the conf's memory); NULL when out of memory. */
static char *
abs_path(parser *p, char *v)
{
	size_t dl, vl;
	char *r;

	if (v[0] == '/')
		return v;
	dl = strlen(p->c->dir);
	vl = strlen(v);
	if ((r = ts_arena_alloc(&p->c->mem, dl + vl + 2)) != NULL) {
		memcpy(r, p->c->dir, dl);
		r[dl] = '/';
		memcpy(r + dl + 1, v, vl + 1);
	}
	return r;
}

/* One key line, split in place (its words stay in the conf's memory). */
static ts_reason
parse_keyspec(parser *p, ts_issuer_conf *is, char *v)
{
	ts_keyspec ks, *nk;
	char *tok, *save = NULL;
	int first = 1;

	memset(&ks, 0, sizeof(ks));
	ks.line = p->line;
	for (tok = strtok_r(v, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		char *eq = strchr(tok, '=');

		if (first) {
			if (eq != NULL)
				return perr(p, "key: the file path comes first");
			if ((ks.path = abs_path(p, tok)) == NULL)
				return TS_R_INTERNAL;
			first = 0;
			continue;
		}
		if (eq == NULL)
			return perr(p, "key: \"%s\" is not attr=value", tok);
		*eq++ = '\0';
		if (strcmp(tok, "kid") == 0 && ks.kid == NULL) {
			if (*eq == '\0' || strlen(eq) > TS_KID_MAX)
				return perr(p, "key: kid must be 1..256 bytes");
			ks.kid = eq;
		} else if (strcmp(tok, "alg") == 0 && ks.alg == TS_ALG_INVALID) {
			if ((ks.alg = ts_alg_from_name(eq, strlen(eq))) == TS_ALG_INVALID)
				return perr(p, "key: unknown alg \"%s\"", eq);
		} else if (strcmp(tok, "not_before") == 0 && !ks.has_not_before) {
			if (ts_time_parse(eq, &ks.not_before) != 0)
				return perr(
				    p, "key: not_before \"%s\" is not YYYY-MM-DDTHH:MM:SSZ", eq);
			ks.has_not_before = 1;
		} else if (strcmp(tok, "not_after") == 0 && !ks.has_not_after) {
			if (ts_time_parse(eq, &ks.not_after) != 0)
				return perr(
				    p, "key: not_after \"%s\" is not YYYY-MM-DDTHH:MM:SSZ", eq);
			ks.has_not_after = 1;
		} else {
			return perr(p, "key: unknown or repeated attribute \"%s\"", tok);
		}
	}
	if (ks.path == NULL)
		return perr(p, "key: no file named");
	if (ks.has_not_before && ks.has_not_after && ks.not_after <= ks.not_before)
		return perr(p, "key: not_after is not later than not_before");
	/* the rows double in the conf's memory: a new array at 1, 2, 4, ... */
	if ((is->nkeys & (is->nkeys - 1)) == 0) {
		size_t cap = is->nkeys ? 2 * is->nkeys : 1;

		if ((nk = ts_arena_alloc(&p->c->mem, cap * sizeof(*nk))) == NULL)
			return TS_R_INTERNAL;
		if (is->nkeys > 0)
			memcpy(nk, is->keys, is->nkeys * sizeof(*nk));
		is->keys = nk;
	}
	is->keys[is->nkeys++] = ks;
	return TS_OK;
}

/*
 * The settings: one row each, read by the parser, by the duplicate check
 * and by `tokenscope check-config -n` (ts_conf_dump), so that a name, where
 * it is allowed, how it is read and how it is shown cannot drift apart.
 * A setter gets the struct of the section it appears in (ts_conf,
 * ts_issuer_conf or ts_service_conf) and the row, whose `off` locates its
 * field there. A printer writes nothing for a setting left at "none".
 * The order of the rows is the order check-config -n prints. The lenient
 * scan of K11 (ts_conf_scan_buf) reads three of these names on its own,
 * past errors, on purpose.
 */
typedef struct keyword keyword;
struct keyword {
	const char *name;
	unsigned sections; /* SECTION(SEC_...) bits */
	int repeatable;
	ts_reason (*set)(parser *p, const keyword *kw, void *sec, char *v);
	void (*print)(FILE *f, const keyword *kw, const void *sec);
	size_t off; /* of the field in the section's struct */
	long min, max; /* set_long, set_size */
	const char *unit; /* set_long, set_size: for the message */
};

#define SECTION(s) (1u << (s))
#define FIELD(type, sec, kw) ((type *)(void *)((char *)(sec) + (kw)->off))
#define CFIELD(type, sec, kw) ((type const *)(const void *)((const char *)(sec) + (kw)->off))

static void
print_name(FILE *f, const keyword *kw)
{
	fprintf(f, "%-22s=", kw->name);
}

static ts_reason
set_long(parser *p, const keyword *kw, void *sec, char *v)
{
	if (parse_long(v, kw->min, kw->max, FIELD(long, sec, kw)))
		return perr(p, "%s must be %ld..%ld %s", kw->name, kw->min, kw->max, kw->unit);
	return TS_OK;
}

static void
print_long(FILE *f, const keyword *kw, const void *sec)
{
	print_name(f, kw);
	fprintf(f, " %ld\n", *CFIELD(long, sec, kw));
}

/* A long left at 0 (not checked) prints nothing. */
static void
print_long_set(FILE *f, const keyword *kw, const void *sec)
{
	if (*CFIELD(long, sec, kw) != 0)
		print_long(f, kw, sec);
}

static ts_reason
set_size(parser *p, const keyword *kw, void *sec, char *v)
{
	long n;

	if (parse_long(v, kw->min, kw->max, &n))
		return perr(p, "%s must be %ld..%ld %s", kw->name, kw->min, kw->max, kw->unit);
	*FIELD(size_t, sec, kw) = (size_t)n;
	return TS_OK;
}

static void
print_size(FILE *f, const keyword *kw, const void *sec)
{
	print_name(f, kw);
	fprintf(f, " %zu\n", *CFIELD(size_t, sec, kw));
}

/* A string setting: the value where it stands, in the conf's memory. */
static ts_reason
set_str(parser *p, const keyword *kw, void *sec, char *v)
{
	*FIELD(char *, sec, kw) = v;
	return TS_OK;
}

static void
print_str(FILE *f, const keyword *kw, const void *sec)
{
	const char *v = *CFIELD(char *, sec, kw);

	if (v == NULL)
		return;
	print_name(f, kw);
	fprintf(f, " %s\n", v);
}

/* A file path, anchored at the config's folder when relative. */
static ts_reason
set_path(parser *p, const keyword *kw, void *sec, char *v)
{
	char **dst = FIELD(char *, sec, kw);

	return (*dst = abs_path(p, v)) == NULL ? TS_R_INTERNAL : TS_OK;
}

/* Fetched over HTTPS only, with certificate verification. */
static ts_reason
set_https(parser *p, const keyword *kw, void *sec, char *v)
{
	if (strncmp(v, "https://", 8) != 0 || strpbrk(v, " \t") != NULL)
		return perr(p, "%s must be an https:// URL", kw->name);
	return set_str(p, kw, sec, v);
}

/* Space-separated words; empty lists are refused. */
static ts_reason
set_list(parser *p, const keyword *kw, void *sec, char *v)
{
	int r = strlist_parse(v, FIELD(ts_strlist, sec, kw));

	if (r == STRLIST_NOMEM)
		return TS_R_INTERNAL;
	return r != 0 ? perr(p, "%s: empty list", kw->name) : TS_OK;
}

static void
print_list(FILE *f, const keyword *kw, const void *sec)
{
	const ts_strlist *l = CFIELD(ts_strlist, sec, kw);
	size_t i;

	if (l->n == 0)
		return;
	print_name(f, kw);
	for (i = 0; i < l->n; i++)
		fprintf(f, " %s", l->v[i]);
	fprintf(f, "\n");
}

static ts_reason
set_log_level(parser *p, const keyword *kw, void *sec, char *v)
{
	ts_conf *c = sec;

	if (strcmp(v, "info") == 0)
		c->log_debug = 0;
	else if (strcmp(v, "debug") == 0)
		c->log_debug = 1;
	else
		return perr(p, "log_level must be info or debug");
	return TS_OK;
}

static void
print_log_level(FILE *f, const keyword *kw, const void *sec)
{
	const ts_conf *c = sec;

	print_name(f, kw);
	fprintf(f, " %s\n", c->log_debug ? "debug" : "info");
}

/* M8: decision and alert lines as key=value text or as one JSON object. */
static ts_reason
set_log_format(parser *p, const keyword *kw, void *sec, char *v)
{
	ts_conf *c = sec;

	(void)kw;
	if (strcmp(v, "text") == 0)
		c->log_json = 0;
	else if (strcmp(v, "json") == 0)
		c->log_json = 1;
	else
		return perr(p, "log_format must be text or json");
	return TS_OK;
}

static void
print_log_format(FILE *f, const keyword *kw, const void *sec)
{
	const ts_conf *c = sec;

	print_name(f, kw);
	fprintf(f, " %s\n", c->log_json ? "json" : "text");
}

/* K3: compared byte for byte, so no space may hide in it. */
static ts_reason
set_issuer(parser *p, const keyword *kw, void *sec, char *v)
{
	ts_issuer_conf *is = sec;

	if (strpbrk(v, " \t") != NULL)
		return perr(p, "issuer must not contain spaces");
	is->issuer_len = strlen(v);
	return set_str(p, kw, sec, v);
}

static ts_reason
set_key(parser *p, const keyword *kw, void *sec, char *v)
{
	return parse_keyspec(p, sec, v);
}

static ts_reason
set_algorithms(parser *p, const keyword *kw, void *sec, char *v)
{
	ts_issuer_conf *is = sec;
	const char *rest = v, *w;
	size_t len;

	while ((w = next_word(&rest, &len)) != NULL) {
		ts_alg a = ts_alg_from_name(w, len);

		if (a == TS_ALG_INVALID)
			return perr(
			    p, "algorithms: \"%.*s\" is not a supported algorithm", (int)len, w);
		is->algorithms |= 1u << a;
	}
	return is->algorithms == 0 ? perr(p, "algorithms: empty list") : TS_OK;
}

static void
print_algorithms(FILE *f, const keyword *kw, const void *sec)
{
	const ts_issuer_conf *is = sec;
	int a;

	print_name(f, kw);
	for (a = 1; a < TS_ALG__COUNT; a++)
		if (is->algorithms & (1u << a))
			fprintf(f, " %s", ts_alg_name((ts_alg)a));
	fprintf(f, "\n");
}

static ts_reason
set_token_type(parser *p, const keyword *kw, void *sec, char *v)
{
	ts_issuer_conf *is = sec;

	if (strcmp(v, "at+jwt") == 0)
		is->token_type = TS_TYP_AT_JWT;
	else if (strcmp(v, "jwt") == 0)
		is->token_type = TS_TYP_JWT;
	else
		return perr(p, "token_type must be at+jwt or jwt");
	return TS_OK;
}

static void
print_token_type(FILE *f, const keyword *kw, const void *sec)
{
	const ts_issuer_conf *is = sec;

	print_name(f, kw);
	fprintf(f, " %s\n", is->token_type == TS_TYP_AT_JWT ? "at+jwt" : "jwt");
}

static ts_reason
set_revoke_before(parser *p, const keyword *kw, void *sec, char *v)
{
	ts_issuer_conf *is = sec;

	if (ts_time_parse(v, &is->revoke_before) != 0)
		return perr(p, "revoke_before \"%s\" is not YYYY-MM-DDTHH:MM:SSZ", v);
	is->has_revoke_before = 1;
	return TS_OK;
}

static void
print_revoke_before(FILE *f, const keyword *kw, const void *sec)
{
	const ts_issuer_conf *is = sec;
	char t[32];

	if (!is->has_revoke_before)
		return;
	if (is->revoke_before == 0)
		snprintf(t, sizeof(t), "-");
	else
		ts_time_format(is->revoke_before, t, sizeof(t));
	print_name(f, kw);
	fprintf(f, " %s\n", t);
}

/* yes or no into an int; shown only when yes. */
static ts_reason
set_yesno(parser *p, const keyword *kw, void *sec, char *v)
{
	int *dst = FIELD(int, sec, kw);

	if (strcmp(v, "yes") == 0)
		*dst = 1;
	else if (strcmp(v, "no") == 0)
		*dst = 0;
	else
		return perr(p, "%s must be yes or no", kw->name);
	return TS_OK;
}

static void
print_yesno(FILE *f, const keyword *kw, const void *sec)
{
	if (!*CFIELD(int, sec, kw))
		return;
	print_name(f, kw);
	fprintf(f, " yes\n");
}

/* C8: member paths; a claim name holding "://" (a namespaced claim, as
 * Auth0 requires) is one name, dots and all. */
static ts_reason
set_groups_claim(parser *p, const keyword *kw, void *sec, char *v)
{
	const ts_strlist *l = FIELD(ts_strlist, sec, kw);
	ts_reason r = set_list(p, kw, sec, v);
	size_t i;

	for (i = 0; r == TS_OK && i < l->n; i++) {
		const char *s = l->v[i];
		size_t n = strlen(s);

		const char *url = strstr(s, "://");

		if (n > TS_CLAIM_PATH_MAX ||
		    (url == NULL && (s[0] == '.' || s[n - 1] == '.' || strstr(s, "..") != NULL)))
			r = perr(p,
			    "groups_claim \"%s\" is not a member path (a.b.c, at most %d bytes)", s,
			    TS_CLAIM_PATH_MAX);
		/* C8: a claim named by a URL (Auth0's namespaced claims) is read
		 * as one whole name; a path into a member named by a URL or with
		 * dots (a Keycloak client id) cannot be written, and would find
		 * nothing: for denied_groups, silently nothing denied */
		else if (url != NULL && memchr(s, '.', (size_t)(url - s)) != NULL)
			r = perr(p,
			    "groups_claim \"%s\": a claim named by a URL is one whole name; a "
			    "member path cannot reach into a member whose name has dots",
			    s);
	}
	return r;
}

/* K16: the tenants of a "{tenantid}" issuer: words, or a file (a value
 * with a '/': tenant IDs never hold one). */
static ts_reason
set_tenants(parser *p, const keyword *kw, void *sec, char *v)
{
	ts_issuer_conf *is = sec;
	ts_reason r;

	is->tenants_line = p->line;
	if (strchr(v, '/') == NULL)
		return set_list(p, kw, &is->tenants, v); /* kw->off is 0 */
	if (strpbrk(v, " \t") != NULL)
		return perr(p, "tenants: one file, or tenant IDs without '/'");
	r = (is->tenants_file = abs_path(p, v)) == NULL ? TS_R_INTERNAL : TS_OK;
	return r;
}

static void
print_tenants(FILE *f, const keyword *kw, const void *sec)
{
	const ts_issuer_conf *is = sec;
	size_t i;

	if (is->tenants_file == NULL && is->tenants.n == 0)
		return;
	print_name(f, kw);
	if (is->tenants_file != NULL)
		fprintf(f, " %s", is->tenants_file);
	for (i = 0; is->tenants_file == NULL && i < is->tenants.n; i++)
		fprintf(f, " %s", is->tenants.v[i]);
	fprintf(f, "\n");
}

/* K16: "{tenantid}" once in issuer, with a tenants list and no tenant. */
static ts_reason
check_template(parser *p, ts_issuer_conf *is)
{
	static const char ph[] = "{tenantid}";
	const char *at = strstr(is->issuer, ph);
	int listed = is->tenants.n > 0 || is->tenants_file != NULL;

	if (at == NULL) {
		if (listed)
			return perr(p,
			    "[issuer %s] has \"tenants\" but its issuer holds no {tenantid}",
			    is->name);
		return TS_OK;
	}
	if (strstr(at + 1, ph) != NULL)
		return perr(p, "[issuer %s]: {tenantid} more than once in issuer", is->name);
	if (!listed)
		return perr(p,
		    "[issuer %s]: an issuer with {tenantid} needs \"tenants\", the tenants this "
		    "host accepts (never any tenant)",
		    is->name);
	if (is->tenant != NULL)
		return perr(p,
		    "[issuer %s]: \"tenant\" and \"tenants\" exclude each other (each listed "
		    "tenant is checked against tid)",
		    is->name);
	is->templated = 1;
	is->tpl_pre = (size_t)(at - is->issuer);
	is->tpl_suf = is->issuer_len - is->tpl_pre - (sizeof(ph) - 1);
	return TS_OK;
}

#define G SECTION(SEC_GLOBAL)
#define I SECTION(SEC_ISSUER)
#define S SECTION(SEC_SERVICE)
#define OFF(type, member) offsetof(type, member)

static const keyword keywords[] = {
	{ "clock_skew", G, 0, set_long, print_long, OFF(ts_conf, clock_skew), 0, 600, "seconds" },
	{ "max_token_size", G, 0, set_size, print_size, OFF(ts_conf, max_token_size), 512,
	    TS_TOKEN_HARD_MAX, "bytes" },
	{ "log_level", G, 0, set_log_level, print_log_level, 0, 0, 0, NULL },
	{ "log_format", G, 0, set_log_format, print_log_format, 0, 0, 0, NULL },
	{ "reload_interval", G, 0, set_long, print_long, OFF(ts_conf, reload_interval), 0, 3600,
	    "seconds" },
	{ "revoked_keys", G, 0, set_path, print_str, OFF(ts_conf, revoked_keys), 0, 0, NULL },
	{ "replay_cache", G, 0, set_path, print_str, OFF(ts_conf, replay_cache), 0, 0, NULL },
	/* read by `tokenscope fetch-keys --pin` only */
	{ "approved_keys", G, 0, set_path, print_str, OFF(ts_conf, approved_keys), 0, 0, NULL },
	/* K14: written by the modules (a name, never read), read by fetch-keys */
	{ "fetch_spool", G, 0, set_path, print_str, OFF(ts_conf, fetch_spool), 0, 0, NULL },
	{ "fetch_interval", G, 0, set_long, print_long, OFF(ts_conf, fetch_interval), 1, 86400,
	    "seconds" },
	{ "fetch_state", G, 0, set_path, print_str, OFF(ts_conf, fetch_state), 0, 0, NULL },

	{ "issuer", I, 0, set_issuer, print_str, OFF(ts_issuer_conf, issuer), 0, 0, NULL },
	/* shown from the keyring, one "# key" line per key, by check-config */
	{ "key", I, 1, set_key, NULL, 0, 0, 0, NULL },
	{ "algorithms", I, 0, set_algorithms, print_algorithms, 0, 0, 0, NULL },
	{ "token_type", I, 0, set_token_type, print_token_type, 0, 0, 0, NULL },
	{ "tenant", I, 0, set_str, print_str, OFF(ts_issuer_conf, tenant), 0, 0, NULL },
	{ "tenants", I, 0, set_tenants, print_tenants, 0, 0, 0, NULL },
	{ "clients", I, 0, set_list, print_list, OFF(ts_issuer_conf, clients), 0, 0, NULL },
	{ "username_claim", I, 0, set_str, print_str, OFF(ts_issuer_conf, username_claim), 0, 0,
	    NULL },
	{ "username_strip_domain", I, 0, set_str, print_str, OFF(ts_issuer_conf, strip_domain), 0,
	    0, NULL },
	{ "max_lifetime", I, 0, set_long, print_long, OFF(ts_issuer_conf, max_lifetime), 1,
	    31L * 86400, "seconds" },
	{ "revoke_before", I, 0, set_revoke_before, print_revoke_before, 0, 0, 0, NULL },
	{ "accept_client_audience", I, 0, set_yesno, print_yesno,
	    OFF(ts_issuer_conf, accept_client_audience), 0, 0, NULL },
	{ "discovery", I, 0, set_https, print_str, OFF(ts_issuer_conf, discovery), 0, 0, NULL },
	{ "jwks_uri", I, 0, set_https, print_str, OFF(ts_issuer_conf, jwks_uri), 0, 0, NULL },
	{ "groups_claim", I, 0, set_groups_claim, print_list, OFF(ts_issuer_conf, groups_claims), 0,
	    0, NULL },
	{ "user_map", I, 0, set_path, print_str, OFF(ts_issuer_conf, user_map), 0, 0, NULL },
	{ "user_map_required", I, 0, set_yesno, print_yesno, OFF(ts_issuer_conf, user_map_required),
	    0, 0, NULL },

	{ "issuers", S, 0, set_list, print_list, OFF(ts_service_conf, issuers), 0, 0, NULL },
	{ "audiences", S, 0, set_list, print_list, OFF(ts_service_conf, audiences), 0, 0, NULL },
	{ "required_scopes", S, 0, set_list, print_list, OFF(ts_service_conf, required_scopes), 0,
	    0, NULL },
	{ "required_groups", S, 0, set_list, print_list, OFF(ts_service_conf, required_groups), 0,
	    0, NULL },
	{ "denied_groups", S, 0, set_list, print_list, OFF(ts_service_conf, denied_groups), 0, 0,
	    NULL },
	{ "required_acr", S, 0, set_list, print_list, OFF(ts_service_conf, required_acr), 0, 0,
	    NULL },
	{ "required_amr", S, 0, set_list, print_list, OFF(ts_service_conf, required_amr), 0, 0,
	    NULL },
	{ "max_auth_age", S, 0, set_long, print_long_set, OFF(ts_service_conf, max_auth_age), 1,
	    31L * 86400, "seconds" },
	{ "user_map", S, 0, set_path, print_str, OFF(ts_service_conf, user_map), 0, 0, NULL },
	{ "user_map_required", S, 0, set_yesno, print_yesno,
	    OFF(ts_service_conf, user_map_required), 0, 0, NULL },
	{ "allowed_users", S, 0, set_list, print_list, OFF(ts_service_conf, allowed_users), 0, 0,
	    NULL },
	{ "denied_users", S, 0, set_list, print_list, OFF(ts_service_conf, denied_users), 0, 0,
	    NULL },
	{ "allow_root", S, 0, set_yesno, print_yesno, OFF(ts_service_conf, allow_root), 0, 0,
	    NULL },
};
#define NKEYWORDS (sizeof(keywords) / sizeof(keywords[0]))

#undef G
#undef I
#undef S
#undef OFF

static ts_reason
new_issuer(parser *p, char *name)
{
	ts_conf *c = p->c;
	ts_issuer_conf *n;

	/* a duplicate name is found by check_conf, by hash: a host with
	 * thousands of tenant sections pays n, not n^2; the rows were
	 * counted before the parse (issuer_rows), so never grow */
	if (c->nissuers == p->issuers_cap)
		return TS_R_INTERNAL; /* cannot happen: every header was counted */
	n = &c->issuers[c->nissuers];
	memset(n, 0, sizeof(*n));
	n->max_lifetime = DEFAULT_MAX_LIFETIME;
	n->line = p->line;
	c->nissuers++;
	n->name = name;
	n->username_claim = p->sub;
	p->sec = SEC_ISSUER;
	return TS_OK;
}

static ts_reason
new_service(parser *p, char *name)
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
	n->name = name;
	p->sec = SEC_SERVICE;
	return TS_OK;
}

/* "[global]", "[issuer NAME]" or "[service NAME]", len bytes. */
static ts_reason
open_section(parser *p, char *line, size_t len)
{
	char *name;

	if (memchr(line, ']', len) != line + len - 1)
		return perr(p, "malformed section header");
	line[len - 1] = '\0';
	line++;
	memset(p->seen, 0, NKEYWORDS);
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

/* Spaces and tabs off both ends of s (len bytes, updated), and a CR off
 * its end; the result ends in a NUL written over what followed it. */
static char *
trim_n(char *s, size_t *len)
{
	char *end = s + *len;

	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		end--;
	*end = '\0';
	*len = (size_t)(end - s);
	return s;
}

char *
ts_conf_trim(char *s)
{
	size_t len = strlen(s);

	return trim_n(s, &len);
}

/* The struct the settings of the current section go into. */
static void *
section_struct(parser *p)
{
	switch (p->sec) {
	case SEC_GLOBAL: return p->c;
	case SEC_ISSUER: return &p->c->issuers[p->c->nissuers - 1];
	case SEC_SERVICE: return &p->c->services[p->c->nservices - 1];
	case SEC_NONE: break;
	}
	return NULL;
}

/* One line of len bytes (its end may be overwritten): each is looked at a
 * bounded number of times, since a host with thousands of sections has
 * tens of thousands of lines. */
static ts_reason
parse_line(parser *p, char *line, size_t len)
{
	char *hash, *eq, *k, *v;
	size_t i, klen, vlen;

	/* a comment starts a line or follows whitespace ("value  # note") */
	for (hash = line; (hash = memchr(hash, '#', len - (size_t)(hash - line))) != NULL; hash++) {
		if (hash == line || hash[-1] == ' ' || hash[-1] == '\t') {
			len = (size_t)(hash - line);
			break;
		}
	}
	line = trim_n(line, &len);
	if (len == 0)
		return TS_OK;
	if (*line == '[')
		return open_section(p, line, len);
	if ((eq = memchr(line, '=', len)) == NULL)
		return perr(p, "expected \"setting = value\"");
	klen = (size_t)(eq - line);
	vlen = len - klen - 1;
	k = trim_n(line, &klen);
	v = trim_n(eq + 1, &vlen);
	if (vlen == 0)
		return perr(p, "setting \"%s\" has no value", k);
	if (p->sec == SEC_NONE)
		return perr(p, "setting \"%s\" outside any section", k);
	for (i = 0; i < NKEYWORDS; i++)
		if ((keywords[i].sections & SECTION(p->sec)) && keywords[i].name[0] == k[0] &&
		    strcmp(keywords[i].name, k) == 0)
			break;
	if (i == NKEYWORDS)
		return perr(p, "unknown setting \"%s\" in %s", k,
		    p->sec == SEC_GLOBAL       ? "[global]"
		        : p->sec == SEC_ISSUER ? "an [issuer] section"
		                               : "a [service] section");
	if (p->seen[i] && !keywords[i].repeatable)
		return perr(p, "duplicate setting \"%s\" in this section", k);
	p->seen[i] = 1;
	return keywords[i].set(p, &keywords[i], section_struct(p), v);
}

/* C8, C10: what a service asks of each of its issuers' tokens must be
 * something the issuer's section says how to find. */
static ts_reason
check_service_issuer(parser *p, const ts_service_conf *s, const ts_issuer_conf *is)
{
	if ((s->required_groups.n > 0 || s->denied_groups.n > 0) && is->groups_claims.n == 0)
		return perr(p,
		    "[service %s] has group rules but [issuer %s] has no \"groups_claim\"", s->name,
		    is->name);
	if ((s->user_map_required || is->user_map_required) && s->user_map == NULL &&
	    is->user_map == NULL)
		return perr(p,
		    "[service %s] requires a user map but neither it nor [issuer %s] has "
		    "\"user_map\"",
		    s->name, is->name);
	return TS_OK;
}

/* One service's issuer names resolved (names: the sections by name), and
 * one iss value leading to one section. By hash, not pairwise: a service
 * may name thousands of tenant sections. */
static ts_reason
check_service(parser *p, ts_service_conf *s, const ts_strset *names)
{
	ts_conf *c = p->c;
	ts_strset seen;
	size_t j;
	ts_reason r = TS_OK;

	p->line = s->line;
	if (s->issuers.n == 0)
		return perr(p, "[service %s] has no \"issuers\"", s->name);
	if (s->audiences.n == 0)
		return perr(p, "[service %s] has no \"audiences\"", s->name);
	if ((s->issuer_idx = calloc(s->issuers.n, sizeof(size_t))) == NULL)
		return TS_R_INTERNAL;
	for (j = 0; j < s->issuers.n && r == TS_OK; j++) {
		const char *name = s->issuers.v[j];
		size_t i = ts_strset_get(names, name, strlen(name));

		if (i == TS_STRSET_NONE)
			return perr(
			    p, "[service %s] names unknown issuer section \"%s\"", s->name, name);
		s->issuer_idx[j] = i;
		r = check_service_issuer(p, s, &c->issuers[i]);
	}
	if (r != TS_OK)
		return r;
	/* one iss value must lead to one section within a service */
	if (ts_strset_init(&seen, s->issuers.n) != 0)
		return TS_R_INTERNAL;
	for (j = 0; j < s->issuers.n && r == TS_OK; j++) {
		const ts_issuer_conf *is = &c->issuers[s->issuer_idx[j]];

		if (ts_strset_put(&seen, is->issuer, is->issuer_len, j) != TS_STRSET_NONE)
			r = perr(p, "[service %s] lists issuer \"%s\" twice", s->name, is->issuer);
	}
	ts_strset_free(&seen);
	return r;
}

/* Two [issuer] sections of one name, reported at the later one; *names
 * gets every section by name. */
static ts_reason
check_names(parser *p, ts_strset *names)
{
	size_t i;

	if (ts_strset_init(names, p->c->nissuers) != 0)
		return TS_R_INTERNAL;
	for (i = 0; i < p->c->nissuers; i++) {
		const ts_issuer_conf *is = &p->c->issuers[i];

		if (ts_strset_put(names, is->name, strlen(is->name), i) != TS_STRSET_NONE) {
			p->line = is->line;
			return perr(p, "duplicate section [issuer %s]", is->name);
		}
	}
	return TS_OK;
}

/* One [issuer] section's own settings, together. */
static ts_reason
check_issuer(parser *p, ts_issuer_conf *is)
{
	size_t k;
	ts_reason r;

	p->line = is->line;
	if (is->issuer == NULL)
		return perr(p, "[issuer %s] has no \"issuer\"", is->name);
	if (is->algorithms == 0)
		return perr(p, "[issuer %s] has no \"algorithms\" allow-list", is->name);
	if (is->nkeys == 0)
		return perr(p, "[issuer %s] has no \"key\"", is->name);
	if ((r = check_template(p, is)) != TS_OK)
		return r;
	if (is->discovery != NULL && is->jwks_uri != NULL)
		return perr(p, "[issuer %s] has both \"discovery\" and \"jwks_uri\"", is->name);
	if ((is->discovery != NULL || is->jwks_uri != NULL) &&
	    (is->nkeys != 1 || is->keys[0].kid != NULL || is->keys[0].alg != TS_ALG_INVALID))
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
	return TS_OK;
}

static ts_reason
check_conf(parser *p)
{
	ts_conf *c = p->c;
	ts_strset names = { NULL, 0 };
	size_t i;
	ts_reason r = check_names(p, &names);

	for (i = 0; i < c->nissuers && r == TS_OK; i++)
		r = check_issuer(p, &c->issuers[i]);
	for (i = 0; i < c->nservices && r == TS_OK; i++)
		r = check_service(p, &c->services[i], &names);
	ts_strset_free(&names);
	return r;
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

/* How many lines of text open with "[issuer " (after blanks): at least
 * one per [issuer] section, and no more than a file of that many sections
 * would hold, so that the rows are allocated once (a host may have
 * thousands) and a file cannot ask for more than its sections need. */
static size_t
issuer_rows(const char *text, size_t len)
{
	static const char hdr[] = "[issuer ";
	const char *s = text, *end = text + len, *b;
	size_t n = 0;

	while ((s = memchr(s, '[', (size_t)(end - s))) != NULL) {
		for (b = s; b > text && (b[-1] == ' ' || b[-1] == '\t'); b--)
			;
		if ((b == text || b[-1] == '\n') && (size_t)(end - s) >= sizeof(hdr) - 1 &&
		    memcmp(s, hdr, sizeof(hdr) - 1) == 0)
			n++;
		s++;
	}
	return n;
}

/* Parses text (len bytes and a NUL, in *mem), taking mem over: its blocks
 * are the new conf's, or freed on failure. */
static ts_reason
parse_text(const char *path, ts_arena *mem, char *text, size_t len, ts_conf **out, ts_err *e)
{
	parser p;
	unsigned char seen[NKEYWORDS];
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
	p.seen = seen;
	memset(seen, 0, sizeof(seen));
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		ts_arena_free(mem);
		goto out;
	}
	c->mem = *mem;
	memset(mem, 0, sizeof(*mem)); /* transferred */
	if ((c->path = absolute(path)) == NULL || (c->dir = strdup(c->path)) == NULL)
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
	c->fetch_interval = DEFAULT_FETCH_INTERVAL;
	p.c = c;
	if (memchr(text, '\0', len) != NULL) {
		r = ts_fail(e, TS_R_CONFIG_ERROR, "%s: contains a NUL byte", path);
		goto out;
	}
	if ((p.sub = ts_arena_strndup(&c->mem, "sub", 3)) == NULL)
		goto out;
	if ((p.issuers_cap = issuer_rows(text, len)) > 0 &&
	    (c->issuers = ts_arena_alloc(&c->mem, p.issuers_cap * sizeof(*c->issuers))) == NULL)
		goto out;
	for (line = text; line != NULL; line = next) {
		size_t left = len - (size_t)(line - text);

		p.line++;
		if ((next = memchr(line, '\n', left)) != NULL)
			*next++ = '\0';
		e->msg[0] = '\0';
		r = parse_line(&p, line, next != NULL ? (size_t)(next - 1 - line) : left);
		if (r != TS_OK)
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
ts_conf_parse(const char *path, const char *buf, size_t len, ts_conf **out, ts_err *e)
{
	ts_arena mem = { NULL, NULL, 0, 0 };
	ts_err local;
	char *text;

	*out = NULL;
	if (e == NULL)
		e = &local;
	/* the bound ts_conf_load's read keeps */
	if (len > TS_CONF_MAX_SIZE)
		return ts_fail(
		    e, TS_R_CONFIG_ERROR, "%s: larger than %d bytes", path, TS_CONF_MAX_SIZE);
	if ((text = ts_arena_strndup(&mem, buf, len)) == NULL)
		return ts_fail(e, TS_R_INTERNAL, "%s: out of memory", path);
	return parse_text(path, &mem, text, len, out, e);
}

/* The file is read straight into the conf's memory. */
static char *
arena_get(void *arg, size_t size)
{
	return ts_arena_alloc(arg, size);
}

ts_reason
ts_conf_load(const char *path, ts_conf **out, struct ts_file_id *id, ts_err *e)
{
	ts_arena mem = { NULL, NULL, 0, 0 };
	char *text = NULL;
	size_t len = 0;
	ts_reason r;

	*out = NULL;
	r = ts_read_file_with(path, TS_CONF_MAX_SIZE, 0, arena_get, &mem, &text, &len, id, e);
	if (r != TS_OK) {
		ts_arena_free(&mem);
		return r;
	}
	return parse_text(path, &mem, text, len, out, e);
}

void
ts_conf_free(ts_conf *c)
{
	size_t i;

	if (c == NULL)
		return;
	/* the strings, the issuer rows and the key lines are in c->mem; what
	 * is freed here are the other arrays, and what was read with the
	 * state (tenants files, maps, uid-0 names) */
	for (i = 0; i < c->nissuers; i++) {
		ts_issuer_conf *is = &c->issuers[i];

		strlist_free(&is->tenants);
		strlist_free(&is->clients);
		strlist_free(&is->groups_claims);
		ts_usermap_free(is->umap);
	}
	for (i = 0; i < c->nservices; i++) {
		strlist_free(&c->services[i].issuers);
		strlist_free(&c->services[i].audiences);
		strlist_free(&c->services[i].required_scopes);
		strlist_free(&c->services[i].required_groups);
		strlist_free(&c->services[i].denied_groups);
		strlist_free(&c->services[i].required_acr);
		strlist_free(&c->services[i].required_amr);
		strlist_free(&c->services[i].allowed_users);
		strlist_free(&c->services[i].denied_users);
		ts_usermap_free(c->services[i].umap);
		free(c->services[i].issuer_idx);
	}
	strlist_free(&c->root_names);
	free(c->services);
	free(c->path);
	free(c->dir);
	ts_arena_free(&c->mem);
	free(c);
}

void
ts_conf_dump(FILE *f, const ts_conf *c, ts_conf_section sec, size_t idx)
{
	const void *st;
	size_t i;

	if (sec == TS_CONF_GLOBAL)
		st = c;
	else if (sec == TS_CONF_ISSUER && idx < c->nissuers)
		st = &c->issuers[idx];
	else if (sec == TS_CONF_SERVICE && idx < c->nservices)
		st = &c->services[idx];
	else
		return;
	for (i = 0; i < NKEYWORDS; i++)
		if ((keywords[i].sections & SECTION(sec)) && keywords[i].print != NULL)
			keywords[i].print(f, &keywords[i], st);
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
