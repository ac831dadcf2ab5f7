/* http.c - the transport: one libcurl easy handle per client, retries,
 * capped buffers, streamed uploads and downloads, and the mapping of HTTP
 * answers to oab_status and the client's error detail. */

#include "oaibatch.h"
#include "api/http.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/str.h"
#include "util/limits.h"
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- small helpers ---- */

oab_status oab__url_escape(oab__buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        oab_status st;
        if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            st = oab__buf_putc(b, (char)*p);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            st = oab__buf_append(b, e, 3);
        }
        if (st != OAB_OK)
            return st;
    }
    return OAB_OK;
}

double oab__rand01(oab_client *c)
{
    /* xorshift64*: jitter only, no need for more */
    unsigned long long x = c->rng ? c->rng : 0x9E3779B97F4A7C15ull;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    c->rng = x;
    return (double)((x * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

static oab_status map_http(long status)
{
    if (status == 401)
        return OAB_EAUTH;
    if (status == 403)
        return OAB_EPERM;
    if (status == 404)
        return OAB_ENOTFOUND;
    if (status == 429)
        return OAB_ERATELIMIT;
    if (status >= 500)
        return OAB_ESERVER;
    return OAB_EHTTP;
}

static oab_status map_curl(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return OAB_ECONNECT;
    case CURLE_OPERATION_TIMEDOUT:
        return OAB_ETIMEOUT;
    case CURLE_OUT_OF_MEMORY:
        return OAB_ENOMEM;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return OAB_EINVAL;
    case CURLE_READ_ERROR:
        return OAB_EIO;
    default:
        return OAB_ETRANSPORT;
    }
}

int oab__http_retryable(oab_status st, const oab__http_resp *resp)
{
    if (resp && resp->status >= 400) {
        if (resp->should_retry >= 0)
            return resp->should_retry;
        long s = resp->status;
        return s == 408 || s == 409 || s == 429 || s >= 500;
    }
    return st == OAB_ECONNECT || st == OAB_ETIMEOUT || st == OAB_ETRANSPORT;
}

int oab__http_not_taken(oab_status st, const oab__http_resp *resp)
{
    if (resp && resp->status >= 400)
        return resp->status == 408 || resp->status == 429;
    return st == OAB_ECONNECT;
}

void oab__http_backoff(oab_client *c, int attempt, const oab__http_resp *resp)
{
    double max_s = (double)c->retry_max_ms / 1000.0;
    double d;
    if (resp && resp->retry_after_s >= 0) {
        d = resp->retry_after_s;
    } else {
        d = (double)c->retry_base_ms / 1000.0;
        for (int i = 1; i < attempt && d < max_s; i++)
            d *= 2;
        if (d > max_s)
            d = max_s;
        d *= 1.0 - 0.25 * oab__rand01(c);
    }
    if (d > max_s)
        d = max_s;
    oab__sleep(d);
}

/* ---- one attempt ---- */

typedef struct attempt_ctx {
    const oab__http_req *req;
    oab__http_resp *resp;
    size_t cap;
    int over_cap;      /* a 2xx body went past the cap */
    int sink_stopped;  /* the sink asked to stop */
    oab_client *c;
} attempt_ctx;

static int header_is(const char *line, size_t len, const char *name,
                     const char **value, size_t *vlen)
{
    size_t n = strlen(name);
    if (len <= n || line[n] != ':' || strncasecmp(line, name, n) != 0)
        return 0;
    const char *v = line + n + 1;
    const char *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    *value = v;
    *vlen = (size_t)(end - v);
    return 1;
}

static double parse_retry_after(const char *v, size_t n)
{
    char buf[128];
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, v, n);
    buf[n] = '\0';
    char *end;
    double d = strtod(buf, &end);
    if (end != buf && *end == '\0')
        return d >= 0 ? d : -1;
    time_t t = curl_getdate(buf, NULL);
    if (t < 0)
        return -1;
    double diff = (double)(t - (time_t)oab__unix_now());
    return diff > 0 ? diff : 0;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
    attempt_ctx *a = ud;
    size_t len = size * nmemb;
    oab__http_resp *r = a->resp;
    const char *v;
    size_t vn;
    if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        /* a new answer (after 100 Continue or similar): start over */
        const char *sp = memchr(data, ' ', len);
        r->status = sp ? strtol(sp + 1, NULL, 10) : 0;
        r->content_length = -1;
        r->range_start = r->range_total = -1;
        r->retry_after_s = -1;
        r->should_retry = -1;
        return len;
    }
    if (header_is(data, len, "x-request-id", &v, &vn) ||
        header_is(data, len, "request-id", &v, &vn)) { /* Anthropic's */
        free(a->c->last_request_id);
        a->c->last_request_id = oab__strndup(v, vn);
    } else if (header_is(data, len, "retry-after-ms", &v, &vn)) {
        double ms = parse_retry_after(v, vn);
        if (ms >= 0)
            r->retry_after_s = ms / 1000.0;
    } else if (header_is(data, len, "retry-after", &v, &vn)) {
        if (r->retry_after_s < 0) /* retry-after-ms wins */
            r->retry_after_s = parse_retry_after(v, vn);
    } else if (header_is(data, len, "x-should-retry", &v, &vn)) {
        if (vn == 4 && strncasecmp(v, "true", 4) == 0)
            r->should_retry = 1;
        else if (vn == 5 && strncasecmp(v, "false", 5) == 0)
            r->should_retry = 0;
    } else if (header_is(data, len, "content-length", &v, &vn)) {
        char buf[32];
        if (vn && vn < sizeof buf) {
            memcpy(buf, v, vn);
            buf[vn] = '\0';
            r->content_length = strtoll(buf, NULL, 10);
        }
    } else if (header_is(data, len, "content-range", &v, &vn)) {
        /* bytes START-END/TOTAL */
        char buf[96];
        if (vn && vn < sizeof buf) {
            memcpy(buf, v, vn);
            buf[vn] = '\0';
            long long s = -1, e = -1, t = -1;
            if (sscanf(buf, "bytes %lld-%lld/%lld", &s, &e, &t) >= 2) {
                r->range_start = s;
                r->range_total = t;
            } else if (sscanf(buf, "bytes */%lld", &t) == 1) {
                r->range_total = t; /* 416: the size of the whole */
            }
        }
    }
    return len;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    attempt_ctx *a = ud;
    size_t len = size * nmemb;
    oab__http_resp *r = a->resp;
    r->received += (long long)len;
    if (a->req->sink && r->status >= 200 && r->status < 300) {
        size_t got = a->req->sink(data, len, r, a->req->sink_ud);
        if (got != len)
            a->sink_stopped = 1;
        return got == len ? len : 0;
    }
    size_t cap = (r->status >= 200 && r->status < 300) ? a->cap : OAB__MAX_ERROR_BODY;
    if (r->body.len + len > cap) {
        if (r->status >= 200 && r->status < 300) {
            a->over_cap = 1;
            return 0; /* stop: a JSON answer this big is refused */
        }
        len = cap - r->body.len; /* keep the start of an error body */
        oab__buf_append(&r->body, data, len);
        return size * nmemb;
    }
    if (oab__buf_append(&r->body, data, len) != OAB_OK) {
        a->over_cap = 1;
        return 0;
    }
    return len;
}

