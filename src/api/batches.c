/* batches.c - the Batches API: create, retrieve, cancel, list. */

#include "oaibatch.h"
#include "api/anthropic.h"
#include "api/batches.h"
#include "api/http.h"
#include "core/job.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/str.h"
#include "util/limits.h"
#include <stdlib.h>
#include <string.h>


/* Characters, not bytes: count UTF-8 lead bytes. */
static size_t utf8_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

static oab_status job_from_answer(oab_client *c, oab_job **out, cJSON *root,
                                  const char *raw, size_t raw_len)
{
    oab_error e;
    oab_job *j = NULL;
    oab_status st = oab__job_from_cjson(&j, root, raw, raw_len, &e);
    if (st != OAB_OK)
        return oab__client_fail(c, st == OAB_ENOMEM ? OAB_ENOMEM : OAB_EPROTO,
                                "%s", e.message);
    if (out)
        *out = j;
    else
        oab_job_free(j);
    return OAB_OK;
}

/* A JSON call that answers with one Batch object. */
static oab_status batch_call(oab_client *c, oab_job **out, const char *method,
                             const char *path, const char *body)
{
    cJSON *root = NULL;
    char *raw = NULL;
    size_t raw_len = 0;
    oab_status st = oab__http_json(c, method, path, NULL, body, &root, &raw, &raw_len);
    if (st == OAB_OK)
        st = job_from_answer(c, out, root, raw, raw_len);
    cJSON_Delete(root);
    free(raw);
    return st;
}

static oab_status batch_path(oab__buf *b, const char *id, const char *suffix)
{
    oab_status st = oab__buf_puts(b, "/batches/");
    if (st == OAB_OK)
        st = oab__url_escape(b, id);
    if (st == OAB_OK && suffix)
        st = oab__buf_puts(b, suffix);
    return st;
}

/* Checks the options; builds the body of POST /batches into b. */
static oab_status create_body(oab_client *c, oab__buf *b, const char *input_file_id,
                              const oab_batch_options *o)
{
    if (o->n_metadata > OAB__MAX_METADATA)
        return oab__client_fail(c, OAB_EINVAL,
                                "metadata: %zu pairs, at most %d allowed",
                                o->n_metadata, OAB__MAX_METADATA);
    if (o->n_metadata && (!o->metadata_keys || !o->metadata_values))
        return oab__client_fail(c, OAB_EINVAL, "metadata: keys or values are NULL");
    for (size_t i = 0; i < o->n_metadata; i++) {
        const char *k = o->metadata_keys[i], *v = o->metadata_values[i];
        if (!k || !*k || !v)
            return oab__client_fail(c, OAB_EINVAL,
                                    "metadata pair %zu: empty key or NULL value", i);
        if (utf8_len(k) > OAB__MAX_METADATA_KEY)
            return oab__client_fail(c, OAB_EINVAL,
                                    "metadata key \"%.20s...\": longer than %d "
                                    "characters", k, OAB__MAX_METADATA_KEY);
        if (utf8_len(v) > OAB__MAX_METADATA_VALUE)
            return oab__client_fail(c, OAB_EINVAL,
                                    "metadata value of \"%s\": longer than %d "
                                    "characters", k, OAB__MAX_METADATA_VALUE);
        for (size_t j = 0; j < i; j++)
            if (strcmp(o->metadata_keys[j], k) == 0)
                return oab__client_fail(c, OAB_EINVAL,
                                        "metadata key \"%s\" given twice", k);
    }
    if (o->output_expires_after_s < 0)
        return oab__client_fail(c, OAB_EINVAL, "output_expires_after_s < 0");
    const char *endpoint = o->endpoint ? o->endpoint : "/v1/chat/completions";
    const char *window = o->completion_window ? o->completion_window : "24h";
    if (!*endpoint || endpoint[0] != '/')
        return oab__client_fail(c, OAB_EINVAL,
                                "endpoint \"%s\" must start with /v1/", endpoint);

    oab_status st = oab__buf_puts(b, "{\"input_file_id\":");
    if (!st) st = oab__buf_json_string(b, input_file_id, strlen(input_file_id));
    if (!st) st = oab__buf_puts(b, ",\"endpoint\":");
    if (!st) st = oab__buf_json_string(b, endpoint, strlen(endpoint));
    if (!st) st = oab__buf_puts(b, ",\"completion_window\":");
    if (!st) st = oab__buf_json_string(b, window, strlen(window));
    if (!st && o->n_metadata) {
        st = oab__buf_puts(b, ",\"metadata\":{");
        for (size_t i = 0; !st && i < o->n_metadata; i++) {
            const char *k = o->metadata_keys[i], *v = o->metadata_values[i];
            if (i)
                st = oab__buf_putc(b, ',');
            if (!st) st = oab__buf_json_string(b, k, strlen(k));
            if (!st) st = oab__buf_putc(b, ':');
            if (!st) st = oab__buf_json_string(b, v, strlen(v));
        }
        if (!st) st = oab__buf_putc(b, '}');
    }
    if (!st && o->output_expires_after_s > 0)
        st = oab__buf_printf(b, ",\"output_expires_after\":{\"anchor\":"
                                "\"created_at\",\"seconds\":%lld}",
                             o->output_expires_after_s);
    if (!st) st = oab__buf_putc(b, '}');
    if (st)
        return oab__client_fail(c, st, "out of memory");
    return OAB_OK;
}

