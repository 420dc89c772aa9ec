/*
 * sasl_login.c: a minimal SASL server application for the demo (not
 * installed): loads libtoken.so from PLUGINDIR through libsasl2, with
 * token_config=CONF, and runs one OAUTHBEARER exchange for SERVICE and USER
 * with the token from standard input, answering an error challenge as a
 * client would. Exit: 0 SASL_OK, 1 refused (SASL_BADAUTH), 2 other.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sasl/sasl.h>

#include "cli.h"

static const char *plugdir, *conf;

static int
getpath(void *ctx, const char **path)
{
	(void)ctx;
	*path = plugdir;
	return SASL_OK;
}

static int
getopt_cb(void *ctx, const char *plugin, const char *option, const char **result, unsigned *len)
{
	(void)ctx;
	(void)plugin;
	*result = strcmp(option, "token_config") == 0 ? conf : NULL;
	if (*result != NULL && len != NULL)
		*len = (unsigned)strlen(*result);
	return *result ? SASL_OK : SASL_FAIL;
}

static int
quiet(void *ctx, int level, const char *msg)
{
	(void)ctx;
	(void)level;
	(void)msg;
	return SASL_OK;
}

#define CB(f) ((int (*)(void))(void (*)(void))(f))

int
main(int argc, char **argv)
{
	const sasl_callback_t cbs[] = { { SASL_CB_GETPATH, CB(getpath), NULL },
		{ SASL_CB_GETOPT, CB(getopt_cb), NULL }, { SASL_CB_LOG, CB(quiet), NULL },
		{ SASL_CB_LIST_END, NULL, NULL } };
	sasl_conn_t *c = NULL;
	const char *out = NULL;
	unsigned outl = 0;
	char *tok, *msg;
	size_t len = 0, mlen;
	int r;

	if (argc != 5) {
		fprintf(stderr, "usage: sasl_login PLUGINDIR CONF SERVICE USER < token\n");
		return 2;
	}
	plugdir = argv[1];
	conf = argv[2];
	if ((tok = cli_read_token("-", &len)) == NULL)
		return 2;
	mlen = len + strlen(argv[4]) + 64;
	if ((msg = malloc(mlen)) == NULL)
		return 2;
	mlen = (size_t)snprintf(msg, mlen, "n,a=%s,\001auth=Bearer %s\001\001", argv[4], tok);
	if (sasl_server_init(cbs, "tokenscope-demo") != SASL_OK ||
	    sasl_server_new(argv[3], "localhost", NULL, NULL, NULL, NULL, 0, &c) != SASL_OK)
		return 2;
	r = sasl_server_start(c, "OAUTHBEARER", msg, (unsigned)mlen, &out, &outl);
	if (r == SASL_CONTINUE)
		r = sasl_server_step(c, "\001", 1, &out, &outl); /* after the error challenge */
	printf("%s\n",
	    r == SASL_OK            ? "SASL_OK"
	        : r == SASL_BADAUTH ? "SASL_BADAUTH"
	                            : sasl_errstring(r, NULL, NULL));
	sasl_dispose(&c);
	sasl_server_done();
	ts_freezero(msg, mlen);
	ts_freezero(tok, len + 1);
	return r == SASL_OK ? 0 : r == SASL_BADAUTH ? 1 : 2;
}
