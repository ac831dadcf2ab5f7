/* upstream.c - the client of the upstream model servers (libcurl): the
 * pool's round robin, a transfer's setup (headers, timeouts, the bounded
 * body and the Retry-After / x-request-id headers it collects), the
 * retry delay, and the synchronous forwarding of the front end. */
#include "oaibatch.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/str.h"
#include "upstream.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

void srv_xfer_reset(srv_xfer *x)
{
    oab__buf_clear(&x->resp);
    x->retry_after = -1;
    x->request_id[0] = '\0';
}

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    srv_xfer *x = ud;
    size_t len = sz * n;
    if (x->resp.len + len > SRV_MAX_RESP_BYTES)
        return 0;
    if (oab__buf_append(&x->resp, p, len) != OAB_OK)
        return 0;
    return len;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
    srv_xfer *x = ud;
    size_t len = sz * n;
    if (len > 12 && !strncasecmp(p, "retry-after:", 12)) {
        double v = strtod(p + 12, NULL);
        if (v >= 0)
            x->retry_after = v;
    } else if (len > 15 && !strncasecmp(p, "retry-after-ms:", 15)) {
        double v = strtod(p + 15, NULL);
        if (v >= 0)
            x->retry_after = v / 1000.0;
    } else if (len > 13 && !strncasecmp(p, "x-request-id:", 13)) {
        const char *v = p + 13;
        while (*v == ' ')
            v++;
        size_t k = 0;
        while (k + 1 < sizeof x->request_id && v + k < p + len &&
               v[k] != '\r' && v[k] != '\n')
            k++;
        memcpy(x->request_id, v, k);
        x->request_id[k] = '\0';
    }
    return len;
}

/* The weight of upstream k (--upstream-weight, 1 when not given). */
static int weight_of(const srv *s, int k)
{
    int w = s->cfg.upstream_weights[k];
    return w > 0 ? w : 1;
}

char *srv_upstream_url(srv *s, const char *path)
{
    int total = 0;
    for (int k = 0; k < s->cfg.n_upstreams; k++)
        total += weight_of(s, k);
    unsigned long long r = atomic_fetch_add(&s->rr_upstream, 1) %
                           (unsigned long long)total;
    int k = 0;
    while (r >= (unsigned long long)weight_of(s, k))
        r -= (unsigned long long)weight_of(s, k++);
    return srv_upstream_url_at(s, k, path);
}

char *srv_upstream_url_at(srv *s, int k, const char *path)
{
    const char *base = s->cfg.upstreams[k];
    size_t bl = strlen(base);
    while (bl && base[bl - 1] == '/')
        bl--;
    if (!strncmp(path, "/v1/", 4))
        path += 3;
    return oab__sprintf("%.*s%s", (int)bl, base, path);
}

CURL *srv_upstream_easy(srv *s, const char *url, const char *body,
                        size_t len, struct curl_slist **hdrs, srv_xfer *x)
{
    CURL *h = curl_easy_init();
    if (!h)
        return NULL;
    *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    *hdrs = curl_slist_append(*hdrs, "Expect:");
    if (s->cfg.upstream_key) {
        char *a = oab__sprintf("Authorization: Bearer %s", s->cfg.upstream_key);
        *hdrs = curl_slist_append(*hdrs, a);
        free(a);
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, *hdrs);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, s->cfg.upstream_timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "oaibatch-serve/" OAB_VERSION_STRING);
    return h;
}

void srv_pool_init(srv *s, srv_upstate *u, int n)
{
    int wmax = 1;
    for (int k = 0; k < n; k++)
        if (weight_of(s, k) > wmax)
            wmax = weight_of(s, k);
    for (int k = 0; k < n; k++) {
        memset(&u[k], 0, sizeof u[k]);
        u[k].weight = weight_of(s, k);
        /* the cap shares --concurrency by weight, rounded up */
        long long cap = ((long long)s->cfg.concurrency * u[k].weight +
                         wmax - 1) / wmax;
        u[k].cap = cap < 1 ? 1 : (int)cap;
        double w = SRV_WINDOW_START;
        if (w > u[k].cap || s->cfg.fixed_window)
            w = u[k].cap;
        u[k].window = w;
        u[k].slow = !s->cfg.fixed_window;
        u[k].probe_delay = SRV_UP_PROBE_FIRST;
        atomic_store(&s->up_window[k], (int)w);
    }
}

int srv_pool_pick(srv *s, srv_upstate *u, int n, double now)
{
    (void)s;
    int best = -1, total = 0;
    for (int k = 0; k < n; k++) {
        srv_upstate *c = &u[k];
        if (c->paused_until > now)
            continue;
        if (c->out_until > 0 ? (now < c->out_until || c->inflight > 0)
                             : c->inflight >= (int)c->window)
            continue;
        /* smooth weighted round robin among those with room */
        c->wrr += c->weight;
        total += c->weight;
        if (best < 0 || c->wrr > u[best].wrr)
            best = k;
    }
    if (best >= 0)
        u[best].wrr -= total;
    return best;
}

/* Folds one round trip into c's smoothed latency and its baseline;
 * returns 1 when the latency is past tolerance x the baseline (never when
 * tolerance is 0, nor during the first SRV_LAT_WARMUP answers). The
 * first baseline is the mean of those first answers, which were all sent
 * at about the start window (so a slow start that has already gone past
 * the knee cannot raise it); it starts the sliding minimum of the
 * smoothed latency over the last one to two periods, which then follows
 * the upstream. In slow start one round trip is enough (the EWMA lags
 * the growing window by some 20 answers); after it, the smoothed latency
 * is compared. */
