/* doctor_pam.c: the PAM stacks that name pam_token.so, for `tokenscope
 * doctor` (D4: the token module is not bypassed; D3: passthrough does not
 * hand a cut token to a password module). */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doctor.h"

#define MAX_WORDS 32

/* One line of a stack: its words, the control kept whole ("[a=b c=d]"). */
typedef struct pam_line {
	char *w[MAX_WORDS];
	int n, lineno;
} pam_line;

/* Splits line (modified) into words; a bracketed control is one word. */
static void
split(char *line, pam_line *pl)
{
	char *p = line;

	pl->n = 0;
	while (*p && pl->n < MAX_WORDS) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '#')
			break;
		pl->w[pl->n++] = p;
		if (*p == '[')
			p += strcspn(p, "]");
		p += strcspn(p, " \t");
		if (*p)
			*p++ = '\0';
	}
}

static int
is_auth(const pam_line *pl)
{
	return pl->n >= 2 && (strcmp(pl->w[0], "auth") == 0 || strcmp(pl->w[0], "-auth") == 0);
}

static int
is_token_module(const char *m)
{
	const char *b = strrchr(m, '/');

	return strcmp(b ? b + 1 : m, "pam_token.so") == 0;
}

/* How many following auth lines a success of this control jumps over:
 * 0 none, -1 ends the stack (sufficient, success=done). */
static int
success_jump(const char *control)
{
	const char *s;

	if (strcmp(control, "sufficient") == 0)
		return -1;
	if (control[0] != '[' || (s = strstr(control, "success=")) == NULL)
		return 0;
	s += strlen("success=");
	if (strncmp(s, "done", 4) == 0)
		return -1;
	return atoi(s) > 0 ? atoi(s) : 0;
}

/* An included stack (include, @include, substack: one level) whose auth
 * part can end the whole stack with success before pam_token.so runs. */
static int
include_ends_stack(const char *dir, const char *name, char *where, size_t cap)
{
	char path[4096], *text, *line, *save = NULL;
	int lineno = 0, found = 0;
	pam_line pl;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((text = dr_read_file(path)) == NULL)
		return 0;
	line = strtok_r(text, "\n", &save);
	while (line != NULL && !found) {
		lineno++;
		split(line, &pl);
		if (is_auth(&pl) && pl.n >= 3 && success_jump(pl.w[1]) < 0) {
			snprintf(where, cap, "%s:%d: auth %s %s", path, lineno, pl.w[1], pl.w[2]);
			found = 1;
		}
		line = strtok_r(NULL, "\n", &save);
	}
	free(text);
	return found;
}

static void
add_service(dr_ctx *d, const char *name, const char *ts_service, const char *where)
{
	dr_pam_service *n = realloc(d->pam, (d->npam + 1) * sizeof(*n));

	if (n == NULL) {
		d->oom = 1;
		return;
	}
	d->pam = n;
	n = &d->pam[d->npam++];
	n->name = strdup(name);
	n->ts_service = strdup(ts_service);
	n->where = strdup(where);
	if (n->name == NULL || n->ts_service == NULL || n->where == NULL)
		d->oom = 1;
	dr_use_service(d, ts_service);
}

