/* cmd_retry.c - `oaibatch retry ID`: a new batch of the lines of a job
 * that did not succeed, linked to the job in the journal. */
#include "oaibatch.h"
#include <cjson/cJSON.h>
#include "util/json.h"
#include "util/str.h"
#include "collect.h"
#include "commands.h"
#include "linemap.h"
#include "part.h"
#include "view.h"
#include "wait.h"

#include <stdlib.h>
#include <string.h>

typedef struct pick {
    char **ids;       /* sorted custom_ids to retry */
    char *written;    /* one flag per id */
    size_t n;
} pick;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static long pick_find(const pick *p, const char *id)
{
    size_t lo = 0, hi = p->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(p->ids[mid], id);
        if (c == 0)
            return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

typedef struct copy_ctx {
    pick *p;
    FILE *out;
    const long *map;
    size_t n_map;
    size_t k;          /* lines seen in this part */
    long *lines;       /* input lines of the retry file */
    size_t n_lines, cap;
    int failed;
} copy_ctx;

static int copy_line(const char *line, size_t len, long lineno, void *ud)
{
    (void)lineno;
    copy_ctx *c = ud;
    size_t k = c->k++;
    cJSON *o = oab__json_parse(line, len);
    const char *id = oab__json_str(o, "custom_id");
    long at = id ? pick_find(c->p, id) : -1;
    cJSON_Delete(o);
    if (at < 0 || c->p->written[at])
        return 0;
    c->p->written[at] = 1;
    if (c->n_lines == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 256;
        long *nl = realloc(c->lines, nc * sizeof *nl);
        if (!nl) {
            c->failed = 1;
            return 1;
        }
        c->lines = nl;
        c->cap = nc;
    }
    c->lines[c->n_lines++] = k < c->n_map ? c->map[k] : 0;
    if (fwrite(line, 1, len, c->out) != len || fputc('\n', c->out) == EOF) {
        c->failed = 1;
        return 1;
    }
    return 0;
}

typedef struct retry_args {
    const char *id;
    unsigned mask;      /* result statuses to retry */
    int truncated;      /* and lines cut by max_tokens (--truncated) */
    int no_wait;
    cli_wait_opts wait;
} retry_args;

enum { O_FAILED = 1, O_EXPIRED, O_CANCELLED, O_NOWAIT, O_INVALID,
       O_TRUNCATED };

static int retry_opt(const char *cmd, int id, const char *arg, void *st)
{
    retry_args *ra = st;
    switch (id) {
    case O_FAILED:
        ra->mask |= 1u << OAB_RESULT_HTTP_ERROR | 1u << OAB_RESULT_ERROR |
                    1u << OAB_RESULT_INVALID_OUTPUT |
                    1u << OAB_RESULT_MALFORMED | 1u << OAB_RESULT_MISSING;
        return 1;
    case O_EXPIRED: ra->mask |= 1u << OAB_RESULT_EXPIRED; return 1;
    case O_CANCELLED: ra->mask |= 1u << OAB_RESULT_CANCELLED; return 1;
    case O_INVALID: ra->mask |= 1u << OAB_RESULT_INVALID_OUTPUT; return 1;
    case O_TRUNCATED: ra->truncated = 1; return 1;
    case O_NOWAIT: ra->no_wait = 1; return 1;
    default: return cli_wait_opt(cmd, id, arg, &ra->wait);
    }
}

const cli_opt cli_opts_retry[] = {
    { "failed", 0, 0, O_FAILED },
    { "expired", 0, 0, O_EXPIRED },
    { "cancelled", 0, 0, O_CANCELLED },
    { "invalid", 0, 0, O_INVALID },
    { "truncated", 0, 0, O_TRUNCATED },
    { "no-wait", 0, 0, O_NOWAIT },
    CLI_WAIT_OPTIONS,
    { NULL, 0, 0, 0 }
};

static int parse_retry(cli_ctx *ctx, int argc, char **argv, retry_args *ra)
{
    static const cli_parse_spec spec = {
        "retry", cli_opts_retry, retry_opt,
        "ID", 0
    };
    cli_wait_opts w = CLI_WAIT_OPTS_INIT;
    memset(ra, 0, sizeof *ra);
    ra->wait = w;
    int rc = cli_parse_args(ctx, &spec, argc, argv, ra, &ra->id);
    if (rc < 0)
        rc = cli_wait_check("retry", &ra->wait);
    if (rc >= 0)
        return rc;
    if (!ra->mask && !ra->truncated)
        ra->mask = ~(1u << OAB_RESULT_SUCCEEDED) &
                   ((1u << OAB_RESULT_STATUS_COUNT) - 1);
    return -1;
}

/* 1 when row is one to retry: its status is in `mask`, or truncated
 * is set and the answer was cut by max_tokens. */
static int row_picked(const cli_row *row, unsigned mask, int truncated)
{
    return row->custom_id[0] && ((mask & (1u << row->status)) ||
                                 (truncated && row->truncated));
}

/* The custom_ids of the rows to retry (row_picked), sorted (the
 * strings stay the rows'). Exit code. */
static int pick_lines(const cli_rows *rows, unsigned mask, int truncated,
                      pick *p)
{
    p->ids = calloc(rows->n ? rows->n : 1, sizeof *p->ids);
    if (!p->ids)
        return CLI_EXIT_LOCAL;
    for (size_t i = 0; i < rows->n; i++)
        if (row_picked(&rows->v[i], mask, truncated))
            p->ids[p->n++] = rows->v[i].custom_id;
    if (p->n == 0)
        return CLI_EXIT_OK;
    qsort(p->ids, p->n, sizeof *p->ids, cmp_str);
    p->written = calloc(p->n, 1);
    return p->written ? CLI_EXIT_OK : CLI_EXIT_LOCAL;
}

/* Copies the picked lines of every part of the job into `path`; their
 * input lines land in cc->lines. Exit code. */
static int write_retry_file(cli_ctx *ctx, const journal_job *job,
                            const char *path, copy_ctx *cc)
{
    cc->out = fopen(path, "w");
    if (!cc->out) {
        cli_error(ctx, "cannot write %s", path);
        return CLI_EXIT_LOCAL;
    }
    for (size_t i = 0; i < job->n_parts && !cc->failed; i++) {
        const journal_part *part = &job->parts[i];
        size_t n_map = 0;
        long *map = journal_ranges_decode(part->input_lines, &n_map);
        cc->map = map;
        cc->n_map = n_map;
        cc->k = 0;
        if (cli_part_read(ctx, job, part, copy_line, cc) != CLI_EXIT_OK)
            cc->failed = 1;
        free(map);
    }
    int bad = cc->failed | (fclose(cc->out) != 0);
    cc->out = NULL;
    if (bad)
        return CLI_EXIT_LOCAL;
    if (cc->n_lines < cc->p->n)
        cli_warn(ctx, "%zu of the %zu lines to retry were not found in the "
                 "job's part files", cc->p->n - cc->n_lines, cc->p->n);
    if (cc->n_lines == 0) {
        cli_error(ctx, "no line to retry was found");
        return CLI_EXIT_LOCAL;
    }
    return CLI_EXIT_OK;
}

/* The part with index idx of the target's job, NULL if none. */
static journal_part *part_at(const cli_target *t, int idx)
{
    for (size_t i = 0; i < t->job->n_parts; i++)
        if (t->job->parts[i].idx == idx)
            return &t->job->parts[i];
    return NULL;
}

/* Journals the retry file as a new part of the job and starts it. */
static int start_retry_part(cli_ctx *ctx, cli_target *t, char *path,
                            const copy_ctx *cc, int *idx)
{
    journal_part np;
    memset(&np, 0, sizeof np);
    np.kind = (char *)"retry";
    np.path = path;
    np.n_lines = (long)cc->n_lines;
    np.input_lines = journal_ranges_encode(cc->lines, cc->n_lines);
    journal *jr = cli_journal(ctx);
    int ok = np.input_lines && journal_part_add(jr, t->job->id, &np) == 0;
    free(np.input_lines);
    if (!ok) {
        cli_error(ctx, "journal: %s", journal_errmsg(jr));
        return CLI_EXIT_LOCAL;
    }
    cli_info(ctx, "retrying %zu line%s of job %s as part %d", cc->n_lines,
             cc->n_lines == 1 ? "" : "s", t->job->id, np.idx);
    *idx = np.idx;
    int rc = cli_target_reload(ctx, t);
    if (rc != CLI_EXIT_OK)
        return rc;
    journal_part *added = part_at(t, np.idx);
    if (!added)
        return CLI_EXIT_LOCAL;
    rc = cli_part_start(ctx, t->job, added, NULL);
    if (rc != CLI_EXIT_OK)
        return rc;
    return cli_target_reload(ctx, t);
}

/* Loads the job of ra->id with every line's latest result. */
static int load_job(cli_ctx *ctx, cli_target *t, cli_rows *rows)
{
    int rc = cli_target_collect(ctx, t, NULL, 0, rows);
    if (rc != CLI_EXIT_OK)
        return rc;
    if (rows->incomplete) {
        cli_error(ctx, "job %s has unfinished batches; wait for them first "
                  "(oaibatch wait %s)", t->job->id, t->job->id);
        return CLI_EXIT_FAILED;
    }
    return CLI_EXIT_OK;
}

/* A retry part of the job whose batch is still running, NULL if none. */
static const cli_unit *running_retry(const cli_target *t)
{
    for (size_t i = 0; i < t->n_units; i++) {
        const cli_unit *u = &t->units[i];
        if (u->part && journal_part_is_retry(u->part) &&
            u->batch_id && !cli_unit_terminal(u))
            return u;
    }
    return NULL;
}

/* Makes the retry part of the picked lines and starts it; *started is
 * its batch id (borrowed from t). With nothing to retry, *started stays
 * NULL. */
static int make_retry(cli_ctx *ctx, const retry_args *ra, cli_target *t,
                      const char **started)
{
    cli_rows rows;
    memset(&rows, 0, sizeof rows);
    pick p = { NULL, NULL, 0 };
    copy_ctx cc;
    memset(&cc, 0, sizeof cc);
    cc.p = &p;
    char *retry_path = NULL;
    /* a retry part left without its batch is started first, then
     * followed as any running retry */
    int rc = cli_part_resume_retries(ctx, t);
    if (rc == CLI_EXIT_OK)
        rc = load_job(ctx, t, &rows);
    const cli_unit *running = rc == CLI_EXIT_OK ? running_retry(t) : NULL;
    if (running) {
        /* its lines are in flight: follow it rather than pay twice */
        cli_info(ctx, "a retry of job %s is running (part %d, batch %s); "
                 "following it instead of sending its lines again",
                 t->job->id, running->part->idx, running->batch_id);
        *started = running->batch_id;
        goto done;
    }
    if (rc == CLI_EXIT_OK)
        rc = pick_lines(&rows, ra->mask, ra->truncated, &p);
    if (rc != CLI_EXIT_OK)
        goto done;
    if (p.n == 0) {
        cli_info(ctx, "nothing to retry in job %s", t->job->id);
        goto done;
    }
    /* the retry file, next to the job's parts */
    const char *first = t->job->n_parts ? t->job->parts[0].path : NULL;
    const char *slash = first ? strrchr(first, '/') : NULL;
    retry_path = oab__sprintf("%.*s/retry%03zu.jsonl",
                              slash ? (int)(slash - first) : 1,
                              slash ? first : ".", t->job->n_parts + 1);
    rc = retry_path ? write_retry_file(ctx, t->job, retry_path, &cc)
                    : CLI_EXIT_LOCAL;
    int idx = 0;
    if (rc == CLI_EXIT_OK)
        rc = start_retry_part(ctx, t, retry_path, &cc, &idx);
    const journal_part *added = rc == CLI_EXIT_OK ? part_at(t, idx) : NULL;
    if (added)
        *started = added->batch_id ? added->batch_id : "-";
done:
    free(cc.lines);
    free(p.ids);
    free(p.written);
    free(retry_path);
    cli_rows_free(&rows);
    return rc;
}

/* Resolves the job of ra->id. */
static int find_job(cli_ctx *ctx, const retry_args *ra, cli_target *t)
{
    int rc = cli_target_resolve(ctx, ra->id, t);
    if (rc != CLI_EXIT_OK)
        return rc;
    if (!t->job) {
        cli_error(ctx, "%s is not in the journal; retry works on jobs that "
                  "oaibatch submitted", ra->id);
        return CLI_EXIT_LOCAL;
    }
    return t->batch_id ? cli_target_reload(ctx, t) : CLI_EXIT_OK;
}

/* The job's lock is held from reading its results until the retry's
 * batch exists, so two retries at once make one retry part: the second
 * finds it running and follows it. */
static int retry(cli_ctx *ctx, const retry_args *ra)
{
    cli_target t;
    const char *started = NULL;
    char lock[96] = "";
    int rc = find_job(ctx, ra, &t);
    if (rc == CLI_EXIT_OK) {
        cli_job_lock_name(lock, sizeof lock, t.job->id);
        rc = cli_lock(ctx, lock, "retrying the same job");
    }
    if (rc == CLI_EXIT_OK && (rc = cli_target_reload(ctx, &t)) == CLI_EXIT_OK)
        rc = make_retry(ctx, ra, &t, &started);
    if (lock[0])
        cli_unlock(ctx, lock);
    if (rc == CLI_EXIT_OK && !started && ctx->json) {
        /* nothing to retry: the job as it is */
        cli_target_fetch(ctx, &t, 1);
        cli_target_show(ctx, &t);
    }
    if (rc != CLI_EXIT_OK || !started)
        goto done;
    if (!ctx->json)
        printf("%s\n  %s\n", t.job->id, started);
    if (!ra->no_wait) {
        rc = cli_target_wait(ctx, &t, &ra->wait);
        /* as `wait` says: a retry whose batch failed, expired or was
         * cancelled is no success (cli_target_done was always 1 here,
         * once the wait returned) */
        if (rc == CLI_EXIT_OK && !cli_target_all_completed(&t))
            rc = CLI_EXIT_FAILED;
    } else {
        cli_target_fetch(ctx, &t, 0);
    }
    if (ctx->json)
        cli_target_show(ctx, &t);
    if (rc == CLI_EXIT_OK)
        cli_info(ctx, "merged results: oaibatch results %s", t.job->id);
done:
    cli_target_free(&t);
    return rc;
}

/* ---- re-asking (run --reask) ---- */

/* How many of the job's lines are invalid or truncated now. Exit code. */
static int count_reask(cli_ctx *ctx, cli_target *t, size_t *n)
{
    cli_rows rows;
    memset(&rows, 0, sizeof rows);
    *n = 0;
    int rc = load_job(ctx, t, &rows);
    for (size_t i = 0; rc == CLI_EXIT_OK && i < rows.n; i++)
        *n += (size_t)row_picked(&rows.v[i], 1u << OAB_RESULT_INVALID_OUTPUT,
                                 1);
    cli_rows_free(&rows);
    return rc;
}

int cli_reask(cli_ctx *ctx, cli_target *t, long rounds,
              const cli_wait_opts *w)
{
    retry_args ra;
    memset(&ra, 0, sizeof ra);
    ra.id = t->job->id;
    ra.mask = 1u << OAB_RESULT_INVALID_OUTPUT;
    ra.truncated = 1;
    ra.wait = *w;
    size_t bad = 0;
    int rc = count_reask(ctx, t, &bad);
    for (long round = 1; rc == CLI_EXIT_OK && round <= rounds && bad; round++) {
        const char *started = NULL;
        char lock[96];
        cli_job_lock_name(lock, sizeof lock, t->job->id);
        rc = cli_lock(ctx, lock, "retrying the same job");
        if (rc == CLI_EXIT_OK)
            rc = make_retry(ctx, &ra, t, &started);
        cli_unlock(ctx, lock);
        if (rc == CLI_EXIT_OK && started)
            rc = cli_target_wait(ctx, t, w);
        size_t now = bad;
        if (rc == CLI_EXIT_OK)
            rc = count_reask(ctx, t, &now);
        if (rc != CLI_EXIT_OK)
            break;
        cli_info(ctx, "re-ask round %ld: %zu line%s sent, %zu fixed, %zu "
                 "still invalid or truncated", round, bad,
                 bad == 1 ? "" : "s", bad > now ? bad - now : 0, now);
        bad = now;
    }
    return rc;
}

int cmd_retry(cli_ctx *ctx, int argc, char **argv)
{
    retry_args ra;
    int rc = parse_retry(ctx, argc, argv, &ra);
    return rc >= 0 ? rc : retry(ctx, &ra);
}
