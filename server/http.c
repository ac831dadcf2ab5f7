/* http.c - the HTTP front end (libmicrohttpd): one route table, auth,
 * the Files and Batches endpoints, the synchronous model endpoints, and
 * the connection and body caps (srv_limits.h). */
#include "oaibatch.h"
#include <cjson/cJSON.h>
#include "util/buf.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/json_scan.h"
#include "util/str.h"
#include "anthropic_api.h"
#include "apierr.h"
#include "batchlines.h"
#include "db.h"
#include "engine.h"
#include "http.h"
#include "metrics.h"
#include "ui.h"
#include "range.h"
#include "sse.h"
#include "testmodel.h"
#include "upload.h"
#include "upstream.h"

#include <arpa/inet.h>
#include <ctype.h>
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

/* What a route reads of the request body. */
enum body_kind { B_NONE, B_JSON, B_UPLOAD };

typedef struct req req;
typedef enum MHD_Result (*handler_fn)(struct MHD_Connection *conn, srv *s,
                                      req *r, const cJSON *body);

typedef struct route {
    const char *method;
    const char *pattern;        /* "{id}" matches one id segment */
    handler_fn fn;
    enum body_kind body;
} route;

struct req {
    const route *rt;
    char id[128];
    char method[16];
    char *url;
    double t0;
    unsigned status;
    char allow[48];             /* a 405's Allow header, "" for none */
    int done;                   /* a response was queued early */
    char owner[17];
    oab__buf body;
    unsigned long long counted; /* body bytes in s->body_bytes */
    int too_big, busy;
    /* multipart upload */
    struct MHD_PostProcessor *pp;
    srv_mp_tail tail;
    int fd;
    char *tmp_path;
    char *filename;
    oab__buf purpose;
    oab__buf exp;               /* expires_after[seconds] */
    oab__buf anchor;            /* expires_after[anchor] */
    int bad_field;              /* a field too long to be valid */
    unsigned long long bytes, max_bytes;
    int got_file;
    const char *twice;          /* a field sent twice ("file", "purpose") */
    int io_error;
    int bad_multipart;          /* the post processor refused the body */
    srv *s;
};

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
    if (r->counted)
        atomic_fetch_sub(&r->s->body_bytes, r->counted);
    free(r->filename);
    free(r->url);
    oab__buf_free(&r->body);
    oab__buf_free(&r->purpose);
    oab__buf_free(&r->exp);
    oab__buf_free(&r->anchor);
    free(r);
}

static int json_depth(const cJSON *v)
{
    int max = 0;
    for (const cJSON *c = v ? v->child : NULL; c; c = c->next) {
        int d = json_depth(c);
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
    if (r->allow[0])
        MHD_add_response_header(resp, "Allow", r->allow);
    char rid[40];
    srv_random_id(rid, sizeof rid, "req_", 24);
    MHD_add_response_header(resp, "x-request-id", rid);
    r->status = status;
    enum MHD_Result ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    r->done = 1;
    return ret;
}

/* Sends text with a Content-Type (taken: text is freed). */
static enum MHD_Result send_typed(struct MHD_Connection *conn, req *r,
                                  unsigned status, const char *type,
                                  char *text, size_t len)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        len, text, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", type);
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    r->status = status;
    enum MHD_Result ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    r->done = 1;
    return ret;
}

static enum MHD_Result send_json(struct MHD_Connection *conn, req *r,
                                 unsigned status, cJSON *o)
{
    char *text = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (!text)
        return MHD_NO;
    return send_text(conn, r, status, text, strlen(text));
}

/* The characters (code points) of a UTF-8 string. */
static size_t utf8_chars(const char *t)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)t; *p; p++)
        n += (*p & 0xC0) != 0x80;
    return n;
}

/* 1 when a Content-Type names JSON: its media type (before any ';'),
 * in any case, holds "json" (application/json, a +json type). */
static int type_is_json(const char *ct)
{
    size_t n = strcspn(ct, ";");
    for (size_t i = 0; i + 4 <= n; i++)
        if (!strncasecmp(ct + i, "json", 4))
            return 1;
    return 0;
}

/* 1 for a path of Anthropic's API (its errors, keys and owner tags). */
static int anth_path(const char *url)
{
    return url && !strncmp(url, "/v1/messages", 12) &&
           (url[12] == '\0' || url[12] == '/');
}

static enum MHD_Result send_error(struct MHD_Connection *conn, req *r,
                                  unsigned status, const char *message,
                                  const char *param, const char *code)
{
    if (anth_path(r->url)) {
        srv_anth_reply rep = SRV_ANTH_REPLY_INIT;
        srv_anth_error(&rep, status, message);
        if (!rep.text)
            return MHD_NO;
        return send_text(conn, r, rep.status, rep.text, rep.len);
    }
    const char *type = status >= 500 ? "server_error"
                                     : "invalid_request_error";
    return send_json(conn, r, status,
                     srv_error_body(message, type, param, code));
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
    (void)kind;
    (void)content_type;
    (void)transfer_encoding;
    if (!key) /* a part whose Content-Disposition names nothing */
        return MHD_YES;
    if (!strcmp(key, "file")) {
        /* a part's first call has off 0; one at off 0 after bytes came
         * is another part of the same name (an empty first part cannot
         * be told from its second: its name is the first's) */
        if (r->got_file && off == 0 && r->bytes > 0)
            r->twice = "file";
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
    } else if (!strcmp(key, "expires_after[seconds]") ||
               !strcmp(key, "expires_after[anchor]") ||
               !strcmp(key, "purpose")) {
        oab__buf *b = key[0] == 'p'               ? &r->purpose
                      : !strcmp(key + 14, "anchor]") ? &r->anchor
                                                     : &r->exp;
        if (off == 0 && b->len > 0)
            r->twice = key[0] == 'p' ? "purpose" : "expires_after";
        if (b->len + size > SRV_FIELD_MAX)
            r->bad_field = 1;
        else
            oab__buf_append(b, data, size);
    }
    return MHD_YES;
}

