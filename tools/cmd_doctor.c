/* cmd_doctor.c: `tokenscope doctor`: the traps in the consumers' own
 * configuration that silently weaken token logins (D1-D6). This file holds
 * the command, the findings and their output; the consumers are read in
 * doctor_*.c. */
#include "config.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "conf.h"
#include "doctor.h"
#include "inspect.h"

/* Exit status: 0 nothing found, 1 warnings, 2 a trap; 3 when the doctor
 * cannot run (usage, a configuration it cannot load): distinct from 2,
 * which monitoring reads as "an expired or revoked token gets in". */
#define DR_EXIT_CANNOT 3

static const char usage_doctor[] =
    "usage: tokenscope doctor [-c CONF] [--json] [--root DIR] [--pam-dir DIR]\n"
    "                         [--dovecot-config FILE] [--postfix-config-dir DIR]\n"
    "                         [--sshd-config FILE] [--sasl-dir DIR]\n"
    "  Reads, without changing anything, what Dovecot, Postfix, OpenSSH, the PAM\n"
    "  stacks and the SASL configuration say about themselves, and reports the\n"
    "  settings that silently weaken token logins, each with what it does, the\n"
    "  evidence and the fix. Exit 0 nothing found, 1 warnings, 2 a trap that lets\n"
    "  an expired, revoked or foreign token in, 3 cannot run.\n";

char *
dr_strdup(dr_ctx *d, const char *s, size_t len)
{
	char *p;

	while (len > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len > 0 && strchr(" \t\r\n", s[len - 1]) != NULL)
		len--;
	if ((p = malloc(len + 1)) == NULL) {
		d->oom = 1;
		return NULL;
	}
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

static char *vformat(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
static char *
vformat(const char *fmt, va_list ap)
{
	va_list ap2;
	int n;
	char *p;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0 || (p = malloc((size_t)n + 1)) == NULL)
		return NULL;
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

void
dr_add(dr_ctx *d, dr_severity sev, const char *id, const char *what, const char *fix,
    const char *evidence_fmt, ...)
{
	dr_finding *n, *f;
	va_list ap;

	if ((n = realloc(d->f, (d->nf + 1) * sizeof(*n))) == NULL) {
		d->oom = 1;
		return;
	}
	d->f = n;
	f = &d->f[d->nf];
	f->severity = sev;
	f->id = strdup(id);
	f->what = strdup(what);
	f->fix = strdup(fix);
	va_start(ap, evidence_fmt);
	f->evidence = vformat(evidence_fmt, ap);
	va_end(ap);
	d->nf++;
	if (f->id == NULL || f->what == NULL || f->fix == NULL || f->evidence == NULL)
		d->oom = 1;
}

const dr_pam_service *
dr_pam_find(const dr_ctx *d, const char *name)
{
	size_t i;

	for (i = 0; i < d->npam; i++)
		if (strcmp(d->pam[i].name, name) == 0)
			return &d->pam[i];
	return NULL;
}

static int
listed(char *const *v, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], name) == 0)
			return 1;
	return 0;
}

/* Adds a copy of s to the list (*v, *n) once; NULL is not added. */
static void
add_once(dr_ctx *d, char ***v, size_t *n, const char *s)
{
	char **nv;

	if (s == NULL || listed(*v, *n, s))
		return;
	if ((nv = realloc(*v, (*n + 1) * sizeof(*nv))) == NULL) {
		d->oom = 1;
		return;
	}
	*v = nv;
	if ((nv[*n] = strdup(s)) == NULL) {
		d->oom = 1;
		return;
	}
	(*n)++;
}

void
dr_use_service(dr_ctx *d, const char *name)
{
	add_once(d, &d->used, &d->nused, name);
}

/* a key file may serve several key lines: each file is checked once */
static void
add_file(dr_ctx *d, const char *path)
{
	add_once(d, &d->files, &d->nfiles, path);
}

/* What the doctor needs of the tokenscope configuration, copied while the
 * loaded state is held. */
