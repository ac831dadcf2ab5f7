/* Compiled alone with -std=c11 -pedantic -Werror: the public header must
 * stand on its own. */
#include "oaibatch.h"
#include "oaibatch.h" /* and include twice */

int headertest_dummy(void);
int headertest_dummy(void)
{
    oab_client_options o = OAB_CLIENT_OPTIONS_INIT;
    oab_batch_options b = OAB_BATCH_OPTIONS_INIT;
    oab_wait_options w = OAB_WAIT_OPTIONS_INIT;
    oab_chat_options c = OAB_CHAT_OPTIONS_INIT;
    oab_responses_options r = OAB_RESPONSES_OPTIONS_INIT;
    oab_validate_options v = OAB_VALIDATE_OPTIONS_INIT;
    oab_split_options s = OAB_SPLIT_OPTIONS_INIT;
    oab_results_options q = OAB_RESULTS_OPTIONS_INIT;
    (void)o; (void)b; (void)w; (void)c; (void)r; (void)v; (void)s; (void)q;
    return OAB_OK;
}
