/* validate.c - streaming check of a batch input file (JSONL) before upload.
 *
 * Each line is checked by the util JSON lexer (util/json_scan.h: syntax
 * as RFC 8259, nesting up to OAB__JSON_MAX_DEPTH like cJSON, strings
 * valid UTF-8), walked here only where the Batch API cares about members:
 * custom_id, method, url, body, body.model, body.input, body.messages (an
 * array of objects, for chat completions) and body.stream (a batch cannot
 * stream). What is inside a message, and every other body field, is the
 * model's to judge (the API evolves): such a line comes back as a 400
 * answer of its own, it does not fail the batch.
 * Lines come from the library's JSONL reader in raw mode (in place from
 * the caller's bytes; only a line cut by a chunk boundary is copied), so
 * the validator, the splitter and the result reader agree on what a line
 * and a blank line are. Memory grows only with the custom_id set. */

#include "oaibatch.h"
#include "core/jsonl_reader.h"
#include "util/buf.h"
#include "util/compat.h"
#include "util/idset.h"
#include "util/json.h"
#include "util/json_scan.h"
#include "util/limits.h"
#include "util/opts.h"
#include "util/str.h"
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* The endpoints a batch line may name                                  */
/* ------------------------------------------------------------------ */

static const char *const endpoints[] = {
    "/v1/responses",         "/v1/chat/completions", "/v1/embeddings",
    "/v1/completions",       "/v1/moderations",      "/v1/images/generations",
    "/v1/images/edits",      "/v1/videos"};

static int endpoint_known(const char *s, size_t len)
{
    for (size_t i = 0; i < sizeof endpoints / sizeof *endpoints; i++)
        if (strlen(endpoints[i]) == len && memcmp(endpoints[i], s, len) == 0)
            return 1;
    return 0;
}

/* Endpoints whose bodies must name a model. */
static int endpoint_needs_model(const char *s, size_t len)
{
    static const char *const need[] = {"/v1/responses", "/v1/chat/completions",
                                       "/v1/embeddings", "/v1/completions"};
    for (size_t i = 0; i < sizeof need / sizeof *need; i++)
        if (strlen(need[i]) == len && memcmp(need[i], s, len) == 0)
            return 1;
    return 0;
}

/* Endpoints whose bodies take `stream` (a batch line cannot stream). */
static int endpoint_streams(const char *s, size_t len)
{
    static const char *const streams[] = {
        "/v1/responses", "/v1/chat/completions", "/v1/completions",
        "/v1/images/generations", "/v1/images/edits"};
    for (size_t i = 0; i < sizeof streams / sizeof *streams; i++)
        if (strlen(streams[i]) == len && memcmp(streams[i], s, len) == 0)
            return 1;
    return 0;
}

/* ------------------------------------------------------------------ */
/* The scanner                                                          */
/* ------------------------------------------------------------------ */

enum jtype { J_ABSENT = 0, J_STRING, J_OBJECT, J_ARRAY, J_NUMBER, J_BOOL,
             J_NULL };

typedef struct span {
    int type;            /* enum jtype */
    const char *p;       /* string contents (between the quotes); for
                            other values their first byte */
    size_t len;
    int esc;             /* contains escapes: decode before use */
} span;

typedef struct line_info {
    int top_type;
    span custom_id, method, url, model;
    int body_type;
    int input_type;      /* body.input */
    size_t input_count;  /* elements when body.input is an array */
    int input_first;     /* type of its first element */
    int messages_type;   /* body.messages */
    size_t messages_count;
    size_t messages_bad; /* 1 + index of the first element that is not an
                            object; 0: none */
    int messages_bad_type;
    span stream;         /* body.stream */
} line_info;

enum role { R_NONE, R_TOP, R_BODY, R_INPUT, R_MESSAGES };

/* The util lexer, and the line's members found so far. */
typedef struct scanner {
    oab__jscan js;
    line_info *info;
} scanner;

