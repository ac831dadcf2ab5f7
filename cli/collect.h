/* collect.h - the results of a target as rows: decoded, merged across
 * parts and retries (the latest line for a custom_id wins), sorted, and
 * written through a sink. */
#ifndef OAB_CLI_COLLECT_H
#define OAB_CLI_COLLECT_H

#include "sink.h"
#include "target.h"

typedef struct cli_row {
    char *text;           /* the JSONL record, compact */
    int line_patched;     /* input_line differs from the one in text */
    char *custom_id;
    long input_line;      /* 0 when unknown */
    size_t seq;
    oab_result_status status;
} cli_row;

typedef struct cli_rows {
    cli_row *v;
    size_t n, cap;
    size_t seq;
    int incomplete;       /* a unit was not finished: its lines are absent */
    /* when set, rows are written at once instead of kept (no merging,
       no sorting: memory stays flat) */
    cli_sink *stream;
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

#endif
