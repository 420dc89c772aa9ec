/* ctx.c: a validation context: the loaded state, change detection and
 * reload, all or nothing for what a change adds, while what it takes away
 * always applies (K11; see tokenscope.h). */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "ctx.h"
#include "inspect.h"
#include "key.h"
#include "tenants.h"
#include "usermap.h"

static void
state_free(ts_state *s)
{
	if (s == NULL)
		return;
	ts_keyring_free(s->kr);
	if (s->base == NULL) {
		ts_conf_free(s->conf);
	} else if (s->conf_copied) {
		size_t i;

		/* K16: a tenants list taken in (fewer_tenants) is this copy's */
		for (i = 0; i < s->conf->nissuers; i++)
			if (s->conf->issuers[i].tenants.v != s->base->conf->issuers[i].tenants.v)
				free(s->conf->issuers[i].tenants.v);
		free(s->conf->issuers);
		free(s->conf);
	}
	ts_filelist_free(&s->files);
	ts_state_unref(s->base); /* the conf and keys borrowed */
	free(s);
}

void
ts_state_unref(ts_state *s)
{
	if (s != NULL && atomic_fetch_sub(&s->refs, 1) == 1)
		state_free(s);
}

/* Loads everything or nothing. files gets every file read, even on error. */
static ts_reason
state_read(const char *path, const ts_state *prev, const ts_filelist *seen, ts_state **out,
    ts_filelist *files, ts_err *e)
{
	ts_state *s = calloc(1, sizeof(*s));
	ts_file_id id;
	ts_reason r;

	*out = NULL;
	if (s == NULL)
		return ts_fail(e, TS_R_INTERNAL, "out of memory");
	atomic_init(&s->refs, 1);
	r = ts_conf_load(path, &s->conf, &id, e);
	if (r != TS_OK)
		ts_file_id_of(path, &id);
	if (ts_filelist_add(files, path, &id) != 0)
		r = TS_R_INTERNAL;
	if (r == TS_OK)
		r = ts_usermaps_load(s->conf, files, e);
	if (r == TS_OK)
		r = ts_tenants_load(s->conf, files, e);
	if (r == TS_OK)
		r = ts_root_names_load(s->conf, TS_PASSWD_FILE, files, e);
	if (r == TS_OK)
		r = ts_keyring_load(
		    s->conf, prev != NULL ? prev->kr : NULL, seen, &s->kr, files, e);
	if (r != TS_OK) {
		state_free(s);
		return r;
	}
	*out = s;
	return TS_OK;
}

/* One pass over the files (K13: the root examined once). */
static ts_reason
state_load(const char *path, const ts_state *prev, const ts_filelist *seen, ts_state **out,
    ts_filelist *files, ts_err *e)
{
	ts_reason r;

	ts_file_batch_begin();
	r = state_read(path, prev, seen, out, files, e);
	ts_file_batch_end();
	return r;
}

