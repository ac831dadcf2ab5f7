/* create_job.c - upload + create in one call (batch_create_job), after
 * validating the input. */

#include "oaibatch.h"
#include "api/anthropic.h"
#include "api/batches.h"
#include "api/http.h"
#include <stdio.h>
#include <string.h>

/* The validation's answer: OAB_OK, or its first problem put into the
 * client's detail. Frees v. */
static oab_status validated(oab_client *c, oab_status st, oab_validation *v,
                            const char *what)
{
    if (st == OAB_OK) {
        oab_validation_free(v);
        return OAB_OK;
    }
    if (st == OAB_EVALIDATION && v && v->n_problems) {
        const oab_problem *p = &v->problems[0];
        size_t more = v->n_problems_total > 1 ? v->n_problems_total - 1 : 0;
        char where[32] = "";
        if (p->line > 0)
            snprintf(where, sizeof where, "line %ld: ", p->line);
        st = oab__client_fail(c, OAB_EVALIDATION,
                              "%s: %s%s: %s%s%s (%zu more problem%s)", what,
                              where, p->code ? p->code : "invalid",
                              p->message ? p->message : "",
                              p->param ? " at " : "", p->param ? p->param : "",
                              more, more == 1 ? "" : "s");
    } else if (st == OAB_EVALIDATION) {
        st = oab__client_fail(c, st, "%s: input failed validation", what);
    } else {
        st = oab__client_fail(c, st, "%s: cannot validate the input", what);
    }
    oab_validation_free(v);
    return st;
}

oab_status oab__job_begin(oab_client *c, oab_job **out,
                          const oab_batch_options *opts)
{
    if (out)
        *out = NULL;
    if (!c)
        return OAB_EINVAL;
    return OAB__CLIENT_OPTIONS_CHECK(c, opts, OAB_BATCH_OPTIONS_VERSION,
                                     "oab_batch_options");
}

static oab_status create_after_upload(oab_client *c, oab_job **out, oab_file *f,
                                      oab_status st, const oab_batch_options *opts)
{
    if (st == OAB_OK)
        st = oab_batch_create(c, out, f->id, opts);
    oab_file_free(f);
    return st;
}

oab_status oab_batch_create_job_path(oab_client *c, oab_job **out,
                                     const char *jsonl_path,
                                     const oab_batch_options *opts)
{
    oab_status st = oab__job_begin(c, out, opts);
    if (st != OAB_OK)
        return st;
    if (!jsonl_path)
        return oab__client_fail(c, OAB_EINVAL, "path is NULL");
    oab_validation *v = NULL;
    oab_validate_options vo = OAB_VALIDATE_OPTIONS_INIT;
    oab__anth_validate_limits(c, &vo);
    st = oab_validate_path(&v, jsonl_path, &vo);
    st = validated(c, st, v, jsonl_path);
    if (st != OAB_OK)
        return st;
    if (oab__anth(c)) /* requests inline, no upload */
        return oab__anth_create_path(c, out, jsonl_path, opts);
    oab_file *f = NULL;
    st = oab_file_upload_path(c, &f, jsonl_path, "batch",
                              opts ? opts->input_expires_after_s : 0);
    return create_after_upload(c, out, f, st, opts);
}

oab_status oab_batch_create_job_buffer(oab_client *c, oab_job **out,
                                       const char *jsonl, size_t len,
                                       const oab_batch_options *opts)
{
    oab_status st = oab__job_begin(c, out, opts);
    if (st != OAB_OK)
        return st;
    if (!jsonl && len)
        return oab__client_fail(c, OAB_EINVAL, "jsonl is NULL");
    oab_validation *v = NULL;
    oab_validate_options vo = OAB_VALIDATE_OPTIONS_INIT;
    oab__anth_validate_limits(c, &vo);
    st = oab_validate_buffer(&v, jsonl ? jsonl : "", len, &vo);
    st = validated(c, st, v, "input");
    if (st != OAB_OK)
        return st;
    if (oab__anth(c)) /* requests inline, no upload */
        return oab__anth_create_buffer(c, out, jsonl ? jsonl : "", len, opts);
    oab_file *f = NULL;
    st = oab_file_upload_buffer(c, &f, jsonl ? jsonl : "", len, "batch.jsonl",
                                "batch", opts ? opts->input_expires_after_s : 0);
    return create_after_upload(c, out, f, st, opts);
}
