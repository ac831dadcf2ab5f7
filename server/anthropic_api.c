/* anthropic_api.c - Anthropic's Messages and Message Batches API in
 * front of the engine (see anthropic_api.h for the design): requests are
 * translated with oab_anthropic_params_to_openai, answers with
 * oab_anthropic_message_from_openai (core/anthropic_serve.c). */
#include "oaibatch.h"
#include <cjson/cJSON.h>
#include "core/anthropic.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/idset.h"
#include "util/json.h"
#include "util/str.h"
#include "anthropic_api.h"
#include "apierr.h"
#include "db.h"
#include "engine.h"
#include "testmodel.h"
#include "upstream.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Anthropic's own cap of requests per batch. */
#define ANTH_MAX_REQUESTS 100000
#define ANTH_CHAT "/v1/chat/completions"

void srv_anth_owner(char *owner)
{
    /* OpenAI tags are "" or 16 lowercase hex digits: "A" + 15 of them is
     * neither */
    char t[17];
    snprintf(t, sizeof t, "A%.15s", owner);
    memcpy(owner, t, sizeof t);
}

/* ---- replies ---- */

static const char *error_type(unsigned status)
{
    switch (status) {
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 413: return "request_too_large";
    case 429: return "rate_limit_error";
    case 529: return "overloaded_error";
    default: return status >= 500 ? "api_error" : "invalid_request_error";
    }
}

/* {"type":"error","error":{"type","message"}} (new, or NULL). */
static cJSON *error_object(unsigned status, const char *message)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *e = o && cJSON_AddStringToObject(o, "type", "error")
                   ? cJSON_AddObjectToObject(o, "error")
                   : NULL;
    if (!e || !cJSON_AddStringToObject(e, "type", error_type(status)) ||
        !cJSON_AddStringToObject(e, "message", message ? message : "")) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* o (taken) as the reply's body; 500 without a body when out of memory. */
static void reply_json(srv_anth_reply *rep, unsigned status, cJSON *o)
{
    rep->text = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    rep->len = rep->text ? strlen(rep->text) : 0;
    rep->status = rep->text ? status : 500;
}

void srv_anth_error(srv_anth_reply *rep, unsigned status, const char *message)
{
    reply_json(rep, status, error_object(status, message));
}

/* An errored result line {"custom_id","result":{"type":"errored",
 * "error":ERROR}} appended to b; 0 or -1 (out of memory). */
static int errored_line(oab__buf *b, const char *cid, unsigned status,
                        const char *message)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *r = o && cJSON_AddStringToObject(o, "custom_id", cid)
                   ? cJSON_AddObjectToObject(o, "result")
                   : NULL;
    cJSON *e = error_object(status, message);
    int ok = r && e && cJSON_AddStringToObject(r, "type", "errored");
    if (ok && cJSON_AddItemToObject(r, "error", e))
        e = NULL;
    else
        ok = 0;
    cJSON_Delete(e);
    char *t = ok ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    ok = t && oab__buf_puts(b, t) == OAB_OK && oab__buf_puts(b, "\n") == OAB_OK;
    free(t);
    return ok ? 0 : -1;
}

/* One of the translations (oab_anthropic_params_to_openai,
 * oab_anthropic_message_from_openai: text in, new text out) applied to a
 * JSON value; err cleared first. */
typedef oab_status (*text_fn)(char **out, const char *in, size_t len, oab_error *err);

static oab_status translate(text_fn fn, const cJSON *in, char **out, oab_error *err)
{
    memset(err, 0, sizeof *err);
    *out = NULL;
    char *t = in ? cJSON_PrintUnformatted(in) : NULL;
    oab_status st = t ? fn(out, t, strlen(t), err) : OAB_ENOMEM;
    free(t);
    return st;
}

/* '{"custom_id":' and the id, the start of every line written here. */
static int put_cid(oab__buf *b, const char *cid)
{
    return oab__buf_puts(b, "{\"custom_id\":") != OAB_OK ||
           oab__buf_json_string(b, cid, strlen(cid)) != OAB_OK;
}

/* ---- the message_batch object ---- */

static cJSON *rfc3339(long long t)
{
    if (t <= 0)
        return cJSON_CreateNull();
    time_t tt = (time_t)t;
    struct tm tm;
    char b[32];
    if (!gmtime_r(&tt, &tm) || !strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", &tm))
        return cJSON_CreateNull();
    return cJSON_CreateString(b);
}

static long long num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? (long long)v->valuedouble : 0;
}

