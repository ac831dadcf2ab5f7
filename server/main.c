/* main.c - the stand-alone `oaibatch-server` executable. */
#include "oaibatch.h"
#include "serve.h"

int main(int argc, char **argv)
{
    (void)argc;
    char serve[] = "serve";
    if (argc > 0)
        argv[0] = serve;
    return srv_main(argc, argv);
}
