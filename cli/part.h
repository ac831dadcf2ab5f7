/* part.h - starting one part of a job: upload, then create, each id
 * written to the journal as soon as it is known. */
#ifndef OAB_CLI_PART_H
#define OAB_CLI_PART_H

#include "cli.h"
#include "journal.h"

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

#endif
