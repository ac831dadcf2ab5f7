/* http.c - the HTTP front end (libmicrohttpd): routing, auth, Files and
 * Batches endpoints, synchronous model endpoints. */
#include "oaibatch.h"
#include <cjson/cJSON.h>
#include "util/buf.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/str.h"
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

enum route {
    R_NONE = 0, R_FILES, R_FILE, R_FILE_CONTENT, R_BATCHES, R_BATCH,
    R_BATCH_CANCEL, R_CHAT, R_RESPONSES, R_EMBEDDINGS, R_MODELS
};

typedef struct req {
    enum route route;
    char id[128];
    char method[16];
    char *url;
    double t0;
    unsigned status;
    int done;                   /* a response was queued early */
    char owner[17];
    oab__buf body;
    int too_big;
    /* multipart upload */
    struct MHD_PostProcessor *pp;
    int fd;
    char *tmp_path;
    char *filename;
    oab__buf purpose;
    oab__buf exp;               /* expires_after[seconds] */
    unsigned long long bytes, max_bytes;
    int got_file;
    int io_error;
    char close_delim[80];       /* "\r\n--BOUNDARY--" */
    size_t close_len, close_matched;
    int body_closed;            /* the closing boundary was passed on */
} req;

static void req_free(req *r)
{
    if (!r)
        return;
    if (r->pp)
        MHD_destroy_post_processor(r->pp);
    if (r->fd >= 0)
        close(r->fd);
    if (r->tmp_path) {
        unlink(r->tmp_path);
        free(r->tmp_path);
    }
    free(r->filename);
    free(r->url);
    oab__buf_free(&r->body);
    oab__buf_free(&r->purpose);
    oab__buf_free(&r->exp);
    free(r);
}

cJSON *srv_error_body(const char *message, const char *type,
                      const char *param, const char *code)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *e = cJSON_AddObjectToObject(o, "error");
    cJSON_AddStringToObject(e, "message", message);
    cJSON_AddStringToObject(e, "type", type ? type : "invalid_request_error");
    if (param)
        cJSON_AddStringToObject(e, "param", param);
    else
        cJSON_AddNullToObject(e, "param");
    if (code)
        cJSON_AddStringToObject(e, "code", code);
    else
        cJSON_AddNullToObject(e, "code");
    return o;
}

int srv_json_depth(const cJSON *v)
{
    int max = 0;
    for (const cJSON *c = v ? v->child : NULL; c; c = c->next) {
        int d = srv_json_depth(c);
        if (d > max)
            max = d;
    }
    return v && (cJSON_IsObject(v) || cJSON_IsArray(v)) ? max + 1 : max;
}

static enum MHD_Result send_text(struct MHD_Connection *conn, req *r,
                                 unsigned status, char *text, size_t len)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        len, text, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "application/json");
    char rid[40];
    srv_random_id(rid, sizeof rid, "req_", 24);
    MHD_add_response_header(resp, "x-request-id", rid);
    r->status = status;
    enum MHD_Result ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    r->done = 1;
    return ret;
}

static enum MHD_Result send_json(struct MHD_Connection *conn, req *r,
                                 unsigned status, cJSON *o)
{
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!text)
        return MHD_NO;
    return send_text(conn, r, status, text, strlen(text));
}

static enum MHD_Result send_error(struct MHD_Connection *conn, req *r,
                                  unsigned status, const char *message,
                                  const char *param, const char *code)
{
    const char *type = status == 401   ? "invalid_request_error"
                       : status >= 500 ? "server_error"
                                       : "invalid_request_error";
    return send_json(conn, r, status,
                     srv_error_body(message, type, param, code));
}

/* ---- routing ---- */

