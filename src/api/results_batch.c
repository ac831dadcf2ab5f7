/* results_batch.c - results of a batch on the server: both files
 * downloaded (to download_dir or a private temporary folder) and decoded,
 * the missing custom_ids of the input reported; and oab_batch_run, which
 * submits, waits and collects in one call. */

#include "oaibatch.h"
#include "api/anthropic.h"
#include "api/http.h"
#include "core/result.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/str.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Downloads one file into dir (resumable, renamed into place only when
 * complete), then decodes it. */
static oab_status one_file(oab_client *c, oab__results *R, const char *dir,
                           const char *file_id, int from_error, int remove_after)
{
    char *path = oab__sprintf("%s/%s.jsonl", dir, file_id);
    if (!path)
        return oab__client_fail(c, OAB_ENOMEM, "out of memory");
    oab_status st = oab_file_download_path(c, file_id, path);
    if (st == OAB_OK) {
        oab_error e;
        oab__err_clear(&e);
        st = oab__results_path(R, path, from_error, &e);
        if (st != OAB_OK)
            oab__client_fail(c, st, "%s", e.message[0] ? e.message
                                                        : oab_strerror(st));
    }
    if (remove_after) {
        char *part = oab__sprintf("%s.part", path);
        remove(path);
        if (part)
            remove(part);
        free(part);
    }
    free(path);
    return st;
}

/* Reads the job's output then error file. Without download_dir the
 * files go to a private temporary folder, removed afterwards: the
 * download completes (resumed if it breaks) before any line is decoded,
 * whatever the callback's pace. */
static oab_status stream_files(oab_client *c, const oab_job *job,
                               oab__results *R, const char *download_dir)
{
    const char *ids[2] = {job->output_file_id, job->error_file_id};
    char *tmp = NULL;
    oab_status st = OAB_OK;
    if (!download_dir && ((ids[0] && *ids[0]) || (ids[1] && *ids[1]))) {
        const char *base = getenv("TMPDIR");
        tmp = oab__sprintf("%s/oab_results_XXXXXX",
                           base && *base ? base : "/tmp");
        if (!tmp)
            return oab__client_fail(c, OAB_ENOMEM, "out of memory");
        if (!mkdtemp(tmp)) {
            st = oab__client_fail(c, OAB_EIO,
                                  "cannot create a temporary folder in %s",
                                  base && *base ? base : "/tmp");
            free(tmp);
            return st;
        }
    }
    for (int k = 0; k < 2 && st == OAB_OK; k++) {
        if (!ids[k] || !*ids[k])
            continue; /* null, absent or "": nothing there */
        st = one_file(c, R, tmp ? tmp : download_dir, ids[k], k, tmp != NULL);
    }
    if (tmp) {
        rmdir(tmp);
        free(tmp);
    }
    return st;
}

/* The job's results (Anthropic: its results stream, translated), then
 * the missing ones. */
static oab_status stream_job(oab_client *c, const oab_job *job,
                             oab__results *R, const char *download_dir)
{
    oab_status st = oab__anth(c) ? oab__anth_results(c, job, R, download_dir)
                                 : stream_files(c, job, R, download_dir);
    if (st != OAB_OK)
        return st;
    st = oab__results_finish(R, job->status == OAB_BATCH_FAILED ? job : NULL);
    if (st != OAB_OK)
        return oab__client_fail(c, st, "%s", st == OAB_ESTOPPED
                                                 ? "stopped by the callback"
                                                 : oab_strerror(st));
    return OAB_OK;
}

static oab_status begin(oab_client *c, oab__results **R,
                        const oab_results_options *opts,
                        oab__result_take_fn take, void *ud)
{
    oab_error e;
    oab__err_clear(&e);
    oab_status st = oab__results_begin(R, opts, take, ud, &e);
    if (st != OAB_OK)
        return oab__client_fail(c, st, "%s", e.message[0] ? e.message
                                                          : oab_strerror(st));
    return OAB_OK;
}

