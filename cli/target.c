/* target.c - resolving an ID to a target, fetching its batches (each
 * status recorded in the journal), the job's status, cancelling,
 * deleting what the server keeps. */
#include "oaibatch.h"
#include "util/str.h"
#include "linemap.h"
#include "target.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- resolving ---- */

static int build_units(cli_target *t, int only_idx)
{
    free(t->units);
    t->units = NULL;
    t->n_units = 0;
    if (!t->job) {
        t->units = calloc(1, sizeof *t->units);
        if (!t->units)
            return -1;
        t->units[0].batch_id = t->batch_id;
        t->n_units = 1;
        return 0;
    }
    t->units = calloc(t->job->n_parts ? t->job->n_parts : 1, sizeof *t->units);
    if (!t->units)
        return -1;
    for (size_t i = 0; i < t->job->n_parts; i++) {
        journal_part *p = &t->job->parts[i];
        if (only_idx && p->idx != only_idx)
            continue;
        cli_unit *u = &t->units[t->n_units++];
        u->part = p;
        u->batch_id = p->batch_id;
    }
    return 0;
}

/* An Anthropic job's custom_id maps, given to the client so that the
 * results of its batches read back with the caller's custom_ids in this
 * process too. A client that cannot be made is reported by its first
 * use. */
static int load_maps(cli_ctx *ctx, const cli_target *t)
{
    if (!t->job || !cli_is_anthropic(ctx))
        return CLI_EXIT_OK;
    oab_client *c = NULL;
    for (size_t i = 0; i < t->job->n_parts; i++) {
        const journal_part *p = &t->job->parts[i];
        if (!p->batch_id || !p->anthropic_map)
            continue;
        if (!c && !(c = cli_client(ctx)))
            return CLI_EXIT_OK;
        oab_status st = oab_anthropic_set_batch_map(c, p->batch_id,
                                                    p->anthropic_map);
        if (st != OAB_OK)
            return cli_api_errorf(ctx, st, "journal: the custom_id map of "
                                  "batch %s", p->batch_id);
    }
    return CLI_EXIT_OK;
}

int cli_target_resolve(cli_ctx *ctx, const char *id, cli_target *t)
{
    memset(t, 0, sizeof *t);
    journal *jr = cli_journal(ctx);
    if (!jr)
        return CLI_EXIT_LOCAL;
    int only_idx = 0;
    if (strncmp(id, "job_", 4) == 0) {
        int r = journal_job_get(jr, id, &t->job);
        if (r < 0) {
            cli_error(ctx, "journal: %s", journal_errmsg(jr));
            return CLI_EXIT_LOCAL;
        }
        if (r > 0) {
            cli_error(ctx, "no job %s in the journal %s", id,
                      journal_path(jr));
            return CLI_EXIT_LOCAL;
        }
    } else {
        char *job_id = NULL;
        int r = journal_find_batch(jr, id, &job_id, &only_idx);
        if (r < 0) {
            cli_error(ctx, "journal: %s", journal_errmsg(jr));
            return CLI_EXIT_LOCAL;
        }
        if (r == 0) {
            r = journal_job_get(jr, job_id, &t->job);
            free(job_id);
            if (r != 0) {
                cli_error(ctx, "journal: cannot load the job of %s", id);
                return CLI_EXIT_LOCAL;
            }
        }
        t->batch_id = oab__strdup(id);
    }
    t->label = oab__strdup(id);
    if (t->job) {
        cli_use_provider(ctx, t->job->provider);
        cli_use_base_url(ctx, t->job->base_url, t->job->id);
        /* a job journaled before line maps (or cut off before its
         * copies went): map and release what can be */
        cli_linemap_settle(ctx, t->job);
    }
    if (build_units(t, only_idx) != 0) {
        cli_error(ctx, "out of memory");
        return CLI_EXIT_LOCAL;
    }
    return load_maps(ctx, t);
}

