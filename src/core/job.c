/* job.c - Batch and File objects: parsing from JSON, copying, freeing.
 * No I/O. */

#include "oaibatch.h"
#include "core/job.h"
#include "util/err.h"
#include "util/json.h"
#include "util/str.h"
#include <stdlib.h>
#include <string.h>

/* ---- helpers ---- */

/* A string member, or NULL when absent, null, not a string or (with
 * empty_is_null) "". */
static oab_status take_str(char **slot, const cJSON *obj, const char *key,
                           int empty_is_null)
{
    const char *s = oab__json_str(obj, key);
    *slot = NULL;
    if (!s || (empty_is_null && !*s))
        return OAB_OK;
    *slot = oab__strdup(s);
    return *slot ? OAB_OK : OAB_ENOMEM;
}

/* The parsers' common start: json checked and parsed into *root; `what`
 * names the object in messages ("file object"). */
static oab_status parse_root(cJSON **root, const char *json, size_t len,
                             const char *what, oab_error *err)
{
    *root = NULL;
    if (!json)
        return oab__err(err, OAB_EINVAL, 0, "json is NULL");
    oab__err_clear(err);
    oab_status st = oab__json_parse_st(root, json, len);
    if (st != OAB_OK)
        return oab__err(err, st, 0, "%s: %s", what,
                        st == OAB_ENOMEM ? "out of memory" : "invalid JSON");
    return OAB_OK;
}

/* ---- File ---- */

void oab_file_free(oab_file *file)
{
    if (!file)
        return;
    free(file->id);
    free(file->object);
    free(file->filename);
    free(file->purpose);
    free(file->status);
    free(file->raw_json);
    free(file);
}

oab_status oab_file_parse(oab_file **out, const char *json, size_t len,
                          oab_error *err)
{
    if (!out)
        return oab__err(err, OAB_EINVAL, 0, "out is NULL");
    *out = NULL;
    cJSON *root;
    oab_status pst = parse_root(&root, json, len, "file object", err);
    if (pst != OAB_OK)
        return pst;
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return oab__err(err, OAB_EPROTO, 0, "file object: not a JSON object");
    }
    if (!oab__json_str(root, "id") || !*oab__json_str(root, "id")) {
        cJSON_Delete(root);
        return oab__err(err, OAB_EPROTO, 0, "file object: missing \"id\"");
    }
    oab_file *f = calloc(1, sizeof *f);
    oab_status st = f ? OAB_OK : OAB_ENOMEM;
    if (st == OAB_OK) {
        f->bytes = oab__json_ll(root, "bytes", 0);
        f->created_at = oab__json_ll(root, "created_at", 0);
        f->expires_at = oab__json_ll(root, "expires_at", 0);
        if (take_str(&f->id, root, "id", 0) || take_str(&f->object, root, "object", 0) ||
            take_str(&f->filename, root, "filename", 0) ||
            take_str(&f->purpose, root, "purpose", 0) ||
            take_str(&f->status, root, "status", 0) ||
            !(f->raw_json = oab__strndup(json, len)))
            st = OAB_ENOMEM;
    }
    cJSON_Delete(root);
    if (st != OAB_OK) {
        oab_file_free(f);
        return oab__err(err, st, 0, "out of memory");
    }
    *out = f;
    return OAB_OK;
}

/* ---- Batch ---- */

static void job_clear(oab_job *j)
{
    free(j->id);
    free(j->object);
    free(j->endpoint);
    free(j->model);
    free(j->input_file_id);
    free(j->output_file_id);
    free(j->error_file_id);
    free(j->completion_window);
    free(j->status_text);
    for (size_t i = 0; i < j->n_metadata; i++) {
        free(j->metadata[i].key);
        free(j->metadata[i].value);
    }
    free(j->metadata);
    for (size_t i = 0; i < j->n_errors; i++) {
        free(j->errors[i].code);
        free(j->errors[i].message);
        free(j->errors[i].param);
    }
    free(j->errors);
    free(j->raw_json);
}

void oab_job_free(oab_job *job)
{
    if (!job)
        return;
    job_clear(job);
    free(job);
}

