/* metrics.c - counters of upstream requests, their latency and in-flight
 * gauges, webhook outcomes, and the Prometheus text exposition of those
 * and of the batches and lines in the state (GET /metrics). */
#include "oaibatch.h"
#include "util/buf.h"
#include "util/str.h"
#include "db.h"
#include "metrics.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_UP (SRV_MAX_KEYS + 1) /* the pool, then the built-in model */
#define BUILTIN (N_UP - 1)
#define N_CODES 24              /* distinct status codes kept per upstream */

static const char *EPS[] = {"/v1/chat/completions", "/v1/responses",
                            "/v1/embeddings", "/v1/completions",
                            "/v1/moderations", "other"};
#define N_EPS ((int)(sizeof EPS / sizeof EPS[0]))

static const double BUCKETS[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                 1, 2.5, 5, 10, 30, 60, 120};
#define N_BUCKETS ((int)(sizeof BUCKETS / sizeof BUCKETS[0]))

typedef struct up_stats {
    long codes[N_CODES];
    unsigned long long code_n[N_CODES];
    int n_codes;
    unsigned long long other_codes;     /* past N_CODES distinct */
    unsigned long long hist[N_BUCKETS]; /* not cumulative here */
    unsigned long long hist_n;
    double hist_sum;
    long inflight;
} up_stats;

static struct {
    up_stats up[N_UP];
    long ep_inflight[N_EPS];
    unsigned long long wh[3];
} M; /* under M_lock */
static pthread_mutex_t M_lock = PTHREAD_MUTEX_INITIALIZER;

void srv_url_label(const char *url, char *out, size_t n)
{
    if (!n)
        return;
    const char *p = strstr(url, "://");
    const char *host = p ? p + 3 : url;
    size_t scheme = (size_t)(host - url);
    size_t hlen = strcspn(host, "/?#");
    const char *at = memchr(host, '@', hlen);
    const char *h = at ? at + 1 : host;
    size_t rest = strcspn(h, "?#");
    snprintf(out, n, "%.*s%.*s", (int)scheme, url, (int)rest, h);
}

/* The pool index of url's base, and the endpoint index of its path. */
static void classify(const srv *s, const char *url, int *up, int *ep)
{
    *up = BUILTIN;
    size_t best = 0;
    for (int i = 0; i < s->cfg.n_upstreams && i < SRV_MAX_KEYS; i++) {
        size_t k = strlen(s->cfg.upstreams[i]);
        if (k > best && !strncmp(url, s->cfg.upstreams[i], k)) {
            best = k;
            *up = i;
        }
    }
    *ep = N_EPS - 1;
    size_t ul = strlen(url);
    for (int i = 0; i < N_EPS - 1; i++) {
        size_t k = strlen(EPS[i]);
        if (ul >= k && !strcmp(url + ul - k, EPS[i]))
            *ep = i;
    }
}

int srv_metrics_started(const srv *s, const char *url)
{
    int up, ep;
    classify(s, url, &up, &ep);
    pthread_mutex_lock(&M_lock);
    M.up[up].inflight++;
    M.ep_inflight[ep]++;
    pthread_mutex_unlock(&M_lock);
    return 1 + up * N_EPS + ep;
}

static void ended(int tag)
{
    int up = (tag - 1) / N_EPS, ep = (tag - 1) % N_EPS;
    M.up[up].inflight--;
    M.ep_inflight[ep]--;
}

void srv_metrics_attempt(int *tag, CURL *easy, long status)
{
    double secs = -1;
    if (*tag > 0 && easy)
        curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME, &secs);
    int up = *tag > 0 ? (*tag - 1) / N_EPS : BUILTIN;
    pthread_mutex_lock(&M_lock);
    up_stats *u = &M.up[up];
    int k = 0;
    while (k < u->n_codes && u->codes[k] != status)
        k++;
    if (k == u->n_codes && k < N_CODES) {
        u->codes[k] = status;
        u->n_codes++;
    }
    if (k < N_CODES)
        u->code_n[k]++;
    else
        u->other_codes++;
    if (secs >= 0) {
        int b = 0;
        while (b < N_BUCKETS && secs > BUCKETS[b])
            b++;
        if (b < N_BUCKETS)
            u->hist[b]++;
        u->hist_n++;
        u->hist_sum += secs;
    }
    if (*tag > 0)
        ended(*tag);
    pthread_mutex_unlock(&M_lock);
    *tag = 0;
}

void srv_metrics_abandoned(int *tag)
{
    if (*tag <= 0)
        return;
    pthread_mutex_lock(&M_lock);
    ended(*tag);
    pthread_mutex_unlock(&M_lock);
    *tag = 0;
}

void srv_metrics_webhook(enum srv_wh_outcome o)
{
    pthread_mutex_lock(&M_lock);
    M.wh[o]++;
    pthread_mutex_unlock(&M_lock);
}

/* ---- the exposition ---- */

static void esc(oab__buf *b, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            oab__buf_putc(b, '\\');
        if (*v == '\n') {
            oab__buf_append(b, "\\n", 2);
            continue;
        }
        oab__buf_putc(b, *v);
    }
}

