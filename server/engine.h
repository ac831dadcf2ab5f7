/* engine.h - the batch engine (engine.c): validates input files, runs the
 * lines of every active batch, writes the output and error files. */
#ifndef OAB_SERVER_ENGINE_H
#define OAB_SERVER_ENGINE_H

#include "srv.h"

/* Starts the engine thread (its own database connection). 0 or -1. */
int srv_engine_start(srv *s);
/* Makes the engine rescan the batches table now. */
void srv_engine_wake(srv *s);
/* Stops the engine (s->stop) and waits for it. */
void srv_engine_join(srv *s);

#endif
