/* lease.c - a node's heartbeat on shared state (see lease.h). */
#include "oaibatch.h"
#include "lease.h"
#include "srv.h"
#include "util/clock.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

/* The stall limit in renewal periods (a third of a lease each). */
#define LEASE_STALL_PERIODS 60

struct srv_lease {
    srv_db *db;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
    atomic_llong tick_ms;  /* the engine's last turn, monotonic ms */
};

static long long now_ms(void)
{
    return (long long)(oab__now() * 1000.0);
}

void srv_lease_tick(srv_lease *l)
{
    if (l)
        atomic_store_explicit(&l->tick_ms, now_ms(), memory_order_relaxed);
}

/* Seconds the engine may go without a turn before its node's leases are
 * let go: OAB_PG_STALL_S (tests), else LEASE_STALL_PERIODS renewal
 * periods. */
static double stall_limit(double every)
{
    const char *v = getenv("OAB_PG_STALL_S");
    double d = v ? strtod(v, NULL) : 0;
    return d >= 1 ? d : LEASE_STALL_PERIODS * (every > 0 ? every : 10);
}

static void *lease_main(void *arg)
{
    srv_lease *l = arg;
    double every = 0;
    srv_db_renew(l->db, &every); /* just for the period: set_node renewed */
    double wait = every > 0 ? every : 1;
    double limit = stall_limit(every);
    int stalled = 0;
    pthread_mutex_lock(&l->mu);
    while (!l->stop) {
        struct timespec ts = oab__deadline_in_mono(wait);
        pthread_cond_timedwait(&l->cv, &l->mu, &ts);
        if (l->stop)
            break;
        pthread_mutex_unlock(&l->mu);
        double idle = (double)(now_ms() - atomic_load_explicit(
                           &l->tick_ms, memory_order_relaxed)) / 1000.0;
        if (idle > limit) {
            /* a stuck engine: no renewal, its work goes to other nodes */
            if (!stalled)
                srv_log("the engine has not gone on for %.0f s: this "
                        "node's leases are no longer renewed, so other "
                        "nodes take its lines and finalizations", idle);
            stalled = 1;
            wait = 1;
            pthread_mutex_lock(&l->mu);
            continue;
        }
        if (stalled)
            srv_log("the engine goes on again: this node's leases are "
                    "renewed again");
        stalled = 0;
        /* a renewal the database refused (logged by the connection) is
         * tried again within a second, not a third of a lease later:
         * a failover of a few seconds lapses no node */
        int rc = srv_db_renew(l->db, &every);
        wait = rc != SQLITE_OK ? 1 : every > 0 ? every : 1;
        pthread_mutex_lock(&l->mu);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

int srv_lease_start(const srv_db *db, const char *node, srv_lease **out)
{
    *out = NULL;
    srv_lease *l = calloc(1, sizeof *l);
    if (!l)
        return -1;
    if (srv_db_open_side(db, &l->db) != SQLITE_OK) {
        free(l);
        return -1;
    }
    if (srv_db_set_node(l->db, node, 0) != SQLITE_OK) {
        srv_db_close(l->db);
        free(l);
        return -1;
    }
    atomic_init(&l->tick_ms, now_ms());
    pthread_mutex_init(&l->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&l->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&l->th, NULL, lease_main, l) != 0) {
        srv_log("cannot start the thread renewing the node's leases");
        pthread_cond_destroy(&l->cv);
        pthread_mutex_destroy(&l->mu);
        srv_db_close(l->db);
        free(l);
        return -1;
    }
    *out = l;
    return 0;
}

void srv_lease_stop(srv_lease *l)
{
    if (!l)
        return;
    pthread_mutex_lock(&l->mu);
    l->stop = 1;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->th, NULL);
    srv_db_close(l->db);
    pthread_cond_destroy(&l->cv);
    pthread_mutex_destroy(&l->mu);
    free(l);
}
