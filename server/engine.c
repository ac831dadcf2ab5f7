/* engine.c - the batch engine: validates input files, runs lines against
 * the upstream (curl multi) or the built-in test model within the
 * concurrency and rate limits, records each finished line in SQLite, and
 * writes the output and error files when a batch ends.
 *
 * Exactly-once: finished lines are appended to the batch's two spool
 * files (<batch>_output.jsonl, <batch>_error.jsonl); then one transaction
 * marks their rows of `lines` done (state 1 ok, 2 error), adds them to
 * request_counts and usage, and records the spools' new lengths. After a
 * crash the spools are cut back to the recorded lengths and only rows
 * still in state 0 are sent again, so every custom_id ends exactly once
 * in one of the files. At the end the spools become the batch's output
 * and error files (unfinished lines added to the error file). */
#include "oaibatch.h"
#include <cjson/cJSON.h>
#include "util/buf.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/str.h"
#include "server.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define PAGE 512
#define MAX_RESP_BYTES (64u * 1024 * 1024)

typedef struct bctx {
    struct bctx *next;
    long long seq;
    char id[64];
    char endpoint[64];
    char owner[17];
    int fd;
    long long cursor;       /* next idx to look at */
    int exhausted;          /* no pending line at or after cursor */
    long long pidx[PAGE], poff[PAGE], plen[PAGE];
    int pn, ppos;
    int inflight;           /* slots of this batch */
    int stopping;           /* 0 running, 1 cancelling, 2 expired */
    long long expires_at;
    /* spools: [0] output, [1] error */
    int sfd[2];
    long long committed[2]; /* lengths recorded in the batches row */
    long long written[2];   /* bytes written to the spool */
    oab__buf pend[2];       /* finished lines not written yet */
} bctx;

enum slot_state { S_DUE, S_RUNNING };

typedef struct slot {
    struct slot *next;
    bctx *b;
    long long idx;
    char *custom_id;
    char *body;             /* request body text */
    size_t body_len;
    int attempt;
    int state;
    double due;
    CURL *easy;
    struct curl_slist *hdrs;
    oab__buf resp;
    double retry_after;     /* seconds; -1 none */
    char request_id[80];
    int trusted;            /* the answer is the builtin's compact JSON */
    srv_usage known;        /* and its usage */
} slot;

typedef struct done_rec {
    long long seq, idx;
    int state;              /* 1 ok, 2 error */
    srv_usage u;
    bctx *b;
} done_rec;

static char *spool_path(srv *s, const char *batch_id, int k)
{
    return oab__sprintf("%s/%s_%s.jsonl", s->files_dir, batch_id,
                        k ? "error" : "output");
}

typedef struct engine {
    srv *s;
    sqlite3 *db;
    CURLM *multi;
    bctx *active;
    slot *slots;
    int nslots;
    done_rec *done;
    size_t ndone, capdone;
    double last_commit, last_scan;
    double rpm_tokens, tpm_tokens, last_refill;
    bctx *rr;               /* round-robin position */
} engine;

/* The body path of a file id (the files row's path), new or NULL. */
static char *input_path(engine *e, const char *file_id)
{
    return srv_file_path(e->db, e->s->files_dir, file_id, NULL);
}

void srv_engine_wake(srv *s)
{
    engine *e = s->engine;
    pthread_mutex_lock(&s->wake_lock);
    s->wake_flag = 1;
    pthread_mutex_unlock(&s->wake_lock);
    if (e && e->multi)
        curl_multi_wakeup(e->multi);
}

/* ---------------------------------------------------------------- */
/* validation                                                         */
/* ---------------------------------------------------------------- */

static void set_failed(engine *e, long long seq, const char *id,
                       const char *errors_json)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(e->db,
            "UPDATE batches SET status='failed', failed_at=?, errors=?"
            " WHERE seq=?", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, oab__unix_now());
        sqlite3_bind_text(st, 2, errors_json, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, seq);
        sqlite3_step(st);
    }
    sqlite3_finalize(st);
    srv_log("batch %s: failed", id);
}

static void add_problem(cJSON *data, const char *code, const char *message,
                        const char *param, long line)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "code", code);
    cJSON_AddStringToObject(p, "message", message);
    if (param)
        cJSON_AddStringToObject(p, "param", param);
    else
        cJSON_AddNullToObject(p, "param");
    if (line > 0)
        cJSON_AddNumberToObject(p, "line", (double)line);
    else
        cJSON_AddNullToObject(p, "line");
    cJSON_AddItemToArray(data, p);
}

typedef struct vstate {
    engine *e;
    sqlite3_stmt *ins;
    long long idx;
    int dup;
    long dup_line;
} vstate;

/* Records one input line (the bytes in `line`, at `off`, `size` long) of
 * batch `seq` as line number `idx`; blank lines are not recorded.
 * Returns 1 when a line was recorded. */
