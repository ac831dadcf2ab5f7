/* webhook.c - batch end events: recorded in the deliveries table in the
 * transaction that ends the batch, then POSTed by a thread of its own
 * (one blocking curl handle; the engine never waits for a receiver),
 * signed the Standard Webhooks way, retried with exponential backoff
 * from the state (so a restart resends what was not delivered) and given
 * up after --webhook-give-up seconds. */
#include "oaibatch.h"
#include <cjson/cJSON.h>
#include "util/base64.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/sha256.h"
#include "util/str.h"
#include "db.h"
#include "metrics.h"
#include "webhook.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct wh {
    srv *s;
    oab__buf key;
    srv_db *db;              /* the thread's own connection */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int kick;
    long give_up;
} wh;

int srv_webhook_key(const char *secret, oab__buf *key)
{
    oab__buf_clear(key);
    if (!secret)
        return -1;
    if (!strncmp(secret, "whsec_", 6)) {
        if (oab__base64_decode(secret + 6, strlen(secret + 6), key) !=
            OAB_OK)
            return -1;
    } else if (oab__buf_append(key, secret, strlen(secret)) != OAB_OK) {
        return -1;
    }
    return key->len ? 0 : -1;
}

void srv_webhook_sign(const unsigned char *key, size_t klen, const char *id,
                      long long timestamp, const char *body, char *out,
                      size_t n)
{
    char *msg = oab__sprintf("%s.%lld.%s", id, timestamp, body);
    unsigned char mac[32];
    oab__buf b = OAB__BUF_INIT;
    if (msg) {
        oab__hmac_sha256(key, klen, msg, strlen(msg), mac);
        oab__base64_encode(mac, sizeof mac, &b);
    }
    snprintf(out, n, "v1,%s", b.data ? b.data : "");
    oab__buf_free(&b);
    free(msg);
}

int srv_webhook_enqueue(srv *s, srv_db *db, const char *batch_id,
                        const char *type)
{
    if (s->cfg.n_webhook_urls == 0)
        return SQLITE_OK;
    char evt[40], msg[40];
    srv_random_id(evt, sizeof evt, "evt_", 24);
    srv_random_id(msg, sizeof msg, "wh_", 24);
    long long now = oab__unix_now();
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "object", "event");
    cJSON_AddStringToObject(o, "id", evt);
    cJSON_AddStringToObject(o, "type", type);
    cJSON_AddNumberToObject(o, "created_at", (double)now);
    cJSON *d = cJSON_AddObjectToObject(o, "data");
    if (d)
        cJSON_AddStringToObject(d, "id", batch_id);
    char *body = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!body)
        return SQLITE_NOMEM;
    int rc = SQLITE_OK;
    for (int i = 0; rc == SQLITE_OK && i < s->cfg.n_webhook_urls; i++)
        rc = srv_db_delivery_insert(db, evt, msg, s->cfg.webhook_urls[i],
                                    body, now);
    free(body);
    wh *w = s->webhook;
    if (w && rc == SQLITE_OK) {
        pthread_mutex_lock(&w->lock);
        w->kick = 1;
        pthread_cond_signal(&w->cond);
        pthread_mutex_unlock(&w->lock);
    }
    return rc;
}

static size_t discard(char *p, size_t sz, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return sz * n;
}

static int on_progress(void *ud, curl_off_t a, curl_off_t b, curl_off_t c,
                       curl_off_t d)
{
    (void)a;
    (void)b;
    (void)c;
    (void)d;
    srv *s = ud;
    return atomic_load(&s->stop) ? 1 : 0;
}

/* One POST; the HTTP status, or 0 when there was no answer. */
static long post(wh *w, const srv_delivery *d)
{
    long long ts = oab__unix_now();
    char sig[80];
    srv_webhook_sign((const unsigned char *)w->key.data, w->key.len,
                     d->msg_id, ts, d->body, sig, sizeof sig);
    char *h[4] = {oab__sprintf("webhook-id: %s", d->msg_id),
                  oab__sprintf("webhook-timestamp: %lld", ts),
                  oab__sprintf("webhook-signature: %s", sig),
                  oab__strdup("Content-Type: application/json")};
    struct curl_slist *hl = NULL;
    long status = 0;
    CURL *c = curl_easy_init();
    int ok = c != NULL;
    for (int i = 0; i < 4; i++) {
        struct curl_slist *t = h[i] ? curl_slist_append(hl, h[i]) : NULL;
        if (!t)
            ok = 0;
        else
            hl = t;
    }
    if (ok) {
        curl_easy_setopt(c, CURLOPT_URL, d->url);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, d->body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)strlen(d->body));
        curl_easy_setopt(c, CURLOPT_USERAGENT, "oaibatch-serve-webhooks");
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)SRV_WEBHOOK_TIMEOUT_S);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, w->s);
        if (curl_easy_perform(c) == CURLE_OK)
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    }
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    for (int i = 0; i < 4; i++)
        free(h[i]);
    return status;
}

static const char *type_of(const char *body, char *out, size_t n)
{
    const char *p = strstr(body, "\"type\":\"");
    size_t k = p ? strcspn(p + 8, "\"") : 0;
    snprintf(out, n, "%.*s", (int)k, p ? p + 8 : "");
    return out;
}

/* Handles the delivery due first; returns the seconds to wait before
 * looking again. */
