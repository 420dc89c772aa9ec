/*
 * cmd_fetch.c: `tokenscope fetch-keys` and `tokenscope keys --approve`.
 *
 * Keeps each fetched issuer's key file current, outside the authentication
 * path: the modules only ever read the file, and notice the new one by
 * their change check. A fetch that fails for any reason leaves the file as
 * it was; a file is never written empty; only keys that the keyring itself
 * would accept for that issuer are written.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "b64url.h"
#include "cli.h"
#include "conf.h"
#include "http.h"
#include "jwk.h"
#include "jws.h"
#include "keyfile.h"
#include "keyring.h"
#include "safe_file.h"

static const char usage_fetch[] =
    "usage: tokenscope fetch-keys [-c CONF] [--ca-file FILE] [--pin] [-n]\n"
    "                             [--requested | ISSUER...]\n"
    "  For each [issuer] with discovery= or jwks_uri= (or only those named), fetches\n"
    "  its JWKS over HTTPS and rewrites its key file atomically with the keys the\n"
    "  keyring accepts for it: signature keys of an allowed algorithm whose own\n"
    "  \"issuer\" (if any) is this issuer. Reports added and removed keys.\n"
    "  --pin      add no key not approved for its issuer (tokenscope keys\n"
    "             --approve THUMBPRINT --issuer NAME); keys already in the file stay\n"
    "  --ca-file  trust these CA certificates instead of the system's\n"
    "  -n         report only, write nothing\n"
    "  --requested  only the issuers the logins asked for in [global] fetch_spool\n"
    "             (an unknown kid), each at most once per fetch_interval (waits)\n"
    "  exit status: 0 all done, 1 a fetch failed or a key was held back, 2 usage\n";

typedef struct fkey {
	json_t *jwk; /* borrowed from the fetched set */
	char kid[TS_KID_MAX + 1]; /* sanitised, for reports */
	char tp[TS_THUMBPRINT_LEN + 1];
} fkey;

typedef struct keyset {
	fkey *k;
	size_t n;
} keyset;

static void
keyset_free(keyset *s)
{
	free(s->k);
	s->k = NULL;
	s->n = 0;
}

static const fkey *
find_tp(const keyset *s, const char *tp)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->k[i].tp, tp) == 0)
			return &s->k[i];
	return NULL;
}

/* Runs one JWK through the keyring's own loader for this issuer; fills the
 * thumbprint. Returns 0, or -1 with why. */
static int
loadable(const ts_issuer_conf *is, json_t *jwk, fkey *out, char *why, size_t cap)
{
	char *txt = json_dumps(jwk, JSON_COMPACT); /* one JWK: errors name no index */
	ts_loaded_key *lk = NULL;
	size_t n = 0;
	ts_err e = { "" };
	int rc = -1;

	if (txt == NULL)
		snprintf(why, cap, "out of memory");
	else if (ts_keyfile_parse(txt, strlen(txt), &is->keys[0], is->algorithms, 0, &lk, &n, &e) !=
	    TS_OK)
		snprintf(why, cap, "%s", e.msg);
	else if (n != 1)
		snprintf(why, cap, "not exactly one key");
	else {
		snprintf(out->tp, sizeof(out->tp), "%s", ts_key_thumbprint(lk[0].key));
		rc = 0;
	}
	ts_loaded_keys_free(lk, n);
	free(txt);
	return rc;
}

/* Keeps the keys of set that this issuer can use; reports the others when
 * verbose. Fails (-1) on what makes the whole set suspect. */