static int insert_line(sqlite3_stmt *ins, long long seq, long long idx,
                       const oab__buf *line, long long off, long long size)
{
    size_t len = line->len;
    while (len && (line->data[len - 1] == '\r' || line->data[len - 1] == ' '))
        len--;
    if (!len)
        return 0;
    cJSON *j = cJSON_ParseWithLength(line->data, len);
    const char *cid = oab__json_str(j, "custom_id");
    sqlite3_reset(ins);
    sqlite3_bind_int64(ins, 1, seq);
    sqlite3_bind_int64(ins, 2, idx);
    if (cid)
        sqlite3_bind_text(ins, 3, cid, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(ins, 3);
    sqlite3_bind_int64(ins, 4, off);
    sqlite3_bind_int64(ins, 5, size);
    sqlite3_step(ins);
    cJSON_Delete(j);
    return 1;
}

static void validate_batch(engine *e, long long seq, const char *id,
                           const char *endpoint, const char *input_file_id)
{
    srv *s = e->s;
    char *path = input_path(e, input_file_id);
    int fd = path ? open(path, O_RDONLY) : -1;
    free(path);
    cJSON *errs = cJSON_CreateObject();
    cJSON_AddStringToObject(errs, "object", "list");
    cJSON *data = cJSON_AddArrayToObject(errs, "data");
    if (fd < 0) {
        add_problem(data, "file_not_found",
                    "The input file could not be read.", "input_file_id", 0);
        char *t = cJSON_PrintUnformatted(errs);
        set_failed(e, seq, id, t);
        free(t);
        cJSON_Delete(errs);
        return;
    }
    oab_validate_options vo = OAB_VALIDATE_OPTIONS_INIT;
    vo.min_requests = -1;
    vo.expected_url = endpoint;
    vo.max_problems = 100;
    vo.max_bytes = s->cfg.max_file_bytes > OAB_MAX_FILE_BYTES
                       ? s->cfg.max_file_bytes
                       : OAB_MAX_FILE_BYTES;
    oab_validator *v = NULL;
    oab_validator_new(&v, &vo);
    srv_db_exec(e->db, "BEGIN IMMEDIATE");
    sqlite3_stmt *del = NULL;
    sqlite3_prepare_v2(e->db, "DELETE FROM lines WHERE batch_seq=?", -1, &del,
                       NULL);
    sqlite3_bind_int64(del, 1, seq);
    sqlite3_step(del);
    sqlite3_finalize(del);
    sqlite3_stmt *ins = NULL;
    sqlite3_prepare_v2(e->db,
                       "INSERT INTO lines(batch_seq, idx, custom_id, off, len)"
                       " VALUES(?,?,?,?,?)", -1, &ins, NULL);
    char *chunk = malloc(256 * 1024);
    oab__buf line = OAB__BUF_INIT;
    long long line_off = 0, pos = 0, idx = 0;
    long lineno = 0;
    int io_error = 0;
    for (;;) {
        ssize_t n = read(fd, chunk, 256 * 1024);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            io_error = 1;
        if (n <= 0)
            break;
        if (v)
            oab_validator_feed(v, chunk, (size_t)n);
        size_t start = 0;
        for (size_t i = 0; i <= (size_t)n; i++) {
            int eol = i < (size_t)n && chunk[i] == '\n';
            if (i == (size_t)n) {
                if (start < (size_t)n && line.len < 64u * 1024 * 1024)
                    oab__buf_append(&line, chunk + start, (size_t)n - start);
                break;
            }
            if (!eol)
                continue;
            if (line.len < 64u * 1024 * 1024)
                oab__buf_append(&line, chunk + start, i - start);
            start = i + 1;
            /* one line: [line_off, pos + i) */
            lineno++;
            long long end = pos + (long long)i;
            if (insert_line(ins, seq, idx, &line, line_off, end - line_off))
                idx++;
            line_off = end + 1;
            oab__buf_clear(&line);
        }
        pos += n;
    }
    /* a last line without a newline */
    if (line.len && insert_line(ins, seq, idx, &line, line_off, pos - line_off))
        idx++;
    sqlite3_finalize(ins);
    oab__buf_free(&line);
    free(chunk);
    close(fd);
    oab_validation *rep = NULL;
    oab_status vs = v ? oab_validator_finish(v, &rep) : OAB_ENOMEM;
    oab_validator_free(v);
    if (io_error)
        add_problem(data, "file_unreadable",
                    "The input file could not be read.", "input_file_id", 0);
    if (vs == OAB_EVALIDATION && rep) {
        for (size_t i = 0; i < rep->n_problems; i++)
            add_problem(data, rep->problems[i].code ? rep->problems[i].code
                                                    : "invalid_request",
                        rep->problems[i].message ? rep->problems[i].message
                                                 : "invalid line",
                        rep->problems[i].param, rep->problems[i].line);
        if (cJSON_GetArraySize(data) == 0)
            add_problem(data, "invalid_file", "The input file is invalid.",
                        NULL, 0);
    } else if (vs != OAB_OK) {
        add_problem(data, "validation_error",
                    "The input file could not be validated.", NULL, 0);
    }
    const char *model = rep ? rep->model : NULL;
    if (cJSON_GetArraySize(data) > 0) {
        srv_db_exec(e->db, "ROLLBACK");
        char *t = cJSON_PrintUnformatted(errs);
        set_failed(e, seq, id, t);
        free(t);
    } else {
        sqlite3_stmt *st = NULL;
        long long now = oab__unix_now();
        for (int k = 0; k < 2; k++) {
            char *sp = spool_path(s, id, k);
            unlink(sp);
            free(sp);
        }
        sqlite3_prepare_v2(e->db,
            "UPDATE batches SET total=?, model=?, in_progress_at=?,"
            " out_bytes=0, err_bytes=0,"
            " status=CASE status WHEN 'validating' THEN 'in_progress'"
            " ELSE status END WHERE seq=?", -1, &st, NULL);
        sqlite3_bind_int64(st, 1, idx);
        if (model)
            sqlite3_bind_text(st, 2, model, -1, SQLITE_TRANSIENT);
        else
            sqlite3_bind_null(st, 2);
        sqlite3_bind_int64(st, 3, now);
        sqlite3_bind_int64(st, 4, seq);
        sqlite3_step(st);
        sqlite3_finalize(st);
        srv_db_exec(e->db, "COMMIT");
        srv_log("batch %s: in_progress (%lld lines)", id, idx);
    }
    oab_validation_free(rep);
    cJSON_Delete(errs);
}

/* ---------------------------------------------------------------- */
/* finishing a batch                                                  */
/* ---------------------------------------------------------------- */

static void free_bctx(bctx *b)
{
    if (b->fd >= 0)
        close(b->fd);
    for (int k = 0; k < 2; k++) {
        if (b->sfd[k] >= 0)
            close(b->sfd[k]);
        oab__buf_free(&b->pend[k]);
    }
    free(b);
}

/* kind: 0 completed, 1 cancelled, 2 expired. The batch is not active
 * (its spools are closed) and all its finished lines are committed. */
static void finalize_batch(engine *e, long long seq, const char *id,
                           const char *owner, int kind)
{
    srv *s = e->s;
    long long now = oab__unix_now();
    long long len[2] = {0, 0};
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(e->db, "SELECT out_bytes, err_bytes FROM batches"
                              " WHERE seq=?", -1, &st, NULL);
    sqlite3_bind_int64(st, 1, seq);
    if (sqlite3_step(st) == SQLITE_ROW) {
        len[0] = sqlite3_column_int64(st, 0);
        len[1] = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    if (kind == 0) {
        sqlite3_prepare_v2(e->db,
            "UPDATE batches SET status='finalizing',"
            " finalizing_at=COALESCE(finalizing_at, ?) WHERE seq=?", -1, &st,
            NULL);
        sqlite3_bind_int64(st, 1, now);
        sqlite3_bind_int64(st, 2, seq);
        sqlite3_step(st);
        sqlite3_finalize(st);
        srv_log("batch %s: finalizing", id);
    }
    char *path[2] = {spool_path(s, id, 0), spool_path(s, id, 1)};
    int fd[2];
    int bad = 0;
    for (int k = 0; k < 2; k++) {
        fd[k] = open(path[k], O_RDWR | O_CREAT, 0600);
        /* drop whatever was written after the last commit */
        if (fd[k] < 0 || ftruncate(fd[k], (off_t)len[k]) != 0)
            bad = 1;
    }
    /* the lines that never finished go to the error file */
    static const char *const codes[] = {"line_unavailable", "batch_cancelled",
                                        "batch_expired"};
    static const char *const msgs[] = {
        "The input line could not be read (input file removed?).",
        "This request was not executed because the batch was cancelled.",
        "This request could not be executed before the completion window"
        " expired."};
    long long unfinished = 0;
    oab__buf eb = OAB__BUF_INIT;
    sqlite3_prepare_v2(e->db,
                       "SELECT custom_id FROM lines WHERE batch_seq=?"
                       " AND state=0 ORDER BY idx", -1, &st, NULL);
    sqlite3_bind_int64(st, 1, seq);
    while (!bad && sqlite3_step(st) == SQLITE_ROW) {
        const char *cid = (const char *)sqlite3_column_text(st, 0);
        char rid[48];
        srv_random_id(rid, sizeof rid, "batch_req_", 24);
        oab__buf_printf(&eb, "{\"id\":\"%s\",\"custom_id\":", rid);
        oab__buf_json_string(&eb, cid ? cid : "", cid ? strlen(cid) : 0);
        oab__buf_printf(&eb,
                        ",\"response\":null,\"error\":{\"code\":\"%s\","
                        "\"message\":\"%s\"}}\n",
                        codes[kind], msgs[kind]);
        unfinished++;
        if (eb.len > 1 << 20) {
            if (pwrite(fd[1], eb.data, eb.len, (off_t)len[1]) !=
                (ssize_t)eb.len)
                bad = 1;
            len[1] += (long long)eb.len;
            oab__buf_clear(&eb);
        }
    }
    sqlite3_finalize(st);
    if (!bad && eb.len) {
        if (pwrite(fd[1], eb.data, eb.len, (off_t)len[1]) != (ssize_t)eb.len)
            bad = 1;
        len[1] += (long long)eb.len;
    }
    oab__buf_free(&eb);
    for (int k = 0; k < 2; k++) {
        if (fd[k] >= 0) {
            if (!bad && fsync(fd[k]) != 0)
                bad = 1;
            close(fd[k]);
        }
    }
    if (bad) {
        srv_log("batch %s: cannot write its result files; will retry", id);
        free(path[0]);
        free(path[1]);
        return;
    }
    char fid[2][40];
    srv_db_exec(e->db, "BEGIN IMMEDIATE");
    for (int k = 0; k < 2; k++) {
        if (!len[k])
            continue;
        srv_random_id(fid[k], sizeof fid[k], "file-", 22);
        const char *name = strrchr(path[k], '/') + 1;
        sqlite3_prepare_v2(e->db,
            "INSERT INTO files(id, owner, purpose, filename, bytes,"
            " created_at, path) VALUES(?,?,'batch_output',?,?,?,?)", -1, &st,
            NULL);
        sqlite3_bind_text(st, 1, fid[k], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, owner, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, len[k]);
        sqlite3_bind_int64(st, 5, now);
        sqlite3_bind_text(st, 6, name, -1, SQLITE_STATIC);
        sqlite3_step(st);
        sqlite3_finalize(st);
    }
    static const char *const sql[] = {
        "UPDATE batches SET status='completed', completed_at=?,"
        " output_file_id=?, error_file_id=?, out_bytes=?, err_bytes=?"
        " WHERE seq=?",
        "UPDATE batches SET status='cancelled', cancelled_at=?,"
        " output_file_id=?, error_file_id=?, out_bytes=?, err_bytes=?"
        " WHERE seq=?",
        "UPDATE batches SET status='expired', expired_at=?,"
        " output_file_id=?, error_file_id=?, out_bytes=?, err_bytes=?"
        " WHERE seq=?"};
    sqlite3_prepare_v2(e->db, sql[kind], -1, &st, NULL);
    sqlite3_bind_int64(st, 1, now);
    for (int k = 0; k < 2; k++) {
        if (len[k])
            sqlite3_bind_text(st, 2 + k, fid[k], -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, 2 + k);
        sqlite3_bind_int64(st, 4 + k, len[k]);
    }
    sqlite3_bind_int64(st, 6, seq);
    sqlite3_step(st);
    sqlite3_finalize(st);
    /* the line rows are no longer needed once the files exist */
    sqlite3_prepare_v2(e->db, "DELETE FROM lines WHERE batch_seq=?", -1, &st,
                       NULL);
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_step(st);
    sqlite3_finalize(st);
    if (srv_db_exec(e->db, "COMMIT") != SQLITE_OK) {
        srv_db_exec(e->db, "ROLLBACK");
    } else {
        for (int k = 0; k < 2; k++)
            if (!len[k])
                unlink(path[k]);
        srv_log("batch %s: %s (%lld unfinished line%s in the error file)",
                id,
                kind == 0 ? "completed" : kind == 1 ? "cancelled" : "expired",
                unfinished, unfinished == 1 ? "" : "s");
    }
    free(path[0]);
    free(path[1]);
}

/* ---------------------------------------------------------------- */
/* results                                                            */
/* ---------------------------------------------------------------- */

/* Writes a batch's pending finished lines to its spools. */
static int flush_pend(bctx *b)
{
    for (int k = 0; k < 2; k++) {
        oab__buf *p = &b->pend[k];
        if (!p->len)
            continue;
        if (b->sfd[k] < 0)
            return -1;
        size_t done = 0;
        while (done < p->len) {
            ssize_t w = pwrite(b->sfd[k], p->data + done, p->len - done,
                               (off_t)(b->written[k] + (long long)done));
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                /* cut back to what is known to be whole */
                if (ftruncate(b->sfd[k], (off_t)b->written[k]) != 0)
                    return -1;
                return -1;
            }
            done += (size_t)w;
        }
        b->written[k] += (long long)p->len;
        oab__buf_clear(p);
    }
    return 0;
}

/* Commits the finished lines: spools written first, then one transaction
 * with the line states, counts, usage and the spools' lengths. On
 * failure everything stays pending and is tried again. */
static void commit_done(engine *e)
{
    if (!e->ndone)
        return;
    for (bctx *b = e->active; b; b = b->next)
        if (flush_pend(b) != 0) {
            srv_log("batch %s: cannot write its spool; will retry", b->id);
            return;
        }
    if (srv_db_exec(e->db, "BEGIN IMMEDIATE") != SQLITE_OK)
        return;
    sqlite3_stmt *ul = NULL, *ub = NULL, *uo = NULL;
    sqlite3_prepare_v2(e->db,
                       "UPDATE lines SET state=? WHERE batch_seq=?"
                       " AND idx=? AND state=0", -1, &ul, NULL);
    sqlite3_prepare_v2(e->db,
        "UPDATE batches SET n_completed=n_completed+?, n_failed=n_failed+?,"
        " input_tokens=input_tokens+?, cached_tokens=cached_tokens+?,"
        " output_tokens=output_tokens+?,"
        " reasoning_tokens=reasoning_tokens+? WHERE seq=?", -1, &ub, NULL);
    sqlite3_prepare_v2(e->db,
                       "UPDATE batches SET out_bytes=?, err_bytes=?"
                       " WHERE seq=?", -1, &uo, NULL);
    for (size_t i = 0; i < e->ndone; i++) {
        done_rec *d = &e->done[i];
        sqlite3_reset(ul);
        sqlite3_bind_int(ul, 1, d->state);
        sqlite3_bind_int64(ul, 2, d->seq);
        sqlite3_bind_int64(ul, 3, d->idx);
        sqlite3_step(ul);
        if (sqlite3_changes(e->db) != 1)
            continue;
        sqlite3_reset(ub);
        sqlite3_bind_int(ub, 1, d->state == 1);
        sqlite3_bind_int(ub, 2, d->state == 2);
        sqlite3_bind_int64(ub, 3, d->u.input_tokens);
        sqlite3_bind_int64(ub, 4, d->u.cached_tokens);
        sqlite3_bind_int64(ub, 5, d->u.output_tokens);
        sqlite3_bind_int64(ub, 6, d->u.reasoning_tokens);
        sqlite3_bind_int64(ub, 7, d->seq);
        sqlite3_step(ub);
    }
    for (bctx *b = e->active; b; b = b->next) {
        if (b->written[0] == b->committed[0] &&
            b->written[1] == b->committed[1])
            continue;
        sqlite3_reset(uo);
        sqlite3_bind_int64(uo, 1, b->written[0]);
        sqlite3_bind_int64(uo, 2, b->written[1]);
        sqlite3_bind_int64(uo, 3, b->seq);
        sqlite3_step(uo);
    }
    sqlite3_finalize(ul);
    sqlite3_finalize(ub);
    sqlite3_finalize(uo);
    if (srv_db_exec(e->db, "COMMIT") != SQLITE_OK) {
        srv_db_exec(e->db, "ROLLBACK");
        return;
    }
    for (bctx *b = e->active; b; b = b->next) {
        b->committed[0] = b->written[0];
        b->committed[1] = b->written[1];
    }
    e->ndone = 0;
    e->last_commit = oab__now();
}

/* Takes a finished line (output when state 1, error file when 2). */
static void record(engine *e, slot *sl, int state, char *line,
                   const srv_usage *u)
{
    if (!line)
        return;
    if (e->ndone == e->capdone) {
        size_t cap = e->capdone ? e->capdone * 2 : 1024;
        done_rec *p = realloc(e->done, cap * sizeof *p);
        if (!p) {
            free(line);
            return;
        }
        e->done = p;
        e->capdone = cap;
    }
    bctx *b = sl->b;
    oab__buf *pend = &b->pend[state == 1 ? 0 : 1];
    oab__buf_puts(pend, line);
    oab__buf_putc(pend, '\n');
    free(line);
    if (pend->len > (1u << 20))
        flush_pend(b); /* a failure is retried at the commit */
    done_rec *d = &e->done[e->ndone++];
    memset(d, 0, sizeof *d);
    d->seq = b->seq;
    d->idx = sl->idx;
    d->state = state;
    d->b = b;
    if (u)
        d->u = *u;
}

/* Makes the output/error line for an HTTP answer. */
/* trusted: body is compact JSON made here (no parse needed). */
static char *result_line(slot *sl, long status, const char *body,
                         size_t len, srv_usage *u, int trusted)
{
    oab__buf o = OAB__BUF_INIT;
    char rid[48], reqid[80];
    srv_random_id(rid, sizeof rid, "batch_req_", 24);
    if (!sl->request_id[0]) {
        srv_random_id(reqid, sizeof reqid, "req_", 24);
    } else {
        snprintf(reqid, sizeof reqid, "%s", sl->request_id);
    }
    oab__buf_printf(&o, "{\"id\":\"%s\",\"custom_id\":", rid);
    oab__buf_json_string(&o, sl->custom_id, strlen(sl->custom_id));
    oab__buf_printf(&o, ",\"response\":{\"status_code\":%ld,\"request_id\":",
                    status);
    oab__buf_json_string(&o, reqid, strlen(reqid));
    oab__buf_puts(&o, ",\"body\":");
    cJSON *j = trusted || !len ? NULL : cJSON_ParseWithLength(body, len);
    if (trusted) {
        oab__buf_append(&o, body, len);
    } else if (j) {
        if (u)
            srv_usage_from_body(j, u);
        cJSON_Delete(j);
        /* valid JSON: newlines can only be whitespace, so dropping them
         * makes it one line without touching the values */
        oab__buf_reserve(&o, len);
        for (size_t i = 0; i < len; i++)
            if (body[i] != '\n' && body[i] != '\r')
                o.data[o.len++] = body[i];
        o.data[o.len] = '\0';
    } else {
        oab__buf_json_string(&o, body ? body : "", len);
    }
    oab__buf_puts(&o, "},\"error\":null}");
    return oab__buf_take(&o, NULL);
}

static char *error_line(slot *sl, const char *code, const char *msg)
{
    oab__buf o = OAB__BUF_INIT;
    char rid[48];
    srv_random_id(rid, sizeof rid, "batch_req_", 24);
    oab__buf_printf(&o, "{\"id\":\"%s\",\"custom_id\":", rid);
    oab__buf_json_string(&o, sl->custom_id, strlen(sl->custom_id));
    oab__buf_printf(&o, ",\"response\":null,\"error\":{\"code\":\"%s\","
                        "\"message\":", code);
    oab__buf_json_string(&o, msg, strlen(msg));
    oab__buf_puts(&o, "}}");
    return oab__buf_take(&o, NULL);
}

static void slot_free(engine *e, slot *sl)
{
    if (sl->easy) {
        curl_multi_remove_handle(e->multi, sl->easy);
        curl_easy_cleanup(sl->easy);
    }
    curl_slist_free_all(sl->hdrs);
    oab__buf_free(&sl->resp);
    free(sl->custom_id);
    free(sl->body);
    sl->b->inflight--;
    free(sl);
    e->nslots--;
}

static void slot_unlink(engine *e, slot *sl)
{
    for (slot **pp = &e->slots; *pp; pp = &(*pp)->next)
        if (*pp == sl) {
            *pp = sl->next;
            return;
        }
}

/* Decides between retry and final result for one attempt's outcome.
 * status 0 = transport failure (msg says what). */
static void attempt_done(engine *e, slot *sl, long status, const char *body,
                         size_t len, const char *msg)
{
    srv *s = e->s;
    int retryable = status == 0 || status == 429 || status >= 500;
    if (retryable && sl->attempt < s->cfg.max_retries && !sl->b->stopping) {
        double delay = (double)s->cfg.retry_base_ms / 1000.0 *
                       (double)(1u << (sl->attempt > 10 ? 10 : sl->attempt));
        if (sl->retry_after >= 0)
            delay = sl->retry_after;
        if (delay > 60)
            delay = 60;
        sl->attempt++;
        sl->state = S_DUE;
        sl->due = oab__now() + delay;
        if (sl->easy) {
            curl_multi_remove_handle(e->multi, sl->easy);
            curl_easy_cleanup(sl->easy);
            sl->easy = NULL;
        }
        return;
    }
    if (status == 0 && sl->b->stopping) {
        /* abandoned because the batch stops: stays unfinished */
        slot_unlink(e, sl);
        slot_free(e, sl);
        return;
    }
    srv_usage u;
    memset(&u, 0, sizeof u);
    if (sl->trusted)
        u = sl->known;
    if (status >= 200 && status < 300) {
        record(e, sl, 1, result_line(sl, status, body, len, &u, sl->trusted),
               &u);
    } else if (status > 0) {
        record(e, sl, 2, result_line(sl, status, body, len, NULL, sl->trusted),
               NULL);
    } else {
        record(e, sl, 2, error_line(sl, "upstream_error", msg), NULL);
    }
    slot_unlink(e, sl);
    slot_free(e, sl);
}

/* ---------------------------------------------------------------- */
/* running lines                                                      */
/* ---------------------------------------------------------------- */

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    slot *sl = ud;
    size_t len = sz * n;
    if (sl->resp.len + len > MAX_RESP_BYTES)
        return 0;
    if (oab__buf_append(&sl->resp, p, len) != OAB_OK)
        return 0;
    return len;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
    slot *sl = ud;
    size_t len = sz * n;
    if (len > 12 && !strncasecmp(p, "retry-after:", 12)) {
        double v = strtod(p + 12, NULL);
        if (v >= 0)
            sl->retry_after = v;
    } else if (len > 15 && !strncasecmp(p, "retry-after-ms:", 15)) {
        double v = strtod(p + 15, NULL);
        if (v >= 0)
            sl->retry_after = v / 1000.0;
    } else if (len > 13 && !strncasecmp(p, "x-request-id:", 13)) {
        const char *v = p + 13;
        while (*v == ' ')
            v++;
        size_t k = 0;
        while (k + 1 < sizeof sl->request_id && v + k < p + len &&
               v[k] != '\r' && v[k] != '\n')
            k++;
        memcpy(sl->request_id, v, k);
        sl->request_id[k] = '\0';
    }
    return len;
}

