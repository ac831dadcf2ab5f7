/* db.h - the server's SQLite state (db.c): the schema, JSON views of
 * rows, and one function per statement the front end and the engine run.
 * Every function returns SQLITE_OK (or SQLITE_ROW/SQLITE_DONE where
 * said) or the SQLite error, which it has also logged. */
#ifndef OAB_SERVER_DB_H
#define OAB_SERVER_DB_H

#include <cjson/cJSON.h>
#include <sqlite3.h>

/* Opens (creating) the state file and its tables. */
int srv_db_open(const char *path, sqlite3 **out);
/* Runs SQL with no result. */
int srv_db_exec(sqlite3 *db, const char *sql);
int srv_db_begin(sqlite3 *db);   /* BEGIN IMMEDIATE */
int srv_db_commit(sqlite3 *db);  /* COMMIT, or ROLLBACK when it fails */
void srv_db_rollback(sqlite3 *db);

/* ---- views (NULL when there is no such row, for that owner when owner
 * is not NULL) ---- */
cJSON *srv_batch_json(sqlite3 *db, const char *id, const char *owner);
cJSON *srv_file_json(sqlite3 *db, const char *id, const char *owner);
/* The path of a file's body ("files_dir/name"; new). */
char *srv_file_path(sqlite3 *db, const char *files_dir, const char *id,
                    const char *owner);

/* A page of a list (files or batches of owner, newest first unless
 * asc; purpose filters files; after an id of the same owner): the
 * objects are added to the array data; *has_more 1 when more follow. */
int srv_db_list(sqlite3 *db, int batches, const char *owner,
                const char *purpose, const char *after, int asc, long limit,
                cJSON *data, int *has_more);

/* ---- files ---- */
int srv_db_file_insert(sqlite3 *db, const char *id, const char *owner,
                       const char *purpose, const char *filename,
                       long long bytes, long long created_at,
                       const char *path, long long expires_at /* 0: none */);
/* *deleted gets 1 when a row went. */
int srv_db_file_delete(sqlite3 *db, const char *id, const char *owner,
                       int *deleted);

/* Up to max files whose expires_at has passed, to fn (id, stored name);
 * fn non-zero stops. */
int srv_db_files_expired(sqlite3 *db, long long now, int max,
                         int (*fn)(const char *id, const char *path,
                                   void *ud),
                         void *ud);
/* Removes a file row whatever its owner (the sweeper). */
int srv_db_file_remove(sqlite3 *db, const char *id);

/* ---- batches ---- */
int srv_db_batch_insert(sqlite3 *db, const char *id, const char *owner,
                        const char *endpoint, const char *input_file_id,
                        const char *window, long long created_at,
                        long long expires_at, const char *metadata,
                        long long out_expires /* seconds, 0: none */);
/* validating / in_progress -> cancelling; *changed 1 when it did. */
int srv_db_batch_cancel(sqlite3 *db, const char *id, long long now,
                        int *changed);
int srv_db_batch_failed(sqlite3 *db, long long seq, long long now,
                        const char *errors_json);
int srv_db_batch_started(sqlite3 *db, long long seq, long long total,
                         const char *model, long long now);
int srv_db_batch_finalizing(sqlite3 *db, long long seq, long long now);
/* kind 0 completed, 1 cancelled, 2 expired; file ids NULL when none. */
int srv_db_batch_ended(sqlite3 *db, long long seq, int kind, long long now,
                       const char *out_id, const char *err_id,
                       long long out_bytes, long long err_bytes);
/* The committed spool lengths and output_expires_after seconds. */
int srv_db_batch_spools(sqlite3 *db, long long seq, long long *out_bytes,
                        long long *err_bytes, long long *out_expires);
int srv_db_batch_set_spools(sqlite3 *db, long long seq, long long out_bytes,
                            long long err_bytes);

/* The active batches (validating, in_progress, finalizing, cancelling),
 * all of them, in seq order, to fn; fn returning non-zero stops. */
typedef struct srv_active_row {
    long long seq, created_at, expires_at, out_bytes, err_bytes;
    const char *id, *status, *endpoint, *input_file_id, *owner;
    const char *priority;        /* metadata.priority, or NULL */
} srv_active_row;
int srv_db_active(sqlite3 *db, int (*fn)(const srv_active_row *, void *),
                  void *ud);

/* ---- lines of a batch ---- */
int srv_db_lines_delete(sqlite3 *db, long long seq);
/* An insert statement for srv_db_line_insert (finalize it). */
int srv_db_line_stmt(sqlite3 *db, sqlite3_stmt **out);
int srv_db_line_insert(sqlite3_stmt *ins, long long seq, long long idx,
                       const char *custom_id, long long off, long long len);
/* Up to max pending lines at idx >= from; *n gets how many. */
int srv_db_lines_pending(sqlite3 *db, long long seq, long long from, int max,
                         long long *idx, long long *off, long long *len,
                         int *n);
