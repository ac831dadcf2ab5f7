/* serve.h - entry point of `oaibatch serve`, the local Files + Batches
 * API server (libmicrohttpd front end, SQLite state, curl multi engine). */
#ifndef OAB_SERVE_H
#define OAB_SERVE_H

/* Runs the server until SIGINT/SIGTERM. argv[0] is "serve"; the flags are
 * those of `oaibatch serve --help`. Returns the process exit code (0 after
 * a clean stop, 2 for bad flags, 1 when it could not start). Prints its
 * log lines to stderr, never a key. */
int srv_main(int argc, char **argv);

#endif
