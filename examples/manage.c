/* manage.c - the seed's batch management methods: list and cancel.
 *
 *   ./manage list [LIMIT]        one page of recent batches (default 20)
 *   ./manage list-all            every batch, walking all the pages
 *   ./manage cancel BATCH_ID     asks to cancel; prints the new status
 *   ./manage cancel --wait BATCH_ID
 *                                and waits for "cancelled", then says how
 *                                many lines finished before (their results
 *                                stay readable: ./get_results BATCH_ID)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "oaibatch.h"

static int print_job(const oab_job *job, void *userdata)
{
    char when[32];
    (void)userdata;
    printf("%-40s %-11s %s", job->id, job->status_text ? job->status_text : "?",
           ex_time(job->created_at, when, sizeof when));
    if (job->has_request_counts)
        printf("  %lld/%lld done, %lld failed",
               job->count_completed + job->count_failed, job->count_total,
               job->count_failed);
    printf("\n");
    return 0;
}

static int list(oab_client *c, int limit)
{
    oab_job_list *page = NULL;
    size_t i;
    oab_status st = oab_batch_list(c, &page, limit, NULL);

    if (st != OAB_OK)
        return ex_fail(c, "listing batches", st);
    for (i = 0; i < page->n; i++)
        print_job(page->jobs[i], NULL);
    printf("%zu batches%s\n", page->n,
           page->has_more ? " (more: ./manage list-all)" : "");
    oab_job_list_free(page);
    return 0;
}

static int cancel(oab_client *c, const char *batch_id, int wait)
{
    oab_job *job = NULL;
    oab_status st = oab_batch_cancel(c, &job, batch_id);

    if (st != OAB_OK) {
        /* e.g. HTTP 400/409 for a batch that has already ended */
        return ex_fail(c, "cancelling the batch", st);
    }
    printf("Cancel requested: %s (status: %s)\n", job->id, job->status_text);
    if (wait && !oab_batch_status_is_terminal(job->status)) {
        oab_job_free(job);
        job = NULL;
        /* OpenAI takes up to 10 minutes to go from cancelling to cancelled */
        if (ex_wait(c, batch_id, &job) != OAB_OK) {
            oab_job_free(job);
            return 1;
        }
        printf("Status: %s\n", job->status_text);
    }
    if (wait && job->has_request_counts)
        printf("Finished before the cancel: %lld completed, %lld failed, of "
               "%lld\n", job->count_completed, job->count_failed,
               job->count_total);
    oab_job_free(job);
    return 0;
}

int main(int argc, char **argv)
{
    oab_client *c;
    int rc;

    if (argc < 2) {
    usage:
        fprintf(stderr, "usage: %s list [LIMIT] | list-all | cancel [--wait] "
                        "BATCH_ID\n", argv[0]);
        return 2;
    }
    if (strcmp(argv[1], "list") == 0 && argc <= 3) {
        int limit = argc == 3 ? atoi(argv[2]) : 20;
        if (limit < 1 || limit > 100)
            goto usage;
        if (!(c = ex_client()))
            return 1;
        rc = list(c, limit);
    } else if (strcmp(argv[1], "list-all") == 0 && argc == 2) {
        oab_status st;
        if (!(c = ex_client()))
            return 1;
        st = oab_batch_list_all(c, 100, print_job, NULL);
        rc = st == OAB_OK ? 0 : ex_fail(c, "listing batches", st);
    } else if (strcmp(argv[1], "cancel") == 0 && argc == 3) {
        if (!(c = ex_client()))
            return 1;
        rc = cancel(c, argv[2], 0);
    } else if (strcmp(argv[1], "cancel") == 0 && argc == 4 &&
               strcmp(argv[2], "--wait") == 0) {
        if (!(c = ex_client()))
            return 1;
        rc = cancel(c, argv[3], 1);
    } else {
        goto usage;
    }
    oab_client_free(c);
    return rc;
}
