/* outfile.c - -o PATH: atomic for regular files, written through for
 * everything else (see outfile.h). */
/* realpath */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700
#endif
#include "oaibatch.h"
#include "util/str.h"
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Paths of the system's special files (/dev/stdout, /proc/self/fd/1):
 * they stand for an open file, which is written through. */
static int special_path(const char *p)
{
    return strncmp(p, "/dev/", 5) == 0 || strncmp(p, "/proc/", 6) == 0;
}

/* 1 when the symlink at p points straight at a special path. */
static int links_to_special(const char *p)
{
    char buf[PATH_MAX];
    ssize_t n = readlink(p, buf, sizeof buf - 1);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    return special_path(buf);
}

/* Decides how PATH is written: *final set (malloc'd) for a file to
 * replace, NULL to write through. 0, or -1 with errno. */
static int plan(const char *path, char **final, mode_t *mode, int *exists)
{
    *final = NULL;
    *exists = 0;
    struct stat ls, st;
    if (special_path(path))
        return 0;
    if (lstat(path, &ls) != 0) {
        if (errno != ENOENT)
            return -1;
        *final = oab__strdup(path); /* a new file */
        return *final ? 0 : (errno = ENOMEM, -1);
    }
    if (S_ISLNK(ls.st_mode)) {
        if (stat(path, &st) != 0)
            return errno == ENOENT ? 0 : -1; /* dangling: through */
        if (S_ISDIR(st.st_mode))
            return errno = EISDIR, -1;
        if (!S_ISREG(st.st_mode) || links_to_special(path))
            return 0;
        *final = realpath(path, NULL);
        if (!*final)
            return -1;
    } else if (S_ISDIR(ls.st_mode)) {
        return errno = EISDIR, -1;
    } else if (!S_ISREG(ls.st_mode)) {
        return 0; /* FIFO, device, socket: through */
    } else {
        st = ls;
        *final = oab__strdup(path);
        if (!*final)
            return errno = ENOMEM, -1;
    }
    *exists = 1;
    *mode = st.st_mode & 07777;
    return 0;
}

/* A temporary file beside `final`, with the mode the result should have. */
static int open_tmp(cli_outfile *of, mode_t mode, int exists)
{
    const char *slash = strrchr(of->final, '/');
    of->tmp = slash ? oab__sprintf("%.*s/.%s.XXXXXX", (int)(slash - of->final),
                                   of->final, slash + 1)
                    : oab__sprintf(".%s.XXXXXX", of->final);
    if (!of->tmp)
        return errno = ENOMEM, -1;
    int fd = mkstemp(of->tmp);
    if (fd < 0) {
        free(of->tmp);
        of->tmp = NULL;
        return -1;
    }
    if (!exists) {
        mode_t um = umask(0);
        umask(um);
        mode = 0666 & ~um;
    }
    if (fchmod(fd, mode) != 0 || !(of->f = fdopen(fd, "w"))) {
        int e = errno;
        close(fd);
        unlink(of->tmp);
        free(of->tmp);
        of->tmp = NULL;
        return errno = e, -1;
    }
    return 0;
}

int cli_outfile_open(cli_ctx *ctx, cli_outfile *of, const char *path)
{
    memset(of, 0, sizeof *of);
    mode_t mode = 0;
    int exists = 0;
    of->path = oab__strdup(path);
    int r = of->path ? plan(path, &of->final, &mode, &exists) : -1;
    if (r == 0 && of->final)
        r = open_tmp(of, mode, exists);
    else if (r == 0)
        r = (of->f = fopen(path, "w")) ? 0 : -1;
    if (r != 0) {
        cli_error(ctx, "cannot write %s: %s", path, strerror(errno));
        free(of->path);
        free(of->final);
        memset(of, 0, sizeof *of);
        return CLI_EXIT_LOCAL;
    }
    return CLI_EXIT_OK;
}

void cli_outfile_abort(cli_outfile *of)
{
    if (of->f)
        fclose(of->f);
    if (of->tmp)
        unlink(of->tmp);
    free(of->tmp);
    free(of->final);
    free(of->path);
    memset(of, 0, sizeof *of);
}

int cli_outfile_close(cli_ctx *ctx, cli_outfile *of)
{
    int bad = fflush(of->f) != 0 || ferror(of->f);
    int e = bad ? errno : 0;
    if (!bad && of->tmp && fsync(fileno(of->f)) != 0) {
        bad = 1;
        e = errno;
    }
    if (fclose(of->f) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    of->f = NULL;
    if (!bad && of->tmp && rename(of->tmp, of->final) != 0) {
        bad = 1;
        e = errno;
    }
    if (!bad) {
        free(of->tmp); /* in place: nothing to remove */
        of->tmp = NULL;
    }
    if (bad && e != EPIPE)
        cli_error(ctx, "cannot write %s: %s", of->path,
                  strerror(e ? e : EIO));
    cli_outfile_abort(of);
    return bad ? CLI_EXIT_LOCAL : CLI_EXIT_OK;
}