static const char *PURPOSES[] = {"batch", "assistants", "fine-tune",
                                 "vision", "user_data", "evals", NULL};

static enum MHD_Result files_upload(struct MHD_Connection *conn, srv *s,
                                    req *r, const cJSON *body)
{
    (void)body;
    if (r->too_big)
        return send_error(conn, r, 413, "File is too large.", "file",
                          "file_too_large");
    if (r->io_error)
        return send_error(conn, r, 500, "Could not store the file.", NULL,
                          NULL);
    if (r->bad_multipart)
        return send_error(conn, r, 400,
                          "The multipart body is malformed (a part without"
                          " its headers, or a broken boundary line); nothing"
                          " was stored.", NULL, "invalid_multipart");
    if (!srv_mp_complete(&r->tail))
        return send_error(conn, r, 400,
                          "The multipart body does not end with its closing"
                          " boundary (cut off?); nothing was stored.", NULL,
                          "invalid_multipart");
    if (!r->got_file)
        return send_error(conn, r, 400,
                          "Missing required parameter: 'file'.", "file",
                          "missing_required_parameter");
    if (r->twice) {
        char msg[160];
        snprintf(msg, sizeof msg, "'%s' was sent more than once; send it"
                 " once (nothing was stored).", r->twice);
        return send_error(conn, r, 400, msg, r->twice, "invalid_value");
    }
    if (r->filename && !oab__utf8_valid(r->filename, strlen(r->filename)))
        return send_error(conn, r, 400, "The file's name is not UTF-8"
                          " (nothing was stored).", "file", "invalid_value");
    const char *purpose = r->purpose.data ? r->purpose.data : "";
    int ok = 0;
    for (int i = 0; PURPOSES[i]; i++)
        if (srv_field_is(r->purpose.data, r->purpose.len, PURPOSES[i]))
            ok = 1;
    if (!r->purpose.len && !r->bad_field)
        return send_error(conn, r, 400,
                          "Missing required parameter: 'purpose'.", "purpose",
                          "missing_required_parameter");
    if (!ok)
        return send_error(conn, r, 400,
                          "Invalid value for 'purpose'.", "purpose",
                          "invalid_value");
    long long exp_s = 0;
    if (r->exp.len || r->anchor.len || r->bad_field) {
        char *end = NULL;
        exp_s = r->exp.data ? strtoll(r->exp.data, &end, 10) : 0;
        /* both fields, the seconds in plain digits */
        if (r->bad_field || !r->exp.data || end != r->exp.data + r->exp.len ||
            r->exp.data[0] < '0' || r->exp.data[0] > '9' ||
            exp_s < SRV_EXPIRES_MIN || exp_s > SRV_EXPIRES_MAX ||
            !srv_field_is(r->anchor.data, r->anchor.len, "created_at"))
            return send_error(conn, r, 400,
                              "Invalid value for 'expires_after': anchor"
                              " 'created_at', seconds 3600 to 2592000.",
                              "expires_after", "invalid_value");
    } else if (srv_field_is(r->purpose.data, r->purpose.len, "batch")) {
        exp_s = SRV_BATCH_FILE_TTL; /* batch input files: 30 days */
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
    if (!path || rename(r->tmp_path, path) != 0) {
        free(path);
        return send_error(conn, r, 500, "Could not store the file.", NULL,
                          NULL);
    }
    free(r->tmp_path);
    r->tmp_path = NULL;
    /* shared state: the row and the body (seconds for a big file) go in
     * on a connection of their own, so this node's other API calls do
     * not wait for them; SQLite: the node's handle, under its lock */
    srv_db *side = NULL;
    srv_db *h = srv_long_db_begin(s, &side);
    if (!h) {
        unlink(path);
        free(path);
        return send_error(conn, r, 500, "Could not store the file.", NULL,
                          NULL);
    }
    long long now = oab__unix_now();
    /* the row and (shared state) the body commit together */
    int rc = srv_db_begin(h);
    if (rc == SQLITE_OK)
        rc = srv_db_file_insert(h, id, r->owner, purpose, r->filename,
                                (long long)r->bytes, now, id,
                                exp_s ? now + exp_s : 0);
    if (rc == SQLITE_OK)
        rc = srv_db_file_store(h, id, path);
    if (rc == SQLITE_OK)
        rc = srv_db_commit(h);
    else
        srv_db_rollback(h);
    srv_long_db_end(s, side);
    cJSON *o = rc == SQLITE_OK ? srv_file_json(s->db, id, NULL) : NULL;
    pthread_mutex_unlock(&s->db_lock);
    if (!o) {
        /* a row committed names this body: it stays, whole (the lookup of
         * the new object failed, not the store) */
        if (rc != SQLITE_OK)
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
    if (after && !*after)
        after = NULL; /* after= with no id: from the start */
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
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "object", "list");
    cJSON *data = cJSON_AddArrayToObject(o, "data");
    int has_more = 0;
    pthread_mutex_lock(&s->db_lock);
    int rc = srv_db_list(s->db, batches, r->owner, purpose, after, asc, limit,
                         data, &has_more);
    pthread_mutex_unlock(&s->db_lock);
    if (rc != SQLITE_OK) {
        cJSON_Delete(o);
        return send_error(conn, r, 500, "Could not read the list.", NULL,
                          NULL);
    }
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

static enum MHD_Result files_list(struct MHD_Connection *conn, srv *s,
                                  req *r, const cJSON *body)
{
    (void)body;
    return list_objects(conn, s, r, 0);
}

static enum MHD_Result batches_list(struct MHD_Connection *conn, srv *s,
                                    req *r, const cJSON *body)
{
    (void)body;
    return list_objects(conn, s, r, 1);
}

/* ---- files ---- */

/* 404 for an object a lookup did not find, or 500 when the lookup
 * failed in the database (failed: srv_db_failed, read under the lock):
 * the object may well exist, and a client must not take it for gone. */
static enum MHD_Result lookup_error(struct MHD_Connection *conn, req *r,
                                    int failed, const char *msg,
                                    const char *param)
{
    if (failed)
        return send_error(conn, r, 500, SRV_DB_UNAVAILABLE, NULL, NULL);
    return send_error(conn, r, 404, msg, param, NULL);
}

/* GET of one object by id (of the caller's key): 200 or 404. */
static enum MHD_Result object_get(struct MHD_Connection *conn, srv *s,
                                  req *r, int batch)
{
    pthread_mutex_lock(&s->db_lock);
    cJSON *o = batch ? srv_batch_json(s->db, r->id, r->owner)
                     : srv_file_json(s->db, r->id, r->owner);
    int failed = !o && srv_db_failed(s->db);
    pthread_mutex_unlock(&s->db_lock);
    if (o)
        return send_json(conn, r, 200, o);
    return lookup_error(conn, r, failed,
                        batch ? "No such Batch object." : "No such File object.",
                        batch ? "batch_id" : "id");
}

static enum MHD_Result file_get(struct MHD_Connection *conn, srv *s, req *r,
                                const cJSON *body)
{
    (void)body;
    return object_get(conn, s, r, 0);
}

static enum MHD_Result file_content(struct MHD_Connection *conn, srv *s,
                                    req *r, const cJSON *body)
{
    (void)body;
    pthread_mutex_lock(&s->db_lock);
    char *path = srv_file_path(s->db, s->files_dir, r->id, r->owner);
    int failed = !path && srv_db_failed(s->db);
    pthread_mutex_unlock(&s->db_lock);
    if (!path)
        return lookup_error(conn, r, failed, "No such File object.", "id");
    /* (shared state: another node's upload comes over, lock-free) */
    int got = srv_file_local(s->db, r->id, path);
    if (got != 0) {
        free(path);
        return send_error(conn, r, 500,
                          got == -2 ? "The stored body of this file is"
                                      " damaged: its bytes do not add up to"
                                      " its size."
                                    : "Could not read the file.",
                          NULL, NULL);
    }
    int fd = open(path, O_RDONLY);
    free(path);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        if (fd >= 0)
            close(fd);
        return send_error(conn, r, 404, "No such File object.", "id", NULL);
    }
    uint64_t size = (uint64_t)sb.st_size, start = 0, len = size;
    int kind = srv_range_parse(MHD_lookup_connection_value(conn,
                                                           MHD_HEADER_KIND,
                                                           "Range"),
                               size, &start, &len);
    char cr[96];
    if (kind == SRV_RANGE_UNSAT) {
        close(fd);
        char *text = NULL;
        cJSON *e = srv_error_body("Range not satisfiable.",
                                  "invalid_request_error", "Range",
                                  "range_not_satisfiable");
        text = e ? cJSON_PrintUnformatted(e) : NULL;
        cJSON_Delete(e);
        struct MHD_Response *resp =
            text ? MHD_create_response_from_buffer(strlen(text), text,
                                                   MHD_RESPMEM_MUST_FREE)
                 : NULL;
        if (!resp) {
            free(text);
            return MHD_NO;
        }
        snprintf(cr, sizeof cr, "bytes */%llu", (unsigned long long)size);
        MHD_add_response_header(resp, "Content-Type", "application/json");
        MHD_add_response_header(resp, "Content-Range", cr);
        r->status = 416;
        enum MHD_Result ret = MHD_queue_response(conn, 416, resp);
        MHD_destroy_response(resp);
        r->done = 1;
        return ret;
    }
    unsigned status = kind == SRV_RANGE_ONE ? 206 : 200;
    if (status == 200) {
        start = 0;
        len = size;
    }
    struct MHD_Response *resp = MHD_create_response_from_fd_at_offset64(
        len, fd, start);
    if (!resp) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "application/octet-stream");
    MHD_add_response_header(resp, "Accept-Ranges", "bytes");
    if (status == 206) {
        snprintf(cr, sizeof cr, "bytes %llu-%llu/%llu",
                 (unsigned long long)start,
                 (unsigned long long)(start + len - 1),
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
                                   req *r, const cJSON *body)
{
    (void)body;
    pthread_mutex_lock(&s->db_lock);
    int deleted = 0;
    char *path = srv_file_path(s->db, s->files_dir, r->id, r->owner);
    int rc = srv_db_file_delete(s->db, r->id, r->owner, &deleted);
    pthread_mutex_unlock(&s->db_lock);
    if (rc != SQLITE_OK) {
        free(path);
        return send_error(conn, r, 500, "Could not delete the file.", NULL,
                          NULL);
    }
    if (!deleted) {
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
                                  "/v1/embeddings", "/v1/completions",
                                  "/v1/moderations", NULL};

static enum MHD_Result batch_create(struct MHD_Connection *conn, srv *s,
                                    req *r, const cJSON *body)
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
                          " /v1/embeddings, /v1/completions and"
                          " /v1/moderations.",
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
    long long out_expires = 0;
    const cJSON *oe = cJSON_GetObjectItemCaseSensitive(body,
                                                       "output_expires_after");
    if (oe && !cJSON_IsNull(oe)) {
        const char *anchor = oab__json_str(oe, "anchor");
        const cJSON *sec = cJSON_GetObjectItemCaseSensitive(oe, "seconds");
        /* range first: only then is the cast to an integer defined */
        if (!cJSON_IsObject(oe) || !anchor || strcmp(anchor, "created_at") ||
            !cJSON_IsNumber(sec) || !(sec->valuedouble >= SRV_EXPIRES_MIN) ||
            !(sec->valuedouble <= SRV_EXPIRES_MAX) ||
            sec->valuedouble != (double)(long long)sec->valuedouble)
            return send_error(conn, r, 400,
                              "Invalid 'output_expires_after': anchor"
                              " 'created_at' and seconds 3600 to 2592000.",
                              "output_expires_after", "invalid_value");
        out_expires = (long long)sec->valuedouble;
    }
    char *meta_text = NULL;
    if (meta && !cJSON_IsNull(meta)) {
        if (!cJSON_IsObject(meta) || cJSON_GetArraySize(meta) > 16)
            return send_error(conn, r, 400,
                              "Invalid 'metadata': an object of at most 16"
                              " string pairs.", "metadata", "invalid_value");
        for (const cJSON *m = meta->child; m; m = m->next) {
            if (!cJSON_IsString(m) || utf8_chars(m->string) > 64 ||
                utf8_chars(m->valuestring) > 512)
                return send_error(conn, r, 400,
                                  "Invalid 'metadata': keys up to 64"
                                  " characters, string values up to 512.",
                                  "metadata", "invalid_value");
            for (const cJSON *o = meta->child; o != m; o = o->next)
                if (!strcmp(o->string, m->string)) {
                    char msg[160];
                    snprintf(msg, sizeof msg, "Invalid 'metadata': the key"
                             " '%.64s' is given twice.", m->string);
                    return send_error(conn, r, 400, msg, "metadata",
                                      "invalid_value");
                }
        }
        const char *prio = oab__json_str(meta, "priority");
        if ((cJSON_GetObjectItemCaseSensitive(meta, "priority") && !prio) ||
            (prio && srv_priority(prio) < 0))
            return send_error(conn, r, 400,
                              "Invalid value for 'metadata.priority': one of"
                              " 'high', 'normal' or 'low'.",
                              "metadata.priority", "invalid_value");
        meta_text = cJSON_PrintUnformatted(meta);
    }
    pthread_mutex_lock(&s->db_lock);
    cJSON *f = srv_file_json(s->db, fid->valuestring, r->owner);
    if (!f) {
        int failed = srv_db_failed(s->db);
        pthread_mutex_unlock(&s->db_lock);
        free(meta_text);
        return lookup_error(conn, r, failed, "No such File object.",
                            "input_file_id");
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
    int rc = srv_db_batch_insert(s->db, id, r->owner, ep->valuestring,
                                 fid->valuestring, win->valuestring, now,
                                 now + window, meta_text, out_expires);
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

static enum MHD_Result batch_get(struct MHD_Connection *conn, srv *s, req *r,
                                 const cJSON *body)
{
    (void)body;
    return object_get(conn, s, r, 1);
}

static enum MHD_Result batch_cancel(struct MHD_Connection *conn, srv *s,
                                    req *r, const cJSON *body)
{
    (void)body;
    pthread_mutex_lock(&s->db_lock);
    cJSON *b = srv_batch_json(s->db, r->id, r->owner);
    if (!b) {
        int failed = srv_db_failed(s->db);
        pthread_mutex_unlock(&s->db_lock);
        return lookup_error(conn, r, failed, "No such Batch object.",
                            "batch_id");
    }
    const char *status = oab__json_str(b, "status");
    int can = status && (!strcmp(status, "validating") ||
                         !strcmp(status, "in_progress"));
    int failed = 0;
    if (can) {
        int changed = 0;
        failed = srv_db_batch_cancel(s->db, r->id, oab__unix_now(),
                                     &changed) != SQLITE_OK;
        cJSON_Delete(b);
        b = failed ? NULL : srv_batch_json(s->db, r->id, NULL);
        failed = !b;
        /* the engine (its own connection) may have ended the batch since
         * it was read: the answer is then what its status now says */
        can = changed;
        status = b ? oab__json_str(b, "status") : NULL;
    }
    int already = !can && status && (!strcmp(status, "cancelling") ||
                                     !strcmp(status, "cancelled"));
    pthread_mutex_unlock(&s->db_lock);
    if (failed)
        return send_error(conn, r, 500, "Could not cancel the batch; try"
                          " again.", NULL, NULL);
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

/* GET /v1/batches/{id}/lines (an extension: batchlines.h) */
static enum MHD_Result batch_lines(struct MHD_Connection *conn, srv *s,
                                   req *r, const cJSON *body)
{
    (void)body;
    const char *lim = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND,
                                                  "limit");
    long limit = SRV_LINES_LIMIT_DEFAULT;
    if (lim) {
        char *end;
        limit = strtol(lim, &end, 10);
        if (*end || limit < 1 || limit > SRV_LINES_LIMIT_MAX)
            return send_error(conn, r, 400, "Invalid value for 'limit'.",
                              "limit", "invalid_value");
    }
    int status = 500;
    const char *msg = NULL;
    cJSON *o = srv_batch_lines(
        s, r->id, r->owner,
        MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "after"),
        (int)limit,
        MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "custom_id"),
        &status, &msg);
    if (o)
        return send_json(conn, r, 200, o);
    return send_error(conn, r, (unsigned)status, msg,
                      status == 404 ? "batch_id"
                      : status == 400 ? "after" : NULL,
                      status == 400 ? "invalid_value" : NULL);
}

/* ---- synchronous model endpoints ---- */

static enum MHD_Result model_call(struct MHD_Connection *conn, srv *s,
                                  req *r, const cJSON *body)
{
    const char *url = r->url;
    int stream = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(body,
                                                               "stream"));
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
        if (stream && status == 200) /* the upstream's event stream */
            return send_typed(conn, r, 200, "text/event-stream", text, len);
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
    int chat = !strcmp(url, "/v1/chat/completions");
    if (o && status == 200 && stream &&
        (chat || !strcmp(url, "/v1/responses"))) {
        size_t len = 0;
        int usage = cJSON_IsTrue(oab__json_path(body,
                                                "stream_options.include_usage"));
        char *text = chat ? srv_sse_chat(o, usage, &len)
                          : srv_sse_responses(o, &len);
        cJSON_Delete(o);
        if (!text)
            return MHD_NO;
        return send_typed(conn, r, 200, "text/event-stream", text, len);
    }
    return send_json(conn, r, (unsigned)status, o);
}

static enum MHD_Result models_list(struct MHD_Connection *conn, srv *s,
                                   req *r, const cJSON *body)
{
    (void)s;
    (void)body;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "object", "list");
    cJSON *data = cJSON_AddArrayToObject(o, "data");
    cJSON *mm = cJSON_CreateObject();
    cJSON_AddStringToObject(mm, "id", "test");
    cJSON_AddStringToObject(mm, "object", "model");
    cJSON_AddNumberToObject(mm, "created", 0);
    cJSON_AddStringToObject(mm, "owned_by", "oaibatch");
    cJSON_AddItemToArray(data, mm);
    return send_json(conn, r, 200, o);
}

