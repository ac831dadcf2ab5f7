/* util/fs.h - whole-file reads and atomic writes.
 * Internal: util layer, no API knowledge. */
#ifndef OAB_UTIL_FS_H
#define OAB_UTIL_FS_H

#include "oaibatch.h"
#include <stddef.h>

/* ---- files ---- */
/* Writes all of data to path atomically (path.tmp + fsync + rename). */
oab_status oab__write_file_atomic(const char *path, const void *data,
                                  size_t len);
/* Writes all len bytes to fd (write() retried on EINTR and short
 * writes). 0, or the errno of the failed write. */
int oab__write_all(int fd, const void *data, size_t len);
/* Reads a whole (small) file. */
oab_status oab__read_file(const char *path, char **out, size_t *len_out);

#endif
