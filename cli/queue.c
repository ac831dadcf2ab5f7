/* queue.c - a job queued under the enqueued-token limit: each part's
 * input tokens counted once and kept in the journal with the limit; parts
 * started in order while the ones in flight and the next fit under the
 * limit together; a batch refused with token_limit_exceeded put back in
 * the queue (journal_queue_requeue) and sent again, by itself, once
 * capacity has freed. */
#include "oaibatch.h"
#include "util/clock.h"
#include "util/str.h"
#include "cmd_tokens.h"
#include "estimate.h"
#include "queue.h"
#include "wait.h"

#include <stdlib.h>
#include <string.h>

/* OpenAI's published batch queue limits (enqueued input tokens per model),
 * by usage tier; see docs/guide.md "Queueing" for the sources. A model
 * matches its row by name or by the longest row name that is its prefix
 * followed by '-'. 0: no published figure. */
static const struct tier_row {
    const char *model;
    long long tier[5];
} tier_rows[] = {
    { "gpt-4o", { 90000LL, 0, 0, 80000000LL, 0 } },
    { "gpt-4o-mini", { 2000000LL, 20000000LL, 40000000LL, 1000000000LL,
                       15000000000LL } },
    { "gpt-4-turbo", { 90000LL, 0, 0, 80000000LL, 0 } },
    { "gpt-4", { 100000LL, 0, 0, 30000000LL, 0 } },
    { "gpt-3.5-turbo", { 2000000LL, 0, 0, 100000000LL, 0 } },
    { "o1-preview", { 90000LL, 0, 0, 0, 0 } },
    { "o1-mini", { 2000000LL, 0, 0, 0, 0 } },
    { "text-embedding-3-large", { 3000000LL, 0, 0, 500000000LL, 0 } },
    { "text-embedding-3-small", { 3000000LL, 0, 0, 500000000LL, 0 } },
    { "text-embedding-ada-002", { 3000000LL, 0, 0, 500000000LL, 0 } },
};

int cli_queue_tier_limit(int tier, const char *model, long long *out)
{
    *out = 0;
    if (tier < 1 || tier > 5 || !model)
        return -1;
    if (strncmp(model, "openai:", 7) == 0)
        model += 7;
    const struct tier_row *best = NULL;
    size_t best_len = 0;
    for (size_t i = 0; i < sizeof tier_rows / sizeof tier_rows[0]; i++) {
        size_t n = strlen(tier_rows[i].model);
        if (strncmp(model, tier_rows[i].model, n) == 0 &&
            (model[n] == '\0' || model[n] == '-') && n > best_len) {
            best = &tier_rows[i];
            best_len = n;
        }
    }
    if (!best || best->tier[tier - 1] <= 0)
        return -1;
    *out = best->tier[tier - 1];
    return 0;
}

/* ---- counting ---- */

typedef struct bytes_count {
    long long tokens, max_line;
} bytes_count;

static int count_bytes(const char *line, size_t len, long lineno, void *ud)
{
    (void)line;
    (void)lineno;
    bytes_count *b = ud;
    long long t = (long long)((len + 3) / 4);
    b->tokens += t;
    if (t > b->max_line)
        b->max_line = t;
    return 0;
}

int cli_queue_count(oab_tokenizers *set, const char *path, long long *tokens,
                    long long *max_line)
{
    long long ml = 0;
    *tokens = 0;
    cli_prices none;
    memset(&none, 0, sizeof none);
    cli_estimate e;
    memset(&e, 0, sizeof e);
    e.path = path;
    e.set = set;
    e.fallback = "o200k_base";
    e.prices = &none;
    e.expect = -1;
    int done = set && cli_estimate_file(&e) == OAB_OK;
    for (size_t i = 0; done && i < e.n; i++) {
        *tokens += (long long)e.m[i].input;
        if ((long long)e.m[i].max_input > ml)
            ml = (long long)e.m[i].max_input;
    }
    cli_estimate_free(&e);
    if (!done) {
        bytes_count b = { 0, 0 };
        oab_error err;
        if (cli_read_lines(path, count_bytes, &b, &err) != OAB_OK)
            return -1;
        *tokens = b.tokens;
        ml = b.max_line;
    }
    if (max_line)
        *max_line = ml;
    return 0;
}

/* ---- the queue ---- */

/* Refusals in a row with nothing else of the job in flight before the
 * queue gives up (the pause between them grows as a poll's does). */
#define QUEUE_LONELY_REFUSALS 5

