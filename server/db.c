/* db.c - the server's SQLite state: the schema, JSON views of rows, and
 * every statement the front end and the engine run, each checked: an
 * error is logged and returned. */
#include "oaibatch.h"
#include <cjson/cJSON.h>
#include "util/str.h"
#include "db.h"
#include "db_int.h"
#include "srv.h"

#include <stdlib.h>
#include <string.h>

static const char *SCHEMA =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS files("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL,"
    " owner TEXT NOT NULL, purpose TEXT, filename TEXT, bytes INTEGER,"
    " created_at INTEGER, expires_at INTEGER, path TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS batches("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL,"
    " owner TEXT NOT NULL, endpoint TEXT, model TEXT, input_file_id TEXT,"
    " completion_window TEXT, status TEXT NOT NULL, output_file_id TEXT,"
    " error_file_id TEXT, created_at INTEGER, in_progress_at INTEGER,"
    " expires_at INTEGER, finalizing_at INTEGER, completed_at INTEGER,"
    " failed_at INTEGER, expired_at INTEGER, cancelling_at INTEGER,"
    " cancelled_at INTEGER, total INTEGER DEFAULT 0,"
    " n_completed INTEGER DEFAULT 0, n_failed INTEGER DEFAULT 0,"
    " input_tokens INTEGER DEFAULT 0, cached_tokens INTEGER DEFAULT 0,"
    " output_tokens INTEGER DEFAULT 0, reasoning_tokens INTEGER DEFAULT 0,"
    " metadata TEXT, errors TEXT, input_path TEXT,"
    " out_bytes INTEGER DEFAULT 0, err_bytes INTEGER DEFAULT 0,"
    " out_expires INTEGER DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS lines("
    " batch_seq INTEGER NOT NULL, idx INTEGER NOT NULL, custom_id TEXT,"
    " off INTEGER, len INTEGER, state INTEGER DEFAULT 0,"
    " PRIMARY KEY(batch_seq, idx)) WITHOUT ROWID;"
    /* Anthropic's batches (anthropic_api.c) */
    "CREATE TABLE IF NOT EXISTS anth_batches("
    " batch_id TEXT PRIMARY KEY, n_requests INTEGER,"
    " n_refused INTEGER, refused_path TEXT);"
    /* webhook deliveries (webhook.c), kept until delivered or given up */
    "CREATE TABLE IF NOT EXISTS deliveries("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL,"
    " msg_id TEXT NOT NULL, url TEXT NOT NULL, body TEXT NOT NULL,"
    " created_at INTEGER NOT NULL, next_at REAL NOT NULL,"
    " attempts INTEGER DEFAULT 0, state INTEGER DEFAULT 0,"
    " last_status INTEGER DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS deliveries_due"
    " ON deliveries(state, next_at);"
    /* where a deleted (or expired) file was in the list, so that a page
     * after it is found: GET /files?after=ID once ID is gone, as a loop
     * that lists a page, deletes it and asks for the next one sends */
    "CREATE TABLE IF NOT EXISTS files_deleted("
    " id TEXT PRIMARY KEY, owner TEXT NOT NULL, seq INTEGER NOT NULL,"
    " gone_at INTEGER NOT NULL);"
    "CREATE TRIGGER IF NOT EXISTS files_deleted_keep AFTER DELETE ON files"
    " BEGIN INSERT OR IGNORE INTO files_deleted(id, owner, seq, gone_at)"
    " VALUES (old.id, old.owner, old.seq, CAST(strftime('%s', 'now') AS"
    " INTEGER)); END;";

static int lite_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        srv_log("sqlite: %s", msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
    }
    return rc;
}

int srv_db_shared(srv_db *h)
{
    return h->pg != NULL;
}

int srv_db_set_node(srv_db *h, const char *node, int release)
{
    if (h->pg)
        return srv_pg_set_node(h, node, release);
    return SQLITE_OK;
}

int srv_db_node_leave(srv_db *h)
{
    return h->pg ? srv_pg_node_leave(h) : SQLITE_OK;
}

int srv_db_renew(srv_db *h, double *every)
{
    *every = 0;
    return h->pg ? srv_pg_renew(h, every) : SQLITE_OK;
}

int srv_db_file_store(srv_db *h, const char *id, const char *path)
{
    if (h->pg)
        return srv_pg_file_store(h, id, path);
    return SQLITE_OK;
}

int srv_db_batch_claim_final(srv_db *h, long long seq, int kind, int *won)
{
    if (h->pg)
        return srv_pg_batch_claim_final(h, seq, kind, won);
    *won = 1;
    return SQLITE_OK;
}

int srv_db_results_write(srv_db *h, long long seq, int k, int fd,
                         long long *len)
{
    if (h->pg)
        return srv_pg_results_write(h, seq, k, fd, len);
    return SQLITE_OK;
}

int srv_db_exec(srv_db *h, const char *sql)
{
    if (h->pg)
        return srv_pg_exec(h, sql);
    return lite_exec(h->lite, sql);
}

int srv_db_is_pg(const char *where)
{
    return where && (!strncmp(where, "postgresql://", 13) ||
                     !strncmp(where, "postgres://", 11));
}

char *srv_db_where(const char *db_url, const char *data_dir)
{
    if (db_url && *db_url)
        return oab__strdup(db_url);
    return oab__sprintf("%s/state.sqlite", data_dir);
}

static int lite_open(const char *path, sqlite3 **out)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                 SQLITE_OPEN_FULLMUTEX,
                             NULL);
    if (rc != SQLITE_OK) {
        srv_log("cannot open %s: %s", path, sqlite3_errstr(rc));
        sqlite3_close(db);
        return rc;
    }
    sqlite3_busy_timeout(db, 10000);
    rc = lite_exec(db, SCHEMA);
    if (rc != SQLITE_OK) {
        sqlite3_close(db);
        return rc;
    }
    lite_exec(db, "PRAGMA cache_size=-2000;");
    /* a state file of an earlier version: add the spool offsets (an
     * error here means they are there already) */
    sqlite3_exec(db, "ALTER TABLE batches ADD COLUMN out_bytes INTEGER"
                     " DEFAULT 0", NULL, NULL, NULL);
    sqlite3_exec(db, "ALTER TABLE batches ADD COLUMN err_bytes INTEGER"
                     " DEFAULT 0", NULL, NULL, NULL);
    /* output_expires_after[seconds] of a batch (0: none) */
    sqlite3_exec(db, "ALTER TABLE batches ADD COLUMN out_expires INTEGER"
                     " DEFAULT 0", NULL, NULL, NULL);
    /* the input tokens counted for --enqueued-token-limit (0: not) */
    sqlite3_exec(db, "ALTER TABLE batches ADD COLUMN enqueued_tokens INTEGER"
                 " DEFAULT 0", NULL, NULL, NULL);
    *out = db;
    return SQLITE_OK;
}