static char *upstream_url(srv *s, const char *path)
{
    unsigned long long k = atomic_fetch_add(&s->rr_upstream, 1);
    const char *base = s->cfg.upstreams[k % (unsigned)s->cfg.n_upstreams];
    size_t bl = strlen(base);
    while (bl && base[bl - 1] == '/')
        bl--;
    if (!strncmp(path, "/v1/", 4))
        path += 3;
    return oab__sprintf("%.*s%s", (int)bl, base, path);
}

static CURL *make_easy(srv *s, const char *url, const char *body,
                       size_t len, struct curl_slist **hdrs, void *ud)
{
    CURL *h = curl_easy_init();
    if (!h)
        return NULL;
    *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    *hdrs = curl_slist_append(*hdrs, "Expect:");
    if (s->cfg.upstream_key) {
        char *a = oab__sprintf("Authorization: Bearer %s", s->cfg.upstream_key);
        *hdrs = curl_slist_append(*hdrs, a);
        free(a);
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, *hdrs);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, s->cfg.upstream_timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, ud);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, ud);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "oaibatch-serve/" OAB_VERSION_STRING);
    return h;
}

/* Runs one attempt of a slot: builtin answers at once (or becomes due
 * after the latency knob), upstream starts a transfer. */
static void start_attempt(engine *e, slot *sl)
{
    srv *s = e->s;
    sl->retry_after = -1;
    sl->request_id[0] = '\0';
    oab__buf_clear(&sl->resp);
    sl->trusted = 0;
    if (!s->cfg.upstream) {
        sl->trusted = 1;
        memset(&sl->known, 0, sizeof sl->known);
        int fail = srv_fail_knob(s);
        if (fail) {
            cJSON *eb = srv_error_body(fail == 429
                                           ? "Rate limit reached (test knob)."
                                           : "Internal error (test knob).",
                                       fail == 429 ? "requests"
                                                   : "server_error",
                                       NULL,
                                       fail == 429 ? "rate_limit_exceeded"
                                                   : NULL);
            char *t = cJSON_PrintUnformatted(eb);
            cJSON_Delete(eb);
            attempt_done(e, sl, fail, t, strlen(t), NULL);
            free(t);
            return;
        }
        cJSON *body = cJSON_ParseWithLength(sl->body, sl->body_len);
        int status = 200;
        cJSON *ans = srv_tm_answer(sl->b->endpoint, body, &status);
        cJSON_Delete(body);
        srv_usage_from_body(ans, &sl->known);
        char *t = cJSON_PrintUnformatted(ans);
        cJSON_Delete(ans);
        attempt_done(e, sl, status, t, strlen(t), NULL);
        free(t);
        return;
    }
    char *url = upstream_url(s, sl->b->endpoint);
    curl_slist_free_all(sl->hdrs);
    sl->hdrs = NULL;
    sl->easy = make_easy(s, url, sl->body, sl->body_len, &sl->hdrs, sl);
    free(url);
    if (!sl->easy) {
        attempt_done(e, sl, 0, NULL, 0, "cannot start a transfer");
        return;
    }
    curl_easy_setopt(sl->easy, CURLOPT_PRIVATE, sl);
    sl->state = S_RUNNING;
    curl_multi_add_handle(e->multi, sl->easy);
}

