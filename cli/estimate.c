/* estimate.c - the estimate of a batch input file: lines, input
 * tokens, an output upper bound and the cost range at batch prices, per
 * model. `oaibatch estimate` prints it; `submit` and `run` print its
 * total and check --max-cost against it before sending. */
#include "util/buf.h"
#include "util/err.h"
#include "util/fs.h"
#include "cmd_tokens.h"
#include "estimate.h"
#include "parlines.h"
#include "target.h"

#include <stdlib.h>
#include <string.h>

static cli_model_sum *sum_for(cli_estimate *e, char *model)
{
    for (size_t i = 0; i < e->n; i++)
        if (strcmp(e->m[i].model, model) == 0) {
            free(model);
            return &e->m[i];
        }
    cli_model_sum *g = oab__grow(e->m, &e->cap, e->n, sizeof *e->m, 8);
    if (!g) {
        free(model);
        return NULL;
    }
    e->m = g;
    cli_model_sum *s = &e->m[e->n++];
    memset(s, 0, sizeof *s);
    s->model = model;
    s->price = cli_prices_find(e->prices, model);
    return s;
}

static int on_line(const char *line, size_t len, long lineno, void *ud)
{
    cli_estimate *e = ud;
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
    cli_model_sum *s = sum_for(e, model);
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
    if (rt.input > s->max_input)
        s->max_input = rt.input;
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

cli_costs cli_estimate_costs(const cli_model_sum *s)
{
    cli_costs c = { 0, 0, 0, s->price != NULL };
    if (!s->price)
        return c;
    double in = cost(s->input, s->price->batch_input);
    c.min = in;
    c.max = in + cost(s->output_max, s->price->batch_output);
    c.expected = in + cost(s->expected_output, s->price->batch_output);
    return c;
}

void cli_estimate_total(const cli_estimate *e, cli_model_sum *total,
                        cli_costs *tc)
{
    memset(total, 0, sizeof *total);
    cli_costs t = { 0, 0, 0, 1 };
    for (size_t i = 0; i < e->n; i++) {
        const cli_model_sum *s = &e->m[i];
        cli_costs c = cli_estimate_costs(s);
        total->lines += s->lines;
        total->input += s->input;
        total->output_max += s->output_max;
        total->expected_output += s->expected_output;
        total->unbounded += s->unbounded;
        total->approximate |= s->approximate;
        t.min += c.min;
        t.max += c.max;
        t.expected += c.expected;
        t.priced &= c.priced;
    }
    *tc = t;
}

/* A batch of lines (parlines.h) is estimated into its own cli_estimate,
 * with the settings of the whole, then added to the whole in file order:
 * models keep the order they first appear in, the first bad line is the
 * one reported. */
typedef struct part {
    cli_estimate e;
    int failed;
} part;

static int part_line(void *state, const char *line, size_t len, long lineno,
                     void *ud)
{
    part *pt = state;
    const cli_estimate *whole = ud;
    if (!pt->e.path) {
        pt->e.path = whole->path;
        pt->e.set = whole->set;
        pt->e.fallback = whole->fallback;
        pt->e.prices = whole->prices;
        pt->e.expect = whole->expect;
    }
    pt->failed = on_line(line, len, lineno, &pt->e);
    return pt->failed;
}

static void part_discard(void *state, void *ud)
{
    (void)ud;
    part *pt = state;
    cli_estimate_free(&pt->e);
    memset(pt, 0, sizeof *pt);
}

static int part_merge(void *state, void *ud)
{
    part *pt = state;
    cli_estimate *e = ud;
    int stop = pt->failed;
    if (stop)
        e->err = pt->e.err;
    for (size_t i = 0; i < pt->e.n && !stop; i++) {
        cli_model_sum *from = &pt->e.m[i];
        cli_model_sum *to = sum_for(e, from->model);
        from->model = NULL; /* sum_for took it */
        if (!to) {
            oab__err(&e->err, OAB_ENOMEM, 0, "out of memory");
            stop = 1;
            break;
        }
        to->lines += from->lines;
        to->input += from->input;
        to->output_max += from->output_max;
        to->expected_output += from->expected_output;
        to->unbounded += from->unbounded;
        if (from->max_input > to->max_input)
            to->max_input = from->max_input;
        to->approximate |= from->approximate;
    }
    part_discard(pt, NULL);
    return stop;
}

oab_status cli_estimate_file(cli_estimate *e)
{
    cli_par_ops ops = { sizeof(part), part_line, part_merge, part_discard,
                        e };
    int threads = e->threads ? e->threads : cli_par_default_threads();
    oab_status st = cli_par_lines(e->path, threads, &ops, &e->err);
    if (st == OAB_ESTOPPED)
        st = e->err.status;
    return st;
}

void cli_estimate_free(cli_estimate *e)
{
    for (size_t i = 0; i < e->n; i++)
        free(e->m[i].model);
    free(e->m);
    e->m = NULL;
    e->n = e->cap = 0;
}

int cli_prices_load(cli_ctx *ctx, cli_prices *p, const char *path)
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


int cli_estimate_gate(cli_ctx *ctx, const char *path, const char *name,
                      double max_cost)
{
    cli_prices prices;
    int rc = cli_prices_load(ctx, &prices, NULL);
    if (rc)
        return rc;
    cli_estimate e;
    memset(&e, 0, sizeof e);
    e.path = path;
    e.prices = &prices;
    e.expect = -1;
    /* a model the tokenizer does not know is counted with o200k_base, so
     * that the price table is what names it */
    e.fallback = "o200k_base";
    oab_status st = oab_tokenizers_new(&e.set, NULL);
    if (st == OAB_OK)
        st = cli_estimate_file(&e);
    else
        oab__err(&e.err, st, 0, "out of memory");
    if (st != OAB_OK) {
        if (max_cost >= 0) {
            cli_error(ctx, "--max-cost: cannot estimate %s: %s", name,
                      e.err.message);
            rc = st == OAB_EVALIDATION || st == OAB_EJSON ? CLI_EXIT_INVALID
                                                          : CLI_EXIT_LOCAL;
        } else if (st != OAB_EVALIDATION && st != OAB_EJSON) {
            /* bad lines are the validation's to report */
            cli_info(ctx, "no cost estimate: %s", e.err.message);
        }
    } else {
        cli_model_sum total;
        cli_costs tc;
        cli_estimate_total(&e, &total, &tc);
        const char *unpriced = NULL;
        for (size_t i = 0; i < e.n && !unpriced; i++)
            if (!e.m[i].price)
                unpriced = e.m[i].model;
        if (unpriced)
            cli_info(ctx, "estimate: %llu line%s, %llu input tokens, output "
                     "at most %llu; no price for model %s", total.lines,
                     total.lines == 1 ? "" : "s", total.input,
                     total.output_max, unpriced);
        else
            cli_info(ctx, "estimate: %llu line%s, %llu input tokens, output "
                     "at most %llu; $%.6f - $%.6f at batch prices",
                     total.lines, total.lines == 1 ? "" : "s", total.input,
                     total.output_max, tc.min, tc.max);
        if (max_cost >= 0 && unpriced) {
            cli_error(ctx, "--max-cost: model %s has no price in the "
                      "built-in prices (see 'oaibatch estimate --prices'); "
                      "nothing sent", unpriced);
            rc = CLI_EXIT_INVALID;
        } else if (max_cost >= 0 && tc.max > max_cost) {
            cli_error(ctx, "%s: the cost may reach $%.6f, above --max-cost "
                      "$%.6f; nothing sent", name, tc.max, max_cost);
            rc = CLI_EXIT_INVALID;
        }
    }
    cli_estimate_free(&e);
    oab_tokenizers_free(e.set);
    cli_prices_free(&prices);
    return rc;
}

int cli_cost_compute(const cli_prices *prices, const oab_usage *u,
                     const char *model, double *usd)
{
    const cli_price *p = model ? cli_prices_find(prices, model) : NULL;
    *usd = 0;
    if (!p)
        return 0;
    long long cached = u->cached_tokens < u->prompt_tokens ? u->cached_tokens
                                                           : u->prompt_tokens;
    double cached_price = p->batch_cached_input >= 0 ? p->batch_cached_input
                                                     : p->batch_input;
    *usd = cost((unsigned long long)(u->prompt_tokens - cached),
                p->batch_input) +
           cost((unsigned long long)cached, cached_price) +
           cost((unsigned long long)u->completion_tokens, p->batch_output);
    return 1;
}

void cli_cost_report(cli_ctx *ctx, const oab_usage *u, const char *model)
{
    cli_prices prices;
    if (ctx->quiet || cli_prices_load(ctx, &prices, NULL))
        return;
    long long cached = u->cached_tokens < u->prompt_tokens ? u->cached_tokens
                                                           : u->prompt_tokens;
    char tokens[160];
    snprintf(tokens, sizeof tokens, "%lld prompt tokens (%lld cached), %lld "
             "completion tokens", u->prompt_tokens, cached,
             u->completion_tokens);
    double usd;
    if (!cli_cost_compute(&prices, u, model, &usd))
        cli_info(ctx, "cost: %s; no price for model %s", tokens,
                 model ? model : "(unknown)");
    else
        cli_info(ctx, "cost: %s; $%.6f at batch prices (%s)", tokens, usd,
                 model);
    cli_prices_free(&prices);
}

void cli_cost_status(cli_ctx *ctx, const cli_target *t, cJSON *json)
{
    oab_usage u;
    memset(&u, 0, sizeof u);
    size_t counted = 0, without = 0;
    const char *model = t->job ? t->job->model : NULL;
    for (size_t i = 0; i < t->n_units; i++) {
        const oab_job *b = t->units[i].batch;
        if (!b)
            continue;
        if (!model)
            model = b->model;
        if (!b->has_usage) {
            without++;
            continue;
        }
        counted++;
        u.prompt_tokens += b->input_tokens;
        u.cached_tokens += b->cached_tokens;
        u.completion_tokens += b->output_tokens;
    }
    cli_prices prices;
    memset(&prices, 0, sizeof prices);
    int priced = 0;
    double usd = 0;
    if (cli_prices_load(ctx, &prices, NULL) == 0)
        priced = cli_cost_compute(&prices, &u, model, &usd);
    cli_prices_free(&prices);
    if (json) {
        cJSON *c = cJSON_AddObjectToObject(json, "cost");
        cJSON_AddNumberToObject(c, "prompt_tokens", (double)u.prompt_tokens);
        cJSON_AddNumberToObject(c, "cached_tokens", (double)u.cached_tokens);
        cJSON_AddNumberToObject(c, "completion_tokens",
                                (double)u.completion_tokens);
        if (priced && counted)
            cJSON_AddNumberToObject(c, "usd", usd);
        else
            cJSON_AddNullToObject(c, "usd");
        cJSON_AddNumberToObject(c, "batches_counted", (double)counted);
        cJSON_AddNumberToObject(c, "batches_without_usage", (double)without);
        return;
    }
    if (!counted) {
        if (without)
            printf("  cost: the batches report no usage; see oaibatch "
                   "results\n");
        return;
    }
    char more[96] = "";
    if (without)
        snprintf(more, sizeof more, "; %zu batch%s without usage not counted",
                 without, without == 1 ? "" : "es");
    if (priced)
        printf("  cost: %lld prompt tokens (%lld cached), %lld completion "
               "tokens; $%.6f at batch prices (%s)%s\n", u.prompt_tokens,
               u.cached_tokens, u.completion_tokens, usd, model, more);
    else
        printf("  cost: %lld prompt tokens (%lld cached), %lld completion "
               "tokens; no price for model %s%s\n", u.prompt_tokens,
               u.cached_tokens, u.completion_tokens, model ? model : "-",
               more);
}
