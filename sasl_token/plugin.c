/*
 * plugin.c: the Cyrus SASL server plugin libtoken.so: mechanisms OAUTHBEARER
 * (RFC 7628) and XOAUTH2. It parses the client message (msg.c), decides
 * through ts_validate() and nothing lower, and translates the result into
 * SASL: on a refusal, the RFC 7628 error challenge, then SASL_BADAUTH once
 * the client acknowledges it. See sasl_token(8).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sasl/sasl.h>
#include <sasl/saslplug.h>

#include "msg.h"
#include "tokenscope.h"

#define TS_EXPORT __attribute__((visibility("default")))

#define PENDING_MAX 4

/* Shared by both mechanisms, made in plug_init (as root, before Postfix
 * chroots): the context keeps its loaded state if the files later become
 * unreachable. */
typedef struct glob {
	ts_ctx *ctx;
	char *config; /* token_config as given, or NULL for the default */
	char *openid; /* token_openid_configuration, or NULL */
	int debug;
	int refs; /* one per registered mechanism, for mech_free */
	const sasl_utils_t *utils;
	/* M9: what the application's own log must hear once, at the first
	 * exchange (at initialisation libsasl has no connection, and sends
	 * a plugin's lines to syslog, not to the application) */
	int no_syslog; /* errno of the /dev/log probe, 0 when it answered */
	int told_no_syslog;
	/* errors and warnings logged while no application log could be
	 * reached (the first load, a reload outside an exchange), kept for
	 * the next exchange; the oldest are dropped past PENDING_MAX */
	char pending[PENDING_MAX][600];
	int pending_prio[PENDING_MAX];
	size_t npending, dropped;
} glob;

typedef struct conn {
	int xoauth2;
	int state; /* 0: expect the client message; 1: expect the error ack */
	int failure; /* SASL code to return after the ack */
	char *out; /* the error challenge */
	unsigned outlen;
	char reason[64];
} conn;

static glob *g;
static pthread_mutex_t tell_lock = PTHREAD_MUTEX_INITIALIZER; /* g's told and pending */
/* glob_context of each mechanism: tells mech_new which one it is */
static int mech_oauthbearer, mech_xoauth2;
static __thread const sasl_utils_t *cur_utils;

static void
plug_log(void *arg, int prio, const char *line)
{
	const sasl_utils_t *u = cur_utils ? cur_utils : (g ? g->utils : NULL);
	int level;

	(void)arg;
	/* M9: decisions, errors and warnings also go to syslog's authpriv,
	 * where auth.log and journald keep them whatever the application's
	 * log level: Postfix shows SASL_LOG_NOTE lines (accepts) only with
	 * -v. syslog() with a facility keeps the host's openlog identity and
	 * options; debug detail stays in the application's log */
	if (prio != LOG_DEBUG)
		syslog(LOG_AUTHPRIV | prio, "%s", line);
	/* without a connection libsasl's log is syslog itself: once is
	 * enough there, and the application hears it at the next exchange */
	if (u == NULL || u->log == NULL || u->conn == NULL) {
		if (g != NULL && (prio == LOG_ERR || prio == LOG_WARNING)) {
			pthread_mutex_lock(&tell_lock);
			if (g->npending == PENDING_MAX) {
				memmove(g->pending[0], g->pending[1],
				    (PENDING_MAX - 1) * sizeof(g->pending[0]));
				memmove(&g->pending_prio[0], &g->pending_prio[1],
				    (PENDING_MAX - 1) * sizeof(g->pending_prio[0]));
				g->npending--;
				g->dropped++;
			}
			snprintf(g->pending[g->npending], sizeof(g->pending[0]), "%s", line);
			g->pending_prio[g->npending++] = prio;
			pthread_mutex_unlock(&tell_lock);
		}
		return;
	}
	switch (prio) {
	case LOG_ALERT: /* M7: a valid signature under an out-of-scope key */
	case LOG_ERR: level = SASL_LOG_ERR; break;
	case LOG_WARNING: level = SASL_LOG_WARN; break;
	case LOG_DEBUG:
		if (g == NULL || !g->debug)
			return;
		level = SASL_LOG_DEBUG;
		break;
	case LOG_NOTICE: level = SASL_LOG_FAIL; break; /* refusals: shown by Postfix */
	default: level = SASL_LOG_NOTE; break; /* accepts */
	}
	u->log(u->conn, level, "%s", line);
}

/* M9: errno when nothing receives syslog datagrams on /dev/log (no
 * journald, no rsyslog: every syslog line is lost), else 0. A unix socket
 * only, made and closed here; run at initialisation, before a chroot. */
