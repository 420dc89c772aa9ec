/*
 * t_heap_secret.c: an HMAC secret read from a key file leaves no copy in
 * freed heap memory (K8, M4), and no error about a key file quotes it (M3).
 *
 * The test replaces malloc, calloc, realloc and free for the whole process
 * (a program's own definitions take precedence over libc's, also for
 * OpenSSL and jansson), and every block freed while the check is armed is
 * scanned for the secret's base64url text and for its raw bytes before it
 * goes back to libc. The admin command's token reader (tools/cli_io.c) is
 * held to the same for the token it reads (M4). realloc is done as malloc + copy + free so that the
 * block it leaves behind is scanned too.
 */
#include "config.h"

#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "b64url.h"
#include "cli.h"
#include "keyfile.h"
#include "tap.h"
#include "tokenscope.h"
#include "tsenv.h"

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
extern void __libc_free(void *);

/* The build hides symbols by default; these must be what libcrypto and
 * libjansson resolve malloc and free to. */
#define INTERPOSE __attribute__((visibility("default")))

/* A prefix is enough: any leftover of 16 consecutive bytes is a leak. */
#define PROBE 16

static unsigned char raw[32];
static char text[64];
static volatile int armed;
static size_t hits_text, hits_raw, scanned;

static void
scan(const void *p, size_t n)
{
	scanned++;
	if (memmem(p, n, text, PROBE) != NULL)
		hits_text++;
	if (memmem(p, n, raw, PROBE) != NULL)
		hits_raw++;
}

INTERPOSE void *
malloc(size_t n)
{
	return __libc_malloc(n);
}

INTERPOSE void *
calloc(size_t a, size_t b)
{
	return __libc_calloc(a, b);
}

INTERPOSE void
free(void *p)
{
	if (p != NULL && armed)
		scan(p, malloc_usable_size(p));
	__libc_free(p);
}

INTERPOSE void *
realloc(void *p, size_t n)
{
	size_t old;
	void *q;

	if (p == NULL)
		return __libc_malloc(n);
	if (n == 0) {
		free(p);
		return NULL;
	}
	old = malloc_usable_size(p);
	if ((q = __libc_malloc(n)) == NULL)
		return NULL;
	memcpy(q, p, old < n ? old : n);
	free(p);
	return q;
}

/* True when msg holds any 6 consecutive characters of the secret's text. */
static int
quotes_secret(const char *msg)
{
	size_t i, n = strlen(text);

	for (i = 0; i + 6 <= n; i++)
		if (memmem(msg, strlen(msg), text + i, 6) != NULL)
			return 1;
	return 0;
}

/* Loads a config whose issuer has one HMAC key, with the scan armed. */
static void
load_armed(const char *dir, const char *keyfile, const char *conf_text, ts_reason want,
    const char *name, const char *m3name)
{
	char path[4096], kpath[4096];
	const char *p;
	ts_ctx *ctx = NULL;
	ts_err e = { "" };
	ts_reason r;

	snprintf(kpath, sizeof(kpath), "%s", keyfile); /* env_write reuses its buffer */
	p = env_write(dir, "tokenscope.conf", conf_text, 0644);
	snprintf(path, sizeof(path), "%s", p);
	hits_text = hits_raw = scanned = 0;
	armed = 1;
	r = ts_ctx_new(path, NULL, NULL, &ctx, &e);
	ts_ctx_free(ctx);
	armed = 0;
	ok(r == want && scanned > 0 && hits_text == 0 && hits_raw == 0,
	    "%s (load %s, %zu freed blocks scanned, %zu held the secret's text, %zu its bytes)",
	    name, ts_reason_str(r), scanned, hits_text, hits_raw);
	/* M3: a malformed file's error never quotes the secret, neither in
	 * the loader's message (cut at TS_ERR_MSG_MAX after the paths) nor in
	 * the key file parser's own */
	{
		ts_keyspec ks;
		ts_loaded_key *lk = NULL;
		size_t nlk = 0;
		char *buf = tap_slurp(kpath, NULL);
		ts_err ke = { "" };

		memset(&ks, 0, sizeof(ks));
		ks.alg = TS_ALG_INVALID;
		r = ts_keyfile_parse(buf, strlen(buf), &ks, ~0u, 1, &lk, &nlk, &ke);
		ts_loaded_keys_free(lk, nlk);
		OPENSSL_cleanse(buf, strlen(buf));
		free(buf);
		ok(r == want && !quotes_secret(e.msg) && !quotes_secret(ke.msg), "%s", m3name);
	}
}