/* GET /metrics: the Prometheus text exposition (metrics.c). */
static enum MHD_Result metrics_get(struct MHD_Connection *conn, srv *s,
                                   req *r, const cJSON *body)
{
    (void)body;
    char *t = srv_metrics_render(s);
    if (!t)
        return send_error(conn, r, 500, "The metrics could not be read.",
                          NULL, "server_error");
    return send_typed(conn, r, 200, "text/plain; version=0.0.4; charset=utf-8",
                      t, strlen(t));
}

/* GET /ui/...: the web view's embedded files (ui.c); no key needed, the
 * page asks for one and sends it with its API calls. */
static enum MHD_Result ui_get(struct MHD_Connection *conn, srv *s, req *r,
                              const cJSON *body)
{
    (void)s;
    (void)body;
    const srv_ui_asset *a = srv_ui_find(r->url);
    if (!a)
        return send_error(conn, r, 404, "No such page.", NULL, "not_found");
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        a->len, (void *)a->data, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", a->type);
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Content-Security-Policy",
                            "default-src 'self'; frame-ancestors 'none'");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    r->status = 200;
    enum MHD_Result ret = MHD_queue_response(conn, 200, resp);
    MHD_destroy_response(resp);
    r->done = 1;
    return ret;
}

/* ---- Anthropic's API (anthropic_api.c) ---- */