static void head(oab__buf *b, const char *name, const char *type,
                 const char *help)
{
    char *t = oab__sprintf("# HELP %s %s\n# TYPE %s %s\n", name, help, name,
                           type);
    if (t)
        oab__buf_append(b, t, strlen(t));
    free(t);
}

/* name{label="value"} number */
static void sample(oab__buf *b, const char *name, const char *labels,
                   double v)
{
    char num[64];
    snprintf(num, sizeof num, " %.17g\n", v);
    oab__buf_append(b, name, strlen(name));
    if (labels && *labels) {
        oab__buf_putc(b, '{');
        oab__buf_append(b, labels, strlen(labels));
        oab__buf_putc(b, '}');
    }
    oab__buf_append(b, num, strlen(num));
}

static const char *STATUSES[] = {"validating", "failed", "in_progress",
                                 "finalizing", "completed", "expired",
                                 "cancelling", "cancelled"};
#define N_STATUSES ((int)(sizeof STATUSES / sizeof STATUSES[0]))

typedef struct scrape {
    double by_status[N_STATUSES];
    double done[N_EPS], failed[N_EPS], queued[N_EPS];
    double in_tok[N_EPS], out_tok[N_EPS];
} scrape;

static int ep_index(const char *endpoint)
{
    for (int i = 0; i < N_EPS - 1; i++)
        if (endpoint && !strcmp(endpoint, EPS[i]))
            return i;
    return N_EPS - 1;
}

static int take_stat(const srv_batch_stat *st, void *ud)
{
    scrape *sc = ud;
    for (int i = 0; i < N_STATUSES; i++)
        if (!strcmp(st->status, STATUSES[i]))
            sc->by_status[i] += (double)st->batches;
    int e = ep_index(st->endpoint);
    sc->done[e] += (double)st->completed;
    sc->failed[e] += (double)st->failed;
    sc->in_tok[e] += (double)st->input_tokens;
    sc->out_tok[e] += (double)st->output_tokens;
    if (!strcmp(st->status, "in_progress") ||
        !strcmp(st->status, "validating"))
        sc->queued[e] += (double)(st->total - st->completed - st->failed);
    return 0;
}

static void up_label(const srv *s, int i, char *out, size_t n)
{
    char u[512];
    if (i == BUILTIN)
        snprintf(u, sizeof u, "builtin:test");
    else
        srv_url_label(s->cfg.upstreams[i], u, sizeof u);
    oab__buf b = OAB__BUF_INIT;
    esc(&b, u);
    snprintf(out, n, "upstream=\"%s\"", b.data ? b.data : "");
    oab__buf_free(&b);
}