/* Which member a key names, for the roles that pick members out. */
enum key { K_OTHER, K_CUSTOM_ID, K_METHOD, K_URL, K_BODY, K_MODEL, K_INPUT,
           K_MESSAGES, K_STREAM };

static int key_is(const span *k, const char *name)
{
    size_t n = strlen(name);
    if (!k->esc)
        return k->len == n && memcmp(k->p, name, n) == 0;
    /* escaped key: decode the simple escapes (keys of interest are ASCII) */
    char buf[32];
    size_t o = 0;
    const char *p = k->p, *end = k->p + k->len;
    while (p < end) {
        if (o >= sizeof buf)
            return 0;
        if (*p == '\\') {
            if (p[1] == 'u') {
                unsigned u;
                if (oab__jscan_hex4(p + 2, end, &u) != 0 ||
                    u >= 0x80)
                    return 0;
                buf[o++] = (char)u;
                p += 6;
            } else {
                char e = p[1];
                buf[o++] = e == '/' || e == '"' || e == '\\' ? e : '\x01';
                p += 2;
            }
        } else {
            buf[o++] = *p++;
        }
    }
    return o == n && memcmp(buf, name, n) == 0;
}

static enum key classify_key(const span *k, enum role role)
{
    if (role == R_TOP) {
        if (key_is(k, "custom_id"))
            return K_CUSTOM_ID;
        if (key_is(k, "method"))
            return K_METHOD;
        if (key_is(k, "url"))
            return K_URL;
        if (key_is(k, "body"))
            return K_BODY;
    } else if (role == R_BODY) {
        if (key_is(k, "model"))
            return K_MODEL;
        if (key_is(k, "input"))
            return K_INPUT;
        if (key_is(k, "messages"))
            return K_MESSAGES;
        if (key_is(k, "stream"))
            return K_STREAM;
    }
    return K_OTHER;
}

static int scan_value(scanner *s, enum role role, int depth, span *cap);

/* After a member or an element: 1 at a ',' (skipped, with the space after
 * it), 0 at the container's `close` (skipped), -1 for anything else. */
static inline int after_item(oab__jscan *js, char close)
{
    oab__jscan_ws(js);
    if (js->p >= js->end)
        return -1;
    if (*js->p == ',') {
        js->p++;
        oab__jscan_ws(js);
        return 1;
    }
    if (*js->p == close) {
        js->p++;
        return 0;
    }
    return -1;
}

static int scan_object(scanner *s, enum role role, int depth)
{
    oab__jscan *js = &s->js;
    js->p++; /* '{' */
    oab__jscan_ws(js);
    if (js->p < js->end && *js->p == '}') {
        js->p++;
        return 0;
    }
    line_info *li = s->info;
    for (;;) {
        if (js->p >= js->end || *js->p != '"')
            return -1;
        span key = {0};
        if (oab__jscan_string(js, &key.p, &key.len, &key.esc) != 0)
            return -1;
        oab__jscan_ws(js);
        if (js->p >= js->end || *js->p != ':')
            return -1;
        js->p++;
        oab__jscan_ws(js);
        enum key k = classify_key(&key, role);
        span *cap = NULL;
        enum role child = R_NONE;
        span tmp;
        switch (k) {
        case K_CUSTOM_ID:
            cap = li->custom_id.type ? NULL : &li->custom_id;
            break;
        case K_METHOD:
            cap = li->method.type ? NULL : &li->method;
            break;
        case K_URL:
            cap = li->url.type ? NULL : &li->url;
            break;
        case K_MODEL:
            cap = li->model.type ? NULL : &li->model;
            break;
        case K_STREAM:
            cap = li->stream.type ? NULL : &li->stream;
            break;
        case K_BODY:
            if (!li->body_type) {
                cap = &tmp;
                child = R_BODY;
            }
            break;
        case K_INPUT:
            if (!li->input_type) {
                cap = &tmp;
                child = R_INPUT;
            }
            break;
        case K_MESSAGES:
            if (!li->messages_type) {
                cap = &tmp;
                child = R_MESSAGES;
            }
            break;
        default:
            break;
        }
        tmp.type = J_ABSENT;
        if (scan_value(s, child, depth + 1, cap) != 0)
            return -1;
        if (k == K_BODY && cap)
            li->body_type = tmp.type;
        else if (k == K_INPUT && cap)
            li->input_type = tmp.type;
        else if (k == K_MESSAGES && cap)
            li->messages_type = tmp.type;
        int more = after_item(js, '}');
        if (more <= 0)
            return more;
    }
}

