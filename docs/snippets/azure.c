/* azure.c - a client for Azure OpenAI. The rest of the API is the same. */
#include <stdio.h>
#include <stdlib.h>

#include <oaibatch.h>

int main(void)
{
    oab_client_options o = OAB_CLIENT_OPTIONS_INIT;
    oab_client *client = NULL;
    oab_status st;

    o.azure = 1;                    /* api-key header, api-version query */
    o.base_url = getenv("AZURE_OPENAI_ENDPOINT"); /* https://NAME.openai.azure.com/openai */
    o.azure_api_version = "2024-10-21";
    /* o.api_key NULL: taken from $AZURE_OPENAI_API_KEY */
    st = oab_client_new(&client, &o);
    if (st != OAB_OK) {
        fprintf(stderr, "client: %s\n", oab_strerror(st));
        return 1;
    }
    printf("using %s\n", oab_client_base_url(client));
    /* The model of each request is the name of an Azure deployment of the
     * "Global-Batch" type; the endpoint stays "/v1/chat/completions". */
    oab_client_free(client);
    return 0;
}
