/* cmd_watch.c - `oaibatch watch`: a live table of the journal's
 * unfinished jobs and their batches (status, done/total, failed, rate,
 * ETA), refreshed every few seconds; q leaves. Off a terminal it prints
 * the table at each refresh and ends once every job has finished. */
#include "oaibatch.h"
#include "util/clock.h"
#include "util/str.h"
#include "commands.h"
#include "journal.h"
#include "output.h"
#include "target.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <termios.h>
#include <unistd.h>

typedef struct watch_args {
    double interval;
    int once;
} watch_args;

/* The last count seen of a batch, for its rate. */
typedef struct seen {
    char *batch_id;
    long long done;
    double at;
    double rate;
} seen;

typedef struct watcher {
    cli_ctx *ctx;
    const watch_args *wa;
    int live;             /* a terminal: redraw in place, read keys */
    seen *seen;
    size_t n_seen;
    out_table *tb;
    long unread;          /* unfinished jobs the last refresh could not
                             read (their server away) */
    char why[256];        /* the first of those failures */
} watcher;

enum { O_INTERVAL = 1, O_ONCE };

static int watch_opt(const char *cmd, int id, const char *arg, void *st)
{
    watch_args *wa = st;
    if (id == O_ONCE) {
        wa->once = 1;
        return 1;
    }
    if (id != O_INTERVAL)
        return 0;
    if (cli_parse_double(cmd, "interval", arg, &wa->interval) != 0)
        return -1;
    if (wa->interval <= 0) {
        cli_usage_error(cmd, "--interval must be above 0");
        return -1;
    }
    return 1;
}

/* The rate of a batch from its previous count (0 when unknown). */
static double rate_of(watcher *W, const char *batch_id, long long done)
{
    double now = oab__now();
    for (size_t i = 0; i < W->n_seen; i++) {
        seen *s = &W->seen[i];
        if (strcmp(s->batch_id, batch_id) != 0)
            continue;
        if (done != s->done && now > s->at)
            s->rate = (double)(done - s->done) / (now - s->at);
        if (done != s->done) {
            s->done = done;
            s->at = now;
        }
        return s->rate;
    }
    seen *ns = realloc(W->seen, (W->n_seen + 1) * sizeof *ns);
    if (!ns)
        return 0;
    W->seen = ns;
    ns[W->n_seen++] = (seen){ oab__strdup(batch_id), done, now, 0 };
    return 0;
}

static void add_rows(watcher *W, const cli_target *t)
{
    for (size_t i = 0; i < t->n_units; i++) {
        const cli_unit *u = &t->units[i];
        const oab_job *b = u->batch;
        char part[16], done[48], failed[24], rate[24] = "-", eta[32] = "-";
        snprintf(part, sizeof part, "%d", u->part ? u->part->idx : 0);
        long long tot = b ? b->count_total : 0;
        long long fin = b ? b->count_completed + b->count_failed : 0;
        snprintf(done, sizeof done, "%lld/%lld", fin, tot);
        snprintf(failed, sizeof failed, "%lld", b ? b->count_failed : 0);
        double r = u->batch_id ? rate_of(W, u->batch_id, fin) : 0;
        if (r > 0 && !cli_unit_terminal(u)) {
            snprintf(rate, sizeof rate, "%.1f/s", r);
            if (tot > fin)
                out_duration(eta, sizeof eta, (double)(tot - fin) / r);
        }
        const char *row[8] = { cli_target_label(t), part, u->batch_id,
                               cli_unit_status(u), done, failed, rate, eta };
        out_table_add(W->tb, row);
    }
}

/* Reads the unfinished batches of job `id` (quietly: a refresh says once
 * what failed). 1 when the job is unfinished (shown; with its statuses
 * last seen when its server could not be read), 0 when it ended. */
static int refresh_job(watcher *W, const char *id)
{
    cli_ctx *ctx = W->ctx;
    cli_target t;
    int open = 0;
    if (cli_target_resolve(ctx, id, &t) == CLI_EXIT_OK) {
        const cli_unit *bad = NULL;
        oab_status st = cli_client(ctx) ? cli_target_poll(ctx, &t, &bad)
                                        : OAB_ENOKEY;
        if (st != OAB_OK) {
            /* unfinished as far as anyone knows: never "finished" */
            if (!W->unread++)
                snprintf(W->why, sizeof W->why, "%s", cli_failure(ctx, st));
            open = 1;
        } else {
            open = !cli_target_done(&t);
        }
        if (open)
            add_rows(W, &t);
    }
    cli_target_free(&t);
    return open;
}

