/* util/json.h - cJSON helpers and the JSON checker.
 * Internal: util layer, no API knowledge. */
#ifndef OAB_UTIL_JSON_H
#define OAB_UTIL_JSON_H

#include "util/buf.h"
#include "oaibatch.h"
#include <cjson/cJSON.h>
#include <stddef.h>

/* ---- cJSON helpers ---- */
/* Parses exactly len bytes (need not be NUL-terminated). NULL on error. */
cJSON *oab__json_parse(const char *text, size_t len);
/* As oab__json_parse, saying why it failed: OAB_EJSON when the text is
 * not JSON, OAB_ENOMEM when it is (oab__json_check accepts it) but cJSON
 * ran out of memory. *out is NULL on error. */
oab_status oab__json_parse_st(cJSON **out, const char *text, size_t len);
/* An upper bound of the memory a parse of text[0..len) with cJSON takes
 * (oab__json_parse): a node (and its allocator's overhead) for each value,
 * counted as the commas and opening brackets outside strings plus one,
 * and the strings' bytes copied. Many small values take some 40 times
 * their text ("[0,0,...]": 2 bytes of text, 80 of node): a caller that
 * bounds the bodies it holds charges this before it parses. One pass, no
 * allocation; text need not be JSON (the bound is then of nothing).
 * *nvalues (when not NULL) gets the number of values counted. */
size_t oab__json_parse_cost(const char *text, size_t len, size_t *nvalues);
/* Compact serialization; free with free()/oab_free. */
char *oab__json_print(const cJSON *item);
/* Member as string / number / bool, or the fallback when absent, null or
 * of another type. Strings are borrowed. */
const char *oab__json_str(const cJSON *obj, const char *key);
long long oab__json_ll(const cJSON *obj, const char *key, long long dflt);
double oab__json_num(const cJSON *obj, const char *key, double dflt);
/* Nested lookup by dotted path ("response.body.error.code"). */
const cJSON *oab__json_path(const cJSON *obj, const char *dotted);
/* Walking a dotted path: copies the next key into key (keysz bytes) and
 * moves *p past it. 1 when a key was taken, 0 at the end of the path,
 * -1 when the key does not fit. */
int oab__path_next(const char **p, char *key, size_t keysz);

/* ---- the JSON checker (util/json_scan.c, on the one JSON lexer) ---- */
/* Top-level types reported by oab__json_check. */
#define OAB__JT_OBJECT 'o'
#define OAB__JT_ARRAY 'a'
#define OAB__JT_STRING 's'
#define OAB__JT_NUMBER 'n'
#define OAB__JT_BOOL 'b'
#define OAB__JT_NULL 'z'

/* Checks that text is exactly one JSON value (RFC 8259, strings valid
 * UTF-8, at most OAB__JSON_MAX_DEPTH nested containers like cJSON), with
 * no allocation.
 * *type (may be NULL) gets one of OAB__JT_*. OAB_OK or OAB_EJSON. */
oab_status oab__json_check(const char *text, size_t len, char *type);

/* Checks text like oab__json_check and appends it to out without the
 * whitespace between tokens (strings and numbers are kept as written). */
oab_status oab__json_append_compact(oab__buf *out, const char *text,
                                    size_t len, char *type);

/* Appends the canonical form of item to out: object keys sorted (byte
 * order), no whitespace, strings and numbers as cJSON prints them, so
 * that two documents equal as JSON values of the same key order-free
 * content get the same text. OAB_OK or OAB_ENOMEM. */
oab_status oab__json_append_canonical(oab__buf *out, const cJSON *item);

/* 1 when s[0..n) is valid UTF-8 (no overlongs, no surrogates). */
int oab__utf8_valid(const char *s, size_t n);

/* Appends s[0..n) to b with every byte that begins no valid UTF-8
 * sequence replaced by U+FFFD, one for each such byte (WHATWG's decoder
 * replaces a cut sequence's bytes with one): valid text is copied as it
 * is, and the result is always valid UTF-8. In a JSON text such bytes can only be inside strings, so the
 * repaired text is the same JSON with those characters replaced.
 * OAB_OK or OAB_ENOMEM (b then holds a prefix). */
oab_status oab__utf8_repair(oab__buf *b, const char *s, size_t n);

#endif