static oab_status check_job(oab_client *c, const oab_job *job)
{
    if (!job || !job->id)
        return oab__client_fail(c, OAB_EINVAL, "job is NULL");
    if (!oab_batch_status_is_terminal(job->status))
        return oab__client_fail(c, OAB_ESTATE,
                                "batch %s is %s: results come when it is "
                                "completed, expired, cancelled or failed",
                                job->id,
                                job->status_text ? job->status_text
                                                 : oab_batch_status_str(job->status));
    return OAB_OK;
}

oab_status oab_batch_results_stream(oab_client *c, const oab_job *job,
                                    const oab_results_options *opts,
                                    oab_result_fn fn, void *userdata,
                                    oab_summary *summary)
{
    if (summary)
        memset(summary, 0, sizeof *summary);
    if (!c)
        return OAB_EINVAL;
    oab__client_clear_error(c);
    oab_status st = OAB__CLIENT_OPTIONS_CHECK(
        c, opts, OAB_RESULTS_OPTIONS_VERSION, "oab_results_options");
    if (st == OAB_OK)
        st = check_job(c, job);
    if (st != OAB_OK)
        return st;
    oab__user_sink u = {fn, userdata};
    oab__results *R = NULL;
    if ((st = begin(c, &R, opts, oab__user_take, &u)) != OAB_OK)
        return st;
    st = stream_job(c, job, R, opts ? opts->download_dir : NULL);
    if (summary)
        *summary = *oab__results_summary(R);
    oab__results_free(R);
    return st;
}

/* Collects a job's results into a new set. */
static oab_status collect_job(oab_client *c, oab_result_set **out,
                              const oab_job *job,
                              const oab_results_options *opts,
                              oab__results *R)
{
    oab_result_set *set = NULL;
    if (oab__result_set_new(&set) != OAB_OK)
        return oab__client_fail(c, OAB_ENOMEM, "out of memory");
    oab_status st = OAB_OK;
    if (!R)
        st = begin(c, &R, opts, oab__result_set_take, set);
    else
        oab__results_retarget(R, oab__result_set_take, set);
    if (st == OAB_OK)
        st = stream_job(c, job, R, opts ? opts->download_dir : NULL);
    if (st == OAB_ESTOPPED) /* only the set's own allocation stops it */
        st = oab__client_fail(c, OAB_ENOMEM, "out of memory");
    if (R)
        set->summary = *oab__results_summary(R);
    oab__results_free(R);
    if (st != OAB_OK) {
        oab_result_set_free(set);
        return st;
    }
    *out = set;
    return OAB_OK;
}

oab_status oab_batch_retrieve_job(oab_client *c, oab_result_set **out,
                                  const char *batch_id,
                                  const oab_results_options *opts)
{
    if (out)
        *out = NULL;
    if (!c)
        return OAB_EINVAL;
    oab__client_clear_error(c);
    if (!out)
        return oab__client_fail(c, OAB_EINVAL, "out is NULL");
    oab_status st = OAB__CLIENT_OPTIONS_CHECK(
        c, opts, OAB_RESULTS_OPTIONS_VERSION, "oab_results_options");
    if (st != OAB_OK)
        return st;
    if (opts && opts->input_order && !opts->input_path)
        return oab__client_fail(c, OAB_EINVAL, "input_order needs input_path");
    oab_job *job = NULL;
    st = oab_batch_retrieve(c, &job, batch_id);
    if (st == OAB_OK)
        st = check_job(c, job);
    if (st == OAB_OK)
        st = collect_job(c, out, job, opts, NULL);
    oab_job_free(job);
    if (st == OAB_OK && opts && opts->input_order &&
        (st = oab__result_set_sort_input(*out)) != OAB_OK) {
        oab_result_set_free(*out);
        *out = NULL;
        oab__client_fail(c, st, "out of memory");
    }
    return st;
}

