/* journal.c - the local SQLite journal of jobs and their batches. */
#include "oaibatch.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/str.h"
#include "journal.h"
#include "cli.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

/* A lock this process holds (journal_lock_try): its file, flock'ed. */
typedef struct held_lock {
    char *name, *file;
    int fd;
    struct held_lock *next;
} held_lock;

struct journal {
    sqlite3 *db;
    char *path;
    const char *why; /* the last failure, when it is no SQLite error */
    char whybuf[512];
    held_lock *held;
};

static const char *schema_sql =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=FULL;"
    "CREATE TABLE IF NOT EXISTS jobs("
    " id TEXT PRIMARY KEY,"
    " created_at INTEGER NOT NULL,"
    " input_path TEXT,"
    " fingerprint TEXT,"
    " base_url TEXT,"
    " endpoint TEXT,"
    " model TEXT,"
    " n_lines INTEGER,"
    " metadata_json TEXT);"
    "CREATE INDEX IF NOT EXISTS jobs_fingerprint ON jobs(fingerprint);"
    "CREATE TABLE IF NOT EXISTS parts("
    " job_id TEXT NOT NULL REFERENCES jobs(id),"
    " idx INTEGER NOT NULL,"
    " kind TEXT NOT NULL,"
    " path TEXT,"
    " n_lines INTEGER,"
    " input_lines TEXT,"
    " file_id TEXT,"
    " batch_id TEXT,"
    " status TEXT,"
    " count_total INTEGER DEFAULT 0,"
    " count_completed INTEGER DEFAULT 0,"
    " count_failed INTEGER DEFAULT 0,"
    " updated_at INTEGER,"
    " PRIMARY KEY(job_id, idx));"
    "CREATE INDEX IF NOT EXISTS parts_batch ON parts(batch_id);"
    "CREATE TABLE IF NOT EXISTS locks("
    " name TEXT PRIMARY KEY,"
    " pid INTEGER NOT NULL,"
    " taken_at INTEGER NOT NULL);"
    /* line maps (journal_linemap_*): where each part's lines are in the
     * user's input, kept instead of a copy of the part */
    "CREATE TABLE IF NOT EXISTS line_maps("
    " job_id TEXT NOT NULL,"
    " idx INTEGER NOT NULL,"
    " input_path TEXT NOT NULL,"
    " input_size INTEGER NOT NULL,"
    " input_sha256 TEXT NOT NULL,"
    " lines_sha256 TEXT NOT NULL,"
    " n_lines INTEGER NOT NULL,"
    " map BLOB NOT NULL,"
    " PRIMARY KEY(job_id, idx));";

/* Columns added after the first release, each migrated into an older
 * journal when it is opened (ALTER TABLE ... ADD COLUMN). */
static const char *const added_columns[][3] = {
    { "jobs", "provider", "TEXT" },
    { "parts", "anthropic_map", "TEXT" },
    { "parts", "create_started_at", "INTEGER" },
    { "parts", "upload_started_at", "INTEGER" },
    { "jobs", "settled", "INTEGER" },
};

/* 1 when `table` has `column`, 0 when not, -1 on error. */
static int has_column(sqlite3 *db, const char *table, const char *column)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM pragma_table_info(?)"
                           " WHERE name = ?", -1, &s, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(s, 1, table, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, column, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* Adds the missing columns in one write transaction, so that two
 * processes opening an old journal at once do not both add them. */
static int migrate(sqlite3 *db, char **msg)
{
    int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, msg);
    if (rc != SQLITE_OK)
        return rc;
    size_t n = sizeof added_columns / sizeof added_columns[0];
    for (size_t i = 0; rc == SQLITE_OK && i < n; i++) {
        int has = has_column(db, added_columns[i][0], added_columns[i][1]);
        if (has < 0) {
            rc = SQLITE_ERROR;
        } else if (!has) {
            char sql[128];
            snprintf(sql, sizeof sql, "ALTER TABLE %s ADD COLUMN %s %s",
                     added_columns[i][0], added_columns[i][1],
                     added_columns[i][2]);
            rc = sqlite3_exec(db, sql, NULL, NULL, msg);
        }
    }
    sqlite3_exec(db, rc == SQLITE_OK ? "COMMIT" : "ROLLBACK", NULL, NULL,
                 NULL);
    return rc;
}

/* How long a connection waits for another process's write. */
#define JOURNAL_BUSY_MS 30000

char *journal_default_path(void)
{
    const char *xdg = getenv("XDG_STATE_HOME");
    if (xdg && *xdg)
        return oab__sprintf("%s/oaibatch/journal.db", xdg);
    const char *home = getenv("HOME");
    if (!home || !*home)
        home = ".";
    return oab__sprintf("%s/.local/state/oaibatch/journal.db", home);
}

