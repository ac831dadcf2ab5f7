/* util/limits.h - every cap of the library in one place (SQLite's
 * sqliteLimit.h habit), each with why it is what it is. Internal: util
 * layer; cli/ and server/ may include it for the caps they share with the
 * library. The Batch API's own limits are public (include/oaibatch.h:
 * OAB_MAX_LINES, OAB_MAX_FILE_BYTES, OAB_MAX_EMBEDDING_INPUTS). */
#ifndef OAB_UTIL_LIMITS_H
#define OAB_UTIL_LIMITS_H

/* ---- JSON ---- */

/* Containers nested inside one another in any JSON text the library
 * reads (the checker, the document reader, the validator). cJSON's
 * CJSON_NESTING_LIMIT: a text the checker accepts, cJSON can parse. */
#define OAB__JSON_MAX_DEPTH 1000

#endif
