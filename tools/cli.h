/*
 * cli.h: shared pieces of the `tokenscope` admin command. Every subcommand
 * loads the configuration through ts_ctx_new(), exactly as the modules do,
 * and decides through ts_validate() and nothing lower.
 */
#ifndef TS_CLI_H
#define TS_CLI_H

#include <stddef.h>
#include <time.h>

#include "tokenscope.h"

#define EXIT_ACCEPT 0
#define EXIT_REJECT 1
#define EXIT_USAGE 2 /* and configuration errors */

int cmd_verify(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_check_config(int argc, char **argv);
int cmd_keys(int argc, char **argv);
int cmd_mint(int argc, char **argv);
int cmd_fetch_keys(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
/* `keys --approve THUMBPRINT --issuer NAME` (cmd_fetch.c); conf NULL: the
 * default. */
int cli_keys_approve(const char *conf, const char *tp, const char *issuer);

struct ts_conf;
/* The approved-keys list of fetch-keys --pin ("ISSUER THUMBPRINT" lines):
 * its path (malloc'ed), whether it approves tp for [issuer issuer], its
 * text (malloc'ed; NULL when missing or unsafe), and the comma-separated
 * sections it approves tp for ("-" for none) into out. */
char *cli_approved_path(const struct ts_conf *c);
int cli_is_approved(const char *text, const char *issuer, const char *tp);
char *cli_approved_text(const struct ts_conf *c);
void cli_approved_sections(
    const struct ts_conf *c, const char *text, const char *tp, char *out, size_t cap);

/* Prints "tokenscope SUB: msg" and the subcommand's usage to stderr;
 * returns EXIT_USAGE. */
int cli_usage_error(const char *sub, const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Reads the token from `arg` ("-" or NULL: standard input, whitespace
 * around it trimmed). Returns a malloc'ed copy of exactly *len + 1 bytes
 * (wipe with ts_freezero(tok, *len + 1)) or NULL with a message printed. */
char *cli_read_token(const char *arg, size_t *len);

/* Log sink for the command: errors and warnings to stderr; decision lines
 * only when `verbose`. */
void cli_log(void *arg, int prio, const char *line);

/* Parses a decimal epoch for --time; -1 on error. */
int cli_parse_time(const char *s, time_t *out);

/* Loads the configuration; prints the error and returns NULL on failure. */
ts_ctx *cli_load(const char *conf, int *verbose);

#endif
