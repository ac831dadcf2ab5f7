/* files.c - the Files API: upload (streamed from disk or from memory),
 * list, retrieve, delete, and download (streamed, resumed with Range, checked
 * against the announced length). */

#include "oaibatch.h"
#include "api/batches.h"
#include "api/http.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/str.h"
#include "util/limits.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


/* "/files/<escaped id><suffix>" into b. */
static oab_status file_path(oab__buf *b, const char *id, const char *suffix)
{
    oab_status st = oab__buf_puts(b, "/files/");
    if (st == OAB_OK)
        st = oab__url_escape(b, id);
    if (st == OAB_OK && suffix)
        st = oab__buf_puts(b, suffix);
    return st;
}

static oab_status file_from_resp(oab_client *c, oab_file **out, oab__http_resp *resp)
{
    oab_error e;
    oab_status st = oab_file_parse(out, resp->body.data, resp->body.len, &e);
    if (st != OAB_OK)
        oab__client_fail(c, st == OAB_ENOMEM ? OAB_ENOMEM : OAB_EPROTO, "%s",
                         e.message);
    return st == OAB_OK ? OAB_OK : c->detail.status;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static oab_status upload(oab_client *c, oab_file **out, oab__http_req *req)
{
    if (req->mp_expires_after_s < 0)
        return oab__client_fail(c, OAB_EINVAL, "expires_after_s must be >= 0");
    oab__http_resp resp;
    req->method = "POST";
    req->path = "/files";
    req->multipart = 1;
    req->range_from = -1;
    oab_status st = oab__http_request(c, req, &resp);
    if (st == OAB_OK) {
        oab_file *f = NULL;
        st = file_from_resp(c, &f, &resp);
        if (out)
            *out = f;
        else
            oab_file_free(f);
    }
    oab__http_resp_free(&resp);
    return st;
}

/* 1 when a name can go in the part's Content-Disposition as it is */
static int filename_ok(const char *name)
{
    if (!*name)
        return 0;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || *p == 0x7f || *p == '/' || *p == '\\' || *p == '"')
            return 0;
    return 1;
}

oab_status oab_file_upload_path(oab_client *c, oab_file **out, const char *path,
                                const char *purpose, long long expires_after_s)
{
    return oab_file_upload_path_as(c, out, path, NULL, purpose,
                                   expires_after_s);
}

oab_status oab_file_upload_path_as(oab_client *c, oab_file **out,
                                   const char *path, const char *filename,
                                   const char *purpose,
                                   long long expires_after_s)
{
    if (out)
        *out = NULL;
    if (!c)
        return OAB_EINVAL;
    if (!path)
        return oab__client_fail(c, OAB_EINVAL, "path is NULL");
    if (filename && !filename_ok(filename))
        return oab__client_fail(c, OAB_EINVAL, "the filename is empty or "
                                "holds a control character, '/', '\\' or "
                                "'\"'");
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
        return oab__client_fail(c, OAB_EIO, "%s: cannot read: %s", path,
                                errno ? strerror(errno) : "not a regular file");
    if (access(path, R_OK) != 0)
        return oab__client_fail(c, OAB_EIO, "%s: cannot read: %s", path,
                                strerror(errno));
    oab__http_req req;
    memset(&req, 0, sizeof req);
    req.mp_path = path;
    req.mp_filename = filename ? filename : base_name(path);
    req.mp_purpose = purpose;
    req.mp_expires_after_s = expires_after_s;
    return upload(c, out, &req);
}

oab_status oab_file_upload_buffer(oab_client *c, oab_file **out, const void *data,
                                  size_t len, const char *filename,
                                  const char *purpose, long long expires_after_s)
{
    if (out)
        *out = NULL;
    if (!c)
        return OAB_EINVAL;
    if (!data && len)
        return oab__client_fail(c, OAB_EINVAL, "data is NULL");
    oab__http_req req;
    memset(&req, 0, sizeof req);
    req.mp_data = data ? data : "";
    req.mp_len = len;
    req.mp_filename = filename && *filename ? filename : "batch.jsonl";
    req.mp_purpose = purpose;
    req.mp_expires_after_s = expires_after_s;
    return upload(c, out, &req);
}

