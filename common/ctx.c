/* ctx.c: a validation context: the loaded state, change detection and
 * all-or-nothing reload (see tokenscope.h). */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "ctx.h"

static void
state_free(ts_state *s)
{
	if (s == NULL)
		return;
	ts_keyring_free(s->kr);
	ts_conf_free(s->conf);
	ts_filelist_free(&s->files);
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
state_load(const char *path, ts_state **out, ts_filelist *files, ts_err *e)
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
		r = ts_keyring_load(s->conf, &s->kr, files, e);
	if (r != TS_OK) {
		state_free(s);
		return r;
	}
	*out = s;
	return TS_OK;
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

/* True when any file differs from what was read last time. */
static int
files_changed(const ts_filelist *f)
{
	size_t i;
	ts_file_id now;

	for (i = 0; i < f->n; i++) {
		ts_file_id_of(f->paths[i], &now);
		if (!ts_file_id_equal(&now, &f->ids[i]))
			return 1;
	}
	return 0;
}

static double
monotonic_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* K5: a key close to the end of its window is warned about at load. */
static void
warn_expiring(ts_ctx *ctx, const ts_state *s)
{
	time_t now = time(NULL);
	size_t i;

	for (i = 0; i < ts_keyring_count(s->kr); i++) {
		const ts_binding *b = ts_keyring_get(s->kr, i);
		char kid[TS_LOG_VALUE_MAX + 1] = "(no kid)";

		if (b->kid != NULL) /* from the key file: untrusted text */
			ts_sanitize(kid, sizeof(kid), b->kid, b->kid_len);
		if (!b->revoked && now < b->not_after && b->not_after - now < TS_EXPIRING_SOON)
			ctx_log(ctx, LOG_WARNING,
			    "tokenscope: key %s of [issuer %s] (%s) expires in %lld hours", kid,
			    s->conf->issuers[b->issuer_idx].name, ts_key_thumbprint(b->key),
			    (long long)(b->not_after - now) / 3600);
	}
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
	if (!force) {
		if (now - ctx->last_check < (double)interval)
			return 0;
		ctx->last_check = now;
		/* nothing changed since the state in force, or since the last
		 * failed attempt (so a broken file is reported once) */
		if ((ctx->state && !files_changed(&ctx->state->files)) ||
		    (ctx->failed.n > 0 && !files_changed(&ctx->failed)))
			return 0;
	}
	ctx->last_check = now;
	ctx->loading = 1;
	return 1;
}

/* Loads outside the lock (a large keyring takes a while), then installs the
 * result all or nothing: a failure keeps the state in force. */
static ts_reason
reload(ts_ctx *ctx, ts_err *e)
{
	ts_state *fresh = NULL, *old = NULL;
	ts_filelist files = { NULL, NULL, 0 };
	ts_reason r = state_load(ctx->path, &fresh, &files, e);

	pthread_mutex_lock(&ctx->lock);
	if (r == TS_OK && fresh != NULL) {
		fresh->files = files;
		old = ctx->state;
		ctx->state = fresh;
		ts_filelist_free(&ctx->failed);
		ctx->last_error[0] = '\0';
		warn_expiring(ctx, fresh);
		if (old != NULL)
			ctx_log(
			    ctx, LOG_INFO, "tokenscope: configuration reloaded from %s", ctx->path);
	} else {
		ts_filelist_free(&ctx->failed);
		ctx->failed = files;
		snprintf(ctx->last_error, sizeof(ctx->last_error), "%s", e->msg);
		ctx_log(ctx, LOG_ERR, "tokenscope: %s%s", e->msg,
		    ctx->state ? " (keeping the last good configuration)" : "");
	}
	ctx->loading = 0;
	pthread_mutex_unlock(&ctx->lock);
	ts_state_unref(old); /* freed when the last validation using it ends */
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
	ts_filelist_free(&ctx->failed);
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
