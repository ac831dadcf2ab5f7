/* cmd_files.c - `oaibatch files list|get|download|delete`: the files
 * behind batches (inputs, outputs, error files) on the server. */
#include "oaibatch.h"
#include <cjson/cJSON.h>
#include "util/str.h"
#include "commands.h"
#include "outfile.h"
#include "output.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct files_args {
    const char *out_path;   /* download -o */
    int error_file;         /* download --error: the batch's error file */
    const char *purpose;    /* list --purpose */
    long limit;             /* list --limit (0: the server's default) */
    const char *after;      /* list --after */
    const char *list_opt;   /* the first list option given, for messages */
} files_args;

enum { O_OUT = 1, O_ERROR, O_PURPOSE, O_LIMIT, O_AFTER };

static int files_opt(const char *cmd, int id, const char *arg, void *st)
{
    (void)cmd;
    files_args *fa = st;
    switch (id) {
    case O_OUT: fa->out_path = arg; return 1;
    case O_ERROR: fa->error_file = 1; return 1;
    case O_PURPOSE: fa->purpose = arg; fa->list_opt = "--purpose"; return 1;
    case O_AFTER: fa->after = arg; fa->list_opt = "--after"; return 1;
    case O_LIMIT:
        fa->list_opt = "--limit";
        if (cli_parse_long(cmd, "limit", arg, &fa->limit) != 0)
            return -1;
        if (fa->limit < 1 || fa->limit > 10000) {
            cli_usage_error(cmd, "--limit takes 1 to 10000");
            return -1;
        }
        return 1;
    default: return 0;
    }
}

static int files_list(cli_ctx *ctx, oab_client *c, const files_args *fa)
{
    oab_file_page *l = NULL;
    oab_status st = oab_file_list(c, &l, fa->purpose, (int)fa->limit,
                                  fa->after, NULL);
    if (st != OAB_OK)
        return cli_api_errorf(ctx, st, "cannot list the files");
    if (ctx->json) {
        cJSON *arr = cJSON_CreateArray();
        for (size_t i = 0; i < l->n; i++) {
            cJSON *o = l->files[i]->raw_json ? cJSON_Parse(l->files[i]->raw_json)
                                             : NULL;
            if (o)
                cJSON_AddItemToArray(arr, o);
        }
        out_json(stdout, arr, 1);
        cJSON_Delete(arr);
    } else if (l->n) {
        static const char *const hdr[] = { "FILE", "PURPOSE", "BYTES",
                                           "FILENAME", "CREATED (UTC)" };
        out_table *tb = out_table_new(5, hdr);
        for (size_t i = 0; i < l->n; i++) {
            const oab_file *f = l->files[i];
            char when[32], bytes[32];
            out_time(when, sizeof when, f->created_at);
            snprintf(bytes, sizeof bytes, "%lld", f->bytes);
            const char *row[5] = { f->id, f->purpose ? f->purpose : "-", bytes,
                                   f->filename ? f->filename : "-", when };
            out_table_add(tb, row);
        }
        out_table_print(tb, stdout, ctx->color, 0);
        out_table_free(tb);
    } else {
        cli_info(ctx, "no files");
    }
    if (!ctx->json && l->has_more && l->last_id)
        cli_info(ctx, "more files on the server: --after %s", l->last_id);
    oab_file_page_free(l);
    return CLI_EXIT_OK;
}

/* A failed call on ID said; its exit code, an id the server does not
 * know being an unknown id (5), as for a batch. */
#define FILES_FAIL(ctx, st, ...)                                          \
    ((st) == OAB_ENOTFOUND                                               \
         ? (cli_api_errorf((ctx), (st), __VA_ARGS__), CLI_EXIT_LOCAL)    \
         : cli_api_errorf((ctx), (st), __VA_ARGS__))

static int files_get(cli_ctx *ctx, oab_client *c, const char *id)
{
    oab_file *f = NULL;
    oab_status st = oab_file_retrieve(c, &f, id);
    if (st != OAB_OK) {
        return FILES_FAIL(ctx, st, "cannot get file %s", id);
    }
    if (ctx->json) {
        cJSON *o = f->raw_json ? cJSON_Parse(f->raw_json) : NULL;
        if (o)
            out_json(stdout, o, 1);
        cJSON_Delete(o);
    } else {
        char when[32];
        out_time(when, sizeof when, f->created_at);
        printf("%s  %s  %lld bytes  %s  created %s UTC\n", f->id,
               f->purpose ? f->purpose : "-", f->bytes,
               f->filename ? f->filename : "-", when);
    }
    oab_file_free(f);
    return CLI_EXIT_OK;
}

static int files_delete(cli_ctx *ctx, oab_client *c, const char *id)
{
    oab_status st = oab_file_delete(c, id);
    /* a 404 to a try sent again (the first one's answer lost: a timeout,
     * a 5xx) is that first try's deletion */
    if (st == OAB_ENOTFOUND && oab_client_last_attempts(c) > 1) {
        cli_info(ctx, "deleted %s (by an earlier try, whose answer was "
                 "lost)", id);
        return CLI_EXIT_OK;
    }
    if (st != OAB_OK)
        return FILES_FAIL(ctx, st, "cannot delete file %s", id);
    cli_info(ctx, "deleted %s", id);
    return CLI_EXIT_OK;
}