static int is_status(const char *st, const char *const *set)
{
    for (; st && *set; set++)
        if (!strcmp(st, *set))
            return 1;
    return 0;
}

static const char *const ENDED[] = {"completed", "cancelled", "expired", "failed", NULL};

/* The Anthropic view of batch id of owner (new), NULL when there is none;
 * *ended (may be NULL) 1 when it has ended. Called under db_lock. */
static cJSON *batch_view(srv *s, const char *id, const char *owner,
                         const char *base, int *ended)
{
    long long n_req = 0, n_ref = 0;
    char *refused = NULL;
    if (srv_db_anth_get(s->db, id, &n_req, &n_ref, &refused) != SQLITE_ROW)
        return NULL;
    free(refused);
    cJSON *b = srv_batch_json(s->db, id, owner);
    if (!b)
        return NULL;
    const char *st = oab__json_str(b, "status");
    int end = is_status(st, ENDED);
    const cJSON *rc = cJSON_GetObjectItemCaseSensitive(b, "request_counts");
    long long total = num(rc, "total"), done = num(rc, "completed"),
              failed = num(rc, "failed");
    if (!total)
        total = n_req - n_ref; /* still validating (or failed there) */
    long long rest = total - done - failed;
    if (rest < 0)
        rest = 0;
    long long ended_at = 0;
    static const char *const at[] = {"completed_at", "cancelled_at", "expired_at",
                                     "failed_at"};
    for (size_t i = 0; i < 4 && !ended_at; i++)
        ended_at = num(b, at[i]);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddStringToObject(o, "type", "message_batch");
    cJSON_AddStringToObject(o, "processing_status",
                            end ? "ended"
                            : st && !strcmp(st, "cancelling") ? "canceling"
                                                              : "in_progress");
    cJSON *c = cJSON_AddObjectToObject(o, "request_counts");
    cJSON_AddNumberToObject(c, "processing", (double)(end ? 0 : rest));
    cJSON_AddNumberToObject(c, "succeeded", (double)done);
    cJSON_AddNumberToObject(c, "errored",
                            (double)(n_ref + failed +
                                     (st && !strcmp(st, "failed") ? rest : 0)));
    cJSON_AddNumberToObject(c, "canceled",
                            (double)(st && !strcmp(st, "cancelled") ? rest : 0));
    cJSON_AddNumberToObject(c, "expired",
                            (double)(st && !strcmp(st, "expired") ? rest : 0));
    cJSON_AddItemToObject(o, "ended_at", rfc3339(end ? ended_at : 0));
    cJSON_AddItemToObject(o, "created_at", rfc3339(num(b, "created_at")));
    cJSON_AddItemToObject(o, "expires_at", rfc3339(num(b, "expires_at")));
    cJSON_AddNullToObject(o, "archived_at");
    cJSON_AddItemToObject(o, "cancel_initiated_at", rfc3339(num(b, "cancelling_at")));
    if (end) {
        char *u = oab__sprintf("%s/v1/messages/batches/%s/results", base, id);
        cJSON_AddStringToObject(o, "results_url", u ? u : "");
        free(u);
    } else {
        cJSON_AddNullToObject(o, "results_url");
    }
    cJSON_Delete(b);
    if (ended)
        *ended = end;
    return o;
}

/* 404 for a batch a lookup did not find, or 500 when the lookup failed
 * in the database (failed: srv_db_failed, read under the lock): the
 * batch may well exist, and a client must not take it for gone. */
static void not_found(srv_anth_reply *rep, const char *id, int failed)
{
    if (failed)
        return srv_anth_error(rep, 500, SRV_DB_UNAVAILABLE);
    char msg[320];
    snprintf(msg, sizeof msg, "No message batch with id '%.128s'.", id);
    srv_anth_error(rep, 404, msg);
}

void srv_anth_batch_get(srv *s, const srv_anth_in *in, srv_anth_reply *rep)
{
    pthread_mutex_lock(&s->db_lock);
    cJSON *o = batch_view(s, in->id, in->owner, in->base, NULL);
    int failed = !o && srv_db_failed(s->db);
    pthread_mutex_unlock(&s->db_lock);
    if (!o)
        return not_found(rep, in->id, failed);
    reply_json(rep, 200, o);
}

