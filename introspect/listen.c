/* listen.c: listening sockets (see listen.h). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "listen.h"

#define BACKLOG 512

int
ti_addr_is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;

		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;

		return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
	}
	return 0;
}

static int
add(ti_listeners *l, int fd, int is_unix, const char *name, char *err, size_t errlen)
{
	int fl = fcntl(fd, F_GETFL);

	/* every worker thread accepts on the shared socket; one that loses the
	 * race must not block there while its own connections wait */
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) {
		snprintf(err, errlen, "%s: %s", name, strerror(errno));
		return -1;
	}
	if (l->n >= TI_MAX_LISTENERS) {
		snprintf(err, errlen, "more than %d listening sockets", TI_MAX_LISTENERS);
		return -1;
	}
	l->v[l->n].fd = fd;
	l->v[l->n].is_unix = is_unix;
	snprintf(l->v[l->n].name, sizeof(l->v[l->n].name), "%s", name);
	l->n++;
	return 0;
}

/* The socket's directory must not let another user swap the name between
 * bind and the chown that follows (as root): writable by others only with
 * the sticky bit, which keeps them from renaming what is ours. */
static int
dir_safe(const char *path, char *err, size_t errlen)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL)
		return 0;
	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (stat(dir, &st) != 0) {
		snprintf(err, errlen, "unix:%s: %s: %s", path, dir, strerror(errno));
		return -1;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 && (st.st_mode & S_ISVTX) == 0) {
		snprintf(err, errlen,
		    "unix:%s: the directory %s is writable by others and not sticky: they could "
		    "swap the socket for a link",
		    path, dir);
		return -1;
	}
	return 0;
}

static int
listen_unix(ti_listeners *l, const char *path, mode_t mode, gid_t gid, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct stat st;
	char name[128];
	int fd = -1, rc = -1;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (path[0] != '/' || strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "unix:%s: want an absolute path under %zu bytes", path,
		    sizeof(sun.sun_path));
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	/* a stale socket from a previous run is replaced; anything else that
	 * has the name is left alone */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "unix:%s exists and is not a socket", path);
			return -1;
		}
		(void)unlink(path);
	}
	if (dir_safe(path, err, errlen) != 0)
		return -1;
	/* made with its final mode by bind itself (no chmod by name, which
	 * would follow a link), its group set without following one */
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0) {
		mode_t old = umask(~mode & 0777);

		rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
		(void)umask(old);
	}
	if (fd < 0 || rc != 0 ||
	    (gid != (gid_t)-1 &&
	        fchownat(AT_FDCWD, path, (uid_t)-1, gid, AT_SYMLINK_NOFOLLOW) != 0) ||
	    listen(fd, BACKLOG) != 0) {
		snprintf(err, errlen, "unix:%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	snprintf(name, sizeof(name), "unix:%s", path);
	if (add(l, fd, 1, name, err, errlen) != 0) {
		close(fd);
		return -1;
	}
	return 0;
}

int
ti_listen_add(ti_listeners *l, const char *spec, int allow_nonlocal, mode_t mode, gid_t gid,
    char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	char host[64], *end;
	const char *colon;
	unsigned long port;
	socklen_t sl;
	int fd, one = 1;

	if (strncmp(spec, "unix:", 5) == 0)
		return listen_unix(l, spec + 5, mode, gid, err, errlen);
	memset(&ss, 0, sizeof(ss));
	if (spec[0] == '[') {
		const char *close_br = strchr(spec, ']');

		if (close_br == NULL || close_br[1] != ':' ||
		    (size_t)(close_br - spec - 1) >= sizeof(host))
			goto bad;
		memcpy(host, spec + 1, (size_t)(close_br - spec - 1));
		host[close_br - spec - 1] = '\0';
		colon = close_br + 1;
	} else {
		if ((colon = strrchr(spec, ':')) == NULL || (size_t)(colon - spec) >= sizeof(host))
			goto bad;
		memcpy(host, spec, (size_t)(colon - spec));
		host[colon - spec] = '\0';
	}
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || errno != 0 || port == 0 ||
	    port > 65535)
		goto bad;
	/* numeric addresses only: a name could resolve elsewhere tomorrow */
	if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons((unsigned short)port);
		sl = sizeof(*in);
	} else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((unsigned short)port);
		sl = sizeof(*in6);
	} else {
		goto bad;
	}
	if (!allow_nonlocal && !ti_addr_is_loopback((struct sockaddr *)&ss)) {
		snprintf(err, errlen,
		    "%s is not a loopback address: pass --allow-nonlocal to listen there", spec);
		return -1;
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		snprintf(err, errlen, "%s: %s", spec, strerror(errno));
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, BACKLOG) != 0) {
		snprintf(err, errlen, "%s: %s", spec, strerror(errno));
		close(fd);
		return -1;
	}
	if (add(l, fd, 0, spec, err, errlen) != 0) {
		close(fd);
		return -1;
	}
	return 0;
bad:
	snprintf(
	    err, errlen, "--listen %s: want unix:/PATH, ADDR:PORT or [ADDR6]:PORT (numeric)", spec);
	return -1;
}

int
ti_listen_systemd(ti_listeners *l, int allow_nonlocal, char *err, size_t errlen)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	unsigned long n, i;
	char *end;

	if (pid == NULL || fds == NULL || strtol(pid, &end, 10) != (long)getpid() || *end != '\0')
		return 0;
	n = strtoul(fds, &end, 10);
	if (*end != '\0' || n > TI_MAX_LISTENERS) {
		snprintf(
		    err, errlen, "LISTEN_FDS=%s: not a number up to %d", fds, TI_MAX_LISTENERS);
		return -1;
	}
	for (i = 0; i < n; i++) {
		int fd = 3 + (int)i, type = 0, acc = 0;
		socklen_t tl = sizeof(type), al = sizeof(acc);
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		char name[128];

		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) != 0 || type != SOCK_STREAM ||
		    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &al) != 0 || !acc ||
		    getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
			snprintf(
			    err, errlen, "systemd socket %d is not a listening stream socket", fd);
			return -1;
		}
		if (ss.ss_family != AF_UNIX && !allow_nonlocal &&
		    !ti_addr_is_loopback((struct sockaddr *)&ss)) {
			snprintf(err, errlen,
			    "systemd socket %d is not on a loopback address: pass --allow-nonlocal",
			    fd);
			return -1;
		}
		(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
		snprintf(name, sizeof(name), "systemd:%d", fd);
		if (add(l, fd, ss.ss_family == AF_UNIX, name, err, errlen) != 0)
			return -1;
	}
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return (int)n;
}

void
ti_listeners_close(ti_listeners *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->v[i].fd >= 0)
			close(l->v[i].fd);
	l->n = 0;
}
