/* main.c - `oaibatch`: global options, dispatch to the subcommands, exit
 * codes. `oaibatch --version` answers before anything is set up. */
#include "cli.h"
#include "journal.h"
#include "output.h"

#include <stdlib.h>
#include <string.h>

typedef int (*cmd_fn)(cli_ctx *ctx, int argc, char **argv);

static const struct {
    const char *name;
    cmd_fn fn;
} commands[] = {
    { "validate", cmd_validate }, { "build", cmd_build },
    { "submit", cmd_submit },     { "status", cmd_status },
    { "wait", cmd_wait },         { "cancel", cmd_cancel },
    { "results", cmd_results },   { "retry", cmd_retry },
    { "list", cmd_list },         { "jobs", cmd_jobs },
    { "run", cmd_run },           { "serve", cmd_serve },
    { "tokens", cmd_tokens },     { "estimate", cmd_estimate },
};

static int print_version(void)
{
    fputs("oaibatch " OAB_VERSION_STRING "\n", stdout);
    return CLI_EXIT_OK;
}

int main(int argc, char **argv)
{
    /* the fast path: no journal, no curl */
    if (argc == 2 && strcmp(argv[1], "--version") == 0)
        return print_version();

    cli_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.color = out_want_color(stdout);
    ctx.color_err = out_want_color(stderr);
    ctx.tty_err = out_isatty(stderr);

    /* global options before the command */
    static const cli_opt main_opts[] = {
        { "version", 'V', 0, 1 },
        { NULL, 0, 0, 0 },
    };
    cli_args a = { argc, argv, 1, 0, "" };
    const char *arg;
    int id;
    const char *cmd = NULL;
    int cmd_index = 0;
    while ((id = cli_next(&a, main_opts, &arg)) != CLI_PARSE_END) {
        if (id == CLI_PARSE_ERROR)
            return CLI_EXIT_USAGE;
        if (id == CLI_PARSE_POSITIONAL) {
            cmd = arg;
            cmd_index = a.i - 1;
            break;
        }
        if (id == 1)
            return print_version();
        int r = cli_common_opt(&ctx, "", id, arg);
        if (r >= 0)
            return r;
    }
    if (!cmd) {
        cli_print_help("");
        return CLI_EXIT_USAGE;
    }
    if (strcmp(cmd, "help") == 0) {
        const char *topic = cmd_index + 1 < argc ? argv[cmd_index + 1] : "";
        if (!cli_help_text(topic))
            return cli_usage_error("", "no such command '%s'", topic);
        return cli_print_help(topic);
    }
    cmd_fn fn = NULL;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, cmd) == 0)
            fn = commands[i].fn;
    if (!fn)
        return cli_usage_error("", "no such command '%s'", cmd);

    /* the subcommand sees argv from its own name on */
    int rc = fn(&ctx, argc - cmd_index, argv + cmd_index);
    fflush(stdout);
    if (ferror(stdout) && rc == CLI_EXIT_OK) {
        fprintf(stderr, "oaibatch: error: cannot write the output\n");
        rc = CLI_EXIT_LOCAL;
    }
    out_progress_done(stderr);
    if (ctx.client) {
        oab_client_free(ctx.client);
        oab_global_cleanup();
    }
    journal_close(ctx.jr);
    return rc;
}
