/* upstream.h - the client of the upstream model servers (upstream.c,
 * libcurl): the pool's round robin, one transfer's setup and the answer's
 * status, headers and body; used by the engine (curl multi) and by the
 * front end's synchronous calls. */
#ifndef OAB_SERVER_UPSTREAM_H
#define OAB_SERVER_UPSTREAM_H

#include "srv.h"
#include "util/buf.h"
#include <curl/curl.h>

/* What one transfer collects. */
typedef struct srv_xfer {
    oab__buf resp;          /* the body (at most SRV_MAX_RESP_BYTES) */
    double retry_after;     /* seconds; -1 none */
    char request_id[80];    /* x-request-id, "" none */
} srv_xfer;

/* Clears x for a new attempt (keeps the buffer's memory). */
void srv_xfer_reset(srv_xfer *x);
/* The next URL of the pool for an API path ("/v1/chat/completions");
 * new. */
char *srv_upstream_url(srv *s, const char *path);
/* An easy handle that POSTs body (len bytes, borrowed until the transfer
 * ends) to url, collecting into x; *hdrs gets the header list (free with
 * curl_slist_free_all after the handle). NULL when curl cannot. */
CURL *srv_upstream_easy(srv *s, const char *url, const char *body,
                        size_t len, struct curl_slist **hdrs, srv_xfer *x);
/* The delay before retry `attempt` (0-based): Retry-After when the
 * answer gave one, else exponential from --retry-base-ms; at most 60 s. */
double srv_upstream_backoff(const srv *s, const srv_xfer *x, int attempt);
/* Forwards one synchronous request upstream (blocking, with the retry
 * policy). *status gets the HTTP status, or 0 for a transport failure
 * (then resp holds a message). */
void srv_upstream_call(srv *s, const char *path, const char *body,
                       size_t len, long *status, oab__buf *resp);

#endif
