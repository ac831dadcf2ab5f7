/* core/request.h - helpers shared by the request area (request.c,
 * jsonl_writer.c, validate.c, split.c, create_job_requests.c). Internal. */
#ifndef OAB_CORE_REQUEST_H
#define OAB_CORE_REQUEST_H

#include "oaibatch.h"

/* The line of a request and where its body starts (the '{' after
 * "body":); the body runs to the line's last byte but one. */
const char *oab__request_line(const oab_request *req, size_t *len,
                              size_t *body_off);

/* Appends `len` bytes as one line plus "\n", unchecked (the splitter
 * copies input lines as they are). */
oab_status oab__jsonl_write_raw(oab_jsonl_writer *w, const char *line,
                                size_t len);

#endif