static void
take_conf(void *arg, const ts_conf *c, const ts_keyring *kr)
{
	dr_ctx *d = arg;
	size_t i;

	(void)kr;
	add_file(d, c->path);
	add_file(d, c->revoked_keys);
	for (i = 0; i < c->nissuers; i++) {
		size_t k;

		for (k = 0; k < c->issuers[i].nkeys; k++)
			add_file(d, c->issuers[i].keys[k].path);
	}
	d->max_token_size = c->max_token_size;
	d->clock_skew = c->clock_skew;
	for (i = 0; i < c->nissuers; i++) {
		if (c->issuers[i].max_lifetime <= d->max_lifetime)
			continue;
		d->max_lifetime = c->issuers[i].max_lifetime;
		free(d->max_lifetime_issuer);
		d->max_lifetime_issuer = strdup(c->issuers[i].name);
	}
	if (c->nservices > 0 && (d->services = calloc(c->nservices, sizeof(char *))) == NULL) {
		d->oom = 1;
		return;
	}
	for (i = 0; i < c->nservices; i++)
		if ((d->services[d->nservices++] = strdup(c->services[i].name)) == NULL)
			d->oom = 1;
}

/* D6: the policy and the consumers name the same services. */
static void
check_services(dr_ctx *d)
{
	size_t i;

	for (i = 0; i < d->nused; i++) {
		if (!listed(d->services, d->nservices, d->used[i]))
			dr_add(d, DR_WARNING, "D6_service_not_in_policy",
			    "a consumer applies a tokenscope service that the configuration does "
			    "not "
			    "define: every token login through it is refused",
			    "add a [service NAME] section, or point the consumer (service= of "
			    "pam_token.so, token_service of the SASL plugin) at an existing one",
			    "%s: no [service %s]", d->conf_path, d->used[i]);
	}
	for (i = 0; i < d->nservices; i++) {
		if (!listed(d->used, d->nused, d->services[i]))
			dr_add(d, DR_WARNING, "D6_service_unused",
			    "the configuration defines a service that no consumer found here "
			    "applies: a typo in a consumer's service name, or a left-over policy",
			    "check the consumer's service name, or remove the section",
			    "%s: [service %s]", d->conf_path, d->services[i]);
	}
}

/* Text output is for a terminal: bytes read from configuration files are
 * shown printable only. */
