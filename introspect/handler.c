/* handler.c: the introspection decision around ts_validate() (see
 * handler.h and tokenscope-introspect(8)). Every refusal of a token is
 * {"active":false} and nothing else (N4); the reason goes to the log. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "err.h"
#include "handler.h"

#define PATH_PREFIX "/introspect"
#define BASIC_MAX 512 /* encoded client credentials */

static const char basic_challenge[] = "Basic realm=\"tokenscope-introspect\", charset=\"UTF-8\"";
static const char bearer_challenge[] = "Bearer realm=\"tokenscope-introspect\"";
static const char bearer_invalid[] =
    "Bearer realm=\"tokenscope-introspect\", error=\"invalid_token\"";

/* One line per request that never reached ts_validate (which logs its own
 * decision line in the modules' format). Values are sanitised. */
static void
log_http(const ti_env *env, const ti_request *rq, const ti_client *cl, const char *service,
    int status, const char *reason)
{
	char line[512], peer[TS_LOG_VALUE_MAX + 1], svc[TS_LOG_VALUE_MAX + 1] = "-";

	if (env->log == NULL)
		return;
	ts_sanitize(peer, sizeof(peer), rq->peer, strlen(rq->peer));
	if (service != NULL)
		ts_sanitize(svc, sizeof(svc), service, strlen(service));
	snprintf(line, sizeof(line),
	    "tokenscope-introspect: result=reject reason=%s status=%d service=%s rhost=%s "
	    "client=%s",
	    reason, status, svc, peer, cl != NULL ? cl->name : "-");
	env->log(env->log_arg, status == 429 || status >= 500 ? LOG_WARNING : LOG_NOTICE, line);
}

static void
set_json(ti_response *rs, json_t *o)
{
	if (o == NULL)
		return;
	rs->body = json_dumps(o, JSON_COMPACT);
	rs->body_len = rs->body != NULL ? strlen(rs->body) : 0;
	json_decref(o);
}

static void
reply(ti_response *rs, int status, const char *error)
{
	rs->status = status;
	if (error != NULL)
		set_json(rs, json_pack("{s:s}", "error", error));
}

static void
inactive(ti_response *rs, int status)
{
	rs->status = status;
	set_json(rs, json_pack("{s:b}", "active", 0));
}

/* A value the core sanitised for its log is given to the client only when
 * it is certainly the claim itself: nothing replaced, nothing cut. */
static int
exact(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n < TS_LOG_VALUE_MAX - 3 && strchr(s, '?') == NULL;
}

static void
active(ti_response *rs, const ts_result *res)
{
	json_t *o = json_pack(
	    "{s:b, s:s, s:s}", "active", 1, "username", res->user, "token_type", "Bearer");

	if (o == NULL)
		return;
	if (exact(res->iss))
		json_object_set_new(o, "iss", json_string(res->iss));
	if (exact(res->sub))
		json_object_set_new(o, "sub", json_string(res->sub));
	if (exact(res->jti))
		json_object_set_new(o, "jti", json_string(res->jti));
	if (res->exp > 0)
		json_object_set_new(o, "exp", json_integer((json_int_t)res->exp));
	rs->status = 200;
	set_json(rs, o);
}

static int
b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Strict standard base64 with padding (RFC 7617 credentials). */
static int
b64_decode(const char *in, size_t len, unsigned char *out, size_t cap, size_t *outlen)
{
	size_t i, o = 0, pad = 0;

	if (len == 0 || len % 4 != 0 || len / 4 * 3 > cap)
		return -1;
	if (in[len - 1] == '=')
		pad = in[len - 2] == '=' ? 2 : 1;
	for (i = 0; i < len; i += 4) {
		int v[4], k;

		for (k = 0; k < 4; k++) {
			if (i + (size_t)k >= len - pad && in[i + (size_t)k] == '=')
				v[k] = 0;
			else if ((v[k] = b64val((unsigned char)in[i + (size_t)k])) < 0)
				return -1;
		}
		out[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		out[o++] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
		out[o++] = (unsigned char)((v[2] & 3) << 6 | v[3]);
	}
	*outlen = o - pad;
	return 0;
}

/* "Basic base64(id:secret)" -> the client, or NULL. Never logs. */
static ti_client *
basic_client(const ti_env *env, const char *h)
{
	unsigned char dec[BASIC_MAX];
	size_t n = 0, hl;
	ti_client *cl = NULL;
	const unsigned char *colon;

	if (strncasecmp(h, "Basic ", 6) != 0)
		return NULL;
	h += 6;
	h += strspn(h, " ");
	hl = strcspn(h, " \t");
	if (h[hl] != '\0' || hl > BASIC_MAX / 3 * 4 - 4 ||
	    b64_decode(h, hl, dec, sizeof(dec), &n) != 0)
		goto out;
	if ((colon = memchr(dec, ':', n)) == NULL)
		goto out;
	cl = ti_clients_check(env->clients, (const char *)dec, (size_t)(colon - dec),
	    (const char *)colon + 1, n - (size_t)(colon - dec) - 1);
out:
	OPENSSL_cleanse(dec, sizeof(dec));
	return cl;
}

static int
hexdig(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes one form field into out (capacity >= len + 1): '+' is a space,
 * %XX a byte. Returns the decoded length or -1. */
static long
form_decode(const char *in, size_t len, char *out)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		if (in[i] == '+') {
			out[o++] = ' ';
		} else if (in[i] == '%') {
			int hi, lo;

			if (i + 2 >= len)
				return -1;
			if ((hi = hexdig(in[i + 1])) < 0 || (lo = hexdig(in[i + 2])) < 0)
				return -1;
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			out[o++] = in[i];
		}
	}
	out[o] = '\0';
	return (long)o;
}

