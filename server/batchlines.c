/* batchlines.c - GET /v1/batches/{id}/lines: a batch's lines paged from
 * its result files (committed spools while it runs: bytes past the
 * recorded lengths may still be cut back after a crash, so they are not
 * shown), from its recorded results while it runs on shared state
 * (srv_db_results_lines: there a finished line is a row, not spool
 * bytes), and from the lines table for those not finished. Each source
 * is empty where the storage does not use it, so this file never asks
 * which one runs. A cursor is "o<offset>" or "e<offset>" (the next line
 * of the output or error file), "O<idx>" or "E<idx>" (the last recorded
 * output or error result shown) or "p<idx>" (the last line shown of
 * those not finished). */
#include "oaibatch.h"
#include <cjson/cJSON.h>
#include "util/json.h"
#include "util/str.h"
#include "batchlines.h"
#include "db.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct page {
    cJSON *data;
    int want;               /* limit + 1: one more says has_more */
    int n;
    const char *match;
    int kind;               /* 'o' or 'e': the file being read */
    long long base;         /* the file offset fed first */
    oab_jsonl_reader *rd;
    char last[2][40];       /* cursors of the last two items */
} page;

static void put_cursor(page *p, char kind, long long v)
{
    memcpy(p->last[0], p->last[1], sizeof p->last[0]);
    snprintf(p->last[1], sizeof p->last[1], "%c%lld", kind, v);
}

static int add_item(page *p, const char *cid, const char *state,
                    int has_status, double status_code,
                    const char *error_code)
{
    if (p->match && !strstr(cid, p->match))
        return 0;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "object", "batch.line");
    cJSON_AddStringToObject(o, "custom_id", cid);
    cJSON_AddStringToObject(o, "state", state);
    if (has_status)
        cJSON_AddNumberToObject(o, "status_code", status_code);
    else
        cJSON_AddNullToObject(o, "status_code");
    if (error_code)
        cJSON_AddStringToObject(o, "error_code", error_code);
    else
        cJSON_AddNullToObject(o, "error_code");
    cJSON_AddItemToArray(p->data, o);
    p->n++;
    return 1;
}

/* What the list shows of one output or error line: its custom_id ("" when
 * it has none), the upstream's status code when it answered, and the
 * error's code (error.code, else the answer's body.error.code). The
 * strings point into the returned tree (cJSON_Delete it). */
static cJSON *line_fields(const char *line, size_t len, const char **cid,
                          int *has_status, double *status,
                          const char **code)
{
    cJSON *j = oab__json_parse(line, len);
    *cid = oab__json_str(j, "custom_id");
    if (!*cid)
        *cid = "";
    const cJSON *resp = cJSON_GetObjectItemCaseSensitive(j, "response");
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(resp, "status_code");
    *has_status = cJSON_IsNumber(sc);
    *status = *has_status ? sc->valuedouble : 0;
    *code = oab__json_str(cJSON_GetObjectItemCaseSensitive(j, "error"),
                          "code");
    if (!*code)
        *code = oab__json_str(oab__json_path(resp, "body.error"), "code");
    return j;
}

/* One line of an output or error file. */
static int file_line(const char *line, size_t len, long lineno, void *ud)
{
    (void)lineno;
    page *p = ud;
    const char *cid, *code;
    int has_status;
    double status;
    cJSON *j = line_fields(line, len, &cid, &has_status, &status, &code);
    int added = add_item(p, cid, p->kind == 'o' ? "completed" : "failed",
                         has_status, status, code);
    cJSON_Delete(j);
    if (added)
        put_cursor(p, (char)p->kind,
                   p->base +
                       (long long)oab_jsonl_reader_line_offset(p->rd) +
                       (long long)len + 1);
    return p->n >= p->want;
}

/* Feeds path from offset `from` up to `end` bytes (-1: to its end) to
 * file_line. 0, or -1 for a read error. A missing file has no lines. */
static int read_file_lines(page *p, const char *path, long long from,
                           long long end)
{
    int fd = path ? open(path, O_RDONLY) : -1;
    if (fd < 0)
        return path && errno != ENOENT ? -1 : 0;
    int rc = 0;
    char buf[64 * 1024];
    long long pos = from;
    p->base = from;
    if (oab_jsonl_reader_new(&p->rd, 0) != OAB_OK) {
        close(fd);
        return -1;
    }
    oab_status st = OAB_OK;
    while (st == OAB_OK && (end < 0 || pos < end)) {
        size_t want = sizeof buf;
        if (end >= 0 && (long long)want > end - pos)
            want = (size_t)(end - pos);
        ssize_t n = pread(fd, buf, want, (off_t)pos);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            rc = -1;
        if (n <= 0)
            break;
        pos += n;
        st = oab_jsonl_reader_feed(p->rd, buf, (size_t)n, file_line, p);
    }
    if (st == OAB_OK)
        st = oab_jsonl_reader_finish(p->rd, file_line, p, NULL);
    if (st != OAB_OK && st != OAB_ESTOPPED)
        rc = -1;
    oab_jsonl_reader_free(p->rd);
    p->rd = NULL;
    close(fd);
    return rc;
}