static int
syslog_probe(void)
{
	struct sockaddr_un a;
	int fd, r = 0;

	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", "/dev/log");
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return errno;
	if (connect(fd, (const struct sockaddr *)&a, sizeof(a)) != 0)
		r = errno;
	close(fd);
	return r;
}

/* M9: at an exchange, the application's own log hears once what went only
 * to syslog so far: that syslog is lost, and the errors and warnings of a
 * load it could not hear (the first one runs before any connection). */
static void
tell_application(const sasl_utils_t *u)
{
	size_t i;

	if (u->log == NULL || u->conn == NULL)
		return;
	pthread_mutex_lock(&tell_lock);
	if (g->no_syslog != 0 && !g->told_no_syslog) {
		g->told_no_syslog = 1;
		u->log(u->conn, SASL_LOG_WARN,
		    "tokenscope: no syslog receiver (/dev/log: %s): decision lines reach only this "
		    "application's log, where accepts need its verbose mode; run journald or "
		    "rsyslog",
		    strerror(g->no_syslog));
	}
	if (g->dropped > 0)
		u->log(u->conn, SASL_LOG_WARN,
		    "tokenscope: %zu earlier line(s) logged before this exchange only to syslog",
		    g->dropped);
	for (i = 0; i < g->npending; i++)
		u->log(u->conn, g->pending_prio[i] == LOG_ERR ? SASL_LOG_ERR : SASL_LOG_WARN,
		    "%s (logged before this exchange)", g->pending[i]);
	g->npending = g->dropped = 0;
	pthread_mutex_unlock(&tell_lock);
}

static const char *
option(const sasl_utils_t *u, const char *name)
{
	const char *v = NULL;
	unsigned len = 0;

	if (u->getopt == NULL || u->getopt(u->getopt_context, "TOKEN", name, &v, &len) != SASL_OK ||
	    v == NULL || *v == '\0')
		return NULL;
	return v;
}

static int
mech_new(void *glob_context, sasl_server_params_t *sp, const char *challenge, unsigned challen,
    void **conn_context)
{
	conn *c = sp->utils->malloc(sizeof(*c));

	(void)challenge;
	(void)challen;
	if (c == NULL) {
		sp->utils->seterror(sp->utils->conn, 0, "out of memory");
		return SASL_NOMEM;
	}
	memset(c, 0, sizeof(*c));
	c->xoauth2 = glob_context == &mech_xoauth2;
	*conn_context = c;
	return SASL_OK;
}

/* RFC 7628 3.2.2 (OAUTHBEARER) or Google's XOAUTH2 error object. */
static int
error_challenge(conn *c, sasl_server_params_t *sp, const char *service, ts_reason r)
{
	char scopes[512];
	json_t *o;
	char *text;

	(void)ts_ctx_service_scopes(g->ctx, service, scopes, sizeof(scopes));
	if (c->xoauth2)
		o = json_pack("{s:s, s:s}", "status", "401", "schemes", "bearer");
	else
		o = json_pack("{s:s}", "status",
		    ts_reason_is_authz(r) ? "insufficient_scope" : "invalid_token");
	if (o == NULL)
		return SASL_NOMEM;
	if (scopes[0] != '\0')
		json_object_set_new(o, "scope", json_string(scopes));
	if (!c->xoauth2 && g->openid != NULL)
		json_object_set_new(o, "openid-configuration", json_string(g->openid));
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (text == NULL || (c->out = sp->utils->malloc((unsigned)strlen(text) + 1)) == NULL) {
		free(text);
		return SASL_NOMEM;
	}
	memcpy(c->out, text, strlen(text) + 1);
	c->outlen = (unsigned)strlen(text);
	free(text);
	return SASL_OK;
}

/* The address of libsasl's "address;port" (Cyrus's own form, which Postfix
 * and Dovecot pass), cut to cap; anything without a ';' whole. */
static const char *
remote_address(const char *ipport, char *buf, size_t cap)
{
	const char *semi = strrchr(ipport, ';');
	size_t n = semi != NULL ? (size_t)(semi - ipport) : strlen(ipport);

	if (n >= cap)
		n = cap - 1;
	memcpy(buf, ipport, n);
	buf[n] = '\0';
	return buf;
}

