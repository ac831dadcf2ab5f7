/*
 * oaibatch.h - C library for the OpenAI Batch API.
 *
 * One self-contained public header. Conventions (see docs/api.md):
 *
 *  - Every call that can fail returns an oab_status; OAB_OK (0) is success.
 *    oab_strerror() names a code; calls made through a client leave the
 *    detail of their last failure on that client (oab_client_last_error()).
 *    Calls that take no client accept an optional `oab_error *err` that
 *    receives a one-line message saying where the problem is.
 *  - Results come back through an `out` parameter, always the first one.
 *    Whatever comes back through `**out` belongs to the caller and is freed
 *    with the matching _free function; every _free accepts NULL.
 *    A returned `const char *` is borrowed and lives as long as its owner.
 *    Library-allocated plain strings (char **out) are freed with oab_free().
 *  - Options structs are set up with their _INIT macro:
 *    `oab_x_options o = OAB_X_OPTIONS_INIT;`, then set what you need. One
 *    rule holds for all of them (see "Options structs" below).
 *  - No libcurl or cJSON types appear here; JSON is exchanged as text.
 *  - The library never prints.
 *  - Threads: one client is used from one thread at a time; different
 *    clients may be used from different threads at once. Objects that are
 *    not clients (requests, results, schemas) may be shared read-only.
 *    Call oab_global_init() once before starting threads.
 */
#ifndef OAIBATCH_H
#define OAIBATCH_H

#include <stddef.h>
#include <stdint.h>
#include <math.h> /* NAN, for OAB_UNSET */

