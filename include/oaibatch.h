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
 *  - Options structs carry a version and have an _INIT macro; declare them
 *    as `oab_x_options o = OAB_X_OPTIONS_INIT;` and set what you need.
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
/* Client                                                               */
/* ------------------------------------------------------------------ */

typedef struct oab_client oab_client;

#define OAB_CLIENT_OPTIONS_VERSION 1

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
    long timeout_ms;            /* whole request; default 600000 */
    int max_retries;            /* default 2; -1 = none */
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
} oab_client_options;

#define OAB_CLIENT_OPTIONS_INIT                                              \
    { OAB_CLIENT_OPTIONS_VERSION, NULL, NULL, NULL, NULL, NULL, 0, 0, 0, 0, \
      0, NULL, NULL, 0, 0, NULL }

/** Creates a client. `opts` may be NULL (all defaults).
 *  Errors: OAB_ENOKEY when the base URL is OpenAI's (or Azure) and no key
 *  is set; OAB_EINVAL for a malformed option; OAB_ENOMEM. On error *out
 *  is NULL. Free with oab_client_free(). */
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
 *  valid until the next call on the same client; absent ones are NULL. */
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

OAB_EXTERN void oab_file_free(oab_file *file);

/** Parses a File object from JSON text (no I/O). */
OAB_EXTERN oab_status oab_file_parse(oab_file **out, const char *json,
                                     size_t len, oab_error *err);

/** Uploads a file from disk, streamed (memory does not grow with the
 *  file). `purpose` NULL means "batch". `expires_after_s` 0 = not sent,
 *  else expires_after[anchor]=created_at, expires_after[seconds]=N. */
OAB_EXTERN oab_status oab_file_upload_path(oab_client *c, oab_file **out,
                                           const char *path,
                                           const char *purpose,
                                           long long expires_after_s);

/** Uploads `len` bytes from memory under `filename`. */
OAB_EXTERN oab_status oab_file_upload_buffer(oab_client *c, oab_file **out,
                                             const void *data, size_t len,
                                             const char *filename,
                                             const char *purpose,
                                             long long expires_after_s);

OAB_EXTERN oab_status oab_file_retrieve(oab_client *c, oab_file **out,
                                        const char *file_id);

/** Deletes a file. OAB_ENOTFOUND when it does not exist. */
OAB_EXTERN oab_status oab_file_delete(oab_client *c, const char *file_id);

/** Receives downloaded bytes; return 0 to go on, non-zero to stop
 *  (the download then ends with OAB_ESTOPPED). */
typedef int (*oab_write_fn)(const void *data, size_t len, void *userdata);

/** Streams a file's content to `fn`, starting at byte `offset` (HTTP
 *  Range). A connection that breaks is resumed from the last byte
 *  received (up to max_retries times). When the server states a length,
 *  fewer bytes is OAB_ETRUNCATED, never success. */
OAB_EXTERN oab_status oab_file_download(oab_client *c, const char *file_id,
                                        long long offset, oab_write_fn fn,
                                        void *userdata);

/** Downloads a file's content to `path`: written to "path.part", resumed
 *  from it if present, renamed to `path` only when complete. */
OAB_EXTERN oab_status oab_file_download_path(oab_client *c,
                                             const char *file_id,
                                             const char *path);

/** Downloads into memory (for small files). *out is NUL-terminated, free
 *  with oab_free; *len_out (may be NULL) gets the length. */
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

/** A Batch object, every field of the spec. Strings are NULL when the
 *  server sent null, nothing, or "" (output/error file ids). Timestamps
 *  are Unix seconds, 0 when null/absent. Free with oab_job_free. */
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

OAB_EXTERN void oab_job_free(oab_job *job);

/** Parses a Batch object from JSON text (no I/O). Missing required
 *  fields (id, status) give OAB_EPROTO with the field named in err. */
OAB_EXTERN oab_status oab_job_parse(oab_job **out, const char *json,
                                    size_t len, oab_error *err);

/** A deep copy of a job. */
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

#define OAB_BATCH_OPTIONS_INIT \
    { OAB_BATCH_OPTIONS_VERSION, NULL, NULL, NULL, NULL, 0, 0, 0 }

/** POST /batches for an uploaded file. */
OAB_EXTERN oab_status oab_batch_create(oab_client *c, oab_job **out,
                                       const char *input_file_id,
                                       const oab_batch_options *opts);
/** GET /batches/{id}: the seed's batch_get_status. */
OAB_EXTERN oab_status oab_batch_retrieve(oab_client *c, oab_job **out,
                                         const char *batch_id);