static size_t file_read(char *buf, size_t size, size_t nitems, void *arg)
{
    size_t n = fread(buf, 1, size * nitems, arg);
    return n == 0 && ferror((FILE *)arg) ? CURL_READFUNC_ABORT : n;
}

typedef struct mem_reader {
    const char *data;
    size_t len;
    size_t pos;
} mem_reader;

static size_t mem_read(char *buf, size_t size, size_t nitems, void *arg)
{
    mem_reader *m = arg;
    size_t want = size * nitems;
    size_t left = m->len - m->pos;
    if (want > left)
        want = left;
    memcpy(buf, m->data + m->pos, want);
    m->pos += want;
    return want;
}

static int mem_seek(void *arg, curl_off_t offset, int origin)
{
    mem_reader *m = arg;
    curl_off_t base = origin == SEEK_SET ? 0
                      : origin == SEEK_CUR ? (curl_off_t)m->pos
                                           : (curl_off_t)m->len;
    curl_off_t to = base + offset;
    if (to < 0 || to > (curl_off_t)m->len)
        return CURL_SEEKFUNC_FAIL;
    m->pos = (size_t)to;
    return CURL_SEEKFUNC_OK;
}

static oab_status build_url(oab_client *c, const oab__http_req *req, oab__buf *url)
{
    oab_status st = oab__buf_puts(url, c->base_url);
    if (st == OAB_OK)
        st = oab__buf_puts(url, req->path);
    int q = 0;
    if (st == OAB_OK && req->query && *req->query) {
        st = oab__buf_printf(url, "?%s", req->query);
        q = 1;
    }
    if (st == OAB_OK && c->azure) {
        st = oab__buf_puts(url, q ? "&api-version=" : "?api-version=");
        if (st == OAB_OK)
            st = oab__url_escape(url, c->azure_api_version);
    }
    return st;
}