static int next_line(engine *e, bctx *b, long long *idx, long long *off,
                     long long *len)
{
    if (b->ppos == b->pn) {
        if (b->exhausted)
            return 0;
        b->pn = b->ppos = 0;
        sqlite3_stmt *st = NULL;
        sqlite3_prepare_v2(e->db,
                           "SELECT idx, off, len FROM lines WHERE batch_seq=?"
                           " AND idx>=? AND state=0 ORDER BY idx LIMIT ?",
                           -1, &st, NULL);
        sqlite3_bind_int64(st, 1, b->seq);
        sqlite3_bind_int64(st, 2, b->cursor);
        sqlite3_bind_int(st, 3, PAGE);
        while (sqlite3_step(st) == SQLITE_ROW && b->pn < PAGE) {
            b->pidx[b->pn] = sqlite3_column_int64(st, 0);
            b->poff[b->pn] = sqlite3_column_int64(st, 1);
            b->plen[b->pn] = sqlite3_column_int64(st, 2);
            b->pn++;
        }
        sqlite3_finalize(st);
        if (b->pn == 0) {
            b->exhausted = 1;
            return 0;
        }
        b->cursor = b->pidx[b->pn - 1] + 1;
    }
    *idx = b->pidx[b->ppos];
    *off = b->poff[b->ppos];
    *len = b->plen[b->ppos];
    b->ppos++;
    return 1;
}

