/* doctor_dovecot.c: Dovecot as `doveconf -n` shows it, for `tokenscope
 * doctor` (D1: the auth cache outliving tokens; D2: tokens in its log).
 * Both the 2.3 syntax (passdb { driver = pam  args = ... }) and the 2.4 one
 * (passdb NAME { driver = ...  service_name = ... }) are read. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "doctor.h"

/* The protocols Dovecot substitutes for %s / %{protocol} in a PAM service
 * name (2.3 args = %s): each may be a stack of its own. */
static const char *const protocols[] = { "imap", "pop3", "submission", "managesieve", "lmtp" };

typedef struct passdb {
	char driver[64];
	char args[512]; /* 2.3 */
	char service[128]; /* 2.4 service_name */
	int no_cache; /* 2.4 use_cache = no */
	int depth;
} passdb;

typedef struct dove {
	char cache_size[64], cache_ttl[64], verbose_pw[64], debug_pw[64];
	char worker_user[64]; /* service auth-worker { user }: root when empty */
	char version[64];
	int is_24;
} dove;

/* "key = value" into key and value (trimmed), or 0. */
static int
kv(char *line, char **k, char **v)
{
	char *eq = strstr(line, " = ");

	if (eq == NULL) {
		if ((eq = strstr(line, " =")) == NULL || eq[2] != '\0')
			return 0;
	}
	*eq = '\0';
	*k = line;
	*v = eq + (eq[2] == ' ' ? 3 : 2);
	while (**k == ' ' || **k == '\t')
		(*k)++;
	return 1;
}

/* The PAM service a pam passdb uses: the last word of 2.3 args that is
 * not an option, or 2.4 service_name; "dovecot" by default. */
