/* cmd_config.c: `tokenscope check-config` and `tokenscope keys`, both
 * reading the configuration through the very loader the modules use. */
#include "config.h"

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "conf.h"
#include "inspect.h"
#include "jws.h"
#include "keyring.h"
#include "timeutil.h"

static const char usage_check[] =
    "usage: tokenscope check-config [-c CONF] [-n]\n"
    "  Loads the configuration exactly as the modules do. Errors are printed as\n"
    "  file:line: message (exit 2). -n prints the effective configuration.\n";

static const char usage_keys[] =
    "usage: tokenscope keys [-c CONF] [--time EPOCH]\n"
    "       tokenscope keys [-c CONF] --approve THUMBPRINT --issuer NAME\n"
    "  One row per key binding: issuer, kid, alg, thumbprint, validity, source\n"
    "  file and status (active, expired, not yet valid, revoked, expiring).\n"
    "  --approve adds a key's thumbprint, for that [issuer] only, to the\n"
    "  approved list that `tokenscope fetch-keys --pin` requires before it\n"
    "  adds a new key.\n";

static const char *
when(time_t t, int is_start, char *buf, size_t cap)
{
	if ((is_start && t == 0) || (!is_start && t == TS_TIME_NO_END))
		return "-";
	ts_time_format(t, buf, cap);
	return buf;
}

static const char *
key_status(const ts_binding *b, time_t now)
{
	ts_key_status st = ts_binding_status(b, now);

	/* a key whose own issuer can never be its section's verifies nothing,
	 * whatever its window says */
	if (b->other_issuer && st != TS_KEY_REMOVED && st != TS_KEY_REVOKED)
		return "other-issuer";
	switch (st) {
	case TS_KEY_REMOVED: return "removed";
	case TS_KEY_REVOKED: return "revoked";
	case TS_KEY_NOT_YET_VALID: return "not-yet-valid";
	case TS_KEY_EXPIRED: return "expired";
	case TS_KEY_EXPIRING: return "expiring";
	default: return "active";
	}
}

/* Keys are shown under their section as comments: they come from the
 * keyring (a key line may name a set), not from the settings table. */
static void
print_issuer_keys(const ts_keyring *kr, size_t issuer_idx, time_t now)
{
	char t1[32], t2[32];
	size_t k;

	for (k = 0; k < ts_keyring_count(kr); k++) {
		const ts_binding *b = ts_keyring_get(kr, k);
		char kid[TS_KID_MAX + 1], kis[200];

		if (b->issuer_idx != issuer_idx)
			continue;
		/* key files may come from an identity provider: never raw */
		ts_sanitize(kid, sizeof(kid), b->kid ? b->kid : "(none)", b->kid ? b->kid_len : 6);
		if (b->key_issuer != NULL)
			ts_sanitize(kis, sizeof(kis), b->key_issuer, strlen(b->key_issuer));
		printf("# key kid=%s alg=%s thumbprint=%s not_before=%s not_after=%s %s "
		       "(%s)%s%s\n",
		    kid, ts_alg_name(ts_key_alg(b->key)), ts_key_thumbprint(b->key),
		    when(b->not_before, 1, t1, sizeof(t1)), when(b->not_after, 0, t2, sizeof(t2)),
		    key_status(b, now), b->source, b->key_issuer ? " key_issuer=" : "",
		    b->key_issuer ? kis : "");
	}
}

/* The settings are printed from the parser's own table (ts_conf_dump). */
static void
print_effective(void *arg, const ts_conf *c, const ts_keyring *kr)
{
	time_t now = *(const time_t *)arg;
	size_t i;

	printf("# effective configuration of %s\n[global]\n", c->path);
	ts_conf_dump(stdout, c, TS_CONF_GLOBAL, 0);
	for (i = 0; i < c->nissuers; i++) {
		printf("\n[issuer %s]\n", c->issuers[i].name);
		ts_conf_dump(stdout, c, TS_CONF_ISSUER, i);
		print_issuer_keys(kr, i, now);
	}
	for (i = 0; i < c->nservices; i++) {
		printf("\n[service %s]\n", c->services[i].name);
		ts_conf_dump(stdout, c, TS_CONF_SERVICE, i);
	}
}

static int
parse_common(int argc, char **argv, const char *sub, const char *usage, const char **conf,
    int *n_flag, time_t *now)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "time", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, n_flag ? "c:nh" : "c:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': *conf = optarg; break;
		case 'n': *n_flag = 1; break;
		case 't':
			if (cli_parse_time(optarg, now) != 0)
				return cli_usage_error(
				    sub, usage, "--time needs seconds since the epoch");
			break;
		case 'h': fputs(usage, stdout); return -1;
		default:
			return cli_usage_error(
			    sub, usage, "unknown or incomplete option \"%s\"", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error(sub, usage, "unexpected argument \"%s\"", argv[optind]);
	return 0;
}