oab_status oab_batch_create(oab_client *c, oab_job **out, const char *input_file_id,
                            const oab_batch_options *opts)
{
    if (out)
        *out = NULL;
    if (!c)
        return OAB_EINVAL;
    oab__client_clear_error(c);
    oab_status st = OAB__CLIENT_OPTIONS_CHECK(c, opts, OAB_BATCH_OPTIONS_VERSION,
                                              "oab_batch_options");
    if (st != OAB_OK)
        return st;
    if (oab__anth(c))
        return oab__client_fail(c, OAB_EUNSUPPORTED, "Anthropic's batches take "
                                "their requests inline, not as a file: use "
                                "oab_batch_create_job");
    if (!input_file_id || !*input_file_id)
        return oab__client_fail(c, OAB_EINVAL, "input_file_id is empty");
    oab_batch_options dflt = OAB_BATCH_OPTIONS_INIT;
    if (!opts)
        opts = &dflt;
    oab__buf body = OAB__BUF_INIT;
    st = create_body(c, &body, input_file_id, opts);
    if (st == OAB_OK) {
        /* tried again only when surely not made (oab__http_req) */
        oab__http_req req;
        memset(&req, 0, sizeof req);
        req.method = "POST";
        req.path = "/batches";
        req.json = body.data;
        req.json_len = body.len;
        req.range_from = -1;
        req.not_idempotent = 1;
        cJSON *root = NULL;
        char *raw = NULL;
        size_t raw_len = 0;
        st = oab__http_json_req(c, &req, &root, &raw, &raw_len);
        if (st == OAB_OK)
            st = job_from_answer(c, out, root, raw, raw_len);
        cJSON_Delete(root);
        free(raw);
    }
    oab__buf_free(&body);
    return st;
}

oab_status oab_batch_retrieve(oab_client *c, oab_job **out, const char *batch_id)
{
    if (out)
        *out = NULL;
    if (!c || !out)
        return OAB_EINVAL;
    if (oab__anth(c))
        return oab__anth_retrieve(c, out, batch_id);
    if (!batch_id || !*batch_id)
        return oab__client_fail(c, OAB_EINVAL, "batch id is empty");
    oab__buf p = OAB__BUF_INIT;
    if (batch_path(&p, batch_id, NULL) != OAB_OK)
        return oab__client_fail(c, OAB_ENOMEM, "out of memory");
    oab_status st = batch_call(c, out, "GET", p.data, NULL);
    oab__buf_free(&p);
    return st;
}

oab_status oab_batch_cancel(oab_client *c, oab_job **out, const char *batch_id)
{
    if (out)
        *out = NULL;
    if (!c)
        return OAB_EINVAL;
    if (oab__anth(c))
        return oab__anth_cancel(c, out, batch_id);
    if (!batch_id || !*batch_id)
        return oab__client_fail(c, OAB_EINVAL, "batch id is empty");
    oab__buf p = OAB__BUF_INIT;
    if (batch_path(&p, batch_id, "/cancel") != OAB_OK)
        return oab__client_fail(c, OAB_ENOMEM, "out of memory");
    oab_status st = batch_call(c, out, "POST", p.data, NULL);
    oab__buf_free(&p);
    return st;
}

oab_status oab__query_add(oab__buf *q, const char *name, const char *value)
{
    if (!value || !*value)
        return OAB_OK;
    oab_status st = oab__buf_printf(q, "%s%s=", q->len ? "&" : "", name);
    return st ? st : oab__url_escape(q, value);
}

static oab_status openai_item(oab_job **out, const cJSON *item, oab_error *err)
{
    return oab__job_from_cjson(out, item, NULL, 0, err);
}

