/* srv.h - the server object and configuration shared by the server's
 * modules, and the helpers of serve.c (log lines, ids, the fail knob). */
#ifndef OAB_SERVER_SRV_H
#define OAB_SERVER_SRV_H

#include "util/clock.h"
#include "util/compat.h"
#include "srv_limits.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

typedef struct srv_config {
    const char *host;
    int port;
    const char *data_dir;
    const char *db_url;          /* --db (or $OAB_DB): PostgreSQL, or NULL */
    const char *upstream;        /* base URL, or NULL for builtin:test */
    const char *upstreams[SRV_MAX_KEYS]; /* the pool (upstream = [0]) */
    int n_upstreams;
    int upstream_weights[SRV_MAX_KEYS]; /* --upstream-weight; 0 means 1 */
    const char *upstream_key;
    const char *api_keys[SRV_MAX_KEYS];
    int n_api_keys;
    int concurrency;             /* cap of each upstream's window */
    long rpm, tpm;
    long window_seconds;         /* 0: the window as given (24h) */
    long latency_ms;
    double fail_429, fail_500;   /* shares of answers the builtin fails */
    const char *port_file;
    unsigned long long max_file_bytes;
    size_t max_json_bytes;
    int max_json_depth;
    long upstream_timeout_ms;
    int max_retries;
    long retry_base_ms;
    unsigned conn_timeout_s;     /* idle / slow-header timeout */
    unsigned conns_per_ip;       /* open connections per client address */
    unsigned long long body_budget; /* JSON bodies buffered at once */
    int quiet;                   /* no per-request log lines */
    int fixed_window;            /* windows stay at --concurrency */
    long long enqueued_token_limit; /* per key and model; 0: none */
    double latency_tolerance;    /* --latency-tolerance; 0 = no latency cut */
    long stop_grace_s;           /* --stop-grace: how long requests in
                                    flight of a batch cancelled or expired
                                    may still answer; -1: the default */
    /* webhooks (webhook.c) and metrics (metrics.c) */
#define SRV_MAX_WEBHOOKS 8
    const char *webhook_urls[SRV_MAX_WEBHOOKS];
    int n_webhook_urls;
    const char *webhook_secret;  /* NULL: $OAB_WEBHOOK_SECRET */
    long webhook_give_up_s;      /* 0: SRV_WEBHOOK_GIVE_UP_S */
    int metrics_public;          /* GET /metrics without a key */
    /* --allow-host: names a server with no keys answers to besides
     * addresses and localhost (srv_host_allowed) */
    const char *allowed_hosts[SRV_MAX_KEYS];
    int n_allowed_hosts;
} srv_config;

typedef struct srv {
    srv_config cfg;
    char *files_dir;
    struct srv_db *db;           /* the HTTP side's connection */
    pthread_mutex_t db_lock;
    atomic_int stop;
    pthread_mutex_t wake_lock;
    pthread_cond_t wake;
    int wake_flag;
    atomic_ullong counter;       /* for the builtin's fail knob */
    atomic_ullong rr_upstream;   /* round robin over the pool */
    atomic_int up_window[SRV_MAX_KEYS]; /* adaptive windows (metrics) */
    atomic_ullong body_bytes;    /* JSON body bytes buffered now */
    void *engine;                /* engine.c's state */
    pthread_t engine_thread;
    void *webhook;               /* webhook.c's state */
} srv;

/* A log line on stderr (never a key). */
void srv_log(const char *fmt, ...) OAB__PRINTF(1, 2);
/* srv_log at most once per `secs` seconds from one call site, so a
 * failure retried many times a second (a full disk) does not flood the
 * log; the lines left out are counted in the next one. One thread per
 * call site (the engine's). */
#define SRV_LOG_EVERY(secs, ...)                                          \
    do {                                                                  \
        static double last_;                                              \
        static unsigned long skipped_;                                    \
        double now_ = oab__now();                                         \
        if (last_ == 0 || now_ - last_ >= (secs)) {                       \
            if (skipped_)                                                 \
                srv_log("(the next line repeated %lu times)", skipped_); \
            skipped_ = 0;                                                 \
            last_ = now_;                                                 \
            srv_log(__VA_ARGS__);                                         \
        } else {                                                          \
            skipped_++;                                                   \
        }                                                                 \
    } while (0)

/* Long work on the state from the HTTP side (a file's body going in):
 * shared state gets a connection of its own (*side), so the node's other
 * API calls do not wait for it; SQLite gets s->db with s->db_lock held.
 * NULL (nothing held) when no connection could be made. End with
 * srv_long_db_end. */
struct srv_db *srv_long_db_begin(srv *s, struct srv_db **side);
/* Ends srv_long_db_begin: closes the side connection; returns with
 * s->db_lock held either way (the caller reads s->db next, then
 * unlocks). */
void srv_long_db_end(srv *s, struct srv_db *side);

/* This server's name as a node of shared state: its host, its data
 * folder (one server at a time holds a folder) and the folder's random
 * node id (DATA/node-id, made at the first start), the same on every
 * start and different on two machines of one host name and path. New
 * string, NULL when out of memory. */
char *srv_node_name(const srv_config *c);
/* prefix + nrand random characters of [A-Za-z0-9] into out (n bytes). */
void srv_random_id(char *out, size_t n, const char *prefix, size_t nrand);
/* A non-reversible tag of an API key ("" for none). out >= 17 bytes. */
void srv_owner_tag(const char *key, char *out);
/* A batch's metadata.priority: "high", "normal" (NULL too) and "low";
 * -1 for anything else. */
enum { SRV_PRIO_HIGH, SRV_PRIO_NORMAL, SRV_PRIO_LOW };
int srv_priority(const char *v);
/* The builtin fail knob: 0, 429 or 500 for the next answer. */
int srv_fail_knob(srv *s);

#endif
