/* collect.c - the results of a target as rows: decoded from each
 * finished batch, merged across parts and retries, sorted, written. */
#include "oaibatch.h"
#include <cjson/cJSON.h>
#include "util/str.h"
#include "collect.h"
#include "output.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- results ---- */

void cli_rows_free(cli_rows *rows)
{
    for (size_t i = 0; i < rows->n; i++) {
        free(rows->v[i].text);
        free(rows->v[i].custom_id);
    }
    free(rows->v);
    memset(rows, 0, sizeof *rows);
}

static cJSON *json_or_string(const char *text)
{
    if (!text)
        return cJSON_CreateNull();
    cJSON *v = cJSON_Parse(text);
    return v ? v : cJSON_CreateString(text);
}


int cli_rows_add(cli_rows *rows, const oab_result *r, long input_line,
                 const char *batch_id, int raw)
{
    if (!rows->stream && rows->n == rows->cap) {
        size_t nc = rows->cap ? rows->cap * 2 : 64;
        cli_row *nv = realloc(rows->v, nc * sizeof *nv);
        if (!nv)
            return -1;
        rows->v = nv;
        rows->cap = nc;
    }
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return -1;
    out_json_add_str(o, "custom_id", r->custom_id);
    cJSON_AddStringToObject(o, "status", oab_result_status_str(r->status));
    if (input_line > 0)
        cJSON_AddNumberToObject(o, "input_line", (double)input_line);
    else
        cJSON_AddNullToObject(o, "input_line");
    if (r->status_code)
        cJSON_AddNumberToObject(o, "status_code", r->status_code);
    else
        cJSON_AddNullToObject(o, "status_code");
    out_json_add_str(o, "output", r->output);
    if (r->output_mode != OAB_OUTPUT_NONE) {
        cJSON_AddItemToObject(o, "parsed", r->parsed_json
                                               ? json_or_string(r->parsed_json)
                                               : cJSON_CreateNull());
        out_json_add_str(o, "invalid_reason", r->invalid_reason);
    }
    if (r->refusal)
        cJSON_AddStringToObject(o, "refusal", r->refusal);
    out_json_add_str(o, "finish_reason", r->finish_reason);
    if (r->n_tool_calls) {
        cJSON *tc = cJSON_AddArrayToObject(o, "tool_calls");
        for (size_t i = 0; i < r->n_tool_calls; i++) {
            cJSON *c = cJSON_CreateObject();
            out_json_add_str(c, "id", r->tool_calls[i].id);
            out_json_add_str(c, "name", r->tool_calls[i].name);
            cJSON_AddItemToObject(c, "arguments",
                                  r->tool_calls[i].arguments_valid
                                      ? json_or_string(r->tool_calls[i].arguments)
                                      : cJSON_CreateString(
                                            r->tool_calls[i].arguments
                                                ? r->tool_calls[i].arguments
                                                : ""));
            cJSON_AddItemToArray(tc, c);
        }
    }
    if (r->error_code || r->error_message) {
        cJSON *e = cJSON_AddObjectToObject(o, "error");
        out_json_add_str(e, "code", r->error_code);
        out_json_add_str(e, "message", r->error_message);
    } else {
        cJSON_AddNullToObject(o, "error");
    }
    if (r->has_usage) {
        cJSON *u = cJSON_AddObjectToObject(o, "usage");
        cJSON_AddNumberToObject(u, "prompt_tokens", (double)r->usage.prompt_tokens);
        cJSON_AddNumberToObject(u, "completion_tokens",
                                (double)r->usage.completion_tokens);
        cJSON_AddNumberToObject(u, "total_tokens", (double)r->usage.total_tokens);
    } else {
        cJSON_AddNullToObject(o, "usage");
    }
    if (r->n_embeddings) {
        cJSON *all = r->n_embeddings > 1
                         ? cJSON_AddArrayToObject(o, "embeddings")
                         : NULL;
        for (size_t e = 0; e < r->n_embeddings; e++) {
            cJSON *vec = cJSON_CreateArray();
            for (size_t d = 0; d < r->dimensions; d++)
                cJSON_AddItemToArray(vec, cJSON_CreateNumber(
                                              r->embeddings[e * r->dimensions + d]));
            if (all)
                cJSON_AddItemToArray(all, vec);
            else
                cJSON_AddItemToObject(o, "embedding", vec);
        }
    }
    if (r->duplicate)
        cJSON_AddTrueToObject(o, "duplicate");
    out_json_add_str(o, "batch_id", batch_id);
    out_json_add_str(o, "request_id", r->request_id);
    if (raw)
        cJSON_AddItemToObject(o, "body", json_or_string(r->body_json));
    if (rows->stream) {
        cli_sink_row(rows->stream, o, r->status);
        cJSON_Delete(o);
        return cli_sink_stopped(rows->stream) ? -1 : 0;
    }
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!text)
        return -1;
    cli_row *row = &rows->v[rows->n++];
    row->text = text;
    row->line_patched = 0;
    row->custom_id = oab__strdup(r->custom_id ? r->custom_id : "");
    row->input_line = input_line;
    row->seq = rows->seq++;
    row->status = r->status;
    return 0;
}

