/* estimate.h - the estimate of a batch input file (lines, input tokens,
 * output bound and cost range at batch prices, per model), shared by
 * `oaibatch estimate` and the check `submit` and `run` make before
 * sending (estimate.c). */
#ifndef OAB_CLI_ESTIMATE_H
#define OAB_CLI_ESTIMATE_H

#include "cli.h"
#include "prices.h"

typedef struct cli_model_sum {
    char *model;                 /* NULL for a total */
    const cli_price *price;      /* NULL: not in the table */
    unsigned long long lines, input, output_max, expected_output;
    unsigned long long unbounded; /* lines that set no output bound */
    unsigned long long max_input; /* the largest line's input tokens */
    int approximate;
} cli_model_sum;

typedef struct cli_estimate {
    const char *path;
    oab_tokenizers *set;
    const char *fallback;        /* encoding for unknown models, or NULL */
    const cli_prices *prices;
    long long expect;            /* -1: not asked */
    int threads;                 /* 0: cli_par_default_threads() */
    cli_model_sum *m;
    size_t n, cap;
    oab_error err;
} cli_estimate;

/* USD at batch prices: input only (min), with the output bound (max),
 * with the expected output; priced 0 when a model has no price. */
typedef struct cli_costs {
    double min, max, expected;
    int priced;
} cli_costs;

/* Loads the built-in price table (path NULL) or the file at path. 0, or
 * the exit code with the message printed. */
int cli_prices_load(cli_ctx *ctx, cli_prices *p, const char *path);

/* Counts the file at path into e (set up with path, set, fallback,
 * prices, expect and threads; the rest zero), its lines in parallel
 * (parlines.h) with the same result as one thread. OAB_OK, else the status with
 * e->err saying where. */
oab_status cli_estimate_file(cli_estimate *e);

cli_costs cli_estimate_costs(const cli_model_sum *s);

/* The sum over every model into *total (model NULL) and *tc. */
void cli_estimate_total(const cli_estimate *e, cli_model_sum *total,
                        cli_costs *tc);

/* Frees what cli_estimate_file added (not set or prices). */
void cli_estimate_free(cli_estimate *e);

/* What submit and run do before sending: estimates the file at path
 * (named `name` in messages) with the built-in prices and says its total
 * on stderr (not with -q); max_cost >= 0 (USD) refuses a file whose
 * upper bound is above it, or that has a model with no price, or that
 * cannot be estimated. 0 to go on, else the exit code (4, message
 * printed). Without max_cost a file that cannot be read as requests is
 * left to the validation to report. */
int cli_estimate_gate(cli_ctx *ctx, const char *path, const char *name,
                      double max_cost);

/* The cost of usage *u (prompt tokens, the cached part of them,
 * completion tokens) at the batch prices of `model` in `prices`: 1 with
 * *usd set, 0 when the model has no price (or is NULL). */
int cli_cost_compute(const cli_prices *prices, const oab_usage *u,
                     const char *model, double *usd);

/* The actual cost in `oaibatch status` (and its --json): the usage the
 * batch objects report (OpenAI's Batch object has `usage` for batches
 * created after 2025-09-07; the local server always reports it), summed
 * over the job's batches, at the built-in batch prices of the job's
 * model. Prints a line "cost: ..." on stdout, or adds "cost" to `json`
 * when it is not NULL: {prompt_tokens, cached_tokens, completion_tokens,
 * usd (null without a price), batches_counted, batches_without_usage}. */
struct cli_target;
void cli_cost_status(cli_ctx *ctx, const struct cli_target *t, cJSON *json);

/* The actual cost of answers whose usage sums to *u (prompt tokens, the
 * cached part of them, completion tokens) at the built-in batch prices
 * of `model` (may be NULL: unknown), said on stderr (not with -q). */
void cli_cost_report(cli_ctx *ctx, const oab_usage *u, const char *model);

#endif