/* ---- create ---- */

/* The requests of a create body, checked as a whole (custom_ids, params
 * objects); a message naming the first problem into msg, or 0. */
static int check_requests(const cJSON *reqs, char *msg, size_t n)
{
    if (!cJSON_IsArray(reqs) || !reqs->child) {
        snprintf(msg, n, "requests: must be a non-empty array.");
        return -1;
    }
    int count = cJSON_GetArraySize(reqs);
    if (count > ANTH_MAX_REQUESTS || count > OAB_MAX_LINES) {
        snprintf(msg, n, "requests: %d requests; this server takes at most %d in one batch.",
                 count, OAB_MAX_LINES < ANTH_MAX_REQUESTS ? OAB_MAX_LINES : ANTH_MAX_REQUESTS);
        return -1;
    }
    oab__idset ids = OAB__IDSET_INIT;
    int i = 0, bad = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, reqs)
    {
        const char *cid = oab__json_str(r, "custom_id");
        int added = 0;
        if (!cJSON_IsObject(r)) {
            snprintf(msg, n, "requests[%d]: must be an object.", i);
        } else if (!cid) {
            snprintf(msg, n, "requests[%d].custom_id: Field required.", i);
        } else if (!oab__anthropic_id_ok(cid)) {
            snprintf(msg, n, "requests[%d].custom_id: must be 1 to 64 characters of"
                     " [A-Za-z0-9_-].", i);
        } else if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(r, "params"))) {
            snprintf(msg, n, "requests[%d].params: Field required (an object).", i);
        } else if (oab__idset_add(&ids, cid, strlen(cid), i, NULL, &added) != OAB_OK) {
            snprintf(msg, n, "out of memory");
        } else if (!added) {
            snprintf(msg, n, "requests[%d].custom_id: '%s' is used more than once;"
                     " custom_ids must be unique within a batch.", i, cid);
        } else {
            i++;
            continue;
        }
        bad = 1;
        break;
    }
    oab__idset_free(&ids);
    return bad ? -1 : 0;
}

/* Translates each request into an input line (in) or an errored result
 * (refused); -1 when out of memory. */
static int translate_requests(const cJSON *reqs, oab__buf *in, oab__buf *refused,
                              long long *n_refused)
{
    const char *model = NULL;
    const cJSON *r;
    cJSON_ArrayForEach(r, reqs)
    {
        const char *cid = oab__json_str(r, "custom_id");
        const cJSON *params = cJSON_GetObjectItemCaseSensitive(r, "params");
        const char *pm = oab__json_str(params, "model");
        char *body = NULL;
        oab_error err;
        oab_status st = translate(oab_anthropic_params_to_openai, params, &body, &err);
        if (st == OAB_ENOMEM)
            return -1;
        if (st == OAB_OK && model && pm && strcmp(model, pm) != 0) {
            snprintf(err.message, sizeof err.message,
                     "params.model: this server runs one model per batch; the batch's"
                     " first request uses '%.200s'", model);
            st = OAB_EVALIDATION;
        }
        if (st != OAB_OK) {
            free(body);
            (*n_refused)++;
            if (errored_line(refused, cid, 400, err.message))
                return -1;
            continue;
        }
        if (!model)
            model = pm;
        int bad = put_cid(in, cid) ||
                  oab__buf_puts(in, ",\"method\":\"POST\",\"url\":\"" ANTH_CHAT "\",\"body\":") ||
                  oab__buf_puts(in, body) || oab__buf_puts(in, "}\n");
        free(body);
        if (bad)
            return -1;
    }
    return 0;
}

