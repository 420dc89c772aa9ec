/*
 * main.c: tokenscope-introspect, a local RFC 7662 introspection service
 * over the tokenscope core. Options, logging, signals, privilege drop; the
 * sockets are listen.c's, the clients clients.c's, HTTP http.c's and every
 * decision handler.c's and the core's. See tokenscope-introspect(8).
 *
 * Order at start (as root): sockets, clients file (root-only 0600), drop to
 * the service user, then load the configuration as that user, so that a
 * key file it cannot read fails the start instead of a later reload.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "clients.h"
#include "handler.h"
#include "http.h"
#include "listen.h"
#include "tokenscope.h"

#define DEFAULT_CLIENTS "/etc/tokenscope/introspect-clients"
#define DEFAULT_USER "tokenscope"

static int log_stderr;

static void
log_line(void *arg, int prio, const char *line)
{
	(void)arg;
	if (log_stderr) {
		char buf[4096]; /* a whole JSON decision line (M8) */
		int n = snprintf(buf, sizeof(buf), "%s\n", line);

		/* one write per line: threads never interleave inside one */
		if (n > 0)
			(void)!write(STDERR_FILENO, buf,
			    (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
		return;
	}
	syslog(prio, "%s", line);
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: tokenscope-introspect [-c CONF] [-k CLIENTS] -l LISTEN [-l LISTEN]...\n"
	    "           [-u USER] [--allow-nonlocal] [--socket-mode MODE] [--socket-group GROUP]\n"
	    "           [--threads N] [--max-connections N] [--idle-timeout S]\n"
	    "           [--request-timeout S] [--log-stderr] [--check-config]\n"
	    "LISTEN: unix:/PATH | 127.0.0.1:PORT | [::1]:PORT (others need --allow-nonlocal);\n"
	    "        sockets from systemd (LISTEN_FDS) are used as well.\n");
}

/* Clients given a service that has no [service] section: every request
 * for it would be refused (unknown_service); said at start, not per request. */
static int
check_services(ts_ctx *ctx, const ti_clients *clients)
{
	size_t i, k;
	int missing = 0;

	for (i = 0; i < clients->n; i++)
		for (k = 0; k < clients->v[i].nservices; k++)
			if (ts_ctx_has_service(ctx, clients->v[i].services[k]) ==
			    TS_R_UNKNOWN_SERVICE) {
				char line[300];

				snprintf(line, sizeof(line),
				    "tokenscope-introspect: warning: client %s is given service "
				    "%s, which has no [service] section",
				    clients->v[i].name, clients->v[i].services[k]);
				log_line(NULL, LOG_WARNING, line);
				missing++;
			}
	return missing;
}