int journal_open(journal **out, const char *path, char *errbuf, size_t n)
{
    *out = NULL;
    char *dir = oab__strdup(path);
    if (!dir) {
        snprintf(errbuf, n, "out of memory");
        return -1;
    }
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        if (cli_mkdirs(dir) != 0) {
            snprintf(errbuf, n, "cannot create the folder %s", dir);
            free(dir);
            return -1;
        }
    }
    free(dir);
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        snprintf(errbuf, n, "cannot open the journal %s: %s", path,
                 db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return -1;
    }
    sqlite3_busy_timeout(db, JOURNAL_BUSY_MS);
    char *msg = NULL;
    /* Switching a new file to WAL, or a WAL recovery by another process,
     * can answer SQLITE_BUSY without calling the busy handler: wait and
     * try again, as long as the busy timeout. */
    double waited = 0;
    for (;;) {
        rc = sqlite3_exec(db, schema_sql, NULL, NULL, &msg);
        if (rc == SQLITE_OK)
            rc = migrate(db, &msg);
        if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
            break;
        if (waited * 1000 >= JOURNAL_BUSY_MS)
            break;
        sqlite3_free(msg);
        msg = NULL;
        sqlite3_sleep(20);
        waited += 0.02;
    }
    if (rc != SQLITE_OK) {
        snprintf(errbuf, n, "cannot set up the journal %s: %s", path,
                 msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        sqlite3_close(db);
        return -1;
    }
    journal *j = calloc(1, sizeof *j);
    if (!j || !(j->path = oab__strdup(path))) {
        free(j);
        sqlite3_close(db);
        snprintf(errbuf, n, "out of memory");
        return -1;
    }
    j->db = db;
    *out = j;
    return 0;
}

void journal_close(journal *j)
{
    if (!j)
        return;
    while (j->held)
        journal_lock_release(j, j->held->name);
    sqlite3_close(j->db);
    free(j->path);
    free(j);
}

const char *journal_errmsg(journal *j)
{
    return !j ? "no journal" : j->why ? j->why : sqlite3_errmsg(j->db);
}

const char *journal_path(journal *j)
{
    return j->path;
}

int journal_part_is_retry(const journal_part *part)
{
    return part->kind && !strcmp(part->kind, "retry");
}

static void part_clear(journal_part *p)
{
    free(p->kind);
    free(p->path);
    free(p->input_lines);
    free(p->file_id);
    free(p->batch_id);
    free(p->status);
    free(p->anthropic_map);
}

void journal_job_free(journal_job *job)
{
    if (!job)
        return;
    free(job->id);
    free(job->input_path);
    free(job->fingerprint);
    free(job->base_url);
    free(job->endpoint);
    free(job->model);
    free(job->metadata_json);
    free(job->provider);
    for (size_t i = 0; i < job->n_parts; i++)
        part_clear(&job->parts[i]);
    free(job->parts);
    free(job);
}

void journal_job_list_free(journal_job **jobs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        journal_job_free(jobs[i]);
    free(jobs);
}

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(s, i);
}

static char *col_text(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    return t ? oab__strdup((const char *)t) : NULL;
}

/* Runs one statement that returns no rows. `types` has a letter per
 * parameter: 't' text (NULL binds NULL), 'i' int, 'I' long long. */
