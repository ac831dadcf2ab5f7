/* collect.h - the results of a target as rows: decoded, merged across
 * parts and retries (the latest line for a custom_id wins), sorted, and
 * written through a sink. */
#ifndef OAB_CLI_COLLECT_H
#define OAB_CLI_COLLECT_H

#include "util/buf.h"
#include "sink.h"
#include "target.h"

typedef struct cli_row {
    char *text;           /* the JSONL record, compact */
    int line_patched;     /* input_line differs from the one in text */
    char *custom_id;
    long input_line;      /* 0 when unknown */
    size_t seq;
    oab_result_status status;
    int truncated;        /* finish_reason "length": cut by max_tokens */
    int duplicate;        /* flagged "duplicate" in text */
    size_t len;           /* of text */
} cli_row;

typedef struct cli_rows {
    cli_row *v;
    size_t n, cap;
    size_t seq;
    int incomplete;       /* a unit was not finished: its lines are absent */
    /* when set, rows are written at once instead of kept (no merging,
       no sorting: memory stays flat) */
    cli_sink *stream;
    oab__buf scratch;     /* the row being written */
    oab_usage paid;       /* usage summed over every answer added (a
                             retried line's older answers too: paid) */
    size_t n_paid;        /* answers that reported usage */
} cli_rows;

void cli_rows_free(cli_rows *rows);

/* Collects the results of every finished unit (parts and retries
 * merged: the latest line for a custom_id wins). `extra_input` is the
 * input file for a batch not in the journal (may be NULL). */
int cli_target_collect(cli_ctx *ctx, cli_target *t, const char *extra_input,
                       int raw, cli_rows *rows);

/* Adds a decoded result as a row. */
int cli_rows_add(cli_rows *rows, const oab_result *r, long input_line,
                 const char *batch_id, int raw);
/* Keeps the latest row of each custom_id. */
void cli_rows_merge(cli_rows *rows);
/* Sorts by input line (input_order) or by arrival. */
void cli_rows_sort(cli_rows *rows, int input_order);

/* Sorts, filters and writes the rows; prints a summary on stderr.
 * Exit code as cli_sink_close. */
int cli_results_write(cli_ctx *ctx, cli_rows *rows, const cli_results_opts *o);

/* Writes the results of a target: streamed when nothing needs merging
 * or sorting, else collected first. Exit code as cli_sink_close. */
int cli_target_write_results(cli_ctx *ctx, cli_target *t,
                             const char *extra_input,
                             const cli_results_opts *o);

/* Resolves ID, fetches every batch and settles the job. Exit code. */
int cli_target_load(cli_ctx *ctx, const char *id, cli_target *t);

/* Derives the job's state from its lines: when every batch has ended,
 * some did not complete and retries were made, reads the merged
 * results; once every input line has a final answer (succeeded or
 * failed, not expired, cancelled or missing) the job is settled:
 * completed, whatever its first batches ended as. Exit code. */
int cli_target_settle(cli_ctx *ctx, cli_target *t);
#endif
