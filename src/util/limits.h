/* util/limits.h - every cap of the library in one place (SQLite's
 * sqliteLimit.h habit), each with why it is what it is. Internal: util
 * layer, no API knowledge beyond these numbers; cli/ and server/ include
 * it for the caps they share with the library, rather than writing the
 * number again.
 *
 * The Batch API's limits on an input file are public, in
 * include/oaibatch.h, because callers pass them in options:
 *   OAB_MAX_LINES             50,000 requests per file
 *   OAB_MAX_FILE_BYTES        200 MiB per file
 *   OAB_MAX_EMBEDDING_INPUTS  50,000 embedding inputs per file
 * The validator (core/validate.c) and the splitter (core/split.c) take
 * their defaults from them and nothing else. */
#ifndef OAB_UTIL_LIMITS_H
#define OAB_UTIL_LIMITS_H

/* ---- JSON ---- */

/* Containers nested inside one another in any JSON text the library
 * reads: the checker (util/json.h), the document reader (util/jdoc.h)
 * and the input validator. cJSON's CJSON_NESTING_LIMIT, so that a text
 * the checker accepts, cJSON can parse too (the document reader had 512,
 * the others 1000: one value for all). */
#define OAB__JSON_MAX_DEPTH 1000

/* How deep JSON Schema evaluation may recurse (subschemas and $ref
 * jumps together) before it is taken for a $ref cycle. Schemas nest
 * one subschema per JSON level, so the same depth as the JSON limit. */
#define OAB__SCHEMA_MAX_DEPTH OAB__JSON_MAX_DEPTH

/* The document reader keeps 32-bit offsets in its nodes: a document is
 * under 4 GiB (OAB_ELIMIT past it). */
#define OAB__JDOC_MAX_BYTES 0xFFFFFFFEu

/* ---- lines (JSONL) ---- */

/* The longest line the JSONL reader keeps by default (its max_line 0).
 * Above the 200 MiB input file limit, since the reader also reads the
 * API's output and error files, whose lines carry whole responses. The
 * validator keeps a cut line only up to its max_bytes (the file limit:
 * a longer line cannot be part of a valid file) and counts it past that. */
#define OAB__MAX_LINE_BYTES ((size_t)256 * 1024 * 1024)

/* ---- HTTP bodies ---- */

/* The largest JSON answer kept in memory: an API answer to the client
 * (src/api/http.c), and for the server the largest JSON request body and
 * upstream answer it takes. The Files and Batches answers are a few KB;
 * a chat completion with many choices or an embeddings answer for 2,048
 * inputs stays well below it. Files are streamed, not capped by this. */
#define OAB__MAX_JSON_BODY (64u * 1024 * 1024)

/* What is kept of an error answer (a non-2xx body): enough for any of
 * the API's error objects, bounded against a proxy's HTML page. */
#define OAB__MAX_ERROR_BODY (64u * 1024)

/* The start of an error answer that is not the API's JSON error shape,
 * kept as the error message. */
#define OAB__MAX_ERROR_EXCERPT 200

/* A file downloaded into memory (oab_file_download_buffer): the Files
 * API's limit on one file, 512 MB. Larger downloads go to a path. */
#define OAB__MAX_BUFFER_DOWNLOAD (512ull * 1024 * 1024)

/* Resumed downloads of one file (Range requests after a cut connection)
 * on top of the client's retries, before giving up. */
#define OAB__MAX_DOWNLOAD_RESUMES 50

/* Polls in a row that fail with a retryable error while waiting for a
 * batch before the wait gives up (a wait lasts hours; one bad poll is
 * not the end of it). */
#define OAB__MAX_POLL_FAILURES 3

/* ---- Batch API request fields ---- */

/* A batch's metadata: at most 16 pairs, keys up to 64 characters,
 * values up to 512 (the API's limits, checked before the call). */
#define OAB__MAX_METADATA 16
#define OAB__MAX_METADATA_KEY 64
#define OAB__MAX_METADATA_VALUE 512

/* ---- validation reports ---- */

/* Problems a validation report keeps by default (all are counted). */
#define OAB__DEFAULT_MAX_PROBLEMS 100

#endif
