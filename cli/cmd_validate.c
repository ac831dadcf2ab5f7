/* cmd_validate.c - `oaibatch validate FILE`. */
#include "oaibatch.h"
#include <cjson/cJSON.h>
#include "commands.h"
#include "output.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

static cJSON *validation_json(const char *path, const oab_validation *v)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "file", path);
    cJSON_AddBoolToObject(o, "valid", v->n_problems_total == 0);
    cJSON_AddNumberToObject(o, "lines", (double)v->n_lines);
    cJSON_AddNumberToObject(o, "bytes", (double)v->n_bytes);
    if (v->url)
        cJSON_AddStringToObject(o, "url", v->url);
    else
        cJSON_AddNullToObject(o, "url");
    if (v->model)
        cJSON_AddStringToObject(o, "model", v->model);
    else
        cJSON_AddNullToObject(o, "model");
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
        if (p->param)
            cJSON_AddStringToObject(po, "param", p->param);
        else
            cJSON_AddNullToObject(po, "param");
        cJSON_AddItemToArray(ps, po);
    }
    cJSON_AddNumberToObject(o, "problems_total", (double)v->n_problems_total);
    return o;
}

int cmd_validate(cli_ctx *ctx, int argc, char **argv)
{
    enum { O_MAX = 1 };
    static const cli_opt opts[] = { { "max-problems", 0, 1, O_MAX },
                                    { NULL, 0, 0, 0 } };
    cli_args a = { argc, argv, 1, 0, "validate" };
    const char *arg, *path = NULL;
    long max_problems = 10000;
    int id;
    while ((id = cli_next(&a, opts, &arg)) != CLI_PARSE_END) {
        if (id == CLI_PARSE_ERROR)
            return CLI_EXIT_USAGE;
        if (id == CLI_PARSE_POSITIONAL) {
            if (path)
                return cli_usage_error("validate", "one FILE only");
            path = arg;
        } else if (id == O_MAX) {
            if (cli_parse_long("validate", "max-problems", arg,
                               &max_problems) != 0)
                return CLI_EXIT_USAGE;
            if (max_problems < 1)
                return cli_usage_error("validate",
                                       "--max-problems must be at least 1");
        } else {
            int r = cli_common_opt(ctx, "validate", id, arg);
            if (r >= 0)
                return r;
        }
    }
    if (!path)
        return cli_usage_error("validate", "missing FILE");

    oab_validate_options vo;
    cli_validate_options(&vo, (size_t)max_problems);
    oab_validation *v = NULL;
    oab_status st = oab_validate_path(&v, path, &vo);
    if (st != OAB_OK && st != OAB_EVALIDATION) {
        cli_error(ctx, "cannot read %s: %s", path, oab_strerror(st));
        oab_validation_free(v);
        return cli_exit_for(st) == CLI_EXIT_API ? CLI_EXIT_LOCAL
                                                : cli_exit_for(st);
    }
    if (!v) {
        cli_error(ctx, "%s: no validation report", path);
        return CLI_EXIT_LOCAL;
    }
    int bad = v->n_problems_total > 0;
    if (ctx->json) {
        cJSON *o = validation_json(path, v);
        out_json(stdout, o, 1);
        cJSON_Delete(o);
    } else {
        int c = ctx->color;
        for (size_t i = 0; i < v->n_problems; i++) {
            const oab_problem *p = &v->problems[i];
            printf("%s:%ld: %s%s%s: %s", path, p->line, out_c(c, OUT_RED),
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
    oab_validation_free(v);
    return bad ? CLI_EXIT_INVALID : CLI_EXIT_OK;
}
