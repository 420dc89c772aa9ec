/* ctxcache.c: process-wide validation contexts (see ctxcache.h). */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <security/pam_ext.h>

#include "ctxcache.h"

#define MAX_CONFIGS 16 /* one config per host is the normal case */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	char *path;
	ts_ctx *ctx;
} cache[MAX_CONFIGS];

static __thread pam_handle_t *cur_pamh;
static __thread int cur_debug;

void
pt_log_handle(pam_handle_t *pamh, int debug)
{
	cur_pamh = pamh;
	cur_debug = debug;
}

void
pt_log(void *arg, int prio, const char *line)
{
	(void)arg;
	if (prio == LOG_DEBUG && !cur_debug)
		return;
	if (cur_pamh != NULL)
		pam_syslog(cur_pamh, prio, "%s", line);
	else
		syslog(LOG_AUTHPRIV | prio, "%s", line);
}

ts_ctx *
pt_ctx_get(const char *config)
{
	const char *path = config ? config : TS_DEFAULT_CONFIG;
	ts_ctx *ctx = NULL;
	size_t i;

	pthread_mutex_lock(&lock);
	for (i = 0; i < MAX_CONFIGS && cache[i].path != NULL; i++)
		if (strcmp(cache[i].path, path) == 0) {
			ctx = cache[i].ctx;
			goto out;
		}
	if (i == MAX_CONFIGS) {
		pt_log(NULL, LOG_ERR,
		    "pam_token: more than 16 different config= paths in one process");
		goto out;
	}
	if ((cache[i].path = strdup(path)) == NULL)
		goto out;
	/* a failed first load still gives a context: validations then fail
	 * closed with config_error, and a fixed file is picked up later */
	if (ts_ctx_new(path, pt_log, NULL, &ctx, NULL) == TS_R_INTERNAL || ctx == NULL) {
		free(cache[i].path);
		cache[i].path = NULL;
		ctx = NULL;
		goto out;
	}
	cache[i].ctx = ctx;
out:
	pthread_mutex_unlock(&lock);
	return ctx;
}