oab_status oab_file_retrieve(oab_client *c, oab_file **out, const char *file_id)
{
    if (out)
        *out = NULL;
    if (!c || !out)
        return OAB_EINVAL;
    if (!file_id || !*file_id)
        return oab__client_fail(c, OAB_EINVAL, "file id is empty");
    oab__buf p = OAB__BUF_INIT;
    if (file_path(&p, file_id, NULL) != OAB_OK)
        return oab__client_fail(c, OAB_ENOMEM, "out of memory");
    oab__http_req req;
    memset(&req, 0, sizeof req);
    req.method = "GET";
    req.path = p.data;
    req.range_from = -1;
    oab__http_resp resp;
    oab_status st = oab__http_request(c, &req, &resp);
    if (st == OAB_OK)
        st = file_from_resp(c, out, &resp);
    oab__http_resp_free(&resp);
    oab__buf_free(&p);
    return st;
}

oab_status oab_file_delete(oab_client *c, const char *file_id)
{
    if (!c)
        return OAB_EINVAL;
    if (!file_id || !*file_id)
        return oab__client_fail(c, OAB_EINVAL, "file id is empty");
    oab__buf p = OAB__BUF_INIT;
    if (file_path(&p, file_id, NULL) != OAB_OK)
        return oab__client_fail(c, OAB_ENOMEM, "out of memory");
    cJSON *root = NULL;
    oab_status st = oab__http_json(c, "DELETE", p.data, NULL, NULL, &root, NULL, NULL);
    if (st == OAB_OK) {
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "deleted");
        if (cJSON_IsFalse(d))
            st = oab__client_fail(c, OAB_ESTATE, "the server did not delete %s",
                                  file_id);
    }
    cJSON_Delete(root);
    oab__buf_free(&p);
    return st;
}

/* ---- download ---- */

typedef struct dl_ctx {
    oab_write_fn fn;
    void *ud;
    long long pos;      /* absolute offset of the next byte to deliver */
    long long skip;     /* bytes still to drop (server ignored Range) */
    long long total;    /* announced size of the whole file, -1 unknown */
    int started;        /* headers of this attempt seen */
    int stopped;
    int bad_range;
} dl_ctx;

static size_t dl_sink(const char *data, size_t len, const oab__http_resp *r,
                      void *ud)
{
    dl_ctx *d = ud;
    if (!d->started) {
        d->started = 1;
        if (r->status == 206) {
            if (r->range_start != d->pos) {
                d->bad_range = 1;
                return 0;
            }
            if (r->range_total >= 0)
                d->total = r->range_total;
            else if (r->content_length >= 0)
                d->total = d->pos + r->content_length;
        } else {
            /* whole content again: drop what we already have */
            d->skip = d->pos;
            if (r->content_length >= 0)
                d->total = r->content_length;
        }
    }
    size_t off = 0;
    if (d->skip > 0) {
        off = (long long)len < d->skip ? len : (size_t)d->skip;
        d->skip -= (long long)off;
    }
    if (off < len) {
        if (d->fn(data + off, len - off, d->ud) != 0) {
            d->stopped = 1;
            return 0;
        }
        d->pos += (long long)(len - off);
    }
    return len;
}

