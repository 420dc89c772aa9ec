/* fuzz_common.h: a scratch directory with the test policy and its keys, for
 * the targets that need a loaded configuration. */
#ifndef TS_FUZZ_COMMON_H
#define TS_FUZZ_COMMON_H

/* Copies tests/policy.conf and the fixture keys into a fresh directory and
 * returns the path of the config file there (static storage). */
const char *fuzz_policy_dir(void);

#endif
