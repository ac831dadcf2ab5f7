/* jobcore.c - jobs and batches shared by the subcommands. */
#include "oaibatch.h"
#include <cjson/cJSON.h>
#include "util/clock.h"
#include "util/str.h"
#include "jobcore.h"
#include "output.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
        jr_part *p = &t->job->parts[i];
        if (only_idx && p->idx != only_idx)
            continue;
        cli_unit *u = &t->units[t->n_units++];
        u->part = p;
        u->batch_id = p->batch_id;
    }
    return 0;
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
    if (build_units(t, only_idx) != 0) {
        cli_error(ctx, "out of memory");
        return CLI_EXIT_LOCAL;
    }
    return CLI_EXIT_OK;
}

int cli_target_reload(cli_ctx *ctx, cli_target *t)
{
    if (!t->job)
        return CLI_EXIT_OK;
    jr_job *fresh = NULL;
    journal *jr = cli_journal(ctx);
    if (!jr || journal_job_get(jr, t->job->id, &fresh) != 0) {
        cli_error(ctx, "journal: cannot reload job %s", t->job->id);
        return CLI_EXIT_LOCAL;
    }
    for (size_t i = 0; i < t->n_units; i++)
        oab_job_free(t->units[i].batch);
    jr_job_free(t->job);
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
    jr_job_free(t->job);
    free(t->batch_id);
    free(t->label);
    memset(t, 0, sizeof *t);
}

const char *cli_target_label(const cli_target *t)
{
    return t->job ? t->job->id : t->label;
}

/* ---- fetching ---- */

static int unit_terminal(const cli_unit *u)
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

int cli_target_fetch(cli_ctx *ctx, cli_target *t, int only_unfinished)
{
    oab_client *c = cli_client(ctx);
    if (!c)
        return CLI_EXIT_API;
    for (size_t i = 0; i < t->n_units; i++) {
        cli_unit *u = &t->units[i];
        if (!u->batch_id || (only_unfinished && unit_terminal(u)))
            continue;
        oab_job *b = NULL;
        oab_status st = oab_batch_retrieve(c, &b, u->batch_id);
        if (st != OAB_OK) {
            char what[256];
            snprintf(what, sizeof what, "cannot get batch %s", u->batch_id);
            return cli_api_error(ctx, st, what);
        }
        oab_job_free(u->batch);
        u->batch = b;
        record_status(ctx, t, u);
    }
    return CLI_EXIT_OK;
}

int cli_target_done(const cli_target *t)
{
    for (size_t i = 0; i < t->n_units; i++)
        if (!unit_terminal(&t->units[i]))
            return 0;
    return 1;
}

int cli_target_all_completed(const cli_target *t)
{
    for (size_t i = 0; i < t->n_units; i++) {
        const cli_unit *u = &t->units[i];
        if (!u->batch || u->batch->status != OAB_BATCH_COMPLETED)
            return 0;
    }
    return 1;
}

static const char *unit_status(const cli_unit *u)
{
    if (u->batch)
        return u->batch->status_text ? u->batch->status_text
                                     : oab_batch_status_str(u->batch->status);
    if (u->part && u->part->batch_id && u->part->status)
        return u->part->status;
    if (u->part && !u->part->file_id)
        return "not_uploaded";
    if (u->part && !u->part->batch_id)
        return "not_created";
    return "unknown";
}

const char *cli_target_status(const cli_target *t)
{
    /* unfinished: the least advanced status; finished: completed when all
       completed, else the first other terminal status */
    static const oab_batch_status order[] = {
        OAB_BATCH_VALIDATING, OAB_BATCH_IN_PROGRESS, OAB_BATCH_FINALIZING,
        OAB_BATCH_CANCELLING
    };
    for (size_t i = 0; i < t->n_units; i++)
        if (!t->units[i].batch_id)
            return unit_status(&t->units[i]);
    for (size_t k = 0; k < sizeof order / sizeof order[0]; k++)
        for (size_t i = 0; i < t->n_units; i++)
            if (t->units[i].batch && t->units[i].batch->status == order[k])
                return oab_batch_status_str(order[k]);
    for (size_t i = 0; i < t->n_units; i++) {
        const cli_unit *u = &t->units[i];
        if (!u->batch)
            return unit_status(u);
        if (u->batch->status != OAB_BATCH_COMPLETED)
            return unit_status(u);
    }
    return "completed";
}