int srv_db_open(const char *where, srv_db **out)
{
    *out = NULL;
    srv_db *h = calloc(1, sizeof *h);
    if (!h)
        return SQLITE_NOMEM;
    int rc = srv_db_is_pg(where) ? srv_pg_open(h, where)
                                 : lite_open(where, &h->lite);
    if (rc != SQLITE_OK) {
        srv_db_close(h);
        return rc;
    }
    *out = h;
    return SQLITE_OK;
}

int srv_db_open_side(const srv_db *h, srv_db **out)
{
    *out = NULL;
    if (!h->pg)
        return SQLITE_MISUSE;
    srv_db *side = calloc(1, sizeof *side);
    if (!side)
        return SQLITE_NOMEM;
    int rc = srv_pg_open_side(h, side);
    if (rc != SQLITE_OK) {
        srv_db_close(side);
        return rc;
    }
    *out = side;
    return SQLITE_OK;
}

void srv_db_close(srv_db *h)
{
    if (!h)
        return;
    if (h->pg)
        srv_pg_close(h);
    sqlite3_close(h->lite);
    free(h);
}

/* A file past its expires_at is gone for the API at once (the engine's
 * sweeper removes its body and row soon after). */
#define NOT_EXPIRED \
    " AND (expires_at IS NULL OR expires_at > CAST(strftime('%s','now') AS INTEGER))"

static void add_ts(cJSON *o, const char *key, const srv_row *r, int col)
{
    if (!r->text(r, col) || r->i64(r, col) == 0)
        cJSON_AddNullToObject(o, key);
    else
        cJSON_AddNumberToObject(o, key, (double)r->i64(r, col));
}

static void add_text(cJSON *o, const char *key, const srv_row *r, int col)
{
    const char *t = r->text(r, col);
    if (t && *t)
        cJSON_AddStringToObject(o, key, t);
    else
        cJSON_AddNullToObject(o, key);
}

