/* retry_failed.c - write a new input file holding only the lines that did
 * not succeed (failed, expired, cancelled, missing), ready to submit again.
 * Usage: retry_failed INPUT OUTPUT ERROR RETRY.jsonl */
#include <stdio.h>
#include <stdlib.h>

#include <oaibatch.h>

typedef struct {
    long *lines; /* input lines to retry */
    size_t n, cap;
    oab_jsonl_writer *w;
} retry_set;

static int collect(const oab_result *r, void *userdata)
{
    retry_set *rs = userdata;
    if (r->status == OAB_RESULT_SUCCEEDED || r->input_line <= 0)
        return 0;
    if (rs->n == rs->cap) {
        size_t cap = rs->cap ? rs->cap * 2 : 64;
        long *p = realloc(rs->lines, cap * sizeof *p);
        if (!p)
            return 1; /* stops the stream: OAB_ESTOPPED */
        rs->lines = p;
        rs->cap = cap;
    }
    rs->lines[rs->n++] = r->input_line;
    return 0;
}

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

/* Copies the input lines whose number is in the set. */
static int copy_line(const char *line, size_t len, long lineno, void *userdata)
{
    retry_set *rs = userdata;
    if (!bsearch(&lineno, rs->lines, rs->n, sizeof *rs->lines, cmp_long))
        return 0;
    return oab_jsonl_write_json(rs->w, line, len) != OAB_OK;
}

int main(int argc, char **argv)
{
    oab_results_options opts = OAB_RESULTS_OPTIONS_INIT;
    retry_set rs = {NULL, 0, 0, NULL};
    oab_error err;
    oab_status st;

    if (argc != 5) {
        fprintf(stderr, "usage: %s INPUT OUTPUT ERROR RETRY\n", argv[0]);
        return 2;
    }
    opts.input_path = argv[1]; /* fills input_line, reports missing lines */
    st = oab_results_stream_files(argv[2], argv[3], &opts, collect, &rs, NULL,
                                  &err);
    if (st == OAB_OK) {
        qsort(rs.lines, rs.n, sizeof *rs.lines, cmp_long);
        st = oab_jsonl_writer_open_path(&rs.w, argv[4]);
    }
    if (st == OAB_OK)
        st = oab_jsonl_read_path(argv[1], copy_line, &rs, &err);
    if (st == OAB_OK)
        st = oab_jsonl_writer_close(rs.w); /* renamed into place only now */
    if (st == OAB_OK)
        printf("%zu lines to retry in %s\n", rs.n, argv[4]);
    else
        fprintf(stderr, "error: %s\n", oab_strerror(st));
    oab_jsonl_writer_free(rs.w);
    free(rs.lines);
    return st == OAB_OK ? 0 : 1;
}
