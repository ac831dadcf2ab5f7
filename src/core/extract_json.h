/* core/extract_json.h - finding the JSON value in a model's text answer
 * (core/extract_json.c). Internal. */
#ifndef OAB_CORE_EXTRACT_JSON_H
#define OAB_CORE_EXTRACT_JSON_H

#include "oaibatch.h"
#include <cjson/cJSON.h>
#include <stddef.h>

/* Extracts a JSON value from model text: the whole text, or inside
 * Markdown code fences, or the first balanced {...} / [...]. NULL if none. */
cJSON *oab__extract_json(const char *text, size_t len);
/* The same, telling "none found" (OAB_OK, *out NULL) from running out of
 * memory (OAB_ENOMEM, *out NULL). */
oab_status oab__extract_json_st(cJSON **out, const char *text, size_t len);

#endif