static void
pam_service_of(const passdb *p, char *out, size_t cap)
{
	char buf[512], *w, *save = NULL;

	snprintf(out, cap, "%s", p->service[0] ? p->service : "dovecot");
	if (p->service[0] || !p->args[0])
		return;
	snprintf(buf, sizeof(buf), "%s", p->args);
	for (w = strtok_r(buf, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
		if (strchr(w, '=') == NULL)
			snprintf(out, cap, "%s", w);
}

/* Whether this passdb hands tokens to a validator the cache can skip:
 * Dovecot's oauth2 passdb, or a pam one whose stack names pam_token.so.
 * evid gets the evidence. 2.3 caches a pam passdb only with cache_key in
 * its args (Dovecot's passdb-pam documentation); 2.4 gives pam and oauth2
 * a cache key of their own (read in the 2.4.1 source, src/auth/passdb-pam.c
 * and passdb-oauth2.c; not run here), so there every passdb is cached
 * unless use_cache = no. */
static int
uses_tokens_cached(const dr_ctx *d, const dove *dv, const passdb *p, char *evid, size_t cap)
{
	char svc[128];
	const dr_pam_service *ps = NULL;
	size_t i;

	if (p->no_cache)
		return 0;
	if (strcmp(p->driver, "oauth2") == 0) {
		snprintf(evid, cap, "passdb driver = oauth2");
		return 1;
	}
	if (strcmp(p->driver, "pam") != 0)
		return 0;
	if (!dv->is_24 && strstr(p->args, "cache_key=") == NULL)
		return 0;
	pam_service_of(p, svc, sizeof(svc));
	if (strcmp(svc, "%s") == 0 || strcmp(svc, "%{protocol}") == 0) {
		for (i = 0; ps == NULL && i < sizeof(protocols) / sizeof(protocols[0]); i++)
			ps = dr_pam_find(d, protocols[i]);
	} else {
		ps = dr_pam_find(d, svc);
	}
	if (ps == NULL)
		return 0;
	snprintf(evid, cap, "passdb driver = pam%s%s (PAM service %s: pam_token.so at %s)",
	    p->args[0] ? ", args = " : "", p->args, ps->name, ps->where);
	return 1;
}

static void
check_cache(dr_ctx *d, const dove *dv, const passdb *p)
{
	char evid[1024];
	long ttl;

	if (dv->cache_size[0] == '\0' || atol(dv->cache_size) == 0)
		return;
	if (!uses_tokens_cached(d, dv, p, evid, sizeof(evid)))
		return;
	/* Dovecot's default TTL is one hour */
	ttl = dv->cache_ttl[0] ? dr_seconds(dv->cache_ttl) : 3600;
	if (ttl >= 0 && ttl <= d->clock_skew)
		return;
	dr_add(d, DR_TRAP, "D1_dovecot_auth_cache",
	    "Dovecot's auth cache answers a repeated login from its cache, without asking the "
	    "validator: the cache key holds the token as the password and its TTL knows nothing "
	    "of exp or of revocations, so a token is accepted for up to the TTL after it "
	    "expired, was revoked or its key was removed",
	    "auth_cache_size = 0, or an auth_cache_ttl not longer than the clock_skew of "
	    "tokenscope.conf (and restart Dovecot)",
	    "doveconf -n -c %s (Dovecot %s): auth_cache_size = %s, auth_cache_ttl = %s; %s; "
	    "tokenscope clock_skew = %ld s, longest token lifetime allowed = %ld s "
	    "(max_lifetime of [issuer %s])",
	    d->dovecot_config, dv->version, dv->cache_size,
	    dv->cache_ttl[0] ? dv->cache_ttl : "1 hour (default)", evid, d->clock_skew,
	    d->max_lifetime, d->max_lifetime_issuer ? d->max_lifetime_issuer : "-");
}

static void
check_log(dr_ctx *d, const dove *dv)
{
	/* auth_verbose_passwords: plain (or yes) logs the token itself, sha1
	 * a hash of it that identifies it; auth_debug_passwords logs it */
	if (dv->verbose_pw[0] && strcmp(dv->verbose_pw, "no") != 0)
		dr_add(d, DR_WARNING, "D2_dovecot_logs_tokens",
		    "Dovecot writes the password of failed logins into its log: for token logins "
		    "that is the token (or a hash that identifies it), readable by whoever reads "
		    "the log",
		    "auth_verbose_passwords = no", "doveconf -n -c %s: auth_verbose_passwords = %s",
		    d->dovecot_config, dv->verbose_pw);
	if (strcmp(dv->debug_pw, "yes") == 0)
		dr_add(d, DR_WARNING, "D2_dovecot_logs_tokens",
		    "Dovecot's auth_debug_passwords writes passwords, here tokens, into its log",
		    "auth_debug_passwords = no", "doveconf -n -c %s: auth_debug_passwords = yes",
		    d->dovecot_config);
}

void
dr_check_dovecot(dr_ctx *d)
{
	const char *argv[] = { "doveconf", "-n", "-c", d->dovecot_config, NULL };
	char *out = NULL, *line, *save = NULL, err[256];
	passdb pdbs[16];
	size_t np = 0, i;
	int depth = 0, in = -1, worker = -1, token_pam = 0;
	dove dv;

	memset(&dv, 0, sizeof(dv));
	if (!d->dovecot_given && access(d->dovecot_config, F_OK) != 0)
		return; /* Dovecot is not installed here */
	if (dr_run(argv, &out, err, sizeof(err)) != 0) {
		dr_add(d, DR_WARNING, "D6_consumer_unreadable",
		    "the doctor could not read Dovecot's configuration, so its traps are unknown",
		    "run `doveconf -n -c FILE` and fix what it reports", "doveconf -n -c %s: %s",
		    d->dovecot_config, err);
		return;
	}
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *k, *v, *t = line + strspn(line, " \t");
		size_t len = strlen(t);

		/* the first line: "# 2.3.19.1 (9b53102964): /etc/dovecot/dovecot.conf" */
		if (t[0] == '#') {
			if (dv.version[0] == '\0' && sscanf(t, "# %63s", dv.version) == 1)
				dv.is_24 = strncmp(dv.version, "2.3", 3) != 0 &&
				    strncmp(dv.version, "2.2", 3) != 0;
			continue;
		}
		if (len > 0 && t[len - 1] == '{') {
			depth++;
			if (strncmp(t, "passdb", 6) == 0 && (t[6] == ' ' || t[6] == '{') &&
			    np < 16) {
				memset(&pdbs[np], 0, sizeof(pdbs[np]));
				pdbs[np].depth = depth;
				/* 2.4: "passdb NAME {": the driver defaults to the name */
				if (sscanf(t, "passdb %63[^ {]", pdbs[np].driver) != 1)
					pdbs[np].driver[0] = '\0';
				in = (int)np++;
			}
			if (strcmp(t, "service auth-worker {") == 0)
				worker = depth;
			continue;
		}
		if (strcmp(t, "}") == 0) {
			if (in >= 0 && pdbs[in].depth == depth)
				in = -1;
			if (worker == depth)
				worker = -1;
			depth--;
			continue;
		}
		if (!kv(t, &k, &v))
			continue;
		if (in >= 0 && pdbs[in].depth == depth) {
			passdb *p = &pdbs[in];

			if (strcmp(k, "driver") == 0 || strcmp(k, "passdb_driver") == 0)
				snprintf(p->driver, sizeof(p->driver), "%s", v);
			else if (strcmp(k, "args") == 0)
				snprintf(p->args, sizeof(p->args), "%s", v);
			else if (strcmp(k, "service_name") == 0 ||
			    strcmp(k, "passdb_pam_service_name") == 0)
				snprintf(p->service, sizeof(p->service), "%s", v);
			else if (strcmp(k, "use_cache") == 0 || strcmp(k, "passdb_use_cache") == 0)
				p->no_cache = strcmp(v, "no") == 0;
			continue;
		}
		if (worker == depth && strcmp(k, "user") == 0)
			snprintf(dv.worker_user, sizeof(dv.worker_user), "%s", v);
		if (depth != 0)
			continue;
		if (strcmp(k, "auth_cache_size") == 0)
			snprintf(dv.cache_size, sizeof(dv.cache_size), "%s", v);
		else if (strcmp(k, "auth_cache_ttl") == 0)
			snprintf(dv.cache_ttl, sizeof(dv.cache_ttl), "%s", v);
		else if (strcmp(k, "auth_verbose_passwords") == 0)
			snprintf(dv.verbose_pw, sizeof(dv.verbose_pw), "%s", v);
		else if (strcmp(k, "auth_debug_passwords") == 0)
			snprintf(dv.debug_pw, sizeof(dv.debug_pw), "%s", v);
	}
	for (i = 0; i < np; i++) {
		char svc[128];

		check_cache(d, &dv, &pdbs[i]);
		pam_service_of(&pdbs[i], svc, sizeof(svc));
		token_pam |= strcmp(pdbs[i].driver, "pam") == 0 && dr_pam_find(d, svc) != NULL;
	}
	check_log(d, &dv);
	/* passdb pam runs pam_token.so in the auth worker, as its user */
	if (token_pam && dv.worker_user[0] && strcmp(dv.worker_user, "root") != 0) {
		char evid[1200];

		snprintf(evid, sizeof(evid), "doveconf -n -c %s: service auth-worker { user = %s }",
		    d->dovecot_config, dv.worker_user);
		dr_check_readable(d, dv.worker_user, "Dovecot's auth worker", evid);
	}
	free(out);
}
