/* db.h - the server's state behind one interface (db.c): the schema,
 * JSON views of rows, and one function per statement the front end and
 * the engine run. Two implementations: SQLite (db.c, the embedded
 * default) and PostgreSQL (db_pg.c, for several nodes sharing one
 * queue); a handle holds either, and callers never know which.
 * Every function returns SQLITE_OK (or SQLITE_ROW/SQLITE_DONE where
 * said) or an error code (the SQLite one, SQLITE_ERROR or SQLITE_NOMEM
 * for PostgreSQL), which it has also logged. */
#ifndef OAB_SERVER_DB_H
#define OAB_SERVER_DB_H

#include <cjson/cJSON.h>
#include <sqlite3.h> /* the result codes */

/* A connection to the state (opaque): SQLite or PostgreSQL. One thread
 * at a time uses a handle. */
typedef struct srv_db srv_db;

/* Opens (creating) the state and its tables: where is a PostgreSQL URL
 * (postgresql://... or postgres://...) or the path of a SQLite file.
 * PostgreSQL's schema is created and migrated under an advisory lock,
 * its version kept in the table oab_schema. *out: free with
 * srv_db_close. */
int srv_db_open(const char *where, srv_db **out);
void srv_db_close(srv_db *db);
/* A connection of its own to the same shared state (PostgreSQL; no
 * schema work: db's open did it), for long work such as storing a file's
 * body, which then holds no lock the caller keeps db under. Reads only
 * what db's open set, so it needs no lock. *out: free with
 * srv_db_close. SQLITE_MISUSE for SQLite (one file: use db). */
int srv_db_open_side(const srv_db *db, srv_db **out);
/* Where a server's state is: its --db URL (or $OAB_DB), else
 * data_dir/state.sqlite. New string (NULL: out of memory). */
char *srv_db_where(const char *db_url, const char *data_dir);
/* 1 when where names PostgreSQL. */
int srv_db_is_pg(const char *where);
/* 1 when several servers may share this state (PostgreSQL): finished
 * lines are then kept in the database (srv_line_done.text), not in the
 * node's spools, lines are claimed under a lease, and one node
 * finalizes a batch (srv_db_batch_claim_final). */
int srv_db_shared(srv_db *db);
/* Names the node holding this handle's claims (shared state): the same
 * name on every start of one server (its host and data folder, which
 * one server at a time holds), so a restarted node takes back at once
 * the claims its previous run left; they are released here when release
 * is 1 (the engine's handle, at start; 0 for a second handle of the same
 * node, whose claims are the first one's). The node is marked live (its
 * lease renewed) before this returns, so no other node takes what this
 * handle claims next (the delivery thread starts before the engine's
 * first scan). Without a name a handle has a random one. SQLite:
 * nothing. */
int srv_db_set_node(srv_db *db, const char *node, int release);
/* The node (db's name) stops: its lines' claims lapse now, for any
 * other node to take (they lapse after the lease when it is killed).
 * Call when nothing of it records any more. SQLite: nothing. */
int srv_db_node_leave(srv_db *db);
/* Renews the leases of the node db names (srv_db_set_node): its row in
 * nodes, which its lines' and webhook attempts' claims hang on, and its
 * finalizer claims of batches still running. *every gets the seconds
 * until the next renewal is due (a third of the lease). The node's
 * lease thread (lease.h) calls it on a connection of its own, so that no
 * long statement of the engine's (a big batch's finalization, its
 * validation's COPY) lets the lease lapse while the node is alive.
 * SQLite: nothing (*every 0). */
int srv_db_renew(srv_db *db, double *every);
/* Runs SQL with no result (SQL both backends accept). */
int srv_db_exec(srv_db *db, const char *sql);
int srv_db_begin(srv_db *db);   /* BEGIN IMMEDIATE */
int srv_db_commit(srv_db *db);  /* COMMIT, or ROLLBACK when it fails */
void srv_db_rollback(srv_db *db);

/* ---- views (NULL when there is no such row, for that owner when owner
 * is not NULL, or when the lookup failed: srv_db_failed tells) ---- */