static oab_status build_mime(oab_client *c, const oab__http_req *req,
                             curl_mime **out, mem_reader *mr)
{
    curl_mime *mime = curl_mime_init(c->curl);
    if (!mime)
        return OAB_ENOMEM;
    CURLcode rc = CURLE_OK;
    curl_mimepart *part = curl_mime_addpart(mime);
    if (!part)
        rc = CURLE_OUT_OF_MEMORY;
    if (!rc)
        rc = curl_mime_name(part, "purpose");
    if (!rc)
        rc = curl_mime_data(part, req->mp_purpose ? req->mp_purpose : "batch",
                            CURL_ZERO_TERMINATED);
    if (!rc && req->mp_expires_after_s > 0) {
        char secs[32];
        snprintf(secs, sizeof secs, "%lld", req->mp_expires_after_s);
        part = curl_mime_addpart(mime);
        rc = part ? curl_mime_name(part, "expires_after[anchor]") : CURLE_OUT_OF_MEMORY;
        if (!rc)
            rc = curl_mime_data(part, "created_at", CURL_ZERO_TERMINATED);
        part = rc ? NULL : curl_mime_addpart(mime);
        rc = part ? curl_mime_name(part, "expires_after[seconds]") : CURLE_OUT_OF_MEMORY;
        if (!rc)
            rc = curl_mime_data(part, secs, CURL_ZERO_TERMINATED);
    }
    if (!rc) {
        part = curl_mime_addpart(mime);
        rc = part ? curl_mime_name(part, "file") : CURLE_OUT_OF_MEMORY;
    }
    if (!rc) {
        if (req->mp_path) {
            /* read from disk in small blocks while sending */
            rc = curl_mime_filedata(part, req->mp_path);
        } else {
            mr->data = req->mp_data;
            mr->len = req->mp_len;
            mr->pos = 0;
            rc = curl_mime_data_cb(part, (curl_off_t)req->mp_len, mem_read,
                                   mem_seek, NULL, mr);
        }
    }
    if (!rc && req->mp_filename)
        rc = curl_mime_filename(part, req->mp_filename);
    if (!rc)
        rc = curl_mime_type(part, "application/octet-stream");
    if (rc) {
        curl_mime_free(mime);
        return rc == CURLE_READ_ERROR ? OAB_EIO : OAB_ENOMEM;
    }
    *out = mime;
    return OAB_OK;
}

/* Fills the client's detail for a failed attempt. */
static oab_status set_failure(oab_client *c, oab_status st,
                              const oab__http_req *req,
                              const oab__http_resp *resp, const char *transport)
{
    oab__client_clear_error(c);
    c->detail.status = st;
    c->detail.attempts = resp->attempts;
    c->detail.retry_after_s = resp->retry_after_s;
    c->d_request_id = oab__strdup(c->last_request_id);
    if (resp->status >= 400 && !resp->curl_code) {
        c->detail.http_status = resp->status;
        cJSON *root = oab__json_parse(resp->body.data, resp->body.len);
        const cJSON *e = root ? cJSON_GetObjectItemCaseSensitive(root, "error") : NULL;
        if (cJSON_IsObject(e)) {
            c->d_type = oab__strdup(oab__json_str(e, "type"));
            c->d_code = oab__strdup(oab__json_str(e, "code"));
            const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
            if (!c->d_code && cJSON_IsNumber(code))
                c->d_code = oab__sprintf("%lld", oab__json_ll(e, "code", 0));
            c->d_param = oab__strdup(oab__json_str(e, "param"));
            c->d_message = oab__strdup(oab__json_str(e, "message"));
        } else if (cJSON_IsString(e)) {
            c->d_message = oab__strdup(e->valuestring);
        } else if (resp->body.len) {
            /* not the API's shape: keep the start of the text */
            size_t n = resp->body.len > OAB__MAX_ERROR_EXCERPT
                           ? OAB__MAX_ERROR_EXCERPT
                           : resp->body.len;
            c->d_message = oab__strndup(resp->body.data, n);
        }
        cJSON_Delete(root);
    } else if (transport) {
        c->detail.http_status = resp->status > 0 && resp->curl_code ? resp->status : 0;
        c->d_transport = oab__strdup(transport);
        c->d_message = oab__sprintf("%s %s", req->method, req->path);
    }
    oab__client_finish_error(c);
    return st;
}

