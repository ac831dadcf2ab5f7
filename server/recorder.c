/* recorder.c - shared state's finished lines recorded on their own
 * thread and connection (see recorder.h). */
#include "recorder.h"
#include "srv.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

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

static void wait_for(srv_recorder *r, double secs)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long long ns = (long long)ts.tv_nsec + (long long)(secs * 1e9);
    ts.tv_sec += (time_t)(ns / 1000000000LL);
    ts.tv_nsec = (long)(ns % 1000000000LL);
    pthread_cond_timedwait(&r->cv, &r->mu, &ts);
}

static void *rec_main(void *arg)
{
    srv_recorder *r = arg;
    double backoff = 0;
    pthread_mutex_lock(&r->mu);
    for (;;) {
        while (!r->n && !r->stop)
            pthread_cond_wait(&r->cv, &r->mu);
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
        if (!r->stop)
            wait_for(r, backoff);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

int srv_recorder_start(const char *where, const char *node,
                       void (*wake)(void *ud), void *ud,
                       srv_recorder **out)
{
    *out = NULL;
    srv_recorder *r = calloc(1, sizeof *r);
    if (!r)
        return -1;
    r->wake = wake;
    r->ud = ud;
    if (srv_db_open(where, &r->db) != SQLITE_OK) {
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
    pthread_cond_signal(&r->cv);
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

void srv_recorder_stop(srv_recorder *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->mu);
    r->stop = 1;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->th, NULL);
    free_texts(r->v, r->n);
    free(r->v);
    srv_db_close(r->db);
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    free(r);
}
