/* clients.c: the client credentials file of the introspection service (see
 * clients.h and tokenscope-introspect(8), FILES). */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "clients.h"
#include "err.h"
#include "safe_file.h"

static int fail(char *err, size_t errlen, const char *path, int line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int
fail(char *err, size_t errlen, const char *path, int line, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "%s:%d: %s", path, line, msg);
	return -1;
}

/* Names of clients, services and protocols: the charset of config section
 * names, so that they can go into a log line as they are. */
static int
name_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > TI_CLIENT_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		        (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void
client_clear(ti_client *cl, int locked)
{
	size_t i;

	for (i = 0; i < cl->nservices; i++)
		free(cl->services[i]);
	free(cl->services);
	for (i = 0; i < cl->nprotocols; i++) {
		free(cl->protocols[i].protocol);
		free(cl->protocols[i].service);
	}
	free(cl->protocols);
	if (locked)
		pthread_mutex_destroy(&cl->lock);
	OPENSSL_cleanse(cl, sizeof(*cl));
}

void
ti_clients_free(ti_clients *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++)
		client_clear(&c->v[i], c->locks);
	free(c->v);
	free(c);
}

int
ti_client_may(const ti_client *cl, const char *service)
{
	size_t i;

	for (i = 0; service != NULL && i < cl->nservices; i++)
		if (strcmp(cl->services[i], service) == 0)
			return 1;
	return 0;
}

const char *
ti_client_protocol_service(const ti_client *cl, const char *protocol)
{
	size_t i;

	for (i = 0; protocol != NULL && i < cl->nprotocols; i++)
		if (strcmp(cl->protocols[i].protocol, protocol) == 0)
			return cl->protocols[i].service;
	return NULL;
}

/* services=a,b,c */
static int
parse_services(ti_client *cl, char *v, char *err, size_t errlen, const char *path, int line)
{
	char *save = NULL, *s;

	if (cl->nservices > 0)
		return fail(err, errlen, path, line, "services given twice");
	for (s = strtok_r(v, ",", &save); s != NULL; s = strtok_r(NULL, ",", &save)) {
		char **nv;

		if (!name_ok(s))
			return fail(err, errlen, path, line, "bad service name");
		if (ti_client_may(cl, s))
			return fail(err, errlen, path, line, "service listed twice");
		if ((nv = realloc(cl->services, (cl->nservices + 1) * sizeof(*nv))) == NULL)
			return fail(err, errlen, path, line, "out of memory");
		cl->services = nv;
		if ((nv[cl->nservices] = strdup(s)) == NULL)
			return fail(err, errlen, path, line, "out of memory");
		cl->nservices++;
	}
	if (cl->nservices == 0)
		return fail(err, errlen, path, line, "services= is empty");
	return 0;
}

/* protocols=imap:dovecot,smtp:smtp (after services=) */
static int
parse_protocols(ti_client *cl, char *v, char *err, size_t errlen, const char *path, int line)
{
	char *save = NULL, *s;

	if (cl->nprotocols > 0)
		return fail(err, errlen, path, line, "protocols given twice");
	for (s = strtok_r(v, ",", &save); s != NULL; s = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(s, ':');
		ti_protomap *nv;

		if (colon == NULL)
			return fail(err, errlen, path, line, "protocols= wants PROTOCOL:SERVICE");
		*colon = '\0';
		if (!name_ok(s) || !name_ok(colon + 1))
			return fail(err, errlen, path, line, "bad protocol or service name");
		/* N3: a map can only narrow the client's own services */
		if (!ti_client_may(cl, colon + 1))
			return fail(err, errlen, path, line,
			    "protocol %s maps to service %s, which is not in services=", s,
			    colon + 1);
		if (ti_client_protocol_service(cl, s) != NULL)
			return fail(err, errlen, path, line, "protocol %s mapped twice", s);
		if ((nv = realloc(cl->protocols, (cl->nprotocols + 1) * sizeof(*nv))) == NULL)
			return fail(err, errlen, path, line, "out of memory");
		cl->protocols = nv;
		nv[cl->nprotocols].protocol = strdup(s);
		nv[cl->nprotocols].service = strdup(colon + 1);
		cl->nprotocols++;
		if (nv[cl->nprotocols - 1].protocol == NULL ||
		    nv[cl->nprotocols - 1].service == NULL)
			return fail(err, errlen, path, line, "out of memory");
	}
	return 0;
}

