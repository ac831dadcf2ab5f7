/* anthropic.c - the Anthropic provider's transport: Message Batches
 * create (requests translated and sent inline), retrieve, list, cancel,
 * delete and results (the JSONL stream downloaded, each line translated
 * back to the OpenAI shape and fed to the ordinary results merger). The
 * provider-neutral calls (batches.c, create_job.c, results_batch.c)
 * dispatch here; the translation itself is core/anthropic*.c. */

#include "oaibatch.h"
#include "api/anthropic.h"
#include "api/batches.h"
#include "api/http.h"
#include "core/anthropic.h"
#include "core/result.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/str.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BATCHES "/v1/messages/batches"

int oab__anth(const oab_client *c)
{
    return c && c->provider == OAB_PROVIDER_ANTHROPIC;
}

oab_provider oab_client_provider(const oab_client *c)
{
    return oab__anth(c) ? OAB_PROVIDER_ANTHROPIC : OAB_PROVIDER_OPENAI;
}

void oab__anth_validate_limits(const oab_client *c, oab_validate_options *vo)
{
    if (!oab__anth(c))
        return;
    vo->max_lines = OAB_ANTHROPIC_MAX_REQUESTS;
    vo->max_bytes = OAB_ANTHROPIC_MAX_BATCH_BYTES;
    vo->min_requests = 1; /* Anthropic takes a batch of one request */
}

/* ---- the maps of the client's batches ---- */

typedef struct batch_map {
    char *batch_id;
    oab_anthropic_map *map;
} batch_map;

struct oab__anth_maps {
    batch_map *v;
    size_t n, cap;
};

void oab__anth_client_free(oab_client *c)
{
    if (!c || !c->anth_maps)
        return;
    for (size_t i = 0; i < c->anth_maps->n; i++) {
        free(c->anth_maps->v[i].batch_id);
        oab_anthropic_map_free(c->anth_maps->v[i].map);
    }
    free(c->anth_maps->v);
    free(c->anth_maps);
    c->anth_maps = NULL;
}

static batch_map *find_map(oab_client *c, const char *batch_id)
{
    for (size_t i = 0; c->anth_maps && i < c->anth_maps->n; i++)
        if (strcmp(c->anth_maps->v[i].batch_id, batch_id) == 0)
            return &c->anth_maps->v[i];
    return NULL;
}

/* Keeps map (ownership taken, also on failure) for batch_id. */
static oab_status keep_map(oab_client *c, const char *batch_id, oab_anthropic_map *map)
{
    batch_map *e = find_map(c, batch_id);
    if (e) {
        oab_anthropic_map_free(e->map);
        e->map = map;
        return OAB_OK;
    }
    if (!c->anth_maps && !(c->anth_maps = calloc(1, sizeof *c->anth_maps))) {
        oab_anthropic_map_free(map);
        return OAB_ENOMEM;
    }
    struct oab__anth_maps *m = c->anth_maps;
    batch_map *v = oab__grow(m->v, &m->cap, m->n, sizeof *v, 8);
    char *id = oab__strdup(batch_id);
    if (!v || !id) {
        free(id);
        oab_anthropic_map_free(map);
        return OAB_ENOMEM;
    }
    m->v = v;
    v[m->n].batch_id = id;
    v[m->n].map = map;
    m->n++;
    return OAB_OK;
}

static oab_status need_anthropic(oab_client *c, const char *what)
{
    if (!c)
        return OAB_EINVAL;
    oab__client_clear_error(c);
    if (!oab__anth(c))
        return oab__client_fail(c, OAB_EUNSUPPORTED,
                                "%s: only for a client with provider anthropic", what);
    return OAB_OK;
}

oab_status oab_anthropic_batch_map(oab_client *c, const char *batch_id, char **out)
{
    if (out)
        *out = NULL;
    if (!c || !out)
        return OAB_EINVAL;
    oab__client_clear_error(c);
    if (!batch_id || !*batch_id)
        return oab__client_fail(c, OAB_EINVAL, "batch id is empty");
    batch_map *e = find_map(c, batch_id);
    if (!e) {
        *out = oab__strdup("{}");
        return *out ? OAB_OK : oab__client_fail(c, OAB_ENOMEM, "out of memory");
    }
    oab_status st = oab_anthropic_map_to_json(e->map, out);
    return st == OAB_OK ? st : oab__client_fail(c, st, "out of memory");
}

