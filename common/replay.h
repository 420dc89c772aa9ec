/*
 * replay.h: the optional replay cache (C7), keyed by (iss, jti), shared by
 * every process on the host through a root-only directory: one file per
 * seen token, created with O_CREAT | O_EXCL, which is atomic across
 * processes, so of two racing validations exactly one wins. Never keyed by
 * signature bytes (ECDSA signatures are malleable). Entries carry, as their
 * mtime, the time from which the recording configuration refuses the token
 * as expired (exp + its clock_skew), and are swept once that has passed: so
 * configurations with different skews may share one directory, and one with
 * a small skew never sweeps what one with a larger skew still accepts.
 */
#ifndef TS_REPLAY_H
#define TS_REPLAY_H

#include <stddef.h>
#include <time.h>

#include "err.h"

/* TS_OK when (iss, jti) was not seen before (and is now recorded),
 * TS_R_REPLAYED when it was, TS_R_CONFIG_ERROR when the directory is
 * unusable (fail closed). */
ts_reason ts_replay_check(const char *dir, const char *iss, size_t iss_len, const char *jti,
    size_t jti_len, long long exp, long skew, time_t now, ts_err *e);

/* Removes entries whose recorded exp + skew is more than a minute in the
 * past. Returns the number removed, or -1. */
long ts_replay_sweep(const char *dir, time_t now);

#endif
