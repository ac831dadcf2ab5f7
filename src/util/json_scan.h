/* util/json_scan.h - the JSON lexer: the one scanner of JSON tokens in the
 * library (RFC 8259). Internal: util layer, no API knowledge.
 *
 * Everything that reads JSON text byte by byte goes through it: the JSON
 * checker and compactor (util/json.h), the document reader (util/jdoc.h)
 * and the input validator's member picker (core/validate.c). It does no
 * allocation and never reads past `end`; text need not be NUL-terminated.
 *
 * A scanner is a cursor over [p, end). Each scan function starts at the
 * first byte of its token, moves p past it and returns 0, or returns -1
 * with err set to where the text is wrong (err == end: it ran out). */
#ifndef OAB_UTIL_JSON_SCAN_H
#define OAB_UTIL_JSON_SCAN_H

#include "util/buf.h"
#include "util/limits.h"
#include "oaibatch.h"
#include <stddef.h>

typedef struct oab__jscan {
    const char *p;           /* the next byte */
    const char *end;
    const char *err;         /* after a failure: where */
    unsigned char utf8;      /* check strings' UTF-8 (see bad_utf8) */
    unsigned char bad_utf8;  /* a string held invalid UTF-8 or a lone
                                surrogate escape: the syntax is still
                                checked to the end, the caller decides */
    unsigned char too_deep;  /* the failure was nesting deeper than
                                OAB__JSON_MAX_DEPTH containers */
} oab__jscan;

/* Starts a scan of text[0..len). check_utf8: look at every byte >= 0x80
 * (slower on non-ASCII text; without it such bytes are taken as they are). */
void oab__jscan_init(oab__jscan *s, const char *text, size_t len,
                     int check_utf8);

/* Skips JSON whitespace (space, tab, LF, CR). */
static inline void oab__jscan_ws(oab__jscan *s)
{
    const char *p = s->p, *end = s->end;
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    s->p = p;
}

/* A string, s->p at its opening quote. *body / *len (may be NULL) get the
 * bytes between the quotes, *esc (may be NULL) 1 when they hold escapes
 * (decode with oab__json_unescape). */
int oab__jscan_string(oab__jscan *s, const char **body, size_t *len,
                      int *esc);
/* A number (-?int frac? exp?). */
int oab__jscan_number(oab__jscan *s);
/* The literal word[0..n) ("true", "false", "null"). */
int oab__jscan_literal(oab__jscan *s, const char *word, size_t n);
/* Any one value, checked and skipped; `depth` containers are open around
 * it (a container opened at depth OAB__JSON_MAX_DEPTH fails, too_deep). */
int oab__jscan_value(oab__jscan *s, int depth);

/* The value of the four hex digits at p (fewer than four before end, or
 * one not a hex digit: -1). */
int oab__jscan_hex4(const char *p, const char *end, unsigned *out);

/* Unescapes the JSON string body s[0..len) (no quotes) into b: escapes
 * decoded, a lone surrogate escape as U+FFFD. OAB_ENOMEM, or OAB_EJSON
 * for a malformed escape. */
oab_status oab__json_unescape(const char *s, size_t len, oab__buf *b);

/* Length of the valid UTF-8 sequence at p (p[0] >= 0x80; no overlongs,
 * no surrogates, at most U+10FFFF), 0 when it is not one. */
size_t oab__utf8_seq(const unsigned char *p, const unsigned char *end);

/* Walks the JSON text[0..len) and calls fn with the path of every string
 * (member name or value) whose escapes decode to U+0000 ("\u0000"): cJSON
 * ends its strings there, so such a string is silently cut by a parse
 * (a schema's "pattern" "^a\u0000b$" becomes "^a"). The path is the
 * members and indexes from the root ("properties.a.pattern",
 * "tools[0].function.parameters"), borrowed for the call; fn non-zero
 * stops the walk. OAB_OK, OAB_EJSON (the text is not one JSON value; the
 * strings before the fault were reported) or OAB_ENOMEM. */
/* 1 when text[0..len) has the escape "\u0000" anywhere (a quick scan
 * that may say 1 for one that is not in a string; oab__json_each_nul
 * then tells), 0 when no string of it can hold U+0000. */
int oab__json_may_hold_nul(const char *text, size_t len);

/* The path (as oab__json_each_nul gives it, "" for the root) of the
 * first string of text[0..len) holding U+0000, into path[0..cap) (cut
 * to fit): 1 when there is one, 0 when none, -1 when out of memory. */
int oab__json_first_nul(const char *text, size_t len, char *path,
                        size_t cap);

oab_status oab__json_each_nul(const char *text, size_t len,
                              int (*fn)(const char *path, void *ud),
                              void *ud);

#endif
