/* keyring.c: the scoped keyring (see keyring.h). */
#include "config.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "b64url.h"
#include "jwk.h"
#include "keyfile.h"
#include "keyring.h"

#define KEYFILE_MAX_SIZE (16 * 1024 * 1024)
#define REVOKED_MAX_SIZE (1024 * 1024)

/* K15: a key file as parsed for one set of parse parameters (the key
 * line's path, kid, alg and window, the section's algorithms, whether it
 * opens as a secret), shared by every key line that names it alike, and
 * by the next state's keyring while the file does not change: its keys,
 * kids and key issuers are the bindings' */
typedef struct kr_file {
	atomic_long refs; /* keyrings holding it */
	ts_keyspec spec; /* the parse parameters; path and kid its own */
	unsigned allowed, flags;
	ts_loaded_key *lk;
	size_t nlk;
	ts_file_id id; /* of the bytes parsed */
} kr_file;

struct ts_keyring {
	kr_file **files;
	size_t nfiles;
	size_t *fslot; /* open addressing over files by path: index + 1 */
	size_t fmask;
	ts_binding *b;
	size_t n, cap;
	/* open addressing over bindings with a kid: index + 1 (32 bits: half
	 * the memory of a size_t at 20,000 bindings; build_index refuses more
	 * than fit) */
	uint32_t *slots;
	size_t nslots;
	size_t *iss_start, *iss_count; /* per issuer: its run of bindings */
	size_t niss;
	int borrowed; /* keys, kids and key issuers belong to another keyring */
	int revocations_unknown; /* K11: the revoked-key list is unreadable */
};

static uint64_t
hash_of(size_t issuer_idx, const char *kid, size_t len)
{
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)issuer_idx;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)kid[i];
		h *= 1099511628211ULL;
	}
	h ^= h >> 29;
	return h;
}

const ts_binding *
ts_keyring_find(const ts_keyring *kr, size_t issuer_idx, const char *kid, size_t kid_len)
{
	size_t i, mask;

	if (kr->nslots == 0)
		return NULL;
	mask = kr->nslots - 1;
	/* linear probing; every clang-format release lays out a one-line for */
	i = (size_t)hash_of(issuer_idx, kid, kid_len) & mask;
	for (; kr->slots[i] != 0; i = (i + 1) & mask) {
		const ts_binding *b = &kr->b[kr->slots[i] - 1];

		/* kids are unique per issuer, so a removed key has no
		 * stand-in */
		if (b->issuer_idx == issuer_idx && b->kid_len == kid_len &&
		    memcmp(b->kid, kid, kid_len) == 0)
			return b->removed ? NULL : b;
	}
	return NULL;
}

ts_key_status
ts_binding_status(const ts_binding *b, time_t now)
{
	if (b->removed)
		return TS_KEY_REMOVED;
	if (b->revoked)
		return TS_KEY_REVOKED;
	if (now < b->not_before)
		return TS_KEY_NOT_YET_VALID;
	if (now >= b->not_after)
		return TS_KEY_EXPIRED;
	if (b->not_after != TS_TIME_NO_END && b->not_after - now < TS_EXPIRING_SOON)
		return TS_KEY_EXPIRING;
	return TS_KEY_ACTIVE;
}

/* K2: a key that could verify a token of its section now. */
static int
usable(const ts_binding *b, time_t now)
{
	ts_key_status st = ts_binding_status(b, now);

	return !b->other_issuer && (st == TS_KEY_ACTIVE || st == TS_KEY_EXPIRING);
}

const ts_binding *
ts_keyring_only_key(const ts_keyring *kr, size_t issuer_idx, time_t now, size_t *count)
{
	const ts_binding *found = NULL;
	size_t i, end, n = 0;

	*count = 0;
	if (issuer_idx >= kr->niss)
		return NULL;
	end = kr->iss_start[issuer_idx] + kr->iss_count[issuer_idx];
	for (i = kr->iss_start[issuer_idx]; i < end; i++) {
		if (!usable(&kr->b[i], now))
			continue;
		found = &kr->b[i];
		if (++n > 1)
			break; /* enough to know it is ambiguous */
	}
	*count = n;
	return n == 1 ? found : NULL;
}