oab_status oab_anthropic_set_batch_map(oab_client *c, const char *batch_id,
                                       const char *map_json)
{
    if (!c)
        return OAB_EINVAL;
    oab__client_clear_error(c);
    if (!batch_id || !*batch_id || !map_json)
        return oab__client_fail(c, OAB_EINVAL, "batch id or map is empty");
    oab_anthropic_map *m = NULL;
    oab_error e;
    oab_status st = oab_anthropic_map_from_json(&m, map_json, strlen(map_json), &e);
    if (st != OAB_OK)
        return oab__client_fail(c, st, "%s", e.message);
    st = keep_map(c, batch_id, m);
    return st == OAB_OK ? st : oab__client_fail(c, st, "out of memory");
}

/* ---- batch objects ---- */

static oab_status job_answer(oab_client *c, oab_job **out, const cJSON *root,
                             const char *what)
{
    oab_error e;
    oab_job *j = NULL;
    oab_status st = oab__anthropic_job_from_cjson(&j, root, &e);
    if (st != OAB_OK)
        return oab__client_fail(c, st == OAB_ENOMEM ? OAB_ENOMEM : OAB_EPROTO,
                                "%s: %s", what, e.message);
    if (out)
        *out = j;
    else
        oab_job_free(j);
    return OAB_OK;
}

static oab_status batch_path(oab__buf *b, const char *id, const char *suffix)
{
    oab_status st = oab__buf_puts(b, BATCHES "/");
    if (st == OAB_OK)
        st = oab__url_escape(b, id);
    if (st == OAB_OK && suffix)
        st = oab__buf_puts(b, suffix);
    return st;
}

/* A call on one batch that answers with a Message Batch object. */
static oab_status batch_call(oab_client *c, oab_job **out, const char *method,
                             const char *batch_id, const char *suffix)
{
    if (!batch_id || !*batch_id)
        return oab__client_fail(c, OAB_EINVAL, "batch id is empty");
    oab__buf p = OAB__BUF_INIT;
    if (batch_path(&p, batch_id, suffix) != OAB_OK)
        return oab__client_fail(c, OAB_ENOMEM, "out of memory");
    cJSON *root = NULL;
    oab_status st = oab__http_json(c, method, p.data, NULL, NULL, &root, NULL, NULL);
    if (st == OAB_OK)
        st = job_answer(c, out, root, p.data);
    cJSON_Delete(root);
    oab__buf_free(&p);
    return st;
}

oab_status oab__anth_retrieve(oab_client *c, oab_job **out, const char *batch_id)
{
    return batch_call(c, out, "GET", batch_id, NULL);
}

oab_status oab__anth_cancel(oab_client *c, oab_job **out, const char *batch_id)
{
    return batch_call(c, out, "POST", batch_id, "/cancel");
}

oab_status oab_anthropic_batch_delete(oab_client *c, const char *batch_id)
{
    oab_status st = need_anthropic(c, "oab_anthropic_batch_delete");
    if (st != OAB_OK)
        return st;
    if (!batch_id || !*batch_id)
        return oab__client_fail(c, OAB_EINVAL, "batch id is empty");
    oab__buf p = OAB__BUF_INIT;
    if (batch_path(&p, batch_id, NULL) != OAB_OK)
        return oab__client_fail(c, OAB_ENOMEM, "out of memory");
    cJSON *root = NULL;
    st = oab__http_json(c, "DELETE", p.data, NULL, NULL, &root, NULL, NULL);
    cJSON_Delete(root);
    oab__buf_free(&p);
    return st;
}

