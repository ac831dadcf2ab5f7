/* wait.c - waiting for a target's batches to end: the poll loop, the
 * progress line (a terminal) or status changes (a log), Ctrl-C. */
#include "oaibatch.h"
#include "util/clock.h"
#include "util/str.h"
#include "output.h"
#include "collect.h"
#include "part.h"
#include "wait.h"

#include <stdlib.h>
#include <string.h>

/* ---- options ---- */

int cli_wait_opt(const char *cmd, int id, const char *arg, cli_wait_opts *w)
{
    switch (id) {
    case CLI_OPT_INTERVAL:
        if (cli_parse_double(cmd, "interval", arg, &w->interval) != 0)
            return -1;
        if (w->interval <= 0) {
            cli_usage_error(cmd, "--interval must be above 0");
            return -1;
        }
        return 1;
    case CLI_OPT_MAX_INTERVAL:
        if (cli_parse_double(cmd, "max-interval", arg, &w->max_interval) != 0)
            return -1;
        if (w->max_interval <= 0) {
            cli_usage_error(cmd, "--max-interval must be above 0");
            return -1;
        }
        return 1;
    case CLI_OPT_CANCEL_ON_INTERRUPT:
        w->cancel_on_interrupt = 1;
        return 1;
    case CLI_OPT_TIMEOUT:
        if (cli_parse_double(cmd, "timeout", arg, &w->timeout) != 0)
            return -1;
        if (w->timeout <= 0) {
            cli_usage_error(cmd, "--timeout must be above 0");
            return -1;
        }
        return 1;
    case CLI_OPT_CANCEL_ON_TIMEOUT:
        w->cancel_on_timeout = 1;
        return 1;
    default:
        return 0;
    }
}

int cli_wait_check(const char *cmd, const cli_wait_opts *w)
{
    if (w->cancel_on_timeout && w->timeout <= 0)
        return cli_usage_error(cmd, "--cancel-on-timeout goes with "
                               "--timeout SECONDS");
    return -1;
}

/* ---- waiting ---- */

