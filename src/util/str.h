/* util/str.h - string helpers.
 * Internal: util layer, no API knowledge. */
#ifndef OAB_UTIL_STR_H
#define OAB_UTIL_STR_H

#include "util/compat.h"
#include "oaibatch.h"
#include <stdarg.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/* ---- strings ---- */
char *oab__strdup(const char *s);            /* NULL stays NULL */
char *oab__strndup(const char *s, size_t n);
char *oab__sprintf(const char *fmt, ...) OAB__PRINTF(1, 2);
/* Frees *slot and stores a copy of s. */
oab_status oab__set_str(char **slot, const char *s);
/* oab__sprintf with a va_list (ap is used up). */
char *oab__vsprintf(const char *fmt, va_list ap) OAB__PRINTF(1, 0);
/* The value of the hex digit c (0-15), or -1. */
int oab__hexval(int c);
/* Writes the UTF-8 encoding of code point cp (at most 0x10FFFF) to out;
 * returns its length, 1 to 4. */
size_t oab__utf8_encode(unsigned long cp, char out[4]);
/* Writes v in decimal at the end of buf (no NUL); returns where the
 * digits start (they run to buf + OAB__LL_DIGITS). */
#define OAB__LL_DIGITS 24
char *oab__ll_digits(char buf[OAB__LL_DIGITS], long long v);

#endif