static void refill(engine *e)
{
    srv *s = e->s;
    double now = oab__now();
    double dt = now - e->last_refill;
    e->last_refill = now;
    if (s->cfg.rpm > 0) {
        double cap = (double)s->cfg.rpm / 60.0;
        if (cap < 1)
            cap = 1;
        e->rpm_tokens += dt * (double)s->cfg.rpm / 60.0;
        if (e->rpm_tokens > cap)
            e->rpm_tokens = cap;
    }
    if (s->cfg.tpm > 0) {
        double cap = (double)s->cfg.tpm / 60.0;
        e->tpm_tokens += dt * (double)s->cfg.tpm / 60.0;
        if (e->tpm_tokens > cap)
            e->tpm_tokens = cap;
    }
}

/* Starts new lines; returns how many. */
static int dispatch(engine *e, int budget)
{
    srv *s = e->s;
    int started = 0;
    refill(e);
    while (started < budget && e->nslots < s->cfg.concurrency) {
        if (s->cfg.rpm > 0 && e->rpm_tokens < 1)
            break;
        /* round robin over running batches */
        bctx *b = NULL;
        bctx *start = e->rr ? e->rr : e->active;
        bctx *c = start;
        long long idx = 0, off = 0, len = 0;
        for (int loops = 0; c && loops < 2;) {
            if (!c->stopping && !c->exhausted &&
                next_line(e, c, &idx, &off, &len)) {
                b = c;
                break;
            }
            c = c->next;
            if (!c) {
                c = e->active;
                loops++;
            }
            if (c == start)
                break;
        }
        if (!b)
            break;
        e->rr = b->next;
        slot *sl = calloc(1, sizeof *sl);
        char *line = malloc((size_t)len + 1);
        if (!sl || !line) {
            free(sl);
            free(line);
            break;
        }
        ssize_t got = pread(b->fd, line, (size_t)len, (off_t)off);
        line[got > 0 ? got : 0] = '\0';
        cJSON *j = got > 0 ? cJSON_ParseWithLength(line, (size_t)got) : NULL;
        free(line);
        sl->b = b;
        sl->idx = idx;
        sl->retry_after = -1;
        b->inflight++;
        e->nslots++;
        sl->next = e->slots;
        e->slots = sl;
        const char *cid = oab__json_str(j, "custom_id");
        sl->custom_id = oab__strdup(cid ? cid : "");
        const cJSON *body = cJSON_GetObjectItemCaseSensitive(j, "body");
        sl->body = body ? cJSON_PrintUnformatted(body) : NULL;
        cJSON_Delete(j);
        started++;
        if (!sl->body) {
            attempt_done(e, sl, 0, NULL, 0, "the input line could not be read");
            continue;
        }
        sl->body_len = strlen(sl->body);
        if (s->cfg.rpm > 0)
            e->rpm_tokens -= 1;
        if (s->cfg.tpm > 0)
            e->tpm_tokens -= (double)sl->body_len / 4.0;
        if (!s->cfg.upstream && s->cfg.latency_ms > 0) {
            sl->state = S_DUE;
            sl->due = oab__now() + (double)s->cfg.latency_ms / 1000.0;
            sl->attempt = -1; /* the first "attempt" is the latency wait */
            continue;
        }
        start_attempt(e, sl);
        if (s->cfg.tpm > 0 && e->tpm_tokens < 0)
            break;
    }
    return started;
}