static int id_ok(const char *p, size_t n)
{
    if (n == 0 || n >= 128)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static enum route route_of(const char *url, char *id)
{
    id[0] = '\0';
    if (strncmp(url, "/v1/", 4) != 0)
        return R_NONE;
    const char *p = url + 4;
    if (!strcmp(p, "files"))
        return R_FILES;
    if (!strcmp(p, "batches"))
        return R_BATCHES;
    if (!strcmp(p, "chat/completions"))
        return R_CHAT;
    if (!strcmp(p, "responses"))
        return R_RESPONSES;
    if (!strcmp(p, "embeddings"))
        return R_EMBEDDINGS;
    if (!strcmp(p, "models"))
        return R_MODELS;
    int files = !strncmp(p, "files/", 6);
    int batches = !strncmp(p, "batches/", 8);
    if (!files && !batches)
        return R_NONE;
    const char *q = p + (files ? 6 : 8);
    const char *slash = strchr(q, '/');
    size_t n = slash ? (size_t)(slash - q) : strlen(q);
    if (!id_ok(q, n))
        return R_NONE;
    memcpy(id, q, n);
    id[n] = '\0';
    if (!slash)
        return files ? R_FILE : R_BATCH;
    if (files && !strcmp(slash, "/content"))
        return R_FILE_CONTENT;
    if (batches && !strcmp(slash, "/cancel"))
        return R_BATCH_CANCEL;
    return R_NONE;
}

static int method_allowed(enum route rt, const char *m)
{
    int get = !strcmp(m, "GET"), post = !strcmp(m, "POST"),
        del = !strcmp(m, "DELETE");
    switch (rt) {
    case R_FILES:
    case R_BATCHES:
        return get || post;
    case R_FILE:
        return get || del;
    case R_FILE_CONTENT:
    case R_MODELS:
    case R_BATCH:
        return get;
    case R_BATCH_CANCEL:
    case R_CHAT:
    case R_RESPONSES:
    case R_EMBEDDINGS:
        return post;
    default:
        return 0;
    }
}

/* ---- uploads ---- */

static enum MHD_Result upload_iter(void *cls, enum MHD_ValueKind kind,
                                   const char *key, const char *filename,
                                   const char *content_type,
                                   const char *transfer_encoding,
                                   const char *data, uint64_t off,
                                   size_t size)
{
    req *r = cls;
    srv *s = NULL;
    (void)kind;
    (void)content_type;
    (void)transfer_encoding;
    (void)s;
    if (!strcmp(key, "file")) {
        if (!r->got_file) {
            r->got_file = 1;
            free(r->filename);
            r->filename = oab__strdup(filename ? filename : "file.jsonl");
        }
        r->bytes += size;
        if (r->bytes > r->max_bytes)
            r->too_big = 1;
        if (r->too_big || r->io_error || r->fd < 0)
            return MHD_YES;
        size_t done = 0;
        while (done < size) {
            ssize_t w = write(r->fd, data + done, size - done);
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                r->io_error = 1;
                break;
            }
            done += (size_t)w;
        }
        (void)off;
    } else if (!strcmp(key, "expires_after[seconds]")) {
        if (r->exp.len + size < 32)
            oab__buf_append(&r->exp, data, size);
    } else if (!strcmp(key, "purpose")) {
        if (r->purpose.len + size < 64)
            oab__buf_append(&r->purpose, data, size);
    }
    return MHD_YES;
}

/* RFC 2046 allows an epilogue after the closing boundary (the OpenAI Node
 * SDK v4 sends "\r\n" there), but libmicrohttpd's post processor fails on
 * any byte after it; so the body is cut after the closing boundary. */
static void multipart_set_boundary(req *r, const char *ctype)
{
    const char *b = NULL;
    for (const char *p = ctype; p && *p; p++)
        if (!strncasecmp(p, "boundary=", 9)) {
            b = p + 9;
            break;
        }
    if (!b)
        return;
    size_t n;
    if (*b == '"') {
        b++;
        n = strcspn(b, "\"");
    } else {
        n = strcspn(b, "; \t");
    }
    if (n == 0 || n > 70)
        return;
    r->close_len = (size_t)snprintf(r->close_delim, sizeof r->close_delim,
                                    "\r\n--%.*s--", (int)n, b);
}

/* How many of the next size bytes go to the post processor: all of them
 * until the closing boundary, none after it. The boundary has no CR, so
 * on a mismatch the match restarts at a CR or at nothing. */
static size_t multipart_cut(req *r, const char *data, size_t size)
{
    if (r->body_closed)
        return 0;
    if (!r->close_len)
        return size;
    size_t i = 0;
    while (i < size) {
        if (r->close_matched == 0) {
            const char *cr = memchr(data + i, '\r', size - i);
            if (!cr)
                return size;
            i = (size_t)(cr - data);
        }
        char c = data[i++];
        if (c == r->close_delim[r->close_matched]) {
            if (++r->close_matched == r->close_len) {
                r->body_closed = 1;
                return i;
            }
        } else {
            r->close_matched = c == '\r';
        }
    }
    return size;
}

