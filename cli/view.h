/* view.h - the status view of a target: a JSON document or a table. */
#ifndef OAB_CLI_VIEW_H
#define OAB_CLI_VIEW_H

#include "target.h"

#include <cjson/cJSON.h>

/* The status document (caller frees with cJSON_Delete). */
cJSON *cli_target_json(const cli_target *t);
/* The table on stdout. */
void cli_target_print(cli_ctx *ctx, const cli_target *t);
/* Prints the target (JSON with --json, else the table). */
void cli_target_show(cli_ctx *ctx, const cli_target *t);

#endif
