/* fuzz_objects.c - what the client reads from a server or a user's file
 * before anything else: a Batch and a File object (oab_job_parse,
 * oab_file_parse) and the JSONL line splitter. The splitter is fed the
 * same bytes whole and in pieces of sizes the input picks: both feeds
 * deliver the same lines with the same numbers and offsets, each line is
 * the input's bytes at its offset and holds no newline, and both end
 * with the same status (a small max_line reaches the limit). */
#include "oaibatch.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct seen {
    const uint8_t *in; /* all bytes fed */
    size_t in_len;
    const oab_jsonl_reader *r;
    unsigned long long sum; /* of every line's number, offset and length */
    size_t lines;
} seen;

static int on_line(const char *line, size_t len, long lineno, void *ud)
{
    seen *s = ud;
    unsigned long long off = oab_jsonl_reader_line_offset(s->r);
    if (line[len] != '\0' || memchr(line, '\n', len) || off > s->in_len ||
        len > s->in_len - off || memcmp(s->in + off, line, len) != 0)
        abort();
    s->sum = s->sum * 1000003u + (unsigned long long)lineno * 31u + off * 7u +
             len;
    s->lines++;
    return 0;
}

/* Feeds body through a reader in pieces (cuts: sizes from the bytes of
 * cuts, 0 bytes of cuts: whole); the status the feed and finish end with. */
static oab_status split(const uint8_t *body, size_t n, size_t max_line,
                        const uint8_t *cuts, size_t ncuts, seen *s)
{
    oab_jsonl_reader *r = NULL;
    if (oab_jsonl_reader_new(&r, max_line) != OAB_OK)
        abort();
    memset(s, 0, sizeof *s);
    s->in = body;
    s->in_len = n;
    s->r = r;
    oab_status st = OAB_OK;
    size_t at = 0, k = 0;
    while (st == OAB_OK && at < n) {
        size_t piece = ncuts ? (size_t)cuts[k++ % ncuts] % 17 + 1 : n;
        if (piece > n - at)
            piece = n - at;
        st = oab_jsonl_reader_feed(r, body + at, piece, on_line, s);
        at += piece;
    }
    int truncated = -1;
    if (st == OAB_OK)
        st = oab_jsonl_reader_finish(r, on_line, s, &truncated);
    if (st == OAB_OK && truncated != (n && body[n - 1] != '\n'))
        abort();
    oab_jsonl_reader_free(r);
    return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    if (data[0] & 1) {
        oab_error err;
        oab_job *job = NULL;
        oab_job_parse(&job, s, n, &err);
        oab_job_free(job);
        oab_file *f = NULL;
        oab_file_parse(&f, s, n, &err);
        oab_file_free(f);
        return 0;
    }
    /* the first 8 bytes after the selector pick the pieces */
    size_t ncuts = n < 8 ? n : 8;
    const uint8_t *cuts = data + 1, *body = data + 1 + ncuts;
    size_t blen = n - ncuts, max_line = data[0] & 2 ? 64 : 0;
    seen whole, pieces;
    oab_status a = split(body, blen, max_line, NULL, 0, &whole);
    oab_status b = split(body, blen, max_line, cuts, ncuts, &pieces);
    if (a != b || (a == OAB_OK && (whole.lines != pieces.lines ||
                                   whole.sum != pieces.sum)))
        abort();
    return 0;
}
