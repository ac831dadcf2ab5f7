/* cmd_jobs.c - `oaibatch jobs`: the jobs in the local journal. */
#include "oaibatch.h"
#include <cjson/cJSON.h>
#include "commands.h"
#include "journal.h"
#include "output.h"

#include <stdlib.h>
#include <string.h>

static const char *job_status(const journal_job *j)
{
    /* from the statuses last seen: unfinished first, then completed */
    static const char *const order[] = { "not_uploaded", "not_created",
                                         "validating", "in_progress",
                                         "finalizing", "cancelling" };
    for (size_t k = 0; k < sizeof order / sizeof order[0]; k++)
        for (size_t i = 0; i < j->n_parts; i++) {
            const journal_part *p = &j->parts[i];
            const char *s = !p->file_id    ? "not_uploaded"
                            : !p->batch_id ? "not_created"
                            : p->status    ? p->status
                                           : "validating";
            if (!strcmp(s, order[k]))
                return order[k];
        }
    for (size_t i = 0; i < j->n_parts; i++)
        if (j->parts[i].status && strcmp(j->parts[i].status, "completed"))
            return j->parts[i].status;
    return "completed";
}

/* One job as JSON (the document of `oaibatch jobs --json`). */
static cJSON *job_json(const journal_job *j)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", j->id);
    cJSON_AddNumberToObject(o, "created_at", (double)j->created_at);
    cJSON_AddStringToObject(o, "input_path", j->input_path ? j->input_path : "");
    cJSON_AddNumberToObject(o, "lines", (double)j->n_lines);
    cJSON_AddStringToObject(o, "endpoint", j->endpoint ? j->endpoint : "");
    cJSON_AddStringToObject(o, "status", job_status(j));
    cJSON *parts = cJSON_AddArrayToObject(o, "batches");
    for (size_t k = 0; k < j->n_parts; k++) {
        const journal_part *p = &j->parts[k];
        cJSON *po = cJSON_CreateObject();
        cJSON_AddNumberToObject(po, "part", p->idx);
        cJSON_AddStringToObject(po, "kind", p->kind ? p->kind : "part");
        cJSON_AddNumberToObject(po, "lines", (double)p->n_lines);
        out_json_add_str(po, "file_id", p->file_id);
        out_json_add_str(po, "batch_id", p->batch_id);
        out_json_add_str(po, "status", p->status);
        cJSON_AddItemToArray(parts, po);
    }
    return o;
}

static void print_jobs_table(cli_ctx *ctx, journal_job **jobs, size_t n)
{
    static const char *const hdr[] = { "JOB", "CREATED (UTC)", "STATUS",
                                       "BATCHES", "LINES", "FILE" };
    out_table *tb = out_table_new(6, hdr);
    for (size_t i = 0; i < n; i++) {
        char when[32], nb[16], nl[32];
        out_time(when, sizeof when, jobs[i]->created_at);
        snprintf(nb, sizeof nb, "%zu", jobs[i]->n_parts);
        snprintf(nl, sizeof nl, "%ld", jobs[i]->n_lines);
        const char *row[6] = { jobs[i]->id, when, job_status(jobs[i]), nb,
                               nl, jobs[i]->input_path };
        out_table_add(tb, row);
    }
    out_table_print(tb, stdout, ctx->color, 0);
    out_table_free(tb);
}

static int list_jobs(cli_ctx *ctx, long limit)
{
    journal *jr = cli_journal(ctx);
    if (!jr)
        return CLI_EXIT_LOCAL;
    journal_job **jobs = NULL;
    size_t n = 0;
    if (journal_jobs_list(jr, (int)limit, &jobs, &n) != 0) {
        cli_error(ctx, "journal: %s", journal_errmsg(jr));
        return CLI_EXIT_LOCAL;
    }
    if (ctx->json) {
        cJSON *arr = cJSON_CreateArray();
        for (size_t i = 0; i < n; i++)
            cJSON_AddItemToArray(arr, job_json(jobs[i]));
        out_json(stdout, arr, 1);
        cJSON_Delete(arr);
    } else if (n == 0) {
        cli_info(ctx, "no jobs in %s", journal_path(jr));
    } else {
        print_jobs_table(ctx, jobs, n);
    }
    journal_job_list_free(jobs, n);
    return CLI_EXIT_OK;
}

enum { O_LIMIT = 1 };

static int jobs_opt(const char *cmd, int id, const char *arg, void *st)
{
    long *limit = st;
    if (id != O_LIMIT)
        return 0;
    if (cli_parse_long(cmd, "limit", arg, limit) != 0)
        return -1;
    if (*limit < 0) {
        cli_usage_error(cmd, "--limit takes 0 or more");
        return -1;
    }
    return 1;
}

int cmd_jobs(cli_ctx *ctx, int argc, char **argv)
{
    static const cli_opt opts[] = { { "limit", 0, 1, O_LIMIT },
                                    { NULL, 0, 0, 0 } };
    static const cli_parse_spec spec = { "jobs", opts, jobs_opt, NULL, 0 };
    long limit = 20;
    int rc = cli_parse_args(ctx, &spec, argc, argv, &limit, NULL);
    return rc >= 0 ? rc : list_jobs(ctx, limit);
}