void srv_anth_batch_create(srv *s, const srv_anth_in *in, srv_anth_reply *rep)
{
    const cJSON *reqs = cJSON_GetObjectItemCaseSensitive(in->body, "requests");
    char msg[400];
    if (check_requests(reqs, msg, sizeof msg))
        return srv_anth_error(rep, 400, msg);
    oab__buf lines = OAB__BUF_INIT, refused = OAB__BUF_INIT;
    long long n_refused = 0;
    if (translate_requests(reqs, &lines, &refused, &n_refused)) {
        oab__buf_free(&lines);
        oab__buf_free(&refused);
        return srv_anth_error(rep, 500, "Out of memory.");
    }
    char id[48], fid[40], rid[40], refused_name[96];
    srv_random_id(id, sizeof id, "msgbatch_", 24);
    srv_random_id(fid, sizeof fid, "file-", 22);
    srv_random_id(rid, sizeof rid, "file-", 22);
    snprintf(refused_name, sizeof refused_name, "%s_refused.jsonl", id);
    char *in_path = oab__sprintf("%s/%s", s->files_dir, fid);
    char *ref_path = oab__sprintf("%s/%s", s->files_dir, refused_name);
    /* both files on disk (fsynced) before the rows that name them */
    int ok = in_path && ref_path &&
             oab__write_file_atomic(in_path, lines.data ? lines.data : "", lines.len) ==
                 OAB_OK &&
             (!n_refused ||
              oab__write_file_atomic(ref_path, refused.data, refused.len) == OAB_OK);
    cJSON *o = NULL;
    if (ok) {
        char name[80];
        snprintf(name, sizeof name, "%s_requests.jsonl", id);
        long long now = oab__unix_now();
        long long window = s->cfg.window_seconds ? s->cfg.window_seconds : 86400;
        /* shared state: the files' bodies go in on a connection of
         * their own, so the node's other API calls do not wait */
        srv_db *side = NULL;
        srv_db *h = srv_long_db_begin(s, &side);
        ok = h && srv_db_begin(h) == SQLITE_OK;
        if (ok) {
            /* the refused requests' results are a file of the batch's
             * owner too, so that (shared state) every node has them */
            ok = srv_db_file_insert(h, fid, in->owner, "batch", name,
                                    (long long)lines.len, now, fid, 0) == SQLITE_OK &&
                 srv_db_file_store(h, fid, in_path) == SQLITE_OK &&
                 (!n_refused ||
                  (srv_db_file_insert(h, rid, in->owner, "batch_output",
                                      refused_name, (long long)refused.len, now,
                                      refused_name, 0) == SQLITE_OK &&
                   srv_db_file_store(h, rid, ref_path) == SQLITE_OK)) &&
                 srv_db_batch_insert(h, id, in->owner, ANTH_CHAT, fid, "24h", now,
                                     now + window, NULL, 0) == SQLITE_OK &&
                 srv_db_anth_insert(h, id, cJSON_GetArraySize(reqs), n_refused,
                                    n_refused ? rid : NULL) == SQLITE_OK;
            if (ok)
                ok = srv_db_commit(h) == SQLITE_OK;
            else
                srv_db_rollback(h);
        }
        if (h) {
            srv_long_db_end(s, side);
            o = ok ? batch_view(s, id, NULL, in->base, NULL) : NULL;
            pthread_mutex_unlock(&s->db_lock);
        }
    }
    if (!ok) {
        if (in_path)
            unlink(in_path);
        if (ref_path)
            unlink(ref_path);
    }
    free(in_path);
    free(ref_path);
    oab__buf_free(&lines);
    oab__buf_free(&refused);
    if (!o)
        return srv_anth_error(rep, 500, "Could not create the message batch.");
    srv_log("message batch %s created (%d requests, %lld refused): validating", id,
            cJSON_GetArraySize(reqs), n_refused);
    srv_engine_wake(s);
    reply_json(rep, 200, o);
}

/* ---- list ---- */