#ifdef __cplusplus
extern "C" {
#endif

#if defined(OAB_STATIC)
#define OAB_EXTERN
#elif defined(_WIN32)
#if defined(OAB_BUILDING)
#define OAB_EXTERN __declspec(dllexport)
#else
#define OAB_EXTERN __declspec(dllimport)
#endif
#elif defined(__GNUC__) && __GNUC__ >= 4
#define OAB_EXTERN __attribute__((visibility("default")))
#else
#define OAB_EXTERN
#endif

/* ------------------------------------------------------------------ */
/* Version                                                              */
/* ------------------------------------------------------------------ */

#define OAB_VERSION_MAJOR 0
#define OAB_VERSION_MINOR 1
#define OAB_VERSION_PATCH 0
#define OAB_VERSION_STRING "0.1.0"

/** The library's version as "MAJOR.MINOR.PATCH"; static storage. */
OAB_EXTERN const char *oab_version(void);

/* ------------------------------------------------------------------ */
/* Status codes (append-only; the table lives in one X-macro)          */
/* ------------------------------------------------------------------ */

#define OAB_STATUS_TABLE(X)                                                   \
    X(OAB_OK, 0, "success")                                                  \
    X(OAB_EINVAL, 1, "invalid argument")                                     \
    X(OAB_ENOMEM, 2, "out of memory")                                        \
    X(OAB_EIO, 3, "file input/output error")                                 \
    X(OAB_ENOKEY, 4, "no API key: set OPENAI_API_KEY or api_key")            \
    X(OAB_ECONNECT, 5, "could not connect to the server")                    \
    X(OAB_ETIMEOUT, 6, "timed out")                                          \
    X(OAB_ETRANSPORT, 7, "transport error (connection reset or similar)")    \
    X(OAB_EHTTP, 8, "the server answered with an HTTP error")                \
    X(OAB_EAUTH, 9, "authentication failed (HTTP 401)")                     \
    X(OAB_EPERM, 10, "permission denied (HTTP 403)")                         \
    X(OAB_ENOTFOUND, 11, "not found (HTTP 404)")                             \
    X(OAB_ERATELIMIT, 12, "rate limited (HTTP 429)")                         \
    X(OAB_ESERVER, 13, "server error (HTTP 5xx)")                            \
    X(OAB_EPROTO, 14, "malformed response from the server")                  \
    X(OAB_EJSON, 15, "invalid JSON")                                         \
    X(OAB_EVALIDATION, 16, "input failed validation")                        \
    X(OAB_ELIMIT, 17, "a limit was exceeded")                                \
    X(OAB_ESCHEMA, 18, "invalid or unsupported JSON Schema")                 \
    X(OAB_EBATCHFAILED, 19, "the batch failed")                              \
    X(OAB_ESTOPPED, 20, "stopped by the caller")                             \
    X(OAB_ESTATE, 21, "operation not valid in the current state")            \
    X(OAB_ETRUNCATED, 22, "data was truncated")                              \
    X(OAB_EUNSUPPORTED, 23, "not supported")                                 \
    X(OAB_ESQL, 24, "journal/database error")

typedef enum oab_status {
#define OAB_X_ENUM(name, value, text) name = value,
    OAB_STATUS_TABLE(OAB_X_ENUM)
#undef OAB_X_ENUM
    OAB_STATUS_LAST_
} oab_status;

/** A short static string naming `code` ("unknown status" if unknown). */
OAB_EXTERN const char *oab_strerror(oab_status code);

/** The identifier of `code` ("OAB_EHTTP"); static storage. */
OAB_EXTERN const char *oab_status_name(oab_status code);

/** Frees memory the library returned as a plain string or array. NULL ok. */
OAB_EXTERN void oab_free(void *ptr);

/** Process-wide setup (libcurl's global init). Call once from the main
 *  thread before other threads use the library; oab_client_new() calls it
 *  on demand otherwise. Returns OAB_OK or OAB_ETRANSPORT. */
OAB_EXTERN oab_status oab_global_init(void);
/** Releases what oab_global_init() set up. Optional, at exit. */
OAB_EXTERN void oab_global_cleanup(void);

/** Message holder for calls that take no client. Always NUL-terminated;
 *  message is "" on success. Says where: file, line, field or JSON path. */
typedef struct oab_error {
    oab_status status;
    long line;          /* 1-based line number when it applies, else 0 */
    char message[512];
} oab_error;

/* ------------------------------------------------------------------ */
/* Options structs                                                      */
/* ------------------------------------------------------------------ */

/* One rule for every options struct (oab_client_options,
 * oab_batch_options, oab_wait_options, oab_chat_options,
 * oab_responses_options, oab_validate_options, oab_split_options,
 * oab_results_options):
 *
 *  - Set it up with its _INIT macro, then set the fields you need:
 *        oab_chat_options o = OAB_CHAT_OPTIONS_INIT;
 *        o.model = "gpt-4o-mini";
 *    The macro gives every field its "unset" value, which is not always
 *    0 (-1 for max_tokens and tri-states, OAB_UNSET for doubles such as
 *    temperature, where 0 is a value of its own), and sets `version` to
 *    OAB_OPTIONS_MARK | OAB_X_OPTIONS_VERSION. Never assign `version`
 *    yourself; copies of a struct set up this way are fine.
 *  - Every function that takes options accepts NULL (all defaults) and
 *    otherwise checks `version` before anything else. A struct not set up
 *    with its macro (e.g. `{.version = OAB_CHAT_OPTIONS_VERSION, .model =
 *    "m"}`, which would send temperature 0 and max_tokens 0), or one from
 *    an oaibatch.h of another version, is refused with OAB_EINVAL and
 *    nothing is done or sent. The message names the struct and the macro
 *    ("oab_chat_options: not set up with OAB_CHAT_OPTIONS_INIT ..."); it
 *    is in the call's oab_error, or for calls on a client in
 *    oab_client_last_error(). The validation calls, which have neither,
 *    only return OAB_EINVAL. */
#define OAB_OPTIONS_MARK 0xAB00u

/* ------------------------------------------------------------------ */
/* Client                                                               */
/* ------------------------------------------------------------------ */

/** A connection to the API (one libcurl handle; connections are reused
 *  across calls). Threads: one client is used from one thread at a time;
 *  different clients may be used from different threads at once. */
typedef struct oab_client oab_client;

#define OAB_CLIENT_OPTIONS_VERSION 2

/** Options for oab_client_new(). Every pointer is copied; NULL or 0
 *  means "default". */
typedef struct oab_client_options {
    unsigned version;
    /** Secret key. NULL: $OPENAI_API_KEY (or $AZURE_OPENAI_API_KEY for
     *  Azure). Never printed, logged or put in an error message. */
    const char *api_key;
    /** e.g. "https://api.openai.com/v1" (default), "http://127.0.0.1:8089/v1".
     *  NULL: $OPENAI_BASE_URL, else OpenAI's. */
    const char *base_url;
    const char *organization;   /* NULL: $OPENAI_ORG_ID      */
    const char *project;        /* NULL: $OPENAI_PROJECT_ID  */
    /** Default model: "gpt-4o-mini" or "openai:gpt-4o-mini". */
    const char *model;
    long connect_timeout_ms;    /* default 10000 */
    /** Whole request for JSON calls (default 600000). Uploads and
     *  downloads have no total limit (they can be large) but fail after
     *  this long without a byte moving. */
    long timeout_ms;
    /** Retries after connection errors, timeouts, 408, 409, 429 and 5xx,
     *  with exponential backoff + jitter; Retry-After and retry-after-ms
     *  are honoured (capped by retry_max_ms). 0 = default 2; -1 = none.
     *  A batch create (oab_batch_create, oab_batch_create_job) is tried
     *  again only when the server surely did not take it (no connection
     *  made, 408, 429): after a timeout, a reset or a 5xx the batch may
     *  exist, and a second create would make (and bill) a second one;
     *  look for it (oab_batch_list_all, by input_file_id) before sending
     *  it again, as `oaibatch submit` does. */
    int max_retries;
    /** Base delay of the exponential backoff between retries (default 500). */
    long retry_base_ms;
    /** Cap on one backoff delay, Retry-After included (default 60000). */
    long retry_max_ms;
    const char *user_agent_suffix;
    /** Extra "Name: value" header lines. */
    const char *const *extra_headers;
    size_t n_extra_headers;
    /** Azure OpenAI: sends `api-key` instead of Bearer and adds
     *  `api-version` to every query. base_url is the resource's
     *  "https://NAME.openai.azure.com/openai". */
    int azure;
    const char *azure_api_version; /* default "2024-10-21" */
    /* ---- since version 2 (Anthropic; see the section at the end) ---- */
    /** An oab_provider: OAB_PROVIDER_OPENAI (0, default) or
     *  OAB_PROVIDER_ANTHROPIC. A model written "anthropic:claude-..."
     *  chooses Anthropic too. */
    int provider;
    /** Anthropic: max_tokens sent for a line that has neither max_tokens
     *  nor max_completion_tokens; 0 (default): such a line is refused. */
    long anthropic_max_tokens;
} oab_client_options;

#define OAB_CLIENT_OPTIONS_INIT                                              \
    { OAB_OPTIONS_MARK | OAB_CLIENT_OPTIONS_VERSION, NULL, NULL, NULL, NULL, \
      NULL, 0, 0, 0, 0, 0, NULL, NULL, 0, 0, NULL, 0, 0 }

/** Creates a client. `opts` may be NULL (all defaults). No request is
 *  made. A base URL that is not OpenAI's or Azure's (a local server) works
 *  without a key: then no Authorization header is sent.
 *  Errors, each with a one-line message in `err` (may be NULL) naming the
 *  option, e.g. "oab_client_options.timeout_ms: -5, must be 0 (default)
 *  or more" (the key and header values are never in it):
 *  OAB_EINVAL for options not set up with OAB_CLIENT_OPTIONS_INIT, a base
 *  URL (option, $AZURE_OPENAI_ENDPOINT or $OPENAI_BASE_URL) that is not
 *  http(s), a negative connect_timeout_ms, timeout_ms, retry_base_ms or
 *  retry_max_ms, max_retries outside -1..100, an extra header that is
 *  NULL or not a "Name: value" line or holds CR/LF, a user_agent_suffix
 *  with CR/LF, a provider that is not OAB_PROVIDER_OPENAI or
 *  OAB_PROVIDER_ANTHROPIC, a negative anthropic_max_tokens, azure with the
 *  Anthropic provider; OAB_ENOKEY when the base URL is OpenAI's, Azure's
 *  or Anthropic's and no key is set ($OPENAI_API_KEY, $AZURE_OPENAI_API_KEY
 *  or $ANTHROPIC_API_KEY); OAB_ETRANSPORT when libcurl cannot start;
 *  OAB_ENOMEM. On error *out is NULL. Free with oab_client_free(). */
OAB_EXTERN oab_status oab_client_new_v2(oab_client **out,
                                        const oab_client_options *opts,
                                        oab_error *err);

/** oab_client_new_v2() without the message: the same checks and status
 *  codes. */
OAB_EXTERN oab_status oab_client_new(oab_client **out,
                                     const oab_client_options *opts);

/** Frees a client and its connections. NULL ok. */
OAB_EXTERN void oab_client_free(oab_client *client);

/** The client's default model with any "openai:" prefix removed, or NULL.
 *  Borrowed; lives as long as the client. */
OAB_EXTERN const char *oab_client_model(const oab_client *client);

/** The base URL in use (no trailing slash). Borrowed. */
OAB_EXTERN const char *oab_client_base_url(const oab_client *client);

/** Detail of the last failed call on a client. Strings are borrowed and
 *  valid until the next call on the same client; absent ones are NULL.
 *  HTTP answers map to: 401 OAB_EAUTH, 403 OAB_EPERM, 404 OAB_ENOTFOUND,
 *  429 OAB_ERATELIMIT, 5xx OAB_ESERVER, any other 4xx OAB_EHTTP; an
 *  OpenAI error body {"error":{"message","type","param","code"}} fills
 *  the fields below. No connection: OAB_ECONNECT; no answer in time:
 *  OAB_ETIMEOUT; a connection broken mid-answer: OAB_ETRANSPORT; a 2xx
 *  answer that is not the expected JSON: OAB_EPROTO; a JSON answer over
 *  64 MiB: OAB_ELIMIT. The API key never appears in any of these texts. */
typedef struct oab_error_detail {
    oab_status status;        /* the code the call returned */
    long http_status;         /* 0 when no HTTP answer */
    const char *type;         /* API error "type"    */
    const char *code;         /* API error "code"    */
    const char *param;        /* API error "param"   */
    const char *message;      /* API message, or the library's own */
    const char *request_id;   /* x-request-id of the failing answer */
    double retry_after_s;     /* from Retry-After / retry-after-ms; -1 if none */
    const char *transport;    /* libcurl's message for transport errors */
    int attempts;             /* how many HTTP attempts were made */
} oab_error_detail;

/** Detail of the last failure; never NULL (all empty after a success). */
OAB_EXTERN const oab_error_detail *oab_client_last_error(const oab_client *c);

/** One line describing the last failure ("HTTP 404 (invalid_request_error):
 *  No such batch: batch_x [request req_1]"). Borrowed, same lifetime. */
OAB_EXTERN const char *oab_client_errmsg(const oab_client *c);

/** x-request-id of the last answer received (success or not), or NULL. */
OAB_EXTERN const char *oab_client_last_request_id(const oab_client *c);

/** How many HTTP attempts the client's last request made, whether it
 *  succeeded or not (0 before any request, or NULL). More than 1 after a
 *  successful upload means an earlier attempt may have been stored too
 *  (a 5xx or a timeout whose answer was lost): a copy of the file that
 *  the caller may want to find (by its name) and delete. A download
 *  resumed with Range is one request per resume: this counts the last. */
OAB_EXTERN int oab_client_last_attempts(const oab_client *c);

/* ------------------------------------------------------------------ */
/* Files API                                                            */
/* ------------------------------------------------------------------ */

/** A File object. All strings owned by the struct; free with oab_file_free. */
typedef struct oab_file {
    char *id;
    char *object;          /* "file" */
    long long bytes;
    long long created_at;
    long long expires_at;  /* 0 when null/absent */
    char *filename;
    char *purpose;         /* batch, batch_output, ... */
    char *status;          /* deprecated by the API; may be NULL */
    char *raw_json;        /* the object as the server sent it */
} oab_file;

/** Frees a File and its strings. NULL ok. */
OAB_EXTERN void oab_file_free(oab_file *file);

/** Parses a File object from `len` bytes of JSON text (no I/O). *out
 *  belongs to the caller (free with oab_file_free); NULL on error.
 *  Errors (err says which): OAB_EINVAL (out or json NULL), OAB_EJSON (not
 *  JSON), OAB_EPROTO (not an object, or no "id"), OAB_ENOMEM. */
OAB_EXTERN oab_status oab_file_parse(oab_file **out, const char *json,
                                     size_t len, oab_error *err);

/** Uploads a file from disk (POST /files, multipart `file` + `purpose`),
 *  streamed: memory does not grow with the file. The part's filename is
 *  the path's last component. `purpose` NULL means "batch".
 *  `expires_after_s` 0 = not sent, else expires_after[anchor]=created_at,
 *  expires_after[seconds]=N (the API takes 3600..2592000). *out (may be
 *  NULL) receives the File; free with oab_file_free. OAB_EIO when the
 *  file cannot be read; HTTP and transport errors as for every call. */
OAB_EXTERN oab_status oab_file_upload_path(oab_client *c, oab_file **out,
                                           const char *path,
                                           const char *purpose,
                                           long long expires_after_s);

/** The same as oab_file_upload_path, the file sent under `filename`
 *  (NULL: the path's last component) instead of the path's name: a name
 *  of your own finds the file again in GET /files (the API keeps no
 *  metadata on files). OAB_EINVAL (nothing sent) when `filename` is
 *  empty or holds a control character, '/', '\\' or '"'. */
OAB_EXTERN oab_status oab_file_upload_path_as(oab_client *c, oab_file **out,
                                              const char *path,
                                              const char *filename,
                                              const char *purpose,
                                              long long expires_after_s);

/** Uploads `len` bytes from memory under `filename` (NULL:
 *  "batch.jsonl"); the bytes are sent from `data` without a copy. Same
 *  outputs (*out, may be NULL, freed with oab_file_free) and errors as
 *  oab_file_upload_path. */
OAB_EXTERN oab_status oab_file_upload_buffer(oab_client *c, oab_file **out,
                                             const void *data, size_t len,
                                             const char *filename,
                                             const char *purpose,
                                             long long expires_after_s);

/** GET /files/{id}. *out receives the File (free with oab_file_free);
 *  OAB_ENOTFOUND when there is no such file. */
OAB_EXTERN oab_status oab_file_retrieve(oab_client *c, oab_file **out,
                                        const char *file_id);

/** Deletes a file. OAB_ENOTFOUND when it does not exist. */
OAB_EXTERN oab_status oab_file_delete(oab_client *c, const char *file_id);

/** One page of GET /files (the function that reads it is oab_file_list). */
typedef struct oab_file_page {
    oab_file **files;
    size_t n;
    char *first_id;
    char *last_id;
    int has_more;
} oab_file_page;

/** Frees a page and its files. NULL ok. */
OAB_EXTERN void oab_file_page_free(oab_file_page *list);

/** One page of GET /files. `purpose` (NULL: every purpose) keeps only the
 *  files of that purpose ("batch", "batch_output", ...); `limit` 1..10000
 *  (0 = the server's default, 10000); `after` NULL for the first page,
 *  else the last id seen; `order` NULL (the server's default, "desc"),
 *  "asc" or "desc" by created_at. *out belongs to the caller (free with
 *  oab_file_page_free); NULL on error. Errors: OAB_EINVAL (no client or
 *  out, limit out of range, another order), OAB_EPROTO (the answer is
 *  not a list of File objects), OAB_ENOMEM, and the HTTP and transport
 *  errors of every call. */
OAB_EXTERN oab_status oab_file_list(oab_client *c, oab_file_page **out,
                                    const char *purpose, int limit,
                                    const char *after, const char *order);

/** Receives downloaded bytes; return 0 to go on, non-zero to stop
 *  (the download then ends with OAB_ESTOPPED). */
typedef int (*oab_write_fn)(const void *data, size_t len, void *userdata);

/** Streams a file's content to `fn`, starting at byte `offset` (HTTP
 *  Range). A connection that breaks is resumed from the last byte
 *  received with a Range request (giving up after max_retries attempts
 *  in a row that bring no new byte; a server that ignores Range has the
 *  bytes already delivered skipped). Fewer bytes than the server stated
 *  (Content-Length / Content-Range), or a stream broken for good, is
 *  OAB_ETRUNCATED, never success. Memory stays flat. */
OAB_EXTERN oab_status oab_file_download(oab_client *c, const char *file_id,
                                        long long offset, oab_write_fn fn,
                                        void *userdata);

/** Downloads a file's content to `path`: written to "path.part", resumed
 *  from it if present, fsynced and renamed to `path` only when complete
 *  (on failure "path.part" stays for a later resume). */
OAB_EXTERN oab_status oab_file_download_path(oab_client *c,
                                             const char *file_id,
                                             const char *path);

/** Downloads into memory (for small files). *out is NUL-terminated, free
 *  with oab_free; *len_out (may be NULL) gets the length. Errors:
 *  OAB_ELIMIT for a file over 512 MiB, OAB_ENOMEM, and those of
 *  oab_file_download. */
OAB_EXTERN oab_status oab_file_download_buffer(oab_client *c,
                                               const char *file_id,
                                               char **out, size_t *len_out);

/* ------------------------------------------------------------------ */
/* Batches API                                                          */
/* ------------------------------------------------------------------ */

typedef enum oab_batch_status {
    OAB_BATCH_UNKNOWN = 0, /* a status this version does not know: see status_text */
    OAB_BATCH_VALIDATING,
    OAB_BATCH_FAILED,
    OAB_BATCH_IN_PROGRESS,
    OAB_BATCH_FINALIZING,
    OAB_BATCH_COMPLETED,
    OAB_BATCH_EXPIRED,
    OAB_BATCH_CANCELLING,
    OAB_BATCH_CANCELLED
} oab_batch_status;

/** "validating", ... ; "unknown" for OAB_BATCH_UNKNOWN. Static. */
OAB_EXTERN const char *oab_batch_status_str(oab_batch_status s);
/** Parses a status word; unknown words give OAB_BATCH_UNKNOWN. */
OAB_EXTERN oab_batch_status oab_batch_status_from_str(const char *s);
/** 1 for failed, completed, expired, cancelled; else 0. */
OAB_EXTERN int oab_batch_status_is_terminal(oab_batch_status s);

typedef struct oab_kv {
    char *key;
    char *value;
} oab_kv;

/** One entry of a batch's errors.data. */
typedef struct oab_batch_error {
    char *code;
    char *message;
    char *param;   /* NULL if absent */
    long line;     /* 1-based; 0 if absent */
} oab_batch_error;

/** oab_job is a Batch object: what POST /batches, GET /batches/{id} and
 *  the other Batches API calls return, with every field of the spec.
 *  Wherever this header says "job", it means such a Batch object.
 *  Strings are NULL when the server sent null, nothing, or "" (output/
 *  error file ids). Timestamps are Unix seconds, 0 when null/absent.
 *  Free with oab_job_free. */
typedef struct oab_job {
    char *id;
    char *object;                 /* "batch" */
    char *endpoint;
    char *model;
    char *input_file_id;
    char *output_file_id;
    char *error_file_id;
    char *completion_window;
    oab_batch_status status;
    char *status_text;            /* the status word as sent */
    long long created_at, in_progress_at, expires_at, finalizing_at,
        completed_at, failed_at, expired_at, cancelling_at, cancelled_at;
    int has_request_counts;
    long long count_total, count_completed, count_failed;
    int has_usage;
    long long input_tokens, cached_tokens, output_tokens, reasoning_tokens,
        total_tokens;
    oab_kv *metadata;
    size_t n_metadata;
    oab_batch_error *errors;
    size_t n_errors;
    char *raw_json;               /* the object as the server sent it */
} oab_job;

/** Frees a job and everything it holds. NULL ok. */
OAB_EXTERN void oab_job_free(oab_job *job);

/** Parses a Batch object from `len` bytes of JSON text (no I/O). *out
 *  belongs to the caller (free with oab_job_free); NULL on error.
 *  Missing required fields (id, status) give OAB_EPROTO with the field
 *  named in err; also OAB_EINVAL (out or json NULL), OAB_EJSON (not
 *  JSON), OAB_ENOMEM. */
OAB_EXTERN oab_status oab_job_parse(oab_job **out, const char *json,
                                    size_t len, oab_error *err);

/** A deep copy of a job. *out belongs to the caller (free with
 *  oab_job_free); NULL on error. Errors: OAB_EINVAL (out or job NULL),
 *  OAB_ENOMEM. */
OAB_EXTERN oab_status oab_job_dup(oab_job **out, const oab_job *job);

#define OAB_BATCH_OPTIONS_VERSION 1

typedef struct oab_batch_options {
    unsigned version;
    const char *endpoint;            /* default "/v1/chat/completions" */
    const char *completion_window;   /* default "24h" */
    /** metadata pairs: at most 16, keys <= 64 chars, values <= 512;
     *  checked before anything is sent (OAB_EINVAL). */
    const char *const *metadata_keys;
    const char *const *metadata_values;
    size_t n_metadata;
    long long output_expires_after_s; /* 0 = not sent */
    long long input_expires_after_s;  /* upload's expires_after; 0 = not sent */
} oab_batch_options;

#define OAB_BATCH_OPTIONS_INIT                                                \
    { OAB_OPTIONS_MARK | OAB_BATCH_OPTIONS_VERSION, NULL, NULL, NULL, NULL, \
      0, 0, 0 }

/** POST /batches for an uploaded file (JSON body: input_file_id,
 *  endpoint, completion_window, metadata, output_expires_after). The
 *  options are checked first: bad metadata (more than 16 pairs, a key
 *  over 64 or a value over 512 characters, a key given twice) is
 *  OAB_EINVAL with nothing sent. `opts` may be NULL. *out (may be NULL)
 *  receives the new job; free with oab_job_free. Sent again only when
 *  the server surely did not take it (see max_retries): a failure after
 *  a timeout, a reset or a 5xx leaves it open whether the batch exists. */
OAB_EXTERN oab_status oab_batch_create(oab_client *c, oab_job **out,
                                       const char *input_file_id,
                                       const oab_batch_options *opts);
/** GET /batches/{id}: the batch as it is now. *out (required)
 *  receives the job; free with oab_job_free. OAB_ENOTFOUND for an
 *  unknown id; OAB_EPROTO when the answer is not a Batch object. */
OAB_EXTERN oab_status oab_batch_retrieve(oab_client *c, oab_job **out,
                                         const char *batch_id);
/** POST /batches/{id}/cancel (no body): asks for the batch to be
 *  cancelled (it goes to cancelling, then cancelled). *out (may be NULL)
 *  receives the updated job; free with oab_job_free.
 *  Errors: OAB_EINVAL (no client or batch id), OAB_ENOTFOUND for an
 *  unknown id, the API's refusal for a batch that cannot be cancelled
 *  (OAB_EHTTP), and the HTTP and transport errors of every call (see
 *  oab_error_detail). */
OAB_EXTERN oab_status oab_batch_cancel(oab_client *c, oab_job **out,
                                       const char *batch_id);

/** One page of GET /batches. */
typedef struct oab_job_list {
    oab_job **jobs;
    size_t n;
    char *first_id;
    char *last_id;
    int has_more;
} oab_job_list;

/** Frees a page and its jobs. NULL ok. */
OAB_EXTERN void oab_job_list_free(oab_job_list *list);

/** One page: `limit` 1..100 (0 = server default 20); `after` NULL for the
 *  first page, else the last id seen. *out
 *  belongs to the caller (free with oab_job_list_free); NULL on error.
 *  Errors: OAB_EINVAL (no client or out, limit out of range), OAB_EPROTO
 *  (the answer is not a list of Batch objects), OAB_ENOMEM, and the HTTP
 *  and transport errors of every call. */
OAB_EXTERN oab_status oab_batch_list(oab_client *c, oab_job_list **out,
                                     int limit, const char *after);

/** Called per job; return 0 to go on, non-zero to stop (OAB_ESTOPPED). */
typedef int (*oab_job_fn)(const oab_job *job, void *userdata);

/** Walks every page (page size `limit`, 0 = server default), following
 *  last_id while has_more, calling fn for each job (borrowed for the
 *  call). Stops with the error of a failed page. */
OAB_EXTERN oab_status oab_batch_list_all(oab_client *c, int limit,
                                         oab_job_fn fn, void *userdata);

/** Upload + create in one call for a JSONL file on disk. The file is
 *  validated first (oab_validate_path with the defaults) and refused with
 *  OAB_EVALIDATION before any request; the client's error message then
 *  names the first problem ("PATH: line 3: duplicate_custom_id: ... (N more
 *  problems)"). The upload uses purpose "batch" and
 *  opts->input_expires_after_s; the batch, the rest of `opts` (may be
 *  NULL). *out (may be NULL) receives the job; free with oab_job_free. When
 *  the create fails after the upload, the uploaded file is left in place. */
OAB_EXTERN oab_status oab_batch_create_job_path(oab_client *c, oab_job **out,
                                                const char *jsonl_path,
                                                const oab_batch_options *opts);

/** The same for `len` bytes of JSONL in memory (validated with
 *  oab_validate_buffer; uploaded as "batch.jsonl"). *out (may be NULL)
 *  receives the job; free with oab_job_free. Errors as for
 *  oab_batch_create_job_path (OAB_EINVAL for a NULL client or jsonl). */
OAB_EXTERN oab_status oab_batch_create_job_buffer(oab_client *c,
                                                  oab_job **out,
                                                  const char *jsonl,
                                                  size_t len,
                                                  const oab_batch_options *opts);

/* ------------------------------------------------------------------ */
/* Waiting                                                              */
/* ------------------------------------------------------------------ */

#define OAB_WAIT_OPTIONS_VERSION 1

typedef struct oab_wait_options {
    unsigned version;
    double first_interval_s;   /* default 5 */
    double factor;             /* default 1.5 */
    double max_interval_s;     /* default 300 */
    double jitter;             /* 0..1, share of the interval; default 0.1 */
    double timeout_s;          /* 0 = no limit */
    int cancel_on_timeout;     /* cancel the batch when timing out */
    /** Called with the job after every poll; return non-zero to stop
     *  waiting (oab_batch_wait then returns OAB_ESTOPPED). */
    int (*progress)(const oab_job *job, void *userdata);
    void *userdata;
} oab_wait_options;

#define OAB_WAIT_OPTIONS_INIT                                                 \
    { OAB_OPTIONS_MARK | OAB_WAIT_OPTIONS_VERSION, 0, 0, 0, -1, 0, 0, NULL, \
      NULL }

/** Polls until the batch reaches a terminal status: the first poll at
 *  once, then after first_interval_s, growing by `factor` up to
 *  max_interval_s, each +/- jitter, never sleeping past timeout_s. A
 *  poll that fails with a passing error (connection, timeout, 5xx, 429)
 *  after the transport's own retries is tried again at the next interval,
 *  up to 3 in a row. *out (may be NULL) receives the last job seen, also
 *  on OAB_ETIMEOUT / OAB_ESTOPPED / a failed poll (then it may be NULL);
 *  free it with oab_job_free.
 *  With cancel_on_timeout the batch is cancelled on timeout and *out is
 *  the job the cancel returned. Returns OAB_OK on any terminal status
 *  (check job->status). */
OAB_EXTERN oab_status oab_batch_wait(oab_client *c, oab_job **out,
                                     const char *batch_id,
                                     const oab_wait_options *opts);

/* ------------------------------------------------------------------ */
/* JSON Schema and structured output                                   */
/* ------------------------------------------------------------------ */

typedef struct oab_schema oab_schema;

typedef enum oab_output_mode {
    OAB_OUTPUT_NONE = 0,  /* no structured output */
    OAB_OUTPUT_NATIVE,    /* response_format json_schema (default) */
    OAB_OUTPUT_TOOL,      /* forced function tool */
    OAB_OUTPUT_PROMPTED   /* schema in the system prompt */
} oab_output_mode;

/** "none", "native", "tool", "prompted". */
OAB_EXTERN const char *oab_output_mode_str(oab_output_mode m);
/** Parses a mode word; returns OAB_EINVAL for an unknown one. */
OAB_EXTERN oab_status oab_output_mode_from_str(oab_output_mode *out,
                                               const char *s);

/** Makes a schema for structured output. `name` NULL = "final_result"
 *  (letters, digits, '_' and '-' only, at most 64; else OAB_EINVAL).
 *  `description` may be NULL. `json_schema` must be a JSON object
 *  (OAB_EJSON with line and column when it is not JSON, OAB_ESCHEMA when
 *  it is not an object). With `strict`, the schema is brought to OpenAI's
 *  strict rules: every object gets additionalProperties:false and all its
 *  properties required, the ones that were optional made nullable ("type"
 *  gains "null", and "null" is added to an "enum"; a property without a
 *  type, such as a $ref, becomes {"anyOf":[<it>,{"type":"null"}]}); keys
 *  keep their order, "required" and "additionalProperties" are replaced in
 *  place or appended. A schema that cannot be made strict
 *  (additionalProperties true or a schema, a root that is not an object)
 *  is OAB_ESCHEMA with the JSON pointer in err->message, e.g.
 *  "/properties/meta: additionalProperties must be false in strict mode".
 *  Without `strict` the schema is kept as given. A "pattern" that is not
 *  a valid regular expression, or a "$ref" that does not point inside the
 *  schema (remote references are not fetched), is OAB_ESCHEMA too, and
 *  so is a string anywhere in the schema holding the escape \u0000
 *  (U+0000: the parsed string would end there, so "^\u0000a$" would
 *  become "^"; err->message names the member path, e.g.
 *  "properties.a.pattern"; in a pattern write the regex escape \\x00).
 *  *out belongs to the caller; free with oab_schema_free. */
OAB_EXTERN oab_status oab_schema_new(oab_schema **out, const char *name,
                                     const char *description,
                                     const char *json_schema, int strict,
                                     oab_error *err);
/** Frees a schema. NULL is fine. */
OAB_EXTERN void oab_schema_free(oab_schema *schema);
/** The schema's name ("final_result" by default). Borrowed. */
OAB_EXTERN const char *oab_schema_name(const oab_schema *s);
/** The description given to oab_schema_new, or NULL. Borrowed. */
OAB_EXTERN const char *oab_schema_description(const oab_schema *s);
/** 1 when the schema was made strict, else 0. */
OAB_EXTERN int oab_schema_strict(const oab_schema *s);
/** The schema as sent (after strict rewriting), compact JSON. Borrowed. */
OAB_EXTERN const char *oab_schema_json(const oab_schema *s);

/** Validates a JSON instance (`len` bytes of text) against the schema
 *  (JSON Schema draft 2020-12: type, properties, required,
 *  additionalProperties, patternProperties, items/prefixItems, enum,
 *  const, anyOf/allOf/oneOf/not, if/then/else, $ref with $defs, $id and
 *  $anchor, the numeric and length limits, pattern as an ECMA-262 regular
 *  expression searched in the string, format asserted for date-time,
 *  date, time, email, uuid, ipv4, ipv6 and hostname, uniqueItems,
 *  contains, property counts, dependentRequired; other keywords are
 *  ignored). OAB_OK when valid; OAB_EVALIDATION with the first problem in
 *  err->message, as the instance's JSON pointer and the reason
 *  ("/humidity: expected integer, got string", "/" for the root);
 *  OAB_EJSON when the text is not JSON; OAB_ESCHEMA when the schema
 *  cannot be applied (e.g. a $ref cycle). The schema is only read, so one
 *  schema may validate from several threads at once. */
OAB_EXTERN oab_status oab_schema_validate(const oab_schema *s,
                                          const char *instance_json,
                                          size_t len, oab_error *err);

/* ------------------------------------------------------------------ */
/* Requests                                                             */
/* ------------------------------------------------------------------ */

typedef struct oab_request oab_request;

/** A tool the model may call. parameters_json is a JSON Schema object
 *  (NULL = {"type":"object","properties":{}}), copied compact. Chat lines
 *  carry "strict":true only when strict is set (as pydantic-ai);
 *  /v1/responses lines always carry "strict" (the API requires it). */
typedef struct oab_tool {
    const char *name;
    const char *description;
    const char *parameters_json;
    int strict;
} oab_tool;

/** One chat message. `content` is text; or `content_json` is a JSON array
 *  of content parts (text, image_url, ...). For role "tool" set
 *  tool_call_id; for an assistant message that called tools set
 *  tool_calls_json (the JSON array as the API returned it). */
typedef struct oab_message {
    const char *role;          /* system, developer, user, assistant, tool */
    const char *content;
    const char *content_json;
    const char *name;
    const char *tool_call_id;
    const char *tool_calls_json;
} oab_message;

typedef enum oab_tool_choice {
    OAB_TOOL_CHOICE_UNSET = 0,
    OAB_TOOL_CHOICE_AUTO,
    OAB_TOOL_CHOICE_NONE,
    OAB_TOOL_CHOICE_REQUIRED,
    OAB_TOOL_CHOICE_FUNCTION   /* tool_choice_function names it */
} oab_tool_choice;

#define OAB_CHAT_OPTIONS_VERSION 1

/** Options of a chat request. Unset fields (as OAB_CHAT_OPTIONS_INIT
 *  sets them) are absent from the line: pointers NULL, max tokens -1,
 *  doubles OAB_UNSET, has_seed 0, tri-states -1. */
typedef struct oab_chat_options {
    unsigned version;
    const char *model;            /* NULL: must be set by the caller */
    const char *system_prompt;    /* prepended as a system message */
    const oab_message *messages;  /* full list; `prompt` then appended as
                                     a user message when non-NULL */
    size_t n_messages;
    /** -1 unset; else at least 1 (0 and other negatives are OAB_EINVAL
     *  naming the field). */
    long max_tokens;
    long max_completion_tokens;   /* as max_tokens */
    double temperature;
    double top_p;
    double presence_penalty;
    double frequency_penalty;
    int has_seed;
    long long seed;
    const char *const *stop;
    size_t n_stop;
    const char *reasoning_effort; /* minimal, low, medium, high */
    const char *user;
    const oab_tool *tools;
    size_t n_tools;
    oab_tool_choice tool_choice;
    const char *tool_choice_function;
    /** -1 unset, 0 false, 1 true; sent only when the line has tools
     *  (opts->tools or the output tool of OAB_OUTPUT_TOOL), since the
     *  API refuses it otherwise. */
    int parallel_tool_calls;
    const oab_schema *output_schema;
    oab_output_mode output_mode;  /* NONE with a schema = NATIVE */
    /** A JSON object merged into the body last (its keys win). */
    const char *extra_body_json;
} oab_chat_options;

/** "Not set" for the double fields of options structs (a quiet NaN). */
#define OAB_UNSET NAN

#define OAB_CHAT_OPTIONS_INIT                                                \
    { OAB_OPTIONS_MARK | OAB_CHAT_OPTIONS_VERSION, NULL, NULL, NULL, 0, -1, \
      -1, OAB_UNSET, OAB_UNSET, OAB_UNSET, OAB_UNSET, 0, 0, NULL, 0, NULL,  \
      NULL, NULL, 0, OAB_TOOL_CHOICE_UNSET, NULL, -1, NULL, OAB_OUTPUT_NONE, \
      NULL }

/** Builds a /v1/chat/completions request.
 *  `prompt` is the user message (NULL when opts->messages says it all).
 *  `opts` may be NULL (then the body has no model: oab_batch_create_job
 *  fills in the client's default model).
 *
 *  Body key order: model, messages, the options in the order of
 *  oab_chat_options, tools, tool_choice, parallel_tool_calls,
 *  response_format, then extra_body_json's members (a member with a name
 *  the builder wrote replaces that value in place; others are appended).
 *  Messages: the prompted-mode schema message (first), system_prompt,
 *  opts->messages, then `prompt` as a user message. Structured output:
 *  native = response_format {"type":"json_schema","json_schema":{name,
 *  [description], schema, strict}}; tool = a function tool appended after
 *  the caller's tools (description: the schema's, else "The final response
 *  which ends this conversation") and tool_choice forcing it (this
 *  replaces opts->tool_choice); prompted = a first system message
 *  "Always respond with a JSON object that's compatible with this
 *  schema:\n\n<schema>\n\nDon't include any text or Markdown fencing
 *  before or after." Numbers: integers plainly, others with the fewest of
 *  15/16/17 digits that read back exactly (0.8 is 0.8). Text is sent as
 *  UTF-8 unchanged; JSON handed over as text is checked and copied
 *  compact (strings and numbers as written).
 *
 *  Errors (OAB_EINVAL: missing or invalid field, text not UTF-8, non-finite
 *  number; OAB_EJSON: JSON text that does not parse or has the wrong type;
 *  OAB_ENOMEM) name the field in err, e.g. "tools[1].parameters_json: not
 *  valid JSON". *out is NULL on error. Free with oab_request_free. */
OAB_EXTERN oab_status oab_chat_request_new(oab_request **out,
                                           const char *custom_id,
                                           const char *prompt,
                                           const oab_chat_options *opts,
                                           oab_error *err);

#define OAB_RESPONSES_OPTIONS_VERSION 1

typedef struct oab_responses_options {
    unsigned version;
    const char *model;
    const char *instructions;
    const char *input_json;       /* input as a JSON array of items, or NULL */
    long max_output_tokens;       /* -1 unset; else at least 1 */
    double temperature;
    double top_p;
    const char *reasoning_effort;
    const char *user;
    const oab_tool *tools;
    size_t n_tools;
    oab_tool_choice tool_choice;
    const char *tool_choice_function;
    int parallel_tool_calls;      /* as in oab_chat_options */
    const oab_schema *output_schema; /* text.format json_schema */
    oab_output_mode output_mode;     /* NATIVE, TOOL or PROMPTED */
    const char *extra_body_json;
} oab_responses_options;

#define OAB_RESPONSES_OPTIONS_INIT                                           \
    { OAB_OPTIONS_MARK | OAB_RESPONSES_OPTIONS_VERSION, NULL, NULL, NULL,  \
      -1, OAB_UNSET, OAB_UNSET, NULL, NULL, NULL, 0, OAB_TOOL_CHOICE_UNSET,  \
      NULL, -1, NULL, OAB_OUTPUT_NONE, NULL }

/** Builds a /v1/responses request; `input` is the user text (or NULL
 *  with opts->input_json; with both, the text is appended to the items as
 *  a user message). Key order: model, input, instructions, then the
 *  options in struct order (reasoning_effort as "reasoning":{"effort"}),
 *  tools, tool_choice, parallel_tool_calls, text, extra_body_json.
 *  Structured output: native = text.format {"type":"json_schema", name,
 *  [description], schema, strict}; tool = {"type":"function","name",...}
 *  and tool_choice {"type":"function","name"}; prompted = the schema text
 *  before `instructions` (separated by a blank line). Errors as for
 *  oab_chat_request_new; *out is NULL on error. Free with
 *  oab_request_free. */
OAB_EXTERN oab_status oab_responses_request_new(oab_request **out,
                                                const char *custom_id,
                                                const char *input,
                                                const oab_responses_options *opts,
                                                oab_error *err);

/** Builds a /v1/embeddings request for one input text (sent as a
 *  string) or `n_inputs` texts (sent as an array). `model` may be NULL
 *  (filled in by oab_batch_create_job from the client). `dimensions` 0 =
 *  not sent. Errors: OAB_EINVAL (no inputs, NULL or non-UTF-8 input,
 *  negative dimensions). Free with oab_request_free. */
OAB_EXTERN oab_status oab_embeddings_request_new(oab_request **out,
                                                 const char *custom_id,
                                                 const char *model,
                                                 const char *const *inputs,
                                                 size_t n_inputs,
                                                 int dimensions,
                                                 oab_error *err);

/** Frees a request. NULL ok. */
OAB_EXTERN void oab_request_free(oab_request *req);
/** The request's custom_id. Borrowed; lives as long as the request. */
OAB_EXTERN const char *oab_request_custom_id(const oab_request *req);
/** The request's url ("/v1/chat/completions", ...). Static storage. */
OAB_EXTERN const char *oab_request_url(const oab_request *req);
/** The body's model, or NULL. Borrowed. */
OAB_EXTERN const char *oab_request_model(const oab_request *req);
/** The structured-output mode the request was built with (NATIVE for a
 *  schema given without a mode), or OAB_OUTPUT_NONE. */
OAB_EXTERN oab_output_mode oab_request_output_mode(const oab_request *req);
/** The JSONL line (compact, no newline) in a new string; free *out with
 *  oab_free. Errors: OAB_EINVAL (req or out NULL), OAB_ENOMEM. */
OAB_EXTERN oab_status oab_request_to_json(const oab_request *req, char **out);

/** Upload + create from a list of built requests: writes JSONL in memory,
 *  validates (refusing invalid input with OAB_EVALIDATION before any
 *  network call; the client's error names the first problem, e.g.
 *  "requests[2] (custom_id "a"): duplicate_custom_id: ..."), uploads,
 *  creates. opts may be NULL; opts->endpoint defaults to the first
 *  request's url and every request must have that url. A request built
 *  without a model gets the client's default model. *out (may be NULL)
 *  receives the job; free with oab_job_free. Errors: OAB_EINVAL (NULL
 *  client or request), OAB_EVALIDATION, and those of the upload and create
 *  calls. */
OAB_EXTERN oab_status oab_batch_create_job(oab_client *c, oab_job **out,
                                           oab_request *const *requests,
                                           size_t n_requests,
                                           const oab_batch_options *opts);

/* ------------------------------------------------------------------ */
/* JSONL                                                                */
/* ------------------------------------------------------------------ */

typedef struct oab_jsonl_writer oab_jsonl_writer;

/** Writes to "path.tmp", renamed to `path` by oab_jsonl_writer_close;
 *  freed without closing, the temporary file is removed (nothing
 *  half-written is left under `path`). *out belongs to the caller (free
 *  with oab_jsonl_writer_free). Errors: OAB_EINVAL (out NULL, path NULL
 *  or ""), OAB_EIO (path.tmp cannot be created), OAB_ENOMEM. */
OAB_EXTERN oab_status oab_jsonl_writer_open_path(oab_jsonl_writer **out,
                                                 const char *path);
/** Writes to memory; take the bytes with oab_jsonl_writer_take_buffer.
 *  *out belongs to the caller (free with oab_jsonl_writer_free).
 *  Errors: OAB_EINVAL (out NULL), OAB_ENOMEM. */
OAB_EXTERN oab_status oab_jsonl_writer_open_buffer(oab_jsonl_writer **out);
/** Appends a request as one line (its oab_request_to_json text and
 *  "\n"). Path writers write in 256 KiB blocks; OAB_EIO on a write error
 *  (then every later call fails too). */
OAB_EXTERN oab_status oab_jsonl_write_request(oab_jsonl_writer *w,
                                              const oab_request *req);
/** Appends one line of JSON text, made compact (whitespace between
 *  tokens dropped; strings and numbers kept as written). OAB_EJSON when
 *  the text is not exactly one JSON object in valid UTF-8. */
OAB_EXTERN oab_status oab_jsonl_write_json(oab_jsonl_writer *w,
                                           const char *json, size_t len);
/** Lines written so far (0 for NULL). */
OAB_EXTERN size_t oab_jsonl_writer_lines(const oab_jsonl_writer *w);
/** Bytes written so far, newlines included (0 for NULL). */
OAB_EXTERN unsigned long long oab_jsonl_writer_bytes(const oab_jsonl_writer *w);
/** Flushes, fsyncs and renames into place (path writers); OAB_EIO on
 *  failure (then the temporary file is removed). A no-op returning OAB_OK
 *  for buffer writers. A second close is OAB_ESTATE. The writer must
 *  still be freed. */
OAB_EXTERN oab_status oab_jsonl_writer_close(oab_jsonl_writer *w);
/** Buffer writers: hands over the bytes (NUL-terminated; free with
 *  oab_free). The writer is left empty (lines and bytes back to 0).
 *  OAB_EINVAL for a path writer. */
OAB_EXTERN oab_status oab_jsonl_writer_take_buffer(oab_jsonl_writer *w,
                                                   char **out,
                                                   size_t *len_out);
/** Frees a writer; a path writer not closed removes its temporary file.
 *  NULL ok. */
OAB_EXTERN void oab_jsonl_writer_free(oab_jsonl_writer *w);

/** Receives one line without its "\n" or "\r\n" (line[len] is '\0';
 *  borrowed for the call). Return 0 to go on, non-zero to stop
 *  (the feed then returns OAB_ESTOPPED). */
typedef int (*oab_line_fn)(const char *line, size_t len, long lineno,
                           void *userdata);

typedef struct oab_jsonl_reader oab_jsonl_reader;

/** An I/O-free line splitter: feed bytes in any chunking, get lines with
 *  their 1-based numbers. A line longer than `max_line` (0 = 256 MiB)
 *  gives OAB_ELIMIT. Blank lines (empty, or only spaces, tabs and CRs)
 *  are counted but not delivered. *out
 *  belongs to the caller (free with oab_jsonl_reader_free). Errors:
 *  OAB_EINVAL (out NULL), OAB_ENOMEM. */
OAB_EXTERN oab_status oab_jsonl_reader_new(oab_jsonl_reader **out,
                                           size_t max_line);
/** Feeds `len` bytes; every line they complete goes to fn (borrowed for
 *  the call); the rest of a line is kept for the next feed. Errors:
 *  OAB_EINVAL (r NULL), OAB_ELIMIT (a line longer than max_line),
 *  OAB_ESTOPPED (fn returned non-zero), OAB_ENOMEM. */
OAB_EXTERN oab_status oab_jsonl_reader_feed(oab_jsonl_reader *r,
                                            const void *data, size_t len,
                                            oab_line_fn fn, void *userdata);
/** Delivers a last line that had no newline. *truncated (may be NULL)
 *  is set to 1 when the input did not end with a newline. Errors:
 *  OAB_EINVAL (r NULL), OAB_ESTOPPED (fn returned non-zero). */
OAB_EXTERN oab_status oab_jsonl_reader_finish(oab_jsonl_reader *r,
                                              oab_line_fn fn, void *userdata,
                                              int *truncated);
/** Frees a reader (and a line it still holds). NULL ok. */
OAB_EXTERN void oab_jsonl_reader_free(oab_jsonl_reader *r);
/** While fn runs (from oab_jsonl_reader_feed or _finish): the byte offset
 *  of the delivered line's first byte from the start of all bytes fed,
 *  so that line[0..len) is that many bytes into the input (a stripped
 *  "\r" follows it). 0 for r NULL or before the first line. */
OAB_EXTERN unsigned long long oab_jsonl_reader_line_offset(
    const oab_jsonl_reader *r);

/** Reads a file line by line through a reader (streamed; lines as for
 *  oab_jsonl_reader_feed, a last line without newline delivered too).
 *  Errors (err, may be NULL, names the file): OAB_EIO (cannot be opened
 *  or read), OAB_ELIMIT (a line over 256 MiB; err->line set),
 *  OAB_ESTOPPED (fn returned non-zero), OAB_ENOMEM. */
OAB_EXTERN oab_status oab_jsonl_read_path(const char *path, oab_line_fn fn,
                                          void *userdata, oab_error *err);

/* ------------------------------------------------------------------ */
/* Validation of an input file                                          */
/* ------------------------------------------------------------------ */

#define OAB_MAX_LINES 50000
#define OAB_MAX_FILE_BYTES (200ULL * 1024 * 1024)
#define OAB_MAX_EMBEDDING_INPUTS 50000

#define OAB_VALIDATE_OPTIONS_VERSION 1

typedef struct oab_validate_options {
    unsigned version;
    size_t max_lines;               /* default OAB_MAX_LINES */
    unsigned long long max_bytes;   /* default OAB_MAX_FILE_BYTES */
    size_t max_embedding_inputs;    /* default OAB_MAX_EMBEDDING_INPUTS */
    int min_requests;               /* 0: at least 2; -1 off */
    size_t max_problems;            /* problems kept; default 100 */
    /** The batch's endpoint; every line's url must equal it. NULL: the
     *  first valid url is the reference. */
    const char *expected_url;
} oab_validate_options;

#define OAB_VALIDATE_OPTIONS_INIT \
    { OAB_OPTIONS_MARK | OAB_VALIDATE_OPTIONS_VERSION, 0, 0, 0, 0, 0, NULL }

/** One problem found in an input file. Codes, with their param:
 *  - per line: invalid_json_line (not JSON, cut off, nested more than 1000
 *    deep, or not an object), invalid_utf8, missing_custom_id /
 *    invalid_custom_id / duplicate_custom_id ("custom_id"; the message
 *    names the line it was first used on), missing_method /
 *    invalid_method ("method", must be "POST"), missing_url / invalid_url
 *    (not an endpoint of the Batch API) / url_mismatch ("url"),
 *    missing_body / invalid_body ("body"), missing_model (for chat,
 *    responses, embeddings, completions) / invalid_model / model_mismatch
 *    ("body.model"), missing_input ("body.input", embeddings),
 *    missing_messages / invalid_messages ("body.messages", chat
 *    completions: not an array, empty, or an element not an object),
 *    stream_not_supported ("body.stream" true, for the endpoints that
 *    take stream: responses, chat, completions, images), invalid_value
 *    (a schema string holding \u0000; the param is its path);
 *  - line 1: bom (the file starts with a UTF-8 byte order mark; the rest
 *    of the line is checked without it);
 *  - on the line where a limit is first passed, once: too_many_tasks,
 *    file_too_large, too_many_embedding_inputs ("body.input");
 *  - whole file (line 0): empty_file, too_few_requests.
 *  Only the file's format and the fields every request needs are checked:
 *  not roles, content or other body fields, which the model judges (such
 *  a line gets its own 400 answer, the batch runs). Blank lines (empty,
 *  or only spaces, tabs and CRs, as for the JSONL reader) are allowed and
 *  counted in line numbers. */
typedef struct oab_problem {
    long line;          /* 1-based; 0 for the whole file */
    char *code;         /* invalid_json_line, duplicate_custom_id, ... */
    char *message;      /* one line, without the line number */
    char *param;        /* the field, e.g. "body.model"; NULL if none */
} oab_problem;

typedef struct oab_validation {
    size_t n_lines;             /* requests seen */
    unsigned long long n_bytes;
    char *url;                  /* the common url, NULL if none */
    char *model;                /* the common body.model, NULL if none */
    size_t n_embedding_inputs;
    oab_problem *problems;      /* the first max_problems problems */
    size_t n_problems;
    size_t n_problems_total;    /* all problems, also those not kept */
} oab_validation;

/** Frees a report and its strings. NULL ok. */
OAB_EXTERN void oab_validation_free(oab_validation *v);

typedef struct oab_validator oab_validator;

/** A streaming validator: feed bytes, then finish. No I/O. Memory grows
 *  only with the custom_ids (for the uniqueness check) and the longest
 *  line cut by a chunk boundary (never past max_bytes). `opts` may be
 *  NULL. *out belongs to the caller (free with oab_validator_free).
 *  Errors: OAB_EINVAL (out NULL, or opts not set up with
 *  OAB_VALIDATE_OPTIONS_INIT; see "Options structs"), OAB_ENOMEM. */
OAB_EXTERN oab_status oab_validator_new(oab_validator **out,
                                        const oab_validate_options *opts);
/** Feeds bytes in any chunking. OAB_ESTATE after finish, OAB_ENOMEM. */
OAB_EXTERN oab_status oab_validator_feed(oab_validator *v, const void *data,
                                         size_t len);
/** Ends the input and hands over the report. Returns OAB_OK when the
 *  input is valid, OAB_EVALIDATION when problems were found (the report
 *  is delivered either way; *out belongs to the caller, free with
 *  oab_validation_free). Other errors (then *out is NULL): OAB_EINVAL,
 *  OAB_ESTATE (finished already), OAB_ENOMEM. */
OAB_EXTERN oab_status oab_validator_finish(oab_validator *v,
                                           oab_validation **out);
/** Frees a validator. NULL ok. */
OAB_EXTERN void oab_validator_free(oab_validator *v);

/** Validates a file (streamed); same returns and ownership of *out as
 *  oab_validator_finish, OAB_EIO when it cannot be read. */
OAB_EXTERN oab_status oab_validate_path(oab_validation **out,
                                        const char *path,
                                        const oab_validate_options *opts);
/** Validates `len` bytes in memory; same returns (OAB_OK,
 *  OAB_EVALIDATION, OAB_EINVAL, OAB_ENOMEM) and ownership of *out as
 *  oab_validator_finish. */
OAB_EXTERN oab_status oab_validate_buffer(oab_validation **out,
                                          const char *data, size_t len,
                                          const oab_validate_options *opts);

/* ------------------------------------------------------------------ */
/* Splitting                                                            */
/* ------------------------------------------------------------------ */

typedef struct oab_split_part {
    char *path;                 /* the part's file */
    long first_line;            /* 1-based line of the input it starts at */
    size_t n_lines;             /* request lines in the part (blank input
                                   lines are skipped, so the input lines
                                   need not be consecutive) */
    long *input_lines;          /* n_lines entries: the input line of each */
    unsigned long long n_bytes; /* the part file's size */
} oab_split_part;

typedef struct oab_split {
    oab_split_part *parts;
    size_t n_parts;
} oab_split;

#define OAB_SPLIT_OPTIONS_VERSION 1

typedef struct oab_split_options {
    unsigned version;
    size_t max_lines;              /* default OAB_MAX_LINES */
    unsigned long long max_bytes;  /* default OAB_MAX_FILE_BYTES */
    /** Share of both limits kept free: a part holds at most
     *  floor(max_lines * (1 - margin)) lines and floor(max_bytes *
     *  (1 - margin)) bytes. Negative: 0.02. */
    double margin;
} oab_split_options;

#define OAB_SPLIT_OPTIONS_INIT \
    { OAB_OPTIONS_MARK | OAB_SPLIT_OPTIONS_VERSION, 0, 0, -1 }

/** Splits a JSONL file into parts under both limits, in input order,
 *  written as "<out_dir>/<stem>.partNNN.jsonl" (stem: the file name
 *  without its extension; NNN from 001). Lines are copied as they are
 *  (CR of CRLF dropped, "\n" line ends); they are not validated. A file
 *  within the limits gives one part. Each part is written atomically
 *  (part.tmp, renamed when complete). `opts` may be NULL.
 *  Errors (err says where): OAB_EIO (input unreadable, part unwritable),
 *  OAB_ELIMIT (a single line bigger than a part may be, err->line set),
 *  OAB_EINVAL (no request lines, margin not below 1); on error no part
 *  files are left. Free with oab_split_free (the files stay). */
OAB_EXTERN oab_status oab_split_path(oab_split **out, const char *path,
                                     const char *out_dir,
                                     const oab_split_options *opts,
                                     oab_error *err);
/** Frees the split's description (not the part files). NULL ok. */
OAB_EXTERN void oab_split_free(oab_split *s);

/* ------------------------------------------------------------------ */
/* Results                                                              */
/* ------------------------------------------------------------------ */

typedef enum oab_result_status {
    OAB_RESULT_SUCCEEDED = 0,
    OAB_RESULT_HTTP_ERROR,      /* response.status_code >= 400 */
    OAB_RESULT_ERROR,           /* top-level error */
    OAB_RESULT_EXPIRED,         /* batch_expired */
    OAB_RESULT_CANCELLED,       /* batch_cancelled */
    OAB_RESULT_INVALID_OUTPUT,  /* succeeded; structured output invalid */
    OAB_RESULT_MALFORMED,       /* the line was not valid JSON / cut off */
    OAB_RESULT_MISSING          /* in the input, in neither file */
} oab_result_status;

#define OAB_RESULT_STATUS_COUNT 8

/** "succeeded", "http_error", "error", "expired", "cancelled",
 *  "invalid_output", "malformed", "missing". */
OAB_EXTERN const char *oab_result_status_str(oab_result_status s);
/** Parses one of those words into *out; OAB_EINVAL for an unknown one. */
OAB_EXTERN oab_status oab_result_status_from_str(oab_result_status *out,
                                                 const char *s);

/** A tool call of the answer (chat: message.tool_calls[]; responses:
 *  function_call output items, id = call_id). */
typedef struct oab_tool_call {
    char *id;
    char *name;
    char *arguments;       /* as the model wrote them */
    int arguments_valid;   /* 1 when arguments parse as a JSON object */
} oab_tool_call;

/** Token usage. Chat/embeddings: prompt_tokens, completion_tokens,
 *  total_tokens, prompt_tokens_details.cached_tokens,
 *  completion_tokens_details.reasoning_tokens. Responses: input_tokens,
 *  output_tokens, total_tokens and their *_details, mapped the same way. */
typedef struct oab_usage {
    long long prompt_tokens, completion_tokens, total_tokens, cached_tokens,
        reasoning_tokens;
} oab_usage;

/** One result line, decoded. Strings NULL when absent; everything is
 *  owned by the result (free with oab_result_free).
 *  error_code/error_message: the top-level error's code and message; for
 *  an HTTP error response.body.error's code (else its type) and message;
 *  for a malformed line "invalid_json", "truncated_line" or
 *  "not_an_object" and a message naming the line; for a missing one
 *  "missing" (or the failed batch's error for that line).
 *  Structured output: with an expectation (see oab_expect), parsed_json is
 *  the value found (native: the content; tool: the arguments of the call
 *  of the schema's name; prompted: the JSON in the content, code fences
 *  and text around it tolerated), compact, also when it does not match;
 *  a mismatch, a refusal or a missing answer makes the status
 *  OAB_RESULT_INVALID_OUTPUT and invalid_reason says where and why
 *  ("/humidity: expected integer, got string"). */
typedef struct oab_result {
    char *custom_id;
    char *line_id;          /* "id" of the output line */
    oab_result_status status;
    int status_code;        /* response.status_code; 0 without a response */
    char *request_id;
    char *body_json;        /* response.body as JSON text, as sent */
    char *error_code;       /* wherever the line keeps it */
    char *error_message;
    /* conveniences (chat: choices[0]; responses: output items) */
    char *output;           /* assistant text */
    char *refusal;
    /* chat: choices[0].finish_reason; responses: incomplete_details.reason,
       else the response's status ("completed") */
    char *finish_reason;
    oab_tool_call *tool_calls;
    size_t n_tool_calls;
    int has_usage;
    oab_usage usage;
    /* embeddings: n_embeddings vectors of `dimensions` numbers each,
       stored one after another */
    double *embeddings;
    size_t n_embeddings;
    size_t dimensions;
    /* structured output */
    oab_output_mode output_mode;  /* NONE when no schema was expected */
    char *parsed_json;            /* the parsed value (compact) or NULL */
    char *invalid_reason;         /* why invalid_output, else NULL */
    /* where it came from */
    long source_line;             /* 1-based line in its file */
    int from_error_file;
    long input_line;              /* 1-based in the input, 0 if unknown */
    /** 1 when this custom_id was already delivered before (seen in both
     *  files, or twice in one); only detected with input_path. */
    int duplicate;
} oab_result;

/** Frees a result and everything in it. NULL ok. */
OAB_EXTERN void oab_result_free(oab_result *r);

/** What structured output to expect for a result. In TOOL mode the
 *  answer is the call whose function name is oab_schema_name(schema).
 *  mode NONE with a schema means NATIVE. The schema is borrowed. */
typedef struct oab_expect {
    const oab_schema *schema;
    oab_output_mode mode;
} oab_expect;

/** Decodes one output/error line (no I/O). A line that is not JSON gives
 *  a result with status OAB_RESULT_MALFORMED (and OAB_OK): one bad line
 *  never stops the others; its custom_id is recovered when the text
 *  holds a complete one. `line` need not be NUL-terminated. `expect` may
 *  be NULL (no structured output checked). *out is freed with
 *  oab_result_free. Errors: OAB_EINVAL (out NULL), OAB_ENOMEM. */
OAB_EXTERN oab_status oab_result_parse(oab_result **out, const char *line,
                                       size_t len, long source_line,
                                       const oab_expect *expect);

/** Counts per status and total usage of the results delivered. */
typedef struct oab_summary {
    size_t total;                 /* results delivered (duplicates too) */
    size_t by_status[OAB_RESULT_STATUS_COUNT];
    oab_usage usage;              /* sum over the results that have usage */
    size_t duplicates;            /* results with duplicate set */
} oab_summary;

#define OAB_RESULTS_OPTIONS_VERSION 1

/** Options of the retrieval calls; NULL means all defaults. */
typedef struct oab_results_options {
    unsigned version;
    /** The input JSONL: custom_ids missing from both files are reported
     *  (OAB_RESULT_MISSING), input_line is filled in, and each line's
     *  expected structured output is taken from its body. */
    const char *input_path;
    /** Expected structured output for every line (overrides the input's). */
    const oab_schema *schema;
    oab_output_mode mode;
    /** Collected form only: sort by input line (needs input_path). */
    int input_order;
    /** Where downloads are kept, as "<dir>/<file_id>.jsonl" (resumed
     *  from a ".part" file when present). NULL (default): a private
     *  temporary folder under $TMPDIR (else /tmp), removed afterwards.
     *  A file is decoded only once completely downloaded. */
    const char *download_dir;
} oab_results_options;

#define OAB_RESULTS_OPTIONS_INIT                                      \
    { OAB_OPTIONS_MARK | OAB_RESULTS_OPTIONS_VERSION, NULL, NULL, \
      OAB_OUTPUT_NONE, 0, NULL }

/** Receives each result (borrowed for the call). Return 0 to go on. */
typedef int (*oab_result_fn)(const oab_result *r, void *userdata);

/** Streams the results of a batch in any terminal state: output file and
 *  error file (a null, absent or "" file id is skipped), then (with
 *  input_path) the input's custom_ids found in neither, as
 *  OAB_RESULT_MISSING; for a failed batch they carry its errors (the one
 *  for their line, else the general one). A custom_id seen twice is
 *  delivered twice, flagged `duplicate`. A malformed line keeps the
 *  custom_id a scan of its text finds; when none is found its input
 *  line is also reported missing. Memory stays flat whatever the
 *  file size (plus the custom_id map with input_path; one copy of each
 *  distinct schema). `fn` may be NULL (summary only); returning non-zero
 *  stops with OAB_ESTOPPED. `summary` (may be NULL) gets the counts, also
 *  when stopped. Errors: OAB_EINVAL, OAB_ESTATE when the batch is not in
 *  a terminal state, download errors (OAB_ENOTFOUND, OAB_ETRUNCATED, ...),
 *  OAB_EIO for input_path; detail in oab_client_last_error(). */
OAB_EXTERN oab_status oab_batch_results_stream(oab_client *c,
                                               const oab_job *job,
                                               const oab_results_options *opts,
                                               oab_result_fn fn,
                                               void *userdata,
                                               oab_summary *summary);

/** The same for files already on disk (no server): output_path and
 *  error_path may each be NULL (no such file). Errors: OAB_EIO (a file
 *  cannot be read; err names it), OAB_ESTOPPED, OAB_ENOMEM, OAB_EINVAL. */
OAB_EXTERN oab_status oab_results_stream_files(const char *output_path,
                                               const char *error_path,
                                               const oab_results_options *opts,
                                               oab_result_fn fn,
                                               void *userdata,
                                               oab_summary *summary,
                                               oab_error *err);

/** Collected results: items[0..n) in file order (output, errors,
 *  missing), or in input order when asked (results with no input line
 *  last). Everything owned by the set. */
typedef struct oab_result_set {
    oab_result **items;
    size_t n;
    oab_summary summary;
} oab_result_set;

/** Frees a set and its results. NULL ok. */
OAB_EXTERN void oab_result_set_free(oab_result_set *set);

/** Every result of the batch, collected in memory (GET the batch, then
 *  as oab_batch_results_stream). opts->input_order sorts by input line
 *  (needs input_path, else OAB_EINVAL). Free *out
 *  with oab_result_set_free; NULL on error. OAB_ESTATE when the batch is
 *  not finished. */
OAB_EXTERN oab_status oab_batch_retrieve_job(oab_client *c,
                                             oab_result_set **out,
                                             const char *batch_id,
                                             const oab_results_options *opts);

/** Collected results of files on disk (see oab_results_stream_files and
 *  oab_batch_retrieve_job). Free *out with oab_result_set_free; NULL on
 *  error. Errors (err says where): OAB_EINVAL (out NULL, input_order
 *  without input_path), OAB_EIO (a file cannot be read), OAB_ENOMEM. */
OAB_EXTERN oab_status oab_results_collect_files(oab_result_set **out,
                                                const char *output_path,
                                                const char *error_path,
                                                const oab_results_options *opts,
                                                oab_error *err);

/** Submit, wait, and return all results in one call. The requests are
 *  written as JSONL, validated and uploaded (oab_batch_create_job_buffer;
 *  batch_opts->endpoint defaults to the first request's url); each
 *  line's structured output is remembered from its body, so results come
 *  validated, in the order of `requests`, every custom_id once (missing
 *  ones as OAB_RESULT_MISSING). `wait` may be NULL (defaults: no
 *  timeout). On timeout without cancel_on_timeout: OAB_ETIMEOUT, *out
 *  NULL, the job (still running) in *job_out. With cancel_on_timeout the
 *  batch is cancelled, waited for (at most 15 minutes more) and its
 *  partial results returned in *out with OAB_ETIMEOUT. *job_out (may be
 *  NULL) receives the last job seen; free with oab_job_free. */
OAB_EXTERN oab_status oab_batch_run(oab_client *c, oab_result_set **out,
                                    oab_job **job_out,
                                    oab_request *const *requests,
                                    size_t n_requests,
                                    const oab_batch_options *batch_opts,
                                    const oab_wait_options *wait);

/* ================================================================== */
/* Anthropic Message Batches (issue 16)                                 */
/*                                                                      */
/* With provider OAB_PROVIDER_ANTHROPIC on the client, the calls above  */
/* (oab_batch_create_job*, oab_batch_retrieve, oab_batch_wait,          */
/* oab_batch_cancel, oab_batch_list, oab_batch_results_stream,          */
/* oab_batch_retrieve_job, oab_batch_run) work unchanged against        */
/* Anthropic's /v1/messages/batches: OpenAI chat lines are translated   */
/* to Message Batch requests before anything is sent, and every result  */
/* line is translated back to the OpenAI output-line shape, so results  */
/* decode, validate and merge as they do from OpenAI. The mapping (both */
/* ways), what is approximate and what is refused: docs/providers.md.   */
/* The translation functions below do no I/O (the server uses them too).*/
/* ================================================================== */

typedef enum oab_provider {
    OAB_PROVIDER_OPENAI = 0,   /* OpenAI (or Azure, or a compatible server) */
    OAB_PROVIDER_ANTHROPIC     /* Anthropic's Message Batches API */
} oab_provider;

/** Anthropic's limits per batch: requests, and bytes of the create body. */
#define OAB_ANTHROPIC_MAX_REQUESTS 100000
#define OAB_ANTHROPIC_MAX_BATCH_BYTES (256ULL * 1024 * 1024)
/** The API version sent as `anthropic-version`. */
#define OAB_ANTHROPIC_VERSION "2023-06-01"

/** The provider of a client (OAB_PROVIDER_OPENAI for NULL). */
OAB_EXTERN oab_provider oab_client_provider(const oab_client *c);

/** "openai", "anthropic". Static. */
OAB_EXTERN const char *oab_provider_str(oab_provider p);
/** Parses "openai" / "anthropic" into *out; OAB_EINVAL otherwise. */
OAB_EXTERN oab_status oab_provider_from_str(oab_provider *out, const char *s);

/* ---- custom_id map ---- */

/** What a translated batch needs to be read back: for each request whose
 *  custom_id Anthropic would refuse (it allows 1-64 characters of
 *  [A-Za-z0-9_-]), the id sent instead ("oab-" + 16 hex digits of a hash
 *  of the custom_id + "-" + the 1-based line, e.g. "oab-1f0c...-3":
 *  the same input always gives the same ids); and for each request in
 *  native structured-output mode, the name of the forced tool whose call
 *  is the answer. Requests that need neither have no entry. Not for use
 *  from two threads at once (a lookup may sort it). */
typedef struct oab_anthropic_map oab_anthropic_map;

/** An empty map. *out belongs to the caller (free with
 *  oab_anthropic_map_free). Errors: OAB_EINVAL (out NULL), OAB_ENOMEM. */
OAB_EXTERN oab_status oab_anthropic_map_new(oab_anthropic_map **out);
/** Frees a map. NULL ok. */
OAB_EXTERN void oab_anthropic_map_free(oab_anthropic_map *m);
/** Entries in the map (0 for NULL). */
OAB_EXTERN size_t oab_anthropic_map_count(const oab_anthropic_map *m);
/** The caller's custom_id for an id sent to Anthropic, or NULL when the
 *  id was sent as it is (or m is NULL). Borrowed; lives as long as the
 *  map. */
OAB_EXTERN const char *oab_anthropic_map_custom_id(oab_anthropic_map *m,
                                                   const char *sent_id);
/** The map as JSON text, {"<sent id>":{"custom_id":"...","native":
 *  "<tool name>"|null},...}, for a journal. *out: free with oab_free.
 *  Errors: OAB_EINVAL (m or out NULL), OAB_ENOMEM. */
OAB_EXTERN oab_status oab_anthropic_map_to_json(const oab_anthropic_map *m,
                                                char **out);
/** Reads the JSON of oab_anthropic_map_to_json. *out belongs to the
 *  caller (free with oab_anthropic_map_free). Errors (err says where):
 *  OAB_EINVAL (out NULL), OAB_EJSON (not JSON, or not that shape, or a
 *  sent id twice), OAB_ENOMEM. */
OAB_EXTERN oab_status oab_anthropic_map_from_json(oab_anthropic_map **out,
                                                  const char *json,
                                                  size_t len,
                                                  oab_error *err);

/* ---- requests: OpenAI batch input line -> Message Batch request ---- */

#define OAB_ANTHROPIC_OPTIONS_VERSION 1

typedef struct oab_anthropic_options {
    unsigned version;
    /** max_tokens for a line with neither max_completion_tokens nor
     *  max_tokens (Anthropic requires it). 0: such a line is refused. */
    long default_max_tokens;
} oab_anthropic_options;

#define OAB_ANTHROPIC_OPTIONS_INIT { OAB_ANTHROPIC_OPTIONS_VERSION, 0 }

/** Translates one OpenAI batch input line (`len` bytes: {"custom_id",
 *  "method":"POST","url":"/v1/chat/completions","body"}) into one
 *  Anthropic Message Batch request {"custom_id","params":{model,
 *  max_tokens, system, messages, tools, tool_choice, temperature, top_p,
 *  stop_sequences, metadata}} (compact JSON, no newline). `lineno` (1-based)
 *  names the line in errors and in generated custom_ids. A custom_id
 *  Anthropic would refuse, and a native-mode request, are recorded in
 *  `map` (may be NULL when the caller does not read results back).
 *  `opts` may be NULL (no default max_tokens). *out: free with oab_free.
 *  Refused before anything is sent, with err->line = lineno and the field
 *  named in err->message ("line 3: body.n: 2: Anthropic returns one
 *  answer per request"): a url other than /v1/chat/completions, a body
 *  field without an Anthropic equivalent (n > 1, logprobs, top_logprobs,
 *  audio, modalities other than text, prediction, web_search_options,
 *  logit_bias, frequency/presence_penalty other than 0, stream,
 *  reasoning_effort, verbosity, functions/function_call, response_format
 *  json_object, any field the spec does not list), a content part or
 *  message role that cannot be carried (input_audio, file, role
 *  "function"), a temperature above 1, a native schema whose root is not
 *  an object, and a missing max_tokens without a default.
 *  Errors: OAB_EVALIDATION (refused, as above), OAB_EJSON (the line or a
 *  tool call's arguments are not JSON), OAB_EINVAL (out or line NULL),
 *  OAB_ENOMEM. *out is NULL on error. */
OAB_EXTERN oab_status oab_anthropic_request_from_openai(
    char **out, const char *line, size_t len, long lineno,
    const oab_anthropic_options *opts, oab_anthropic_map *map,
    oab_error *err);

/* ---- results: Message Batch result line -> OpenAI output line ---- */

/** Translates one line of a Message Batch results stream
 *  ({"custom_id","result":{"type":"succeeded","message":{...}} |
 *  {"type":"errored","error":{...}} | {"type":"canceled"} |
 *  {"type":"expired"}}) into the OpenAI output/error line shape, compact
 *  JSON without newline, so oab_result_parse reads it as an OpenAI
 *  line. succeeded: response {status_code 200, request_id: the message
 *  id, body: a chat.completion with choices[0].message {role, content
 *  (the text blocks joined), tool_calls (tool_use blocks, input as
 *  arguments text)}, finish_reason (end_turn, stop_sequence, pause_turn
 *  -> stop; max_tokens, model_context_window_exceeded -> length;
 *  tool_use -> tool_calls; refusal -> content_filter), usage
 *  {prompt_tokens = input + cache read + cache creation tokens,
 *  completion_tokens, total_tokens, prompt_tokens_details.cached_tokens
 *  = cache read tokens}}; a native-mode request's forced tool call
 *  becomes the message content (its input as JSON text) and the finish
 *  reason "stop". errored: response {status_code from the error type
 *  (400, 401, 403, 404, 413, 429, 500, 529), body {"error":{type,
 *  message}}}. canceled / expired: error {"code":"batch_cancelled" /
 *  "batch_expired", message}. The custom_id is mapped back through
 *  `map` (may be NULL). *is_error (may be NULL) is 1 for a line that
 *  belongs to an error file (errored, canceled, expired), else 0.
 *  *out: free with oab_free. Errors (err->line = lineno): OAB_EJSON
 *  (not JSON), OAB_EPROTO (no custom_id, or an unknown result type),
 *  OAB_EINVAL (out or line NULL), OAB_ENOMEM. */
OAB_EXTERN oab_status oab_anthropic_result_to_openai(
    char **out, int *is_error, const char *line, size_t len, long lineno,
    oab_anthropic_map *map, oab_error *err);

/** Parses an Anthropic Message Batch object into an oab_job (no I/O):
 *  processing_status in_progress -> OAB_BATCH_IN_PROGRESS, canceling ->
 *  OAB_BATCH_CANCELLING, ended -> OAB_BATCH_CANCELLED when a cancel was
 *  initiated (cancel_initiated_at set), else OAB_BATCH_EXPIRED when
 *  request_counts.expired > 0, else OAB_BATCH_COMPLETED; other words
 *  OAB_BATCH_UNKNOWN. count_completed = succeeded, count_failed =
 *  errored + canceled + expired, count_total = all five counts;
 *  created_at, expires_at, cancelling_at (cancel_initiated_at) and the
 *  ended time (as completed_at, cancelled_at or expired_at) in Unix
 *  seconds; endpoint "/v1/chat/completions"; no file ids. raw_json is
 *  the OpenAI-shaped object with the provider's own under "anthropic".
 *  *out: free with oab_job_free. Errors: OAB_EINVAL, OAB_EJSON,
 *  OAB_EPROTO (no id or processing_status), OAB_ENOMEM. */
OAB_EXTERN oab_status oab_anthropic_job_parse(oab_job **out,
                                              const char *json, size_t len,
                                              oab_error *err);

/* ---- serving Anthropic's API from OpenAI-compatible upstreams ---- */

/** The other way, for a server that offers Anthropic's API in front of an
 *  OpenAI-compatible chat endpoint (no I/O): Messages API params
 *  ({model, max_tokens, system, messages, tools, tool_choice,
 *  temperature, top_p, top_k, stop_sequences, metadata}) -> a
 *  /v1/chat/completions body. system -> a first system message; user
 *  text and image blocks -> content parts (base64 images as data: URLs);
 *  tool_result blocks -> "tool" messages (before the rest of their turn);
 *  assistant text -> content, tool_use -> tool_calls (input as arguments
 *  text), thinking dropped; tools -> function tools; tool_choice auto /
 *  any / tool / none -> "auto" / "required" / a named function / "none",
 *  disable_parallel_tool_use -> parallel_tool_calls false;
 *  stop_sequences -> stop; metadata.user_id -> user; top_k passed as an
 *  extension (vLLM, llama.cpp); service_tier dropped. *out: free with
 *  oab_free. Errors (err names the field, "params.messages[1].content[0]:
 *  ..."): OAB_EVALIDATION (a missing model or max_tokens, another key, a
 *  block or tool that cannot be carried), OAB_EJSON, OAB_EINVAL,
 *  OAB_ENOMEM. */
OAB_EXTERN oab_status oab_anthropic_params_to_openai(char **out,
                                                     const char *params,
                                                     size_t len,
                                                     oab_error *err);

/** A chat.completion body -> an Anthropic Message {id, type "message",
 *  role, model, content [text block, tool_use blocks (arguments parsed;
 *  arguments that are not a JSON object kept as {"arguments": text})],
 *  stop_reason (stop -> end_turn, length -> max_tokens, tool_calls ->
 *  tool_use, content_filter -> refusal), stop_sequence null, usage
 *  {input_tokens = prompt - cached, cache_read_input_tokens = cached,
 *  cache_creation_input_tokens 0, output_tokens}} (no I/O). *out: free
 *  with oab_free. Errors: OAB_EJSON, OAB_EPROTO (no choices[0].message),
 *  OAB_EINVAL, OAB_ENOMEM. */
OAB_EXTERN oab_status oab_anthropic_message_from_openai(char **out,
                                                        const char *completion,
                                                        size_t len,
                                                        oab_error *err);

/* ---- calls only Anthropic has (client with OAB_PROVIDER_ANTHROPIC) ---- */

/** One page of GET /v1/messages/batches: `limit` 1..1000 (0 = the
 *  server's default, 20), `before_id` / `after_id` (each may be NULL) as
 *  Anthropic's cursors. (oab_batch_list on such a client uses after_id.)
 *  *out: free with oab_job_list_free. Errors: OAB_EUNSUPPORTED (not an
 *  Anthropic client), OAB_EINVAL, OAB_EPROTO, and those of every call. */
OAB_EXTERN oab_status oab_anthropic_batch_list(oab_client *c,
                                               oab_job_list **out, int limit,
                                               const char *before_id,
                                               const char *after_id);

/** DELETE /v1/messages/batches/{id} (an ended batch and its results).
 *  Errors: OAB_EUNSUPPORTED (not an Anthropic client), OAB_EINVAL,
 *  OAB_ENOTFOUND, OAB_EHTTP (e.g. a batch still processing), and those
 *  of every call. */
OAB_EXTERN oab_status oab_anthropic_batch_delete(oab_client *c,
                                                 const char *batch_id);

/** The custom_id map of a batch this client created (or was given with
 *  oab_anthropic_set_batch_map), as the JSON of
 *  oab_anthropic_map_to_json: a journal keeps it to read the results
 *  back in another process. *out: free with oab_free; "{}" when the
 *  batch needed no entry or is not known to the client. Errors:
 *  OAB_EINVAL, OAB_ENOMEM. */
OAB_EXTERN oab_status oab_anthropic_batch_map(oab_client *c,
                                              const char *batch_id,
                                              char **out);

/** The custom_id map that creating a batch from the JSONL file at path
 *  would make (the same translation as oab_batch_create_job_path with an
 *  Anthropic client, nothing sent), as the JSON of
 *  oab_anthropic_map_to_json: kept before the create, it lets a process
 *  that crashed between the create and its journal write adopt the batch
 *  it finds on the server. *out: free with oab_free ("{}" when no id
 *  needs mapping). Errors: OAB_EUNSUPPORTED (not an Anthropic client),
 *  OAB_EINVAL, OAB_EIO, OAB_EVALIDATION and those of the translation
 *  (detail on the client, naming the line), OAB_ENOMEM. */
OAB_EXTERN oab_status oab_anthropic_map_path(oab_client *c, const char *path,
                                             char **out);

/** Gives the client the map of a batch (JSON of
 *  oab_anthropic_map_to_json), used by the results calls for that batch
 *  id. Replaces an earlier one. Errors: OAB_EINVAL, OAB_EJSON (detail on
 *  the client), OAB_ENOMEM. */
OAB_EXTERN oab_status oab_anthropic_set_batch_map(oab_client *c,
                                                  const char *batch_id,
                                                  const char *map_json);

/* ------------------------------------------------------------------ */
/* Tokens: tokenizer, request tokens (docs/tokens.md)                   */
/* ------------------------------------------------------------------ */

/** A byte-pair encoding exactly as OpenAI's tiktoken does it
 *  (o200k_base or cl100k_base): the encoding's pre-tokenizer regex
 *  (PCRE2, Unicode properties, JIT when available) splits the text, and
 *  each piece is merged by rank. Special tokens such as <|endoftext|>
 *  are NOT recognised: they are counted and encoded as plain text, as
 *  tiktoken's encode_ordinary does. Threads: once loaded, a tokenizer is
 *  read-only and may be used from any number of threads at once. */
typedef struct oab_tokenizer oab_tokenizer;

/** The rank file of `encoding` ("o200k_base" or "cl100k_base") when no
 *  path is given, tried in order: $OAB_ENCODINGS_DIR/<encoding>.tiktoken,
 *  $XDG_DATA_HOME/oaibatch/encodings/ (else ~/.local/share/...), and the
 *  installed <datadir>/oaibatch/encodings/. Rank files are tiktoken's own
 *  format ("<base64 token> <rank>" per line); scripts/get-encodings.sh
 *  makes them. */
#define OAB_ENCODINGS_DIR_ENV "OAB_ENCODINGS_DIR"

/** Loads `encoding` from the rank file at `path` (NULL: looked up as
 *  above). *out belongs to the caller (free with oab_tokenizer_free).
 *  Errors (err, may be NULL, names the file and the line):
 *  OAB_EINVAL (out or encoding NULL, an unknown encoding name),
 *  OAB_EIO (the file is missing or unreadable: the message lists the
 *  places tried), OAB_EJSON (a corrupt line: bad base64, a missing or
 *  bad rank, a duplicate token; err->line is set), OAB_ELIMIT (a file
 *  over 64 MiB), OAB_ENOMEM. */
OAB_EXTERN oab_status oab_tokenizer_load(oab_tokenizer **out,
                                         const char *encoding,
                                         const char *path, oab_error *err);
/** As oab_tokenizer_load, from rank-file bytes in memory (no I/O);
 *  `source` names them in messages (NULL: "rank file"). */
OAB_EXTERN oab_status oab_tokenizer_load_buffer(oab_tokenizer **out,
                                                const char *encoding,
                                                const char *data, size_t len,
                                                const char *source,
                                                oab_error *err);
/** Frees a tokenizer. NULL ok. Not while another thread uses it. */
OAB_EXTERN void oab_tokenizer_free(oab_tokenizer *t);
/** The encoding's name ("o200k_base"); borrowed from t. */
OAB_EXTERN const char *oab_tokenizer_encoding(const oab_tokenizer *t);
/** 1 when the pre-tokenizer regex runs JIT-compiled, 0 when PCRE2 has
 *  no JIT on this machine and the interpreter is used. */
OAB_EXTERN int oab_tokenizer_uses_jit(const oab_tokenizer *t);

/** Counts the tokens of `len` bytes of UTF-8 text into *out (special
 *  tokens as plain text). Errors: OAB_EINVAL (out or t NULL, text NULL
 *  with len > 0, text not valid UTF-8), OAB_ENOMEM. Thread-safe. */
OAB_EXTERN oab_status oab_tokenizer_count(size_t *out, const oab_tokenizer *t,
                                          const char *text, size_t len);
/** Encodes `len` bytes of UTF-8 text: *out receives a new array of *n
 *  token ids (free with oab_free; NULL when *n is 0). Errors as for
 *  oab_tokenizer_count. Thread-safe. */
OAB_EXTERN oab_status oab_tokenizer_encode(uint32_t **out, size_t *n,
                                           const oab_tokenizer *t,
                                           const char *text, size_t len);
/** Decodes n token ids to bytes: *out receives a new NUL-terminated
 *  string of *len bytes (free with oab_free). Errors: OAB_EINVAL (an id
 *  that is not a token of the encoding, NULL arguments), OAB_ENOMEM. */
OAB_EXTERN oab_status oab_tokenizer_decode(char **out, size_t *len,
                                           const oab_tokenizer *t,
                                           const uint32_t *ids, size_t n);

/** The encoding of a model, as tiktoken maps it: gpt-4o, gpt-4.1,
 *  gpt-4.5, gpt-5, o1, o3, o4-mini (and their dated or suffixed names,
 *  fine-tunes "ft:gpt-4o...") -> "o200k_base"; gpt-4, gpt-3.5-turbo,
 *  text-embedding-3-*, text-embedding-ada-002 -> "cl100k_base". A
 *  provider prefix "openai:" is ignored. *out is static storage. An
 *  unknown model gives `fallback` when it is not NULL (the caller's
 *  explicit choice), else OAB_EINVAL with err naming the model. */
OAB_EXTERN oab_status oab_encoding_for_model(const char **out,
                                             const char *model,
                                             const char *fallback,
                                             oab_error *err);

/** A set of tokenizers loaded on first use, one per encoding, from one
 *  folder (or the default lookup). Threads: oab_tokenizers_get may be
 *  called from several threads at once (a mutex guards loading). */
typedef struct oab_tokenizers oab_tokenizers;

/** A new, empty set; `dir` (copied; NULL: the lookup of
 *  OAB_ENCODINGS_DIR_ENV) is where "<encoding>.tiktoken" files are read.
 *  Free with oab_tokenizers_free. Errors: OAB_EINVAL, OAB_ENOMEM. */
OAB_EXTERN oab_status oab_tokenizers_new(oab_tokenizers **out,
                                         const char *dir);
/** The tokenizer of `encoding`, loaded now if it is not yet; *out is
 *  borrowed from the set. Errors as for oab_tokenizer_load (a failed
 *  load is tried again on the next call). */
OAB_EXTERN oab_status oab_tokenizers_get(const oab_tokenizer **out,
                                         oab_tokenizers *set,
                                         const char *encoding,
                                         oab_error *err);
/** Frees the set and its tokenizers. NULL ok. */
OAB_EXTERN void oab_tokenizers_free(oab_tokenizers *set);

/** What a request is expected to use. */
typedef struct oab_request_tokens {
    /** Input tokens by the counting rules of docs/tokens.md. */
    unsigned long long input;
    /** Output tokens at most: max_completion_tokens / max_tokens (chat,
     *  completions) or max_output_tokens (responses), times n; 0 for
     *  embeddings. Meaningful when output_bounded is 1. */
    unsigned long long output_max;
    /** 1 when the body sets a bound (or needs none: embeddings); 0 when
     *  it does not, and the model's own limit applies. */
    int output_bounded;
    /** 1 when every rule used is exact (plain text of embeddings and
     *  completions); 0 when an approximate rule was used (chat and
     *  responses overhead, tools, images, schemas). */
    int exact;
} oab_request_tokens;

/** Counts the tokens of one request body (JSON text of `len` bytes) sent
 *  to `url` ("/v1/chat/completions", "/v1/responses", "/v1/embeddings",
 *  "/v1/completions") with tokenizer t. Errors (err, may be NULL, says
 *  which field): OAB_EINVAL (NULL arguments, an unknown url, a body
 *  whose fields have the wrong types), OAB_EJSON (not JSON),
 *  OAB_ENOMEM. Thread-safe for different `out`. */
OAB_EXTERN oab_status oab_request_tokens_body(oab_request_tokens *out,
                                              const oab_tokenizer *t,
                                              const char *url,
                                              const char *body, size_t len,
                                              oab_error *err);

/** The same for one batch input line ({"custom_id","method","url",
 *  "body"}): the tokenizer is the one of the body's model, taken from
 *  `set` (`fallback_encoding` for a model oab_encoding_for_model does
 *  not know; NULL: an error). *model_out (may be NULL) receives the
 *  model name, a new string (free with oab_free). Errors as for
 *  oab_request_tokens_body, OAB_EINVAL for a line without url, body or
 *  model, and those of oab_tokenizers_get. */
OAB_EXTERN oab_status oab_request_tokens_line(oab_request_tokens *out,
                                              char **model_out,
                                              oab_tokenizers *set,
                                              const char *line, size_t len,
                                              const char *fallback_encoding,
                                              oab_error *err);

#ifdef __cplusplus
}
#endif

#endif /* OAIBATCH_H */
