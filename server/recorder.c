/* recorder.c - shared state's finished lines recorded on their own
 * thread and connection (see recorder.h). */
#include "oaibatch.h"
#include "util/clock.h"
#include "recorder.h"
#include "srv.h"
#include "srv_limits.h"

#include <pthread.h>
#include <stdlib.h>

/* Backoff between tries of a group the database refused: 50 ms doubling
 * to 2 s (the connection's own reconnect backoff is 0.1 s to 2 s). */
#define REC_BACKOFF_MIN 0.05
#define REC_BACKOFF_MAX 2.0

struct srv_recorder {
    srv_db *db;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    srv_line_done *v;       /* the group in hand (n 0: idle) */
    size_t n, cap;
    int stop;
    /* the claim ahead: asked (1), answered (2), none (0) */
    int claim;
    long long c_seq, c_from;
    int c_max, c_n, c_rc;
    long long c_idx[SRV_PAGE], c_off[SRV_PAGE], c_len[SRV_PAGE];
    void (*wake)(void *ud);
    void *ud;
};

static void free_texts(srv_line_done *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free((char *)v[i].text);
        v[i].text = NULL;
    }
}

static void *rec_main(void *arg)
{
    srv_recorder *r = arg;
    double backoff = 0;
    pthread_mutex_lock(&r->mu);
    for (;;) {
        while (!r->n && r->claim != 1 && !r->stop)
            pthread_cond_wait(&r->cv, &r->mu);
        if (r->claim == 1 && !r->stop) {
            /* the claim first: the engine runs dry without it; the
             * answer's arrays are the engine's only once claim is 2 */
            long long seq = r->c_seq, from = r->c_from;
            int max = r->c_max, n = 0;
            pthread_mutex_unlock(&r->mu);
            int rc = srv_db_lines_pending(r->db, seq, from, max, r->c_idx,
                                          r->c_off, r->c_len, &n);
            pthread_mutex_lock(&r->mu);
            r->c_rc = rc;
            r->c_n = rc == SQLITE_OK ? n : 0;
            r->claim = 2;
            pthread_cond_broadcast(&r->cv);
            continue;
        }
        if (!r->n)
            break; /* stopping and idle */
        /* the engine touches the group only through give/pending, which
         * see n > 0 and leave it alone: it can be read unlocked */
        srv_line_done *v = r->v;
        size_t n = r->n;
        pthread_mutex_unlock(&r->mu);
        int rc = srv_db_lines_done(r->db, v, n);
        pthread_mutex_lock(&r->mu);
        if (rc == SQLITE_OK || r->stop) {
            free_texts(v, n);
            r->n = 0;
            backoff = 0;
            pthread_mutex_unlock(&r->mu);
            if (r->wake)
                r->wake(r->ud);
            pthread_mutex_lock(&r->mu);
            continue;
        }
        /* the database refused (logged): the lines stay pending under
         * this node's lease; the same group again after a while */
        backoff = backoff > 0 ? backoff * 2 : REC_BACKOFF_MIN;
        if (backoff > REC_BACKOFF_MAX)
            backoff = REC_BACKOFF_MAX;
        if (!r->stop && r->claim != 1) {
            struct timespec ts = oab__deadline_in(backoff);
            pthread_cond_timedwait(&r->cv, &r->mu, &ts);
        }
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

int srv_recorder_start(const srv_db *db, const char *node,
                       void (*wake)(void *ud), void *ud,
                       srv_recorder **out)
{
    *out = NULL;
    srv_recorder *r = calloc(1, sizeof *r);
    if (!r)
        return -1;
    r->wake = wake;
    r->ud = ud;
    if (srv_db_open_side(db, &r->db) != SQLITE_OK) {
        free(r);
        return -1;
    }
    if (srv_db_set_node(r->db, node, 0) != SQLITE_OK) {
        srv_db_close(r->db);
        free(r);
        return -1;
    }
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    if (pthread_create(&r->th, NULL, rec_main, r) != 0) {
        srv_log("cannot start the thread recording finished lines");
        pthread_cond_destroy(&r->cv);
        pthread_mutex_destroy(&r->mu);
        srv_db_close(r->db);
        free(r);
        return -1;
    }
    *out = r;
    return 0;
}

int srv_recorder_give(srv_recorder *r, srv_line_done **v, size_t *n,
                      size_t *cap)
{
    if (!*n)
        return 0;
    pthread_mutex_lock(&r->mu);
    if (r->n) {
        pthread_mutex_unlock(&r->mu);
        return 0;
    }
    srv_line_done *tv = r->v;
    size_t tcap = r->cap;
    r->v = *v;
    r->cap = *cap;
    r->n = *n;
    *v = tv;
    *cap = tcap;
    *n = 0;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    return 1;
}

size_t srv_recorder_pending(srv_recorder *r)
{
    pthread_mutex_lock(&r->mu);
    size_t n = r->n;
    pthread_mutex_unlock(&r->mu);
    return n;
}

int srv_recorder_claim_ask(srv_recorder *r, long long seq, long long from,
                           int max)
{
    if (max < 1 || max > SRV_PAGE)
        return 0;
    pthread_mutex_lock(&r->mu);
    int ok = r->claim == 0 && !r->stop;
    if (ok) {
        r->claim = 1;
        r->c_seq = seq;
        r->c_from = from;
        r->c_max = max;
        pthread_cond_broadcast(&r->cv);
    }
    pthread_mutex_unlock(&r->mu);
    return ok;
}

int srv_recorder_claim_for(srv_recorder *r, long long seq)
{
    pthread_mutex_lock(&r->mu);
    int yes = r->claim != 0 && r->c_seq == seq;
    pthread_mutex_unlock(&r->mu);
    return yes;
}

int srv_recorder_claim_take(srv_recorder *r, long long *idx, long long *off,
                            long long *len, int *n)
{
    *n = 0;
    pthread_mutex_lock(&r->mu);
    while (r->claim == 1 && !r->stop)
        pthread_cond_wait(&r->cv, &r->mu);
    int rc = SQLITE_MISUSE;
    if (r->claim == 2) {
        rc = r->c_rc;
        for (int i = 0; idx && off && len && i < r->c_n; i++) {
            idx[i] = r->c_idx[i];
            off[i] = r->c_off[i];
            len[i] = r->c_len[i];
        }
        *n = r->c_n;
    } else if (r->claim == 1)
        rc = SQLITE_ERROR; /* stopping: not claimed here */
    r->claim = 0;
    pthread_mutex_unlock(&r->mu);
    return rc;
}

void srv_recorder_stop(srv_recorder *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->mu);
    r->stop = 1;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->th, NULL);
    free_texts(r->v, r->n);
    free(r->v);
    srv_db_close(r->db);
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    free(r);
}
