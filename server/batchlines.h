/* batchlines.h - GET /v1/batches/{id}/lines (batchlines.c): one batch's
 * lines with their state and, once finished, their status code and
 * error code. A documented extension of the API (server/README.md), for
 * the web view. */
#ifndef OAB_SERVER_BATCHLINES_H
#define OAB_SERVER_BATCHLINES_H

#include "srv.h"
#include <cjson/cJSON.h>

#define SRV_LINES_LIMIT_DEFAULT 100      /* a page, when limit is not given */
#define SRV_LINES_LIMIT_MAX 1000

/* A page of the lines of batch id of owner: those in the output file (or,
 * while the batch runs, its committed output spool) in file order, then
 * those of the error file, then the lines not finished yet in input
 * order. after: NULL, or the last_id of the previous page (an opaque
 * cursor). match: NULL, or a text the custom_id must contain. Returns the
 * new list object ({"object":"list","data":[...],"last_id","has_more"}), or NULL with *status (404 no such batch of the owner, 400
 * a bad cursor: *param "after", 500) and *message (static). */
cJSON *srv_batch_lines(srv *s, const char *id, const char *owner,
                       const char *after, int limit, const char *match,
                       int *status, const char **message);

#endif
