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
 * and error files (unfinished lines added to the error file).
 *
 * Shared state (PostgreSQL, several nodes; srv_db_shared): no spools.
 * A finished line's text goes into the database in the transaction that
 * marks it done, only while this node still holds the line's lease
 * (db_pg.c fences it). One node wins the finalizer's claim, writes the
 * files from the recorded results (into temporaries), and stores their
 * bodies in the database under their file ids, so every node serves
 * them. */
#include "oaibatch.h"
#include <cjson/cJSON.h>
#include "core/result.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/jdoc.h"
#include "util/json.h"
#include "util/str.h"
#include "apierr.h"
#include "db.h"
#include "engine.h"
#include "metrics.h"
#include "lease.h"
#include "recorder.h"
#include "testmodel.h"
#include "upstream.h"
#include "webhook.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct bctx {
    struct bctx *next;
    long long seq;
    char id[64];
    char endpoint[64];
    char owner[17];
    int fd;
    long long cursor;       /* next idx to look at */
    int exhausted;          /* no pending line at or after cursor */
    long long pidx[SRV_PAGE], poff[SRV_PAGE], plen[SRV_PAGE];
    int pn, ppos;
    int inflight;           /* slots of this batch */
    int stopping;           /* 0 running, 1 cancelling, 2 expired */
    double stop_at;         /* when it began to stop (--stop-grace) */
    long long expires_at;
    long long window;       /* expires_at - created_at */
    int prio;               /* SRV_PRIO_HIGH .. SRV_PRIO_LOW */
    int seen;               /* found by the last scan */
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
    srv_xfer x;             /* the answer of the current attempt */
    int mtag;               /* metrics.h tag of a transfer in flight */
    int up;                 /* pool index of the transfer, -1 none */
    double started;         /* when the transfer started */
    int waits;              /* 429/503 waits (not counted as retries) */
    CURLcode cres;          /* the transfer's curl result */
} slot;

typedef srv_line_done done_rec;

/* Finished lines not committed yet (a failed commit, or the recorder
 * busy with the group before): the loop looks again this soon at the
 * latest. */
#define SRV_COMMIT_RETRY_S 0.02

static char *spool_path(srv *s, const char *batch_id, int k)
{
    return oab__sprintf("%s/%s_%s.jsonl", s->files_dir, batch_id,
                        k ? "error" : "output");
}

typedef struct engine {
    srv *s;
    srv_db *db;
    CURLM *multi;
    bctx *active;
    slot *slots;
    int nslots;
    done_rec *done;
    size_t ndone, capdone;
    srv_recorder *rec;      /* shared state: records finished lines */
    srv_lease *lease;       /* shared state: renews the node's leases */
    double last_scan, last_sweep, last_forget;
    long long gone_after;   /* shared state: names gone settled to here */
    double rpm_tokens, tpm_tokens, last_refill;
    bctx *rr;               /* round-robin position */
    char last_owner[17];    /* owner of the last line started */
    int owners;             /* 1: all running batches have one owner */
    oab__jdoc doc;          /* answers parsed here (reused) */
    oab__jdoc ldoc;         /* input lines parsed here (reused) */
    srv_upstate ups[SRV_MAX_KEYS]; /* the adaptive pool */
    int picked;             /* upstream chosen by dispatch, -1 none */
    oab_tokenizers *toks;   /* --enqueued-token-limit: input tokens */
    int toks_missing;       /* no rank files: bytes / 4 */
} engine;

/* The body path of a file id (the files row's path; shared state: the
 * body fetched here when this node has no copy), new; NULL when the file
 * is gone, when its stored body is damaged (*damaged 1, when not NULL:
 * no retry mends it), or when it cannot be had now (*later 1: the
 * database failed, the body could not be fetched; the caller tries again
 * at a later scan rather than take the file for gone). */
