/* core/anthropic.h - the I/O-free translation between OpenAI batch lines
 * and Anthropic's Message Batches (core/anthropic.c): what the transport
 * (api/anthropic.c) needs beyond the public functions. Internal. */
#ifndef OAB_CORE_ANTHROPIC_H
#define OAB_CORE_ANTHROPIC_H

#include "oaibatch.h"
#include <cjson/cJSON.h>

/* 1 when Anthropic accepts s as a custom_id: 1-64 of [A-Za-z0-9_-]. */
int oab__anthropic_id_ok(const char *s);

/* Sorts the map and checks that no sent id is there twice (OAB_EJSON
 * with the id named in err when one is). OAB_OK or OAB_ENOMEM too. */
oab_status oab__anthropic_map_finish(oab_anthropic_map *m, oab_error *err);

/* oab_anthropic_job_parse for an object already parsed; raw JSON kept
 * under "anthropic" in the job's raw_json. */
oab_status oab__anthropic_job_from_cjson(oab_job **out, const cJSON *obj,
                                         oab_error *err);

#endif