static void add_json(cJSON *o, const char *key, const srv_row *r, int col)
{
    const char *t = r->text(r, col);
    cJSON *v = t ? cJSON_Parse(t) : NULL;
    if (v)
        cJSON_AddItemToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

cJSON *srv__batch_view(const srv_row *r, const char *owner)
{
    const char *row_owner = r->text(r, 26);
    if (owner && (!row_owner || strcmp(owner, row_owner) != 0))
        return NULL;
    cJSON *o = cJSON_CreateObject();
    add_text(o, "id", r, 0);
    cJSON_AddStringToObject(o, "object", "batch");
    add_text(o, "endpoint", r, 1);
    add_text(o, "model", r, 2);
    add_json(o, "errors", r, 25);
    add_text(o, "input_file_id", r, 3);
    add_text(o, "completion_window", r, 4);
    add_text(o, "status", r, 5);
    add_text(o, "output_file_id", r, 6);
    add_text(o, "error_file_id", r, 7);
    cJSON_AddNumberToObject(o, "created_at", (double)r->i64(r, 8));
    static const char *ts[] = {"in_progress_at", "expires_at",
                               "finalizing_at", "completed_at",
                               "failed_at", "expired_at",
                               "cancelling_at", "cancelled_at"};
    for (int i = 0; i < 8; i++)
        add_ts(o, ts[i], r, 9 + i);
    cJSON *rc = cJSON_AddObjectToObject(o, "request_counts");
    cJSON_AddNumberToObject(rc, "total", (double)r->i64(r, 17));
    cJSON_AddNumberToObject(rc, "completed", (double)r->i64(r, 18));
    cJSON_AddNumberToObject(rc, "failed", (double)r->i64(r, 19));
    cJSON *u = cJSON_AddObjectToObject(o, "usage");
    long long in = r->i64(r, 20), cached = r->i64(r, 21),
              outt = r->i64(r, 22), reas = r->i64(r, 23);
    cJSON_AddNumberToObject(u, "input_tokens", (double)in);
    cJSON *d = cJSON_AddObjectToObject(u, "input_tokens_details");
    cJSON_AddNumberToObject(d, "cached_tokens", (double)cached);
    cJSON_AddNumberToObject(u, "output_tokens", (double)outt);
    d = cJSON_AddObjectToObject(u, "output_tokens_details");
    cJSON_AddNumberToObject(d, "reasoning_tokens", (double)reas);
    cJSON_AddNumberToObject(u, "total_tokens", (double)(in + outt));
    add_json(o, "metadata", r, 24);
    return o;
}

cJSON *srv__file_view(const srv_row *r, const char *owner)
{
    const char *row_owner = r->text(r, 6);
    if (owner && (!row_owner || strcmp(owner, row_owner) != 0))
        return NULL;
    cJSON *o = cJSON_CreateObject();
    add_text(o, "id", r, 0);
    cJSON_AddStringToObject(o, "object", "file");
    cJSON_AddNumberToObject(o, "bytes", (double)r->i64(r, 1));
    cJSON_AddNumberToObject(o, "created_at", (double)r->i64(r, 2));
    add_ts(o, "expires_at", r, 3);
    const char *fname = r->text(r, 4);
    cJSON_AddStringToObject(o, "filename", fname ? fname : "");
    add_text(o, "purpose", r, 5);
    cJSON_AddStringToObject(o, "status", "processed");
    cJSON_AddNullToObject(o, "status_details");
    return o;
}

/* A row of a SQLite statement for the views. */
static const char *lite_text(const srv_row *r, int col)
{
    return (const char *)sqlite3_column_text(r->p, col);
}

static long long lite_i64(const srv_row *r, int col)
{
    return sqlite3_column_int64(r->p, col);
}

int srv_db_failed(const srv_db *h)
{
    return h->failed;
}

/* A lookup's step: ROW or DONE, else h->failed (srv_db_failed). */
static int lite_step(srv_db *h, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    h->failed = rc != SQLITE_ROW && rc != SQLITE_DONE;
    return rc;
}

/* The one row of SELECT cols FROM table WHERE id = ? (plus a filter),
 * through view. */
static cJSON *lite_view(srv_db *h, const char *sql, const char *id,
                        const char *owner,
                        cJSON *(*view)(const srv_row *, const char *))
{
    sqlite3_stmt *st = NULL;
    h->failed = 1;
    if (sqlite3_prepare_v2(h->lite, sql, -1, &st, NULL) != SQLITE_OK)
        return NULL;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    cJSON *o = NULL;
    if (lite_step(h, st) == SQLITE_ROW) {
        srv_row r = {lite_text, lite_i64, st, 0};
        o = view(&r, owner); /* NULL too for another owner's row */
    }
    sqlite3_finalize(st);
    return o;
}

cJSON *srv_batch_json(srv_db *h, const char *id, const char *owner)
{
    if (h->pg)
        return srv_pg_batch_json(h, id, owner);
    return lite_view(h, "SELECT " SRV_BATCH_COLS " FROM batches"
                     " WHERE id = ?", id, owner, srv__batch_view);
}

cJSON *srv_file_json(srv_db *h, const char *id, const char *owner)
{
    if (h->pg)
        return srv_pg_file_json(h, id, owner);
    return lite_view(h, "SELECT " SRV_FILE_COLS " FROM files"
                     " WHERE id = ?" NOT_EXPIRED, id, owner, srv__file_view);
}

int srv_file_local(const srv_db *h, const char *id, const char *path)
{
    return h->pg ? srv_pg_file_local(h, id, path) : 0;
}

char *srv_file_path(srv_db *h, const char *files_dir, const char *id,
                    const char *owner)
{
    if (h->pg)
        return srv_pg_file_path(h, files_dir, id, owner);
    sqlite3 *db = h->lite;
    sqlite3_stmt *st = NULL;
    h->failed = 1;
    if (sqlite3_prepare_v2(db,
            "SELECT path FROM files WHERE id = ? AND (?2 IS NULL OR"
            " owner = ?2)" NOT_EXPIRED, -1, &st, NULL) != SQLITE_OK)
        return NULL;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    if (owner)
        sqlite3_bind_text(st, 2, owner, -1, SQLITE_TRANSIENT);
    char *path = NULL;
    if (lite_step(h, st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
        path = oab__sprintf("%s/%s", files_dir,
                            (const char *)sqlite3_column_text(st, 0));
        h->failed = path == NULL;
    }
    sqlite3_finalize(st);
    return path;
}

/* ---------------------------------------------------------------- */
/* checked statements                                                 */
/* ---------------------------------------------------------------- */

static int db_fail(sqlite3 *db, int rc, const char *what)
{
    srv_log("sqlite (%s): %s", what, sqlite3_errmsg(db));
    return rc;
}

static int prep(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
    int rc = sqlite3_prepare_v2(db, sql, -1, st, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(*st);
        *st = NULL;
        return db_fail(db, rc, "prepare");
    }
    return SQLITE_OK;
}

/* Steps a statement without result rows and finalizes it. */
static int run(sqlite3 *db, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return db_fail(db, rc, what);
    return SQLITE_OK;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *t)
{
    if (t)
        sqlite3_bind_text(st, i, t, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

int srv_db_begin(srv_db *h)
{
    if (h->pg)
        return srv_pg_begin(h);
    sqlite3 *db = h->lite;
    return lite_exec(db, "BEGIN IMMEDIATE");
}

int srv_db_commit(srv_db *h)
{
    if (h->pg)
        return srv_pg_commit(h);
    sqlite3 *db = h->lite;
    int rc = lite_exec(db, "COMMIT");
    if (rc != SQLITE_OK)
        srv_db_rollback(h);
    return rc;
}

void srv_db_rollback(srv_db *h)
{
    if (h->pg) {
        srv_pg_rollback(h);
        return;
    }
    sqlite3 *db = h->lite;
    if (!sqlite3_get_autocommit(db))
        lite_exec(db, "ROLLBACK");
}

int srv_db_file_insert(srv_db *h, const char *id, const char *owner,
                       const char *purpose, const char *filename,
                       long long bytes, long long created_at,
                       const char *path, long long expires_at)
{
    if (h->pg)
        return srv_pg_file_insert(h, id, owner, purpose, filename, bytes, created_at, path, expires_at);
    sqlite3 *db = h->lite;
    sqlite3_stmt *st = NULL;
    int rc = prep(db,
        "INSERT INTO files(id, owner, purpose, filename, bytes, created_at,"
        " path, expires_at) VALUES(?,?,?,?,?,?,?,?)", &st);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, owner, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, purpose, -1, SQLITE_TRANSIENT);
    bind_text_or_null(st, 4, filename);
    sqlite3_bind_int64(st, 5, bytes);
    sqlite3_bind_int64(st, 6, created_at);
    sqlite3_bind_text(st, 7, path, -1, SQLITE_TRANSIENT);
    if (expires_at)
        sqlite3_bind_int64(st, 8, expires_at);
    else
        sqlite3_bind_null(st, 8);
    return run(db, st, "file insert");
}

int srv_db_file_delete(srv_db *h, const char *id, const char *owner,
                       int *deleted)
{
    if (h->pg)
        return srv_pg_file_delete(h, id, owner, deleted);
    sqlite3 *db = h->lite;
    *deleted = 0;
    sqlite3_stmt *st = NULL;
    /* a file past its expires_at is gone for the API already (404): the
     * sweeper removes its row and body (deleted here, the body stayed) */
    int rc = prep(db, "DELETE FROM files WHERE id = ? AND owner = ?"
                  NOT_EXPIRED, &st);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, owner, -1, SQLITE_TRANSIENT);
    rc = run(db, st, "file delete");
    if (rc == SQLITE_OK)
        *deleted = sqlite3_changes(db) > 0;
    return rc;
}

int srv_db_files_known(srv_db *h, const char *const *ids, int n,
                       unsigned char *known)
{
    /* SQLite: asked of shared state only (db.h) */
    return h->pg ? srv_pg_files_known(h, ids, n, known) : SQLITE_MISUSE;
}

int srv_db_batch_insert(srv_db *h, const char *id, const char *owner,
                        const char *endpoint, const char *input_file_id,
                        const char *window, long long created_at,
                        long long expires_at, const char *metadata,
                        long long out_expires)
{
    if (h->pg)
        return srv_pg_batch_insert(h, id, owner, endpoint, input_file_id, window, created_at, expires_at, metadata, out_expires);
    sqlite3 *db = h->lite;
    sqlite3_stmt *st = NULL;
    int rc = prep(db,
        "INSERT INTO batches(id, owner, endpoint, input_file_id,"
        " completion_window, status, created_at, expires_at, metadata,"
        " out_expires) VALUES(?,?,?,?,?,'validating',?,?,?,?)", &st);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, owner, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, endpoint, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, input_file_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, window, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 6, created_at);
    sqlite3_bind_int64(st, 7, expires_at);
    bind_text_or_null(st, 8, metadata);
    sqlite3_bind_int64(st, 9, out_expires);
    return run(db, st, "batch insert");
}

int srv_db_batch_cancel(srv_db *h, const char *id, long long now,
                        int *changed)
{
    if (h->pg)
        return srv_pg_batch_cancel(h, id, now, changed);
    sqlite3 *db = h->lite;
    *changed = 0;
    sqlite3_stmt *st = NULL;
    int rc = prep(db,
        "UPDATE batches SET status='cancelling', cancelling_at=?"
        " WHERE id=? AND status IN ('validating','in_progress')", &st);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_TRANSIENT);
    rc = run(db, st, "batch cancel");
    if (rc == SQLITE_OK)
        *changed = sqlite3_changes(db) > 0;
    return rc;
}