static void run_due(engine *e)
{
    double now = oab__now();
    slot *sl = e->slots;
    while (sl) {
        slot *next = sl->next;
        if (sl->state == S_DUE && sl->due <= now) {
            if (sl->attempt < 0)
                sl->attempt = 0;
            start_attempt(e, sl);
        }
        sl = next;
    }
}

static void reap(engine *e)
{
    int left = 0;
    CURLMsg *m;
    while ((m = curl_multi_info_read(e->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        slot *sl = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&sl);
        CURLcode res = m->data.result;
        long status = 0;
        if (res == CURLE_OK)
            curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &status);
        if (res == CURLE_OK)
            attempt_done(e, sl, status, sl->resp.data, sl->resp.len, NULL);
        else
            attempt_done(e, sl, 0, NULL, 0, curl_easy_strerror(res));
    }
}

/* Drops the slots of a stopping batch (their lines stay unfinished). */
static void drop_slots(engine *e, bctx *b)
{
    slot *sl = e->slots;
    while (sl) {
        slot *next = sl->next;
        if (sl->b == b) {
            slot_unlink(e, sl);
            slot_free(e, sl);
        }
        sl = next;
    }
}

/* ---------------------------------------------------------------- */
/* scanning the batches table                                         */
/* ---------------------------------------------------------------- */