static int
mech_step(void *conn_context, sasl_server_params_t *sp, const char *in, unsigned inlen,
    const char **out, unsigned *outlen, sasl_out_params_t *op)
{
	conn *c = conn_context;
	const char *service;
	char err[128];
	tm_msg m;
	const void *rhost = NULL;
	char addr[TS_LOG_VALUE_MAX + 1];
	ts_request req;
	ts_result res;
	ts_reason r;
	int rc;

	*out = NULL;
	*outlen = 0;
	if (c->state == 1) {
		/* the client's answer to the error challenge ends the exchange */
		if (c->xoauth2 ? !(inlen == 0 || (inlen == 1 && in[0] == '\x01'))
		               : !tm_is_oauthbearer_ack(in, inlen)) {
			sp->utils->seterror(
			    sp->utils->conn, 0, "expected the lone \\x01 after the error");
			return SASL_BADPROT;
		}
		sp->utils->seterror(sp->utils->conn, 0, "token refused: %s", c->reason);
		return c->failure;
	}
	if (in == NULL && inlen == 0)
		return SASL_CONTINUE; /* the client sends first: ask for its message */
	if ((c->xoauth2 ? tm_parse_xoauth2(in, inlen, TS_TOKEN_HARD_MAX, &m, err, sizeof(err))
	                : tm_parse_oauthbearer(
	                      in, inlen, TS_TOKEN_HARD_MAX, &m, err, sizeof(err))) != 0) {
		sp->utils->seterror(
		    sp->utils->conn, 0, "%s: %s", c->xoauth2 ? "XOAUTH2" : "OAUTHBEARER", err);
		return SASL_BADPROT;
	}
	service = option(sp->utils, "token_service");
	if (service == NULL)
		service = sp->service;
	memset(&req, 0, sizeof(req));
	req.token = m.token;
	req.token_len = m.token_len;
	req.service = service;
	/* no proxy authorization: an authzid must be the token's own user */
	req.user = m.has_authzid ? m.authzid : NULL;
	req.now = time(NULL);
	req.request_fetch = 1; /* K14: a login; the core leaves the note */
	/* "address;port" when the server passed it to sasl_server_new: the
	 * address alone, as PAM's rhost and the other log lines name a host */
	if (sp->utils->getprop(sp->utils->conn, SASL_IPREMOTEPORT, &rhost) == SASL_OK &&
	    rhost != NULL)
		req.rhost = remote_address(rhost, addr, sizeof(addr));
	cur_utils = sp->utils;
	r = ts_validate(g->ctx, &req, &res);
	tell_application(sp->utils);
	cur_utils = NULL;
	if (r == TS_R_CONFIG_ERROR || r == TS_R_INTERNAL) {
		sp->utils->seterror(
		    sp->utils->conn, 0, "token verification unavailable: %s", ts_reason_str(r));
		return SASL_FAIL;
	}
	if (r != TS_OK) {
		snprintf(c->reason, sizeof(c->reason), "%s", ts_reason_str(r));
		c->failure = SASL_BADAUTH;
		if ((rc = error_challenge(c, sp, service, r)) != SASL_OK)
			return rc;
		c->state = 1;
		*out = c->out;
		*outlen = c->outlen;
		return SASL_CONTINUE;
	}
	/* M1: the one success path */
	rc = sp->canon_user(sp->utils->conn, res.user, (unsigned)strlen(res.user),
	    SASL_CU_AUTHID | SASL_CU_AUTHZID | SASL_CU_EXTERNALLY_VERIFIED, op);
	if (rc != SASL_OK)
		return rc;
	op->doneflag = 1;
	op->mech_ssf = 0;
	op->maxoutbuf = 0;
	op->encode_context = NULL;
	op->encode = NULL;
	op->decode_context = NULL;
	op->decode = NULL;
	op->param_version = 0;
	return SASL_OK;
}

static void
mech_dispose(void *conn_context, const sasl_utils_t *utils)
{
	conn *c = conn_context;

	if (c == NULL)
		return;
	if (c->out != NULL) {
		utils->erasebuffer(c->out, c->outlen);
		utils->free(c->out);
	}
	utils->erasebuffer((char *)c, sizeof(*c));
	utils->free(c);
}

static void
mech_free(void *glob_context, const sasl_utils_t *utils)
{
	(void)glob_context;
	(void)utils;
	if (g != NULL && --g->refs == 0) {
		ts_ctx_free(g->ctx);
		free(g->config);
		free(g->openid);
		free(g);
		g = NULL;
	}
}

