/* part.c - starting a part: upload, create, each id journaled. */
#include "oaibatch.h"
#include <cjson/cJSON.h>
#include "util/str.h"
#include "linemap.h"
#include "part.h"
#include "queue.h"

#include <stdio.h>
#include <string.h>

/* ---- starting a part ---- */

typedef struct find_ctx {
    const char *file_id;
    oab_job *found;
    int seen;
} find_ctx;

static int find_by_file(const oab_job *job, void *ud)
{
    find_ctx *f = ud;
    /* a batch refused for the enqueued-token limit is not the part's */
    if (job->input_file_id && strcmp(job->input_file_id, f->file_id) == 0 &&
        !cli_queue_refused(job)) {
        oab_job_dup(&f->found, job);
        return 1;
    }
    return ++f->seen >= 1000;
}

/* Anthropic: no file; the part's lines are translated and sent inline
 * in the create, and the batch id and its custom_id map are journaled in
 * one write as soon as the batch exists. */
static int start_anthropic(cli_ctx *ctx, oab_client *c, journal *jr,
                           journal_job *job, journal_part *part,
                           const cli_part_opts *po)
{
    if (part->batch_id)
        return CLI_EXIT_OK;
    oab_batch_options bo = OAB_BATCH_OPTIONS_INIT;
    bo.endpoint = job->endpoint;
    bo.completion_window = po ? po->completion_window : NULL;
    bo.output_expires_after_s = po ? po->output_expires_after : 0;
    oab_job *b = NULL;
    oab_status st = oab_batch_create_job_path(c, &b, part->path, &bo);
    if (st != OAB_OK)
        return cli_api_errorf(ctx, st, "cannot create the batch of part %d",
                              part->idx);
    cli_crash_point("create");
    char *map = NULL;
    st = oab_anthropic_batch_map(c, b->id, &map);
    oab__set_str(&part->batch_id, b->id);
    oab_job_free(b);
    if (st != OAB_OK) {
        cli_error(ctx, "out of memory (created batch %s)", part->batch_id);
        return CLI_EXIT_LOCAL;
    }
    int bad = journal_part_set_batch_map(jr, job->id, part->idx,
                                         part->batch_id, map) != 0;
    oab__set_str(&part->anthropic_map, map);
    oab_free(map);
    if (bad) {
        cli_error(ctx, "journal: %s (created batch %s)", journal_errmsg(jr),
                  part->batch_id);
        return CLI_EXIT_LOCAL;
    }
    cli_info(ctx, "created batch %s for part %d (%ld lines)", part->batch_id,
             part->idx, part->n_lines);
    return CLI_EXIT_OK;
}

static int part_start(cli_ctx *ctx, journal_job *job, journal_part *part,
                      const cli_part_opts *po)
{
    oab_client *c = cli_client(ctx);
    journal *jr = cli_journal(ctx);
    if (!c || !jr)
        return !c ? CLI_EXIT_API : CLI_EXIT_LOCAL;
    if (oab_client_provider(c) == OAB_PROVIDER_ANTHROPIC)
        return start_anthropic(ctx, c, jr, job, part, po);
    if (!part->file_id) {
        oab_file *f = NULL;
        oab_status st = oab_file_upload_path(c, &f, part->path, "batch", 0);
        if (st != OAB_OK)
            return cli_api_errorf(ctx, st, "cannot upload %s", part->path);
        oab__set_str(&part->file_id, f->id);
        oab_file_free(f);
        if (journal_part_set_file(jr, job->id, part->idx, part->file_id) != 0) {
            cli_error(ctx, "journal: %s (uploaded file %s)",
                      journal_errmsg(jr), part->file_id);
            return CLI_EXIT_LOCAL;
        }
        cli_info(ctx, "uploaded part %d (%ld lines) as %s", part->idx,
                 part->n_lines, part->file_id);
        cli_crash_point("upload");
    } else if (!part->batch_id) {
        /* resumed: a batch may exist that the journal never heard of */
        find_ctx f = { part->file_id, NULL, 0 };
        oab_status st = oab_batch_list_all(c, 100, find_by_file, &f);
        if (st != OAB_OK && st != OAB_ESTOPPED) {
            oab_job_free(f.found);
            return cli_api_error(ctx, st, "cannot list the batches");
        }
        if (f.found) {
            oab__set_str(&part->batch_id, f.found->id);
            oab_job_free(f.found);
            if (journal_part_set_batch(jr, job->id, part->idx,
                                       part->batch_id) != 0) {
                cli_error(ctx, "journal: %s (batch %s)", journal_errmsg(jr),
                          part->batch_id);
                return CLI_EXIT_LOCAL;
            }
            cli_info(ctx, "found batch %s of part %d on the server",
                     part->batch_id, part->idx);
            return CLI_EXIT_OK;
        }
    }
    if (part->batch_id)
        return CLI_EXIT_OK;

    /* metadata: the user's, then ours */
    const char *keys[16], *vals[16];
    size_t n = 0;
    cJSON *md = job->metadata_json ? cJSON_Parse(job->metadata_json) : NULL;
    const cJSON *it;
    cJSON_ArrayForEach(it, md)
    {
        if (n < 14 && cJSON_IsString(it)) {
            keys[n] = it->string;
            vals[n++] = it->valuestring;
        }
    }
    char idx[16];
    snprintf(idx, sizeof idx, "%d", part->idx);
    keys[n] = "oaibatch_job";
    vals[n++] = job->id;
    keys[n] = "oaibatch_part";
    vals[n++] = idx;
    oab_batch_options bo = OAB_BATCH_OPTIONS_INIT;
    bo.endpoint = job->endpoint;
    bo.completion_window = po ? po->completion_window : NULL;
    bo.output_expires_after_s = po ? po->output_expires_after : 0;
    bo.metadata_keys = keys;
    bo.metadata_values = vals;
    bo.n_metadata = n;
    oab_job *b = NULL;
    oab_status st = oab_batch_create(c, &b, part->file_id, &bo);
    cJSON_Delete(md);
    if (st != OAB_OK)
        return cli_api_errorf(ctx, st, "cannot create the batch of part %d",
                              part->idx);
    cli_crash_point("create");
    oab__set_str(&part->batch_id, b->id);
    oab_job_free(b);
    if (journal_part_set_batch(jr, job->id, part->idx, part->batch_id) != 0) {
        cli_error(ctx, "journal: %s (created batch %s)", journal_errmsg(jr),
                  part->batch_id);
        return CLI_EXIT_LOCAL;
    }
    cli_info(ctx, "created batch %s for part %d", part->batch_id, part->idx);
    return CLI_EXIT_OK;
}


int cli_part_start(cli_ctx *ctx, journal_job *job, journal_part *part,
                   const cli_part_opts *po)
{
    /* the line map is committed before the first upload; the copy goes
     * once the batch is journaled (linemap.h) */
    cli_linemap_settle(ctx, job);
    int rc = part_start(ctx, job, part, po);
    if (rc == CLI_EXIT_OK)
        cli_linemap_settle(ctx, job);
    return rc;
}
