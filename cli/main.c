/* main.c - `oaibatch`: global options, dispatch to the subcommands, exit
 * codes. `oaibatch --version` answers before anything is set up. */
#include "oaibatch.h"
#include "commands.h"
#include "journal.h"
#include "output.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

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

    /* a reader that goes away makes writes fail (EPIPE), so that the
     * command stops and cleans up instead of dying half-way */
    signal(SIGPIPE, SIG_IGN);
    cli_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.color = out_want_color(stdout);
    ctx.color_err = out_want_color(stderr);
    /* a progress bar redraws with escape sequences: not on TERM=dumb */
    ctx.tty_err = out_isatty(stderr) && !out_term_dumb();

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
    const cli_command *c = cli_command_find(cmd);
    if (!c)
        return cli_usage_error("", "no such command '%s'", cmd);

    /* the subcommand sees argv from its own name on */
    int rc = c->fn(&ctx, argc - cmd_index, argv + cmd_index);
    fflush(stdout);
    if (ferror(stdout) && rc == CLI_EXIT_OK) {
        if (errno != EPIPE)
            fprintf(stderr, "oaibatch: error: cannot write the output: %s\n",
                    strerror(errno));
        rc = CLI_EXIT_LOCAL;
    }
    out_progress_done(stderr);
    if (ctx.client) {
        oab_client_free(ctx.client);
        oab_global_cleanup();
    }
    journal_close(ctx.jr);
    free(ctx.job_base_url);
    for (size_t i = 0; i < ctx.n_warned; i++)
        free(ctx.warned[i]);
    free(ctx.job_provider);
    return rc;
}
