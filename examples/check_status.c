/* check_status.c - the seed's "Checking Job Status".
 *
 *   $ ./check_status batch_abc123
 *   Status: in_progress
 *   Created at: 2026-11-25T03:40:00Z
 *   Completion window: 24h
 *   Progress: 1/3 completed, 0 failed
 *
 * Exit status 0 when the batch was found (whatever its status).
 */
#include <stdio.h>

#include "common.h"
#include "oaibatch.h"

int main(int argc, char **argv)
{
    oab_client *c;
    oab_job *job = NULL;
    oab_status st;
    char when[32];
    size_t i;

    if (argc != 2) {
        fprintf(stderr, "usage: %s BATCH_ID\n", argv[0]);
        return 2;
    }
    if (!(c = ex_client()))
        return 1;

    st = oab_batch_retrieve(c, &job, argv[1]); /* the seed's batch_get_status */
    if (st != OAB_OK) {
        int rc = ex_fail(c, "getting the batch", st);
        oab_client_free(c);
        return rc;
    }

    /* status_text is the word the server sent, also for a status this
     * version of the library does not know (job->status is then UNKNOWN) */
    printf("Status: %s\n", job->status_text);
    printf("Created at: %s\n", ex_time(job->created_at, when, sizeof when));
    printf("Completion window: %s\n",
           job->completion_window ? job->completion_window : "-");
    if (job->has_request_counts)
        printf("Progress: %lld/%lld completed, %lld failed\n",
               job->count_completed, job->count_total, job->count_failed);

    /* more than the seed shows */
    if (job->expires_at && !oab_batch_status_is_terminal(job->status))
        printf("Expires at: %s\n", ex_time(job->expires_at, when, sizeof when));
    if (job->output_file_id)
        printf("Output file: %s\n", job->output_file_id);
    if (job->error_file_id)
        printf("Error file: %s\n", job->error_file_id);
    for (i = 0; i < job->n_metadata; i++)
        printf("Metadata: %s=%s\n", job->metadata[i].key,
               job->metadata[i].value ? job->metadata[i].value : "");
    for (i = 0; i < job->n_errors; i++) /* status failed: why */
        printf("Error: line %ld: %s: %s\n", job->errors[i].line,
               job->errors[i].code ? job->errors[i].code : "-",
               job->errors[i].message ? job->errors[i].message : "");

    oab_job_free(job);
    oab_client_free(c);
    return 0;
}
