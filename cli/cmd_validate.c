/* cmd_validate.c - `oaibatch validate FILE`. */
#include "oaibatch.h"
#include <cjson/cJSON.h>
#include "commands.h"
#include "output.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cJSON *validation_json(const char *path, const oab_validation *v)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "file", path);
    cJSON_AddBoolToObject(o, "valid", v->n_problems_total == 0);
    cJSON_AddNumberToObject(o, "lines", (double)v->n_lines);
    cJSON_AddNumberToObject(o, "bytes", (double)v->n_bytes);
    out_json_add_str(o, "url", v->url);
    out_json_add_str(o, "model", v->model);
    cJSON_AddBoolToObject(o, "over_batch_limits",
                          v->n_lines > OAB_MAX_LINES ||
                              v->n_bytes > OAB_MAX_FILE_BYTES);
    cJSON *ps = cJSON_AddArrayToObject(o, "problems");
    for (size_t i = 0; i < v->n_problems; i++) {
        const oab_problem *p = &v->problems[i];
        cJSON *po = cJSON_CreateObject();
        cJSON_AddNumberToObject(po, "line", (double)p->line);
        cJSON_AddStringToObject(po, "code", p->code ? p->code : "");
        cJSON_AddStringToObject(po, "message", p->message ? p->message : "");
        out_json_add_str(po, "param", p->param);
        cJSON_AddItemToArray(ps, po);
    }
    cJSON_AddNumberToObject(o, "problems_total", (double)v->n_problems_total);
    return o;
}

enum { O_MAX = 1 };

static int validate_opt(const char *cmd, int id, const char *arg, void *st)
{
    long *max_problems = st;
    if (id != O_MAX)
        return 0;
    if (cli_parse_long(cmd, "max-problems", arg, max_problems) != 0)
        return -1;
    if (*max_problems < 1) {
        cli_usage_error(cmd, "--max-problems must be at least 1");
        return -1;
    }
    return 1;
}

static void print_validation(cli_ctx *ctx, const char *path,
                             const oab_validation *v)
{
    int c = ctx->color;
    int bad = v->n_problems_total > 0;
    for (size_t i = 0; i < v->n_problems; i++) {
        const oab_problem *p = &v->problems[i];
        /* a problem of the whole file (line 0) names no line */
        if (p->line > 0)
            printf("%s:%ld: ", path, p->line);
        else
            printf("%s: ", path);
        printf("%s%s%s: %s", out_c(c, OUT_RED),
               p->code ? p->code : "problem", out_c(c, OUT_RESET),
               p->message ? p->message : "");
        if (p->param)
            printf(" [%s]", p->param);
        putchar('\n');
    }
    if (bad) {
        printf("%s: %s%zu problem%s%s in %zu line%s", path,
               out_c(c, OUT_RED), v->n_problems_total,
               v->n_problems_total == 1 ? "" : "s", out_c(c, OUT_RESET),
               v->n_lines, v->n_lines == 1 ? "" : "s");
        if (v->n_problems < v->n_problems_total)
            printf(" (%zu not shown)", v->n_problems_total - v->n_problems);
        putchar('\n');
    } else {
        printf("%s: %svalid%s: %zu request%s, %s, model %s, %llu bytes\n",
               path, out_c(c, OUT_GREEN), out_c(c, OUT_RESET), v->n_lines,
               v->n_lines == 1 ? "" : "s", v->url ? v->url : "(no url)",
               v->model ? v->model : "(none)", v->n_bytes);
    }
    if (v->n_lines > OAB_MAX_LINES || v->n_bytes > OAB_MAX_FILE_BYTES)
        printf("%s: note: over one batch's limits (%d lines, 200 MB); "
               "submit splits it into parts\n",
               path, OAB_MAX_LINES);
}

/* 1 when the file can be opened and starts with a UTF-8 byte order
 * mark. */
static int starts_with_bom(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    unsigned char head[3];
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    return n == 3 && head[0] == 0xEF && head[1] == 0xBB && head[2] == 0xBF;
}

static int validate(cli_ctx *ctx, const char *path, const char *name,
                    long max_problems)
{
    /* with --json a BOM is a problem of the report (the library's "bom"
       on line 1), not only a message: the report is printed either way */
    if (!(ctx->json && starts_with_bom(path))) {
        int rc = cli_check_input(ctx, path);
        if (rc != CLI_EXIT_OK)
            return rc;
    }
    oab_validate_options vo;
    cli_validate_options(&vo, (size_t)max_problems);
    oab_validation *v = NULL;
    oab_status st = oab_validate_path(&v, path, &vo);
    if (st != OAB_OK && st != OAB_EVALIDATION) {
        cli_error(ctx, "cannot read %s: %s", name, oab_strerror(st));
        oab_validation_free(v);
        return cli_exit_for(st) == CLI_EXIT_API ? CLI_EXIT_LOCAL
                                                : cli_exit_for(st);
    }
    if (!v) {
        cli_error(ctx, "%s: no validation report", name);
        return CLI_EXIT_LOCAL;
    }
    int bad = v->n_problems_total > 0;
    if (ctx->json) {
        cJSON *o = validation_json(name, v);
        out_json(stdout, o, 1);
        cJSON_Delete(o);
    } else {
        print_validation(ctx, name, v);
    }
    oab_validation_free(v);
    return bad ? CLI_EXIT_INVALID : CLI_EXIT_OK;
}

const cli_opt cli_opts_validate[] = { { "max-problems", 0, 1, O_MAX },
                                { NULL, 0, 0, 0 } };

int cmd_validate(cli_ctx *ctx, int argc, char **argv)
{
    static const cli_parse_spec spec = {
        "validate", cli_opts_validate, validate_opt,
        "FILE", 0
    };
    long max_problems = 10000;
    const char *path = NULL;
    char *copy = NULL;
    int rc = cli_parse_args(ctx, &spec, argc, argv, &max_problems, &path);
    const char *name = path;
    if (rc < 0 && strcmp(path, "-") == 0)
        rc = cli_spool_stdin(ctx, &copy, &path);
    if (rc < 0)
        rc = validate(ctx, path, name, max_problems);
    if (copy)
        remove(copy);
    free(copy);
    return rc;
}
