/* cmd_batch.c - `oaibatch status|wait|cancel ID` and `oaibatch list`. */
#include "oaibatch.h"
#include <cjson/cJSON.h>
#include "collect.h"
#include "estimate.h"
#include "journal.h"
#include "commands.h"
#include "view.h"
#include "wait.h"
#include "output.h"

#include <stdlib.h>
#include <string.h>

static int wait_opt(const char *cmd, int id, const char *arg, void *st)
{
    return cli_wait_opt(cmd, id, arg, st);
}

const cli_opt cli_opts_wait[] = {
    CLI_WAIT_OPTIONS,
    { NULL, 0, 0, 0 }
};
const cli_opt cli_opts_status[] = { { NULL, 0, 0, 0 } };
const cli_opt cli_opts_cancel[] = { { NULL, 0, 0, 0 } };

/* one ID and the common options; w (the waiting options) may be NULL */
static int parse_id_cmd(cli_ctx *ctx, const char *cmd, int argc, char **argv,
                        cli_wait_opts *w, const char **id)
{
    cli_parse_spec spec = {
        cmd, w ? cli_opts_wait : cli_opts_status, w ? wait_opt : NULL,
        "ID", 0
    };
    int rc = cli_parse_args(ctx, &spec, argc, argv, w, id);
    return rc < 0 && w ? cli_wait_check(cmd, w) : rc;
}

int cmd_status(cli_ctx *ctx, int argc, char **argv)
{
    const char *id;
    int rc = parse_id_cmd(ctx, "status", argc, argv, NULL, &id);
    if (rc >= 0)
        return rc;
    cli_target t;
    rc = cli_target_load(ctx, id, &t);
    if (rc == CLI_EXIT_OK && ctx->json) {
        cJSON *o = cli_target_json(&t);
        cli_cost_status(ctx, &t, o);
        out_json(stdout, o, 1);
        cJSON_Delete(o);
    } else if (rc == CLI_EXIT_OK) {
        cli_target_show(ctx, &t);
        cli_cost_status(ctx, &t, NULL);
    }
    cli_target_free(&t);
    return rc;
}

int cmd_wait(cli_ctx *ctx, int argc, char **argv)
{
    const char *id;
    cli_wait_opts w = CLI_WAIT_OPTS_INIT;
    int rc = parse_id_cmd(ctx, "wait", argc, argv, &w, &id);
    if (rc >= 0)
        return rc;
    cli_target t;
    rc = cli_target_resolve(ctx, id, &t);
    if (rc == CLI_EXIT_OK)
        rc = cli_target_wait(ctx, &t, &w);
    if (rc == CLI_EXIT_OK || rc == CLI_EXIT_INTERRUPTED) {
        if (!ctx->quiet || ctx->json)
            cli_target_show(ctx, &t);
        if (rc == CLI_EXIT_OK && !cli_target_all_completed(&t))
            rc = CLI_EXIT_FAILED;
    }
    cli_target_free(&t);
    return rc;
}

int cmd_cancel(cli_ctx *ctx, int argc, char **argv)
{
    const char *id;
    int rc = parse_id_cmd(ctx, "cancel", argc, argv, NULL, &id);
    if (rc >= 0)
        return rc;
    cli_target t;
    rc = cli_target_load(ctx, id, &t);
    if (rc == CLI_EXIT_OK && cli_target_done(&t)) {
        cli_info(ctx, "%s has finished (%s); nothing to cancel",
                 cli_target_label(&t), cli_target_status(&t));
        if (!ctx->quiet || ctx->json)
            cli_target_show(ctx, &t);
        cli_target_free(&t);
        return CLI_EXIT_OK;
    }
    if (rc == CLI_EXIT_OK)
        rc = cli_target_cancel(ctx, &t);
    if (rc == CLI_EXIT_OK) {
        cli_info(ctx, "cancel requested; lines already done stay in the "
                 "results (oaibatch results %s)", cli_target_label(&t));
        if (!ctx->quiet || ctx->json)
            cli_target_show(ctx, &t);
    }
    cli_target_free(&t);
    return rc;
}

/* ---- list ---- */

typedef struct list_ctx {
    cJSON *arr;
    out_table *tb;
    const char *status;   /* --status: only these */
} list_ctx;

static void list_add(list_ctx *lc, const oab_job *b)
{
    const char *st = b->status_text ? b->status_text
                                    : oab_batch_status_str(b->status);
    if (lc->status && strcmp(lc->status, st) != 0)
        return;
    if (lc->arr) {
        cJSON *o = b->raw_json ? cJSON_Parse(b->raw_json) : NULL;
        if (!o) {
            o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "id", b->id);
            cJSON_AddStringToObject(o, "status",
                                    b->status_text ? b->status_text : "");
        }
        cJSON_AddItemToArray(lc->arr, o);
        return;
    }
    char when[32], counts[64];
    out_time(when, sizeof when, b->created_at);
    if (b->has_request_counts)
        snprintf(counts, sizeof counts, "%lld/%lld", b->count_completed +
                 b->count_failed, b->count_total);
    else
        snprintf(counts, sizeof counts, "-");
    const char *job = NULL;
    for (size_t i = 0; i < b->n_metadata; i++)
        if (b->metadata[i].key && !strcmp(b->metadata[i].key, "oaibatch_job"))
            job = b->metadata[i].value;
    const char *row[6] = { b->id, b->status_text ? b->status_text
                                                 : oab_batch_status_str(b->status),
                           b->endpoint, counts, when, job };
    out_table_add(lc->tb, row);
}

static int list_one(const oab_job *b, void *ud)
{
    list_add(ud, b);
    return 0;
}

