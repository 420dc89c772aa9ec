/* timeutil.h: RFC 3339 UTC timestamps in the config and in CLI output. */
#ifndef TS_TIMEUTIL_H
#define TS_TIMEUTIL_H

#include <stddef.h>
#include <time.h>

/* Parses exactly "YYYY-MM-DDTHH:MM:SSZ". Returns 0 or -1. */
int ts_time_parse(const char *s, time_t *out);
/* Formats t as "YYYY-MM-DDTHH:MM:SSZ" into buf (>= 21 bytes). */
void ts_time_format(time_t t, char *buf, size_t cap);

#endif
