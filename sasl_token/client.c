/*
 * client.c: the client side of OAUTHBEARER (RFC 7628) and XOAUTH2 in
 * libtoken.so, so that every libsasl2 application (ldapwhoami, imtest,
 * Postfix's smtp client, ...) can log in with a token unchanged: the token
 * is the application's password (SASL_CB_PASS), the user its authorization
 * name (SASL_CB_USER) or else its authentication name (SASL_CB_AUTHNAME),
 * asked for through callbacks or SASL_INTERACT prompts as the application
 * prefers. Messages are built by msg.c, the grammar the server side parses.
 * The token is never logged, and every buffer that held it is wiped.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <sasl/sasl.h>
#include <sasl/saslplug.h>

#include "msg.h"
#include "tokenscope.h"

/* conn->state: where the exchange stands */
enum { C_START, C_SENT, C_ACKED };

typedef struct cconn {
	int xoauth2;
	int state;
	char *out; /* the message (it holds the token) or the ack */
	size_t outcap;
} cconn;

/* glob_context of each mechanism: tells mech_new which one it is */
static int cmech_oauthbearer, cmech_xoauth2;

static void
out_free(cconn *c, const sasl_utils_t *u)
{
	if (c->out != NULL) {
		u->erasebuffer(c->out, (unsigned)c->outcap);
		u->free(c->out);
		c->out = NULL;
		c->outcap = 0;
	}
}

static int
cmech_new(void *glob_context, sasl_client_params_t *cp, void **conn_context)
{
	cconn *c = cp->utils->malloc(sizeof(*c));

	if (c == NULL) {
		cp->utils->seterror(cp->utils->conn, 0, "out of memory");
		return SASL_NOMEM;
	}
	memset(c, 0, sizeof(*c));
	c->xoauth2 = glob_context == &cmech_xoauth2;
	*conn_context = c;
	return SASL_OK;
}

static sasl_interact_t *
find_prompt(sasl_interact_t **need, unsigned long id)
{
	sasl_interact_t *p;

	if (need == NULL || *need == NULL)
		return NULL;
	for (p = *need; p->id != SASL_CB_LIST_END; p++)
		if (p->id == id)
			return p;
	return NULL;
}

/* A name from an answered prompt or the application's callback. SASL_OK
 * with *res NULL: the application has none; SASL_INTERACT: it answers
 * prompts, and this one must be asked. */
static int
get_name(const sasl_utils_t *u, unsigned long id, sasl_interact_t **need, const char **res)
{
	sasl_interact_t *p = find_prompt(need, id);
	sasl_getsimple_t *cb = NULL;
	void *ctx = NULL;
	int rc;

	*res = NULL;
	if (p != NULL) {
		*res = p->result;
		return SASL_OK;
	}
	rc = u->getcallback(u->conn, id, (sasl_callback_ft *)&cb, &ctx);
	if (rc == SASL_OK && cb != NULL)
		return cb(ctx, (int)id, res, NULL);
	return rc == SASL_INTERACT ? SASL_INTERACT : SASL_OK;
}

/* The token: the password prompt's answer or SASL_CB_PASS. The pointer is
 * the application's; it is used within this step only. */
static int
get_token(const sasl_utils_t *u, sasl_interact_t **need, const char **tok, size_t *len)
{
	sasl_interact_t *p = find_prompt(need, SASL_CB_PASS);
	sasl_getsecret_t *cb = NULL;
	sasl_secret_t *s = NULL;
	void *ctx = NULL;
	int rc;

	*tok = NULL;
	*len = 0;
	if (p != NULL) {
		*tok = p->result;
		*len = p->result != NULL ? p->len : 0;
		return SASL_OK;
	}
	rc = u->getcallback(u->conn, SASL_CB_PASS, (sasl_callback_ft *)&cb, &ctx);
	if (rc == SASL_OK && cb != NULL) {
		if ((rc = cb(u->conn, ctx, SASL_CB_PASS, &s)) != SASL_OK)
			return rc;
		if (s != NULL) {
			*tok = (const char *)s->data;
			*len = s->len;
		}
		return SASL_OK;
	}
	return rc == SASL_INTERACT ? SASL_INTERACT : SASL_OK;
}