/* Fills j from a parsed Batch object; raw JSON is set by the caller. */
static oab_status job_from_json(oab_job *j, const cJSON *root, oab_error *err)
{
    const char *id = oab__json_str(root, "id");
    if (!id || !*id)
        return oab__err(err, OAB_EPROTO, 0, "batch object: missing \"id\"");
    const char *status = oab__json_str(root, "status");
    if (!status)
        return oab__err(err, OAB_EPROTO, 0,
                        "batch object %s: missing \"status\"", id);
    if (take_str(&j->id, root, "id", 0) || take_str(&j->object, root, "object", 0) ||
        take_str(&j->endpoint, root, "endpoint", 0) ||
        take_str(&j->model, root, "model", 1) ||
        take_str(&j->input_file_id, root, "input_file_id", 1) ||
        take_str(&j->output_file_id, root, "output_file_id", 1) ||
        take_str(&j->error_file_id, root, "error_file_id", 1) ||
        take_str(&j->completion_window, root, "completion_window", 0) ||
        take_str(&j->status_text, root, "status", 0))
        return oab__err(err, OAB_ENOMEM, 0, "out of memory");
    j->status = oab_batch_status_from_str(status);

    j->created_at = oab__json_ll(root, "created_at", 0);
    j->in_progress_at = oab__json_ll(root, "in_progress_at", 0);
    j->expires_at = oab__json_ll(root, "expires_at", 0);
    j->finalizing_at = oab__json_ll(root, "finalizing_at", 0);
    j->completed_at = oab__json_ll(root, "completed_at", 0);
    j->failed_at = oab__json_ll(root, "failed_at", 0);
    j->expired_at = oab__json_ll(root, "expired_at", 0);
    j->cancelling_at = oab__json_ll(root, "cancelling_at", 0);
    j->cancelled_at = oab__json_ll(root, "cancelled_at", 0);

    const cJSON *rc = cJSON_GetObjectItemCaseSensitive(root, "request_counts");
    if (cJSON_IsObject(rc)) {
        j->has_request_counts = 1;
        j->count_total = oab__json_ll(rc, "total", 0);
        j->count_completed = oab__json_ll(rc, "completed", 0);
        j->count_failed = oab__json_ll(rc, "failed", 0);
    }
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(root, "usage");
    if (cJSON_IsObject(u)) {
        j->has_usage = 1;
        j->input_tokens = oab__json_ll(u, "input_tokens", 0);
        j->output_tokens = oab__json_ll(u, "output_tokens", 0);
        j->total_tokens = oab__json_ll(u, "total_tokens", 0);
        j->cached_tokens = oab__json_ll(
            cJSON_GetObjectItemCaseSensitive(u, "input_tokens_details"),
            "cached_tokens", 0);
        j->reasoning_tokens = oab__json_ll(
            cJSON_GetObjectItemCaseSensitive(u, "output_tokens_details"),
            "reasoning_tokens", 0);
    }

    const cJSON *md = cJSON_GetObjectItemCaseSensitive(root, "metadata");
    if (cJSON_IsObject(md)) {
        size_t n = (size_t)cJSON_GetArraySize(md);
        if (n) {
            j->metadata = calloc(n, sizeof *j->metadata);
            if (!j->metadata)
                return oab__err(err, OAB_ENOMEM, 0, "out of memory");
        }
        const cJSON *kv;
        cJSON_ArrayForEach(kv, md)
        {
            if (!kv->string || !cJSON_IsString(kv))
                continue; /* null values: the pair is not set */
            oab_kv *slot = &j->metadata[j->n_metadata];
            slot->key = oab__strdup(kv->string);
            slot->value = oab__strdup(kv->valuestring);
            j->n_metadata++;
            if (!slot->key || !slot->value)
                return oab__err(err, OAB_ENOMEM, 0, "out of memory");
        }
    }

    const cJSON *errs = cJSON_GetObjectItemCaseSensitive(root, "errors");
    const cJSON *data = cJSON_IsObject(errs)
                            ? cJSON_GetObjectItemCaseSensitive(errs, "data")
                            : NULL;
    if (cJSON_IsArray(data)) {
        size_t n = (size_t)cJSON_GetArraySize(data);
        if (n) {
            j->errors = calloc(n, sizeof *j->errors);
            if (!j->errors)
                return oab__err(err, OAB_ENOMEM, 0, "out of memory");
        }
        const cJSON *e;
        cJSON_ArrayForEach(e, data)
        {
            if (!cJSON_IsObject(e))
                continue;
            oab_batch_error *be = &j->errors[j->n_errors++];
            be->line = (long)oab__json_ll(e, "line", 0);
            if (take_str(&be->code, e, "code", 0) ||
                take_str(&be->message, e, "message", 0) ||
                take_str(&be->param, e, "param", 0))
                return oab__err(err, OAB_ENOMEM, 0, "out of memory");
        }
    }
    return OAB_OK;
}

