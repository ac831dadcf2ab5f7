/* util/jdoc.h - a small, fast, validating JSON reader used by the result
 * decoder (internal; results area only). The document is parsed into a
 * flat array of nodes that point into the original text: strings are not
 * copied or unescaped until asked for, so a long content string costs one
 * scan. Arrays of nodes are reused across documents (memory stays flat). */
#ifndef OAB_UTIL_JDOC_H
#define OAB_UTIL_JDOC_H

#include <cjson/cJSON.h>
#include "util/buf.h"
#include "util/json_scan.h"
#include "oaibatch.h"

#include <stdint.h>

enum {
    OAB__J_NULL = 0,
    OAB__J_FALSE,
    OAB__J_TRUE,
    OAB__J_NUMBER,
    OAB__J_STRING,
    OAB__J_ARRAY,
    OAB__J_OBJECT
};

typedef struct oab__jv {
    uint8_t type;
    uint8_t esc;      /* string value holds escapes */
    uint8_t key_esc;  /* key holds escapes */
    uint32_t key_off, key_len; /* member key, inside the quotes */
    uint32_t off, len;         /* strings: inside the quotes; numbers: the
                                  token; arrays/objects: brackets included */
    uint32_t child;            /* first child index + 1, 0 = none */
    uint32_t next;             /* next sibling index + 1, 0 = none */
    uint32_t count;            /* children */
} oab__jv;

typedef struct oab__jdoc {
    const char *text;
    size_t len;
    oab__jv *nodes;
    size_t n, cap;
    size_t err_pos;   /* where parsing failed */
    int err_eof;      /* failed because the text ended (cut off) */
} oab__jdoc;

#define OAB__JDOC_INIT { NULL, 0, NULL, 0, 0, 0, 0 }

/* Parses text (len bytes, need not be NUL-terminated). OAB_OK, OAB_EJSON
 * (err_pos / err_eof say where), OAB_ENOMEM, OAB_ELIMIT (over 4 GiB). */
oab_status oab__jdoc_parse(oab__jdoc *d, const char *text, size_t len);
void oab__jdoc_free(oab__jdoc *d);

/* The root value (NULL when nothing parsed). */
const oab__jv *oab__jroot(const oab__jdoc *d);
/* Member of an object by key, NULL when absent or obj not an object. */
const oab__jv *oab__jget(const oab__jdoc *d, const oab__jv *obj,
                         const char *key);
/* Dotted path of object members ("usage.prompt_tokens_details"). */
const oab__jv *oab__jpath(const oab__jdoc *d, const oab__jv *v,
                          const char *dotted);
/* Children of an array or object. */
const oab__jv *oab__jfirst(const oab__jdoc *d, const oab__jv *v);
const oab__jv *oab__jnext(const oab__jdoc *d, const oab__jv *v);
/* Element i of an array (NULL if none). */
const oab__jv *oab__jat(const oab__jdoc *d, const oab__jv *arr, size_t i);

int oab__jis(const oab__jv *v, int type);
/* A string value unescaped into a new NUL-terminated string; NULL when v
 * is not a string (or out of memory: *oom set to 1 if oom != NULL). */
char *oab__jstr_dup(const oab__jdoc *d, const oab__jv *v, int *oom);
/* Appends a string value, unescaped, to b. */
oab_status oab__jstr_append(const oab__jdoc *d, const oab__jv *v,
                            oab__buf *b);
/* 1 when v is a string equal to s. */
int oab__jstr_eq(const oab__jdoc *d, const oab__jv *v, const char *s);
/* The value's raw text, copied. */
char *oab__jraw_dup(const oab__jdoc *d, const oab__jv *v);
/* Numbers: the value, or dflt when v is not a number. */
double oab__jnum(const oab__jdoc *d, const oab__jv *v, double dflt);
long long oab__jll(const oab__jdoc *d, const oab__jv *v, long long dflt);

#endif
