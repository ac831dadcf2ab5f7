/* jobcore.h - what several subcommands share about jobs and batches:
 * resolving an ID, fetching the batches, the status view, the wait loop
 * with its progress line, starting a part (upload + create, journaled),
 * and collecting the merged results of a job. */
#ifndef OAB_CLI_JOBCORE_H
#define OAB_CLI_JOBCORE_H

#include "cli.h"
#include "journal.h"

#include <cjson/cJSON.h>

/* One batch of a target: a part of a journal job, or a lone batch. */
typedef struct cli_unit {
    jr_part *part;        /* NULL for a batch not in the journal */
    const char *batch_id; /* NULL while the part has no batch yet */
    oab_job *batch;       /* last seen, NULL if never fetched */
} cli_unit;

/* What an ID names: a journal job (every part), or one batch. */
typedef struct cli_target {
    jr_job *job;          /* NULL for a batch unknown to the journal */
    char *batch_id;       /* set when the ID was a batch id */
    char *label;          /* the ID to show ("job_..." or "batch_...") */
    cli_unit *units;
    size_t n_units;
} cli_target;

/* Resolves ID. Returns CLI_EXIT_OK or an exit code after printing. */
int cli_target_resolve(cli_ctx *ctx, const char *id, cli_target *t);
/* Reloads the job's parts from the journal (after adding a part). */
int cli_target_reload(cli_ctx *ctx, cli_target *t);
void cli_target_free(cli_target *t);

/* Fetches every unit's batch (all, or only the unfinished ones) and
 * records the statuses in the journal. Exit code. */
int cli_target_fetch(cli_ctx *ctx, cli_target *t, int only_unfinished);

/* 1 when every unit has a batch in a terminal status. */
int cli_target_done(const cli_target *t);
/* 1 when every unit's batch completed. */
int cli_target_all_completed(const cli_target *t);
/* The job's overall status word. */
const char *cli_target_status(const cli_target *t);

/* The status view: JSON (caller frees) or a table on stdout. */
cJSON *cli_target_json(const cli_target *t);
void cli_target_print(cli_ctx *ctx, const cli_target *t);
/* Prints the target (JSON with --json, else the table). */
void cli_target_show(cli_ctx *ctx, const cli_target *t);

typedef struct cli_wait_opts {
    double interval;      /* first poll interval, seconds */
    double max_interval;  /* longest */
    int cancel_on_interrupt;
} cli_wait_opts;

#define CLI_WAIT_OPTS_INIT { 5.0, 60.0, 0 }

/* Option ids and table entries of the waiting options. */
enum {
    CLI_OPT_INTERVAL = 900,
    CLI_OPT_MAX_INTERVAL,
    CLI_OPT_CANCEL_ON_INTERRUPT
};
#define CLI_WAIT_OPTIONS                                       \
    { "interval", 0, 1, CLI_OPT_INTERVAL },                    \
    { "max-interval", 0, 1, CLI_OPT_MAX_INTERVAL },            \
    { "cancel-on-interrupt", 0, 0, CLI_OPT_CANCEL_ON_INTERRUPT }

/* Handles a waiting option: 1 consumed, 0 not one, -1 bad value. */
int cli_wait_opt(const char *cmd, int id, const char *arg, cli_wait_opts *w);

/* Polls until every unit is terminal, with a progress line on a
 * terminal. Returns CLI_EXIT_OK when done (whatever the statuses),
 * CLI_EXIT_INTERRUPTED after Ctrl-C (having printed how to resume, or
 * cancelled), or an error code. */
int cli_target_wait(cli_ctx *ctx, cli_target *t, const cli_wait_opts *w);

/* Cancels every unfinished unit. Exit code. */
int cli_target_cancel(cli_ctx *ctx, cli_target *t);

/* Uploads (unless done) and creates (unless done) the batch of a part,
 * writing each id to the journal as soon as it is known. When the part
 * has a file but no batch, first looks on the server for a batch made
 * from that file (a crash between create and the journal write). */
int cli_part_start(cli_ctx *ctx, jr_job *job, jr_part *part,
                   const char *completion_window);

/* ---- results ---- */

typedef struct cli_row {
    char *text;           /* the JSONL record, compact */
    int line_patched;     /* input_line differs from the one in text */
    char *custom_id;
    long input_line;      /* 0 when unknown */
    size_t seq;
    oab_result_status status;
} cli_row;

struct cli_sink;

typedef struct cli_rows {
    cli_row *v;
    size_t n, cap;
    size_t seq;
    int incomplete;       /* a unit was not finished: its lines are absent */
    /* when set, rows are written at once instead of kept (no merging,
       no sorting: memory stays flat) */
    struct cli_sink *stream;
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

struct out_table;

typedef struct cli_results_opts {
    const char *out_path;  /* NULL: stdout */
    const char *format;    /* jsonl, csv, table */
    unsigned only_mask;    /* bit per oab_result_status; 0 = all */
    int input_order;
    int raw;
} cli_results_opts;

/* Where results are written: stdout or a file (renamed into place at
 * close), as jsonl, csv or a table, with per-status counts. */
typedef struct cli_sink {
    const struct cli_results_opts *o;
    FILE *f;
    char *tmp;
    int color;
    struct out_table *table;
    size_t by[OAB_RESULT_STATUS_COUNT];
    size_t n, shown;
    int failed; /* a record could not be written (out of memory) */
} cli_sink;

int cli_sink_open(cli_ctx *ctx, cli_sink *k, const struct cli_results_opts *o);
void cli_sink_row(cli_sink *k, const cJSON *obj, oab_result_status st);
/* The same for a record kept as compact text (parsed only when the
 * format needs fields; input_line > 0 replaces the record's). */
void cli_sink_text(cli_sink *k, const char *text, oab_result_status st,
                   long input_line);
/* Finishes the output and prints the summary; exit code as
 * cli_results_write. */
int cli_sink_close(cli_ctx *ctx, cli_sink *k, int incomplete);
void cli_sink_abort(cli_sink *k);
/* 1 when the job has retry parts (results then need merging). */
int cli_target_has_retries(const cli_target *t);

/* Parses --only ("succeeded,failed,expired"); 0 or -1 after printing. */
int cli_only_parse(const char *cmd, const char *text, unsigned *mask);
/* 0 when the format word is known. */
int cli_format_check(const char *cmd, const char *format);
/* Sorts, filters and writes the rows; prints a summary on stderr.
 * Returns CLI_EXIT_OK when every line succeeded (and none is missing),
 * CLI_EXIT_FAILED when one did not, or an error code. */
int cli_results_write(cli_ctx *ctx, cli_rows *rows, const cli_results_opts *o);

/* The job's id (for messages). */
const char *cli_target_label(const cli_target *t);

#endif
