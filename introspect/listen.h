/*
 * listen.h: the sockets the introspection service answers on (N1): unix
 * sockets, loopback TCP (127.0.0.0/8, ::1) and sockets handed over by
 * systemd (LISTEN_FDS). Any other address is refused unless the admin
 * passes --allow-nonlocal.
 *
 * Ownership: ti_listeners owns the descriptors until they are handed to the
 * HTTP layer (which closes them at stop).
 */
#ifndef TI_LISTEN_H
#define TI_LISTEN_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#define TI_MAX_LISTENERS 8

typedef struct ti_listener {
	int fd;
	int is_unix;
	char name[128]; /* for messages: "unix:/run/...", "127.0.0.1:8089" */
} ti_listener;

typedef struct ti_listeners {
	ti_listener v[TI_MAX_LISTENERS];
	size_t n;
} ti_listeners;

/* Adds one --listen SPEC: "unix:/path", "ADDR:PORT" or "[ADDR6]:PORT".
 * mode and gid (-1: keep) apply to unix sockets. Returns -1 with err. */
int ti_listen_add(ti_listeners *l, const char *spec, int allow_nonlocal, mode_t mode, gid_t gid,
    char *err, size_t errlen);
/* Adopts the sockets of the LISTEN_FDS protocol when LISTEN_PID is this
 * process; 0 when there are none, -1 with err on a refused socket. */
int ti_listen_systemd(ti_listeners *l, int allow_nonlocal, char *err, size_t errlen);
/* 1 when (addr) is loopback. */
int ti_addr_is_loopback(const struct sockaddr *sa);
void ti_listeners_close(ti_listeners *l);

#endif