int cli_target_reload(cli_ctx *ctx, cli_target *t)
{
    if (!t->job)
        return CLI_EXIT_OK;
    journal_job *fresh = NULL;
    journal *jr = cli_journal(ctx);
    if (!jr || journal_job_get(jr, t->job->id, &fresh) != 0) {
        cli_error(ctx, "journal: cannot reload job %s", t->job->id);
        return CLI_EXIT_LOCAL;
    }
    for (size_t i = 0; i < t->n_units; i++)
        oab_job_free(t->units[i].batch);
    journal_job_free(t->job);
    t->job = fresh;
    free(t->batch_id);
    t->batch_id = NULL;
    return build_units(t, 0) == 0 ? CLI_EXIT_OK : CLI_EXIT_LOCAL;
}

void cli_target_free(cli_target *t)
{
    for (size_t i = 0; i < t->n_units; i++)
        oab_job_free(t->units[i].batch);
    free(t->units);
    journal_job_free(t->job);
    free(t->batch_id);
    free(t->label);
    memset(t, 0, sizeof *t);
}

const char *cli_target_label(const cli_target *t)
{
    return t->job ? t->job->id : t->label;
}

/* ---- fetching ---- */

int cli_unit_terminal(const cli_unit *u)
{
    return u->batch && oab_batch_status_is_terminal(u->batch->status);
}

static void record_status(cli_ctx *ctx, const cli_target *t, cli_unit *u)
{
    if (!u->part || !t->job || !u->batch)
        return;
    journal *jr = cli_journal(ctx);
    if (!jr)
        return;
    const oab_job *b = u->batch;
    const char *st = b->status_text ? b->status_text
                                    : oab_batch_status_str(b->status);
    if (u->part->status && strcmp(u->part->status, st) == 0 &&
        u->part->count_completed == b->count_completed &&
        u->part->count_failed == b->count_failed)
        return;
    journal_part_set_status(jr, t->job->id, u->part->idx, st, b->count_total,
                            b->count_completed, b->count_failed);
    oab__set_str(&u->part->status, st);
    u->part->count_total = b->count_total;
    u->part->count_completed = b->count_completed;
    u->part->count_failed = b->count_failed;
}

typedef oab_status (*batch_call)(oab_client *c, oab_job **out,
                                 const char *batch_id);

/* Calls the API on the unit's batch and keeps the batch it answers
 * with (its status recorded). */
static oab_status unit_call(cli_ctx *ctx, oab_client *c, const cli_target *t,
                            cli_unit *u, batch_call call)
{
    oab_job *b = NULL;
    oab_status st = call(c, &b, u->batch_id);
    if (st == OAB_OK && b) {
        oab_job_free(u->batch);
        u->batch = b;
        record_status(ctx, t, u);
    }
    return st;
}

/* Says what could not be done to which batch; the exit code for it. */
static int unit_error(cli_ctx *ctx, oab_status st, const char *verb,
                      const cli_unit *u)
{
    if (st == OAB_ENOTFOUND && !u->part) {
        /* an id the user gave that neither the journal nor the server
           knows: an unknown id, as the exit code table says */
        cli_error(ctx, "no batch %s on the server (%s)", u->batch_id,
                  ctx->client ? oab_client_errmsg(ctx->client) : "404");
        return CLI_EXIT_LOCAL;
    }
    return cli_api_errorf(ctx, st, "cannot %s %s", verb, u->batch_id);
}

oab_status cli_target_poll(cli_ctx *ctx, cli_target *t,
                           const cli_unit **failed)
{
    *failed = NULL;
    for (size_t i = 0; i < t->n_units; i++) {
        cli_unit *u = &t->units[i];
        if (!u->batch_id || cli_unit_terminal(u))
            continue;
        oab_status st = unit_call(ctx, ctx->client, t, u, oab_batch_retrieve);
        if (st != OAB_OK) {
            *failed = u;
            return st;
        }
    }
    return OAB_OK;
}