oab_status oab__list_page_cursor(oab_client *c, const cJSON *root,
                                 const char *last_item_id, char **first_id,
                                 char **last_id, int *has_more)
{
    *has_more = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "has_more"));
    const char *last = oab__json_str(root, "last_id");
    /* some servers leave last_id out: take the last item's id */
    if (oab__set_str(first_id, oab__json_str(root, "first_id")) ||
        oab__set_str(last_id, last ? last : last_item_id))
        return oab__client_fail(c, OAB_ENOMEM, "out of memory");
    return OAB_OK;
}

oab_status oab__job_list_page(oab_client *c, oab_job_list **out, cJSON *root,
                              const char *what, oab__job_item_fn parse)
{
    oab_status st = OAB_OK;
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
    if (!cJSON_IsArray(data)) {
        cJSON_Delete(root);
        return oab__client_fail(c, OAB_EPROTO, "%s: no \"data\" array "
                                "in the answer", what);
    }
    oab_job_list *l = calloc(1, sizeof *l);
    size_t n = (size_t)cJSON_GetArraySize(data);
    if (!l || (n && !(l->jobs = calloc(n, sizeof *l->jobs)))) {
        free(l);
        cJSON_Delete(root);
        return oab__client_fail(c, OAB_ENOMEM, "out of memory");
    }
    const cJSON *item;
    cJSON_ArrayForEach(item, data)
    {
        oab_error e;
        st = parse(&l->jobs[l->n], item, &e);
        if (st != OAB_OK) {
            st = oab__client_fail(c, st == OAB_ENOMEM ? OAB_ENOMEM : OAB_EPROTO,
                                  "%s: item %zu: %s", what, l->n, e.message);
            break;
        }
        l->n++;
    }
    if (st == OAB_OK)
        st = oab__list_page_cursor(c, root, l->n ? l->jobs[l->n - 1]->id : NULL,
                                   &l->first_id, &l->last_id, &l->has_more);
    cJSON_Delete(root);
    if (st != OAB_OK) {
        oab_job_list_free(l);
        return st;
    }
    *out = l;
    return OAB_OK;
}

oab_status oab_batch_list(oab_client *c, oab_job_list **out, int limit,
                          const char *after)
{
    if (out)
        *out = NULL;
    if (!c || !out)
        return OAB_EINVAL;
    if (oab__anth(c))
        return oab__anth_list(c, out, limit, NULL, after);
    if (limit < 0 || limit > 100)
        return oab__client_fail(c, OAB_EINVAL, "limit %d: must be 1..100 (0 = "
                                "the server's default)", limit);
    oab__buf q = OAB__BUF_INIT;
    char lim[16];
    snprintf(lim, sizeof lim, "%d", limit);
    oab_status st = oab__query_add(&q, "after", after);
    if (!st)
        st = oab__query_add(&q, "limit", limit > 0 ? lim : NULL);
    if (st) {
        oab__buf_free(&q);
        return oab__client_fail(c, OAB_ENOMEM, "out of memory");
    }
    cJSON *root = NULL;
    st = oab__http_json(c, "GET", "/batches", q.data, NULL, &root, NULL, NULL);
    oab__buf_free(&q);
    if (st != OAB_OK)
        return st;
    return oab__job_list_page(c, out, root, "GET /batches", openai_item);
}

oab_status oab_batch_list_all(oab_client *c, int limit, oab_job_fn fn, void *userdata)
{
    if (!c)
        return OAB_EINVAL;
    if (!fn)
        return oab__client_fail(c, OAB_EINVAL, "fn is NULL");
    char *after = NULL;
    oab_status st;
    for (;;) {
        oab_job_list *l = NULL;
        st = oab_batch_list(c, &l, limit, after);
        if (st != OAB_OK)
            break;
        for (size_t i = 0; i < l->n; i++)
            if (fn(l->jobs[i], userdata) != 0) {
                st = oab__client_fail(c, OAB_ESTOPPED, "listing stopped by the caller");
                break;
            }
        int more = st == OAB_OK && l->has_more && l->n > 0 && l->last_id &&
                   !(after && strcmp(after, l->last_id) == 0);
        if (more) {
            free(after);
            after = oab__strdup(l->last_id);
            if (!after)
                st = oab__client_fail(c, OAB_ENOMEM, "out of memory");
        }
        oab_job_list_free(l);
        if (st != OAB_OK || !more)
            break;
    }
    free(after);
    return st;
}