static bctx *find_active(engine *e, long long seq)
{
    for (bctx *b = e->active; b; b = b->next)
        if (b->seq == seq)
            return b;
    return NULL;
}

static void remove_active(engine *e, bctx *b)
{
    for (bctx **pp = &e->active; *pp; pp = &(*pp)->next)
        if (*pp == b) {
            *pp = b->next;
            break;
        }
    if (e->rr == b)
        e->rr = b->next;
    free_bctx(b);
}

static void scan(engine *e)
{
    srv *s = e->s;
    e->last_scan = oab__now();
    typedef struct row {
        long long seq, expires_at, out_bytes, err_bytes;
        char id[64], status[16], endpoint[64], input[64], owner[17];
    } row;
    row rows[64];
    int n = 0;
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(e->db,
        "SELECT seq, id, status, endpoint, input_file_id, expires_at, owner,"
        " out_bytes, err_bytes"
        " FROM batches WHERE status IN ('validating','in_progress',"
        "'finalizing','cancelling') ORDER BY seq LIMIT 64", -1, &st, NULL);
    while (sqlite3_step(st) == SQLITE_ROW && n < 64) {
        row *r = &rows[n++];
        r->seq = sqlite3_column_int64(st, 0);
        snprintf(r->id, sizeof r->id, "%s", sqlite3_column_text(st, 1));
        snprintf(r->status, sizeof r->status, "%s", sqlite3_column_text(st, 2));
        snprintf(r->endpoint, sizeof r->endpoint, "%s",
                 sqlite3_column_text(st, 3));
        snprintf(r->input, sizeof r->input, "%s", sqlite3_column_text(st, 4));
        r->expires_at = sqlite3_column_int64(st, 5);
        snprintf(r->owner, sizeof r->owner, "%s", sqlite3_column_text(st, 6));
        r->out_bytes = sqlite3_column_int64(st, 7);
        r->err_bytes = sqlite3_column_int64(st, 8);
    }
    sqlite3_finalize(st);
    long long now = oab__unix_now();
    for (int i = 0; i < n; i++) {
        row *r = &rows[i];
        bctx *b = find_active(e, r->seq);
        if (!strcmp(r->status, "validating")) {
            validate_batch(e, r->seq, r->id, r->endpoint, r->input);
            continue; /* picked up as in_progress next scan */
        }
        if (!strcmp(r->status, "finalizing")) {
            commit_done(e);
            if (e->ndone)
                continue; /* not committed yet: try again later */
            if (b) {
                if (b->inflight)
                    continue;
                remove_active(e, b);
            }
            finalize_batch(e, r->seq, r->id, r->owner, 0);
            continue;
        }
        if (!b) {
            b = calloc(1, sizeof *b);
            if (!b)
                continue;
            b->seq = r->seq;
            snprintf(b->id, sizeof b->id, "%s", r->id);
            snprintf(b->endpoint, sizeof b->endpoint, "%s", r->endpoint);
            snprintf(b->owner, sizeof b->owner, "%s", r->owner);
            b->expires_at = r->expires_at;
            char *path = input_path(e, r->input);
            b->fd = path ? open(path, O_RDONLY) : -1;
            free(path);
            /* the spools, cut back to what was committed */
            b->committed[0] = b->written[0] = r->out_bytes;
            b->committed[1] = b->written[1] = r->err_bytes;
            for (int k = 0; k < 2; k++) {
                char *sp = spool_path(s, r->id, k);
                b->sfd[k] = open(sp, O_RDWR | O_CREAT, 0600);
                free(sp);
                if (b->sfd[k] >= 0 &&
                    ftruncate(b->sfd[k], (off_t)b->written[k]) != 0) {
                    close(b->sfd[k]);
                    b->sfd[k] = -1;
                }
            }
            b->next = e->active;
            e->active = b;
            if (b->fd < 0)
                b->exhausted = 1; /* lines end as errors below */
        }
        if (!strcmp(r->status, "cancelling") && b->stopping != 1) {
            b->stopping = 1;
            drop_slots(e, b);
        } else if (!b->stopping && r->expires_at && now >= r->expires_at) {
            b->stopping = 2;
            drop_slots(e, b);
        }
    }
}

