/* jsonl_reader.c - I/O-free line splitter with 1-based line numbers. */

#include "oaibatch.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/limits.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct oab_jsonl_reader {
    oab__buf partial;   /* bytes of a line not yet ended */
    size_t max_line;
    long lineno;        /* lines completed so far */
};

oab_status oab_jsonl_reader_new(oab_jsonl_reader **out, size_t max_line)
{
    if (!out)
        return OAB_EINVAL;
    *out = calloc(1, sizeof **out);
    if (!*out)
        return OAB_ENOMEM;
    (*out)->max_line = max_line ? max_line : OAB__MAX_LINE_BYTES;
    return OAB_OK;
}

void oab_jsonl_reader_free(oab_jsonl_reader *r)
{
    if (!r)
        return;
    oab__buf_free(&r->partial);
    free(r);
}

/* Delivers one complete line (strips a trailing '\r'). line must have
 * line[len] readable; we pass a NUL-terminated copy when needed. */
static int deliver(oab_jsonl_reader *r, char *line, size_t len,
                   oab_line_fn fn, void *ud)
{
    r->lineno++;
    if (len && line[len - 1] == '\r')
        len--;
    /* blank lines are counted, not delivered */
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i == len)
        return 0;
    char saved = line[len];
    line[len] = '\0';
    int rc = fn ? fn(line, len, r->lineno, ud) : 0;
    line[len] = saved;
    return rc;
}

oab_status oab_jsonl_reader_feed(oab_jsonl_reader *r, const void *data,
                                 size_t len, oab_line_fn fn, void *ud)
{
    if (!r || (!data && len))
        return OAB_EINVAL;
    const char *p = data;
    const char *end = p + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) {
            if (r->partial.len + (size_t)(end - p) > r->max_line)
                return OAB_ELIMIT;
            return oab__buf_append(&r->partial, p, (size_t)(end - p));
        }
        size_t n = (size_t)(nl - p);
        if (r->partial.len + n > r->max_line)
            return OAB_ELIMIT;
        /* the line is assembled in `partial` (also when it lies whole in
         * this chunk: the caller's bytes are const and the line gets a NUL) */
        if (oab__buf_append(&r->partial, p, n) != OAB_OK)
            return OAB_ENOMEM;
        int rc = deliver(r, r->partial.data, r->partial.len, fn, ud);
        oab__buf_clear(&r->partial);
        if (rc)
            return OAB_ESTOPPED;
        p = nl + 1;
    }
    return OAB_OK;
}

oab_status oab_jsonl_reader_finish(oab_jsonl_reader *r, oab_line_fn fn,
                                   void *ud, int *truncated)
{
    if (!r)
        return OAB_EINVAL;
    if (truncated)
        *truncated = r->partial.len > 0;
    if (!r->partial.len)
        return OAB_OK;
    int rc = deliver(r, r->partial.data, r->partial.len, fn, ud);
    oab__buf_clear(&r->partial);
    return rc ? OAB_ESTOPPED : OAB_OK;
}

oab_status oab_jsonl_read_path(const char *path, oab_line_fn fn, void *ud,
                               oab_error *err)
{
    oab__err_clear(err);
    FILE *f = fopen(path, "rb");
    if (!f)
        return oab__err(err, OAB_EIO, 0, "%s: cannot open", path);
    oab_jsonl_reader *r = NULL;
    oab_status st = oab_jsonl_reader_new(&r, 0);
    char *chunk = st == OAB_OK ? malloc(1 << 16) : NULL;
    if (st == OAB_OK && !chunk)
        st = OAB_ENOMEM;
    size_t n;
    while (st == OAB_OK && (n = fread(chunk, 1, 1 << 16, f)) > 0)
        st = oab_jsonl_reader_feed(r, chunk, n, fn, ud);
    if (st == OAB_OK && ferror(f))
        st = oab__err(err, OAB_EIO, 0, "%s: read error", path);
    if (st == OAB_OK)
        st = oab_jsonl_reader_finish(r, fn, ud, NULL);
    if (st == OAB_ELIMIT)
        oab__err(err, st, r->lineno + 1, "%s:%ld: line too long", path,
                 r->lineno + 1);
    else if (st == OAB_ENOMEM)
        oab__err(err, st, 0, "%s: out of memory", path);
    free(chunk);
    oab_jsonl_reader_free(r);
    fclose(f);
    return st;
}