/* One refresh: every unfinished job fetched and shown. Returns how many
 * jobs are unfinished (those whose server could not be read among them),
 * or -1 after an error was printed. */
static long refresh(watcher *W)
{
    cli_ctx *ctx = W->ctx;
    journal_job **jobs = NULL;
    size_t n = 0;
    if (cli_jobs_list(ctx, 0, &jobs, &n) != CLI_EXIT_OK)
        return -1;
    static const char *const hdr[] = { "JOB", "PART", "BATCH", "STATUS",
                                       "DONE", "FAILED", "RATE", "ETA" };
    W->tb = out_table_new(8, hdr);
    long open = 0;
    W->unread = 0;
    for (size_t i = 0; i < n; i++)
        if (!journal_job_finished(jobs[i]))
            open += refresh_job(W, jobs[i]->id);
    journal_job_list_free(jobs, n);
    char when[32];
    out_time(when, sizeof when, oab__unix_now());
    if (W->live)
        fputs("\033[H\033[2J", stdout);
    printf("%s UTC: %ld unfinished job%s%s\n", when, open,
           open == 1 ? "" : "s", W->live ? " (q to leave)" : "");
    if (open)
        out_table_print(W->tb, stdout, ctx->color, 0);
    if (W->unread)
        printf("%ld job%s not read now, shown as last seen: %s\n", W->unread,
               W->unread == 1 ? "" : "s", W->why);
    fflush(stdout);
    out_table_free(W->tb);
    W->tb = NULL;
    return open;
}

/* Waits up to `seconds` for a key; 1 when it was q. */
static int wait_key(double seconds)
{
    fd_set fds;
    FD_ZERO(&fds);
    FD_SET(STDIN_FILENO, &fds);
    struct timeval tv = { (time_t)seconds,
                          (suseconds_t)((seconds - (double)(time_t)seconds) *
                                        1e6) };
    if (select(STDIN_FILENO + 1, &fds, NULL, NULL, &tv) <= 0)
        return 0;
    char c;
    return read(STDIN_FILENO, &c, 1) == 1 && (c == 'q' || c == 'Q');
}

static int watch(cli_ctx *ctx, const watch_args *wa)
{
    watcher W = { .ctx = ctx, .wa = wa };
    W.live = !wa->once && out_isatty(stdout) && isatty(STDIN_FILENO) &&
             !out_term_dumb();
    struct termios saved;
    if (W.live && tcgetattr(STDIN_FILENO, &saved) == 0) {
        struct termios raw = saved;
        raw.c_lflag &= (tcflag_t) ~(ICANON | ECHO);
        tcsetattr(STDIN_FILENO, TCSANOW, &raw);
    }
    cli_install_signals();
    int rc = CLI_EXIT_OK;
    for (;;) {
        long open = refresh(&W);
        if (open < 0) {
            rc = CLI_EXIT_LOCAL;
            break;
        }
        if (wa->once || (open == 0 && !W.live))
            break;
        int quit = W.live ? wait_key(wa->interval)
                          : (cli_sleep(wa->interval), 0);
        if (quit || cli_interrupted)
            break;
    }
    if (W.live)
        tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    if (!wa->once && !W.live && rc == CLI_EXIT_OK && !cli_interrupted)
        cli_info(ctx, "every job has finished");
    /* --once with a job whose server could not be read: not all known */
    if (wa->once && rc == CLI_EXIT_OK && W.unread)
        rc = CLI_EXIT_API;
    for (size_t i = 0; i < W.n_seen; i++)
        free(W.seen[i].batch_id);
    free(W.seen);
    return cli_interrupted ? CLI_EXIT_INTERRUPTED : rc;
}

const cli_opt cli_opts_watch[] = {
    { "interval", 0, 1, O_INTERVAL },
    { "once", 0, 0, O_ONCE },
    { NULL, 0, 0, 0 }
};

int cmd_watch(cli_ctx *ctx, int argc, char **argv)
{
    static const cli_parse_spec spec = { "watch", cli_opts_watch, watch_opt,
                                         NULL, 0 };
    watch_args wa = { 5.0, 0 };
    int rc = cli_parse_args(ctx, &spec, argc, argv, &wa, NULL);
    return rc >= 0 ? rc : watch(ctx, &wa);
}
