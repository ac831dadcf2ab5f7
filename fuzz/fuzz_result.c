/* fuzz_result.c - the library's result decoder on any output/error line,
 * without and with a structured-output expectation. */
#include "oaibatch.h"

#include <stdint.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static oab_schema *schema; /* made once, reachable until exit */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return oab_schema_new(&schema, "x", NULL,
                          "{\"type\":\"object\",\"properties\":{\"a\":"
                          "{\"type\":\"string\"}},\"required\":[\"a\"]}",
                          1, NULL) == OAB_OK ? 0 : 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    oab_result *r = NULL;
    oab_result_parse(&r, (const char *)data, size, 1, NULL);
    oab_result_free(r);
    oab_expect ex = {schema, OAB_OUTPUT_NATIVE};
    r = NULL;
    oab_result_parse(&r, (const char *)data, size, 1, &ex);
    oab_result_free(r);
    return 0;
}