int srv_db_batch_failed(srv_db *h, long long seq, long long now,
                        const char *errors_json, int *failed)
{
    *failed = 0;
    if (h->pg)
        return srv_pg_batch_failed(h, seq, now, errors_json, failed);
    sqlite3 *db = h->lite;
    sqlite3_stmt *st = NULL;
    int rc = prep(db,
        "UPDATE batches SET status='failed', failed_at=?, errors=?"
        " WHERE seq=? AND status='validating'", &st);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_int64(st, 1, now);
    bind_text_or_null(st, 2, errors_json);
    sqlite3_bind_int64(st, 3, seq);
    if ((rc = run(db, st, "batch failed")) != SQLITE_OK)
        return rc;
    if ((*failed = sqlite3_changes(db) > 0))
        return SQLITE_OK;
    /* cancelled before it was validated: it keeps its status */
    if ((rc = prep(db, "UPDATE batches SET errors=? WHERE seq=? AND"
                   " status='cancelling'", &st)) != SQLITE_OK)
        return rc;
    bind_text_or_null(st, 1, errors_json);
    sqlite3_bind_int64(st, 2, seq);
    return run(db, st, "batch errors");
}

int srv_db_batch_started(srv_db *h, long long seq, long long total,
                         const char *model, long long now)
{
    if (h->pg)
        return srv_pg_batch_started(h, seq, total, model, now);
    sqlite3 *db = h->lite;
    sqlite3_stmt *st = NULL;
    int rc = prep(db,
        "UPDATE batches SET total=?, model=?, in_progress_at=?,"
        " out_bytes=0, err_bytes=0,"
        " status=CASE status WHEN 'validating' THEN 'in_progress'"
        " ELSE status END WHERE seq=?", &st);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_int64(st, 1, total);
    bind_text_or_null(st, 2, model);
    sqlite3_bind_int64(st, 3, now);
    sqlite3_bind_int64(st, 4, seq);
    return run(db, st, "batch started");
}

int srv_db_batch_finalizing(srv_db *h, long long seq, long long now)
{
    if (h->pg)
        return srv_pg_batch_finalizing(h, seq, now);
    sqlite3 *db = h->lite;
    sqlite3_stmt *st = NULL;
    int rc = prep(db,
        "UPDATE batches SET status='finalizing',"
        " finalizing_at=COALESCE(finalizing_at, ?) WHERE seq=?", &st);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int64(st, 2, seq);
    return run(db, st, "batch finalizing");
}

int srv_db_batch_ended(srv_db *h, long long seq, int kind, long long now,
                       const char *out_id, const char *err_id,
                       long long out_bytes, long long err_bytes,
                       long long failed)
{
    if (h->pg)
        return srv_pg_batch_ended(h, seq, kind, now, out_id, err_id,
                                  out_bytes, err_bytes, failed);
    sqlite3 *db = h->lite;
    static const char *const sql[] = {
        "UPDATE batches SET status='completed', completed_at=?,"
        " output_file_id=?, error_file_id=?, out_bytes=?, err_bytes=?,"
        " n_failed=n_failed+? WHERE seq=?",
        "UPDATE batches SET status='cancelled', cancelled_at=?,"
        " output_file_id=?, error_file_id=?, out_bytes=?, err_bytes=?,"
        " n_failed=n_failed+? WHERE seq=?",
        "UPDATE batches SET status='expired', expired_at=?,"
        " output_file_id=?, error_file_id=?, out_bytes=?, err_bytes=?,"
        " n_failed=n_failed+? WHERE seq=?"};
    sqlite3_stmt *st = NULL;
    int rc = prep(db, sql[kind < 0 || kind > 2 ? 0 : kind], &st);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_int64(st, 1, now);
    bind_text_or_null(st, 2, out_id);
    bind_text_or_null(st, 3, err_id);
    sqlite3_bind_int64(st, 4, out_bytes);
    sqlite3_bind_int64(st, 5, err_bytes);
    sqlite3_bind_int64(st, 6, failed);
    sqlite3_bind_int64(st, 7, seq);
    return run(db, st, "batch ended");
}