/* 1 when the last lookup on db (a view, srv_file_path, srv_db_anth_get)
 * failed in the database (a lost connection, a server that refused it)
 * rather than finding nothing: its object may well exist, and the API
 * answers 500, never 404 (a client must not take it for gone). Read it
 * under the lock the lookup ran under, before the next statement. */
int srv_db_failed(const srv_db *db);
cJSON *srv_batch_json(srv_db *db, const char *id, const char *owner);
cJSON *srv_file_json(srv_db *db, const char *id, const char *owner);
/* The path of a file's body ("files_dir/name"; new), NULL when there
 * is no such file (of owner). Shared state: this node may have no copy
 * of it yet (another node took the upload): srv_file_local brings it
 * before the body is read. */
char *srv_file_path(srv_db *db, const char *files_dir, const char *id,
                    const char *owner);
/* Makes sure file id's body is at path (from srv_file_path). Shared
 * state: a node without a copy fetches it from the database, on a
 * connection of its own (reads only what db's open set: call it with no
 * lock held, so the node's other API calls do not wait for the bytes),
 * into a temporary name renamed to path. 0, -1 (could not be fetched
 * now: a later call may succeed; logged) or -2 (the stored body is
 * damaged, its chunks do not add up to the file's size: no later call
 * succeeds; logged). SQLite: 0 (the body is there or the file is gone:
 * opening path tells). */
int srv_file_local(const srv_db *db, const char *id, const char *path);

/* A page of a list (files or batches of owner, newest first unless
 * asc; purpose filters files; after an id of the same owner): the
 * objects are added to the array data; *has_more 1 when more follow. */
int srv_db_list(srv_db *db, int batches, const char *owner,
                const char *purpose, const char *after, int asc, long limit,
                cJSON *data, int *has_more);

/* ---- files ---- */
int srv_db_file_insert(srv_db *db, const char *id, const char *owner,
                       const char *purpose, const char *filename,
                       long long bytes, long long created_at,
                       const char *path, long long expires_at /* 0: none */);
/* Copies the body of file id (at path, its local copy) into the shared
 * state, streamed in chunks, inside the caller's transaction, so every
 * node can serve it (srv_file_path fetches it into files_dir when the
 * node has no copy). Nothing to do for SQLite. */
int srv_db_file_store(srv_db *db, const char *id, const char *path);
/* *deleted gets 1 when a row went. */
int srv_db_file_delete(srv_db *db, const char *id, const char *owner,
                       int *deleted);
/* Which of the n file ids have a files row, whatever its expiry:
 * known[i] gets 1 or 0 (n at most SRV_KNOWN_MAX; an id is made of
 * letters, digits, '-' and '_', as srv_random_id makes them). Every body
 * whose stored name starts with "file-" is stored under its file's id
 * (uploads, every body on shared state, Anthropic inputs), so a name of
 * that form in the files folder with no row is a body nobody names.
 * Shared state only (there the folder is a cache, whose copies serve
 * removes at start when no row names them; a SQLite node's folder holds
 * the only copy of each body): SQLITE_OK, or the error (known then says
 * nothing); SQLite: SQLITE_MISUSE. */
#define SRV_KNOWN_MAX 256
int srv_db_files_known(srv_db *db, const char *const *ids, int n,
                       unsigned char *known);

/* Copies in other nodes' data folders (shared state). A node keeps a
 * copy of each file it stored or served in its files folder; a file's
 * row deleted (srv_db_file_delete, srv_db_file_remove) also records its
 * stored name as gone, in the same transaction, and srv_db_local_gone
 * records the name of a node's cache of something deleted (an Anthropic
 * batch's results). Each node reads the names gone since it last
 * looked (srv_db_gone_since) and removes its copies. SQLite (one node,
 * which removes its own): nothing recorded, nothing read, SQLITE_OK. */
int srv_db_local_gone(srv_db *db, const char *name);
/* The names recorded gone after position *from (0: from the first
 * kept), up to max, in order, to fn (non-zero stops); *from moves past
 * each one given (the next page starts there). Names are recorded in
 * transactions that commit in any order, so a name can become visible
 * behind one read already: *settled moves past a name only when it was
 * recorded more than SRV_GONE_SETTLE_S seconds ago and every name before
 * it did too (call with *settled == *from; the next sweep starts again
 * at *settled, so the newest names are given again, and a late commit
 * is seen). */