static int
usable(const ts_issuer_conf *is, json_t *set, keyset *out, int report, char *err, size_t cap)
{
	json_t *keys = json_object_get(set, "keys"), *jwk;
	size_t i, j;

	if (!json_is_array(keys)) {
		snprintf(err, cap, "the JWKS has no \"keys\" array");
		return -1;
	}
	if ((out->k = calloc(json_array_size(keys) + 1, sizeof(*out->k))) == NULL) {
		snprintf(err, cap, "out of memory");
		return -1;
	}
	json_array_foreach(keys, i, jwk)
	{
		fkey *f = &out->k[out->n];
		const char *use = json_string_value(json_object_get(jwk, "use"));
		const char *ki = json_string_value(json_object_get(jwk, "issuer"));
		const json_t *kid = json_object_get(jwk, "kid");
		char why[TS_ERR_MSG_MAX] = "";

		if (!json_is_object(jwk)) {
			snprintf(err, cap, "key %zu of the JWKS is not an object", i);
			return -1;
		}
		for (j = 0; ts_jwk_private_members[j] != NULL; j++)
			if (json_object_get(jwk, ts_jwk_private_members[j]) != NULL) {
				snprintf(err, cap,
				    "the JWKS holds private or secret key material (\"%s\"): "
				    "refusing it whole",
				    ts_jwk_private_members[j]);
				return -1;
			}
		if (json_is_string(kid))
			ts_sanitize(f->kid, sizeof(f->kid), json_string_value(kid),
			    json_string_length(kid));
		else
			snprintf(f->kid, sizeof(f->kid), "(none)");
		if (use != NULL && strcmp(use, "sig") != 0)
			snprintf(why, sizeof(why), "use is not sig (an encryption key)");
		else if (json_object_get(jwk, "issuer") != NULL &&
		    (ki == NULL || !ts_key_issuer_fits(ki, is)))
			snprintf(why, sizeof(why), "published for another issuer");
		else
			(void)loadable(is, jwk, f, why, sizeof(why));
		if (why[0] != '\0') {
			if (report)
				printf("  dropped kid=%s: %s\n", f->kid, why);
			continue;
		}
		for (j = 0; j < out->n; j++) {
			const json_t *other = json_object_get(out->k[j].jwk, "kid");

			/* two keys without kid are as ambiguous as a kid twice */
			if ((kid == NULL && other == NULL) || json_equal(other, kid)) {
				snprintf(
				    err, cap, "kid %s appears twice among usable keys", f->kid);
				return -1;
			}
		}
		f->jwk = jwk;
		out->n++;
	}
	return 0;
}

/* Largest key file or approved list read back (the keyring's own cap). */
#define FETCH_FILE_MAX (16 * 1024 * 1024)

/* Reads a file this command rewrites, with the checks the keyring applies
 * to key files (regular, not a symlink, root-owned, not group/world
 * writable). 0: read; 1: does not exist (a first fetch); -1: unusable. */
int
cli_read_safe(const char *path, char **buf, size_t *len, char *err, size_t cap)
{
	struct stat st;
	ts_file_id id;
	ts_err e = { "" };

	*buf = NULL;
	*len = 0;
	if (lstat(path, &st) != 0 && errno == ENOENT)
		return 1;
	if (ts_read_file(path, FETCH_FILE_MAX, 0, buf, len, &id, &e) != TS_OK) {
		snprintf(err, cap, "%s", e.msg);
		return -1;
	}
	return 0;
}

char *
cli_conf_path(const ts_conf *c, const char *set, const char *name)
{
	char *p;

	if (set != NULL)
		return strdup(set);
	if ((p = malloc(strlen(c->dir) + strlen(name) + 2)) != NULL)
		sprintf(p, "%s/%s", c->dir, name);
	return p;
}

char *
cli_text_of(char *path)
{
	char *buf = NULL, err[TS_ERR_MSG_MAX + 64];
	size_t len = 0;

	if (path != NULL && cli_read_safe(path, &buf, &len, err, sizeof(err)) < 0)
		buf = NULL;
	free(path);
	return buf;
}

/* The approved keys: "ISSUER THUMBPRINT" a line (the [issuer] section
 * name), '#' comments. An approval is for one issuer: a key approved for
 * one section is not thereby approved in another's JWKS. */