int srv_db_batch_spools(srv_db *h, long long seq, long long *out_bytes,
                        long long *err_bytes, long long *out_expires)
{
    if (h->pg)
        return srv_pg_batch_spools(h, seq, out_bytes, err_bytes, out_expires);
    sqlite3 *db = h->lite;
    *out_bytes = *err_bytes = *out_expires = 0;
    sqlite3_stmt *st = NULL;
    int rc = prep(db, "SELECT out_bytes, err_bytes, out_expires FROM batches"
                      " WHERE seq=?", &st);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_int64(st, 1, seq);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out_bytes = sqlite3_column_int64(st, 0);
        *err_bytes = sqlite3_column_int64(st, 1);
        *out_expires = sqlite3_column_int64(st, 2);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return db_fail(db, rc, "batch spools");
    return SQLITE_OK;
}

int srv_db_batch_set_spools(srv_db *h, long long seq, long long out_bytes,
                            long long err_bytes)
{
    if (h->pg)
        return srv_pg_batch_set_spools(h, seq, out_bytes, err_bytes);
    sqlite3 *db = h->lite;
    sqlite3_stmt *st = NULL;
    int rc = prep(db, "UPDATE batches SET out_bytes=?, err_bytes=?"
                      " WHERE seq=?", &st);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_int64(st, 1, out_bytes);
    sqlite3_bind_int64(st, 2, err_bytes);
    sqlite3_bind_int64(st, 3, seq);
    return run(db, st, "batch spools");
}

static const char *col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