/* The elements of body.input (counted, the first one's type kept) or of
 * body.messages (counted, the first one that is not an object kept). */
static int scan_array(scanner *s, enum role role, int depth)
{
    oab__jscan *js = &s->js;
    js->p++; /* '[' */
    oab__jscan_ws(js);
    if (js->p < js->end && *js->p == ']') {
        js->p++;
        return 0;
    }
    size_t count = 0;
    for (;;) {
        span el = {0};
        if (scan_value(s, R_NONE, depth + 1, &el) != 0)
            return -1;
        line_info *li = s->info;
        if (role == R_MESSAGES) {
            if (el.type != J_OBJECT && !li->messages_bad) {
                li->messages_bad = count + 1;
                li->messages_bad_type = el.type;
            }
            li->messages_count = ++count;
        } else {
            if (count == 0)
                li->input_first = el.type;
            li->input_count = ++count;
        }
        int more = after_item(js, ']');
        if (more <= 0)
            return more;
    }
}

/* The type a value has from its first byte. */
static int type_of(char c)
{
    switch (c) {
    case '"': return J_STRING;
    case '{': return J_OBJECT;
    case '[': return J_ARRAY;
    case 't': case 'f': return J_BOOL;
    case 'n': return J_NULL;
    default: return J_NUMBER;
    }
}

/* One value. Objects of the top and body roles and the arrays of the
 * input and messages roles are walked here, to pick their members out
 * (or count their elements); every other
 * value is checked and skipped by the util lexer. cap (may be NULL) gets
 * the value's type, and a string's contents. */
static int scan_value(scanner *s, enum role role, int depth, span *cap)
{
    oab__jscan *js = &s->js;
    if (js->p >= js->end)
        return -1;
    const char *start = js->p;
    char c = *start;
    int type = type_of(c);
    int rc;
    if ((c == '{' || c == '[') && depth >= OAB__JSON_MAX_DEPTH) {
        js->too_deep = 1;
        return -1;
    }
    if (type == J_STRING && cap)
        rc = oab__jscan_string(js, &cap->p, &cap->len, &cap->esc);
    else if (type == J_OBJECT && (role == R_TOP || role == R_BODY))
        rc = scan_object(s, role, depth);
    else if (type == J_ARRAY && (role == R_INPUT || role == R_MESSAGES))
        rc = scan_array(s, role, depth);
    else
        rc = oab__jscan_value(js, depth);
    if (rc == 0 && cap) {
        cap->type = type;
        if (type != J_STRING) {
            cap->p = start;
            cap->len = 0;
        }
    }
    return rc;
}

/* Scans one line. 0 when it is one JSON value and nothing else. */
static int scan_line(scanner *s, const char *line, size_t len, line_info *li)
{
    memset(li, 0, sizeof *li);
    oab__jscan_init(&s->js, line, len, 1);
    s->info = li;
    oab__jscan_ws(&s->js);
    span top = {0};
    if (scan_value(s, R_TOP, 0, &top) != 0)
        return -1;
    li->top_type = top.type;
    oab__jscan_ws(&s->js);
    return s->js.p == s->js.end ? 0 : -1;
}

/* The string's value: the raw bytes when it has no escapes, else decoded
 * into scratch (already checked by the lexer). */
static oab_status span_value(const span *sp, oab__buf *scratch,
                             const char **out, size_t *len)
{
    if (!sp->esc) {
        *out = sp->p;
        *len = sp->len;
        return OAB_OK;
    }
    oab__buf_clear(scratch);
    oab_status st = oab__json_unescape(sp->p, sp->len, scratch);
    if (st != OAB_OK)
        return st;
    *out = scratch->data;
    *len = scratch->len;
    return OAB_OK;
}