static sasl_server_plug_t plugins[] = {
	{
	    "OAUTHBEARER", /* mech_name */
	    0, /* max_ssf: no security layer */
	    SASL_SEC_NOANONYMOUS | SASL_SEC_PASS_CREDENTIALS, /* security_flags */
	    SASL_FEAT_WANT_CLIENT_FIRST, /* features: no proxy authz */
	    &mech_oauthbearer, /* glob_context: tells the mech */
	    mech_new, /* mech_new */
	    mech_step, /* mech_step */
	    mech_dispose, /* mech_dispose */
	    mech_free, /* mech_free */
	    NULL, /* setpass */
	    NULL, /* user_query */
	    NULL, /* idle */
	    NULL, /* mech_avail */
	    NULL, /* spare */
	},
	{
	    "XOAUTH2", /* mech_name */
	    0, /* max_ssf */
	    SASL_SEC_NOANONYMOUS | SASL_SEC_PASS_CREDENTIALS, /* security_flags */
	    SASL_FEAT_WANT_CLIENT_FIRST, /* features */
	    &mech_xoauth2, /* glob_context: XOAUTH2 */
	    mech_new,
	    mech_step,
	    mech_dispose,
	    mech_free,
	    NULL,
	    NULL,
	    NULL,
	    NULL,
	    NULL,
	},
};

/* The log line for a token_config (v, NULL: the default) that a second
 * initialisation asked for and did not get. Paths are the administrator's,
 * sanitised all the same. */
static void
config_ignored(const sasl_utils_t *utils, const char *v)
{
	char want[TS_LOG_VALUE_MAX + 1], have[TS_LOG_VALUE_MAX + 1];
	const char *def = TS_DEFAULT_CONFIG;

	if (utils->log == NULL)
		return;
	ts_sanitize(want, sizeof(want), v ? v : def, strlen(v ? v : def));
	ts_sanitize(
	    have, sizeof(have), g->config ? g->config : def, strlen(g->config ? g->config : def));
	utils->log(utils->conn, SASL_LOG_ERR,
	    "tokenscope: token_config %s ignored: this process already uses %s (one "
	    "configuration per process)",
	    want, have);
}

TS_EXPORT int sasl_server_plug_init(const sasl_utils_t *utils, int maxversion, int *out_version,
    sasl_server_plug_t **pluglist, int *plugcount);

TS_EXPORT int
sasl_server_plug_init(const sasl_utils_t *utils, int maxversion, int *out_version,
    sasl_server_plug_t **pluglist, int *plugcount)
{
	const char *v;
	ts_err e = { "" };

	if (maxversion < SASL_SERVER_PLUG_VERSION) {
		utils->seterror(utils->conn, 0, "libtoken.so needs SASL server plugin version %d",
		    SASL_SERVER_PLUG_VERSION);
		return SASL_BADVERS;
	}
	if (g != NULL) {
		/* one context per process: a second initialisation (another
		 * application in the process, or sasl_server_add_plugin) naming
		 * another configuration gets the first one, and must say so */
		v = option(utils, "token_config");
		if ((v == NULL) != (g->config == NULL) || (v != NULL && strcmp(v, g->config) != 0))
			config_ignored(utils, v);
	} else {
		if ((g = calloc(1, sizeof(*g))) == NULL)
			return SASL_NOMEM;
		g->utils = utils;
		g->no_syslog = syslog_probe();
		g->debug = (v = option(utils, "token_debug")) != NULL &&
		    (strcmp(v, "yes") == 0 || strcmp(v, "1") == 0 || strcmp(v, "on") == 0);
		if (((v = option(utils, "token_openid_configuration")) != NULL &&
		        (g->openid = strdup(v)) == NULL) ||
		    ((v = option(utils, "token_config")) != NULL &&
		        (g->config = strdup(v)) == NULL)) {
			free(g->openid);
			free(g);
			g = NULL;
			return SASL_NOMEM;
		}
		/* a failed load still registers the mechanisms: they fail closed
		 * (SASL_FAIL) and pick up a fixed configuration later */
		if (ts_ctx_new(g->config, plug_log, NULL, &g->ctx, &e) == TS_R_INTERNAL ||
		    g->ctx == NULL) {
			free(g->config);
			free(g->openid);
			free(g);
			g = NULL;
			return SASL_NOMEM;
		}
		/* M9: one line now, while the host (Postfix's smtpd) has not
		 * chrooted yet: glibc connects its syslog socket at the first
		 * line and keeps it, so decisions still reach /dev/log from
		 * inside the jail where the host itself never opened syslog
		 * (maillog_file through postlogd) */
		if (g->no_syslog == 0)
			syslog(LOG_AUTHPRIV | LOG_INFO,
			    "tokenscope: SASL plugin ready (OAUTHBEARER, XOAUTH2): decision lines "
			    "go to authpriv");
	}
	g->refs += 2; /* each registration's two mechanisms get a mech_free */
	*out_version = SASL_SERVER_PLUG_VERSION;
	*pluglist = plugins;
	*plugcount = 2;
	return SASL_OK;
}
