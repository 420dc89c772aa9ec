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
} ts_state;

struct ts_ctx {
	char *path;
	pthread_mutex_t lock; /* guards state, failed, last_check, last_error */
	ts_state *state; /* NULL until a load succeeded */
	ts_filelist failed; /* identities of the last failed attempt */
	double last_check;
	char last_error[TS_ERR_MSG_MAX];
	ts_log_fn *log;
	void *log_arg;
	long long last_sweep;
};

/* The current state with a reference held (after a change check), or NULL. */
ts_state *ts_ctx_acquire(ts_ctx *ctx);
void ts_state_unref(ts_state *s);

#endif
