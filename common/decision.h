/*
 * decision.h: the one decision log line of a validation (M3), internal to
 * the core; the tests hold its worst case to ending whole.
 */
#ifndef TS_DECISION_H
#define TS_DECISION_H

#include <stddef.h>

#include "tokenscope.h"

/* Size of the buffer a decision line is formatted into. */
#define TS_DECISION_LINE_MAX 1600

/* Formats res (and the request's service and remote host, sanitised here)
 * into line. The line always ends with exp= and, on accept, user= whole:
 * should the fields ever not fit in cap, the fields before exp= are cut
 * and the cut marked "...". Returns the line's length (0 when cap cannot
 * hold even the end). */
size_t ts_decision_line(char *line, size_t cap, const ts_request *req, const ts_result *res);

#endif
