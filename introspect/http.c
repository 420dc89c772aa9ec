/* http.c: libmicrohttpd glue (see http.h). Builds against libmicrohttpd
 * 0.9.75 (Debian 12) and 1.0 (Debian 13): only calls present in both. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/crypto.h>

#include "err.h"
#include "http.h"

struct ti_http {
	const ti_env *env;
	ti_limits lim;
	struct MHD_Daemon *d[TI_MAX_LISTENERS];
	int fd[TI_MAX_LISTENERS];
	size_t n;
	atomic_uint conns;
	atomic_int draining;
};

/* What one connection is, fixed when it is accepted. */
typedef struct conn_ctx {
	char peer[INET6_ADDRSTRLEN + 16];
	int uid_known;
	uid_t uid;
	int busy;
	int fd; /* the library's socket, read only for FIONREAD at close */
	double start;
	double last_answer; /* 0 before the first */
	unsigned nreq;
} conn_ctx;

/* One request's body as it arrives. */
typedef struct req_ctx {
	char *body;
	size_t len, cap;
	size_t seen; /* every byte received, kept or not */
	int too_large;
	int answered; /* its answer is queued */
	int counted; /* in its connection's count of answers */
	double start;
} req_ctx;

/* The headers ti_handle reads; a repeated one is refused, never guessed. */
typedef struct headers {
	const char *authorization, *client_authorization, *protocol, *service, *remote;
	const char *content_type;
	int dup;
	int bad_name; /* a name outside RFC 9110's token characters */
} headers;

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	const ti_http *h = cls;
	char raw[200], line[256];
	size_t i;

	if (h->env->log == NULL)
		return;
	vsnprintf(raw, sizeof(raw), fmt, ap);
	/* the library's own sentence, kept to one printable line */
	raw[strcspn(raw, "\r\n")] = '\0';
	for (i = 0; raw[i] != '\0'; i++)
		if ((unsigned char)raw[i] < 0x20 || (unsigned char)raw[i] > 0x7e)
			raw[i] = '?';
	snprintf(line, sizeof(line), "tokenscope-introspect: libmicrohttpd: %s", raw);
	h->env->log(h->env->log_arg, LOG_WARNING, line);
}

/* The library calls CLOSED before it closes the socket (0.9.75 and 1.0
 * alike). Bytes still unread then are a request the client already sent:
 * the kernel answers the close with a reset and the client loses it without
 * a word from the library. Said here, with what tells the causes apart (the
 * idle timeout, a close the daemon asked for, a peer that went on sending). */
static void
note_unread_at_close(const ti_http *h, const conn_ctx *cc)
{
	char line[300];
	double now = mono();
	int unread = 0;

	if (h->env->log == NULL || cc->fd < 0 || ioctl(cc->fd, FIONREAD, &unread) != 0 ||
	    unread <= 0)
		return;
	snprintf(line, sizeof(line),
	    "tokenscope-introspect: connection closed with %d unread bytes (the peer sees a "
	    "reset) after %u answers, open %.1f s, %.1f s since the last answer, rhost=%s",
	    unread, cc->nreq, now - cc->start, cc->last_answer > 0 ? now - cc->last_answer : -1.0,
	    cc->peer);
	h->env->log(h->env->log_arg, LOG_WARNING, line);
}

static void
conn_notify(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode toe)
{
	ti_http *h = cls;
	conn_ctx *cc;

	if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (*socket_context != NULL)
			note_unread_at_close(h, *socket_context);
		free(*socket_context);
		*socket_context = NULL;
		atomic_fetch_sub(&h->conns, 1);
		return;
	}
	/* counted even when the context cannot be made: CLOSED uncounts it */
	unsigned now_open = atomic_fetch_add(&h->conns, 1) + 1;

	if ((cc = calloc(1, sizeof(*cc))) == NULL)
		return;
	cc->busy = now_open > h->lim.max_connections;
	cc->fd = -1;
	cc->start = mono();
	snprintf(cc->peer, sizeof(cc->peer), "-");
	{
		/* the peer from the descriptor itself: the library's
		 * CLIENT_ADDRESS info is not laid out alike in 0.9.75 and 1.0 */
		const union MHD_ConnectionInfo *fi =
		    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);

		memset(&ss, 0, sizeof(ss));
		if (fi != NULL)
			cc->fd = fi->connect_fd;
		if (fi != NULL && getpeername(fi->connect_fd, (struct sockaddr *)&ss, &sl) == 0) {
			if (ss.ss_family == AF_INET)
				inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, cc->peer,
				    sizeof(cc->peer));
			else if (ss.ss_family == AF_INET6)
				inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr,
				    cc->peer, sizeof(cc->peer));
		}
		if (fi != NULL && ss.ss_family == AF_UNIX) {
			struct ucred uc;
			socklen_t ul = sizeof(uc);

			/* the kernel's word on who is connected, taken at
			 * accept: it cannot be changed by the peer later */
			if (getsockopt(fi->connect_fd, SOL_SOCKET, SO_PEERCRED, &uc, &ul) == 0 &&
			    ul == sizeof(uc)) {
				cc->uid_known = 1;
				cc->uid = uc.uid;
				snprintf(
				    cc->peer, sizeof(cc->peer), "unix/uid:%u", (unsigned)uc.uid);
			} else {
				snprintf(cc->peer, sizeof(cc->peer), "unix");
			}
		}
	}
	*socket_context = cc;
}