static int
parse_number(const char *v, unsigned long max, unsigned long *out)
{
	char *end;

	if (*v < '0' || *v > '9')
		return -1;
	errno = 0;
	*out = strtoul(v, &end, 10);
	return errno != 0 || *end != '\0' || *out > max ? -1 : 0;
}

static int
parse_line(ti_client *cl, char *line, char *err, size_t errlen, const char *path, int lno)
{
	char *save = NULL, *name, *secret, *opt, *protocols = NULL;
	size_t i;

	name = strtok_r(line, " \t", &save);
	secret = strtok_r(NULL, " \t", &save);
	if (secret == NULL)
		return fail(err, errlen, path, lno, "want NAME SHA256-OF-SECRET OPTIONS...");
	if (!name_ok(name))
		return fail(err, errlen, path, lno, "bad client name");
	snprintf(cl->name, sizeof(cl->name), "%s", name);
	if (strcmp(secret, "-") != 0) {
		if (strlen(secret) != 64)
			return fail(err, errlen, path, lno,
			    "the secret must be given as its SHA-256 in 64 hex digits, or -");
		for (i = 0; i < 32; i++) {
			int hi = hexval(secret[2 * i]), lo = hexval(secret[2 * i + 1]);

			if (hi < 0 || lo < 0)
				return fail(err, errlen, path, lno, "secret hash is not hex");
			cl->secret_sha256[i] = (unsigned char)(hi << 4 | lo);
		}
		cl->has_secret = 1;
	}
	cl->rate = TI_DEFAULT_RATE;
	while ((opt = strtok_r(NULL, " \t", &save)) != NULL) {
		char *eq = strchr(opt, '=');
		unsigned long num;

		if (eq == NULL)
			return fail(err, errlen, path, lno, "option without '='");
		*eq++ = '\0';
		if (strcmp(opt, "services") == 0) {
			if (parse_services(cl, eq, err, errlen, path, lno) != 0)
				return -1;
		} else if (strcmp(opt, "protocols") == 0) {
			protocols = eq; /* resolved after services= */
		} else if (strcmp(opt, "trust_remote") == 0) {
			if (strcmp(eq, "yes") != 0 && strcmp(eq, "no") != 0)
				return fail(
				    err, errlen, path, lno, "trust_remote= wants yes or no");
			cl->trust_remote = strcmp(eq, "yes") == 0;
		} else if (strcmp(opt, "peer_uid") == 0) {
			if (parse_number(eq, (unsigned long)INT_MAX, &num) != 0)
				return fail(err, errlen, path, lno, "peer_uid= wants a number");
			cl->has_peer_uid = 1;
			cl->peer_uid = (uid_t)num;
		} else if (strcmp(opt, "rate") == 0) {
			if (parse_number(eq, 1000000, &num) != 0 || num == 0)
				return fail(err, errlen, path, lno, "rate= wants 1..1000000");
			cl->rate = (double)num;
		} else {
			return fail(err, errlen, path, lno, "unknown option %.32s", opt);
		}
	}
	if (cl->nservices == 0)
		return fail(err, errlen, path, lno, "client %s has no services=", cl->name);
	if (protocols != NULL && parse_protocols(cl, protocols, err, errlen, path, lno) != 0)
		return -1;
	if (!cl->has_secret && !cl->has_peer_uid)
		return fail(err, errlen, path, lno,
		    "client %s has neither a secret nor a peer_uid: nothing would authenticate it",
		    cl->name);
	cl->tokens = cl->rate * 2;
	return 0;
}

