/* util/opts.h - the one check every entry point that takes an options
 * struct makes (the rule is in include/oaibatch.h, "Options structs").
 * Internal: util layer, no API knowledge. */
#ifndef OAB_UTIL_OPTS_H
#define OAB_UTIL_OPTS_H

#include "oaibatch.h"

/* OAB_OK when `version` is what the struct's _INIT macro writes
 * (OAB_OPTIONS_MARK | want). Else OAB_EINVAL, and err (may be NULL) gets
 * a message naming the struct `name` ("oab_chat_options") and its macro
 * ("OAB_CHAT_OPTIONS_INIT", made from the name). */
oab_status oab__options_check(unsigned version, unsigned want,
                              const char *name, oab_error *err);

/* The check as written at an entry point: NULL options (all defaults)
 * pass; e.g.
 *     st = OAB__OPTIONS_CHECK(opts, OAB_SPLIT_OPTIONS_VERSION,
 *                             "oab_split_options", err);
 * (the client-side form, which puts the message in the client's error
 * detail, is OAB__CLIENT_OPTIONS_CHECK in api/http.h). */
#define OAB__OPTIONS_CHECK(opts, VERSION, name, err)                         \
    ((opts) ? oab__options_check((opts)->version, (VERSION), (name), (err)) \
            : OAB_OK)

#endif