static void
req_free(req_ctx *rc)
{
	if (rc == NULL)
		return;
	if (rc->body != NULL) {
		OPENSSL_cleanse(rc->body, rc->cap);
		free(rc->body);
	}
	free(rc);
}

static const char *
toe_name(enum MHD_RequestTerminationCode toe)
{
	switch (toe) {
	case MHD_REQUEST_TERMINATED_COMPLETED_OK: return "completed";
	case MHD_REQUEST_TERMINATED_WITH_ERROR: return "error";
	case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED: return "idle timeout";
	case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN: return "shutdown";
	case MHD_REQUEST_TERMINATED_READ_ERROR: return "peer reset";
	case MHD_REQUEST_TERMINATED_CLIENT_ABORT: return "client closed";
	}
	return "other";
}

/* A request whose headers came in and whose answer did not go out is,
 * for a caller still there, a login that fails with a closed connection
 * and no status. The library says nothing when its idle timeout or a
 * shutdown ends it (it does log a peer that went away or an error of its
 * own), so the daemon logs each such request once, with the library's
 * reason and where the request stood. "answer not made" means this
 * daemon made none: the library may itself have answered a malformed
 * body with a 4xx. Nothing of the request itself is logged. A peer that
 * left is routine (notice); a timeout or an error is not (warning). */
static void
req_done(void *cls, struct MHD_Connection *c, void **req_cls, enum MHD_RequestTerminationCode toe)
{
	const ti_http *h = cls;
	req_ctx *rc = *req_cls;

	if (rc != NULL && toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && h->env->log != NULL) {
		const union MHD_ConnectionInfo *si =
		    MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
		const conn_ctx *cc = si != NULL ? si->socket_context : NULL;
		char line[300];

		snprintf(line, sizeof(line),
		    "tokenscope-introspect: request ended without a complete answer (%s) %.1f s "
		    "after its headers, %zu body bytes in, answer %s, %u answers before on its "
		    "connection, rhost=%s",
		    toe_name(toe), mono() - rc->start, rc->seen,
		    rc->answered ? "queued" : "not made",
		    cc != NULL ? cc->nreq - (unsigned)rc->counted : 0, cc != NULL ? cc->peer : "-");
		h->env->log(h->env->log_arg,
		    toe == MHD_REQUEST_TERMINATED_CLIENT_ABORT ||
		            toe == MHD_REQUEST_TERMINATED_READ_ERROR
		        ? LOG_NOTICE
		        : LOG_WARNING,
		    line);
	}
	req_free(rc);
	*req_cls = NULL;
}

/* RFC 9110 5.6.2 token characters: what a field name may hold. */
static int
is_token(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		        (*s >= '0' && *s <= '9') || strchr("!#$%&'*+-.^_`|~", *s) != NULL))
			return 0;
	return 1;
}

static enum MHD_Result
header_cb(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	headers *hd = cls;
	const char **slot = NULL;

	(void)kind;
	/* "Authorization :" is a header of its own to the library and may be
	 * the Authorization header to a proxy in front: refused (RFC 9112
	 * 5.1), never guessed */
	if (!is_token(key))
		hd->bad_name = 1;
	if (strcasecmp(key, MHD_HTTP_HEADER_AUTHORIZATION) == 0)
		slot = &hd->authorization;
	else if (strcasecmp(key, TI_CLIENT_AUTH_HEADER) == 0)
		slot = &hd->client_authorization;
	else if (strcasecmp(key, "X-Dovecot-Auth-Protocol") == 0)
		slot = &hd->protocol;
	else if (strcasecmp(key, "X-Dovecot-Auth-Service") == 0)
		slot = &hd->service;
	else if (strcasecmp(key, "X-Dovecot-Auth-Remote") == 0)
		slot = &hd->remote;
	else if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_TYPE) == 0)
		slot = &hd->content_type;
	if (slot != NULL) {
		if (*slot != NULL)
			hd->dup = 1;
		*slot = value;
	}
	return MHD_YES;
}

