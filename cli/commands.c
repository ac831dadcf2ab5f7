/* commands.c - the table of subcommands, and help lookup through it. */
#include "commands.h"

#include <stdio.h>
#include <string.h>

#define CMD(name) { #name, cmd_##name, cli_help_##name, cli_opts_##name, NULL }
#define CMD_ACTIONS(name, actions)                                         \
    { #name, cmd_##name, cli_help_##name, cli_opts_##name, actions }

static const cli_command commands[] = {
    CMD(validate), CMD(build),   CMD(submit), CMD(status),
    CMD(wait),     CMD(cancel),  CMD(results), CMD(retry),
    CMD(list),     CMD_ACTIONS(jobs, "rm prune move"), CMD(run),
    CMD(serve),    CMD_ACTIONS(files, "list get download delete"),
    CMD(completion), CMD(watch), CMD(tokens),
    CMD(estimate), CMD(delete),
};

const cli_command *cli_commands(size_t *n)
{
    *n = sizeof commands / sizeof commands[0];
    return commands;
}

const cli_command *cli_command_find(const char *name)
{
    for (size_t i = 0; name && i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

const char *cli_help_text(const char *cmd)
{
    if (!cmd || !*cmd)
        return cli_help_main;
    /* "jobs rm": the help of "jobs" */
    const char *sp = strchr(cmd, ' ');
    char word[32];
    if (sp && (size_t)(sp - cmd) < sizeof word) {
        memcpy(word, cmd, (size_t)(sp - cmd));
        word[sp - cmd] = '\0';
        cmd = word;
    }
    const cli_command *c = cli_command_find(cmd);
    return c ? c->help : NULL;
}

int cli_print_help(const char *cmd)
{
    const char *t = cli_help_text(cmd);
    fputs(t ? t : cli_help_main, stdout);
    return CLI_EXIT_OK;
}
