/*
 * clients.h: the callers the introspection service answers (RFC 7662
 * section 2.1 client credentials), read once at start from a root-owned
 * 0600 file while still root.
 *
 * A client is a name, the SHA-256 of its secret (never the secret itself),
 * the [service] sections it may ask for, an optional map from
 * X-Dovecot-Auth-Protocol values to those services, whether its
 * X-Dovecot-Auth-Remote header is believed for the log, an optional unix
 * peer uid that authenticates it on the unix socket, and a request rate.
 *
 * Ownership: ti_clients owns every string in it; ti_client pointers handed
 * out stay valid until ti_clients_free. The rate state is the only mutable
 * part and is guarded by its own lock, so a table is shared by all threads.
 */
#ifndef TI_CLIENTS_H
#define TI_CLIENTS_H

#include <pthread.h>
#include <stddef.h>
#include <sys/types.h>

#define TI_CLIENT_NAME_MAX 64
#define TI_CLIENTS_FILE_MAX (256 * 1024)
#define TI_DEFAULT_RATE 500 /* requests per second per client */

typedef struct ti_protomap {
	char *protocol; /* X-Dovecot-Auth-Protocol value, compared exactly */
	char *service; /* one of the client's services */
} ti_protomap;

typedef struct ti_client {
	char name[TI_CLIENT_NAME_MAX + 1];
	unsigned char secret_sha256[32];
	int has_secret; /* 0: only peer_uid authenticates it */
	char **services;
	size_t nservices;
	ti_protomap *protocols;
	size_t nprotocols;
	int trust_remote; /* X-Dovecot-Auth-Remote is believed for the log */
	int has_peer_uid;
	uid_t peer_uid;
	double rate; /* requests per second; burst is twice that */
	/* token bucket, under lock */
	pthread_mutex_t lock;
	double tokens;
	double last;
} ti_client;

typedef struct ti_clients {
	ti_client *v;
	size_t n;
	int locks; /* the clients' locks are initialised */
} ti_clients;

/* Parses the file at path (must be a regular file owned by root, mode 0600
 * or stricter, read before the privilege drop; the test hook of
 * safe_file.h also accepts the effective user's). On error returns -1 with a
 * "path:line: message" in err. */
int ti_clients_load(const char *path, ti_clients **out, char *err, size_t errlen);
/* The same from a NUL-terminated buffer, modified in place (tests, fuzzing). */
int ti_clients_parse(const char *path, char *buf, ti_clients **out, char *err, size_t errlen);
void ti_clients_free(ti_clients *c);

/* The client whose name and secret match, in constant time over the
 * secret (the name is not secret). NULL when none does. */
ti_client *ti_clients_check(
    const ti_clients *c, const char *name, size_t name_len, const char *secret, size_t secret_len);
/* The client bound to a unix peer uid, or NULL. */
ti_client *ti_clients_by_uid(const ti_clients *c, uid_t uid);
/* 1 when service is one of the client's. */
int ti_client_may(const ti_client *cl, const char *service);
/* The service mapped from an X-Dovecot-Auth-Protocol value, or NULL. */
const char *ti_client_protocol_service(const ti_client *cl, const char *protocol);
/* Takes one request from the client's bucket: 1 allowed, 0 over the rate. */
int ti_client_rate_take(ti_client *cl, double now_monotonic);

#endif
