/*
 * tap.h: a minimal TAP producer for the tests (Automake's tap-driver.sh
 * counts every assertion). Each test name should say which SECURITY.md
 * rule it holds, e.g. ok(r != TS_OK, "A1_alg_none_lowercase").
 */
#ifndef TS_TAP_H
#define TS_TAP_H

#include <stddef.h>

/* Records one assertion; returns cond so callers can branch on it. */
int tap_ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define ok tap_ok
/* Diagnostic line ("# ..."), never a token. */
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Plan-less end: prints "1..N" and returns the process exit status. */
int tap_done(void);
/* Skips the whole program visibly and exits 0. */
void tap_skip_all(const char *why) __attribute__((noreturn));
/* Aborts with a Bail out! line. */
void tap_bail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Reads a whole file into a NUL-terminated malloc'ed buffer; bails on error. */
char *tap_slurp(const char *path, size_t *len);
/* getenv or bail. */
const char *tap_env(const char *name);

#endif
