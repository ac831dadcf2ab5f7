/* lease.h - a node's heartbeat on shared state (PostgreSQL): a thread of
 * its own, on a connection of its own, renews the node's leases every
 * third of a lease (srv_db_renew).
 *
 * The leases say "this node is alive": its row in nodes (which its
 * lines' and webhook attempts' claims hang on) and its finalizer claims.
 * They were renewed by the engine's scan, on the engine's connection, so
 * a statement of the engine's longer than a lease (the finalization of a
 * big batch, writing its files from the database; its validation's
 * COPY) let them lapse while the node worked: another node took the
 * finalization, did the same, and lost it the same way. Here nothing the
 * engine does holds the renewal; a node that stops (SIGSTOP, a machine
 * that hangs) or dies stops renewing with it, so a node whose leases
 * lapse is one that no longer runs.
 *
 * The renewal says "this node's engine goes on", too: the engine ticks
 * (srv_lease_tick) at every turn of its loop, and an engine that has not
 * turned for the stall limit (60 renewal periods, 20 leases: 10 minutes
 * with the 30 s lease; OAB_PG_STALL_S seconds for tests) is taken to be
 * stuck (a statement that never returns, a lock another session never
 * lets go): its node's renewals stop, so its leases lapse and the other
 * nodes take its lines and finalizations, rather than wait on it for as
 * long as it is stuck. They start again when it ticks again (what it
 * records meanwhile is fenced, as for a node that stopped). Said in the
 * log both times. */
#ifndef OAB_SERVER_LEASE_H
#define OAB_SERVER_LEASE_H

#include "db.h"

typedef struct srv_lease srv_lease;

/* Opens a connection of its own to db's shared state
 * (srv_db_open_side), names it node (its claims are not released: they
 * are the engine's; the node is marked live before this returns) and
 * starts the thread. Returns 0 and *out (free with srv_lease_stop), or
 * -1 (logged: connection, out of memory, thread). A renewal the database
 * refuses is logged and tried again at the next one; the connection
 * reconnects by itself. */
int srv_lease_start(const srv_db *db, const char *node, srv_lease **out);

/* The engine went round its loop once more (any thread; a store of the
 * time, no lock). NULL: nothing. */
void srv_lease_tick(srv_lease *l);

/* Stops the thread (at once, even mid-wait; a renewal in flight ends
 * first) and closes its connection. Call before the node leaves
 * (srv_db_node_leave), or the thread could mark it live again. NULL:
 * nothing. */
void srv_lease_stop(srv_lease *l);

#endif