typedef void (*anth_fn)(srv *, const srv_anth_in *, srv_anth_reply *);

static enum MHD_Result anth_call(struct MHD_Connection *conn, srv *s, req *r,
                                 const cJSON *body, anth_fn fn)
{
    const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                   "Host");
    char base[300];
    snprintf(base, sizeof base, "http://%.256s",
             host && *host && !strpbrk(host, "/\\ ") ? host : "127.0.0.1");
    srv_anth_in in = {r->owner, r->id, base,
                      MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND,
                                                  "before_id"),
                      MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND,
                                                  "after_id"),
                      MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND,
                                                  "limit"),
                      body};
    srv_anth_reply rep = SRV_ANTH_REPLY_INIT;
    fn(s, &in, &rep);
    if (rep.fd >= 0) {
        struct MHD_Response *resp =
            MHD_create_response_from_fd64(rep.fd_size, rep.fd);
        if (!resp) {
            close(rep.fd);
            return MHD_NO;
        }
        MHD_add_response_header(resp, "Content-Type", rep.type);
        r->status = rep.status;
        enum MHD_Result ret = MHD_queue_response(conn, rep.status, resp);
        MHD_destroy_response(resp);
        r->done = 1;
        return ret;
    }
    if (!rep.text)
        return MHD_NO;
    return send_typed(conn, r, rep.status, rep.type, rep.text, rep.len);
}

