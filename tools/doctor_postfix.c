/* doctor_postfix.c: Postfix as `postconf -n` and `postconf -M` show it,
 * with the SASL configuration its smtpd services read, for `tokenscope
 * doctor` (D3: lines too short for a token). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "doctor.h"

typedef struct pf {
	char *main; /* postconf -n output, kept for lookups */
	char sasl_dir[1024];
	int plugin_used; /* some smtpd uses tokenscope's plugin */
} pf;

/* The value of name in `postconf -n` output, or def. */
static void
param(const pf *p, const char *name, const char *def, char *out, size_t cap)
{
	size_t n = strlen(name);
	const char *l;

	snprintf(out, cap, "%s", def);
	for (l = p->main; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncmp(l, name, n) == 0 && strncmp(l + n, " = ", 3) == 0) {
			size_t len = strcspn(l + n + 3, "\n");

			snprintf(out, cap, "%.*s", (int)(len < cap ? len : cap - 1), l + n + 3);
			return;
		}
}

/* A master.cf -o override of name on this service line, or the main.cf
 * value. */
static void
effective(
    const pf *p, char *const *w, int n, const char *name, const char *def, char *out, size_t cap)
{
	size_t len = strlen(name);
	int i;

	param(p, name, def, out, cap);
	for (i = 8; i < n; i++) {
		const char *o = w[i];

		if (strcmp(o, "-o") == 0 && i + 1 < n)
			o = w[++i];
		else if (strncmp(o, "-o", 2) == 0)
			o += 2;
		else
			continue;
		if (strncmp(o, name, len) == 0 && o[len] == '=')
			snprintf(out, cap, "%s", o + len + 1);
	}
}

/* Whether the SASL file of this smtpd names tokenscope's plugin: a token_
 * option, or OAUTHBEARER / XOAUTH2 in mech_list. *service gets
 * token_service or Postfix's SASL service name, smtp. */
static int
sasl_names_plugin(const char *path, char *where, size_t wcap, char *service, size_t scap)
{
	char *text = dr_read_file(path), *line, *save = NULL;
	int lineno = 0, found = 0;

	snprintf(service, scap, "smtp");
	if (text == NULL)
		return 0;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *v = strchr(line, ':');

		lineno++;
		if (v == NULL || line[0] == '#')
			continue;
		*v++ = '\0';
		v += strspn(v, " \t");
		if (strcmp(line, "token_service") == 0)
			snprintf(service, scap, "%.*s", (int)strcspn(v, " \t\r"), v);
		if (!found &&
		    (strncmp(line, "token_", 6) == 0 ||
		        (strcmp(line, "mech_list") == 0 &&
		            (strcasestr(v, "oauthbearer") || strcasestr(v, "xoauth2"))))) {
			snprintf(where, wcap, "%s:%d: %s: %s", path, lineno, line, v);
			found = 1;
		}
	}
	free(text);
	return found;
}

/* The longest SMTP line an AUTH with a max_token_size token makes:
 * "AUTH OAUTHBEARER " and the base64 of the GS2 header, the user name
 * (up to 255 here) and the framing around the token. */
static size_t
auth_line_needed(size_t max_token)
{
	return 17 + 4 * ((max_token + 300 + 2) / 3);
}

