/* keyring.c: the scoped keyring (see keyring.h). */
#include "config.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "b64url.h"
#include "jwk.h"
#include "kept.h"
#include "keyfile.h"
#include "keyring.h"
#include "strset.h"

#define KEYFILE_MAX_SIZE (16 * 1024 * 1024)
#define REVOKED_MAX_SIZE (1024 * 1024)

/* K15: where a key file's parse stands. */
enum { KF_UNPARSED = 0, KF_PARSED, KF_FAILED };

/* K15: a key file as parsed for one set of parse parameters (the key
 * line's path, kid, alg and window, the section's algorithms, whether it
 * opens as a secret), shared by every key line that names it alike, and
 * by the next state's keyring while the file does not change: its keys,
 * kids and key issuers are the bindings'. A process's first load keeps
 * the bytes it read and parses them when a section naming the file is
 * first used; lk and nlk are read only after an acquire load of state
 * that says KF_PARSED (file_ready). */
typedef struct kr_file {
	atomic_long refs; /* keyrings holding it */
	ts_keyspec spec; /* the parse parameters; path and kid its own */
	unsigned allowed, flags;
	ts_loaded_key *lk;
	size_t nlk;
	ts_file_id id; /* of the bytes parsed */
	atomic_int state; /* KF_* */
	char *buf; /* KF_UNPARSED: the bytes read at load, in chunk */
	size_t len;
	ts_kept_chunk *chunk;
	char *err; /* KF_FAILED: the parser's message (no location), or NULL */
	int transient; /* KF_FAILED: the process's failure, not the file's */
	atomic_int reported; /* KF_FAILED: logged in this process */
	atomic_int warn_pending; /* parsed at first use: K5 not yet warned */
} kr_file;

/* K15: one deferred parse at a time in the process: a file record is
 * shared by the keyrings of consecutive states, so no keyring's lock
 * covers it */
static pthread_mutex_t parse_lock = PTHREAD_MUTEX_INITIALIZER;

/* One key line of a section and the file it names. */
typedef struct kr_line {
	const kr_file *f;
	const ts_keyspec *ks; /* the configuration's */
} kr_line;

/* K15: a section's bindings, made at its first lookup in this process:
 * 2,000 tenant sections naming one file cost 2,000 small records until a
 * token of one of them arrives. Immutable once published. */
typedef struct kr_keys {
	ts_binding *b;
	size_t n;
	/* the first key line whose file failed its deferred parse, or NULL
	 * (a failed reload's copy keeps the good keyring's, which outlives
	 * it) */
	const struct kr_line *failed;
	/* open addressing over the bindings with a kid: index + 1 */
	uint32_t *slots;
	size_t nslots;
} kr_keys;

typedef struct kr_section {
	_Atomic(kr_keys *) keys; /* NULL until first used */
	size_t first, nlines; /* its run of kr->lines */
} kr_section;

struct ts_keyring {
	kr_file **files;
	size_t nfiles;
	size_t *fslot; /* open addressing over files by path: index + 1 */
	size_t fmask;
	const ts_conf *conf; /* the sections the bindings are made for */
	kr_line *lines;
	size_t nlines;
	kr_section *sec;
	size_t niss;
	size_t *iss_start; /* per section: where its bindings start in the
	                    * whole (ts_keyring_get), niss + 1 of them; with
	                    * n, valid once `complete` says so */
	size_t n; /* bindings in all */
	atomic_int complete; /* every file parsed, iss_start and n counted */
	ts_kept_fill fill; /* while loading: where deferred files' bytes go */
	/* K6: the revoked-key list, sorted; a section's bindings are marked
	 * as they are made */
	char **revoked;
	size_t nrevoked;
	pthread_mutex_t lock; /* one section made at a time */
	int borrowed; /* keys, kids, key issuers and key lines belong to
	               * another keyring */
	int revocations_unknown; /* K11: the revoked-key list is unreadable */
};

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* K6: whether a thumbprint is on the revoked-key list. */
static int
revoked_has(const ts_keyring *kr, const char *thumbprint)
{
	return kr->nrevoked > 0 &&
	    bsearch(&thumbprint, kr->revoked, kr->nrevoked, sizeof(char *), cmp_str) != NULL;
}

/* K15: the bytes kept for f are dropped, wiped first: they should hold
 * public keys only, but a file holding a private member by mistake is
 * exactly what K7 refuses (M4). */
static void
drop_bytes(kr_file *f)
{
	if (f->buf != NULL)
		OPENSSL_cleanse(f->buf, f->len);
	ts_kept_release(f->chunk);
	f->chunk = NULL;
	f->buf = NULL;
}

/* K15: 1 when f's keys may be read, parsing the bytes kept at load if
 * this is their first use: once, whichever thread comes first. 0 when
 * the file failed its parse: f->err says why, and it stays failed for as
 * long as the file is unchanged, unless the failure was the process's
 * (memory, OpenSSL: f->transient), which the next reload tries again. */
