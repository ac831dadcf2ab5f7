/* api/anthropic.h - the Anthropic provider's transport (api/anthropic.c):
 * what the provider-neutral calls dispatch to when the client's provider
 * is OAB_PROVIDER_ANTHROPIC. Internal. */
#ifndef OAB_API_ANTHROPIC_H
#define OAB_API_ANTHROPIC_H

#include "oaibatch.h"
#include "core/result.h"

/* 1 when the client talks to Anthropic (0 for NULL). */
int oab__anth(const oab_client *c);

/* The validation limits of Anthropic's batches into vo (nothing for an
 * OpenAI client). */
void oab__anth_validate_limits(const oab_client *c, oab_validate_options *vo);

/* Create from validated JSONL (in memory, or a file read line by line):
 * every line translated, sent inline as one POST /v1/messages/batches;
 * the custom_id map kept on the client under the new batch's id. */
oab_status oab__anth_create_buffer(oab_client *c, oab_job **out, const char *jsonl,
                                   size_t len, const oab_batch_options *opts);
oab_status oab__anth_create_path(oab_client *c, oab_job **out, const char *path,
                                 const oab_batch_options *opts);

oab_status oab__anth_retrieve(oab_client *c, oab_job **out, const char *batch_id);
oab_status oab__anth_cancel(oab_client *c, oab_job **out, const char *batch_id);
oab_status oab__anth_list(oab_client *c, oab_job_list **out, int limit,
                          const char *before_id, const char *after_id);

/* Downloads the batch's results stream, translates every line to the
 * OpenAI shape and feeds them to R (succeeded lines as the output file,
 * the others as the error file). The caller finishes R. */
oab_status oab__anth_results(oab_client *c, const oab_job *job, oab__results *R,
                             const char *download_dir);

/* Frees the client's Anthropic state (the maps of its batches). */
void oab__anth_client_free(oab_client *c);

#endif