int srv_db_gone_since(srv_db *db, long long *from, long long *settled,
                      int max, int (*fn)(const char *name, void *ud),
                      void *ud);
/* Forgets the names recorded more than keep_s seconds ago (a node down
 * longer than that keeps its copies of them). */
int srv_db_gone_forget(srv_db *db, long long keep_s);
/* Forgets where the files deleted before now - keep_s were in the list
 * (GET /files?after= one of them then lists nothing, as for any id
 * unknown). */
int srv_db_cursors_forget(srv_db *db, long long now, long long keep_s);

/* Up to max files whose expires_at has passed, to fn (id, stored name);
 * fn non-zero stops. */
int srv_db_files_expired(srv_db *db, long long now, int max,
                         int (*fn)(const char *id, const char *path,
                                   void *ud),
                         void *ud);
/* Removes a file row whatever its owner (the sweeper). */
int srv_db_file_remove(srv_db *db, const char *id);

/* ---- batches ---- */
int srv_db_batch_insert(srv_db *db, const char *id, const char *owner,
                        const char *endpoint, const char *input_file_id,
                        const char *window, long long created_at,
                        long long expires_at, const char *metadata,
                        long long out_expires /* seconds, 0: none */);
/* validating / in_progress -> cancelling; *changed 1 when it did. */
int srv_db_batch_cancel(srv_db *db, const char *id, long long now,
                        int *changed);
/* Validation refused the batch's file: validating -> failed, with the
 * errors (*failed 1). A batch cancelled before it was validated
 * (cancelling) keeps its status and gets the errors (*failed 0): it ends
 * cancelled (with no line), and its errors say why none could have run.
 * Shared state: SQLITE_BUSY when it is neither (another node's
 * validation ended it). */
int srv_db_batch_failed(srv_db *db, long long seq, long long now,
                        const char *errors_json, int *failed);
int srv_db_batch_started(srv_db *db, long long seq, long long total,
                         const char *model, long long now);
/* in_progress -> finalizing. Shared state: only by the node holding the
 * finalizer's claim and only while the batch is in_progress or
 * finalizing, else SQLITE_BUSY (its claim lapsed and another node took
 * it, or ended the batch: this node leaves it). */
int srv_db_batch_finalizing(srv_db *db, long long seq, long long now);
/* kind 0 completed, 1 cancelled, 2 expired; file ids NULL when none.
 * Shared state: fenced like srv_db_batch_finalizing (kind 1 needs the
 * batch cancelling, the others in_progress or finalizing), SQLITE_BUSY
 * when the fence stops it. failed: lines to add to the failed count (the
 * unfinished lines of a completed batch, line_unavailable in its error
 * file: a completed batch's counts add up to its total; a cancelled or
 * expired one counts only the lines that ran). */
int srv_db_batch_ended(srv_db *db, long long seq, int kind, long long now,
                       const char *out_id, const char *err_id,
                       long long out_bytes, long long err_bytes,
                       long long failed);
/* Whether this node finalizes batch seq, as kind (0 completed: every
 * line done, or the batch finalizing already; 1 cancelled; 2 expired, by
 * the database's clock): *won 1
 * for exactly one node at a time (a lease, taken over when it lapses);
 * after it no node records a line of the batch. SQLite: always 1. */
int srv_db_batch_claim_final(srv_db *db, long long seq, int kind, int *won);
/* Shared state: writes the recorded results of batch seq (k 0 the
 * output lines, 1 the error lines), in line order, to fd from offset 0
 * (cut there first), streamed; *len gets their bytes. SQLite: nothing
 * (the spools hold them; *len unchanged). */
int srv_db_results_write(srv_db *db, long long seq, int k, int fd,
                         long long *len);
/* The committed spool lengths and output_expires_after seconds. */
int srv_db_batch_spools(srv_db *db, long long seq, long long *out_bytes,
                        long long *err_bytes, long long *out_expires);
int srv_db_batch_set_spools(srv_db *db, long long seq, long long out_bytes,
                            long long err_bytes);

/* The active batches (validating, in_progress, finalizing, cancelling),
 * all of them, in seq order, to fn; fn returning non-zero stops. */