static const char *PURPOSES[] = {"batch", "assistants", "fine-tune",
                                 "vision", "user_data", "evals", NULL};

static enum MHD_Result files_upload_done(struct MHD_Connection *conn,
                                         srv *s, req *r)
{
    if (r->too_big)
        return send_error(conn, r, 413, "File is too large.", "file",
                          "file_too_large");
    if (r->io_error)
        return send_error(conn, r, 500, "Could not store the file.", NULL,
                          NULL);
    if (!r->got_file)
        return send_error(conn, r, 400,
                          "Missing required parameter: 'file'.", "file",
                          "missing_required_parameter");
    const char *purpose = r->purpose.data ? r->purpose.data : "";
    int ok = 0;
    for (int i = 0; PURPOSES[i]; i++)
        if (!strcmp(purpose, PURPOSES[i]))
            ok = 1;
    if (!*purpose)
        return send_error(conn, r, 400,
                          "Missing required parameter: 'purpose'.", "purpose",
                          "missing_required_parameter");
    if (!ok)
        return send_error(conn, r, 400,
                          "Invalid value for 'purpose'.", "purpose",
                          "invalid_value");
    long long exp_s = 0;
    if (r->exp.len) {
        char *end;
        exp_s = strtoll(r->exp.data, &end, 10);
        if (*end || exp_s < 3600 || exp_s > 2592000)
            return send_error(conn, r, 400,
                              "Invalid value for 'expires_after[seconds]':"
                              " 3600 to 2592000.",
                              "expires_after", "invalid_value");
    }
    if (fsync(r->fd) != 0) {
        return send_error(conn, r, 500, "Could not store the file.", NULL,
                          NULL);
    }
    close(r->fd);
    r->fd = -1;
    char id[40];
    srv_random_id(id, sizeof id, "file-", 22);
    char *path = oab__sprintf("%s/%s", s->files_dir, id);
    if (rename(r->tmp_path, path) != 0) {
        free(path);
        return send_error(conn, r, 500, "Could not store the file.", NULL,
                          NULL);
    }
    free(r->tmp_path);
    r->tmp_path = NULL;
    pthread_mutex_lock(&s->db_lock);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db,
        "INSERT INTO files(id, owner, purpose, filename, bytes, created_at,"
        " path, expires_at) VALUES(?,?,?,?,?,?,?,?)", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, r->owner, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, purpose, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, r->filename, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, (sqlite3_int64)r->bytes);
        long long now = oab__unix_now();
        sqlite3_bind_int64(st, 6, now);
        sqlite3_bind_text(st, 7, id, -1, SQLITE_STATIC);
        if (exp_s)
            sqlite3_bind_int64(st, 8, now + exp_s);
        else
            sqlite3_bind_null(st, 8);
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    }
    sqlite3_finalize(st);
    cJSON *o = rc == SQLITE_OK ? srv_file_json(s->db, id, NULL) : NULL;
    pthread_mutex_unlock(&s->db_lock);
    if (!o) {
        unlink(path);
        free(path);
        return send_error(conn, r, 500, "Could not store the file.", NULL,
                          NULL);
    }
    free(path);
    return send_json(conn, r, 200, o);
}

/* ---- lists ---- */