/* ------------------------------------------------------------------ */
/* The validator                                                        */
/* ------------------------------------------------------------------ */

struct oab_validator {
    size_t max_lines;
    unsigned long long max_bytes;
    size_t max_embedding_inputs;
    int min_requests;
    size_t max_problems;

    oab_jsonl_reader *reader;  /* raw mode: every line, in place */
    unsigned long long bytes_done; /* bytes of completed lines */

    char *url;                 /* the common url (reference) */
    int url_given;             /* url came from the options */
    char *model;
    oab__idset ids;            /* custom_id -> its first line */
    oab__buf scratch;

    int over_lines, over_bytes, over_inputs;
    int finished;
    oab_status sticky;         /* ENOMEM while collecting */
    oab_validation *report;
    size_t problems_cap;
    scanner sc;
};

void oab_validation_free(oab_validation *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n_problems; i++) {
        free(v->problems[i].code);
        free(v->problems[i].message);
        free(v->problems[i].param);
    }
    free(v->problems);
    free(v->url);
    free(v->model);
    free(v);
}

oab_status oab_validator_new(oab_validator **out,
                             const oab_validate_options *opts)
{
    if (!out)
        return OAB_EINVAL;
    *out = NULL;
    if (OAB__OPTIONS_CHECK(opts, OAB_VALIDATE_OPTIONS_VERSION,
                           "oab_validate_options", NULL) != OAB_OK)
        return OAB_EINVAL;
    oab_validator *v = calloc(1, sizeof *v);
    if (!v)
        return OAB_ENOMEM;
    v->max_lines = opts && opts->max_lines ? opts->max_lines : OAB_MAX_LINES;
    v->max_bytes = opts && opts->max_bytes ? opts->max_bytes : OAB_MAX_FILE_BYTES;
    v->max_embedding_inputs = opts && opts->max_embedding_inputs
                                  ? opts->max_embedding_inputs
                                  : OAB_MAX_EMBEDDING_INPUTS;
    v->min_requests = opts && opts->min_requests ? opts->min_requests : 2;
    v->max_problems = opts && opts->max_problems ? opts->max_problems
                                                 : OAB__DEFAULT_MAX_PROBLEMS;
    v->report = calloc(1, sizeof *v->report);
    /* a line is kept up to the file limit: a longer one cannot be part of
       a valid file (it is counted, file_too_large says why) */
    size_t keep = v->max_bytes < (unsigned long long)SIZE_MAX
                      ? (size_t)v->max_bytes
                      : SIZE_MAX;
    if (!v->report ||
        oab__jsonl_reader_new_raw(&v->reader, keep) != OAB_OK) {
        oab_validator_free(v);
        return OAB_ENOMEM;
    }
    if (opts && opts->expected_url) {
        v->url = oab__strdup(opts->expected_url);
        if (!v->url) {
            oab_validator_free(v);
            return OAB_ENOMEM;
        }
        v->url_given = 1;
    }
    *out = v;
    return OAB_OK;
}

void oab_validator_free(oab_validator *v)
{
    if (!v)
        return;
    oab_jsonl_reader_free(v->reader);
    oab__buf_free(&v->scratch);
    oab__idset_free(&v->ids);
    free(v->url);
    free(v->model);
    oab_validation_free(v->report);
    free(v);
}