static void
put_text(const char *label, const char *s)
{
	printf("  %s: ", label);
	for (; *s; s++)
		putchar((unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f ? *s : '?');
	putchar('\n');
}

static void
put_json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			/* config bytes need not be UTF-8: each shown by its value */
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

static const char *
sev_name(dr_severity s)
{
	return s == DR_TRAP ? "trap" : "warning";
}

static void
print_findings(const dr_ctx *d, int json, int status)
{
	size_t i, traps = 0;

	for (i = 0; i < d->nf; i++)
		traps += d->f[i].severity == DR_TRAP;
	if (json) {
		printf("{\"status\":%d,\"traps\":%zu,\"warnings\":%zu,\"findings\":[", status,
		    traps, d->nf - traps);
		for (i = 0; i < d->nf; i++) {
			printf("%s{\"id\":", i ? "," : "");
			put_json_string(d->f[i].id);
			printf(",\"severity\":\"%s\",\"what\":", sev_name(d->f[i].severity));
			put_json_string(d->f[i].what);
			printf(",\"evidence\":");
			put_json_string(d->f[i].evidence);
			printf(",\"fix\":");
			put_json_string(d->f[i].fix);
			putchar('}');
		}
		printf("]}\n");
		return;
	}
	for (i = 0; i < d->nf; i++) {
		printf("%s: %s\n", d->f[i].id, sev_name(d->f[i].severity));
		put_text("what", d->f[i].what);
		put_text("evidence", d->f[i].evidence);
		put_text("fix", d->f[i].fix);
		putchar('\n');
	}
	if (d->nf == 0)
		printf("tokenscope doctor: nothing found\n");
	else
		printf("tokenscope doctor: %zu trap(s), %zu warning(s)\n", traps, d->nf - traps);
}

static void
dr_free(dr_ctx *d)
{
	size_t i;

	for (i = 0; i < d->nf; i++) {
		free(d->f[i].id);
		free(d->f[i].what);
		free(d->f[i].evidence);
		free(d->f[i].fix);
	}
	free(d->f);
	for (i = 0; i < d->npam; i++) {
		free(d->pam[i].name);
		free(d->pam[i].ts_service);
		free(d->pam[i].where);
	}
	free(d->pam);
	for (i = 0; i < d->nservices; i++)
		free(d->services[i]);
	free(d->services);
	for (i = 0; i < d->nused; i++)
		free(d->used[i]);
	free(d->used);
	for (i = 0; i < d->nfiles; i++)
		free(d->files[i]);
	free(d->files);
	free(d->max_lifetime_issuer);
}

/* root + path, malloc'ed, into *slot (kept in `owned` to be freed). */
static const char *
under_root(const char *root, const char *path, char **owned)
{
	size_t n = strlen(root) + strlen(path) + 1;

	if ((*owned = malloc(n)) == NULL)
		return NULL;
	snprintf(*owned, n, "%s%s", root, path);
	return *owned;
}

int
cmd_doctor(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "root", required_argument, NULL, 'r' },
		{ "pam-dir", required_argument, NULL, 'p' },
		{ "dovecot-config", required_argument, NULL, 'd' },
		{ "postfix-config-dir", required_argument, NULL, 'P' },
		{ "sshd-config", required_argument, NULL, 's' },
		{ "sasl-dir", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	dr_ctx d;
	const char *conf = NULL, *root = "";
	char *owned[4] = { NULL, NULL, NULL, NULL };
	int ch, json = 0, status = DR_EXIT_CANNOT;
	size_t i;
	ts_ctx *ctx = NULL;
	ts_err e = { "" };

	memset(&d, 0, sizeof(d));
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': conf = optarg; break;
		case 'j': json = 1; break;
		case 'r': root = optarg; break;
		case 'p': d.pam_dir = optarg; break;
		case 'd':
			d.dovecot_config = optarg;
			d.dovecot_given = 1;
			break;
		case 'P':
			d.postfix_dir = optarg;
			d.postfix_given = 1;
			break;
		case 's':
			d.sshd_config = optarg;
			d.sshd_given = 1;
			break;
		case 'S': d.sasl_dir = optarg; break;
		case 'h': fputs(usage_doctor, stdout); return 0;
		default:
			cli_usage_error("doctor", usage_doctor,
			    "unknown or incomplete option \"%s\"", argv[optind - 1]);
			return DR_EXIT_CANNOT;
		}
	}
	if (optind < argc) {
		cli_usage_error("doctor", usage_doctor, "unexpected argument \"%s\"", argv[optind]);
		return DR_EXIT_CANNOT;
	}
	/* the consumers' usual places, below --root when given */
	if (d.pam_dir == NULL)
		d.pam_dir = under_root(root, "/etc/pam.d", &owned[0]);
	if (d.dovecot_config == NULL)
		d.dovecot_config = under_root(root, "/etc/dovecot/dovecot.conf", &owned[1]);
	if (d.postfix_dir == NULL)
		d.postfix_dir = under_root(root, "/etc/postfix", &owned[2]);
	if (d.sshd_config == NULL)
		d.sshd_config = under_root(root, "/etc/ssh/sshd_config", &owned[3]);
	if (d.pam_dir == NULL || d.dovecot_config == NULL || d.postfix_dir == NULL ||
	    d.sshd_config == NULL)
		goto out;
	d.conf_path = conf ? conf : TS_DEFAULT_CONFIG;
	ts_keyring_check_at_load(1); /* K15: every bad key now */
	if (ts_ctx_new(conf, NULL, NULL, &ctx, &e) != TS_OK) {
		fprintf(stderr, "tokenscope doctor: %s\n", e.msg);
		goto out;
	}
	ts_ctx_inspect(ctx, take_conf, &d);
	/* PAM first: the others ask which PAM services name pam_token.so */
	dr_check_pam(&d);
	dr_check_dovecot(&d);
	dr_check_postfix(&d);
	dr_check_sshd(&d);
	check_services(&d);
	if (d.oom) {
		fprintf(stderr, "tokenscope doctor: out of memory\n");
		goto out;
	}
	status = 0;
	for (i = 0; i < d.nf; i++)
		if ((int)d.f[i].severity > status)
			status = (int)d.f[i].severity;
	print_findings(&d, json, status);
out:
	ts_ctx_free(ctx);
	dr_free(&d);
	for (i = 0; i < 4; i++)
		free(owned[i]);
	return status;
}
