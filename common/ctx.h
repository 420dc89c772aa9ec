/* ctx.h: internals of a validation context (tokenscope.h has the API). */
#ifndef TS_CTX_H
#define TS_CTX_H

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>

#include "conf.h"
#include "keyring.h"
#include "tokenscope.h"

/* One loaded, immutable configuration + keyring, reference-counted so a
 * reload can replace it while validations still use the old one. */
typedef struct ts_state {
	atomic_long refs;
	ts_conf *conf;
	ts_keyring *kr;
	ts_filelist files; /* every file read, with its identity */
	/* K11: set when this state is the last good one (base) less what a
	 * failed reload's files take away; conf and keys are base's, and a
	 * reference to base is held */
	struct ts_state *base;
	/* with base: conf is a shallow copy of base's (its issuers array its
	 * own, for a later revoke_before), freed with the state */
	int conf_copied;
} ts_state;

struct ts_ctx {
	char *path;
	pthread_mutex_t lock; /* guards state, failed, last_check, last_error,
	                       * seen_* (outside a load) */
	ts_state *state; /* in force: good, or good less what was taken away */
	ts_state *good; /* the last state that loaded whole; NULL until one did */
	ts_filelist failed; /* identities of the last failed attempt */
	/* K15: what the change check that started a reload found: the list it
	 * checked (state's or failed) and each file's identity now, so that
	 * the reload does not examine an unchanged key file again; of is NULL
	 * when no check started it. Written under lock by a change check (which
	 * never runs while a load does), read and cleared by the loading
	 * thread. */
	const ts_filelist *seen_of;
	ts_file_id *seen_ids;
	size_t seen_cap;
	double last_check;
	int loading; /* one thread is loading a new state */
	char last_error[TS_ERR_MSG_MAX];
	char revoke_error[TS_ERR_MSG_MAX]; /* K11: logged at every change check */
	ts_log_fn *log;
	void *log_arg;
	long long last_sweep; /* replay cache: guarded by lock too */
};

/* The current state with a reference held (after a change check), or NULL. */
ts_state *ts_ctx_acquire(ts_ctx *ctx);
void ts_state_unref(ts_state *s);
/* msg at LOG_ERR, prefixed and with control bytes replaced (M3): a key
 * file's text reaches it. */
void ts_ctx_log_error(ts_ctx *ctx, const char *msg);
/* K5, K15: the expiry warnings for the key files of section idx that were
 * parsed at their first use (the load warned about the others). */
void ts_ctx_warn_first_use(ts_ctx *ctx, const ts_conf *conf, const ts_keyring *kr, size_t idx);
/* True at most once per 5 minutes: time to sweep the replay cache. */
int ts_ctx_sweep_due(ts_ctx *ctx, time_t now);

#endif
