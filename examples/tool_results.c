/* tool_results.c - the seed's "Getting result for tools".
 *
 * Waits for a batch (for instance the one ./tools --no-wait submitted),
 * then prints, for each custom_id, the response text, or the tool calls
 * the model asked for: function name and arguments.
 *
 *   $ ./tool_results batch_abc123
 *
 *   weather-tokyo:
 *     Made 1 tool calls:
 *       get_weather {"location":"Tokyo"}
 *
 *   calculation:
 *     Made 1 tool calls:
 *       calculate {"expression":"15 * 23 + 7"}
 *
 * Exit status 0 when every line succeeded.
 */
#include <stdio.h>

#include "common.h"
#include "oaibatch.h"

int main(int argc, char **argv)
{
    oab_client *c;
    oab_job *job = NULL;
    oab_result_set *set = NULL;
    oab_status st;
    int rc = 1;
    size_t i, k;

    if (argc != 2) {
        fprintf(stderr, "usage: %s BATCH_ID\n", argv[0]);
        return 2;
    }
    if (!(c = ex_client()))
        return 1;
    if (ex_wait(c, argv[1], &job) != OAB_OK)
        goto done;
    st = oab_batch_retrieve_job(c, &set, argv[1], NULL);
    if (st != OAB_OK) {
        rc = ex_fail(c, "reading the results", st);
        goto done;
    }

    rc = 0;
    for (i = 0; i < set->n; i++) {
        const oab_result *r = set->items[i];
        printf("\n%s:\n", r->custom_id ? r->custom_id : "?");
        if (r->status != OAB_RESULT_SUCCEEDED) {
            printf("  Error: %s: %s\n", oab_result_status_str(r->status),
                   r->error_message ? r->error_message : "");
            rc = 1;
            continue;
        }
        /* conveniences instead of response.body.choices[0].message... */
        if (r->output && *r->output)
            printf("  Response: %s\n", r->output);
        if (r->n_tool_calls > 0) {
            printf("  Made %zu tool calls:\n", r->n_tool_calls);
            for (k = 0; k < r->n_tool_calls; k++) {
                const oab_tool_call *tc = &r->tool_calls[k];
                printf("    %s %s%s\n", tc->name ? tc->name : "?",
                       tc->arguments ? tc->arguments : "",
                       tc->arguments_valid ? "" : "  (arguments are not a JSON object)");
            }
        }
    }
done:
    oab_result_set_free(set);
    oab_job_free(job);
    oab_client_free(c);
    return rc;
}