static void
check_service(dr_ctx *d, pf *p, char *line)
{
	char *w[64], *save = NULL, *t, entry[1024], buf[256], sasl[1400], where[1600], service[128],
	             llimit[64];
	int n = 0;
	long limit;

	snprintf(entry, sizeof(entry), "%s", line);
	for (t = strtok_r(line, " \t", &save); t && n < 64; t = strtok_r(NULL, " \t", &save))
		w[n++] = t;
	if (n < 8 || strcmp(w[7], "smtpd") != 0)
		return;
	effective(p, w, n, "smtpd_sasl_auth_enable", "no", buf, sizeof(buf));
	if (strcmp(buf, "yes") != 0)
		return;
	effective(p, w, n, "smtpd_sasl_type", "cyrus", buf, sizeof(buf));
	if (strcmp(buf, "cyrus") != 0)
		return;
	effective(p, w, n, "smtpd_sasl_path", "smtpd", buf, sizeof(buf));
	snprintf(sasl, sizeof(sasl), "%s/%s.conf", p->sasl_dir, buf);
	if (!sasl_names_plugin(sasl, where, sizeof(where), service, sizeof(service)))
		return;
	dr_use_service(d, service);
	p->plugin_used = 1;
	/* a chrooted smtpd (chroot column y) needs nothing here: the plugin
	 * keeps reaching the files it read at start through the directories
	 * it holds (K13); that the postfix user can read them is D5's file
	 * check */
	effective(p, w, n, "line_length_limit", "2048", llimit, sizeof(llimit));
	limit = atol(llimit);
	if (limit > 0 && (size_t)limit < auth_line_needed(d->max_token_size))
		dr_add(d, DR_WARNING, "D3_postfix_line_length_limit",
		    "smtpd cuts SMTP lines at line_length_limit: an AUTH line carrying a token "
		    "longer than about three quarters of it is refused before the plugin sees it",
		    "raise line_length_limit in main.cf (or with -o on this service) to at least "
		    "the figure shown",
		    "postconf -c %s: line_length_limit = %s; max_token_size = %zu needs %zu; %s",
		    d->postfix_dir, llimit, d->max_token_size, auth_line_needed(d->max_token_size),
		    entry);
}

void
dr_check_postfix(dr_ctx *d)
{
	const char *argv_n[] = { "postconf", "-c", d->postfix_dir, "-n", NULL };
	const char *argv_m[] = { "postconf", "-c", d->postfix_dir, "-M", NULL };
	char *master = NULL, *line, *save = NULL, err[256], path[1024], buf[1024];
	pf p;

	memset(&p, 0, sizeof(p));
	snprintf(path, sizeof(path), "%s/main.cf", d->postfix_dir);
	if (!d->postfix_given && access(path, F_OK) != 0)
		return; /* Postfix is not installed here */
	if (dr_run(argv_n, &p.main, err, sizeof(err)) != 0 ||
	    dr_run(argv_m, &master, err, sizeof(err)) != 0) {
		dr_add(d, DR_WARNING, "D6_consumer_unreadable",
		    "the doctor could not read Postfix's configuration, so its traps are unknown",
		    "run `postconf -n` and `postconf -M` and fix what they report",
		    "postconf -c %s: %s", d->postfix_dir, err);
		goto out;
	}
	/* where libsasl reads smtpd.conf: as tests/e2e/t_postfix.sh found,
	 * cyrus_sasl_config_path when set, else CONFIG_DIR/sasl */
	param(&p, "cyrus_sasl_config_path", "", buf, sizeof(buf));
	if (d->sasl_dir != NULL)
		snprintf(p.sasl_dir, sizeof(p.sasl_dir), "%s", d->sasl_dir);
	else if (buf[0] != '\0')
		snprintf(p.sasl_dir, sizeof(p.sasl_dir), "%.*s", (int)strcspn(buf, ":"), buf);
	else
		snprintf(p.sasl_dir, sizeof(p.sasl_dir), "%s/sasl", d->postfix_dir);
	for (line = strtok_r(master, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		check_service(d, &p, line);
	/* smtpd loads the plugin as root, then runs as mail_owner: the
	 * plugin's later reloads read the files as that user */
	if (p.plugin_used) {
		char owner[64], evid[128];

		param(&p, "mail_owner", "postfix", owner, sizeof(owner));
		snprintf(evid, sizeof(evid), "postconf: mail_owner = %s", owner);
		dr_check_readable(d, owner, "Postfix smtpd", evid);
	}
out:
	free(p.main);
	free(master);
}
