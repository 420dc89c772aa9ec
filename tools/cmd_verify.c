/* cmd_verify.c: `tokenscope verify` and `tokenscope explain`. Both call
 * ts_validate() exactly as pam_token.so and libtoken.so do. Neither ever
 * prints the token or its signature. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli.h"

static const char usage_verify[] =
    "usage: tokenscope verify [-c CONF] -s SERVICE [-u USER] [--time EPOCH] [--json] [-v] [TOKEN | "
    "-]\n"
    "  Decides on one token as the PAM module and SASL plugin would. The token\n"
    "  is read from standard input when TOKEN is - or absent (prefer that: a\n"
    "  command-line argument is visible to other users in ps).\n"
    "  exit status: 0 accepted, 1 rejected, 2 configuration or usage error\n";

static const char usage_explain[] =
    "usage: tokenscope explain [-c CONF] -s SERVICE [-u USER] [--time EPOCH] [TOKEN | -]\n"
    "  Prints every check of the decision in order, marking the first failure.\n"
    "  exit status: as for verify\n";

typedef struct opts {
	const char *conf, *service, *user, *token_arg;
	time_t now;
	int json, verbose;
} opts;

static int
parse(int argc, char **argv, const char *sub, const char *usage, int allow_json, opts *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "service", required_argument, NULL, 's' },
		{ "user", required_argument, NULL, 'u' },
		{ "time", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	memset(o, 0, sizeof(*o));
	o->now = time(NULL);
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "c:s:u:vh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': o->conf = optarg; break;
		case 's': o->service = optarg; break;
		case 'u': o->user = optarg; break;
		case 'v': o->verbose = 1; break;
		case 't':
			if (cli_parse_time(optarg, &o->now) != 0)
				return cli_usage_error(
				    sub, usage, "--time needs seconds since the epoch");
			break;
		case 'j':
			if (!allow_json)
				return cli_usage_error(
				    sub, usage, "--json is not an option of %s", sub);
			o->json = 1;
			break;
		case 'h': fputs(usage, stdout); return -1;
		default:
			return cli_usage_error(
			    sub, usage, "unknown or incomplete option \"%s\"", argv[optind - 1]);
		}
	}
	if (o->service == NULL)
		return cli_usage_error(sub, usage, "-s SERVICE is required");
	if (argc - optind > 1)
		return cli_usage_error(sub, usage, "one token at most");
	o->token_arg = optind < argc ? argv[optind] : NULL;
	return 0;
}

static int
exit_for(ts_reason r)
{
	if (r == TS_OK)
		return EXIT_ACCEPT;
	return r == TS_R_CONFIG_ERROR || r == TS_R_INTERNAL ? EXIT_USAGE : EXIT_REJECT;
}

static void
print_text(const ts_result *res)
{
	printf("result:     %s\n", res->accepted ? "accepted" : "rejected");
	printf("reason:     %s\n", ts_reason_str(res->reason));
	if (!res->accepted && res->detail[0])
		printf("detail:     %s\n", res->detail);
	if (res->accepted)
		printf("user:       %s\n", res->user);
	if (res->issuer_name[0])
		printf("issuer:     %s (%s)\n", res->issuer_name, res->iss);
	else if (res->iss[0])
		printf("iss:        %s\n", res->iss);
	if (res->kid[0])
		printf("kid:        %s\n", res->kid);
	if (res->thumbprint[0])
		printf("thumbprint: %s\n", res->thumbprint);
	if (res->alg[0])
		printf("alg:        %s\n", res->alg);
	if (res->alert[0])
		printf("ALERT:      %s: valid signature under key %s of [issuer %s]\n", res->alert,
		    res->alert_thumbprint, res->alert_key_issuer);
}

static void
print_json(const ts_result *res, const char *service)
{
	json_t *o = json_object();
	char *s;

	json_object_set_new(o, "result", json_string(res->accepted ? "accepted" : "rejected"));
	json_object_set_new(o, "reason", json_string(ts_reason_str(res->reason)));
	json_object_set_new(o, "detail", json_string(res->detail));
	json_object_set_new(o, "service", json_string(service));
	json_object_set_new(o, "user", res->accepted ? json_string(res->user) : json_null());
#define OPT(name, v) json_object_set_new(o, name, (v)[0] ? json_string(v) : json_null())
	OPT("issuer", res->issuer_name);
	OPT("iss", res->iss);
	OPT("kid", res->kid);
	OPT("thumbprint", res->thumbprint);
	OPT("alg", res->alg);
	OPT("typ", res->typ);
	OPT("sub", res->sub);
	OPT("jti", res->jti);
	OPT("alert", res->alert);
	OPT("alert_key_issuer", res->alert_key_issuer);
	OPT("alert_thumbprint", res->alert_thumbprint);
#undef OPT
	json_object_set_new(o, "exp", res->exp ? json_integer(res->exp) : json_null());
	/* sanitised fields are printable ASCII already */
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	if (s != NULL)
		puts(s);
	free(s);
	json_decref(o);
}