#define ANTH_HANDLER(name)                                                 \
    static enum MHD_Result name##_h(struct MHD_Connection *conn, srv *s,   \
                                    req *r, const cJSON *body)             \
    {                                                                      \
        return anth_call(conn, s, r, body, name);                          \
    }
ANTH_HANDLER(srv_anth_messages)
ANTH_HANDLER(srv_anth_batch_create)
ANTH_HANDLER(srv_anth_batch_get)
ANTH_HANDLER(srv_anth_batch_list)
ANTH_HANDLER(srv_anth_batch_cancel)
ANTH_HANDLER(srv_anth_batch_delete)
ANTH_HANDLER(srv_anth_batch_results)

/* ---- the route table ---- */

static const route ROUTES[] = {
    {"GET", "/v1/files", files_list, B_NONE},
    {"POST", "/v1/files", files_upload, B_UPLOAD},
    {"GET", "/v1/files/{id}", file_get, B_NONE},
    {"DELETE", "/v1/files/{id}", file_delete, B_NONE},
    {"GET", "/v1/files/{id}/content", file_content, B_NONE},
    {"GET", "/v1/batches", batches_list, B_NONE},
    {"POST", "/v1/batches", batch_create, B_JSON},
    {"GET", "/v1/batches/{id}", batch_get, B_NONE},
    {"POST", "/v1/batches/{id}/cancel", batch_cancel, B_NONE},
    {"GET", "/v1/batches/{id}/lines", batch_lines, B_NONE},
    {"POST", "/v1/chat/completions", model_call, B_JSON},
    {"POST", "/v1/responses", model_call, B_JSON},
    {"POST", "/v1/embeddings", model_call, B_JSON},
    {"POST", "/v1/completions", model_call, B_JSON},
    {"POST", "/v1/moderations", model_call, B_JSON},
    {"GET", "/v1/models", models_list, B_NONE},
    {"POST", "/v1/messages", srv_anth_messages_h, B_JSON},
    {"POST", "/v1/messages/batches", srv_anth_batch_create_h, B_JSON},
    {"GET", "/v1/messages/batches", srv_anth_batch_list_h, B_NONE},
    {"GET", "/v1/messages/batches/{id}", srv_anth_batch_get_h, B_NONE},
    {"DELETE", "/v1/messages/batches/{id}", srv_anth_batch_delete_h, B_NONE},
    {"POST", "/v1/messages/batches/{id}/cancel", srv_anth_batch_cancel_h,
     B_NONE},
    {"GET", "/v1/messages/batches/{id}/results", srv_anth_batch_results_h,
     B_NONE},
    {"GET", "/metrics", metrics_get, B_NONE},
    {"GET", "/ui", ui_get, B_NONE},
    {"GET", "/ui/", ui_get, B_NONE},
    {"GET", "/ui/app.js", ui_get, B_NONE},
    {"GET", "/ui/style.css", ui_get, B_NONE},
};
#define N_ROUTES (sizeof ROUTES / sizeof ROUTES[0])

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

