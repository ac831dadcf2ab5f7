/* server.h - internals shared by the parts of the local server. */
#ifndef OAB_SERVER_H
#define OAB_SERVER_H

#include <cjson/cJSON.h>
#include "util/buf.h"
#include "util/compat.h"
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>

#define SRV_MAX_KEYS 16

typedef struct srv_config {
    const char *host;
    int port;
    const char *data_dir;
    const char *upstream;        /* base URL, or NULL for builtin:test */
    const char *upstreams[SRV_MAX_KEYS]; /* the pool (upstream = [0]) */
    int n_upstreams;
    const char *upstream_key;
    const char *api_keys[SRV_MAX_KEYS];
    int n_api_keys;
    int concurrency;
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
    int quiet;                   /* no per-request log lines */
} srv_config;

typedef struct srv {
    srv_config cfg;
    char *files_dir;
    sqlite3 *db;                 /* the HTTP side's connection */
    pthread_mutex_t db_lock;
    atomic_int stop;
    pthread_mutex_t wake_lock;
    pthread_cond_t wake;
    int wake_flag;
    atomic_ullong counter;       /* for the builtin's fail knob */
    atomic_ullong rr_upstream;   /* round robin over the pool */
    void *engine;                /* engine.c's state */
    pthread_t engine_thread;
} srv;

/* ---- logging (stderr, never a key) ---- */
void srv_log(const char *fmt, ...) OAB__PRINTF(1, 2);

/* ---- ids ---- */
void srv_random_id(char *out, size_t n, const char *prefix, size_t nrand);
/* A non-reversible tag of an API key ("" for none). out >= 17 bytes. */
void srv_owner_tag(const char *key, char *out);

/* ---- database (db.c) ---- */
int srv_db_open(const char *path, sqlite3 **out);
/* Runs SQL with no result; returns SQLITE_OK or the error. */
int srv_db_exec(sqlite3 *db, const char *sql);
/* Builds the JSON of a batch row; NULL if none (owner checked when not
 * NULL). */
cJSON *srv_batch_json(sqlite3 *db, const char *id, const char *owner);
cJSON *srv_file_json(sqlite3 *db, const char *id, const char *owner);
/* The path of a file's body ("files_dir/name"; new), or NULL when there
 * is no such file (for that owner, when owner is not NULL). */
char *srv_file_path(sqlite3 *db, const char *files_dir, const char *id,
                    const char *owner);

/* ---- engine (engine.c) ---- */
int srv_engine_start(srv *s);
void srv_engine_wake(srv *s);
void srv_engine_join(srv *s);

/* ---- http (http.c) ---- */
struct MHD_Daemon;
struct MHD_Daemon *srv_http_start(srv *s, int *port_out);

/* ---- built-in test model (testmodel.c) ---- */
typedef struct srv_usage {
    long long input_tokens, cached_tokens, output_tokens, reasoning_tokens;
} srv_usage;

/* Answers a request to `url` ("/v1/chat/completions", "/v1/responses",
 * "/v1/embeddings"). Returns the response body (new) and sets *status
 * (200, or 400/404 with an error body). */
cJSON *srv_tm_answer(const char *url, const cJSON *body, int *status);
/* Generates an instance valid for `schema` (root for $ref). New. */
cJSON *srv_tm_instance(const cJSON *schema, const cJSON *root);
/* Reads the usage block of a response body (chat, responses,
 * embeddings shapes). */
void srv_usage_from_body(const cJSON *body, srv_usage *u);
/* An OpenAI-shaped error body. New. */
cJSON *srv_error_body(const char *message, const char *type,
                      const char *param, const char *code);

/* Forwards one synchronous request upstream (blocking, with the retry
 * policy). *status gets the HTTP status, or 0 for a transport failure
 * (then resp holds a message). */
void srv_upstream_call(srv *s, const char *url, const char *body, size_t len,
                       long *status, oab__buf *resp);
/* Maximum nesting depth of a parsed JSON value. */
int srv_json_depth(const cJSON *v);
/* The builtin fail knob: 0, 429 or 500 for the next answer. */
int srv_fail_knob(srv *s);
#endif
