/* tools.c - the seed's "Using Tools", carried through to the answers.
 *
 * 1. Submits three requests that offer two tools (get_weather, calculate)
 *    and prints the batch id, as the seed does.
 * 2. Waits, then answers every tool call the model made with the local
 *    implementations (weather_tools.c; the calculator parses arithmetic and
 *    never runs the text).
 * 3. Sends the tool results back in a second batch (the conversation so
 *    far, the assistant's tool calls and one "tool" message per call) and
 *    prints the model's final answers.
 *
 *   $ ./tools
 *   Batch with tools submitted: batch_abc123
 *
 *   weather-tokyo:
 *     get_weather({"location":"Tokyo"}) -> Weather in Tokyo: 22°C, sunny, 60% humidity
 *   ...
 *   Follow-up batch submitted: batch_def456
 *
 *   weather-tokyo-answer:
 *     Answer: It is 22°C and sunny in Tokyo.
 *
 * With --no-wait it stops after step 1 (read the calls later with
 * ./tool_results BATCH_ID). Exit status 0 when every step worked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "oaibatch.h"
#include "weather_tools.h"

#define N_REQ 3

static const struct {
    const char *custom_id;
    const char *prompt;
    long max_tokens;
} seed[N_REQ] = {
    {"weather-tokyo", "What's the weather like in Tokyo?", 150},
    {"calculation", "Calculate 15 * 23 + 7", 100},
    {"weather-london", "Get weather for London, UK in fahrenheit", 150},
};

static int seed_index(const char *custom_id)
{
    int i;
    for (i = 0; i < N_REQ; i++)
        if (custom_id && strcmp(seed[i].custom_id, custom_id) == 0)
            return i;
    return -1;
}

/* The assistant's tool_calls as the API returned them, as a JSON array. */
static char *tool_calls_json(const oab_result *r)
{
    ex_str s = {NULL, 0, 0};
    size_t i;
    int ok = ex_str_puts(&s, "[");

    for (i = 0; ok && i < r->n_tool_calls; i++) {
        const oab_tool_call *tc = &r->tool_calls[i];
        ok = ex_str_puts(&s, i ? ",{\"id\":" : "{\"id\":") &&
             ex_str_quote(&s, tc->id) &&
             ex_str_puts(&s, ",\"type\":\"function\",\"function\":{\"name\":") &&
             ex_str_quote(&s, tc->name) &&
             ex_str_puts(&s, ",\"arguments\":") &&
             ex_str_quote(&s, tc->arguments ? tc->arguments : "{}") &&
             ex_str_puts(&s, "}}");
    }
    if (!ok || !ex_str_puts(&s, "]")) {
        free(s.data);
        return NULL;
    }
    return s.data;
}

/* Answers the tool calls of one result and builds the follow-up request:
 * user prompt, assistant tool calls, one tool message per call. */
static oab_status follow_up(const oab_result *r, oab_request **out)
{
    oab_message msgs[2 + 16];
    char answers[16][512];
    char custom_id[128];
    oab_chat_options o = OAB_CHAT_OPTIONS_INIT;
    oab_error err;
    oab_status st;
    char *calls;
    size_t i, n = 0;
    int k = seed_index(r->custom_id);

    if (k < 0 || r->n_tool_calls > 16) {
        fprintf(stderr, "error: %s: unexpected result (%zu tool calls)\n",
                r->custom_id ? r->custom_id : "?", r->n_tool_calls);
        return OAB_EINVAL;
    }
    if (!(calls = tool_calls_json(r)))
        return OAB_ENOMEM;
    memset(msgs, 0, sizeof msgs);
    msgs[n].role = "user";
    msgs[n++].content = seed[k].prompt;
    msgs[n].role = "assistant";
    msgs[n++].tool_calls_json = calls;
    for (i = 0; i < r->n_tool_calls; i++) {
        const oab_tool_call *tc = &r->tool_calls[i];
        if (!tc->arguments_valid)
            snprintf(answers[i], sizeof answers[i],
                     "Error: the arguments are not a JSON object");
        else
            ex_run_tool(tc->name, tc->arguments, answers[i],
                        sizeof answers[i]);
        printf("  %s(%s) -> %s\n", tc->name ? tc->name : "?",
               tc->arguments ? tc->arguments : "", answers[i]);
        msgs[n].role = "tool";
        msgs[n].tool_call_id = tc->id;
        msgs[n++].content = answers[i];
    }

    o.model = ex_model();
    o.messages = msgs;
    o.n_messages = n;
    o.tools = ex_tools;
    o.n_tools = EX_N_TOOLS;
    o.max_tokens = seed[k].max_tokens;
    snprintf(custom_id, sizeof custom_id, "%s-answer", r->custom_id);
    st = oab_chat_request_new(out, custom_id, NULL, &o, &err);
    if (st != OAB_OK)
        fprintf(stderr, "error: building %s: %s\n", custom_id, err.message);
    free(calls);
    return st;
}

