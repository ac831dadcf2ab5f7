/* reuse.c - reusing paid answers (`run --reuse-answers`). */
#include "oaibatch.h"
#include <cjson/cJSON.h>
#include "util/buf.h"
#include "util/json.h"
#include "util/sha256.h"
#include "util/str.h"
#include "cmd_tokens.h"
#include "journal.h"
#include "reuse.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void hex(const unsigned char h[32], char out[65])
{
    static const char d[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = d[h[i] >> 4];
        out[2 * i + 1] = d[h[i] & 15];
    }
    out[64] = '\0';
}

/* The hash of a line's request without its custom_id, canonical. 0, or
 * -1 for a line that is not a JSON object (validation reports it). */
static int line_hash(const char *line, size_t len, unsigned char h[32],
                     char **cid_out)
{
    cJSON *j = oab__json_parse(line, len);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return -1;
    }
    const cJSON *cid = cJSON_GetObjectItemCaseSensitive(j, "custom_id");
    *cid_out = cJSON_IsString(cid) ? oab__strdup(cid->valuestring) : NULL;
    cJSON_DeleteItemFromObjectCaseSensitive(j, "custom_id");
    oab__buf b = { 0 };
    oab_status st = oab__json_append_canonical(&b, j);
    cJSON_Delete(j);
    if (st == OAB_OK) {
        oab__sha256 s;
        oab__sha256_init(&s);
        oab__sha256_update(&s, "oaibatch-answer-v1\n", 19);
        oab__sha256_update(&s, b.data, b.len);
        oab__sha256_final(&s, h);
    }
    oab__buf_free(&b);
    return st == OAB_OK ? 0 : -1;
}

/* The earlier answer as this input's row: custom_id and input_line of
 * this line, "reused_from" saying where it was answered. */
static int add_reused(cli_reuse *r, const journal_answer *a, const char *cid,
                      long lineno)
{
    cJSON *rec = cJSON_Parse(a->record);
    if (!rec)
        return -1;
    const char *batch = oab__json_str(rec, "batch_id");
    cJSON *from = cJSON_CreateObject();
    cJSON_AddStringToObject(from, "job", a->job_id ? a->job_id : "");
    if (batch)
        cJSON_AddStringToObject(from, "batch", batch);
    else
        cJSON_AddNullToObject(from, "batch");
    cJSON_AddNumberToObject(from, "line", (double)a->line);
    cJSON_ReplaceItemInObjectCaseSensitive(rec, "custom_id",
                                           cJSON_CreateString(cid ? cid : ""));
    cJSON_ReplaceItemInObjectCaseSensitive(rec, "input_line",
                                           cJSON_CreateNumber((double)lineno));
    cJSON_AddItemToObject(rec, "reused_from", from);
    char *text = cJSON_PrintUnformatted(rec);
    cJSON_Delete(rec);
    cli_row *g = text ? oab__grow(r->reused, &r->cap_reused, r->n_reused,
                                  sizeof *g, 64)
                      : NULL;
    if (g)
        r->reused = g;
    cli_row *row = g ? &r->reused[r->n_reused] : NULL;
    if (row)
        memset(row, 0, sizeof *row);
    int bad = !row || cli_rows_put_text(r->rows, text, strlen(text), row) != 0;
    free(text);
    if (!bad)
        row->custom_id = oab__strdup(cid ? cid : "");
    if (bad || !row->custom_id)
        return -1;
    r->n_reused++;
    row->input_line = lineno;
    row->line_patched = 1;
    row->status = OAB_RESULT_SUCCEEDED;
    return 0;
}

static int on_line(const char *line, size_t len, long lineno, void *ud)
{
    cli_reuse *r = ud;
    (void)lineno;
    long n = ++r->lineno;
    unsigned char h[32];
    char *cid = NULL;
    journal_answer a;
    int found = 1;
    if (line_hash(line, len, h, &cid) == 0) {
        char hx[65];
        hex(h, hx);
        found = journal_answer_get(cli_journal(r->ctx), hx, &a);
        if (found < 0) {
            free(cid);
            r->failed = 1;
            return 1;
        }
    } else {
        memset(h, 0, sizeof h);
    }
    if (found == 0) {
        int bad = add_reused(r, &a, cid, n);
        journal_answer_clear(&a);
        free(cid);
        r->failed |= bad;
        return bad;
    }
    free(cid);
    if (r->n_send == r->cap_send) {
        size_t nc = r->cap_send ? r->cap_send * 2 : 256;
        long *l = realloc(r->send_line, nc * sizeof *l);
        if (l)
            r->send_line = l;
        unsigned char(*hh)[32] = l ? realloc(r->hash, nc * sizeof *hh) : NULL;
        if (!hh) {
            r->failed = 1;
            return 1;
        }
        r->hash = hh;
        r->cap_send = nc;
    }
    r->send_line[r->n_send] = n;
    memcpy(r->hash[r->n_send], h, 32);
    r->n_send++;
    if (fwrite(line, 1, len, r->out) != len || fputc('\n', r->out) == EOF) {
        r->failed = 1;
        return 1;
    }
    return 0;
}

