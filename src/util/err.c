/* err.c - filling an oab_error (internal). */
#define _POSIX_C_SOURCE 200809L

#include "oaibatch.h"
#include "util/err.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

oab_status oab__err(oab_error *err, oab_status code, long line,
                    const char *fmt, ...)
{
    if (err) {
        err->status = code;
        err->line = line;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return code;
}

void oab__err_clear(oab_error *err)
{
    if (err) {
        err->status = OAB_OK;
        err->line = 0;
        err->message[0] = '\0';
    }
}
