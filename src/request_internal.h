/* request_internal.h - helpers shared by the request area (request.c,
 * jsonl_writer.c, validate.c, split.c, create_job_requests.c). Internal. */
#ifndef OAB_REQUEST_INTERNAL_H
#define OAB_REQUEST_INTERNAL_H

#include "internal.h"

/* Top-level types reported by oab__json_check. */
#define OAB__JT_OBJECT 'o'
#define OAB__JT_ARRAY 'a'
#define OAB__JT_STRING 's'
#define OAB__JT_NUMBER 'n'
#define OAB__JT_BOOL 'b'
#define OAB__JT_NULL 'z'

/* Checks that text is exactly one JSON value (RFC 8259, strings valid
 * UTF-8, at most 1000 nested containers like cJSON), with no allocation.
 * *type (may be NULL) gets one of OAB__JT_*. OAB_OK or OAB_EJSON. */
oab_status oab__json_check(const char *text, size_t len, char *type);

/* Checks text like oab__json_check and appends it to out without the
 * whitespace between tokens (strings and numbers are kept as written). */
oab_status oab__json_append_compact(oab__buf *out, const char *text,
                                    size_t len, char *type);

/* 1 when s[0..n) is valid UTF-8 (no overlongs, no surrogates). */
int oab__utf8_valid(const char *s, size_t n);

/* The line of a request and where its body starts (the '{' after
 * "body":); the body runs to the line's last byte but one. */
const char *oab__request_line(const oab_request *req, size_t *len,
                              size_t *body_off);

/* Appends `len` bytes as one line plus "\n", unchecked (the splitter
 * copies input lines as they are). */
oab_status oab__jsonl_write_raw(oab_jsonl_writer *w, const char *line,
                                size_t len);

#endif