void oab__http_resp_free(oab__http_resp *resp)
{
    if (resp)
        oab__buf_free(&resp->body);
}

static oab_status one_attempt(oab_client *c, const oab__http_req *req,
                              oab__http_resp *resp, const char *url,
                              curl_mime *mime, struct curl_slist *hdrs,
                              attempt_ctx *a, oab_status *why)
{
    CURL *h = c->curl;
    curl_easy_reset(h); /* keeps the connection cache */
    oab__buf_clear(&resp->body);
    resp->status = 0;
    resp->content_length = resp->range_start = resp->range_total = -1;
    resp->retry_after_s = -1;
    resp->should_retry = -1;
    resp->received = 0;
    a->over_cap = a->sink_stopped = 0;
    c->curl_errbuf[0] = '\0';
    free(c->last_request_id);
    c->last_request_id = NULL;

    int streaming = req->multipart || req->sink || req->json_file;
    int no_ctype = 0;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->curl_errbuf);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_USERAGENT, c->user_agent);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
    if (streaming) {
        /* big bodies: no limit on the whole, but on time without progress */
        long secs = (c->timeout_ms + 999) / 1000;
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, secs > 0 ? secs : 1L);
    } else {
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    }
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, a);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, a);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, req->sink ? NULL : "");
    if (mime) {
        curl_easy_setopt(h, CURLOPT_MIMEPOST, mime);
    } else if (req->json_file) {
        rewind(req->json_file);
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, file_read);
        curl_easy_setopt(h, CURLOPT_READDATA, req->json_file);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->json_len);
    } else if (req->json) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->json);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->json_len);
        if (strcmp(req->method, "POST") != 0)
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
    } else if (strcmp(req->method, "POST") == 0) {
        /* no body at all: Content-Length: 0 */
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
        no_ctype = 1;
    } else if (strcmp(req->method, "GET") != 0) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
    }
    if (req->range_from > 0) {
        char range[48];
        snprintf(range, sizeof range, "%lld-", req->range_from);
        curl_easy_setopt(h, CURLOPT_RANGE, range);
    }

    struct curl_slist *extra = NULL;
    if (no_ctype) {
        /* curl would add a form Content-Type to an empty POST */
        extra = curl_slist_append(NULL, "Content-Type:");
        for (struct curl_slist *l = hdrs; extra && l; l = l->next)
            curl_slist_append(extra, l->data);
        if (extra)
            curl_easy_setopt(h, CURLOPT_HTTPHEADER, extra);
    }
    CURLcode rc = curl_easy_perform(h);
    curl_slist_free_all(extra);
    resp->curl_code = rc;
    resp->attempts++;
    if (rc != CURLE_OK) {
        if (a->over_cap) {
            *why = OAB_ELIMIT;
            return set_failure(c, OAB_ELIMIT, req, resp,
                               "the answer is larger than the library's cap");
        }
        if (a->sink_stopped) {
            *why = OAB_ESTOPPED;
            return OAB_ESTOPPED;
        }
        oab_status st = map_curl(rc);
        *why = st;
        const char *msg = c->curl_errbuf[0] ? c->curl_errbuf : curl_easy_strerror(rc);
        return set_failure(c, st, req, resp, msg);
    }
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    resp->status = code;
    if (code >= 200 && code < 300) {
        *why = OAB_OK;
        return OAB_OK;
    }
    oab_status st = map_http(code);
    *why = st;
    return set_failure(c, st, req, resp, NULL);
}