void srv_anth_batch_list(srv *s, const srv_anth_in *in, srv_anth_reply *rep)
{
    long limit = 20;
    if (in->limit) {
        char *end;
        limit = strtol(in->limit, &end, 10);
        if (*end || !*in->limit || limit < 1 || limit > 1000)
            return srv_anth_error(rep, 400, "limit: must be an integer from 1 to 1000.");
    }
    if (in->before && in->after)
        return srv_anth_error(rep, 400, "before_id and after_id cannot be given together.");
    /* newest first; before_id asks for the newer neighbours, read in
     * ascending order and turned round */
    int newer = in->before != NULL;
    cJSON *data = cJSON_CreateArray();
    int has_more = 0, rc;
    pthread_mutex_lock(&s->db_lock);
    rc = srv_db_list(s->db, 1, in->owner, NULL, newer ? in->before : in->after, newer,
                     limit, data, &has_more);
    cJSON *views = cJSON_CreateArray();
    const cJSON *b;
    cJSON_ArrayForEach(b, data)
    {
        cJSON *v = batch_view(s, oab__json_str(b, "id"), NULL, in->base, NULL);
        if (v && newer)
            cJSON_InsertItemInArray(views, 0, v);
        else if (v)
            cJSON_AddItemToArray(views, v);
    }
    pthread_mutex_unlock(&s->db_lock);
    cJSON_Delete(data);
    if (rc != SQLITE_OK) {
        cJSON_Delete(views);
        return srv_anth_error(rep, 500, "Could not read the list.");
    }
    cJSON *o = cJSON_CreateObject();
    int n = cJSON_GetArraySize(views);
    cJSON_AddItemToObject(o, "data", views);
    cJSON_AddBoolToObject(o, "has_more", has_more);
    if (n) {
        cJSON_AddStringToObject(o, "first_id", oab__json_str(cJSON_GetArrayItem(views, 0), "id"));
        cJSON_AddStringToObject(o, "last_id",
                                oab__json_str(cJSON_GetArrayItem(views, n - 1), "id"));
    } else {
        cJSON_AddNullToObject(o, "first_id");
        cJSON_AddNullToObject(o, "last_id");
    }
    reply_json(rep, 200, o);
}

/* ---- cancel, delete ---- */

void srv_anth_batch_cancel(srv *s, const srv_anth_in *in, srv_anth_reply *rep)
{
    pthread_mutex_lock(&s->db_lock);
    cJSON *b = srv_batch_json(s->db, in->id, in->owner);
    int failed = !b && srv_db_failed(s->db);
    const char *st = oab__json_str(b, "status");
    static const char *const can[] = {"validating", "in_progress", NULL};
    int changed = 0;
    if (b && is_status(st, can) &&
        srv_db_batch_cancel(s->db, in->id, oab__unix_now(), &changed) !=
            SQLITE_OK)
        failed = 1;
    int found = b != NULL;
    cJSON_Delete(b);
    cJSON *o = found && !failed ? batch_view(s, in->id, in->owner, in->base,
                                             NULL)
                                : NULL;
    failed = failed || (found && !o);
    pthread_mutex_unlock(&s->db_lock);
    if (!o)
        return not_found(rep, in->id, failed);
    if (changed) {
        srv_log("message batch %s: canceling", in->id);
        srv_engine_wake(s);
    }
    /* canceling or ended already: the batch as it is (cancel is idempotent) */
    reply_json(rep, 200, o);
}

/* The path of the results file of a batch (new). */
#define RESULTS_NAME "%s_anthropic_results.jsonl"
static char *results_path(srv *s, const char *id)
{
    return oab__sprintf("%s/" RESULTS_NAME, s->files_dir, id);
}

void srv_anth_batch_delete(srv *s, const srv_anth_in *in, srv_anth_reply *rep)
{
    int ended = 0;
    char *paths[5] = {0};
    pthread_mutex_lock(&s->db_lock);
    cJSON *v = batch_view(s, in->id, in->owner, in->base, &ended);
    int failed = !v && srv_db_failed(s->db);
    cJSON *b = v && ended ? srv_batch_json(s->db, in->id, in->owner) : NULL;
    int ok = 0;
    if (b && srv_db_begin(s->db) == SQLITE_OK) {
        static const char *const keys[] = {"input_file_id", "output_file_id",
                                           "error_file_id"};
        ok = 1;
        for (int k = 0; k < 3 && ok; k++) {
            const char *f = oab__json_str(b, keys[k]);
            int gone = 0;
            if (!f)
                continue;
            paths[k] = srv_file_path(s->db, s->files_dir, f, NULL);
            ok = srv_db_file_delete(s->db, f, in->owner, &gone) == SQLITE_OK;
        }
        long long n1, n2;
        char *ref = NULL;
        if (ok && srv_db_anth_get(s->db, in->id, &n1, &n2, &ref) == SQLITE_ROW && ref) {
            int gone = 0;
            paths[3] = srv_file_path(s->db, s->files_dir, ref, NULL);
            ok = srv_db_file_delete(s->db, ref, in->owner, &gone) == SQLITE_OK;
        }
        free(ref);
        paths[4] = results_path(s, in->id);
        /* other nodes' caches of the results go too (shared state) */
        char name[128];
        snprintf(name, sizeof name, RESULTS_NAME, in->id);
        ok = ok && srv_db_local_gone(s->db, name) == SQLITE_OK &&
             srv_db_anth_delete(s->db, in->id) == SQLITE_OK &&
             srv_db_commit(s->db) == SQLITE_OK;
        if (!ok)
            srv_db_rollback(s->db);
    }
    pthread_mutex_unlock(&s->db_lock);
    int found = v != NULL;
    cJSON_Delete(b);
    cJSON_Delete(v);
    for (int k = 0; k < 5; k++) {
        if (ok && paths[k])
            unlink(paths[k]);
        free(paths[k]);
    }
    if (!found)
        return not_found(rep, in->id, failed);
    if (!ended) {
        char msg[320];
        snprintf(msg, sizeof msg, "Message batch %.128s is still processing; cancel it"
                 " and wait until it has ended before deleting it.", in->id);
        return srv_anth_error(rep, 400, msg);
    }
    if (!ok)
        return srv_anth_error(rep, 500, "Could not delete the message batch.");
    srv_log("message batch %s deleted", in->id);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", in->id);
    cJSON_AddStringToObject(o, "type", "message_batch_deleted");
    reply_json(rep, 200, o);
}

