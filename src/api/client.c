/* client.c - the client handle: options with environment fallbacks,
 * authentication headers, and the detail of the last failure. */

#include "oaibatch.h"
#include "api/anthropic.h"
#include "api/http.h"
#include "core/expect.h"
#include "util/buf.h"
#include "util/compat.h"
#include "util/err.h"
#include "util/opts.h"
#include "util/str.h"
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_BASE_URL "https://api.openai.com/v1"
#define DEFAULT_AZURE_VERSION "2024-10-21"
#define ANTHROPIC_BASE_URL "https://api.anthropic.com"

/* ---- process-wide setup ---- */

static pthread_mutex_t global_lock = PTHREAD_MUTEX_INITIALIZER;
static int global_done;

oab_status oab_global_init(void)
{
    oab_status st = OAB_OK;
    pthread_mutex_lock(&global_lock);
    if (!global_done) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK)
            global_done = 1;
        else
            st = OAB_ETRANSPORT;
    }
    pthread_mutex_unlock(&global_lock);
    return st;
}

void oab_global_cleanup(void)
{
    pthread_mutex_lock(&global_lock);
    if (global_done)
        curl_global_cleanup();
    global_done = 0;
    pthread_mutex_unlock(&global_lock);
}

/* ---- helpers ---- */

static const char *env_or(const char *v, const char *name)
{
    if (v)
        return v;
    const char *e = getenv(name);
    return (e && *e) ? e : NULL;
}

