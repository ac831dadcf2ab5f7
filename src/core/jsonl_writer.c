/* jsonl_writer.c - writes requests (or JSON objects) as JSONL lines to a
 * file (atomically: "path.tmp", renamed on close) or to memory. */

#include "oaibatch.h"
#include "core/request.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/str.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FLUSH_AT (256 * 1024)

struct oab_jsonl_writer {
    int fd;                    /* -1 for a buffer writer */
    char *path, *tmp;
    oab__buf buf;              /* pending bytes (all of them for buffers) */
    size_t lines;
    unsigned long long bytes;
    oab_status sticky;         /* first write error */
    int closed;
};

static oab_status writer_new(oab_jsonl_writer **out)
{
    *out = calloc(1, sizeof **out);
    if (!*out)
        return OAB_ENOMEM;
    (*out)->fd = -1;
    return OAB_OK;
}

oab_status oab_jsonl_writer_open_path(oab_jsonl_writer **out, const char *path)
{
    if (!out)
        return OAB_EINVAL;
    *out = NULL;
    if (!path || !*path)
        return OAB_EINVAL;
    oab_jsonl_writer *w;
    if (writer_new(&w) != OAB_OK)
        return OAB_ENOMEM;
    w->path = oab__strdup(path);
    w->tmp = oab__sprintf("%s.tmp", path);
    if (!w->path || !w->tmp) {
        oab_jsonl_writer_free(w);
        return OAB_ENOMEM;
    }
    w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (w->fd < 0) {
        oab_jsonl_writer_free(w);
        return OAB_EIO;
    }
    *out = w;
    return OAB_OK;
}

oab_status oab_jsonl_writer_open_buffer(oab_jsonl_writer **out)
{
    if (!out)
        return OAB_EINVAL;
    *out = NULL;
    return writer_new(out);
}

static oab_status write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return OAB_EIO;
        }
        p += w;
        n -= (size_t)w;
    }
    return OAB_OK;
}

static oab_status flush(oab_jsonl_writer *w)
{
    if (w->fd < 0 || !w->buf.len)
        return OAB_OK;
    oab_status st = write_all(w->fd, w->buf.data, w->buf.len);
    oab__buf_clear(&w->buf);
    return st;
}

/* Appends a line (without newline) plus "\n". */
static oab_status put_line(oab_jsonl_writer *w, const char *line, size_t len)
{
    if (w->sticky)
        return w->sticky;
    if (w->closed)
        return OAB_ESTATE;
    if (w->fd >= 0 && len >= FLUSH_AT) {
        /* a big line goes straight to the file */
        oab_status st = flush(w);
        if (st == OAB_OK)
            st = write_all(w->fd, line, len);
        if (st == OAB_OK)
            st = write_all(w->fd, "\n", 1);
        if (st != OAB_OK)
            return w->sticky = st;
    } else {
        if (oab__buf_reserve(&w->buf, len + 1) != OAB_OK)
            return OAB_ENOMEM;
        memcpy(w->buf.data + w->buf.len, line, len);
        w->buf.len += len;
        w->buf.data[w->buf.len++] = '\n';
        w->buf.data[w->buf.len] = '\0';
        if (w->fd >= 0 && w->buf.len >= FLUSH_AT) {
            oab_status st = flush(w);
            if (st != OAB_OK)
                return w->sticky = st;
        }
    }
    w->lines++;
    w->bytes += len + 1;
    return OAB_OK;
}

oab_status oab_jsonl_write_request(oab_jsonl_writer *w, const oab_request *req)
{
    if (!w || !req)
        return OAB_EINVAL;
    size_t len;
    const char *line = oab__request_line(req, &len, NULL);
    return put_line(w, line, len);
}

oab_status oab_jsonl_write_json(oab_jsonl_writer *w, const char *json,
                                size_t len)
{
    if (!w || !json)
        return OAB_EINVAL;
    oab__buf tmp = OAB__BUF_INIT;
    char type = 0;
    oab_status st = oab__json_append_compact(&tmp, json, len, &type);
    if (st == OAB_OK && type != OAB__JT_OBJECT)
        st = OAB_EJSON;
    if (st == OAB_OK)
        st = put_line(w, tmp.data, tmp.len);
    oab__buf_free(&tmp);
    return st;
}

oab_status oab__jsonl_write_raw(oab_jsonl_writer *w, const char *line,
                                size_t len)
{
    if (!w || (!line && len))
        return OAB_EINVAL;
    return put_line(w, line ? line : "", len);
}

size_t oab_jsonl_writer_lines(const oab_jsonl_writer *w)
{
    return w ? w->lines : 0;
}

unsigned long long oab_jsonl_writer_bytes(const oab_jsonl_writer *w)
{
    return w ? w->bytes : 0;
}

oab_status oab_jsonl_writer_close(oab_jsonl_writer *w)
{
    if (!w)
        return OAB_EINVAL;
    if (w->closed)
        return OAB_ESTATE;
    if (w->fd < 0)
        return OAB_OK; /* buffer writers: nothing to close */
    oab_status st = w->sticky ? w->sticky : flush(w);
    if (st == OAB_OK && fsync(w->fd) != 0)
        st = OAB_EIO;
    if (close(w->fd) != 0 && st == OAB_OK)
        st = OAB_EIO;
    w->fd = -1;
    w->closed = 1;
    if (st == OAB_OK && rename(w->tmp, w->path) != 0)
        st = OAB_EIO;
    if (st != OAB_OK)
        unlink(w->tmp);
    return st;
}

oab_status oab_jsonl_writer_take_buffer(oab_jsonl_writer *w, char **out,
                                        size_t *len_out)
{
    if (!out)
        return OAB_EINVAL;
    *out = NULL;
    if (len_out)
        *len_out = 0;
    if (!w || w->fd >= 0 || w->path)
        return OAB_EINVAL;
    *out = oab__buf_take(&w->buf, len_out);
    if (!*out)
        return OAB_ENOMEM;
    w->lines = 0;
    w->bytes = 0;
    return OAB_OK;
}

void oab_jsonl_writer_free(oab_jsonl_writer *w)
{
    if (!w)
        return;
    if (w->fd >= 0) {
        close(w->fd);
        unlink(w->tmp); /* never closed: leave nothing half-written */
    }
    oab__buf_free(&w->buf);
    free(w->path);
    free(w->tmp);
    free(w);
}