static int
file_ready(const kr_file *cf)
{
	/* parsing bytes already read is not a visible change of the file */
	kr_file *f = (kr_file *)(uintptr_t)cf;
	int st = atomic_load_explicit(&f->state, memory_order_acquire);
	ts_err ke = { "" };
	ts_reason r;

	if (st != KF_UNPARSED)
		return st == KF_PARSED;
	pthread_mutex_lock(&parse_lock);
	st = atomic_load_explicit(&f->state, memory_order_relaxed);
	if (st == KF_UNPARSED) {
		r = ts_keyfile_parse(
		    f->buf, f->len, &f->spec, f->allowed, f->flags, &f->lk, &f->nlk, &ke);
		if (r == TS_OK) {
			st = KF_PARSED;
			atomic_store_explicit(&f->warn_pending, 1, memory_order_relaxed);
		} else {
			st = KF_FAILED;
			f->err = strdup(ke.msg);
			f->transient = r == TS_R_INTERNAL || f->err == NULL;
		}
		drop_bytes(f);
		atomic_store_explicit(&f->state, st, memory_order_release);
	}
	pthread_mutex_unlock(&parse_lock);
	return st == KF_PARSED;
}

/* K15: TS_OK when the file of key line kl, of section i, parses (parsing
 * it now if it waited); else the parse's error, located as a load's. */
static ts_reason
line_failed(const ts_keyring *kr, size_t i, const kr_line *kl, ts_err *e)
{
	if (file_ready(kl->f))
		return TS_OK;
	return ts_fail(e, kl->f->transient ? TS_R_INTERNAL : TS_R_CONFIG_ERROR,
	    "%s:%d: [issuer %s] %s: %s", kr->conf->path, kl->ks->line, kr->conf->issuers[i].name,
	    kl->ks->path, kl->f->err != NULL ? kl->f->err : "out of memory");
}

/* Whether f's keys may be read, parsing nothing. */
static int
file_parsed(const kr_file *f)
{
	return atomic_load_explicit(&f->state, memory_order_acquire) == KF_PARSED;
}

/* The binding of key lk, named by line kl of section i. */
static void
fill_binding(const ts_keyring *kr, size_t i, const kr_line *kl, const ts_loaded_key *lk,
    ts_binding *b, const char **last_ki, int *last_other)
{
	memset(b, 0, sizeof(*b));
	b->issuer_idx = i;
	b->key = lk->key; /* the keyring's shared file owns them */
	b->kid = lk->kid;
	b->kid_len = lk->kid ? strlen(lk->kid) : 0;
	b->key_issuer = lk->issuer;
	if (lk->issuer != NULL) {
		/* the keys of one file mostly name one issuer */
		if (*last_ki == NULL || strcmp(*last_ki, lk->issuer) != 0) {
			*last_other = !ts_key_issuer_fits(lk->issuer, &kr->conf->issuers[i]);
			*last_ki = lk->issuer;
		}
		b->other_issuer = *last_other;
	}
	b->not_before = lk->has_not_before ? lk->not_before : (time_t)0;
	b->not_after = lk->has_not_after ? lk->not_after : TS_TIME_NO_END;
	b->source = kl->ks->path;
	b->line = kl->ks->line;
	b->revoked = revoked_has(kr, ts_key_thumbprint(lk->key));
}

static void
keys_free(kr_keys *k)
{
	if (k == NULL)
		return;
	free(k->b);
	free(k->slots);
	free(k);
}

/* Section i's bindings and their kid index, its files parsed first where
 * they wait for their first use (a file that fails its parse adds no
 * binding: ts_keyring_section_failed). A kid twice in one section (two of
 * its key lines) is a config error. */
static ts_reason
make_keys(const ts_keyring *kr, size_t i, kr_keys **out, ts_err *e)
{
	const kr_section *sec = &kr->sec[i];
	size_t n = 0, l, m, j, mask;
	kr_keys *k = NULL;
	const kr_line *failed = NULL;
	const char *last_ki = NULL;
	int last_other = 0, ready;

	*out = NULL;
	for (l = sec->first; l < sec->first + sec->nlines; l++) {
		ready = file_ready(kr->lines[l].f);
		n += ready ? kr->lines[l].f->nlk : 0;
		if (!ready && failed == NULL)
			failed = &kr->lines[l];
	}
	if (n >= UINT32_MAX)
		return ts_fail(e, TS_R_CONFIG_ERROR, "%s: too many keys", kr->conf->path);
	if ((k = calloc(1, sizeof(*k))) == NULL || (k->b = calloc(n + 1, sizeof(*k->b))) == NULL)
		goto oom;
	k->failed = failed;
	for (l = sec->first; l < sec->first + sec->nlines; l++)
		for (m = 0; file_ready(kr->lines[l].f) == 1 && m < kr->lines[l].f->nlk; m++)
			fill_binding(kr, i, &kr->lines[l], &kr->lines[l].f->lk[m], &k->b[k->n++],
			    &last_ki, &last_other);
	k->nslots = 16;
	while (k->nslots < k->n * 2)
		k->nslots *= 2;
	if ((k->slots = calloc(k->nslots, sizeof(*k->slots))) == NULL)
		goto oom;
	mask = k->nslots - 1;
	for (m = 0; m < k->n; m++) {
		const ts_binding *b = &k->b[m];

		if (b->kid == NULL)
			continue;
		j = (size_t)ts_hash(i, b->kid, b->kid_len) & mask;
		for (; k->slots[j] != 0; j = (j + 1) & mask) {
			const ts_binding *o = &k->b[k->slots[j] - 1];

			if (o->kid_len == b->kid_len && memcmp(o->kid, b->kid, b->kid_len) == 0) {
				ts_fail(e, TS_R_CONFIG_ERROR,
				    "%s:%d: %s: duplicate kid for one issuer (also in %s)",
				    kr->conf->path, b->line, b->source, o->source);
				keys_free(k);
				return TS_R_CONFIG_ERROR;
			}
		}
		k->slots[j] = (uint32_t)(m + 1);
	}
	*out = k;
	return TS_OK;
oom:
	keys_free(k);
	return ts_fail(e, TS_R_INTERNAL, "out of memory");
}

