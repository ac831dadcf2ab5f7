/* anthropic_api.h - Anthropic's Messages and Message Batches API on the
 * server (anthropic_api.c): POST /v1/messages and /v1/messages/batches
 * (create, retrieve, list, cancel, delete, results). http.c routes the
 * requests here; each function fills a reply and does no HTTP itself.
 *
 * An Anthropic batch is an ordinary batch of the engine: its requests are
 * translated (core/anthropic_serve.c) into an internal OpenAI input file
 * of /v1/chat/completions lines, and its batch row is owned by the key's
 * Anthropic owner tag (srv_anth_owner), so Anthropic batches never show
 * in /v1/batches and OpenAI batches never show here, and the engine's
 * exactly-once, restart and key-isolation rules hold unchanged. What is
 * Anthropic's alone (the request count and the requests refused at
 * create time) is in the table anth_batches (db.h). Results are
 * translated back when the batch has ended. */
#ifndef OAB_SERVER_ANTHROPIC_API_H
#define OAB_SERVER_ANTHROPIC_API_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include "srv.h"

/* What a request brings (all borrowed). */
typedef struct srv_anth_in {
    const char *owner;          /* the Anthropic owner tag (srv_anth_owner) */
    const char *id;             /* the {id} of the path, or "" */
    const char *base;           /* "http://host:port", for results_url */
    const char *before, *after, *limit; /* list query, or NULL */
    const cJSON *body;          /* the JSON body, or NULL */
} srv_anth_in;

/* The answer: status and a body, either text (new, free()d by the
 * caller) or an open file (fd >= 0, fd_size bytes, closed by the
 * caller), of Content-Type type (static). */
typedef struct srv_anth_reply {
    unsigned status;
    char *text;
    size_t len;
    int fd;
    unsigned long long fd_size;
    const char *type;
} srv_anth_reply;

#define SRV_ANTH_REPLY_INIT { 0, NULL, 0, -1, 0, "application/json" }

/* The owner tag of a key's Anthropic objects, made in place from its
 * OpenAI tag (srv_owner_tag, "" without keys; out holds 17 bytes): never
 * equal to an OpenAI tag, so neither API sees the other's batches. */
void srv_anth_owner(char *owner);

/* An Anthropic error body into rep: {"type":"error","error":{"type",
 * "message"}}, the type from the status (400 invalid_request_error, 401
 * authentication_error, 403 permission_error, 404 not_found_error, 413
 * request_too_large, 429 rate_limit_error, 529 overloaded_error, other
 * 5xx api_error). */
void srv_anth_error(srv_anth_reply *rep, unsigned status, const char *message);

/* POST /v1/messages: one Message, answered by the upstream's chat
 * completions endpoint or the built-in model. */
void srv_anth_messages(srv *s, const srv_anth_in *in, srv_anth_reply *rep);
/* POST /v1/messages/batches */
void srv_anth_batch_create(srv *s, const srv_anth_in *in, srv_anth_reply *rep);
/* GET /v1/messages/batches/{id} */
void srv_anth_batch_get(srv *s, const srv_anth_in *in, srv_anth_reply *rep);
/* GET /v1/messages/batches (before_id, after_id, limit 1-1000, default 20) */
void srv_anth_batch_list(srv *s, const srv_anth_in *in, srv_anth_reply *rep);
/* POST /v1/messages/batches/{id}/cancel */
void srv_anth_batch_cancel(srv *s, const srv_anth_in *in, srv_anth_reply *rep);
/* DELETE /v1/messages/batches/{id} (ended batches only) */
void srv_anth_batch_delete(srv *s, const srv_anth_in *in, srv_anth_reply *rep);
/* GET /v1/messages/batches/{id}/results: the JSONL of results (ended
 * batches only), written once to a file beside the batch's and sent
 * from it. */
void srv_anth_batch_results(srv *s, const srv_anth_in *in, srv_anth_reply *rep);

#endif
