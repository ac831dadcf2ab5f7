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
/* The next URL of the pool for an API path ("/v1/chat/completions"),
 * round robin by weight (the synchronous endpoints); new. */
char *srv_upstream_url(srv *s, const char *path);
/* An easy handle that POSTs body (len bytes, borrowed until the transfer
 * ends) to url, collecting into x; *hdrs gets the header list (free with
 * curl_slist_free_all after the handle). NULL when curl cannot. */
CURL *srv_upstream_easy(srv *s, const char *url, const char *body,
                        size_t len, struct curl_slist **hdrs, srv_xfer *x);
/* The adaptive pool (slow start, then AIMD), run by the engine thread
 * only. Per upstream a window of requests in flight between 1 and its cap
 * (--concurrency x its weight / the largest weight, rounded up), from
 * SRV_WINDOW_START. Slow start: until the window's first cut, each answer
 * that is not an overload adds SRV_SLOW_START_STEP (0.5: x1.5 per round
 * trip, so 8 to 48 in 5 round trips instead of 40); after it, +1/window
 * per such answer (about +1 per round trip). Cuts: halved on a 429, a
 * 503 or a timeout; cut to SRV_LAT_DECREASE of itself when the latency
 * passes --latency-tolerance (SRV_LAT_TOLERANCE) x the baseline (once
 * per round trip: answers to requests started before the last cut do not
 * cut again); a Retry-After pauses the upstream until then. The latency
 * compared is, in slow start, the answer's own round trip (the window
 * grows too fast for a smoothed value to keep up: the first answer sent
 * past the knee x tolerance ends slow start), after it the smoothed
 * latency, an EWMA (SRV_LAT_ALPHA) of the round trips of answers that
 * are not overloads. The baseline is first the mean of the first
 * SRV_LAT_WARMUP answers (sent at about the start window; no latency
 * cut before them), which starts the lowest smoothed latency over the
 * last one to two SRV_LAT_PERIODs (a sliding minimum in two buckets, as
 * Vegas-style limiters keep a minimum RTT). SRV_UP_FAILS_OUT
 * failures in a row (no connection, 5xx other than 503) take it out of
 * the pool; after a delay (1 s, doubling to 60 s) one probe request goes
 * to it, and a probe that gets an answer puts it back. Among the
 * upstreams with room, the pick is smooth weighted round robin (nginx's):
 * weights 3 and 1 get 3 lines of 4 while both have room. The window is
 * published in s->up_window for GET /metrics. */
typedef struct srv_upstate {
    double window;          /* allowed in flight */
    int inflight;
    int cap;                /* the window's ceiling (weighted) */
    int weight;             /* --upstream-weight (1 by default) */
    double wrr;             /* smooth weighted round robin's counter */
    double paused_until;    /* Retry-After */
    double last_cut;        /* when the window was last cut */
    int fails;              /* failures in a row */
    double out_until;       /* > 0: out of the pool, probe after this */
    double probe_delay;
    double srtt;            /* smoothed round trip, seconds */
    long samples;           /* round trips in srtt */
    double first_sum;       /* sum of the first SRV_LAT_WARMUP round trips */
    int slow;               /* 1: slow start (until the first cut) */
    double base_cur, base_prev; /* lowest srtt of this and the last period */
    double base_since;      /* start of the current period */
} srv_upstate;
enum srv_outcome { SRV_OUT_OK, SRV_OUT_OVERLOAD, SRV_OUT_TIMEOUT,
                   SRV_OUT_FAIL };
/* Initialises the pool's n states (window SRV_WINDOW_START). */
void srv_pool_init(srv *s, srv_upstate *u, int n);
/* The next upstream (smooth weighted round robin over those with room)
 * that may take a request now, or -1. */
int srv_pool_pick(srv *s, srv_upstate *u, int n, double now);
/* The answer of a request to upstream k started at `started`: adapts its
 * window, pause and membership (retry_after < 0: none). */
void srv_pool_outcome(srv *s, srv_upstate *u, int k, enum srv_outcome o,
                      double retry_after, double started, double now);
/* The URL of upstream k of the pool for an API path; new. */
char *srv_upstream_url_at(srv *s, int k, const char *path);
/* The delay before retry `attempt` (0-based): Retry-After when the
 * answer gave one, else exponential from --retry-base-ms; at most 60 s. */
double srv_upstream_backoff(const srv *s, const srv_xfer *x, int attempt);
/* Forwards one synchronous request upstream (blocking, with the retry
 * policy). *status gets the HTTP status, or 0 for a transport failure
 * (then resp holds a message). */
void srv_upstream_call(srv *s, const char *path, const char *body,
                       size_t len, long *status, oab__buf *resp);

#endif
