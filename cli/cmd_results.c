/* cmd_results.c - `oaibatch results`: merged results of a job or a batch,
 * or of files already on disk. */
#include "oaibatch.h"
#include "collect.h"
#include "commands.h"

#include <stdlib.h>
#include <string.h>

typedef struct files_ctx {
    cli_rows *rows;
    int raw;
    int failed;
} files_ctx;

static int files_one(const oab_result *r, void *ud)
{
    files_ctx *fc = ud;
    if (cli_rows_add(fc->rows, r, r->input_line, NULL, fc->raw) != 0) {
        fc->failed = 1;
        return 1;
    }
    return 0;
}

typedef struct results_args {
    const char *id;           /* a job or batch id, or NULL */
    const char *output_file;  /* --output-file */
    const char *error_file;   /* --error-file */
    const char *input;        /* --input */
    cli_results_opts ro;
} results_args;

/* The results of files on disk (--output-file/--error-file). */
static int results_of_files(cli_ctx *ctx, const results_args *ra)
{
    const cli_results_opts *ro = &ra->ro;
    cli_rows rows;
    memset(&rows, 0, sizeof rows);
    oab_results_options o = OAB_RESULTS_OPTIONS_INIT;
    o.input_path = ra->input;
    files_ctx fc = { &rows, ro->raw, 0 };
    oab_summary sum;
    oab_error err = { 0, 0, "" };
    cli_sink k;
    int rc;
    if (!ro->input_order) {
        /* nothing to sort: write as the lines come */
        if ((rc = cli_sink_open(ctx, &k, ro)) != CLI_EXIT_OK)
            return rc;
        rows.stream = &k;
    } else if ((rc = cli_rows_keep_text(ctx, &rows)) != CLI_EXIT_OK) {
        return rc; /* sorted: the texts wait on disk */
    }
    oab_status st = oab_results_stream_files(ra->output_file, ra->error_file,
                                             &o, files_one, &fc, &sum, &err);
    if (rows.stream && cli_sink_stopped(rows.stream)) {
        rc = cli_sink_stop_code(ctx, rows.stream);
        cli_sink_abort(&k);
        cli_rows_free(&rows);
        return rc;
    }
    if (st != OAB_OK || fc.failed) {
        if (fc.failed)
            rc = cli_rows_fail(ctx, &rows);
        else
            cli_error(ctx, "%s", err.message[0] ? err.message
                                                : oab_strerror(st));
        if (rows.stream)
            cli_sink_abort(&k);
        cli_rows_free(&rows);
        if (fc.failed)
            return rc;
        return st == OAB_EIO ? CLI_EXIT_LOCAL : cli_exit_for(st);
    }
    rc = rows.stream ? cli_sink_close(ctx, &k, 0)
                     : cli_results_write(ctx, &rows, ro);
    cli_rows_free(&rows);
    return rc;
}

/* The results of a job or a batch. */
static int results_of_id(cli_ctx *ctx, const results_args *ra)
{
    cli_target t;
    int rc = cli_target_resolve(ctx, ra->id, &t);
    if (rc == CLI_EXIT_OK) {
        if (ra->ro.input_order && !t.job && !ra->input)
            rc = cli_usage_error("results", "--in-input-order needs --input "
                                 "for a batch not in the journal");
        else
            rc = cli_target_write_results(ctx, &t, ra->input, &ra->ro);
    }
    cli_target_free(&t);
    return rc;
}

enum { O_OFILE = 1, O_EFILE, O_INPUT, O_PARTIAL };

static int results_opt(const char *cmd, int id, const char *arg, void *st)
{
    results_args *ra = st;
    switch (id) {
    case O_OFILE: ra->output_file = arg; return 1;
    case O_EFILE: ra->error_file = arg; return 1;
    case O_INPUT: ra->input = arg; return 1;
    case O_PARTIAL: ra->ro.partial = 1; return 1;
    default: return cli_results_opt(cmd, id, arg, &ra->ro);
    }
}

const cli_opt cli_opts_results[] = {
    CLI_RESULTS_OPTIONS,
    { "output-file", 0, 1, O_OFILE },
    { "error-file", 0, 1, O_EFILE },
    { "input", 0, 1, O_INPUT },
    { "partial", 0, 0, O_PARTIAL },
    { NULL, 0, 0, 0 }
};

static int parse_results(cli_ctx *ctx, int argc, char **argv,
                         results_args *ra)
{
    static const cli_parse_spec spec = {
        "results", cli_opts_results, results_opt,
        "ID", 1
    };
    cli_results_opts ro0 = CLI_RESULTS_OPTS_INIT;
    memset(ra, 0, sizeof *ra);
    ra->ro = ro0;
    int rc = cli_parse_args(ctx, &spec, argc, argv, ra, &ra->id);
    if (rc >= 0)
        return rc;
    if (ctx->json)
        ra->ro.format = "jsonl";
    if (ra->id && (ra->output_file || ra->error_file))
        return cli_usage_error("results", "give an ID or --output-file, not both");
    if (!ra->id && !ra->output_file && !ra->error_file)
        return cli_usage_error("results", "missing ID (or --output-file)");
    if (ra->ro.partial && !ra->id)
        return cli_usage_error("results", "--partial is for a job or a batch "
                               "(files on disk are what they are)");
    if (ra->ro.input_order && !ra->id && !ra->input)
        return cli_usage_error("results", "--in-input-order needs --input");
    return -1;
}

int cmd_results(cli_ctx *ctx, int argc, char **argv)
{
    results_args ra;
    int rc = parse_results(ctx, argc, argv, &ra);
    if (rc >= 0)
        return rc;
    return ra.id ? results_of_id(ctx, &ra) : results_of_files(ctx, &ra);
}
