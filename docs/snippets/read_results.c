/* read_results.c - read results from files on disk (no server): every line
 * classified, failures with their kind. Usage:
 *   read_results OUTPUT.jsonl [ERROR.jsonl [INPUT.jsonl]] */
#include <stdio.h>

#include <oaibatch.h>

static int on_result(const oab_result *r, void *userdata)
{
    (void)userdata;
    switch (r->status) {
    case OAB_RESULT_SUCCEEDED:      /* 200, answer in output / tool_calls */
        printf("%s: ok: %s\n", r->custom_id, r->output ? r->output : "");
        break;
    case OAB_RESULT_HTTP_ERROR:     /* status_code >= 400, error in body */
    case OAB_RESULT_ERROR:          /* top-level "error" of the line */
        printf("%s: %s %d %s: %s\n", r->custom_id,
               oab_result_status_str(r->status), r->status_code,
               r->error_code ? r->error_code : "-",
               r->error_message ? r->error_message : "");
        break;
    case OAB_RESULT_EXPIRED:        /* batch_expired: never ran */
    case OAB_RESULT_CANCELLED:      /* batch_cancelled: never ran */
    case OAB_RESULT_MISSING:        /* in the input, in neither file */
        printf("%s: %s (input line %ld): submit again\n", r->custom_id,
               oab_result_status_str(r->status), r->input_line);
        break;
    case OAB_RESULT_INVALID_OUTPUT: /* answered, but not valid for the schema */
        printf("%s: invalid output: %s\n", r->custom_id, r->invalid_reason);
        break;
    case OAB_RESULT_MALFORMED:      /* a broken line in the result file */
        printf("(line %ld of the %s file): malformed\n", r->source_line,
               r->from_error_file ? "error" : "output");
        break;
    }
    return 0; /* non-zero stops the stream */
}

int main(int argc, char **argv)
{
    oab_results_options opts = OAB_RESULTS_OPTIONS_INIT;
    oab_summary sum;
    oab_error err;
    oab_status st;
    int s;

    if (argc < 2 || argc > 4) {
        fprintf(stderr, "usage: %s OUTPUT [ERROR [INPUT]]\n", argv[0]);
        return 2;
    }
    /* with the input: missing lines reported, input_line filled in, and the
     * schema of each line taken from its body */
    opts.input_path = argc > 3 ? argv[3] : NULL;
    st = oab_results_stream_files(argv[1], argc > 2 ? argv[2] : NULL, &opts,
                                  on_result, NULL, &sum, &err);
    if (st != OAB_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    for (s = 0; s < OAB_RESULT_STATUS_COUNT; s++)
        if (sum.by_status[s])
            printf("%s: %zu\n", oab_result_status_str((oab_result_status)s),
                   sum.by_status[s]);
    printf("total: %zu, tokens: %lld\n", sum.total, sum.usage.total_tokens);
    return sum.by_status[OAB_RESULT_SUCCEEDED] == sum.total ? 0 : 1;
}
