/* outfile.h - the file behind -o PATH. A regular file (or a path that
 * does not exist yet) is replaced atomically: written to a temporary
 * file beside it, renamed over it at close. A symlink's target is the
 * file replaced (atomically, beside the target). A FIFO, a character
 * device, /dev/stdout and the like are written through. Nothing that is
 * not a regular file is ever unlinked or renamed over, and the temporary
 * file never outlives a failure. */
#ifndef OAB_CLI_OUTFILE_H
#define OAB_CLI_OUTFILE_H

#include "cli.h"

#include <stdio.h>

typedef struct cli_outfile {
    FILE *f;
    char *path;   /* as given (for messages) */
    char *final;  /* what the temporary file becomes; NULL: written through */
    char *tmp;    /* the temporary file; NULL: written through */
} cli_outfile;

/* Opens PATH for writing. Exit code (CLI_EXIT_LOCAL after saying which
 * path and why). */
int cli_outfile_open(cli_ctx *ctx, cli_outfile *of, const char *path);
/* Flushes and puts the file in place. Exit code (the temporary file is
 * removed on failure). A write error on a pipe whose reader has gone
 * (EPIPE) is not reported: the reader stopped reading. */
int cli_outfile_close(cli_ctx *ctx, cli_outfile *of);
/* Closes without putting anything in place. */
void cli_outfile_abort(cli_outfile *of);

#endif
