/* cmd_estimate.c - `oaibatch estimate FILE`: lines, input tokens, an
 * output upper bound and the cost range at batch prices, per model and
 * in total, before anything is sent. */
#include "util/err.h"
#include "cli.h"
#include "commands.h"
#include "cmd_tokens.h"
#include "output.h"
#include "estimate.h"

#include <stdlib.h>
#include <string.h>

static cJSON *sum_json(const cli_model_sum *s, const cli_costs *c, long long expect)
{
    cJSON *o = cJSON_CreateObject();
    if (s->model)
        cJSON_AddStringToObject(o, "model", s->model);
    cJSON_AddNumberToObject(o, "lines", (double)s->lines);
    cJSON_AddNumberToObject(o, "input_tokens", (double)s->input);
    cJSON_AddNumberToObject(o, "output_tokens_max", (double)s->output_max);
    cJSON_AddNumberToObject(o, "unbounded_lines", (double)s->unbounded);
    if (expect >= 0)
        cJSON_AddNumberToObject(o, "expected_output_tokens",
                                (double)s->expected_output);
    cJSON_AddBoolToObject(o, "approximate", s->approximate);
    if (c->priced) {
        cJSON_AddNumberToObject(o, "cost_min_usd", c->min);
        cJSON_AddNumberToObject(o, "cost_max_usd", c->max);
        if (expect >= 0)
            cJSON_AddNumberToObject(o, "cost_expected_usd", c->expected);
    } else {
        cJSON_AddNullToObject(o, "cost_min_usd");
        cJSON_AddNullToObject(o, "cost_max_usd");
    }
    return o;
}

static void print_row(const cli_model_sum *s, const cli_costs *c, long long expect)
{
    printf("%-24s %8llu %14llu %14llu", s->model ? s->model : "total",
           s->lines, s->input, s->output_max);
    if (c->priced)
        printf("   $%.4f - $%.4f", c->min, c->max);
    else
        printf("   (no price)");
    if (expect >= 0 && c->priced)
        printf("  expected $%.4f", c->expected);
    if (s->unbounded)
        printf("  (%llu lines without a bound)", s->unbounded);
    putchar('\n');
}

static void report(cli_ctx *ctx, const cli_estimate *e, const char *prices)
{
    cli_model_sum total;
    cli_costs tc;
    cli_estimate_total(e, &total, &tc);
    for (size_t i = 0; i < e->n; i++)
        if (!e->m[i].price)
            cli_warn(ctx, "%s: no price for this model in %s", e->m[i].model,
                     prices);
    if (ctx->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "file", e->path);
        cJSON_AddStringToObject(o, "prices", prices);
        cJSON *arr = cJSON_AddArrayToObject(o, "models");
        for (size_t i = 0; i < e->n; i++) {
            cli_costs c = cli_estimate_costs(&e->m[i]);
            cJSON_AddItemToArray(arr, sum_json(&e->m[i], &c, e->expect));
        }
        cJSON_AddItemToObject(o, "total", sum_json(&total, &tc, e->expect));
        out_json(stdout, o, 1);
        cJSON_Delete(o);
        return;
    }
    printf("%s: %llu line%s, prices %s\n", e->path, total.lines,
           total.lines == 1 ? "" : "s", prices);
    printf("%-24s %8s %14s %14s   %s\n", "model", "lines", "input tokens",
           "output max", "cost at batch prices (USD)");
    for (size_t i = 0; i < e->n; i++) {
        cli_costs c = cli_estimate_costs(&e->m[i]);
        print_row(&e->m[i], &c, e->expect);
    }
    if (e->n > 1)
        print_row(&total, &tc, e->expect);
}

enum { O_PRICES = 1, O_EXPECT, O_ENC, O_DIR, O_THREADS };
const cli_opt cli_opts_estimate[] = { { "prices", 0, 1, O_PRICES },
                                      { "expect-output-tokens", 0, 1, O_EXPECT },
                                      { "encoding", 0, 1, O_ENC },
                                      { "encodings", 0, 1, O_DIR },
                                      { "threads", 0, 1, O_THREADS },
                                      { NULL, 0, 0, 0 } };

int cmd_estimate(cli_ctx *ctx, int argc, char **argv)
{
    const cli_opt *opts = cli_opts_estimate;
    cli_args a = { argc, argv, 1, 0, "estimate" };
    const char *arg, *path = NULL, *prices_path = NULL, *dir = NULL;
    cli_estimate e;
    memset(&e, 0, sizeof e);
    e.expect = -1;
    int id;
    while ((id = cli_next(&a, opts, &arg)) != CLI_PARSE_END) {
        if (id == CLI_PARSE_ERROR)
            return CLI_EXIT_USAGE;
        if (id == CLI_PARSE_POSITIONAL) {
            if (path)
                return cli_usage_error("estimate", "one FILE only");
            path = arg;
        } else if (id == O_PRICES) {
            prices_path = arg;
        } else if (id == O_EXPECT) {
            long n;
            if (cli_parse_long("estimate", "expect-output-tokens", arg, &n))
                return CLI_EXIT_USAGE;
            if (n < 0)
                return cli_usage_error("estimate",
                                       "--expect-output-tokens must be >= 0");
            e.expect = n;
        } else if (id == O_ENC) {
            const char *enc;
            if (oab_encoding_for_model(&enc, NULL, arg, &e.err) != OAB_OK)
                return cli_usage_error("estimate", "%s", e.err.message);
            e.fallback = enc;
        } else if (id == O_DIR) {
            dir = arg;
        } else if (id == O_THREADS) {
            if (cli_parse_threads("estimate", arg, &e.threads))
                return CLI_EXIT_USAGE;
        } else {
            int r = cli_common_opt(ctx, "estimate", id, arg);
            if (r >= 0)
                return r;
        }
    }
    if (!path)
        return cli_usage_error("estimate", "missing FILE");
    cli_prices prices;
    int rc = cli_prices_load(ctx, &prices, prices_path);
    if (rc)
        return rc;
    e.path = path;
    e.prices = &prices;
    if (oab_tokenizers_new(&e.set, dir) != OAB_OK) {
        cli_prices_free(&prices);
        cli_error(ctx, "out of memory");
        return CLI_EXIT_LOCAL;
    }
    oab_status st = cli_estimate_file(&e);
    if (st != OAB_OK)
        rc = cli_tokens_exit(ctx, &e.err, st);
    else
        report(ctx, &e, prices_path ? prices_path : "built-in (data/prices.tsv)");
    cli_estimate_free(&e);
    oab_tokenizers_free(e.set);
    cli_prices_free(&prices);
    return rc;
}
