/* requests.c - building request lines: options, messages, tools, other
 * endpoints. Prints each line of JSONL; no network. */
#include <stdio.h>

#include <oaibatch.h>

static int print_line(const oab_request *req)
{
    char *line = NULL;
    if (oab_request_to_json(req, &line) != OAB_OK)
        return 1;
    printf("%s\n", line);
    oab_free(line);
    return 0;
}

int main(void)
{
    oab_request *req = NULL;
    oab_error err;
    int rc = 0;

    /* A plain chat request: unset options are left out of the line. */
    {
        oab_chat_options o = OAB_CHAT_OPTIONS_INIT;
        o.model = "gpt-4o-mini";
        o.system_prompt = "Answer in one sentence.";
        o.max_tokens = 75;
        o.temperature = 0.2;
        o.has_seed = 1;
        o.seed = 42;
        if (oab_chat_request_new(&req, "explanation",
                                 "Explain quantum computing", &o,
                                 &err) != OAB_OK) {
            fprintf(stderr, "%s\n", err.message);
            return 1;
        }
        rc |= print_line(req);
        oab_request_free(req);
    }

    /* Tools: name, description, parameters (JSON Schema), strict. */
    {
        static const oab_tool tools[] = {
            {"get_weather", "Get current weather information for a location.",
             "{\"type\":\"object\",\"properties\":{"
             "\"location\":{\"type\":\"string\"},"
             "\"units\":{\"type\":\"string\",\"default\":\"celsius\"}},"
             "\"required\":[\"location\"]}",
             0},
        };
        oab_chat_options o = OAB_CHAT_OPTIONS_INIT;
        o.model = "gpt-4o-mini";
        o.tools = tools;
        o.n_tools = 1;
        o.tool_choice = OAB_TOOL_CHOICE_AUTO; /* or REQUIRED, NONE, FUNCTION */
        o.parallel_tool_calls = 0;
        o.max_tokens = 150;
        if (oab_chat_request_new(&req, "weather-tokyo",
                                 "What's the weather like in Tokyo?", &o,
                                 &err) != OAB_OK) {
            fprintf(stderr, "%s\n", err.message);
            return 1;
        }
        rc |= print_line(req);
        oab_request_free(req);
    }

    /* A whole conversation, with an image part; extra body fields. */
    {
        oab_message msgs[2] = {{0}, {0}};
        oab_chat_options o = OAB_CHAT_OPTIONS_INIT;
        msgs[0].role = "developer";
        msgs[0].content = "Describe images briefly.";
        msgs[1].role = "user";
        msgs[1].content_json =
            "[{\"type\":\"text\",\"text\":\"What is in this image?\"},"
            "{\"type\":\"image_url\",\"image_url\":"
            "{\"url\":\"https://example.com/cat.png\"}}]";
        o.model = "gpt-4o-mini";
        o.messages = msgs;
        o.n_messages = 2;
        o.max_completion_tokens = 100;
        o.extra_body_json = "{\"service_tier\":\"default\"}";
        if (oab_chat_request_new(&req, "image-1", NULL, &o, &err) != OAB_OK) {
            fprintf(stderr, "%s\n", err.message);
            return 1;
        }
        rc |= print_line(req);
        oab_request_free(req);
    }

    /* /v1/responses and /v1/embeddings lines (one endpoint per batch). */
    {
        oab_responses_options o = OAB_RESPONSES_OPTIONS_INIT;
        const char *inputs[] = {"first text", "second text"};
        o.model = "gpt-4o-mini";
        o.instructions = "Be brief.";
        o.max_output_tokens = 100;
        if (oab_responses_request_new(&req, "resp-1", "Hello", &o, &err) !=
            OAB_OK) {
            fprintf(stderr, "%s\n", err.message);
            return 1;
        }
        rc |= print_line(req);
        oab_request_free(req);
        if (oab_embeddings_request_new(&req, "emb-1", "text-embedding-3-small",
                                       inputs, 2, 256, &err) != OAB_OK) {
            fprintf(stderr, "%s\n", err.message);
            return 1;
        }
        rc |= print_line(req);
        oab_request_free(req);
    }
    return rc;
}