static enum MHD_Result list_objects(struct MHD_Connection *conn, srv *s,
                                    req *r, int batches)
{
    const char *after = MHD_lookup_connection_value(conn,
                                                    MHD_GET_ARGUMENT_KIND,
                                                    "after");
    const char *lim = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND,
                                                  "limit");
    const char *purpose = MHD_lookup_connection_value(
        conn, MHD_GET_ARGUMENT_KIND, "purpose");
    const char *order = MHD_lookup_connection_value(conn,
                                                    MHD_GET_ARGUMENT_KIND,
                                                    "order");
    long limit = batches ? 20 : 10000;
    if (lim) {
        char *end;
        limit = strtol(lim, &end, 10);
        if (*end || limit < 1 || limit > (batches ? 100 : 10000))
            return send_error(conn, r, 400, "Invalid value for 'limit'.",
                              "limit", "invalid_value");
    }
    int asc = order && !strcmp(order, "asc");
    if (order && !asc && strcmp(order, "desc"))
        return send_error(conn, r, 400, "Invalid value for 'order'.",
                          "order", "invalid_value");
    if (batches)
        asc = 0;
    const char *table = batches ? "batches" : "files";
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT id FROM %s WHERE owner = ?1"
             " AND (?2 IS NULL OR purpose = ?2)"
             " AND (?3 IS NULL OR seq %s (SELECT seq FROM %s WHERE id = ?3))"
             " ORDER BY seq %s LIMIT ?4",
             table, asc ? ">" : "<", table, asc ? "ASC" : "DESC");
    if (batches)
        snprintf(sql, sizeof sql,
                 "SELECT id FROM batches WHERE owner = ?1 AND ?2 IS NULL"
                 " AND (?3 IS NULL OR seq < (SELECT seq FROM batches"
                 " WHERE id = ?3)) ORDER BY seq DESC LIMIT ?4");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "object", "list");
    cJSON *data = cJSON_AddArrayToObject(o, "data");
    int has_more = 0;
    pthread_mutex_lock(&s->db_lock);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, r->owner, -1, SQLITE_STATIC);
        if (purpose && !batches)
            sqlite3_bind_text(st, 2, purpose, -1, SQLITE_STATIC);
        if (after)
            sqlite3_bind_text(st, 3, after, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, limit + 1);
        long n = 0;
        while (sqlite3_step(st) == SQLITE_ROW) {
            if (n == limit) {
                has_more = 1;
                break;
            }
            const char *id = (const char *)sqlite3_column_text(st, 0);
            cJSON *item = batches ? srv_batch_json(s->db, id, NULL)
                                  : srv_file_json(s->db, id, NULL);
            if (item)
                cJSON_AddItemToArray(data, item);
            n++;
        }
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->db_lock);
    int n = cJSON_GetArraySize(data);
    if (n) {
        cJSON_AddStringToObject(o, "first_id",
            oab__json_str(cJSON_GetArrayItem(data, 0), "id"));
        cJSON_AddStringToObject(o, "last_id",
            oab__json_str(cJSON_GetArrayItem(data, n - 1), "id"));
    } else {
        cJSON_AddNullToObject(o, "first_id");
        cJSON_AddNullToObject(o, "last_id");
    }
    cJSON_AddBoolToObject(o, "has_more", has_more);
    return send_json(conn, r, 200, o);
}

/* ---- files ---- */

static enum MHD_Result file_content(struct MHD_Connection *conn, srv *s,
                                    req *r)
{
    pthread_mutex_lock(&s->db_lock);
    char *path = srv_file_path(s->db, s->files_dir, r->id, r->owner);
    pthread_mutex_unlock(&s->db_lock);
    if (!path)
        return send_error(conn, r, 404, "No such File object.", "id", NULL);
    int fd = open(path, O_RDONLY);
    free(path);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        if (fd >= 0)
            close(fd);
        return send_error(conn, r, 404, "No such File object.", "id", NULL);
    }
    uint64_t size = (uint64_t)sb.st_size, start = 0;
    unsigned status = 200;
    const char *range = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                    "Range");
    if (range && !strncmp(range, "bytes=", 6)) {
        char *end;
        unsigned long long a = strtoull(range + 6, &end, 10);
        if (end != range + 6 && *end == '-') {
            if (a >= size && size > 0) {
                close(fd);
                return send_error(conn, r, 416, "Range not satisfiable.",
                                  NULL, NULL);
            }
            start = a;
            status = 206;
        }
    }
    struct MHD_Response *resp = MHD_create_response_from_fd_at_offset64(
        size - start, fd, start);
    if (!resp) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "application/octet-stream");
    MHD_add_response_header(resp, "Accept-Ranges", "bytes");
    if (status == 206) {
        char cr[96];
        snprintf(cr, sizeof cr, "bytes %llu-%llu/%llu",
                 (unsigned long long)start,
                 (unsigned long long)(size ? size - 1 : 0),
                 (unsigned long long)size);
        MHD_add_response_header(resp, "Content-Range", cr);
    }
    r->status = status;
    enum MHD_Result ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    r->done = 1;
    return ret;
}