oab_status oab_file_download(oab_client *c, const char *file_id, long long offset,
                             oab_write_fn fn, void *userdata)
{
    if (!c)
        return OAB_EINVAL;
    if (!file_id || !*file_id || !fn || offset < 0)
        return oab__client_fail(c, OAB_EINVAL, "bad argument to oab_file_download");
    oab__buf p = OAB__BUF_INIT;
    if (file_path(&p, file_id, "/content") != OAB_OK)
        return oab__client_fail(c, OAB_ENOMEM, "out of memory");
    dl_ctx d;
    memset(&d, 0, sizeof d);
    d.fn = fn;
    d.ud = userdata;
    d.pos = offset;
    d.total = -1;
    int fruitless = 0, resumes = 0, attempts = 0;
    oab_status st;
    for (;;) {
        oab__http_req req;
        memset(&req, 0, sizeof req);
        req.method = "GET";
        req.path = p.data;
        req.sink = dl_sink;
        req.sink_ud = &d;
        req.range_from = d.pos > 0 ? d.pos : -1;
        req.no_retry = 1;
        d.started = 0;
        d.skip = 0;
        long long before = d.pos;
        oab__http_resp resp;
        st = oab__http_request(c, &req, &resp);
        attempts++;
        if (d.stopped) {
            oab__http_resp_free(&resp);
            st = oab__client_fail(c, OAB_ESTOPPED, "download of %s stopped by the "
                                  "caller at byte %lld", file_id, d.pos);
            break;
        }
        if (d.bad_range) {
            oab__http_resp_free(&resp);
            st = oab__client_fail(c, OAB_EPROTO, "download of %s: the server "
                                  "resumed at the wrong byte", file_id);
            break;
        }
        if (st == OAB_OK && (d.total < 0 || d.pos >= d.total)) {
            if (d.total >= 0 && d.pos > d.total)
                st = oab__client_fail(c, OAB_EPROTO, "download of %s: more bytes "
                                      "(%lld) than announced (%lld)", file_id,
                                      d.pos, d.total);
            oab__http_resp_free(&resp);
            break;
        }
        if (resp.status == 416 && d.pos > 0 && resp.range_total == d.pos) {
            /* asked from the end: everything is there already */
            oab__http_resp_free(&resp);
            st = OAB_OK;
            oab__client_clear_error(c);
            break;
        }
        int broken = st == OAB_OK /* short but "complete" */ ||
                     oab__http_retryable(st, resp.curl_code ? NULL : &resp);
        oab__http_resp_free(&resp);
        if (!broken)
            break;
        if (d.pos > before) {
            fruitless = 0;
            resumes++;
        } else {
            fruitless++;
        }
        if (c->max_retries == 0 || fruitless > c->max_retries ||
            resumes > OAB__MAX_DOWNLOAD_RESUMES + c->max_retries) {
            if (d.pos > offset || (d.total >= 0 && d.pos < d.total)) {
                char *tr = oab__strdup(c->d_transport);
                if (d.total >= 0)
                    st = oab__client_fail(c, OAB_ETRUNCATED,
                                          "download of %s: got %lld of %lld "
                                          "bytes", file_id, d.pos, d.total);
                else
                    st = oab__client_fail(c, OAB_ETRUNCATED,
                                          "download of %s: the connection "
                                          "broke after %lld bytes", file_id,
                                          d.pos);
                c->d_transport = tr;
                c->detail.attempts = attempts;
                oab__client_finish_error(c);
            }
            break;
        }
        oab__http_backoff(c, fruitless ? fruitless : 1, NULL);
    }
    oab__buf_free(&p);
    return st;
}

/* ---- to a file ---- */

typedef struct fd_sink {
    int fd;
    int err;
} fd_sink;

static int write_fd(const void *data, size_t len, void *ud)
{
    fd_sink *s = ud;
    s->err = oab__write_all(s->fd, data, len);
    return s->err != 0;
}

oab_status oab_file_download_path(oab_client *c, const char *file_id,
                                  const char *path)
{
    if (!c)
        return OAB_EINVAL;
    if (!path || !*path)
        return oab__client_fail(c, OAB_EINVAL, "path is empty");
    char *part = oab__sprintf("%s.part", path);
    if (!part)
        return oab__client_fail(c, OAB_ENOMEM, "out of memory");
    fd_sink s = {open(part, O_WRONLY | O_CREAT | O_APPEND, 0644), 0};
    if (s.fd < 0) {
        oab_status st = oab__client_fail(c, OAB_EIO, "%s: %s", part, strerror(errno));
        free(part);
        return st;
    }
    struct stat sb;
    long long have = fstat(s.fd, &sb) == 0 ? (long long)sb.st_size : 0;
    oab_status st = oab_file_download(c, file_id, have, write_fd, &s);
    if (st == OAB_ESTOPPED && s.err)
        st = oab__client_fail(c, OAB_EIO, "%s: %s", part, strerror(s.err));
    if (st == OAB_OK && (fsync(s.fd) != 0 || close(s.fd) != 0)) {
        s.fd = -1;
        st = oab__client_fail(c, OAB_EIO, "%s: %s", part, strerror(errno));
    } else if (st == OAB_OK) {
        s.fd = -1;
        if (rename(part, path) != 0)
            st = oab__client_fail(c, OAB_EIO, "%s: %s", path, strerror(errno));
    }
    if (s.fd >= 0)
        close(s.fd);
    free(part);
    return st;
}

/* ---- to memory ---- */

typedef struct mem_sink {
    oab__buf b;
    int too_big;
} mem_sink;

static int write_buf(const void *data, size_t len, void *ud)
{
    mem_sink *m = ud;
    if (m->b.len + len > OAB__MAX_BUFFER_DOWNLOAD) {
        m->too_big = 1;
        return 1;
    }
    return oab__buf_append(&m->b, data, len) == OAB_OK ? 0 : 1;
}

