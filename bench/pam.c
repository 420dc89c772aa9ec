/* pam.c: section 3 of the bench: a PAM authentication through
 * pam_token.so against one through pam_permit.so, with 1, 100 and 10,000
 * keys, and the log lines sent where a real host would send them. */
#define _GNU_SOURCE 1
#include "config.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "bench.h"

static int
pam_conv_fn(int n, const struct pam_message **msg, struct pam_response **resp, void *arg)
{
	struct pam_response *r = calloc((size_t)n, sizeof(*r));
	int i;

	for (i = 0; i < n; i++)
		r[i].resp = strdup(arg);
	*resp = r;
	return PAM_SUCCESS;
}

typedef struct pam_arg {
	const char *dir; /* holds the service files */
	const char *service, *token;
} pam_arg;

static void
pam_once(void *arg)
{
	pam_arg *p = arg;
	struct pam_conv c = { pam_conv_fn, (void *)(uintptr_t)p->token };
	pam_handle_t *h = NULL;
	int r;

	c.appdata_ptr = (void *)(uintptr_t)p->token;
	if (pam_start_confdir(p->service, "alice", &c, p->dir, &h) != PAM_SUCCESS)
		abort();
	r = pam_authenticate(h, 0);
	pam_end(h, r);
	if (r != PAM_SUCCESS) {
		fprintf(stderr, "bench: PAM %s refused: %s\n", p->service, pam_strerror(NULL, r));
		abort();
	}
}

/* pam_token.so logs each decision with pam_syslog(), as it must. On a
 * machine without a syslog daemon (a CI container) glibc then tries, and
 * fails, to connect to /dev/log on every line, which no real server pays.
 * As root, give this process (only) a private mount namespace whose /dev
 * has a /dev/log socket drained by a thread, so the PAM figures are those
 * of a host with syslog running. */
typedef struct drain {
	volatile sig_atomic_t stop; /* the drain must not share the cores with section 6 */
	pthread_t thread;
	int running, fd;
	/* what the drain received: a line no real stack writes (libpam's
	 * complaint about a missing `other` file) would be a cost no real
	 * server pays */
	long lines, no_other;
} drain;

