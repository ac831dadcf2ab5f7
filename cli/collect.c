/* collect.c - the results of a target as rows: decoded from each
 * finished batch, merged across parts and retries, sorted, written. */
#include "oaibatch.h"
#include <cjson/cJSON.h>
#include "util/buf.h"
#include "util/json.h"
#include "util/str.h"
#include "collect.h"
#include "linemap.h"
#include "estimate.h"
#include "output.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- results ---- */

void cli_rows_free(cli_rows *rows)
{
    oab__buf_free(&rows->scratch);
    for (size_t i = 0; i < rows->n; i++)
        free(rows->v[i].custom_id);
    free(rows->v);
    if (rows->spool)
        fclose(rows->spool);
    memset(rows, 0, sizeof *rows);
}

static const char *tmp_base(void)
{
    const char *base = getenv("TMPDIR");
    return base && *base ? base : "/tmp";
}

int cli_rows_keep_text(cli_ctx *ctx, cli_rows *rows)
{
    if (rows->spool)
        return CLI_EXIT_OK;
    char *path = oab__sprintf("%s/oab_rows_XXXXXX", tmp_base());
    int fd = path ? mkstemp(path) : -1;
    int err = errno;
    if (fd >= 0)
        unlink(path); /* nothing left behind, even after kill -9 */
    free(path);
    rows->spool = fd >= 0 ? fdopen(fd, "w+b") : NULL;
    if (!rows->spool) {
        if (fd >= 0) {
            err = errno;
            close(fd);
        }
        cli_error(ctx, "cannot create a temporary file in %s for the "
                  "results: %s", tmp_base(), strerror(err));
        return CLI_EXIT_LOCAL;
    }
    rows->spool_len = 0;
    return CLI_EXIT_OK;
}

int cli_rows_put_text(cli_rows *rows, const char *text, size_t len,
                      cli_row *row)
{
    if (rows->spool_err)
        return -1;
    if (fwrite(text, 1, len, rows->spool) != len) {
        rows->spool_err = errno ? errno : EIO;
        return -1;
    }
    row->off = rows->spool_len;
    row->len = len;
    rows->spool_len += (off_t)len;
    return 0;
}