static enum MHD_Result file_delete(struct MHD_Connection *conn, srv *s,
                                   req *r)
{
    pthread_mutex_lock(&s->db_lock);
    sqlite3_stmt *st = NULL;
    int changed = 0;
    char *path = srv_file_path(s->db, s->files_dir, r->id, r->owner);
    if (sqlite3_prepare_v2(s->db,
                           "DELETE FROM files WHERE id = ? AND owner = ?", -1,
                           &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, r->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, r->owner, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_DONE)
            changed = sqlite3_changes(s->db);
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->db_lock);
    if (!changed) {
        free(path);
        return send_error(conn, r, 404, "No such File object.", "id", NULL);
    }
    if (path)
        unlink(path);
    free(path);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", r->id);
    cJSON_AddStringToObject(o, "object", "file");
    cJSON_AddBoolToObject(o, "deleted", 1);
    return send_json(conn, r, 200, o);
}

/* ---- batches ---- */

static const char *ENDPOINTS[] = {"/v1/chat/completions", "/v1/responses",
                                  "/v1/embeddings", "/v1/completions", NULL};

static enum MHD_Result batch_create(struct MHD_Connection *conn, srv *s,
                                    req *r, cJSON *body)
{
    const cJSON *fid = cJSON_GetObjectItemCaseSensitive(body, "input_file_id");
    const cJSON *ep = cJSON_GetObjectItemCaseSensitive(body, "endpoint");
    const cJSON *win = cJSON_GetObjectItemCaseSensitive(body,
                                                        "completion_window");
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(body, "metadata");
    if (!cJSON_IsString(fid))
        return send_error(conn, r, 400,
                          "Missing required parameter: 'input_file_id'.",
                          "input_file_id", "missing_required_parameter");
    if (!cJSON_IsString(ep))
        return send_error(conn, r, 400,
                          "Missing required parameter: 'endpoint'.",
                          "endpoint", "missing_required_parameter");
    int ep_ok = 0;
    for (int i = 0; ENDPOINTS[i]; i++)
        if (!strcmp(ep->valuestring, ENDPOINTS[i]))
            ep_ok = 1;
    if (!ep_ok)
        return send_error(conn, r, 400,
                          "Invalid value for 'endpoint': this server supports"
                          " /v1/chat/completions, /v1/responses,"
                          " /v1/embeddings and /v1/completions.",
                          "endpoint", "invalid_value");
    if (!cJSON_IsString(win))
        return send_error(conn, r, 400,
                          "Missing required parameter: 'completion_window'.",
                          "completion_window", "missing_required_parameter");
    if (strcmp(win->valuestring, "24h") != 0)
        return send_error(conn, r, 400,
                          "Invalid value for 'completion_window': only '24h'"
                          " is supported.",
                          "completion_window", "invalid_value");
    char *meta_text = NULL;
    if (meta && !cJSON_IsNull(meta)) {
        if (!cJSON_IsObject(meta) || cJSON_GetArraySize(meta) > 16)
            return send_error(conn, r, 400,
                              "Invalid 'metadata': an object of at most 16"
                              " string pairs.", "metadata", "invalid_value");
        for (const cJSON *m = meta->child; m; m = m->next)
            if (!cJSON_IsString(m) || strlen(m->string) > 64 ||
                strlen(m->valuestring) > 512)
                return send_error(conn, r, 400,
                                  "Invalid 'metadata': keys up to 64"
                                  " characters, string values up to 512.",
                                  "metadata", "invalid_value");
        meta_text = cJSON_PrintUnformatted(meta);
    }
    pthread_mutex_lock(&s->db_lock);
    cJSON *f = srv_file_json(s->db, fid->valuestring, r->owner);
    if (!f) {
        pthread_mutex_unlock(&s->db_lock);
        free(meta_text);
        return send_error(conn, r, 404,
                          "No such File object.", "input_file_id", NULL);
    }
    const char *purpose = oab__json_str(f, "purpose");
    if (!purpose || strcmp(purpose, "batch") != 0) {
        pthread_mutex_unlock(&s->db_lock);
        cJSON_Delete(f);
        free(meta_text);
        return send_error(conn, r, 400,
                          "The input file must have purpose 'batch'.",
                          "input_file_id", "invalid_value");
    }
    cJSON_Delete(f);
    char id[48];
    srv_random_id(id, sizeof id, "batch_", 24);
    long long now = oab__unix_now();
    long long window = s->cfg.window_seconds ? s->cfg.window_seconds : 86400;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db,
        "INSERT INTO batches(id, owner, endpoint, input_file_id,"
        " completion_window, status, created_at, expires_at, metadata)"
        " VALUES(?,?,?,?,?,'validating',?,?,?)", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, r->owner, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, ep->valuestring, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, fid->valuestring, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, win->valuestring, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 6, now);
        sqlite3_bind_int64(st, 7, now + window);
        if (meta_text)
            sqlite3_bind_text(st, 8, meta_text, -1, SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    }
    sqlite3_finalize(st);
    cJSON *o = rc == SQLITE_OK ? srv_batch_json(s->db, id, NULL) : NULL;
    pthread_mutex_unlock(&s->db_lock);
    free(meta_text);
    if (!o)
        return send_error(conn, r, 500, "Could not create the batch.", NULL,
                          NULL);
    srv_log("batch %s created (input %s, endpoint %s): validating", id,
            fid->valuestring, ep->valuestring);
    srv_engine_wake(s);
    return send_json(conn, r, 200, o);
}

