/* tokenscope.c: the admin command's entry point and shared helpers. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "cli.h"

static const char usage_main[] =
    "usage: tokenscope COMMAND [OPTIONS]\n"
    "\n"
    "commands:\n"
    "  verify        decide on one token: exit 0 accepted, 1 rejected, 2 error\n"
    "  explain       every check of the decision, in order\n"
    "  check-config  load the configuration as the modules do; -n prints it\n"
    "  keys          one row per key binding, with its status; --approve\n"
    "  fetch-keys    refresh key files from the issuers' JWKS (HTTPS, outside logins)\n"
    "  mint          sign a token (tests and the demo)\n"
    "  audit         decision lines per issuer and key, alerts first: exit 3 on an alert\n"
    "  doctor        the consumers' own settings that weaken token logins\n"
    "\n"
    "`tokenscope COMMAND --help` describes each; see tokenscope(1).\n";

int
cli_usage_error(const char *sub, const char *usage, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "tokenscope %s: ", sub);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n%s", usage);
	return EXIT_USAGE;
}

void
cli_log(void *arg, int prio, const char *line)
{
	const int *verbose = arg;

	if (prio <= LOG_WARNING || (verbose != NULL && *verbose))
		fprintf(stderr, "%s\n", line);
}

int
cli_parse_time(const char *s, time_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *s == '\0' || *end != '\0' || v < 0)
		return -1;
	*out = (time_t)v;
	return 0;
}

ts_ctx *
cli_load(const char *conf, int *verbose)
{
	ts_ctx *ctx = NULL;
	ts_err e = { "" };
	ts_reason r = ts_ctx_new(conf, cli_log, verbose, &ctx, &e);

	if (r != TS_OK) {
		/* e.msg is already "file:line: message"; cli_log printed it too
		 * when it came from a load, so print only what was not logged */
		if (r == TS_R_INTERNAL)
			fprintf(stderr, "tokenscope: %s\n", e.msg);
		ts_ctx_free(ctx);
		return NULL;
	}
	return ctx;
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
		{ "verify", cmd_verify },
		{ "explain", cmd_explain },
		{ "check-config", cmd_check_config },
		{ "keys", cmd_keys },
		{ "mint", cmd_mint },
		{ "fetch-keys", cmd_fetch_keys },
		{ "audit", cmd_audit },
		{ "doctor", cmd_doctor },
	};
	size_t i;

	if (argc < 2) {
		fputs(usage_main, stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(usage_main, stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("tokenscope %s\n", PACKAGE_VERSION);
		return 0;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "tokenscope: unknown command \"%s\"\n%s", argv[1], usage_main);
	return EXIT_USAGE;
}