/* K15: section i's bindings, made at the first lookup that needs them,
 * once, whichever thread comes first; NULL when out of memory (the section
 * then verifies nothing, and the next lookup tries again). */
static const kr_keys *
keys_of(const ts_keyring *ckr, size_t i)
{
	/* making a section's bindings is not a visible change of the keyring */
	ts_keyring *kr = (ts_keyring *)(uintptr_t)ckr;
	kr_keys *k = atomic_load_explicit(&kr->sec[i].keys, memory_order_acquire);
	ts_err e = { "" };

	if (k != NULL)
		return k;
	pthread_mutex_lock(&kr->lock);
	k = atomic_load_explicit(&kr->sec[i].keys, memory_order_relaxed);
	/* no kid is twice in a section made lazily: one key line, and a key
	 * file with a kid twice fails its parse (the section then has no
	 * binding, and ts_keyring_section_failed says why) */
	if (k == NULL && make_keys(kr, i, &k, &e) == TS_OK)
		atomic_store_explicit(&kr->sec[i].keys, k, memory_order_release);
	pthread_mutex_unlock(&kr->lock);
	return k;
}

const ts_binding *
ts_keyring_find(const ts_keyring *kr, size_t issuer_idx, const char *kid, size_t kid_len)
{
	const kr_keys *k;
	size_t i, mask;

	if (issuer_idx >= kr->niss || (k = keys_of(kr, issuer_idx)) == NULL || k->n == 0)
		return NULL;
	mask = k->nslots - 1;
	/* linear probing; every clang-format release lays out a one-line for */
	i = (size_t)ts_hash(issuer_idx, kid, kid_len) & mask;
	for (; k->slots[i] != 0; i = (i + 1) & mask) {
		const ts_binding *b = &k->b[k->slots[i] - 1];

		/* kids are unique per issuer, so a removed key has no
		 * stand-in */
		if (b->kid_len == kid_len && memcmp(b->kid, kid, kid_len) == 0)
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

/* K5: a window ending within TS_EXPIRING_SOON of now. */
static int
ends_soon(time_t not_after, time_t now)
{
	return now < not_after && not_after - now < TS_EXPIRING_SOON;
}

/* K5: a key to warn about at load. */
static int
expiring(const ts_binding *b, time_t now)
{
	return !b->revoked && ends_soon(b->not_after, now);
}

const ts_binding *
ts_keyring_peek(
    const ts_keyring *kr, size_t issuer_idx, const char *kid, size_t kid_len, ts_binding *tmp)
{
	const char *last_ki = NULL;
	int last_other = 0;
	size_t l, m, end;

	if (issuer_idx >= kr->niss)
		return NULL;
	if (atomic_load_explicit(&kr->sec[issuer_idx].keys, memory_order_acquire) != NULL)
		return ts_keyring_find(kr, issuer_idx, kid, kid_len);
	/* not made: its files' keys, read in place (a section not made was
	 * made by no failed reload, so nothing of it is removed) */
	end = kr->sec[issuer_idx].first + kr->sec[issuer_idx].nlines;
	for (l = kr->sec[issuer_idx].first; l < end; l++) {
		const kr_line *kl = &kr->lines[l];

		/* a file not parsed yet is parsed here: an alert about a key
		 * another issuer owns must not depend on that issuer's traffic */
		for (m = 0; file_ready(kl->f) == 1 && m < kl->f->nlk; m++) {
			const ts_loaded_key *lk = &kl->f->lk[m];

			if (lk->kid == NULL || strlen(lk->kid) != kid_len ||
			    memcmp(lk->kid, kid, kid_len) != 0)
				continue;
			fill_binding(kr, issuer_idx, kl, lk, tmp, &last_ki, &last_other);
			return tmp;
		}
	}
	return NULL;
}

const ts_binding *
ts_keyring_only_key(const ts_keyring *kr, size_t issuer_idx, time_t now, size_t *count)
{
	const ts_binding *found = NULL;
	const kr_keys *k;
	size_t i, n = 0;

	*count = 0;
	if (issuer_idx >= kr->niss || (k = keys_of(kr, issuer_idx)) == NULL)
		return NULL;
	for (i = 0; i < k->n; i++) {
		if (!usable(&k->b[i], now))
			continue;
		found = &k->b[i];
		if (++n > 1)
			break; /* enough to know it is ambiguous */
	}
	*count = n;
	return n == 1 ? found : NULL;
}

const ts_binding *
ts_keyring_issuer_keys(const ts_keyring *kr, size_t issuer_idx, size_t *n)
{
	const kr_keys *k;

	*n = 0;
	if (issuer_idx >= kr->niss || (k = keys_of(kr, issuer_idx)) == NULL || k->n == 0)
		return NULL;
	*n = k->n;
	return k->b;
}

size_t
ts_keyring_sections_made(const ts_keyring *kr)
{
	size_t i, n = 0;

	for (i = 0; i < kr->niss; i++)
		n += atomic_load_explicit(&kr->sec[i].keys, memory_order_acquire) != NULL;
	return n;
}

size_t
ts_keyring_files_parsed(const ts_keyring *kr, size_t *total)
{
	size_t i, n = 0;

	*total = kr->nfiles;
	for (i = 0; i < kr->nfiles; i++)
		n +=
		    atomic_load_explicit(&kr->files[i]->state, memory_order_acquire) != KF_UNPARSED;
	return n;
}

ts_reason
ts_keyring_section_failed(const ts_keyring *kr, size_t i, ts_err *e, int *first)
{
	const kr_keys *k;
	kr_file *f;

	*first = 0;
	if (i >= kr->niss)
		return TS_OK;
	if ((k = atomic_load_explicit(&kr->sec[i].keys, memory_order_acquire)) == NULL)
		return ts_fail(e, TS_R_INTERNAL, "[issuer %s]: its keys could not be set up",
		    kr->conf->issuers[i].name);
	if (k->failed == NULL)
		return TS_OK;
	f = (kr_file *)(uintptr_t)k->failed->f; /* its report flag */
	*first = !atomic_exchange(&f->reported, 1);
	return line_failed(kr, i, k->failed, e);
}

/* K5: warn(arg, b) for each key of line kl's file (parsed) that section i
 * would bind and whose window ends soon; b is a temporary. */
static void
warn_file(const ts_keyring *kr, size_t i, const kr_line *kl, time_t now,
    void (*warn)(void *, const ts_binding *), void *arg)
{
	const char *last_ki = NULL;
	int last_other = 0;
	size_t m;

	for (m = 0; m < kl->f->nlk; m++) {
		const ts_loaded_key *lk = &kl->f->lk[m];
		ts_binding b;

		if (!lk->has_not_after || !ends_soon(lk->not_after, now))
			continue;
		fill_binding(kr, i, kl, lk, &b, &last_ki, &last_other);
		if (expiring(&b, now))
			warn(arg, &b);
	}
}

int
ts_keyring_first_use_pending(const ts_keyring *kr, size_t i)
{
	size_t l;

	if (i >= kr->niss)
		return 0;
	for (l = kr->sec[i].first; l < kr->sec[i].first + kr->sec[i].nlines; l++)
		if (atomic_load_explicit(&kr->lines[l].f->warn_pending, memory_order_relaxed))
			return 1;
	return 0;
}

void
ts_keyring_warn_first_use(
    const ts_keyring *kr, size_t i, time_t now, void (*warn)(void *, const ts_binding *), void *arg)
{
	size_t l;

	if (i >= kr->niss)
		return;
	for (l = kr->sec[i].first; l < kr->sec[i].first + kr->sec[i].nlines; l++) {
		kr_file *f = (kr_file *)(uintptr_t)kr->lines[l].f; /* its warn flag */

		if (file_parsed(f) && atomic_exchange(&f->warn_pending, 0))
			warn_file(kr, i, &kr->lines[l], now, warn, arg);
	}
}

int
ts_keyring_section_made(const ts_keyring *kr, size_t i)
{
	return i < kr->niss && atomic_load_explicit(&kr->sec[i].keys, memory_order_acquire) != NULL;
}

/* K15: every file parsed, and the bindings counted per section, for the
 * callers that walk the whole keyring (ts_keyring_get). A file that failed
 * its parse counts no binding. */
static void
complete(const ts_keyring *ckr)
{
	/* counting what the files hold is not a visible change of the keyring */
	ts_keyring *kr = (ts_keyring *)(uintptr_t)ckr;
	size_t i, l, n = 0;

	if (atomic_load_explicit(&kr->complete, memory_order_acquire))
		return;
	pthread_mutex_lock(&kr->lock);
	if (!atomic_load_explicit(&kr->complete, memory_order_relaxed)) {
		for (i = 0; i < kr->niss; i++) {
			kr->iss_start[i] = n;
			for (l = kr->sec[i].first; l < kr->sec[i].first + kr->sec[i].nlines; l++)
				if (file_ready(kr->lines[l].f))
					n += kr->lines[l].f->nlk;
		}
		kr->iss_start[kr->niss] = n;
		kr->n = n;
		atomic_store_explicit(&kr->complete, 1, memory_order_release);
	}
	pthread_mutex_unlock(&kr->lock);
}

size_t
ts_keyring_count(const ts_keyring *kr)
{
	complete(kr);
	return kr->n;
}

const ts_binding *
ts_keyring_get(const ts_keyring *kr, size_t i)
{
	const kr_keys *k;
	size_t lo = 0, hi = kr->niss;

	complete(kr);
	if (i >= kr->n)
		return NULL;
	/* the section whose run holds i: the last one starting at or before it
	 * that is not empty */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (kr->iss_start[mid + 1] <= i)
			lo = mid + 1;
		else
			hi = mid;
	}
	if ((k = keys_of(kr, lo)) == NULL)
		return NULL;
	return &k->b[i - kr->iss_start[lo]];
}

void
ts_keyring_each_expiring(
    const ts_keyring *kr, time_t now, void (*warn)(void *, const ts_binding *), void *arg)
{
	size_t i, l, m;

	for (i = 0; i < kr->niss; i++) {
		const kr_keys *k = atomic_load_explicit(&kr->sec[i].keys, memory_order_acquire);

		for (m = 0; k != NULL && m < k->n; m++)
			if (expiring(&k->b[m], now))
				warn(arg, &k->b[m]);
		for (l = kr->sec[i].first; l < kr->sec[i].first + kr->sec[i].nlines; l++) {
			kr_file *f = (kr_file *)(uintptr_t)kr->lines[l].f; /* its warn flag */

			/* a file not parsed yet is warned about at its first use
			 * (ts_keyring_warn_first_use); one parsed is warned about
			 * here, and not again there */
			if (!file_parsed(f))
				continue;
			atomic_store(&f->warn_pending, 0);
			/* not made yet: the windows are the file's, and only a
			 * key about to end gets a binding, for the warning */
			if (k == NULL)
				warn_file(kr, i, &kr->lines[l], now, warn, arg);
		}
	}
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
	drop_bytes(f);
	free(f->err);
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
	ts_kept_done(&kr->fill); /* a load that failed */
	for (i = 0; i < kr->nfiles && !kr->borrowed; i++)
		file_unref(kr->files[i]);
	for (i = 0; i < kr->niss && kr->sec != NULL; i++)
		keys_free(atomic_load_explicit(&kr->sec[i].keys, memory_order_acquire));
	for (i = 0; i < kr->nrevoked; i++)
		free(kr->revoked[i]);
	free(kr->revoked);
	free(kr->files);
	free(kr->fslot);
	if (!kr->borrowed)
		free(kr->lines);
	free(kr->sec);
	free(kr->iss_start);
	pthread_mutex_destroy(&kr->lock);
	free(kr);
}

/* A keyring with its lock and per-section arrays for c, or NULL. */
static ts_keyring *
keyring_new(const ts_conf *c)
{
	ts_keyring *kr = calloc(1, sizeof(*kr));

	if (kr == NULL)
		return NULL;
	pthread_mutex_init(&kr->lock, NULL);
	kr->conf = c;
	kr->niss = c->nissuers;
	if ((kr->sec = calloc(c->nissuers + 1, sizeof(*kr->sec))) == NULL ||
	    (kr->iss_start = calloc(c->nissuers + 1, sizeof(size_t))) == NULL) {
		ts_keyring_free(kr);
		return NULL;
	}
	return kr;
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
 * broken line is the error returned. The list is kept for the sections
 * made later, and marks the bindings already made; *nrevoked counts those
 * newly revoked. *unreadable is set when the file could not be read at
 * all. */
static ts_reason
apply_revoked(ts_keyring *kr, const char *path, ts_filelist *files, size_t *nrevoked,
    int *unreadable, ts_err *e)
{
	char *buf = NULL, *line, *next;
	size_t len, i, m, cap = 0;
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
		if (kr->nrevoked == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			char **nv = realloc(kr->revoked, ncap * sizeof(*nv));

			if (nv == NULL)
				goto oom;
			kr->revoked = nv;
			cap = ncap;
		}
		if ((kr->revoked[kr->nrevoked] = strdup(s)) == NULL)
			goto oom;
		kr->nrevoked++;
	}
	free(buf);
	if (kr->nrevoked > 1) /* an empty list has no array to sort */
		qsort(kr->revoked, kr->nrevoked, sizeof(char *), cmp_str);
	for (i = 0; i < kr->niss; i++) {
		kr_keys *k = atomic_load_explicit(&kr->sec[i].keys, memory_order_relaxed);

		for (m = 0; k != NULL && m < k->n; m++)
			if (!k->b[m].revoked && revoked_has(kr, ts_key_thumbprint(k->b[m].key))) {
				k->b[m].revoked = 1;
				(*nrevoked)++;
			}
	}
	return r;
oom:
	free(buf);
	return TS_R_INTERNAL;
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
	return (size_t)ts_hash(0, path, strlen(path)) & mask;
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

/* K15: the identities the change check found, by path (open addressing:
 * index + 1). */
typedef struct seen_index {
	const ts_filelist *list;
	size_t *slot;
	size_t mask;
} seen_index;

static void
seen_build(seen_index *x, const ts_filelist *list)
{
	size_t i, j, n = 16;

	memset(x, 0, sizeof(*x));
	if (list == NULL || list->n == 0)
		return;
	while (n < list->n * 2)
		n *= 2;
	if ((x->slot = calloc(n, sizeof(*x->slot))) == NULL)
		return; /* each file is examined again instead */
	x->list = list;
	x->mask = n - 1;
	for (i = 0; i < list->n; i++) {
		j = path_slot(list->paths[i], x->mask);
		while (x->slot[j] != 0)
			j = (j + 1) & x->mask;
		x->slot[j] = i + 1;
	}
}

static int
seen_lookup(const seen_index *x, const char *path, ts_file_id *id)
{
	size_t j;

	if (x == NULL || x->slot == NULL)
		return 0;
	for (j = path_slot(path, x->mask); x->slot[j] != 0; j = (j + 1) & x->mask)
		if (strcmp(x->list->paths[x->slot[j] - 1], path) == 0) {
			*id = x->list->ids[x->slot[j] - 1];
			return 1;
		}
	return 0;
}

/* K15: the previous state's parse of a file that has not changed since
 * (the identity change checks compare), with a reference taken; NULL when
 * it changed or was not parsed alike. As when nothing changed at all, an
 * unchanged file is not opened again. */
static kr_file *
reuse_file(const ts_keyring *prev, const seen_index *seen, const ts_keyspec *ks, unsigned allowed,
    unsigned flags)
{
	kr_file *f = prev != NULL ? find_file(prev, ks, allowed, flags, NULL) : NULL;
	ts_file_id now;

	/* a parse the process failed (not the file) is tried again */
	if (f == NULL ||
	    (atomic_load_explicit(&f->state, memory_order_acquire) == KF_FAILED && f->transient))
		return NULL;
	if (!seen_lookup(seen, ks->path, &now))
		ts_file_id_of(ks->path, &now);
	if (!now.exists || !ts_file_id_equal(&now, &f->id))
		return NULL;
	atomic_fetch_add(&f->refs, 1);
	return f;
}

/* Where a deferred file's bytes go (ts_read_file_with), and where they
 * went, for a read that fails half way to wipe (M4). */
struct kept_get {
	ts_kept_fill *fill;
	ts_kept_chunk **chunk;
	char *got;
	size_t size;
};

static char *
kept_get(void *arg, size_t size)
{
	struct kept_get *g = arg;

	g->got = ts_kept_alloc(g->fill, size, g->chunk);
	g->size = g->got != NULL ? size : 0;
	return g->got;
}

/* A new file record for key line ks, read, and parsed unless defer says
 * the parse waits for the file's first use (K15). */
static ts_reason
parse_file(const ts_conf *c, const ts_issuer_conf *is, const ts_keyspec *ks, unsigned flags,
    ts_kept_fill *defer, ts_filelist *files, kr_file **out, ts_err *e)
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
	if (defer != NULL) {
		/* kept as read until its first use; wiped then (drop_bytes) */
		struct kept_get g = { defer, &f->chunk, NULL, 0 };

		r = ts_read_file_with(
		    ks->path, KEYFILE_MAX_SIZE, 0, kept_get, &g, &buf, &len, &f->id, &ke);
		if (r != TS_OK && g.got != NULL)
			OPENSSL_cleanse(g.got, g.size); /* what was read before the error */
	} else {
		r = ts_read_file(ks->path, KEYFILE_MAX_SIZE,
		    (is->algorithms & ~hmac) == 0 ? TS_FILE_SECRET : 0, &buf, &len, &f->id, &ke);
	}
	if (r != TS_OK)
		ts_file_id_of(ks->path, &f->id);
	if (ts_filelist_add(files, ks->path, &f->id) != 0) {
		if (defer == NULL) /* else in f's chunk */
			ts_freezero(buf, len);
		file_unref(f);
		return TS_R_INTERNAL;
	}
	if (r == TS_OK && defer != NULL) {
		f->buf = buf; /* the file's own until its first use */
		f->len = len;
		*out = f;
		return TS_OK;
	}
	if (r == TS_OK) {
		parsed = 1;
		r = ts_keyfile_parse(buf, len, ks, is->algorithms, flags, &f->lk, &f->nlk, &ke);
		ts_freezero(buf, len);
		atomic_init(&f->state, KF_PARSED);
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
 * path: message".
 * K15: a process's first load (no prev) only reads a file of public keys
 * and parses it at first use; a reload parses what it reads at once, so
 * that a broken file fails the reload and the last good state stands
 * (K11). A file that may hold secrets is parsed at once: whether a
 * section mixes them with public keys, and the secret file's mode, are
 * load checks (K7, K8). */
static ts_reason
file_for(ts_keyring *kr, const ts_keyring *prev, const seen_index *seen, const ts_conf *c,
    const ts_issuer_conf *is, const ts_keyspec *ks, ts_filelist *files, const kr_file **out,
    ts_err *e)
{
	unsigned hmac = (1u << TS_ALG_HS256) | (1u << TS_ALG_HS384) | (1u << TS_ALG_HS512);
	int lazy = atomic_load(&lazy_keys);
	unsigned flags =
	    ((is->algorithms & hmac) ? TS_JWK_ALLOW_SECRET : 0) | (lazy ? TS_JWK_LAZY : 0);
	size_t slot = 0;
	kr_file *f;
	ts_reason r;

	if ((*out = find_file(kr, ks, is->algorithms, flags, &slot)) != NULL)
		return TS_OK;
	if ((f = reuse_file(prev, seen, ks, is->algorithms, flags)) != NULL) {
		if (ts_filelist_add(files, ks->path, &f->id) != 0) {
			file_unref(f);
			return TS_R_INTERNAL;
		}
	} else if ((r = parse_file(c, is, ks, flags,
	                lazy && prev == NULL && !(flags & TS_JWK_ALLOW_SECRET) ? &kr->fill : NULL,
	                files, &f, e)) != TS_OK) {
		return r;
	}
	kr->files[kr->nfiles++] = f;
	kr->fslot[slot] = kr->nfiles;
	*out = f;
	return TS_OK;
}

/* Binds the keys of one key line to section i (K1, K7, K8): the line and
 * its file join the section's run; the bindings wait for its first use. */
static ts_reason
bind_line(ts_keyring *kr, const ts_keyring *prev, const seen_index *seen, const ts_conf *c,
    size_t i, const ts_keyspec *ks, ts_filelist *files, int *sym, int *asym, ts_err *e)
{
	const ts_issuer_conf *is = &c->issuers[i];
	const kr_file *f = NULL;
	ts_reason r;

	if ((r = file_for(kr, prev, seen, c, is, ks, files, &f, e)) != TS_OK)
		return r;
	/* one file holds secrets or public keys, never both (K7, keyfile.c);
	 * a file whose parse waits holds no secret (file_for) */
	if (file_parsed(f) && f->nlk > 0) {
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
	/* K7: one issuer never mixes shared secrets with public keys */
	if (*sym && *asym)
		return ts_fail(e, TS_R_CONFIG_ERROR,
		    "%s:%d: [issuer %s] mixes HMAC secrets with public keys", c->path, ks->line,
		    is->name);
	kr->lines[kr->nlines].f = f;
	kr->lines[kr->nlines++].ks = ks;
	return TS_OK;
}

ts_reason
ts_keyring_load(const ts_conf *c, const ts_keyring *prev, const ts_filelist *seen, ts_keyring **out,
    ts_filelist *files, ts_err *e)
{
	ts_keyring *kr = keyring_new(c);
	seen_index sx;
	ts_reason r = TS_R_INTERNAL;
	size_t i, k, nlines = 0, nslots = 16, nrev = 0;
	int unreadable = 0, lazy = atomic_load(&lazy_keys);

	*out = NULL;
	if (kr == NULL)
		return ts_fail(e, r, "out of memory");
	seen_build(&sx, prev != NULL ? seen : NULL);
	for (i = 0; i < c->nissuers; i++)
		nlines += c->issuers[i].nkeys;
	while (nslots < nlines * 2)
		nslots *= 2;
	kr->fmask = nslots - 1;
	if ((kr->files = calloc(nlines + 1, sizeof(*kr->files))) == NULL ||
	    (kr->lines = calloc(nlines + 1, sizeof(*kr->lines))) == NULL ||
	    (kr->fslot = calloc(nslots, sizeof(size_t))) == NULL)
		goto out;
	for (i = 0; i < c->nissuers; i++) {
		int sym = 0, asym = 0;

		kr->sec[i].first = kr->nlines;
		for (k = 0; k < c->issuers[i].nkeys; k++)
			if ((r = bind_line(kr, prev, &sx, c, i, &c->issuers[i].keys[k], files, &sym,
			         &asym, e)) != TS_OK)
				goto out;
		kr->sec[i].nlines = kr->nlines - kr->sec[i].first;
	}
	if (c->revoked_keys != NULL &&
	    (r = apply_revoked(kr, c->revoked_keys, files, &nrev, &unreadable, e)) != TS_OK)
		goto out;
	/* K15: a section of several key lines is made now, so that a kid in
	 * two of its files is a config error at load; every section is when
	 * every key is checked at load */
	for (i = 0; i < c->nissuers; i++) {
		kr_keys *made = NULL;

		if (lazy && kr->sec[i].nlines < 2)
			continue;
		/* its files' parse is a load check too, as on a reload */
		for (k = kr->sec[i].first; k < kr->sec[i].first + kr->sec[i].nlines; k++)
			if ((r = line_failed(kr, i, &kr->lines[k], e)) != TS_OK)
				goto out;
		if ((r = make_keys(kr, i, &made, e)) != TS_OK)
			goto out;
		atomic_store_explicit(&kr->sec[i].keys, made, memory_order_relaxed);
	}
	if (!lazy)
		complete(kr);
	ts_kept_done(&kr->fill);
	*out = kr;
	kr = NULL; /* transferred */
	r = TS_OK;
out:
	if (r == TS_R_INTERNAL)
		ts_fail(e, r, "out of memory while loading keys");
	free(sx.slot);
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
 * addition, and the last good state stands for what it adds. kr's sections
 * are all made. */
static ts_reason
take_away_keys(ts_keyring *kr, const ts_conf *c, size_t idx, const ts_keyspec *ks,
    ts_filelist *files, size_t *removed)
{
	const ts_issuer_conf *is = &c->issuers[idx];
	unsigned hmac = (1u << TS_ALG_HS256) | (1u << TS_ALG_HS384) | (1u << TS_ALG_HS512);
	kr_keys *k = atomic_load_explicit(&kr->sec[idx].keys, memory_order_relaxed);
	ts_loaded_key *lk = NULL;
	size_t nlk = 0, len = 0, i, m, live = 0;
	char *buf = NULL;
	ts_file_id id;
	ts_err ke = { "" };
	int parsed = 0;

	for (i = 0; i < k->n; i++)
		live += k->b[i].line == ks->line && !k->b[i].removed;
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
	for (i = 0; i < k->n; i++) {
		ts_binding *b = &k->b[i];
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

/* Section i of good, made if it was not, copied into kr: the copy's
 * bindings are its own, their keys good's. */
static ts_reason
copy_section(ts_keyring *kr, const ts_keyring *good, size_t i)
{
	const kr_keys *gk = keys_of(good, i);
	kr_keys *k;

	if (gk == NULL || (k = calloc(1, sizeof(*k))) == NULL)
		return TS_R_INTERNAL;
	k->n = gk->n;
	k->failed = gk->failed;
	k->nslots = gk->nslots;
	if ((k->b = calloc(gk->n + 1, sizeof(*k->b))) == NULL ||
	    (k->slots = calloc(gk->nslots + 1, sizeof(*k->slots))) == NULL) {
		keys_free(k);
		return TS_R_INTERNAL;
	}
	memcpy(k->b, gk->b, gk->n * sizeof(*k->b));
	memcpy(k->slots, gk->slots, gk->nslots * sizeof(*k->slots));
	atomic_store_explicit(&kr->sec[i].keys, k, memory_order_relaxed);
	return TS_OK;
}

ts_reason
ts_keyring_take_away(const ts_keyring *good, const ts_conf *c, const ts_conf_names *names,
    ts_keyring **out, ts_filelist *files, size_t *removed, size_t *revoked, ts_err *revoke_err)
{
	ts_keyring *kr = keyring_new(c);
	const char *rpath;
	ts_reason r = TS_R_INTERNAL;
	size_t i, k, m;
	int unreadable = 0;

	*out = NULL;
	*removed = *revoked = 0;
	revoke_err->msg[0] = '\0';
	if (kr == NULL)
		goto out;
	kr->borrowed = 1;
	/* good's key lines, so that a file parsed for this copy is warned
	 * about at its section's first use here (K5) */
	kr->lines = good->lines;
	kr->nlines = good->nlines;
	for (i = 0; i < kr->niss; i++) {
		kr->sec[i].first = good->sec[i].first;
		kr->sec[i].nlines = good->sec[i].nlines;
	}
	complete(good);
	kr->n = good->n;
	memcpy(kr->iss_start, good->iss_start, (good->niss + 1) * sizeof(size_t));
	atomic_store_explicit(&kr->complete, 1, memory_order_relaxed);
	/* a failed reload makes every section: it is rare, and what it takes
	 * away must be known of every key */
	for (i = 0; i < kr->niss; i++)
		if ((r = copy_section(kr, good, i)) != TS_OK)
			goto out;
	r = TS_R_INTERNAL;

	/* a key line no longer there (a config that names nothing takes
	 * every key away) */
	for (i = 0; i < kr->niss; i++) {
		kr_keys *ks = atomic_load_explicit(&kr->sec[i].keys, memory_order_relaxed);

		for (m = 0; m < ks->n; m++) {
			ts_binding *b = &ks->b[m];

			if (!b->removed &&
			    (names == NULL ||
			        !names_hold(names, c->issuers[b->issuer_idx].name, b->source))) {
				b->removed = 1;
				(*removed)++;
			}
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
