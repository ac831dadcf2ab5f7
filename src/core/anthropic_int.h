/* core/anthropic_int.h - what the files of the Anthropic translation
 * (core/anthropic*.c) share: the custom_id map's entries, the state of
 * one translation and the JSON-building helpers. Internal to those
 * files. */
#ifndef OAB_CORE_ANTHROPIC_INT_H
#define OAB_CORE_ANTHROPIC_INT_H

#include "oaibatch.h"
#include "util/buf.h"
#include "util/compat.h"
#include <cjson/cJSON.h>
#include <stdint.h>

typedef struct oab__amap_entry {
    char *sent;       /* the id Anthropic saw */
    char *custom_id;  /* the caller's */
    char *native;     /* forced tool of a native-mode request, or NULL */
} oab__amap_entry;

struct oab_anthropic_map {
    oab__amap_entry *v;
    size_t n, cap;
    size_t n_sorted;  /* v[0..n_sorted) is sorted by sent id */
};

/* The entry of a sent id, or NULL (m may be NULL; sorts m when needed). */
const oab__amap_entry *oab__anthropic_map_find(oab_anthropic_map *m, const char *sent);
/* Adds an entry (copies of the strings; native may be NULL). */
oab_status oab__anthropic_map_add(oab_anthropic_map *m, const char *sent,
                                  const char *custom_id, const char *native);
/* FNV-1a, 64 bits: the stable part of a generated custom_id. */
uint64_t oab__anthropic_fnv1a(const char *s);

/* One translation: where errors go; oom set by a failed helper. */
typedef struct oab__atx {
    long lineno;     /* 1-based line of a file, 0 for a server's request */
    oab_error *err;
    int oom;
} oab__atx;

/* A refusal (OAB_EVALIDATION): "line N: FIELD: WHY" ("FIELD: WHY"
 * without a line). */
oab_status oab__ax_refuse(oab__atx *t, const char *field, const char *fmt, ...)
    OAB__PRINTF(3, 4);
/* OAB_ENOMEM, noted in t. */
oab_status oab__ax_nomem(oab__atx *t);
/* item added to obj under key / appended to arr; NULL (item freed, t->oom
 * set) on failure, also for a NULL item. */
cJSON *oab__ax_add(oab__atx *t, cJSON *obj, const char *key, cJSON *item);
cJSON *oab__ax_push(oab__atx *t, cJSON *arr, cJSON *item);
/* A deep copy. */
cJSON *oab__ax_dup(const cJSON *v);
/* {"type":"text","text":text}, or NULL. */
cJSON *oab__ax_text_block(const char *text);
/* An integer >= 1; 0 when v is absent or null; -1 when invalid. */
long oab__ax_positive_int(const cJSON *v);
/* Joins the texts of {"type":"text","text"} items into b, sep between;
 * another item refused as "WHERE[k]: WHY". */
oab_status oab__ax_join_texts(oab__atx *t, oab__buf *b, const cJSON *items,
                              const char *sep, const char *where, const char *why);
/* A usage count (0 when absent or negative). */
long long oab__ax_usage_n(const cJSON *u, const char *key);
/* Checks out (has_out) and json, parses json into *root; errors name
 * `what` and carry `line`. */
oab_status oab__ax_parse_text(cJSON **root, int has_out, const char *json, size_t len,
                              long line, const char *what, oab_error *err);
/* A request to translate must not hold a string with U+0000 ("\u0000"):
 * the parse ends such a string there, so the request sent would be cut
 * without a word. OAB_OK, or OAB_EVALIDATION (via oab__ax_refuse) naming
 * the first such string's path. */
oab_status oab__ax_refuse_nul(oab__atx *t, const char *json, size_t len,
                              const char *prefix);

#endif