static oab_status submit_and_wait(oab_client *c, oab_request **reqs, size_t n,
                                  const char *label, oab_result_set **out)
{
    oab_job *job = NULL, *done = NULL;
    oab_status st = oab_batch_create_job(c, &job, reqs, n, NULL);

    if (st != OAB_OK) {
        ex_fail(c, "creating the batch", st);
        return st;
    }
    printf("%s: %s\n", label, job->id);
    fflush(stdout);
    if (out) {
        st = ex_wait(c, job->id, &done);
        if (st == OAB_OK) {
            st = oab_batch_retrieve_job(c, out, job->id, NULL);
            if (st != OAB_OK)
                ex_fail(c, "reading the results", st);
        }
    }
    oab_job_free(done);
    oab_job_free(job);
    return st;
}

int main(int argc, char **argv)
{
    oab_client *c;
    oab_request *reqs[N_REQ] = {NULL, NULL, NULL};
    oab_request *next[N_REQ] = {NULL, NULL, NULL};
    oab_result_set *first = NULL, *second = NULL;
    oab_chat_options o = OAB_CHAT_OPTIONS_INIT;
    oab_error err;
    size_t i, n_next = 0;
    int no_wait = argc == 2 && strcmp(argv[1], "--no-wait") == 0;
    int rc = 1;

    if (argc > 1 + no_wait) {
        fprintf(stderr, "usage: %s [--no-wait]\n", argv[0]);
        return 2;
    }
    if (!(c = ex_client()))
        return 1;

    o.model = ex_model();
    o.tools = ex_tools;
    o.n_tools = EX_N_TOOLS;
    for (i = 0; i < N_REQ; i++) {
        o.max_tokens = seed[i].max_tokens;
        if (oab_chat_request_new(&reqs[i], seed[i].custom_id, seed[i].prompt,
                                 &o, &err) != OAB_OK) {
            fprintf(stderr, "error: building %s: %s\n", seed[i].custom_id,
                    err.message);
            goto done;
        }
    }

    if (submit_and_wait(c, reqs, N_REQ, "Batch with tools submitted",
                        no_wait ? NULL : &first) != OAB_OK)
        goto done;
    if (no_wait) {
        rc = 0;
        goto done;
    }

    rc = 0;
    for (i = 0; i < first->n; i++) {
        const oab_result *r = first->items[i];
        printf("\n%s:\n", r->custom_id ? r->custom_id : "?");
        if (r->status != OAB_RESULT_SUCCEEDED) {
            printf("  Error: %s: %s\n", oab_result_status_str(r->status),
                   r->error_message ? r->error_message : "");
            rc = 1;
        } else if (r->n_tool_calls > 0) {
            if (follow_up(r, &next[n_next]) != OAB_OK) {
                rc = 1;
                goto done;
            }
            n_next++;
        } else {
            printf("  Response: %s\n", r->output ? r->output : "");
        }
    }

    if (n_next < 2) {
        /* a batch needs two requests or more */
        printf("\n%zu request(s) need a follow-up: too few for a batch.\n",
               n_next);
        goto done;
    }
    printf("\n");
    if (submit_and_wait(c, next, n_next, "Follow-up batch submitted",
                        &second) != OAB_OK) {
        rc = 1;
        goto done;
    }
    for (i = 0; i < second->n; i++) {
        const oab_result *r = second->items[i];
        printf("\n%s:\n", r->custom_id ? r->custom_id : "?");
        if (r->status != OAB_RESULT_SUCCEEDED) {
            printf("  Error: %s: %s\n", oab_result_status_str(r->status),
                   r->error_message ? r->error_message : "");
            rc = 1;
        } else if (r->output) {
            printf("  Answer: %s\n", r->output);
        } else {
            printf("  Made %zu more tool calls\n", r->n_tool_calls);
        }
    }

done:
    for (i = 0; i < N_REQ; i++) {
        oab_request_free(reqs[i]);
        oab_request_free(next[i]);
    }
    oab_result_set_free(first);
    oab_result_set_free(second);
    oab_client_free(c);
    return rc;
}