static int latency_high(srv_upstate *c, double tolerance, double rtt,
                        double now)
{
    c->srtt = c->samples ? c->srtt + SRV_LAT_ALPHA * (rtt - c->srtt) : rtt;
    if (c->samples < SRV_LAT_WARMUP) {
        c->first_sum += rtt;
        if (++c->samples == SRV_LAT_WARMUP) {
            c->srtt = c->first_sum / SRV_LAT_WARMUP;
            c->base_cur = c->base_prev = c->srtt;
            c->base_since = now;
        }
        return 0;
    }
    c->samples++;
    if (now - c->base_since >= SRV_LAT_PERIOD) {
        c->base_prev = c->base_cur;
        c->base_cur = c->srtt;
        c->base_since = now;
    } else if (c->srtt < c->base_cur) {
        c->base_cur = c->srtt;
    }
    double base = c->base_cur < c->base_prev ? c->base_cur : c->base_prev;
    double seen = c->slow ? rtt : c->srtt;
    return tolerance > 0 && base > 0 && seen > tolerance * base &&
           seen - base > SRV_LAT_MIN_RISE;
}

void srv_pool_outcome(srv *s, srv_upstate *u, int k, enum srv_outcome o,
                      double retry_after, double started, double now)
{
    srv_upstate *c = &u[k];
    if (o == SRV_OUT_FAIL) {
        c->fails++;
        if (c->out_until > 0 || c->fails >= SRV_UP_FAILS_OUT) {
            if (c->out_until == 0)
                srv_log("upstream %d: %d failures in a row; out of the pool,"
                        " probed in %.0f s", k, c->fails, c->probe_delay);
            c->out_until = now + c->probe_delay;
            c->probe_delay *= 2;
            if (c->probe_delay > SRV_UP_PROBE_MAX)
                c->probe_delay = SRV_UP_PROBE_MAX;
        }
        return;
    }
    if (c->out_until > 0) {
        srv_log("upstream %d: answered the probe; back in the pool", k);
        c->out_until = 0;
        c->probe_delay = SRV_UP_PROBE_FIRST;
    }
    c->fails = 0;
    int high = o == SRV_OUT_OK && latency_high(c, s->cfg.latency_tolerance,
                                                 now - started, now);
    if (s->cfg.fixed_window) {
        /* no adaptation */
    } else if (o == SRV_OUT_OK && !(high && started >= c->last_cut)) {
        c->window += c->slow ? SRV_SLOW_START_STEP : 1.0 / c->window;
        if (c->window > c->cap)
            c->window = c->cap;
    } else if (started >= c->last_cut) {
        /* an overload halves; rising latency cuts less */
        c->window *= o == SRV_OUT_OK ? SRV_LAT_DECREASE : 0.5;
        if (c->window < 1)
            c->window = 1;
        c->last_cut = now;
        c->slow = 0; /* slow start ends at the first cut */
    }
    if (o != SRV_OUT_OK) {
        if (retry_after > 0 && now + retry_after > c->paused_until)
            c->paused_until = now + (retry_after > 60 ? 60 : retry_after);
    }
    atomic_store(&s->up_window[k], (int)c->window);
}

double srv_upstream_backoff(const srv *s, const srv_xfer *x, int attempt)
{
    double delay = (double)s->cfg.retry_base_ms / 1000.0 *
                   (double)(1u << (attempt > 10 ? 10 : attempt));
    if (x->retry_after >= 0)
        delay = x->retry_after;
    return delay > 60 ? 60 : delay;
}

static int sync_progress(void *ud, curl_off_t a, curl_off_t b, curl_off_t c,
                         curl_off_t d)
{
    srv *s = ud;
    (void)a;
    (void)b;
    (void)c;
    (void)d;
    return atomic_load(&s->stop) ? 1 : 0;
}

void srv_upstream_call(srv *s, const char *path, const char *body,
                       size_t len, long *status, oab__buf *resp)
{
    char *url = NULL;
    srv_xfer x;
    memset(&x, 0, sizeof x);
    *status = 0;
    for (int attempt = 0;; attempt++) {
        srv_xfer_reset(&x);
        free(url);
        url = srv_upstream_url(s, path); /* the next one of the pool */
        struct curl_slist *hdrs = NULL;
        CURL *h = srv_upstream_easy(s, url, body ? body : "", len, &hdrs, &x);
        if (h) {
            curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
            curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, sync_progress);
            curl_easy_setopt(h, CURLOPT_XFERINFODATA, s);
        }
        CURLcode res = h ? curl_easy_perform(h) : CURLE_FAILED_INIT;
        long st = 0;
        if (res == CURLE_OK)
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st);
        curl_easy_cleanup(h);
        curl_slist_free_all(hdrs);
        int retry = (res != CURLE_OK || st == 429 || st >= 500) &&
                    attempt < s->cfg.max_retries && !atomic_load(&s->stop);
        if (!retry) {
            *status = st;
            oab__buf_clear(resp);
            if (res != CURLE_OK)
                oab__buf_puts(resp, curl_easy_strerror(res));
            else
                oab__buf_append(resp, x.resp.data ? x.resp.data : "",
                                x.resp.len);
            break;
        }
        oab__sleep(srv_upstream_backoff(s, &x, attempt));
    }
    oab__buf_free(&x.resp);
    free(url);
}
