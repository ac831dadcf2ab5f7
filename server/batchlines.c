/* batchlines.c - GET /v1/batches/{id}/lines: a batch's lines paged from
 * its result files (committed spools while it runs: bytes past the
 * recorded lengths may still be cut back after a crash, so they are not
 * shown) and from the lines table for those not finished. A cursor is
 * "o<offset>" or "e<offset>" (the next line of the output or error
 * file) or "p<idx>" (the last line shown of those not finished). */
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
    int kind;               /* 'o', 'e' or 'p' */
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
                    const cJSON *status_code, const char *error_code)
{
    if (p->match && !strstr(cid, p->match))
        return 0;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "object", "batch.line");
    cJSON_AddStringToObject(o, "custom_id", cid);
    cJSON_AddStringToObject(o, "state", state);
    if (cJSON_IsNumber(status_code))
        cJSON_AddNumberToObject(o, "status_code", status_code->valuedouble);
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

/* One line of an output or error file. */
static int file_line(const char *line, size_t len, long lineno, void *ud)
{
    (void)lineno;
    page *p = ud;
    cJSON *j = oab__json_parse(line, len);
    const char *cid = oab__json_str(j, "custom_id");
    const cJSON *resp = cJSON_GetObjectItemCaseSensitive(j, "response");
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(resp, "status_code");
    const char *code = oab__json_str(cJSON_GetObjectItemCaseSensitive(j,
                                                                      "error"),
                                     "code");
    if (!code)
        code = oab__json_str(oab__json_path(resp, "body.error"), "code");
    int added = add_item(p, cid ? cid : "",
                         p->kind == 'o' ? "completed" : "failed", sc, code);
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

/* The unfinished lines, taken in the same read transaction as the
 * spools' lengths (one snapshot: a line committed after it is still
 * pending here and not yet in the spools read), added after the files. */
typedef struct waiting {
    long long idx[SRV_LINES_LIMIT_MAX + 1];
    char *cid[SRV_LINES_LIMIT_MAX + 1];
    int n, want;
    const char *match;
    int oom;
} waiting;

static int waiting_line(long long idx, const char *cid, void *ud)
{
    waiting *w = ud;
    if (w->match && !strstr(cid, w->match))
        return 0;
    if (!(w->cid[w->n] = oab__strdup(cid))) {
        w->oom = 1;
        return 1;
    }
    w->idx[w->n++] = idx;
    return w->n >= w->want;
}

static void waiting_free(waiting *w)
{
    for (int i = 0; w && i < w->n; i++)
        free(w->cid[i]);
    free(w);
}

static int parse_cursor(const char *after, int *kind, long long *v)
{
    *kind = 'o';
    *v = 0;
    if (!after)
        return 0;
    if (!strchr("oep", after[0]) || !after[1])
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
    pthread_mutex_lock(&s->db_lock);
    /* one read transaction: the batch, its spools' lengths and its
     * pending lines are one snapshot */
    int dbrc = srv_db_exec(s->db, "BEGIN");
    int began = dbrc == SQLITE_OK, running = 0;
    cJSON *b = began ? srv_batch_json(s->db, id, owner) : NULL;
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
                len[k] = -1; /* the whole file */
            }
        }
    }
    waiting *w = NULL;
    if (b && running && dbrc == SQLITE_OK) {
        /* the pending lines of the same snapshot; the filter counts
         * toward the page only for the lines that match */
        w = calloc(1, sizeof *w);
        if (w) {
            w->match = match && *match ? match : NULL;
            w->want = limit + 1;
            dbrc = srv_db_lines_waiting(s->db, seq, kind == 'p' ? at : -1,
                                        w->match ? -1 : limit + 1,
                                        waiting_line, w);
            if (w->oom)
                dbrc = SQLITE_NOMEM;
        } else {
            dbrc = SQLITE_NOMEM;
        }
    }
    if (began)
        srv_db_exec(s->db, "COMMIT");
    pthread_mutex_unlock(&s->db_lock);
    cJSON_Delete(b);
    if (!b || dbrc != SQLITE_OK) {
        waiting_free(w);
        free(path[0]);
        free(path[1]);
        *status = b || !began ? 500 : 404;
        *message = *status == 500 ? "Could not read the batch."
                                  : "No such Batch object.";
        return NULL;
    }
    page p;
    memset(&p, 0, sizeof p);
    p.want = limit + 1;
    p.match = match && *match ? match : NULL;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "object", "list");
    p.data = cJSON_AddArrayToObject(o, "data");
    int bad = 0;
    if (kind == 'o') {
        p.kind = 'o';
        bad |= read_file_lines(&p, path[0], at, len[0]);
        at = 0;
    }
    if (kind != 'p' && p.n < p.want) {
        p.kind = 'e';
        bad |= read_file_lines(&p, path[1], at, len[1]);
        at = -1;
    }
    for (int i = 0; w && i < w->n && p.n < p.want; i++)
        if (add_item(&p, w->cid[i], "pending", NULL, NULL))
            put_cursor(&p, 'p', w->idx[i]);
    waiting_free(w);
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