/* The prompts still unanswered, in libsasl's usual order and wording. */
static int
make_prompts(const sasl_utils_t *u, sasl_interact_t **need, int user, int auth, int pass)
{
	sasl_interact_t *p;
	size_t n = 1 + (user != 0) + (auth != 0) + (pass != 0);

	if ((p = u->malloc((unsigned)(n * sizeof(*p)))) == NULL)
		return SASL_NOMEM;
	memset(p, 0, n * sizeof(*p));
	*need = p;
	if (user) {
		p->id = SASL_CB_USER;
		p->challenge = "Authorization Name";
		p->prompt = "Please enter your authorization name";
		p++;
	}
	if (auth) {
		p->id = SASL_CB_AUTHNAME;
		p->challenge = "Authentication Name";
		p->prompt = "Please enter your authentication name";
		p++;
	}
	if (pass) {
		p->id = SASL_CB_PASS;
		p->challenge = "Password";
		p->prompt = "Please enter your token";
		p++;
	}
	p->id = SASL_CB_LIST_END;
	return SASL_INTERACT;
}

/* Who this client says it is: the authorization name, else the
 * authentication name, told to libsasl through canon_user as PLAIN does. */
static int
canon(sasl_client_params_t *cp, const char *user, const char *auth, sasl_out_params_t *op)
{
	int rc;

	if (user != NULL && *user != '\0' && auth != NULL && *auth != '\0' &&
	    strcmp(user, auth) != 0) {
		rc = cp->canon_user(cp->utils->conn, user, 0, SASL_CU_AUTHZID, op);
		if (rc != SASL_OK)
			return rc;
		return cp->canon_user(cp->utils->conn, auth, 0, SASL_CU_AUTHID, op);
	}
	return cp->canon_user(cp->utils->conn, user != NULL && *user != '\0' ? user : auth, 0,
	    SASL_CU_AUTHID | SASL_CU_AUTHZID, op);
}

/* The port of "address;port" (sasl_client_new's ipremoteport: the server). */
static const char *
server_port(const sasl_client_params_t *cp)
{
	const char *semi = cp->ipremoteport ? strrchr(cp->ipremoteport, ';') : NULL;

	return semi != NULL ? semi + 1 : NULL;
}

/* The first step: gather the names and the token, build the message. */
static int
first(cconn *c, sasl_client_params_t *cp, sasl_interact_t **need, const char **out,
    unsigned *outlen, sasl_out_params_t *op)
{
	const sasl_utils_t *u = cp->utils;
	const char *user = NULL, *auth = NULL, *tok = NULL, *name;
	size_t toklen = 0;
	int ru, ra, rp, rc;
	char err[128];
	tm_out o;

	if ((ru = get_name(u, SASL_CB_USER, need, &user)) != SASL_OK && ru != SASL_INTERACT)
		return ru;
	if ((ra = get_name(u, SASL_CB_AUTHNAME, need, &auth)) != SASL_OK && ra != SASL_INTERACT)
		return ra;
	if ((rp = get_token(u, need, &tok, &toklen)) != SASL_OK && rp != SASL_INTERACT)
		return rp;
	/* the prompt list is ours; the answers in it are the application's */
	if (need != NULL && *need != NULL) {
		u->free(*need);
		*need = NULL;
	}
	if (ru == SASL_INTERACT || ra == SASL_INTERACT || rp == SASL_INTERACT) {
		if (need == NULL)
			return SASL_BADPARAM;
		return make_prompts(
		    u, need, ru == SASL_INTERACT, ra == SASL_INTERACT, rp == SASL_INTERACT);
	}
	name = user != NULL && *user != '\0' ? user : auth;
	if (name == NULL || *name == '\0') {
		u->seterror(u->conn, 0, "%s: no user name (authentication name) to send",
		    c->xoauth2 ? "XOAUTH2" : "OAUTHBEARER");
		return SASL_BADPARAM;
	}
	out_free(c, u); /* a step retried after an error */
	c->outcap = tm_build_size(name, cp->serverFQDN, toklen, TS_TOKEN_HARD_MAX);
	if ((c->out = u->malloc((unsigned)c->outcap)) == NULL)
		return SASL_NOMEM;
	o.buf = c->out;
	o.cap = c->outcap;
	if (c->xoauth2)
		rc = tm_build_xoauth2(name, tok, toklen, TS_TOKEN_HARD_MAX, &o, err, sizeof(err));
	else
		rc = tm_build_oauthbearer(name, cp->serverFQDN, server_port(cp), tok, toklen,
		    TS_TOKEN_HARD_MAX, &o, err, sizeof(err));
	if (rc != 0) {
		u->seterror(u->conn, 0, "%s: %s", c->xoauth2 ? "XOAUTH2" : "OAUTHBEARER", err);
		return SASL_BADPARAM;
	}
	if ((rc = canon(cp, user, auth, op)) != SASL_OK)
		return rc;
	c->state = C_SENT;
	*out = c->out;
	*outlen = (unsigned)o.len;
	op->mech_ssf = 0;
	op->maxoutbuf = 0;
	op->encode = NULL;
	op->decode = NULL;
	op->param_version = 0;
	/* not SASL_OK yet: the server may still answer with its error
	 * challenge (RFC 7628 3.2.3), and an application that saw SASL_OK
	 * forgets the mechanism (libldap then sends the \x01 as a simple bind) */
	return SASL_CONTINUE;
}