static void progress_text(const cli_target *t, double elapsed, double rate,
                          char *buf, size_t n)
{
    long long total, done, failed;
    cli_target_counts(t, &total, &done, &failed);
    size_t n_val = 0, n_fin = 0, n_prog = 0, n_canc = 0, n_end = 0;
    for (size_t i = 0; i < t->n_units; i++) {
        const oab_job *b = t->units[i].batch;
        if (!b)
            continue;
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
    if (k > 0 && (size_t)k < n && rate > 0 && total > done) {
        char eta[32];
        out_duration(eta, sizeof eta, (double)(total - done) / rate);
        k += snprintf(buf + k, n - (size_t)k, ", ETA %s", eta);
    }
    if (k > 0 && (size_t)k < n && (n_val || n_fin) && t->n_units > 1)
        snprintf(buf + k, n - (size_t)k, " (%zu validating, %zu finalizing)",
                 n_val, n_fin);
}

/* Logs each unit whose status changed; 1 when one did. */
static int report_changes(cli_ctx *ctx, const cli_target *t, char **last)
{
    int said = 0;
    for (size_t i = 0; i < t->n_units; i++) {
        const cli_unit *u = &t->units[i];
        const char *s = cli_unit_status(u);
        if (last[i] && strcmp(last[i], s) == 0)
            continue;
        said = 1;
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
    return said;
}

static long long done_count(const cli_target *t)
{
    long long total, done, failed;
    cli_target_counts(t, &total, &done, &failed);
    return done;
}

int cli_transient(oab_status st)
{
    return st == OAB_ECONNECT || st == OAB_ETIMEOUT || st == OAB_ETRANSPORT ||
           st == OAB_ERATELIMIT || st == OAB_ESERVER;
}

/* The state of one wait: poll pacing, the outage being ridden out, and
 * what the progress line or the log last showed. */
typedef struct waiter {
    cli_ctx *ctx;
    cli_target *t;
    const cli_wait_opts *w;
    int bar;
    char **last;
    double start, deadline, interval, max_interval;
    long long done0;
    double t0;
    int down;               /* the last poll could not reach the server */
    double last_line;       /* when the log last got a line (no terminal) */
    double log_every;       /* how often a status line comes regardless */
} waiter;

/* Not on a terminal, a status line at least this often (a CI log shows
 * that the wait is alive); $OAB_CLI_STATUS_EVERY (seconds) overrides it. */
#define WAIT_LOG_EVERY 120.0

static double log_every(void)
{
    const char *e = getenv("OAB_CLI_STATUS_EVERY");
    char *end = NULL;
    double v = e && *e ? strtod(e, &end) : 0;
    return end && !*end && v > 0 ? v : WAIT_LOG_EVERY;
}

/* One poll: 0 to go on, 1 when every batch has ended, or an exit code
 * (+ 2) for an error that waiting cannot ride out. */
static int wait_poll(waiter *W)
{
    cli_ctx *ctx = W->ctx;
    const cli_unit *bad = NULL;
    oab_status st = cli_target_poll(ctx, W->t, &bad);
    if (st != OAB_OK && !cli_transient(st))
        return 2 + cli_target_report(ctx, st, bad);
    if (st != OAB_OK) {
        if (!W->down) {
            cli_warn(ctx, "the server cannot be reached (%s); still waiting, "
                     "trying again", cli_failure(ctx, st));
            W->down = 1;
        }
        return 0;
    }
    if (W->down) {
        cli_info(ctx, "the server is back");
        W->down = 0;
    }
    if (W->done0 < 0) {
        W->done0 = done_count(W->t);
        W->t0 = oab__now();
    }
    double now = oab__now();
    double rate = now - W->t0 > 0.5 ? (double)(done_count(W->t) - W->done0) /
                                          (now - W->t0)
                                    : 0;
    if (W->bar) {
        char text[512];
        progress_text(W->t, now - W->start, rate, text, sizeof text);
        out_progress(stderr, text);
    } else if (report_changes(ctx, W->t, W->last) ||
               now - W->last_line >= W->log_every) {
        if (now - W->last_line >= W->log_every && !cli_target_done(W->t)) {
            char text[512];
            progress_text(W->t, now - W->start, rate, text, sizeof text);
            cli_info(ctx, "%s: %s", cli_target_label(W->t), text);
        }
        W->last_line = now;
    }
    return cli_target_done(W->t) ? 1 : 0;
}

/* After Ctrl-C: cancel (when asked) or say how to resume. */
static int wait_interrupted(cli_ctx *ctx, cli_target *t,
                            const cli_wait_opts *w)
{
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

/* After --timeout ran out: cancel (when asked) or say how to resume. */
static int wait_timed_out(cli_ctx *ctx, cli_target *t,
                          const cli_wait_opts *w)
{
    char el[32];
    out_duration(el, sizeof el, w->timeout);
    if (w->cancel_on_timeout) {
        cli_error(ctx, "timed out after %s: cancelling the unfinished "
                  "batches; the lines already done are kept (oaibatch "
                  "results %s)", el, cli_target_label(t));
        int crc = cli_target_cancel(ctx, t);
        if (crc != CLI_EXIT_OK)
            return crc;
    } else {
        cli_error(ctx, "timed out after %s; the batches keep running on the "
                  "server. Resume with: oaibatch wait %s", el,
                  cli_target_label(t));
    }
    return CLI_EXIT_API;
}

/* 1 when a unit of the target is a retry part with no batch. */
static int retry_unstarted(const cli_target *t)
{
    for (size_t i = 0; i < t->n_units; i++)
        if (!t->units[i].batch_id && t->units[i].part &&
            journal_part_is_retry(t->units[i].part))
            return 1;
    return 0;
}

int cli_target_wait(cli_ctx *ctx, cli_target *t, const cli_wait_opts *w)
{
    if (retry_unstarted(t)) {
        /* started here as retry starts it, under the job's lock: a
         * retry or wait at the same time starts it once */
        char lock[96];
        cli_job_lock_name(lock, sizeof lock, t->job->id);
        int rc = cli_lock(ctx, lock, "retrying the same job");
        if (rc == CLI_EXIT_OK)
            rc = cli_part_resume_retries(ctx, t);
        cli_unlock(ctx, lock);
        if (rc != CLI_EXIT_OK)
            return rc;
    }
    for (size_t i = 0; i < t->n_units; i++)
        if (!t->units[i].batch_id) {
            cli_error(ctx, "part %d of %s has no batch yet; run 'oaibatch "
                      "submit' again to finish it",
                      t->units[i].part ? t->units[i].part->idx : 0,
                      cli_target_label(t));
            return CLI_EXIT_LOCAL;
        }
    if (!cli_client(ctx))
        return CLI_EXIT_API;
    cli_install_signals();
    waiter W;
    memset(&W, 0, sizeof W);
    W.ctx = ctx;
    W.t = t;
    W.w = w;
    W.bar = ctx->tty_err && !ctx->quiet;
    W.last = calloc(t->n_units ? t->n_units : 1, sizeof *W.last);
    if (!W.last)
        return CLI_EXIT_LOCAL;
    W.start = oab__now();
    W.deadline = w->timeout > 0 ? W.start + w->timeout : 0;
    W.interval = w->interval > 0 ? w->interval : 5.0;
    W.max_interval = w->max_interval >= W.interval ? w->max_interval
                                                   : W.interval;
    W.done0 = -1;
    W.log_every = log_every();
    int r;
    int timed_out = 0;
    for (;;) {
        r = wait_poll(&W);
        if (r != 0 || cli_interrupted)
            break;
        double left = W.deadline ? W.deadline - oab__now() : W.interval;
        if (left <= 0) {
            timed_out = 1;
            break;
        }
        cli_sleep(W.interval < left ? W.interval : left);
        if (cli_interrupted)
            break;
        W.interval *= 1.5;
        if (W.interval > W.max_interval)
            W.interval = W.max_interval;
    }
    out_progress_done(stderr);
    for (size_t i = 0; i < t->n_units; i++)
        free(W.last[i]);
    free(W.last);
    if (r >= 2)
        return r - 2;
    if (r == 1)
        return cli_target_settle(ctx, t);
    if (cli_interrupted)
        return wait_interrupted(ctx, t, w);
    return timed_out ? wait_timed_out(ctx, t, w) : CLI_EXIT_OK;
}