/* Lines read from the database in the same read transaction as the
 * spools' lengths (one snapshot: a line recorded after it is still
 * pending here and neither in the spools read nor among the recorded
 * results), added to the page after the files: a running batch's
 * recorded output or error results, or its unfinished lines. */
typedef struct item {
    long long idx;
    char *cid, *code;
    int has_status;
    double status;
} item;

typedef struct items {
    item it[SRV_LINES_LIMIT_MAX + 1];
    int n, want;
    const char *match;
    int oom;
} items;

static int keep_item(items *w, long long idx, const char *cid,
                     int has_status, double status, const char *code)
{
    if (w->match && !strstr(cid, w->match))
        return 0;
    item *t = &w->it[w->n];
    t->cid = oab__strdup(cid);
    t->code = code ? oab__strdup(code) : NULL;
    if (!t->cid || (code && !t->code)) {
        free(t->cid);
        free(t->code);
        w->oom = 1;
        return 1;
    }
    t->idx = idx;
    t->has_status = has_status;
    t->status = status;
    w->n++;
    return w->n >= w->want;
}

static int waiting_line(long long idx, const char *cid, void *ud)
{
    return keep_item(ud, idx, cid, 0, 0, NULL);
}

static int result_line(long long idx, const char *line, size_t len, void *ud)
{
    const char *cid, *code;
    int has_status;
    double status;
    cJSON *j = line_fields(line, len, &cid, &has_status, &status, &code);
    int stop = keep_item(ud, idx, cid, has_status, status, code);
    cJSON_Delete(j);
    return stop;
}

static items *items_new(int limit, const char *match)
{
    items *w = calloc(1, sizeof *w);
    if (w) {
        w->want = limit + 1;
        w->match = match;
    }
    return w;
}

static void items_free(items *w)
{
    for (int i = 0; w && i < w->n; i++) {
        free(w->it[i].cid);
        free(w->it[i].code);
    }
    free(w);
}

/* Adds w's items to the page as `state`, with cursors kind<idx>. */
static void add_items(page *p, const items *w, char kind, const char *state)
{
    for (int i = 0; w && i < w->n && p->n < p->want; i++)
        if (add_item(p, w->it[i].cid, state, w->it[i].has_status,
                     w->it[i].status, w->it[i].code))
            put_cursor(p, kind, w->it[i].idx);
}

static int parse_cursor(const char *after, int *kind, long long *v)
{
    *kind = 'o';
    *v = 0;
    if (!after)
        return 0;
    if (!after[0] || !strchr("oeOEp", after[0]) || !after[1])
        return -1;
    char *end;
    errno = 0;
    long long n = strtoll(after + 1, &end, 10);
    if (*end || errno || n < 0 || after[1] < '0' || after[1] > '9')
        return -1;
    *kind = after[0];
    *v = n;
    return 0;
}

/* Where a page starts, in the order of the sources: 0 the output file,
 * 1 the recorded output results, 2 the error file, 3 the recorded error
 * results, 4 the unfinished lines. */
static int cursor_rank(int kind)
{
    switch (kind) {
    case 'o': return 0;
    case 'O': return 1;
    case 'e': return 2;
    case 'E': return 3;
    default: return 4;
    }
}

