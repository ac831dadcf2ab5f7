/* part.c - starting a part: upload, create, each id journaled. */
#include "oaibatch.h"
#include <cjson/cJSON.h>
#include "util/str.h"
#include "linemap.h"
#include "part.h"
#include "wait.h"
#include "queue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

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

/* A create the server refused for good (a 4xx but 408, 409, 429): the
 * same create again gets the same answer; kept for the hint after it
 * (ctx->create_refused). */
static void note_refusal(cli_ctx *ctx, oab_client *c, oab_status st)
{
    long h = st == OAB_EHTTP || st == OAB_ENOTFOUND
                 ? oab_client_last_error(c)->http_status
                 : 0;
    if (h >= 400 && h < 500 && h != 408 && h != 409 && h != 429)
        ctx->create_refused = h;
}

/* The batch made of the part's file, if the server has one the journal
 * never heard of (a create whose answer was lost, a crash before the
 * journal write): journaled, part->batch_id set. CLI_EXIT_OK whether or
 * not one was found. */
static int adopt_by_file(cli_ctx *ctx, oab_client *c, journal *jr,
                         const journal_job *job, journal_part *part)
{
    find_ctx f = { part->file_id, NULL, 0 };
    oab_status st = oab_batch_list_all(c, 100, find_by_file, &f);
    if (st != OAB_OK && st != OAB_ESTOPPED) {
        oab_job_free(f.found);
        return cli_api_error(ctx, st, "cannot list the batches");
    }
    if (!f.found)
        return CLI_EXIT_OK;
    oab__set_str(&part->batch_id, f.found->id);
    oab_job_free(f.found);
    if (journal_part_set_batch(jr, job->id, part->idx, part->batch_id) != 0) {
        cli_error(ctx, "journal: %s (batch %s)", journal_errmsg(jr),
                  part->batch_id);
        return CLI_EXIT_LOCAL;
    }
    cli_info(ctx, "found batch %s of part %d on the server", part->batch_id,
             part->idx);
    return CLI_EXIT_OK;
}

/* ---- the part's file ---- */

/* The name a part's file is uploaded under: the job's id and the part's
 * number, so that an upload whose answer never reached the journal (a
 * crash, a lost answer) is found again by it (files carry no metadata). */
static void upload_name(char *buf, size_t n, const journal_job *job,
                        const journal_part *part)
{
    snprintf(buf, n, "%s.%s%03d.jsonl", job->id,
             journal_part_is_retry(part) ? "retry" : "part", part->idx);
}

/* The most pages of GET /files read looking for a part's upload: the
 * newest first, so that the part's copies (made since its upload was
 * first sent) are on the first page but for an account uploading
 * thousands of files a minute. */
#define UPLOAD_FIND_PAGES 20

/* Looks among the batch files uploaded since the part's upload was first
 * sent (a minute of clock skew allowed) for the part's, by its name and
 * size. With no part->file_id, the newest is taken and journaled
 * (part->file_id set); the other copies (a retried upload, an earlier
 * crash) are deleted. With one (`sweeping`: the upload answered after
 * more than one attempt), only the other copies are deleted. A listing
 * the server does not offer (404, 405 and other 4xx but 401, 403 and
 * 429: a gateway with no GET /files) is a warning, as is any failed
 * listing when sweeping: the part is then uploaded (again). CLI_EXIT_OK
 * whether or not one was found. */
