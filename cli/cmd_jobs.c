/* cmd_jobs.c - `oaibatch jobs`: the jobs in the local journal. */
#include "oaibatch.h"
#include "util/clock.h"
#include "util/str.h"
#include <cjson/cJSON.h>
#include "commands.h"
#include "journal.h"
#include "target.h"
#include "output.h"
#include "part.h"
#include "wait.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


/* One job as JSON (the document of `oaibatch jobs --json`). */
static cJSON *job_json(const journal_job *j)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", j->id);
    cJSON_AddNumberToObject(o, "created_at", (double)j->created_at);
    cJSON_AddStringToObject(o, "input_path", j->input_path ? j->input_path : "");
    cJSON_AddNumberToObject(o, "lines", (double)j->n_lines);
    cJSON_AddStringToObject(o, "endpoint", j->endpoint ? j->endpoint : "");
    cJSON_AddStringToObject(o, "status", journal_job_status(j));
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
        const char *row[6] = { jobs[i]->id, when,
                               journal_job_status(jobs[i]), nb,
                               nl, jobs[i]->input_path };
        out_table_add(tb, row);
    }
    out_table_print(tb, stdout, ctx->color, 0);
    out_table_free(tb);
}


/* --refresh: fetches the batches of every unfinished job listed, so
 * that the journal has their statuses now; a job that cannot be read
 * (said) does not stop the others. -1 when all were read, else the exit
 * code of the first failure. */
static int refresh_jobs(cli_ctx *ctx, long limit)
{
    journal_job **jobs = NULL;
    size_t n = 0;
    int lrc = cli_jobs_list(ctx, (int)limit, &jobs, &n);
    if (lrc != CLI_EXIT_OK)
        return lrc;
    int rc = -1;
    for (size_t i = 0; i < n; i++) {
        if (journal_job_finished(jobs[i]))
            continue;
        cli_target t;
        int r = cli_target_resolve(ctx, jobs[i]->id, &t);
        if (r == CLI_EXIT_OK)
            r = cli_target_fetch(ctx, &t, 1);
        cli_target_free(&t);
        if (r != CLI_EXIT_OK && rc < 0)
            rc = r;
    }
    journal_job_list_free(jobs, n);
    return rc;
}

static int list_jobs(cli_ctx *ctx, long limit)
{
    journal_job **jobs = NULL;
    size_t n = 0;
    int lrc = cli_jobs_list(ctx, (int)limit, &jobs, &n);
    if (lrc != CLI_EXIT_OK)
        return lrc;
    if (ctx->json) {
        cJSON *arr = cJSON_CreateArray();
        for (size_t i = 0; i < n; i++)
            cJSON_AddItemToArray(arr, job_json(jobs[i]));
        out_json(stdout, arr, 1);
        cJSON_Delete(arr);
    } else if (n == 0) {
        cli_info(ctx, "no jobs in %s", journal_path(ctx->jr));
    } else {
        print_jobs_table(ctx, jobs, n);
    }
    journal_job_list_free(jobs, n);
    return CLI_EXIT_OK;
}

typedef struct jobs_args {
    long limit;
    int refresh;          /* ask the server about unfinished jobs first */
} jobs_args;

enum { O_LIMIT = 1, O_REFRESH = 4 };

