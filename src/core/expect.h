/* core/expect.h - the structured-output contract between the request
 * builder, the result decoder and the built-in test model (core/expect.c).
 * Internal. */
#ifndef OAB_CORE_EXPECT_H
#define OAB_CORE_EXPECT_H

#include <cjson/cJSON.h>
#include "oaibatch.h"

/* Strips "openai:" (or any "provider:" prefix) from a model name. */
const char *oab__model_name(const char *model);

/* The system text the prompted mode adds, split around the schema:
 *   OAB__PROMPTED_PREFIX <compact schema JSON> OAB__PROMPTED_SUFFIX
 * Results and the built-in test model find the schema by this text. */
#define OAB__PROMPTED_PREFIX \
    "Always respond with a JSON object that's compatible with this schema:\n\n"
#define OAB__PROMPTED_SUFFIX \
    "\n\nDon't include any text or Markdown fencing before or after."

/* Finds the structured-output expectation in a request body (chat or
 * responses): native response_format/text.format, a forced function tool,
 * or the prompted system text. Returns a new cJSON schema (caller frees)
 * and sets *mode, or NULL with *mode = OAB_OUTPUT_NONE. For TOOL mode,
 * *tool_name (borrowed from body) names the forced function. */
cJSON *oab__expect_from_body(const cJSON *body, oab_output_mode *mode,
                             const char **tool_name);
/* The same, telling "no expectation" (OAB_OK, *out NULL) from running
 * out of memory (OAB_ENOMEM, *out NULL). */
oab_status oab__expect_from_body_st(cJSON **out, const cJSON *body,
                                    oab_output_mode *mode,
                                    const char **tool_name);

#endif