static int adopt_upload(cli_ctx *ctx, oab_client *c, journal *jr,
                        const journal_job *job, journal_part *part)
{
    char name[160];
    upload_name(name, sizeof name, job, part);
    struct stat sb;
    if (stat(part->path, &sb) != 0)
        return CLI_EXIT_OK; /* the upload reads it and says why */
    int sweeping = part->file_id != NULL;
    long long since = part->upload_started_at - 60;
    char *found = NULL, *extra[16];
    size_t n_extra = 0;
    char *after = NULL;
    oab_status st = OAB_OK;
    int more = 1;
    for (int page = 0; more && page < UPLOAD_FIND_PAGES; page++) {
        oab_file_page *l = NULL;
        st = oab_file_list(c, &l, "batch", 100, after, "desc");
        if (st != OAB_OK)
            break;
        more = l->has_more && l->n;
        for (size_t i = 0; i < l->n; i++) {
            const oab_file *f = l->files[i];
            if (f->created_at && f->created_at < since) {
                more = 0; /* newest first: the rest are older */
                break;
            }
            if (!f->id || !f->filename || strcmp(f->filename, name) != 0 ||
                f->bytes != (long long)sb.st_size ||
                (sweeping && !strcmp(f->id, part->file_id)))
                continue;
            if (!sweeping && !found)
                found = oab__strdup(f->id);
            else if (n_extra < sizeof extra / sizeof extra[0])
                extra[n_extra++] = oab__strdup(f->id);
        }
        if (more)
            oab__set_str(&after, l->last_id);
        oab_file_page_free(l);
    }
    free(after);
    int rc = CLI_EXIT_OK;
    if (st != OAB_OK) {
        int offered = st != OAB_ENOTFOUND && st != OAB_EHTTP;
        if (sweeping)
            cli_warn(ctx, "cannot look for other copies of part %d's file "
                     "(its upload took more than one try): %s", part->idx,
                     cli_failure(ctx, st));
        else if (!offered)
            cli_warn(ctx, "cannot look on the server for part %d's earlier "
                     "upload (%s): uploading it again", part->idx,
                     cli_failure(ctx, st));
        else
            rc = cli_api_error(ctx, st, "cannot list the files");
    } else if (found) {
        if (journal_part_set_file(jr, job->id, part->idx, found) != 0) {
            cli_error(ctx, "journal: %s (uploaded file %s)",
                      journal_errmsg(jr), found);
            rc = CLI_EXIT_LOCAL;
        } else {
            part->file_id = found;
            found = NULL;
            cli_info(ctx, "found the file of part %d on the server: %s",
                     part->idx, part->file_id);
        }
    }
    free(found);
    for (size_t i = 0; i < n_extra; i++) {
        /* the same bytes under the job's own name: a copy of this part */
        if (rc == CLI_EXIT_OK && extra[i] &&
            oab_file_delete(c, extra[i]) == OAB_OK)
            cli_info(ctx, "deleted %s, another copy of part %d's file",
                     extra[i], part->idx);
        free(extra[i]);
    }
    return rc;
}

/* Uploads the part's file, or finds it on the server when an earlier
 * upload may have been taken (upload_started_at): the file id journaled,
 * part->file_id set. Exit code. */
static int upload_part(cli_ctx *ctx, oab_client *c, journal *jr,
                       const journal_job *job, journal_part *part)
{
    if (part->upload_started_at) {
        int rc = adopt_upload(ctx, c, jr, job, part);
        if (rc != CLI_EXIT_OK || part->file_id)
            return rc;
    } else {
        long long now = (long long)time(NULL);
        if (journal_part_set_upload_started(jr, job->id, part->idx, now) != 0) {
            cli_error(ctx, "journal: %s", journal_errmsg(jr));
            return CLI_EXIT_LOCAL;
        }
        part->upload_started_at = now;
    }
    char name[160];
    upload_name(name, sizeof name, job, part);
    oab_file *f = NULL;
    oab_status st = oab_file_upload_path_as(c, &f, part->path, name, "batch",
                                            0);
    if (st != OAB_OK && (cli_transient(st) ||
                         oab_client_last_attempts(c) > 1)) {
        /* the server may have taken it (a timeout, a reset, a 5xx, or an
         * answer to a try sent again): the file is looked for before
         * saying so, as a create's batch is; a refusal to a first try
         * (401, 400) stored nothing */
        char why[512];
        snprintf(why, sizeof why, "%s", cli_failure(ctx, st));
        if (adopt_upload(ctx, c, jr, job, part) == CLI_EXIT_OK &&
            part->file_id)
            return CLI_EXIT_OK;
        cli_error(ctx, "cannot upload %s: %s", part->path, why);
        return cli_exit_for(st);
    }
    if (st != OAB_OK)
        return cli_api_errorf(ctx, st, "cannot upload %s", part->path);
    int tries = oab_client_last_attempts(c);
    oab__set_str(&part->file_id, f->id);
    oab_file_free(f);
    cli_crash_point("upload-answer");
    if (!part->file_id ||
        journal_part_set_file(jr, job->id, part->idx, part->file_id) != 0) {
        cli_error(ctx, "journal: %s (uploaded file %s)", journal_errmsg(jr),
                  part->file_id ? part->file_id : "?");
        return CLI_EXIT_LOCAL;
    }
    cli_info(ctx, "uploaded part %d (%ld line%s) as %s", part->idx,
             part->n_lines, part->n_lines == 1 ? "" : "s", part->file_id);
    cli_crash_point("upload");
    /* a try before the one that answered may have been stored too */
    return tries > 1 ? adopt_upload(ctx, c, jr, job, part) : CLI_EXIT_OK;
}

