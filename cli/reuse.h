/* reuse.h - `run --reuse-answers`: lines whose request (custom_id aside,
 * in canonical JSON: keys sorted, no whitespace) has a successful answer
 * in the journal are not sent; their result is that answer, marked with
 * where it came from. The journal indexes answers by the SHA-256 of the
 * canonical request (journal_answer_*). */
#ifndef OAB_CLI_REUSE_H
#define OAB_CLI_REUSE_H

#include "cli.h"
#include "collect.h"

typedef struct cli_reuse {
    char *send_path;          /* the lines to send (NULL: none) */
    long *send_line;          /* input line of each line sent */
    unsigned char (*hash)[32];/* canonical hash of each line sent */
    size_t n_send, cap_send;
    cli_row *reused;          /* the answers taken from the journal, their
                                 texts in rows' spool */
    cli_rows *rows;           /* where the results will be */
    size_t n_reused, cap_reused;
    FILE *out;                /* send_path while it is written */
    cli_ctx *ctx;
    long lineno;
    int failed;               /* out of memory, a write, the journal */
} cli_reuse;

/* Reads the input at `path` (named `name`): each line's canonical hash is
 * looked up; answered lines become r->reused rows (custom_id and
 * input_line of this input, "reused_from": {job, batch, line}; their
 * texts in the spool of `rows`, which keeps texts: cli_rows_keep_text),
 * the others are written to r->send_path (a file next to the journal).
 * `rows` is the one later given to cli_reuse_finish. Exit code. */
int cli_reuse_prepare(cli_ctx *ctx, const char *path, const char *name,
                      cli_rows *rows, cli_reuse *r);

/* After the job of the lines sent: indexes its successful answers under
 * their hashes (job_id, the input line), gives its rows their lines of
 * the input, and adds the reused rows. Exit code. */
int cli_reuse_finish(cli_ctx *ctx, cli_reuse *r, const char *job_id,
                     cli_rows *rows);

/* Removes send_path, frees. */
void cli_reuse_free(cli_reuse *r);

#endif
