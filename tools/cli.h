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

/* Files fetch-keys reads back and rewrites (cmd_fetch.c): read with the
 * key files' checks (0 read, 1 missing, -1 unusable), written whole by
 * rename; cli_lock_dir_of takes an exclusive lock on the directory of path
 * (the descriptor to close to release it, or -1 with err). */
int cli_read_safe(const char *path, char **buf, size_t *len, char *err, size_t cap);
int cli_write_atomic(
    const char *path, const char *data, size_t len, unsigned mode, char *err, size_t cap);
int cli_lock_dir_of(const char *path, char *err, size_t cap);
/* A file setting's path: set when given, else name beside the config
 * (malloc'ed); and the text of path read safely (malloc'ed, NULL when
 * missing or unsafe), path freed. */
char *cli_conf_path(const struct ts_conf *c, const char *set, const char *name);
char *cli_text_of(char *path);

/* K14 (fetch_req.c). The last fetch of each issuer, "NAME EPOCH RESULT"
 * lines in [global] fetch_state: its path and text (malloc'ed, NULL when
 * missing or unsafe), one issuer's entry (1 found), and recording one.
 * cli_spool_take empties [global] fetch_spool and sets want[i] for each
 * [issuer] with somewhere to fetch from that an entry names; returns how
 * many entries named one, or -1 when the spool is unusable. */
char *cli_fetch_state_path(const struct ts_conf *c);
char *cli_fetch_state_text(const struct ts_conf *c);
int cli_fetch_state_get(
    const char *text, const char *name, long long *when, char *result, size_t cap);
int cli_fetch_state_record(
    const struct ts_conf *c, const char *name, time_t when, const char *result);
int cli_spool_take(const struct ts_conf *c, unsigned char *want);

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