/* 1 when url fits pattern; the {id} segment is copied into id. */
static int path_match(const char *pattern, const char *url, char *id)
{
    const char *p = pattern, *u = url;
    while (*p) {
        if (!strncmp(p, "{id}", 4)) {
            size_t n = strcspn(u, "/");
            if (!id_ok(u, n))
                return 0;
            memcpy(id, u, n);
            id[n] = '\0';
            u += n;
            p += 4;
            continue;
        }
        if (*p++ != *u++)
            return 0;
    }
    return *u == '\0';
}

/* The route for method + url: *known says whether any route has this
 * path (405 rather than 404 when no method fits). */
static const route *route_find(const char *method, const char *url,
                               char *id, int *known)
{
    *known = 0;
    /* HEAD is a GET whose body is not sent (libmicrohttpd leaves it out) */
    if (!strcmp(method, "HEAD"))
        method = "GET";
    for (size_t i = 0; i < N_ROUTES; i++) {
        if (!path_match(ROUTES[i].pattern, url, id))
            continue;
        *known = 1;
        if (!strcmp(ROUTES[i].method, method))
            return &ROUTES[i];
    }
    return NULL;
}

/* The methods the path takes, for a 405's Allow header. */
static void route_allow(const char *url, char *out, size_t n)
{
    char id[128];
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < N_ROUTES; i++) {
        if (!path_match(ROUTES[i].pattern, url, id) ||
            strstr(out, ROUTES[i].method))
            continue;
        int head = !strcmp(ROUTES[i].method, "GET");
        int w = snprintf(out + len, n - len, "%s%s%s", len ? ", " : "",
                         ROUTES[i].method, head ? ", HEAD" : "");
        if (w < 0 || (size_t)w >= n - len)
            break;
        len += (size_t)w;
    }
}

/* ---- the access handler ---- */

/* The key of a request: "Authorization: Bearer KEY", or on Anthropic's
 * paths "x-api-key: KEY" too. NULL when none. */
static const char *request_key(struct MHD_Connection *conn, int anth)
{
    const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                "Authorization");
    if (h && strncasecmp(h, "Bearer ", 7) == 0) {
        const char *key = h + 7;
        while (*key == ' ')
            key++;
        return key;
    }
    return anth ? MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                              "x-api-key")
                : NULL;
}

static int authorize_key(srv *s, struct MHD_Connection *conn, req *r,
                         int anth)
{
    if (s->cfg.n_api_keys == 0 ||
        (r->rt && r->rt->fn == ui_get) ||
        (s->cfg.metrics_public && r->rt && r->rt->fn == metrics_get)) {
        r->owner[0] = '\0';
        return 1;
    }
    const char *key = request_key(conn, anth);
    if (!key)
        return 0;
    for (int i = 0; i < s->cfg.n_api_keys; i++) {
        if (!strcmp(key, s->cfg.api_keys[i])) {
            srv_owner_tag(key, r->owner);
            return 1;
        }
    }
    return 0;
}

/* Anthropic's objects are kept under an owner tag of their own, so that
 * neither API lists the other's batches. */
static int authorize(srv *s, struct MHD_Connection *conn, req *r)
{
    int anth = anth_path(r->url);
    if (!authorize_key(s, conn, r, anth))
        return 0;
    if (anth)
        srv_anth_owner(r->owner);
    return 1;
}

