/* commands.h - the subcommands of `oaibatch`: one table (commands.c)
 * names each with its function and its help text. Adding a command is a
 * file with its cmd_NAME, cli_help_NAME and cli_opts_NAME, one
 * CLI_DECLARE_COMMAND line here and one CMD line in the table. */
#ifndef OAB_CLI_COMMANDS_H
#define OAB_CLI_COMMANDS_H

#include "cli.h"

#include <stddef.h>

typedef int (*cli_cmd_fn)(cli_ctx *ctx, int argc, char **argv);

typedef struct cli_command {
    const char *name;
    cli_cmd_fn fn;        /* sees argv from its own name on */
    const char *help;     /* the text of `oaibatch NAME --help` */
    const cli_opt *opts;  /* its options (for completion) */
    const char *actions;  /* its action words ("rm prune"), for completion;
                             NULL when it has none */
} cli_command;

/* Every command, in the table's order; *n gets how many. */
const cli_command *cli_commands(size_t *n);

/* The command called `name`, NULL when there is none. */
const cli_command *cli_command_find(const char *name);

/* The options every command takes (args.c). */
extern const cli_opt cli_global_opts[];

/* The help of the top level (`oaibatch --help`). */
extern const char cli_help_main[];

#define CLI_DECLARE_COMMAND(name)                         \
    int cmd_##name(cli_ctx *ctx, int argc, char **argv);  \
    extern const char cli_help_##name[];                  \
    extern const cli_opt cli_opts_##name[]

CLI_DECLARE_COMMAND(validate);
CLI_DECLARE_COMMAND(build);
CLI_DECLARE_COMMAND(submit);
CLI_DECLARE_COMMAND(status);
CLI_DECLARE_COMMAND(wait);
CLI_DECLARE_COMMAND(cancel);
CLI_DECLARE_COMMAND(results);
CLI_DECLARE_COMMAND(retry);
CLI_DECLARE_COMMAND(list);
CLI_DECLARE_COMMAND(jobs);
CLI_DECLARE_COMMAND(run);
CLI_DECLARE_COMMAND(serve);
CLI_DECLARE_COMMAND(files);
CLI_DECLARE_COMMAND(completion);
CLI_DECLARE_COMMAND(watch);
CLI_DECLARE_COMMAND(tokens);
CLI_DECLARE_COMMAND(estimate);
CLI_DECLARE_COMMAND(delete);

#endif
