/* results.c - merging a batch's output and error files: every line
 * decoded, the input's expectations applied by custom_id, duplicates
 * flagged, the custom_ids in neither file reported as missing; streamed
 * (memory flat) or collected, optionally in input order. */

#include "oaibatch.h"
#include "core/expect.h"
#include "core/result.h"
#include "core/schema.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/idset.h"
#include "util/jdoc.h"
#include "util/json.h"
#include "util/opts.h"
#include "util/str.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* One distinct expectation; 50,000 lines with one schema keep one. */
typedef struct expect_slot {
    oab_schema *schema;
    oab_output_mode mode;
    char *key;          /* mode, tool name and compact schema */
    uint64_t hash;
} expect_slot;

/* What the input says about one custom_id (the entry of the same index
 * in the set of the input's custom_ids). */
typedef struct in_entry {
    long line;
    int expect;         /* index into expects, -1 = none */
    int seen;
} in_entry;

struct oab__results {
    oab_results_options opts;
    char *input_path;
    oab__result_take_fn take;
    void *ud;
    oab__rdec dec;
    oab__jdoc in_doc;
    /* the input map */
    oab__idset ids;     /* the input's custom_ids; first one wins */
    in_entry *in;       /* in[i] for ids entry i */
    size_t cap_in;
    expect_slot *expects;
    size_t n_expects;
    int have_input;
    /* the file being read */
    oab_jsonl_reader *reader;
    int from_error;
    oab_status st;      /* first failure inside a line callback */
    oab_summary sum;
};

static in_entry *map_find(const oab__results *R, const char *cid)
{
    if (!cid)
        return NULL;
    size_t i = oab__idset_find(&R->ids, cid, strlen(cid));
    return i == OAB__IDSET_NONE ? NULL : &R->in[i];
}

/* Adds cid unless present; first one wins. */
static oab_status map_add(oab__results *R, const char *cid, long line,
                          int expect)
{
    in_entry *v = oab__grow(R->in, &R->cap_in, R->ids.n, sizeof *v, 256);
    if (!v)
        return OAB_ENOMEM;
    R->in = v;
    size_t i;
    int added;
    oab_status st = oab__idset_add(&R->ids, cid, strlen(cid), line, &i,
                                   &added);
    if (st != OAB_OK)
        return st;
    if (added) {
        R->in[i].line = line;
        R->in[i].expect = expect;
        R->in[i].seen = 0;
    }
    return OAB_OK;
}

/* The index of this expectation (added once), -1 when none or unusable. */
static int expect_index(oab__results *R, const cJSON *body)
{
    oab_output_mode mode = OAB_OUTPUT_NONE;
    const char *tool = NULL;
    cJSON *schema = NULL;
    if (oab__expect_from_body_st(&schema, body, &mode, &tool) != OAB_OK)
        return -2;
    if (!schema)
        return -1;
    char *txt = oab__json_print(schema);
    char *key = txt ? oab__sprintf("%d\x1f%s\x1f%s", (int)mode,
                                   tool ? tool : "", txt)
                    : NULL;
    free(txt);
    if (!key) {
        cJSON_Delete(schema);
        return -2;
    }
    uint64_t h = oab__fnv1a64(key, strlen(key));
    for (size_t i = 0; i < R->n_expects; i++)
        if (R->expects[i].hash == h && strcmp(R->expects[i].key, key) == 0) {
            free(key);
            cJSON_Delete(schema);
            return (int)i;
        }
    expect_slot *v = realloc(R->expects, (R->n_expects + 1) * sizeof *v);
    if (!v) {
        free(key);
        cJSON_Delete(schema);
        return -2;
    }
    R->expects = v;
    oab_schema *s = NULL;
    oab_status wst = oab__schema_wrap(&s, mode == OAB_OUTPUT_TOOL ? tool : NULL,
                                      schema, NULL);
    if (wst != OAB_OK) {
        /* a schema we cannot use: remembered as "nothing to check" */
        cJSON_Delete(schema);
        s = NULL;
        if (wst == OAB_ENOMEM) {
            free(key);
            return -2;
        }
    }
    v[R->n_expects].schema = s;
    v[R->n_expects].mode = mode;
    v[R->n_expects].key = key;
    v[R->n_expects].hash = h;
    return (int)R->n_expects++;
}

static int has_marker(const char *line, size_t len)
{
    static const char *const marks[] = {"json_schema", "tool_choice",
                                        "Always respond with a JSON object"};
    for (size_t m = 0; m < 3; m++) {
        size_t ml = strlen(marks[m]);
        for (const char *p = line; (size_t)(line + len - p) >= ml;) {
            p = memchr(p, marks[m][0], (size_t)(line + len - p));
            if (!p || (size_t)(line + len - p) < ml)
                break;
            if (memcmp(p, marks[m], ml) == 0)
                return 1;
            p++;
        }
    }
    return 0;
}

