/* api/batches.h - what the Batches calls (api/batches.c, create_job*.c)
 * share with each other and the providers (api/anthropic.c). Internal. */
#ifndef OAB_API_BATCHES_H
#define OAB_API_BATCHES_H

#include "oaibatch.h"
#include "util/buf.h"
#include <cjson/cJSON.h>

/* Reads one batch object of a list page into *out. */
typedef oab_status (*oab__job_item_fn)(oab_job **out, const cJSON *item,
                                       oab_error *err);

/* A page {"data":[...],"has_more","first_id","last_id"} of a list
 * answer (root, freed here), each item read by parse; a missing last_id
 * is the last item's id. *out: free with oab_job_list_free. Errors (on
 * the client, `what` naming the call): OAB_EPROTO, OAB_ENOMEM. */
oab_status oab__job_list_page(oab_client *c, oab_job_list **out, cJSON *root,
                              const char *what, oab__job_item_fn parse);

/* The cursor of a list page (root borrowed): has_more, first_id and
 * last_id into the slots (freed and replaced), a missing last_id being
 * last_item_id (may be NULL). OAB_OK, or OAB_ENOMEM on the client. */
oab_status oab__list_page_cursor(oab_client *c, const cJSON *root,
                                 const char *last_item_id, char **first_id,
                                 char **last_id, int *has_more);

/* Appends "name=<value escaped>" to a query (with '&' after the first);
 * nothing for a NULL or empty value. OAB_OK or OAB_ENOMEM. */
oab_status oab__query_add(oab__buf *q, const char *name, const char *value);

/* The start of every create-job entry point (api/create_job*.c): *out
 * NULL, the client there, the batch options set up with their _INIT
 * macro (the message on the client otherwise). */
oab_status oab__job_begin(oab_client *c, oab_job **out,
                          const oab_batch_options *opts);

#endif