static int write_bytes(const void *data, size_t len, void *ud)
{
    FILE *f = ud;
    return fwrite(data, 1, len, f) != len;
}

/* The file id of ID: a file id as it is, a batch's output (or error)
 * file. *fid is malloc'd. */
static int file_of(cli_ctx *ctx, oab_client *c, const char *id, int error,
                   char **fid)
{
    *fid = NULL;
    if (strncmp(id, "batch_", 6) != 0) {
        *fid = oab__strdup(id);
        return *fid ? CLI_EXIT_OK : CLI_EXIT_LOCAL;
    }
    oab_job *b = NULL;
    oab_status st = oab_batch_retrieve(c, &b, id);
    if (st != OAB_OK) {
        return FILES_FAIL(ctx, st, "cannot get batch %s", id);
    }
    const char *f = error ? b->error_file_id : b->output_file_id;
    if (f && *f)
        *fid = oab__strdup(f);
    else
        cli_error(ctx, "batch %s has no %s file (status %s)", id,
                  error ? "error" : "output",
                  b->status_text ? b->status_text
                                 : oab_batch_status_str(b->status));
    oab_job_free(b);
    return *fid ? CLI_EXIT_OK : CLI_EXIT_FAILED;
}

static int files_download(cli_ctx *ctx, oab_client *c, const char *id,
                          const files_args *fa)
{
    char *fid = NULL;
    int rc = file_of(ctx, c, id, fa->error_file, &fid);
    if (rc != CLI_EXIT_OK)
        return rc;
    cli_outfile out;
    memset(&out, 0, sizeof out);
    FILE *f = stdout;
    if (fa->out_path && strcmp(fa->out_path, "-") != 0) {
        if ((rc = cli_outfile_open(ctx, &out, fa->out_path)) != CLI_EXIT_OK) {
            free(fid);
            return rc;
        }
        f = out.f;
    }
    oab_status st = oab_file_download(c, fid, 0, write_bytes, f);
    if (st != OAB_OK) {
        int e = errno;
        if (out.f)
            cli_outfile_abort(&out);
        if (st != OAB_ESTOPPED)
            rc = FILES_FAIL(ctx, st, "cannot download %s", fid);
        else if (e != EPIPE) /* the writer stopped: a failed write */
            cli_error(ctx, "cannot write %s: %s",
                      fa->out_path ? fa->out_path : "the output",
                      strerror(e ? e : EIO));
        free(fid);
        return st == OAB_ESTOPPED ? CLI_EXIT_LOCAL : rc;
    }
    free(fid);
    return out.f ? cli_outfile_close(ctx, &out) : CLI_EXIT_OK;
}

const cli_opt cli_opts_files[] = {
    { "output", 'o', 1, O_OUT },
    { "error", 0, 0, O_ERROR },
    { "purpose", 0, 1, O_PURPOSE },
    { "limit", 0, 1, O_LIMIT },
    { "after", 0, 1, O_AFTER },
    { NULL, 0, 0, 0 }
};

int cmd_files(cli_ctx *ctx, int argc, char **argv)
{
    static const cli_parse_spec spec = {
        "files", cli_opts_files, files_opt,
        NULL, 0
    };
    const char *what = argc > 1 ? argv[1] : NULL;
    if (!what || what[0] == '-') {
        int rc = cli_parse_args(ctx, &spec, argc, argv, NULL, NULL);
        return rc >= 0 ? rc : cli_usage_error("files", "missing list, get, "
                                              "download or delete");
    }
    int list = !strcmp(what, "list");
    if (!list && strcmp(what, "get") && strcmp(what, "download") &&
        strcmp(what, "delete"))
        return cli_usage_error("files", "no such action '%s' (list, get, "
                               "download or delete)", what);
    files_args fa = { NULL, 0, NULL, 0, NULL, NULL };
    const char *id = NULL;
    cli_parse_spec sub = spec;
    sub.pos_name = list ? NULL : "ID";
    int rc = cli_parse_args(ctx, &sub, argc - 1, argv + 1, &fa, &id);
    if (rc >= 0)
        return rc;
    if (!list && fa.list_opt)
        return cli_usage_error("files", "%s goes with 'files list'",
                               fa.list_opt);
    if (cli_is_anthropic(ctx)) {
        cli_error(ctx, "files: Anthropic has no Files API (its batches take "
                  "their requests inline and give their results as a "
                  "stream); read them with 'oaibatch results ID'");
        return CLI_EXIT_USAGE;
    }
    oab_client *c = cli_client(ctx);
    if (!c)
        return CLI_EXIT_API;
    if (list)
        return files_list(ctx, c, &fa);
    if (!strcmp(what, "get"))
        return files_get(ctx, c, id);
    if (!strcmp(what, "delete"))
        return files_delete(ctx, c, id);
    return files_download(ctx, c, id, &fa);
}
