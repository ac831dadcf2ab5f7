/* collect.h - the results of a target as rows: decoded, merged across
 * parts and retries (the latest line for a custom_id wins), sorted, and
 * written through a sink. */
#ifndef OAB_CLI_COLLECT_H
#define OAB_CLI_COLLECT_H

#include "util/buf.h"
#include "sink.h"
#include "target.h"

#include <stdio.h>
#include <sys/types.h>

/* A result line as its state, and where its JSONL text is. The rows of
 * a job are as many as its lines (a million, say) and a text can be tens
 * of KB (an embedding): the texts are kept in a temporary file, never in
 * memory, so that a row costs its custom_id and a few numbers. */
typedef struct cli_row {
    off_t off;            /* of its text in the rows' spool */
    size_t len;           /* of its text (compact JSONL, no newline); 0:
                             no text kept */
    int line_patched;     /* input_line differs from the one in text */
    char *custom_id;
    long input_line;      /* 0 when unknown */
    size_t seq;
    oab_result_status status;
    int truncated;        /* finish_reason "length": cut by max_tokens */
    int duplicate;        /* flagged "duplicate" in text */
} cli_row;

/* Rows start zeroed (memset): they keep each line's state only, which is
 * what retry and settling read. To be written, rows either stream
 * (`stream`: no merging, no sorting) or keep their texts in a spool
 * (cli_rows_keep_text). */
typedef struct cli_rows {
    cli_row *v;
    size_t n, cap;
    size_t seq;
    int incomplete;       /* a unit was not finished: its lines are absent */
    /* when set, rows are written at once instead of kept (no merging,
       no sorting: memory stays flat) */
    cli_sink *stream;
    /* the texts of the rows (cli_rows_keep_text), one after the other: a
       temporary file unlinked at once, so nothing is left behind however
       the command ends; NULL: no text is kept */
    FILE *spool;
    off_t spool_len;      /* bytes written to spool */
    int spool_err;        /* errno of the first failed write or read */
    int spool_reading;    /* that failure was a read */
    oab__buf scratch;     /* the row being written, or the text read */
    oab_usage paid;       /* usage summed over every answer added (a
                             retried line's older answers too: paid) */
    size_t n_paid;        /* answers that reported usage */
} cli_rows;

void cli_rows_free(cli_rows *rows);

/* Collects the results of every finished unit (parts and retries
 * merged: the latest line for a custom_id wins) into `rows`, set up by
 * the caller: streamed, keeping texts, or (zeroed) the state only.
 * `extra_input` is the input file for a batch not in the journal (may be
 * NULL). Exit code (after printing why). */
int cli_target_collect(cli_ctx *ctx, cli_target *t, const char *extra_input,
                       int raw, cli_rows *rows);

/* Makes the rows keep their texts from now on: opens the spool, an
 * unlinked file in $TMPDIR (else /tmp). Exit code (after printing why
 * it failed). */
int cli_rows_keep_text(cli_ctx *ctx, cli_rows *rows);

/* Adds a decoded result as a row: written to rows->stream when set, else
 * kept (its text spooled when rows->spool is open, else dropped). 0, or
 * -1 when out of memory, a write to the sink failed (cli_sink_stopped)
 * or the spool could not be written (rows->spool_err): cli_rows_fail
 * says which. */
int cli_rows_add(cli_rows *rows, const oab_result *r, long input_line,
                 const char *batch_id, int raw);

/* Appends text (len bytes) to the spool; row->off and row->len say where
 * it is. For rows made elsewhere (run --reuse-answers). 0, or -1 as
 * cli_rows_add. */
int cli_rows_put_text(cli_rows *rows, const char *text, size_t len,
                      cli_row *row);

/* The text of a row, read back from the spool: NUL-terminated, in
 * rows->scratch (valid until the next cli_rows_add or cli_rows_text).
 * NULL when it cannot be read (rows->spool_err; EINVAL when the row has
 * no text) or memory ran out. */
const char *cli_rows_text(cli_rows *rows, const cli_row *row);

/* Prints why cli_rows_add, cli_rows_spool or cli_rows_text failed (the
 * spool's errno, else out of memory); CLI_EXIT_LOCAL. */
int cli_rows_fail(cli_ctx *ctx, const cli_rows *rows);
/* Keeps the latest row of each custom_id. */
void cli_rows_merge(cli_rows *rows);
/* Sorts by input line (input_order) or by arrival. */
void cli_rows_sort(cli_rows *rows, int input_order);

/* Sorts, filters and writes the rows (which keep their texts:
 * cli_rows_keep_text); prints a summary on stderr. Exit code as
 * cli_sink_close; CLI_EXIT_LOCAL when a text cannot be read back (after
 * printing why; a file given by -o is then not made). */
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
