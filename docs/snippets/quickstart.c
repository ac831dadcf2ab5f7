/* quickstart.c - submit two requests, wait, print the answers. */
#include <stdio.h>

#include <oaibatch.h>

int main(void)
{
    oab_client *client = NULL;
    oab_request *reqs[2] = {NULL, NULL};
    oab_result_set *results = NULL;
    oab_chat_options chat = OAB_CHAT_OPTIONS_INIT;
    oab_wait_options wait = OAB_WAIT_OPTIONS_INIT;
    oab_error err;
    oab_status st;
    size_t i;

    /* OPENAI_API_KEY and OPENAI_BASE_URL come from the environment */
    st = oab_client_new(&client, NULL);
    if (st != OAB_OK) {
        fprintf(stderr, "client: %s\n", oab_strerror(st));
        return 1;
    }

    chat.model = "gpt-4o-mini";
    chat.max_tokens = 50;
    st = oab_chat_request_new(&reqs[0], "math-question", "What is 2+2?",
                              &chat, &err);
    if (st == OAB_OK)
        st = oab_chat_request_new(&reqs[1], "haiku", "Write a haiku", &chat,
                                  &err);
    if (st != OAB_OK)
        fprintf(stderr, "request: %s\n", err.message);

    /* validate, upload, create, wait (at most 25 hours), read every line */
    wait.timeout_s = 25 * 3600;
    if (st == OAB_OK)
        st = oab_batch_run(client, &results, NULL, reqs, 2, NULL, &wait);
    if (st == OAB_OK) {
        for (i = 0; i < results->n; i++) {
            const oab_result *r = results->items[i];
            if (r->status == OAB_RESULT_SUCCEEDED)
                printf("%s: %s\n", r->custom_id, r->output ? r->output : "");
            else
                printf("%s: %s: %s\n", r->custom_id,
                       oab_result_status_str(r->status),
                       r->error_message ? r->error_message : "");
        }
    } else if (reqs[1]) {
        fprintf(stderr, "batch: %s\n", oab_client_errmsg(client));
    }

    oab_result_set_free(results);
    oab_request_free(reqs[0]);
    oab_request_free(reqs[1]);
    oab_client_free(client);
    return st == OAB_OK ? 0 : 1;
}
