/* util/buf.h - growable byte buffers and arrays.
 * Internal: util layer, no API knowledge. */
#ifndef OAB_UTIL_BUF_H
#define OAB_UTIL_BUF_H

#include "util/compat.h"
#include "oaibatch.h"
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/* ---- growable byte buffer (always NUL-terminated) ---- */
typedef struct oab__buf {
    char *data;
    size_t len;
    size_t cap;
} oab__buf;

#define OAB__BUF_INIT { NULL, 0, 0 }

oab_status oab__buf_reserve(oab__buf *b, size_t extra);
oab_status oab__buf_append(oab__buf *b, const void *data, size_t len);
oab_status oab__buf_puts(oab__buf *b, const char *s);
oab_status oab__buf_putc(oab__buf *b, char c);
oab_status oab__buf_printf(oab__buf *b, const char *fmt, ...) OAB__PRINTF(2, 3);
/* Appends s as a JSON string literal, quotes included. */
oab_status oab__buf_json_string(oab__buf *b, const char *s, size_t len);
/* Hands over the data (never NULL on success: "" for an empty buffer). */
char *oab__buf_take(oab__buf *b, size_t *len_out);
void oab__buf_clear(oab__buf *b);     /* len = 0, keeps memory */
void oab__buf_free(oab__buf *b);

/* Room for element n of a growing array of `size`-byte elements with
 * *cap allocated: arr itself while n < *cap, else arr reallocated to
 * twice *cap (`first` the first time) with *cap updated. NULL when out
 * of memory (arr and *cap are then unchanged). */
void *oab__grow(void *arr, size_t *cap, size_t n, size_t size, size_t first);

#endif