/* M4: the admin command's token reader leaves no copy of the token behind
 * (it used to wipe len + 1 bytes of a 64 KiB buffer in which trimming
 * leading whitespace had left part of a second copy). */
static void
cli_token(const char *dir)
{
	unsigned char rnd[150];
	char tok[256], in[512];
	const char *path;
	size_t len = 0;
	int fd, saved, got;
	char *t;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1 ||
	    ts_b64url_encode(rnd, sizeof(rnd), tok, sizeof(tok)) != 200)
		tap_bail("token text");
	/* the needle: the token's last bytes, which trimming copies twice */
	memcpy(text, tok + 200 - PROBE, PROBE);
	memcpy(raw, text, PROBE);
	snprintf(in, sizeof(in), "%40s%s\n", "", tok);
	path = env_write(dir, "token.txt", in, 0600);
	if ((fd = open(path, O_RDONLY)) < 0 || (saved = dup(STDIN_FILENO)) < 0 ||
	    dup2(fd, STDIN_FILENO) < 0)
		tap_bail("stdin");
	hits_text = hits_raw = scanned = 0;
	armed = 1;
	t = cli_read_token("-", &len);
	got = t != NULL && len == 200 && memcmp(t, tok, 200) == 0;
	ts_freezero(t, len + 1);
	armed = 0;
	dup2(saved, STDIN_FILENO);
	close(saved);
	close(fd);
	ok(got && scanned > 0 && hits_text == 0,
	    "M4_cli_read_token_wipes_its_whole_buffer (%zu freed blocks scanned, %zu held the "
	    "token)",
	    scanned, hits_text);
	OPENSSL_cleanse(tok, sizeof(tok));
	OPENSSL_cleanse(in, sizeof(in));
}
#endif

int
main(void)
{
#ifdef TS_HAVE_ASAN
	tap_skip_all("AddressSanitizer owns malloc and free");
#else
	const char *dir;
	char jwk[512], conf[1024];
	const char *keypath;
	size_t i, n = 0;

	setenv("TS_TEST_NAME", "t_heap_secret", 1);
	dir = env_dir("heap_secret");
	/* bytes and text that occur nowhere else: a fresh random secret whose
	 * text starts with 15 letters (jansson quotes a run of up to 20 letters
	 * whole when it meets one unquoted) */
	if (RAND_bytes(raw, sizeof(raw)) != 1 ||
	    ts_b64url_encode(raw, sizeof(raw), text, sizeof(text)) == 0)
		tap_bail("RAND_bytes");
	for (i = 0; i < 15; i++)
		text[i] = (char)((i & 1 ? 'a' : 'A') + raw[i] % 26);
	text[15] = '7';
	if (ts_b64url_decode(text, strlen(text), raw, sizeof(raw), &n) != 0 || n != sizeof(raw))
		tap_bail("secret text");
	snprintf(conf, sizeof(conf),
	    "[global]\nreload_interval = 0\n[issuer h]\nissuer = https://h.example\n"
	    "algorithms = HS256\nkey = %s/hs.jwk\n[service s]\nissuers = h\naudiences = a\n",
	    dir);

	snprintf(jwk, sizeof(jwk), "{\"kty\":\"oct\",\"kid\":\"h\",\"alg\":\"HS256\",\"k\":\"%s\"}",
	    text);
	keypath = env_write(dir, "hs.jwk", jwk, 0600);
	load_armed(dir, keypath, conf, TS_OK, "K8_hmac_jwk_secret_not_left_in_freed_heap",
	    "M3_loaded_jwk_message_without_secret");

	snprintf(
	    jwk, sizeof(jwk), "{\"keys\":[{\"kty\":\"oct\",\"kid\":\"h\",\"k\":\"%s\"}]}", text);
	keypath = env_write(dir, "hs.jwk", jwk, 0600);
	load_armed(dir, keypath, conf, TS_OK, "K8_hmac_jwks_secret_not_left_in_freed_heap",
	    "M3_loaded_jwks_message_without_secret");

	/* a malformed file: the secret unquoted, so a parser's error text
	 * would start quoting right at it */
	snprintf(jwk, sizeof(jwk), "{\"kty\":\"oct\",\"kid\":\"h\",\"k\":%s}", text);
	keypath = env_write(dir, "hs.jwk", jwk, 0600);
	load_armed(dir, keypath, conf, TS_R_CONFIG_ERROR,
	    "K8_malformed_hmac_jwk_not_left_in_freed_heap",
	    "M3_malformed_key_file_error_never_quotes_secret");
	OPENSSL_cleanse(jwk, sizeof(jwk));
	cli_token(dir);
	return tap_done();
#endif
}