/* ---- results ---- */

typedef struct rctx {
    oab__buf out;
    int fd, bad;
    const char *fail_msg;   /* a failed batch: its input lines errored so */
} rctx;

static int rflush(rctx *c, int force)
{
    if (c->out.len && (force || c->out.len > (1u << 20))) {
        if (oab__write_all(c->fd, c->out.data, c->out.len) != 0)
            c->bad = 1;
        c->out.len = 0;
    }
    return c->bad;
}

/* The message of an OpenAI error body, or a fallback. */
static const char *body_message(const cJSON *body, char *buf, size_t n, long code)
{
    const char *m = oab__json_str(cJSON_GetObjectItemCaseSensitive(body, "error"), "message");
    if (m)
        return m;
    snprintf(buf, n, "The model server answered HTTP %ld.", code);
    return buf;
}

/* One line of the output or error file -> one Anthropic result line. */
static int result_line(const char *line, size_t len, long lineno, void *ud)
{
    (void)lineno;
    rctx *c = ud;
    cJSON *j = oab__json_parse(line, len);
    const char *cid = oab__json_str(j, "custom_id");
    const cJSON *resp = cJSON_GetObjectItemCaseSensitive(j, "response");
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(j, "error");
    const cJSON *body = cJSON_GetObjectItemCaseSensitive(resp, "body");
    long code = (long)num(resp, "status_code");
    char mbuf[120];
    int bad = 0;
    if (!cid) {
        /* not a result line: nothing to say */
    } else if (code == 200 && cJSON_IsObject(body)) {
        char *msg = NULL;
        oab_error e;
        oab_status st = translate(oab_anthropic_message_from_openai, body, &msg, &e);
        if (st == OAB_OK)
            bad = put_cid(&c->out, cid) ||
                  oab__buf_puts(&c->out, ",\"result\":{\"type\":\"succeeded\",\"message\":") ||
                  oab__buf_puts(&c->out, msg) || oab__buf_puts(&c->out, "}}\n");
        else
            bad = errored_line(&c->out, cid, 500, st == OAB_ENOMEM ? "Out of memory."
                                                                  : e.message);
        free(msg);
    } else if (cJSON_IsObject(err) && !cJSON_IsObject(resp)) {
        const char *ec = oab__json_str(err, "code");
        const char *kind = ec && !strcmp(ec, "batch_cancelled") ? "canceled"
                           : ec && !strcmp(ec, "batch_expired") ? "expired"
                                                                : NULL;
        if (kind)
            bad = put_cid(&c->out, cid) ||
                  oab__buf_printf(&c->out, ",\"result\":{\"type\":\"%s\"}}\n", kind);
        else
            bad = errored_line(&c->out, cid, 500,
                               oab__json_str(err, "message") ? oab__json_str(err, "message")
                                                             : "The request failed.");
    } else {
        bad = errored_line(&c->out, cid, code >= 400 && code < 600 ? (unsigned)code : 500,
                           body_message(body, mbuf, sizeof mbuf, code));
    }
    cJSON_Delete(j);
    if (bad)
        c->bad = 1;
    return rflush(c, 0);
}

