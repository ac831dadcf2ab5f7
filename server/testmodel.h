/* testmodel.h - the built-in deterministic test model (`builtin:test`),
 * a leaf: a request body in, a response body out, no I/O and nothing of
 * the HTTP front end or the engine. Every answer is bounded (see the
 * SRV_TM_* caps in srv_limits.h): a request that would need more gets a 400
 * error body that says which cap. */
#ifndef OAB_SERVER_TESTMODEL_H
#define OAB_SERVER_TESTMODEL_H

#include <cjson/cJSON.h>

/* Answers a request to `url` ("/v1/chat/completions", "/v1/responses",
 * "/v1/embeddings", "/v1/completions"). Returns the response body (new;
 * NULL only when out of memory) and sets *status (200, or 400/404 with
 * an OpenAI-shaped error body). */
cJSON *srv_tm_answer(const char *url, const cJSON *body, int *status);
/* Generates an instance valid for `schema` (root for $ref; NULL: schema),
 * within the caps. New; NULL when the schema asks for more than the caps
 * allow (or out of memory). */
cJSON *srv_tm_instance(const cJSON *schema, const cJSON *root);

#endif
