/* doctor_run.c: running the consumers' own tools for `tokenscope doctor`,
 * and the small readers the per-consumer files share. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "doctor.h"

/* The tools are found in a fixed PATH, never the caller's: the doctor runs
 * as root and must not run whatever a PATH entry offers. */
static const char *const tool_dirs[] = { "/usr/sbin", "/usr/bin", "/sbin", "/bin" };
static char env_path[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin", env_lang[] = "LC_ALL=C";
static char *const tool_env[] = { env_path, env_lang, NULL };
#define DR_TIMEOUT_MS 20000 /* doveconf and sshd -T answer in well under a second */
#define DR_OUT_MAX (4u * 1024 * 1024)

static int
find_tool(const char *name, char *path, size_t cap)
{
	size_t i;

	for (i = 0; i < sizeof(tool_dirs) / sizeof(tool_dirs[0]); i++) {
		snprintf(path, cap, "%s/%s", tool_dirs[i], name);
		if (access(path, X_OK) == 0)
			return 0;
	}
	return -1;
}

static long
ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Appends what fd has to *buf; 0 at end of file, 1 more to come, -1 on an
 * error or output beyond the cap. */
static int
drain(int fd, char **buf, size_t *len, size_t cap)
{
	char chunk[4096];
	ssize_t got = read(fd, chunk, sizeof(chunk));
	char *n;

	if (got < 0)
		return errno == EINTR || errno == EAGAIN ? 1 : -1;
	if (got == 0)
		return 0;
	if (*len + (size_t)got > cap)
		return -1;
	if ((n = realloc(*buf, *len + (size_t)got + 1)) == NULL)
		return -1;
	*buf = n;
	memcpy(n + *len, chunk, (size_t)got);
	*len += (size_t)got;
	n[*len] = '\0';
	return 1;
}

static void
first_line(char *err, size_t cap, const char *text)
{
	size_t n = strcspn(text, "\n");

	if (n >= cap)
		n = cap - 1;
	memcpy(err, text, n);
	err[n] = '\0';
}

int
dr_run(const char *const argv[], char **out, char *err, size_t errcap)
{
	char path[256], *obuf = NULL, *ebuf = NULL, *av[8] = { NULL };
	size_t olen = 0, elen = 0, i;
	int op[2] = { -1, -1 }, ep[2] = { -1, -1 }, st = 0, r = -1, oopen = 1, eopen = 1;
	pid_t pid = -1;
	struct timespec t0;

	*out = NULL;
	snprintf(err, errcap, "cannot run %s", argv[0]);
	if (find_tool(argv[0], path, sizeof(path)) != 0) {
		snprintf(err, errcap, "%s not found", argv[0]);
		return -1;
	}
	/* execve wants writable strings: copies, made before the fork */
	for (i = 0; argv[i] != NULL; i++)
		if (i + 1 >= sizeof(av) / sizeof(av[0]) || (av[i] = strdup(argv[i])) == NULL)
			goto out;
	if (pipe2(op, O_CLOEXEC) != 0 || pipe2(ep, O_CLOEXEC) != 0)
		goto out;
	if ((pid = fork()) < 0)
		goto out;
	if (pid == 0) {
		int nul = open("/dev/null", O_RDONLY);

		/* standard input closed to the tool: it reads nothing of ours */
		if (nul < 0 || dup2(nul, 0) < 0 || dup2(op[1], 1) < 0 || dup2(ep[1], 2) < 0)
			_exit(127);
		execve(path, av, tool_env);
		_exit(127);
	}
	close(op[1]);
	close(ep[1]);
	op[1] = ep[1] = -1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (oopen || eopen) {
		struct pollfd p[2] = { { op[0], POLLIN, 0 }, { ep[0], POLLIN, 0 } };
		long left = DR_TIMEOUT_MS - ms_since(&t0);

		if (!oopen)
			p[0].fd = -1;
		if (!eopen)
			p[1].fd = -1;
		if (left <= 0 || poll(p, 2, (int)left) < 0) {
			if (left > 0 && errno == EINTR)
				continue;
			snprintf(err, errcap, "%s: no answer within %d s", argv[0],
			    DR_TIMEOUT_MS / 1000);
			kill(pid, SIGKILL);
			goto reap;
		}
		if (oopen && p[0].revents && (oopen = drain(op[0], &obuf, &olen, DR_OUT_MAX)) < 0)
			break;
		if (eopen && p[1].revents && (eopen = drain(ep[0], &ebuf, &elen, 65536)) < 0)
			break;
	}
	if (oopen < 0 || eopen < 0) {
		snprintf(err, errcap, "%s: output unreadable or too large", argv[0]);
		kill(pid, SIGKILL);
		goto reap;
	}
reap:
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (oopen == 0 && eopen == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		*out = obuf != NULL ? obuf : strdup("");
		obuf = NULL;
		r = *out != NULL ? 0 : -1;
	} else if (oopen == 0 && eopen == 0) {
		if (ebuf != NULL && *ebuf != '\0')
			first_line(err, errcap, ebuf);
		else
			snprintf(err, errcap, "%s failed", argv[0]);
	}
out:
	for (i = 0; i < sizeof(av) / sizeof(av[0]); i++)
		free(av[i]);
	free(obuf);
	free(ebuf);
	if (op[0] >= 0)
		close(op[0]);
	if (op[1] >= 0)
		close(op[1]);
	if (ep[0] >= 0)
		close(ep[0]);
	if (ep[1] >= 0)
		close(ep[1]);
	return r;
}

char *
dr_read_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	struct stat sb;
	char *buf = NULL;
	size_t len = 0;
	ssize_t got;

	if (fd < 0)
		return NULL;
	/* configuration files: regular and small; a fifo or a huge file is
	 * not one, and nothing here blocks on it */
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size > 1024 * 1024)
		goto out;
	if ((buf = malloc((size_t)sb.st_size + 1)) == NULL)
		goto out;
	while (len < (size_t)sb.st_size &&
	    (got = read(fd, buf + len, (size_t)sb.st_size - len)) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			free(buf);
			buf = NULL;
			goto out;
		}
		len += (size_t)got;
	}
	buf[len] = '\0';
out:
	close(fd);
	return buf;
}

long
dr_seconds(const char *s)
{
	static const struct {
		const char *unit;
		long mult;
	} units[] = {
		{ "s", 1 },
		{ "sec", 1 },
		{ "secs", 1 },
		{ "second", 1 },
		{ "seconds", 1 },
		{ "m", 60 },
		{ "min", 60 },
		{ "mins", 60 },
		{ "minute", 60 },
		{ "minutes", 60 },
		{ "h", 3600 },
		{ "hour", 3600 },
		{ "hours", 3600 },
		{ "d", 86400 },
		{ "day", 86400 },
		{ "days", 86400 },
		{ "w", 604800 },
		{ "week", 604800 },
		{ "weeks", 604800 },
	};
	char *end;
	long v;
	size_t i;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || v < 0)
		return -1;
	while (*end == ' ')
		end++;
	if (*end == '\0')
		return v;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(end, units[i].unit) == 0)
			return v > 0x7fffffffL / units[i].mult ? -1 : v * units[i].mult;
	return -1;
}
