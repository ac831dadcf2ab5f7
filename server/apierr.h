/* apierr.h - OpenAI-shaped error bodies ({"error":{message,type,param,
 * code}}), used by the HTTP front end and the built-in test model, and
 * the message both APIs give a failed lookup. A leaf: cJSON only. */
#ifndef OAB_SERVER_APIERR_H
#define OAB_SERVER_APIERR_H

#include <cjson/cJSON.h>

/* The message of a 500 for a lookup that failed in the database (an
 * object it may well hold: never a 404), on both APIs. */
#define SRV_DB_UNAVAILABLE "The server's database is unavailable; try again."

/* A new error body; type NULL means "invalid_request_error", param and
 * code NULL become JSON null. NULL when out of memory. */
cJSON *srv_error_body(const char *message, const char *type,
                      const char *param, const char *code);

#endif