static int run_stmt(journal *j, const char *sql, const char *types, ...)
{
    sqlite3_stmt *s = NULL;
    j->why = NULL;
    if (sqlite3_prepare_v2(j->db, sql, -1, &s, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_bind_parameter_count(s) != (int)strlen(types)) {
        sqlite3_finalize(s); /* a programming error: caught by the tests */
        return -1;
    }
    va_list ap;
    va_start(ap, types);
    for (int i = 0; types[i]; i++) {
        if (types[i] == 't')
            bind_text(s, i + 1, va_arg(ap, const char *));
        else if (types[i] == 'i')
            sqlite3_bind_int(s, i + 1, va_arg(ap, int));
        else
            sqlite3_bind_int64(s, i + 1, va_arg(ap, long long));
    }
    va_end(ap);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* Ends a write transaction: COMMIT when ok, else ROLLBACK. 0 or -1. */
static int end_txn(journal *j, int ok)
{
    if (!ok) {
        sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return sqlite3_exec(j->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ? 0
                                                                        : -1;
}

static int insert_part(journal *j, const char *job_id, const journal_part *p)
{
    return run_stmt(j,
                    "INSERT INTO parts(job_id, idx, kind, path, n_lines,"
                    " input_lines, file_id, batch_id, status, updated_at,"
                    " anthropic_map) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
                    "tittIttttIt", job_id, p->idx, p->kind ? p->kind : "part",
                    p->path, (long long)p->n_lines, p->input_lines,
                    p->file_id, p->batch_id, p->status,
                    (long long)oab__unix_now(), p->anthropic_map);
}

int journal_job_insert(journal *j, const journal_job *job)
{
    if (sqlite3_exec(j->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return -1;
    int ok = run_stmt(j,
                      "INSERT INTO jobs(id, created_at, input_path,"
                      " fingerprint, base_url, endpoint, model, n_lines,"
                      " metadata_json, provider) VALUES(?,?,?,?,?,?,?,?,?,?)",
                      "tItttttItt", job->id, job->created_at, job->input_path,
                      job->fingerprint, job->base_url, job->endpoint,
                      job->model, (long long)job->n_lines,
                      job->metadata_json, job->provider) == 0;
    for (size_t i = 0; ok && i < job->n_parts; i++)
        ok = insert_part(j, job->id, &job->parts[i]) == 0;
    return end_txn(j, ok);
}

static int load_parts(journal *j, journal_job *job)
{
    sqlite3_stmt *s = NULL;
    const char *sql =
        "SELECT idx, kind, path, n_lines, input_lines, file_id, batch_id,"
        " status, count_total, count_completed, count_failed, updated_at,"
        " anthropic_map, create_started_at, upload_started_at FROM parts"
        " WHERE job_id = ?"
        " ORDER BY idx";
    if (sqlite3_prepare_v2(j->db, sql, -1, &s, NULL) != SQLITE_OK)
        return -1;
    bind_text(s, 1, job->id);
    int rc;
    size_t cap = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (job->n_parts == cap) {
            size_t nc = cap ? cap * 2 : 4;
            journal_part *np = realloc(job->parts, nc * sizeof *np);
            if (!np) {
                sqlite3_finalize(s);
                return -1;
            }
            job->parts = np;
            cap = nc;
        }
        journal_part *p = &job->parts[job->n_parts++];
        memset(p, 0, sizeof *p);
        p->idx = sqlite3_column_int(s, 0);
        p->kind = col_text(s, 1);
        p->path = col_text(s, 2);
        p->n_lines = (long)sqlite3_column_int64(s, 3);
        p->input_lines = col_text(s, 4);
        p->file_id = col_text(s, 5);
        p->batch_id = col_text(s, 6);
        p->status = col_text(s, 7);
        p->count_total = sqlite3_column_int64(s, 8);
        p->count_completed = sqlite3_column_int64(s, 9);
        p->count_failed = sqlite3_column_int64(s, 10);
        p->updated_at = sqlite3_column_int64(s, 11);
        p->anthropic_map = col_text(s, 12);
        p->create_started_at = sqlite3_column_int64(s, 13);
        p->upload_started_at = sqlite3_column_int64(s, 14);
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

#define JOB_COLS                                                          \
    "id, created_at, input_path, fingerprint, base_url, endpoint, model," \
    " n_lines, metadata_json, provider, settled"

static journal_job *job_from_row(sqlite3_stmt *s)
{
    journal_job *job = calloc(1, sizeof *job);
    if (!job)
        return NULL;
    job->id = col_text(s, 0);
    job->created_at = sqlite3_column_int64(s, 1);
    job->input_path = col_text(s, 2);
    job->fingerprint = col_text(s, 3);
    job->base_url = col_text(s, 4);
    job->endpoint = col_text(s, 5);
    job->model = col_text(s, 6);
    job->n_lines = (long)sqlite3_column_int64(s, 7);
    job->metadata_json = col_text(s, 8);
    job->provider = col_text(s, 9);
    job->settled = sqlite3_column_int(s, 10) != 0;
    return job;
}

static int get_one(journal *j, const char *sql, const char *arg,
                   journal_job **out)
{
    *out = NULL;
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(j->db, sql, -1, &s, NULL) != SQLITE_OK)
        return -1;
    bind_text(s, 1, arg);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) {
        sqlite3_finalize(s);
        return 1;
    }
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(s);
        return -1;
    }
    journal_job *job = job_from_row(s);
    sqlite3_finalize(s);
    if (!job || load_parts(j, job) != 0) {
        journal_job_free(job);
        return -1;
    }
    *out = job;
    return 0;
}

int journal_job_get(journal *j, const char *id, journal_job **out)
{
    return get_one(j, "SELECT " JOB_COLS " FROM jobs WHERE id = ?", id, out);
}

int journal_job_by_fingerprint(journal *j, const char *fingerprint,
                               journal_job **out)
{
    return get_one(j,
                   "SELECT " JOB_COLS " FROM jobs WHERE fingerprint = ?"
                   " ORDER BY created_at DESC, rowid DESC LIMIT 1",
                   fingerprint, out);
}

int journal_find_batch(journal *j, const char *batch_id, char **job_id_out,
                       int *idx_out)
{
    *job_id_out = NULL;
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(j->db,
                           "SELECT job_id, idx FROM parts WHERE batch_id = ?"
                           " LIMIT 1",
                           -1, &s, NULL) != SQLITE_OK)
        return -1;
    bind_text(s, 1, batch_id);
    int rc = sqlite3_step(s);
    int ret = rc == SQLITE_DONE ? 1 : -1;
    if (rc == SQLITE_ROW) {
        *job_id_out = col_text(s, 0);
        *idx_out = sqlite3_column_int(s, 1);
        ret = *job_id_out ? 0 : -1;
    }
    sqlite3_finalize(s);
    return ret;
}

int journal_jobs_list(journal *j, int limit, journal_job ***out, size_t *n_out)
{
    *out = NULL;
    *n_out = 0;
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(j->db,
                           "SELECT " JOB_COLS " FROM jobs"
                           " ORDER BY created_at DESC, rowid DESC LIMIT ?",
                           -1, &s, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int(s, 1, limit > 0 ? limit : -1);
    journal_job **jobs = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            journal_job **nj = realloc(jobs, nc * sizeof *nj);
            if (!nj)
                break;
            jobs = nj;
            cap = nc;
        }
        journal_job *job = job_from_row(s);
        if (!job)
            break;
        jobs[n++] = job;
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        journal_job_list_free(jobs, n);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (load_parts(j, jobs[i]) != 0) {
            journal_job_list_free(jobs, n);
            return -1;
        }
    }
    *out = jobs;
    *n_out = n;
    return 0;
}

#define PART_SET(column)                                       \
    "UPDATE parts SET " column " = ?, updated_at = ?"          \
    " WHERE job_id = ? AND idx = ?"

static int part_set(journal *j, const char *sql, const char *job_id, int idx,
                    const char *value)
{
    if (run_stmt(j, sql, "tIti", value, (long long)oab__unix_now(), job_id,
                 idx) != 0)
        return -1;
    /* no row: the job was removed meanwhile (`jobs rm` by another
     * process); a file or batch made for it must not pass unrecorded */
    if (sqlite3_changes(j->db) == 0) {
        j->why = "the job's part is no longer in the journal (the job was"
                 " removed meanwhile)";
        return -1;
    }
    return 0;
}

int journal_part_set_file(journal *j, const char *job_id, int idx,
                          const char *file_id)
{
    return part_set(j, PART_SET("file_id"), job_id, idx, file_id);
}

int journal_part_set_batch(journal *j, const char *job_id, int idx,
                           const char *batch_id)
{
    return part_set(j, PART_SET("batch_id"), job_id, idx, batch_id);
}

int journal_part_set_batch_map(journal *j, const char *job_id, int idx,
                               const char *batch_id, const char *map_json)
{
    return run_stmt(j,
                    "UPDATE parts SET batch_id = ?, anthropic_map = ?,"
                    " updated_at = ? WHERE job_id = ? AND idx = ?",
                    "ttIti", batch_id, map_json, (long long)oab__unix_now(),
                    job_id, idx);
}

int journal_part_set_create_started(journal *j, const char *job_id, int idx,
                                    const char *map_json, long long at)
{
    return run_stmt(j,
                    "UPDATE parts SET anthropic_map = ?, create_started_at = ?,"
                    " updated_at = ? WHERE job_id = ? AND idx = ?",
                    "tIIti", map_json, at, (long long)oab__unix_now(), job_id,
                    idx);
}

int journal_part_set_upload_started(journal *j, const char *job_id, int idx,
                                    long long at)
{
    return run_stmt(j,
                    "UPDATE parts SET upload_started_at = ?, updated_at = ?"
                    " WHERE job_id = ? AND idx = ?",
                    "IIti", at, (long long)oab__unix_now(), job_id, idx);
}

int journal_part_set_status(journal *j, const char *job_id, int idx,
                            const char *status, long long total,
                            long long completed, long long failed)
{
    return run_stmt(j,
                    "UPDATE parts SET status = ?, count_total = ?,"
                    " count_completed = ?, count_failed = ?,"
                    " updated_at = ? WHERE job_id = ? AND idx = ?",
                    "tIIIIti", status, total, completed, failed,
                    (long long)oab__unix_now(), job_id, idx);
}

int journal_part_add(journal *j, const char *job_id, journal_part *part)
{
    if (sqlite3_exec(j->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return -1;
    sqlite3_stmt *s = NULL;
    int ok = sqlite3_prepare_v2(j->db,
                                "SELECT COALESCE(MAX(idx), 0) FROM parts"
                                " WHERE job_id = ?",
                                -1, &s, NULL) == SQLITE_OK;
    if (ok) {
        bind_text(s, 1, job_id);
        ok = sqlite3_step(s) == SQLITE_ROW;
        if (ok)
            part->idx = sqlite3_column_int(s, 0) + 1;
    }
    sqlite3_finalize(s);
    if (ok)
        ok = insert_part(j, job_id, part) == 0;
    return end_txn(j, ok);
}

/* ---- line ranges ---- */

char *journal_ranges_encode(const long *lines, size_t n)
{
    oab__buf b = OAB__BUF_INIT;
    size_t i = 0;
    while (i < n) {
        size_t k = i;
        while (k + 1 < n && lines[k + 1] == lines[k] + 1)
            k++;
        if (b.len)
            oab__buf_putc(&b, ',');
        if (k > i)
            oab__buf_printf(&b, "%ld-%ld", lines[i], lines[k]);
        else
            oab__buf_printf(&b, "%ld", lines[i]);
        i = k + 1;
    }
    return oab__buf_take(&b, NULL);
}

long *journal_ranges_decode(const char *text, size_t *n)
{
    *n = 0;
    size_t cap = 16, len = 0;
    long *v = malloc(cap * sizeof *v);
    if (!v)
        return NULL;
    const char *p = text ? text : "";
    while (*p) {
        char *end;
        long a = strtol(p, &end, 10);
        if (end == p)
            goto bad;
        long b = a;
        p = end;
        if (*p == '-') {
            b = strtol(p + 1, &end, 10);
            if (end == p + 1 || b < a)
                goto bad;
            p = end;
        }
        for (long x = a; x <= b; x++) {
            if (len == cap) {
                cap *= 2;
                long *nv = realloc(v, cap * sizeof *nv);
                if (!nv)
                    goto bad;
                v = nv;
            }
            v[len++] = x;
        }
        if (*p == ',')
            p++;
        else if (*p)
            goto bad;
    }
    *n = len;
    return v;
bad:
    free(v);
    return NULL;
}

int journal_job_set_settled(journal *j, const char *id, int settled)
{
    return run_stmt(j, "UPDATE jobs SET settled = ? WHERE id = ?", "it",
                    settled != 0, id);
}

int journal_job_set_base_url(journal *j, const char *id, const char *url)
{
    return run_stmt(j, "UPDATE jobs SET base_url = ? WHERE id = ?", "tt",
                    url, id);
}

int journal_job_delete(journal *j, const char *id)
{
    if (sqlite3_exec(j->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return -1;
    int ok = run_stmt(j, "DELETE FROM line_maps WHERE job_id = ?", "t",
                      id) == 0 &&
             run_stmt(j, "DELETE FROM parts WHERE job_id = ?", "t", id) == 0 &&
             run_stmt(j, "DELETE FROM jobs WHERE id = ?", "t", id) == 0;
    return end_txn(j, ok);
}

/* ---- status from what was last seen ---- */

const char *journal_job_status(const journal_job *j)
{
    /* from the statuses last seen: unfinished first, then completed */
    static const char *const order[] = { "not_uploaded", "not_created",
                                         "validating", "in_progress",
                                         "finalizing", "cancelling" };
    for (size_t k = 0; k < sizeof order / sizeof order[0]; k++)
        for (size_t i = 0; i < j->n_parts; i++) {
            const journal_part *p = &j->parts[i];
            /* an Anthropic part has a batch and no file */
            const char *s = !p->file_id && !p->batch_id ? "not_uploaded"
                            : !p->batch_id ? "not_created"
                            : p->status    ? p->status
                                           : "validating";
            if (!strcmp(s, order[k]))
                return order[k];
        }
    /* every line answered, through retries (cli_target_settle) */
    if (j->settled)
        return "completed";
    for (size_t i = 0; i < j->n_parts; i++)
        if (j->parts[i].status && strcmp(j->parts[i].status, "completed"))
            return j->parts[i].status;
    return "completed";
}

int journal_job_finished(const journal_job *j)
{
    static const char *const ended[] = { "completed", "failed", "expired",
                                         "cancelled" };
    const char *s = journal_job_status(j);
    for (size_t k = 0; k < sizeof ended / sizeof ended[0]; k++)
        if (!strcmp(s, ended[k]))
            return 1;
    return 0;
}

/* ---- locks between processes ---- */

/* The file of lock `name`: JOURNAL-locks/ and a hash of the name (FNV-1a,
 * 64 bits: the names hold fingerprints and job ids, never a path). */
static char *lock_file(const journal *j, const char *name, int mkdir_too)
{
    unsigned long long h = 1469598103934665603ULL;
    for (const unsigned char *c = (const unsigned char *)name; *c; c++)
        h = (h ^ *c) * 1099511628211ULL;
    oab__buf b = {0};
    if (oab__buf_printf(&b, "%s-locks", j->path) != OAB_OK)
        return NULL;
    if (mkdir_too && mkdir(b.data, 0700) != 0 && errno != EEXIST) {
        oab__buf_free(&b);
        return NULL;
    }
    if (oab__buf_printf(&b, "/%016llx", h) != OAB_OK) {
        oab__buf_free(&b);
        return NULL;
    }
    return b.data;
}

static int lock_fail(journal *j, const char *what, const char *file)
{
    snprintf(j->whybuf, sizeof j->whybuf, "cannot %s the lock file %s: %s",
             what, file ? file : "(none)", strerror(errno));
    j->why = j->whybuf;
    return -1;
}

/* The lock is the flock of its file, held while this process has it open:
 * the kernel drops it when the process ends however it ends, and it holds
 * between processes that do not see each other's ids (containers sharing
 * the journal's folder; hosts on NFS, where Linux maps flock to a POSIX
 * lock). The row in `locks` only names the holder in messages. Release
 * unlinks the file while it is still locked, so a process that opened it
 * before finds, once it gets the lock, that its file is no longer the one
 * named, and opens it again. */
int journal_lock_try(journal *j, const char *name, long *holder)
{
    *holder = 0;
    for (held_lock *h = j->held; h; h = h->next)
        if (!strcmp(h->name, name))
            return 0;
    char *file = lock_file(j, name, 1);
    if (!file)
        return lock_fail(j, "create the folder of", NULL);
    int fd = -1;
    for (;;) {
        fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0) {
            lock_fail(j, "open", file);
            free(file);
            return -1;
        }
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int e = errno;
            close(fd);
            if (e != EWOULDBLOCK && e != EINTR) {
                errno = e;
                lock_fail(j, "lock", file);
                free(file);
                return -1;
            }
            free(file);
            /* held: whose, for the message (0 when it is not said) */
            sqlite3_stmt *s = NULL;
            if (sqlite3_prepare_v2(j->db, "SELECT pid FROM locks WHERE"
                                   " name = ?", -1, &s, NULL) == SQLITE_OK) {
                bind_text(s, 1, name);
                if (sqlite3_step(s) == SQLITE_ROW)
                    *holder = (long)sqlite3_column_int64(s, 0);
            }
            sqlite3_finalize(s);
            return 1;
        }
        struct stat a, b;
        if (fstat(fd, &a) == 0 && stat(file, &b) == 0 && a.st_dev == b.st_dev &&
            a.st_ino == b.st_ino)
            break;
        close(fd); /* released and unlinked meanwhile: open it anew */
    }
    held_lock *h = calloc(1, sizeof *h);
    if (!h || !(h->name = oab__strdup(name))) {
        free(h);
        close(fd);
        free(file);
        j->why = "out of memory";
        return -1;
    }
    h->file = file;
    h->fd = fd;
    h->next = j->held;
    j->held = h;
    if (run_stmt(j, "INSERT OR REPLACE INTO locks(name, pid, taken_at)"
                    " VALUES(?,?,?)", "tII", name, (long long)getpid(),
                 (long long)oab__unix_now()) != 0) {
        journal_lock_release(j, name);
        return -1;
    }
    return 0;
}

int journal_lock_release(journal *j, const char *name)
{
    held_lock **pp = &j->held;
    while (*pp && strcmp((*pp)->name, name) != 0)
        pp = &(*pp)->next;
    held_lock *h = *pp;
    if (!h)
        return 0;
    *pp = h->next;
    int rc = run_stmt(j, "DELETE FROM locks WHERE name = ? AND pid = ?", "tI",
                      name, (long long)getpid());
    unlink(h->file); /* while locked: see journal_lock_try */
    close(h->fd);
    free(h->file);
    free(h->name);
    free(h);
    return rc;
}

/* ---- the enqueued-token queue and the answers (new tables) ---- */

static const char *extra_sql =
    "CREATE TABLE IF NOT EXISTS queue_jobs("
    " job_id TEXT PRIMARY KEY, token_limit INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS queue_parts("
    " job_id TEXT NOT NULL, idx INTEGER NOT NULL,"
    " tokens INTEGER NOT NULL, refusals INTEGER DEFAULT 0,"
    " PRIMARY KEY(job_id, idx));"
    "CREATE TABLE IF NOT EXISTS answers("
    " hash TEXT PRIMARY KEY, job_id TEXT, batch_id TEXT, line INTEGER,"
    " record TEXT NOT NULL);";

static int extra_tables(journal *j)
{
    return sqlite3_exec(j->db, extra_sql, NULL, NULL, NULL) == SQLITE_OK ? 0
                                                                         : -1;
}

int journal_queue_set(journal *j, const char *job_id, long long limit,
                      const long long *tokens, size_t n)
{
    if (extra_tables(j) != 0 ||
        sqlite3_exec(j->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return -1;
    int ok = run_stmt(j, "INSERT OR REPLACE INTO queue_jobs(job_id,"
                         " token_limit) VALUES(?,?)", "tI", job_id,
                      limit) == 0;
    for (size_t i = 0; ok && i < n; i++)
        ok = run_stmt(j, "INSERT OR REPLACE INTO queue_parts(job_id, idx,"
                         " tokens) VALUES(?,?,?)", "tiI", job_id,
                      (int)i + 1, tokens[i]) == 0;
    return end_txn(j, ok);
}

int journal_queue_get(journal *j, const char *job_id, long long *limit,
                      long long **tokens, size_t *n)
{
    *limit = 0;
    *tokens = NULL;
    *n = 0;
    if (extra_tables(j) != 0)
        return -1;
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(j->db, "SELECT token_limit FROM queue_jobs WHERE"
                           " job_id = ?", -1, &s, NULL) != SQLITE_OK)
        return -1;
    bind_text(s, 1, job_id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *limit = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? 1 : -1;
    if (sqlite3_prepare_v2(j->db, "SELECT idx, tokens FROM queue_parts WHERE"
                           " job_id = ? ORDER BY idx", -1, &s,
                           NULL) != SQLITE_OK)
        return -1;
    bind_text(s, 1, job_id);
    size_t cap = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        int idx = sqlite3_column_int(s, 0);
        if (idx < 1)
            continue;
        if ((size_t)idx > cap) {
            size_t nc = (size_t)idx * 2;
            long long *g = realloc(*tokens, nc * sizeof *g);
            if (!g) {
                rc = SQLITE_NOMEM;
                break;
            }
            memset(g + cap, 0, (nc - cap) * sizeof *g);
            *tokens = g;
            cap = nc;
        }
        (*tokens)[idx - 1] = sqlite3_column_int64(s, 1);
        if ((size_t)idx > *n)
            *n = (size_t)idx;
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        free(*tokens);
        *tokens = NULL;
        *n = 0;
        return -1;
    }
    return 0;
}

int journal_queue_requeue(journal *j, const char *job_id, int idx)
{
    if (extra_tables(j) != 0 ||
        sqlite3_exec(j->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return -1;
    int ok = run_stmt(j, "UPDATE parts SET batch_id = NULL, status = 'queued',"
                         " count_total = 0, count_completed = 0,"
                         " count_failed = 0, updated_at = ? WHERE job_id = ?"
                         " AND idx = ?", "Iti", (long long)oab__unix_now(),
                      job_id, idx) == 0 &&
             run_stmt(j, "UPDATE queue_parts SET refusals = refusals + 1"
                         " WHERE job_id = ? AND idx = ?", "ti", job_id,
                      idx) == 0;
    return end_txn(j, ok);
}

long journal_queue_refusals(journal *j, const char *job_id, int idx)
{
    sqlite3_stmt *s = NULL;
    if (extra_tables(j) != 0 ||
        sqlite3_prepare_v2(j->db, "SELECT refusals FROM queue_parts WHERE"
                           " job_id = ? AND idx = ?", -1, &s,
                           NULL) != SQLITE_OK)
        return 0;
    bind_text(s, 1, job_id);
    sqlite3_bind_int(s, 2, idx);
    long n = sqlite3_step(s) == SQLITE_ROW ? (long)sqlite3_column_int64(s, 0)
                                           : 0;
    sqlite3_finalize(s);
    return n;
}

int journal_answer_put(journal *j, const char *hash, const char *job_id,
                       const char *batch_id, long line, const char *record)
{
    if (extra_tables(j) != 0)
        return -1;
    return run_stmt(j, "INSERT OR IGNORE INTO answers(hash, job_id, batch_id,"
                       " line, record) VALUES(?,?,?,?,?)", "tttIt", hash,
                    job_id, batch_id, (long long)line, record);
}

int journal_answer_get(journal *j, const char *hash, journal_answer *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *s = NULL;
    if (extra_tables(j) != 0 ||
        sqlite3_prepare_v2(j->db, "SELECT job_id, batch_id, line, record"
                           " FROM answers WHERE hash = ?", -1, &s,
                           NULL) != SQLITE_OK)
        return -1;
    bind_text(s, 1, hash);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        out->job_id = col_text(s, 0);
        out->batch_id = col_text(s, 1);
        out->line = (long)sqlite3_column_int64(s, 2);
        out->record = col_text(s, 3);
    }
    sqlite3_finalize(s);
    if (rc == SQLITE_ROW && !out->record) {
        journal_answer_clear(out);
        return -1;
    }
    return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
}

void journal_answer_clear(journal_answer *a)
{
    free(a->job_id);
    free(a->batch_id);
    free(a->record);
    memset(a, 0, sizeof *a);
}

int journal_answers_begin(journal *j)
{
    if (extra_tables(j) != 0)
        return -1;
    return sqlite3_exec(j->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) ==
                   SQLITE_OK
               ? 0
               : -1;
}

int journal_answers_commit(journal *j)
{
    return end_txn(j, 1);
}

/* ---- line maps ---- */

void journal_linemap_clear(journal_linemap *m)
{
    free(m->input_path);
    free(m->input_sha256);
    free(m->map);
    memset(m, 0, sizeof *m);
}

int journal_linemaps_put(journal *j, const char *job_id, const int *idx,
                         const journal_linemap *maps, size_t n)
{
    if (sqlite3_exec(j->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return -1;
    sqlite3_stmt *s = NULL;
    int ok = sqlite3_prepare_v2(j->db,
                                "INSERT OR REPLACE INTO line_maps(job_id,"
                                " idx, input_path, input_size, input_sha256,"
                                " lines_sha256, n_lines, map)"
                                " VALUES(?,?,?,?,?,?,?,?)",
                                -1, &s, NULL) == SQLITE_OK;
    for (size_t i = 0; ok && i < n; i++) {
        const journal_linemap *m = &maps[i];
        sqlite3_reset(s);
        bind_text(s, 1, job_id);
        sqlite3_bind_int(s, 2, idx[i]);
        bind_text(s, 3, m->input_path);
        sqlite3_bind_int64(s, 4, m->input_size);
        bind_text(s, 5, m->input_sha256);
        bind_text(s, 6, m->lines_sha256);
        sqlite3_bind_int64(s, 7, m->n_lines);
        sqlite3_bind_blob(s, 8, m->map ? (const void *)m->map : "",
                          (int)m->map_len, SQLITE_STATIC);
        ok = sqlite3_step(s) == SQLITE_DONE;
    }
    sqlite3_finalize(s);
    return end_txn(j, ok);
}

int journal_linemap_get(journal *j, const char *job_id, int idx,
                        journal_linemap *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(j->db,
                           "SELECT input_path, input_size, input_sha256,"
                           " lines_sha256, n_lines, map FROM line_maps"
                           " WHERE job_id = ? AND idx = ?",
                           -1, &s, NULL) != SQLITE_OK)
        return -1;
    bind_text(s, 1, job_id);
    sqlite3_bind_int(s, 2, idx);
    int rc = sqlite3_step(s);
    int ret = rc == SQLITE_DONE ? 1 : -1;
    if (rc == SQLITE_ROW) {
        out->input_path = col_text(s, 0);
        out->input_size = sqlite3_column_int64(s, 1);
        out->input_sha256 = col_text(s, 2);
        const unsigned char *h = sqlite3_column_text(s, 3);
        snprintf(out->lines_sha256, sizeof out->lines_sha256, "%s",
                 h ? (const char *)h : "");
        out->n_lines = (long)sqlite3_column_int64(s, 4);
        const void *b = sqlite3_column_blob(s, 5);
        out->map_len = (size_t)sqlite3_column_bytes(s, 5);
        out->map = malloc(out->map_len ? out->map_len : 1);
        if (out->map && b)
            memcpy(out->map, b, out->map_len);
        ret = out->input_path && out->input_sha256 && out->map ? 0 : -1;
        if (ret)
            journal_linemap_clear(out);
    }
    sqlite3_finalize(s);
    return ret;
}

int journal_linemap_has(journal *j, const char *job_id, int idx)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(j->db,
                           "SELECT 1 FROM line_maps WHERE job_id = ?"
                           " AND idx = ?",
                           -1, &s, NULL) != SQLITE_OK)
        return -1;
    bind_text(s, 1, job_id);
    sqlite3_bind_int(s, 2, idx);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}