/** POST /batches/{id}/cancel (no body): the seed's batch_cancel_job.
 *  *out (may be NULL) receives the updated job. */
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

OAB_EXTERN void oab_job_list_free(oab_job_list *list);

/** One page: `limit` 1..100 (0 = server default 20); `after` NULL for the
 *  first page, else the last id seen. The seed's batch_list_jobs. */
OAB_EXTERN oab_status oab_batch_list(oab_client *c, oab_job_list **out,
                                     int limit, const char *after);

/** Called per job; return 0 to go on, non-zero to stop (OAB_ESTOPPED). */
typedef int (*oab_job_fn)(const oab_job *job, void *userdata);

/** Walks every page (page size `limit`), calling fn for each job. */
OAB_EXTERN oab_status oab_batch_list_all(oab_client *c, int limit,
                                         oab_job_fn fn, void *userdata);

/** Upload + create in one call (the seed's batch_create_job) for a JSONL
 *  file on disk. The file is validated first (oab_validate_path with the
 *  defaults) and refused with OAB_EVALIDATION before any request. */
OAB_EXTERN oab_status oab_batch_create_job_path(oab_client *c, oab_job **out,
                                                const char *jsonl_path,
                                                const oab_batch_options *opts);

/** The same for JSONL in memory. */
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

#define OAB_WAIT_OPTIONS_INIT \
    { OAB_WAIT_OPTIONS_VERSION, 0, 0, 0, -1, 0, 0, NULL, NULL }

/** Polls until the batch reaches a terminal status. *out (may be NULL)
 *  receives the last job seen, also on OAB_ETIMEOUT / OAB_ESTOPPED.
 *  Returns OAB_OK on any terminal status (check job->status). */
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
 *  (letters, digits, '_' and '-' only, at most 64). `description` may be
 *  NULL. With `strict`, the schema is brought to OpenAI's strict rules:
 *  every object gets additionalProperties:false and all its properties
 *  required, the ones that were optional made nullable; a schema that
 *  cannot be made strict (e.g. additionalProperties:true or a schema
 *  object under it) is OAB_ESCHEMA with the JSON pointer in err.
 *  Free with oab_schema_free. */
OAB_EXTERN oab_status oab_schema_new(oab_schema **out, const char *name,
                                     const char *description,
                                     const char *json_schema, int strict,
                                     oab_error *err);
OAB_EXTERN void oab_schema_free(oab_schema *schema);
OAB_EXTERN const char *oab_schema_name(const oab_schema *s);
OAB_EXTERN const char *oab_schema_description(const oab_schema *s);
OAB_EXTERN int oab_schema_strict(const oab_schema *s);
/** The schema as sent (after strict rewriting), compact JSON. Borrowed. */
OAB_EXTERN const char *oab_schema_json(const oab_schema *s);

/** Validates a JSON instance (text) against the schema. OAB_OK when
 *  valid; OAB_EVALIDATION with err->message like
 *  "/humidity: expected integer, got string"; OAB_EJSON when the text is
 *  not JSON. */
OAB_EXTERN oab_status oab_schema_validate(const oab_schema *s,
                                          const char *instance_json,
                                          size_t len, oab_error *err);

/* ------------------------------------------------------------------ */
/* Requests                                                             */
/* ------------------------------------------------------------------ */

typedef struct oab_request oab_request;

/** A tool the model may call. parameters_json is a JSON Schema object
 *  (NULL = {"type":"object","properties":{}}). */
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

/** Options of a chat request. Unset fields are absent from the line:
 *  pointers NULL, ints -1 (max tokens, n), doubles NaN (use OAB_UNSET),
 *  has_seed 0, tri-states -1. */
typedef struct oab_chat_options {
    unsigned version;
    const char *model;            /* NULL: must be set by the caller */
    const char *system_prompt;    /* prepended as a system message */
    const oab_message *messages;  /* full list; `prompt` then appended as
                                     a user message when non-NULL */
    size_t n_messages;
    long max_tokens;
    long max_completion_tokens;
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
    int parallel_tool_calls;      /* -1 unset, 0 false, 1 true */
    const oab_schema *output_schema;
    oab_output_mode output_mode;  /* NONE with a schema = NATIVE */
    /** A JSON object merged into the body last (its keys win). */
    const char *extra_body_json;
} oab_chat_options;

/** "Not set" for the double fields of options structs (a quiet NaN). */
#define OAB_UNSET NAN

