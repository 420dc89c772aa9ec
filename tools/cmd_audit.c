/*
 * cmd_audit.c: `tokenscope audit`, the administrator's view of the
 * decision lines (M7, M8): per issuer and key thumbprint, accepts, refusals
 * by reason, distinct users, first and last seen, and every alert in full,
 * alerts first. Reads text and JSON decision lines from a syslog file,
 * `journalctl -o short-iso` or `-o cat` output, or standard input. Exit 3
 * when any alert is present, so that cron or a monitoring check can page.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli.h"

#define EXIT_ALERT 3
#define AUDIT_LINE_MAX 65536 /* longer lines are no decision line of ours */
#define AUDIT_FIELD 160

static const char usage_audit[] =
    "usage: tokenscope audit [--since TIME] [FILE | -]\n"
    "  TIME: epoch seconds, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS (UTC)\n"
    "  exit 0 no alert, 3 an alert is present, 2 usage or read error\n";

typedef struct reason_count {
	char reason[40];
	unsigned long n;
} reason_count;

/* One (issuer section, key thumbprint) seen in the log. */
typedef struct group {
	char issuer[AUDIT_FIELD], thumbprint[AUDIT_FIELD];
	unsigned long accepts, refusals;
	reason_count *reasons;
	size_t nreasons;
	char **users; /* distinct users accepted */
	size_t nusers;
	time_t first, last; /* 0: no dated line */
} group;

typedef struct audit {
	group *g;
	size_t ng;
	/* the decision lines that carry an alert, and the LOG_ALERT lines
	 * (which name the out-of-scope key), dated and printable */
	char **alerts, **alert_lines;
	size_t nalerts, nalert_lines;
	unsigned long decisions, undated, skipped;
	time_t since; /* 0: no --since */
} audit;

/* One decision, whichever format it came in. */
typedef struct decision {
	int accepted;
	char reason[40], issuer[AUDIT_FIELD], thumbprint[AUDIT_FIELD], user[AUDIT_FIELD];
	char alert[AUDIT_FIELD];
	time_t when;
} decision;

static void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n);

	if (q == NULL) {
		fprintf(stderr, "tokenscope audit: out of memory\n");
		exit(EXIT_USAGE);
	}
	return q;
}

static char *
xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(xrealloc(NULL, n), s, n);
}

/* A log line is the log's, not ours: nothing it holds reaches the
 * terminal as a control character. */
