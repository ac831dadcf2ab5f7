/* db_int.h - what db.c (the interface and its SQLite implementation) and
 * db_pg.c (its PostgreSQL implementation) share: the handle, the row
 * reader the JSON views are built from, and the PostgreSQL functions
 * db.c dispatches to. Nothing else includes it. */
#ifndef OAB_SERVER_DB_INT_H
#define OAB_SERVER_DB_INT_H

#include "db.h"

struct pg_conn; /* libpq's PGconn */

struct srv_db {
    sqlite3 *lite;          /* SQLite, or NULL */
    struct pg_conn *pg;     /* PostgreSQL, or NULL */
    char *url;              /* PostgreSQL: the URL, to reconnect */
    int in_tx;              /* PostgreSQL: inside BEGIN .. COMMIT */
    int tx_lost;            /* PostgreSQL: the connection broke in it */
    int reconnect;          /* PostgreSQL: connect again before the next
                             * statement (1: the connection failed without
                             * libpq seeing it closed; 2: the server is
                             * read-only now, a standby or switched over) */
    double retry_at;        /* PostgreSQL: next reconnect attempt */
    double backoff;         /* PostgreSQL: seconds until the next one */
    double log_at;          /* PostgreSQL: last failure logged */
    unsigned prepared;      /* PostgreSQL: statements prepared on this
                             * connection (bit i: db_pg.c's PS_ i) */
    char node[256];         /* PostgreSQL: this handle's lease holder */
    unsigned long log_skipped; /* failures not logged since */
    int failed;             /* the last lookup failed (srv_db_failed) */
};

struct srv_db_stmt {
    srv_db *h;
    sqlite3_stmt *st;       /* SQLite */
    int bad;                /* PostgreSQL: a COPY row failed */
    char *buf;              /* PostgreSQL: COPY rows not sent yet */
    size_t len, cap;
};

/* One result row, read by column: text NULL for SQL NULL, i64 0 then. */
typedef struct srv_row {
    const char *(*text)(const struct srv_row *, int col);
    long long (*i64)(const struct srv_row *, int col);
    void *p;
    int row;
} srv_row;

/* The columns of the views, in the order they read them. */
#define SRV_BATCH_COLS                                                     \
    "id, endpoint, model, input_file_id, completion_window,"              \
    " status, output_file_id, error_file_id, created_at,"                 \
    " in_progress_at, expires_at, finalizing_at, completed_at,"           \
    " failed_at, expired_at, cancelling_at, cancelled_at, total,"         \
    " n_completed, n_failed, input_tokens, cached_tokens,"                \
    " output_tokens, reasoning_tokens, metadata, errors, owner"
#define SRV_FILE_COLS                                                      \
    "id, bytes, created_at, expires_at, filename, purpose, owner"
/* A row of SRV_BATCH_COLS / SRV_FILE_COLS as the API object (NULL when
 * owner is given and not the row's). */
cJSON *srv__batch_view(const srv_row *r, const char *owner);
cJSON *srv__file_view(const srv_row *r, const char *owner);

/* ---- PostgreSQL (db_pg.c): each as its srv_db_ namesake ---- */
int srv_pg_open(srv_db *h, const char *url);
int srv_pg_open_side(const srv_db *h, srv_db *side);
int srv_pg_file_local(const srv_db *h, const char *id, const char *path);
void srv_pg_close(srv_db *h);
int srv_pg_exec(srv_db *h, const char *sql);
int srv_pg_begin(srv_db *h);
int srv_pg_commit(srv_db *h);
void srv_pg_rollback(srv_db *h);
cJSON *srv_pg_batch_json(srv_db *h, const char *id, const char *owner);
cJSON *srv_pg_file_json(srv_db *h, const char *id, const char *owner);
char *srv_pg_file_path(srv_db *h, const char *files_dir, const char *id,
                       const char *owner);
int srv_pg_list(srv_db *h, int batches, const char *owner,
                const char *purpose, const char *after, int asc, long limit,
                cJSON *data, int *has_more);
int srv_pg_file_insert(srv_db *h, const char *id, const char *owner,
                       const char *purpose, const char *filename,
                       long long bytes, long long created_at,
                       const char *path, long long expires_at);
int srv_pg_file_delete(srv_db *h, const char *id, const char *owner,
                       int *deleted);
int srv_pg_files_known(srv_db *h, const char *const *ids, int n,
                       unsigned char *known);
int srv_pg_files_expired(srv_db *h, long long now, int max,
                         int (*fn)(const char *id, const char *path,
                                   void *ud),
                         void *ud);
