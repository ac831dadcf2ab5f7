/* queue.h - jobs queued under the provider's enqueued-token limit
 * (`submit`/`run --enqueued-token-limit N`, `--tier N`): parts cut so each
 * fits, only as many in flight as fit together, the next part started as
 * soon as capacity frees, a batch refused with token_limit_exceeded sent
 * again later by itself. The queue lives in the journal (journal_queue_*). */
#ifndef OAB_CLI_QUEUE_H
#define OAB_CLI_QUEUE_H

#include "cli.h"
#include "journal.h"
#include "part.h"

struct cli_wait_opts;

/* The documented enqueued-token limit of `model` at usage tier `tier`
 * (1..5), from OpenAI's published tables (docs/guide.md "Queueing"):
 * 0 with *out set, or -1 when the table has no figure for them. */
int cli_queue_tier_limit(int tier, const char *model, long long *out);

/* The input tokens of a JSONL file of requests, as `oaibatch estimate`
 * counts them (o200k_base for a model the tokenizer does not know);
 * without rank files, the bytes / 4 of each line rounded up (as the
 * local server counts then). `set` may be NULL (counted by bytes).
 * Also the largest line's count in *max_line (may be NULL). 0 or -1. */
int cli_queue_count(oab_tokenizers *set, const char *path, long long *tokens,
                    long long *max_line);

/* Runs the queue of a job until every part has a batch that was not
 * refused: `limit` > 0 is the limit to queue under (recorded in the
 * journal with each part's tokens, counted now when the journal has
 * none); 0 uses the limit the journal has for the job, and when it has
 * none starts every part at once (no queue). Polls with the wait
 * options' intervals; Ctrl-C stops it (the queue resumes when the same
 * command is run again). Exit code. */
int cli_queue_drive(cli_ctx *ctx, journal_job *job, long long limit,
                    const cli_part_opts *po,
                    const struct cli_wait_opts *w);

/* 1 when the batch failed with token_limit_exceeded (it cost nothing,
 * ran no line, and is not the part's answer). */
int cli_queue_refused(const oab_job *b);

#endif
