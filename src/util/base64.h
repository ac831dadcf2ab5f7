/* util/base64.h - base64 (RFC 4648), no I/O. Internal: util layer, no API
 * knowledge. One copy for the library (embeddings), the server (webhook
 * signatures and secrets, the built-in model's embeddings). */
#ifndef OAB_UTIL_BASE64_H
#define OAB_UTIL_BASE64_H

#include "util/buf.h"
#include <stddef.h>

/* Appends the standard base64 of n bytes at p, with '=' padding, to out
 * (NUL-terminated after). OAB_ENOMEM when out cannot grow. */
oab_status oab__base64_encode(const void *p, size_t n, oab__buf *out);
/* Appends the bytes that len characters of base64 at s decode to (the
 * standard and the URL-safe alphabet both; decoding stops at the first
 * '='). OAB_EJSON for a character outside the alphabets or a dangling
 * last character, OAB_ENOMEM when out cannot grow. */
oab_status oab__base64_decode(const char *s, size_t len, oab__buf *out);

#endif
