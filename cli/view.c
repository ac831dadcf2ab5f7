/* view.c - the status view of a target: JSON or a table. */
#include "oaibatch.h"
#include <cjson/cJSON.h>
#include "output.h"
#include "view.h"

#include <stdio.h>
#include <string.h>

/* ---- status view ---- */

static cJSON *unit_json(const cli_unit *u)
{
    cJSON *o = cJSON_CreateObject();
    if (u->part) {
        cJSON_AddNumberToObject(o, "part", u->part->idx);
        cJSON_AddStringToObject(o, "kind", u->part->kind ? u->part->kind
                                                         : "part");
        cJSON_AddNumberToObject(o, "lines", (double)u->part->n_lines);
        out_json_add_str(o, "file_id", u->part->file_id);
    } else {
        cJSON_AddNullToObject(o, "part");
        cJSON_AddStringToObject(o, "kind", "batch");
        cJSON_AddNullToObject(o, "lines");
        out_json_add_str(o, "file_id", u->batch ? u->batch->input_file_id
                                               : NULL);
    }
    out_json_add_str(o, "batch_id", u->batch_id);
    cJSON_AddStringToObject(o, "status", cli_unit_status(u));
    const oab_job *b = u->batch;
    cJSON *rc = cJSON_AddObjectToObject(o, "request_counts");
    long long tot = b ? b->count_total : u->part ? u->part->count_total : 0;
    long long com = b ? b->count_completed
                      : u->part ? u->part->count_completed : 0;
    long long fai = b ? b->count_failed : u->part ? u->part->count_failed : 0;
    cJSON_AddNumberToObject(rc, "total", (double)tot);
    cJSON_AddNumberToObject(rc, "completed", (double)com);
    cJSON_AddNumberToObject(rc, "failed", (double)fai);
    out_json_add_str(o, "output_file_id", b ? b->output_file_id : NULL);
    out_json_add_str(o, "error_file_id", b ? b->error_file_id : NULL);
    out_json_add_str(o, "endpoint", b ? b->endpoint : NULL);
    if (b && b->created_at)
        cJSON_AddNumberToObject(o, "created_at", (double)b->created_at);
    else
        cJSON_AddNullToObject(o, "created_at");
    cJSON *errs = cJSON_AddArrayToObject(o, "errors");
    for (size_t i = 0; b && i < b->n_errors; i++) {
        cJSON *e = cJSON_CreateObject();
        out_json_add_str(e, "code", b->errors[i].code);
        out_json_add_str(e, "message", b->errors[i].message);
        out_json_add_str(e, "param", b->errors[i].param);
        if (b->errors[i].line)
            cJSON_AddNumberToObject(e, "line", (double)b->errors[i].line);
        else
            cJSON_AddNullToObject(e, "line");
        cJSON_AddItemToArray(errs, e);
    }
    return o;
}

cJSON *cli_target_json(const cli_target *t)
{
    cJSON *o = cJSON_CreateObject();
    if (t->job) {
        const journal_job *j = t->job;
        cJSON *jo = cJSON_AddObjectToObject(o, "job");
        cJSON_AddStringToObject(jo, "id", j->id);
        cJSON_AddNumberToObject(jo, "created_at", (double)j->created_at);
        out_json_add_str(jo, "input_path", j->input_path);
        out_json_add_str(jo, "endpoint", j->endpoint);
        out_json_add_str(jo, "model", j->model);
        cJSON_AddNumberToObject(jo, "lines", (double)j->n_lines);
        out_json_add_str(jo, "base_url", j->base_url);
        out_json_add_str(jo, "fingerprint", j->fingerprint);
        cJSON_AddNumberToObject(jo, "retries", (double)cli_target_retries(t));
        cJSON *md = j->metadata_json ? cJSON_Parse(j->metadata_json) : NULL;
        cJSON_AddItemToObject(jo, "metadata", md ? md : cJSON_CreateObject());
    } else {
        cJSON_AddNullToObject(o, "job");
    }
    cJSON_AddStringToObject(o, "status", cli_target_status(t));
    cJSON *arr = cJSON_AddArrayToObject(o, "batches");
    for (size_t i = 0; i < t->n_units; i++)
        cJSON_AddItemToArray(arr, unit_json(&t->units[i]));
    return o;
}

void cli_target_print(cli_ctx *ctx, const cli_target *t)
{
    int c = ctx->color;
    if (t->job) {
        char when[32];
        out_time(when, sizeof when, t->job->created_at);
        size_t nr = cli_target_retries(t);
        char after[48] = "";
        if (nr && !strcmp(cli_target_status(t), "completed"))
            snprintf(after, sizeof after, " (after %zu retr%s)", nr,
                     nr == 1 ? "y" : "ies");
        printf("%sjob %s%s  %s%s%s%s\n", out_c(c, OUT_BOLD), t->job->id,
               out_c(c, OUT_RESET), out_c(c, out_status_color(cli_target_status(t))),
               cli_target_status(t), out_c(c, OUT_RESET), after);
        printf("  file %s, %ld line%s, %s, model %s, created %s UTC\n",
               t->job->input_path ? t->job->input_path : "-", t->job->n_lines,
               t->job->n_lines == 1 ? "" : "s",
               t->job->endpoint ? t->job->endpoint : "-",
               t->job->model ? t->job->model : "-", when);
    }
    static const char *const hdr[] = { "PART", "BATCH", "STATUS", "SUCCEEDED",
                                       "FAILED", "TOTAL" };
    out_table *tb = out_table_new(6, hdr);
    for (size_t i = 0; i < t->n_units; i++) {
        const cli_unit *u = &t->units[i];
        char part[32], done[32], failed[32], total[32];
        if (u->part)
            snprintf(part, sizeof part, "%d%s", u->part->idx,
                     journal_part_is_retry(u->part) ? " (retry)" : "");
        else
            snprintf(part, sizeof part, "-");
        const oab_job *b = u->batch;
        long long tot = b ? b->count_total : u->part ? u->part->count_total : 0;
        long long com = b ? b->count_completed
                          : u->part ? u->part->count_completed : 0;
        long long fai = b ? b->count_failed : u->part ? u->part->count_failed : 0;
        snprintf(done, sizeof done, "%lld", com);
        snprintf(failed, sizeof failed, "%lld", fai);
        snprintf(total, sizeof total, "%lld", tot);
        const char *row[6] = { part, u->batch_id, cli_unit_status(u), done, failed,
                               total };
        out_table_add(tb, row);
    }
    out_table_print(tb, stdout, c, 0);
    out_table_free(tb);
    for (size_t i = 0; i < t->n_units; i++) {
        const oab_job *b = t->units[i].batch;
        for (size_t k = 0; b && k < b->n_errors && k < 20; k++)
            printf("  %s: line %ld: %s: %s\n", t->units[i].batch_id,
                   b->errors[k].line, b->errors[k].code ? b->errors[k].code : "",
                   b->errors[k].message ? b->errors[k].message : "");
    }
}

void cli_target_show(cli_ctx *ctx, const cli_target *t)
{
    if (ctx->json) {
        cJSON *o = cli_target_json(t);
        out_json(stdout, o, 1);
        cJSON_Delete(o);
    } else {
        cli_target_print(ctx, t);
    }
}
