/* core/schema_int.h - the oab_schema object, shared by core/schema.c and
 * core/schema_validate.c only. */
#ifndef OAB_CORE_SCHEMA_INT_H
#define OAB_CORE_SCHEMA_INT_H

#include <cjson/cJSON.h>
#include "util/buf.h"
#include "oaibatch.h"

/* One compiled regular expression, keyed by the schema node it came from
 * (a "pattern" string or a "patternProperties" member). */
typedef struct oab__regex {
    const cJSON *node;
    void *code; /* pcre2_code_8 * */
} oab__regex;

struct oab_schema {
    char *name;
    char *description;
    int strict;
    cJSON *root;  /* the schema as sent */
    char *json;   /* compact text of root */
    /* patterns compiled when the schema is made, sorted by node address,
     * so that validation only reads the schema (thread-safe). */
    oab__regex *regex;
    size_t n_regex;
};

/* Compiles every pattern of s->root into s->regex. OAB_ESCHEMA with the
 * pointer of a pattern that does not compile. */
oab_status oab__schema_prepare(oab_schema *s, oab_error *err);
/* Frees what oab__schema_prepare made. */
void oab__schema_release(oab_schema *s);

/* JSON pointers built in a buffer while walking a schema (schema.c):
 * push appends "/" + key escaped per RFC 6901 (OAB_OK or OAB_ENOMEM),
 * pop cuts back to an earlier length, show gives the text ("/" for the
 * root). */
oab_status oab__jptr_push(oab__buf *b, const char *key);
void oab__jptr_pop(oab__buf *b, size_t len);
const char *oab__jptr_show(const oab__buf *b);

/* Checks a string against a "format" (schema_format.c): 1 valid,
 * 0 invalid, -1 a format not asserted (ignored). */
int oab__schema_check_format(const char *fmt, const char *s, size_t len);

#endif
