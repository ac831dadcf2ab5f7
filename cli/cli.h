/* cli.h - shared declarations of the `oaibatch` command: the context every
 * subcommand gets, exit codes, the option parser and small helpers. */
#ifndef OAB_CLI_H
#define OAB_CLI_H

#include "oaibatch.h"
#include "internal.h"

#include <stdio.h>

/* Exit codes (documented in docs/cli.md and `oaibatch --help`). */
enum {
    CLI_EXIT_OK = 0,          /* success */
    CLI_EXIT_FAILED = 1,      /* a batch or a line failed, as asked to report */
    CLI_EXIT_USAGE = 2,       /* bad command line */
    CLI_EXIT_API = 3,         /* API, network or server error */
    CLI_EXIT_INVALID = 4,     /* the input file failed validation */
    CLI_EXIT_LOCAL = 5,       /* local error: file, journal, unknown id */
    CLI_EXIT_INTERRUPTED = 130
};

struct journal;

typedef struct cli_ctx {
    const char *journal_path;  /* --journal, else NULL (default place) */
    const char *base_url;      /* --base-url */
    const char *api_key_env;   /* --api-key-env NAME */
    int quiet;                 /* --quiet */
    int json;                  /* --json (read commands) */
    int color;                 /* colour on stdout */
    int color_err;             /* colour on stderr */
    int tty_err;               /* stderr is a terminal: progress bars */
    oab_client *client;        /* made on first use */
    struct journal *jr;        /* opened on first use */
} cli_ctx;

/* ---- option parser ---- */

typedef struct cli_opt {
    const char *name;   /* long name without "--" */
    char short_name;    /* 0 when none */
    int has_arg;
    int id;             /* > 0 */
} cli_opt;

/* ids of the global options, accepted by every subcommand */
enum {
    OPT_HELP = 1000,
    OPT_JSON,
    OPT_QUIET,
    OPT_JOURNAL,
    OPT_BASE_URL,
    OPT_API_KEY_ENV,
    OPT_NO_COLOR,
    OPT_COLOR
};

typedef struct cli_args {
    int argc;
    char **argv;
    int i;              /* next argv index */
    int only_positional;
    const char *cmd;    /* subcommand name, for messages */
} cli_args;

#define CLI_PARSE_END (-1)
#define CLI_PARSE_ERROR (-2)
#define CLI_PARSE_POSITIONAL 0

/* Next option or positional argument. Returns the option's id with *arg
 * set for options that take one, CLI_PARSE_POSITIONAL with *arg the word,
 * CLI_PARSE_END, or CLI_PARSE_ERROR after printing a message. `opts` ends
 * with an entry whose name is NULL; the global options are tried too. */
int cli_next(cli_args *a, const cli_opt *opts, const char **arg);

/* Handles a global option id (returns 1), not one (0), bad value (-1). */
int cli_global_opt(cli_ctx *ctx, int id, const char *arg);
/* For the default: case of a subcommand's option loop: handles --help
 * and the global options. Returns -1 to go on, else the exit code. */
int cli_common_opt(cli_ctx *ctx, const char *cmd, int id, const char *arg);

/* Prints "oaibatch CMD: message" and a hint to stderr; returns
 * CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) OAB__PRINTF(2, 3);

/* Parses numbers; return 0 on success, print and return -1 otherwise. */
int cli_parse_long(const char *cmd, const char *opt, const char *s, long *out);
int cli_parse_double(const char *cmd, const char *opt, const char *s,
                     double *out);

/* ---- help (cli/help.c) ---- */

/* The help text of a subcommand ("" = the top level), NULL if unknown. */
const char *cli_help_text(const char *cmd);
/* Prints the help to stdout and returns CLI_EXIT_OK. */
int cli_print_help(const char *cmd);

/* ---- shared helpers (cli/common.c) ---- */

/* Diagnostics on stderr ("oaibatch: error: ..."); honour colour. */
void cli_error(cli_ctx *ctx, const char *fmt, ...) OAB__PRINTF(2, 3);
void cli_warn(cli_ctx *ctx, const char *fmt, ...) OAB__PRINTF(2, 3);
/* Informational line on stderr unless --quiet. */
void cli_info(cli_ctx *ctx, const char *fmt, ...) OAB__PRINTF(2, 3);

/* The client, made on first use from the environment and the global
 * options. Prints the problem and returns NULL on failure. */
oab_client *cli_client(cli_ctx *ctx);
/* The journal, opened on first use (NULL after printing on failure). */
struct journal *cli_journal(cli_ctx *ctx);

/* Reports a failed library call on the client and maps it to an exit
 * code. `what` says what was being done ("upload part 2"). */
int cli_api_error(cli_ctx *ctx, oab_status st, const char *what);
/* Maps an oab_status to an exit code. */
int cli_exit_for(oab_status st);

/* Crash injection for tests: when $OAB_CLI_CRASH_AFTER equals `point`,
 * the process ends at once with _exit(99). */
void cli_crash_point(const char *point);

/* The process was asked to stop (SIGINT/SIGTERM). */
extern volatile int cli_interrupted;
void cli_install_signals(void);
/* Sleeps up to `seconds`, waking early when interrupted. */
void cli_sleep(double seconds);

/* Validation options for the command: per-line checks and consistency,
 * but no per-file limits (submit splits) and no minimum count. */
void cli_validate_options(oab_validate_options *o, size_t max_problems);

/* mkdir -p; 0 on success. */
int cli_mkdirs(const char *path);

/* ---- subcommands ---- */
int cmd_validate(cli_ctx *ctx, int argc, char **argv);
int cmd_build(cli_ctx *ctx, int argc, char **argv);
int cmd_submit(cli_ctx *ctx, int argc, char **argv);
int cmd_run(cli_ctx *ctx, int argc, char **argv);
int cmd_status(cli_ctx *ctx, int argc, char **argv);
int cmd_wait(cli_ctx *ctx, int argc, char **argv);
int cmd_cancel(cli_ctx *ctx, int argc, char **argv);
int cmd_results(cli_ctx *ctx, int argc, char **argv);
int cmd_retry(cli_ctx *ctx, int argc, char **argv);
int cmd_list(cli_ctx *ctx, int argc, char **argv);
int cmd_jobs(cli_ctx *ctx, int argc, char **argv);
int cmd_serve(cli_ctx *ctx, int argc, char **argv);
/* tokens, estimate (cli/cmd_tokens.c, cli/cmd_estimate.c) */
int cmd_tokens(cli_ctx *ctx, int argc, char **argv);
int cmd_estimate(cli_ctx *ctx, int argc, char **argv);

#endif