typedef struct srv_active_row {
    long long seq, created_at, expires_at, out_bytes, err_bytes;
    const char *id, *status, *endpoint, *input_file_id, *owner;
    const char *priority;        /* metadata.priority, or NULL */
    int validated;               /* its lines are recorded (in_progress_at) */
} srv_active_row;
int srv_db_active(srv_db *db, int (*fn)(const srv_active_row *, void *),
                  void *ud);

/* ---- lines of a batch ---- */
int srv_db_lines_delete(srv_db *db, long long seq);
/* An insert of many lines for srv_db_line_insert (a prepared statement,
 * or a COPY for PostgreSQL: nothing else runs on db until it is
 * finished); srv_db_stmt_finish ends it and says whether every line
 * went in. Inside the caller's transaction. */
typedef struct srv_db_stmt srv_db_stmt;
int srv_db_line_stmt(srv_db *db, srv_db_stmt **out);
int srv_db_line_insert(srv_db_stmt *ins, long long seq, long long idx,
                       const char *custom_id, long long off, long long len);
int srv_db_stmt_finish(srv_db_stmt *ins);
/* Up to max pending lines at idx >= from; *n gets how many. Shared
 * state: the lines are claimed by this node under a lease (FOR UPDATE
 * SKIP LOCKED; lines leased to a live node are not pending), renewed
 * while the node runs (srv_db_active), taken over by another node when
 * it lapses. */
int srv_db_lines_pending(srv_db *db, long long seq, long long from, int max,
                         long long *idx, long long *off, long long *len,
                         int *n);
/* The message of a line_unavailable error line: the line's input could
 * not be read (engine.c writes it on SQLite, the database on shared
 * state). No quote or backslash: it stands as is in JSON and in SQL. */
#define SRV_LINE_UNAVAILABLE_MSG \
    "The input line could not be read (input file removed?)."
/* A finished line to record. */
typedef struct srv_line_done {
    long long seq, idx;
    int state;              /* 1 ok, 2 error */
    long long in, cached, out, reasoning; /* its usage */
    const char *text;       /* shared state: its output/error line (no
                             * newline; NULL: its input could not be
                             * read, the database writes its error line,
                             * line_unavailable); else NULL */
    size_t len;
} srv_line_done;
/* Records n finished lines (inside the caller's transaction): each row
 * still pending goes 0 -> state, and its batch's counts and usage grow;
 * rows already done are left alone (exactly once). Two statements,
 * prepared once for all n. Shared state: with the line's text, in one
 * statement, and only for lines this node still holds the lease of, of
 * batches still running (fencing: a node whose claim was taken, or a
 * batch being finalized, records nothing). */
int srv_db_lines_done(srv_db *db, const srv_line_done *d, size_t n);
/* The custom_ids of unfinished lines, in order, to fn. */
int srv_db_lines_unfinished(srv_db *db, long long seq,
                            int (*fn)(const char *custom_id, void *ud),
                            void *ud);

/* ---- metrics and webhooks (metrics.c, webhook.c) ---- */
/* Batches grouped by endpoint and status, to fn (fn non-zero stops). */
typedef struct srv_batch_stat {
    const char *endpoint, *status;
    long long batches, total, completed, failed;
    long long input_tokens, output_tokens;
} srv_batch_stat;
int srv_db_batch_stats(srv_db *db,
                       int (*fn)(const srv_batch_stat *, void *), void *ud);
/* Webhook deliveries (their table is part of the schema, made at open). */
/* One event to deliver to url (inside the caller's transaction). */
int srv_db_delivery_insert(srv_db *db, const char *event_id,
                           const char *msg_id, const char *url,
                           const char *body, long long created_at);
/* The undelivered event due first; SQLITE_ROW with *out filled (its
 * strings new: free with srv_db_delivery_clear), SQLITE_DONE when none.
 * Shared state: only an event due now that no other node is posting,
 * and it is this handle's until srv_db_delivery_update (a lease of
 * 120 s, so an event is posted by one node, or again by another only
 * when the first died mid-attempt). */