int
ti_form_token(const char *body, size_t len, char **out, size_t *out_len)
{
	size_t pos = 0;
	char *tok = NULL;
	size_t tok_len = 0;

	*out = NULL;
	*out_len = 0;
	while (pos < len) {
		const char *f = body + pos, *amp = memchr(f, '&', len - pos), *eq;
		size_t flen = amp != NULL ? (size_t)(amp - f) : len - pos;

		pos += flen + 1;
		if (flen == 0)
			continue;
		eq = memchr(f, '=', flen);
		/* the name is compared undecoded: "token" needs no escaping, and
		 * an escaped spelling of it is not the parameter RFC 7662 names */
		if (eq == NULL || (size_t)(eq - f) != 5 || memcmp(f, "token", 5) != 0)
			continue; /* other parameters (token_type_hint) are ignored */
		if (tok != NULL)
			goto bad; /* a repeated token is ambiguous: which one? */
		if ((tok = malloc(flen - 6 + 1)) == NULL)
			goto bad;
		{
			long n = form_decode(eq + 1, flen - 6, tok);

			if (n <= 0) {
				OPENSSL_cleanse(tok, flen - 6 + 1);
				free(tok);
				tok = NULL;
				goto bad;
			}
			tok_len = (size_t)n;
		}
	}
	if (tok == NULL)
		return -1;
	*out = tok; /* transferred */
	*out_len = tok_len;
	return 0;
bad:
	if (tok != NULL) {
		OPENSSL_cleanse(tok, tok_len + 1);
		free(tok);
	}
	return -1;
}

/* "/introspect" -> "" ; "/introspect/NAME" -> NAME; anything else NULL. */
static const char *
path_service(const char *path)
{
	size_t n = strlen(PATH_PREFIX);

	if (path == NULL || strncmp(path, PATH_PREFIX, n) != 0)
		return NULL;
	if (path[n] == '\0')
		return "";
	if (path[n] != '/' || path[n + 1] == '\0' || strchr(path + n + 1, '/') != NULL ||
	    strlen(path + n + 1) > TI_CLIENT_NAME_MAX)
		return NULL;
	return path + n + 1;
}

/* N3: the service comes from the URL path, else from the client's own map
 * of X-Dovecot-Auth-Protocol values, else it is the client's only service;
 * whichever it is, it must be one the client was given. */
static const char *
choose_service(const ti_client *cl, const char *from_path, const char *protocol)
{
	const char *s;

	if (from_path[0] != '\0')
		s = from_path;
	else if ((s = ti_client_protocol_service(cl, protocol)) == NULL && cl->nservices == 1)
		s = cl->services[0];
	return s != NULL && ti_client_may(cl, s) ? s : NULL;
}

