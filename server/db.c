/* db.c - the server's SQLite state: schema and JSON views of rows. */
#include "oaibatch.h"
#include <cjson/cJSON.h>
#include "util/str.h"
#include "server.h"

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
    " out_bytes INTEGER DEFAULT 0, err_bytes INTEGER DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS lines("
    " batch_seq INTEGER NOT NULL, idx INTEGER NOT NULL, custom_id TEXT,"
    " off INTEGER, len INTEGER, state INTEGER DEFAULT 0,"
    " PRIMARY KEY(batch_seq, idx)) WITHOUT ROWID;";

int srv_db_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        srv_log("sqlite: %s", msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
    }
    return rc;
}

int srv_db_open(const char *path, sqlite3 **out)
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
    rc = srv_db_exec(db, SCHEMA);
    if (rc != SQLITE_OK) {
        sqlite3_close(db);
        return rc;
    }
    srv_db_exec(db, "PRAGMA cache_size=-2000;");
    /* a state file of an earlier version: add the spool offsets (an
     * error here means they are there already) */
    sqlite3_exec(db, "ALTER TABLE batches ADD COLUMN out_bytes INTEGER"
                     " DEFAULT 0", NULL, NULL, NULL);
    sqlite3_exec(db, "ALTER TABLE batches ADD COLUMN err_bytes INTEGER"
                     " DEFAULT 0", NULL, NULL, NULL);
    *out = db;
    return SQLITE_OK;
}

static void add_ts(cJSON *o, const char *key, sqlite3_stmt *st, int col)
{
    if (sqlite3_column_type(st, col) == SQLITE_NULL ||
        sqlite3_column_int64(st, col) == 0)
        cJSON_AddNullToObject(o, key);
    else
        cJSON_AddNumberToObject(o, key, (double)sqlite3_column_int64(st, col));
}

static void add_text(cJSON *o, const char *key, sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    if (t && *t)
        cJSON_AddStringToObject(o, key, (const char *)t);
    else
        cJSON_AddNullToObject(o, key);
}

static void add_json(cJSON *o, const char *key, sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    cJSON *v = t ? cJSON_Parse((const char *)t) : NULL;
    if (v)
        cJSON_AddItemToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

cJSON *srv_batch_json(sqlite3 *db, const char *id, const char *owner)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
            "SELECT id, endpoint, model, input_file_id, completion_window,"
            " status, output_file_id, error_file_id, created_at,"
            " in_progress_at, expires_at, finalizing_at, completed_at,"
            " failed_at, expired_at, cancelling_at, cancelled_at, total,"
            " n_completed, n_failed, input_tokens, cached_tokens,"
            " output_tokens, reasoning_tokens, metadata, errors, owner"
            " FROM batches WHERE id = ?", -1, &st, NULL) != SQLITE_OK)
        return NULL;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    cJSON *o = NULL;
    if (sqlite3_step(st) == SQLITE_ROW &&
        (!owner || strcmp(owner, (const char *)sqlite3_column_text(st, 26)) == 0)) {
        o = cJSON_CreateObject();
        add_text(o, "id", st, 0);
        cJSON_AddStringToObject(o, "object", "batch");
        add_text(o, "endpoint", st, 1);
        add_text(o, "model", st, 2);
        add_json(o, "errors", st, 25);
        add_text(o, "input_file_id", st, 3);
        add_text(o, "completion_window", st, 4);
        add_text(o, "status", st, 5);
        add_text(o, "output_file_id", st, 6);
        add_text(o, "error_file_id", st, 7);
        cJSON_AddNumberToObject(o, "created_at",
                                (double)sqlite3_column_int64(st, 8));
        static const char *ts[] = {"in_progress_at", "expires_at",
                                   "finalizing_at", "completed_at",
                                   "failed_at", "expired_at",
                                   "cancelling_at", "cancelled_at"};
        for (int i = 0; i < 8; i++)
            add_ts(o, ts[i], st, 9 + i);
        cJSON *rc = cJSON_AddObjectToObject(o, "request_counts");
        cJSON_AddNumberToObject(rc, "total", (double)sqlite3_column_int64(st, 17));
        cJSON_AddNumberToObject(rc, "completed",
                                (double)sqlite3_column_int64(st, 18));
        cJSON_AddNumberToObject(rc, "failed", (double)sqlite3_column_int64(st, 19));
        cJSON *u = cJSON_AddObjectToObject(o, "usage");
        long long in = sqlite3_column_int64(st, 20),
                  cached = sqlite3_column_int64(st, 21),
                  outt = sqlite3_column_int64(st, 22),
                  reas = sqlite3_column_int64(st, 23);
        cJSON_AddNumberToObject(u, "input_tokens", (double)in);
        cJSON *d = cJSON_AddObjectToObject(u, "input_tokens_details");
        cJSON_AddNumberToObject(d, "cached_tokens", (double)cached);
        cJSON_AddNumberToObject(u, "output_tokens", (double)outt);
        d = cJSON_AddObjectToObject(u, "output_tokens_details");
        cJSON_AddNumberToObject(d, "reasoning_tokens", (double)reas);
        cJSON_AddNumberToObject(u, "total_tokens", (double)(in + outt));
        add_json(o, "metadata", st, 24);
    }
    sqlite3_finalize(st);
    return o;
}

cJSON *srv_file_json(sqlite3 *db, const char *id, const char *owner)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
            "SELECT id, bytes, created_at, expires_at, filename, purpose,"
            " owner FROM files WHERE id = ?", -1, &st, NULL) != SQLITE_OK)
        return NULL;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    cJSON *o = NULL;
    if (sqlite3_step(st) == SQLITE_ROW &&
        (!owner || strcmp(owner, (const char *)sqlite3_column_text(st, 6)) == 0)) {
        o = cJSON_CreateObject();
        add_text(o, "id", st, 0);
        cJSON_AddStringToObject(o, "object", "file");
        cJSON_AddNumberToObject(o, "bytes", (double)sqlite3_column_int64(st, 1));
        cJSON_AddNumberToObject(o, "created_at",
                                (double)sqlite3_column_int64(st, 2));
        add_ts(o, "expires_at", st, 3);
        add_text(o, "filename", st, 4);
        add_text(o, "purpose", st, 5);
        cJSON_AddStringToObject(o, "status", "processed");
        cJSON_AddNullToObject(o, "status_details");
    }
    sqlite3_finalize(st);
    return o;
}

char *srv_file_path(sqlite3 *db, const char *files_dir, const char *id,
                    const char *owner)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
            "SELECT path FROM files WHERE id = ? AND (?2 IS NULL OR"
            " owner = ?2)", -1, &st, NULL) != SQLITE_OK)
        return NULL;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    if (owner)
        sqlite3_bind_text(st, 2, owner, -1, SQLITE_TRANSIENT);
    char *path = NULL;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        path = oab__sprintf("%s/%s", files_dir,
                            (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return path;
}