int
ti_clients_parse(const char *path, char *buf, ti_clients **out, char *err, size_t errlen)
{
	ti_clients *c = calloc(1, sizeof(*c));
	char *line, *next;
	int lno = 0, r = -1;
	size_t i;

	*out = NULL;
	if (c == NULL)
		return fail(err, errlen, path, 0, "out of memory");
	for (line = buf; line != NULL; line = next) {
		char *hash;
		ti_client *nv;

		lno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if ((hash = strchr(line, '#')) != NULL)
			*hash = '\0';
		line += strspn(line, " \t\r");
		if (*line == '\0')
			continue;
		line[strcspn(line, "\r")] = '\0';
		if ((nv = realloc(c->v, (c->n + 1) * sizeof(*nv))) == NULL) {
			fail(err, errlen, path, lno, "out of memory");
			goto out;
		}
		c->v = nv;
		memset(&nv[c->n], 0, sizeof(nv[c->n]));
		c->n++;
		if (parse_line(&nv[c->n - 1], line, err, errlen, path, lno) != 0)
			goto out;
		for (i = 0; i + 1 < c->n; i++) {
			if (strcmp(c->v[i].name, nv[c->n - 1].name) == 0) {
				fail(err, errlen, path, lno, "client %s defined twice",
				    c->v[i].name);
				goto out;
			}
			if (c->v[i].has_peer_uid && nv[c->n - 1].has_peer_uid &&
			    c->v[i].peer_uid == nv[c->n - 1].peer_uid) {
				fail(err, errlen, path, lno, "peer_uid %u given to two clients",
				    (unsigned)c->v[i].peer_uid);
				goto out;
			}
		}
	}
	if (c->n == 0) {
		fail(err, errlen, path, lno, "no clients: nobody could use the service");
		goto out;
	}
	/* the locks are made once the array stops moving */
	for (i = 0; i < c->n; i++)
		pthread_mutex_init(&c->v[i].lock, NULL);
	c->locks = 1;
	*out = c; /* transferred */
	c = NULL;
	r = 0;
out:
	ti_clients_free(c);
	return r;
}

int
ti_clients_load(const char *path, ti_clients **out, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	ts_file_id id;
	ts_err e = { "" };
	int r;

	*out = NULL;
	/* the hashes are not the secrets, but they are what a guesser would
	 * test offline against: the file is kept like a secret (0600) */
	if (ts_read_file(path, TI_CLIENTS_FILE_MAX, TS_FILE_SECRET, &buf, &len, &id, &e) != TS_OK) {
		snprintf(err, errlen, "%s", e.msg);
		return -1;
	}
	r = ti_clients_parse(path, buf, out, err, errlen);
	ts_freezero(buf, len);
	return r;
}

ti_client *
ti_clients_check(
    const ti_clients *c, const char *name, size_t name_len, const char *secret, size_t secret_len)
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	ti_client *found = NULL;
	size_t i;

	if (EVP_Digest(secret, secret_len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
		return NULL;
	for (i = 0; i < c->n; i++) {
		if (strlen(c->v[i].name) == name_len && memcmp(c->v[i].name, name, name_len) == 0) {
			found = &c->v[i];
			break;
		}
	}
	/* the hash is compared even for an unknown name, against a dummy, so
	 * that the time taken does not depend on the secret; the name itself
	 * is public (it is in the log) */
	if (found == NULL || !found->has_secret) {
		static const unsigned char dummy[32];

		(void)CRYPTO_memcmp(md, dummy, sizeof(md));
		found = NULL;
	} else if (CRYPTO_memcmp(md, found->secret_sha256, sizeof(md)) != 0) {
		found = NULL;
	}
	OPENSSL_cleanse(md, sizeof(md));
	return found;
}

ti_client *
ti_clients_by_uid(const ti_clients *c, uid_t uid)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (c->v[i].has_peer_uid && c->v[i].peer_uid == uid)
			return &c->v[i];
	return NULL;
}

int
ti_client_rate_take(ti_client *cl, double now)
{
	int ok;

	pthread_mutex_lock(&cl->lock);
	if (cl->last > 0)
		cl->tokens += (now - cl->last) * cl->rate;
	if (cl->tokens > cl->rate * 2)
		cl->tokens = cl->rate * 2;
	cl->last = now;
	ok = cl->tokens >= 1.0;
	if (ok)
		cl->tokens -= 1.0;
	pthread_mutex_unlock(&cl->lock);
	return ok;
}
