/* common.h - small helpers shared by the examples (not part of the library).
 *
 * Every example takes its server from the environment, as the library does:
 *   OPENAI_BASE_URL   unset: OpenAI; "http://127.0.0.1:PORT/v1": oaibatch serve
 *   OPENAI_API_KEY    needed for OpenAI; optional for a local server
 *   OAB_MODEL         the model; default "gpt-4o-mini"
 *   OAB_POLL_INTERVAL first poll interval in seconds (default 5)
 *   OAB_WAIT_TIMEOUT  how long to wait for a batch, in seconds (default 25 h)
 *
 * The examples use only the public header "oaibatch.h".
 */
#ifndef OAB_EXAMPLES_COMMON_H
#define OAB_EXAMPLES_COMMON_H

#include <stddef.h>

#include "oaibatch.h"

/* The model: $OAB_MODEL, or "gpt-4o-mini". Static or environment storage. */
const char *ex_model(void);

/* Creates a client from the environment with ex_model() as its model.
 * On failure prints why on stderr and returns NULL. */
oab_client *ex_client(void);

/* Prints "error: WHAT: <detail>" on stderr, with the client's one-line
 * message when a client is given (else the status string); returns 1, so
 * `return ex_fail(c, "create", st);` ends main() with a failure. */
int ex_fail(oab_client *c, const char *what, oab_status st);

/* Wait options from the environment (OAB_POLL_INTERVAL, OAB_WAIT_TIMEOUT),
 * with a progress callback that prints status changes on stderr. */
oab_wait_options ex_wait_options(void);

/* Waits for a batch to end (any terminal status). On success *out holds the
 * final job (free with oab_job_free). On failure prints why, returns the
 * status; *out may still hold the last job seen (timeout). */
oab_status ex_wait(oab_client *c, const char *batch_id, oab_job **out);

/* Formats Unix seconds as "2026-11-25T03:40:00Z" ("-" for 0). */
const char *ex_time(long long unix_s, char *buf, size_t size);

/* ---- a very small JSON reader, enough for the examples ----
 * The library hands JSON over as text (parsed_json, tool call arguments,
 * body_json); these helpers read members of one object without another
 * dependency. A real program would use its own JSON library. */

/* Finds member `key` of the top-level object in `json`; on success sets
 * *val and *len to the member's raw value text and returns 1; 0 if absent
 * or if `json` is not an object. */
int ex_json_member(const char *json, const char *key, const char **val,
                   size_t *len);

/* Member as a string (unescaped, UTF-8) copied into buf; returns 1 when it
 * is a string that fits, else 0. */
int ex_json_string(const char *json, const char *key, char *buf,
                   size_t size);

/* Member as a number; returns 1 when it is a number, else 0. */
int ex_json_number(const char *json, const char *key, double *out);

/* A growable string, for building JSON text. */
typedef struct ex_str {
    char *data; /* NUL-terminated once anything was added; free() it */
    size_t len;
    size_t cap;
} ex_str;

/* Appends text; returns 0 when out of memory. */
int ex_str_puts(ex_str *s, const char *text);
/* Appends `text` as a JSON string literal, quotes included. */
int ex_str_quote(ex_str *s, const char *text);

#endif /* OAB_EXAMPLES_COMMON_H */