#define OAB_CHAT_OPTIONS_INIT                                                \
    { OAB_CHAT_OPTIONS_VERSION, NULL, NULL, NULL, 0, -1, -1, OAB_UNSET,      \
      OAB_UNSET, OAB_UNSET, OAB_UNSET, 0, 0, NULL, 0, NULL, NULL, NULL, 0,   \
      OAB_TOOL_CHOICE_UNSET, NULL, -1, NULL, OAB_OUTPUT_NONE, NULL }

/** Builds a /v1/chat/completions request (the seed's create_chat_request).
 *  `prompt` is the user message (NULL when opts->messages says it all).
 *  Errors (OAB_EINVAL, OAB_EJSON, OAB_ESCHEMA) name the field in err.
 *  Free with oab_request_free. */
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
    long max_output_tokens;       /* -1 unset */
    double temperature;
    double top_p;
    const char *reasoning_effort;
    const char *user;
    const oab_tool *tools;
    size_t n_tools;
    oab_tool_choice tool_choice;
    const char *tool_choice_function;
    int parallel_tool_calls;
    const oab_schema *output_schema; /* text.format json_schema */
    oab_output_mode output_mode;     /* NATIVE, TOOL or PROMPTED */
    const char *extra_body_json;
} oab_responses_options;

#define OAB_RESPONSES_OPTIONS_INIT                                           \
    { OAB_RESPONSES_OPTIONS_VERSION, NULL, NULL, NULL, -1, OAB_UNSET,        \
      OAB_UNSET, NULL, NULL, NULL, 0, OAB_TOOL_CHOICE_UNSET, NULL, -1, NULL, \
      OAB_OUTPUT_NONE, NULL }

/** Builds a /v1/responses request; `input` is the user text (or NULL
 *  with opts->input_json). */
OAB_EXTERN oab_status oab_responses_request_new(oab_request **out,
                                                const char *custom_id,
                                                const char *input,
                                                const oab_responses_options *opts,
                                                oab_error *err);

/** Builds a /v1/embeddings request for one input text or `n_inputs`
 *  texts. `dimensions` 0 = not sent. */
OAB_EXTERN oab_status oab_embeddings_request_new(oab_request **out,
                                                 const char *custom_id,
                                                 const char *model,
                                                 const char *const *inputs,
                                                 size_t n_inputs,
                                                 int dimensions,
                                                 oab_error *err);

OAB_EXTERN void oab_request_free(oab_request *req);
OAB_EXTERN const char *oab_request_custom_id(const oab_request *req);
OAB_EXTERN const char *oab_request_url(const oab_request *req);
/** The body's model, or NULL. Borrowed. */
OAB_EXTERN const char *oab_request_model(const oab_request *req);
OAB_EXTERN oab_output_mode oab_request_output_mode(const oab_request *req);
/** The JSONL line (compact, no newline). Free with oab_free. */
OAB_EXTERN oab_status oab_request_to_json(const oab_request *req, char **out);

/** Upload + create from built requests (the seed's batch_create_job with
 *  a list): writes JSONL in memory, validates (refusing invalid input
 *  with OAB_EVALIDATION before any network call, detail in the client's
 *  error), uploads, creates. opts->endpoint defaults to the requests' url. */
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
 *  half-written is left under `path`). */
OAB_EXTERN oab_status oab_jsonl_writer_open_path(oab_jsonl_writer **out,
                                                 const char *path);
/** Writes to memory; take the bytes with oab_jsonl_writer_take_buffer. */
OAB_EXTERN oab_status oab_jsonl_writer_open_buffer(oab_jsonl_writer **out);
/** Appends a request as one line. */
OAB_EXTERN oab_status oab_jsonl_write_request(oab_jsonl_writer *w,
                                              const oab_request *req);
/** Appends one line of JSON text (re-serialized compact; must be one
 *  JSON object). */
OAB_EXTERN oab_status oab_jsonl_write_json(oab_jsonl_writer *w,
                                           const char *json, size_t len);
/** Lines and bytes written so far. */
OAB_EXTERN size_t oab_jsonl_writer_lines(const oab_jsonl_writer *w);
OAB_EXTERN unsigned long long oab_jsonl_writer_bytes(const oab_jsonl_writer *w);
/** Flushes, fsyncs and renames into place (path writers). */
OAB_EXTERN oab_status oab_jsonl_writer_close(oab_jsonl_writer *w);
/** Buffer writers: hands over the bytes (NUL-terminated; free with
 *  oab_free). The writer is left empty. */
