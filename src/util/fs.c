/* fs.c - whole-file reads and atomic writes (internal). */
#define _POSIX_C_SOURCE 200809L

#include "oaibatch.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/str.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int oab__write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

oab_status oab__write_file_atomic(const char *path, const void *data,
                                  size_t len)
{
    char *tmp = oab__sprintf("%s.tmp", path);
    if (!tmp)
        return OAB_ENOMEM;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        free(tmp);
        return OAB_EIO;
    }
    if (oab__write_all(fd, data, len) != 0) {
        close(fd);
        unlink(tmp);
        free(tmp);
        return OAB_EIO;
    }
    if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        free(tmp);
        return OAB_EIO;
    }
    free(tmp);
    return OAB_OK;
}

oab_status oab__read_file(const char *path, char **out, size_t *len_out)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return OAB_EIO;
    oab__buf b = OAB__BUF_INIT;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (oab__buf_append(&b, chunk, n) != OAB_OK) {
            fclose(f);
            oab__buf_free(&b);
            return OAB_ENOMEM;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        oab__buf_free(&b);
        return OAB_EIO;
    }
    *out = oab__buf_take(&b, len_out);
    return *out ? OAB_OK : OAB_ENOMEM;
}