static int
parse_uint(const char *s, unsigned long min, unsigned long max, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 || v < min || v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/* Drops root for good: the service user's uid, gid and groups (the key
 * files are readable through the group, see FILES in the man page). */
static int
drop_privileges(const char *user)
{
	struct passwd *pw;

	if (geteuid() != 0)
		return 0; /* not root: nothing to drop (tests, a user's own run) */
	if (strcmp(user, "root") == 0) {
		fprintf(
		    stderr, "tokenscope-introspect: warning: --user root keeps full privileges\n");
		return 0;
	}
	if ((pw = getpwnam(user)) == NULL) {
		fprintf(stderr,
		    "tokenscope-introspect: no user %s (create it, or name one with -u)\n", user);
		return -1;
	}
	if (pw->pw_uid == 0) {
		fprintf(stderr, "tokenscope-introspect: user %s is uid 0\n", user);
		return -1;
	}
	if (initgroups(user, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
	    setuid(pw->pw_uid) != 0) {
		fprintf(
		    stderr, "tokenscope-introspect: dropping to %s: %s\n", user, strerror(errno));
		return -1;
	}
	if (setuid(0) == 0 || geteuid() == 0) {
		fprintf(stderr, "tokenscope-introspect: root could be regained: stopping\n");
		return -1;
	}
	(void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	return 0;
}

int
main(int argc, char **argv)
{
	enum {
		O_ALLOW = 256,
		O_MODE,
		O_GROUP,
		O_THREADS,
		O_MAXCONN,
		O_IDLE,
		O_REQ,
		O_STDERR,
		O_CHECK,
		O_VERSION
	};
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "clients", required_argument, NULL, 'k' },
		{ "listen", required_argument, NULL, 'l' },
		{ "user", required_argument, NULL, 'u' },
		{ "allow-nonlocal", no_argument, NULL, O_ALLOW },
		{ "socket-mode", required_argument, NULL, O_MODE },
		{ "socket-group", required_argument, NULL, O_GROUP },
		{ "threads", required_argument, NULL, O_THREADS },
		{ "max-connections", required_argument, NULL, O_MAXCONN },
		{ "idle-timeout", required_argument, NULL, O_IDLE },
		{ "request-timeout", required_argument, NULL, O_REQ },
		{ "log-stderr", no_argument, NULL, O_STDERR },
		{ "check-config", no_argument, NULL, O_CHECK },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, O_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *clients_path = DEFAULT_CLIENTS, *user = DEFAULT_USER;
	const char *specs[TI_MAX_LISTENERS];
	size_t nspecs = 0, i, max_token = 8192;
	int allow_nonlocal = 0, check_only = 0, c, rc = 1;
	int missing;
	unsigned mode = 0660;
	gid_t gid = (gid_t)-1;
	ti_listeners ls;
	ti_clients *clients = NULL;
	ti_env env;
	ti_limits lim;
	ti_http *http = NULL;
	ts_ctx *ctx = NULL;
	ts_err e = { "" };
	sigset_t sigs;
	char err[512];

	memset(&ls, 0, sizeof(ls));
	memset(&lim, 0, sizeof(lim));
	lim.threads = 2;
	lim.max_connections = 512;
	lim.idle_timeout = 15;
	lim.request_timeout = 10;
	lim.conn_max_requests = 100000;
	lim.conn_max_age = 600;
	while ((c = getopt_long(argc, argv, "c:k:l:u:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'k': clients_path = optarg; break;
		case 'l':
			if (nspecs >= TI_MAX_LISTENERS) {
				fprintf(stderr, "tokenscope-introspect: at most %d --listen\n",
				    TI_MAX_LISTENERS);
				return 2;
			}
			specs[nspecs++] = optarg;
			break;
		case 'u': user = optarg; break;
		case O_ALLOW: allow_nonlocal = 1; break;
		case O_MODE: {
			char *end;
			unsigned long m = strtoul(optarg, &end, 8);

			if (*end != '\0' || m > 0777 || (m & 0007) != 0) {
				fprintf(stderr,
				    "tokenscope-introspect: --socket-mode: octal, and "
				    "never open to others (o=)\n");
				return 2;
			}
			mode = (unsigned)m;
			break;
		}
		case O_GROUP: {
			struct group *gr = getgrnam(optarg);

			if (gr == NULL) {
				fprintf(stderr, "tokenscope-introspect: no group %s\n", optarg);
				return 2;
			}
			gid = gr->gr_gid;
			break;
		}
		case O_THREADS:
		case O_MAXCONN:
		case O_IDLE:
		case O_REQ: {
			unsigned *dst = c == O_THREADS ? &lim.threads
			    : c == O_MAXCONN           ? &lim.max_connections
			    : c == O_IDLE              ? &lim.idle_timeout
			                               : &lim.request_timeout;
			unsigned long max = c == O_THREADS ? 64 : c == O_MAXCONN ? 60000 : 3600;

			if (parse_uint(optarg, 1, max, dst) != 0) {
				fprintf(stderr, "tokenscope-introspect: %s wants 1..%lu\n",
				    argv[optind - 1], max);
				return 2;
			}
			break;
		}
		case O_STDERR: log_stderr = 1; break;
		case O_CHECK:
			check_only = 1;
			log_stderr = 1;
			break;
		case O_VERSION: printf("tokenscope-introspect %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (!log_stderr)
		openlog("tokenscope-introspect", LOG_PID, LOG_AUTHPRIV);
	umask(077);
	/* SIGTERM, SIGINT and SIGHUP are taken by sigwait below: blocked
	 * before any thread exists so that every thread inherits the mask */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (!check_only && ti_listen_systemd(&ls, allow_nonlocal, err, sizeof(err)) < 0)
		goto fail;
	for (i = 0; !check_only && i < nspecs; i++)
		if (ti_listen_add(
		        &ls, specs[i], allow_nonlocal, (mode_t)mode, gid, err, sizeof(err)) != 0)
			goto fail;
	if (ls.n == 0 && !check_only) {
		snprintf(err, sizeof(err),
		    "nothing to listen on: give --listen (or use the .socket unit)");
		goto fail;
	}
	if (ti_clients_load(clients_path, &clients, err, sizeof(err)) != 0)
		goto fail;
	if (drop_privileges(user) != 0)
		goto out;
	if (ts_ctx_new(config, log_line, NULL, &ctx, &e) != TS_OK) {
		snprintf(err, sizeof(err), "%s", e.msg);
		goto fail;
	}
	if (ts_ctx_max_token_size(ctx, &max_token) != TS_OK || max_token == 0)
		max_token = 8192;
	missing = check_services(ctx, clients);
	if (check_only) {
		/* the same steps as a start, as the same user, without binding:
		 * a key file the service user cannot read fails here */
		printf("tokenscope-introspect: configuration and %zu client(s) load as %s%s\n",
		    clients->n, geteuid() == 0 ? "root" : "the service user",
		    missing ? " (with warnings)" : "");
		rc = missing ? 1 : 0;
		goto out;
	}
	/* a little over the largest token the configuration accepts: the form
	 * name, escapes of a few characters and token_type_hint */
	lim.body_max = max_token + 1024;
	/* headers: a bearer token plus the usual few hundred bytes, and the
	 * library's own buffers */
	lim.header_mem = 2 * (max_token + 4096) + 16384;
	env.ctx = ctx;
	env.clients = clients;
	env.log = log_line;
	env.log_arg = NULL;
	if ((http = ti_http_start(&env, &lim, &ls, err, sizeof(err))) == NULL)
		goto fail;
	{
		char line[256];

		snprintf(line, sizeof(line),
		    "tokenscope-introspect: serving %zu socket(s), %zu client(s), body cap %zu "
		    "bytes",
		    ls.n, clients->n, lim.body_max);
		log_line(NULL, LOG_INFO, line);
	}
	for (;;) {
		int sig = 0;

		if (sigwait(&sigs, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			ts_err he = { "" };

			/* all or nothing, as in the modules: a broken file keeps
			 * the configuration in force and says why */
			if (ts_ctx_refresh(ctx, 1, &he) != TS_OK)
				log_line(NULL, LOG_ERR,
				    "tokenscope-introspect: reload refused, "
				    "keeping the last good configuration");
			else
				log_line(NULL, LOG_INFO, "tokenscope-introspect: reload checked");
			continue;
		}
		log_line(NULL, LOG_INFO, "tokenscope-introspect: stopping, draining connections");
		break;
	}
	ti_http_stop(http, 5);
	http = NULL;
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "tokenscope-introspect: %s\n", err);
	if (!log_stderr) {
		char line[600];

		snprintf(line, sizeof(line), "tokenscope-introspect: %s", err);
		log_line(NULL, LOG_ERR, line);
	}
out:
	ti_http_stop(http, 0);
	ti_listeners_close(&ls);
	ti_clients_free(clients);
	ts_ctx_free(ctx);
	return rc;
}
