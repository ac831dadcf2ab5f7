/* webhook.h - signed webhooks at a batch's end (webhook.c): OpenAI's
 * event shape, the Standard Webhooks signature (webhook-id,
 * webhook-timestamp, webhook-signature: v1,<base64 HMAC-SHA256 of
 * "id.timestamp.body">), delivered at least once from the state by a
 * thread of its own, retried with exponential backoff, given up after
 * --webhook-give-up seconds with a log line. */
#ifndef OAB_SERVER_WEBHOOK_H
#define OAB_SERVER_WEBHOOK_H

#include "srv.h"
#include "util/buf.h"
#include "db.h"
#include <stddef.h>

#define SRV_WEBHOOK_GIVE_UP_S 86400   /* default --webhook-give-up */
#define SRV_WEBHOOK_RETRY_BASE_S 1.0  /* first retry; doubles, to 1 h */
#define SRV_WEBHOOK_TIMEOUT_S 30      /* one delivery attempt */
#define SRV_WEBHOOK_SECRET_ENV "OAB_WEBHOOK_SECRET"

/* Checks the webhook configuration (the secret from --webhook-secret or
 * the environment), creates the deliveries table through s->db and
 * starts the delivery thread when URLs are configured. Call before the
 * engine starts. Non-zero (logged, never the secret) on a bad secret, a
 * URL without a secret, or a thread that cannot start. */
int srv_webhook_start(srv *s);
/* Stops and joins the delivery thread (after s->stop is set; an attempt
 * in flight is given up): call before the engine leaves, so no other
 * node takes over an attempt this one is still making. The state stays
 * until srv_webhook_free (the engine may still record events). */
void srv_webhook_join(srv *s);
/* Frees the delivery state (after srv_webhook_join and the engine's
 * join). */
void srv_webhook_free(srv *s);

/* Records the event `type` ("batch.completed", ...) of batch_id for
 * every configured URL, inside the caller's transaction on db, so the
 * batch's end and its events commit together. SQLITE_OK when there is no
 * URL. */
int srv_webhook_enqueue(srv *s, srv_db *db, const char *batch_id,
                        const char *type);

/* The Standard Webhooks signature "v1,<base64>" of id.timestamp.body
 * with key (klen bytes) into out (>= 48 bytes). */
void srv_webhook_sign(const unsigned char *key, size_t klen, const char *id,
                      long long timestamp, const char *body, char *out,
                      size_t n);
/* The signing key of a secret: "whsec_" + base64 is decoded, anything
 * else is used as its bytes (what the openai SDKs do). Non-zero for an
 * empty key or bad base64. */
int srv_webhook_key(const char *secret, oab__buf *key);

#endif