const ts_binding *
ts_keyring_issuer_keys(const ts_keyring *kr, size_t issuer_idx, size_t *n)
{
	*n = 0;
	if (issuer_idx >= kr->niss || kr->iss_count[issuer_idx] == 0)
		return NULL;
	*n = kr->iss_count[issuer_idx];
	return &kr->b[kr->iss_start[issuer_idx]];
}

size_t
ts_keyring_count(const ts_keyring *kr)
{
	return kr->n;
}

const ts_binding *
ts_keyring_get(const ts_keyring *kr, size_t i)
{
	return i < kr->n ? &kr->b[i] : NULL;
}

void
ts_filelist_free(ts_filelist *f)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		free(f->paths[i]);
	free(f->paths);
	free(f->ids);
	memset(f, 0, sizeof(*f));
}

int
ts_filelist_add(ts_filelist *f, const char *path, const ts_file_id *id)
{
	char **np;
	ts_file_id *ni;

	if ((np = realloc(f->paths, (f->n + 1) * sizeof(*np))) == NULL)
		return -1;
	f->paths = np;
	if ((ni = realloc(f->ids, (f->n + 1) * sizeof(*ni))) == NULL)
		return -1;
	f->ids = ni;
	if ((f->paths[f->n] = strdup(path)) == NULL)
		return -1;
	f->ids[f->n++] = *id;
	return 0;
}

static void
file_unref(kr_file *f)
{
	if (f == NULL || atomic_fetch_sub(&f->refs, 1) != 1)
		return;
	ts_loaded_keys_free(f->lk, f->nlk);
	free(f->spec.path);
	free(f->spec.kid);
	free(f);
}

void
ts_keyring_free(ts_keyring *kr)
{
	size_t i;

	if (kr == NULL)
		return;
	for (i = 0; i < kr->nfiles && !kr->borrowed; i++)
		file_unref(kr->files[i]);
	free(kr->files);
	free(kr->fslot);
	free(kr->b);
	free(kr->slots);
	free(kr->iss_start);
	free(kr->iss_count);
	free(kr);
}

static ts_reason
add_binding(ts_keyring *kr, size_t iss, const ts_issuer_conf *is, const ts_loaded_key *lk,
    const ts_keyspec *ks)
{
	ts_binding *b;

	if (kr->n == kr->cap) {
		size_t ncap = kr->cap ? kr->cap * 2 : 16;
		ts_binding *nb = realloc(kr->b, ncap * sizeof(*nb));

		if (nb == NULL)
			return TS_R_INTERNAL;
		kr->b = nb;
		kr->cap = ncap;
	}
	b = &kr->b[kr->n++];
	memset(b, 0, sizeof(*b));
	b->issuer_idx = iss;
	b->key = lk->key; /* the keyring's shared file owns them */
	b->kid = lk->kid;
	b->kid_len = lk->kid ? strlen(lk->kid) : 0;
	b->key_issuer = lk->issuer;
	b->other_issuer = b->key_issuer != NULL && !ts_key_issuer_fits(b->key_issuer, is);
	b->not_before = lk->has_not_before ? lk->not_before : (time_t)0;
	b->not_after = lk->has_not_after ? lk->not_after : TS_TIME_NO_END;
	b->source = ks->path;
	b->line = ks->line;
	return TS_OK;
}

static ts_reason
build_index(ts_keyring *kr, const ts_conf *c, ts_err *e)
{
	size_t i, j, mask;

	kr->nslots = 16;
	while (kr->nslots < kr->n * 2)
		kr->nslots *= 2;
	if (kr->n >= UINT32_MAX)
		return ts_fail(e, TS_R_CONFIG_ERROR, "%s: too many keys", c->path);
	if ((kr->slots = calloc(kr->nslots, sizeof(*kr->slots))) == NULL)
		return TS_R_INTERNAL;
	mask = kr->nslots - 1;
	for (i = 0; i < kr->n; i++) {
		ts_binding *b = &kr->b[i];

		if (b->kid == NULL)
			continue;
		j = (size_t)hash_of(b->issuer_idx, b->kid, b->kid_len) & mask;
		for (; kr->slots[j] != 0; j = (j + 1) & mask) {
			const ts_binding *o = &kr->b[kr->slots[j] - 1];

			if (o->issuer_idx == b->issuer_idx && o->kid_len == b->kid_len &&
			    memcmp(o->kid, b->kid, b->kid_len) == 0)
				return ts_fail(e, TS_R_CONFIG_ERROR,
				    "%s:%d: %s: duplicate kid for one issuer (also in %s)", c->path,
				    b->line, b->source, o->source);
		}
		kr->slots[j] = (uint32_t)(i + 1);
	}
	return TS_OK;
}