int cli_queue_refused(const oab_job *b)
{
    if (!b || b->status != OAB_BATCH_FAILED)
        return 0;
    for (size_t i = 0; i < b->n_errors; i++)
        if (b->errors[i].code &&
            strcmp(b->errors[i].code, "token_limit_exceeded") == 0)
            return 1;
    return 0;
}

static int ended(const char *status)
{
    static const char *const words[] = { "completed", "failed", "expired",
                                         "cancelled" };
    for (size_t i = 0; status && i < sizeof words / sizeof words[0]; i++)
        if (strcmp(status, words[i]) == 0)
            return 1;
    return 0;
}

/* The parts the queue holds: kind "part", idx 1..n. */
static int queued_part(const journal_part *p, size_t n)
{
    return p->kind && strcmp(p->kind, "part") == 0 && p->idx >= 1 &&
           (size_t)p->idx <= n;
}

/* Counts each part's tokens and records the queue. Exit code. */
static int make_queue(cli_ctx *ctx, journal_job *job, long long limit,
                      long long **tok, size_t *n)
{
    journal *jr = cli_journal(ctx);
    size_t np = 0;
    for (size_t i = 0; i < job->n_parts; i++)
        if (strcmp(job->parts[i].kind, "part") == 0 &&
            job->parts[i].idx > (int)np)
            np = (size_t)job->parts[i].idx;
    long long *t = calloc(np ? np : 1, sizeof *t);
    oab_tokenizers *set = NULL;
    if (!t || oab_tokenizers_new(&set, NULL) != OAB_OK) {
        free(t);
        cli_error(ctx, "out of memory");
        return CLI_EXIT_LOCAL;
    }
    for (size_t i = 0; i < job->n_parts; i++) {
        journal_part *p = &job->parts[i];
        if (!queued_part(p, np))
            continue;
        if (cli_queue_count(set, p->path, &t[p->idx - 1], NULL) != 0) {
            cli_error(ctx, "cannot read part %d (%s)", p->idx, p->path);
            oab_tokenizers_free(set);
            free(t);
            return CLI_EXIT_LOCAL;
        }
    }
    oab_tokenizers_free(set);
    if (journal_queue_set(jr, job->id, limit, t, np) != 0) {
        cli_error(ctx, "journal: %s", journal_errmsg(jr));
        free(t);
        return CLI_EXIT_LOCAL;
    }
    for (size_t i = 0; i < job->n_parts; i++) {
        journal_part *p = &job->parts[i];
        if (queued_part(p, np) && !p->batch_id && !p->status &&
            journal_part_set_status(jr, job->id, p->idx, "queued", 0, 0,
                                    0) == 0)
            oab__set_str(&p->status, "queued");
    }
    *tok = t;
    *n = np;
    return CLI_EXIT_OK;
}

/* Polls a part's batch; a refused one goes back to the queue (*refused
 * 1). Exit code; a failure that passes (cli_transient) is not one. */
static int poll_part(cli_ctx *ctx, oab_client *c, journal_job *job,
                     journal_part *p, int *refused)
{
    journal *jr = cli_journal(ctx);
    oab_job *b = NULL;
    oab_status st = oab_batch_retrieve(c, &b, p->batch_id);
    if (st != OAB_OK)
        return cli_transient(st) ? CLI_EXIT_OK
                                 : cli_api_errorf(ctx, st, "cannot get batch "
                                                  "%s", p->batch_id);
    if (cli_queue_refused(b)) {
        cli_info(ctx, "part %d: batch %s refused (token_limit_exceeded); "
                 "queued again", p->idx, p->batch_id);
        oab_job_free(b);
        if (journal_queue_requeue(jr, job->id, p->idx) != 0) {
            cli_error(ctx, "journal: %s", journal_errmsg(jr));
            return CLI_EXIT_LOCAL;
        }
        free(p->batch_id);
        p->batch_id = NULL;
        oab__set_str(&p->status, "queued");
        *refused = 1;
        return CLI_EXIT_OK;
    }
    const char *word = b->status_text ? b->status_text
                                      : oab_batch_status_str(b->status);
    oab__set_str(&p->status, word);
    journal_part_set_status(jr, job->id, p->idx, word, b->count_total,
                            b->count_completed, b->count_failed);
    oab_job_free(b);
    return CLI_EXIT_OK;
}