typedef struct list_args {
    long limit;
    int all;
    const char *status;   /* --status S */
    const char *after;    /* --after ID */
    const char *before;   /* --before ID (Anthropic) */
} list_args;

enum { O_LIMIT = 1, O_ALL, O_STATUS, O_AFTER, O_BEFORE };

static int list_opt(const char *cmd, int id, const char *arg, void *st)
{
    list_args *la = st;
    switch (id) {
    case O_ALL:
        la->all = 1;
        return 1;
    case O_AFTER:
        la->after = arg;
        return 1;
    case O_BEFORE:
        la->before = arg;
        return 1;
    case O_STATUS:
        if (oab_batch_status_from_str(arg) == OAB_BATCH_UNKNOWN) {
            cli_usage_error(cmd, "--status: unknown status '%s'", arg);
            return -1;
        }
        la->status = arg;
        return 1;
    default:
        break;
    }
    if (id != O_LIMIT)
        return 0;
    if (cli_parse_long(cmd, "limit", arg, &la->limit) != 0)
        return -1;
    if (la->limit < 1 || la->limit > 100) {
        cli_usage_error(cmd, "--limit takes 1 to 100");
        return -1;
    }
    return 1;
}

static int list_batches(cli_ctx *ctx, const list_args *la)
{
    long limit = la->limit;
    int all = la->all;
    if (la->before && !cli_is_anthropic(ctx))
        return cli_usage_error("list", "--before is Anthropic's cursor: use "
                               "it with --provider anthropic");
    if (la->before && (la->after || all))
        return cli_usage_error("list", "--before goes with neither --after "
                               "nor --all");
    oab_client *c = cli_client(ctx);
    if (!c)
        return CLI_EXIT_API;
    static const char *const hdr[] = { "BATCH", "STATUS", "ENDPOINT", "DONE",
                                       "CREATED (UTC)", "JOB" };
    list_ctx lc = { NULL, NULL, la->status };
    if (ctx->json)
        lc.arr = cJSON_CreateArray();
    else
        lc.tb = out_table_new(6, hdr);
    oab_status st;
    int has_more = 0;
    if (all) {
        st = oab_batch_list_all(c, (int)(limit < 100 ? 100 : limit), list_one,
                                &lc);
    } else {
        oab_job_list *l = NULL;
        if (la->before)
            st = oab_anthropic_batch_list(c, &l, (int)limit, la->before,
                                          NULL);
        else
            st = oab_batch_list(c, &l, (int)limit, la->after);
        for (size_t i = 0; st == OAB_OK && i < l->n; i++)
            list_add(&lc, l->jobs[i]);
        if (l)
            has_more = l->has_more;
        oab_job_list_free(l);
    }
    int rc = CLI_EXIT_OK;
    if (st != OAB_OK) {
        rc = cli_api_error(ctx, st, "cannot list the batches");
    } else if (lc.arr) {
        out_json(stdout, lc.arr, 1);
    } else {
        if (out_table_rows(lc.tb))
            out_table_print(lc.tb, stdout, ctx->color, 0);
        else
            cli_info(ctx, "no batches");
        if (has_more)
            cli_info(ctx, "more batches on the server: --limit N or --all");
    }
    cJSON_Delete(lc.arr);
    out_table_free(lc.tb);
    return rc;
}

const cli_opt cli_opts_list[] = {
    { "limit", 0, 1, O_LIMIT },
    { "all", 0, 0, O_ALL },
    { "status", 0, 1, O_STATUS },
    { "after", 0, 1, O_AFTER },
    { "before", 0, 1, O_BEFORE },
    { NULL, 0, 0, 0 }
};

int cmd_list(cli_ctx *ctx, int argc, char **argv)
{
    static const cli_parse_spec spec = {
        "list", cli_opts_list, list_opt,
        NULL, 0
    };
    list_args la = { 20, 0, NULL, NULL, NULL };
    int rc = cli_parse_args(ctx, &spec, argc, argv, &la, NULL);
    return rc >= 0 ? rc : list_batches(ctx, &la);
}

/* ---- delete (Anthropic) ---- */

const cli_opt cli_opts_delete[] = {
    { NULL, 0, 0, 0 }
};

int cmd_delete(cli_ctx *ctx, int argc, char **argv)
{
    static const cli_parse_spec spec = {
        "delete", cli_opts_delete, NULL, "BATCH", 0
    };
    const char *id = NULL;
    int rc = cli_parse_args(ctx, &spec, argc, argv, NULL, &id);
    if (rc >= 0)
        return rc;
    /* a batch of a journal job goes to the job's provider and server */
    char *job_id = NULL;
    int part = 0;
    journal *jr = cli_journal(ctx);
    if (jr && journal_find_batch(jr, id, &job_id, &part) == 0) {
        journal_job *job = NULL;
        if (journal_job_get(jr, job_id, &job) == 0) {
            cli_use_provider(ctx, job->provider);
            cli_use_base_url(ctx, job->base_url, job->id);
        }
        journal_job_free(job);
    }
    free(job_id);
    if (!cli_is_anthropic(ctx))
        return cli_usage_error("delete", "only Anthropic's batches can be "
                               "deleted (--provider anthropic); OpenAI's "
                               "stay listed, delete their files with "
                               "'oaibatch files delete ID'");
    oab_client *c = cli_client(ctx);
    if (!c)
        return CLI_EXIT_API;
    oab_status st = oab_anthropic_batch_delete(c, id);
    if (st != OAB_OK)
        return cli_api_errorf(ctx, st, "cannot delete %s", id);
    cli_info(ctx, "deleted %s", id);
    return CLI_EXIT_OK;
}