int cli_target_fetch(cli_ctx *ctx, cli_target *t, int only_unfinished)
{
    oab_client *c = cli_client(ctx);
    if (!c)
        return CLI_EXIT_API;
    for (size_t i = 0; i < t->n_units; i++) {
        cli_unit *u = &t->units[i];
        if (!u->batch_id || (only_unfinished && cli_unit_terminal(u)))
            continue;
        oab_status st = unit_call(ctx, c, t, u, oab_batch_retrieve);
        if (st != OAB_OK)
            return unit_error(ctx, st, "get batch", u);
    }
    return CLI_EXIT_OK;
}

int cli_target_report(cli_ctx *ctx, oab_status st, const cli_unit *u)
{
    return unit_error(ctx, st, "get batch", u);
}


int cli_target_done(const cli_target *t)
{
    for (size_t i = 0; i < t->n_units; i++)
        if (!cli_unit_terminal(&t->units[i]))
            return 0;
    return 1;
}

int cli_target_all_completed(const cli_target *t)
{
    if (t->settled)
        return 1;
    for (size_t i = 0; i < t->n_units; i++) {
        const cli_unit *u = &t->units[i];
        if (!u->batch || u->batch->status != OAB_BATCH_COMPLETED)
            return 0;
    }
    return 1;
}

const char *cli_unit_status(const cli_unit *u)
{
    if (u->batch)
        return u->batch->status_text ? u->batch->status_text
                                     : oab_batch_status_str(u->batch->status);
    if (u->part && u->part->batch_id && u->part->status)
        return u->part->status;
    if (u->part && u->part->status && strcmp(u->part->status, "queued") == 0)
        return "queued"; /* waiting for the enqueued-token limit */
    if (u->part && !u->part->file_id && !u->part->batch_id)
        return "not_uploaded";
    if (u->part && !u->part->batch_id)
        return "not_created";
    return "unknown";
}

void cli_target_counts(const cli_target *t, long long *total,
                       long long *done, long long *failed)
{
    *total = *done = *failed = 0;
    int retries = cli_target_has_retries(t);
    long long pending = 0;
    for (size_t i = 0; i < t->n_units; i++) {
        const cli_unit *u = &t->units[i];
        const oab_job *b = u->batch;
        if (!retries) {
            if (b) {
                *total += b->count_total;
                *done += b->count_completed + b->count_failed;
                *failed += b->count_failed;
            }
            continue;
        }
        /* with retries a line is in several batches: count what is still
         * running, and every other line of the job as done */
        if (cli_unit_terminal(u))
            continue;
        long long tot = b && b->count_total ? b->count_total
                        : u->part          ? u->part->n_lines
                                           : 0;
        long long fin = b ? b->count_completed + b->count_failed : 0;
        pending += tot > fin ? tot - fin : 0;
        *failed += b ? b->count_failed : 0;
    }
    if (retries) {
        *total = t->job->n_lines;
        *done = *total > pending ? *total - pending : 0;
    }
}

size_t cli_target_retries(const cli_target *t)
{
    size_t n = 0;
    for (size_t i = 0; t->job && i < t->job->n_parts; i++)
        if (journal_part_is_retry(&t->job->parts[i]))
            n++;
    return n;
}

const char *cli_target_status(const cli_target *t)
{
    if (t->settled)
        return "completed";
    /* unfinished: the least advanced status; finished: completed when all
       completed, else the first other terminal status */
    static const oab_batch_status order[] = {
        OAB_BATCH_VALIDATING, OAB_BATCH_IN_PROGRESS, OAB_BATCH_FINALIZING,
        OAB_BATCH_CANCELLING
    };
    for (size_t i = 0; i < t->n_units; i++)
        if (!t->units[i].batch_id)
            return cli_unit_status(&t->units[i]);
    for (size_t k = 0; k < sizeof order / sizeof order[0]; k++)
        for (size_t i = 0; i < t->n_units; i++)
            if (t->units[i].batch && t->units[i].batch->status == order[k])
                return oab_batch_status_str(order[k]);
    for (size_t i = 0; i < t->n_units; i++) {
        const cli_unit *u = &t->units[i];
        if (!u->batch)
            return cli_unit_status(u);
        if (u->batch->status != OAB_BATCH_COMPLETED)
            return cli_unit_status(u);
    }
    return "completed";
}