int cli_queue_drive(cli_ctx *ctx, journal_job *job, long long limit,
                    const cli_part_opts *po, const struct cli_wait_opts *w)
{
    oab_client *c = cli_client(ctx);
    journal *jr = cli_journal(ctx);
    if (!c || !jr)
        return !c ? CLI_EXIT_API : CLI_EXIT_LOCAL;
    long long held = 0, *tok = NULL;
    size_t nt = 0;
    int r = journal_queue_get(jr, job->id, &held, &tok, &nt);
    if (r < 0) {
        cli_error(ctx, "journal: %s", journal_errmsg(jr));
        return CLI_EXIT_LOCAL;
    }
    int rc = CLI_EXIT_OK;
    if (r == 1 && limit <= 0) { /* no queue: every part at once */
        for (size_t i = 0; i < job->n_parts && rc == CLI_EXIT_OK; i++)
            rc = cli_part_start(ctx, job, &job->parts[i], po);
        return rc;
    }
    if (r == 1) {
        if ((rc = make_queue(ctx, job, limit, &tok, &nt)) != CLI_EXIT_OK)
            return rc;
        held = limit;
    } else if (limit > 0 && limit != held) {
        cli_warn(ctx, "job %s is queued under its limit of %lld enqueued "
                 "tokens (not %lld)", job->id, held, limit);
    }
    double pause = w->interval, refused_at = 0;
    long long refused_inflight = -1;
    int logged = 0, lonely = 0;
    for (;;) {
        if (cli_interrupted) {
            cli_info(ctx, "interrupted; the queue is in the journal: run the "
                     "same command again to carry on (job %s)", job->id);
            rc = CLI_EXIT_INTERRUPTED;
            break;
        }
        long long inflight = 0;
        size_t queued = 0, validating = 0, running = 0, done = 0;
        int changed = 0, refused = 0;
        for (size_t i = 0; i < job->n_parts && rc == CLI_EXIT_OK; i++) {
            journal_part *p = &job->parts[i];
            if (!queued_part(p, nt))
                continue;
            if (p->batch_id && !ended(p->status)) {
                char *before = p->status ? oab__strdup(p->status) : NULL;
                rc = poll_part(ctx, c, job, p, &refused);
                changed |= !before || !p->status ||
                           strcmp(before, p->status) != 0;
                free(before);
            }
            if (!p->batch_id)
                queued++;
            else if (ended(p->status))
                done++;
            else {
                inflight += tok[p->idx - 1];
                if (!p->status || strcmp(p->status, "validating") == 0)
                    validating++;
                else
                    running++;
            }
        }
        if (rc != CLI_EXIT_OK)
            break;
        if (refused) {
            refused_at = oab__now();
            refused_inflight = inflight;
            /* refused with nothing else of the job in flight: other work
             * holds the key's capacity, or the limit is lower than ours */
            lonely = inflight == 0 ? lonely + 1 : 0;
            if (lonely >= QUEUE_LONELY_REFUSALS) {
                cli_error(ctx, "the server refused a part %d times with "
                          "nothing else of job %s in flight: its limit is "
                          "lower than %lld tokens, or other batches hold it. "
                          "Run the same command again later, or give a "
                          "lower --enqueued-token-limit with --force",
                          lonely, job->id, held);
                rc = CLI_EXIT_API;
                break;
            }
        }
        if (!queued && !validating)
            break; /* every part accepted: the wait takes over */
        /* start what fits, in order; after a refusal, only once capacity
         * has freed (fewer tokens of ours in flight than then, or none
         * and a pause) */
        for (size_t i = 0; i < job->n_parts && rc == CLI_EXIT_OK; i++) {
            journal_part *p = &job->parts[i];
            if (!queued_part(p, nt) || p->batch_id)
                continue;
            long long t = tok[p->idx - 1];
            if (refused_at > 0 &&
                !(inflight < refused_inflight ||
                  (inflight == 0 && oab__now() - refused_at >= pause)))
                break;
            if (inflight > 0 && inflight + t > held)
                break;
            rc = cli_part_start(ctx, job, p, po);
            if (rc != CLI_EXIT_OK)
                break;
            free(p->status);
            p->status = NULL;
            inflight += t;
            queued--;
            validating++;
            changed = 1;
            refused_at = 0;
        }
        if (rc != CLI_EXIT_OK)
            break;
        if (!logged || changed)
            cli_info(ctx, "queue: %zu part%s queued, %zu running, %zu done; "
                     "%lld of %lld enqueued tokens in flight", queued,
                     queued == 1 ? "" : "s", validating + running, done,
                     inflight, held);
        logged = 1;
        pause = changed && !lonely ? w->interval : pause * 1.5;
        if (pause > w->max_interval)
            pause = w->max_interval;
        cli_sleep(pause);
    }
    free(tok);
    return rc;
}