oab_status oab__results_add_input(oab__results *R, const char *line,
                                  size_t len, long lineno)
{
    R->have_input = 1;
    oab_status st = oab__jdoc_parse(&R->in_doc, line, len);
    if (st == OAB_ENOMEM)
        return st;
    if (st != OAB_OK)
        return OAB_OK; /* not a request: nothing to expect */
    int oom = 0;
    char *cid = oab__jstr_dup(&R->in_doc,
                              oab__jget(&R->in_doc, oab__jroot(&R->in_doc),
                                        "custom_id"),
                              &oom);
    if (!cid)
        return oom ? OAB_ENOMEM : OAB_OK;
    int ex = -1;
    if (!R->opts.schema && has_marker(line, len)) {
        cJSON *j = NULL;
        if (oab__json_parse_st(&j, line, len) == OAB_ENOMEM)
            ex = -2;
        if (j) {
            ex = expect_index(R, cJSON_GetObjectItemCaseSensitive(j, "body"));
            cJSON_Delete(j);
        }
        if (ex == -2) {
            free(cid);
            return OAB_ENOMEM;
        }
    }
    st = map_add(R, cid, lineno, ex);
    free(cid);
    return st;
}

static int input_line_cb(const char *line, size_t len, long lineno, void *ud)
{
    oab__results *R = ud;
    R->st = oab__results_add_input(R, line, len, lineno);
    return R->st != OAB_OK;
}

oab_status oab__results_begin(oab__results **out,
                              const oab_results_options *opts,
                              oab__result_take_fn take, void *userdata,
                              oab_error *err)
{
    *out = NULL;
    oab__results *R = calloc(1, sizeof *R);
    if (!R)
        return oab__err(err, OAB_ENOMEM, 0, "out of memory");
    oab_results_options dflt = OAB_RESULTS_OPTIONS_INIT;
    R->opts = opts ? *opts : dflt;
    R->take = take;
    R->ud = userdata;
    oab__rdec init = OAB__RDEC_INIT;
    R->dec = init;
    if (R->opts.input_path) {
        R->input_path = oab__strdup(R->opts.input_path);
        if (!R->input_path) {
            oab__results_free(R);
            return oab__err(err, OAB_ENOMEM, 0, "out of memory");
        }
        R->opts.input_path = R->input_path;
        R->have_input = 1;
        oab_status st = oab_jsonl_read_path(R->input_path, input_line_cb, R,
                                            err);
        if (st == OAB_ESTOPPED)
            st = oab__err(err, R->st, 0, "%s: %s", R->input_path,
                          oab_strerror(R->st));
        if (st != OAB_OK) {
            oab__results_free(R);
            return st;
        }
    }
    R->opts.download_dir = NULL; /* not kept: not ours */
    *out = R;
    return OAB_OK;
}

static void sum_add(oab_summary *s, const oab_result *r)
{
    s->total++;
    if ((unsigned)r->status < OAB_RESULT_STATUS_COUNT)
        s->by_status[r->status]++;
    if (r->duplicate)
        s->duplicates++;
    if (r->has_usage) {
        s->usage.prompt_tokens += r->usage.prompt_tokens;
        s->usage.completion_tokens += r->usage.completion_tokens;
        s->usage.total_tokens += r->usage.total_tokens;
        s->usage.cached_tokens += r->usage.cached_tokens;
        s->usage.reasoning_tokens += r->usage.reasoning_tokens;
    }
}

/* Sums, hands over; 0 to go on. */
static int deliver(oab__results *R, oab_result *r)
{
    sum_add(&R->sum, r);
    if (R->take(r, R->ud)) {
        R->st = OAB_ESTOPPED;
        return 1;
    }
    return 0;
}

static int line_cb(const char *line, size_t len, long lineno, void *ud)
{
    oab__results *R = ud;
    oab_result *r = NULL;
    oab_status st = oab__result_decode(&R->dec, &r, line, len, lineno);
    if (st != OAB_OK) {
        R->st = st;
        return 1;
    }
    r->from_error_file = R->from_error;
    oab_expect ex = {R->opts.schema, R->opts.mode};
    const oab_expect *use = R->opts.schema ? &ex : NULL;
    in_entry *e = R->have_input ? map_find(R, r->custom_id) : NULL;
    if (e) {
        r->input_line = e->line;
        if (e->seen)
            r->duplicate = 1;
        e->seen = 1;
        if (!use && e->expect >= 0 && R->expects[e->expect].schema) {
            ex.schema = R->expects[e->expect].schema;
            ex.mode = R->expects[e->expect].mode;
            use = &ex;
        }
    }
    if ((st = oab__result_apply_expect(r, use)) != OAB_OK) {
        oab_result_free(r);
        R->st = st;
        return 1;
    }
    return deliver(R, r);
}