int srv_pg_file_remove(srv_db *h, const char *id);
int srv_pg_local_gone(srv_db *h, const char *name);
int srv_pg_node_leave(srv_db *h);
int srv_pg_renew(srv_db *h, double *every);
int srv_pg_gone_since(srv_db *h, long long *from, long long *settled,
                      int max, int (*fn)(const char *name, void *ud),
                      void *ud);
int srv_pg_gone_forget(srv_db *h, long long keep_s);
int srv_pg_cursors_forget(srv_db *h, long long now, long long keep_s);
int srv_pg_batch_insert(srv_db *h, const char *id, const char *owner,
                        const char *endpoint, const char *input_file_id,
                        const char *window, long long created_at,
                        long long expires_at, const char *metadata,
                        long long out_expires);
int srv_pg_batch_cancel(srv_db *h, const char *id, long long now,
                        int *changed);
int srv_pg_batch_failed(srv_db *h, long long seq, long long now,
                        const char *errors_json, int *failed);
int srv_pg_batch_started(srv_db *h, long long seq, long long total,
                         const char *model, long long now);
int srv_pg_batch_finalizing(srv_db *h, long long seq, long long now);
int srv_pg_batch_ended(srv_db *h, long long seq, int kind, long long now,
                       const char *out_id, const char *err_id,
                       long long out_bytes, long long err_bytes,
                       long long failed);
int srv_pg_batch_spools(srv_db *h, long long seq, long long *out_bytes,
                        long long *err_bytes, long long *out_expires);
int srv_pg_batch_set_spools(srv_db *h, long long seq, long long out_bytes,
                            long long err_bytes);
int srv_pg_active(srv_db *h, int (*fn)(const srv_active_row *, void *),
                  void *ud);
int srv_pg_lines_delete(srv_db *h, long long seq);
int srv_pg_line_stmt(srv_db_stmt *s);
int srv_pg_line_insert(srv_db_stmt *s, long long seq, long long idx,
                       const char *custom_id, long long off, long long len);
int srv_pg_stmt_finish(srv_db_stmt *s);
int srv_pg_lines_pending(srv_db *h, long long seq, long long from, int max,
                         long long *idx, long long *off, long long *len,
                         int *n);
int srv_pg_lines_done(srv_db *h, const srv_line_done *d, size_t n);
int srv_pg_lines_unfinished(srv_db *h, long long seq,
                            int (*fn)(const char *custom_id, void *ud),
                            void *ud);
int srv_pg_batch_stats(srv_db *h, int (*fn)(const srv_batch_stat *, void *),
                       void *ud);
int srv_pg_delivery_insert(srv_db *h, const char *event_id,
                           const char *msg_id, const char *url,
                           const char *body, long long created_at);
int srv_pg_delivery_next(srv_db *h, srv_delivery *out);
int srv_pg_delivery_update(srv_db *h, long long seq, int state,
                           long long attempts, double next_at,
                           long long last_status);
int srv_pg_deliveries_pending(srv_db *h, long long *n);
int srv_pg_set_node(srv_db *h, const char *node, int release);
int srv_pg_file_store(srv_db *h, const char *id, const char *path);
int srv_pg_batch_claim_final(srv_db *h, long long seq, int kind, int *won);
int srv_pg_results_write(srv_db *h, long long seq, int k, int fd,
                         long long *len);

/* the enqueued-token limit, Anthropic's batches, a batch's lines */
int srv_pg_enqueued_sum(srv_db *h, const char *owner, const char *model,
                        long long seq, long long *sum);
int srv_pg_batch_set_enqueued(srv_db *h, long long seq, long long tokens);
int srv_pg_anth_insert(srv_db *h, const char *batch_id, long long n_requests,
                       long long n_refused, const char *refused_path);
int srv_pg_anth_get(srv_db *h, const char *batch_id, long long *n_requests,
                    long long *n_refused, char **refused_path);
int srv_pg_anth_delete(srv_db *h, const char *batch_id);
int srv_pg_batch_seq_spools(srv_db *h, const char *id, long long *seq,
                            long long *out_bytes, long long *err_bytes);
int srv_pg_lines_waiting(srv_db *h, long long seq, long long after, int max,
                         const char *match,
                         int (*fn)(long long idx, const char *custom_id,
                                   void *ud),
                         void *ud);

/* one snapshot of a running batch's lines */
int srv_pg_begin_read(srv_db *h);
int srv_pg_results_lines(srv_db *h, long long seq, int k, long long after,
                         int max, const char *match,
                         int (*fn)(long long idx, const char *line,
                                   size_t len, void *ud),
                         void *ud);

int srv_pg_batch_take_validation(srv_db *h, long long seq, int *won);

#endif
