/* part.h - starting one part of a job: upload, then create, each id
 * written to the journal as soon as it is known. */
#ifndef OAB_CLI_PART_H
#define OAB_CLI_PART_H

#include "cli.h"
#include "journal.h"
#include "target.h"

typedef struct cli_part_opts {
    const char *completion_window;  /* NULL: the API's default (24h) */
    long long output_expires_after; /* seconds; 0: not sent */
} cli_part_opts;

/* Uploads (unless done) and creates (unless done) the batch of a part,
 * writing each id to the journal as soon as it is known. When the part
 * has a file but no batch, first looks on the server for a batch made
 * from that file (a crash between create and the journal write). `po`
 * may be NULL. */
int cli_part_start(cli_ctx *ctx, journal_job *job, journal_part *part,
                   const cli_part_opts *po);

/* A part with no batch in the journal whose create may have been sent
 * (a crash between the create and the journal write): looks on the
 * server for the batch made for it and journals it (part->batch_id set):
 * OpenAI, the batch made from the part's file; Anthropic (no files), the
 * one batch created since the part's create was sent with its number of
 * requests, as cli_part_start adopts it. CLI_EXIT_OK whether or not one
 * was found; nothing is sent for a part with a batch, or with no file
 * (OpenAI) or no create sent (Anthropic). */
int cli_part_find(cli_ctx *ctx, journal_job *job, journal_part *part);

/* Starts every retry part of the target's job that has no batch yet
 * (its upload or create failed, or a crash cut it short) as `retry`
 * started it, and reloads the target. Such a part blocked every later
 * `retry` and `wait` of its job, and `submit` cannot resume it when the
 * input was standard input. The caller holds the job's lock
 * (cli_job_lock_name). A job with none: nothing sent. Exit code. */
int cli_part_resume_retries(cli_ctx *ctx, cli_target *t);

/* The names of the journal's locks (cli_lock), into buf: a job's
 * ("job:ID", held by retry while it makes and starts a retry part, and
 * by wait while it starts one) and an input's ("input:FINGERPRINT",
 * held by submit from its look-up of the journal until every part has
 * its batch). jobs rm takes both, input first. */
void cli_job_lock_name(char *buf, size_t n, const char *job_id);
void cli_input_lock_name(char *buf, size_t n, const char *fingerprint);

#endif
