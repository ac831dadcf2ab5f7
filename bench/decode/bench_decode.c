/* bench_decode.c - decodes a batch output file and its error file with
 * oab_results_stream_files, extracting output text, tool calls (arguments
 * parsed) and usage, and prints the same summary line as peer.py and
 * peer.js so the three can be compared. usage: bench_decode OUT [ERR] */
#include "oaibatch.h"

#include <stdio.h>

typedef struct counts {
    size_t outputs, tool_calls, args_ok;
} counts;

static int on_result(const oab_result *r, void *ud)
{
    counts *c = ud;
    if (r->output)
        c->outputs++;
    c->tool_calls += r->n_tool_calls;
    for (size_t i = 0; i < r->n_tool_calls; i++)
        c->args_ok += r->tool_calls[i].arguments_valid != 0;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_decode OUTPUT [ERROR]\n");
        return 2;
    }
    counts c = {0, 0, 0};
    oab_summary s;
    oab_error err;
    oab_status st = oab_results_stream_files(argv[1], argc > 2 ? argv[2] : NULL,
                                             NULL, on_result, &c, &s, &err);
    if (st != OAB_OK) {
        fprintf(stderr, "bench_decode: %s\n", err.message);
        return 1;
    }
    printf("results=%zu succeeded=%zu http_error=%zu error=%zu expired=%zu "
           "outputs=%zu tool_calls=%zu args_ok=%zu prompt=%lld completion=%lld "
           "total=%lld cached=%lld reasoning=%lld\n",
           s.total, s.by_status[OAB_RESULT_SUCCEEDED],
           s.by_status[OAB_RESULT_HTTP_ERROR], s.by_status[OAB_RESULT_ERROR],
           s.by_status[OAB_RESULT_EXPIRED], c.outputs, c.tool_calls, c.args_ok,
           s.usage.prompt_tokens, s.usage.completion_tokens,
           s.usage.total_tokens, s.usage.cached_tokens,
           s.usage.reasoning_tokens);
    return 0;
}