void oab__results_file_begin(oab__results *R, int from_error_file)
{
    R->from_error = from_error_file;
    oab_jsonl_reader_free(R->reader);
    R->reader = NULL;
    R->st = OAB_OK;
}

oab_status oab__results_feed(oab__results *R, const void *data, size_t len)
{
    if (!R->reader) {
        oab_status st = oab_jsonl_reader_new(&R->reader, 0);
        if (st != OAB_OK)
            return st;
    }
    oab_status st = oab_jsonl_reader_feed(R->reader, data, len, line_cb, R);
    return st == OAB_ESTOPPED && R->st != OAB_OK ? R->st : st;
}

oab_status oab__results_file_end(oab__results *R)
{
    if (!R->reader)
        return OAB_OK;
    oab_status st = oab_jsonl_reader_finish(R->reader, line_cb, R, NULL);
    oab_jsonl_reader_free(R->reader);
    R->reader = NULL;
    return st == OAB_ESTOPPED && R->st != OAB_OK ? R->st : st;
}

oab_status oab__results_path(oab__results *R, const char *path,
                             int from_error_file, oab_error *err)
{
    oab__results_file_begin(R, from_error_file);
    oab_status st = oab_jsonl_read_path(path, line_cb, R, err);
    if (st == OAB_ESTOPPED && R->st != OAB_OK && R->st != OAB_ESTOPPED)
        st = oab__err(err, R->st, 0, "%s: %s", path, oab_strerror(R->st));
    else if (st == OAB_ESTOPPED)
        oab__err(err, st, 0, "stopped by the callback");
    return st;
}

/* The error of a failed batch for input line `line`: that line's, else
 * the first one without a line. */
static const oab_batch_error *job_error(const oab_job *job, long line)
{
    if (!job)
        return NULL;
    const oab_batch_error *general = NULL;
    for (size_t i = 0; i < job->n_errors; i++) {
        if (job->errors[i].line == line)
            return &job->errors[i];
        if (!job->errors[i].line && !general)
            general = &job->errors[i];
    }
    return general;
}

oab_status oab__results_finish(oab__results *R, const oab_job *job)
{
    for (size_t k = 0; k < R->ids.n; k++) {
        in_entry *e = &R->in[k];
        if (e->seen)
            continue;
        e->seen = 1;
        oab_result *r = calloc(1, sizeof *r);
        if (!r)
            return OAB_ENOMEM;
        r->status = OAB_RESULT_MISSING;
        r->input_line = e->line;
        if (R->opts.schema)
            r->output_mode = R->opts.mode ? R->opts.mode : OAB_OUTPUT_NATIVE;
        else if (e->expect >= 0 && R->expects[e->expect].schema)
            r->output_mode = R->expects[e->expect].mode;
        const oab_batch_error *be = job_error(job, e->line);
        r->custom_id = oab__strdup(oab__idset_at(&R->ids, k)->key);
        if (be) {
            r->error_code = oab__strdup(be->code ? be->code : "batch_failed");
            r->error_message = oab__strdup(be->message ? be->message
                                                       : "the batch failed");
        } else {
            r->error_code = oab__strdup("missing");
            r->error_message = oab__strdup(
                "in the input but in neither the output nor the error file");
        }
        if (!r->custom_id || !r->error_code || !r->error_message) {
            oab_result_free(r);
            return OAB_ENOMEM;
        }
        if (deliver(R, r))
            return OAB_ESTOPPED;
    }
    return OAB_OK;
}

const oab_summary *oab__results_summary(const oab__results *R)
{
    return &R->sum;
}

void oab__results_retarget(oab__results *R, oab__result_take_fn take,
                           void *userdata)
{
    R->take = take;
    R->ud = userdata;
}

void oab__results_free(oab__results *R)
{
    if (!R)
        return;
    oab__idset_free(&R->ids);
    free(R->in);
    for (size_t i = 0; i < R->n_expects; i++) {
        oab_schema_free(R->expects[i].schema);
        free(R->expects[i].key);
    }
    free(R->expects);
    oab_jsonl_reader_free(R->reader);
    oab__rdec_free(&R->dec);
    oab__jdoc_free(&R->in_doc);
    free(R->input_path);
    free(R);
}

/* ---- public: files on disk ---- */

int oab__user_take(oab_result *r, void *sink)
{
    oab__user_sink *u = sink;
    int rc = u->fn ? u->fn(r, u->ud) : 0;
    oab_result_free(r);
    return rc;
}

