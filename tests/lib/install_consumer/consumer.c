/* Built against an installed oaibatch, by pkg-config and by CMake's
 * find_package: proves the installed header, libraries, oaibatch.pc and
 * oaibatchConfig.cmake work for a user. */
#include <oaibatch.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    oab_request *req = NULL;
    oab_chat_options o = OAB_CHAT_OPTIONS_INIT;
    o.model = "gpt-4o-mini";
    o.max_tokens = 50;
    if (oab_chat_request_new(&req, "math-question", "What is 2+2?", &o, NULL) != OAB_OK)
        return 1;
    char *line = NULL;
    if (oab_request_to_json(req, &line) != OAB_OK)
        return 1;
    int ok = strstr(line, "\"custom_id\":\"math-question\"") != NULL;
    printf("%s %s\n", oab_version(), line);
    oab_free(line);
    oab_request_free(req);
    return ok ? 0 : 1;
}