int
cmd_check_config(int argc, char **argv)
{
	const char *conf = NULL;
	int n = 0, rc;
	time_t now = time(NULL);
	ts_ctx *ctx = NULL;
	ts_err e = { "" };

	if ((rc = parse_common(argc, argv, "check-config", usage_check, &conf, &n, &now)) != 0)
		return rc < 0 ? 0 : rc;
	/* K15: every key checked now, not at its first use */
	ts_keyring_check_at_load(1);
	/* no log sink: the error is printed once, as file:line: message */
	if (ts_ctx_new(conf, NULL, NULL, &ctx, &e) != TS_OK) {
		fprintf(stderr, "%s\n", e.msg);
		ts_ctx_free(ctx);
		return EXIT_USAGE;
	}
	if (n)
		ts_ctx_inspect(ctx, print_effective, &now);
	else
		printf("%s: configuration OK\n", conf ? conf : TS_DEFAULT_CONFIG);
	ts_ctx_free(ctx);
	return 0;
}

/* K14: each fetched issuer's last fetch (by the timer, a login's request
 * or by hand) and its result, below the key table. */
static void
print_fetch_state(const ts_conf *c)
{
	char *state = cli_fetch_state_text(c), t[32], res[32];
	long long last;
	size_t i;

	for (i = 0; i < c->nissuers; i++) {
		const ts_issuer_conf *is = &c->issuers[i];

		if (is->discovery == NULL && is->jwks_uri == NULL)
			continue;
		if (state != NULL && cli_fetch_state_get(state, is->name, &last, res, sizeof(res)))
			printf("# [issuer %s] last fetch %s: %s\n", is->name,
			    when((time_t)last, 1, t, sizeof(t)), res);
		else
			printf("# [issuer %s] last fetch: none recorded\n", is->name);
	}
	free(state);
}

static void
print_keys(void *arg, const ts_conf *c, const ts_keyring *kr)
{
	time_t now = *(const time_t *)arg;
	char t1[32], t2[32], appr[512];
	char *approved = cli_approved_text(c);
	size_t i;

	/* APPROVED: the sections fetch-keys --pin has an approval of the key
	 * for; a file shared by sections binds the key to all of them */
	printf("%-12s %-16s %-6s %-43s %-20s %-20s %-13s %-40s %s\n", "ISSUER", "KID", "ALG",
	    "THUMBPRINT", "NOT_BEFORE", "NOT_AFTER", "STATUS", "SOURCE", "APPROVED");
	for (i = 0; i < ts_keyring_count(kr); i++) {
		const ts_binding *b = ts_keyring_get(kr, i);
		char kid[TS_KID_MAX + 1];

		ts_sanitize(kid, sizeof(kid), b->kid ? b->kid : "-", b->kid ? b->kid_len : 1);
		cli_approved_sections(c, approved, ts_key_thumbprint(b->key), appr, sizeof(appr));
		printf("%-12s %-16s %-6s %-43s %-20s %-20s %-13s %-40s %s\n",
		    c->issuers[b->issuer_idx].name, kid, ts_alg_name(ts_key_alg(b->key)),
		    ts_key_thumbprint(b->key), when(b->not_before, 1, t1, sizeof(t1)),
		    when(b->not_after, 0, t2, sizeof(t2)), key_status(b, now), b->source, appr);
	}
	free(approved);
	print_fetch_state(c);
}

int
cmd_keys(int argc, char **argv)
{
	const char *conf = NULL;
	int rc, i;
	time_t now = time(NULL);
	ts_ctx *ctx = NULL;
	ts_err e = { "" };

	if (argc >= 5 && strcmp(argv[argc - 4], "--approve") == 0 &&
	    strcmp(argv[argc - 2], "--issuer") == 0) {
		/* keys [-c CONF] --approve THUMBPRINT --issuer NAME */
		if ((rc = parse_common(argc - 4, argv, "keys", usage_keys, &conf, NULL, &now)) != 0)
			return rc < 0 ? 0 : rc;
		return cli_keys_approve(conf, argv[argc - 3], argv[argc - 1]);
	}
	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--approve") == 0)
			return cli_usage_error("keys", usage_keys,
			    "--approve THUMBPRINT --issuer NAME (in that order, last)");
	if ((rc = parse_common(argc, argv, "keys", usage_keys, &conf, NULL, &now)) != 0)
		return rc < 0 ? 0 : rc;
	ts_keyring_check_at_load(1); /* K15 */
	if (ts_ctx_new(conf, NULL, NULL, &ctx, &e) != TS_OK) {
		fprintf(stderr, "%s\n", e.msg);
		ts_ctx_free(ctx);
		return EXIT_USAGE;
	}
	ts_ctx_inspect(ctx, print_keys, &now);
	ts_ctx_free(ctx);
	return 0;
}
