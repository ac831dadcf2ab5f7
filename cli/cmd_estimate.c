/* cmd_estimate.c - `oaibatch estimate FILE`: lines, input tokens, an
 * output upper bound and the cost range at batch prices, per model and
 * in total, before anything is sent. */
#include "util/buf.h"
#include "util/err.h"
#include "util/fs.h"
#include "cli.h"
#include "commands.h"
#include "cmd_tokens.h"
#include "output.h"
#include "prices.h"

#include <stdlib.h>
#include <string.h>

typedef struct model_sum {
    char *model;
    const cli_price *price;
    unsigned long long lines, input, output_max, expected_output;
    unsigned long long unbounded; /* lines that set no output bound */
    int approximate;
} model_sum;

typedef struct estimate_run {
    const char *path;
    oab_tokenizers *set;
    const char *fallback;
    const cli_prices *prices;
    long long expect; /* -1: not asked */
    model_sum *m;
    size_t n, cap;
    oab_error err;
} estimate_run;

static model_sum *sum_for(estimate_run *e, char *model)
{
    for (size_t i = 0; i < e->n; i++)
        if (strcmp(e->m[i].model, model) == 0) {
            free(model);
            return &e->m[i];
        }
    model_sum *g = oab__grow(e->m, &e->cap, e->n, sizeof *e->m, 8);
    if (!g) {
        free(model);
        return NULL;
    }
    e->m = g;
    model_sum *s = &e->m[e->n++];
    memset(s, 0, sizeof *s);
    s->model = model;
    s->price = cli_prices_find(e->prices, model);
    return s;
}

static int on_line(const char *line, size_t len, long lineno, void *ud)
{
    estimate_run *e = ud;
    oab_request_tokens rt;
    char *model = NULL;
    oab_error le;
    oab_status st = oab_request_tokens_line(&rt, &model, e->set, line, len,
                                            e->fallback, &le);
    if (st != OAB_OK) {
        oab__err(&e->err, st == OAB_EIO || st == OAB_ENOMEM ? st
                                                             : OAB_EVALIDATION,
                 lineno, "%s:%ld: %s", e->path, lineno, le.message);
        return 1;
    }
    model_sum *s = sum_for(e, model);
    if (!s) {
        oab__err(&e->err, OAB_ENOMEM, lineno, "out of memory");
        return 1;
    }
    unsigned long long bound = rt.output_max;
    if (!rt.output_bounded) {
        s->unbounded++;
        bound = s->price ? (unsigned long long)s->price->max_output : 0;
    }
    s->lines++;
    s->input += rt.input;
    s->output_max += bound;
    if (e->expect >= 0)
        s->expected_output += (unsigned long long)e->expect < bound
                                  ? (unsigned long long)e->expect
                                  : bound;
    s->approximate |= !rt.exact;
    return 0;
}

/* Cost in USD at `per_m` USD per 1M tokens; 0 when not offered. */
static double cost(unsigned long long tokens, double per_m)
{
    return per_m > 0 ? (double)tokens * per_m / 1e6 : 0;
}

typedef struct costs {
    double min, max, expected;
    int priced;
} costs;

static costs costs_of(const model_sum *s)
{
    costs c = { 0, 0, 0, s->price != NULL };
    if (!s->price)
        return c;
    double in = cost(s->input, s->price->batch_input);
    c.min = in;
    c.max = in + cost(s->output_max, s->price->batch_output);
    c.expected = in + cost(s->expected_output, s->price->batch_output);
    return c;
}

static cJSON *sum_json(const model_sum *s, const costs *c, long long expect)
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

static void print_row(const model_sum *s, const costs *c, long long expect)
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

static void report(cli_ctx *ctx, const estimate_run *e, const char *prices)
{
    model_sum total;
    memset(&total, 0, sizeof total);
    costs tc = { 0, 0, 0, 1 };
    for (size_t i = 0; i < e->n; i++) {
        const model_sum *s = &e->m[i];
        costs c = costs_of(s);
        total.lines += s->lines;
        total.input += s->input;
        total.output_max += s->output_max;
        total.expected_output += s->expected_output;
        total.unbounded += s->unbounded;
        total.approximate |= s->approximate;
        tc.min += c.min;
        tc.max += c.max;
        tc.expected += c.expected;
        tc.priced &= c.priced;
    }
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
            costs c = costs_of(&e->m[i]);
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
        costs c = costs_of(&e->m[i]);
        print_row(&e->m[i], &c, e->expect);
    }
    if (e->n > 1)
        print_row(&total, &tc, e->expect);
}

static int load_prices(cli_ctx *ctx, cli_prices *p, const char *path)
{
    oab_error err;
    oab_status st;
    if (!path)
        return cli_prices_parse(p, cli_prices_builtin,
                                strlen(cli_prices_builtin), "built-in prices",
                                &err) == OAB_OK
                   ? 0
                   : (cli_error(ctx, "%s", err.message), CLI_EXIT_LOCAL);
    char *text = NULL;
    size_t len = 0;
    st = oab__read_file(path, &text, &len);
    if (st != OAB_OK) {
        cli_error(ctx, "%s: cannot read the price table", path);
        return CLI_EXIT_LOCAL;
    }
    st = cli_prices_parse(p, text, len, path, &err);
    free(text);
    if (st != OAB_OK) {
        cli_error(ctx, "%s", err.message);
        return CLI_EXIT_INVALID;
    }
    return 0;
}

enum { O_PRICES = 1, O_EXPECT, O_ENC, O_DIR };
const cli_opt cli_opts_estimate[] = { { "prices", 0, 1, O_PRICES },
                                      { "expect-output-tokens", 0, 1, O_EXPECT },
                                      { "encoding", 0, 1, O_ENC },
                                      { "encodings", 0, 1, O_DIR },
                                      { NULL, 0, 0, 0 } };

int cmd_estimate(cli_ctx *ctx, int argc, char **argv)
{
    const cli_opt *opts = cli_opts_estimate;
    cli_args a = { argc, argv, 1, 0, "estimate" };
    const char *arg, *path = NULL, *prices_path = NULL, *dir = NULL;
    estimate_run e;
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
        } else {
            int r = cli_common_opt(ctx, "estimate", id, arg);
            if (r >= 0)
                return r;
        }
    }
    if (!path)
        return cli_usage_error("estimate", "missing FILE");
    cli_prices prices;
    int rc = load_prices(ctx, &prices, prices_path);
    if (rc)
        return rc;
    e.path = path;
    e.prices = &prices;
    if (oab_tokenizers_new(&e.set, dir) != OAB_OK) {
        cli_prices_free(&prices);
        cli_error(ctx, "out of memory");
        return CLI_EXIT_LOCAL;
    }
    oab_status st = cli_read_lines(path, on_line, &e, &e.err);
    if (st == OAB_ESTOPPED)
        st = e.err.status;
    if (st != OAB_OK)
        rc = cli_tokens_exit(ctx, &e.err, st);
    else
        report(ctx, &e, prices_path ? prices_path : "built-in (data/prices.tsv)");
    for (size_t i = 0; i < e.n; i++)
        free(e.m[i].model);
    free(e.m);
    oab_tokenizers_free(e.set);
    cli_prices_free(&prices);
    return rc;
}
