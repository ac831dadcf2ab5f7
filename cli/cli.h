/* cli.h - shared declarations of the `oaibatch` command: the context every
 * subcommand gets, exit codes, the option parser and small helpers. */
#ifndef OAB_CLI_H
#define OAB_CLI_H

#include <cjson/cJSON.h>
#include "util/compat.h"
#include "oaibatch.h"

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

/* A part's default byte cap: the smaller reading of the API's "200 MB"
 * per input file. */
#define CLI_MAX_PART_BYTES 200000000L

struct journal;

typedef struct cli_ctx {
    const char *journal_path;  /* --journal, else NULL (default place) */
    const char *base_url;      /* --base-url */
    const char *api_key_env;   /* --api-key-env NAME */
    const char *provider;      /* --provider, else NULL ($OAB_PROVIDER) */
    long anthropic_max_tokens; /* --anthropic-max-tokens, 0: none */
    const char *input_model;   /* the input's model, when the client is made
                                  for a submit ("anthropic:..." chooses
                                  Anthropic), else NULL */
    char *job_provider;        /* a job's provider, taken over (owned) */
    int quiet;                 /* --quiet */
    int json;                  /* --json (read commands) */
    int color;                 /* colour on stdout */
    int color_err;             /* colour on stderr */
    int tty_err;               /* stderr is a terminal: progress bars */
    char *job_base_url;        /* a job's base URL, taken over (owned) */
    const char *given_base_url; /* --base-url or $..._BASE_URL, kept from
                                   before a job's was taken over */
    int given_saved;           /* given_base_url is set */
    char *warned[8];           /* job URLs warned about (owned) */
    size_t n_warned;
    long create_refused;       /* HTTP status of a batch create refused for
                                  good (4xx), 0 when none */
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
    OPT_COLOR,
    OPT_PROVIDER,
    OPT_ANTHROPIC_MAX_TOKENS
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

/* A subcommand's option handler: 1 when it took option `id`, 0 when the
 * id is not one of its own, -1 after printing a bad value. */
typedef int (*cli_opt_handler)(const char *cmd, int id, const char *arg,
                               void *st);

/* How a subcommand's command line is read. */
typedef struct cli_parse_spec {
    const char *cmd;          /* its name, for messages */
    const cli_opt *opts;      /* its options (ends with a NULL name) */
    cli_opt_handler handle;   /* gets each of them; may be NULL */
    const char *pos_name;     /* its one positional word ("FILE", "ID"),
                                 NULL when it takes none */
    int pos_optional;         /* the word may be left out */
} cli_parse_spec;

/* Parses a subcommand's argv (from its name on): each option goes to
 * spec->handle with `st`, the global ones and --help are taken care of,
 * the positional word is put in *pos. Returns -1 to go on, else the exit
 * code to return (help printed, or a usage error printed). */
int cli_parse_args(cli_ctx *ctx, const cli_parse_spec *spec, int argc,
                   char **argv, void *st, const char **pos);

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
/* --threads N: a whole number from 1 to 8. */
int cli_parse_threads(const char *cmd, const char *s, int *out);

/* ---- help (the texts in cli/help.c, found through cli/commands.c) ---- */

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
/* The provider later calls use: the job's (cli_use_provider), else
 * --provider, else $OAB_PROVIDER, else the input's model prefix
 * ("anthropic:..."), else "openai". Static or borrowed text. */
const char *cli_provider_name(const cli_ctx *ctx);
/* 1 when the client talks (or will talk) to Anthropic. */
int cli_is_anthropic(const cli_ctx *ctx);
/* Makes later calls use `provider`, the one a job was submitted to (NULL:
 * a job journaled before providers, i.e. openai), warning when the
 * options or the environment say another. */
void cli_use_provider(cli_ctx *ctx, const char *provider);
/* Makes later calls go to `url`, the base URL job `job_id` was
 * submitted to, warning (once a URL) when the environment or --base-url
 * points elsewhere, with the `jobs move` that re-points the job. */
void cli_use_base_url(cli_ctx *ctx, const char *url, const char *job_id);
/* url without a user name and password in its authority
 * ("https://u:secret@host/v1" -> "https://host/v1"): what is kept in
 * the journal, printed and fingerprinted (a gateway's credentials in
 * the URL are secrets). New string, NULL when out of memory. */
char *cli_url_public(const char *url);
/* The journal, opened on first use (NULL after printing on failure). */
struct journal *cli_journal(cli_ctx *ctx);

/* Why the last library call on the client failed: the client's message,
 * else oab_strerror(st). Borrowed: valid until the next call on the
 * client (copy it before calls that look for what the failed one may
 * have made anyway). */
const char *cli_failure(cli_ctx *ctx, oab_status st);
/* Reports a failed library call on the client and maps it to an exit
 * code. `what` says what was being done ("upload part 2"). */
int cli_api_error(cli_ctx *ctx, oab_status st, const char *what);
/* The same with `what` made by printf. */
int cli_api_errorf(cli_ctx *ctx, oab_status st, const char *fmt, ...)
    OAB__PRINTF(3, 4);
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

/* The journal's jobs, newest first (limit <= 0: all), as
 * journal_jobs_list; says what went wrong. Exit code. */
struct journal_job;
int cli_jobs_list(cli_ctx *ctx, int limit, struct journal_job ***jobs,
                  size_t *n);

/* Takes the journal lock `name` (see journal_lock_try), waiting while
 * another live process holds it and saying once what it waits for
 * ("submitting FILE"). Exit code: CLI_EXIT_OK once held. */
int cli_lock(cli_ctx *ctx, const char *name, const char *what);
/* Drops a lock taken by cli_lock (no-op when not held). */
void cli_unlock(cli_ctx *ctx, const char *name);

/* Checks that an input file can be read, before any work: a missing
 * or unreadable file or a folder is named with the system's reason
 * (CLI_EXIT_LOCAL); a file that starts with a UTF-8 byte order mark
 * gets its own message (CLI_EXIT_INVALID). CLI_EXIT_OK when fine. */
int cli_check_input(cli_ctx *ctx, const char *path);
/* The same without the byte order mark's refusal (build's inputs are no
 * Batch API files); `name` is the file as the messages call it ("-" for
 * a copy of standard input). */
int cli_check_readable(cli_ctx *ctx, const char *path, const char *name);

/* FILE "-": copies standard input to a temporary file, *copy (malloc'd:
 * remove and free it when done), and points *path at it. Returns -1 to
 * go on (as an option parser does), else the exit code after saying why. */
int cli_spool_stdin(cli_ctx *ctx, char **copy, const char **path);

/* mkdir -p; 0 on success. */
int cli_mkdirs(const char *path);

#endif