oab_status oab__anth_list(oab_client *c, oab_job_list **out, int limit,
                          const char *before_id, const char *after_id)
{
    if (limit < 0 || limit > 1000)
        return oab__client_fail(c, OAB_EINVAL, "limit %d: must be 1..1000 (0 = "
                                "the server's default)", limit);
    oab__buf q = OAB__BUF_INIT;
    char lim[16];
    snprintf(lim, sizeof lim, "%d", limit);
    oab_status st = oab__query_add(&q, "before_id", before_id);
    if (!st)
        st = oab__query_add(&q, "after_id", after_id);
    if (!st)
        st = oab__query_add(&q, "limit", limit > 0 ? lim : NULL);
    if (st) {
        oab__buf_free(&q);
        return oab__client_fail(c, OAB_ENOMEM, "out of memory");
    }
    cJSON *root = NULL;
    st = oab__http_json(c, "GET", BATCHES, q.data, NULL, &root, NULL, NULL);
    oab__buf_free(&q);
    if (st != OAB_OK)
        return st;
    return oab__job_list_page(c, out, root, "GET " BATCHES,
                              oab__anthropic_job_from_cjson);
}

oab_status oab_anthropic_batch_list(oab_client *c, oab_job_list **out, int limit,
                                    const char *before_id, const char *after_id)
{
    if (out)
        *out = NULL;
    oab_status st = need_anthropic(c, "oab_anthropic_batch_list");
    if (st != OAB_OK)
        return st;
    if (!out)
        return oab__client_fail(c, OAB_EINVAL, "out is NULL");
    return oab__anth_list(c, out, limit, before_id, after_id);
}

/* ---- create ---- */

/* The body {"requests":[...]} being built, one translated line at a
 * time, in an unnamed temporary file (memory stays flat; the body is
 * streamed from it, again at every attempt). */
typedef struct create_ctx {
    oab_client *c;
    FILE *body;
    unsigned long long len;  /* bytes written */
    size_t n;
    oab_anthropic_options o;
    oab_anthropic_map *map;
    const char *what;     /* "input" or the path, for messages */
    oab_status st;
} create_ctx;

static int create_line(const char *line, size_t len, long lineno, void *ud)
{
    create_ctx *x = ud;
    char *req = NULL;
    oab_error e;
    oab__err_clear(&e);
    oab_status st = oab_anthropic_request_from_openai(&req, line, len, lineno, &x->o,
                                                      x->map, &e);
    if (st != OAB_OK) {
        x->st = oab__client_fail(x->c, st, "%s: %s", x->what, e.message);
        return 1;
    }
    size_t rl = strlen(req);
    if (!x->body) { /* the map alone (oab_anthropic_map_path) */
        oab_free(req);
        return 0;
    }
    if (x->len + rl + 3 > OAB_ANTHROPIC_MAX_BATCH_BYTES) {
        x->st = oab__client_fail(x->c, OAB_ELIMIT,
                                 "%s: line %ld: the translated batch passes "
                                 "Anthropic's %llu bytes; split the input "
                                 "(oab_split_path with max_bytes below that)",
                                 x->what, lineno, OAB_ANTHROPIC_MAX_BATCH_BYTES);
    } else if ((x->n && fputc(',', x->body) == EOF) ||
               fwrite(req, 1, rl, x->body) != rl) {
        x->st = oab__client_fail(x->c, OAB_EIO, "cannot write the batch body to "
                                 "a temporary file: %s", strerror(errno));
    }
    x->len += rl + (x->n ? 1 : 0);
    x->n++;
    oab_free(req);
    return x->st != OAB_OK;
}

/* Options Anthropic's batches cannot carry are refused, not dropped. */
static oab_status check_batch_options(oab_client *c, const oab_batch_options *o)
{
    if (!o)
        return OAB_OK;
    if (o->n_metadata)
        return oab__client_fail(c, OAB_EUNSUPPORTED,
                                "metadata: Anthropic's message batches have none");
    if (o->completion_window && strcmp(o->completion_window, "24h") != 0)
        return oab__client_fail(c, OAB_EUNSUPPORTED,
                                "completion_window \"%s\": Anthropic's batches "
                                "run within 24h", o->completion_window);
    if (o->endpoint && strcmp(o->endpoint, "/v1/chat/completions") != 0)
        return oab__client_fail(c, OAB_EUNSUPPORTED,
                                "endpoint \"%s\": only /v1/chat/completions lines "
                                "are translated to Anthropic", o->endpoint);
    if (o->output_expires_after_s > 0)
        return oab__client_fail(c, OAB_EUNSUPPORTED,
                                "output_expires_after_s: Anthropic keeps results "
                                "29 days, it cannot be set");
    return OAB_OK;
}

