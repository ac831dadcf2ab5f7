/* sse.h - Server-Sent Events made from a whole answer (sse.c, I/O-free):
 * what OpenAI sends for `stream: true`, for the built-in model's chat
 * completions and responses. */
#ifndef OAB_SERVER_SSE_H
#define OAB_SERVER_SSE_H

#include <cjson/cJSON.h>
#include <stddef.h>

/* The event stream of a chat.completion `answer`: chat.completion.chunk
 * events (the role, the content or tool call in pieces, the finish
 * reason; a usage chunk when include_usage), then "data: [DONE]". New
 * text (*len bytes), NULL when out of memory. */
char *srv_sse_chat(const cJSON *answer, int include_usage, size_t *len);
/* The event stream of a `response` answer: response.created,
 * response.output_text.delta events (function_call_arguments.delta for
 * a tool call), response.completed. New text, NULL when out of memory. */
char *srv_sse_responses(const cJSON *answer, size_t *len);

#endif
