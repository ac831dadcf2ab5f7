/* wait.h - waiting for a target's batches: the options, the poll loop
 * with its progress line, Ctrl-C handling. */
#ifndef OAB_CLI_WAIT_H
#define OAB_CLI_WAIT_H

#include "target.h"

typedef struct cli_wait_opts {
    double interval;      /* first poll interval, seconds */
    double max_interval;  /* longest */
    int cancel_on_interrupt;
    double timeout;       /* give up after this many seconds; 0: never */
    int cancel_on_timeout;
} cli_wait_opts;

#define CLI_WAIT_OPTS_INIT { 5.0, 60.0, 0, 0, 0 }

/* Option ids and table entries of the waiting options. */
enum {
    CLI_OPT_INTERVAL = 900,
    CLI_OPT_MAX_INTERVAL,
    CLI_OPT_CANCEL_ON_INTERRUPT,
    CLI_OPT_TIMEOUT,
    CLI_OPT_CANCEL_ON_TIMEOUT
};
#define CLI_WAIT_OPTIONS                                       \
    { "interval", 0, 1, CLI_OPT_INTERVAL },                    \
    { "max-interval", 0, 1, CLI_OPT_MAX_INTERVAL },            \
    { "cancel-on-interrupt", 0, 0, CLI_OPT_CANCEL_ON_INTERRUPT }, \
    { "timeout", 0, 1, CLI_OPT_TIMEOUT },                      \
    { "cancel-on-timeout", 0, 0, CLI_OPT_CANCEL_ON_TIMEOUT }

/* Handles a waiting option: 1 consumed, 0 not one, -1 bad value. */
int cli_wait_opt(const char *cmd, int id, const char *arg, cli_wait_opts *w);
/* After the options: --cancel-on-timeout without --timeout is a usage
 * error (said; CLI_EXIT_USAGE), else -1 (go on). */
int cli_wait_check(const char *cmd, const cli_wait_opts *w);

/* 1 for a failure that a wait rides out: no connection, a timeout, a
 * broken transfer, HTTP 429 or 5xx. */
int cli_transient(oab_status st);

/* Polls until every unit is terminal, with a progress line on a
 * terminal. Failures that pass (cli_transient) do not end the wait: it
 * says once that the server cannot be reached, keeps polling with the
 * same backoff, and says when the server is back. Returns CLI_EXIT_OK
 * when done (whatever the statuses), CLI_EXIT_INTERRUPTED after Ctrl-C
 * (having printed how to resume, or cancelled), CLI_EXIT_API when
 * w->timeout ran out (having cancelled with cancel_on_timeout), or the
 * code of an error that does not pass (authentication, other 4xx). */
int cli_target_wait(cli_ctx *ctx, cli_target *t, const cli_wait_opts *w);

/* Re-asking (cmd_retry.c, `run --reask N`): up to `rounds` times, the
 * job's lines whose structured output failed its schema or whose answer
 * was cut by max_tokens are sent again as a retry part (as `retry
 * --invalid --truncated`) and waited for, saying after each round how
 * many were sent and fixed; stops early once none is left. The job's
 * batches must have ended. Exit code. */
int cli_reask(cli_ctx *ctx, cli_target *t, long rounds,
              const cli_wait_opts *w);

#endif
