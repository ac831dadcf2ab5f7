/* split.c - splits a JSONL input over the Batch API's limits into parts
 * that each stay under both (lines and bytes, with a margin), in input
 * order. Each part is written atomically and knows its input lines. */

#include "oaibatch.h"
#include "core/request.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/opts.h"
#include "util/str.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct split_ctx {
    oab_split *s;
    const char *out_dir;
    char *stem;
    size_t max_lines;
    unsigned long long max_bytes;
    oab_jsonl_writer *w;        /* the part being written */
    oab_split_part *cur;
    size_t cap_lines;           /* capacity of cur->input_lines */
    size_t cap_parts;
    oab_status st;
    oab_error *err;
} split_ctx;

void oab_split_free(oab_split *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_parts; i++) {
        free(s->parts[i].path);
        free(s->parts[i].input_lines);
    }
    free(s->parts);
    free(s);
}

/* "dir/name.jsonl" -> "name" */
static char *stem_of(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    return oab__strndup(base, n);
}

static oab_status close_part(split_ctx *c)
{
    if (!c->w)
        return OAB_OK;
    oab_status st = oab_jsonl_writer_close(c->w);
    oab_jsonl_writer_free(c->w);
    c->w = NULL;
    if (st != OAB_OK)
        oab__err(c->err, st, 0, "%s: cannot write the part", c->cur->path);
    return st;
}

static oab_status open_part(split_ctx *c, long first_line)
{
    oab_split *s = c->s;
    oab_split_part *p =
        oab__grow(s->parts, &c->cap_parts, s->n_parts, sizeof *p, 4);
    if (!p)
        return OAB_ENOMEM;
    s->parts = p;
    oab_split_part *part = &s->parts[s->n_parts];
    memset(part, 0, sizeof *part);
    part->path = oab__sprintf("%s/%s.part%03zu.jsonl", c->out_dir, c->stem,
                              s->n_parts + 1);
    if (!part->path)
        return OAB_ENOMEM;
    s->n_parts++;
    part->first_line = first_line;
    c->cur = part;
    c->cap_lines = 0;
    oab_status st = oab_jsonl_writer_open_path(&c->w, part->path);
    if (st != OAB_OK)
        return oab__err(c->err, st, 0, "%s: cannot create the part",
                        part->path);
    return OAB_OK;
}

static int on_line(const char *line, size_t len, long lineno, void *ud)
{
    split_ctx *c = ud;
    unsigned long long need = (unsigned long long)len + 1;
    if (need > c->max_bytes) {
        c->st = oab__err(c->err, OAB_ELIMIT, lineno,
                         "line %ld: %zu bytes, more than a part may hold "
                         "(%llu)",
                         lineno, len, c->max_bytes);
        return 1;
    }
    oab_split_part *p = c->cur;
    if (!p || p->n_lines + 1 > c->max_lines || p->n_bytes + need > c->max_bytes) {
        oab_status st = close_part(c);
        if (st == OAB_OK)
            st = open_part(c, lineno);
        if (st != OAB_OK) {
            c->st = st;
            return 1;
        }
        p = c->cur;
    }
    long *l = oab__grow(p->input_lines, &c->cap_lines, p->n_lines, sizeof *l,
                        1024);
    if (!l) {
        c->st = OAB_ENOMEM;
        return 1;
    }
    p->input_lines = l;
    oab_status st = oab__jsonl_write_raw(c->w, line, len);
    if (st != OAB_OK) {
        c->st = oab__err(c->err, st, lineno, "%s: cannot write", p->path);
        return 1;
    }
    p->input_lines[p->n_lines++] = lineno;
    p->n_bytes += need;
    return 0;
}

oab_status oab_split_path(oab_split **out, const char *path,
                          const char *out_dir, const oab_split_options *opts,
                          oab_error *err)
{
    oab__err_clear(err);
    if (!out)
        return oab__err(err, OAB_EINVAL, 0, "out: NULL");
    *out = NULL;
    if (!path || !out_dir)
        return oab__err(err, OAB_EINVAL, 0, "path and out_dir are needed");
    oab_status st = OAB__OPTIONS_CHECK(opts, OAB_SPLIT_OPTIONS_VERSION,
                                       "oab_split_options", err);
    if (st != OAB_OK)
        return st;
    size_t max_lines = opts && opts->max_lines ? opts->max_lines : OAB_MAX_LINES;
    unsigned long long max_bytes =
        opts && opts->max_bytes ? opts->max_bytes : OAB_MAX_FILE_BYTES;
    double margin = opts && opts->margin >= 0 ? opts->margin : 0.02;
    if (!(margin < 1)) /* also NaN */
        return oab__err(err, OAB_EINVAL, 0,
                        "margin %g: must be at least 0 and below 1", margin);
    split_ctx c;
    memset(&c, 0, sizeof c);
    c.max_lines = (size_t)floor((double)max_lines * (1 - margin));
    c.max_bytes = (unsigned long long)floor((double)max_bytes * (1 - margin));
    if (c.max_lines < 1)
        c.max_lines = 1;
    if (c.max_bytes < 2)
        c.max_bytes = 2;
    c.out_dir = out_dir;
    c.err = err;
    c.stem = stem_of(path);
    c.s = calloc(1, sizeof *c.s);
    if (!c.stem || !c.s) {
        free(c.stem);
        free(c.s);
        return oab__err(err, OAB_ENOMEM, 0, "out of memory");
    }
    oab_error rerr;
    oab__err_clear(&rerr);
    st = oab_jsonl_read_path(path, on_line, &c, &rerr);
    if (st == OAB_ESTOPPED)
        st = c.st;
    else if (st != OAB_OK)
        oab__err(err, st, rerr.line, "%s", rerr.message);
    if (st == OAB_OK)
        st = close_part(&c);
    else if (c.w) {
        oab_jsonl_writer_free(c.w); /* removes its temporary file */
        c.w = NULL;
    }
    if (st == OAB_OK && c.s->n_parts == 0)
        st = oab__err(err, OAB_EINVAL, 0, "%s: no requests to split", path);
    free(c.stem);
    if (st != OAB_OK) {
        /* leave no parts of a split that did not finish */
        for (size_t i = 0; i < c.s->n_parts; i++)
            if (c.s->parts[i].path)
                unlink(c.s->parts[i].path);
        oab_split_free(c.s);
        if (err && !err->message[0])
            oab__err(err, st, 0, "%s", oab_strerror(st));
        return st;
    }
    *out = c.s;
    return OAB_OK;
}