static enum MHD_Result
send_response(struct MHD_Connection *c, const ti_response *rs, int close_it)
{
	static char empty[] = "";
	struct MHD_Response *r;
	enum MHD_Result ret;
	char num[16];

	r = MHD_create_response_from_buffer(rs->body != NULL ? rs->body_len : 0,
	    rs->body != NULL ? rs->body : empty, MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	(void)MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	/* an introspection answer is about one token at one moment */
	(void)MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (rs->www_authenticate != NULL)
		(void)MHD_add_response_header(
		    r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, rs->www_authenticate);
	if (rs->allow != NULL)
		(void)MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, rs->allow);
	if (rs->retry_after > 0) {
		snprintf(num, sizeof(num), "%d", rs->retry_after);
		(void)MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, num);
	}
	if (rs->user[0] != '\0')
		(void)MHD_add_response_header(r, TI_USER_HEADER, rs->user);
	if (close_it || rs->close)
		(void)MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	ret = MHD_queue_response(c, (unsigned)rs->status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
access_cb(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size, void **req_cls)
{
	ti_http *h = cls;
	req_ctx *rc = *req_cls;
	const union MHD_ConnectionInfo *si;
	conn_ctx *cc;
	headers hd;
	ti_request rq;
	ti_response rs;
	enum MHD_Result ret;
	int close_it;

	(void)version;
	if (rc == NULL) {
		const char *cl;

		if ((rc = calloc(1, sizeof(*rc))) == NULL)
			return MHD_NO;
		rc->start = mono();
		*req_cls = rc;
		/* a declared body over the cap is refused before it is read */
		cl =
		    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL && strtoull(cl, NULL, 10) > h->lim.body_max)
			rc->too_large = 1;
		else
			return MHD_YES;
	}
	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;

		rc->seen += n;
		*upload_data_size = 0;
		/* a slow or endless body loses its connection */
		if (mono() - rc->start > h->lim.request_timeout || rc->seen > 4 * h->lim.body_max)
			return MHD_NO;
		if (rc->too_large || rc->len + n > h->lim.body_max) {
			rc->too_large = 1;
			return MHD_YES;
		}
		if (rc->body == NULL) {
			rc->cap = h->lim.body_max;
			if ((rc->body = malloc(rc->cap)) == NULL)
				return MHD_NO;
		}
		memcpy(rc->body + rc->len, upload_data, n);
		rc->len += n;
		return MHD_YES;
	}
	/* the whole request is here (or its body is refused unread) */
	si = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	cc = si != NULL ? si->socket_context : NULL;
	memset(&hd, 0, sizeof(hd));
	(void)MHD_get_connection_values(c, MHD_HEADER_KIND, header_cb, &hd);
	memset(&rq, 0, sizeof(rq));
	rq.method = strcmp(method, MHD_HTTP_METHOD_POST) == 0 ? TI_M_POST
	    : strcmp(method, MHD_HTTP_METHOD_GET) == 0        ? TI_M_GET
	                                                      : TI_M_OTHER;
	rq.path = url;
	rq.content_type = hd.content_type;
	rq.authorization = hd.authorization;
	rq.client_authorization = hd.client_authorization;
	/* Dovecot 2.4 says X-Dovecot-Auth-Protocol, 2.3 X-Dovecot-Auth-Service
	 * (the same value: imap, pop3, smtp, ...) */
	rq.protocol = hd.protocol != NULL ? hd.protocol : hd.service;
	rq.remote = hd.remote;
	rq.peer = cc != NULL ? cc->peer : "-";
	rq.peer_uid_known = cc != NULL && cc->uid_known;
	rq.peer_uid = cc != NULL ? cc->uid : 0;
	rq.body = rc->body;
	rq.body_len = rc->len;
	rq.body_too_large = rc->too_large;
	rq.busy = cc == NULL || cc->busy;
	rq.now = time(NULL);
	rq.mono = mono();
	if (hd.dup || hd.bad_name) {
		/* two Authorization headers (say), or one whose name is not a
		 * token, would let the library and a proxy in front disagree on
		 * which counted */
		memset(&rs, 0, sizeof(rs));
		rs.status = 400;
		rs.close = 1;
		if (h->env->log != NULL) {
			char line[320], peer[TS_LOG_VALUE_MAX + 1];

			ts_sanitize(peer, sizeof(peer), rq.peer, strlen(rq.peer));
			snprintf(line, sizeof(line),
			    "tokenscope-introspect: result=reject reason=%s status=400 "
			    "service=- rhost=%s client=-",
			    hd.bad_name ? "malformed_header" : "repeated_header", peer);
			h->env->log(h->env->log_arg, LOG_NOTICE, line);
		}
	} else {
		ti_handle(h->env, &rq, &rs);
	}
	close_it = atomic_load(&h->draining) || rc->too_large;
	if (cc != NULL) {
		cc->nreq++;
		rc->counted = 1;
		if (cc->nreq >= h->lim.conn_max_requests ||
		    rq.mono - cc->start > (double)h->lim.conn_max_age)
			close_it = 1;
	}
	ret = send_response(c, &rs, close_it);
	rc->answered = ret == MHD_YES;
	if (cc != NULL)
		cc->last_answer = mono();
	ti_response_clear(&rs);
	return ret;
}