static int cmp_cid_seq(const void *a, const void *b)
{
    const cli_row *x = a, *y = b;
    int c = strcmp(x->custom_id, y->custom_id);
    if (c)
        return c;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void cli_rows_merge(cli_rows *rows)
{
    if (rows->n < 2)
        return;
    qsort(rows->v, rows->n, sizeof *rows->v, cmp_cid_seq);
    size_t k = 0;
    for (size_t i = 0; i < rows->n; i++) {
        int last = i + 1 == rows->n ||
                   strcmp(rows->v[i].custom_id, rows->v[i + 1].custom_id) != 0;
        /* a custom_id of "" (malformed lines) is never merged */
        if (!last && rows->v[i].custom_id[0]) {
            /* a retried line keeps its place in the input */
            if (rows->v[i + 1].input_line == 0 && rows->v[i].input_line) {
                rows->v[i + 1].input_line = rows->v[i].input_line;
                rows->v[i + 1].line_patched = 1;
            }
            free(rows->v[i].text);
            free(rows->v[i].custom_id);
            continue;
        }
        rows->v[k++] = rows->v[i];
    }
    rows->n = k;
}

static int cmp_input(const void *a, const void *b)
{
    const cli_row *x = a, *y = b;
    long lx = x->input_line > 0 ? x->input_line : 0x7fffffffL;
    long ly = y->input_line > 0 ? y->input_line : 0x7fffffffL;
    if (lx != ly)
        return lx < ly ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int cmp_seq(const void *a, const void *b)
{
    const cli_row *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void cli_rows_sort(cli_rows *rows, int input_order)
{
    if (rows->n > 1)
        qsort(rows->v, rows->n, sizeof *rows->v,
              input_order ? cmp_input : cmp_seq);
}

typedef struct collect_ctx {
    cli_rows *rows;
    const long *map;   /* part line -> input line */
    size_t n_map;
    const char *batch_id;
    int raw;
    int failed;
} collect_ctx;

static int collect_one(const oab_result *r, void *ud)
{
    collect_ctx *cc = ud;
    long line = r->input_line;
    if (cc->map) {
        line = line > 0 && (size_t)line <= cc->n_map ? cc->map[line - 1] : 0;
    }
    if (cli_rows_add(cc->rows, r, line, cc->batch_id, cc->raw) != 0) {
        cc->failed = 1;
        return 1;
    }
    return 0;
}

static int file_exists(const char *p)
{
    struct stat st;
    return p && stat(p, &st) == 0;
}

int cli_target_collect(cli_ctx *ctx, cli_target *t, const char *extra_input,
                       int raw, cli_rows *rows)
{
    int rc = cli_target_fetch(ctx, t, 0);
    if (rc != CLI_EXIT_OK)
        return rc;
    oab_client *c = cli_client(ctx);
    for (size_t i = 0; i < t->n_units; i++) {
        cli_unit *u = &t->units[i];
        if (!u->batch) {
            rows->incomplete = 1;
            cli_warn(ctx, "part %d has no batch yet; its lines are not in "
                     "the results", u->part ? u->part->idx : 0);
            continue;
        }
        if (!oab_batch_status_is_terminal(u->batch->status)) {
            int is_retry = u->part && u->part->kind &&
                           !strcmp(u->part->kind, "retry");
            if (!is_retry)
                rows->incomplete = 1;
            cli_warn(ctx, "batch %s is %s; its lines are not in the results "
                     "yet (oaibatch wait %s)", u->batch_id,
                     cli_unit_status(u), cli_target_label(t));
            continue;
        }
        oab_results_options ro = OAB_RESULTS_OPTIONS_INIT;
        size_t n_map = 0;
        long *map = NULL;
        if (u->part && file_exists(u->part->path)) {
            ro.input_path = u->part->path;
            map = journal_ranges_decode(u->part->input_lines, &n_map);
        } else if (!u->part && extra_input) {
            ro.input_path = extra_input;
        }
        collect_ctx cc = { rows, map, n_map, u->batch_id, raw, 0 };
        oab_summary sum;
        oab_status st = oab_batch_results_stream(c, u->batch, &ro, collect_one,
                                                 &cc, &sum);
        free(map);
        if (rows->stream && cli_sink_stopped(rows->stream))
            return cli_sink_stop_code(ctx, rows->stream);
        if (cc.failed) {
            cli_error(ctx, "out of memory");
            return CLI_EXIT_LOCAL;
        }
        if (st != OAB_OK)
            return cli_api_errorf(ctx, st, "cannot read the results of %s",
                                  u->batch_id);
    }
    cli_rows_merge(rows);
    return CLI_EXIT_OK;
}

int cli_results_write(cli_ctx *ctx, cli_rows *rows, const cli_results_opts *o)
{
    cli_rows_sort(rows, o->input_order);
    cli_sink k;
    int rc = cli_sink_open(ctx, &k, o);
    if (rc != CLI_EXIT_OK)
        return rc;
    for (size_t i = 0; i < rows->n; i++)
        cli_sink_text(&k, rows->v[i].text, rows->v[i].status,
                      rows->v[i].line_patched ? rows->v[i].input_line : 0);
    return cli_sink_close(ctx, &k, rows->incomplete);
}


int cli_target_write_results(cli_ctx *ctx, cli_target *t,
                             const char *extra_input,
                             const cli_results_opts *o)
{
    cli_rows rows;
    memset(&rows, 0, sizeof rows);
    int rc;
    if (!o->input_order && !cli_target_has_retries(t)) {
        /* nothing to merge or sort: write as the lines come */
        cli_sink k;
        rc = cli_sink_open(ctx, &k, o);
        if (rc == CLI_EXIT_OK) {
            rows.stream = &k;
            rc = cli_target_collect(ctx, t, extra_input, o->raw, &rows);
            if (rc == CLI_EXIT_OK)
                rc = cli_sink_close(ctx, &k, rows.incomplete);
            else
                cli_sink_abort(&k);
        }
    } else {
        rc = cli_target_collect(ctx, t, extra_input, o->raw, &rows);
        if (rc == CLI_EXIT_OK)
            rc = cli_results_write(ctx, &rows, o);
    }
    cli_rows_free(&rows);
    return rc;
}

int cli_target_settle(cli_ctx *ctx, cli_target *t)
{
    t->settled = 0;
    if (!t->job || !cli_target_done(t) || cli_target_all_completed(t) ||
        !cli_target_has_retries(t))
        return CLI_EXIT_OK;
    cli_rows rows;
    memset(&rows, 0, sizeof rows);
    int rc = cli_target_collect(ctx, t, NULL, 0, &rows);
    if (rc == CLI_EXIT_OK && !rows.incomplete &&
        rows.n >= (size_t)t->job->n_lines) {
        t->settled = 1;
        for (size_t i = 0; i < rows.n; i++) {
            oab_result_status s = rows.v[i].status;
            if (s == OAB_RESULT_EXPIRED || s == OAB_RESULT_CANCELLED ||
                s == OAB_RESULT_MISSING)
                t->settled = 0;
        }
    }
    cli_rows_free(&rows);
    return rc;
}

int cli_target_load(cli_ctx *ctx, const char *id, cli_target *t)
{
    int rc = cli_target_resolve(ctx, id, t);
    if (rc == CLI_EXIT_OK)
        rc = cli_target_fetch(ctx, t, 0);
    return rc == CLI_EXIT_OK ? cli_target_settle(ctx, t) : rc;
}
