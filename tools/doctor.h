/*
 * doctor.h: `tokenscope doctor`, shared by its per-consumer files. The
 * doctor reads what the consumers (Dovecot, Postfix, OpenSSH, the PAM
 * stacks, the SASL configuration) say about themselves, through their own
 * tools where they exist, and reports the settings that silently weaken
 * token logins (rules D1-D6 of doc/security-model.md). It never changes a
 * file and never uses the network.
 */
#ifndef TS_DOCTOR_H
#define TS_DOCTOR_H

#include <stddef.h>

typedef enum dr_severity {
	DR_WARNING = 1, /* weakens or breaks token logins */
	DR_TRAP = 2, /* lets an expired, revoked or foreign token in */
} dr_severity;

typedef struct dr_finding {
	char *id; /* "D1_dovecot_auth_cache", ... */
	dr_severity severity;
	char *what, *evidence, *fix;
} dr_finding;

/* A PAM service whose stack names pam_token.so. */
typedef struct dr_pam_service {
	char *name; /* the PAM service (file name) */
	char *ts_service; /* the tokenscope [service] it applies */
	char *where; /* "file:line" of the pam_token.so auth line */
} dr_pam_service;

typedef struct dr_ctx {
	/* where the consumers' configurations are (NULL: not looked at) */
	const char *pam_dir, *dovecot_config, *postfix_dir, *sshd_config, *sasl_dir;
	/* set when the path came from the command line: a missing file is
	 * then an error, not an absent consumer */
	int dovecot_given, postfix_given, sshd_given;
	/* from the tokenscope configuration */
	const char *conf_path;
	size_t max_token_size;
	long clock_skew;
	long max_lifetime; /* the longest of the issuers' */
	char *max_lifetime_issuer;
	char **services; /* [service] names */
	size_t nservices;
	char **files; /* the configuration, its key files and revoked list */
	size_t nfiles;
	/* what the consumers use */
	dr_pam_service *pam;
	size_t npam;
	char **used; /* tokenscope services some consumer applies */
	size_t nused;
	dr_finding *f;
	size_t nf;
	int oom;
} dr_ctx;

/* Adds a finding; the strings are printf formats for evidence only. */
void dr_add(dr_ctx *d, dr_severity sev, const char *id, const char *what, const char *fix,
    const char *evidence_fmt, ...) __attribute__((format(printf, 6, 7)));
/* Records that a consumer applies tokenscope service `name`. */
void dr_use_service(dr_ctx *d, const char *name);
/* The PAM service of that name when its stack names pam_token.so. */
const dr_pam_service *dr_pam_find(const dr_ctx *d, const char *name);

/* Runs a consumer's tool (looked up in a fixed PATH, no shell, standard
 * input closed, bounded in time and output). Returns 0 and *out (malloc'ed,
 * NUL-terminated) on exit status 0; -1 otherwise, with the first line of
 * its error output (or why it could not run) in err. */
int dr_run(const char *const argv[], char **out, char *err, size_t errcap);

/* Reads a small text file whole (malloc'ed) or NULL. */
char *dr_read_file(const char *path);
/* Parses "N unit" (Dovecot time: secs, mins, hours, days, weeks, with or
 * without a space, a plain number is seconds); -1 when malformed. */
long dr_seconds(const char *s);
/* Duplicates s, trimmed; sets d->oom on failure. */
char *dr_strdup(dr_ctx *d, const char *s, size_t len);

/* D5: every file of the tokenscope configuration readable by user, the
 * process user of consumer (evidence: where that comes from). */
void dr_check_readable(dr_ctx *d, const char *user, const char *consumer, const char *evidence);

void dr_check_pam(dr_ctx *d);
void dr_check_dovecot(dr_ctx *d);
void dr_check_postfix(dr_ctx *d);
void dr_check_sshd(dr_ctx *d);

#endif
