/* tokenizer_files.c - finding and reading rank files, and a set of
 * tokenizers loaded on first use. The only file I/O of the tokenizer
 * module; parsing is in tokenizer.c. */
#include "core/tokenizer.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/str.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef OAB_DATADIR
#define OAB_DATADIR "/usr/local/share"
#endif

static int is_file(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

static oab_status load_path(oab_tokenizer **out, const char *encoding,
                            const char *path, oab_error *err)
{
    char *data = NULL;
    size_t len = 0;
    struct stat sb;
    if (stat(path, &sb) == 0 && sb.st_size > (off_t)OAB__RANK_FILE_MAX)
        return oab__err(err, OAB_ELIMIT, 0, "%s: larger than %u bytes", path,
                        OAB__RANK_FILE_MAX);
    errno = 0;
    oab_status st = oab__read_file(path, &data, &len);
    if (st == OAB_ENOMEM)
        return oab__err(err, st, 0, "%s: out of memory", path);
    if (st != OAB_OK)
        return oab__err(err, OAB_EIO, 0, "%s: cannot read the rank file: %s",
                        path, errno ? strerror(errno) : "I/O error");
    st = oab_tokenizer_load_buffer(out, encoding, data, len, path, err);
    free(data);
    return st;
}

/* The rank file of `encoding` in `dir` (NULL: the default lookup);
 * *path_out is a new string. OAB_EIO naming the places tried. */
static oab_status find_rank_file(char **path_out, const char *encoding,
                                 const char *dir, oab_error *err)
{
    *path_out = NULL;
    char *tried[3] = { NULL, NULL, NULL };
    size_t n = 0;
    const char *env = getenv(OAB_ENCODINGS_DIR_ENV);
    if (dir) {
        tried[n++] = oab__sprintf("%s/%s.tiktoken", dir, encoding);
    } else if (env && *env) {
        tried[n++] = oab__sprintf("%s/%s.tiktoken", env, encoding);
    } else {
        const char *xdg = getenv("XDG_DATA_HOME");
        const char *home = getenv("HOME");
        if (xdg && *xdg)
            tried[n++] = oab__sprintf("%s/oaibatch/encodings/%s.tiktoken", xdg,
                                      encoding);
        else if (home && *home)
            tried[n++] = oab__sprintf(
                "%s/.local/share/oaibatch/encodings/%s.tiktoken", home,
                encoding);
        tried[n++] = oab__sprintf("%s/oaibatch/encodings/%s.tiktoken",
                                  OAB_DATADIR, encoding);
    }
    oab_status st = OAB_EIO;
    for (size_t i = 0; i < n; i++) {
        if (!tried[i]) {
            st = OAB_ENOMEM;
            break;
        }
        if (is_file(tried[i])) {
            *path_out = tried[i];
            tried[i] = NULL;
            st = OAB_OK;
            break;
        }
    }
    if (st == OAB_EIO)
        oab__err(err, st, 0,
                 "%s: no rank file; tried %s%s%s (run "
                 "scripts/get-encodings.sh, or set " OAB_ENCODINGS_DIR_ENV ")",
                 encoding, tried[0], n > 1 ? ", " : "", n > 1 ? tried[1] : "");
    else if (st == OAB_ENOMEM)
        oab__err(err, st, 0, "out of memory");
    for (size_t i = 0; i < n; i++)
        free(tried[i]);
    return st;
}

/* Loads from `path`, else from the rank file found in `dir` (NULL: the
 * default lookup). */
static oab_status load_from(oab_tokenizer **out, const char *encoding,
                            const char *path, const char *dir,
                            oab_error *err)
{
    if (!out)
        return oab__err(err, OAB_EINVAL, 0, "out is NULL");
    *out = NULL;
    oab_status st = oab__encoding_check(encoding, err);
    if (st != OAB_OK || path)
        return st != OAB_OK ? st : load_path(out, encoding, path, err);
    char *found = NULL;
    if ((st = find_rank_file(&found, encoding, dir, err)) != OAB_OK)
        return st;
    st = load_path(out, encoding, found, err);
    free(found);
    return st;
}

oab_status oab_tokenizer_load(oab_tokenizer **out, const char *encoding,
                              const char *path, oab_error *err)
{
    return load_from(out, encoding, path, NULL, err);
}

/* ---- a set loaded on first use ---- */

#define SET_MAX 8

struct oab_tokenizers {
    char *dir;
    pthread_mutex_t mu;
    size_t n;
    oab_tokenizer *t[SET_MAX];
};

oab_status oab_tokenizers_new(oab_tokenizers **out, const char *dir)
{
    if (!out)
        return OAB_EINVAL;
    *out = NULL;
    oab_tokenizers *s = calloc(1, sizeof *s);
    if (!s)
        return OAB_ENOMEM;
    if (dir && !(s->dir = oab__strdup(dir))) {
        free(s);
        return OAB_ENOMEM;
    }
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        free(s->dir);
        free(s);
        return OAB_ENOMEM;
    }
    *out = s;
    return OAB_OK;
}

oab_status oab_tokenizers_get(const oab_tokenizer **out, oab_tokenizers *set,
                              const char *encoding, oab_error *err)
{
    if (!out || !set)
        return oab__err(err, OAB_EINVAL, 0, "out or set is NULL");
    *out = NULL;
    pthread_mutex_lock(&set->mu);
    oab_status st = OAB_OK;
    for (size_t i = 0; i < set->n && !*out; i++)
        if (encoding && strcmp(oab_tokenizer_encoding(set->t[i]), encoding) == 0)
            *out = set->t[i];
    if (!*out) {
        oab_tokenizer *t = NULL;
        st = load_from(&t, encoding, NULL, set->dir, err);
        if (st == OAB_OK && set->n == SET_MAX) {
            oab_tokenizer_free(t);
            st = oab__err(err, OAB_ELIMIT, 0, "more than %d encodings", SET_MAX);
        } else if (st == OAB_OK) {
            set->t[set->n++] = t;
            *out = t;
        }
    }
    pthread_mutex_unlock(&set->mu);
    return st;
}

void oab_tokenizers_free(oab_tokenizers *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->n; i++)
        oab_tokenizer_free(set->t[i]);
    pthread_mutex_destroy(&set->mu);
    free(set->dir);
    free(set);
}
