/* wait.c - polling a batch until it reaches a terminal status. */

#include "oaibatch.h"
#include "api/http.h"
#include "util/clock.h"
#include "util/str.h"
#include "util/limits.h"
#include <stdlib.h>


oab_status oab_batch_wait(oab_client *c, oab_job **out, const char *batch_id,
                          const oab_wait_options *opts)
{
    if (out)
        *out = NULL;
    if (!c)
        return OAB_EINVAL;
    oab_status st = OAB__CLIENT_OPTIONS_CHECK(c, opts, OAB_WAIT_OPTIONS_VERSION,
                                              "oab_wait_options");
    if (st != OAB_OK)
        return st;
    if (!batch_id || !*batch_id)
        return oab__client_fail(c, OAB_EINVAL, "batch id is empty");
    oab_wait_options dflt = OAB_WAIT_OPTIONS_INIT;
    if (!opts)
        opts = &dflt;
    double interval = opts->first_interval_s > 0 ? opts->first_interval_s : 5.0;
    double factor = opts->factor >= 1.0 ? opts->factor : 1.5;
    double cap = opts->max_interval_s > 0 ? opts->max_interval_s : 300.0;
    double jitter = opts->jitter < 0 ? 0.1 : opts->jitter > 1 ? 1 : opts->jitter;
    if (opts->timeout_s < 0)
        return oab__client_fail(c, OAB_EINVAL, "timeout_s < 0");
    if (interval > cap)
        interval = cap;

    double start = oab__now();
    oab_job *job = NULL;
    int failures = 0;
    for (;;) {
        oab_job *next = NULL;
        st = oab_batch_retrieve(c, &next, batch_id);
        if (st != OAB_OK) {
            /* a passing outage (the transport already retried) does not end
             * a wait of hours: poll again later, up to OAB__MAX_POLL_FAILURES in
             * a row */
            int passing = st == OAB_ECONNECT || st == OAB_ETIMEOUT ||
                          st == OAB_ETRANSPORT || st == OAB_ESERVER ||
                          st == OAB_ERATELIMIT;
            if (!passing || ++failures > OAB__MAX_POLL_FAILURES ||
                (opts->timeout_s > 0 && oab__now() - start >= opts->timeout_s))
                break;
            goto sleep;
        }
        failures = 0;
        oab_job_free(job);
        job = next;
        if (opts->progress && opts->progress(job, opts->userdata) != 0) {
            st = oab__client_fail(c, OAB_ESTOPPED, "waiting for %s stopped by "
                                  "the caller (status %s)", batch_id,
                                  job->status_text);
            break;
        }
        if (oab_batch_status_is_terminal(job->status))
            break;
        double elapsed = oab__now() - start;
        if (opts->timeout_s > 0 && elapsed >= opts->timeout_s) {
            char *status = oab__strdup(job->status_text);
            if (opts->cancel_on_timeout) {
                oab_job *cancelled = NULL;
                st = oab_batch_cancel(c, &cancelled, batch_id);
                if (st == OAB_OK) {
                    oab_job_free(job);
                    job = cancelled;
                } else {
                    /* the cancel failed: report it, keep the job seen */
                    free(status);
                    break;
                }
            }
            st = oab__client_fail(c, OAB_ETIMEOUT,
                                  "waited %.1f s for %s; still %s%s", elapsed,
                                  batch_id, status ? status : "?",
                                  opts->cancel_on_timeout ? " (cancel requested)" : "");
            free(status);
            break;
        }
    sleep:;
        /* sleep interval +/- jitter, never past the timeout */
        double r = oab__rand01(c);
        double d = interval * (1.0 + jitter * (2.0 * r - 1.0));
        double elapsed_now = oab__now() - start;
        if (opts->timeout_s > 0 && elapsed_now + d > opts->timeout_s)
            d = opts->timeout_s - elapsed_now;
        oab__sleep(d);
        interval *= factor;
        if (interval > cap)
            interval = cap;
    }
    if (out)
        *out = job;
    else
        oab_job_free(job);
    return st;
}
