/* fuzz_anthropic.c - the Anthropic translations on any bytes: the two
 * the server runs on what clients and upstreams send (Messages API params
 * of a message batch -> a chat body, a chat.completion -> a Message) and
 * the three the client runs on a user's lines and Anthropic's answers
 * (an OpenAI input line -> a Message Batch request, a results line -> an
 * OpenAI output line, a Message Batch object -> an oab_job), plus a
 * custom_id map read back from JSON. The first byte picks the
 * translation; what any of them answers with OAB_OK must be JSON. */
#include <cjson/cJSON.h>
#include "oaibatch.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts (a finding) when an answer of OAB_OK is not one JSON value. */
static void must_be_json(oab_status st, char *out)
{
    if (st == OAB_OK) {
        cJSON *j = out ? cJSON_Parse(out) : NULL;
        if (!j)
            abort();
        cJSON_Delete(j);
    } else if (out) {
        abort(); /* *out is NULL on error */
    }
    oab_free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    char *out = NULL;
    oab_error err;
    oab_anthropic_map *map = NULL;
    switch (data[0] % 6) {
    case 0:
        must_be_json(oab_anthropic_params_to_openai(&out, s, n, &err), out);
        break;
    case 1:
        must_be_json(oab_anthropic_message_from_openai(&out, s, n, &err),
                     out);
        break;
    case 2: {
        oab_anthropic_options o = OAB_ANTHROPIC_OPTIONS_INIT;
        o.default_max_tokens = data[0] & 0x80 ? 0 : 256;
        if (oab_anthropic_map_new(&map) != OAB_OK)
            return 0;
        must_be_json(oab_anthropic_request_from_openai(&out, s, n, 3, &o,
                                                       map, &err),
                     out);
        /* what the map recorded reads back */
        char *j = NULL;
        if (oab_anthropic_map_to_json(map, &j) == OAB_OK) {
            oab_anthropic_map *back = NULL;
            if (oab_anthropic_map_from_json(&back, j, strlen(j), &err) !=
                    OAB_OK ||
                oab_anthropic_map_count(back) != oab_anthropic_map_count(map))
                abort();
            oab_anthropic_map_free(back);
        }
        oab_free(j);
        break;
    }
    case 3: {
        int is_error = -1;
        must_be_json(oab_anthropic_result_to_openai(&out, &is_error, s, n, 7,
                                                    NULL, &err),
                     out);
        break;
    }
    case 4: {
        oab_job *job = NULL;
        oab_anthropic_job_parse(&job, s, n, &err);
        oab_job_free(job);
        break;
    }
    case 5:
        if (oab_anthropic_map_from_json(&map, s, n, &err) == OAB_OK) {
            /* a read map answers a result line through it */
            int is_error = 0;
            const char line[] = "{\"custom_id\":\"x\",\"result\":"
                                "{\"type\":\"canceled\"}}";
            must_be_json(oab_anthropic_result_to_openai(
                             &out, &is_error, line, sizeof line - 1, 1, map,
                             &err),
                         out);
            if (is_error != 1)
                abort();
        }
        break;
    }
    oab_anthropic_map_free(map);
    return 0;
}