static enum MHD_Result handle_final(struct MHD_Connection *conn, srv *s,
                                    req *r)
{
    if (r->rt->body == B_UPLOAD)
        return r->rt->fn(conn, s, r, NULL);
    if (r->busy)
        return send_error(conn, r, 503,
                          "The server is holding too many request bodies;"
                          " try again shortly.", NULL, "server_busy");
    if (r->too_big)
        return send_error(conn, r, 413, "Request body is too large.", NULL,
                          "request_too_large");
    cJSON *body = NULL;
    if (r->rt->body == B_JSON) {
        const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                     "Content-Type");
        if (ct && !type_is_json(ct))
            return send_error(conn, r, 415,
                              "Content-Type must be application/json.", NULL,
                              "unsupported_media_type");
        /* the parsed tree counts in the budget too: many small values
         * take some 40 times their text (oab__json_parse_cost) */
        size_t values = 0;
        size_t cost = oab__json_parse_cost(r->body.data, r->body.len,
                                           &values);
        /* the text is counted already: with its tree, over the budget
         * on an idle server too, it could never be taken (413, not 503) */
        if (r->counted >= s->cfg.body_budget ||
            cost > s->cfg.body_budget - r->counted) {
            char msg[300];
            snprintf(msg, sizeof msg, "Request body is too large to parse:"
                     " its %zu JSON values would take %.1f MiB, more than"
                     " the server's --body-budget (%.1f MiB).",
                     values,
                     (double)cost / 1048576.0,
                     (double)s->cfg.body_budget / 1048576.0);
            return send_error(conn, r, 413, msg, NULL, "request_too_large");
        }
        r->counted += cost;
        if (atomic_fetch_add(&s->body_bytes, cost) + cost >
            s->cfg.body_budget)
            return send_error(conn, r, 503,
                              "The server is holding too many request"
                              " bodies; try again shortly.", NULL,
                              "server_busy");
        /* JSON is UTF-8 (RFC 8259 8.1): other bytes would be stored and
         * sent back in every answer naming them, which no strict parser
         * then reads */
        body = r->body.len && oab__utf8_valid(r->body.data, r->body.len)
                   ? oab__json_parse(r->body.data, r->body.len)
                   : NULL;
        if (!body || !cJSON_IsObject(body)) {
            cJSON_Delete(body);
            return send_error(conn, r, 400,
                              "We could not parse the JSON body of your"
                              " request.", NULL, "invalid_json");
        }
        if (json_depth(body) > s->cfg.max_json_depth) {
            cJSON_Delete(body);
            return send_error(conn, r, 400, "JSON nesting is too deep.",
                              NULL, "json_too_deep");
        }
        /* the parsed body ends a string at U+0000: refused, never cut
         * (a model call's body goes upstream as it came) */
        char nul[200];
        if (r->rt->fn != model_call &&
            oab__json_first_nul(r->body.data, r->body.len, nul,
                                sizeof nul) > 0) {
            cJSON_Delete(body); /* an object: the path is never empty */
            char msg[300];
            snprintf(msg, sizeof msg, "%s holds \\u0000 (U+0000), which this"
                     " server cannot keep (a parsed string ends there).",
                     nul);
            return send_error(conn, r, 400, msg, nul, "invalid_value");
        }
    }
    enum MHD_Result ret = r->rt->fn(conn, s, r, body);
    cJSON_Delete(body);
    return ret;
}

/* Bodies somewhat over a cap are read and dropped, then answered with
 * 413 (most clients do not read an answer sent before their body is
 * out); past this much more, the 413 goes at once and the connection is
 * closed, so a huge declared length costs nothing. */
#define DRAIN_BYTES (64ull * 1024 * 1024)

int srv_host_allowed(const srv_config *cfg, const char *host)
{
    if (!host)
        return 1;
    size_t n;
    if (host[0] == '[') {
        /* an IPv6 address: the brackets, then nothing or a port */
        const char *end = strchr(host, ']');
        if (!end || end == host + 1)
            return 0;
        for (const char *p = host + 1; p < end; p++)
            if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.')
                return 0;
        n = (size_t)(end + 1 - host);
    } else {
        n = strcspn(host, ":");
    }
    const char *rest = host + n;
    if (*rest && (*rest != ':' || !rest[1] ||
                  strspn(rest + 1, "0123456789") != strlen(rest + 1)))
        return 0; /* anything after the name but a port */
    if (host[0] == '[')
        return 1;
    if (!n)
        return 0;
    if (strspn(host, "0123456789.") >= n)
        return 1; /* an IPv4 address (one never resolved by name) */
    static const char lh[] = "localhost", sub[] = ".localhost";
    if ((n == sizeof lh - 1 && !strncasecmp(host, lh, n)) ||
        (n > sizeof sub - 1 &&
         !strncasecmp(host + n - (sizeof sub - 1), sub, sizeof sub - 1)))
        return 1;
    for (int i = 0; i < cfg->n_allowed_hosts; i++) {
        const char *a = cfg->allowed_hosts[i];
        if (!strcmp(a, "*") || (strlen(a) == n && !strncasecmp(a, host, n)))
            return 1;
    }
    return 0;
}

