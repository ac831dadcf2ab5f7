/* create_job_requests.c - batch_create_job with a list of built
 * requests: JSONL in memory, validated before any network call, then
 * uploaded and created through oab_batch_create_job_buffer. */

#include "oaibatch.h"
#include "api/anthropic.h"
#include "api/batches.h"
#include "api/http.h"
#include "core/request.h"
#include "util/buf.h"
#include <string.h>

/* Appends the request's line; a request built without a model gets the
 * client's default model as the body's first member. */
static oab_status append_line(oab__buf *b, const oab_request *r,
                              const char *dflt_model)
{
    size_t len, body_off;
    const char *line = oab__request_line(r, &len, &body_off);
    if (oab_request_model(r) || !dflt_model ||
        strcmp(oab_request_url(r), "/v1/moderations") == 0)
        return oab__buf_append(b, line, len) == OAB_OK
                   ? oab__buf_putc(b, '\n')
                   : OAB_ENOMEM;
    oab_status st = oab__buf_append(b, line, body_off + 1);
    if (st == OAB_OK)
        st = oab__buf_puts(b, "\"model\":");
    if (st == OAB_OK)
        st = oab__buf_json_string(b, dflt_model, strlen(dflt_model));
    /* the body is never empty: at least its messages/input follow */
    if (st == OAB_OK)
        st = oab__buf_putc(b, ',');
    if (st == OAB_OK)
        st = oab__buf_append(b, line + body_off + 1, len - body_off - 1);
    if (st == OAB_OK)
        st = oab__buf_putc(b, '\n');
    return st;
}

oab_status oab_batch_create_job(oab_client *c, oab_job **out,
                                oab_request *const *requests,
                                size_t n_requests,
                                const oab_batch_options *opts)
{
    oab_status st = oab__job_begin(c, out, opts);
    if (st != OAB_OK)
        return st;
    if (n_requests && !requests)
        return oab__client_fail(c, OAB_EINVAL, "requests is NULL");
    for (size_t i = 0; i < n_requests; i++)
        if (!requests[i])
            return oab__client_fail(c, OAB_EINVAL, "requests[%zu] is NULL", i);

    oab_batch_options o = OAB_BATCH_OPTIONS_INIT;
    if (opts)
        o = *opts;
    if (!o.endpoint && n_requests)
        o.endpoint = oab_request_url(requests[0]);

    const char *dflt_model = oab_client_model(c);
    oab__buf b = OAB__BUF_INIT;
    for (size_t i = 0; i < n_requests; i++) {
        if (append_line(&b, requests[i], dflt_model) != OAB_OK) {
            oab__buf_free(&b);
            return oab__client_fail(c, OAB_ENOMEM, "out of memory");
        }
    }

    /* refuse invalid input here, before any request goes out */
    oab_validate_options vo = OAB_VALIDATE_OPTIONS_INIT;
    vo.expected_url = o.endpoint;
    oab__anth_validate_limits(c, &vo);
    oab_validation *v = NULL;
    st = oab_validate_buffer(&v, b.data ? b.data : "", b.len, &vo);
    if (st != OAB_OK) {
        if (st == OAB_EVALIDATION && v && v->n_problems) {
            const oab_problem *p = &v->problems[0];
            size_t more = v->n_problems_total - 1;
            if (p->line > 0 && (size_t)p->line <= n_requests)
                st = oab__client_fail(
                    c, OAB_EVALIDATION,
                    "requests[%ld] (custom_id \"%s\"): %s: %s (%zu more "
                    "problem%s)",
                    p->line - 1, oab_request_custom_id(requests[p->line - 1]),
                    p->code, p->message, more, more == 1 ? "" : "s");
            else
                st = oab__client_fail(c, OAB_EVALIDATION,
                                      "requests: %s: %s (%zu more problem%s)",
                                      p->code, p->message, more,
                                      more == 1 ? "" : "s");
        } else {
            st = oab__client_fail(c, st, "requests: cannot validate");
        }
        oab_validation_free(v);
        oab__buf_free(&b);
        return st;
    }
    oab_validation_free(v);
    st = oab_batch_create_job_buffer(c, out, b.data, b.len, &o);
    oab__buf_free(&b);
    return st;
}
