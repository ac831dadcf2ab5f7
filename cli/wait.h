/* wait.h - waiting for a target's batches: the options, the poll loop
 * with its progress line, Ctrl-C handling. */
#ifndef OAB_CLI_WAIT_H
#define OAB_CLI_WAIT_H

#include "target.h"

typedef struct cli_wait_opts {
    double interval;      /* first poll interval, seconds */
    double max_interval;  /* longest */
    int cancel_on_interrupt;
} cli_wait_opts;

#define CLI_WAIT_OPTS_INIT { 5.0, 60.0, 0 }

/* Option ids and table entries of the waiting options. */
enum {
    CLI_OPT_INTERVAL = 900,
    CLI_OPT_MAX_INTERVAL,
    CLI_OPT_CANCEL_ON_INTERRUPT
};
#define CLI_WAIT_OPTIONS                                       \
    { "interval", 0, 1, CLI_OPT_INTERVAL },                    \
    { "max-interval", 0, 1, CLI_OPT_MAX_INTERVAL },            \
    { "cancel-on-interrupt", 0, 0, CLI_OPT_CANCEL_ON_INTERRUPT }

/* Handles a waiting option: 1 consumed, 0 not one, -1 bad value. */
int cli_wait_opt(const char *cmd, int id, const char *arg, cli_wait_opts *w);

/* Polls until every unit is terminal, with a progress line on a
 * terminal. Returns CLI_EXIT_OK when done (whatever the statuses),
 * CLI_EXIT_INTERRUPTED after Ctrl-C (having printed how to resume, or
 * cancelled), or an error code. */
int cli_target_wait(cli_ctx *ctx, cli_target *t, const cli_wait_opts *w);

#endif
