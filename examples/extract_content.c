/* extract_content.c - the seed's "Response Structure".
 *
 * A result line nests the answer: response.body.choices[0].message.content.
 * The library decodes it for you (oab_result.output, .tool_calls,
 * .refusal, .finish_reason, .usage); the whole body stays available as
 * JSON text (oab_result.body_json) for anything else.
 *
 *   $ ./extract_content batch_abc123
 *   Content: 2 + 2 = 4.
 *     finish_reason: stop, tokens: 20 in, 8 out
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
    size_t i;

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
    for (i = 0; i < set->n; i++) {
        const oab_result *r = set->items[i];
        /* the convenient way */
        printf("Content: %s\n", r->output ? r->output : "(none)");
        /* more of the same line */
        printf("  custom_id: %s, status: %s, finish_reason: %s",
               r->custom_id ? r->custom_id : "?",
               oab_result_status_str(r->status),
               r->finish_reason ? r->finish_reason : "-");
        if (r->has_usage)
            printf(", tokens: %lld in, %lld out", r->usage.prompt_tokens,
                   r->usage.completion_tokens);
        printf("\n");
        /* the manual way: body_json is response.body as JSON text; parse
         * it with your JSON library and read choices[0].message.content */
    }
    rc = 0;
done:
    oab_result_set_free(set);
    oab_job_free(job);
    oab_client_free(c);
    return rc;
}