/* The first call of a request: route, auth, caps. */
static enum MHD_Result request_begin(struct MHD_Connection *conn, srv *s,
                                     req *r, const char *url,
                                     const char *method)
{
    int known = 0;
    r->rt = route_find(method, url, r->id, &known);
    if (!known) {
        char msg[300];
        snprintf(msg, sizeof msg, "Unknown request URL: %.8s %.200s.",
                 method, url);
        return send_error(conn, r, 404, msg, NULL, "unknown_url");
    }
    /* A page of another site cannot change anything here: the server
     * sends no CORS headers, so no such page can read an answer anyway,
     * but a form or a no-cors fetch is sent without asking, and with no
     * keys configured nothing else would stop it spending the upstream's
     * key. Browsers say where a request comes from; other clients send
     * no Sec-Fetch-Site. Reading (GET, a link to the web view) stays. */
    const char *site = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                   "Sec-Fetch-Site");
    if (site && strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 &&
        (!strcmp(site, "cross-site") || !strcmp(site, "same-site")))
        return send_error(conn, r, 403,
                          "A request from a page of another site cannot"
                          " change anything on this server.", NULL,
                          "cross_site_request");
    /* a server with no keys answers only to names that cannot be made
     * to resolve here by a page of another site (srv_host_allowed) */
    const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                   "Host");
    if (s->cfg.n_api_keys == 0 && !srv_host_allowed(&s->cfg, host)) {
        char msg[600];
        snprintf(msg, sizeof msg, "This server has no API keys and answers"
                 " only to its addresses and localhost, not to the name"
                 " '%.200s' (a page of another site could make any name"
                 " resolve to this machine). Start it with --allow-host"
                 " NAME for a name of its own, or give it --api-key.",
                 host);
        return send_error(conn, r, 403, msg, NULL, "host_not_allowed");
    }
    if (!authorize(s, conn, r))
        return send_error(conn, r, 401,
                          anth_path(url)
                              ? "invalid x-api-key: send one of the"
                                " server's keys in 'x-api-key'."
                              : "Incorrect or missing API key. Send"
                                " 'Authorization: Bearer <key>'.",
                          NULL, "invalid_api_key");
    if (!r->rt) {
        char msg[300];
        snprintf(msg, sizeof msg, "Method %.8s is not allowed on %.200s.",
                 method, url);
        route_allow(url, r->allow, sizeof r->allow);
        return send_error(conn, r, 405, msg, NULL, "method_not_allowed");
    }
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                 "Content-Length");
    unsigned long long clen = cl ? strtoull(cl, NULL, 10) : 0;
    if (r->rt->body == B_UPLOAD) {
        if (clen > s->cfg.max_file_bytes + DRAIN_BYTES)
            return send_error(conn, r, 413, "File is too large.", "file",
                              "file_too_large");
        if (clen > s->cfg.max_file_bytes + 1024 * 1024) {
            r->too_big = 1;
            return MHD_YES;
        }
        r->max_bytes = s->cfg.max_file_bytes;
        const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                     "Content-Type");
        static const char mt[] = "multipart/form-data";
        const char *t = ct ? ct + strspn(ct, " \t") : NULL;
        if (!t || strncasecmp(t, mt, sizeof mt - 1) != 0)
            return send_error(conn, r, 415,
                              "Uploads must be multipart/form-data.",
                              NULL, "unsupported_media_type");
        /* libmicrohttpd reads the parameter as "boundary=" only */
        if (!srv_mp_begin(&r->tail, ct) || !strstr(ct, "boundary=") ||
            !(r->pp = MHD_create_post_processor(conn, SRV_UPLOAD_CHUNK,
                                                upload_iter, r)))
            return send_error(conn, r, 400,
                              "The Content-Type has no boundary parameter"
                              " ('boundary=...', 1 to 70 characters).",
                              NULL, "invalid_multipart");
        char rnd[32];
        srv_random_id(rnd, sizeof rnd, "", 16);
        r->tmp_path = oab__sprintf("%s/upload-%s.tmp", s->files_dir, rnd);
        r->fd = r->tmp_path ? open(r->tmp_path, O_WRONLY | O_CREAT | O_TRUNC,
                                   0600)
                            : -1;
        if (r->fd < 0)
            r->io_error = 1;
        return MHD_YES;
    }
    if (clen > s->cfg.max_json_bytes + DRAIN_BYTES)
        return send_error(conn, r, 413, "Request body is too large.", NULL,
                          "request_too_large");
    if (clen > s->cfg.max_json_bytes)
        r->too_big = 1;
    else if (clen && atomic_load(&s->body_bytes) + clen > s->cfg.body_budget)
        r->busy = 1; /* read and dropped, then 503 */
    return MHD_YES;
}

/* Keeps n more body bytes within the caps; 0 when they do not fit. */
static int body_keep(srv *s, req *r, const char *data, size_t n)
{
    if (r->body.len + n > s->cfg.max_json_bytes) {
        r->too_big = 1;
        return 0;
    }
    unsigned long long now = atomic_fetch_add(&s->body_bytes, n) + n;
    r->counted += n;
    if (now > s->cfg.body_budget) {
        r->busy = 1;
        return 0;
    }
    return oab__buf_append(&r->body, data, n) == OAB_OK;
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
        r->s = s;
        r->t0 = oab__now();
        r->fd = -1;
        snprintf(r->method, sizeof r->method, "%s", method);
        r->url = oab__strdup(url);
        return request_begin(conn, s, r, url, method);
    }
    if (r->done) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (r->pp) {
            /* the epilogue after the closing delimiter is not passed on */
            size_t n = srv_mp_feed(&r->tail, upload_data, *upload_data_size);
            if (n && MHD_post_process(r->pp, upload_data, n) != MHD_YES)
                r->bad_multipart = 1; /* upload_iter never refuses */
            if (r->bytes > s->cfg.max_file_bytes && !r->too_big) {
                /* keep reading (and dropping) the body, answer 413 at the
                 * end: clients often do not read an early answer */
                r->too_big = 1;
                if (r->fd >= 0 && ftruncate(r->fd, 0) != 0)
                    r->io_error = 1;
            }
        } else if (!r->too_big && !r->busy &&
                   !body_keep(s, r, upload_data, *upload_data_size)) {
            oab__buf_free(&r->body);
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
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)SRV_CONN_MEMORY,
        MHD_OPTION_CONNECTION_TIMEOUT, s->cfg.conn_timeout_s,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)SRV_CONN_LIMIT,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, s->cfg.conns_per_ip,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_END); /* no SO_REUSEPORT: a port in use is refused */
    if (!d)
        return NULL;
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    *port_out = info ? info->port : s->cfg.port;
    return d;
}
