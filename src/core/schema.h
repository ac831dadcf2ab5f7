/* core/schema.h - what other modules use of the oab_schema object
 * (core/schema*.c). Its own files also include core/schema_int.h. */
#ifndef OAB_CORE_SCHEMA_H
#define OAB_CORE_SCHEMA_H

#include "oaibatch.h"
#include <cjson/cJSON.h>

/* The parsed schema (borrowed) behind an oab_schema. */
const cJSON *oab__schema_root(const oab_schema *s);
/* Makes an oab_schema around a cJSON schema (takes ownership of root on
 * success), without strict rewriting. */
oab_status oab__schema_wrap(oab_schema **out, const char *name,
                            cJSON *root, oab_error *err);
/* Validates a parsed instance; same returns as oab_schema_validate. */
oab_status oab__schema_validate_json(const oab_schema *s,
                                     const cJSON *instance, oab_error *err);

/* Evaluates a JSON pointer (RFC 6901, already %-decoded: "" the node
 * itself, "/a/0/b~1c") from node; the target (borrowed) or NULL. Used
 * for "$ref": "#/..." by the validator and the built-in test model. */
const cJSON *oab__json_pointer(const cJSON *node, const char *ptr);

#endif
