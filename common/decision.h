/*
 * decision.h: the one decision log line of a validation (M3), and the
 * alert line of M7, as text or as JSON (M8); internal to the core. The
 * tests hold their worst cases to ending whole and to parsing as JSON.
 */
#ifndef TS_DECISION_H
#define TS_DECISION_H

#include <stddef.h>

#include "tokenscope.h"

/* Size of the buffer a decision or alert line is formatted into. */
#define TS_DECISION_LINE_MAX 3072

/* Formats res (and the request's service and remote host, sanitised here)
 * into line. The line always ends with exp= and, on accept, user= whole:
 * should the fields ever not fit in cap, the fields before exp= are cut
 * and the cut marked "...". An alert adds alert=NAME after jti=. Returns
 * the line's length (0 when cap cannot hold even the end). */
size_t ts_decision_line(char *line, size_t cap, const ts_request *req, const ts_result *res);

/* M8: the same fields as one JSON object after "tokenscope: ", with
 * "event":"decision", "time" (the request's clock) and "alert" (null when
 * none); empty fields are null. Every string goes through
 * ts_json_put_string, so no value can break the object or the line.
 * Returns its length, 0 when cap < TS_DECISION_LINE_MAX. */
size_t ts_decision_json(char *line, size_t cap, const ts_request *req, const ts_result *res);

/* M7: the LOG_ALERT line of a classified refusal (text, or JSON with
 * "event":"alert"): the alert, the reason, the claimed issuer and kid, and
 * the out-of-scope key's [issuer] section and thumbprint. 0 when res has
 * no alert. */
size_t ts_alert_line(char *line, size_t cap, const ts_request *req, const ts_result *res, int json);

/* log_level = debug: the refusal's detail (sanitised), as text or as
 * JSON with "event":"detail". 0 when res has none. */
size_t ts_detail_line(
    char *line, size_t cap, const ts_request *req, const ts_result *res, int json);

#endif
