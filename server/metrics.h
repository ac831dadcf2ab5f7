/* metrics.h - the server's counters and GET /metrics in the Prometheus
 * text exposition format (metrics.c). The counters live in one table
 * behind a mutex, so the engine, the webhook thread and the HTTP threads
 * may call these at once; the batch and line counts are read from the
 * state at scrape time. */
#ifndef OAB_SERVER_METRICS_H
#define OAB_SERVER_METRICS_H

#include "srv.h"
#include <curl/curl.h>
#include <stddef.h>

/* A transfer to url (an upstream of the pool + an API path) starts: its
 * in-flight gauges grow. Returns its metrics tag (> 0), to give back to
 * srv_metrics_attempt or srv_metrics_abandoned exactly once. */
int srv_metrics_started(const srv *s, const char *url);
/* One attempt's answer: status (0 for a transport failure) counted for
 * the upstream of *tag (0: the built-in model); when *tag > 0 the
 * transfer's time is taken from easy into the latency histogram, the
 * in-flight gauges shrink and *tag becomes 0. */
void srv_metrics_attempt(int *tag, CURL *easy, long status);
/* A transfer dropped without an answer (its batch stopped): the in-flight
 * gauges shrink when *tag > 0; *tag becomes 0. */
void srv_metrics_abandoned(int *tag);

/* Webhook delivery outcomes. */
enum srv_wh_outcome { SRV_WH_DELIVERED, SRV_WH_FAILED_ATTEMPT, SRV_WH_GIVEN_UP };
void srv_metrics_webhook(enum srv_wh_outcome o);

/* The whole exposition (new, NUL-terminated; NULL when out of memory or
 * the state cannot be read). Reads the state through s->db under
 * s->db_lock. */
char *srv_metrics_render(srv *s);

/* url without user information, query or fragment, into out (n bytes):
 * what logs and labels may show of a configured URL. */
void srv_url_label(const char *url, char *out, size_t n);

#endif