static void ctx_log(ts_ctx *ctx, int prio, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
ctx_log(ts_ctx *ctx, int prio, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	size_t i;

	if (ctx->log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* M3: values from key files reach these lines (a kid, an error about
	 * a file); whatever a caller forgot, no control byte may start a
	 * forged line in syslog */
	for (i = 0; line[i] != '\0'; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = '?';
	ctx->log(ctx->log_arg, prio, line);
}

void
ts_ctx_log_error(ts_ctx *ctx, const char *msg)
{
	ctx_log(ctx, LOG_ERR, "tokenscope: %s", msg);
}

/* True when any file differs from what was read last time. Every file is
 * examined, and what was found kept in ctx->seen_*, for the reload a
 * change starts (K15); with no room for it, the reload examines them
 * again. */
static int
files_changed(ts_ctx *ctx, const ts_filelist *f)
{
	size_t i;
	ts_file_id now;
	int changed = 0;

	ctx->seen_of = NULL;
	if (f->n > ctx->seen_cap) {
		ts_file_id *n = realloc(ctx->seen_ids, f->n * sizeof(*n));

		if (n != NULL) {
			ctx->seen_ids = n;
			ctx->seen_cap = f->n;
		}
	}
	ts_file_batch_begin();
	for (i = 0; i < f->n; i++) {
		ts_file_id_of(f->paths[i], &now);
		changed |= !ts_file_id_equal(&now, &f->ids[i]);
		if (i < ctx->seen_cap)
			ctx->seen_ids[i] = now;
	}
	ts_file_batch_end();
	if (changed && f->n <= ctx->seen_cap)
		ctx->seen_of = f;
	return changed;
}

static double
monotonic_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* K5: a key close to the end of its window is warned about at load. */
struct expiring_arg {
	ts_ctx *ctx;
	const ts_conf *conf;
	time_t now;
};

static void
warn_one(void *arg, const ts_binding *b)
{
	const struct expiring_arg *x = arg;
	char kid[TS_LOG_VALUE_MAX + 1];

	if (b->kid != NULL) /* from the key file: untrusted text */
		ts_sanitize(kid, sizeof(kid), b->kid, b->kid_len);
	else
		snprintf(kid, sizeof(kid), "(no kid)");
	ctx_log(x->ctx, LOG_WARNING, "tokenscope: key %s of [issuer %s] (%s) expires in %lld hours",
	    kid, x->conf->issuers[b->issuer_idx].name, ts_key_thumbprint(b->key),
	    (long long)(b->not_after - x->now) / 3600);
}

static void
warn_expiring(ts_ctx *ctx, const ts_state *s)
{
	struct expiring_arg x = { ctx, s->conf, time(NULL) };

	/* a load of 10,000 keys formats nothing and makes no section */
	ts_keyring_each_expiring(s->kr, x.now, warn_one, &x);
}

void
ts_ctx_warn_first_use(ts_ctx *ctx, const ts_conf *conf, const ts_keyring *kr, size_t idx)
{
	struct expiring_arg x = { ctx, conf, time(NULL) };

	ts_keyring_warn_first_use(kr, idx, x.now, warn_one, &x);
}

/* With ctx->lock held: is a (re)load due now? At most one thread loads at a
 * time; the others go on with the state in force meanwhile. */
static int
reload_due_locked(ts_ctx *ctx, int force)
{
	double now = monotonic_now();
	long interval = ctx->state ? ctx->state->conf->reload_interval : 0;

	if (ctx->loading)
		return 0;
	ctx->seen_of = NULL; /* set by a change check that finds a change */
	if (!force) {
		if (now - ctx->last_check < (double)interval)
			return 0;
		ctx->last_check = now;
		/* nothing changed since the last failed attempt (so a broken
		 * file is reported once), or since the state in force loaded */
		if (ctx->failed.n > 0 ? !files_changed(ctx, &ctx->failed)
		                      : (ctx->state && !files_changed(ctx, &ctx->state->files))) {
			/* K11: but a broken revoked-key list may hold a revocation
			 * the administrator believes in force: it stays in the
			 * log until fixed */
			if (ctx->revoke_error[0] != '\0')
				ctx_log(ctx, LOG_ERR, "tokenscope: %s", ctx->revoke_error);
			return 0;
		}
	}
	ctx->last_check = now;
	ctx->loading = 1;
	return 1;
}

/* K11: a revoke_before that the current config sets later than the last
 * good one applies too. s gets its own shallow copy of the conf: the
 * issuers array copied, everything it points to borrowed. Returns -1 when
 * out of memory. */
/* s's own shallow copy of its base's conf (the issuers array copied,
 * everything it points to borrowed), made at the first change; NULL when
 * out of memory. */
static ts_conf *
own_conf(ts_state *s)
{
	const ts_conf *good = s->base->conf;
	ts_conf *c;

	if (s->conf_copied)
		return s->conf;
	if ((c = malloc(sizeof(*c))) == NULL)
		return NULL;
	*c = *good;
	if ((c->issuers = calloc(good->nissuers + 1, sizeof(*c->issuers))) == NULL) {
		free(c);
		return NULL;
	}
	memcpy(c->issuers, good->issuers, good->nissuers * sizeof(*c->issuers));
	s->conf = c;
	s->conf_copied = 1;
	return c;
}

static int
later_revoke_before(ts_state *s, const ts_conf_names *names, size_t *nrevoked)
{
	size_t i, j;

	for (j = 0; j < names->nrb; j++) {
		for (i = 0; i < s->conf->nissuers; i++) {
			const ts_issuer_conf *is = &s->conf->issuers[i];
			ts_conf *c;

			if (strcmp(is->name, names->rb_issuer[j]) != 0 ||
			    (is->has_revoke_before && is->revoke_before >= names->rb_time[j]))
				continue;
			if ((c = own_conf(s)) == NULL)
				return -1;
			c->issuers[i].revoke_before = names->rb_time[j];
			c->issuers[i].has_revoke_before = 1;
			(*nrevoked)++;
		}
	}
	return 0;
}

/* K11 for K16: a tenant the current files no longer list is taken off too
 * (names NULL: the config unreadable, so every tenant goes). Returns -1
 * when out of memory. */
static int
fewer_tenants(ts_state *s, const ts_conf_names *names, ts_filelist *files, size_t *ntenants)
{
	const ts_conf *good = s->base->conf;
	size_t i;

	for (i = 0; i < good->nissuers; i++) {
		ts_strlist keep;
		ts_conf *c;

		if (!good->issuers[i].templated)
			continue;
		if (ts_tenants_still_listed(&good->issuers[i], names, files, &keep) != 0)
			return -1;
		if (keep.n == good->issuers[i].tenants.n || (c = own_conf(s)) == NULL) {
			free(keep.v);
			if (keep.n == good->issuers[i].tenants.n)
				continue;
			return -1;
		}
		*ntenants += good->issuers[i].tenants.n - keep.n;
		c->issuers[i].tenants = keep;
	}
	return 0;
}

/* K11: the last good state less what the current files take away (see
 * ts_keyring_take_away), or NULL when out of memory or when the config is
 * out of reach (*out_of_reach set). Only the loading thread calls this, and
 * only it changes ctx->good. */
static ts_state *
take_away(ts_ctx *ctx, ts_filelist *files, size_t *nremoved, size_t *nrevoked, size_t *ntenants,
    ts_err *re, int *out_of_reach)
{
	ts_state *good = ctx->good, *s = NULL, *r = NULL;
	ts_conf_names names;
	ts_file_id id;
	ts_err e = { "" };
	ts_reason cr;

	memset(&names, 0, sizeof(names));
	/* the config out of reach (Postfix chroots after loading the plugin;
	 * a daemon may drop privileges): nothing can be known of what was
	 * taken away, and the state in force keeps deciding */
	if (ts_file_out_of_reach(ctx->path)) {
		*out_of_reach = 1;
		goto out;
	}
	/* read leniently, past its errors; a config that is there but cannot
	 * be read safely names nothing, so every key goes (fail closed) */
	if ((cr = ts_conf_scan_names(ctx->path, good->conf->dir, &names, &id, &e)) == TS_R_INTERNAL)
		goto out;
	if (cr != TS_OK)
		ts_file_id_of(ctx->path, &id);
	if (ts_filelist_add(files, ctx->path, &id) != 0 || (s = calloc(1, sizeof(*s))) == NULL)
		goto out;
	atomic_init(&s->refs, 1);
	s->conf = good->conf;
	atomic_fetch_add(&good->refs, 1);
	s->base = good; /* transferred: the reference just taken */
	if (ts_keyring_take_away(good->kr, good->conf, cr == TS_OK ? &names : NULL, &s->kr, files,
	        nremoved, nrevoked, re) != TS_OK ||
	    (cr == TS_OK && later_revoke_before(s, &names, nrevoked) != 0) ||
	    fewer_tenants(s, cr == TS_OK ? &names : NULL, files, ntenants) != 0)
		goto out;
	r = s;
	s = NULL; /* transferred */
out:
	ts_conf_names_free(&names);
	state_free(s);
	return r;
}

/* K13: a file whose directory was not held before the process chrooted
 * cannot be read until the service restarts: the line says so and what to
 * do, once per failed attempt like the error itself. The path goes last,
 * so that a long one cannot cut the advice. */
static void
lost_files_log(ts_ctx *ctx, const ts_filelist *f)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (ts_file_lost(f->paths[i]))
			ctx_log(ctx, LOG_ERR,
			    "tokenscope: out of reach since this process chrooted (its directory "
			    "was not in use before): restart the service (Postfix: `postfix "
			    "reload`) or run it unchrooted (`chroot = n` in master.cf): %s",
			    f->paths[i]);
}

/* With ctx->lock held, after a failed load: less (may be NULL) goes in
 * force, unless the files were out of reach. Returns the state it replaces. */
static ts_state *
install_less_locked(ts_ctx *ctx, ts_state *less, size_t nremoved, size_t nrevoked, const ts_err *re,
    const ts_err *e, int out_of_reach)
{
	ts_state *old = NULL;

	if (ctx->good == NULL) {
		ctx_log(ctx, LOG_ERR, "tokenscope: %s", e->msg);
		lost_files_log(ctx, &ctx->failed);
		return NULL;
	}
	if (out_of_reach) {
		ctx_log(ctx, LOG_ERR,
		    "tokenscope: %s (out of reach: the loaded state keeps deciding)", e->msg);
		return NULL;
	}
	ctx->revoke_error[0] = '\0';
	lost_files_log(ctx, &ctx->failed);
	/* when what is taken away cannot be worked out, nothing is trusted */
	old = ctx->state;
	ctx->state = less;
	if (less == NULL) {
		ctx_log(ctx, LOG_ERR, "tokenscope: %s (and out of memory: refusing every token)",
		    e->msg);
		return old;
	}
	ctx_log(ctx, LOG_ERR, "tokenscope: %s (keeping the last good configuration)", e->msg);
	if (nremoved > 0 || nrevoked > 0)
		ctx_log(ctx, LOG_WARNING,
		    "tokenscope: what the new files take away applies all the same: %zu key(s) "
		    "removed, %zu revoked",
		    nremoved, nrevoked);
	if (ts_keyring_revocations_unknown(less->kr))
		snprintf(ctx->revoke_error, sizeof(ctx->revoke_error),
		    "the revoked-key list cannot be read, so every token is refused until it "
		    "can: %s",
		    re->msg);
	else if (re->msg[0] != '\0')
		snprintf(ctx->revoke_error, sizeof(ctx->revoke_error),
		    "the revoked-key list has a broken line (every well-formed line applies): "
		    "%s",
		    re->msg);
	if (ctx->revoke_error[0] != '\0')
		ctx_log(ctx, LOG_ERR, "tokenscope: %s", ctx->revoke_error);
	return old;
}

/* Loads outside the lock (a large keyring takes a while), then installs the
 * result all or nothing: a failure keeps the last good state for what it
 * adds, never for what it takes away (K11). */
static ts_reason
reload(ts_ctx *ctx, ts_err *e)
{
	ts_state *fresh = NULL, *old = NULL, *old_good = NULL, *less = NULL;
	ts_filelist files = { NULL, NULL, 0 };
	ts_err re = { "" };
	size_t nremoved = 0, nrevoked = 0, ntenants = 0;
	int out_of_reach = 0;
	ts_filelist seen = { NULL, NULL, 0 };
	ts_reason r;
	size_t i;

	/* what the change check found, borrowed: only this thread frees the
	 * list it checked, after the load */
	if (ctx->seen_of != NULL) {
		seen.paths = ctx->seen_of->paths;
		seen.ids = ctx->seen_ids;
		seen.n = ctx->seen_of->n;
	}
	/* K15: only the loading thread changes ctx->good, so it may read it */
	r = state_load(ctx->path, ctx->good, &seen, &fresh, &files, e);
	ctx->seen_of = NULL;

	/* K13: what was read (or tried) before a chroot stays reachable after
	 * it, a file that failed included: its fix must be seen too. One
	 * pass: the root is examined once, not once per file */
	ts_file_batch_begin();
	for (i = 0; i < files.n; i++)
		ts_pin_dir_of(files.paths[i]);
	ts_file_batch_end();

	if (r != TS_OK && ctx->good != NULL)
		less = take_away(ctx, &files, &nremoved, &nrevoked, &ntenants, &re, &out_of_reach);
	pthread_mutex_lock(&ctx->lock);
	if (r == TS_OK && fresh != NULL) {
		fresh->files = files;
		old = ctx->state;
		old_good = ctx->good;
		ctx->state = fresh;
		atomic_fetch_add(&fresh->refs, 1);
		ctx->good = fresh;
		ts_filelist_free(&ctx->failed);
		ctx->last_error[0] = '\0';
		ctx->revoke_error[0] = '\0';
		warn_expiring(ctx, fresh);
		if (old != NULL)
			ctx_log(
			    ctx, LOG_INFO, "tokenscope: configuration reloaded from %s", ctx->path);
	} else {
		ts_filelist_free(&ctx->failed);
		ctx->failed = files;
		snprintf(ctx->last_error, sizeof(ctx->last_error), "%s", e->msg);
		old = install_less_locked(ctx, less, nremoved, nrevoked, &re, e, out_of_reach);
		if (less != NULL && ntenants > 0)
			ctx_log(ctx, LOG_WARNING,
			    "tokenscope: %zu tenant(s) no longer listed are refused all the same",
			    ntenants);
	}
	ctx->loading = 0;
	pthread_mutex_unlock(&ctx->lock);
	/* freed when the last validation using them ends */
	ts_state_unref(old);
	ts_state_unref(old_good);
	return r;
}

ts_reason
ts_ctx_refresh(ts_ctx *ctx, int force, ts_err *err)
{
	ts_err e = { "" };
	ts_reason r;
	int due;

	pthread_mutex_lock(&ctx->lock);
	due = reload_due_locked(ctx, force);
	r = ctx->state ? TS_OK : TS_R_CONFIG_ERROR;
	pthread_mutex_unlock(&ctx->lock);
	if (!due)
		return r;
	if ((r = reload(ctx, &e)) != TS_OK && err != NULL)
		*err = e;
	return r;
}

ts_reason
ts_ctx_new(const char *config_path, ts_log_fn *log, void *log_arg, ts_ctx **out, ts_err *err)
{
	ts_ctx *ctx = calloc(1, sizeof(*ctx));

	*out = NULL;
	if (ctx == NULL ||
	    (ctx->path = strdup(config_path ? config_path : TS_DEFAULT_CONFIG)) == NULL) {
		free(ctx);
		return ts_fail(err, TS_R_INTERNAL, "out of memory");
	}
	pthread_mutex_init(&ctx->lock, NULL);
	ts_pins_hold();
	ts_key_digest_hold();
	ctx->log = log;
	ctx->log_arg = log_arg;
	*out = ctx;
	return ts_ctx_refresh(ctx, 1, err);
}

void
ts_ctx_free(ts_ctx *ctx)
{
	if (ctx == NULL)
		return;
	ts_state_unref(ctx->state);
	ts_state_unref(ctx->good);
	ts_filelist_free(&ctx->failed);
	free(ctx->seen_ids);
	ts_pins_release();
	ts_key_digest_release();
	pthread_mutex_destroy(&ctx->lock);
	free(ctx->path);
	free(ctx);
}

const char *
ts_ctx_last_error(ts_ctx *ctx)
{
	return ctx->last_error;
}

ts_state *
ts_ctx_acquire(ts_ctx *ctx)
{
	ts_state *s;
	ts_err e = { "" };
	int due;

	/* one lock round trip on the usual path: change check and reference */
	pthread_mutex_lock(&ctx->lock);
	due = reload_due_locked(ctx, 0);
	if (!due) {
		s = ctx->state;
		if (s != NULL)
			atomic_fetch_add(&s->refs, 1);
		pthread_mutex_unlock(&ctx->lock);
		return s;
	}
	pthread_mutex_unlock(&ctx->lock);
	(void)reload(ctx, &e);
	pthread_mutex_lock(&ctx->lock);
	s = ctx->state;
	if (s != NULL)
		atomic_fetch_add(&s->refs, 1);
	pthread_mutex_unlock(&ctx->lock);
	return s;
}

int
ts_ctx_sweep_due(ts_ctx *ctx, time_t now)
{
	int due;

	pthread_mutex_lock(&ctx->lock);
	due = (long long)now - ctx->last_sweep > 300;
	if (due)
		ctx->last_sweep = (long long)now;
	pthread_mutex_unlock(&ctx->lock);
	return due;
}

ts_reason
ts_ctx_inspect(ts_ctx *ctx, ts_inspect_fn *fn, void *arg)
{
	ts_state *s = ts_ctx_acquire(ctx);

	if (s == NULL)
		return TS_R_CONFIG_ERROR;
	fn(arg, s->conf, s->kr);
	ts_state_unref(s);
	return TS_OK;
}

/* Copies the scopes while the state is held: the list lives in its conf. */
typedef struct scope_req {
	const char *service;
	char *out;
	size_t cap;
} scope_req;

static void
copy_scopes(void *arg, const ts_conf *conf, const ts_keyring *kr)
{
	scope_req *s = arg;
	const ts_service_conf *svc = ts_conf_service(conf, s->service);
	size_t i, n = 0;

	(void)kr;
	for (i = 0; svc != NULL && i < svc->required_scopes.n; i++)
		n += (size_t)snprintf(s->out + n, n < s->cap ? s->cap - n : 0, "%s%s", i ? " " : "",
		    svc->required_scopes.v[i]);
}

ts_reason
ts_ctx_service_scopes(ts_ctx *ctx, const char *service, char *out, size_t cap)
{
	scope_req s = { service, out, cap };

	if (cap == 0)
		return TS_R_INTERNAL;
	out[0] = '\0';
	return ts_ctx_inspect(ctx, copy_scopes, &s);
}

static void
copy_max_token(void *arg, const ts_conf *conf, const ts_keyring *kr)
{
	(void)kr;
	*(size_t *)arg = conf->max_token_size;
}

ts_reason
ts_ctx_max_token_size(ts_ctx *ctx, size_t *out)
{
	*out = 0;
	return ts_ctx_inspect(ctx, copy_max_token, out);
}

typedef struct service_req {
	const char *service;
	int found;
} service_req;

static void
find_service(void *arg, const ts_conf *conf, const ts_keyring *kr)
{
	service_req *s = arg;

	(void)kr;
	s->found = ts_conf_service(conf, s->service) != NULL;
}

ts_reason
ts_ctx_has_service(ts_ctx *ctx, const char *service)
{
	service_req s = { service, 0 };
	ts_reason r = ts_ctx_inspect(ctx, find_service, &s);

	if (r != TS_OK)
		return r;
	return s.found ? TS_OK : TS_R_UNKNOWN_SERVICE;
}