int cli_target_cancel(cli_ctx *ctx, cli_target *t)
{
    oab_client *c = cli_client(ctx);
    if (!c)
        return CLI_EXIT_API;
    int rc = CLI_EXIT_OK;
    for (size_t i = 0; i < t->n_units; i++) {
        cli_unit *u = &t->units[i];
        if (!u->batch_id || cli_unit_terminal(u))
            continue;
        if (u->batch && u->batch->status == OAB_BATCH_CANCELLING)
            continue;
        oab_status st = unit_call(ctx, c, t, u, oab_batch_cancel);
        if (st == OAB_EHTTP && oab_client_last_error(c)->http_status == 409) {
            /* not cancellable: it may have ended since it was read, and
             * then nothing is left to cancel */
            char why[512];
            snprintf(why, sizeof why, "%s", cli_failure(ctx, st));
            if (unit_call(ctx, c, t, u, oab_batch_retrieve) == OAB_OK &&
                cli_unit_terminal(u)) {
                cli_info(ctx, "batch %s ended (%s) before it could be "
                         "cancelled", u->batch_id, cli_unit_status(u));
                continue;
            }
            cli_error(ctx, "cannot cancel %s: %s", u->batch_id, why);
            rc = cli_exit_for(st);
            continue;
        }
        if (st != OAB_OK)
            rc = unit_error(ctx, st, "cancel", u);
    }
    return rc;
}
/* ---- deleting ---- */

/* Deletes one file (or Anthropic batch); 1 when it went or was gone,
 * 0 when not (said), and *rc the failure's exit code. */
static int delete_one(cli_ctx *ctx, oab_client *c, int batch,
                      const char *what, const char *id, int *rc)
{
    oab_status st = batch ? oab_anthropic_batch_delete(c, id)
                          : oab_file_delete(c, id);
    if (st == OAB_OK || st == OAB_ENOTFOUND)
        return 1;
    int r = cli_api_errorf(ctx, st, "cannot delete %s %s", what, id);
    if (*rc == CLI_EXIT_OK)
        *rc = r;
    return 0;
}

int cli_target_delete_remote(cli_ctx *ctx, const cli_target *t, int outputs,
                             size_t *deleted)
{
    size_t n = 0;
    int rc = CLI_EXIT_OK;
    oab_client *c = cli_client(ctx);
    if (!c)
        return CLI_EXIT_API;
    int anthropic = cli_is_anthropic(ctx);
    for (size_t i = 0; i < t->n_units; i++) {
        const cli_unit *u = &t->units[i];
        if (anthropic) {
            if (!outputs || !u->batch_id)
                continue;
            if (!cli_unit_terminal(u)) {
                cli_error(ctx, "batch %s has not ended: not deleted",
                          u->batch_id);
                if (rc == CLI_EXIT_OK)
                    rc = CLI_EXIT_FAILED;
                continue;
            }
            n += delete_one(ctx, c, 1, "batch", u->batch_id, &rc);
            continue;
        }
        if (u->part && u->part->file_id)
            n += delete_one(ctx, c, 0, "the input file", u->part->file_id,
                            &rc);
        if (!outputs || !u->batch)
            continue;
        if (u->batch->output_file_id)
            n += delete_one(ctx, c, 0, "the output file",
                            u->batch->output_file_id, &rc);
        if (u->batch->error_file_id)
            n += delete_one(ctx, c, 0, "the error file",
                            u->batch->error_file_id, &rc);
    }
    if (deleted)
        *deleted = n;
    return rc;
}

int cli_target_has_retries(const cli_target *t)
{
    return cli_target_retries(t) > 0;
}