char *
cli_approved_path(const ts_conf *c)
{
	return cli_conf_path(c, c->approved_keys, "approved-keys");
}

int
cli_is_approved(const char *text, const char *issuer, const char *tp)
{
	size_t il = strlen(issuer), tl = strlen(tp);
	const char *p = text;

	while (p != NULL && *p != '\0') {
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncmp(p, issuer, il) == 0 && (p[il] == ' ' || p[il] == '\t')) {
			const char *q = p + il;

			while (*q == ' ' || *q == '\t')
				q++;
			if (strncmp(q, tp, tl) == 0 &&
			    (q[tl] == '\n' || q[tl] == '\0' || q[tl] == ' ' || q[tl] == '\t' ||
			        q[tl] == '#'))
				return 1;
		}
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	}
	return 0;
}

char *
cli_approved_text(const ts_conf *c)
{
	return cli_text_of(cli_approved_path(c));
}

void
cli_approved_sections(const ts_conf *c, const char *text, const char *tp, char *out, size_t cap)
{
	size_t i, n = 0;

	snprintf(out, cap, "-");
	for (i = 0; text != NULL && i < c->nissuers; i++)
		if (cli_is_approved(text, c->issuers[i].name, tp)) {
			int w =
			    snprintf(out + n, cap - n, "%s%s", n ? "," : "", c->issuers[i].name);

			if (w < 0 || (size_t)w >= cap - n)
				break;
			n += (size_t)w;
		}
}

/* Whether a [issuer] section has a key line naming path (absolute). */
static int
names_file(const ts_issuer_conf *is, const char *path)
{
	size_t k;

	for (k = 0; k < is->nkeys; k++)
		if (strcmp(is->keys[k].path, path) == 0)
			return 1;
	return 0;
}

/*
 * With --pin, a key file named by several [issuer] sections binds each of
 * its keys to all of them, so an approval must hold for all of them: the
 * first section (is first) naming path for which tp is not approved, or
 * NULL. `some` is set when tp is approved for at least one of them.
 */
static const ts_issuer_conf *
unapproved_sharer(const ts_conf *c, const ts_issuer_conf *is, const char *path, const char *appr,
    const char *tp, int *some)
{
	const ts_issuer_conf *miss = NULL;
	size_t i;

	*some = 0;
	if (appr != NULL && cli_is_approved(appr, is->name, tp))
		*some = 1;
	else
		miss = is;
	for (i = 0; i < c->nissuers; i++) {
		const ts_issuer_conf *o = &c->issuers[i];

		if (o == is || !names_file(o, path))
			continue;
		if (appr != NULL && cli_is_approved(appr, o->name, tp))
			*some = 1;
		else if (miss == NULL)
			miss = o;
	}
	return miss;
}

/* temp file in the same directory, fsync, rename, fsync the directory:
 * a reader sees the old file or the new one, never a part. */
