/* http.h - the HTTP front end (http.c, libmicrohttpd): the route table,
 * auth, the Files and Batches endpoints, the synchronous model calls. */
#ifndef OAB_SERVER_HTTP_H
#define OAB_SERVER_HTTP_H

#include "srv.h"

struct MHD_Daemon;
/* Listens on cfg.host:cfg.port; *port_out gets the bound port. NULL when
 * it cannot listen. */
struct MHD_Daemon *srv_http_start(srv *s, int *port_out);

#endif
