/* peers.c: cjose and libjwt doing what an application does with them: parse,
 * verify the signature, then check iss, aud, exp, nbf, iat, sub and a scope
 * (see peers.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#ifdef HAVE_CJOSE
#include <cjose/cjose.h>
#endif
#ifdef HAVE_LIBJWT
#include <jwt.h>
#endif

#include "peers.h"

#if defined(HAVE_CJOSE) || defined(HAVE_LIBJWT)
/* The claim checks both peers get, on a jansson object (only built when a
 * peer is: an unused static function stops a -Werror build). */
static int
claims_ok(const peer_case *c, json_t *cl)
{
	json_t *aud = json_object_get(cl, "aud"), *v;
	const char *scope = json_string_value(json_object_get(cl, "scope"));
	size_t i;
	int aud_ok = 0;

	if (!json_is_string(json_object_get(cl, "iss")) ||
	    strcmp(json_string_value(json_object_get(cl, "iss")), c->iss) != 0)
		return 0;
	if (json_is_string(aud))
		aud_ok = strcmp(json_string_value(aud), c->aud) == 0;
	json_array_foreach(aud, i, v) aud_ok |=
	    json_is_string(v) && strcmp(json_string_value(v), c->aud) == 0;
	if (!aud_ok || json_integer_value(json_object_get(cl, "exp")) <= c->now ||
	    json_integer_value(json_object_get(cl, "nbf")) > c->now ||
	    json_integer_value(json_object_get(cl, "iat")) > c->now)
		return 0;
	if (!json_is_string(json_object_get(cl, "sub")) ||
	    strcmp(json_string_value(json_object_get(cl, "sub")), c->sub) != 0)
		return 0;
	return scope != NULL && strstr(scope, c->scope) != NULL;
}
#endif

#ifdef HAVE_CJOSE
typedef struct cj {
	const peer_case *c;
	cjose_jwk_t *jwk;
} cj;

static void *
cj_open(const peer_case *c)
{
	cj *s;

	if (strcmp(c->alg, "EdDSA") == 0) /* cjose 0.6 has no EdDSA */
		return NULL;
	s = calloc(1, sizeof(*s));
	s->c = c;
	if ((s->jwk = cjose_jwk_import(c->jwk, strlen(c->jwk), NULL)) == NULL) {
		free(s);
		return NULL;
	}
	return s;
}

static void
cj_once(void *arg)
{
	cj *s = arg;
	cjose_jws_t *jws = cjose_jws_import(s->c->token, strlen(s->c->token), NULL);
	uint8_t *pt = NULL;
	size_t n = 0;
	json_t *cl;

	if (jws == NULL || !cjose_jws_verify(jws, s->jwk, NULL) ||
	    !cjose_jws_get_plaintext(jws, &pt, &n, NULL))
		abort();
	cl = json_loadb((const char *)pt, n, JSON_REJECT_DUPLICATES, NULL);
	if (cl == NULL || !claims_ok(s->c, cl))
		abort();
	json_decref(cl);
	cjose_jws_release(jws);
}

static void
cj_close(void *arg)
{
	cj *s = arg;

	cjose_jwk_release(s->jwk);
	free(s);
}
#endif

#ifdef HAVE_LIBJWT
static void *
lj_open(const peer_case *c)
{
	/* libjwt 1.10 has RS*, ES* and HS* only */
	const peer_case **s;

	if (strncmp(c->alg, "RS", 2) != 0 && strncmp(c->alg, "ES", 2) != 0)
		return NULL;
	if ((s = malloc(sizeof(*s))) != NULL)
		*s = c;
	return s;
}

static void
lj_once(void *arg)
{
	const peer_case *c = *(const peer_case **)arg;
	jwt_t *jwt = NULL;
	char *js;
	json_t *cl;

	/* the key is handed over as PEM on every call: libjwt's API */
	if (jwt_decode(&jwt, c->twin, (const unsigned char *)c->pem, (int)strlen(c->pem)) != 0 ||
	    strcmp(jwt_alg_str(jwt_get_alg(jwt)), c->alg) != 0)
		abort();
	js = jwt_get_grants_json(jwt, NULL);
	cl = js ? json_loads(js, JSON_REJECT_DUPLICATES, NULL) : NULL;
	if (cl == NULL || !claims_ok(c, cl))
		abort();
	json_decref(cl);
	free(js);
	jwt_free(jwt);
}

static void
lj_close(void *arg)
{
	free(arg);
}
#endif

const peer peers[] = {
#ifdef HAVE_CJOSE
	{ "cjose", cj_open, cj_once, cj_close },
#endif
#ifdef HAVE_LIBJWT
	{ "libjwt", lj_open, lj_once, lj_close },
#endif
	{ NULL, NULL, NULL, NULL },
};
const size_t npeers = sizeof(peers) / sizeof(peers[0]) - 1;
