/* status.c - status codes, enum strings, version, oab_free. */

#include "oaibatch.h"

#include <stdlib.h>
#include <string.h>

const char *oab_version(void)
{
    return OAB_VERSION_STRING;
}

const char *oab_strerror(oab_status code)
{
    switch (code) {
#define OAB_X_CASE(name, value, text) \
    case name:                        \
        return text;
        OAB_STATUS_TABLE(OAB_X_CASE)
#undef OAB_X_CASE
    default:
        return "unknown status";
    }
}

const char *oab_status_name(oab_status code)
{
    switch (code) {
#define OAB_X_CASE(name, value, text) \
    case name:                        \
        return #name;
        OAB_STATUS_TABLE(OAB_X_CASE)
#undef OAB_X_CASE
    default:
        return "OAB_UNKNOWN";
    }
}

void oab_free(void *ptr)
{
    free(ptr);
}

static const char *const batch_status_words[] = {
    "unknown",   "validating", "failed",    "in_progress", "finalizing",
    "completed", "expired",    "cancelling", "cancelled"};

const char *oab_batch_status_str(oab_batch_status s)
{
    if ((unsigned)s >= sizeof batch_status_words / sizeof *batch_status_words)
        return "unknown";
    return batch_status_words[s];
}

oab_batch_status oab_batch_status_from_str(const char *s)
{
    if (!s)
        return OAB_BATCH_UNKNOWN;
    for (size_t i = 1; i < sizeof batch_status_words / sizeof *batch_status_words;
         i++)
        if (strcmp(s, batch_status_words[i]) == 0)
            return (oab_batch_status)i;
    return OAB_BATCH_UNKNOWN;
}

int oab_batch_status_is_terminal(oab_batch_status s)
{
    return s == OAB_BATCH_FAILED || s == OAB_BATCH_COMPLETED ||
           s == OAB_BATCH_EXPIRED || s == OAB_BATCH_CANCELLED;
}

static const char *const mode_words[] = {"none", "native", "tool", "prompted"};

const char *oab_output_mode_str(oab_output_mode m)
{
    if ((unsigned)m >= 4)
        return "none";
    return mode_words[m];
}

oab_status oab_output_mode_from_str(oab_output_mode *out, const char *s)
{
    for (unsigned i = 0; s && i < 4; i++)
        if (strcmp(s, mode_words[i]) == 0) {
            *out = (oab_output_mode)i;
            return OAB_OK;
        }
    return OAB_EINVAL;
}

static const char *const result_words[OAB_RESULT_STATUS_COUNT] = {
    "succeeded",      "http_error", "error",     "expired", "cancelled",
    "invalid_output", "malformed",  "missing"};

const char *oab_result_status_str(oab_result_status s)
{
    if ((unsigned)s >= OAB_RESULT_STATUS_COUNT)
        return "unknown";
    return result_words[s];
}

oab_status oab_result_status_from_str(oab_result_status *out, const char *s)
{
    for (unsigned i = 0; s && i < OAB_RESULT_STATUS_COUNT; i++)
        if (strcmp(s, result_words[i]) == 0) {
            *out = (oab_result_status)i;
            return OAB_OK;
        }
    return OAB_EINVAL;
}