oab_status oab__job_from_cjson(oab_job **out, const cJSON *root,
                               const char *raw, size_t raw_len,
                               oab_error *err)
{
    *out = NULL;
    if (!cJSON_IsObject(root))
        return oab__err(err, OAB_EPROTO, 0, "batch object: not a JSON object");
    oab_job *j = calloc(1, sizeof *j);
    if (!j)
        return oab__err(err, OAB_ENOMEM, 0, "out of memory");
    oab_status st = job_from_json(j, root, err);
    if (st == OAB_OK) {
        j->raw_json = raw ? oab__strndup(raw, raw_len) : oab__json_print(root);
        if (!j->raw_json)
            st = oab__err(err, OAB_ENOMEM, 0, "out of memory");
    }
    if (st != OAB_OK) {
        oab_job_free(j);
        return st;
    }
    *out = j;
    return OAB_OK;
}

oab_status oab_job_parse(oab_job **out, const char *json, size_t len,
                         oab_error *err)
{
    if (!out)
        return oab__err(err, OAB_EINVAL, 0, "out is NULL");
    *out = NULL;
    cJSON *root;
    oab_status st = parse_root(&root, json, len, "batch object", err);
    if (st != OAB_OK)
        return st;
    st = oab__job_from_cjson(out, root, json, len, err);
    cJSON_Delete(root);
    return st;
}

oab_status oab_job_dup(oab_job **out, const oab_job *job)
{
    if (!out || !job)
        return OAB_EINVAL;
    *out = NULL;
    /* The raw JSON holds every field: parse it again. A job built by hand
     * without raw JSON is copied field by field. */
    if (job->raw_json)
        return oab_job_parse(out, job->raw_json, strlen(job->raw_json), NULL);
    oab_job *j = calloc(1, sizeof *j);
    if (!j)
        return OAB_ENOMEM;
    *j = *job;
    j->id = j->object = j->endpoint = j->model = j->input_file_id = NULL;
    j->output_file_id = j->error_file_id = j->completion_window = NULL;
    j->status_text = j->raw_json = NULL;
    j->metadata = NULL;
    j->errors = NULL;
    j->n_metadata = j->n_errors = 0;
    int bad = oab__set_str(&j->id, job->id) || oab__set_str(&j->object, job->object) ||
              oab__set_str(&j->endpoint, job->endpoint) ||
              oab__set_str(&j->model, job->model) ||
              oab__set_str(&j->input_file_id, job->input_file_id) ||
              oab__set_str(&j->output_file_id, job->output_file_id) ||
              oab__set_str(&j->error_file_id, job->error_file_id) ||
              oab__set_str(&j->completion_window, job->completion_window) ||
              oab__set_str(&j->status_text, job->status_text);
    if (!bad && job->n_metadata) {
        j->metadata = calloc(job->n_metadata, sizeof *j->metadata);
        bad = !j->metadata;
        for (size_t i = 0; !bad && i < job->n_metadata; i++) {
            j->n_metadata++;
            bad = oab__set_str(&j->metadata[i].key, job->metadata[i].key) ||
                  oab__set_str(&j->metadata[i].value, job->metadata[i].value);
        }
    }
    if (!bad && job->n_errors) {
        j->errors = calloc(job->n_errors, sizeof *j->errors);
        bad = !j->errors;
        for (size_t i = 0; !bad && i < job->n_errors; i++) {
            j->n_errors++;
            j->errors[i].line = job->errors[i].line;
            bad = oab__set_str(&j->errors[i].code, job->errors[i].code) ||
                  oab__set_str(&j->errors[i].message, job->errors[i].message) ||
                  oab__set_str(&j->errors[i].param, job->errors[i].param);
        }
    }
    if (bad) {
        oab_job_free(j);
        return OAB_ENOMEM;
    }
    *out = j;
    return OAB_OK;
}

void oab_job_list_free(oab_job_list *list)
{
    if (!list)
        return;
    for (size_t i = 0; i < list->n; i++)
        oab_job_free(list->jobs[i]);
    free(list->jobs);
    free(list->first_id);
    free(list->last_id);
    free(list);
}