/* The host of an absolute http(s) URL, copied into buf. */
static void url_host(const char *url, char *buf, size_t cap)
{
    buf[0] = '\0';
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    size_t n = strcspn(p, "/:?#");
    const char *at = memchr(p, '@', n);
    if (at) {
        n -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    if (n >= cap)
        n = cap - 1;
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)((p[i] >= 'A' && p[i] <= 'Z') ? p[i] + 32 : p[i]);
    buf[n] = '\0';
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Base URLs that need a key: OpenAI's and Azure's. */
static int needs_key(const char *base_url, int azure)
{
    char host[256];
    url_host(base_url, host, sizeof host);
    return azure || strcmp(host, "api.openai.com") == 0 ||
           strcmp(host, "api.anthropic.com") == 0 ||
           ends_with(host, ".openai.com") || ends_with(host, ".openai.azure.com");
}

static int header_ok(const char *h)
{
    const char *colon = strchr(h, ':');
    if (!colon || colon == h)
        return 0;
    for (const char *p = h; *p; p++)
        if (*p == '\r' || *p == '\n')
            return 0;
    return 1;
}

static oab_status add_header(struct curl_slist **list, const char *fmt, ...)
    OAB__PRINTF(2, 3);

static oab_status add_header(struct curl_slist **list, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *line = oab__vsprintf(fmt, ap);
    va_end(ap);
    if (!line)
        return OAB_ENOMEM;
    struct curl_slist *l = curl_slist_append(*list, line);
    /* the key may be in this line: wipe our copy (freed through another
     * unit, so the wipe is not optimized away) */
    memset(line, 0, strlen(line));
    oab_free(line);
    if (!l)
        return OAB_ENOMEM;
    *list = l;
    return OAB_OK;
}

/* ---- create / free ---- */

/* A negative duration option. */
static oab_status bad_ms(oab_error *err, const char *what, long v)
{
    return oab__err(err, OAB_EINVAL, 0,
                    "oab_client_options.%s: %ld, must be 0 (default) or more",
                    what, v);
}

/* Checks what the options hold before anything is allocated; the
 * message names the option (never its value when it may hold a secret). */
static oab_status check_client_options(const oab_client_options *opts,
                                       int anthropic, const char *base,
                                       const char *base_from,
                                       const char *key, oab_error *err)
{
    if (strncmp(base, "http://", 7) != 0 && strncmp(base, "https://", 8) != 0)
        return oab__err(err, OAB_EINVAL, 0,
                        "%s: the base URL must start with http:// or https://",
                        base_from);
    if ((!key || !*key) && needs_key(base, opts->azure)) {
        char host[256];
        url_host(base, host, sizeof host);
        return oab__err(err, OAB_ENOKEY, 0,
                        "no API key for %s: set oab_client_options.api_key "
                        "or $%s",
                        host, opts->azure  ? "AZURE_OPENAI_API_KEY"
                              : anthropic ? "ANTHROPIC_API_KEY"
                                          : "OPENAI_API_KEY");
    }
    if (opts->connect_timeout_ms < 0)
        return bad_ms(err, "connect_timeout_ms", opts->connect_timeout_ms);
    if (opts->timeout_ms < 0)
        return bad_ms(err, "timeout_ms", opts->timeout_ms);
    if (opts->retry_base_ms < 0)
        return bad_ms(err, "retry_base_ms", opts->retry_base_ms);
    if (opts->retry_max_ms < 0)
        return bad_ms(err, "retry_max_ms", opts->retry_max_ms);
    if (opts->max_retries < -1 || opts->max_retries > 100)
        return oab__err(err, OAB_EINVAL, 0,
                        "oab_client_options.max_retries: %d, must be -1 "
                        "(none), 0 (default 2) or up to 100",
                        opts->max_retries);
    if (opts->n_extra_headers && !opts->extra_headers)
        return oab__err(err, OAB_EINVAL, 0,
                        "oab_client_options.extra_headers: NULL with "
                        "n_extra_headers %zu",
                        opts->n_extra_headers);
    /* a header may carry a secret: say which one, not what it holds */
    for (size_t i = 0; i < opts->n_extra_headers; i++)
        if (!opts->extra_headers[i] || !header_ok(opts->extra_headers[i]))
            return oab__err(err, OAB_EINVAL, 0,
                            "oab_client_options.extra_headers[%zu]: not a "
                            "\"Name: value\" line (or holds CR/LF)",
                            i);
    if (opts->user_agent_suffix && strpbrk(opts->user_agent_suffix, "\r\n"))
        return oab__err(err, OAB_EINVAL, 0,
                        "oab_client_options.user_agent_suffix: holds CR or LF");
    return OAB_OK;
}

oab_status oab_client_new(oab_client **out, const oab_client_options *opts)
{
    return oab_client_new_v2(out, opts, NULL);
}

oab_status oab_client_new_v2(oab_client **out, const oab_client_options *opts,
                             oab_error *err)
{
    oab__err_clear(err);
    if (!out)
        return oab__err(err, OAB_EINVAL, 0, "out: NULL");
    *out = NULL;
    oab_status st = OAB__OPTIONS_CHECK(opts, OAB_CLIENT_OPTIONS_VERSION,
                                       "oab_client_options", err);
    if (st != OAB_OK)
        return st;
    oab_client_options dflt = OAB_CLIENT_OPTIONS_INIT;
    if (!opts)
        opts = &dflt;
    if (oab_global_init() != OAB_OK)
        return oab__err(err, OAB_ETRANSPORT, 0, "libcurl could not start");

    int azure = opts->azure;
    /* Anthropic: the provider field or a model written "anthropic:..." */
    int anthropic = opts->provider == OAB_PROVIDER_ANTHROPIC ||
                    (opts->model && strncmp(opts->model, "anthropic:", 10) == 0);
    if (opts->provider < 0 || opts->provider > OAB_PROVIDER_ANTHROPIC)
        return oab__err(err, OAB_EINVAL, 0,
                        "oab_client_options.provider: %d, must be "
                        "OAB_PROVIDER_OPENAI or OAB_PROVIDER_ANTHROPIC",
                        opts->provider);
    if (opts->anthropic_max_tokens < 0)
        return oab__err(err, OAB_EINVAL, 0,
                        "oab_client_options.anthropic_max_tokens: %ld, must be "
                        "0 (none) or more", opts->anthropic_max_tokens);
    if (anthropic && azure)
        return oab__err(err, OAB_EINVAL, 0,
                        "oab_client_options.azure: Azure and the Anthropic "
                        "provider cannot be used together");
    const char *key = opts->api_key;
    if (!key && azure)
        key = env_or(NULL, "AZURE_OPENAI_API_KEY");
    key = env_or(key, anthropic ? "ANTHROPIC_API_KEY" : "OPENAI_API_KEY");
    const char *base = opts->base_url, *base_from = "oab_client_options.base_url";
    if (!base && azure && (base = env_or(NULL, "AZURE_OPENAI_ENDPOINT")))
        base_from = "$AZURE_OPENAI_ENDPOINT";
    if (!base && (base = env_or(NULL, anthropic ? "ANTHROPIC_BASE_URL"
                                                : "OPENAI_BASE_URL")))
        base_from = anthropic ? "$ANTHROPIC_BASE_URL" : "$OPENAI_BASE_URL";
    if (!base)
        base = anthropic ? ANTHROPIC_BASE_URL : DEFAULT_BASE_URL;
    if ((st = check_client_options(opts, anthropic, base, base_from, key,
                                   err)) != OAB_OK)
        return st;

    oab_client *c = calloc(1, sizeof *c);
    if (!c)
        return oab__err(err, OAB_ENOMEM, 0, "out of memory");
    /* OpenAI's organization and project headers mean nothing to Anthropic */
    const char *org = anthropic ? NULL : env_or(opts->organization, "OPENAI_ORG_ID");
    const char *proj = anthropic ? NULL : env_or(opts->project, "OPENAI_PROJECT_ID");
    size_t blen = strlen(base);
    while (blen > 0 && base[blen - 1] == '/')
        blen--;
    if ((key && *key && !(c->api_key = oab__strdup(key))) ||
        !(c->base_url = oab__strndup(base, blen)) ||
        (org && *org && !(c->organization = oab__strdup(org))) ||
        (proj && *proj && !(c->project = oab__strdup(proj))) ||
        (opts->model && !(c->model = oab__strdup(
                              anthropic && strncmp(opts->model, "anthropic:", 10) == 0
                                  ? opts->model + 10
                                  : oab__model_name(opts->model)))) ||
        !(c->azure_api_version = oab__strdup(
              opts->azure_api_version ? opts->azure_api_version
                                      : DEFAULT_AZURE_VERSION)))
        st = OAB_ENOMEM;
    if (st == OAB_OK) {
        c->user_agent = opts->user_agent_suffix && *opts->user_agent_suffix
                            ? oab__sprintf("oaibatch/%s %s", OAB_VERSION_STRING,
                                           opts->user_agent_suffix)
                            : oab__sprintf("oaibatch/%s", OAB_VERSION_STRING);
        if (!c->user_agent)
            st = OAB_ENOMEM;
    }
    c->azure = azure;
    c->provider = anthropic ? OAB_PROVIDER_ANTHROPIC : OAB_PROVIDER_OPENAI;
    c->anth_max_tokens = opts->anthropic_max_tokens;
    c->connect_timeout_ms = opts->connect_timeout_ms ? opts->connect_timeout_ms : 10000;
    c->timeout_ms = opts->timeout_ms ? opts->timeout_ms : 600000;
    c->max_retries = opts->max_retries == 0 ? 2
                     : opts->max_retries < 0 ? 0
                                             : opts->max_retries;
    c->retry_base_ms = opts->retry_base_ms ? opts->retry_base_ms : 500;
    c->retry_max_ms = opts->retry_max_ms ? opts->retry_max_ms : 60000;
    c->rng = (unsigned long long)time(NULL) ^ ((unsigned long long)getpid() << 20) ^
             (unsigned long long)(uintptr_t)c;
    c->detail.retry_after_s = -1;

    if (st == OAB_OK && c->api_key) {
        st = anthropic ? add_header(&c->headers, "x-api-key: %s", c->api_key)
             : azure   ? add_header(&c->headers, "api-key: %s", c->api_key)
                       : add_header(&c->headers, "Authorization: Bearer %s", c->api_key);
    }
    if (st == OAB_OK && anthropic)
        st = add_header(&c->headers, "anthropic-version: %s", OAB_ANTHROPIC_VERSION);
    if (st == OAB_OK && c->organization)
        st = add_header(&c->headers, "OpenAI-Organization: %s", c->organization);
    if (st == OAB_OK && c->project)
        st = add_header(&c->headers, "OpenAI-Project: %s", c->project);
    for (size_t i = 0; st == OAB_OK && i < opts->n_extra_headers; i++)
        st = add_header(&c->headers, "%s", opts->extra_headers[i]);
    /* libcurl would otherwise send "Expect: 100-continue" on uploads */
    if (st == OAB_OK)
        st = add_header(&c->headers, "Expect:");
    if (st == OAB_OK && !(c->curl = curl_easy_init()))
        st = OAB_ETRANSPORT;
    if (st != OAB_OK) {
        oab_client_free(c);
        return oab__err(err, st, 0, "%s", st == OAB_ENOMEM
                                              ? "out of memory"
                                              : "libcurl could not start");
    }
    *out = c;
    return OAB_OK;
}

static void detail_free(oab_client *c)
{
    free(c->d_type);
    free(c->d_code);
    free(c->d_param);
    free(c->d_message);
    free(c->d_request_id);
    free(c->d_transport);
    free(c->errmsg);
    c->d_type = c->d_code = c->d_param = c->d_message = NULL;
    c->d_request_id = c->d_transport = c->errmsg = NULL;
}

void oab_client_free(oab_client *c)
{
    if (!c)
        return;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    curl_slist_free_all(c->headers);
    if (c->api_key) {
        memset(c->api_key, 0, strlen(c->api_key));
        free(c->api_key);
    }
    free(c->base_url);
    free(c->organization);
    free(c->project);
    free(c->model);
    free(c->user_agent);
    free(c->azure_api_version);
    free(c->last_request_id);
    oab__anth_client_free(c);
    detail_free(c);
    free(c);
}

const char *oab_client_model(const oab_client *c)
{
    return c ? c->model : NULL;
}

const char *oab_client_base_url(const oab_client *c)
{
    return c ? c->base_url : NULL;
}

const char *oab_client_last_request_id(const oab_client *c)
{
    return c ? c->last_request_id : NULL;
}

int oab_client_last_attempts(const oab_client *c)
{
    return c ? c->last_attempts : 0;
}

/* ---- error detail ---- */

static const oab_error_detail empty_detail = {OAB_OK, 0,    NULL, NULL, NULL,
                                              NULL,   NULL, -1,   NULL, 0};

const oab_error_detail *oab_client_last_error(const oab_client *c)
{
    return c ? &c->detail : &empty_detail;
}

const char *oab_client_errmsg(const oab_client *c)
{
    if (!c)
        return "no client";
    return c->errmsg ? c->errmsg : "";
}

void oab__client_clear_error(oab_client *c)
{
    detail_free(c);
    memset(&c->detail, 0, sizeof c->detail);
    c->detail.retry_after_s = -1;
}

/* Replaces every occurrence of the API key in s with "***" (in place:
 * the result is never longer). */
static void scrub_key(const oab_client *c, char *s)
{
    if (!s || !c->api_key || strlen(c->api_key) < 4)
        return;
    size_t klen = strlen(c->api_key);
    char *p;
    while ((p = strstr(s, c->api_key)) != NULL) {
        memcpy(p, "***", 3);
        memmove(p + 3, p + klen, strlen(p + klen) + 1);
    }
}

void oab__client_finish_error(oab_client *c)
{
    char **all[] = {&c->d_type,       &c->d_code,    &c->d_param,
                    &c->d_message,    &c->d_request_id, &c->d_transport};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        scrub_key(c, *all[i]);
    c->detail.type = c->d_type;
    c->detail.code = c->d_code;
    c->detail.param = c->d_param;
    c->detail.message = c->d_message;
    c->detail.request_id = c->d_request_id;
    c->detail.transport = c->d_transport;

    oab__buf b = OAB__BUF_INIT;
    if (c->detail.http_status >= 400) {
        oab__buf_printf(&b, "HTTP %ld", c->detail.http_status);
        if (c->d_type && c->d_code)
            oab__buf_printf(&b, " (%s, %s)", c->d_type, c->d_code);
        else if (c->d_type || c->d_code)
            oab__buf_printf(&b, " (%s)", c->d_type ? c->d_type : c->d_code);
        oab__buf_printf(&b, ": %s",
                        c->d_message ? c->d_message : oab_strerror(c->detail.status));
        if (c->d_param)
            oab__buf_printf(&b, " (param %s)", c->d_param);
    } else {
        oab__buf_puts(&b, oab_strerror(c->detail.status));
        if (c->d_message)
            oab__buf_printf(&b, ": %s", c->d_message);
        if (c->d_transport)
            oab__buf_printf(&b, ": %s", c->d_transport);
    }
    if (c->d_request_id)
        oab__buf_printf(&b, " [request %s]", c->d_request_id);
    if (c->detail.attempts > 1)
        oab__buf_printf(&b, " (after %d attempts)", c->detail.attempts);
    /* one line */
    for (size_t i = 0; i < b.len; i++)
        if (b.data[i] == '\n' || b.data[i] == '\r')
            b.data[i] = ' ';
    free(c->errmsg);
    c->errmsg = oab__buf_take(&b, NULL);
}

oab_status oab__client_options_check(oab_client *c, unsigned version,
                                     unsigned want, const char *name)
{
    oab_error e;
    if (oab__options_check(version, want, name, &e) == OAB_OK)
        return OAB_OK;
    return oab__client_fail(c, e.status, "%s", e.message);
}

oab_status oab__client_fail(oab_client *c, oab_status code, const char *fmt, ...)
{
    if (!c)
        return code;
    oab__client_clear_error(c);
    c->detail.status = code;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n >= 0 && (c->d_message = malloc((size_t)n + 1)) != NULL) {
            va_start(ap, fmt);
            vsnprintf(c->d_message, (size_t)n + 1, fmt, ap);
            va_end(ap);
        }
    }
    oab__client_finish_error(c);
    return code;
}
