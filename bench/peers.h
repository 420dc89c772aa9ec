/*
 * peers.h: other C JOSE libraries run by `make bench` on the same token and
 * key, for comparison: cjose (mod_auth_openidc's JOSE library)
 * with jansson claim checks, and libjwt 1.x (which accepts only typ JWT, so
 * it gets a twin token with the same claims). Built only when configure
 * finds them; never linked into the product.
 */
#ifndef TS_BENCH_PEERS_H
#define TS_BENCH_PEERS_H

#include <stddef.h>

typedef struct peer_case {
	const char *alg; /* JOSE name */
	const char *token; /* typ at+jwt */
	const char *twin; /* the same claims, typ JWT */
	const char *jwk; /* the public key as a JWK */
	const char *pem; /* the public key as PEM */
	const char *iss, *aud, *sub, *scope;
	long long now;
} peer_case;

typedef struct peer {
	const char *name;
	/* NULL when the peer is not built or cannot verify this alg */
	void *(*open)(const peer_case *c);
	/* one whole check; aborts when the token is refused */
	void (*once)(void *state);
	void (*close)(void *state);
} peer;

extern const peer peers[];
extern const size_t npeers;

#endif
