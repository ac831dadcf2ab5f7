/* sink.c - the results sink: rows written as jsonl, csv or a table to
 * stdout or a file, counted by status, and the summary line. */
#include "oaibatch.h"
#include <cjson/cJSON.h>
#include "util/buf.h"
#include "util/str.h"
#include "output.h"
#include "sink.h"

#include <errno.h>

#include <stdlib.h>
#include <string.h>


static int format_check(const char *cmd, const char *format)
{
    if (strcmp(format, "jsonl") && strcmp(format, "csv") &&
        strcmp(format, "table")) {
        cli_usage_error(cmd, "--format takes jsonl, csv or table");
        return -1;
    }
    return 0;
}

static int only_parse(const char *cmd, const char *text, unsigned *mask)
{
    *mask = 0;
    char *copy = oab__strdup(text);
    if (!copy)
        return -1;
    char *save = NULL;
    for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        oab_result_status s;
        if (strcmp(w, "failed") == 0) {
            *mask |= ~(1u << OAB_RESULT_SUCCEEDED) &
                     ((1u << OAB_RESULT_STATUS_COUNT) - 1);
        } else if (oab_result_status_from_str(&s, w) == OAB_OK) {
            *mask |= 1u << s;
        } else {
            cli_usage_error(cmd, "--only: unknown status '%s'", w);
            free(copy);
            return -1;
        }
    }
    free(copy);
    return 0;
}

int cli_results_opt(const char *cmd, int id, const char *arg,
                    cli_results_opts *o)
{
    switch (id) {
    case CLI_OPT_OUTPUT:
        o->out_path = arg;
        return 1;
    case CLI_OPT_FORMAT:
        if (format_check(cmd, arg) != 0)
            return -1;
        o->format = arg;
        return 1;
    case CLI_OPT_ONLY:
        return only_parse(cmd, arg, &o->only_mask) != 0 ? -1 : 1;
    case CLI_OPT_INPUT_ORDER:
        o->input_order = 1;
        return 1;
    case CLI_OPT_RAW:
        o->raw = 1;
        return 1;
    default:
        return 0;
    }
}

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void csv_num(FILE *f, const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (cJSON_IsNumber(v))
        fprintf(f, "%.0f", v->valuedouble);
}

static char *compact(const cJSON *v)
{
    if (!v || cJSON_IsNull(v))
        return NULL;
    return cJSON_PrintUnformatted(v);
}

static const char csv_header[] =
    "custom_id,input_line,status,status_code,output,parsed,error_code,"
    "error_message,finish_reason,prompt_tokens,completion_tokens,"
    "total_tokens,batch_id\n";

static void csv_row(FILE *f, const cJSON *o)
{
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(o, "error");
    const cJSON *use = cJSON_GetObjectItemCaseSensitive(o, "usage");
    char *parsed = compact(cJSON_GetObjectItemCaseSensitive(o, "parsed"));
    out_csv_field(f, jstr(o, "custom_id"));
    fputc(',', f);
    csv_num(f, o, "input_line");
    fputc(',', f);
    out_csv_field(f, jstr(o, "status"));
    fputc(',', f);
    csv_num(f, o, "status_code");
    fputc(',', f);
    out_csv_field(f, jstr(o, "output"));
    fputc(',', f);
    out_csv_field(f, parsed);
    fputc(',', f);
    out_csv_field(f, jstr(err, "code"));
    fputc(',', f);
    out_csv_field(f, jstr(err, "message"));
    fputc(',', f);
    out_csv_field(f, jstr(o, "finish_reason"));
    fputc(',', f);
    csv_num(f, use, "prompt_tokens");
    fputc(',', f);
    csv_num(f, use, "completion_tokens");
    fputc(',', f);
    csv_num(f, use, "total_tokens");
    fputc(',', f);
    out_csv_field(f, jstr(o, "batch_id"));
    fputc('\n', f);
    free(parsed);
}

static void table_row(out_table *t, const cJSON *o)
{
    char line[32] = "-";
    const cJSON *il = cJSON_GetObjectItemCaseSensitive(o, "input_line");
    if (cJSON_IsNumber(il))
        snprintf(line, sizeof line, "%.0f", il->valuedouble);
    char *parsed = compact(cJSON_GetObjectItemCaseSensitive(o, "parsed"));
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(o, "error");
    const char *answer = parsed ? parsed : jstr(o, "output");
    if (!answer)
        answer = jstr(o, "invalid_reason");
    if (!answer)
        answer = jstr(err, "message");
    const char *cells[4] = { jstr(o, "custom_id"), line, jstr(o, "status"),
                             answer ? answer : "" };
    out_table_add(t, cells);
    free(parsed);
}

int cli_sink_open(cli_ctx *ctx, cli_sink *k, const cli_results_opts *o)
{
    memset(k, 0, sizeof *k);
    k->o = o;
    k->f = stdout;
    if (o->out_path && strcmp(o->out_path, "-") != 0) {
        int rc = cli_outfile_open(ctx, &k->out, o->out_path);
        if (rc != CLI_EXIT_OK)
            return rc;
        k->f = k->out.f;
    }
    /* Ctrl-C, a closed pipe: stop writing and clean up, not die */
    cli_install_signals();
    k->color = k->f == stdout && ctx->color;
    if (!strcmp(o->format, "csv")) {
        fputs(csv_header, k->f);
    } else if (!strcmp(o->format, "table")) {
        static const char *const hdr[] = { "CUSTOM_ID", "LINE", "STATUS",
                                           "ANSWER" };
        k->table = out_table_new(4, hdr);
    }
    return CLI_EXIT_OK;
}