int srv_db_active(srv_db *h, int (*fn)(const srv_active_row *, void *),
                  void *ud)
{
    if (h->pg)
        return srv_pg_active(h, fn, ud);
    sqlite3 *db = h->lite;
    sqlite3_stmt *st = NULL;
    int rc = prep(db,
        "SELECT seq, id, status, endpoint, input_file_id, expires_at, owner,"
        " out_bytes, err_bytes, created_at,"
        " json_extract(metadata, '$.priority'), in_progress_at IS NOT NULL"
        " FROM batches WHERE status IN ('validating','in_progress',"
        "'finalizing','cancelling') ORDER BY seq", &st);
    if (rc != SQLITE_OK)
        return rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        srv_active_row r;
        r.seq = sqlite3_column_int64(st, 0);
        r.id = col_text(st, 1);
        r.status = col_text(st, 2);
        r.endpoint = col_text(st, 3);
        r.input_file_id = col_text(st, 4);
        r.expires_at = sqlite3_column_int64(st, 5);
        r.owner = col_text(st, 6);
        r.out_bytes = sqlite3_column_int64(st, 7);
        r.err_bytes = sqlite3_column_int64(st, 8);
        r.created_at = sqlite3_column_int64(st, 9);
        r.priority = sqlite3_column_type(st, 10) == SQLITE_TEXT
                         ? (const char *)sqlite3_column_text(st, 10)
                         : NULL;
        r.validated = sqlite3_column_int(st, 11) != 0;
        if (fn(&r, ud)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return db_fail(db, rc, "active batches");
    return SQLITE_OK;
}

int srv_db_lines_delete(srv_db *h, long long seq)
{
    if (h->pg)
        return srv_pg_lines_delete(h, seq);
    sqlite3 *db = h->lite;
    sqlite3_stmt *st = NULL;
    int rc = prep(db, "DELETE FROM lines WHERE batch_seq=?", &st);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_int64(st, 1, seq);
    return run(db, st, "lines delete");
}

int srv_db_line_stmt(srv_db *h, srv_db_stmt **out)
{
    *out = calloc(1, sizeof **out);
    if (!*out)
        return SQLITE_NOMEM;
    (*out)->h = h;
    int rc = h->pg ? srv_pg_line_stmt(*out)
                   : prep(h->lite, "INSERT INTO lines(batch_seq, idx,"
                                   " custom_id, off, len) VALUES(?,?,?,?,?)",
                          &(*out)->st);
    if (rc != SQLITE_OK) {
        free(*out);
        *out = NULL;
    }
    return rc;
}

int srv_db_line_insert(srv_db_stmt *s, long long seq, long long idx,
                       const char *custom_id, long long off, long long len)
{
    if (s->h->pg)
        return srv_pg_line_insert(s, seq, idx, custom_id, off, len);
    sqlite3_stmt *ins = s->st;
    sqlite3_reset(ins);
    sqlite3_bind_int64(ins, 1, seq);
    sqlite3_bind_int64(ins, 2, idx);
    bind_text_or_null(ins, 3, custom_id);
    sqlite3_bind_int64(ins, 4, off);
    sqlite3_bind_int64(ins, 5, len);
    int rc = sqlite3_step(ins);
    if (rc != SQLITE_DONE)
        return db_fail(sqlite3_db_handle(ins), rc, "line insert");
    return SQLITE_OK;
}

int srv_db_stmt_finish(srv_db_stmt *s)
{
    if (!s)
        return SQLITE_OK;
    int rc = s->h->pg ? srv_pg_stmt_finish(s) : SQLITE_OK;
    sqlite3_finalize(s->st);
    free(s);
    return rc;
}

int srv_db_lines_pending(srv_db *h, long long seq, long long from, int max,
                         long long *idx, long long *off, long long *len,
                         int *n)
{
    if (h->pg)
        return srv_pg_lines_pending(h, seq, from, max, idx, off, len, n);
    sqlite3 *db = h->lite;
    *n = 0;
    sqlite3_stmt *st = NULL;
    int rc = prep(db, "SELECT idx, off, len FROM lines WHERE batch_seq=?"
                      " AND idx>=? AND state=0 ORDER BY idx LIMIT ?", &st);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_int64(st, 2, from);
    sqlite3_bind_int(st, 3, max);
    while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        idx[*n] = sqlite3_column_int64(st, 0);
        off[*n] = sqlite3_column_int64(st, 1);
        len[*n] = sqlite3_column_int64(st, 2);
        (*n)++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return db_fail(db, rc, "pending lines");
    return SQLITE_OK;
}

int srv_db_lines_done(srv_db *h, const srv_line_done *d, size_t n)
{
    if (h->pg)
        return srv_pg_lines_done(h, d, n);
    sqlite3 *db = h->lite;
    sqlite3_stmt *ul = NULL, *ub = NULL;
    int rc = prep(db, "UPDATE lines SET state=? WHERE batch_seq=?"
                      " AND idx=? AND state=0", &ul);
    if (rc == SQLITE_OK)
        rc = prep(db,
            "UPDATE batches SET n_completed=n_completed+?,"
            " n_failed=n_failed+?, input_tokens=input_tokens+?,"
            " cached_tokens=cached_tokens+?, output_tokens=output_tokens+?,"
            " reasoning_tokens=reasoning_tokens+? WHERE seq=?", &ub);
    for (size_t i = 0; rc == SQLITE_OK && i < n; i++) {
        sqlite3_reset(ul);
        sqlite3_bind_int(ul, 1, d[i].state);
        sqlite3_bind_int64(ul, 2, d[i].seq);
        sqlite3_bind_int64(ul, 3, d[i].idx);
        rc = sqlite3_step(ul) == SQLITE_DONE ? SQLITE_OK
                                             : db_fail(db, SQLITE_ERROR,
                                                       "line done");
        if (rc != SQLITE_OK || sqlite3_changes(db) != 1)
            continue;
        sqlite3_reset(ub);
        sqlite3_bind_int(ub, 1, d[i].state == 1);
        sqlite3_bind_int(ub, 2, d[i].state == 2);
        sqlite3_bind_int64(ub, 3, d[i].in);
        sqlite3_bind_int64(ub, 4, d[i].cached);
        sqlite3_bind_int64(ub, 5, d[i].out);
        sqlite3_bind_int64(ub, 6, d[i].reasoning);
        sqlite3_bind_int64(ub, 7, d[i].seq);
        if (sqlite3_step(ub) != SQLITE_DONE)
            rc = db_fail(db, SQLITE_ERROR, "batch counts");
    }
    sqlite3_finalize(ul);
    sqlite3_finalize(ub);
    return rc;
}

int srv_db_lines_unfinished(srv_db *h, long long seq,
                            int (*fn)(const char *custom_id, void *ud),
                            void *ud)
{
    if (h->pg)
        return srv_pg_lines_unfinished(h, seq, fn, ud);
    sqlite3 *db = h->lite;
    sqlite3_stmt *st = NULL;
    int rc = prep(db, "SELECT custom_id FROM lines WHERE batch_seq=?"
                      " AND state=0 ORDER BY idx", &st);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_int64(st, 1, seq);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (fn((const char *)sqlite3_column_text(st, 0), ud)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return db_fail(db, rc, "unfinished lines");
    return SQLITE_OK;
}

int srv_db_list(srv_db *h, int batches, const char *owner,
                const char *purpose, const char *after, int asc, long limit,
                cJSON *data, int *has_more)
{
    if (h->pg)
        return srv_pg_list(h, batches, owner, purpose, after, asc, limit, data, has_more);
    sqlite3 *db = h->lite;
    *has_more = 0;
    const char *table = batches ? "batches" : "files";
    char sql[512];
    /* after= names an object of this owner, or nothing is listed (an id
     * of another key must not tell whether it exists); a file deleted
     * since is where it was (files_deleted) */
    snprintf(sql, sizeof sql,
             "SELECT id FROM %s WHERE owner = ?1"
             " AND (?2 IS NULL OR %s = ?2)"
             " AND (?3 IS NULL OR seq %s %s)"
             " ORDER BY seq %s LIMIT ?4",
             table, batches ? "id" : "purpose", asc ? ">" : "<",
             batches ? "(SELECT seq FROM batches WHERE id = ?3"
                       " AND owner = ?1)"
                     : "COALESCE((SELECT seq FROM files WHERE id = ?3"
                       " AND owner = ?1), (SELECT seq FROM files_deleted"
                       " WHERE id = ?3 AND owner = ?1))",
             asc ? "ASC" : "DESC");
    sqlite3_stmt *st = NULL;
    int rc = prep(db, sql, &st);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_text(st, 1, owner, -1, SQLITE_TRANSIENT);
    bind_text_or_null(st, 2, batches ? NULL : purpose);
    bind_text_or_null(st, 3, after);
    sqlite3_bind_int64(st, 4, limit + 1);
    long n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == limit) {
            *has_more = 1;
            rc = SQLITE_DONE;
            break;
        }
        const char *id = (const char *)sqlite3_column_text(st, 0);
        cJSON *item = batches ? srv_batch_json(h, id, NULL)
                              : srv_file_json(h, id, NULL);
        if (item)
            cJSON_AddItemToArray(data, item);
        n++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return db_fail(db, rc, "list");
    return SQLITE_OK;
}

int srv_db_files_expired(srv_db *h, long long now, int max,
                         int (*fn)(const char *id, const char *path,
                                   void *ud),
                         void *ud)
{
    if (h->pg)
        return srv_pg_files_expired(h, now, max, fn, ud);
    sqlite3 *db = h->lite;
    sqlite3_stmt *st = NULL;
    int rc = prep(db, "SELECT id, path FROM files WHERE expires_at IS NOT"
                      " NULL AND expires_at <= ? LIMIT ?", &st);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int(st, 2, max);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (fn(col_text(st, 0), col_text(st, 1), ud)) {
            rc = SQLITE_DONE;
            break;
        }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return db_fail(db, rc, "expired files");
    return SQLITE_OK;
}

int srv_db_file_remove(srv_db *h, const char *id)
{
    if (h->pg)
        return srv_pg_file_remove(h, id);
    sqlite3 *db = h->lite;
    sqlite3_stmt *st = NULL;
    int rc = prep(db, "DELETE FROM files WHERE id = ?", &st);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    return run(db, st, "file remove");
}

int srv_db_local_gone(srv_db *h, const char *name)
{
    return h->pg ? srv_pg_local_gone(h, name) : SQLITE_OK;
}

int srv_db_gone_since(srv_db *h, long long *from, long long *settled,
                      int max, int (*fn)(const char *name, void *ud),
                      void *ud)
{
    return h->pg ? srv_pg_gone_since(h, from, settled, max, fn, ud)
                 : SQLITE_OK;
}

int srv_db_gone_forget(srv_db *h, long long keep_s)
{
    return h->pg ? srv_pg_gone_forget(h, keep_s) : SQLITE_OK;
}

int srv_db_cursors_forget(srv_db *h, long long now, long long keep_s)
{
    if (h->pg)
        return srv_pg_cursors_forget(h, now, keep_s);
    sqlite3_stmt *st = NULL;
    int rc = prep(h->lite, "DELETE FROM files_deleted WHERE gone_at < ?",
                  &st);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_int64(st, 1, now - keep_s);
    return run(h->lite, st, "cursors forget");
}

/* ---- metrics and webhooks ---- */

int srv_db_batch_stats(srv_db *h,
                       int (*fn)(const srv_batch_stat *, void *), void *ud)
{
    if (h->pg)
        return srv_pg_batch_stats(h, fn, ud);
    sqlite3 *db = h->lite;
    sqlite3_stmt *st = NULL;
    int rc = prep(db, "SELECT endpoint, status, count(*), sum(total),"
                      " sum(n_completed), sum(n_failed), sum(input_tokens),"
                      " sum(output_tokens) FROM batches"
                      " GROUP BY endpoint, status", &st);
    if (rc != SQLITE_OK)
        return rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        srv_batch_stat b = {col_text(st, 0), col_text(st, 1),
                            sqlite3_column_int64(st, 2),
                            sqlite3_column_int64(st, 3),
                            sqlite3_column_int64(st, 4),
                            sqlite3_column_int64(st, 5),
                            sqlite3_column_int64(st, 6),
                            sqlite3_column_int64(st, 7)};
        if (fn(&b, ud)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return db_fail(db, rc, "batch stats");
    return SQLITE_OK;
}

int srv_db_delivery_insert(srv_db *h, const char *event_id,
                           const char *msg_id, const char *url,
                           const char *body, long long created_at)
{
    if (h->pg)
        return srv_pg_delivery_insert(h, event_id, msg_id, url, body, created_at);
    sqlite3 *db = h->lite;
    sqlite3_stmt *st = NULL;
    int rc = prep(db, "INSERT INTO deliveries(event_id, msg_id, url, body,"
                      " created_at, next_at) VALUES(?,?,?,?,?,?)", &st);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_text(st, 1, event_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, msg_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, url, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, body, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 5, created_at);
    sqlite3_bind_double(st, 6, (double)created_at);
    return run(db, st, "delivery insert");
}

void srv_db_delivery_clear(srv_delivery *d)
{
    free(d->event_id);
    free(d->msg_id);
    free(d->url);
    free(d->body);
    memset(d, 0, sizeof *d);
}

int srv_db_delivery_next(srv_db *h, srv_delivery *out)
{
    if (h->pg)
        return srv_pg_delivery_next(h, out);
    sqlite3 *db = h->lite;
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = NULL;
    int rc = prep(db, "SELECT seq, created_at, attempts, last_status,"
                      " next_at, event_id, msg_id, url, body FROM deliveries"
                      " WHERE state = 0 ORDER BY next_at, seq LIMIT 1", &st);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->seq = sqlite3_column_int64(st, 0);
        out->created_at = sqlite3_column_int64(st, 1);
        out->attempts = sqlite3_column_int64(st, 2);
        out->last_status = sqlite3_column_int64(st, 3);
        out->next_at = sqlite3_column_double(st, 4);
        out->event_id = oab__strdup(col_text(st, 5));
        out->msg_id = oab__strdup(col_text(st, 6));
        out->url = oab__strdup(col_text(st, 7));
        out->body = oab__strdup(col_text(st, 8));
        if (!out->event_id || !out->msg_id || !out->url || !out->body) {
            srv_db_delivery_clear(out);
            rc = SQLITE_NOMEM;
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return db_fail(db, rc, "delivery next");
    return rc;
}

int srv_db_delivery_update(srv_db *h, long long seq, int state,
                           long long attempts, double next_at,
                           long long last_status)
{
    if (h->pg)
        return srv_pg_delivery_update(h, seq, state, attempts, next_at, last_status);
    sqlite3 *db = h->lite;
    sqlite3_stmt *st = NULL;
    int rc = prep(db, "UPDATE deliveries SET state = ?, attempts = ?,"
                      " next_at = ?, last_status = ? WHERE seq = ?", &st);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_int(st, 1, state);
    sqlite3_bind_int64(st, 2, attempts);
    sqlite3_bind_double(st, 3, next_at);
    sqlite3_bind_int64(st, 4, last_status);
    sqlite3_bind_int64(st, 5, seq);
    return run(db, st, "delivery update");
}

int srv_db_deliveries_pending(srv_db *h, long long *n)
{
    if (h->pg)
        return srv_pg_deliveries_pending(h, n);
    sqlite3 *db = h->lite;
    *n = 0;
    sqlite3_stmt *st = NULL;
    int rc = prep(db, "SELECT count(*) FROM deliveries WHERE state = 0", &st);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return db_fail(db, rc, "deliveries pending");
    return SQLITE_OK;
}

/* ---- the enqueued-token limit ---- */

int srv_db_enqueued_sum(srv_db *h, const char *owner, const char *model,
                        long long seq, long long *sum)
{
    if (h->pg)
        return srv_pg_enqueued_sum(h, owner, model, seq, sum);
    sqlite3 *db = h->lite;
    *sum = 0;
    sqlite3_stmt *st = NULL;
    int rc = prep(db, "SELECT COALESCE(sum(enqueued_tokens), 0) FROM batches"
                      " WHERE owner=? AND model IS ? AND seq<>? AND status IN"
                      " ('validating','in_progress','finalizing')", &st);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_text(st, 1, owner, -1, SQLITE_TRANSIENT);
    bind_text_or_null(st, 2, model);
    sqlite3_bind_int64(st, 3, seq);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *sum = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return db_fail(db, rc, "enqueued sum");
    return SQLITE_OK;
}

int srv_db_batch_set_enqueued(srv_db *h, long long seq, long long tokens)
{
    if (h->pg)
        return srv_pg_batch_set_enqueued(h, seq, tokens);
    sqlite3 *db = h->lite;
    sqlite3_stmt *st = NULL;
    int rc = prep(db, "UPDATE batches SET enqueued_tokens=? WHERE seq=?", &st);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_int64(st, 1, tokens);
    sqlite3_bind_int64(st, 2, seq);
    return run(db, st, "batch enqueued tokens");
}

/* ---- Anthropic batches (anthropic_api.c) ---- */

int srv_db_anth_insert(srv_db *h, const char *batch_id, long long n_requests,
                       long long n_refused, const char *refused_path)
{
    if (h->pg)
        return srv_pg_anth_insert(h, batch_id, n_requests, n_refused, refused_path);
    sqlite3 *db = h->lite;
    sqlite3_stmt *st = NULL;
    int rc = prep(db, "INSERT INTO anth_batches(batch_id, n_requests,"
                      " n_refused, refused_path) VALUES(?, ?, ?, ?)", &st);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_text(st, 1, batch_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, n_requests);
    sqlite3_bind_int64(st, 3, n_refused);
    bind_text_or_null(st, 4, refused_path);
    return run(db, st, "anthropic batch insert");
}

int srv_db_anth_get(srv_db *h, const char *batch_id, long long *n_requests,
                    long long *n_refused, char **refused_path)
{
    if (h->pg)
        return srv_pg_anth_get(h, batch_id, n_requests, n_refused, refused_path);
    sqlite3 *db = h->lite;
    *refused_path = NULL;
    sqlite3_stmt *st = NULL;
    h->failed = 1;
    int rc = prep(db, "SELECT n_requests, n_refused, refused_path FROM"
                      " anth_batches WHERE batch_id = ?", &st);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_text(st, 1, batch_id, -1, SQLITE_TRANSIENT);
    rc = lite_step(h, st);
    if (rc == SQLITE_ROW) {
        *n_requests = sqlite3_column_int64(st, 0);
        *n_refused = sqlite3_column_int64(st, 1);
        const char *p = col_text(st, 2);
        if (p && *p && !(*refused_path = oab__strdup(p)))
            rc = SQLITE_NOMEM;
    }
    sqlite3_finalize(st);
    h->failed = rc != SQLITE_ROW && rc != SQLITE_DONE;
    if (h->failed)
        return db_fail(db, rc, "anthropic batch");
    return rc;
}

int srv_db_anth_delete(srv_db *h, const char *batch_id)
{
    if (h->pg)
        return srv_pg_anth_delete(h, batch_id);
    sqlite3 *db = h->lite;
    static const char *const sql[] = {
        /* one literal each (clang: -Wstring-concatenation) */
        "DELETE FROM lines WHERE batch_seq IN (SELECT seq FROM batches WHERE id = ?1)",
        "DELETE FROM batches WHERE id = ?1",
        "DELETE FROM anth_batches WHERE batch_id = ?1",
    };
    for (size_t i = 0; i < sizeof sql / sizeof *sql; i++) {
        sqlite3_stmt *st = NULL;
        int rc = prep(db, sql[i], &st);
        if (rc != SQLITE_OK)
            return rc;
        sqlite3_bind_text(st, 1, batch_id, -1, SQLITE_TRANSIENT);
        if ((rc = run(db, st, "anthropic batch delete")) != SQLITE_OK)
            return rc;
    }
    return SQLITE_OK;
}

/* ---- a batch's lines, GET /v1/batches/{id}/lines (batchlines.c) ---- */

int srv_db_batch_seq_spools(srv_db *h, const char *id, long long *seq,
                            long long *out_bytes, long long *err_bytes)
{
    if (h->pg)
        return srv_pg_batch_seq_spools(h, id, seq, out_bytes, err_bytes);
    sqlite3 *db = h->lite;
    *seq = -1;
    *out_bytes = *err_bytes = 0;
    sqlite3_stmt *st = NULL;
    int rc = prep(db, "SELECT seq, out_bytes, err_bytes FROM batches"
                      " WHERE id=?", &st);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *seq = sqlite3_column_int64(st, 0);
        *out_bytes = sqlite3_column_int64(st, 1);
        *err_bytes = sqlite3_column_int64(st, 2);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return db_fail(db, rc, "batch seq and spools");
    return SQLITE_OK;
}

int srv_db_lines_waiting(srv_db *h, long long seq, long long after,
                         int max, const char *match,
                         int (*fn)(long long idx, const char *custom_id,
                                   void *ud),
                         void *ud)
{
    if (h->pg)
        return srv_pg_lines_waiting(h, seq, after, max, match, fn, ud);
    sqlite3 *db = h->lite;
    sqlite3_stmt *st = NULL;
    /* the filter as bytes (strstr's sense), whatever the text holds */
    int rc = prep(db, "SELECT idx, custom_id FROM lines WHERE batch_seq=?1"
                      " AND idx>?2 AND state=0 AND (?4 IS NULL OR"
                      " instr(CAST(custom_id AS BLOB), CAST(?4 AS BLOB)) > 0)"
                      " ORDER BY idx LIMIT ?3", &st);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_int64(st, 2, after);
    sqlite3_bind_int(st, 3, max);
    bind_text_or_null(st, 4, match);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *cid = (const char *)sqlite3_column_text(st, 1);
        if (fn(sqlite3_column_int64(st, 0), cid ? cid : "", ud))
            break;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return db_fail(db, rc, "waiting lines");
    return SQLITE_OK;
}

/* ---- one snapshot of a running batch's lines (batchlines.c) ---- */

int srv_db_begin_read(srv_db *h)
{
    if (h->pg)
        return srv_pg_begin_read(h);
    return lite_exec(h->lite, "BEGIN");
}

int srv_db_results_lines(srv_db *h, long long seq, int k, long long after,
                         int max, const char *match,
                         int (*fn)(long long idx, const char *line,
                                   size_t len, void *ud),
                         void *ud)
{
    if (h->pg)
        return srv_pg_results_lines(h, seq, k, after, max, match, fn, ud);
    /* SQLite: a running batch's results are its spools */
    (void)seq;
    (void)k;
    (void)after;
    (void)max;
    (void)match;
    (void)fn;
    (void)ud;
    return SQLITE_OK;
}

/* ---- one node validates a batch ---- */

int srv_db_batch_take_validation(srv_db *h, long long seq, int *won)
{
    *won = 0;
    if (h->pg)
        return srv_pg_batch_take_validation(h, seq, won);
    sqlite3_stmt *st = NULL;
    int rc = prep(h->lite, "SELECT 1 FROM batches WHERE seq = ? AND"
                           " status IN ('validating','cancelling') AND"
                           " in_progress_at IS NULL", &st);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_int64(st, 1, seq);
    rc = sqlite3_step(st);
    *won = rc == SQLITE_ROW;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK
                                                 : db_fail(h->lite, rc, "validation claim");
}
