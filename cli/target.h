/* target.h - what an ID names (a journal job with every part, or a lone
 * batch), resolving it, fetching its batches, its status, cancelling. */
#ifndef OAB_CLI_TARGET_H
#define OAB_CLI_TARGET_H

#include "cli.h"
#include "journal.h"

/* One batch of a target: a part of a journal job, or a lone batch. */
typedef struct cli_unit {
    journal_part *part;   /* NULL for a batch not in the journal */
    const char *batch_id; /* NULL while the part has no batch yet */
    oab_job *batch;       /* last seen, NULL if never fetched */
} cli_unit;

/* What an ID names: a journal job (every part), or one batch. */
typedef struct cli_target {
    journal_job *job;     /* NULL for a batch unknown to the journal */
    char *batch_id;       /* set when the ID was a batch id */
    char *label;          /* the ID to show ("job_..." or "batch_...") */
    cli_unit *units;
    size_t n_units;
    int settled;          /* every line has a final answer, though a batch
                             did not complete (cli_target_settle) */
} cli_target;

/* Resolves ID. Returns CLI_EXIT_OK or an exit code after printing. */
int cli_target_resolve(cli_ctx *ctx, const char *id, cli_target *t);
/* Reloads the job's parts from the journal (after adding a part). */
int cli_target_reload(cli_ctx *ctx, cli_target *t);
void cli_target_free(cli_target *t);
/* The job's id (for messages). */
const char *cli_target_label(const cli_target *t);

/* Fetches every unit's batch (all, or only the unfinished ones) and
 * records the statuses in the journal. Exit code. */
int cli_target_fetch(cli_ctx *ctx, cli_target *t, int only_unfinished);

/* Fetches the unfinished units' batches once, saying nothing on
 * failure (the client must exist: cli_client). Returns OAB_OK, or the
 * status of the first call that failed with *failed its unit (for
 * cli_target_report). */
oab_status cli_target_poll(cli_ctx *ctx, cli_target *t,
                           const cli_unit **failed);
/* Reports a failed poll of unit u; the exit code for it. */
int cli_target_report(cli_ctx *ctx, oab_status st, const cli_unit *u);

/* 1 when the unit's batch was seen in a terminal status. */
int cli_unit_terminal(const cli_unit *u);
/* The unit's status word (the batch's, or what the journal knows). */
const char *cli_unit_status(const cli_unit *u);
/* 1 when every unit has a batch in a terminal status. */
int cli_target_done(const cli_target *t);
/* 1 when every unit's batch completed, or the job is settled. */
int cli_target_all_completed(const cli_target *t);
/* The job's overall status word: "completed" once settled. */
const char *cli_target_status(const cli_target *t);
/* 1 when the job has retry parts (results then need merging). */
int cli_target_has_retries(const cli_target *t);
/* How many retry parts the job has. */
size_t cli_target_retries(const cli_target *t);
/* Progress counts that take each input line once: with retries, the
 * job's lines, those still running in a batch being pending. */
void cli_target_counts(const cli_target *t, long long *total,
                       long long *done, long long *failed);

/* Cancels every unfinished unit. Exit code. */
int cli_target_cancel(cli_ctx *ctx, cli_target *t);

/* Deletes what the server keeps of the target. OpenAI: the input file
 * each part uploaded and, with `outputs`, the output and error files of
 * its batches as last fetched. Anthropic (no files): with `outputs`,
 * each batch that ended, results and all. What is gone already counts
 * as deleted; a batch not ended is left (said). Each failure is said;
 * *deleted (may be NULL) counts what went. Exit code: CLI_EXIT_OK when
 * everything went, else the first failure's. */
int cli_target_delete_remote(cli_ctx *ctx, const cli_target *t, int outputs,
                             size_t *deleted);

#endif
