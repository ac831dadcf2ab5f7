/* core/result.h - the result decoder's internals shared by
 * src/result.c and src/results*.c (results area only). */
#ifndef OAB_CORE_RESULT_H
#define OAB_CORE_RESULT_H

#include <cjson/cJSON.h>
#include "util/buf.h"
#include "util/jdoc.h"
/* Reusable decoding state: parse arrays kept between lines. */
typedef struct oab__rdec {
    oab__jdoc doc;   /* the line */
    oab__jdoc sub;   /* tool-call arguments */
    oab__buf tmp;
} oab__rdec;

#define OAB__RDEC_INIT { OAB__JDOC_INIT, OAB__JDOC_INIT, OAB__BUF_INIT }

void oab__rdec_free(oab__rdec *d);

/* Decodes one line without structured-output checks (see
 * oab_result_parse). OAB_OK (also for a malformed line) or OAB_ENOMEM. */
oab_status oab__result_decode(oab__rdec *d, oab_result **out,
                              const char *line, size_t len, long source_line);

/* Applies a structured-output expectation to a decoded result: fills
 * output_mode, parsed_json, invalid_reason and turns a succeeded result
 * into OAB_RESULT_INVALID_OUTPUT when the output does not match. expect
 * NULL or without schema does nothing. OAB_OK or OAB_ENOMEM. */
oab_status oab__result_apply_expect(oab_result *r, const oab_expect *expect);

/* Reads a response body's usage object u (chat / embeddings names, or
 * the responses API's input_tokens / output_tokens) into *out (zeroed
 * first). Returns 1 when u is an object, 0 otherwise. Shared with the
 * local server, which sums usage per batch. */
int oab__usage_decode(const oab__jdoc *doc, const oab__jv *u, oab_usage *out);

/* Best-effort custom_id of a line that is not valid JSON; NULL if none. */
char *oab__scan_custom_id(const char *line, size_t len);

/* ---- the merging of output + error files (src/results.c) ---- */

typedef struct oab__results oab__results;

/* Receives each result with ownership (free it or keep it); non-zero
 * stops the run (OAB_ESTOPPED). */
typedef int (*oab__result_take_fn)(oab_result *r, void *userdata);

/* Starts a run: reads opts->input_path (when set) into the map
 * custom_id -> (input line, expectation). */
oab_status oab__results_begin(oab__results **out,
                              const oab_results_options *opts,
                              oab__result_take_fn take, void *userdata,
                              oab_error *err);
/* Adds one input line (JSONL request) to the map, as read from a file. */
oab_status oab__results_add_input(oab__results *R, const char *line,
                                  size_t len, long lineno);
/* One file: begin, feed bytes in any chunking, end (delivers a last line
 * without newline). */
void oab__results_file_begin(oab__results *R, int from_error_file);
oab_status oab__results_feed(oab__results *R, const void *data, size_t len);
oab_status oab__results_file_end(oab__results *R);
/* A whole file from disk. */
oab_status oab__results_path(oab__results *R, const char *path,
                             int from_error_file, oab_error *err);
/* Delivers the input's custom_ids seen in neither file as
 * OAB_RESULT_MISSING. `job` (may be NULL): its errors (a failed batch)
 * are given to the missing lines, by line number when they have one. */
oab_status oab__results_finish(oab__results *R, const oab_job *job);
const oab_summary *oab__results_summary(const oab__results *R);
/* Sends the following results to another sink. */
void oab__results_retarget(oab__results *R, oab__result_take_fn take,
                           void *userdata);
void oab__results_free(oab__results *R);

/* A caller's oab_result_fn as a take function: oab__user_take(r, sink)
 * calls sink->fn (may be NULL) with r borrowed, then frees r. */
typedef struct oab__user_sink {
    oab_result_fn fn;
    void *ud;
} oab__user_sink;
int oab__user_take(oab_result *r, void *sink);

/* Collected form helpers. */
oab_status oab__result_set_new(oab_result_set **out);
int oab__result_set_take(oab_result *r, void *set);
/* Sorts by input line (unknown ones last, in arrival order). OAB_OK or
 * OAB_ENOMEM (the set is then left as it was). */
oab_status oab__result_set_sort_input(oab_result_set *set);

#endif