static enum MHD_Result batch_cancel(struct MHD_Connection *conn, srv *s,
                                    req *r)
{
    pthread_mutex_lock(&s->db_lock);
    cJSON *b = srv_batch_json(s->db, r->id, r->owner);
    if (!b) {
        pthread_mutex_unlock(&s->db_lock);
        return send_error(conn, r, 404, "No such Batch object.", "batch_id",
                          NULL);
    }
    const char *status = oab__json_str(b, "status");
    int can = status && (!strcmp(status, "validating") ||
                         !strcmp(status, "in_progress"));
    int already = status && (!strcmp(status, "cancelling") ||
                             !strcmp(status, "cancelled"));
    if (can) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(s->db,
                "UPDATE batches SET status='cancelling', cancelling_at=?"
                " WHERE id=? AND status IN ('validating','in_progress')",
                -1, &st, NULL) == SQLITE_OK) {
            sqlite3_bind_int64(st, 1, oab__unix_now());
            sqlite3_bind_text(st, 2, r->id, -1, SQLITE_STATIC);
            sqlite3_step(st);
        }
        sqlite3_finalize(st);
        cJSON_Delete(b);
        b = srv_batch_json(s->db, r->id, NULL);
    }
    pthread_mutex_unlock(&s->db_lock);
    if (!can && !already) {
        char msg[160];
        snprintf(msg, sizeof msg, "Cannot cancel a batch with status '%s'.",
                 status ? status : "?");
        cJSON_Delete(b);
        return send_error(conn, r, 409, msg, NULL, "batch_not_cancellable");
    }
    if (can) {
        srv_log("batch %s: cancelling", r->id);
        srv_engine_wake(s);
    }
    return send_json(conn, r, 200, b);
}

/* ---- synchronous model endpoints ---- */

int srv_fail_knob(srv *s)
{
    if (s->cfg.fail_429 <= 0 && s->cfg.fail_500 <= 0)
        return 0;
    unsigned long long n = atomic_fetch_add(&s->counter, 1);
    unsigned long long h = (n + 1) * 0x9E3779B97F4A7C15ULL;
    h ^= h >> 31;
    h *= 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 29;
    double u = (double)(h >> 11) / 9007199254740992.0;
    if (u < s->cfg.fail_429)
        return 429;
    if (u < s->cfg.fail_429 + s->cfg.fail_500)
        return 500;
    return 0;
}

static enum MHD_Result model_call(struct MHD_Connection *conn, srv *s,
                                  req *r, cJSON *body)
{
    const char *url = r->url;
    if (s->cfg.upstream) {
        long status = 0;
        oab__buf out = OAB__BUF_INIT;
        srv_upstream_call(s, url, r->body.data, r->body.len, &status, &out);
        if (status == 0) {
            char *msg = oab__sprintf("Upstream request failed: %s",
                                     out.data ? out.data : "?");
            oab__buf_free(&out);
            enum MHD_Result ret = send_error(conn, r, 502, msg, NULL,
                                             "upstream_error");
            free(msg);
            return ret;
        }
        size_t len = 0;
        char *text = oab__buf_take(&out, &len);
        return send_text(conn, r, (unsigned)status, text, len);
    }
    if (s->cfg.latency_ms)
        oab__sleep((double)s->cfg.latency_ms / 1000.0);
    int fail = srv_fail_knob(s);
    if (fail == 429)
        return send_error(conn, r, 429, "Rate limit reached (test knob).",
                          NULL, "rate_limit_exceeded");
    if (fail == 500)
        return send_error(conn, r, 500, "Internal error (test knob).", NULL,
                          NULL);
    int status = 200;
    cJSON *o = srv_tm_answer(url, body, &status);
    return send_json(conn, r, (unsigned)status, o);
}