static oab_status run_files(const char *output_path, const char *error_path,
                            const oab_results_options *opts,
                            oab__result_take_fn take, void *ud,
                            oab_summary *summary, oab_error *err)
{
    oab__results *R = NULL;
    oab_status st = oab__results_begin(&R, opts, take, ud, err);
    if (st == OAB_OK && output_path)
        st = oab__results_path(R, output_path, 0, err);
    if (st == OAB_OK && error_path)
        st = oab__results_path(R, error_path, 1, err);
    if (st == OAB_OK)
        st = oab__results_finish(R, NULL);
    if (st != OAB_OK && err && !err->message[0])
        oab__err(err, st, 0, "%s", oab_strerror(st));
    if (summary && R)
        *summary = R->sum;
    oab__results_free(R);
    return st;
}

oab_status oab_results_stream_files(const char *output_path,
                                    const char *error_path,
                                    const oab_results_options *opts,
                                    oab_result_fn fn, void *userdata,
                                    oab_summary *summary, oab_error *err)
{
    if (summary)
        memset(summary, 0, sizeof *summary);
    oab__err_clear(err);
    oab_status st = OAB__OPTIONS_CHECK(opts, OAB_RESULTS_OPTIONS_VERSION,
                                       "oab_results_options", err);
    if (st != OAB_OK)
        return st;
    oab__user_sink u = {fn, userdata};
    return run_files(output_path, error_path, opts, oab__user_take, &u, summary,
                     err);
}

oab_status oab__result_set_new(oab_result_set **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? OAB_OK : OAB_ENOMEM;
}

int oab__result_set_take(oab_result *r, void *ud)
{
    oab_result_set *set = ud;
    /* capacity is 16, then doubles: grow when n is 0 or a power of two
     * of at least 16 */
    if (set->n == 0 || (set->n >= 16 && (set->n & (set->n - 1)) == 0)) {
        size_t cap = set->n ? set->n * 2 : 16;
        oab_result **v = realloc(set->items, cap * sizeof *v);
        if (!v) {
            oab_result_free(r);
            return 1;
        }
        set->items = v;
    }
    set->items[set->n++] = r;
    return 0;
}

typedef struct order_item {
    oab_result *r;
    size_t seq;
} order_item;

static int order_cmp(const void *a, const void *b)
{
    const order_item *x = a, *y = b;
    long lx = x->r->input_line, ly = y->r->input_line;
    if (lx != ly) {
        if (!lx)
            return 1;
        if (!ly)
            return -1;
        return lx < ly ? -1 : 1;
    }
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

oab_status oab__result_set_sort_input(oab_result_set *set)
{
    if (set->n < 2)
        return OAB_OK;
    order_item *v = malloc(set->n * sizeof *v);
    if (!v)
        return OAB_ENOMEM;
    for (size_t i = 0; i < set->n; i++) {
        v[i].r = set->items[i];
        v[i].seq = i;
    }
    qsort(v, set->n, sizeof *v, order_cmp);
    for (size_t i = 0; i < set->n; i++)
        set->items[i] = v[i].r;
    free(v);
    return OAB_OK;
}

void oab_result_set_free(oab_result_set *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->n; i++)
        oab_result_free(set->items[i]);
    free(set->items);
    free(set);
}

oab_status oab_results_collect_files(oab_result_set **out,
                                     const char *output_path,
                                     const char *error_path,
                                     const oab_results_options *opts,
                                     oab_error *err)
{
    oab__err_clear(err);
    if (!out)
        return oab__err(err, OAB_EINVAL, 0, "out is NULL");
    *out = NULL;
    oab_status st = OAB__OPTIONS_CHECK(opts, OAB_RESULTS_OPTIONS_VERSION,
                                       "oab_results_options", err);
    if (st != OAB_OK)
        return st;
    if (opts && opts->input_order && !opts->input_path)
        return oab__err(err, OAB_EINVAL, 0, "input_order needs input_path");
    oab_result_set *set = NULL;
    if (oab__result_set_new(&set) != OAB_OK)
        return oab__err(err, OAB_ENOMEM, 0, "out of memory");
    st = run_files(output_path, error_path, opts,
                              oab__result_set_take, set, &set->summary, err);
    if (st == OAB_ESTOPPED) /* only the set's own allocation stops it */
        st = oab__err(err, OAB_ENOMEM, 0, "out of memory");
    if (st != OAB_OK) {
        oab_result_set_free(set);
        return st;
    }
    if (opts && opts->input_order &&
        oab__result_set_sort_input(set) != OAB_OK) {
        oab_result_set_free(set);
        return oab__err(err, OAB_ENOMEM, 0, "out of memory");
    }
    *out = set;
    return OAB_OK;
}