/* Anthropic batches carry no metadata to be found by. A part whose create
 * was sent (create_started_at) but whose batch id never reached the
 * journal (a crash in between) adopts the one batch on the server created
 * since then (a minute of clock skew allowed) with the part's number of
 * requests that no part of the journal has; with none, the create is sent
 * again; with several, it is sent again too, as no one of them can be
 * told to be this part's (said, with the ids). */
typedef struct adopt_ctx {
    journal *jr;
    long long since;
    long n_lines;
    char *found;
    int n_found;
    char others[200];
} adopt_ctx;

static int adopt_candidate(const oab_job *b, void *ud)
{
    adopt_ctx *a = ud;
    if (b->created_at && b->created_at < a->since)
        return 1; /* newest first: the rest are older */
    if (!b->id || !b->has_request_counts || b->count_total != a->n_lines)
        return 0;
    char *job_id = NULL;
    int idx = 0;
    int known = journal_find_batch(a->jr, b->id, &job_id, &idx);
    free(job_id);
    if (known != 1)
        return 0; /* another part's (or the journal failed: not ours) */
    if (a->n_found++ == 0) {
        oab__set_str(&a->found, b->id);
    } else {
        size_t n = strlen(a->others);
        snprintf(a->others + n, sizeof a->others - n, "%s%s", n ? ", " : "",
                 b->id);
    }
    return 0;
}

/* 1 adopted (the part's batch id is journaled), 0 none, else an exit.
 * `starting`: the create is sent again when none is adopted (said so
 * when several matched); else the batches that matched are named for
 * the user to see to. */
static int adopt_anthropic(cli_ctx *ctx, oab_client *c, journal *jr,
                           journal_job *job, journal_part *part, int starting)
{
    adopt_ctx a = {jr, part->create_started_at - 60, part->n_lines, NULL, 0,
                   ""};
    oab_status st = oab_batch_list_all(c, 100, adopt_candidate, &a);
    if (st != OAB_OK && st != OAB_ESTOPPED) {
        free(a.found);
        return cli_api_error(ctx, st, "cannot list the batches");
    }
    if (a.n_found != 1) {
        if (a.n_found > 1)
            cli_warn(ctx, "part %d: %d batches created since its create was "
                     "sent match it (%s, %s); none can be told to be this "
                     "part's: %s", part->idx, a.n_found, a.found, a.others,
                     starting ? "creating it again"
                              : "cancel yours with 'oaibatch cancel ID'");
        free(a.found);
        return 0;
    }
    const char *map = part->anthropic_map ? part->anthropic_map : "{}";
    if (oab_anthropic_set_batch_map(c, a.found, map) != OAB_OK ||
        journal_part_set_batch_map(jr, job->id, part->idx, a.found, map) != 0) {
        cli_error(ctx, "journal: %s (batch %s)", journal_errmsg(jr), a.found);
        free(a.found);
        return CLI_EXIT_LOCAL;
    }
    part->batch_id = a.found;
    cli_info(ctx, "found batch %s of part %d on the server", part->batch_id,
             part->idx);
    return 1;
}

/* Anthropic: no file; the part's lines are translated and sent inline
 * in the create. The map of generated custom_ids and the time are
 * journaled before the create, the batch id as soon as it exists. */
