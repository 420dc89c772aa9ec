/*
 * t_conf_oom.c: running out of memory while parsing the configuration is
 * TS_R_INTERNAL with a message, never a config_error (an empty one would
 * tell an admin to fix a file that is fine). Every allocation of a parse of
 * a configuration that uses every setting is made to fail in turn.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "conf.h"
#include "tap.h"

#if defined(__SANITIZE_ADDRESS__)
#define TS_HAVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TS_HAVE_ASAN 1
#endif
#endif

#ifndef TS_HAVE_ASAN
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);

/* The build hides symbols by default; these must be what libc's strdup
 * and the core call. */
#define INTERPOSE __attribute__((visibility("default")))

/* 0: never fail; n: the n-th allocation from now fails (once). */
static long countdown;

static int
fail_now(void)
{
	return countdown > 0 && --countdown == 0;
}

INTERPOSE void *
malloc(size_t n)
{
	return fail_now() ? NULL : __libc_malloc(n);
}

INTERPOSE void *
calloc(size_t n, size_t m)
{
	return fail_now() ? NULL : __libc_calloc(n, m);
}

INTERPOSE void *
realloc(void *p, size_t n)
{
	return fail_now() ? NULL : __libc_realloc(p, n);
}

/* The parser's large blocks are mappings (libc's own malloc maps through
 * an internal alias, not through this). */
INTERPOSE void *
mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	if (fail_now()) {
		errno = ENOMEM;
		return MAP_FAILED;
	}
	return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

static const char conf_text[] =
    "[global]\n"
    "clock_skew = 30\nmax_token_size = 4096\nrevoked_keys = rk\nlog_level = debug\n"
    "replay_cache = rc\napproved_keys = ak\nreload_interval = 5\n"
    "[issuer a]\n"
    "issuer = https://x.example/\nkey = a.pem kid=k1 alg=ES256\nkey = b.jwks\n"
    "algorithms = ES256 RS256\ntoken_type = jwt\ntenant = t1\nclients = c1 c2\n"
    "username_claim = email\nusername_strip_domain = example.com\nmax_lifetime = 600\n"
    "revoke_before = 2024-01-01T00:00:00Z\naccept_client_audience = yes\n"
    "[issuer b]\n"
    "issuer = https://y.example/\nkey = y.jwks\nalgorithms = RS256\n"
    "discovery = https://y.example/.well-known/openid-configuration\n"
    "[service s]\n"
    "issuers = a b\naudiences = x y\nrequired_scopes = mail.read mail.send\n";

#define EXTRA 600 /* sections more: over 64 KiB, so the large blocks are mapped */

/* conf_text and EXTRA sections of two relative key lines each (the key
 * rows grow), named by a second service. */
static char *fixture;

static void
make_fixture(void)
{
	size_t cap = sizeof(conf_text) + EXTRA * 200, len;
	int i;

	if ((fixture = malloc(cap)) == NULL)
		tap_bail("out of memory");
	len = (size_t)snprintf(fixture, cap, "%s", conf_text);
	for (i = 0; i < EXTRA; i++)
		len += (size_t)snprintf(fixture + len, cap - len,
		    "[issuer x%d]\nissuer = https://idp.example/tenant-%d\nkey = keys/x%d.jwks\n"
		    "key = keys/x%d.pem kid=k%d\nalgorithms = ES256\nclients = c%d\n",
		    i, i, i, i, i, i);
	len +=
	    (size_t)snprintf(fixture + len, cap - len, "[service many]\naudiences = x\nissuers =");
	for (i = 0; i < EXTRA; i++)
		len += (size_t)snprintf(fixture + len, cap - len, " x%d", i);
	if (len + 2 >= cap)
		tap_bail("fixture too small");
	fixture[len++] = '\n';
	fixture[len] = '\0';
}

/* Parses the fixture with the n-th allocation failing (0: none). */
static ts_reason
parse_failing_at(long n, ts_err *e)
{
	ts_conf *c = NULL;
	ts_reason r;

	e->msg[0] = '\0';
	countdown = n;
	r = ts_conf_parse("/etc/tokenscope/tokenscope.conf", fixture, strlen(fixture), &c, e);
	countdown = 0;
	ts_conf_free(c);
	return r;
}

int
main(void)
{
	ts_err e;
	long n, internal = 0, bad = 0;
	ts_reason r;

	make_fixture();
	tap_ok(parse_failing_at(0, &e) == TS_OK && strlen(fixture) > 64 * 1024,
	    "config_oom_fixture_parses (%zu bytes; %s)", strlen(fixture), e.msg);
	/* fail the 1st, 2nd, ... allocation until a parse needs no more */
	for (n = 1; n < 100000; n++) {
		countdown = 0;
		r = parse_failing_at(n, &e);
		if (r == TS_OK)
			break;
		if (r == TS_R_INTERNAL && strstr(e.msg, "out of memory") != NULL) {
			internal++;
		} else {
			bad++;
			tap_diag(
			    "allocation %ld failing gave %s: \"%s\"", n, ts_reason_str(r), e.msg);
		}
	}
	/* the text's mapping, the issuer rows' mapping, the arena's smaller
	 * blocks (relative paths, key rows), every list and the name checks
	 * each failed once: well over a hundred allocations */
	tap_ok(internal > 100 && bad == 0,
	    "config_oom_is_internal_never_config_error (%ld allocations failed in turn, %ld "
	    "gave something else)",
	    internal, bad);
	free(fixture);
	return tap_done();
}
#else
int
main(void)
{
	tap_skip_all("ASan replaces malloc");
}
#endif
