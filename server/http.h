/* http.h - the HTTP front end (http.c, libmicrohttpd): the route table,
 * auth, the Files and Batches endpoints, the synchronous model calls. */
#ifndef OAB_SERVER_HTTP_H
#define OAB_SERVER_HTTP_H

#include "srv.h"

struct MHD_Daemon;
/* Listens on cfg.host:cfg.port; *port_out gets the bound port. NULL when
 * it cannot listen. */
struct MHD_Daemon *srv_http_start(srv *s, int *port_out);

/* 1 when a request with this Host header may be answered by a server
 * with no API keys: none sent (a client that is no browser), an IPv4 or
 * bracketed IPv6 address, localhost or a name under .localhost (which
 * browsers resolve to this machine themselves), or a name given with
 * --allow-host ("*": any), a port after any of them; compared without
 * case. Else 0: a page of another site whose name was made to resolve to
 * this machine (DNS rebinding) is same-origin to the browser, so neither
 * CORS nor Sec-Fetch-Site keeps it from a server with no keys. A server
 * with keys checks none (such a page has no key). */
int srv_host_allowed(const srv_config *cfg, const char *host);

#endif