typedef struct srv_delivery {
    long long seq, created_at, attempts, last_status;
    double next_at;
    char *event_id, *msg_id, *url, *body;
} srv_delivery;
int srv_db_delivery_next(srv_db *db, srv_delivery *out);
void srv_db_delivery_clear(srv_delivery *d);
/* state: 0 pending (tried again at next_at), 1 delivered, 2 given up.
 * Shared state: the lease of srv_db_delivery_next ends. */
int srv_db_delivery_update(srv_db *db, long long seq, int state,
                           long long attempts, double next_at,
                           long long last_status);
/* How many events are pending. */
int srv_db_deliveries_pending(srv_db *db, long long *n);

/* ---- the enqueued-token limit (serve --enqueued-token-limit) ---- */
/* The input tokens of owner's batches of `model` that are validating,
 * in_progress or finalizing, other than batch `seq`, into *sum. */
int srv_db_enqueued_sum(srv_db *db, const char *owner, const char *model,
                        long long seq, long long *sum);
/* Records a batch's counted input tokens. */
int srv_db_batch_set_enqueued(srv_db *db, long long seq, long long tokens);

/* ---- Anthropic batches (anthropic_api.c) ----
 * An Anthropic batch is a batches row (owned by the key's Anthropic
 * owner tag) plus one row of anth_batches: how many requests it had and
 * how many were refused at create time (their errored results are in
 * the file whose id is refused_path, in Anthropic's result shape, a
 * file row of the batch's owner so that every node has it). */
int srv_db_anth_insert(srv_db *db, const char *batch_id, long long n_requests,
                       long long n_refused, const char *refused_path);
/* SQLITE_ROW with the fields (*refused_path new, may be NULL), or
 * SQLITE_DONE when the batch has no such row. */
int srv_db_anth_get(srv_db *db, const char *batch_id, long long *n_requests,
                    long long *n_refused, char **refused_path);
/* Removes the batch's batches, lines and anth_batches rows (inside the
 * caller's transaction); its files are the caller's to remove. */
int srv_db_anth_delete(srv_db *db, const char *batch_id);

/* ---- a batch's lines, GET /v1/batches/{id}/lines (batchlines.c) ---- */
/* A batch's row seq (-1 when there is no such batch) and the committed
 * lengths of its output and error spools. */
int srv_db_batch_seq_spools(srv_db *db, const char *id, long long *seq,
                            long long *out_bytes, long long *err_bytes);
/* The lines of batch seq not finished yet (state 0: waiting or in
 * flight) with idx > after, in order, at most max (< 0: no limit), only
 * those whose custom_id contains match (NULL: all), to fn (custom_id
 * borrowed for the call; fn non-zero stops). */
int srv_db_lines_waiting(srv_db *db, long long seq, long long after,
                         int max, const char *match,
                         int (*fn)(long long idx, const char *custom_id,
                                   void *ud),
                         void *ud);

/* ---- one snapshot of a running batch's lines (batchlines.c) ---- */
/* Starts a read-only transaction whose statements all see one snapshot
 * (SQLite: BEGIN; PostgreSQL: REPEATABLE READ, READ ONLY, since its
 * default gives each statement its own); end it with srv_db_commit. */
int srv_db_begin_read(srv_db *db);
/* Shared state: the recorded results of batch seq before it ends (k 0
 * its output lines, 1 its error lines) with idx > after, in idx order,
 * at most max (< 0: no limit), only those whose custom_id contains match
 * (NULL: all), to fn (the line without its newline, borrowed for the
 * call; fn non-zero stops), one row in memory at a time. SQLite: none
 * (its spools hold them). */
int srv_db_results_lines(srv_db *db, long long seq, int k, long long after,
                         int max, const char *match,
                         int (*fn)(long long idx, const char *line,
                                   size_t len, void *ud),
                         void *ud);

/* ---- one node validates a batch (engine.c) ---- */
/* Inside the caller's transaction, before it records a batch's lines:
 * *won 1 when batch seq was never validated (validating, or cancelled
 * before its validation: its lines are still to be recorded) and no
 * other node is validating it (PostgreSQL: its row is locked until the
 * transaction ends, so a second node skips it, then finds it
 * validated) or finalizing it (a cancelled batch another node holds
 * with srv_db_batch_claim_final), else 0: leave it. */
int srv_db_batch_take_validation(srv_db *db, long long seq, int *won);

#endif
