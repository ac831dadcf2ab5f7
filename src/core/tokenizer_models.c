/* tokenizer_models.c - which encoding a model uses, as tiktoken's
 * model.py maps them (MODEL_TO_ENCODING, MODEL_PREFIX_TO_ENCODING). */
#include "core/expect.h"
#include "core/tokenizer.h"
#include "util/err.h"

#include <string.h>

static const struct {
    const char *name;
    const char *encoding;
} exact[] = {
    { "o1", "o200k_base" },
    { "o3", "o200k_base" },
    { "o4-mini", "o200k_base" },
    { "gpt-5", "o200k_base" },
    { "gpt-4.1", "o200k_base" },
    { "gpt-4o", "o200k_base" },
    { "gpt-4", "cl100k_base" },
    { "gpt-3.5-turbo", "cl100k_base" },
    { "gpt-3.5", "cl100k_base" },
    { "gpt-35-turbo", "cl100k_base" },
    { "davinci-002", "cl100k_base" },
    { "babbage-002", "cl100k_base" },
    { "text-embedding-ada-002", "cl100k_base" },
    { "text-embedding-3-small", "cl100k_base" },
    { "text-embedding-3-large", "cl100k_base" },
};

/* The longest matching prefix wins ("gpt-4o-" over "gpt-4-"). */
static const struct {
    const char *prefix;
    const char *encoding;
} prefixes[] = {
    { "o1-", "o200k_base" },
    { "o3-", "o200k_base" },
    { "o4-mini-", "o200k_base" },
    { "gpt-5-", "o200k_base" },
    { "gpt-5.", "o200k_base" },
    { "gpt-4.5-", "o200k_base" },
    { "gpt-4.1-", "o200k_base" },
    { "chatgpt-4o-", "o200k_base" },
    { "gpt-4o-", "o200k_base" },
    { "gpt-4-", "cl100k_base" },
    { "gpt-3.5-turbo-", "cl100k_base" },
    { "gpt-35-turbo-", "cl100k_base" },
    { "ft:gpt-4o", "o200k_base" },
    { "ft:gpt-4.1", "o200k_base" },
    { "ft:gpt-4", "cl100k_base" },
    { "ft:gpt-3.5-turbo", "cl100k_base" },
    { "ft:davinci-002", "cl100k_base" },
    { "ft:babbage-002", "cl100k_base" },
};

oab_status oab_encoding_for_model(const char **out, const char *model,
                                  const char *fallback, oab_error *err)
{
    if (!out)
        return oab__err(err, OAB_EINVAL, 0, "out is NULL");
    *out = NULL;
    const char *m = oab__model_name(model);
    if (m) {
        for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
            if (strcmp(exact[i].name, m) == 0) {
                *out = exact[i].encoding;
                return OAB_OK;
            }
        size_t best = 0;
        for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
            size_t k = strlen(prefixes[i].prefix);
            if (k > best && strncmp(prefixes[i].prefix, m, k) == 0) {
                best = k;
                *out = prefixes[i].encoding;
            }
        }
        if (*out)
            return OAB_OK;
    }
    if (fallback) {
        const oab__encoding *e = oab__encoding_find(fallback);
        if (!e)
            return oab__err(err, OAB_EINVAL, 0,
                            "unknown fallback encoding '%s'", fallback);
        *out = e->name;
        return OAB_OK;
    }
    return oab__err(err, OAB_EINVAL, 0,
                    "model '%s': its encoding is not known (give an "
                    "encoding explicitly)", model ? model : "(null)");
}