const char *cli_rows_text(cli_rows *rows, const cli_row *row)
{
    if (rows->spool_err)
        return NULL;
    if (!rows->spool || !row->len) {
        rows->spool_err = EINVAL; /* a caller that kept no text */
        rows->spool_reading = 1;
        return NULL;
    }
    /* what is still buffered goes to the file first; pread leaves the
       file's offset (the end, where the next text goes) as it is */
    if (fflush(rows->spool) != 0) {
        rows->spool_err = errno ? errno : EIO;
        return NULL;
    }
    oab__buf *b = &rows->scratch;
    oab__buf_clear(b);
    if (oab__buf_reserve(b, row->len) != OAB_OK)
        return NULL;
    int fd = fileno(rows->spool);
    size_t got = 0;
    while (got < row->len) {
        ssize_t n = pread(fd, b->data + got, row->len - got,
                          row->off + (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rows->spool_err = n < 0 ? errno : EIO; /* 0: cut short */
            rows->spool_reading = 1;
            return NULL;
        }
        got += (size_t)n;
    }
    b->len = got;
    b->data[got] = '\0';
    return b->data;
}

int cli_rows_fail(cli_ctx *ctx, const cli_rows *rows)
{
    if (!rows->spool_err)
        cli_error(ctx, "out of memory");
    else if (rows->spool_reading)
        cli_error(ctx, "cannot read back the temporary file of the "
                  "results: %s", strerror(rows->spool_err));
    else
        cli_error(ctx, "cannot write the temporary file of the results in "
                  "%s: %s (it holds the result lines while they are merged "
                  "or sorted; TMPDIR can name a folder with more room)",
                  tmp_base(), strerror(rows->spool_err));
    return CLI_EXIT_LOCAL;
}

/* ---- a row as JSONL text, written straight (no cJSON tree) ---- */

/* The row being written; `bad` once an append ran out of memory. */
typedef struct rowbuf {
    oab__buf *b;
    int bad;
} rowbuf;

#define PUT(w, call)                   \
    do {                               \
        if ((call) != OAB_OK)          \
            (w)->bad = 1;              \
    } while (0)

/* "key": after a comma unless the object was just opened. The keys are
 * the row's own names (docs/cli.md), which need no escapes: written as
 * they are, in one append. */
static void put_key(rowbuf *w, const char *key)
{
    oab__buf *b = w->b;
    size_t n = strlen(key);
    if (oab__buf_reserve(b, n + 4) != OAB_OK) {
        w->bad = 1;
        return;
    }
    char *p = b->data + b->len;
    if (b->len && b->data[b->len - 1] != '{')
        *p++ = ',';
    *p++ = '"';
    memcpy(p, key, n);
    p += n;
    *p++ = '"';
    *p++ = ':';
    *p = '\0';
    b->len = (size_t)(p - b->data);
}

static void put_raw(rowbuf *w, const char *s)
{
    PUT(w, oab__buf_puts(w->b, s));
}

static void put_str(rowbuf *w, const char *key, const char *v)
{
    put_key(w, key);
    if (v)
        PUT(w, oab__buf_json_string(w->b, v, strlen(v)));
    else
        put_raw(w, "null");
}

/* JSON text as its value (compact), else as a string; NULL: null. */
static void put_json(rowbuf *w, const char *key, const char *text)
{
    put_key(w, key);
    if (!text)
        put_raw(w, "null");
    else if (oab__json_append_compact(w->b, text, strlen(text), NULL) !=
             OAB_OK)
        PUT(w, oab__buf_json_string(w->b, text, strlen(text)));
}

static void put_int(rowbuf *w, const char *key, long long v, int null0)
{
    put_key(w, key);
    if (null0 && !v)
        put_raw(w, "null");
    else {
        /* the digits by hand: printf was a tenth of writing a row */
        char num[OAB__LL_DIGITS];
        const char *p = oab__ll_digits(num, v);
        PUT(w, oab__buf_append(w->b, p, (size_t)(num + sizeof num - p)));
    }
}

/* A number as cJSON prints it: 15 digits when they round-trip, else
 * 17; null for NaN and infinities. */
static void put_double(rowbuf *w, double d)
{
    if (isnan(d) || isinf(d)) {
        put_raw(w, "null");
        return;
    }
    char num[32];
    snprintf(num, sizeof num, "%1.15g", d);
    if (strtod(num, NULL) != d)
        snprintf(num, sizeof num, "%1.17g", d);
    put_raw(w, num);
}

static void put_vector(rowbuf *w, const double *v, size_t n)
{
    put_raw(w, "[");
    for (size_t d = 0; d < n; d++) {
        if (d)
            put_raw(w, ",");
        put_double(w, v[d]);
    }
    put_raw(w, "]");
}

static void put_tool_calls(rowbuf *w, const oab_result *r)
{
    put_key(w, "tool_calls");
    put_raw(w, "[");
    for (size_t i = 0; i < r->n_tool_calls; i++) {
        const oab_tool_call *tc = &r->tool_calls[i];
        put_raw(w, i ? ",{" : "{");
        put_str(w, "id", tc->id);
        put_str(w, "name", tc->name);
        if (tc->arguments_valid)
            put_json(w, "arguments", tc->arguments);
        else
            put_str(w, "arguments", tc->arguments ? tc->arguments : "");
        put_raw(w, "}");
    }
    put_raw(w, "]");
}

static void put_embeddings(rowbuf *w, const oab_result *r)
{
    if (r->n_embeddings == 1) {
        put_key(w, "embedding");
        put_vector(w, r->embeddings, r->dimensions);
        return;
    }
    put_key(w, "embeddings");
    put_raw(w, "[");
    for (size_t e = 0; e < r->n_embeddings; e++) {
        if (e)
            put_raw(w, ",");
        put_vector(w, r->embeddings + e * r->dimensions, r->dimensions);
    }
    put_raw(w, "]");
}

/* The row of a result: the fields of docs/cli.md, in their order. */
static int row_text(oab__buf *b, const oab_result *r, long input_line,
                    const char *batch_id, int raw)
{
    oab__buf_clear(b);
    rowbuf rw = { b, 0 }, *w = &rw;
    put_raw(w, "{");
    put_str(w, "custom_id", r->custom_id);
    put_str(w, "status", oab_result_status_str(r->status));
    put_int(w, "input_line", input_line > 0 ? input_line : 0, 1);
    put_int(w, "status_code", r->status_code, 1);
    put_str(w, "output", r->output);
    if (r->output_mode != OAB_OUTPUT_NONE) {
        put_json(w, "parsed", r->parsed_json);
        put_str(w, "invalid_reason", r->invalid_reason);
    }
    if (r->refusal)
        put_str(w, "refusal", r->refusal);
    put_str(w, "finish_reason", r->finish_reason);
    if (r->n_tool_calls)
        put_tool_calls(w, r);
    if (r->error_code || r->error_message) {
        put_key(w, "error");
        put_raw(w, "{");
        put_str(w, "code", r->error_code);
        put_str(w, "message", r->error_message);
        put_raw(w, "}");
    } else {
        put_json(w, "error", NULL);
    }
    if (r->has_usage) {
        put_key(w, "usage");
        put_raw(w, "{");
        put_int(w, "prompt_tokens", r->usage.prompt_tokens, 0);
        put_int(w, "completion_tokens", r->usage.completion_tokens, 0);
        put_int(w, "total_tokens", r->usage.total_tokens, 0);
        put_raw(w, "}");
    } else {
        put_json(w, "usage", NULL);
    }
    if (r->n_embeddings)
        put_embeddings(w, r);
    if (r->duplicate) {
        put_key(w, "duplicate");
        put_raw(w, "true");
    }
    put_str(w, "batch_id", batch_id);
    put_str(w, "request_id", r->request_id);
    if (raw)
        put_json(w, "body", r->body_json);
    put_raw(w, "}");
    return w->bad ? -1 : 0;
}



int cli_rows_add(cli_rows *rows, const oab_result *r, long input_line,
                 const char *batch_id, int raw)
{
    if (!rows->stream && rows->n == rows->cap) {
        size_t nc = rows->cap ? rows->cap * 2 : 64;
        cli_row *nv = realloc(rows->v, nc * sizeof *nv);
        if (!nv)
            return -1;
        rows->v = nv;
        rows->cap = nc;
    }
    /* rows that keep the state only make no text: nothing reads it */
    oab__buf *b = &rows->scratch;
    if ((rows->stream || rows->spool) &&
        row_text(b, r, input_line, batch_id, raw) != 0)
        return -1;
    if (r->has_usage) {
        rows->paid.prompt_tokens += r->usage.prompt_tokens;
        rows->paid.cached_tokens += r->usage.cached_tokens;
        rows->paid.completion_tokens += r->usage.completion_tokens;
        rows->n_paid++;
    }
    if (rows->stream) {
        cli_sink_text(rows->stream, b->data, b->len, r->status, 0,
                      r->duplicate);
        return cli_sink_stopped(rows->stream) ? -1 : 0;
    }
    cli_row *row = &rows->v[rows->n];
    memset(row, 0, sizeof *row);
    if (rows->spool && cli_rows_put_text(rows, b->data, b->len, row) != 0)
        return -1;
    row->custom_id = oab__strdup(r->custom_id ? r->custom_id : "");
    if (!row->custom_id)
        return -1;
    rows->n++;
    row->input_line = input_line;
    row->seq = rows->seq++;
    row->status = r->status;
    row->truncated = r->finish_reason && !strcmp(r->finish_reason, "length");
    row->duplicate = r->duplicate;
    return 0;
}

static int cmp_cid_seq(const void *a, const void *b)
{
    const cli_row *x = a, *y = b;
    int c = strcmp(x->custom_id, y->custom_id);
    if (c)
        return c;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void cli_rows_merge(cli_rows *rows)
{
    if (rows->n < 2)
        return;
    qsort(rows->v, rows->n, sizeof *rows->v, cmp_cid_seq);
    size_t k = 0;
    for (size_t i = 0; i < rows->n; i++) {
        int last = i + 1 == rows->n ||
                   strcmp(rows->v[i].custom_id, rows->v[i + 1].custom_id) != 0;
        /* a custom_id of "" (malformed lines) is never merged */
        if (!last && rows->v[i].custom_id[0]) {
            /* a retried line keeps its place in the input */
            if (rows->v[i + 1].input_line == 0 && rows->v[i].input_line) {
                rows->v[i + 1].input_line = rows->v[i].input_line;
                rows->v[i + 1].line_patched = 1;
            }
            free(rows->v[i].custom_id); /* its text stays in the spool */
            continue;
        }
        rows->v[k++] = rows->v[i];
    }
    rows->n = k;
}

static int cmp_input(const void *a, const void *b)
{
    const cli_row *x = a, *y = b;
    long lx = x->input_line > 0 ? x->input_line : 0x7fffffffL;
    long ly = y->input_line > 0 ? y->input_line : 0x7fffffffL;
    if (lx != ly)
        return lx < ly ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int cmp_seq(const void *a, const void *b)
{
    const cli_row *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void cli_rows_sort(cli_rows *rows, int input_order)
{
    if (rows->n > 1)
        qsort(rows->v, rows->n, sizeof *rows->v,
              input_order ? cmp_input : cmp_seq);
}

typedef struct collect_ctx {
    cli_rows *rows;
    const long *map;   /* part line -> input line */
    size_t n_map;
    const char *batch_id;
    int raw;
    int failed;
} collect_ctx;

static int collect_one(const oab_result *r, void *ud)
{
    collect_ctx *cc = ud;
    long line = r->input_line;
    if (cc->map) {
        line = line > 0 && (size_t)line <= cc->n_map ? cc->map[line - 1] : 0;
    }
    if (cli_rows_add(cc->rows, r, line, cc->batch_id, cc->raw) != 0) {
        cc->failed = 1;
        return 1;
    }
    return 0;
}

/* 1 when a unit's lines are missing from the results: its batch has not
 * ended, and it is not a retry (a retry's lines have their earlier
 * answers meanwhile). */
static int unit_missing(const cli_unit *u)
{
    return !cli_unit_terminal(u) &&
           !(u->part && journal_part_is_retry(u->part));
}

int cli_target_collect(cli_ctx *ctx, cli_target *t, const char *extra_input,
                       int raw, cli_rows *rows)
{
    /* a batch seen ended has its files: only the others are asked again */
    int rc = cli_target_fetch(ctx, t, 1);
    if (rc != CLI_EXIT_OK)
        return rc;
    oab_client *c = cli_client(ctx);
    for (size_t i = 0; i < t->n_units; i++) {
        cli_unit *u = &t->units[i];
        if (unit_missing(u))
            rows->incomplete = 1;
        if (!u->batch) {
            cli_warn(ctx, "part %d has no batch yet; its lines are not in "
                     "the results", u->part ? u->part->idx : 0);
            continue;
        }
        if (!oab_batch_status_is_terminal(u->batch->status)) {
            cli_warn(ctx, "batch %s is %s; its lines are not in the results "
                     "yet (oaibatch wait %s)", u->batch_id,
                     cli_unit_status(u), cli_target_label(t));
            continue;
        }
        oab_results_options ro = OAB_RESULTS_OPTIONS_INIT;
        size_t n_map = 0;
        long *map = NULL;
        char *tmp = NULL;
        if (u->part) {
            rc = cli_part_file(ctx, t->job, u->part, &ro.input_path, &tmp);
            if (rc != CLI_EXIT_OK)
                return rc;
            if (ro.input_path)
                map = journal_ranges_decode(u->part->input_lines, &n_map);
        } else if (extra_input) {
            ro.input_path = extra_input;
        }
        collect_ctx cc = { rows, map, n_map, u->batch_id, raw, 0 };
        oab_summary sum;
        oab_status st = oab_batch_results_stream(c, u->batch, &ro, collect_one,
                                                 &cc, &sum);
        free(map);
        if (tmp)
            remove(tmp);
        free(tmp);
        if (rows->stream && cli_sink_stopped(rows->stream))
            return cli_sink_stop_code(ctx, rows->stream);
        if (cc.failed)
            return cli_rows_fail(ctx, rows);
        if (st != OAB_OK)
            return cli_api_errorf(ctx, st, "cannot read the results of %s",
                                  u->batch_id);
    }
    cli_rows_merge(rows);
    return CLI_EXIT_OK;
}

/* One collected row to the sink, its text read back from the spool. 0,
 * or -1 when it cannot be read (cli_rows_fail says why). */
static int sink_row(cli_sink *k, cli_rows *rows, const cli_row *r)
{
    const char *text = cli_rows_text(rows, r);
    if (!text)
        return -1;
    cli_sink_text(k, text, r->len, r->status,
                  r->line_patched ? r->input_line : 0, r->duplicate);
    return 0;
}

int cli_results_write(cli_ctx *ctx, cli_rows *rows, const cli_results_opts *o)
{
    cli_rows_sort(rows, o->input_order);
    cli_sink k;
    int rc = cli_sink_open(ctx, &k, o);
    if (rc != CLI_EXIT_OK)
        return rc;
    for (size_t i = 0; i < rows->n; i++) {
        if (sink_row(&k, rows, &rows->v[i]) != 0) {
            cli_sink_abort(&k);
            return cli_rows_fail(ctx, rows);
        }
    }
    return cli_sink_close(ctx, &k, rows->incomplete);
}

/* 1 when every unit is a part of the split (no retries, no lone batch)
 * and each part's input lines all come after the previous part's: the
 * job's input order is then each part's rows sorted, part after part. */
static int parts_in_order(const cli_target *t)
{
    long last = 0;
    for (size_t i = 0; i < t->n_units; i++) {
        const journal_part *p = t->units[i].part;
        if (!p || !p->kind || strcmp(p->kind, "part") != 0)
            return 0;
        size_t n = 0;
        long *map = journal_ranges_decode(p->input_lines, &n);
        int ok = map && n && map[0] > last;
        for (size_t k = 1; ok && k < n; k++)
            ok = map[k] > map[k - 1];
        if (ok)
            last = map[n - 1];
        free(map);
        if (!ok)
            return 0;
    }
    return 1;
}

/* --in-input-order for a job whose parts hold ascending input ranges:
 * one part's rows at a time are collected, sorted and written, so that
 * memory holds one part (50,000 lines at most), not the job. */
static int write_part_by_part(cli_ctx *ctx, cli_target *t,
                              const cli_results_opts *o, cli_rows *paid)
{
    cli_sink k;
    int rc = cli_sink_open(ctx, &k, o);
    if (rc != CLI_EXIT_OK)
        return rc;
    int incomplete = 0;
    for (size_t i = 0; i < t->n_units && rc == CLI_EXIT_OK; i++) {
        cli_target one = *t;
        one.units = &t->units[i];
        one.n_units = 1;
        cli_rows pr;
        memset(&pr, 0, sizeof pr);
        rc = cli_rows_keep_text(ctx, &pr);
        if (rc == CLI_EXIT_OK)
            rc = cli_target_collect(ctx, &one, NULL, o->raw, &pr);
        incomplete |= pr.incomplete;
        paid->paid.prompt_tokens += pr.paid.prompt_tokens;
        paid->paid.cached_tokens += pr.paid.cached_tokens;
        paid->paid.completion_tokens += pr.paid.completion_tokens;
        paid->n_paid += pr.n_paid;
        if (rc == CLI_EXIT_OK) {
            cli_rows_sort(&pr, 1);
            for (size_t r = 0; r < pr.n && !cli_sink_stopped(&k); r++) {
                if (sink_row(&k, &pr, &pr.v[r]) != 0) {
                    rc = cli_rows_fail(ctx, &pr);
                    break;
                }
            }
            if (rc == CLI_EXIT_OK && cli_sink_stopped(&k))
                rc = cli_sink_stop_code(ctx, &k);
        }
        cli_rows_free(&pr);
    }
    if (rc != CLI_EXIT_OK) {
        cli_sink_abort(&k);
        return rc;
    }
    return cli_sink_close(ctx, &k, incomplete);
}

/* Without --partial, a target with a part (not a retry) whose batch has
 * not ended gets no results at all: a file given by -o keeps what it
 * held, and a script cannot take a part of the lines for the whole.
 * Exit code. */
static int refuse_unfinished(cli_ctx *ctx, cli_target *t)
{
    int rc = cli_target_fetch(ctx, t, 1);
    if (rc != CLI_EXIT_OK)
        return rc;
    for (size_t i = 0; i < t->n_units; i++) {
        const cli_unit *u = &t->units[i];
        if (!unit_missing(u))
            continue;
        const char *label = cli_target_label(t);
        if (!u->batch)
            cli_error(ctx, "%s is not finished: part %d has no batch yet "
                      "(run 'oaibatch submit' again to finish it); --partial "
                      "writes the lines that have ended", label,
                      u->part ? u->part->idx : 0);
        else
            cli_error(ctx, "%s is not finished: batch %s is %s ('oaibatch "
                      "wait %s'); --partial writes the lines that have ended",
                      label, u->batch_id, cli_unit_status(u), label);
        return CLI_EXIT_FAILED;
    }
    return CLI_EXIT_OK;
}

int cli_target_write_results(cli_ctx *ctx, cli_target *t,
                             const char *extra_input,
                             const cli_results_opts *o)
{
    cli_rows rows;
    memset(&rows, 0, sizeof rows);
    int rc = o->partial ? CLI_EXIT_OK : refuse_unfinished(ctx, t);
    if (rc != CLI_EXIT_OK)
        return rc;
    if (o->input_order && t->n_units > 1 && parts_in_order(t)) {
        rc = write_part_by_part(ctx, t, o, &rows);
    } else if (!o->input_order && !cli_target_has_retries(t)) {
        /* nothing to merge or sort: write as the lines come */
        cli_sink k;
        rc = cli_sink_open(ctx, &k, o);
        if (rc == CLI_EXIT_OK) {
            rows.stream = &k;
            rc = cli_target_collect(ctx, t, extra_input, o->raw, &rows);
            if (rc == CLI_EXIT_OK)
                rc = cli_sink_close(ctx, &k, rows.incomplete);
            else
                cli_sink_abort(&k);
        }
    } else {
        /* merged and sorted: the rows keep their texts on disk */
        rc = cli_rows_keep_text(ctx, &rows);
        if (rc == CLI_EXIT_OK)
            rc = cli_target_collect(ctx, t, extra_input, o->raw, &rows);
        if (rc == CLI_EXIT_OK)
            rc = cli_results_write(ctx, &rows, o);
    }
    if ((rc == CLI_EXIT_OK || rc == CLI_EXIT_FAILED) && rows.n_paid)
        cli_cost_report(ctx, &rows.paid, t->job ? t->job->model : NULL);
    cli_rows_free(&rows);
    return rc;
}

/* Keeps what was found in the journal, so that `jobs` says what
 * `status` says. */
static void record_settled(cli_ctx *ctx, cli_target *t)
{
    if (!t->job || (t->job->settled != 0) == (t->settled != 0))
        return;
    journal *jr = cli_journal(ctx);
    if (jr && journal_job_set_settled(jr, t->job->id, t->settled) == 0)
        t->job->settled = t->settled;
}

int cli_target_settle(cli_ctx *ctx, cli_target *t)
{
    t->settled = 0;
    if (!t->job || !cli_target_done(t) || cli_target_all_completed(t) ||
        !cli_target_has_retries(t)) {
        if (t->job && cli_target_done(t))
            record_settled(ctx, t);
        return CLI_EXIT_OK;
    }
    cli_rows rows;
    memset(&rows, 0, sizeof rows);
    int rc = cli_target_collect(ctx, t, NULL, 0, &rows);
    if (rc == CLI_EXIT_OK && !rows.incomplete &&
        rows.n >= (size_t)t->job->n_lines) {
        t->settled = 1;
        for (size_t i = 0; i < rows.n; i++) {
            oab_result_status s = rows.v[i].status;
            if (s == OAB_RESULT_EXPIRED || s == OAB_RESULT_CANCELLED ||
                s == OAB_RESULT_MISSING)
                t->settled = 0;
        }
    }
    cli_rows_free(&rows);
    if (rc == CLI_EXIT_OK)
        record_settled(ctx, t);
    return rc;
}

int cli_target_load(cli_ctx *ctx, const char *id, cli_target *t)
{
    int rc = cli_target_resolve(ctx, id, t);
    if (rc == CLI_EXIT_OK)
        rc = cli_target_fetch(ctx, t, 0);
    return rc == CLI_EXIT_OK ? cli_target_settle(ctx, t) : rc;
}