oab_status oab__http_request(oab_client *c, const oab__http_req *req,
                             oab__http_resp *resp)
{
    memset(resp, 0, sizeof *resp);
    resp->retry_after_s = -1;
    resp->should_retry = -1;
    resp->content_length = resp->range_start = resp->range_total = -1;
    oab__client_clear_error(c);
    c->last_attempts = 0;

    oab__buf url = OAB__BUF_INIT;
    struct curl_slist *hdrs = NULL;
    curl_mime *mime = NULL;
    mem_reader mr = {NULL, 0, 0};
    oab_status st = build_url(c, req, &url);
    if (st != OAB_OK)
        return oab__client_fail(c, st, "cannot build the URL");

    /* the client's headers, then the request's own */
    for (struct curl_slist *l = c->headers; l && st == OAB_OK; l = l->next) {
        struct curl_slist *n = curl_slist_append(hdrs, l->data);
        if (!n)
            st = OAB_ENOMEM;
        else
            hdrs = n;
    }
    if (st == OAB_OK && (req->json || req->json_file)) {
        struct curl_slist *n = curl_slist_append(hdrs, "Content-Type: application/json");
        if (!n)
            st = OAB_ENOMEM;
        else
            hdrs = n;
    }
    if (st == OAB_OK && !req->multipart && !req->sink) {
        struct curl_slist *n = curl_slist_append(hdrs, "Accept: application/json");
        if (!n)
            st = OAB_ENOMEM;
        else
            hdrs = n;
    }
    if (st != OAB_OK) {
        curl_slist_free_all(hdrs);
        oab__buf_free(&url);
        return oab__client_fail(c, st, "cannot prepare the request");
    }

    attempt_ctx a;
    memset(&a, 0, sizeof a);
    a.req = req;
    a.resp = resp;
    a.c = c;
    a.cap = req->max_body ? req->max_body : OAB__MAX_JSON_BODY;
    int max_attempts = req->no_retry ? 1 : c->max_retries + 1;
    for (;;) {
        oab_status why = OAB_OK;
        if (req->multipart) {
            /* a fresh body for every attempt: a mime structure that was
             * sent once does not reliably rewind */
            curl_mime_free(mime);
            mime = NULL;
            st = build_mime(c, req, &mime, &mr);
            if (st != OAB_OK) {
                st = oab__client_fail(c, st, "cannot prepare the upload");
                break;
            }
        }
        st = one_attempt(c, req, resp, url.data, mime, hdrs, &a, &why);
        const oab__http_resp *rs = resp->curl_code ? NULL : resp;
        if (st == OAB_OK || resp->attempts >= max_attempts ||
            !oab__http_retryable(st, rs) ||
            (req->not_idempotent && !oab__http_not_taken(st, rs)))
            break;
        oab__http_backoff(c, resp->attempts, resp);
    }
    c->last_attempts = resp->attempts;
    if (st == OAB_OK)
        oab__client_clear_error(c); /* an earlier attempt may have failed */
    curl_mime_free(mime);
    curl_slist_free_all(hdrs);
    oab__buf_free(&url);
    return st;
}

oab_status oab__http_json(oab_client *c, const char *method, const char *path,
                          const char *query, const char *json, cJSON **out,
                          char **raw_out, size_t *raw_len)
{
    oab__http_req req;
    memset(&req, 0, sizeof req);
    req.method = method;
    req.path = path;
    req.query = query;
    req.json = json;
    req.json_len = json ? strlen(json) : 0;
    req.range_from = -1;
    return oab__http_json_req(c, &req, out, raw_out, raw_len);
}

oab_status oab__http_json_req(oab_client *c, const oab__http_req *rq, cJSON **out,
                              char **raw_out, size_t *raw_len)
{
    *out = NULL;
    if (raw_out)
        *raw_out = NULL;
    const char *method = rq->method, *path = rq->path;
    oab__http_resp resp;
    oab_status st = oab__http_request(c, rq, &resp);
    if (st != OAB_OK) {
        oab__http_resp_free(&resp);
        return st;
    }
    cJSON *root = NULL;
    if (oab__json_parse_st(&root, resp.body.data, resp.body.len) ==
        OAB_ENOMEM) {
        oab__http_resp_free(&resp);
        return oab__client_fail(c, OAB_ENOMEM, "out of memory");
    }
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        oab__http_resp_free(&resp);
        st = oab__client_fail(c, OAB_EPROTO,
                              "%s %s: the answer (HTTP %ld) is not a JSON object",
                              method, path, resp.status);
        c->detail.http_status = resp.status;
        c->detail.attempts = resp.attempts;
        c->d_request_id = oab__strdup(c->last_request_id);
        oab__client_finish_error(c);
        return st;
    }
    *out = root;
    if (raw_out)
        *raw_out = oab__buf_take(&resp.body, raw_len);
    oab__http_resp_free(&resp);
    return OAB_OK;
}
