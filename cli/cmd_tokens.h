/* cmd_tokens.h - what `tokens` and `estimate` share. */
#ifndef OAB_CLI_CMD_TOKENS_H
#define OAB_CLI_CMD_TOKENS_H

#include "cli.h"

/* Lines of a file, or of standard input when path is "-" (as
 * oab_jsonl_read_path). */
oab_status cli_read_lines(const char *path, oab_line_fn fn, void *userdata,
                          oab_error *err);
/* Prints err (or the status) and returns the exit code: 4 for bad input
 * (OAB_EVALIDATION, OAB_EJSON), else 5. */
int cli_tokens_exit(cli_ctx *ctx, const oab_error *err, oab_status st);

#endif