/* A line of a failed batch's input: errored with the batch's reason. */
static int failed_line(const char *line, size_t len, long lineno, void *ud)
{
    (void)lineno;
    rctx *c = ud;
    cJSON *j = oab__json_parse(line, len);
    const char *cid = oab__json_str(j, "custom_id");
    if (cid && errored_line(&c->out, cid, 400, c->fail_msg))
        c->bad = 1;
    cJSON_Delete(j);
    return rflush(c, 0);
}

/* Copies the file at path (its lines are results already) into c. */
static void copy_file(rctx *c, const char *path)
{
    char *data = NULL;
    size_t len = 0;
    if (oab__read_file(path, &data, &len) != OAB_OK ||
        oab__buf_append(&c->out, data, len) != OAB_OK)
        c->bad = 1;
    free(data);
    rflush(c, 0);
}

/* Writes the results of ended batch b to path (atomically). */
static int write_results(srv *s, const cJSON *b, const char *id, const char *path)
{
    char *src[3] = {0}, *refused = NULL;
    long long n1, n2;
    pthread_mutex_lock(&s->db_lock);
    static const char *const keys[] = {"output_file_id", "error_file_id", "input_file_id"};
    /* a lookup that failed is not a file gone: nothing is written (a
     * results file without that file's lines would be kept as the
     * batch's results) */
    int lost = 0;
    for (int k = 0; k < 3; k++) {
        const char *f = oab__json_str(b, keys[k]);
        if (f && !(src[k] = srv_file_path(s->db, s->files_dir, f, NULL)))
            lost |= srv_db_failed(s->db);
    }
    int have = srv_db_anth_get(s->db, id, &n1, &n2, &refused) == SQLITE_ROW;
    char *rp = refused ? srv_file_path(s->db, s->files_dir, refused, NULL) : NULL;
    if (refused && !rp)
        lost |= srv_db_failed(s->db);
    have = have && !lost;
    pthread_mutex_unlock(&s->db_lock);
    /* shared state: another node's files come over here, lock-free
     * (the input only for a failed batch, whose lines it names) */
    const char *status = oab__json_str(b, "status");
    int failed = status && !strcmp(status, "failed");
    for (int k = 0; k < 3 && have; k++) {
        const char *f = oab__json_str(b, keys[k]);
        if (src[k] && (k < 2 || failed) &&
            srv_file_local(s->db, f, src[k]) != 0)
            have = 0;
    }
    if (rp && have && srv_file_local(s->db, refused, rp) != 0)
        have = 0;
    rctx c;
    memset(&c, 0, sizeof c);
    char *tmp = oab__sprintf("%s.%d.tmp", path, (int)getpid());
    char rnd[16];
    srv_random_id(rnd, sizeof rnd, "", 8);
    char *tmp2 = tmp ? oab__sprintf("%s%s", tmp, rnd) : NULL;
    c.fd = tmp2 ? open(tmp2, O_WRONLY | O_CREAT | O_TRUNC, 0600) : -1;
    c.bad = c.fd < 0 || !have;
    const char *st = oab__json_str(b, "status");
    for (int k = 0; k < 2 && !c.bad; k++)
        if (src[k] && oab_jsonl_read_path(src[k], result_line, &c, NULL) != OAB_OK)
            c.bad = 1;
    if (!c.bad && st && !strcmp(st, "failed") && src[2]) {
        const cJSON *e0 = cJSON_GetArrayItem(
            cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(b, "errors"),
                                             "data"), 0);
        c.fail_msg = oab__json_str(e0, "message") ? oab__json_str(e0, "message")
                                                  : "The batch failed.";
        if (oab_jsonl_read_path(src[2], failed_line, &c, NULL) != OAB_OK)
            c.bad = 1;
    }
    if (!c.bad && refused) {
        if (rp)
            copy_file(&c, rp);
        else
            c.bad = 1;
    }
    free(rp);
    rflush(&c, 1);
    if (c.fd >= 0) {
        if (fsync(c.fd) != 0)
            c.bad = 1;
        close(c.fd);
    }
    if (!c.bad && rename(tmp2, path) != 0)
        c.bad = 1;
    if (c.bad && tmp2)
        unlink(tmp2);
    oab__buf_free(&c.out);
    for (int k = 0; k < 3; k++)
        free(src[k]);
    free(refused);
    free(tmp);
    free(tmp2);
    return c.bad ? -1 : 0;
}