char *srv_metrics_render(srv *s)
{
    scrape sc;
    memset(&sc, 0, sizeof sc);
    long long pending = 0;
    pthread_mutex_lock(&s->db_lock);
    int rc = srv_db_batch_stats(s->db, take_stat, &sc);
    if (rc == SQLITE_OK)
        rc = srv_db_deliveries_pending(s->db, &pending);
    pthread_mutex_unlock(&s->db_lock);
    if (rc != SQLITE_OK)
        return NULL;

    pthread_mutex_lock(&M_lock);
    up_stats up[N_UP];
    memcpy(up, M.up, sizeof up);
    long ep_inflight[N_EPS];
    memcpy(ep_inflight, M.ep_inflight, sizeof ep_inflight);
    unsigned long long wh[3];
    memcpy(wh, M.wh, sizeof wh);
    pthread_mutex_unlock(&M_lock);

    oab__buf b = OAB__BUF_INIT;
    char lab[700];
    /* lines */
    head(&b, "oaibatch_lines_queued", "gauge",
         "Lines of running batches not finished and not in flight.");
    for (int e = 0; e < N_EPS; e++) {
        snprintf(lab, sizeof lab, "endpoint=\"%s\"", EPS[e]);
        double q = sc.queued[e] - (double)ep_inflight[e];
        sample(&b, "oaibatch_lines_queued", lab, q > 0 ? q : 0);
    }
    head(&b, "oaibatch_lines_in_flight", "gauge",
         "Lines with an upstream request in flight now.");
    for (int e = 0; e < N_EPS; e++) {
        snprintf(lab, sizeof lab, "endpoint=\"%s\"", EPS[e]);
        sample(&b, "oaibatch_lines_in_flight", lab, (double)ep_inflight[e]);
    }
    head(&b, "oaibatch_lines_done_total", "counter",
         "Lines finished with a 2xx answer (request_counts.completed).");
    for (int e = 0; e < N_EPS; e++) {
        snprintf(lab, sizeof lab, "endpoint=\"%s\"", EPS[e]);
        sample(&b, "oaibatch_lines_done_total", lab, sc.done[e]);
    }
    head(&b, "oaibatch_lines_failed_total", "counter",
         "Lines finished as errors (request_counts.failed).");
    for (int e = 0; e < N_EPS; e++) {
        snprintf(lab, sizeof lab, "endpoint=\"%s\"", EPS[e]);
        sample(&b, "oaibatch_lines_failed_total", lab, sc.failed[e]);
    }
    head(&b, "oaibatch_tokens_total", "counter",
         "Tokens of finished lines (usage), by kind; rate() gives tokens"
         " per second.");
    for (int e = 0; e < N_EPS; e++) {
        snprintf(lab, sizeof lab, "endpoint=\"%s\",kind=\"prompt\"", EPS[e]);
        sample(&b, "oaibatch_tokens_total", lab, sc.in_tok[e]);
        snprintf(lab, sizeof lab, "endpoint=\"%s\",kind=\"completion\"",
                 EPS[e]);
        sample(&b, "oaibatch_tokens_total", lab, sc.out_tok[e]);
    }
    /* batches */
    head(&b, "oaibatch_batches", "gauge", "Batches in the state, by status.");
    for (int i = 0; i < N_STATUSES; i++) {
        snprintf(lab, sizeof lab, "status=\"%s\"", STATUSES[i]);
        sample(&b, "oaibatch_batches", lab, sc.by_status[i]);
    }
    /* upstreams: the pool, then the built-in model when it is used */
    int n_up = s->cfg.n_upstreams < SRV_MAX_KEYS ? s->cfg.n_upstreams
                                                 : SRV_MAX_KEYS;
    int ids[N_UP], k = 0;
    for (int i = 0; i < n_up; i++)
        ids[k++] = i;
    if (!n_up)
        ids[k++] = BUILTIN;
    head(&b, "oaibatch_upstream_requests_total", "counter",
         "Upstream attempts by answer status (code=\"0\": no answer).");
    for (int j = 0; j < k; j++) {
        char ul[560];
        up_label(s, ids[j], ul, sizeof ul);
        for (int c = 0; c < up[ids[j]].n_codes; c++) {
            snprintf(lab, sizeof lab, "%s,code=\"%ld\"", ul,
                     up[ids[j]].codes[c]);
            sample(&b, "oaibatch_upstream_requests_total", lab,
                   (double)up[ids[j]].code_n[c]);
        }
        if (up[ids[j]].other_codes) {
            snprintf(lab, sizeof lab, "%s,code=\"other\"", ul);
            sample(&b, "oaibatch_upstream_requests_total", lab,
                   (double)up[ids[j]].other_codes);
        }
    }
    head(&b, "oaibatch_upstream_request_duration_seconds", "histogram",
         "Time of upstream transfers, answered or not.");
    for (int j = 0; j < k; j++) {
        if (ids[j] == BUILTIN)
            continue; /* answered in process: no transfer */
        char ul[560];
        up_label(s, ids[j], ul, sizeof ul);
        unsigned long long cum = 0;
        for (int x = 0; x < N_BUCKETS; x++) {
            cum += up[ids[j]].hist[x];
            snprintf(lab, sizeof lab, "%s,le=\"%g\"", ul, BUCKETS[x]);
            sample(&b, "oaibatch_upstream_request_duration_seconds_bucket",
                   lab, (double)cum);
        }
        snprintf(lab, sizeof lab, "%s,le=\"+Inf\"", ul);
        sample(&b, "oaibatch_upstream_request_duration_seconds_bucket", lab,
               (double)up[ids[j]].hist_n);
        sample(&b, "oaibatch_upstream_request_duration_seconds_sum", ul,
               up[ids[j]].hist_sum);
        sample(&b, "oaibatch_upstream_request_duration_seconds_count", ul,
               (double)up[ids[j]].hist_n);
    }
    head(&b, "oaibatch_upstream_in_flight", "gauge",
         "Upstream requests in flight now.");
    for (int j = 0; j < k; j++) {
        char ul[560];
        up_label(s, ids[j], ul, sizeof ul);
        sample(&b, "oaibatch_upstream_in_flight", ul,
               (double)up[ids[j]].inflight);
    }
    head(&b, "oaibatch_upstream_concurrency_limit", "gauge",
         "The adaptive window of requests in flight of each upstream (1"
         " to --concurrency); the built-in model: --concurrency.");
    for (int j = 0; j < k; j++) {
        char ul[560];
        up_label(s, ids[j], ul, sizeof ul);
        sample(&b, "oaibatch_upstream_concurrency_limit", ul,
               ids[j] == BUILTIN
                   ? (double)s->cfg.concurrency
                   : (double)atomic_load(&s->up_window[ids[j]]));
    }
    /* webhooks */
    static const char *OUT[] = {"delivered", "failed_attempt", "given_up"};
    head(&b, "oaibatch_webhook_deliveries_total", "counter",
         "Webhook delivery attempts by outcome (since the server started).");
    for (int i = 0; i < 3; i++) {
        snprintf(lab, sizeof lab, "outcome=\"%s\"", OUT[i]);
        sample(&b, "oaibatch_webhook_deliveries_total", lab, (double)wh[i]);
    }
    head(&b, "oaibatch_webhook_pending", "gauge",
         "Webhook events not delivered yet and not given up.");
    sample(&b, "oaibatch_webhook_pending", NULL, (double)pending);

    if (oab__buf_putc(&b, '\0') != OAB_OK) {
        oab__buf_free(&b);
        return NULL;
    }
    return b.data;
}
