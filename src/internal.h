/* internal.h - shared helpers of the library, the server and the command.
 * Not installed. Everything here has the prefix oab__ (two underscores)
 * and is hidden from the shared library's exports. */
#ifndef OAB_INTERNAL_H
#define OAB_INTERNAL_H

#include "oaibatch.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#if defined(__GNUC__)
#define OAB__PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define OAB__PRINTF(a, b)
#endif

/* ---- growable byte buffer (always NUL-terminated) ---- */
typedef struct oab__buf {
    char *data;
    size_t len;
    size_t cap;
} oab__buf;

#define OAB__BUF_INIT { NULL, 0, 0 }

oab_status oab__buf_reserve(oab__buf *b, size_t extra);
oab_status oab__buf_append(oab__buf *b, const void *data, size_t len);
oab_status oab__buf_puts(oab__buf *b, const char *s);
oab_status oab__buf_putc(oab__buf *b, char c);
oab_status oab__buf_printf(oab__buf *b, const char *fmt, ...) OAB__PRINTF(2, 3);
/* Appends s as a JSON string literal, quotes included. */
oab_status oab__buf_json_string(oab__buf *b, const char *s, size_t len);
/* Hands over the data (never NULL on success: "" for an empty buffer). */
char *oab__buf_take(oab__buf *b, size_t *len_out);
void oab__buf_clear(oab__buf *b);     /* len = 0, keeps memory */
void oab__buf_free(oab__buf *b);

/* Room for element n of a growing array of `size`-byte elements with
 * *cap allocated: arr itself while n < *cap, else arr reallocated to
 * twice *cap (`first` the first time) with *cap updated. NULL when out
 * of memory (arr and *cap are then unchanged). */
void *oab__grow(void *arr, size_t *cap, size_t n, size_t size, size_t first);

/* ---- strings ---- */
char *oab__strdup(const char *s);            /* NULL stays NULL */
char *oab__strndup(const char *s, size_t n);
char *oab__sprintf(const char *fmt, ...) OAB__PRINTF(1, 2);
/* Frees *slot and stores a copy of s. */
oab_status oab__set_str(char **slot, const char *s);
/* oab__sprintf with a va_list (ap is used up). */
char *oab__vsprintf(const char *fmt, va_list ap) OAB__PRINTF(1, 0);
/* The value of the hex digit c (0-15), or -1. */
int oab__hexval(int c);
/* Writes the UTF-8 encoding of code point cp (at most 0x10FFFF) to out;
 * returns its length, 1 to 4. */
size_t oab__utf8_encode(unsigned long cp, char out[4]);

/* ---- oab_error ---- */
/* Fills err (if not NULL) and returns code. */
oab_status oab__err(oab_error *err, oab_status code, long line,
                    const char *fmt, ...) OAB__PRINTF(4, 5);
void oab__err_clear(oab_error *err);

/* ---- cJSON helpers ---- */
/* Parses exactly len bytes (need not be NUL-terminated). NULL on error. */
cJSON *oab__json_parse(const char *text, size_t len);
/* As oab__json_parse, saying why it failed: OAB_EJSON when the text is
 * not JSON, OAB_ENOMEM when it is (oab__json_check accepts it) but cJSON
 * ran out of memory. *out is NULL on error. */
oab_status oab__json_parse_st(cJSON **out, const char *text, size_t len);
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

/* ---- time ---- */
double oab__now(void);                 /* monotonic seconds */
long long oab__unix_now(void);         /* wall clock, seconds */
void oab__sleep(double seconds);

/* ---- files ---- */
/* Writes all of data to path atomically (path.tmp + fsync + rename). */
oab_status oab__write_file_atomic(const char *path, const void *data,
                                  size_t len);
/* Reads a whole (small) file. */
oab_status oab__read_file(const char *path, char **out, size_t *len_out);

/* ---- JSON-object helpers shared by builder, results and server ---- */
/* Strips "openai:" (or any "provider:" prefix) from a model name. */
const char *oab__model_name(const char *model);

/* The system text the prompted mode adds, split around the schema:
 *   OAB__PROMPTED_PREFIX <compact schema JSON> OAB__PROMPTED_SUFFIX
 * Results and the built-in test model find the schema by this text. */
#define OAB__PROMPTED_PREFIX \
    "Always respond with a JSON object that's compatible with this schema:\n\n"
#define OAB__PROMPTED_SUFFIX \
    "\n\nDon't include any text or Markdown fencing before or after."

/* Finds the structured-output expectation in a request body (chat or
 * responses): native response_format/text.format, a forced function tool,
 * or the prompted system text. Returns a new cJSON schema (caller frees)
 * and sets *mode, or NULL with *mode = OAB_OUTPUT_NONE. For TOOL mode,
 * *tool_name (borrowed from body) names the forced function. */
cJSON *oab__expect_from_body(const cJSON *body, oab_output_mode *mode,
                             const char **tool_name);
/* The same, telling "no expectation" (OAB_OK, *out NULL) from running
 * out of memory (OAB_ENOMEM, *out NULL). */
oab_status oab__expect_from_body_st(cJSON **out, const cJSON *body,
                                    oab_output_mode *mode,
                                    const char **tool_name);

/* ---- schema (src/schema*.c) ---- */
/* The parsed schema (borrowed) behind an oab_schema. */
const cJSON *oab__schema_root(const oab_schema *s);
/* Makes an oab_schema around a cJSON schema (takes ownership of root on
 * success), without strict rewriting. */
oab_status oab__schema_wrap(oab_schema **out, const char *name,
                            cJSON *root, oab_error *err);
/* Validates a parsed instance; same returns as oab_schema_validate. */
oab_status oab__schema_validate_json(const oab_schema *s,
                                     const cJSON *instance, oab_error *err);
/* Extracts a JSON value from model text: the whole text, or inside
 * Markdown code fences, or the first balanced {...} / [...]. NULL if none. */
cJSON *oab__extract_json(const char *text, size_t len);
/* The same, telling "none found" (OAB_OK, *out NULL) from running out of
 * memory (OAB_ENOMEM, *out NULL). */
oab_status oab__extract_json_st(cJSON **out, const char *text, size_t len);

#endif