OAB_EXTERN oab_status oab_jsonl_writer_take_buffer(oab_jsonl_writer *w,
                                                   char **out,
                                                   size_t *len_out);
OAB_EXTERN void oab_jsonl_writer_free(oab_jsonl_writer *w);

/** Receives one line without its "\n" or "\r\n" (line[len] is '\0';
 *  borrowed for the call). Return 0 to go on, non-zero to stop
 *  (the feed then returns OAB_ESTOPPED). */
typedef int (*oab_line_fn)(const char *line, size_t len, long lineno,
                           void *userdata);

typedef struct oab_jsonl_reader oab_jsonl_reader;

/** An I/O-free line splitter: feed bytes in any chunking, get lines with
 *  their 1-based numbers. A line longer than `max_line` (0 = 256 MiB)
 *  gives OAB_ELIMIT. Empty lines are counted but not delivered. */
OAB_EXTERN oab_status oab_jsonl_reader_new(oab_jsonl_reader **out,
                                           size_t max_line);
OAB_EXTERN oab_status oab_jsonl_reader_feed(oab_jsonl_reader *r,
                                            const void *data, size_t len,
                                            oab_line_fn fn, void *userdata);
/** Delivers a last line that had no newline. *truncated (may be NULL)
 *  is set to 1 when the input did not end with a newline. */
OAB_EXTERN oab_status oab_jsonl_reader_finish(oab_jsonl_reader *r,
                                              oab_line_fn fn, void *userdata,
                                              int *truncated);
OAB_EXTERN void oab_jsonl_reader_free(oab_jsonl_reader *r);

/** Reads a file line by line through a reader (streamed). */
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
    int min_requests;               /* default 2 (the seed's rule); -1 off */
    size_t max_problems;            /* problems kept; default 100 */
    const char *expected_url;       /* NULL = taken from the first line */
} oab_validate_options;

#define OAB_VALIDATE_OPTIONS_INIT \
    { OAB_VALIDATE_OPTIONS_VERSION, 0, 0, 0, 0, 0, NULL }

/** One problem found in an input file. */
typedef struct oab_problem {
    long line;          /* 1-based; 0 for the whole file */
    char *code;         /* invalid_json_line, duplicate_custom_id, ... */
    char *message;
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

OAB_EXTERN void oab_validation_free(oab_validation *v);

typedef struct oab_validator oab_validator;

/** A streaming validator: feed bytes, then finish. No I/O. Memory grows
 *  only with the custom_ids (for the uniqueness check). */
OAB_EXTERN oab_status oab_validator_new(oab_validator **out,
                                        const oab_validate_options *opts);
OAB_EXTERN oab_status oab_validator_feed(oab_validator *v, const void *data,
                                         size_t len);
/** Ends the input and hands over the report. Returns OAB_OK when the
 *  input is valid, OAB_EVALIDATION when problems were found (the report
 *  is delivered either way). */
OAB_EXTERN oab_status oab_validator_finish(oab_validator *v,
                                           oab_validation **out);
OAB_EXTERN void oab_validator_free(oab_validator *v);

/** Validates a file (streamed); same returns as oab_validator_finish,
 *  OAB_EIO when it cannot be read. */
OAB_EXTERN oab_status oab_validate_path(oab_validation **out,
                                        const char *path,
                                        const oab_validate_options *opts);
OAB_EXTERN oab_status oab_validate_buffer(oab_validation **out,
                                          const char *data, size_t len,
                                          const oab_validate_options *opts);

/* ------------------------------------------------------------------ */
/* Splitting                                                            */
/* ------------------------------------------------------------------ */

typedef struct oab_split_part {
    char *path;                 /* the part's file */
    long first_line;            /* 1-based line of the input it starts at */
    size_t n_lines;             /* the part holds input lines
                                   first_line .. first_line+n_lines-1
                                   (blank input lines are skipped) */
    long *input_lines;          /* n_lines entries: the input line of each */
    unsigned long long n_bytes;
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
    double margin;                 /* share kept free; default 0.02 */
} oab_split_options;

#define OAB_SPLIT_OPTIONS_INIT { OAB_SPLIT_OPTIONS_VERSION, 0, 0, -1 }

/** Splits a JSONL file into parts under both limits, in input order,
 *  written as "<out_dir>/<stem>.partNNN.jsonl". A file within the limits
 *  gives one part. Free with oab_split_free (the files stay). */
OAB_EXTERN oab_status oab_split_path(oab_split **out, const char *path,
                                     const char *out_dir,
                                     const oab_split_options *opts,
                                     oab_error *err);
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
OAB_EXTERN oab_status oab_result_status_from_str(oab_result_status *out,
                                                 const char *s);

typedef struct oab_tool_call {
    char *id;
    char *name;
    char *arguments;       /* as the model wrote them */
    int arguments_valid;   /* 1 when arguments parse as a JSON object */
} oab_tool_call;

typedef struct oab_usage {
    long long prompt_tokens, completion_tokens, total_tokens, cached_tokens,
        reasoning_tokens;
} oab_usage;

/** One result line, decoded. Strings NULL when absent. */
typedef struct oab_result {
    char *custom_id;
    char *line_id;          /* "id" of the output line */
    oab_result_status status;
    int status_code;        /* response.status_code; 0 without a response */
    char *request_id;
    char *body_json;        /* response.body as JSON text */
    char *error_code;       /* wherever the line keeps it */
    char *error_message;
    /* conveniences (chat: choices[0]; responses: output items) */
    char *output;           /* assistant text */
    char *refusal;
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
} oab_result;

OAB_EXTERN void oab_result_free(oab_result *r);

/** What structured output to expect for a result. */
typedef struct oab_expect {
    const oab_schema *schema;
    oab_output_mode mode;
} oab_expect;

/** Decodes one output/error line (no I/O). A line that is not JSON gives
 *  a result with status OAB_RESULT_MALFORMED (and OAB_OK): one bad line
 *  never stops the others. `expect` may be NULL. */
OAB_EXTERN oab_status oab_result_parse(oab_result **out, const char *line,
                                       size_t len, long source_line,
                                       const oab_expect *expect);

/** Counts per status and total usage. */
typedef struct oab_summary {
    size_t total;
    size_t by_status[OAB_RESULT_STATUS_COUNT];
    oab_usage usage;
} oab_summary;

#define OAB_RESULTS_OPTIONS_VERSION 1

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
    /** Where downloads are kept (default: a temporary directory, removed). */
    const char *download_dir;
} oab_results_options;