int
cmd_verify(int argc, char **argv)
{
	opts o;
	ts_ctx *ctx;
	char *tok;
	size_t len = 0;
	ts_request req;
	ts_result res;
	int rc;

	if ((rc = parse(argc, argv, "verify", usage_verify, 1, &o)) != 0)
		return rc < 0 ? 0 : rc;
	if ((tok = cli_read_token(o.token_arg, &len)) == NULL)
		return EXIT_USAGE;
	if ((ctx = cli_load(o.conf, &o.verbose)) == NULL) {
		ts_freezero(tok, len + 1);
		if (o.json)
			puts("{\"reason\":\"config_error\",\"result\":\"rejected\"}");
		return EXIT_USAGE;
	}
	memset(&req, 0, sizeof(req));
	req.token = tok;
	req.token_len = len;
	req.service = o.service;
	req.user = o.user;
	req.now = o.now;
	req.rhost = "tokenscope-cli";
	ts_validate(ctx, &req, &res);
	ts_freezero(tok, len + 1);
	if (o.json)
		print_json(&res, o.service);
	else
		print_text(&res);
	ts_ctx_free(ctx);
	return exit_for(res.reason);
}

typedef struct explain_state {
	int n;
	int failed;
} explain_state;

static void
explain_step(void *arg, const char *name, ts_reason r, const char *detail)
{
	explain_state *st = arg;

	st->n++;
	if (r == TS_OK) {
		printf("%2d. ok    %-36s %s\n", st->n, name, detail ? detail : "");
	} else {
		printf("%2d. FAIL  %-36s %s: %s   <== first failure\n", st->n, name,
		    ts_reason_str(r), detail ? detail : "");
		st->failed = 1;
	}
}

int
cmd_explain(int argc, char **argv)
{
	opts o;
	ts_ctx *ctx;
	char *tok;
	size_t len = 0;
	ts_request req;
	ts_result res;
	explain_state st = { 0, 0 };
	int rc;

	if ((rc = parse(argc, argv, "explain", usage_explain, 0, &o)) != 0)
		return rc < 0 ? 0 : rc;
	if ((tok = cli_read_token(o.token_arg, &len)) == NULL)
		return EXIT_USAGE;
	if ((ctx = cli_load(o.conf, &o.verbose)) == NULL) {
		ts_freezero(tok, len + 1);
		printf(" 1. FAIL  configuration: config_error   <== first failure\n");
		return EXIT_USAGE;
	}
	printf("token: %zu bytes; service %s; user %s; time %lld\n", len, o.service,
	    o.user ? o.user : "(any)", (long long)o.now);
	memset(&req, 0, sizeof(req));
	req.token = tok;
	req.token_len = len;
	req.service = o.service;
	req.user = o.user;
	req.now = o.now;
	req.rhost = "tokenscope-cli";
	req.step = explain_step;
	req.step_arg = &st;
	ts_validate(ctx, &req, &res);
	ts_freezero(tok, len + 1);
	if (res.accepted)
		printf("decision: accepted for user %s (issuer %s, kid %s, key %s)\n", res.user,
		    res.issuer_name, res.kid[0] ? res.kid : "(none)", res.thumbprint);
	else
		printf("decision: rejected: %s%s%s\n", ts_reason_str(res.reason),
		    res.alert[0] ? "; ALERT " : "", res.alert);
	if (!res.accepted && !st.failed)
		printf("          (%s)\n", res.detail);
	ts_ctx_free(ctx);
	return exit_for(res.reason);
}