static int
cmech_step(void *conn_context, sasl_client_params_t *cp, const char *in, unsigned inlen,
    sasl_interact_t **need, const char **out, unsigned *outlen, sasl_out_params_t *op)
{
	cconn *c = conn_context;
	const sasl_utils_t *u = cp->utils;
	char shown[TS_LOG_VALUE_MAX + 1];

	*out = NULL;
	*outlen = 0;
	switch (c->state) {
	case C_START:
		/* the client speaks first; a server that asks first sends nothing */
		if (inlen != 0) {
			u->seterror(u->conn, 0, "unexpected server data before the client message");
			return SASL_BADPROT;
		}
		return first(c, cp, need, out, outlen, op);
	case C_SENT:
		if (inlen == 0) {
			/* the server's success, which carries no data: the message
			 * has been sent and is no longer needed */
			out_free(c, u);
			op->doneflag = 1;
			return SASL_OK;
		}
		/* the error challenge (JSON): the message that held the token goes,
		 * and the exchange ends with \x01 (OAUTHBEARER) or an empty answer */
		out_free(c, u);
		ts_sanitize(shown, sizeof(shown), in, inlen);
		u->seterror(u->conn, SASL_NOLOG, "%s: the server refused the token: %s",
		    c->xoauth2 ? "XOAUTH2" : "OAUTHBEARER", shown);
		c->state = C_ACKED;
		*out = c->xoauth2 ? "" : "\001";
		*outlen = c->xoauth2 ? 0 : 1;
		return SASL_CONTINUE;
	default:
		u->seterror(u->conn, 0, "server data after the error was acknowledged");
		return SASL_BADPROT;
	}
}

static void
cmech_dispose(void *conn_context, const sasl_utils_t *utils)
{
	cconn *c = conn_context;

	if (c == NULL)
		return;
	out_free(c, utils);
	utils->erasebuffer((char *)c, sizeof(*c));
	utils->free(c);
}

static sasl_client_plug_t client_plugins[] = {
	{
	    "OAUTHBEARER", /* mech_name */
	    0, /* max_ssf: no security layer */
	    SASL_SEC_NOANONYMOUS | SASL_SEC_PASS_CREDENTIALS, /* security_flags */
	    SASL_FEAT_WANT_CLIENT_FIRST, /* features: no proxy authz */
	    NULL, /* required_prompts: user and password */
	    &cmech_oauthbearer, /* glob_context: tells the mech */
	    cmech_new, /* mech_new */
	    cmech_step, /* mech_step */
	    cmech_dispose, /* mech_dispose */
	    NULL, /* mech_free: nothing global */
	    NULL, /* idle */
	    NULL, /* spare_fptr1 */
	    NULL, /* spare_fptr2 */
	},
	{
	    "XOAUTH2", /* mech_name */
	    0, /* max_ssf */
	    SASL_SEC_NOANONYMOUS | SASL_SEC_PASS_CREDENTIALS, /* security_flags */
	    SASL_FEAT_WANT_CLIENT_FIRST, /* features */
	    NULL, /* required_prompts */
	    &cmech_xoauth2, /* glob_context: XOAUTH2 */
	    cmech_new,
	    cmech_step,
	    cmech_dispose,
	    NULL,
	    NULL,
	    NULL,
	    NULL,
	},
};

#define TS_EXPORT __attribute__((visibility("default")))

TS_EXPORT int sasl_client_plug_init(const sasl_utils_t *utils, int maxversion, int *out_version,
    sasl_client_plug_t **pluglist, int *plugcount);

/* Nothing global to set up: the client never reads tokenscope.conf. */
TS_EXPORT int
sasl_client_plug_init(const sasl_utils_t *utils, int maxversion, int *out_version,
    sasl_client_plug_t **pluglist, int *plugcount)
{
	if (maxversion < SASL_CLIENT_PLUG_VERSION) {
		utils->seterror(utils->conn, 0, "libtoken.so needs SASL client plugin version %d",
		    SASL_CLIENT_PLUG_VERSION);
		return SASL_BADVERS;
	}
	*out_version = SASL_CLIENT_PLUG_VERSION;
	*pluglist = client_plugins;
	*plugcount = 2;
	return SASL_OK;
}
