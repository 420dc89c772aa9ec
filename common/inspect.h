/*
 * inspect.h: a read-only view of the loaded configuration and keyring, for
 * the admin command's check-config -n, keys and fetch-keys. Private to
 * common/ and the admin command; the modules never need it.
 */
#ifndef TS_INSPECT_H
#define TS_INSPECT_H

#include "conf.h"
#include "keyring.h"
#include "tokenscope.h"

/* The callback runs with a reference to the state in force held, so conf
 * and kr stay valid for its duration only. Returns TS_R_CONFIG_ERROR if
 * nothing loaded. */
typedef void ts_inspect_fn(void *arg, const ts_conf *conf, const ts_keyring *kr);
ts_reason ts_ctx_inspect(ts_ctx *ctx, ts_inspect_fn *fn, void *arg);

#endif