static int
is_form(const char *ct)
{
	static const char form[] = "application/x-www-form-urlencoded";
	size_t n = sizeof(form) - 1;

	return ct != NULL && strncasecmp(ct, form, n) == 0 &&
	    (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* "Bearer TOKEN" -> TOKEN (the b64token charset of RFC 6750 2.1). */
static int
bearer_token(const char *h, const char **tok, size_t *len)
{
	size_t n;

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return -1;
	h += 7;
	h += strspn(h, " ");
	n = strspn(h, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/=");
	if (n == 0 || h[n + strspn(h + n, " ")] != '\0')
		return -1;
	*tok = h;
	*len = n;
	return 0;
}

void
ti_handle(const ti_env *env, const ti_request *rq, ti_response *rs)
{
	const char *from_path, *service = NULL, *cred, *token = NULL;
	char *form_tok = NULL;
	size_t token_len = 0;
	ti_client *cl = NULL;
	ts_request req;
	ts_result res;
	ts_reason r;

	memset(rs, 0, sizeof(*rs));
	rs->status = 500;
	if (rq->method == TI_M_OTHER) {
		rs->allow = "GET, POST";
		reply(rs, 405, "invalid_request");
		log_http(env, rq, NULL, NULL, 405, "method_not_allowed");
		return;
	}
	if ((from_path = path_service(rq->path)) == NULL) {
		reply(rs, 404, "invalid_request");
		log_http(env, rq, NULL, NULL, 404, "not_found");
		return;
	}
	if (rq->busy) {
		rs->close = 1;
		rs->retry_after = 1;
		reply(rs, 429, "temporarily_unavailable");
		log_http(env, rq, NULL, NULL, 429, "too_many_connections");
		return;
	}
	/* N2: credentials when given must be right; the unix peer uid stands
	 * in for them only when none are given */
	cred = rq->method == TI_M_POST ? rq->authorization : rq->client_authorization;
	if (cred != NULL)
		cl = basic_client(env, cred);
	else if (rq->peer_uid_known)
		cl = ti_clients_by_uid(env->clients, rq->peer_uid);
	if (cl == NULL) {
		rs->www_authenticate = basic_challenge;
		reply(rs, 401, "invalid_client");
		log_http(env, rq, NULL, NULL, 401,
		    cred != NULL ? "client_auth_failed" : "client_auth_missing");
		return;
	}
	if (!ti_client_rate_take(cl, rq->mono)) {
		rs->retry_after = 1;
		reply(rs, 429, "temporarily_unavailable");
		log_http(env, rq, cl, NULL, 429, "rate_limited");
		return;
	}
	if ((service = choose_service(cl, from_path, rq->protocol)) == NULL) {
		reply(rs, 403, "access_denied");
		log_http(env, rq, cl, from_path[0] ? from_path : rq->protocol, 403,
		    "service_not_allowed");
		return;
	}
	if (rq->method == TI_M_POST) {
		if (rq->body_too_large) {
			rs->close = 1;
			reply(rs, 413, "invalid_request");
			log_http(env, rq, cl, service, 413, "body_too_large");
			return;
		}
		if (!is_form(rq->content_type)) {
			reply(rs, 415, "invalid_request");
			log_http(env, rq, cl, service, 415, "not_a_form");
			return;
		}
		if (ti_form_token(rq->body, rq->body_len, &form_tok, &token_len) != 0) {
			reply(rs, 400, "invalid_request");
			log_http(env, rq, cl, service, 400, "no_token_parameter");
			return;
		}
		token = form_tok;
	} else if (bearer_token(rq->authorization, &token, &token_len) != 0) {
		rs->www_authenticate = bearer_challenge;
		reply(rs, 401, "invalid_request");
		log_http(env, rq, cl, service, 401, "no_bearer_token");
		return;
	}
	memset(&req, 0, sizeof(req));
	req.token = token;
	req.token_len = token_len;
	req.service = service;
	req.now = rq->now;
	req.request_fetch = 1; /* K14: a login; the core leaves the note */
	req.rhost =
	    cl->trust_remote && rq->remote != NULL && rq->remote[0] != '\0' ? rq->remote : rq->peer;
	r = ts_validate(env->ctx, &req, &res);
	if (form_tok != NULL) {
		OPENSSL_cleanse(form_tok, token_len);
		free(form_tok);
	}
	if (r == TS_OK && res.accepted) {
		/* M1: the one path to "active": true */
		active(rs, &res);
		if (rq->method == TI_M_GET)
			snprintf(rs->user, sizeof(rs->user), "%s", res.user);
	} else if (r == TS_R_CONFIG_ERROR || r == TS_R_INTERNAL) {
		/* not a judgement on the token: the caller must not read it as
		 * a wrong password, so it is not {"active":false} */
		reply(rs, 503, "temporarily_unavailable");
		rs->retry_after = 5;
	} else if (rq->method == TI_M_POST) {
		inactive(rs, 200);
	} else {
		rs->www_authenticate = bearer_invalid;
		inactive(rs, 401);
	}
	OPENSSL_cleanse(&res, sizeof(res));
}

void
ti_response_clear(ti_response *rs)
{
	free(rs->body);
	memset(rs, 0, sizeof(*rs));
}
