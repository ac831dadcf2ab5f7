/* api/http.h - the client's transport (libcurl), internal to the library.
 *
 * Every call goes through oab__http_request(): one CURL easy handle per
 * client (connections reused), retries with exponential backoff + jitter
 * on connection errors, timeouts, 408, 409, 429 and 5xx, Retry-After /
 * retry-after-ms honoured, capped response buffers, HTTP status mapped to
 * oab_status and the API's error body put into the client's detail.
 * Not installed; names carry the oab__ prefix. */
#ifndef OAB_HTTP_H
#define OAB_HTTP_H

#include <cjson/cJSON.h>
#include "util/buf.h"
#include "util/compat.h"
#include "util/limits.h"
#include "oaibatch.h"

#include <curl/curl.h>

/* Caps on what a response may hold in memory. */

struct oab_client {
    CURL *curl;
    char *api_key;              /* may be NULL for non-OpenAI base URLs */
    char *base_url;             /* no trailing slash */
    char *organization;
    char *project;
    char *model;                /* without "openai:" */
    char *user_agent;
    char *azure_api_version;
    int azure;
    long connect_timeout_ms;
    long timeout_ms;
    int max_retries;            /* resolved: >= 0 */
    long retry_base_ms;
    long retry_max_ms;
    struct curl_slist *headers; /* auth, org, project, extra headers */
    unsigned long long rng;     /* jitter */

    /* detail of the last failure (strings owned here) */
    oab_error_detail detail;
    char *d_type, *d_code, *d_param, *d_message, *d_request_id, *d_transport;
    char *errmsg;
    char *last_request_id;
    int last_attempts;          /* HTTP attempts of the last request */
    char curl_errbuf[CURL_ERROR_SIZE];

    /* provider (api/anthropic.c) */
    int provider;               /* an oab_provider */
    long anth_max_tokens;       /* default max_tokens for Anthropic lines */
    struct oab__anth_maps *anth_maps; /* custom_id maps of its batches */
};

struct oab__http_resp;

/* A request. Fields not needed are left 0/NULL. */
typedef struct oab__http_req {
    const char *method;       /* "GET", "POST", "DELETE" */
    const char *path;         /* appended to the base URL: "/batches/b1" */
    const char *query;        /* "limit=2&after=x" (already escaped) or NULL */
    const char *json;         /* JSON body (Content-Type: application/json) */
    size_t json_len;
    /* ... or a JSON body of json_len bytes streamed from this file (read
     * from its start at every attempt) */
    FILE *json_file;
    /* multipart upload: file + purpose (+ expires_after) */
    int multipart;
    const char *mp_path;      /* streamed from this file ... */
    const void *mp_data;      /* ... or from memory */
    size_t mp_len;
    const char *mp_filename;
    const char *mp_purpose;
    long long mp_expires_after_s;
    /* download: the body goes to sink (not kept); Range from offset */
    /* called for the body of a 2xx answer; resp has the status and the
     * length headers by then. Return len to go on, anything else stops. */
    size_t (*sink)(const char *data, size_t len,
                   const struct oab__http_resp *resp, void *ud);
    void *sink_ud;
    long long range_from;     /* >= 0: send Range: bytes=N- ; -1 none */
    int no_retry;             /* one attempt only */
    /* a request that makes something (a batch create): tried again only
     * when the server surely did not take it (no connection made, 408,
     * 429); after a timeout, a reset or a 5xx it may have, and a second
     * one would make (and bill) a second batch: the caller looks first */
    int not_idempotent;
    size_t max_body;          /* cap of the kept body; 0 = OAB__MAX_JSON_BODY */
} oab__http_req;

typedef struct oab__http_resp {
    long status;              /* HTTP status, 0 without an answer */
    oab__buf body;            /* kept body (not for sink requests) */
    long long content_length; /* -1 unknown */
    long long range_start;    /* from Content-Range on 206, else -1 */
    long long range_total;    /* total size from Content-Range, else -1 */
    long long received;       /* body bytes of the last attempt */
    double retry_after_s;     /* Retry-After / retry-after-ms, -1 none */
    int should_retry;         /* x-should-retry: 1, 0, or -1 absent */
    CURLcode curl_code;       /* of the last attempt */
    int attempts;             /* attempts made */
} oab__http_resp;

/* Makes one request (with retries). OAB_OK for a 2xx answer; otherwise
 * the status code and the client's detail are set (HTTP status mapped,
 * API error body parsed). resp is filled either way; free its body with
 * oab__http_resp_free. */
oab_status oab__http_request(oab_client *c, const oab__http_req *req,
                             oab__http_resp *resp);
void oab__http_resp_free(oab__http_resp *resp);

/* Whether an answer / failure is worth another attempt. */
int oab__http_retryable(oab_status st, const oab__http_resp *resp);
/* Whether the server surely did not act on the request (no connection
 * was made; 408 or 429): another attempt of a not_idempotent request is
 * safe only then. */
int oab__http_not_taken(oab_status st, const oab__http_resp *resp);
/* Sleeps before attempt number `attempt` (1 = first retry): Retry-After
 * when the answer had one (capped by retry_max_ms), else exponential
 * backoff with jitter. */
void oab__http_backoff(oab_client *c, int attempt, const oab__http_resp *resp);

/* A number in [0, 1) from the client's own generator (for jitter). */
double oab__rand01(oab_client *c);

/* The same for a request made by the caller (req->json or json_file). */
oab_status oab__http_json_req(oab_client *c, const oab__http_req *req, cJSON **out,
                              char **raw_out, size_t *raw_len);

/* A JSON call: request, then parse the 2xx body as a JSON object.
 * *out (caller frees with cJSON_Delete); raw text too if raw_out. */
oab_status oab__http_json(oab_client *c, const char *method, const char *path,
                          const char *query, const char *json, cJSON **out,
                          char **raw_out, size_t *raw_len);

/* ---- the client's error detail ---- */
/* Clears the detail (called at the start of every public call). */
void oab__client_clear_error(oab_client *c);
/* Sets the detail to the library's own message and returns code. */
oab_status oab__client_fail(oab_client *c, oab_status code, const char *fmt,
                            ...) OAB__PRINTF(3, 4);

/* The options check of util/opts.h for calls on a client: the message
 * goes to c's detail. NULL options pass. */
oab_status oab__client_options_check(oab_client *c, unsigned version,
                                     unsigned want, const char *name);
#define OAB__CLIENT_OPTIONS_CHECK(c, opts, VERSION, name)                   \
    ((opts) ? oab__client_options_check((c), (opts)->version, (VERSION),   \
                                        (name))                            \
            : OAB_OK)

/* Rebuilds the detail's pointers and one-line message from the d_*
 * strings and numbers (the API key is scrubbed from every string). */
void oab__client_finish_error(oab_client *c);

/* URL-escapes s into b (RFC 3986 unreserved characters kept). */
oab_status oab__url_escape(oab__buf *b, const char *s);

#endif