void cli_sink_row(cli_sink *k, const cJSON *obj, oab_result_status st)
{
    k->n++;
    k->by[st]++;
    k->dups += cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(obj,
                                                             "duplicate"));
    if (k->o->only_mask && !(k->o->only_mask & (1u << st)))
        return;
    k->shown++;
    if (k->table)
        table_row(k->table, obj);
    else if (!strcmp(k->o->format, "csv"))
        csv_row(k->f, obj);
    else
        out_json(k->f, obj, 0);
    if (ferror(k->f) && !k->werr)
        k->werr = errno ? errno : EIO;
}

void cli_sink_text(cli_sink *k, const char *text, size_t len,
                   oab_result_status st, long input_line, int duplicate)
{
    if (!k->table && strcmp(k->o->format, "csv") != 0 && input_line <= 0) {
        /* jsonl as kept: no parse */
        k->n++;
        k->by[st]++;
        k->dups += duplicate != 0;
        if (k->o->only_mask && !(k->o->only_mask & (1u << st)))
            return;
        k->shown++;
        fwrite(text, 1, len, k->f);
        fputc('\n', k->f);
        if (ferror(k->f) && !k->werr)
            k->werr = errno ? errno : EIO;
        return;
    }
    cJSON *o = cJSON_Parse(text);
    if (!o) {
        k->failed = 1; /* out of memory: the caller reports it */
        return;
    }
    if (input_line > 0) {
        /* delete + add: cJSON 1.7's replace leaks the new item when the
         * key is absent and loses the key when out of memory */
        cJSON_DeleteItemFromObjectCaseSensitive(o, "input_line");
        if (!cJSON_AddNumberToObject(o, "input_line", (double)input_line))
            k->failed = 1;
    }
    cli_sink_row(k, o, st);
    cJSON_Delete(o);
}

void cli_sink_abort(cli_sink *k)
{
    if (k->out.f)
        cli_outfile_abort(&k->out);
    out_table_free(k->table);
    memset(k, 0, sizeof *k);
}

int cli_sink_stopped(const cli_sink *k)
{
    return k->failed || k->werr || cli_interrupted;
}

int cli_sink_stop_code(cli_ctx *ctx, const cli_sink *k)
{
    if (k->failed) {
        cli_error(ctx, "out of memory while writing results");
        return CLI_EXIT_LOCAL;
    }
    if (k->werr) {
        if (k->werr != EPIPE) /* else the reader stopped reading */
            cli_error(ctx, "cannot write %s: %s",
                      k->out.path ? k->out.path : "the results",
                      strerror(k->werr));
        return CLI_EXIT_LOCAL;
    }
    cli_info(ctx, "interrupted%s", k->out.path ? "; nothing was written"
                                               : "");
    return CLI_EXIT_INTERRUPTED;
}

int cli_sink_close(cli_ctx *ctx, cli_sink *k, int incomplete)
{
    const cli_results_opts *o = k->o;
    if (k->table)
        out_table_print(k->table, k->f, k->color, 60);
    out_table_free(k->table);
    k->table = NULL;
    if (k->failed) {
        cli_error(ctx, "out of memory while writing results");
        cli_sink_abort(k);
        return CLI_EXIT_LOCAL;
    }
    if (k->out.f) {
        int rc = cli_outfile_close(ctx, &k->out);
        if (rc != CLI_EXIT_OK)
            return rc;
    } else if (fflush(stdout) != 0 || ferror(stdout)) {
        if (errno != EPIPE)
            cli_error(ctx, "cannot write the results: %s", strerror(errno));
        return CLI_EXIT_LOCAL;
    }
    if (!ctx->quiet) {
        oab__buf b = OAB__BUF_INIT;
        oab__buf_printf(&b, "%zu result%s", k->n, k->n == 1 ? "" : "s");
        const char *sep = ": ";
        for (int s = 0; s < OAB_RESULT_STATUS_COUNT; s++) {
            if (!k->by[s])
                continue;
            oab__buf_printf(&b, "%s%zu %s", sep, k->by[s],
                            oab_result_status_str((oab_result_status)s));
            sep = ", ";
        }
        if (k->dups)
            oab__buf_printf(&b, "; %zu duplicate custom_id%s", k->dups,
                            k->dups == 1 ? "" : "s");
        if (o->only_mask)
            oab__buf_printf(&b, " (%zu written)", k->shown);
        if (o->out_path && strcmp(o->out_path, "-") != 0)
            oab__buf_printf(&b, " -> %s", o->out_path);
        cli_info(ctx, "%s", b.data ? b.data : "");
        oab__buf_free(&b);
    }
    if (incomplete)
        return CLI_EXIT_FAILED;
    return k->by[OAB_RESULT_SUCCEEDED] == k->n ? CLI_EXIT_OK : CLI_EXIT_FAILED;
}