/* A line of the revoked-key list that can name a key: 43 base64url
 * characters (spelled out: isalnum depends on the locale). */
static int
thumbprint_shaped(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
		        (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
			return 0;
	return i == TS_THUMBPRINT_LEN;
}

/* K6: one RFC 7638 thumbprint a line; '#' comments and blank lines. K11:
 * every well-formed line is applied even when another is broken; the first
 * broken line is the error returned. *unreadable is set when the file
 * could not be read at all; *nrevoked counts bindings newly revoked. */
static ts_reason
apply_revoked(ts_keyring *kr, const char *path, ts_filelist *files, size_t *nrevoked,
    int *unreadable, ts_err *e)
{
	char *buf = NULL, *line, *next;
	size_t len, i;
	int lineno = 0;
	ts_file_id id;
	ts_reason r;

	*unreadable = 0;
	r = ts_read_file(path, REVOKED_MAX_SIZE, 0, &buf, &len, &id, e);
	if (r != TS_OK) {
		*unreadable = 1;
		ts_file_id_of(path, &id);
		if (ts_filelist_add(files, path, &id) != 0)
			r = TS_R_INTERNAL;
		return r;
	}
	if (ts_filelist_add(files, path, &id) != 0) {
		free(buf);
		return TS_R_INTERNAL;
	}
	for (line = buf; line != NULL; line = next) {
		char *s = line, *end;

		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if ((end = strchr(s, '#')) != NULL)
			*end = '\0';
		while (*s == ' ' || *s == '\t')
			s++;
		end = s + strlen(s);
		while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
			*--end = '\0';
		if (*s == '\0')
			continue;
		if (!thumbprint_shaped(s)) {
			if (r == TS_OK)
				r = ts_fail(e, TS_R_CONFIG_ERROR,
				    "%s:%d: not an RFC 7638 SHA-256 thumbprint (43 base64url "
				    "characters)",
				    path, lineno);
			continue;
		}
		for (i = 0; i < kr->n; i++) {
			if (!kr->b[i].revoked && strcmp(ts_key_thumbprint(kr->b[i].key), s) == 0) {
				kr->b[i].revoked = 1;
				(*nrevoked)++;
			}
		}
	}
	free(buf);
	return r;
}

/* K15: off for `tokenscope check-config` and `keys`, which check every
 * key fully at load so that an administrator sees every bad key at once */
static atomic_int lazy_keys = 1;

void
ts_keyring_check_at_load(int on)
{
	atomic_store(&lazy_keys, !on);
}

static int
same_str(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Whether a key line would parse the file exactly as f was parsed. */
static int
same_parse(const kr_file *f, const ts_keyspec *ks, unsigned allowed, unsigned flags)
{
	const ts_keyspec *o = &f->spec;

	return f->allowed == allowed && f->flags == flags && strcmp(o->path, ks->path) == 0 &&
	    same_str(o->kid, ks->kid) && o->alg == ks->alg &&
	    o->has_not_before == ks->has_not_before && o->has_not_after == ks->has_not_after &&
	    (!ks->has_not_before || o->not_before == ks->not_before) &&
	    (!ks->has_not_after || o->not_after == ks->not_after);
}

/* The file table's hash: on the path only (the other parameters rarely
 * differ between the lines naming one file). */
static size_t
path_slot(const char *path, size_t mask)
{
	return (size_t)hash_of(0, path, strlen(path)) & mask;
}

/* The file of kr parsed like key line ks would parse it, or NULL; *slot
 * gets the free slot where it would go. */
static kr_file *
find_file(
    const ts_keyring *kr, const ts_keyspec *ks, unsigned allowed, unsigned flags, size_t *slot)
{
	size_t j;

	if (kr->fslot == NULL)
		return NULL;
	j = path_slot(ks->path, kr->fmask);
	for (; kr->fslot[j] != 0; j = (j + 1) & kr->fmask)
		if (same_parse(kr->files[kr->fslot[j] - 1], ks, allowed, flags))
			return kr->files[kr->fslot[j] - 1];
	if (slot != NULL)
		*slot = j;
	return NULL;
}

/* K15: the previous state's parse of a file that has not changed since
 * (the identity change checks compare), with a reference taken; NULL when
 * it changed or was not parsed alike. As when nothing changed at all, an
 * unchanged file is not opened again. */
static kr_file *
reuse_file(const ts_keyring *prev, const ts_keyspec *ks, unsigned allowed, unsigned flags)
{
	kr_file *f = prev != NULL ? find_file(prev, ks, allowed, flags, NULL) : NULL;
	ts_file_id now;

	if (f == NULL)
		return NULL;
	ts_file_id_of(ks->path, &now);
	if (!now.exists || !ts_file_id_equal(&now, &f->id))
		return NULL;
	atomic_fetch_add(&f->refs, 1);
	return f;
}

/* A new file record for key line ks, read and parsed. */
static ts_reason
parse_file(const ts_conf *c, const ts_issuer_conf *is, const ts_keyspec *ks, unsigned flags,
    ts_filelist *files, kr_file **out, ts_err *e)
{
	unsigned hmac = (1u << TS_ALG_HS256) | (1u << TS_ALG_HS384) | (1u << TS_ALG_HS512);
	kr_file *f = calloc(1, sizeof(*f));
	size_t len = 0;
	char *buf = NULL;
	ts_err ke = { "" };
	ts_reason r;
	int parsed = 0;

	*out = NULL;
	if (f == NULL)
		return TS_R_INTERNAL;
	atomic_init(&f->refs, 1);
	f->spec = *ks;
	f->spec.path = strdup(ks->path);
	f->spec.kid = ks->kid != NULL ? strdup(ks->kid) : NULL;
	f->allowed = is->algorithms;
	f->flags = flags;
	if (f->spec.path == NULL || (ks->kid != NULL && f->spec.kid == NULL)) {
		file_unref(f);
		return TS_R_INTERNAL;
	}
	/* K8: a file of an issuer that allows only HMAC can hold only
	 * secrets: refused at open unless 0600, before a byte of it is
	 * parsed */
	r = ts_read_file(ks->path, KEYFILE_MAX_SIZE,
	    (is->algorithms & ~hmac) == 0 ? TS_FILE_SECRET : 0, &buf, &len, &f->id, &ke);
	if (r != TS_OK)
		ts_file_id_of(ks->path, &f->id);
	if (ts_filelist_add(files, ks->path, &f->id) != 0) {
		ts_freezero(buf, len);
		file_unref(f);
		return TS_R_INTERNAL;
	}
	if (r == TS_OK) {
		parsed = 1;
		r = ts_keyfile_parse(buf, len, ks, is->algorithms, flags, &f->lk, &f->nlk, &ke);
		ts_freezero(buf, len);
	}
	if (r != TS_OK) {
		file_unref(f);
		/* a read error starts with the path already (perhaps shortened),
		 * a parse error has none */
		return ts_fail(e, r, "%s:%d: [issuer %s] %s%s%s", c->path, ks->line, is->name,
		    parsed ? ks->path : "", parsed ? ": " : "", ke.msg);
	}
	*out = f;
	return TS_OK;
}

/* The parsed file for key line ks of section is: this keyring's, when an
 * earlier line named it alike; else prev's, when unchanged; else read and
 * parsed now. A read or parse error is returned as "conf:line: [issuer]
 * path: message". */
static ts_reason
file_for(ts_keyring *kr, const ts_keyring *prev, const ts_conf *c, const ts_issuer_conf *is,
    const ts_keyspec *ks, ts_filelist *files, const kr_file **out, ts_err *e)
{
	unsigned hmac = (1u << TS_ALG_HS256) | (1u << TS_ALG_HS384) | (1u << TS_ALG_HS512);
	unsigned flags = ((is->algorithms & hmac) ? TS_JWK_ALLOW_SECRET : 0) |
	    (atomic_load(&lazy_keys) ? TS_JWK_LAZY : 0);
	size_t slot = 0;
	kr_file *f;
	ts_reason r;

	if ((*out = find_file(kr, ks, is->algorithms, flags, &slot)) != NULL)
		return TS_OK;
	if ((f = reuse_file(prev, ks, is->algorithms, flags)) != NULL) {
		if (ts_filelist_add(files, ks->path, &f->id) != 0) {
			file_unref(f);
			return TS_R_INTERNAL;
		}
	} else if ((r = parse_file(c, is, ks, flags, files, &f, e)) != TS_OK) {
		return r;
	}
	kr->files[kr->nfiles++] = f;
	kr->fslot[slot] = kr->nfiles;
	*out = f;
	return TS_OK;
}

/* Binds the keys of one key line to section i (K1, K7, K8). */
static ts_reason
bind_line(ts_keyring *kr, const ts_keyring *prev, const ts_conf *c, size_t i, const ts_keyspec *ks,
    ts_filelist *files, int *sym, int *asym, ts_err *e)
{
	const ts_issuer_conf *is = &c->issuers[i];
	const kr_file *f = NULL;
	ts_reason r;
	size_t m;

	if ((r = file_for(kr, prev, c, is, ks, files, &f, e)) != TS_OK)
		return r;
	/* one file holds secrets or public keys, never both (K7, keyfile.c) */
	if (f->nlk > 0) {
		int is_sym = ts_key_is_secret(f->lk[0].key);

		*sym |= is_sym;
		*asym |= !is_sym;
		/* K8: a shared secret lives in a 0600 file (checked here for an
		 * issuer that allows public keys too; otherwise the file was
		 * refused at open) */
		if (is_sym && (f->id.mode & 077))
			return ts_fail(e, TS_R_CONFIG_ERROR,
			    "%s:%d: %s holds an HMAC secret, so its mode must be 0600", c->path,
			    ks->line, ks->path);
	}
	for (m = 0; m < f->nlk; m++)
		if ((r = add_binding(kr, i, is, &f->lk[m], ks)) != TS_OK)
			return r;
	/* K7: one issuer never mixes shared secrets with public keys */
	if (*sym && *asym)
		return ts_fail(e, TS_R_CONFIG_ERROR,
		    "%s:%d: [issuer %s] mixes HMAC secrets with public keys", c->path, ks->line,
		    is->name);
	return TS_OK;
}

ts_reason
ts_keyring_load(
    const ts_conf *c, const ts_keyring *prev, ts_keyring **out, ts_filelist *files, ts_err *e)
{
	ts_keyring *kr = calloc(1, sizeof(*kr));
	ts_reason r = TS_R_INTERNAL;
	size_t i, k, nlines = 0, nslots = 16, nrev = 0;
	int unreadable = 0;

	*out = NULL;
	if (kr == NULL)
		return ts_fail(e, r, "out of memory");
	for (i = 0; i < c->nissuers; i++)
		nlines += c->issuers[i].nkeys;
	while (nslots < nlines * 2)
		nslots *= 2;
	kr->fmask = nslots - 1;
	kr->niss = c->nissuers;
	if ((kr->iss_start = calloc(c->nissuers + 1, sizeof(size_t))) == NULL ||
	    (kr->iss_count = calloc(c->nissuers + 1, sizeof(size_t))) == NULL ||
	    (kr->files = calloc(nlines + 1, sizeof(*kr->files))) == NULL ||
	    (kr->fslot = calloc(nslots, sizeof(size_t))) == NULL)
		goto out;
	for (i = 0; i < c->nissuers; i++) {
		int sym = 0, asym = 0;

		kr->iss_start[i] = kr->n;
		for (k = 0; k < c->issuers[i].nkeys; k++)
			if ((r = bind_line(kr, prev, c, i, &c->issuers[i].keys[k], files, &sym,
			         &asym, e)) != TS_OK)
				goto out;
		kr->iss_count[i] = kr->n - kr->iss_start[i];
	}
	if ((r = build_index(kr, c, e)) != TS_OK)
		goto out;
	if (c->revoked_keys != NULL &&
	    (r = apply_revoked(kr, c->revoked_keys, files, &nrev, &unreadable, e)) != TS_OK)
		goto out;
	*out = kr;
	kr = NULL; /* transferred */
	r = TS_OK;
out:
	if (r == TS_R_INTERNAL)
		ts_fail(e, r, "out of memory while loading keys");
	ts_keyring_free(kr);
	return r;
}

int
ts_keyring_revocations_unknown(const ts_keyring *kr)
{
	return kr->revocations_unknown;
}

static int
names_hold(const ts_conf_names *n, const char *issuer, const char *path)
{
	size_t i;

	for (i = 0; i < n->n; i++)
		if (strcmp(n->issuer[i], issuer) == 0 && strcmp(n->path[i], path) == 0)
			return 1;
	return 0;
}

/* K11: the bindings made from key line ks of issuer idx are removed when
 * the file is gone, or, where it still parses, no longer holds their key. A
 * file that exists but no longer parses keeps them: that is a broken
 * addition, and the last good state stands for what it adds. */
static ts_reason
take_away_keys(ts_keyring *kr, const ts_conf *c, size_t idx, const ts_keyspec *ks,
    ts_filelist *files, size_t *removed)
{
	const ts_issuer_conf *is = &c->issuers[idx];
	unsigned hmac = (1u << TS_ALG_HS256) | (1u << TS_ALG_HS384) | (1u << TS_ALG_HS512);
	ts_loaded_key *lk = NULL;
	size_t nlk = 0, len = 0, i, m, live = 0;
	char *buf = NULL;
	ts_file_id id;
	ts_err ke = { "" };
	int parsed = 0;

	for (i = kr->iss_start[idx]; i < kr->iss_start[idx] + kr->iss_count[idx]; i++)
		live += kr->b[i].line == ks->line && !kr->b[i].removed;
	if (live == 0)
		return TS_OK;
	if (ts_read_file(ks->path, KEYFILE_MAX_SIZE, 0, &buf, &len, &id, &ke) == TS_OK) {
		/* thumbprints are all this needs: the checks can wait (K15) */
		parsed = ts_keyfile_parse(buf, len, ks, is->algorithms,
		             ((is->algorithms & hmac) ? TS_JWK_ALLOW_SECRET : 0) | TS_JWK_LAZY, &lk,
		             &nlk, &ke) == TS_OK;
		ts_freezero(buf, len);
	} else {
		ts_file_id_of(ks->path, &id);
	}
	if (ts_filelist_add(files, ks->path, &id) != 0) {
		ts_loaded_keys_free(lk, nlk);
		return TS_R_INTERNAL;
	}
	for (i = kr->iss_start[idx]; i < kr->iss_start[idx] + kr->iss_count[idx]; i++) {
		ts_binding *b = &kr->b[i];
		int held = !parsed && id.exists;

		if (b->line != ks->line || b->removed)
			continue;
		for (m = 0; m < nlk && !held; m++)
			held = strcmp(ts_key_thumbprint(lk[m].key), ts_key_thumbprint(b->key)) == 0;
		if (!held) {
			b->removed = 1;
			(*removed)++;
		}
	}
	ts_loaded_keys_free(lk, nlk);
	return TS_OK;
}

ts_reason
ts_keyring_take_away(const ts_keyring *good, const ts_conf *c, const ts_conf_names *names,
    ts_keyring **out, ts_filelist *files, size_t *removed, size_t *revoked, ts_err *revoke_err)
{
	ts_keyring *kr = calloc(1, sizeof(*kr));
	const char *rpath;
	ts_reason r = TS_R_INTERNAL;
	size_t i, k;
	int unreadable = 0;

	*out = NULL;
	*removed = *revoked = 0;
	revoke_err->msg[0] = '\0';
	if (kr == NULL)
		goto out;
	kr->borrowed = 1;
	kr->n = kr->cap = good->n;
	kr->nslots = good->nslots;
	kr->niss = good->niss;
	if ((kr->b = calloc(good->n + 1, sizeof(*kr->b))) == NULL ||
	    (kr->slots = calloc(good->nslots + 1, sizeof(*kr->slots))) == NULL ||
	    (kr->iss_start = calloc(good->niss + 1, sizeof(size_t))) == NULL ||
	    (kr->iss_count = calloc(good->niss + 1, sizeof(size_t))) == NULL)
		goto out;
	memcpy(kr->b, good->b, good->n * sizeof(*kr->b));
	memcpy(kr->slots, good->slots, good->nslots * sizeof(*kr->slots));
	memcpy(kr->iss_start, good->iss_start, good->niss * sizeof(size_t));
	memcpy(kr->iss_count, good->iss_count, good->niss * sizeof(size_t));

	/* a key line no longer there (a config that names nothing takes
	 * every key away) */
	for (i = 0; i < kr->n; i++) {
		ts_binding *b = &kr->b[i];

		if (!b->removed &&
		    (names == NULL ||
		        !names_hold(names, c->issuers[b->issuer_idx].name, b->source))) {
			b->removed = 1;
			(*removed)++;
		}
	}
	/* a key file gone, or no longer holding the key */
	for (i = 0; i < c->nissuers; i++)
		for (k = 0; k < c->issuers[i].nkeys; k++)
			if ((r = take_away_keys(
			         kr, c, i, &c->issuers[i].keys[k], files, removed)) != TS_OK)
				goto out;
	/* revocations: the list the file names now, or, where it names none
	 * (dropping a list adds trust), the last good one */
	rpath =
	    names != NULL && names->revoked_keys != NULL ? names->revoked_keys : c->revoked_keys;
	if (rpath != NULL) {
		r = apply_revoked(kr, rpath, files, revoked, &unreadable, revoke_err);
		if (r == TS_R_INTERNAL)
			goto out;
		kr->revocations_unknown = unreadable;
	}
	*out = kr;
	kr = NULL; /* transferred */
	r = TS_OK;
out:
	if (r == TS_R_INTERNAL)
		ts_fail(revoke_err, r, "out of memory while applying removals");
	ts_keyring_free(kr);
	return r;
}

/* Entra ID's key issuers stand "{tenantid}" for the token's tid. */
static const char tenantid_ph[] = "{tenantid}";

int
ts_binding_issuer_ok(
    const ts_binding *b, const char *iss, size_t iss_len, const char *tid, size_t tid_len)
{
	return b->key_issuer == NULL ||
	    ts_key_issuer_match(b->key_issuer, iss, iss_len, tid, tid_len);
}

int
ts_key_issuer_match(
    const char *key_issuer, const char *iss, size_t iss_len, const char *tid, size_t tid_len)
{
	const char *t = key_issuer;
	size_t o = 0;

	while (*t != '\0') {
		/* '{' first: 20,000 bindings are matched at load */
		if (*t == '{' && strncmp(t, tenantid_ph, sizeof(tenantid_ph) - 1) == 0) {
			/* a tid with '/' could stretch over the template's own
			 * path separators */
			if (tid == NULL || tid_len == 0 || memchr(tid, '/', tid_len) != NULL ||
			    iss_len - o < tid_len || memcmp(iss + o, tid, tid_len) != 0)
				return 0;
			o += tid_len;
			t += sizeof(tenantid_ph) - 1;
			continue;
		}
		if (o >= iss_len || iss[o] != *t)
			return 0;
		o++;
		t++;
	}
	return o == iss_len;
}

int
ts_key_issuer_fits(const char *ki, const ts_issuer_conf *is)
{
	const char *at = strstr(ki, tenantid_ph);
	size_t pre, suf;

	if (at == NULL || is->tenant != NULL)
		return ts_key_issuer_match(ki, is->issuer, is->issuer_len, is->tenant,
		    is->tenant ? strlen(is->tenant) : 0);
	pre = (size_t)(at - ki);
	suf = strlen(at + sizeof(tenantid_ph) - 1);
	if (is->issuer_len <= pre + suf)
		return 0;
	return ts_key_issuer_match(
	    ki, is->issuer, is->issuer_len, is->issuer + pre, is->issuer_len - pre - suf);
}