static void
printable(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

static int
digits(const char *s, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* "YYYY-MM-DDTHH:MM:SS" (or a space for T), then optional fraction and
 * Z, +HH:MM or +HHMM; no zone means UTC. 0 when s does not start so. */
static time_t
parse_iso(const char *s, const char **end)
{
	struct tm tm;
	const char *p;
	long off = 0;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if (!digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' || !digits(s + 8, 2))
		return 0;
	tm.tm_year = atoi(s) - 1900;
	tm.tm_mon = atoi(s + 5) - 1;
	tm.tm_mday = atoi(s + 8);
	p = s + 10;
	if ((*p == 'T' || *p == ' ') && digits(p + 1, 2) && p[3] == ':' && digits(p + 4, 2) &&
	    p[6] == ':' && digits(p + 7, 2)) {
		tm.tm_hour = atoi(p + 1);
		tm.tm_min = atoi(p + 4);
		tm.tm_sec = atoi(p + 7);
		p += 9;
		if (*p == '.' || *p == ',')
			for (p++; isdigit((unsigned char)*p); p++)
				;
		if (*p == 'Z') {
			p++;
		} else if ((*p == '+' || *p == '-') && digits(p + 1, 2)) {
			int colon = p[3] == ':';

			if (digits(p + 3 + colon, 2)) {
				off = (atol(p + 1) * 60 + atol(p + 3 + colon)) * 60;
				off = *p == '-' ? -off : off;
				p += 5 + colon;
			}
		}
	}
	if (end != NULL)
		*end = p;
	t = timegm(&tm);
	return t <= 0 ? 0 : t - off;
}

/* "Mon DD HH:MM:SS", local time of a year the line does not name: this
 * year, or last year when that would lie in the future. */
static time_t
parse_bsd(const char *s)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	const char *m;
	struct tm tm, now_tm;
	time_t now = time(NULL), t;

	if (strlen(s) < 15 || s[3] != ' ' || s[6] != ' ' || s[9] != ':' || s[12] != ':' ||
	    (m = strstr(months, (char[4]){ s[0], s[1], s[2], '\0' })) == NULL ||
	    (m - months) % 3 != 0)
		return 0;
	localtime_r(&now, &now_tm);
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = now_tm.tm_year;
	tm.tm_mon = (int)((m - months) / 3);
	tm.tm_mday = atoi(s + 4);
	tm.tm_hour = atoi(s + 7);
	tm.tm_min = atoi(s + 10);
	tm.tm_sec = atoi(s + 13);
	tm.tm_isdst = -1;
	t = mktime(&tm);
	if (t > now + 86400) {
		tm.tm_year--;
		tm.tm_isdst = -1;
		t = mktime(&tm);
	}
	return t < 0 ? 0 : t;
}

/* A field of a decision line, read by the line's format: text_field for
 * "key=VALUE ..." text, json_field for a JSON object. */
typedef void (*field_reader)(const void *line, const char *key, char *out, size_t cap);

/* The value of key=VALUE among the text line's space-separated fields. */
static void
text_field(const void *text, const char *key, char *out, size_t cap)
{
	const char *line = text;
	size_t klen = strlen(key);
	const char *p = line;

	out[0] = '\0';
	while ((p = strstr(p, key)) != NULL) {
		if ((p == line || p[-1] == ' ') && p[klen] == '=') {
			size_t n = strcspn(p + klen + 1, " ");

			snprintf(out, cap, "%.*s", (int)n, p + klen + 1);
			return;
		}
		p += klen;
	}
}

static void
json_field(const void *o, const char *key, char *out, size_t cap)
{
	const char *v = json_string_value(json_object_get((const json_t *)o, key));

	snprintf(out, cap, "%s", v != NULL ? v : "");
}

/* "-" and null mean "none" in either format. */
static void
none_to_empty(char *s)
{
	if (strcmp(s, "-") == 0)
		s[0] = '\0';
}

/* The fields of a decision, the same in either format. */
static void
decision_fields(field_reader field, const void *line, decision *d)
{
	char result[16];

	field(line, "result", result, sizeof(result));
	field(line, "reason", d->reason, sizeof(d->reason));
	field(line, "issuer", d->issuer, sizeof(d->issuer));
	field(line, "thumbprint", d->thumbprint, sizeof(d->thumbprint));
	field(line, "user", d->user, sizeof(d->user));
	field(line, "alert", d->alert, sizeof(d->alert));
	d->accepted = strcmp(result, "accept") == 0;
}

/* Fills d from the part of a line after "tokenscope: ". Returns 1 for a
 * decision, 2 for an alert line, 0 for anything else. */
static int
parse_decision(const char *rest, decision *d)
{
	if (strncmp(rest, "ALERT ", 6) == 0)
		return 2;
	if (rest[0] == '{') {
		json_t *o = json_loads(rest, JSON_REJECT_DUPLICATES, NULL);
		const char *ev = json_string_value(json_object_get(o, "event"));
		int kind = ev == NULL          ? 0
		    : strcmp(ev, "alert") == 0 ? 2
		                               : strcmp(ev, "decision") == 0;

		if (json_integer_value(json_object_get(o, "time")) > 0)
			d->when = (time_t)json_integer_value(json_object_get(o, "time"));
		if (kind == 1)
			decision_fields(json_field, o, d);
		json_decref(o);
		return kind;
	}
	if (strncmp(rest, "result=", 7) != 0)
		return 0;
	decision_fields(text_field, rest, d);
	return 1;
}

static group *
group_of(audit *a, const decision *d)
{
	const char *is = d->issuer[0] ? d->issuer : "-",
	           *tp = d->thumbprint[0] ? d->thumbprint : "-";
	size_t i;

	for (i = 0; i < a->ng; i++)
		if (strcmp(a->g[i].issuer, is) == 0 && strcmp(a->g[i].thumbprint, tp) == 0)
			return &a->g[i];
	a->g = xrealloc(a->g, (a->ng + 1) * sizeof(*a->g));
	memset(&a->g[a->ng], 0, sizeof(a->g[0]));
	snprintf(a->g[a->ng].issuer, sizeof(a->g[0].issuer), "%s", is);
	snprintf(a->g[a->ng].thumbprint, sizeof(a->g[0].thumbprint), "%s", tp);
	return &a->g[a->ng++];
}

static void
count(audit *a, const decision *d)
{
	group *g = group_of(a, d);
	size_t i;

	if (d->when != 0) {
		if (g->first == 0 || d->when < g->first)
			g->first = d->when;
		if (d->when > g->last)
			g->last = d->when;
	}
	if (d->accepted) {
		g->accepts++;
		for (i = 0; i < g->nusers && strcmp(g->users[i], d->user) != 0; i++)
			;
		if (i == g->nusers && d->user[0]) {
			g->users = xrealloc(g->users, (g->nusers + 1) * sizeof(char *));
			g->users[g->nusers++] = xstrdup(d->user);
		}
		return;
	}
	g->refusals++;
	for (i = 0; i < g->nreasons && strcmp(g->reasons[i].reason, d->reason) != 0; i++)
		;
	if (i == g->nreasons) {
		g->reasons = xrealloc(g->reasons, (g->nreasons + 1) * sizeof(reason_count));
		snprintf(g->reasons[i].reason, sizeof(g->reasons[i].reason), "%s", d->reason);
		g->reasons[g->nreasons++].n = 0;
	}
	g->reasons[i].n++;
}

static void
fmt_time(time_t t, char *out, size_t cap)
{
	struct tm tm;

	if (t == 0 || gmtime_r(&t, &tm) == NULL)
		snprintf(out, cap, "-");
	else
		strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Strips suffix (a literal) from the end of [p, *e): 1 when it was there. */
static int
strip_tail(const char *p, const char **e, const char *suffix)
{
	size_t n = strlen(suffix);

	if ((size_t)(*e - p) < n || memcmp(*e - n, suffix, n) != 0)
		return 0;
	*e -= n;
	return 1;
}

/* M7: whether the text before "tokenscope: " is a header our own lines
 * have, so that a decision or alert line quoted inside another program's
 * message (an ssh user name "tokenscope: result=accept ..." in sshd's
 * "Invalid user" line) is never counted. Accepted, read from the end:
 * an optional "pam_token(SERVICE:TYPE): " (pam_syslog), an optional
 * Postfix "[warning: ]SASL authentication problem|failure: ", then either
 * nothing or "IDENT: " (IDENT one word: letters, digits, "_./-", an
 * optional "[pid]") after a header of a time (ISO 8601, or "Mon DD
 * HH:MM:SS") and at most one host name. */
static int
own_prefix(const char *p, const char *e)
{
	const char *w;
	int words = 0, in_word = 0;

	if (e - p >= 3 && memcmp(e - 3, "): ", 3) == 0) {
		for (w = e - 3; w > p && w[-1] != '(' && w[-1] != ' '; w--)
			;
		if (w - p < 10 || w[-1] != '(' || memcmp(w - 10, "pam_token(", 10) != 0 ||
		    (w - 10 != p && w[-11] != ' '))
			return 0;
		e = w - 10;
	}
	if (strip_tail(p, &e, "SASL authentication problem: ") ||
	    strip_tail(p, &e, "SASL authentication failure: "))
		(void)strip_tail(p, &e, "warning: ");
	if (strip_tail(p, &e, ": ")) {
		for (w = e; w > p && w[-1] != ' '; w--)
			if (!isalnum((unsigned char)w[-1]) && strchr("_./-[]", w[-1]) == NULL)
				return 0;
		if (w == e)
			return 0;
		e = w;
	}
	/* what is left is the header: a time and at most one host */
	for (w = p; w < e; w++) {
		words += *w != ' ' && !in_word;
		in_word = *w != ' ';
	}
	if (words == 0)
		return 1;
	if (isalpha((unsigned char)p[0]))
		return (words == 3 || words == 4) && parse_bsd(p) != 0;
	return words <= 3 && parse_iso(p, NULL) != 0;
}

static void
one_line(audit *a, char *line)
{
	const char *rest = NULL, *at;
	decision d;
	int kind;
	char when[32], *full;
	size_t n;

	at = strstr(line, "tokenscope: ");
	while (at != NULL && rest == NULL) {
		if (own_prefix(line, at))
			rest = at;
		at = strstr(at + 1, "tokenscope: ");
	}
	if (rest == NULL)
		return;
	rest += strlen("tokenscope: ");
	memset(&d, 0, sizeof(d));
	if ((kind = parse_decision(rest, &d)) == 0)
		return;
	if (d.when == 0 && (d.when = parse_iso(line, NULL)) == 0)
		d.when = parse_bsd(line);
	if (d.when == 0)
		a->undated++;
	if (a->since != 0 && d.when < a->since) {
		a->skipped++; /* before --since, or no time to tell */
		return;
	}
	if (kind == 1) {
		a->decisions++;
		none_to_empty(d.issuer);
		none_to_empty(d.thumbprint);
		none_to_empty(d.alert);
		count(a, &d);
		if (d.alert[0] == '\0')
			return;
	}
	fmt_time(d.when, when, sizeof(when));
	n = strlen(when) + strlen(rest) + 2;
	full = xrealloc(NULL, n);
	snprintf(full, n, "%s %s", when, rest);
	printable(full);
	if (kind == 1) {
		a->alerts = xrealloc(a->alerts, (a->nalerts + 1) * sizeof(char *));
		a->alerts[a->nalerts++] = full;
	} else {
		a->alert_lines = xrealloc(a->alert_lines, (a->nalert_lines + 1) * sizeof(char *));
		a->alert_lines[a->nalert_lines++] = full;
	}
}

static void
report(const audit *a)
{
	size_t i, k;
	char f[32], l[32];

	printf("tokenscope audit: %lu decision lines, %zu with an alert, %zu alert lines",
	    a->decisions, a->nalerts, a->nalert_lines);
	if (a->undated)
		printf(", %lu without a time", a->undated);
	if (a->skipped)
		printf(", %lu skipped (before --since or undated)", a->skipped);
	printf("\n");
	/* the LOG_ALERT lines name the key; the decision lines stand in where
	 * those were routed elsewhere */
	if (a->nalerts > 0 || a->nalert_lines > 0) {
		char *const *show = a->nalert_lines ? a->alert_lines : a->alerts;
		size_t nl = a->nalert_lines ? a->nalert_lines : a->nalerts;

		printf(
		    "\nALERTS: a valid signature under a key out of its scope (tokenscope(1))\n");
		for (i = 0; i < nl; i++)
			printf("  %s\n", show[i]);
	}
	printf("\nKEYS (issuer section, key thumbprint)\n");
	for (i = 0; i < a->ng; i++) {
		const group *g = &a->g[i];

		fmt_time(g->first, f, sizeof(f));
		fmt_time(g->last, l, sizeof(l));
		printf("[issuer %s] key %s\n", g->issuer, g->thumbprint);
		printf("  accepted %lu, distinct users %zu, refused %lu, first %s, last %s\n",
		    g->accepts, g->nusers, g->refusals, f, l);
		for (k = 0; k < g->nreasons; k++)
			printf("  refused %-22s %lu\n", g->reasons[k].reason, g->reasons[k].n);
	}
}

static void
audit_free(audit *a)
{
	size_t i, k;

	for (i = 0; i < a->ng; i++) {
		for (k = 0; k < a->g[i].nusers; k++)
			free(a->g[i].users[k]);
		free(a->g[i].users);
		free(a->g[i].reasons);
	}
	for (i = 0; i < a->nalerts; i++)
		free(a->alerts[i]);
	for (i = 0; i < a->nalert_lines; i++)
		free(a->alert_lines[i]);
	free(a->g);
	free(a->alerts);
	free(a->alert_lines);
}

static int
parse_since(const char *s, time_t *out)
{
	const char *end = NULL;

	if (cli_parse_time(s, out) == 0)
		return 0;
	*out = parse_iso(s, &end);
	return *out != 0 && end != NULL && *end == '\0' ? 0 : -1;
}

int
cmd_audit(int argc, char **argv)
{
	audit a;
	const char *path = NULL;
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int i, rc;

	memset(&a, 0, sizeof(a));
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(usage_audit, stdout);
			return 0;
		} else if (strcmp(argv[i], "--since") == 0 && i + 1 < argc) {
			if (parse_since(argv[++i], &a.since) != 0)
				return cli_usage_error(
				    "audit", usage_audit, "bad --since time: %s", argv[i]);
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			return cli_usage_error("audit", usage_audit, "unknown option %s", argv[i]);
		} else if (path == NULL) {
			path = argv[i];
		} else {
			return cli_usage_error("audit", usage_audit, "one file at most");
		}
	}
	f = path == NULL || strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (f == NULL) {
		fprintf(stderr, "tokenscope audit: %s: %s\n", path, strerror(errno));
		return EXIT_USAGE;
	}
	while ((n = getline(&line, &cap, f)) >= 0) {
		if (n > AUDIT_LINE_MAX)
			continue;
		if (n > 0 && line[n - 1] == '\n')
			line[n - 1] = '\0';
		one_line(&a, line);
	}
	rc = ferror(f) ? EXIT_USAGE : 0;
	if (f != stdin)
		fclose(f);
	free(line);
	if (rc != 0) {
		fprintf(stderr, "tokenscope audit: read error\n");
		audit_free(&a);
		return rc;
	}
	report(&a);
	rc = a.nalerts > 0 || a.nalert_lines > 0 ? EXIT_ALERT : 0;
	audit_free(&a);
	return rc;
}