static void create_abort(create_ctx *x)
{
    if (x->body)
        fclose(x->body);
    x->body = NULL;
    oab_anthropic_map_free(x->map);
    x->map = NULL;
}

/* An unnamed temporary file in $TMPDIR (else /tmp). */
static FILE *temp_file(void)
{
    const char *base = getenv("TMPDIR");
    char *path = oab__sprintf("%s/oab_anthropic_body_XXXXXX", base && *base ? base : "/tmp");
    int fd = path ? mkstemp(path) : -1;
    if (fd >= 0)
        unlink(path);
    free(path);
    FILE *f = fd >= 0 ? fdopen(fd, "w+b") : NULL;
    if (!f && fd >= 0)
        close(fd);
    return f;
}

static oab_status create_begin(create_ctx *x, oab_client *c, const char *what)
{
    memset(x, 0, sizeof *x);
    x->c = c;
    x->what = what;
    x->o = (oab_anthropic_options)OAB_ANTHROPIC_OPTIONS_INIT;
    x->o.default_max_tokens = c->anth_max_tokens;
    if (oab_anthropic_map_new(&x->map) != OAB_OK)
        return x->st = oab__client_fail(c, OAB_ENOMEM, "out of memory");
    static const char head[] = "{\"requests\":[";
    if (!(x->body = temp_file()) || fputs(head, x->body) == EOF)
        return x->st = oab__client_fail(c, OAB_EIO, "cannot create a temporary "
                                        "file for the batch body: %s", strerror(errno));
    x->len = sizeof head - 1;
    return OAB_OK;
}

/* Sends the body built; keeps the map under the new batch's id. */
static oab_status create_send(create_ctx *x, oab_job **out)
{
    oab_client *c = x->c;
    oab_status st = x->st;
    oab_error e;
    if (st == OAB_OK && (fputs("]}", x->body) == EOF || fflush(x->body) != 0))
        st = oab__client_fail(c, OAB_EIO, "cannot write the batch body: %s",
                              strerror(errno));
    x->len += 2;
    if (st == OAB_OK && (st = oab__anthropic_map_finish(x->map, &e)) != OAB_OK)
        st = oab__client_fail(c, OAB_EVALIDATION, "%s: %s", x->what, e.message);
    cJSON *root = NULL;
    if (st == OAB_OK) {
        oab__http_req req;
        memset(&req, 0, sizeof req);
        req.method = "POST";
        req.path = BATCHES;
        req.json_file = x->body;
        req.json_len = (size_t)x->len;
        req.range_from = -1;
        req.not_idempotent = 1; /* a second try could make a second batch */
        st = oab__http_json_req(c, &req, &root, NULL, NULL);
    }
    oab_job *job = NULL;
    if (st == OAB_OK)
        st = job_answer(c, &job, root, "POST " BATCHES);
    cJSON_Delete(root);
    if (st == OAB_OK && oab_anthropic_map_count(x->map)) {
        st = keep_map(c, job->id, x->map);
        x->map = NULL;
        if (st != OAB_OK)
            st = oab__client_fail(c, st, "out of memory (batch %s was created)", job->id);
    }
    create_abort(x);
    if (st == OAB_OK && out)
        *out = job;
    else
        oab_job_free(job);
    return st;
}

oab_status oab__anth_create_buffer(oab_client *c, oab_job **out, const char *jsonl,
                                   size_t len, const oab_batch_options *opts)
{
    oab_status st = check_batch_options(c, opts);
    if (st != OAB_OK)
        return st;
    create_ctx x;
    oab_jsonl_reader *r = NULL;
    if ((st = create_begin(&x, c, "input")) != OAB_OK) {
        create_abort(&x);
        return st;
    }
    if (oab_jsonl_reader_new(&r, 0) != OAB_OK) {
        create_abort(&x);
        return oab__client_fail(c, OAB_ENOMEM, "out of memory");
    }
    oab_status fs = oab_jsonl_reader_feed(r, jsonl, len, create_line, &x);
    if (fs == OAB_OK)
        fs = oab_jsonl_reader_finish(r, create_line, &x, NULL);
    if (fs != OAB_OK && x.st == OAB_OK)
        x.st = oab__client_fail(c, fs, "input: %s", oab_strerror(fs));
    oab_jsonl_reader_free(r);
    return create_send(&x, out);
}