static void *
drain_log(void *arg)
{
	drain *dr = arg;
	static const char no_other[] = "no default config other";
	char buf[4096];
	ssize_t n;

	/* polls instead of blocking in recv(): a blocked reader would be woken
	 * by every line, a cost a busy syslog daemon does not impose */
	while (!dr->stop) {
		usleep(100);
		while ((n = recv(dr->fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
			dr->lines++;
			dr->no_other +=
			    memmem(buf, (size_t)n, no_other, sizeof(no_other) - 1) != NULL;
		}
	}
	return NULL;
}

static const char *
private_syslog(const bench *b, drain *dr)
{
	static const char *const nodes[] = { "null", "zero", "random", "urandom" };
	struct sockaddr_un sa;
	char old[900], p[1000], q[1000];
	size_t i;
	int nf;

	if (geteuid() != 0)
		return "no syslog daemon: each log line includes a failed /dev/log connect";
	snprintf(old, sizeof(old), "%s/hostdev", b->work);
	if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
	    mkdir(old, 0700) != 0 || mount("/dev", old, NULL, MS_BIND | MS_REC, NULL) != 0)
		return "no syslog daemon, no private namespace: failed connects included";
	if (mount("tmpfs", "/dev", "tmpfs", 0, "mode=0755") != 0) {
		umount2(old, MNT_DETACH);
		return "no syslog daemon, no private /dev: failed connects included";
	}
	for (i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", old, nodes[i]);
		snprintf(q, sizeof(q), "/dev/%s", nodes[i]);
		if ((nf = open(q, O_CREAT | O_WRONLY, 0666)) >= 0)
			close(nf);
		(void)mount(p, q, NULL, MS_BIND, NULL);
	}
	/* never leave the host's /dev reachable under the scratch directory,
	 * which is removed with rm -rf at the end */
	umount2(old, MNT_DETACH);
	rmdir(old);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/dev/log");
	if ((dr->fd = socket(AF_UNIX, SOCK_DGRAM, 0)) < 0 ||
	    bind(dr->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    pthread_create(&dr->thread, NULL, drain_log, dr) != 0)
		return "no syslog daemon; a private /dev/log could not be made";
	dr->running = 1;
	/* glibc keeps the socket of an earlier run connected to the host's
	 * receiver, whatever /dev/log names now */
	closelog();
	return "a private /dev/log drained by the bench";
}

/* 3: PAM per authentication, 1 / 100 / 10,000 keys over 100 issuers, with the
 * log lines going where the caller arranged. Files, services and JSON keys get
 * suffix: a second run must not find the first one's keyring still cached. */
static void
pam_sizes(bench *b, const char *suffix, int with_targets)
{
	static const int sizes[] = { 1, 100, 10000 };
	double pam_t[3] = { 0, 0, 0 }, fl[3] = { 1, 1, 1 }, over[3] = { 0, 0, 0 }, permit, t0;
	pam_arg pp = { b->work, "permit", "x" };
	char path[900], k[96], iss[128], kid[32];
	int n = b->smoke ? 2 : 3, i;
	FILE *f;

	for (i = 0; i < n; i++) {
		char scale[700], svc[32];
		algcase tok;
		pam_arg p;

		memset(&tok, 0, sizeof(tok));
		snprintf(scale, sizeof(scale), "%s/scale-%d%s.conf", b->work, sizes[i], suffix);
		write_scale_conf(scale, 100, sizes[i], &tok.key, iss, kid);
		tok.alg = TS_ALG_ES256;
		snprintf(tok.kid, sizeof(tok.kid), "%s", kid);
		sign_token(&tok, iss, b->start_time);
		snprintf(svc, sizeof(svc), "scale%d%s", sizes[i], suffix);
		snprintf(path, sizeof(path), "%s/%s", b->work, svc);
		f = fopen(path, "w");
		fprintf(f,
		    "auth required %s/pam_token/.libs/pam_token.so config=%s service=bench\n",
		    b->builddir, scale);
		fclose(f);
		p.dir = b->work;
		p.service = svc;
		p.token = tok.token;
		t0 = now_s();
		pam_once(&p); /* the first authentication of the process loads the keyring */
		printf(
		    "  pam_token.so, %5d keys: first authentication %.1f ms (loads the keyring)\n",
		    sizes[i], (now_s() - t0) * 1e3);
		{
			bench_fn *const fns[] = { pam_once, pam_once, floor_once };
			void *const args[] = { &pp, &p, &b->algs[BENCH_ES256] };
			double t[3];

			interleaved(b, 3, fns, args, t);
			permit = t[0];
			pam_t[i] = t[1];
			fl[i] = t[2];
			over[i] = (pam_t[i] - permit) / fl[i];
		}
		printf("  pam_token.so, %5d keys: %8.2f us, pam_permit.so %6.2f us: difference "
		       "%.2f us = %.3f x floor(ES256) (%.2f us)\n",
		    sizes[i], pam_t[i] * 1e6, permit * 1e6, (pam_t[i] - permit) * 1e6, over[i],
		    fl[i] * 1e6);
		snprintf(k, sizeof(k), "pam_us_%d_keys%s", sizes[i], suffix);
		put(b, k, pam_t[i] * 1e6);
		snprintf(k, sizeof(k), "pam_permit_us_%d_keys%s", sizes[i], suffix);
		put(b, k, permit * 1e6);
		snprintf(k, sizeof(k), "pam_minus_permit_over_floor_%d_keys%s", sizes[i], suffix);
		put(b, k, over[i]);
		EVP_PKEY_free(tok.key);
	}
	if (n == 3 && with_targets) {
		put(b, "pam_10000_keys_over_1_key", over[2] / over[0]);
		target("PAM: (pam_token - pam_permit) / floor(ES256), 10,000 keys", over[2],
		    "<=", 1.25);
		target("PAM: 10,000-key overhead / 1-key overhead", over[2] / over[0], "<=", 1.10);
	}
}

void
bench_pam(bench *b)
{
	pam_arg pp = { b->work, "permit", "x" };
	drain dr = { 0, 0, 0, -1, 0, 0 };
	int host = access("/dev/log", F_OK) == 0, own = geteuid() == 0, i;
	char path[900];
	FILE *f;

	snprintf(path, sizeof(path), "%s/permit", b->work);
	f = fopen(path, "w");
	fprintf(f, "auth required pam_permit.so\n");
	fclose(f);
	/* what every real stack has: without `other`, libpam logs "no default
	 * config other" at every pam_start, a cost no real server pays */
	snprintf(path, sizeof(path), "%s/other", b->work);
	f = fopen(path, "w");
	fprintf(f,
	    "auth required pam_deny.so\naccount required pam_deny.so\n"
	    "password required pam_deny.so\nsession required pam_deny.so\n");
	fclose(f);
	printf("3. PAM: pam_start_confdir + pam_authenticate + pam_end in one process, ES256\n");
	/* pam_token.so is linked -z nodelete, so PAM's dlopen/dlclose per
	 * handle costs it only a reference count; pin pam_permit.so (and
	 * pam_deny.so, which `other` loads for both services) the same way, or
	 * the figures would include a full load and unload per authentication
	 * and flatter the difference. */
	for (i = 0; i < 2; i++) {
		static const char *const dirs[] = { "/lib/" TS_MULTIARCH "/security",
			"/usr/lib/" TS_MULTIARCH "/security", "/lib/security" };
		const char *mod = i == 0 ? "pam_permit.so" : "pam_deny.so";
		size_t d;

		for (d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++) {
			snprintf(path, sizeof(path), "%s/%s", dirs[d], mod);
			if (dlopen(path, RTLD_NOW | RTLD_NODELETE) != NULL)
				break;
		}
		if (d == sizeof(dirs) / sizeof(dirs[0]))
			printf(
			    "  (%s could not be pinned: its figure includes load/unload)\n", mod);
	}
	pam_once(&pp);
	printf("  (each size: pam_permit.so, pam_token.so and the ES256 floor measured in\n"
	       "   interleaved rounds, the minimum of each)\n");
	/* A host's receiver (a syslog daemon) shows what a login costs on that
	 * host, daemon included; the private drained /dev/log gives figures that
	 * compare across hosts, so the targets are held on it when it can be
	 * made. */
	if (host) {
		printf("  (log lines go to the host's syslog receiver at /dev/log)\n");
		pam_sizes(b, own ? "_host_syslog" : "", !own);
	}
	if (!host || own) {
		printf("  (log lines go to %s)\n", private_syslog(b, &dr));
		pam_sizes(b, "", 1);
	}
	if (dr.running) { /* later lines fail fast, as with no daemon */
		dr.stop = 1;
		pthread_join(dr.thread, NULL);
		dr.running = 0;
		close(dr.fd);
		unlink("/dev/log"); /* in our private /dev only */
		printf("  (the private /dev/log received %ld lines, %ld of them libpam's "
		       "\"no default config other\")\n",
		    dr.lines, dr.no_other);
	}
	printf("\n");
}