oab_status oab_batch_run(oab_client *c, oab_result_set **out,
                         oab_job **job_out, oab_request *const *requests,
                         size_t n_requests,
                         const oab_batch_options *batch_opts,
                         const oab_wait_options *wait)
{
    if (out)
        *out = NULL;
    if (job_out)
        *job_out = NULL;
    if (!c)
        return OAB_EINVAL;
    oab__client_clear_error(c);
    if (!out)
        return oab__client_fail(c, OAB_EINVAL, "out is NULL");
    if (!requests || !n_requests)
        return oab__client_fail(c, OAB_EINVAL, "no requests");
    /* both options checked before anything is sent */
    oab_status st;
    if ((st = OAB__CLIENT_OPTIONS_CHECK(c, batch_opts, OAB_BATCH_OPTIONS_VERSION,
                                        "oab_batch_options")) != OAB_OK ||
        (st = OAB__CLIENT_OPTIONS_CHECK(c, wait, OAB_WAIT_OPTIONS_VERSION,
                                        "oab_wait_options")) != OAB_OK)
        return st;
    /* the JSONL, and what each line expects, remembered by custom_id */
    oab__results *R = NULL;
    st = begin(c, &R, NULL, oab__result_set_take, NULL);
    if (st != OAB_OK)
        return st;
    oab__buf jsonl = OAB__BUF_INIT;
    for (size_t i = 0; i < n_requests && st == OAB_OK; i++) {
        char *line = NULL;
        if (!requests[i]) {
            st = oab__client_fail(c, OAB_EINVAL, "request %zu is NULL", i);
            break;
        }
        st = oab_request_to_json(requests[i], &line);
        if (st != OAB_OK) {
            oab__client_fail(c, st, "request %zu: %s", i, oab_strerror(st));
            break;
        }
        size_t len = strlen(line);
        if ((st = oab__results_add_input(R, line, len, (long)i + 1)) ==
                OAB_OK &&
            ((st = oab__buf_append(&jsonl, line, len)) != OAB_OK ||
             (st = oab__buf_putc(&jsonl, '\n')) != OAB_OK))
            st = OAB_ENOMEM;
        if (st != OAB_OK)
            oab__client_fail(c, st, "%s", oab_strerror(st));
        free(line);
    }
    oab_job *job = NULL;
    if (st == OAB_OK) {
        oab_batch_options bo = OAB_BATCH_OPTIONS_INIT;
        if (batch_opts)
            bo = *batch_opts;
        if (!bo.endpoint)
            bo.endpoint = oab_request_url(requests[0]);
        st = oab_batch_create_job_buffer(c, &job, jsonl.data, jsonl.len, &bo);
    }
    oab__buf_free(&jsonl);
    oab_job *final = NULL;
    oab_status wst = OAB_OK;
    if (st == OAB_OK) {
        wst = oab_batch_wait(c, &final, job->id, wait);
        if (wst == OAB_ETIMEOUT && wait && wait->cancel_on_timeout && final) {
            /* cancelled: wait (bounded) for the partial results */
            oab_wait_options w2 = *wait;
            w2.timeout_s = 900; /* cancelling lasts up to 10 minutes */
            w2.cancel_on_timeout = 0;
            w2.progress = NULL;
            oab_job *after = NULL;
            oab_status s2 = oab_batch_wait(c, &after, job->id, &w2);
            if (s2 == OAB_OK) {
                oab_job_free(final);
                final = after;
            } else {
                oab_job_free(after);
            }
        }
        if (wst != OAB_OK && wst != OAB_ETIMEOUT)
            st = wst;
    }
    if (st == OAB_OK && final && oab_batch_status_is_terminal(final->status)) {
        /* keep the message of a timeout across the collecting calls */
        st = collect_job(c, out, final, NULL, R);
        R = NULL; /* freed by collect_job */
        if (st == OAB_OK && (st = oab__result_set_sort_input(*out)) != OAB_OK) {
            oab_result_set_free(*out);
            *out = NULL;
            oab__client_fail(c, st, "out of memory");
        }
        if (st == OAB_OK && wst == OAB_ETIMEOUT)
            st = oab__client_fail(c, OAB_ETIMEOUT,
                                  "batch %s timed out and was cancelled; "
                                  "%zu partial results", final->id,
                                  (*out)->n);
    } else if (st == OAB_OK) {
        st = wst; /* timed out, not cancelled (or still cancelling) */
    }
    oab__results_free(R);
    if (job_out)
        *job_out = final ? final : job;
    if (!job_out || *job_out != final)
        oab_job_free(final);
    if (!job_out || *job_out != job)
        oab_job_free(job);
    return st;
}
