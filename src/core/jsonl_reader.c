/* jsonl_reader.c - I/O-free line splitter with 1-based line numbers: the
 * public reader and its raw mode (core/jsonl_reader.h) on one loop. */

#include "oaibatch.h"
#include "core/jsonl_reader.h"
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
    unsigned long long line_off; /* first byte of the line delivered */
    unsigned long long next_off; /* first byte of the next line */
    int raw;            /* raw mode (core/jsonl_reader.h) */
    int skipping;       /* raw: the line being read is over max_line */
    size_t skipped;     /* raw: that line's bytes so far */
};

int oab__line_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return 0;
    return 1;
}

static oab_status reader_new(oab_jsonl_reader **out, size_t max_line,
                             int raw)
{
    if (!out)
        return OAB_EINVAL;
    *out = calloc(1, sizeof **out);
    if (!*out)
        return OAB_ENOMEM;
    (*out)->max_line = max_line ? max_line : OAB__MAX_LINE_BYTES;
    (*out)->raw = raw;
    return OAB_OK;
}

oab_status oab_jsonl_reader_new(oab_jsonl_reader **out, size_t max_line)
{
    return reader_new(out, max_line, 0);
}

oab_status oab__jsonl_reader_new_raw(oab_jsonl_reader **out, size_t max_line)
{
    return reader_new(out, max_line, 1);
}

void oab_jsonl_reader_free(oab_jsonl_reader *r)
{
    if (!r)
        return;
    oab__buf_free(&r->partial);
    free(r);
}

/* Where a completed line goes: the raw callback, or the public one
 * (behind public_line). */
typedef struct sink {
    oab__line_raw_fn raw;
    oab_line_fn fn;
    void *ud;
} sink;

/* The public mode: blank lines counted, not delivered; the others with a
 * NUL after them (the line is in `partial`, which we own). */
static int public_line(const oab__line *ln, const sink *k)
{
    if (ln->blank)
        return 0;
    if (!k->fn)
        return 0;
    char *line = (char *)ln->text;
    char saved = line[ln->len];
    line[ln->len] = '\0';
    int rc = k->fn(line, ln->len, ln->lineno, k->ud);
    line[ln->len] = saved;
    return rc;
}

/* One completed line: text[0..len) with its '\n' (if any) not included,
 * `bytes` of input in all. */
static int emit(oab_jsonl_reader *r, const char *text, size_t len,
                size_t bytes, int cut_off, const sink *k)
{
    oab__line ln;
    ln.lineno = ++r->lineno;
    r->line_off = r->next_off;
    r->next_off += bytes;
    if (text && len && text[len - 1] == '\r')
        len--;
    ln.text = text;
    ln.len = text ? len : 0;
    ln.bytes = bytes;
    ln.blank = text && oab__line_blank(text, len);
    ln.cut_off = cut_off;
    return k->raw ? k->raw(&ln, k->ud) : public_line(&ln, k);
}

/* Keeps the n bytes at p of a line not yet ended. */
static oab_status keep(oab_jsonl_reader *r, const char *p, size_t n)
{
    if (r->skipping) {
        r->skipped += n;
        return OAB_OK;
    }
    if (r->partial.len + n > r->max_line) {
        if (!r->raw)
            return OAB_ELIMIT;
        r->skipping = 1; /* counted from here on, not kept */
        r->skipped = r->partial.len + n;
        oab__buf_clear(&r->partial);
        return OAB_OK;
    }
    return oab__buf_append(&r->partial, p, n);
}

static oab_status feed(oab_jsonl_reader *r, const char *p, size_t len,
                       const sink *k)
{
    const char *end = p + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            return keep(r, p, (size_t)(end - p));
        size_t n = (size_t)(nl - p);
        int rc;
        if (!r->skipping && r->raw && !r->partial.len && n <= r->max_line) {
            rc = emit(r, p, n, n + 1, 0, k); /* in place */
        } else {
            /* the public mode assembles every line in `partial` (the
             * caller's bytes are const and the line gets a NUL) */
            oab_status st = keep(r, p, n);
            if (st != OAB_OK)
                return st;
            if (r->skipping)
                rc = emit(r, NULL, 0, r->skipped + 1, 0, k);
            else
                rc = emit(r, r->partial.data, r->partial.len,
                          r->partial.len + 1, 0, k);
            oab__buf_clear(&r->partial);
            r->skipping = 0;
            r->skipped = 0;
        }
        if (rc)
            return OAB_ESTOPPED;
        p = nl + 1;
    }
    return OAB_OK;
}

static oab_status finish(oab_jsonl_reader *r, const sink *k, int *truncated)
{
    int cut = r->partial.len > 0 || r->skipping;
    if (truncated)
        *truncated = cut;
    if (!cut)
        return OAB_OK;
    int rc = r->skipping
                 ? emit(r, NULL, 0, r->skipped, 1, k)
                 : emit(r, r->partial.data, r->partial.len, r->partial.len,
                        1, k);
    oab__buf_clear(&r->partial);
    r->skipping = 0;
    r->skipped = 0;
    return rc ? OAB_ESTOPPED : OAB_OK;
}

oab_status oab_jsonl_reader_feed(oab_jsonl_reader *r, const void *data,
                                 size_t len, oab_line_fn fn, void *ud)
{
    if (!r || r->raw || (!data && len))
        return OAB_EINVAL;
    sink k = {NULL, fn, ud};
    return feed(r, data, len, &k);
}

oab_status oab_jsonl_reader_finish(oab_jsonl_reader *r, oab_line_fn fn,
                                   void *ud, int *truncated)
{
    if (!r || r->raw)
        return OAB_EINVAL;
    sink k = {NULL, fn, ud};
    return finish(r, &k, truncated);
}

oab_status oab__jsonl_reader_feed_raw(oab_jsonl_reader *r, const void *data,
                                      size_t len, oab__line_raw_fn fn,
                                      void *ud)
{
    if (!r || !r->raw || !fn || (!data && len))
        return OAB_EINVAL;
    sink k = {fn, NULL, ud};
    return feed(r, data, len, &k);
}

oab_status oab__jsonl_reader_finish_raw(oab_jsonl_reader *r,
                                        oab__line_raw_fn fn, void *ud)
{
    if (!r || !r->raw || !fn)
        return OAB_EINVAL;
    sink k = {fn, NULL, ud};
    return finish(r, &k, NULL);
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

unsigned long long oab_jsonl_reader_line_offset(const oab_jsonl_reader *r)
{
    return r ? r->line_off : 0;
}