cJSON *srv_batch_lines(srv *s, const char *id, const char *owner,
                       const char *after, int limit, const char *match,
                       int *status, const char **message)
{
    int kind;
    long long at;
    if (parse_cursor(after, &kind, &at) != 0) {
        *status = 400;
        *message = "Invalid value for 'after' (the last_id of a page).";
        return NULL;
    }
    if (match && !*match)
        match = NULL;
    pthread_mutex_lock(&s->db_lock);
    /* one read transaction: the batch, its spools' lengths, its
     * recorded results and its pending lines are one snapshot */
    int dbrc = srv_db_begin_read(s->db);
    int began = dbrc == SQLITE_OK, running = 0;
    cJSON *b = began ? srv_batch_json(s->db, id, owner) : NULL;
    int failed = !b && (!began || srv_db_failed(s->db));
    long long seq = -1, len[2] = {0, 0};
    char *path[2] = {NULL, NULL};
    if (b) {
        const char *st = oab__json_str(b, "status");
        running = st && (!strcmp(st, "validating") ||
                         !strcmp(st, "in_progress") ||
                         !strcmp(st, "finalizing") ||
                         !strcmp(st, "cancelling"));
        dbrc = srv_db_batch_seq_spools(s->db, id, &seq, &len[0], &len[1]);
        for (int k = 0; k < 2; k++) {
            if (running) {
                path[k] = oab__sprintf("%s/%s_%s.jsonl", s->files_dir, id,
                                       k ? "error" : "output");
            } else {
                const char *fid = oab__json_str(b, k ? "error_file_id"
                                                     : "output_file_id");
                path[k] = fid ? srv_file_path(s->db, s->files_dir, fid,
                                              owner)
                              : NULL;
                if (fid && !path[k] && srv_db_failed(s->db))
                    dbrc = SQLITE_ERROR; /* not a file gone: a 500 */
                len[k] = -1; /* the whole file */
            }
        }
        /* an ended batch has its files only: a cursor among the results
         * it had while running starts that file again (its lines are in
         * it, in the same order, at offsets the cursor does not know) */
        if (!running && (kind == 'O' || kind == 'E')) {
            kind = kind == 'O' ? 'o' : 'e';
            at = 0;
        }
    }
    int rank = cursor_rank(kind);
    items *res[2] = {NULL, NULL}, *w = NULL;
    if (b && running && dbrc == SQLITE_OK) {
        /* the results and the pending lines of the same snapshot, each
         * up to a page of those that match the filter */
        for (int k = 0; k < 2 && dbrc == SQLITE_OK; k++) {
            if (rank > 1 + 2 * k)
                continue;
            if (!(res[k] = items_new(limit, match))) {
                dbrc = SQLITE_NOMEM;
                break;
            }
            dbrc = srv_db_results_lines(s->db, seq, k,
                                        rank == 1 + 2 * k ? at : -1,
                                        limit + 1, match, result_line,
                                        res[k]);
            if (res[k]->oom)
                dbrc = SQLITE_NOMEM;
        }
        if (dbrc == SQLITE_OK && !(w = items_new(limit, match)))
            dbrc = SQLITE_NOMEM;
        if (dbrc == SQLITE_OK) {
            dbrc = srv_db_lines_waiting(s->db, seq, rank == 4 ? at : -1,
                                        limit + 1, match, waiting_line, w);
            if (w->oom)
                dbrc = SQLITE_NOMEM;
        }
    }
    if (began) {
        int crc = srv_db_commit(s->db);
        if (dbrc == SQLITE_OK)
            dbrc = crc;
    }
    pthread_mutex_unlock(&s->db_lock);
    /* an ended batch's files: shared state fetches another node's here,
     * holding no lock */
    for (int k = 0; k < 2 && b && !running && dbrc == SQLITE_OK; k++) {
        const char *fid = oab__json_str(b, k ? "error_file_id"
                                             : "output_file_id");
        if (fid && path[k] && srv_file_local(s->db, fid, path[k]) != 0)
            dbrc = SQLITE_IOERR;
    }
    int found = b != NULL;
    cJSON_Delete(b);
    if (!found || dbrc != SQLITE_OK) {
        items_free(res[0]);
        items_free(res[1]);
        items_free(w);
        free(path[0]);
        free(path[1]);
        *status = found || failed ? 500 : 404;
        *message = *status == 500 ? "Could not read the batch."
                                  : "No such Batch object.";
        return NULL;
    }
    page p;
    memset(&p, 0, sizeof p);
    p.want = limit + 1;
    p.match = match;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "object", "list");
    p.data = cJSON_AddArrayToObject(o, "data");
    int bad = 0;
    if (rank == 0) {
        p.kind = 'o';
        bad |= read_file_lines(&p, path[0], at, len[0]);
    }
    if (rank <= 1)
        add_items(&p, res[0], 'O', "completed");
    if (rank <= 2 && p.n < p.want) {
        p.kind = 'e';
        bad |= read_file_lines(&p, path[1], rank == 2 ? at : 0, len[1]);
    }
    if (rank <= 3)
        add_items(&p, res[1], 'E', "failed");
    add_items(&p, w, 'p', "pending");
    items_free(res[0]);
    items_free(res[1]);
    items_free(w);
    free(path[0]);
    free(path[1]);
    if (bad) {
        cJSON_Delete(o);
        *status = 500;
        *message = "Could not read the batch's lines.";
        return NULL;
    }
    int more = p.n > limit;
    if (more)
        cJSON_DeleteItemFromArray(p.data, p.n - 1);
    int n = cJSON_GetArraySize(p.data);
    /* the cursor of the last item kept */
    const char *last = more ? p.last[0] : p.last[1];
    if (n)
        cJSON_AddStringToObject(o, "last_id", last);
    else
        cJSON_AddNullToObject(o, "last_id");
    cJSON_AddBoolToObject(o, "has_more", more);
    return o;
}