int
cli_write_atomic(
    const char *path, const char *data, size_t len, unsigned mode, char *err, size_t cap)
{
	char *tmp = malloc(strlen(path) + 8), *d = strdup(path);
	size_t off = 0;
	ssize_t n;
	int fd = -1, dfd, rc = -1;

	if (tmp == NULL || d == NULL) {
		snprintf(err, cap, "out of memory");
		goto out;
	}
	sprintf(tmp, "%s.XXXXXX", path);
	if ((fd = mkstemp(tmp)) < 0) { /* 0600 until complete */
		snprintf(err, cap, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	while (off < len) {
		if ((n = write(fd, data + off, len - off)) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		off += (size_t)n;
	}
	if (off < len || fchmod(fd, (mode_t)mode) != 0 || fsync(fd) != 0) {
		snprintf(err, cap, "%s: %s", tmp, strerror(errno));
		goto fail;
	}
	n = close(fd);
	fd = -1;
	if (n != 0 || rename(tmp, path) != 0) {
		snprintf(err, cap, "%s: %s", path, strerror(errno));
		goto fail;
	}
	/* the rename itself on disk */
	if ((dfd = open(dirname(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	rc = 0;
	goto out;
fail:
	unlink(tmp);
out:
	if (fd >= 0)
		close(fd);
	free(tmp);
	free(d);
	return rc;
}

/* Fetches a JSON object from url. */
static json_t *
get_json(const char *url, const char *cafile, char *err, size_t cap)
{
	char *body;
	size_t len;
	ts_err e = { "" };
	json_t *j;

	if (http_get(url, cafile, &body, &len, err, cap) != 0)
		return NULL;
	if ((j = ts_json_parse_object(body, len, 8, &e)) == NULL)
		snprintf(err, cap, "%s: %s", url, e.msg);
	free(body);
	return j;
}

/* One issuer's fetch, stage by stage: what each stage found, for the next,
 * all freed together. */
typedef struct fetch {
	const ts_conf *c;
	const ts_issuer_conf *is;
	const char *path; /* the issuer's key file */
	int pin, dry;
	json_t *disc; /* resolve: the discovery document, when used */
	const char *url; /* resolve: the JWKS's, owned by is or disc */
	json_t *set; /* resolve: the fetched JWKS */
	keyset got; /* resolve: its keys this issuer can use */
	char *cur_txt; /* read current: the key file, NULL on a first fetch */
	size_t cur_len;
	json_t *cur_set;
	keyset cur; /* read current: its usable keys */
	char *appr_txt; /* read current: the approved-keys list (pin) */
	json_t *new_set; /* plan: what the file is to hold */
	size_t held, added, removed, withdrawn; /* plan */
	const char *outcome; /* commit: "written" or "unchanged" */
	char err[TS_ERR_MSG_MAX + 4200];
} fetch;

/* Resolve: the JWKS URL (through the discovery document, which must speak
 * for this issuer byte for byte), the set it serves, and the keys of it
 * this issuer can use. */
static int
fetch_resolve(fetch *f, const char *cafile)
{
	const ts_issuer_conf *is = f->is;
	const json_t *di, *ju;
	size_t i;

	f->url = is->jwks_uri;
	if (f->url == NULL) {
		if ((f->disc = get_json(is->discovery, cafile, f->err, sizeof(f->err))) == NULL)
			return -1;
		di = json_object_get(f->disc, "issuer");
		ju = json_object_get(f->disc, "jwks_uri");
		if (!json_is_string(di) || json_string_length(di) != is->issuer_len ||
		    memcmp(json_string_value(di), is->issuer, is->issuer_len) != 0) {
			char shown[200] = "(none)";

			if (json_is_string(di))
				ts_sanitize(shown, sizeof(shown), json_string_value(di),
				    json_string_length(di));
			snprintf(f->err, sizeof(f->err),
			    "the discovery document names issuer %s, not this section's", shown);
			return -1;
		}
		if (!json_is_string(ju) || strncmp(json_string_value(ju), "https://", 8) != 0) {
			snprintf(
			    f->err, sizeof(f->err), "the discovery document has no https jwks_uri");
			return -1;
		}
		for (i = 0; i < json_string_length(ju); i++) {
			unsigned char ch = (unsigned char)json_string_value(ju)[i];

			if (ch <= 0x20 || ch >= 0x7f) {
				snprintf(f->err, sizeof(f->err),
				    "the discovery document's jwks_uri is not printable ASCII");
				return -1;
			}
		}
		f->url = json_string_value(ju);
	}
	if ((f->set = get_json(f->url, cafile, f->err, sizeof(f->err))) == NULL)
		return -1;
	return usable(is, f->set, &f->got, 1, f->err, sizeof(f->err));
}

/* Read current: what the file holds now (missing only on a first fetch; a
 * file that cannot be read safely stops everything) and, with pin, the
 * approvals. */
static int
fetch_read_current(fetch *f)
{
	char *appr;
	size_t alen = 0;
	int st;

	if ((st = cli_read_safe(f->path, &f->cur_txt, &f->cur_len, f->err, sizeof(f->err))) < 0)
		return -1;
	if (st == 0) {
		ts_err e = { "" };
		char why[TS_ERR_MSG_MAX] = "";

		if ((f->cur_set = ts_json_parse_object(f->cur_txt, f->cur_len, 8, &e)) == NULL ||
		    usable(f->is, f->cur_set, &f->cur, 0, why, sizeof(why)) != 0) {
			keyset_free(&f->cur);
			if (f->pin) { /* which keys were trusted is unknown: no guessing */
				snprintf(f->err, sizeof(f->err), "%s is not a usable JWKS (%s%s)",
				    f->path, e.msg, why);
				return -1;
			}
			printf("  %s is not a usable JWKS: replacing it whole\n", f->path);
		}
	}
	if (!f->pin)
		return 0;
	if ((appr = cli_approved_path(f->c)) == NULL) {
		snprintf(f->err, sizeof(f->err), "out of memory");
		return -1;
	}
	st = cli_read_safe(appr, &f->appr_txt, &alen, f->err, sizeof(f->err));
	free(appr);
	return st < 0 ? -1 : 0;
}

/* Plan: the new set, key by key, each decision reported. */
static int
fetch_plan(fetch *f)
{
	json_t *keys;
	size_t i;

	if ((f->new_set = json_pack("{s:[]}", "keys")) == NULL) {
		snprintf(f->err, sizeof(f->err), "out of memory");
		return -1;
	}
	keys = json_object_get(f->new_set, "keys");
	for (i = 0; i < f->got.n; i++) {
		const fkey *k = &f->got.k[i], *old = find_tp(&f->cur, k->tp);
		const ts_issuer_conf *miss = NULL;
		int some = 0;

		if (f->pin)
			miss = unapproved_sharer(f->c, f->is, f->path, f->appr_txt, k->tp, &some);
		/* a key already in a shared file that is approved for some of its
		 * sections but not for all (an approval for one section must not
		 * make it trusted by another) is withdrawn; a key approved for
		 * none of them was there before pinning and stays */
		if (old != NULL && f->pin && !(miss != NULL && some)) {
			/* pinned: the approved JWK as it is in the file, so that the
			 * server cannot change its kid, alg or issuer unapproved */
			json_array_append(keys, old->jwk);
			continue;
		}
		if (miss != NULL) {
			if (old != NULL)
				printf("  withdrawn (not approved for [issuer %s]; %s binds its "
				       "keys to every section naming it) kid=%s thumbprint=%s: to "
				       "approve,\n",
				    miss->name, f->path, k->kid, k->tp);
			else if (miss == f->is)
				printf("  held back (not approved) kid=%s thumbprint=%s: to "
				       "approve,\n",
				    k->kid, k->tp);
			else
				printf(
				    "  held back (not approved for [issuer %s], which shares %s) "
				    "kid=%s thumbprint=%s: to approve,\n",
				    miss->name, f->path, k->kid, k->tp);
			printf("    tokenscope keys --approve %s --issuer %s\n", k->tp, miss->name);
			f->held++;
			f->withdrawn += old != NULL;
			continue;
		}
		if (old == NULL) {
			printf("  added kid=%s thumbprint=%s\n", k->kid, k->tp);
			f->added++;
		}
		json_array_append(keys, k->jwk);
	}
	for (i = 0; i < f->cur.n; i++) {
		if (find_tp(&f->got, f->cur.k[i].tp) == NULL) {
			printf("  removed kid=%s thumbprint=%s\n", f->cur.k[i].kid, f->cur.k[i].tp);
			f->removed++;
		}
	}
	if (json_array_size(keys) == 0) {
		/* an empty set would not load; say plainly what staying means */
		snprintf(f->err, sizeof(f->err), "no usable%s key: %s left as it was%s",
		    f->pin ? " approved" : "", f->path,
		    f->withdrawn ? ", so the keys to withdraw above still verify for every "
		                   "section naming it: approve them or remove them by hand"
		                 : "");
		return -1;
	}
	return 0;
}

/* Commit: the file rewritten atomically, unless unchanged or -n. */
static int
fetch_commit(fetch *f)
{
	size_t nkeys = json_array_size(json_object_get(f->new_set, "keys")), ol;
	char *out;
	int rc = -1;

	if ((out = json_dumps(f->new_set, JSON_INDENT(1) | JSON_PRESERVE_ORDER)) == NULL) {
		snprintf(f->err, sizeof(f->err), "out of memory");
		return -1;
	}
	ol = strlen(out);
	if (f->cur_txt != NULL && ol + 1 == f->cur_len && memcmp(out, f->cur_txt, ol) == 0 &&
	    f->cur_txt[ol] == '\n') {
		printf("  unchanged: %s (%zu keys)\n", f->path, nkeys);
		f->outcome = "unchanged";
	} else if (f->dry) {
		printf("  would write %s (%zu keys; -n: nothing written)\n", f->path, nkeys);
	} else {
		out[ol] = '\n'; /* json_dumps' NUL becomes the final newline */
		if (cli_write_atomic(f->path, out, ol + 1, 0644, f->err, sizeof(f->err)) != 0)
			goto out;
		printf("  wrote %s: %zu keys (%zu added, %zu removed)\n", f->path, nkeys, f->added,
		    f->removed);
		f->outcome = "written";
	}
	rc = 0;
out:
	free(out);
	return rc;
}

/* One issuer: resolve, read current, plan, commit, and the outcome
 * recorded for `tokenscope keys` and the fetch interval (K14). Returns 0
 * done, 1 failed or held back a key. */
static int
fetch_one(const ts_conf *c, const ts_issuer_conf *is, const char *cafile, int pin, int dry)
{
	time_t started = time(NULL);
	fetch f;
	int rc = 1;

	memset(&f, 0, sizeof(f));
	f.c = c;
	f.is = is;
	f.path = is->keys[0].path;
	f.pin = pin;
	f.dry = dry;
	printf("[issuer %s] %s\n", is->name, is->issuer);
	if (fetch_resolve(&f, cafile) == 0 && fetch_read_current(&f) == 0 && fetch_plan(&f) == 0 &&
	    fetch_commit(&f) == 0)
		rc = f.held > 0;
	if (f.err[0] != '\0')
		fprintf(stderr, "tokenscope fetch-keys: [issuer %s]: %s\n", is->name, f.err);
	if (f.err[0] != '\0' || f.outcome == NULL)
		f.outcome = "failed";
	else if (f.held > 0)
		f.outcome = "held-back";
	if (!dry)
		(void)cli_fetch_state_record(c, is->name, started, f.outcome);
	keyset_free(&f.got);
	keyset_free(&f.cur);
	json_decref(f.disc);
	json_decref(f.set);
	json_decref(f.cur_set);
	json_decref(f.new_set);
	free(f.cur_txt);
	free(f.appr_txt);
	return rc;
}

/* K14: the interval since the issuer's last fetch, waited out: a request
 * is served as soon as the interval allows, never dropped. A record that
 * cannot be read safely bounds nothing: then no fetch (-1). */
static int
wait_interval(const ts_conf *c, const ts_issuer_conf *is)
{
	char *path = cli_fetch_state_path(c), *state = NULL, res[32];
	char err[TS_ERR_MSG_MAX + 64] = "out of memory";
	long long last = 0, wait;
	size_t len = 0;
	int st = path == NULL ? -1 : cli_read_safe(path, &state, &len, err, sizeof(err));

	free(path);
	if (st < 0) {
		fprintf(
		    stderr, "tokenscope fetch-keys: [issuer %s]: fetch_state: %s\n", is->name, err);
		return -1;
	}
	if (state != NULL && cli_fetch_state_get(state, is->name, &last, res, sizeof(res)) &&
	    (wait = last + c->fetch_interval - (long long)time(NULL)) > 0) {
		if (wait > c->fetch_interval) /* a clock set back: one interval */
			wait = c->fetch_interval;
		printf("[issuer %s] fetched less than %ld s ago: waiting %lld s\n", is->name,
		    c->fetch_interval, wait);
		fflush(stdout);
		sleep((unsigned)wait);
	}
	free(state);
	return 0;
}

/* Which issuers to fetch: those named (all when none is), or with
 * --requested those the spool asks for. Returns -1 with a usage error
 * printed, else how many. */
static int
select_issuers(const ts_conf *c, int argc, char **argv, int requested, unsigned char *sel)
{
	size_t i;
	int k, n = 0;

	if (requested) {
		if (optind < argc || c->fetch_spool == NULL) {
			(void)cli_usage_error("fetch-keys", usage_fetch, "%s",
			    optind < argc ? "--requested takes no ISSUER"
			                  : "--requested: no fetch_spool in [global]");
			return -1;
		}
		return cli_spool_take(c, sel) < 0 ? -2 : 0;
	}
	for (k = optind; k < argc; k++) {
		for (i = 0; i < c->nissuers && strcmp(c->issuers[i].name, argv[k]) != 0; i++)
			;
		if (i == c->nissuers ||
		    (c->issuers[i].discovery == NULL && c->issuers[i].jwks_uri == NULL)) {
			(void)cli_usage_error("fetch-keys", usage_fetch,
			    "no [issuer %s] with discovery= or jwks_uri=", argv[k]);
			return -1;
		}
		sel[i] = 1;
	}
	for (i = 0; i < c->nissuers; i++) {
		if (c->issuers[i].discovery == NULL && c->issuers[i].jwks_uri == NULL)
			sel[i] = 0;
		else if (optind >= argc)
			sel[i] = 1;
		n += sel[i];
	}
	return n;
}

int
cmd_fetch_keys(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "ca-file", required_argument, NULL, 'a' },
		{ "pin", no_argument, NULL, 'p' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "requested", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conf = TS_DEFAULT_CONFIG, *cafile = NULL;
	int ch, pin = 0, dry = 0, requested = 0, rc = 0, any = 0;
	unsigned char *sel = NULL;
	ts_conf *c = NULL;
	ts_err e = { "" };
	size_t i;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "c:nh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': conf = optarg; break;
		case 'a': cafile = optarg; break;
		case 'p': pin = 1; break;
		case 'n': dry = 1; break;
		case 'r': requested = 1; break;
		case 'h': fputs(usage_fetch, stdout); return 0;
		default:
			return cli_usage_error("fetch-keys", usage_fetch,
			    "unknown or incomplete option \"%s\"", argv[optind - 1]);
		}
	}
	/* the configuration alone: on a first fetch the key files do not exist */
	if (ts_conf_load(conf, &c, NULL, &e) != TS_OK) {
		fprintf(stderr, "%s\n", e.msg);
		return EXIT_USAGE;
	}
	if ((sel = calloc(c->nissuers + 1, 1)) == NULL) {
		ts_conf_free(c);
		return EXIT_USAGE;
	}
	if ((any = select_issuers(c, argc, argv, requested, sel)) < 0) {
		rc = any == -1 ? EXIT_USAGE : EXIT_REJECT;
		goto out;
	}
	for (i = 0, any = 0; i < c->nissuers; i++) {
		if (!sel[i])
			continue;
		any = 1;
		if (requested && wait_interval(c, &c->issuers[i]) != 0)
			rc = 1;
		else
			rc |= fetch_one(c, &c->issuers[i], cafile, pin, dry);
	}
	if (!any && requested)
		printf("no fetch requested\n");
	else if (!any) {
		fprintf(stderr, "tokenscope fetch-keys: no [issuer] has discovery= or jwks_uri=\n");
		rc = EXIT_REJECT;
	}
out:
	free(sel);
	ts_conf_free(c);
	return rc;
}

/* `tokenscope keys --approve THUMBPRINT --issuer NAME`: adds the pair to
 * the approved list. */
/* A key file shared with other sections needs the approval there too
 * before fetch-keys --pin adds the key: say so where it is given. */
static void
share_hint(const ts_conf *c, const ts_issuer_conf *is)
{
	size_t i, k;

	for (k = 0; k < is->nkeys; k++)
		for (i = 0; i < c->nissuers; i++) {
			const ts_issuer_conf *o = &c->issuers[i];

			if (o != is && names_file(o, is->keys[k].path))
				printf(
				    "  note: %s is also [issuer %s]'s key file: fetch-keys --pin "
				    "adds "
				    "the key there only once it is approved for [issuer %s] too\n",
				    is->keys[k].path, o->name, o->name);
		}
}

int
cli_keys_approve(const char *conf, const char *tp, const char *issuer)
{
	char *path = NULL, *old = NULL, *buf = NULL, err[TS_ERR_MSG_MAX + 64] = "";
	size_t len = 0, tl = strlen(tp), il, i;
	ts_conf *c = NULL;
	ts_err e = { "" };
	int rc = EXIT_REJECT, lock = -1;

	for (i = 0; i < tl && ts_b64url_char((unsigned char)tp[i]); i++)
		;
	if (tl != TS_THUMBPRINT_LEN || i != tl) {
		fprintf(stderr,
		    "tokenscope keys: \"%s\" is not an RFC 7638 SHA-256 thumbprint (43 "
		    "base64url characters)\n",
		    tp);
		return EXIT_USAGE;
	}
	if (ts_conf_load(conf ? conf : TS_DEFAULT_CONFIG, &c, NULL, &e) != TS_OK) {
		fprintf(stderr, "%s\n", e.msg);
		return EXIT_USAGE;
	}
	for (i = 0; i < c->nissuers && strcmp(c->issuers[i].name, issuer) != 0; i++)
		;
	if (i == c->nissuers) {
		fprintf(stderr, "tokenscope keys: no [issuer %s] in the configuration\n", issuer);
		ts_conf_free(c);
		return EXIT_USAGE;
	}
	if ((path = cli_approved_path(c)) == NULL) {
		snprintf(err, sizeof(err), "out of memory");
		goto out;
	}
	/* two approvals at once must not lose one: read-modify-write under a
	 * lock on the directory */
	if ((lock = cli_lock_dir_of(path, err, sizeof(err))) < 0)
		goto out;
	if (cli_read_safe(path, &old, &len, err, sizeof(err)) < 0)
		goto out;
	if (old != NULL && cli_is_approved(old, issuer, tp)) {
		printf("%s: %s already approved for [issuer %s]\n", path, tp, issuer);
		rc = 0;
		goto out;
	}
	il = strlen(issuer);
	if ((buf = malloc(len + il + tl + 3)) == NULL) {
		snprintf(err, sizeof(err), "out of memory");
		goto out;
	}
	if (len > 0)
		memcpy(buf, old, len);
	if (len > 0 && buf[len - 1] != '\n')
		buf[len++] = '\n';
	sprintf(buf + len, "%s %s\n", issuer, tp);
	if (cli_write_atomic(path, buf, len + il + tl + 2, 0644, err, sizeof(err)) != 0)
		goto out;
	printf("%s: approved %s for [issuer %s]\n", path, tp, issuer);
	share_hint(c, &c->issuers[i]);
	rc = 0;
out:
	if (rc != 0 && err[0] != '\0')
		fprintf(stderr, "tokenscope keys: %s\n", err);
	if (lock >= 0)
		close(lock); /* releases the lock */
	ts_conf_free(c);
	free(path);
	free(old);
	free(buf);
	return rc;
}