/* Reads one stack; lines are numbered as the file has them. */
static void
check_stack(dr_ctx *d, const char *name)
{
	char path[4096], *text, *p, *next, where[4400], bypass[4400] = "", tail[4400] = "";
	pam_line lines[256];
	int nlines = 0, lineno = 0, tok = -1, i, k, passthrough = 0;
	const char *ts_service = name;

	snprintf(path, sizeof(path), "%s/%s", d->pam_dir, name);
	if ((text = dr_read_file(path)) == NULL || strstr(text, "pam_token.so") == NULL) {
		free(text);
		return;
	}
	for (p = text; p != NULL && nlines < 256; p = next) {
		next = strchr(p, '\n');
		if (next != NULL)
			*next++ = '\0';
		lineno++;
		split(p, &lines[nlines]);
		lines[nlines].lineno = lineno;
		if (lines[nlines].n > 0)
			nlines++;
	}
	for (i = 0; i < nlines && tok < 0; i++)
		if (is_auth(&lines[i]) && lines[i].n >= 3 && is_token_module(lines[i].w[2]))
			tok = i;
	if (tok < 0)
		goto out;
	for (k = 3; k < lines[tok].n; k++) {
		if (strncmp(lines[tok].w[k], "service=", 8) == 0)
			ts_service = lines[tok].w[k] + 8;
		if (strcmp(lines[tok].w[k], "passthrough") == 0)
			passthrough = 1;
	}
	snprintf(where, sizeof(where), "%s:%d", path, lines[tok].lineno);
	add_service(d, name, ts_service, where);
	/* D4: an earlier module whose success ends the stack, or jumps past
	 * pam_token.so, logs in without a token */
	for (i = 0; i < tok && bypass[0] == '\0'; i++) {
		pam_line *l = &lines[i];
		int j = 0, skipped = 0;

		if (strcmp(l->w[0], "@include") == 0 && l->n >= 2) {
			include_ends_stack(d->pam_dir, l->w[1], bypass, sizeof(bypass));
			continue;
		}
		if (!is_auth(l) || l->n < 3)
			continue;
		if (strcmp(l->w[1], "include") == 0 || strcmp(l->w[1], "substack") == 0) {
			/* a substack's "done" ends the substack only */
			if (strcmp(l->w[1], "include") == 0)
				include_ends_stack(d->pam_dir, l->w[2], bypass, sizeof(bypass));
			continue;
		}
		j = success_jump(l->w[1]);
		for (k = i + 1; j > 0 && k <= tok; k++)
			skipped += is_auth(&lines[k]);
		if (j < 0 || (j > 0 && skipped <= j))
			snprintf(bypass, sizeof(bypass), "%s:%d: auth %s %s", path, l->lineno,
			    l->w[1], l->w[2]);
	}
	if (bypass[0] != '\0')
		dr_add(d, DR_WARNING, "D4_pam_token_bypassed",
		    "a module before pam_token.so can end the stack with success: a password (or "
		    "whatever that module accepts) logs in without any token check",
		    "put pam_token.so first, or give the earlier module a control that cannot "
		    "end the stack (required, or [success=ok default=bad])",
		    "%s (pam_token.so at %s)", bypass, where);
	/* D3: passthrough hands input that is not token-shaped to the next
	 * module; a token cut short by the client (OpenSSH's ssh reads at most
	 * 1,023 bytes of an answer) can lose its shape and go there */
	for (i = tok + 1; passthrough && i < nlines && tail[0] == '\0'; i++)
		if (is_auth(&lines[i]) && lines[i].n >= 3)
			snprintf(tail, sizeof(tail), "%s:%d: auth %s %s", path, lines[i].lineno,
			    lines[i].w[1], lines[i].w[2]);
	if (tail[0] != '\0')
		dr_add(d, DR_WARNING, "D3_pam_passthrough_cut_token",
		    "with passthrough, input that is not shaped like a token goes on to the next "
		    "module: a token cut short by the client (OpenSSH's ssh sends at most 1,023 "
		    "bytes, some applications 512) can lose its shape and be handed, as a "
		    "password, to a password module that logs it as a failed password",
		    "drop passthrough where tokens are longer than the client's limit, or use "
		    "separate PAM services for tokens and for passwords",
		    "%s: passthrough; then %s", where, tail);
out:
	free(text);
}

void
dr_check_pam(dr_ctx *d)
{
	DIR *dir = opendir(d->pam_dir);
	struct dirent *de;
	char **names = NULL, **n;
	size_t count = 0, i, j;

	if (dir == NULL)
		return;
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.' || strchr(de->d_name, '~') != NULL ||
		    strstr(de->d_name, ".dpkg-") != NULL)
			continue;
		if ((n = realloc(names, (count + 1) * sizeof(*n))) == NULL) {
			d->oom = 1;
			break;
		}
		names = n;
		if ((names[count] = strdup(de->d_name)) == NULL) {
			d->oom = 1;
			break;
		}
		count++;
	}
	closedir(dir);
	/* sorted, so that findings come in the same order on every host */
	for (i = 1; i < count; i++)
		for (j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			char *t = names[j];

			names[j] = names[j - 1];
			names[j - 1] = t;
		}
	for (i = 0; i < count; i++) {
		check_stack(d, names[i]);
		free(names[i]);
	}
	free(names);
}