static int start_anthropic(cli_ctx *ctx, oab_client *c, journal *jr,
                           journal_job *job, journal_part *part,
                           const cli_part_opts *po)
{
    if (part->batch_id)
        return CLI_EXIT_OK;
    if (part->create_started_at) {
        int rc = adopt_anthropic(ctx, c, jr, job, part, 1);
        if (rc != 0)
            return rc == 1 ? CLI_EXIT_OK : rc;
    }
    char *map = NULL;
    oab_status st = oab_anthropic_map_path(c, part->path, &map);
    if (st != OAB_OK)
        return cli_api_errorf(ctx, st, "cannot translate part %d", part->idx);
    long long now = (long long)time(NULL);
    int bad = journal_part_set_create_started(jr, job->id, part->idx, map,
                                              now) != 0;
    oab__set_str(&part->anthropic_map, map);
    oab_free(map);
    if (bad) {
        cli_error(ctx, "journal: %s", journal_errmsg(jr));
        return CLI_EXIT_LOCAL;
    }
    part->create_started_at = now;
    oab_batch_options bo = OAB_BATCH_OPTIONS_INIT;
    bo.endpoint = job->endpoint;
    bo.completion_window = po ? po->completion_window : NULL;
    bo.output_expires_after_s = po ? po->output_expires_after : 0;
    oab_job *b = NULL;
    st = oab_batch_create_job_path(c, &b, part->path, &bo);
    if (st != OAB_OK) {
        note_refusal(ctx, c, st);
        return cli_api_errorf(ctx, st, "cannot create the batch of part %d",
                              part->idx);
    }
    cli_crash_point("create");
    oab__set_str(&part->batch_id, b->id);
    oab_job_free(b);
    if (!part->batch_id ||
        journal_part_set_batch_map(jr, job->id, part->idx, part->batch_id,
                                   part->anthropic_map) != 0) {
        cli_error(ctx, "journal: %s (created batch %s)", journal_errmsg(jr),
                  part->batch_id ? part->batch_id : "?");
        return CLI_EXIT_LOCAL;
    }
    cli_info(ctx, "created batch %s for part %d (%ld line%s)",
             part->batch_id, part->idx, part->n_lines,
             part->n_lines == 1 ? "" : "s");
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
        int rc = upload_part(ctx, c, jr, job, part);
        if (rc != CLI_EXIT_OK)
            return rc;
    } else if (!part->batch_id) {
        /* resumed: a batch may exist that the journal never heard of */
        int rc = adopt_by_file(ctx, c, jr, job, part);
        if (rc != CLI_EXIT_OK || part->batch_id)
            return rc;
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
    if (st != OAB_OK) {
        /* the library sends a create once unless the server surely did
         * not take it: after a timeout, a reset or a 5xx the batch may
         * exist, and is taken if it does (a second create would be a
         * second batch, paid for and never collected) */
        char why[512];
        snprintf(why, sizeof why, "%s", cli_failure(ctx, st));
        note_refusal(ctx, c, st);
        if (adopt_by_file(ctx, c, jr, job, part) == CLI_EXIT_OK &&
            part->batch_id)
            return CLI_EXIT_OK;
        cli_error(ctx, "cannot create the batch of part %d: %s", part->idx,
                  why);
        return cli_exit_for(st);
    }
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

int cli_part_find(cli_ctx *ctx, journal_job *job, journal_part *part)
{
    if (part->batch_id || (!part->file_id && !part->create_started_at))
        return CLI_EXIT_OK;
    oab_client *c = cli_client(ctx);
    journal *jr = cli_journal(ctx);
    if (!c || !jr)
        return !c ? CLI_EXIT_API : CLI_EXIT_LOCAL;
    if (oab_client_provider(c) == OAB_PROVIDER_ANTHROPIC) {
        int rc = part->create_started_at
                     ? adopt_anthropic(ctx, c, jr, job, part, 0) : 0;
        return rc == 1 ? CLI_EXIT_OK : rc;
    }
    return part->file_id ? adopt_by_file(ctx, c, jr, job, part) : CLI_EXIT_OK;
}


void cli_job_lock_name(char *buf, size_t n, const char *job_id)
{
    snprintf(buf, n, "job:%s", job_id);
}

void cli_input_lock_name(char *buf, size_t n, const char *fingerprint)
{
    snprintf(buf, n, "input:%s", fingerprint);
}

int cli_part_resume_retries(cli_ctx *ctx, cli_target *t)
{
    if (!t->job)
        return CLI_EXIT_OK;
    int rc = cli_target_reload(ctx, t); /* as it is now, under the lock */
    for (size_t i = 0; rc == CLI_EXIT_OK && i < t->job->n_parts; i++) {
        journal_part *part = &t->job->parts[i];
        if (!journal_part_is_retry(part) || part->batch_id)
            continue;
        cli_info(ctx, "part %d of job %s (a retry) has no batch yet: "
                 "starting it", part->idx, t->job->id);
        rc = cli_part_start(ctx, t->job, part, NULL);
    }
    int rl = cli_target_reload(ctx, t);
    return rc != CLI_EXIT_OK ? rc : rl;
}