int cli_reuse_prepare(cli_ctx *ctx, const char *path, const char *name,
                      cli_rows *rows, cli_reuse *r)
{
    memset(r, 0, sizeof *r);
    r->ctx = ctx;
    r->rows = rows;
    journal *jr = cli_journal(ctx);
    if (!jr)
        return CLI_EXIT_LOCAL;
    char *dir = oab__strdup(journal_path(jr));
    char *slash = dir ? strrchr(dir, '/') : NULL;
    if (slash)
        *slash = '\0';
    char *folder = oab__sprintf("%s/reuse", slash ? dir : ".");
    free(dir);
    if (!folder || cli_mkdirs(folder) != 0) {
        cli_error(ctx, "cannot create %s", folder ? folder : "a folder");
        free(folder);
        return CLI_EXIT_LOCAL;
    }
    r->send_path = oab__sprintf("%s/send_%ld.jsonl", folder, (long)getpid());
    free(folder);
    r->out = r->send_path ? fopen(r->send_path, "wb") : NULL;
    if (!r->out) {
        cli_error(ctx, "cannot write %s", r->send_path ? r->send_path : "-");
        return CLI_EXIT_LOCAL;
    }
    oab_error err = { 0, 0, "" };
    oab_status st = cli_read_lines(path, on_line, r, &err);
    int werr = fclose(r->out) != 0;
    r->out = NULL;
    if (r->rows->spool_err)
        return cli_rows_fail(ctx, r->rows);
    if (r->failed || werr || (st != OAB_OK && st != OAB_ESTOPPED)) {
        cli_error(ctx, "cannot read %s for --reuse-answers: %s", name,
                  err.message[0] ? err.message
                  : r->failed   ? "the journal or a write failed"
                                : oab_strerror(st));
        return CLI_EXIT_LOCAL;
    }
    cli_info(ctx, "--reuse-answers: %zu line%s answered before, %zu to send",
             r->n_reused, r->n_reused == 1 ? "" : "s", r->n_send);
    return CLI_EXIT_OK;
}

int cli_reuse_finish(cli_ctx *ctx, cli_reuse *r, const char *job_id,
                     cli_rows *rows)
{
    journal *jr = cli_journal(ctx);
    if (!jr)
        return CLI_EXIT_LOCAL;
    int bad = job_id && journal_answers_begin(jr) != 0;
    int lost = 0; /* a text could not be read back */
    for (size_t i = 0; !bad && !lost && job_id && i < rows->n; i++) {
        cli_row *row = &rows->v[i];
        long k = row->input_line;
        if (k < 1 || (size_t)k > r->n_send)
            continue;
        if (row->status == OAB_RESULT_SUCCEEDED && !row->truncated) {
            char hx[65];
            hex(r->hash[k - 1], hx);
            const char *text = cli_rows_text(rows, row);
            if (!text) {
                lost = 1; /* the answers indexed so far are kept */
                break;
            }
            bad = journal_answer_put(jr, hx, job_id, NULL, r->send_line[k - 1],
                                     text) != 0;
        }
        row->input_line = r->send_line[k - 1];
        row->line_patched = 1;
    }
    if (job_id && !bad)
        bad = journal_answers_commit(jr) != 0;
    if (bad) {
        cli_error(ctx, "journal: %s (indexing answers)", journal_errmsg(jr));
        return CLI_EXIT_LOCAL;
    }
    if (lost)
        return cli_rows_fail(ctx, rows);
    for (size_t i = 0; i < r->n_reused; i++) {
        cli_row *g = oab__grow(rows->v, &rows->cap, rows->n, sizeof *g, 64);
        if (!g) {
            cli_error(ctx, "out of memory");
            return CLI_EXIT_LOCAL;
        }
        rows->v = g;
        rows->v[rows->n] = r->reused[i];
        rows->v[rows->n++].seq = rows->seq++;
    }
    r->n_reused = 0; /* the rows own them now */
    return CLI_EXIT_OK;
}

void cli_reuse_free(cli_reuse *r)
{
    if (r->out)
        fclose(r->out);
    if (r->send_path)
        remove(r->send_path);
    free(r->send_path);
    free(r->send_line);
    free(r->hash);
    for (size_t i = 0; i < r->n_reused; i++)
        free(r->reused[i].custom_id);
    free(r->reused);
    memset(r, 0, sizeof *r);
}
