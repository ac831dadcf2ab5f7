/* opts.c - the options struct check (see util/opts.h). */
#include "oaibatch.h"
#include "util/err.h"
#include "util/opts.h"
#include <ctype.h>
#include <stdio.h>

#define MARK_MASK 0xFF00u

oab_status oab__options_check(unsigned version, unsigned want,
                              const char *name, oab_error *err)
{
    if (version == (OAB_OPTIONS_MARK | want))
        return OAB_OK;
    /* "oab_chat_options" -> "OAB_CHAT_OPTIONS_INIT" */
    char macro[64];
    size_t n = 0;
    for (; name[n] && n < sizeof macro - sizeof "_INIT"; n++)
        macro[n] = (char)toupper((unsigned char)name[n]);
    snprintf(macro + n, sizeof macro - n, "_INIT");
    if ((version & MARK_MASK) != OAB_OPTIONS_MARK)
        return oab__err(err, OAB_EINVAL, 0,
                        "%s: not set up with %s (version is %u; the macro "
                        "gives every field its unset value)",
                        name, macro, version);
    return oab__err(err, OAB_EINVAL, 0,
                    "%s: version %u is not this library's %u (set it up "
                    "with %s of the oaibatch.h the library was built with)",
                    name, version & ~MARK_MASK, want, macro);
}