static double step(wh *w)
{
    srv_delivery d;
    int rc = srv_db_delivery_next(w->db, &d);
    if (rc != SQLITE_ROW)
        return 1.0;
    double now = (double)oab__unix_now();
    if (d.next_at > now) {
        double wait = d.next_at - now;
        srv_db_delivery_clear(&d);
        return wait < 1.0 ? wait : 1.0;
    }
    char url[512], type[64];
    srv_url_label(d.url, url, sizeof url);
    type_of(d.body, type, sizeof type);
    double deadline = (double)(d.created_at + w->give_up);
    if (now >= deadline) {
        if (srv_db_delivery_update(w->db, d.seq, 2, d.attempts, d.next_at,
                                   d.last_status) == SQLITE_OK) {
            srv_metrics_webhook(SRV_WH_GIVEN_UP);
            srv_log("webhook %s (%s) to %s: given up after %lld attempt%s"
                    " in %ld s (last: %s%lld)",
                    d.event_id, type, url, d.attempts,
                    d.attempts == 1 ? "" : "s", w->give_up,
                    d.last_status ? "HTTP " : "no answer, status ",
                    d.last_status);
        }
        srv_db_delivery_clear(&d);
        return 0;
    }
    long status = post(w, &d);
    long long attempts = d.attempts + 1;
    if (status >= 200 && status < 300) {
        if (srv_db_delivery_update(w->db, d.seq, 1, attempts, now, status) ==
            SQLITE_OK) {
            srv_metrics_webhook(SRV_WH_DELIVERED);
            srv_log("webhook %s (%s) to %s: delivered (HTTP %ld, attempt"
                    " %lld)", d.event_id, type, url, status, attempts);
        }
    } else if (!atomic_load(&w->s->stop)) {
        double delay = SRV_WEBHOOK_RETRY_BASE_S;
        for (long long i = 1; i < attempts && delay < 3600; i++)
            delay *= 2;
        if (delay > 3600)
            delay = 3600;
        double next = now + delay;
        if (next > deadline)
            next = deadline;
        if (srv_db_delivery_update(w->db, d.seq, 0, attempts, next,
                                   status) == SQLITE_OK) {
            srv_metrics_webhook(SRV_WH_FAILED_ATTEMPT);
            char what[32];
            if (status)
                snprintf(what, sizeof what, "HTTP %ld", status);
            else
                snprintf(what, sizeof what, "no answer");
            srv_log("webhook %s (%s) to %s: %s on attempt %lld; next in"
                    " %.0f s", d.event_id, type, url, what, attempts,
                    next - now);
        }
    }
    srv_db_delivery_clear(&d);
    return 0;
}

static void *wh_main(void *arg)
{
    wh *w = arg;
    long long n = 0;
    if (srv_db_deliveries_pending(w->db, &n) == SQLITE_OK && n > 0)
        srv_log("webhooks: %lld undelivered event%s from before; resending",
                n, n == 1 ? "" : "s");
    while (!atomic_load(&w->s->stop)) {
        double wait = step(w);
        if (wait <= 0)
            continue;
        if (wait > 0.25)
            wait = 0.25; /* s->stop is a flag, not a signal */
        struct timespec ts = oab__deadline_in(wait);
        pthread_mutex_lock(&w->lock);
        if (!w->kick)
            pthread_cond_timedwait(&w->cond, &w->lock, &ts);
        w->kick = 0;
        pthread_mutex_unlock(&w->lock);
    }
    return NULL;
}

int srv_webhook_start(srv *s)
{
    srv_config *c = &s->cfg;
    if (c->n_webhook_urls == 0)
        return 0;
    const char *secret = c->webhook_secret ? c->webhook_secret
                                           : getenv(SRV_WEBHOOK_SECRET_ENV);
    wh *w = calloc(1, sizeof *w);
    if (!w)
        return -1;
    w->s = s;
    w->give_up = c->webhook_give_up_s > 0 ? c->webhook_give_up_s
                                          : SRV_WEBHOOK_GIVE_UP_S;
    if (!secret || !*secret) {
        srv_log("--webhook-url needs --webhook-secret or $%s",
                SRV_WEBHOOK_SECRET_ENV);
        free(w);
        return -1;
    }
    if (srv_webhook_key(secret, &w->key) != 0) {
        srv_log("the webhook secret is not whsec_ followed by base64");
        oab__buf_free(&w->key);
        free(w);
        return -1;
    }
    char *path = srv_db_where(c->db_url, c->data_dir);
    int rc = path ? srv_db_open(path, &w->db) : SQLITE_NOMEM;
    free(path);
    /* shared state: a delivery this thread posts is its node's, held
     * while the node lives (the engine renews it), as its lines are */
    char *node = rc == SQLITE_OK ? srv_node_name(c) : NULL;
    if (rc == SQLITE_OK)
        rc = node ? srv_db_set_node(w->db, node, 0) : SQLITE_NOMEM;
    free(node);
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cond, NULL);
    if (rc != SQLITE_OK ||
        pthread_create(&w->thread, NULL, wh_main, w) != 0) {
        srv_log("cannot start the webhook delivery");
        srv_db_close(w->db);
        pthread_mutex_destroy(&w->lock);
        pthread_cond_destroy(&w->cond);
        oab__buf_free(&w->key);
        free(w);
        return -1;
    }
    s->webhook = w;
    for (int i = 0; i < c->n_webhook_urls; i++) {
        char url[512];
        srv_url_label(c->webhook_urls[i], url, sizeof url);
        srv_log("webhooks to %s (given up after %ld s)", url, w->give_up);
    }
    return 0;
}

void srv_webhook_join(srv *s)
{
    wh *w = s->webhook;
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->kick = 1;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    srv_db_close(w->db);
    w->db = NULL;
}

void srv_webhook_free(srv *s)
{
    wh *w = s->webhook;
    if (!w)
        return;
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->cond);
    memset(w->key.data, 0, w->key.len);
    oab__buf_free(&w->key);
    free(w);
    s->webhook = NULL;
}