/* A finished line to record. */
typedef struct srv_line_done {
    long long seq, idx;
    int state;              /* 1 ok, 2 error */
    long long in, cached, out, reasoning; /* its usage */
} srv_line_done;
/* Records n finished lines (inside the caller's transaction): each row
 * still pending goes 0 -> state, and its batch's counts and usage grow;
 * rows already done are left alone (exactly once). Two statements,
 * prepared once for all n. */
int srv_db_lines_done(sqlite3 *db, const srv_line_done *d, size_t n);
/* The custom_ids of unfinished lines, in order, to fn. */
int srv_db_lines_unfinished(sqlite3 *db, long long seq,
                            int (*fn)(const char *custom_id, void *ud),
                            void *ud);

/* ---- metrics and webhooks (metrics.c, webhook.c) ---- */
/* Batches grouped by endpoint and status, to fn (fn non-zero stops). */
typedef struct srv_batch_stat {
    const char *endpoint, *status;
    long long batches, total, completed, failed;
    long long input_tokens, output_tokens;
} srv_batch_stat;
int srv_db_batch_stats(sqlite3 *db,
                       int (*fn)(const srv_batch_stat *, void *), void *ud);
/* Creates the webhook deliveries table when missing. */
int srv_db_deliveries_init(sqlite3 *db);
/* One event to deliver to url (inside the caller's transaction). */
int srv_db_delivery_insert(sqlite3 *db, const char *event_id,
                           const char *msg_id, const char *url,
                           const char *body, long long created_at);
/* The undelivered event due first; SQLITE_ROW with *out filled (its
 * strings new: free with srv_db_delivery_clear), SQLITE_DONE when none. */
typedef struct srv_delivery {
    long long seq, created_at, attempts, last_status;
    double next_at;
    char *event_id, *msg_id, *url, *body;
} srv_delivery;
int srv_db_delivery_next(sqlite3 *db, srv_delivery *out);
void srv_db_delivery_clear(srv_delivery *d);
/* state: 0 pending (tried again at next_at), 1 delivered, 2 given up. */
int srv_db_delivery_update(sqlite3 *db, long long seq, int state,
                           long long attempts, double next_at,
                           long long last_status);
/* How many events are pending. */
int srv_db_deliveries_pending(sqlite3 *db, long long *n);

/* ---- the enqueued-token limit (serve --enqueued-token-limit) ---- */
/* Adds batches.enqueued_tokens (the input tokens counted at validation;
 * 0 for batches validated without the limit) when missing. */
int srv_db_enqueued_init(sqlite3 *db);
/* The input tokens of owner's batches of `model` that are validating,
 * in_progress or finalizing, other than batch `seq`, into *sum. */
int srv_db_enqueued_sum(sqlite3 *db, const char *owner, const char *model,
                        long long seq, long long *sum);
/* Records a batch's counted input tokens. */
int srv_db_batch_set_enqueued(sqlite3 *db, long long seq, long long tokens);

/* ---- Anthropic batches (anthropic_api.c) ----
 * An Anthropic batch is a batches row (owned by the key's Anthropic
 * owner tag) plus one row of anth_batches: how many requests it had and
 * how many were refused at create time (their errored results are in
 * the file refused_path, in Anthropic's result shape). */
/* Creates the table anth_batches when missing. */
int srv_db_anth_init(sqlite3 *db);
int srv_db_anth_insert(sqlite3 *db, const char *batch_id, long long n_requests,
                       long long n_refused, const char *refused_path);
/* SQLITE_ROW with the fields (*refused_path new, may be NULL), or
 * SQLITE_DONE when the batch has no such row. */
int srv_db_anth_get(sqlite3 *db, const char *batch_id, long long *n_requests,
                    long long *n_refused, char **refused_path);
/* Removes the batch's batches, lines and anth_batches rows (inside the
 * caller's transaction); its files are the caller's to remove. */
int srv_db_anth_delete(sqlite3 *db, const char *batch_id);

/* ---- a batch's lines, GET /v1/batches/{id}/lines (batchlines.c) ---- */
/* A batch's row seq (-1 when there is no such batch) and the committed
 * lengths of its output and error spools. */
int srv_db_batch_seq_spools(sqlite3 *db, const char *id, long long *seq,
                            long long *out_bytes, long long *err_bytes);
/* The lines of batch seq not finished yet (state 0: waiting or in
 * flight) with idx > after, in order, at most max (< 0: no limit), to
 * fn (custom_id borrowed for the call; fn non-zero stops). */
int srv_db_lines_waiting(sqlite3 *db, long long seq, long long after,
                         int max,
                         int (*fn)(long long idx, const char *custom_id,
                                   void *ud),
                         void *ud);

#endif
