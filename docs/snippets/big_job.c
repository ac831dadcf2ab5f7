/* big_job.c - a job past one batch's limits: validate, split into parts
 * (each under 50,000 lines and 200 MB), submit each part, wait for all,
 * read every part's results. Usage: big_job INPUT.jsonl WORK_DIR */
#include <stdio.h>

#include <oaibatch.h>

static int progress(const oab_job *job, void *userdata)
{
    (void)userdata;
    fprintf(stderr, "%s: %s %lld/%lld\n", job->id, job->status_text,
            job->count_completed + job->count_failed, job->count_total);
    return 0;
}

/* Here only counted (sum); a real program would store each result. */
static int keep(const oab_result *r, void *userdata)
{
    (void)r;
    (void)userdata;
    return 0;
}

int main(int argc, char **argv)
{
    oab_validate_options vo = OAB_VALIDATE_OPTIONS_INIT;
    oab_wait_options wo = OAB_WAIT_OPTIONS_INIT;
    oab_validation *report = NULL;
    oab_split *split = NULL;
    oab_client *client = NULL;
    oab_error err;
    oab_status st;
    size_t i;
    int rc = 1;

    if (argc != 3) {
        fprintf(stderr, "usage: %s INPUT WORK_DIR\n", argv[0]);
        return 2;
    }

    /* 1. Check every line first; the size limits are for the parts, so
     *    they are lifted here (the splitter keeps each part under them). */
    vo.max_lines = (size_t)-1;
    vo.max_bytes = (unsigned long long)-1;
    st = oab_validate_path(&report, argv[1], &vo);
    if (st != OAB_OK) {
        for (i = 0; report && i < report->n_problems; i++)
            fprintf(stderr, "line %ld: %s: %s\n", report->problems[i].line,
                    report->problems[i].code, report->problems[i].message);
        oab_validation_free(report);
        return 1;
    }
    oab_validation_free(report);

    /* 2. Split (a file within the limits gives one part). */
    st = oab_split_path(&split, argv[1], argv[2], NULL, &err);
    if (st != OAB_OK) {
        fprintf(stderr, "split: %s\n", err.message);
        return 1;
    }
    if (oab_client_new(&client, NULL) != OAB_OK)
        goto done;

    /* 3. Submit every part, then wait for each. Keep the batch ids
     *    somewhere that outlives this process (a file, a database) before
     *    waiting: a crash must not orphan a paid job. */
    wo.progress = progress;
    wo.timeout_s = 25 * 3600;
    for (i = 0; i < split->n_parts; i++) {
        oab_job *job = NULL, *done = NULL;
        oab_results_options ro = OAB_RESULTS_OPTIONS_INIT;
        oab_summary sum;

        st = oab_batch_create_job_path(client, &job, split->parts[i].path,
                                       NULL);
        if (st != OAB_OK) {
            fprintf(stderr, "part %zu: %s\n", i + 1, oab_client_errmsg(client));
            goto done;
        }
        printf("part %zu (input lines %ld..%ld): %s\n", i + 1,
               split->parts[i].first_line,
               split->parts[i].input_lines[split->parts[i].n_lines - 1],
               job->id);
        st = oab_batch_wait(client, &done, job->id, &wo);
        if (st == OAB_OK) {
            ro.input_path = split->parts[i].path; /* missing lines too */
            st = oab_batch_results_stream(client, done, &ro, keep, NULL,
                                          &sum);
            if (st == OAB_OK)
                printf("  %zu of %zu succeeded\n",
                       sum.by_status[OAB_RESULT_SUCCEEDED], sum.total);
        }
        if (st != OAB_OK)
            fprintf(stderr, "part %zu: %s\n", i + 1, oab_client_errmsg(client));
        oab_job_free(job);
        oab_job_free(done);
        if (st != OAB_OK)
            goto done;
    }
    rc = 0;
done:
    oab_client_free(client);
    oab_split_free(split);
    return rc;
}
