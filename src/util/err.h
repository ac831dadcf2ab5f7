/* util/err.h - filling an oab_error (the library's detail for a failed call).
 * Internal: util layer, no API knowledge. */
#ifndef OAB_UTIL_ERR_H
#define OAB_UTIL_ERR_H

#include "util/compat.h"
#include "oaibatch.h"

/* ---- oab_error ---- */
/* Fills err (if not NULL) and returns code. */
oab_status oab__err(oab_error *err, oab_status code, long line,
                    const char *fmt, ...) OAB__PRINTF(4, 5);
void oab__err_clear(oab_error *err);

#endif
