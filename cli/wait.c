/* wait.c - waiting for a target's batches to end: the poll loop, the
 * progress line (a terminal) or status changes (a log), Ctrl-C. */
#include "oaibatch.h"
#include "util/clock.h"
#include "util/str.h"
#include "output.h"
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
    default:
        return 0;
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
        const char *s = cli_unit_status(u);
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