oab_status oab_file_download_buffer(oab_client *c, const char *file_id, char **out,
                                    size_t *len_out)
{
    if (out)
        *out = NULL;
    if (len_out)
        *len_out = 0;
    if (!c || !out)
        return OAB_EINVAL;
    mem_sink m = {OAB__BUF_INIT, 0};
    oab_status st = oab_file_download(c, file_id, 0, write_buf, &m);
    if (st == OAB_ESTOPPED)
        st = oab__client_fail(c, m.too_big ? OAB_ELIMIT : OAB_ENOMEM,
                              "download of %s does not fit in memory "
                              "(limit %llu bytes); use oab_file_download_path",
                              file_id, OAB__MAX_BUFFER_DOWNLOAD);
    if (st != OAB_OK) {
        oab__buf_free(&m.b);
        return st;
    }
    *out = oab__buf_take(&m.b, len_out);
    if (!*out)
        return oab__client_fail(c, OAB_ENOMEM, "out of memory");
    return OAB_OK;
}

void oab_file_page_free(oab_file_page *list)
{
    if (!list)
        return;
    for (size_t i = 0; i < list->n; i++)
        oab_file_free(list->files[i]);
    free(list->files);
    free(list->first_id);
    free(list->last_id);
    free(list);
}

/* The page's "data" items read as File objects into l (root borrowed). */
static oab_status file_list_items(oab_client *c, oab_file_page *l,
                                  const cJSON *data)
{
    size_t n = (size_t)cJSON_GetArraySize(data);
    if (n && !(l->files = calloc(n, sizeof *l->files)))
        return oab__client_fail(c, OAB_ENOMEM, "out of memory");
    const cJSON *item;
    cJSON_ArrayForEach(item, data)
    {
        char *text = cJSON_PrintUnformatted(item);
        if (!text)
            return oab__client_fail(c, OAB_ENOMEM, "out of memory");
        oab_error e;
        oab_status st = oab_file_parse(&l->files[l->n], text, strlen(text), &e);
        cJSON_free(text);
        if (st != OAB_OK)
            return oab__client_fail(c, st == OAB_ENOMEM ? OAB_ENOMEM : OAB_EPROTO,
                                    "GET /files: item %zu: %s", l->n, e.message);
        l->n++;
    }
    return OAB_OK;
}

oab_status oab_file_list(oab_client *c, oab_file_page **out, const char *purpose,
                         int limit, const char *after, const char *order)
{
    if (out)
        *out = NULL;
    if (!c || !out)
        return OAB_EINVAL;
    if (limit < 0 || limit > 10000)
        return oab__client_fail(c, OAB_EINVAL, "limit %d: must be 1..10000 (0 = "
                                "the server's default)", limit);
    if (order && strcmp(order, "asc") && strcmp(order, "desc"))
        return oab__client_fail(c, OAB_EINVAL, "order '%s': must be asc or "
                                "desc", order);
    oab__buf q = OAB__BUF_INIT;
    char lim[16];
    snprintf(lim, sizeof lim, "%d", limit);
    oab_status st = oab__query_add(&q, "purpose", purpose);
    if (!st)
        st = oab__query_add(&q, "limit", limit > 0 ? lim : NULL);
    if (!st)
        st = oab__query_add(&q, "after", after);
    if (!st)
        st = oab__query_add(&q, "order", order);
    if (st) {
        oab__buf_free(&q);
        return oab__client_fail(c, OAB_ENOMEM, "out of memory");
    }
    cJSON *root = NULL;
    st = oab__http_json(c, "GET", "/files", q.data, NULL, &root, NULL, NULL);
    oab__buf_free(&q);
    if (st != OAB_OK)
        return st;
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
    oab_file_page *l = NULL;
    if (!cJSON_IsArray(data))
        st = oab__client_fail(c, OAB_EPROTO, "GET /files: no \"data\" array "
                              "in the answer");
    else if (!(l = calloc(1, sizeof *l)))
        st = oab__client_fail(c, OAB_ENOMEM, "out of memory");
    if (st == OAB_OK)
        st = file_list_items(c, l, data);
    if (st == OAB_OK)
        st = oab__list_page_cursor(c, root, l->n ? l->files[l->n - 1]->id : NULL,
                                   &l->first_id, &l->last_id, &l->has_more);
    cJSON_Delete(root);
    if (st != OAB_OK) {
        oab_file_page_free(l);
        return st;
    }
    *out = l;
    return OAB_OK;
}