static int jobs_opt(const char *cmd, int id, const char *arg, void *st)
{
    jobs_args *ja = st;
    if (id == O_REFRESH) {
        ja->refresh = 1;
        return 1;
    }
    long *limit = &ja->limit;
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

/* ---- jobs rm, jobs prune ---- */


/* Removes the job's part files, their folder (parts/JOB) and the job
 * from the journal. Exit code. */
static int remove_job(cli_ctx *ctx, const journal_job *j)
{
    journal *jr = cli_journal(ctx);
    for (size_t i = 0; i < j->n_parts; i++)
        if (j->parts[i].path)
            remove(j->parts[i].path);
    const char *first = j->n_parts ? j->parts[0].path : NULL;
    const char *slash = first ? strrchr(first, '/') : NULL;
    if (slash) {
        char *dir = oab__strndup(first, (size_t)(slash - first));
        const char *base = dir ? strrchr(dir, '/') : NULL;
        if (base && !strcmp(base + 1, j->id))
            rmdir(dir); /* only the job's own folder, once empty */
        free(dir);
    }
    if (journal_job_delete(jr, j->id) != 0) {
        cli_error(ctx, "journal: %s", journal_errmsg(jr));
        return CLI_EXIT_LOCAL;
    }
    return CLI_EXIT_OK;
}

/* Takes the job's input lock (submit's) and its job lock (retry's and
 * wait's), in that order, without waiting: a job another oaibatch is
 * starting or retrying is not removed under it. The names taken go in
 * locks[0..1]. Exit code. */
static int rm_lock(cli_ctx *ctx, const journal_job *j, char locks[2][96])
{
    journal *jr = cli_journal(ctx);
    if (!jr)
        return CLI_EXIT_LOCAL;
    char names[2][96];
    cli_input_lock_name(names[0], sizeof names[0],
                        j->fingerprint ? j->fingerprint : "");
    cli_job_lock_name(names[1], sizeof names[1], j->id);
    for (int i = 0; i < 2; i++) {
        if (i == 0 && !j->fingerprint)
            continue;
        long holder = 0;
        int r = journal_lock_try(jr, names[i], &holder);
        if (r < 0) {
            cli_error(ctx, "journal: %s", journal_errmsg(jr));
            return CLI_EXIT_LOCAL;
        }
        if (r > 0) {
            char pid[32] = "";
            if (holder > 0)
                snprintf(pid, sizeof pid, " (pid %ld)", holder);
            cli_error(ctx, "job %s is being %s by another oaibatch%s; stop "
                      "it or let it finish first", j->id,
                      i == 0 ? "submitted" : "retried or waited for", pid);
            return CLI_EXIT_FAILED;
        }
        snprintf(locks[i], sizeof locks[i], "%s", names[i]);
    }
    return CLI_EXIT_OK;
}

/* A part with no batch in the journal whose create may have been sent
 * (a crash between the create and the journal write) may have a batch on
 * the server: found and journaled (cli_part_find), so that it is waited
 * for or cancelled, not left running and billed with no job that knows
 * it. Exit code. */
static int find_lost_batches(cli_ctx *ctx, cli_target *t)
{
    int found = 0;
    for (size_t i = 0; i < t->job->n_parts; i++) {
        journal_part *part = &t->job->parts[i];
        if (part->batch_id)
            continue;
        int rc = cli_part_find(ctx, t->job, part);
        if (rc != CLI_EXIT_OK)
            return rc;
        found |= part->batch_id != NULL;
    }
    return found ? cli_target_reload(ctx, t) : CLI_EXIT_OK;
}

/* Gives back the locks rm_lock took. */
static void rm_unlock(cli_ctx *ctx, char locks[2][96])
{
    for (int i = 1; i >= 0; i--)
        if (locks[i][0])
            cli_unlock(ctx, locks[i]);
}

typedef struct rm_opts {
    int cancel;           /* --cancel: cancel the running batches first */
    int delete_files;     /* --delete-files: delete the server's copies */
    long long older_than; /* prune: the age, -1 until given */
    cli_wait_opts wait;   /* --cancel --delete-files waits for the end */
} rm_opts;

/* --delete-files: deletes what the server keeps of the job. When
 * something could not be deleted the job stays in the journal, which
 * keeps the ids: the same command again deletes the rest. Exit code. */
static int delete_remote(cli_ctx *ctx, cli_target *t)
{
    size_t n = 0;
    int rc = cli_target_delete_remote(ctx, t, 1, &n);
    int anthropic = cli_is_anthropic(ctx);
    cli_info(ctx, "deleted %zu %s%s of job %s from the server", n,
             anthropic ? "batch" : "file",
             n == 1 ? "" : anthropic ? "es" : "s", t->job->id);
    if (rc != CLI_EXIT_OK)
        cli_error(ctx, "job %s stays in the journal, which keeps the ids "
                  "of what is left: run the command again to delete it",
                  t->job->id);
    return rc;
}

/* 1 when a unit has a batch that has not ended (a part with no batch,
 * once lost batches are looked for, has nothing running). */
static int has_running(const cli_target *t)
{
    for (size_t i = 0; i < t->n_units; i++)
        if (t->units[i].batch_id && !cli_unit_terminal(&t->units[i]))
            return 1;
    return 0;
}

/* Polls until no batch of t runs (cancelled batches end), as a wait
 * does but starting nothing: --interval doubling up to --max-interval,
 * --timeout, Ctrl-C; failures that pass are polled through. */
static int wait_stopped(cli_ctx *ctx, cli_target *t, const cli_wait_opts *w)
{
    cli_install_signals();
    double iv = w->interval, t0 = oab__now();
    while (has_running(t)) {
        if (w->timeout > 0 && oab__now() - t0 >= w->timeout) {
            cli_error(ctx, "job %s: its batches did not end within %g s; "
                      "it stays in the journal", t->job->id, w->timeout);
            return CLI_EXIT_API;
        }
        cli_sleep(iv);
        if (cli_interrupted)
            return CLI_EXIT_INTERRUPTED;
        iv = iv * 2 < w->max_interval ? iv * 2 : w->max_interval;
        const cli_unit *bad = NULL;
        oab_status st = cli_target_poll(ctx, t, &bad);
        if (st != OAB_OK && !cli_transient(st))
            return cli_target_report(ctx, st, bad);
    }
    return CLI_EXIT_OK;
}

/* Removes a resolved job whose locks are held: its lost batches found,
 * its batches fetched, cancelled with --cancel (and waited for, with
 * --delete-files, whose output files come at the end), its files on
 * the server deleted with --delete-files, then the job. Exit code. */
static int rm_resolved(cli_ctx *ctx, cli_target *t, const rm_opts *o)
{
    int rc = find_lost_batches(ctx, t);
    if (rc == CLI_EXIT_OK)
        rc = cli_target_fetch(ctx, t, 0);
    if (rc == CLI_EXIT_OK && has_running(t)) {
        if (!o->cancel) {
            cli_error(ctx, "job %s has batches still running; wait for "
                      "them, or remove it with --cancel", t->job->id);
            return CLI_EXIT_FAILED;
        }
        rc = cli_target_cancel(ctx, t);
        if (rc == CLI_EXIT_OK && o->delete_files && has_running(t)) {
            cli_info(ctx, "waiting for the cancelled batches to end, to "
                     "delete their output files too");
            rc = wait_stopped(ctx, t, &o->wait);
        }
    }
    if (rc == CLI_EXIT_OK && o->delete_files)
        rc = delete_remote(ctx, t);
    else if (rc == CLI_EXIT_OK)
        for (size_t i = 0; i < t->n_units; i++) {
            const journal_part *p = t->units[i].part;
            if (p && p->file_id && !t->units[i].batch_id)
                cli_info(ctx, "part %d's input file %s stays on the server, "
                         "with no batch ('files delete %s', or jobs rm "
                         "--delete-files)", p->idx, p->file_id, p->file_id);
        }
    if (rc == CLI_EXIT_OK)
        rc = remove_job(ctx, t->job);
    return rc;
}

/* "30d", "12h", "15m", "45s" or plain seconds; -1 when bad. */
static long long parse_duration(const char *s)
{
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (end == s || v < 0)
        return -1;
    long long unit = !*end              ? 1
                     : !strcmp(end, "s") ? 1
                     : !strcmp(end, "m") ? 60
                     : !strcmp(end, "h") ? 3600
                     : !strcmp(end, "d") ? 86400
                                         : -1;
    if (unit < 0 || v > LLONG_MAX / unit)
        return -1;
    return v * unit;
}

enum { O_CANCEL = 2, O_OLDER, O_DELETE_FILES };

static int rm_opt(const char *cmd, int id, const char *arg, void *st)
{
    rm_opts *o = st;
    switch (id) {
    case O_CANCEL: o->cancel = 1; return 1;
    case O_DELETE_FILES: o->delete_files = 1; return 1;
    case O_OLDER:
        o->older_than = parse_duration(arg);
        if (o->older_than < 0) {
            cli_usage_error(cmd, "--older-than takes a duration like 30d, "
                            "12h, 15m or 45s");
            return -1;
        }
        return 1;
    default: return cli_wait_opt(cmd, id, arg, &o->wait);
    }
}

#define RM_OPTS_INIT { 0, 0, -1, CLI_WAIT_OPTS_INIT }

static int jobs_rm(cli_ctx *ctx, int argc, char **argv)
{
    static const cli_opt opts[] = {
        { "cancel", 0, 0, O_CANCEL },
        { "delete-files", 0, 0, O_DELETE_FILES },
        { "interval", 0, 1, CLI_OPT_INTERVAL },
        { "max-interval", 0, 1, CLI_OPT_MAX_INTERVAL },
        { "timeout", 0, 1, CLI_OPT_TIMEOUT },
        { NULL, 0, 0, 0 }
    };
    static const cli_parse_spec spec = { "jobs rm", opts, rm_opt, "JOB", 0 };
    rm_opts o = RM_OPTS_INIT;
    const char *id = NULL;
    int rc = cli_parse_args(ctx, &spec, argc, argv, &o, &id);
    if (rc >= 0)
        return rc;
    if (strncmp(id, "job_", 4) != 0)
        return cli_usage_error("jobs rm", "JOB is a job id (job_...)");
    cli_target t;
    char locks[2][96] = {"", ""};
    rc = cli_target_resolve(ctx, id, &t);
    if (rc == CLI_EXIT_OK)
        rc = rm_lock(ctx, t.job, locks);
    if (rc == CLI_EXIT_OK)
        rc = rm_resolved(ctx, &t, &o);
    if (rc == CLI_EXIT_OK)
        cli_info(ctx, "removed job %s", id);
    rm_unlock(ctx, locks);
    cli_target_free(&t);
    return rc;
}

enum { O_TO = 20 };

static int move_opt(const char *cmd, int id, const char *arg, void *st)
{
    (void)cmd;
    if (id != O_TO)
        return 0;
    *(const char **)st = arg;
    return 1;
}

/* jobs move JOB --to URL: the job's batches are on another server now (a
 * local server restarted on another port, a gateway moved): every batch
 * of the job is read there first, then the journal points the job at
 * it. Exit code. */
static int jobs_move(cli_ctx *ctx, int argc, char **argv)
{
    static const cli_opt opts[] = { { "to", 0, 1, O_TO },
                                    { NULL, 0, 0, 0 } };
    static const cli_parse_spec spec = { "jobs move", opts, move_opt,
                                         "JOB", 0 };
    const char *pos[2] = { NULL, NULL };
    int rc = cli_parse_args(ctx, &spec, argc, argv, &pos[1], &pos[0]);
    if (rc >= 0)
        return rc;
    if (strncmp(pos[0], "job_", 4) != 0)
        return cli_usage_error("jobs move", "JOB is a job id (job_...)");
    if (!pos[1])
        return cli_usage_error("jobs move", "--to URL is required");
    if (strncmp(pos[1], "http://", 7) != 0 &&
        strncmp(pos[1], "https://", 8) != 0)
        return cli_usage_error("jobs move", "--to takes a base URL "
                               "(http://... or https://...)");
    /* the job is read at URL, whatever else the options say */
    ctx->given_base_url = NULL;
    ctx->given_saved = 1;
    cli_target t;
    char locks[2][96] = {"", ""};
    rc = cli_target_resolve(ctx, pos[0], &t);
    if (rc == CLI_EXIT_OK)
        rc = rm_lock(ctx, t.job, locks);
    char *url = NULL;
    if (rc == CLI_EXIT_OK) {
        oab_client_free(ctx->client);
        ctx->client = NULL;
        ctx->base_url = pos[1];
        oab_client *c = cli_client(ctx);
        url = c ? cli_url_public(oab_client_base_url(c)) : NULL;
        rc = !c ? CLI_EXIT_API : !url ? CLI_EXIT_LOCAL : CLI_EXIT_OK;
    }
    if (rc == CLI_EXIT_OK) {
        rc = cli_target_fetch(ctx, &t, 0);
        if (rc != CLI_EXIT_OK)
            cli_error(ctx, "job %s stays at %s: its batches cannot be read "
                      "at %s", pos[0], t.job->base_url ? t.job->base_url
                                                       : "its URL", url);
    }
    if (rc == CLI_EXIT_OK) {
        journal *jr = cli_journal(ctx);
        if (!jr || journal_job_set_base_url(jr, t.job->id, url) != 0) {
            cli_error(ctx, "journal: %s", jr ? journal_errmsg(jr)
                                             : "cannot open");
            rc = CLI_EXIT_LOCAL;
        }
    }
    if (rc == CLI_EXIT_OK)
        cli_info(ctx, "job %s now goes to %s (was %s)", t.job->id, url,
                 t.job->base_url ? t.job->base_url : "the default URL");
    free(url);
    rm_unlock(ctx, locks);
    cli_target_free(&t);
    return rc;
}

/* Prunes one finished job under its locks: at once from the journal, or
 * (--delete-files) with its files on the server first. Exit code. */
static int prune_job(cli_ctx *ctx, const journal_job *j, const rm_opts *o)
{
    char locks[2][96] = {"", ""};
    int rc = rm_lock(ctx, j, locks);
    if (rc == CLI_EXIT_OK && !o->delete_files) {
        rc = remove_job(ctx, j);
    } else if (rc == CLI_EXIT_OK) {
        cli_target t;
        rc = cli_target_resolve(ctx, j->id, &t);
        if (rc == CLI_EXIT_OK)
            rc = rm_resolved(ctx, &t, o);
        cli_target_free(&t);
    }
    rm_unlock(ctx, locks);
    return rc;
}

static int jobs_prune(cli_ctx *ctx, int argc, char **argv)
{
    static const cli_opt opts[] = { { "older-than", 0, 1, O_OLDER },
                                    { "delete-files", 0, 0, O_DELETE_FILES },
                                    { NULL, 0, 0, 0 } };
    static const cli_parse_spec spec = {
        "jobs prune", opts, rm_opt,
        NULL, 0
    };
    rm_opts o = RM_OPTS_INIT;
    int rc = cli_parse_args(ctx, &spec, argc, argv, &o, NULL);
    if (rc >= 0)
        return rc;
    if (o.older_than < 0)
        return cli_usage_error("jobs prune", "--older-than is required");
    journal_job **jobs = NULL;
    size_t n = 0, removed = 0, left = 0;
    if ((rc = cli_jobs_list(ctx, 0, &jobs, &n)) != CLI_EXIT_OK)
        return rc;
    long long cut = oab__unix_now() - o.older_than;
    rc = CLI_EXIT_OK;
    for (size_t i = 0; i < n; i++) {
        if (jobs[i]->created_at >= cut || !journal_job_finished(jobs[i]))
            continue;
        /* a job that cannot go now (in use, a file not deleted) is left
         * for the next prune; the others still go */
        int r = prune_job(ctx, jobs[i], &o);
        if (r == CLI_EXIT_OK) {
            removed++;
            continue;
        }
        left++;
        if (rc == CLI_EXIT_OK)
            rc = r;
        if (r == CLI_EXIT_LOCAL)
            break; /* the journal itself failed */
    }
    journal_job_list_free(jobs, n);
    cli_info(ctx, "removed %zu finished job%s", removed,
             removed == 1 ? "" : "s");
    if (left)
        cli_error(ctx, "%zu finished job%s left in the journal (see above)",
                  left, left == 1 ? " is" : "s are");
    return rc;
}

const cli_opt cli_opts_jobs[] = {
    { "limit", 0, 1, O_LIMIT },
    { "refresh", 0, 0, O_REFRESH },
    { NULL, 0, 0, 0 }
};

int cmd_jobs(cli_ctx *ctx, int argc, char **argv)
{
    static const cli_parse_spec spec = {
        "jobs", cli_opts_jobs, jobs_opt,
        NULL, 0
    };
    if (argc > 1 && !strcmp(argv[1], "rm"))
        return jobs_rm(ctx, argc - 1, argv + 1);
    if (argc > 1 && !strcmp(argv[1], "prune"))
        return jobs_prune(ctx, argc - 1, argv + 1);
    if (argc > 1 && !strcmp(argv[1], "move"))
        return jobs_move(ctx, argc - 1, argv + 1);
    jobs_args ja = { 20, 0 };
    int rc = cli_parse_args(ctx, &spec, argc, argv, &ja, NULL);
    if (rc >= 0)
        return rc;
    /* a job that could not be read is listed as last seen, and the
     * failure is the exit code */
    int refreshed = ja.refresh ? refresh_jobs(ctx, ja.limit) : -1;
    rc = list_jobs(ctx, ja.limit);
    return rc == CLI_EXIT_OK && refreshed >= 0 ? refreshed : rc;
}