oab_status oab__anth_create_path(oab_client *c, oab_job **out, const char *path,
                                 const oab_batch_options *opts)
{
    oab_status st = check_batch_options(c, opts);
    if (st != OAB_OK)
        return st;
    create_ctx x;
    if ((st = create_begin(&x, c, path)) != OAB_OK) {
        create_abort(&x);
        return st;
    }
    oab_error e;
    oab__err_clear(&e);
    oab_status fs = oab_jsonl_read_path(path, create_line, &x, &e);
    if (fs != OAB_OK && x.st == OAB_OK)
        x.st = oab__client_fail(c, fs, "%s", e.message[0] ? e.message : oab_strerror(fs));
    return create_send(&x, out);
}

oab_status oab_anthropic_map_path(oab_client *c, const char *path, char **out)
{
    if (out)
        *out = NULL;
    oab_status st = need_anthropic(c, "oab_anthropic_map_path");
    if (st != OAB_OK)
        return st;
    if (!path || !out)
        return oab__client_fail(c, OAB_EINVAL, "path or out is NULL");
    /* create_line without a body: each line translated, dropped */
    create_ctx x;
    memset(&x, 0, sizeof x);
    x.c = c;
    x.what = path;
    x.o = (oab_anthropic_options)OAB_ANTHROPIC_OPTIONS_INIT;
    x.o.default_max_tokens = c->anth_max_tokens;
    if (oab_anthropic_map_new(&x.map) != OAB_OK)
        return oab__client_fail(c, OAB_ENOMEM, "out of memory");
    oab_error e;
    oab__err_clear(&e);
    oab_status fs = oab_jsonl_read_path(path, create_line, &x, &e);
    if (fs != OAB_OK && x.st == OAB_OK)
        x.st = oab__client_fail(c, fs, "%s",
                                e.message[0] ? e.message : oab_strerror(fs));
    if (x.st == OAB_OK && (st = oab__anthropic_map_finish(x.map, &e)) != OAB_OK)
        x.st = oab__client_fail(c, OAB_EVALIDATION, "%s: %s", path, e.message);
    if (x.st == OAB_OK && oab_anthropic_map_to_json(x.map, out) != OAB_OK)
        x.st = oab__client_fail(c, OAB_ENOMEM, "out of memory");
    oab_anthropic_map_free(x.map);
    return x.st;
}

/* ---- results ---- */

/* The raw stream goes to a file; a retried attempt starts it over. */
typedef struct raw_sink {
    int fd;
    int err;
} raw_sink;

static size_t raw_write(const char *data, size_t len, const oab__http_resp *r, void *ud)
{
    raw_sink *s = ud;
    if (r->received == (long long)len) { /* first bytes of an attempt */
        if (ftruncate(s->fd, 0) != 0 || lseek(s->fd, 0, SEEK_SET) != 0) {
            s->err = errno;
            return 0;
        }
    }
    s->err = oab__write_all(s->fd, data, len);
    return s->err ? 0 : len;
}

static oab_status download_raw(oab_client *c, const char *batch_id, const char *path)
{
    raw_sink s = {open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600), 0};
    if (s.fd < 0)
        return oab__client_fail(c, OAB_EIO, "%s: %s", path, strerror(errno));
    oab__buf p = OAB__BUF_INIT;
    oab_status st = batch_path(&p, batch_id, "/results");
    if (st != OAB_OK) {
        close(s.fd);
        return oab__client_fail(c, OAB_ENOMEM, "out of memory");
    }
    oab__http_req req;
    memset(&req, 0, sizeof req);
    req.method = "GET";
    req.path = p.data;
    req.sink = raw_write;
    req.sink_ud = &s;
    req.range_from = -1;
    oab__http_resp resp;
    st = oab__http_request(c, &req, &resp);
    oab__http_resp_free(&resp);
    oab__buf_free(&p);
    if (s.err)
        st = oab__client_fail(c, OAB_EIO, "%s: %s", path, strerror(s.err));
    if (close(s.fd) != 0 && st == OAB_OK)
        st = oab__client_fail(c, OAB_EIO, "%s: %s", path, strerror(errno));
    return st;
}

