/* linemap.c - a part's lines found in the user's input through the
 * journal's line map, instead of a copy of the part (see linemap.h). */
#include "oaibatch.h"
#include "util/buf.h"
#include "util/jdoc.h"
#include "util/sha256.h"
#include "util/str.h"
#include "linemap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Parts mapped together (one scan of the input): about this many lines. */
#define LINEMAP_GROUP_LINES 200000

/* ---- the map's encoding (journal.h): unsigned LEB128 ---- */

static oab_status put_varint(oab__buf *b, unsigned long long v)
{
    unsigned char c[10];
    size_t n = 0;
    do {
        c[n] = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v)
            c[n] |= 0x80;
        n++;
    } while (v);
    return oab__buf_append(b, c, n);
}

static int get_varint(const unsigned char **p, const unsigned char *end,
                      unsigned long long *v)
{
    unsigned long long x = 0;
    for (int shift = 0; *p < end && shift < 64; shift += 7) {
        unsigned char c = *(*p)++;
        x |= (unsigned long long)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return -1;
}

static int file_exists(const char *p)
{
    struct stat st;
    return p && stat(p, &st) == 0;
}

/* Reads exactly len bytes at off. 0 or -1. */
static int read_at(int fd, char *buf, size_t len, unsigned long long off)
{
    size_t got = 0;
    while (got < len) {
        ssize_t r = pread(fd, buf + got, len - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

/* ---- making maps ---- */

typedef struct entry {
    long line;                /* 0: not found in the input */
    unsigned long long off;
    size_t len;
} entry;

typedef struct want {
    long line;
    size_t k;                 /* its place in the part */
} want;

typedef struct build_part {
    const journal_part *part;
    want *w;                  /* sorted by line */
    size_t n, cur;
    entry *e;                 /* n, in the part's order */
} build_part;

typedef struct scan_ctx {
    oab_jsonl_reader *r;
    build_part *bp;
    size_t n_bp;
} scan_ctx;

static int cmp_want(const void *a, const void *b)
{
    const want *x = a, *y = b;
    return x->line < y->line ? -1 : x->line > y->line;
}

static int scan_line(const char *line, size_t len, long lineno, void *ud)
{
    (void)line;
    scan_ctx *sc = ud;
    for (size_t i = 0; i < sc->n_bp; i++) {
        build_part *b = &sc->bp[i];
        while (b->cur < b->n && b->w[b->cur].line < lineno)
            b->cur++;
        for (; b->cur < b->n && b->w[b->cur].line == lineno; b->cur++) {
            entry *e = &b->e[b->w[b->cur].k];
            e->line = lineno;
            e->off = oab_jsonl_reader_line_offset(sc->r);
            e->len = len;
        }
    }
    return 0;
}

/* One pass over the input: every wanted line's place, the whole file's
 * hash and size. 0 or -1. */
static int scan_input(const char *path, build_part *bp, size_t n_bp,
                      char sha_hex[65], long long *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    scan_ctx sc = { NULL, bp, n_bp };
    if (oab_jsonl_reader_new(&sc.r, 0) != OAB_OK) {
        fclose(f);
        return -1;
    }
    oab__sha256 s;
    oab__sha256_init(&s);
    static char buf[1 << 16];
    size_t k;
    long long total = 0;
    int bad = 0;
    while (!bad && (k = fread(buf, 1, sizeof buf, f)) > 0) {
        oab__sha256_update(&s, buf, k);
        total += (long long)k;
        bad = oab_jsonl_reader_feed(sc.r, buf, k, scan_line, &sc) != OAB_OK;
    }
    bad |= ferror(f) != 0;
    if (!bad)
        bad = oab_jsonl_reader_finish(sc.r, scan_line, &sc, NULL) != OAB_OK;
    oab_jsonl_reader_free(sc.r);
    fclose(f);
    oab__sha256_final_hex(&s, sha_hex);
    *size = total;
    return bad ? -1 : 0;
}

typedef struct verify_ctx {
    const build_part *b;
    int fd;
    size_t k;
    oab__buf line;            /* the input's bytes of the line */
    oab__buf map;
    oab__sha256 sha;
    oab__jdoc doc;
    int bad;
} verify_ctx;

/* A line of the copy: the input's line at its place must be the same
 * bytes; its entry goes into the map. */
static int verify_line(const char *line, size_t len, long lineno, void *ud)
{
    (void)lineno;
    verify_ctx *v = ud;
    const entry *e = v->k < v->b->n ? &v->b->e[v->k] : NULL;
    v->k++;
    oab__buf_clear(&v->line);
    if (!e || !e->line || e->len != len ||
        oab__buf_reserve(&v->line, len + 1) != OAB_OK ||
        read_at(v->fd, v->line.data, len, e->off) != 0 ||
        memcmp(v->line.data, line, len) != 0) {
        v->bad = 1;
        return 1;
    }
    oab__sha256_update(&v->sha, line, len);
    oab__sha256_update(&v->sha, "\n", 1);
    int oom = 0;
    char *cid = NULL;
    if (oab__jdoc_parse(&v->doc, line, len) == OAB_OK)
        cid = oab__jstr_dup(&v->doc,
                            oab__jget(&v->doc, oab__jroot(&v->doc),
                                      "custom_id"),
                            &oom);
    size_t cl = cid ? strlen(cid) : 0;
    int st = oom || put_varint(&v->map, (unsigned long long)e->line) ||
             put_varint(&v->map, e->off) || put_varint(&v->map, e->len) ||
             put_varint(&v->map, cl) ||
             (cl && oab__buf_append(&v->map, cid, cl));
    free(cid);
    if (st) {
        v->bad = 1;
        return 1;
    }
    return 0;
}

/* The map of one part from its copy, checked against the input. 0 or
 * -1 (the copy and the input differ, or cannot be read). */
static int make_map(const build_part *b, int fd, journal_linemap *m)
{
    verify_ctx v;
    memset(&v, 0, sizeof v);
    v.b = b;
    v.fd = fd;
    oab__sha256_init(&v.sha);
    oab_status st = oab_jsonl_read_path(b->part->path, verify_line, &v, NULL);
    oab__jdoc_free(&v.doc);
    oab__buf_free(&v.line);
    if (st != OAB_OK || v.bad || v.k != b->n) {
        oab__buf_free(&v.map);
        return -1;
    }
    oab__sha256_final_hex(&v.sha, m->lines_sha256);
    m->n_lines = (long)b->n;
    m->map = (unsigned char *)oab__buf_take(&v.map, &m->map_len);
    return m->map ? 0 : -1;
}

/* Frees the wanted lines of bp[0..n) (not bp) and clears them. */
static void build_free(build_part *bp, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(bp[i].w);
        free(bp[i].e);
    }
    memset(bp, 0, n * sizeof *bp);
}

/* The part's wanted lines, from its ranges. 0 or -1. */
static int build_init(build_part *b, const journal_part *p)
{
    memset(b, 0, sizeof *b);
    b->part = p;
    size_t n = 0;
    long *lines = journal_ranges_decode(p->input_lines, &n);
    if (!lines || !n || n != (size_t)p->n_lines) {
        free(lines);
        return -1;
    }
    b->w = malloc(n * sizeof *b->w);
    b->e = calloc(n, sizeof *b->e);
    if (!b->w || !b->e) {
        free(lines);
        free(b->w);
        free(b->e);
        memset(b, 0, sizeof *b);
        return -1;
    }
    for (size_t k = 0; k < n; k++) {
        b->w[k].line = lines[k];
        b->w[k].k = k;
    }
    free(lines);
    b->n = n;
    qsort(b->w, n, sizeof *b->w, cmp_want);
    return 0;
}

/* Makes and commits the maps of the parts in bp (whose copies exist).
 * Parts whose copy does not match the input get none. */
static void build_maps(journal *jr, const journal_job *job, build_part *bp,
                       size_t nb)
{
    char sha[65];
    long long size = 0;
    if (scan_input(job->input_path, bp, nb, sha, &size) != 0)
        return;
    int fd = open(job->input_path, O_RDONLY);
    if (fd < 0)
        return;
    journal_linemap *maps = calloc(nb, sizeof *maps);
    int *idx = calloc(nb, sizeof *idx);
    size_t n = 0;
    for (size_t i = 0; maps && idx && i < nb; i++) {
        journal_linemap *m = &maps[n];
        if (make_map(&bp[i], fd, m) != 0)
            continue;
        m->input_path = oab__strdup(job->input_path);
        m->input_size = size;
        m->input_sha256 = oab__strdup(sha);
        idx[n++] = bp[i].part->idx;
        if (!m->input_path || !m->input_sha256)
            n--; /* cleared below with the others */
    }
    close(fd);
    if (n && journal_linemaps_put(jr, job->id, idx, maps, n) == 0)
        cli_crash_point("map");
    for (size_t i = 0; maps && i < nb; i++)
        journal_linemap_clear(&maps[i]);
    free(maps);
    free(idx);
}

void cli_linemap_settle(cli_ctx *ctx, const journal_job *job)
{
    journal *jr = cli_journal(ctx);
    if (!jr || !job || !job->n_parts || !job->input_path ||
        job->input_path[0] != '/')
        return;
    struct stat st;
    if (stat(job->input_path, &st) != 0 || !S_ISREG(st.st_mode))
        return;
    /* in groups of about LINEMAP_GROUP_LINES lines: one scan of the
     * input a group, and a bounded memory (a million-line job's maps at
     * once took ~20 MB more than the rest of the job) */
    build_part *bp = calloc(job->n_parts, sizeof *bp);
    if (!bp)
        return;
    size_t nb = 0;
    long in_group = 0;
    for (size_t i = 0; i < job->n_parts; i++) {
        const journal_part *p = &job->parts[i];
        if (journal_linemap_has(jr, job->id, p->idx) == 0 &&
            file_exists(p->path) && build_init(&bp[nb], p) == 0) {
            in_group += p->n_lines;
            nb++;
        }
        if (nb && (in_group >= LINEMAP_GROUP_LINES || i + 1 == job->n_parts)) {
            build_maps(jr, job, bp, nb);
            build_free(bp, nb);
            nb = 0;
            in_group = 0;
        }
    }
    free(bp);
    /* the copies no longer needed: mapped, and the batch journaled */
    for (size_t i = 0; i < job->n_parts; i++) {
        const journal_part *p = &job->parts[i];
        if (p->batch_id && file_exists(p->path) &&
            journal_linemap_has(jr, job->id, p->idx) == 1 &&
            remove(p->path) == 0)
            cli_crash_point("release");
    }
}

/* ---- reading through a map ---- */

int cli_part_read(cli_ctx *ctx, const journal_job *job,
                  const journal_part *part, oab_line_fn fn, void *ud)
{
    journal *jr = cli_journal(ctx);
    if (!jr)
        return CLI_EXIT_LOCAL;
    journal_linemap m;
    int r = journal_linemap_get(jr, job->id, part->idx, &m);
    if (r < 0) {
        cli_error(ctx, "journal: %s", journal_errmsg(jr));
        return CLI_EXIT_LOCAL;
    }
    if (r > 0) {
        if (!file_exists(part->path)) {
            cli_error(ctx, "the lines of part %d of job %s are gone (no copy "
                      "%s and no line map)", part->idx, job->id,
                      part->path ? part->path : "-");
            return CLI_EXIT_LOCAL;
        }
        oab_error err = { 0, 0, "" };
        oab_status st = oab_jsonl_read_path(part->path, fn, ud, &err);
        if (st == OAB_OK || st == OAB_ESTOPPED)
            return CLI_EXIT_OK;
        cli_error(ctx, "cannot read part %d (%s): %s", part->idx, part->path,
                  err.message[0] ? err.message : oab_strerror(st));
        return CLI_EXIT_LOCAL;
    }
    int rc = CLI_EXIT_OK;
    struct stat sb;
    int fd = -1;
    if (stat(m.input_path, &sb) != 0 || (fd = open(m.input_path,
                                                   O_RDONLY)) < 0) {
        cli_error(ctx, "cannot read %s, the input of job %s (its lines are "
                  "read from it): %s", m.input_path, job->id,
                  strerror(errno));
        journal_linemap_clear(&m);
        return CLI_EXIT_LOCAL;
    }
    if ((long long)sb.st_size != m.input_size) {
        cli_error(ctx, "%s has changed since job %s was submitted (%lld "
                  "bytes then, %lld now; sha256 then %s); put the original "
                  "back to read the job's lines", m.input_path, job->id,
                  m.input_size, (long long)sb.st_size, m.input_sha256);
        close(fd);
        journal_linemap_clear(&m);
        return CLI_EXIT_LOCAL;
    }
    oab__sha256 sha;
    oab__sha256_init(&sha);
    oab__buf line = OAB__BUF_INIT;
    const unsigned char *p = m.map, *end = m.map + m.map_len;
    int stopped = 0;
    long k = 0;
    for (; p < end && !stopped && rc == CLI_EXIT_OK; k++) {
        unsigned long long ln, off, len, cl;
        if (get_varint(&p, end, &ln) || get_varint(&p, end, &off) ||
            get_varint(&p, end, &len) || get_varint(&p, end, &cl) ||
            cl > (unsigned long long)(end - p)) {
            cli_error(ctx, "journal: the line map of part %d of job %s is "
                      "damaged", part->idx, job->id);
            rc = CLI_EXIT_LOCAL;
            break;
        }
        p += cl;
        oab__buf_clear(&line);
        if (oab__buf_reserve(&line, (size_t)len + 1) != OAB_OK) {
            cli_error(ctx, "out of memory");
            rc = CLI_EXIT_LOCAL;
            break;
        }
        if (read_at(fd, line.data, (size_t)len, off) != 0) {
            cli_error(ctx, "cannot read %s at line %llu: %s", m.input_path,
                      ln, errno ? strerror(errno) : "the file is shorter");
            rc = CLI_EXIT_LOCAL;
            break;
        }
        line.data[len] = '\0';
        oab__sha256_update(&sha, line.data, (size_t)len);
        oab__sha256_update(&sha, "\n", 1);
        stopped = fn(line.data, (size_t)len, k + 1, ud) != 0;
    }
    close(fd);
    oab__buf_free(&line);
    if (rc == CLI_EXIT_OK && !stopped) {
        char hex[65];
        oab__sha256_final_hex(&sha, hex);
        if (k != m.n_lines || strcmp(hex, m.lines_sha256) != 0) {
            cli_error(ctx, "%s has changed since job %s was submitted (the "
                      "lines of part %d differ; sha256 of the file then %s); "
                      "put the original back to read the job's lines",
                      m.input_path, job->id, part->idx, m.input_sha256);
            rc = CLI_EXIT_LOCAL;
        }
    }
    journal_linemap_clear(&m);
    return rc;
}

typedef struct write_ctx {
    FILE *f;
    int bad;
} write_ctx;

static int write_line(const char *line, size_t len, long k, void *ud)
{
    (void)k;
    write_ctx *w = ud;
    if (fwrite(line, 1, len, w->f) != len || fputc('\n', w->f) == EOF) {
        w->bad = 1;
        return 1;
    }
    return 0;
}

int cli_part_file(cli_ctx *ctx, const journal_job *job,
                  const journal_part *part, const char **path, char **tmp)
{
    *path = NULL;
    *tmp = NULL;
    journal *jr = cli_journal(ctx);
    int has = jr ? journal_linemap_has(jr, job->id, part->idx) : -1;
    if (has < 0) {
        cli_error(ctx, "journal: %s", journal_errmsg(jr));
        return CLI_EXIT_LOCAL;
    }
    if (!has) {
        *path = file_exists(part->path) ? part->path : NULL;
        return CLI_EXIT_OK;
    }
    const char *base = getenv("TMPDIR");
    char *t = oab__sprintf("%s/oaibatch_part_XXXXXX",
                           base && *base ? base : "/tmp");
    int fd = t ? mkstemp(t) : -1;
    write_ctx w = { fd >= 0 ? fdopen(fd, "w") : NULL, 0 };
    if (!w.f) {
        cli_error(ctx, "cannot create a temporary file: %s", strerror(errno));
        if (fd >= 0) {
            close(fd);
            remove(t);
        }
        free(t);
        return CLI_EXIT_LOCAL;
    }
    int rc = cli_part_read(ctx, job, part, write_line, &w);
    int bad = fclose(w.f) != 0 || w.bad;
    if (rc == CLI_EXIT_OK && bad) {
        cli_error(ctx, "cannot write %s: %s", t, strerror(errno));
        rc = CLI_EXIT_LOCAL;
    }
    if (rc != CLI_EXIT_OK) {
        remove(t);
        free(t);
        return rc;
    }
    *path = *tmp = t;
    return CLI_EXIT_OK;
}
