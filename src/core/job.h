/* core/job.h - Batch and File objects parsed from JSON (core/job.c).
 * Internal. */
#ifndef OAB_CORE_JOB_H
#define OAB_CORE_JOB_H

#include "oaibatch.h"
#include <cjson/cJSON.h>
#include <stddef.h>

/* Builds an oab_job from a parsed Batch object; raw (raw_len bytes, may
 * be NULL) is kept as the job's JSON text. */
oab_status oab__job_from_cjson(oab_job **out, const cJSON *root,
                               const char *raw, size_t raw_len,
                               oab_error *err);

#endif