/* Translating the raw lines into an output and an error file. */
typedef struct split_ctx {
    oab_client *c;
    FILE *out, *err;
    oab_anthropic_map *map;
    oab_status st;
} split_ctx;

static int split_line(const char *line, size_t len, long lineno, void *ud)
{
    split_ctx *x = ud;
    char *o = NULL;
    int is_error = 0;
    oab_status st = oab_anthropic_result_to_openai(&o, &is_error, line, len, lineno,
                                                   x->map, NULL);
    if (st == OAB_ENOMEM) {
        x->st = oab__client_fail(x->c, OAB_ENOMEM, "out of memory");
        return 1;
    }
    /* a line that cannot be translated goes on as it is: the decoder
     * reports it (malformed, custom_id recovered when it can) */
    FILE *f = is_error ? x->err : x->out;
    const char *text = o ? o : line;
    size_t n = o ? strlen(o) : len;
    if (fwrite(text, 1, n, f) != n || fputc('\n', f) == EOF)
        x->st = oab__client_fail(x->c, OAB_EIO, "cannot write translated results: %s",
                                 strerror(errno));
    oab_free(o);
    return x->st != OAB_OK;
}

static oab_status translate_raw(oab_client *c, const char *raw, const char *out_path,
                                const char *err_path, oab_anthropic_map *map)
{
    split_ctx x = {c, fopen(out_path, "wb"), fopen(err_path, "wb"), map, OAB_OK};
    oab_status st = OAB_OK;
    if (!x.out || !x.err) {
        st = oab__client_fail(c, OAB_EIO, "%s: %s", !x.out ? out_path : err_path,
                              strerror(errno));
    } else {
        oab_error e;
        oab__err_clear(&e);
        st = oab_jsonl_read_path(raw, split_line, &x, &e);
        if (st != OAB_OK && x.st != OAB_OK)
            st = x.st;
        else if (st != OAB_OK)
            st = oab__client_fail(c, st, "%s", e.message);
    }
    if (x.out && fclose(x.out) != 0 && st == OAB_OK)
        st = oab__client_fail(c, OAB_EIO, "%s: %s", out_path, strerror(errno));
    if (x.err && fclose(x.err) != 0 && st == OAB_OK)
        st = oab__client_fail(c, OAB_EIO, "%s: %s", err_path, strerror(errno));
    return st;
}

oab_status oab__anth_results(oab_client *c, const oab_job *job, oab__results *R,
                             const char *download_dir)
{
    char *tmp = NULL;
    if (!download_dir) {
        const char *base = getenv("TMPDIR");
        tmp = oab__sprintf("%s/oab_anthropic_XXXXXX", base && *base ? base : "/tmp");
        if (!tmp)
            return oab__client_fail(c, OAB_ENOMEM, "out of memory");
        if (!mkdtemp(tmp)) {
            free(tmp);
            return oab__client_fail(c, OAB_EIO, "cannot create a temporary folder in %s",
                                    base && *base ? base : "/tmp");
        }
    }
    const char *dir = tmp ? tmp : download_dir;
    char *raw = oab__sprintf("%s/%s.anthropic.jsonl", dir, job->id);
    char *out = oab__sprintf("%s/%s.output.jsonl", dir, job->id);
    char *err = oab__sprintf("%s/%s.errors.jsonl", dir, job->id);
    oab_status st = raw && out && err ? OAB_OK
                                      : oab__client_fail(c, OAB_ENOMEM, "out of memory");
    if (st == OAB_OK)
        st = download_raw(c, job->id, raw);
    batch_map *m = st == OAB_OK ? find_map(c, job->id) : NULL;
    if (st == OAB_OK)
        st = translate_raw(c, raw, out, err, m ? m->map : NULL);
    for (int k = 0; k < 2 && st == OAB_OK; k++) {
        oab_error e;
        oab__err_clear(&e);
        st = oab__results_path(R, k ? err : out, k, &e);
        if (st != OAB_OK)
            oab__client_fail(c, st, "%s", e.message[0] ? e.message : oab_strerror(st));
    }
    if (tmp) {
        const char *all[] = {raw, out, err};
        for (int k = 0; k < 3; k++)
            if (all[k])
                remove(all[k]);
        rmdir(tmp);
        free(tmp);
    }
    free(raw);
    free(out);
    free(err);
    return st;
}