/* ---- status view ---- */

static void add_str_or_null(cJSON *o, const char *k, const char *v)
{
    if (v)
        cJSON_AddStringToObject(o, k, v);
    else
        cJSON_AddNullToObject(o, k);
}

static cJSON *unit_json(const cli_unit *u)
{
    cJSON *o = cJSON_CreateObject();
    if (u->part) {
        cJSON_AddNumberToObject(o, "part", u->part->idx);
        cJSON_AddStringToObject(o, "kind", u->part->kind ? u->part->kind
                                                         : "part");
        cJSON_AddNumberToObject(o, "lines", (double)u->part->n_lines);
        add_str_or_null(o, "file_id", u->part->file_id);
    } else {
        cJSON_AddNullToObject(o, "part");
        cJSON_AddStringToObject(o, "kind", "batch");
        cJSON_AddNullToObject(o, "lines");
        add_str_or_null(o, "file_id", u->batch ? u->batch->input_file_id
                                               : NULL);
    }
    add_str_or_null(o, "batch_id", u->batch_id);
    cJSON_AddStringToObject(o, "status", unit_status(u));
    const oab_job *b = u->batch;
    cJSON *rc = cJSON_AddObjectToObject(o, "request_counts");
    long long tot = b ? b->count_total : u->part ? u->part->count_total : 0;
    long long com = b ? b->count_completed
                      : u->part ? u->part->count_completed : 0;
    long long fai = b ? b->count_failed : u->part ? u->part->count_failed : 0;
    cJSON_AddNumberToObject(rc, "total", (double)tot);
    cJSON_AddNumberToObject(rc, "completed", (double)com);
    cJSON_AddNumberToObject(rc, "failed", (double)fai);
    add_str_or_null(o, "output_file_id", b ? b->output_file_id : NULL);
    add_str_or_null(o, "error_file_id", b ? b->error_file_id : NULL);
    add_str_or_null(o, "endpoint", b ? b->endpoint : NULL);
    if (b && b->created_at)
        cJSON_AddNumberToObject(o, "created_at", (double)b->created_at);
    else
        cJSON_AddNullToObject(o, "created_at");
    cJSON *errs = cJSON_AddArrayToObject(o, "errors");
    for (size_t i = 0; b && i < b->n_errors; i++) {
        cJSON *e = cJSON_CreateObject();
        add_str_or_null(e, "code", b->errors[i].code);
        add_str_or_null(e, "message", b->errors[i].message);
        add_str_or_null(e, "param", b->errors[i].param);
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
        const jr_job *j = t->job;
        cJSON *jo = cJSON_AddObjectToObject(o, "job");
        cJSON_AddStringToObject(jo, "id", j->id);
        cJSON_AddNumberToObject(jo, "created_at", (double)j->created_at);
        add_str_or_null(jo, "input_path", j->input_path);
        add_str_or_null(jo, "endpoint", j->endpoint);
        add_str_or_null(jo, "model", j->model);
        cJSON_AddNumberToObject(jo, "lines", (double)j->n_lines);
        add_str_or_null(jo, "base_url", j->base_url);
        add_str_or_null(jo, "fingerprint", j->fingerprint);
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
        printf("%sjob %s%s  %s%s%s\n", out_c(c, OUT_BOLD), t->job->id,
               out_c(c, OUT_RESET), out_c(c, out_status_color(cli_target_status(t))),
               cli_target_status(t), out_c(c, OUT_RESET));
        printf("  file %s, %ld line%s, %s, model %s, created %s UTC\n",
               t->job->input_path ? t->job->input_path : "-", t->job->n_lines,
               t->job->n_lines == 1 ? "" : "s",
               t->job->endpoint ? t->job->endpoint : "-",
               t->job->model ? t->job->model : "-", when);
    }
    static const char *const hdr[] = { "PART", "BATCH", "STATUS", "DONE",
                                       "FAILED", "TOTAL" };
    out_table *tb = out_table_new(6, hdr);
    for (size_t i = 0; i < t->n_units; i++) {
        const cli_unit *u = &t->units[i];
        char part[32], done[32], failed[32], total[32];
        if (u->part)
            snprintf(part, sizeof part, "%d%s", u->part->idx,
                     u->part->kind && !strcmp(u->part->kind, "retry")
                         ? " (retry)" : "");
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
        const char *row[6] = { part, u->batch_id, unit_status(u), done, failed,
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

/* ---- waiting ---- */

static void progress_text(const cli_target *t, double elapsed, double rate,
                          char *buf, size_t n)
{
    long long total = 0, done = 0, failed = 0;
    size_t n_val = 0, n_fin = 0, n_prog = 0, n_canc = 0, n_end = 0;
    for (size_t i = 0; i < t->n_units; i++) {
        const oab_job *b = t->units[i].batch;
        if (!b)
            continue;
        total += b->count_total;
        done += b->count_completed + b->count_failed;
        failed += b->count_failed;
        switch (b->status) {
        case OAB_BATCH_VALIDATING: n_val++; break;
        case OAB_BATCH_FINALIZING: n_fin++; break;
        case OAB_BATCH_IN_PROGRESS: n_prog++; break;
        case OAB_BATCH_CANCELLING: n_canc++; break;
        default: n_end++; break;
        }
    }
    char el[32];
    out_duration(el, sizeof el, elapsed);
    if (n_prog == 0 && n_val > 0 && n_fin == 0) {
        snprintf(buf, n, "validating: the provider is checking the input "
                 "file%s (%s)", n_val > 1 ? "s" : "", el);
        return;
    }
    if (n_prog == 0 && n_val == 0 && n_fin > 0) {
        snprintf(buf, n, "finalizing: every line has run; the provider is "
                 "writing the results (%s)", el);
        return;
    }
    if (n_prog == 0 && n_val == 0 && n_canc > 0) {
        snprintf(buf, n, "cancelling: waiting for the running lines to stop "
                 "(%s)", el);
        return;
    }
    char bar[40];
    out_bar(bar, sizeof bar, total > 0 ? (double)done / (double)total : 0, 24);
    int k = snprintf(buf, n, "%s %lld/%lld", bar, done, total);
    if (k > 0 && (size_t)k < n && failed)
        k += snprintf(buf + k, n - (size_t)k, ", %lld failed", failed);
    if (k > 0 && (size_t)k < n && rate > 0)
        k += snprintf(buf + k, n - (size_t)k, ", %.1f/s", rate);
    if (k > 0 && (size_t)k < n)
        k += snprintf(buf + k, n - (size_t)k, ", %s", el);
    if (k > 0 && (size_t)k < n && (n_val || n_fin) && t->n_units > 1)
        snprintf(buf + k, n - (size_t)k, " (%zu validating, %zu finalizing)",
                 n_val, n_fin);
}

static void report_changes(cli_ctx *ctx, const cli_target *t, char **last)
{
    for (size_t i = 0; i < t->n_units; i++) {
        const cli_unit *u = &t->units[i];
        const char *s = unit_status(u);
        if (last[i] && strcmp(last[i], s) == 0)
            continue;
        free(last[i]);
        last[i] = oab__strdup(s);
        const char *why = "";
        if (u->batch && u->batch->status == OAB_BATCH_VALIDATING)
            why = " (the provider is checking the input file)";
        else if (u->batch && u->batch->status == OAB_BATCH_FINALIZING)
            why = " (every line has run; the results are being written)";
        if (u->batch && u->batch->has_request_counts)
            cli_info(ctx, "%s: %s%s, %lld/%lld done, %lld failed",
                     u->batch_id ? u->batch_id : "-", s, why,
                     u->batch->count_completed + u->batch->count_failed,
                     u->batch->count_total, u->batch->count_failed);
        else
            cli_info(ctx, "%s: %s%s", u->batch_id ? u->batch_id : "-", s, why);
    }
}

static long long done_count(const cli_target *t)
{
    long long d = 0;
    for (size_t i = 0; i < t->n_units; i++)
        if (t->units[i].batch)
            d += t->units[i].batch->count_completed +
                 t->units[i].batch->count_failed;
    return d;
}

int cli_target_wait(cli_ctx *ctx, cli_target *t, const cli_wait_opts *w)
{
    for (size_t i = 0; i < t->n_units; i++)
        if (!t->units[i].batch_id) {
            cli_error(ctx, "part %d of %s has no batch yet; run 'oaibatch "
                      "submit' again to finish it",
                      t->units[i].part ? t->units[i].part->idx : 0,
                      cli_target_label(t));
            return CLI_EXIT_LOCAL;
        }
    cli_install_signals();
    int bar = ctx->tty_err && !ctx->quiet;
    char **last = calloc(t->n_units ? t->n_units : 1, sizeof *last);
    if (!last)
        return CLI_EXIT_LOCAL;
    double start = oab__now();
    double interval = w->interval > 0 ? w->interval : 5.0;
    double max_interval = w->max_interval >= interval ? w->max_interval
                                                      : interval;
    long long done0 = -1;
    double t0 = start;
    int rc = CLI_EXIT_OK;
    for (;;) {
        rc = cli_target_fetch(ctx, t, 1);
        if (rc != CLI_EXIT_OK)
            break;
        if (done0 < 0) {
            done0 = done_count(t);
            t0 = oab__now();
        }
        double now = oab__now();
        double rate = now - t0 > 0.5 ? (double)(done_count(t) - done0) /
                                           (now - t0)
                                     : 0;
        if (bar) {
            char text[512];
            progress_text(t, now - start, rate, text, sizeof text);
            out_progress(stderr, text);
        } else {
            report_changes(ctx, t, last);
        }
        if (cli_target_done(t))
            break;
        if (cli_interrupted)
            break;
        cli_sleep(interval);
        if (cli_interrupted)
            break;
        interval *= 1.5;
        if (interval > max_interval)
            interval = max_interval;
    }
    out_progress_done(stderr);
    for (size_t i = 0; i < t->n_units; i++)
        free(last[i]);
    free(last);
    if (rc != CLI_EXIT_OK)
        return rc;
    if (cli_interrupted && !cli_target_done(t)) {
        if (w->cancel_on_interrupt) {
            cli_interrupted = 0;
            cli_info(ctx, "interrupted: cancelling the unfinished batches");
            int crc = cli_target_cancel(ctx, t);
            if (crc != CLI_EXIT_OK)
                return crc;
            cli_info(ctx, "cancelled; the lines already done are kept: "
                     "oaibatch results %s", cli_target_label(t));
        } else {
            cli_info(ctx, "interrupted: the batches keep running on the "
                     "server. Resume with: oaibatch wait %s",
                     cli_target_label(t));
        }
        return CLI_EXIT_INTERRUPTED;
    }
    return CLI_EXIT_OK;
}

int cli_target_cancel(cli_ctx *ctx, cli_target *t)
{
    oab_client *c = cli_client(ctx);
    if (!c)
        return CLI_EXIT_API;
    int rc = CLI_EXIT_OK;
    for (size_t i = 0; i < t->n_units; i++) {
        cli_unit *u = &t->units[i];
        if (!u->batch_id || unit_terminal(u))
            continue;
        if (u->batch && u->batch->status == OAB_BATCH_CANCELLING)
            continue;
        oab_job *b = NULL;
        oab_status st = oab_batch_cancel(c, &b, u->batch_id);
        if (st != OAB_OK) {
            char what[256];
            snprintf(what, sizeof what, "cannot cancel %s", u->batch_id);
            rc = cli_api_error(ctx, st, what);
            continue;
        }
        if (b) {
            oab_job_free(u->batch);
            u->batch = b;
            record_status(ctx, t, u);
        }
    }
    return rc;
}

/* ---- starting a part ---- */

typedef struct find_ctx {
    const char *file_id;
    oab_job *found;
    int seen;
} find_ctx;

static int find_by_file(const oab_job *job, void *ud)
{
    find_ctx *f = ud;
    if (job->input_file_id && strcmp(job->input_file_id, f->file_id) == 0) {
        oab_job_dup(&f->found, job);
        return 1;
    }
    return ++f->seen >= 1000;
}

int cli_part_start(cli_ctx *ctx, jr_job *job, jr_part *part,
                   const char *completion_window)
{
    oab_client *c = cli_client(ctx);
    journal *jr = cli_journal(ctx);
    if (!c || !jr)
        return !c ? CLI_EXIT_API : CLI_EXIT_LOCAL;
    if (!part->file_id) {
        oab_file *f = NULL;
        oab_status st = oab_file_upload_path(c, &f, part->path, "batch", 0);
        if (st != OAB_OK) {
            char what[512];
            snprintf(what, sizeof what, "cannot upload %s", part->path);
            return cli_api_error(ctx, st, what);
        }
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
    bo.completion_window = completion_window;
    bo.metadata_keys = keys;
    bo.metadata_values = vals;
    bo.n_metadata = n;
    oab_job *b = NULL;
    oab_status st = oab_batch_create(c, &b, part->file_id, &bo);
    cJSON_Delete(md);
    if (st != OAB_OK) {
        char what[256];
        snprintf(what, sizeof what, "cannot create the batch of part %d",
                 part->idx);
        return cli_api_error(ctx, st, what);
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

int cli_target_has_retries(const cli_target *t)
{
    for (size_t i = 0; t->job && i < t->job->n_parts; i++)
        if (t->job->parts[i].kind && !strcmp(t->job->parts[i].kind, "retry"))
            return 1;
    return 0;
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
    add_str_or_null(o, "custom_id", r->custom_id);
    cJSON_AddStringToObject(o, "status", oab_result_status_str(r->status));
    if (input_line > 0)
        cJSON_AddNumberToObject(o, "input_line", (double)input_line);
    else
        cJSON_AddNullToObject(o, "input_line");
    if (r->status_code)
        cJSON_AddNumberToObject(o, "status_code", r->status_code);
    else
        cJSON_AddNullToObject(o, "status_code");
    add_str_or_null(o, "output", r->output);
    if (r->output_mode != OAB_OUTPUT_NONE) {
        cJSON_AddItemToObject(o, "parsed", r->parsed_json
                                               ? json_or_string(r->parsed_json)
                                               : cJSON_CreateNull());
        add_str_or_null(o, "invalid_reason", r->invalid_reason);
    }
    if (r->refusal)
        cJSON_AddStringToObject(o, "refusal", r->refusal);
    add_str_or_null(o, "finish_reason", r->finish_reason);
    if (r->n_tool_calls) {
        cJSON *tc = cJSON_AddArrayToObject(o, "tool_calls");
        for (size_t i = 0; i < r->n_tool_calls; i++) {
            cJSON *c = cJSON_CreateObject();
            add_str_or_null(c, "id", r->tool_calls[i].id);
            add_str_or_null(c, "name", r->tool_calls[i].name);
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
        add_str_or_null(e, "code", r->error_code);
        add_str_or_null(e, "message", r->error_message);
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
    add_str_or_null(o, "batch_id", batch_id);
    add_str_or_null(o, "request_id", r->request_id);
    if (raw)
        cJSON_AddItemToObject(o, "body", json_or_string(r->body_json));
    if (rows->stream) {
        cli_sink_row(rows->stream, o, r->status);
        cJSON_Delete(o);
        return 0;
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
                     unit_status(u), cli_target_label(t));
            continue;
        }
        oab_results_options ro = OAB_RESULTS_OPTIONS_INIT;
        size_t n_map = 0;
        long *map = NULL;
        if (u->part && file_exists(u->part->path)) {
            ro.input_path = u->part->path;
            map = jr_ranges_decode(u->part->input_lines, &n_map);
        } else if (!u->part && extra_input) {
            ro.input_path = extra_input;
        }
        collect_ctx cc = { rows, map, n_map, u->batch_id, raw, 0 };
        oab_summary sum;
        oab_status st = oab_batch_results_stream(c, u->batch, &ro, collect_one,
                                                 &cc, &sum);
        free(map);
        if (cc.failed) {
            cli_error(ctx, "out of memory");
            return CLI_EXIT_LOCAL;
        }
        if (st != OAB_OK) {
            char what[256];
            snprintf(what, sizeof what, "cannot read the results of %s",
                     u->batch_id);
            return cli_api_error(ctx, st, what);
        }
    }
    cli_rows_merge(rows);
    return CLI_EXIT_OK;
}