/* Quotes a value for a message: at most 60 bytes, controls shown as '?'. */
static void quote_for_message(char *dst, size_t cap, const char *s, size_t n)
{
    size_t o = 0;
    size_t lim = n > 60 ? 60 : n;
    for (size_t i = 0; i < lim && o + 4 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        dst[o++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    if (n > lim && o + 4 < cap) {
        memcpy(dst + o, "...", 3);
        o += 3;
    }
    dst[o] = '\0';
}

static void add_problem(oab_validator *v, long line, const char *code,
                        const char *param, const char *fmt, ...)
    OAB__PRINTF(5, 6);

static void add_problem(oab_validator *v, long line, const char *code,
                        const char *param, const char *fmt, ...)
{
    oab_validation *r = v->report;
    r->n_problems_total++;
    if (r->n_problems >= v->max_problems || v->sticky)
        return;
    if (r->n_problems == v->problems_cap) {
        size_t cap = v->problems_cap ? v->problems_cap * 2 : 16;
        if (cap > v->max_problems)
            cap = v->max_problems;
        oab_problem *p = realloc(r->problems, cap * sizeof *p);
        if (!p) {
            v->sticky = OAB_ENOMEM;
            return;
        }
        r->problems = p;
        v->problems_cap = cap;
    }
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    oab_problem *p = &r->problems[r->n_problems];
    p->line = line;
    p->code = oab__strdup(code);
    p->message = oab__strdup(msg);
    p->param = oab__strdup(param);
    if (!p->code || !p->message || (param && !p->param)) {
        free(p->code);
        free(p->message);
        free(p->param);
        v->sticky = OAB_ENOMEM;
        return;
    }
    r->n_problems++;
}

/* A value every line must share (url, body.model): the first one seen is
 * kept in *first. 1 when s[0..n) differs from it. */
static int differs_from_first(oab_validator *v, char **first, const char *s,
                              size_t n)
{
    if (!*first) {
        *first = oab__strndup(s, n);
        if (!*first)
            v->sticky = OAB_ENOMEM;
        return 0;
    }
    return strlen(*first) != n || memcmp(*first, s, n) != 0;
}

/* Embedding inputs a body.input holds. */
static size_t embedding_inputs(const line_info *li)
{
    switch (li->input_type) {
    case J_STRING:
        return 1;
    case J_ARRAY:
        /* a list of token ids is one input; a list of texts or token
           lists is one input per element */
        if (li->input_count && li->input_first == J_NUMBER)
            return 1;
        return li->input_count;
    default:
        return 0;
    }
}

/* What a JSON value of `type` is, for a message. */
static const char *type_name(int type)
{
    switch (type) {
    case J_STRING: return "a string";
    case J_OBJECT: return "an object";
    case J_ARRAY: return "an array";
    case J_NUMBER: return "a number";
    case J_BOOL: return "true or false";
    default: return "null";
    }
}

/* body.messages of a chat completion: an array of at least one message,
 * each an object. What a message holds (roles, content parts) is the
 * model's to judge, not checked here. */
static void check_messages(oab_validator *v, const line_info *li,
                           long lineno)
{
    if (li->messages_type == J_ABSENT || li->messages_type == J_NULL)
        add_problem(v, lineno, "missing_messages", "body.messages",
                    "body.messages is missing; a chat completion needs at "
                    "least one message");
    else if (li->messages_type != J_ARRAY)
        add_problem(v, lineno, "invalid_messages", "body.messages",
                    "body.messages must be an array of messages, not %s",
                    type_name(li->messages_type));
    else if (li->messages_count == 0)
        add_problem(v, lineno, "invalid_messages", "body.messages",
                    "body.messages is empty; a chat completion needs at "
                    "least one message");
    else if (li->messages_bad)
        add_problem(v, lineno, "invalid_messages", "body.messages",
                    "body.messages[%zu] must be a message (an object), "
                    "not %s",
                    li->messages_bad - 1, type_name(li->messages_bad_type));
}

/* 1 when a path ("body.response_format.json_schema.schema.pattern") goes
 * through a schema: a member named schema, json_schema or parameters. */
static int in_schema(const char *path)
{
    static const char *const names[] = {"schema", "json_schema",
                                        "parameters"};
    for (const char *p = path; *p;) {
        size_t n = strcspn(p, ".[");
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            if (n == strlen(names[i]) && !strncmp(p, names[i], n))
                return 1;
        p += n;
        p += strspn(p, ".[]0123456789");
    }
    return 0;
}

/* 1 when text holds "\u0000" (maybe inside a longer escape run): the
 * cheap test before the walk. */
typedef struct nul_ctx {
    oab_validator *v;
    long lineno;
} nul_ctx;

static int schema_nul(const char *path, void *ud)
{
    nul_ctx *c = ud;
    if (!in_schema(path))
        return 0;
    add_problem(c->v, c->lineno, "invalid_value", path,
                "%s holds \\u0000 (U+0000), which a schema cannot keep (a"
                " parsed JSON string ends there, so the pattern or value"
                " would be cut); in a pattern write \\\\x00 instead", path);
    return 1;
}

static void check_line(oab_validator *v, const char *line, size_t len,
                       long lineno, int cut_off)
{
    oab_validation *r = v->report;
    r->n_lines++;
    if (r->n_lines == v->max_lines + 1 && !v->over_lines) {
        v->over_lines = 1;
        add_problem(v, lineno, "too_many_tasks", NULL,
                    "the file has more than %zu requests", v->max_lines);
    }
    line_info li;
    if (scan_line(&v->sc, line, len, &li) != 0) {
        if (v->sc.js.too_deep)
            add_problem(v, lineno, "invalid_json_line", NULL,
                        "the line is nested more than %d levels deep",
                        OAB__JSON_MAX_DEPTH);
        else
            add_problem(v, lineno, "invalid_json_line", NULL,
                        cut_off ? "the line is not valid JSON (cut off: the "
                                  "file ends without a newline)"
                                : "the line is not valid JSON");
        return;
    }
    if (li.top_type != J_OBJECT) {
        add_problem(v, lineno, "invalid_json_line", NULL,
                    "the line is not a JSON object");
        return;
    }
    if (v->sc.js.bad_utf8)
        add_problem(v, lineno, "invalid_utf8", NULL,
                    "the line is not valid UTF-8");

    const char *s;
    size_t n;
    char q[80];

    /* custom_id */
    if (li.custom_id.type == J_ABSENT || li.custom_id.type == J_NULL) {
        add_problem(v, lineno, "missing_custom_id", "custom_id",
                    "custom_id is missing");
    } else if (li.custom_id.type != J_STRING) {
        add_problem(v, lineno, "invalid_custom_id", "custom_id",
                    "custom_id must be a string");
    } else if (li.custom_id.len == 0) {
        add_problem(v, lineno, "missing_custom_id", "custom_id",
                    "custom_id is empty");
    } else if (span_value(&li.custom_id, &v->scratch, &s, &n) != OAB_OK) {
        v->sticky = OAB_ENOMEM;
    } else {
        size_t at;
        int added;
        if (oab__idset_add(&v->ids, s, n, lineno, &at, &added) != OAB_OK) {
            v->sticky = OAB_ENOMEM;
        } else if (!added) {
            long first = oab__idset_at(&v->ids, at)->value;
            quote_for_message(q, sizeof q, s, n);
            add_problem(v, lineno, "duplicate_custom_id", "custom_id",
                        "custom_id \"%s\" was already used on line %ld", q,
                        first);
        }
    }

    /* method */
    if (li.method.type == J_ABSENT || li.method.type == J_NULL)
        add_problem(v, lineno, "missing_method", "method",
                    "method is missing; it must be \"POST\"");
    else if (li.method.type != J_STRING || li.method.esc ||
             li.method.len != 4 || memcmp(li.method.p, "POST", 4) != 0)
        add_problem(v, lineno, "invalid_method", "method",
                    "method must be \"POST\"");

    /* url */
    const char *url = NULL;
    size_t url_len = 0;
    if (li.url.type == J_ABSENT || li.url.type == J_NULL) {
        add_problem(v, lineno, "missing_url", "url", "url is missing");
    } else if (li.url.type != J_STRING) {
        add_problem(v, lineno, "invalid_url", "url", "url must be a string");
    } else if (span_value(&li.url, &v->scratch, &s, &n) != OAB_OK) {
        v->sticky = OAB_ENOMEM;
    } else if (!endpoint_known(s, n)) {
        quote_for_message(q, sizeof q, s, n);
        add_problem(v, lineno, "invalid_url", "url",
                    "url \"%s\" is not an endpoint the Batch API supports",
                    q);
    } else {
        url = s; /* points at a static-compatible string: copy below */
        url_len = n;
        if (differs_from_first(v, &v->url, s, n)) {
            quote_for_message(q, sizeof q, s, n);
            add_problem(v, lineno, "url_mismatch", "url",
                        "url \"%s\" differs from \"%s\"%s; a batch has one "
                        "endpoint",
                        q, v->url,
                        v->url_given ? " (the batch's endpoint)"
                                     : " (the first line's)");
        }
    }
    /* the url text may live in scratch: keep what we need of it */
    int needs_model = url ? endpoint_needs_model(url, url_len) : 1;
    int is_embeddings =
        url && url_len == 14 && memcmp(url, "/v1/embeddings", 14) == 0;
    int is_chat = url && url_len == 20 &&
                  memcmp(url, "/v1/chat/completions", 20) == 0;
    int streams = url ? endpoint_streams(url, url_len) : 0;

    /* body */
    if (li.body_type == J_ABSENT || li.body_type == J_NULL) {
        add_problem(v, lineno, "missing_body", "body", "body is missing");
        return;
    }
    if (li.body_type != J_OBJECT) {
        add_problem(v, lineno, "invalid_body", "body",
                    "body must be a JSON object");
        return;
    }

    /* body.model */
    if (li.model.type == J_STRING && li.model.len > 0) {
        if (span_value(&li.model, &v->scratch, &s, &n) != OAB_OK) {
            v->sticky = OAB_ENOMEM;
        } else if (differs_from_first(v, &v->model, s, n)) {
            quote_for_message(q, sizeof q, s, n);
            add_problem(v, lineno, "model_mismatch", "body.model",
                        "body.model \"%s\" differs from \"%s\" (the first "
                        "line's); a batch uses one model",
                        q, v->model);
        }
    } else if (li.model.type != J_ABSENT && li.model.type != J_NULL) {
        add_problem(v, lineno, "invalid_model", "body.model",
                    li.model.type == J_STRING ? "body.model is empty"
                                              : "body.model must be a string");
    } else if (needs_model) {
        add_problem(v, lineno, "missing_model", "body.model",
                    "body.model is missing");
    }

    /* body.messages of chat completions */
    if (is_chat)
        check_messages(v, &li, lineno);

    /* body.stream: a batch line gets one whole answer; the server fails
       the whole batch for a line that asks to stream */
    if (streams && li.stream.type == J_BOOL && li.stream.p[0] == 't')
        add_problem(v, lineno, "stream_not_supported", "body.stream",
                    "body.stream is true, which a batch does not support "
                    "(each line gets one whole answer); remove it or set "
                    "it to false");

    /* body.input of embeddings */
    if (is_embeddings) {
        r->n_embedding_inputs += embedding_inputs(&li);
        if (r->n_embedding_inputs > v->max_embedding_inputs &&
            !v->over_inputs) {
            v->over_inputs = 1;
            add_problem(v, lineno, "too_many_embedding_inputs", "body.input",
                        "the file has more than %zu embedding inputs",
                        v->max_embedding_inputs);
        }
        if (li.input_type == J_ABSENT)
            add_problem(v, lineno, "missing_input", "body.input",
                        "body.input is missing");
    }

    /* a schema string holding U+0000 would be cut when parsed */
    if (oab__json_may_hold_nul(line, len)) {
        nul_ctx nc = {v, lineno};
        oab__json_each_nul(line, len, schema_nul, &nc);
    }
}

/* One line of the file (blank ones too, to count their bytes). */
static int take_line(const oab__line *ln, void *ud)
{
    oab_validator *v = ud;
    v->bytes_done += ln->bytes;
    if (v->bytes_done > v->max_bytes && !v->over_bytes) {
        v->over_bytes = 1;
        add_problem(v, ln->lineno, "file_too_large", NULL,
                    "the file is larger than %llu bytes", v->max_bytes);
    }
    const char *text = ln->text;
    size_t len = ln->len;
    int blank = ln->blank;
    if (text && ln->lineno == 1 && len >= 3 &&
        memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
        /* a byte order mark: refused by the Batch API; the rest of the
           line is checked as if it were not there */
        add_problem(v, 1, "bom", NULL,
                    "the file starts with a UTF-8 byte order mark (BOM), "
                    "which the Batch API refuses; save it as UTF-8 "
                    "without a BOM");
        text += 3;
        len -= 3;
        blank = oab__line_blank(text, len);
    }
    if (!text) {
        /* too long to keep (already over the byte limit): count it only */
        v->report->n_lines++;
    } else if (!blank) { /* blank lines are allowed, not requests */
        check_line(v, text, len, ln->lineno, ln->cut_off);
    }
    return v->sticky != OAB_OK;
}

oab_status oab_validator_feed(oab_validator *v, const void *data, size_t len)
{
    if (!v || (!data && len))
        return OAB_EINVAL;
    if (v->finished)
        return OAB_ESTATE;
    v->report->n_bytes += len;
    oab_status st = oab__jsonl_reader_feed_raw(v->reader, data, len,
                                               take_line, v);
    if (st == OAB_ENOMEM)
        v->sticky = OAB_ENOMEM;
    return v->sticky ? v->sticky : st;
}

oab_status oab_validator_finish(oab_validator *v, oab_validation **out)
{
    if (!v || !out)
        return OAB_EINVAL;
    *out = NULL;
    if (v->finished)
        return OAB_ESTATE;
    v->finished = 1;
    oab_status st = oab__jsonl_reader_finish_raw(v->reader, take_line, v);
    if (st == OAB_ENOMEM)
        v->sticky = OAB_ENOMEM;
    oab_validation *r = v->report;
    if (r->n_lines == 0)
        add_problem(v, 0, "empty_file", NULL,
                    "the file has no requests");
    else if (v->min_requests > 0 && r->n_lines < (size_t)v->min_requests)
        add_problem(v, 0, "too_few_requests", NULL,
                    "the file has %zu request%s; a batch needs at least %d",
                    r->n_lines, r->n_lines == 1 ? "" : "s", v->min_requests);
    if (v->sticky)
        return v->sticky;
    r->url = v->url;
    v->url = NULL;
    r->model = v->model;
    v->model = NULL;
    v->report = NULL;
    *out = r;
    return r->n_problems_total ? OAB_EVALIDATION : OAB_OK;
}

oab_status oab_validate_buffer(oab_validation **out, const char *data,
                               size_t len, const oab_validate_options *opts)
{
    if (!out || (!data && len))
        return OAB_EINVAL;
    *out = NULL;
    oab_validator *v = NULL;
    oab_status st = oab_validator_new(&v, opts);
    if (st != OAB_OK)
        return st;
    st = oab_validator_feed(v, data, len);
    if (st == OAB_OK)
        st = oab_validator_finish(v, out);
    oab_validator_free(v);
    return st;
}

oab_status oab_validate_path(oab_validation **out, const char *path,
                             const oab_validate_options *opts)
{
    if (!out || !path)
        return OAB_EINVAL;
    *out = NULL;
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return OAB_EIO;
    enum { CHUNK = 1 << 20 };
    char *chunk = malloc(CHUNK);
    oab_validator *v = NULL;
    oab_status st = chunk ? oab_validator_new(&v, opts) : OAB_ENOMEM;
    while (st == OAB_OK) {
        ssize_t n = read(fd, chunk, CHUNK);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            st = OAB_EIO;
            break;
        }
        if (n == 0)
            break;
        st = oab_validator_feed(v, chunk, (size_t)n);
    }
    close(fd);
    free(chunk);
    if (st == OAB_OK)
        st = oab_validator_finish(v, out);
    oab_validator_free(v);
    return st;
}