void srv_anth_batch_results(srv *s, const srv_anth_in *in, srv_anth_reply *rep)
{
    int ended = 0;
    pthread_mutex_lock(&s->db_lock);
    cJSON *v = batch_view(s, in->id, in->owner, in->base, &ended);
    int failed = !v && srv_db_failed(s->db);
    cJSON *b = v && ended ? srv_batch_json(s->db, in->id, in->owner) : NULL;
    pthread_mutex_unlock(&s->db_lock);
    int found = v != NULL;
    cJSON_Delete(v);
    if (!found)
        return not_found(rep, in->id, failed);
    if (!ended) {
        cJSON_Delete(b);
        char msg[320];
        snprintf(msg, sizeof msg, "Message batch %.128s has not ended yet; its results"
                 " are ready when processing_status is 'ended'.", in->id);
        return srv_anth_error(rep, 400, msg);
    }
    /* an ended batch does not change: its results are written once */
    char *path = results_path(s, in->id);
    int fd = path ? open(path, O_RDONLY) : -1;
    if (fd < 0 && path && b && write_results(s, b, in->id, path) == 0)
        fd = open(path, O_RDONLY);
    cJSON_Delete(b);
    free(path);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        if (fd >= 0)
            close(fd);
        return srv_anth_error(rep, 500, "Could not read the batch's results.");
    }
    rep->status = 200;
    rep->fd = fd;
    rep->fd_size = (unsigned long long)sb.st_size;
    rep->type = "application/x-jsonl";
}

/* ---- POST /v1/messages ---- */

void srv_anth_messages(srv *s, const srv_anth_in *in, srv_anth_reply *rep)
{
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(in->body, "stream")))
        return srv_anth_error(rep, 400, "stream: streaming is not offered by this server;"
                                        " send stream: false or leave it out.");
    cJSON *params = cJSON_Duplicate(in->body, 1);
    cJSON_DeleteItemFromObjectCaseSensitive(params, "stream");
    char *body = NULL;
    oab_error err;
    oab_status st = translate(oab_anthropic_params_to_openai, params, &body, &err);
    cJSON_Delete(params);
    if (st != OAB_OK)
        return srv_anth_error(rep, st == OAB_ENOMEM ? 500 : 400,
                              st == OAB_ENOMEM ? "Out of memory." : err.message);
    long status = 0;
    char *answer = NULL;
    if (s->cfg.upstream) {
        oab__buf out = OAB__BUF_INIT;
        srv_upstream_call(s, ANTH_CHAT, body, strlen(body), &status, &out);
        answer = oab__buf_take(&out, NULL);
        if (status == 0) {
            char *m = oab__sprintf("Upstream request failed: %s", answer ? answer : "?");
            free(answer);
            free(body);
            srv_anth_error(rep, 502, m ? m : "Upstream request failed.");
            free(m);
            return;
        }
    } else {
        if (s->cfg.latency_ms)
            oab__sleep((double)s->cfg.latency_ms / 1000.0);
        int fail = srv_fail_knob(s);
        cJSON *bj = fail ? NULL : oab__json_parse(body, strlen(body));
        int tst = 200;
        cJSON *o = bj ? srv_tm_answer(ANTH_CHAT, bj, &tst) : NULL;
        cJSON_Delete(bj);
        if (fail) {
            free(body);
            return srv_anth_error(rep, (unsigned)fail, fail == 429
                                                            ? "Rate limit reached (test knob)."
                                                            : "Internal error (test knob).");
        }
        status = tst;
        answer = o ? cJSON_PrintUnformatted(o) : NULL;
        cJSON_Delete(o);
    }
    free(body);
    if (!answer)
        return srv_anth_error(rep, 500, "Out of memory.");
    if (status != 200) {
        cJSON *aj = oab__json_parse(answer, strlen(answer));
        char mbuf[120];
        unsigned code = status >= 400 && status < 600 ? (unsigned)status : 502;
        srv_anth_error(rep, code, body_message(aj, mbuf, sizeof mbuf, status));
        cJSON_Delete(aj);
        free(answer);
        return;
    }
    char *msg = NULL;
    st = oab_anthropic_message_from_openai(&msg, answer, strlen(answer), &err);
    free(answer);
    if (st != OAB_OK)
        return srv_anth_error(rep, 502, st == OAB_ENOMEM ? "Out of memory." : err.message);
    rep->status = 200;
    rep->text = msg;
    rep->len = strlen(msg);
}