static char *input_path(engine *e, const char *file_id, int *later,
                        int *damaged)
{
    char *path = srv_file_path(e->db, e->s->files_dir, file_id, NULL);
    *later = !path && srv_db_failed(e->db);
    int rc = path ? srv_file_local(e->db, file_id, path) : 0;
    if (rc != 0) {
        free(path);
        path = NULL;
        *later = rc != -2;
    }
    if (damaged)
        *damaged = rc == -2;
    if (*later)
        SRV_LOG_EVERY(10, "input file %s cannot be read now; will retry",
                      file_id);
    return path;
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
    /* the batch's end and its webhook events commit together; one
     * cancelled before it was validated keeps its errors, and ends
     * cancelled (its event then) */
    if (srv_db_begin(e->db) != SQLITE_OK)
        return;
    int failed = 0;
    if (srv_db_batch_failed(e->db, seq, oab__unix_now(), errors_json,
                            &failed) == SQLITE_OK &&
        (!failed || srv_webhook_enqueue(e->s, e->db, id, "batch.failed") ==
                        SQLITE_OK) &&
        srv_db_commit(e->db) == SQLITE_OK)
        srv_log("batch %s: %s", id,
                failed ? "failed"
                       : "its file is invalid; cancelled before it was "
                         "validated, it ends cancelled");
    else
        srv_db_rollback(e->db);
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

/* Line storage: the library's JSONL reader delivers each request line
 * (blank ones, spaces and tabs only, are not requests: the validator
 * skips the same lines), with its byte offset in the file. */
typedef struct lstore {
    oab_jsonl_reader *rd;
    srv_db_stmt *ins;
    long long seq, idx;
    int db_error;
    long stream_line[8];    /* lines asking for stream: true (first 8) */
    int n_stream;
    engine *count;          /* set: the input tokens are counted */
    long long tokens;       /* the lines' input tokens */
} lstore;

/* The input tokens of one request line, for the enqueued-token limit:
 * the library's request counting (docs/tokens.md) with the encoding of
 * the line's model (o200k_base for a model it does not know); without
 * rank files (or for a line it cannot count) the line's bytes / 4,
 * rounded up. */
static long long line_tokens(engine *e, const char *line, size_t len)
{
    if (!e->toks_missing) {
        oab_request_tokens rt;
        oab_error err = { 0, 0, "" };
        oab_status st = oab_request_tokens_line(&rt, NULL, e->toks, line, len,
                                                "o200k_base", &err);
        if (st == OAB_OK)
            return (long long)rt.input;
        if (st != OAB_EINVAL && st != OAB_EJSON) {
            e->toks_missing = 1;
            srv_log("--enqueued-token-limit: no tokenizer (%s); input tokens"
                    " are counted as bytes / 4",
                    err.message[0] ? err.message : oab_strerror(st));
        }
    }
    return (long long)((len + 3) / 4);
}

static int store_line(const char *line, size_t len, long lineno, void *ud)
{
    lstore *ls = ud;
    cJSON *j = oab__json_parse(line, len);
    const char *cid = oab__json_str(j, "custom_id");
    /* a batch answers whole bodies: a line that asks to stream is refused
     * (as OpenAI does) */
    if (cJSON_IsTrue(oab__json_path(j, "body.stream")) && ls->n_stream < 8)
        ls->stream_line[ls->n_stream++] = lineno;
    if (ls->count)
        ls->tokens += line_tokens(ls->count, line, len);
    if (srv_db_line_insert(ls->ins, ls->seq, ls->idx, cid,
                           (long long)oab_jsonl_reader_line_offset(ls->rd),
                           (long long)len) != SQLITE_OK)
        ls->db_error = 1;
    cJSON_Delete(j);
    ls->idx++;
    return ls->db_error;
}

/* Reads the input file once: the validator and the line store get the
 * same bytes. Returns 0, or -1 for a read error (file), -2 for a
 * database error. */
/* A problem of the validator the API does not fail a batch for: a chat
 * line without usable messages is answered with a 400 of its own (the
 * model's side judges it: here the upstream, or the built-in model), and
 * stream: true is refused above with the API's own code. */
static int per_line_problem(const char *code)
{
    return code && (!strcmp(code, "missing_messages") ||
                    !strcmp(code, "invalid_messages") ||
                    !strcmp(code, "stream_not_supported"));
}

static int read_input(int fd, oab_validator *v, lstore *ls)
{
    char *chunk = malloc(SRV_READ_CHUNK);
    if (!chunk)
        return -1;
    int rc = 0;
    oab_status st = OAB_OK;
    for (;;) {
        ssize_t n = read(fd, chunk, SRV_READ_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            rc = -1;
        if (n <= 0)
            break;
        if (v)
            oab_validator_feed(v, chunk, (size_t)n);
        /* a line over the cap is the validator's problem to report; the
         * store stops keeping lines then */
        if (st == OAB_OK)
            st = oab_jsonl_reader_feed(ls->rd, chunk, (size_t)n, store_line,
                                       ls);
    }
    if (st == OAB_OK)
        st = oab_jsonl_reader_finish(ls->rd, store_line, ls, NULL);
    free(chunk);
    if (ls->db_error)
        return -2;
    return rc;
}

/* --enqueued-token-limit: 1 (with the problem added to data) when the
 * owner's batches of this model in flight and this one would hold more
 * than the limit; -1 when the sum could not be read. */
static int over_limit(engine *e, long long seq, const char *owner,
                      const char *model, long long tokens, cJSON *data,
                      long long *held)
{
    long long limit = e->s->cfg.enqueued_token_limit;
    if (srv_db_enqueued_sum(e->db, owner, model, seq, held) != SQLITE_OK)
        return -1;
    if (*held + tokens <= limit)
        return 0;
    char msg[320];
    snprintf(msg, sizeof msg, "Enqueued token limit reached for %s. Limit: "
             "%lld enqueued tokens; %lld in flight, this batch %lld. "
             "Please try again once some in_progress batches have been "
             "completed.", model ? model : "this model", limit, *held,
             tokens);
    add_problem(data, "token_limit_exceeded", msg, NULL, 0);
    return 1;
}

/* Validates a new batch (or one cancelled before any node did) and
 * records its lines, or fails it. 0 when its input cannot be had now
 * (input_path) or its lines could not be recorded now (the database
 * refused the writes): nothing done, the next scan tries again (an
 * input not had until the batch's window, expires_at, 0: none, has
 * passed fails it as if the file were gone); else 1. */
static int validate_batch(engine *e, long long seq, const char *id,
                           const char *endpoint, const char *input_file_id,
                           const char *owner, long long expires_at)
{
    srv *s = e->s;
    int later = 0, damaged = 0;
    char *path = input_path(e, input_file_id, &later, &damaged);
    if (later && !(expires_at && oab__unix_now() >= expires_at))
        return 0; /* still validating: the next scan tries again */
    int fd = path ? open(path, O_RDONLY) : -1;
    free(path);
    cJSON *errs = cJSON_CreateObject();
    cJSON_AddStringToObject(errs, "object", "list");
    cJSON *data = cJSON_AddArrayToObject(errs, "data");
    if (fd < 0) {
        add_problem(data, "file_not_found",
                    damaged ? "The input file could not be read: its stored"
                              " body is damaged (its bytes do not add up to"
                              " its size)."
                            : "The input file could not be read.",
                    "input_file_id", 0);
        char *t = cJSON_PrintUnformatted(errs);
        set_failed(e, seq, id, t);
        free(t);
        cJSON_Delete(errs);
        return 1;
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
    lstore ls;
    memset(&ls, 0, sizeof ls);
    ls.seq = seq;
    if (s->cfg.enqueued_token_limit > 0) {
        if (!e->toks && oab_tokenizers_new(&e->toks, NULL) != OAB_OK)
            e->toks_missing = 1;
        ls.count = e;
    }
    int rc = -2, won = 0, fed = 0;
    if (srv_db_begin(e->db) == SQLITE_OK) {
        /* one node validates a batch: the others, on shared state, find
         * it taken (or no longer validating) and leave it */
        if (srv_db_batch_take_validation(e->db, seq, &won) == SQLITE_OK &&
            !won) {
            rc = -3;
        } else if (won && srv_db_lines_delete(e->db, seq) == SQLITE_OK &&
                   srv_db_line_stmt(e->db, &ls.ins) == SQLITE_OK &&
                   oab_jsonl_reader_new(&ls.rd, (size_t)vo.max_bytes) ==
                       OAB_OK) {
            fed = 1; /* the validator sees the whole file */
            rc = read_input(fd, v, &ls);
        }
        if (srv_db_stmt_finish(ls.ins) != SQLITE_OK && rc == 0)
            rc = -2;
        oab_jsonl_reader_free(ls.rd);
    }
    close(fd);
    if (rc == -3) {
        srv_db_rollback(e->db);
        oab_validator_free(v);
        cJSON_Delete(errs);
        return 1;
    }
    oab_validation *rep = NULL;
    oab_status vs = v ? oab_validator_finish(v, &rep) : OAB_ENOMEM;
    oab_validator_free(v);
    if (rc == -1)
        add_problem(data, "file_unreadable",
                    "The input file could not be read.", "input_file_id", 0);
    for (int i = 0; i < ls.n_stream; i++)
        add_problem(data, "invalid_value",
                    "stream: true is not supported in a batch (each line"
                    " gets one whole answer).", "body.stream",
                    ls.stream_line[i]);
    if (vs == OAB_EVALIDATION && rep) {
        size_t skipped = 0;
        for (size_t i = 0; i < rep->n_problems; i++) {
            if (per_line_problem(rep->problems[i].code)) {
                skipped++;
                continue;
            }
            add_problem(data, rep->problems[i].code ? rep->problems[i].code
                                                    : "invalid_request",
                        rep->problems[i].message ? rep->problems[i].message
                                                 : "invalid line",
                        rep->problems[i].param, rep->problems[i].line);
        }
        if (cJSON_GetArraySize(data) == 0 && rep->n_problems_total > skipped)
            add_problem(data, "invalid_file", "The input file is invalid.",
                        NULL, 0);
    } else if (vs != OAB_OK) {
        add_problem(data, "validation_error",
                    "The input file could not be validated.", NULL, 0);
    }
    const char *model = rep ? rep->model : NULL;
    long long held = 0;
    if (rc == 0 && ls.count && cJSON_GetArraySize(data) == 0 &&
        over_limit(e, seq, owner, model, ls.tokens, data, &held) < 0)
        rc = -2;
    int settled = 1;
    if (rc == -2 && (!fed || cJSON_GetArraySize(data) == 0)) {
        /* the state could not be written: stays validating, tried again
         * (and a cancelled one is not ended before its lines are). A
         * file the validator refused fails whether or not its lines
         * could be written: the database may have refused them for the
         * very fault the validator found (PostgreSQL's text takes no
         * custom_id that is not UTF-8), and would at every try; but only a
         * validator that read the file (one that read nothing says
         * empty_file: a database that failed before, at the claim of the
         * validation say, failed no batch) */
        srv_db_rollback(e->db);
        SRV_LOG_EVERY(10, "batch %s: cannot record its lines; will retry", id);
        settled = 0;
    } else if (cJSON_GetArraySize(data) > 0) {
        srv_db_rollback(e->db);
        char *t = cJSON_PrintUnformatted(errs);
        set_failed(e, seq, id, t);
        free(t);
    } else {
        for (int k = 0; k < 2; k++) {
            char *sp = spool_path(s, id, k);
            unlink(sp);
            free(sp);
        }
        if (srv_db_batch_started(e->db, seq, ls.idx, model,
                                 oab__unix_now()) == SQLITE_OK &&
            (!ls.count || srv_db_batch_set_enqueued(e->db, seq, ls.tokens) ==
                              SQLITE_OK) &&
            srv_db_commit(e->db) == SQLITE_OK) {
            if (ls.count)
                srv_log("batch %s: in_progress (%lld lines, %lld input "
                        "tokens; enqueued %lld of %lld for %s)", id, ls.idx,
                        ls.tokens, held + ls.tokens,
                        s->cfg.enqueued_token_limit, model ? model : "-");
            else
                srv_log("batch %s: in_progress (%lld lines)", id, ls.idx);
        } else {
            srv_db_rollback(e->db);
            settled = 0;
        }
    }
    oab_validation_free(rep);
    cJSON_Delete(errs);
    return settled;
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

/* The error lines of the lines that never finished. */
typedef struct unfin {
    int fd, kind, bad;
    long long len, n;
    oab__buf eb;
} unfin;

static int unfin_flush(unfin *u)
{
    if (u->eb.len) {
        if (pwrite(u->fd, u->eb.data, u->eb.len, (off_t)u->len) !=
            (ssize_t)u->eb.len)
            u->bad = 1;
        u->len += (long long)u->eb.len;
        oab__buf_clear(&u->eb);
    }
    return u->bad;
}

static int unfin_line(const char *cid, void *ud)
{
    static const char *const codes[] = {"line_unavailable", "batch_cancelled",
                                        "batch_expired"};
    static const char *const msgs[] = {
        SRV_LINE_UNAVAILABLE_MSG,
        "This request was not executed because the batch was cancelled.",
        ("This request could not be executed before the completion window"
         " expired.")};
    unfin *u = ud;
    char rid[48];
    srv_random_id(rid, sizeof rid, "batch_req_", 24);
    oab__buf_printf(&u->eb, "{\"id\":\"%s\",\"custom_id\":", rid);
    oab__buf_json_string(&u->eb, cid ? cid : "", cid ? strlen(cid) : 0);
    oab__buf_printf(&u->eb,
                    ",\"response\":null,\"error\":{\"code\":\"%s\","
                    "\"message\":\"%s\"}}\n",
                    codes[u->kind], msgs[u->kind]);
    u->n++;
    if (u->eb.len > 1 << 20)
        return unfin_flush(u);
    return 0;
}

/* kind: 0 completed, 1 cancelled, 2 expired. The batch is not active
 * (its spools are closed) and all its finished lines are committed. */
static void finalize_batch(engine *e, long long seq, const char *id,
                           const char *owner, int kind)
{
    srv *s = e->s;
    long long now = oab__unix_now();
    long long len[2] = {0, 0}, out_expires = 0;
    int won = 0;
    /* several nodes: one finalizes (the others find it claimed, or lines
     * still pending at another node, and look again later) */
    if (srv_db_batch_claim_final(e->db, seq, kind, &won) != SQLITE_OK ||
        !won)
        return;
    if (srv_db_batch_spools(e->db, seq, &len[0], &len[1], &out_expires) !=
        SQLITE_OK)
        return;
    if (kind == 0) {
        if (srv_db_batch_finalizing(e->db, seq, now) != SQLITE_OK)
            return;
        srv_log("batch %s: finalizing", id);
    }
    /* shared state: the files are written from the database into this
     * attempt's temporaries, stored under their ids, and renamed to those
     * once the rows commit. An attempt that lost its claim or died leaves
     * nothing that could pass for the files another node ended the batch
     * with (a spool of the batch's name did: this node then served it) */
    int shared = srv_db_shared(e->db);
    char *path[2] = {spool_path(s, id, 0), spool_path(s, id, 1)};
    for (int k = 0; shared && k < 2; k++) {
        char *t = path[k] ? oab__sprintf("%s.tmp", path[k]) : NULL;
        free(path[k]);
        path[k] = t;
    }
    if (!path[0] || !path[1]) {
        free(path[0]);
        free(path[1]);
        return;
    }
    int fd[2];
    int bad = 0;
    for (int k = 0; k < 2; k++) {
        fd[k] = open(path[k], O_RDWR | O_CREAT, 0600);
        /* drop whatever was written after the last commit (shared state:
         * the recorded results, written from the database) */
        if (fd[k] < 0 || ftruncate(fd[k], (off_t)len[k]) != 0 ||
            srv_db_results_write(e->db, seq, k, fd[k], &len[k]) !=
                SQLITE_OK)
            bad = 1;
    }
    /* the lines that never finished go to the error file */
    unfin u;
    memset(&u, 0, sizeof u);
    u.fd = fd[1];
    u.kind = kind;
    u.len = len[1];
    if (!bad && (srv_db_lines_unfinished(e->db, seq, unfin_line, &u) !=
                     SQLITE_OK ||
                 unfin_flush(&u)))
        bad = 1;
    oab__buf_free(&u.eb);
    len[1] = u.len;
    for (int k = 0; k < 2; k++) {
        if (fd[k] >= 0) {
            if (!bad && fsync(fd[k]) != 0)
                bad = 1;
            close(fd[k]);
        }
    }
    if (bad) {
        SRV_LOG_EVERY(10, "batch %s: cannot write its result files; will retry",
                      id);
        free(path[0]);
        free(path[1]);
        return;
    }
    char fid[2][40];
    int ok = srv_db_begin(e->db) == SQLITE_OK;
    for (int k = 0; ok && k < 2; k++) {
        if (!len[k])
            continue;
        srv_random_id(fid[k], sizeof fid[k], "file-", 22);
        const char *name = shared ? fid[k] : strrchr(path[k], '/') + 1;
        ok = srv_db_file_insert(e->db, fid[k], owner, "batch_output", name,
                                len[k], now, name,
                                out_expires ? now + out_expires : 0) ==
                 SQLITE_OK &&
             srv_db_file_store(e->db, fid[k], path[k]) == SQLITE_OK;
    }
    ok = ok && srv_db_batch_ended(e->db, seq, kind, now,
                                  len[0] ? fid[0] : NULL,
                                  len[1] ? fid[1] : NULL, len[0],
                                  len[1], kind == 0 ? u.n : 0) == SQLITE_OK;
    /* the line rows are no longer needed once the files exist */
    ok = ok && srv_db_lines_delete(e->db, seq) == SQLITE_OK;
    ok = ok && srv_webhook_enqueue(s, e->db, id,
                                   kind == 0   ? "batch.completed"
                                   : kind == 1 ? "batch.cancelled"
                                               : "batch.expired") == SQLITE_OK;
    if (ok && srv_db_commit(e->db) == SQLITE_OK) {
        for (int k = 0; k < 2; k++) {
            char *keep = shared && len[k]
                             ? oab__sprintf("%s/%s", s->files_dir, fid[k])
                             : NULL;
            /* a copy not renamed is fetched when first asked for */
            if (!len[k] || (shared && (!keep || rename(path[k], keep) != 0)))
                unlink(path[k]);
            free(keep);
        }
        srv_log("batch %s: %s (%lld unfinished line%s in the error file)",
                id,
                kind == 0 ? "completed" : kind == 1 ? "cancelled" : "expired",
                u.n, u.n == 1 ? "" : "s");
    } else {
        srv_db_rollback(e->db);
        for (int k = 0; shared && k < 2; k++)
            unlink(path[k]);
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

/* Forgets the finished lines taken (their texts, shared state). */
static void drop_done(engine *e)
{
    for (size_t i = 0; i < e->ndone; i++)
        free((char *)e->done[i].text);
    e->ndone = 0;
}

/* Finished lines not recorded yet: gathered here, and (shared state)
 * in the recorder's hands. A batch is finalized only when this is 0. */
static size_t uncommitted(engine *e)
{
    return e->ndone + (e->rec ? srv_recorder_pending(e->rec) : 0);
}

/* Commits the finished lines: spools written first, then one transaction
 * with the line states, counts, usage and the spools' lengths. On
 * failure everything stays pending and is tried again. Shared state:
 * they go to the recorder when it is idle (else they wait for the next
 * call), which records them while this thread goes on. */
static void commit_done(engine *e)
{
    if (!e->ndone)
        return;
    if (e->rec) {
        srv_recorder_give(e->rec, &e->done, &e->ndone, &e->capdone);
        return;
    }
    for (bctx *b = e->active; b; b = b->next)
        if (flush_pend(b) != 0) {
            SRV_LOG_EVERY(10, "batch %s: cannot write its spool; will retry",
                          b->id);
            return;
        }
    /* shared state: srv_db_lines_done is one statement, its own
     * transaction (no spools to record with it) */
    int shared = srv_db_shared(e->db);
    if (!shared && srv_db_begin(e->db) != SQLITE_OK)
        return;
    int ok = srv_db_lines_done(e->db, e->done, e->ndone) == SQLITE_OK;
    if (shared && !ok)
        return;
    for (bctx *b = e->active; ok && b; b = b->next) {
        if (b->written[0] == b->committed[0] &&
            b->written[1] == b->committed[1])
            continue;
        ok = srv_db_batch_set_spools(e->db, b->seq, b->written[0],
                                     b->written[1]) == SQLITE_OK;
    }
    if (!shared && (!ok || srv_db_commit(e->db) != SQLITE_OK)) {
        srv_db_rollback(e->db);
        return;
    }
    for (bctx *b = e->active; b; b = b->next) {
        b->committed[0] = b->written[0];
        b->committed[1] = b->written[1];
    }
    drop_done(e);
}

/* Takes a finished line (output when state 1, error file when 2). */
/* line, valid UTF-8: an upstream's bytes that are not (inside a JSON
 * body's strings, a body that is no JSON, its x-request-id) become
 * U+FFFD. An output file is JSON, which is UTF-8, and PostgreSQL's text
 * refuses anything else: such a line, refused at every try, held its
 * node's recording forever. NULL (line freed) when out of memory. */
static char *valid_utf8(char *line)
{
    size_t len = strlen(line);
    if (oab__utf8_valid(line, len))
        return line;
    oab__buf b = OAB__BUF_INIT;
    char *fixed = oab__utf8_repair(&b, line, len) == OAB_OK
                      ? oab__buf_take(&b, NULL)
                      : NULL;
    if (!fixed)
        oab__buf_free(&b);
    free(line);
    return fixed;
}

/* Line idx of batch b finished (state 1 ok, 2 error) with its result
 * line (owned: taken; NULL only on shared state, for a line whose input
 * cannot be read: the database writes its line_unavailable error line,
 * from the custom_id it keeps) and usage u (may be NULL). */
static void done_add(engine *e, bctx *b, long long idx, int state,
                     char *line, const oab_usage *u)
{
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
    done_rec *d = &e->done[e->ndone++];
    memset(d, 0, sizeof *d);
    if (srv_db_shared(e->db)) {
        /* the line goes into the database with its state */
        d->text = line;
        d->len = line ? strlen(line) : 0;
    } else {
        oab__buf *pend = &b->pend[state == 1 ? 0 : 1];
        oab__buf_puts(pend, line);
        oab__buf_putc(pend, '\n');
        free(line);
        if (pend->len > (1u << 20))
            flush_pend(b); /* a failure is retried at the commit */
    }
    d->seq = b->seq;
    d->idx = idx;
    d->state = state;
    if (u) {
        d->in = u->prompt_tokens;
        d->cached = u->cached_tokens;
        d->out = u->completion_tokens;
        d->reasoning = u->reasoning_tokens;
    }
}

static void record(engine *e, slot *sl, int state, char *line,
                   const oab_usage *u)
{
    if (line)
        line = valid_utf8(line);
    if (line)
        done_add(e, sl->b, sl->idx, state, line, u);
}

/* Makes the output/error line for an HTTP answer whose body is exactly
 * one JSON value (parsed in e->doc), or, when it is not (json 0), the
 * body as a JSON string. */
static char *result_line(slot *sl, long status, const char *body,
                         size_t len, int json)
{
    oab__buf o = OAB__BUF_INIT;
    char rid[48], reqid[80];
    srv_random_id(rid, sizeof rid, "batch_req_", 24);
    if (!sl->x.request_id[0])
        srv_random_id(reqid, sizeof reqid, "req_", 24);
    else
        snprintf(reqid, sizeof reqid, "%s", sl->x.request_id);
    oab__buf_printf(&o, "{\"id\":\"%s\",\"custom_id\":", rid);
    oab__buf_json_string(&o, sl->custom_id, strlen(sl->custom_id));
    oab__buf_printf(&o, ",\"response\":{\"status_code\":%ld,\"request_id\":",
                    status);
    oab__buf_json_string(&o, reqid, strlen(reqid));
    oab__buf_puts(&o, ",\"body\":");
    if (json) {
        /* one JSON value: newlines can only be whitespace, so dropping
         * them makes it one line without touching the values */
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

/* The slot's transfer no longer counts in its upstream's window. */
static void release_up(engine *e, slot *sl)
{
    if (sl->up >= 0)
        e->ups[sl->up].inflight--;
    sl->up = -1;
}

static void slot_free(engine *e, slot *sl)
{
    release_up(e, sl);
    if (sl->easy) {
        curl_multi_remove_handle(e->multi, sl->easy);
        curl_easy_cleanup(sl->easy);
    }
    srv_metrics_abandoned(&sl->mtag);
    curl_slist_free_all(sl->hdrs);
    oab__buf_free(&sl->x.resp);
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

/* The final result of a line with an HTTP answer. A 2xx body must be
 * exactly one JSON value (an upstream that sends bytes after it, or two
 * values, gets the line an error, never a broken output line); its usage
 * is summed. */
static void http_result(engine *e, slot *sl, long status, const char *body,
                        size_t len)
{
    int json = len && oab__jdoc_parse(&e->doc, body, len) == OAB_OK;
    if (status >= 200 && status < 300) {
        if (!json) {
            record(e, sl, 2,
                   error_line(sl, "invalid_upstream_response",
                              "The upstream answered with a body that is not"
                              " exactly one JSON value (empty, cut off, or"
                              " with bytes after the JSON); it was not"
                              " copied."),
                   NULL);
            return;
        }
        oab_usage u;
        const oab__jv *root = oab__jroot(&e->doc);
        oab__usage_decode(&e->doc, oab__jget(&e->doc, root, "usage"), &u);
        record(e, sl, 1, result_line(sl, status, body, len, 1), &u);
        return;
    }
    record(e, sl, 2, result_line(sl, status, body, len, json), NULL);
}

/* Decides between retry and final result for one attempt's outcome.
 * status 0 = transport failure (msg says what). */
static void attempt_done(engine *e, slot *sl, long status, const char *body,
                         size_t len, const char *msg)
{
    srv *s = e->s;
    srv_metrics_attempt(&sl->mtag, sl->easy, status);
    if (sl->up >= 0) {
        int overload = status == 429 || status == 503;
        enum srv_outcome o =
            overload ? SRV_OUT_OVERLOAD
            : status == 0 && sl->cres == CURLE_OPERATION_TIMEDOUT
                ? SRV_OUT_TIMEOUT
            : status == 0 || status >= 500 ? SRV_OUT_FAIL
                                           : SRV_OUT_OK;
        double now = oab__now();
        srv_pool_outcome(s, e->ups, sl->up, o, sl->x.retry_after,
                         sl->started, now);
        release_up(e, sl);
        if (overload && !sl->b->stopping) {
            /* the upstream is full, not the line wrong: wait and go
             * again, not counted against --max-retries */
            double delay = srv_upstream_backoff(s, &sl->x,
                                                sl->waits > 6 ? 6 : sl->waits);
            sl->waits++;
            sl->state = S_DUE;
            sl->due = now + delay;
            curl_multi_remove_handle(e->multi, sl->easy);
            curl_easy_cleanup(sl->easy);
            sl->easy = NULL;
            return;
        }
    }
    int retryable = status == 0 || status == 429 || status >= 500;
    if (retryable && sl->attempt < s->cfg.max_retries && !sl->b->stopping) {
        double delay = srv_upstream_backoff(s, &sl->x, sl->attempt);
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
    if (sl->b->stopping && (status == 0 || (retryable &&
                                            sl->attempt < s->cfg.max_retries))) {
        /* an answer that would have been tried again but for the stop:
         * stays unfinished (batch_cancelled, batch_expired) */
        slot_unlink(e, sl);
        slot_free(e, sl);
        return;
    }
    if (status > 0)
        http_result(e, sl, status, body, len);
    else
        record(e, sl, 2, error_line(sl, "upstream_error", msg), NULL);
    slot_unlink(e, sl);
    slot_free(e, sl);
}

/* ---------------------------------------------------------------- */
/* running lines                                                      */
/* ---------------------------------------------------------------- */

/* The built-in model's answer to a slot, at once. */
static void builtin_attempt(engine *e, slot *sl)
{
    srv *s = e->s;
    int fail = srv_fail_knob(s);
    cJSON *ans;
    int status = 200;
    if (fail) {
        ans = srv_error_body(fail == 429 ? "Rate limit reached (test knob)."
                                         : "Internal error (test knob).",
                             fail == 429 ? "requests" : "server_error", NULL,
                             fail == 429 ? "rate_limit_exceeded" : NULL);
        status = fail;
    } else {
        cJSON *body = oab__json_parse(sl->body, sl->body_len);
        ans = srv_tm_answer(sl->b->endpoint, body, &status);
        cJSON_Delete(body);
    }
    char *t = ans ? cJSON_PrintUnformatted(ans) : NULL;
    cJSON_Delete(ans);
    if (t)
        attempt_done(e, sl, status, t, strlen(t), NULL);
    else
        attempt_done(e, sl, 0, NULL, 0, "out of memory");
    free(t);
}

/* Runs one attempt of a slot: builtin answers at once (or becomes due
 * after the latency knob), upstream starts a transfer. */
static void start_attempt(engine *e, slot *sl)
{
    srv *s = e->s;
    srv_xfer_reset(&sl->x);
    if (!s->cfg.upstream) {
        builtin_attempt(e, sl);
        return;
    }
    int k = e->picked >= 0 ? e->picked
                           : srv_pool_pick(s, e->ups, s->cfg.n_upstreams,
                                           oab__now());
    e->picked = -1;
    if (k < 0) {
        /* every upstream is full, paused or out: look again soon */
        sl->state = S_DUE;
        sl->due = oab__now() + 0.02;
        return;
    }
    char *url = srv_upstream_url_at(s, k, sl->b->endpoint);
    curl_slist_free_all(sl->hdrs);
    sl->hdrs = NULL;
    sl->easy = url ? srv_upstream_easy(s, url, sl->body, sl->body_len,
                                       &sl->hdrs, &sl->x)
                   : NULL;
    if (sl->easy) {
        sl->mtag = srv_metrics_started(s, url);
        sl->up = k;
        sl->started = oab__now();
        e->ups[k].inflight++;
    }
    free(url);
    if (!sl->easy) {
        attempt_done(e, sl, 0, NULL, 0, "cannot start a transfer");
        return;
    }
    curl_easy_setopt(sl->easy, CURLOPT_PRIVATE, sl);
    sl->state = S_RUNNING;
    curl_multi_add_handle(e->multi, sl->easy);
}

/* Lines this node runs at once: --concurrency per upstream. */
static int window(const engine *e)
{
    const srv *s = e->s;
    return s->cfg.upstream ? s->cfg.concurrency * s->cfg.n_upstreams
                           : s->cfg.concurrency;
}

/* Pending lines fetched at once. Shared state claims what this node runs
 * at once (its window, at least SRV_CLAIM_MIN lines): claimed lines then
 * wait for no other line of this node, while another node could run
 * them. */
static int page_size(const engine *e)
{
    if (!srv_db_shared(e->db))
        return SRV_PAGE;
    int cap = window(e);
    return cap < SRV_CLAIM_MIN ? SRV_CLAIM_MIN : cap > SRV_PAGE ? SRV_PAGE
                                                                : cap;
}

static int next_line(engine *e, bctx *b, long long *idx, long long *off,
                     long long *len)
{
    if (b->ppos == b->pn) {
        if (b->exhausted)
            return 0;
        b->pn = b->ppos = 0;
        /* the claim asked ahead for this batch (it starts from this
         * cursor: the cursor moves only here), else one now */
        int rc = e->rec && srv_recorder_claim_for(e->rec, b->seq)
                     ? srv_recorder_claim_take(e->rec, b->pidx, b->poff,
                                               b->plen, &b->pn)
                     : srv_db_lines_pending(e->db, b->seq, b->cursor,
                                            page_size(e), b->pidx, b->poff,
                                            b->plen, &b->pn);
        if (rc != SQLITE_OK) {
            b->pn = 0;
            return 0; /* tried again on the next turn */
        }
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
    /* shared state: with half the page started, the next one is claimed
     * on the recorder's thread while this one runs (one claim ahead for
     * the whole engine; a batch whose page ends without one claims it
     * here) */
    if (e->rec && b->ppos == (b->pn + 1) / 2)
        srv_recorder_claim_ask(e->rec, b->seq, b->cursor, page_size(e));
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

/* The next batch in round robin with a line to start; NULL when none.
 * Fair between keys too: while batches of several owners are running, a
 * batch of another owner than the last line's goes first, so a key with
 * many batches does not crowd out a key with one. */
/* The priority a batch runs at now: its own, or high when its expiry is
 * within SRV_DEADLINE_SHARE of its window. */
static int run_prio(const bctx *b, long long now)
{
    if (b->expires_at && b->window > 0 &&
        (double)(b->expires_at - now) <=
            SRV_DEADLINE_SHARE * (double)b->window)
        return SRV_PRIO_HIGH;
    return b->prio;
}

/* Lines of the highest priority with a line to start go first; within one
 * priority, round robin as below. */
static bctx *next_batch_at(engine *e, int prio, long long now,
                           long long *idx, long long *off, long long *len);

static bctx *next_batch(engine *e, long long *idx, long long *off,
                        long long *len)
{
    long long now = oab__unix_now();
    int have[SRV_PRIO_LOW + 1] = {0};
    for (bctx *c = e->active; c; c = c->next)
        if (!c->stopping && !c->exhausted)
            have[run_prio(c, now)] = 1;
    for (int p = SRV_PRIO_HIGH; p <= SRV_PRIO_LOW; p++) {
        if (!have[p])
            continue;
        bctx *b = next_batch_at(e, p, now, idx, off, len);
        if (b)
            return b;
    }
    return NULL;
}

static bctx *next_batch_at(engine *e, int prio, long long now,
                           long long *idx, long long *off, long long *len)
{
    for (int pass = e->owners > 1 ? 0 : 1; pass < 2; pass++) {
        bctx *start = e->rr ? e->rr : e->active;
        bctx *c = start;
        for (int loops = 0; c && loops < 2;) {
            if (!c->stopping && !c->exhausted && run_prio(c, now) == prio &&
                (pass || strcmp(c->owner, e->last_owner) != 0) &&
                next_line(e, c, idx, off, len)) {
                memcpy(e->last_owner, c->owner, sizeof e->last_owner);
                return c;
            }
            c = c->next;
            if (!c) {
                c = e->active;
                loops++;
            }
            if (c == start)
                break;
        }
    }
    return NULL;
}

/* Starts new lines; returns how many. */
static int dispatch(engine *e, int budget)
{
    srv *s = e->s;
    int started = 0;
    refill(e);
    int cap = window(e);
    /* lines in flight and finished lines not recorded yet stay within
     * two windows: what a kill of this node can have sent upstream
     * without a record of it (shared state records on the recorder's
     * thread, so finished lines can wait there while new ones start) */
    size_t held = uncommitted(e);
    while (started < budget && e->nslots < cap &&
           (size_t)e->nslots + held < 2 * (size_t)cap) {
        if (s->cfg.rpm > 0 && e->rpm_tokens < 1)
            break;
        if (s->cfg.upstream &&
            (e->picked = srv_pool_pick(s, e->ups, s->cfg.n_upstreams,
                                       oab__now())) < 0)
            break;
        long long idx = 0, off = 0, len = 0;
        bctx *b = next_batch(e, &idx, &off, &len);
        if (!b)
            break;
        e->rr = b->next;
        if (b->fd < 0) {
            /* shared state, an input this node cannot open (deleted):
             * the line it claimed ends as an error, line_unavailable,
             * while a node that has the file open answers the lines it
             * claims; the batch then completes as any other */
            done_add(e, b, idx, 2, NULL, NULL);
            started++;
            continue;
        }
        slot *sl = calloc(1, sizeof *sl);
        char *line = malloc((size_t)len + 1);
        if (!sl || !line) {
            free(sl);
            free(line);
            break;
        }
        /* the body goes upstream as the user wrote it (its raw text: a
         * re-print through cJSON would cut a string at a \u0000) */
        ssize_t got = pread(b->fd, line, (size_t)len, (off_t)off);
        const oab__jv *root =
            got > 0 && oab__jdoc_parse(&e->ldoc, line, (size_t)got) == OAB_OK
                ? oab__jroot(&e->ldoc)
                : NULL;
        sl->b = b;
        sl->idx = idx;
        sl->up = -1;
        sl->x.retry_after = -1;
        b->inflight++;
        e->nslots++;
        sl->next = e->slots;
        e->slots = sl;
        const oab__jv *cidv = root ? oab__jget(&e->ldoc, root, "custom_id")
                                   : NULL;
        const oab__jv *body = root ? oab__jget(&e->ldoc, root, "body") : NULL;
        int oom = 0;
        sl->custom_id = cidv && cidv->type == OAB__J_STRING
                            ? oab__jstr_dup(&e->ldoc, cidv, &oom)
                            : oab__strdup("");
        sl->body = body && body->type == OAB__J_OBJECT
                       ? oab__jraw_dup(&e->ldoc, body)
                       : NULL;
        free(line);
        started++;
        if (!sl->custom_id || !sl->body) {
            if (!sl->custom_id)
                sl->custom_id = oab__strdup("");
            if (sl->custom_id)
                attempt_done(e, sl, 0, NULL, 0,
                             "the input line could not be read");
            else {
                slot_unlink(e, sl);
                slot_free(e, sl);
            }
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
    e->picked = -1;
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
        sl->cres = res;
        long status = 0;
        if (res == CURLE_OK)
            curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &status);
        if (res == CURLE_OK)
            attempt_done(e, sl, status, sl->x.resp.data, sl->x.resp.len,
                         NULL);
        else
            attempt_done(e, sl, 0, NULL, 0, curl_easy_strerror(res));
    }
}

/* 1 while a slot's request has been sent and its answer not come: a
 * transfer running, or the built-in model's latency wait. */
static int slot_sent(const slot *sl)
{
    return sl->state == S_RUNNING || sl->attempt < 0;
}

/* Drops the slots of a stopping batch (their lines stay unfinished):
 * every one, or (all 0) those whose request is not out: an answer on
 * its way is paid for, and goes in the output when it comes. */
static void drop_slots(engine *e, bctx *b, int all)
{
    slot *sl = e->slots;
    while (sl) {
        slot *next = sl->next;
        if (sl->b == b && (all || !slot_sent(sl))) {
            slot_unlink(e, sl);
            slot_free(e, sl);
        }
        sl = next;
    }
}

/* A batch begins to stop (1 cancelled, 2 expired): no line starts, the
 * requests out are waited for up to --stop-grace. */
static void stop_batch(engine *e, bctx *b, int kind, double now)
{
    b->stopping = kind;
    b->stop_at = now;
    drop_slots(e, b, e->s->cfg.stop_grace_s <= 0);
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
    /* a claim asked ahead for it is over: its lines stay leased to this
     * node (the batch stopped, or ended elsewhere; were it opened here
     * again, its claims from the start would take them back) */
    if (e->rec && srv_recorder_claim_for(e->rec, b->seq)) {
        int n = 0;
        srv_recorder_claim_take(e->rec, NULL, NULL, NULL, &n);
    }
    for (bctx **pp = &e->active; *pp; pp = &(*pp)->next)
        if (*pp == b) {
            *pp = b->next;
            break;
        }
    if (e->rr == b)
        e->rr = b->next;
    free_bctx(b);
}

/* A copy of the active rows (the scan writes while it goes). */
typedef struct row {
    long long seq, created_at, expires_at, out_bytes, err_bytes;
    int prio, validated;
    char id[64], status[16], endpoint[64], input[64], owner[17];
} row;

typedef struct rows {
    row *v;
    size_t n, cap;
    int oom;
} rows;

static int take_row(const srv_active_row *a, void *ud)
{
    rows *rs = ud;
    if (rs->n == rs->cap) {
        size_t cap = rs->cap ? rs->cap * 2 : 64;
        row *p = realloc(rs->v, cap * sizeof *p);
        if (!p) {
            rs->oom = 1;
            return 1;
        }
        rs->v = p;
        rs->cap = cap;
    }
    row *r = &rs->v[rs->n++];
    r->seq = a->seq;
    r->expires_at = a->expires_at;
    r->created_at = a->created_at;
    r->prio = srv_priority(a->priority);
    if (r->prio < 0) /* refused at create; a state from before */
        r->prio = SRV_PRIO_NORMAL;
    r->out_bytes = a->out_bytes;
    r->err_bytes = a->err_bytes;
    r->validated = a->validated;
    snprintf(r->id, sizeof r->id, "%s", a->id);
    snprintf(r->status, sizeof r->status, "%s", a->status);
    snprintf(r->endpoint, sizeof r->endpoint, "%s", a->endpoint);
    snprintf(r->input, sizeof r->input, "%s", a->input_file_id);
    snprintf(r->owner, sizeof r->owner, "%s", a->owner);
    return 0;
}

/* Makes the engine's state of a running batch (input open, spools cut
 * back to what was committed). NULL when out of memory or when its input
 * cannot be had now (input_path: opened at a later scan; a batch whose
 * input is gone opens, and its lines end as errors). */
static bctx *open_batch(engine *e, const row *r)
{
    int later = 0;
    char *path = input_path(e, r->input, &later, NULL);
    bctx *b = later ? NULL : calloc(1, sizeof *b);
    if (!b) {
        free(path);
        return NULL;
    }
    b->seq = r->seq;
    snprintf(b->id, sizeof b->id, "%s", r->id);
    snprintf(b->endpoint, sizeof b->endpoint, "%s", r->endpoint);
    snprintf(b->owner, sizeof b->owner, "%s", r->owner);
    b->expires_at = r->expires_at;
    b->window = r->expires_at - r->created_at;
    b->prio = r->prio;
    b->fd = path ? open(path, O_RDONLY) : -1;
    free(path);
    b->committed[0] = b->written[0] = r->out_bytes;
    b->committed[1] = b->written[1] = r->err_bytes;
    for (int k = 0; k < 2; k++) {
        /* shared state: the results are in the database, no spools */
        char *sp = srv_db_shared(e->db) ? NULL : spool_path(e->s, r->id, k);
        b->sfd[k] = sp ? open(sp, O_RDWR | O_CREAT, 0600) : -1;
        free(sp);
        if (b->sfd[k] >= 0 &&
            ftruncate(b->sfd[k], (off_t)b->written[k]) != 0) {
            close(b->sfd[k]);
            b->sfd[k] = -1;
        }
    }
    /* lines end as errors: SQLite's when it finishes; shared state's
     * as this node claims them (others may have the file open) */
    if (b->fd < 0 && !srv_db_shared(e->db))
        b->exhausted = 1;
    return b;
}

/* ---- the sweeper: files past their expires_at ---- */

typedef struct expired {
    char id[64], path[96];
} expired;

typedef struct expired_list {
    expired v[100];
    int n;
} expired_list;

static int take_expired(const char *id, const char *path, void *ud)
{
    expired_list *l = ud;
    if (l->n == (int)(sizeof l->v / sizeof l->v[0]))
        return 1;
    snprintf(l->v[l->n].id, sizeof l->v[l->n].id, "%s", id);
    snprintf(l->v[l->n].path, sizeof l->v[l->n].path, "%s", path);
    l->n++;
    return 0;
}

/* The names of files gone elsewhere, as the sweep removes copies. */
typedef struct gone {
    engine *e;
    int seen, removed;
} gone;

static int drop_copy(const char *name, void *ud)
{
    gone *g = ud;
    g->seen++;
    /* a stored name, never a path */
    if (!*name || name[0] == '.' || strchr(name, '/'))
        return 0;
    char *p = oab__sprintf("%s/%s", g->e->s->files_dir, name);
    if (p && unlink(p) == 0)
        g->removed++;
    free(p);
    return 0;
}

/* Deletes expired files (row and body); the API answers 404 for them
 * from the moment they expire (db.c's views); shared state: this
 * node's copies of files gone through any node. */
static void sweep(engine *e)
{
    expired_list l;
    l.n = 0;
    if (srv_db_files_expired(e->db, oab__unix_now(), 100, take_expired,
                             &l) != SQLITE_OK)
        return;
    for (int i = 0; i < l.n; i++) {
        if (srv_db_file_remove(e->db, l.v[i].id) != SQLITE_OK)
            continue;
        char *p = oab__sprintf("%s/%s", e->s->files_dir, l.v[i].path);
        if (p && strchr(l.v[i].path, '/') == NULL)
            unlink(p);
        free(p);
    }
    if (l.n)
        srv_log("removed %d expired file%s", l.n, l.n == 1 ? "" : "s");
    double now = oab__now();
    int forget = now - e->last_forget > SRV_GONE_FORGET_EVERY;
    if (forget) {
        e->last_forget = now;
        srv_db_cursors_forget(e->db, oab__unix_now(), SRV_CURSOR_KEEP);
    }
    /* shared state: this node's copies of files that went through other
     * nodes (deleted, expired) */
    if (!srv_db_shared(e->db))
        return;
    gone g = {e, 0, 0};
    /* from the last settled name: the newest are read again each sweep,
     * so one whose transaction committed behind a later one is seen */
    long long from = e->gone_after;
    for (int page = 0; page < SRV_GONE_PAGES; page++) {
        g.seen = 0;
        if (srv_db_gone_since(e->db, &from, &e->gone_after, SRV_GONE_PAGE,
                              drop_copy, &g) != SQLITE_OK ||
            g.seen < SRV_GONE_PAGE)
            break;
    }
    if (g.removed)
        srv_log("removed %d cop%s of files gone through other nodes",
                g.removed, g.removed == 1 ? "y" : "ies");
    if (forget)
        srv_db_gone_forget(e->db, SRV_GONE_KEEP);
}

/* Every active batch, every scan (no window): cancels and expiries take
 * effect for all of them at once; validation, which reads whole files,
 * gets a time budget per scan, so the others are not held up. */
static void scan(engine *e)
{
    e->last_scan = oab__now();
    rows rs;
    memset(&rs, 0, sizeof rs);
    if (srv_db_active(e->db, take_row, &rs) != SQLITE_OK || rs.oom) {
        free(rs.v);
        return;
    }
    long long now = oab__unix_now();
    double validate_until = oab__now() + SRV_SCAN_SECONDS;
    int validated = 0;
    for (bctx *b = e->active; b; b = b->next)
        b->seen = 0;
    for (size_t i = 0; i < rs.n; i++) {
        row *r = &rs.v[i];
        bctx *b = find_active(e, r->seq);
        if (b)
            b->seen = 1;
        if (!strcmp(r->status, "validating")) {
            if (!validated++ || oab__now() < validate_until)
                validate_batch(e, r->seq, r->id, r->endpoint, r->input,
                               r->owner, r->expires_at);
            continue; /* picked up as in_progress next scan */
        }
        if (!strcmp(r->status, "finalizing")) {
            commit_done(e);
            if (uncommitted(e))
                continue; /* not committed yet: try again later */
            if (b) {
                if (b->inflight)
                    continue;
                remove_active(e, b);
            }
            finalize_batch(e, r->seq, r->id, r->owner, 0);
            continue;
        }
        if (!r->validated && !strcmp(r->status, "cancelling"))
            /* cancelled before any node validated it: its lines are
             * recorded now (the batch stays cancelling), so that they
             * end in the error file as cancelled. Until they are, no
             * node finalizes it (shared state: another node may be
             * validating it, or have been refused while this one held
             * its finalization); a batch validated already is left as
             * it is */
            if (!validate_batch(e, r->seq, r->id, r->endpoint, r->input,
                                r->owner, r->expires_at))
                continue; /* its input cannot be had now: never ended
                           * before its lines are recorded */
        if (!b) {
            if (!(b = open_batch(e, r)))
                continue;
            b->seen = 1;
            b->next = e->active;
            e->active = b;
        }
        if (!strcmp(r->status, "cancelling") && b->stopping != 1)
            stop_batch(e, b, 1, oab__now());
        else if (!b->stopping && r->expires_at && now >= r->expires_at)
            stop_batch(e, b, 2, oab__now());
        else if (b->stopping && b->inflight &&
                 oab__now() - b->stop_at >= (double)e->s->cfg.stop_grace_s)
            drop_slots(e, b, 1); /* the grace is over */
    }
    free(rs.v);
    /* shared state: a batch another node ended (cancelled, expired,
     * completed) is no longer active: its lines here stop */
    for (bctx *b = e->active, *next; srv_db_shared(e->db) && b; b = next) {
        next = b->next;
        if (b->seen)
            continue;
        drop_slots(e, b, 1);
        remove_active(e, b);
    }
    e->owners = 1;
    for (bctx *b = e->active; b && e->owners == 1; b = b->next)
        if (strcmp(b->owner, e->active->owner) != 0)
            e->owners = 2;
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
        if (ready && uncommitted(e) == 0) {
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
        srv_lease_tick(e->lease); /* the heartbeat renews while this goes on */
        pthread_mutex_lock(&s->wake_lock);
        int woke = s->wake_flag;
        s->wake_flag = 0;
        pthread_mutex_unlock(&s->wake_lock);
        if (woke || now - e->last_scan > SRV_SCAN_SECONDS)
            scan(e);
        if (now - e->last_sweep > SRV_SWEEP_SECONDS) {
            e->last_sweep = now;
            sweep(e);
        }
        run_due(e); /* lines waiting go before new ones */
        int started = dispatch(e, SRV_DISPATCH_BUDGET);
        if (s->cfg.upstream) {
            int running = 0;
            curl_multi_perform(e->multi, &running);
            reap(e);
        }
        run_due(e);
        /* every finished line is committed before the next wait; shared
         * state hands them to the recorder whenever it is idle: the
         * round trip of one group is the time the next one gathers */
        if (e->ndone)
            commit_done(e);
        finish_ready(e);
        /* how long to sleep */
        int timeout = e->ndone ? (int)(SRV_COMMIT_RETRY_S * 1000) : 50;
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
    /* the recorder's group gets its try; then what is left here gets one
     * on this thread's connection */
    srv_recorder_stop(e->rec);
    e->rec = NULL;
    commit_done(e);
    drop_done(e);
    while (e->active)
        remove_active(e, e->active);
    /* shared state: this node's claims are free for the others now (its
     * heartbeat stopped first: it would mark the node live again) */
    srv_lease_stop(e->lease);
    e->lease = NULL;
    srv_db_node_leave(e->db);
    return NULL;
}

/* The recorder's wake-up (its thread): a group was recorded, so the
 * loop can hand over the next or finalize. */
static void rec_wake(void *ud)
{
    engine *e = ud;
    curl_multi_wakeup(e->multi);
}

int srv_engine_start(srv *s)
{
    engine *e = calloc(1, sizeof *e);
    if (!e)
        return -1;
    e->s = s;
    e->picked = -1;
    srv_pool_init(s, e->ups, s->cfg.n_upstreams);
    char *dbpath = srv_db_where(s->cfg.db_url, s->cfg.data_dir);
    int rc = dbpath ? srv_db_open(dbpath, &e->db) : SQLITE_NOMEM;
    free(dbpath);
    if (rc == SQLITE_OK) {
        char *node = srv_node_name(&s->cfg);
        rc = node ? srv_db_set_node(e->db, node, 1) : SQLITE_NOMEM;
        if (rc == SQLITE_OK && srv_db_shared(e->db) &&
            (srv_lease_start(e->db, node, &e->lease) != 0 ||
             srv_recorder_start(e->db, node, rec_wake, e, &e->rec) != 0))
            rc = SQLITE_ERROR;
        free(node);
        if (rc != SQLITE_OK) {
            srv_lease_stop(e->lease);
            srv_db_close(e->db);
        }
    }
    if (rc != SQLITE_OK) {
        free(e);
        return -1;
    }
    e->multi = curl_multi_init();
    if (!e->multi) {
        srv_recorder_stop(e->rec);
        srv_lease_stop(e->lease);
        srv_db_close(e->db);
        free(e);
        return -1;
    }
    curl_multi_setopt(e->multi, CURLMOPT_MAXCONNECTS,
                      (long)s->cfg.concurrency);
    s->engine = e;
    if (pthread_create(&s->engine_thread, NULL, engine_main, e) != 0) {
        srv_recorder_stop(e->rec);
        srv_lease_stop(e->lease);
        curl_multi_cleanup(e->multi);
        srv_db_close(e->db);
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
    srv_db_close(e->db);
    oab__jdoc_free(&e->doc);
    oab__jdoc_free(&e->ldoc);
    oab_tokenizers_free(e->toks);
    free(e->done);
    free(e);
    s->engine = NULL;
}