/* Batches whose lines are all done (or that stop) get finalized. */
static void finish_ready(engine *e)
{
    bctx *b = e->active;
    while (b) {
        bctx *next = b->next;
        int ready = b->inflight == 0 && (b->stopping || b->exhausted);
        if (ready)
            commit_done(e);
        if (ready && e->ndone == 0) {
            long long seq = b->seq;
            char id[64], owner[17];
            int kind = b->stopping;
            snprintf(id, sizeof id, "%s", b->id);
            snprintf(owner, sizeof owner, "%s", b->owner);
            remove_active(e, b);
            finalize_batch(e, seq, id, owner, kind);
        }
        b = next;
    }
}

static void *engine_main(void *arg)
{
    engine *e = arg;
    srv *s = e->s;
    e->last_refill = oab__now();
    e->rpm_tokens = s->cfg.rpm > 0 ? 1 : 0;
    e->tpm_tokens = s->cfg.tpm > 0 ? (double)s->cfg.tpm / 60.0 : 0;
    while (!atomic_load(&s->stop)) {
        double now = oab__now();
        pthread_mutex_lock(&s->wake_lock);
        int woke = s->wake_flag;
        s->wake_flag = 0;
        pthread_mutex_unlock(&s->wake_lock);
        if (woke || now - e->last_scan > 0.2)
            scan(e);
        int started = dispatch(e, 256);
        if (s->cfg.upstream) {
            int running = 0;
            curl_multi_perform(e->multi, &running);
            reap(e);
        }
        run_due(e);
        /* every finished line is committed before the next wait */
        if (e->ndone)
            commit_done(e);
        finish_ready(e);
        /* how long to sleep */
        int timeout = 50;
        if (started && e->nslots < s->cfg.concurrency)
            timeout = 0;
        double soonest = 1e18;
        for (slot *sl = e->slots; sl; sl = sl->next)
            if (sl->state == S_DUE && sl->due < soonest)
                soonest = sl->due;
        if (soonest < 1e17) {
            double ms = (soonest - oab__now()) * 1000.0;
            if (ms < timeout)
                timeout = ms < 0 ? 0 : (int)ms + 1;
        }
        if (timeout > 0)
            curl_multi_poll(e->multi, NULL, 0, timeout, NULL);
    }
    /* stop: abandon work in flight, keep what finished */
    while (e->slots) {
        slot *sl = e->slots;
        e->slots = sl->next;
        slot_free(e, sl);
    }
    commit_done(e);
    while (e->active)
        remove_active(e, e->active);
    return NULL;
}

int srv_engine_start(srv *s)
{
    engine *e = calloc(1, sizeof *e);
    if (!e)
        return -1;
    e->s = s;
    char *dbpath = oab__sprintf("%s/state.sqlite", s->cfg.data_dir);
    int rc = srv_db_open(dbpath, &e->db);
    free(dbpath);
    if (rc != SQLITE_OK) {
        free(e);
        return -1;
    }
    e->multi = curl_multi_init();
    curl_multi_setopt(e->multi, CURLMOPT_MAXCONNECTS,
                      (long)s->cfg.concurrency);
    s->engine = e;
    if (pthread_create(&s->engine_thread, NULL, engine_main, e) != 0) {
        curl_multi_cleanup(e->multi);
        sqlite3_close(e->db);
        free(e);
        s->engine = NULL;
        return -1;
    }
    return 0;
}

void srv_engine_join(srv *s)
{
    engine *e = s->engine;
    if (!e)
        return;
    atomic_store(&s->stop, 1);
    curl_multi_wakeup(e->multi);
    pthread_join(s->engine_thread, NULL);
    curl_multi_cleanup(e->multi);
    sqlite3_close(e->db);
    free(e->done);
    free(e);
    s->engine = NULL;
}

/* ---------------------------------------------------------------- */
/* synchronous forwarding                                             */
/* ---------------------------------------------------------------- */

static int sync_progress(void *ud, curl_off_t a, curl_off_t b, curl_off_t c,
                         curl_off_t d)
{
    srv *s = ud;
    (void)a;
    (void)b;
    (void)c;
    (void)d;
    return atomic_load(&s->stop) ? 1 : 0;
}

void srv_upstream_call(srv *s, const char *path, const char *body,
                       size_t len, long *status, oab__buf *resp)
{
    char *url = NULL;
    slot sl;
    memset(&sl, 0, sizeof sl);
    *status = 0;
    for (int attempt = 0;; attempt++) {
        oab__buf_clear(&sl.resp);
        sl.retry_after = -1;
        free(url);
        url = upstream_url(s, path); /* the next one of the pool */
        struct curl_slist *hdrs = NULL;
        CURL *h = make_easy(s, url, body ? body : "", len, &hdrs, &sl);
        if (h) {
            curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
            curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, sync_progress);
            curl_easy_setopt(h, CURLOPT_XFERINFODATA, s);
        }
        CURLcode res = h ? curl_easy_perform(h) : CURLE_FAILED_INIT;
        long st = 0;
        if (res == CURLE_OK)
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st);
        curl_easy_cleanup(h);
        curl_slist_free_all(hdrs);
        int retry = (res != CURLE_OK || st == 429 || st >= 500) &&
                    attempt < s->cfg.max_retries && !atomic_load(&s->stop);
        if (!retry) {
            *status = st;
            oab__buf_clear(resp);
            if (res != CURLE_OK)
                oab__buf_puts(resp, curl_easy_strerror(res));
            else
                oab__buf_append(resp, sl.resp.data ? sl.resp.data : "",
                                sl.resp.len);
            break;
        }
        double delay = (double)s->cfg.retry_base_ms / 1000.0 *
                       (double)(1u << (attempt > 10 ? 10 : attempt));
        if (sl.retry_after >= 0)
            delay = sl.retry_after;
        oab__sleep(delay > 60 ? 60 : delay);
    }
    oab__buf_free(&sl.resp);
    free(url);
}
