/* cmd_serve.c - `oaibatch serve`: hands over to the local server. */
#include "oaibatch.h"
#include "commands.h"

#include <string.h>

#ifdef OAB_HAVE_SERVER
#include "serve.h"
#endif

/* serve has its own options (server/): none to complete here */
const cli_opt cli_opts_serve[] = { { NULL, 0, 0, 0 } };

int cmd_serve(cli_ctx *ctx, int argc, char **argv)
{
#ifdef OAB_HAVE_SERVER
    (void)ctx;
    return srv_main(argc, argv);
#else
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return cli_print_help("serve");
    cli_error(ctx, "this build of oaibatch has no local server");
    return CLI_EXIT_USAGE;
#endif
}