ti_http *
ti_http_start(const ti_env *env, const ti_limits *lim, ti_listeners *l, char *err, size_t errlen)
{
	ti_http *h = calloc(1, sizeof(*h));
	size_t i;

	if (h == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->env = env;
	h->lim = *lim;
	atomic_init(&h->conns, 0);
	atomic_init(&h->draining, 0);
	for (i = 0; i < l->n; i++) {
		/* poll(), level-triggered, not the library's default epoll
		 * (edge-triggered, with its own record of which connections are
		 * ready): with epoll, under load, a request that had arrived on a
		 * keep-alive connection was at times never read until the idle
		 * timeout closed it (note_unread_at_close), TURBO on or off; with
		 * poll() never, at the same speed (the rulebook's N5 has the
		 * figures). poll() asks the kernel about every connection on each
		 * turn, at a cost that grows with the connections one thread holds
		 * (see --threads). No TURBO either: a lost request is worse than
		 * its few percent. */
		unsigned flags = MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG;
		/* one thread is the daemon's own, without a pool: the library
		 * warns at each start about a pool size of 1 (or 0) */
		struct MHD_OptionItem pool[] = {
			{ MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)lim->threads, NULL },
			{ MHD_OPTION_END, 0, NULL },
		};

		/* the logger first, or the library prints to stderr until it
		 * reaches it */
		h->d[i] = MHD_start_daemon(flags, 0, NULL, NULL, access_cb, h,
		    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h, MHD_OPTION_LISTEN_SOCKET,
		    (MHD_socket)l->v[i].fd, MHD_OPTION_ARRAY, lim->threads > 1 ? pool : pool + 1,
		    MHD_OPTION_CONNECTION_LIMIT, (unsigned)(lim->max_connections + 64),
		    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)lim->idle_timeout,
		    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)lim->header_mem,
		    MHD_OPTION_NOTIFY_CONNECTION, conn_notify, h, MHD_OPTION_NOTIFY_COMPLETED,
		    req_done, h, MHD_OPTION_END);
		if (h->d[i] == NULL) {
			snprintf(
			    err, errlen, "%s: libmicrohttpd could not start on it", l->v[i].name);
			ti_http_stop(h, 0);
			return NULL;
		}
		h->fd[i] = l->v[i].fd;
		l->v[i].fd = -1; /* transferred */
		h->n++;
	}
	return h;
}

unsigned
ti_http_connections(ti_http *h)
{
	return atomic_load(&h->conns);
}

void
ti_http_stop(ti_http *h, unsigned drain_seconds)
{
	double deadline = mono() + drain_seconds;
	size_t i;

	if (h == NULL)
		return;
	atomic_store(&h->draining, 1);
	for (i = 0; i < h->n; i++) {
		MHD_socket fd = MHD_quiesce_daemon(h->d[i]);

		if (fd != MHD_INVALID_SOCKET)
			close(fd);
		h->fd[i] = -1;
	}
	while (atomic_load(&h->conns) > 0 && mono() < deadline)
		usleep(20000);
	for (i = 0; i < h->n; i++)
		MHD_stop_daemon(h->d[i]);
	free(h);
}