#define OAB_RESULTS_OPTIONS_INIT \
    { OAB_RESULTS_OPTIONS_VERSION, NULL, NULL, OAB_OUTPUT_NONE, 0, NULL }

/** Receives each result (borrowed for the call). Return 0 to go on. */
typedef int (*oab_result_fn)(const oab_result *r, void *userdata);

/** Streams the results of a batch in any terminal state: output file and
 *  error file, then (with input_path) the missing ones. Memory stays flat
 *  whatever the file size (plus the custom_id set with input_path). */
OAB_EXTERN oab_status oab_batch_results_stream(oab_client *c,
                                               const oab_job *job,
                                               const oab_results_options *opts,
                                               oab_result_fn fn,
                                               void *userdata,
                                               oab_summary *summary);

/** Results of files already on disk (no server). error_path may be NULL. */
OAB_EXTERN oab_status oab_results_stream_files(const char *output_path,
                                               const char *error_path,
                                               const oab_results_options *opts,
                                               oab_result_fn fn,
                                               void *userdata,
                                               oab_summary *summary,
                                               oab_error *err);

typedef struct oab_result_set {
    oab_result **items;
    size_t n;
    oab_summary summary;
} oab_result_set;

OAB_EXTERN void oab_result_set_free(oab_result_set *set);

/** The seed's batch_retrieve_job: every result of the batch, collected. */
OAB_EXTERN oab_status oab_batch_retrieve_job(oab_client *c,
                                             oab_result_set **out,
                                             const char *batch_id,
                                             const oab_results_options *opts);

/** Collected results of files on disk. */
OAB_EXTERN oab_status oab_results_collect_files(oab_result_set **out,
                                                const char *output_path,
                                                const char *error_path,
                                                const oab_results_options *opts,
                                                oab_error *err);

/** Submit, wait, and return all results in one call. `wait` may be NULL
 *  (defaults); on timeout with wait->cancel_on_timeout the batch is
 *  cancelled and its partial results returned with OAB_ETIMEOUT.
 *  *job_out (may be NULL) receives the final job. */
OAB_EXTERN oab_status oab_batch_run(oab_client *c, oab_result_set **out,
                                    oab_job **job_out,
                                    oab_request *const *requests,
                                    size_t n_requests,
                                    const oab_batch_options *batch_opts,
                                    const oab_wait_options *wait);

#ifdef __cplusplus
}
#endif

#endif /* OAIBATCH_H */
