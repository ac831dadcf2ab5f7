/* sink.h - where results are written: stdout or a file (put in place at
 * close), as jsonl, csv or a table, with per-status counts and the
 * summary line; and the result options shared by results and run. */
#ifndef OAB_CLI_SINK_H
#define OAB_CLI_SINK_H

#include "cli.h"
#include "outfile.h"

#include <cjson/cJSON.h>
#include <stdio.h>

struct out_table;

typedef struct cli_results_opts {
    const char *out_path;  /* NULL: stdout */
    const char *format;    /* jsonl, csv, table */
    unsigned only_mask;    /* bit per oab_result_status; 0 = all */
    int input_order;
    int raw;
    int partial;  /* results --partial: write what has ended of a job
                   * whose batches have not all ended */
} cli_results_opts;

#define CLI_RESULTS_OPTS_INIT { NULL, "jsonl", 0, 0, 0, 0 }

/* Option ids and table entries of the result options (results, run). */
enum {
    CLI_OPT_OUTPUT = 950,
    CLI_OPT_FORMAT,
    CLI_OPT_ONLY,
    CLI_OPT_INPUT_ORDER,
    CLI_OPT_RAW
};
#define CLI_RESULTS_OPTIONS                                    \
    { "output", 'o', 1, CLI_OPT_OUTPUT },                      \
    { "format", 0, 1, CLI_OPT_FORMAT },                        \
    { "only", 0, 1, CLI_OPT_ONLY },                            \
    { "in-input-order", 0, 0, CLI_OPT_INPUT_ORDER },           \
    { "raw", 0, 0, CLI_OPT_RAW }

/* Handles a result option: 1 consumed, 0 not one, -1 bad value (after
 * printing). */
int cli_results_opt(const char *cmd, int id, const char *arg,
                    cli_results_opts *o);

typedef struct cli_sink {
    const struct cli_results_opts *o;
    FILE *f;              /* stdout, or out.f */
    cli_outfile out;      /* -o PATH */
    int color;
    struct out_table *table;
    size_t by[OAB_RESULT_STATUS_COUNT];
    size_t n, shown;
    size_t dups;          /* rows flagged duplicate (custom_id seen before) */
    int failed; /* a record could not be made (out of memory) */
    int werr;   /* errno of the first failed write, 0 if none */
} cli_sink;

int cli_sink_open(cli_ctx *ctx, cli_sink *k, const struct cli_results_opts *o);
void cli_sink_row(cli_sink *k, const cJSON *obj, oab_result_status st);
/* The same for a record kept as compact text of len bytes (parsed only
 * when the format needs fields; input_line > 0 replaces the record's;
 * duplicate: the record is flagged "duplicate"). */
void cli_sink_text(cli_sink *k, const char *text, size_t len,
                   oab_result_status st, long input_line, int duplicate);
/* Finishes the output and prints the summary. Returns CLI_EXIT_OK when
 * every line succeeded (and none is missing: `incomplete` 0),
 * CLI_EXIT_FAILED when one did not, or an error code. */
int cli_sink_close(cli_ctx *ctx, cli_sink *k, int incomplete);
void cli_sink_abort(cli_sink *k);
/* 1 when writing should stop: a write failed (a closed pipe, a full
 * disk), memory ran out, or Ctrl-C. */
int cli_sink_stopped(const cli_sink *k);
/* Says why writing stopped; its exit code (CLI_EXIT_INTERRUPTED after
 * Ctrl-C, CLI_EXIT_LOCAL for a failed write, silently for EPIPE). */
int cli_sink_stop_code(cli_ctx *ctx, const cli_sink *k);

#endif