/* ---- the access handler ---- */

static int authorize(srv *s, struct MHD_Connection *conn, req *r)
{
    if (s->cfg.n_api_keys == 0) {
        r->owner[0] = '\0';
        return 1;
    }
    const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return 0;
    const char *key = h + 7;
    while (*key == ' ')
        key++;
    for (int i = 0; i < s->cfg.n_api_keys; i++) {
        if (!strcmp(key, s->cfg.api_keys[i])) {
            srv_owner_tag(key, r->owner);
            return 1;
        }
    }
    return 0;
}

static enum MHD_Result handle_final(struct MHD_Connection *conn, srv *s,
                                    req *r)
{
    const char *m = r->method;
    if (r->route == R_FILES && !strcmp(m, "POST"))
        return files_upload_done(conn, s, r);
    if (r->too_big)
        return send_error(conn, r, 413, "Request body is too large.", NULL,
                          "request_too_large");
    cJSON *body = NULL;
    if (!strcmp(m, "POST") && (r->route == R_BATCHES || r->route == R_CHAT ||
                               r->route == R_RESPONSES ||
                               r->route == R_EMBEDDINGS)) {
        const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                     "Content-Type");
        if (ct && !strstr(ct, "json"))
            return send_error(conn, r, 415,
                              "Content-Type must be application/json.", NULL,
                              "unsupported_media_type");
        body = r->body.len ? cJSON_ParseWithLength(r->body.data, r->body.len)
                           : NULL;
        if (!body || !cJSON_IsObject(body)) {
            cJSON_Delete(body);
            return send_error(conn, r, 400,
                              "We could not parse the JSON body of your"
                              " request.", NULL, "invalid_json");
        }
        if (srv_json_depth(body) > s->cfg.max_json_depth) {
            cJSON_Delete(body);
            return send_error(conn, r, 400, "JSON nesting is too deep.",
                              NULL, "json_too_deep");
        }
    }
    enum MHD_Result ret;
    switch (r->route) {
    case R_FILES:
        ret = list_objects(conn, s, r, 0);
        break;
    case R_BATCHES:
        if (!strcmp(m, "POST"))
            ret = batch_create(conn, s, r, body);
        else
            ret = list_objects(conn, s, r, 1);
        break;
    case R_FILE:
        if (!strcmp(m, "DELETE")) {
            ret = file_delete(conn, s, r);
        } else {
            pthread_mutex_lock(&s->db_lock);
            cJSON *f = srv_file_json(s->db, r->id, r->owner);
            pthread_mutex_unlock(&s->db_lock);
            ret = f ? send_json(conn, r, 200, f)
                    : send_error(conn, r, 404, "No such File object.", "id",
                                 NULL);
        }
        break;
    case R_FILE_CONTENT:
        ret = file_content(conn, s, r);
        break;
    case R_BATCH: {
        pthread_mutex_lock(&s->db_lock);
        cJSON *b = srv_batch_json(s->db, r->id, r->owner);
        pthread_mutex_unlock(&s->db_lock);
        ret = b ? send_json(conn, r, 200, b)
                : send_error(conn, r, 404, "No such Batch object.",
                             "batch_id", NULL);
        break;
    }
    case R_BATCH_CANCEL:
        ret = batch_cancel(conn, s, r);
        break;
    case R_MODELS: {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "object", "list");
        cJSON *data = cJSON_AddArrayToObject(o, "data");
        cJSON *mm = cJSON_CreateObject();
        cJSON_AddStringToObject(mm, "id", "test");
        cJSON_AddStringToObject(mm, "object", "model");
        cJSON_AddNumberToObject(mm, "created", 0);
        cJSON_AddStringToObject(mm, "owned_by", "oaibatch");
        cJSON_AddItemToArray(data, mm);
        ret = send_json(conn, r, 200, o);
        break;
    }
    default:
        ret = model_call(conn, s, r, body);
        break;
    }
    cJSON_Delete(body);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version,
                                  const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    srv *s = cls;
    (void)version;
    req *r = *con_cls;
    if (!r) {
        r = calloc(1, sizeof *r);
        if (!r)
            return MHD_NO;
        *con_cls = r;
        r->t0 = oab__now();
        r->fd = -1;
        snprintf(r->method, sizeof r->method, "%s", method);
        r->url = oab__strdup(url);
        r->route = route_of(url, r->id);
        if (r->route == R_NONE) {
            char msg[300];
            snprintf(msg, sizeof msg, "Unknown request URL: %.8s %.200s.",
                     method, url);
            return send_error(conn, r, 404, msg, NULL, "unknown_url");
        }
        if (!authorize(s, conn, r))
            return send_error(conn, r, 401,
                              "Incorrect or missing API key. Send"
                              " 'Authorization: Bearer <key>'.",
                              NULL, "invalid_api_key");
        if (!method_allowed(r->route, method)) {
            char msg[300];
            snprintf(msg, sizeof msg, "Method %.8s is not allowed on %.200s.",
                     method, url);
            return send_error(conn, r, 405, msg, NULL, "method_not_allowed");
        }
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                     "Content-Length");
        unsigned long long clen = cl ? strtoull(cl, NULL, 10) : 0;
        /* Bodies over the caps are read and dropped, then answered
         * with 413: most clients do not read an answer sent early. */
        if (r->route == R_FILES && !strcmp(method, "POST")) {
            if (clen > s->cfg.max_file_bytes + 1024 * 1024) {
                r->too_big = 1;
                return MHD_YES;
            }
            r->max_bytes = s->cfg.max_file_bytes;
            r->pp = MHD_create_post_processor(conn, 64 * 1024, upload_iter,
                                              r);
            if (!r->pp)
                return send_error(conn, r, 415,
                                  "Uploads must be multipart/form-data.",
                                  NULL, "unsupported_media_type");
            multipart_set_boundary(r, MHD_lookup_connection_value(
                                          conn, MHD_HEADER_KIND,
                                          "Content-Type"));
            char rnd[32];
            srv_random_id(rnd, sizeof rnd, "", 16);
            r->tmp_path = oab__sprintf("%s/upload-%s.tmp", s->files_dir, rnd);
            r->fd = open(r->tmp_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
            if (r->fd < 0)
                r->io_error = 1;
        } else if (clen > s->cfg.max_json_bytes) {
            r->too_big = 1;
        }
        return MHD_YES;
    }
    if (r->done) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (r->too_big && !r->pp) {
            /* dropped */
        } else if (r->pp) {
            size_t n = multipart_cut(r, upload_data, *upload_data_size);
            if (n && MHD_post_process(r->pp, upload_data, n) != MHD_YES)
                r->io_error = 1;
            if (r->bytes > s->cfg.max_file_bytes && !r->too_big) {
                /* keep reading (and dropping) the body, answer 413 at the
                 * end: clients often do not read an early answer */
                r->too_big = 1;
                if (r->fd >= 0 && ftruncate(r->fd, 0) != 0)
                    r->io_error = 1;
            }
        } else if (!r->too_big) {
            if (r->body.len + *upload_data_size > s->cfg.max_json_bytes) {
                r->too_big = 1;
                oab__buf_free(&r->body);
            } else {
                oab__buf_append(&r->body, upload_data, *upload_data_size);
            }
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    return handle_final(conn, s, r);
}

static void on_completed(void *cls, struct MHD_Connection *conn,
                         void **con_cls, enum MHD_RequestTerminationCode toe)
{
    srv *s = cls;
    (void)conn;
    req *r = *con_cls;
    if (!r)
        return;
    if (!s->cfg.quiet)
        srv_log("%s %s %u %.1fms%s", r->method, r->url ? r->url : "?",
                r->status, (oab__now() - r->t0) * 1000.0,
                toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? ""
                                                           : " (aborted)");
    req_free(r);
    *con_cls = NULL;
}

struct MHD_Daemon *srv_http_start(srv *s, int *port_out)
{
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)s->cfg.port);
    const char *host = s->cfg.host;
    if (!strcmp(host, "localhost"))
        host = "127.0.0.1";
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        srv_log("--host must be an IPv4 address, not %s", s->cfg.host);
        return NULL;
    }
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
            MHD_USE_POLL,
        (uint16_t)s->cfg.port, NULL, NULL, on_request, s,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)300,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
        MHD_OPTION_END);
    if (!d)
        return NULL;
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    *port_out = info ? info->port : s->cfg.port;
    return d;
}
