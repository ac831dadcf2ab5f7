/* recorder.h - shared state's finished lines recorded on a thread of
 * their own (recorder.c), so the engine goes on starting and reaping
 * lines while a group of finished lines makes its round trip to the
 * database (PostgreSQL).
 *
 * The recorder has its own connection, named as the engine's node (so
 * the fencing of srv_db_lines_done sees the engine's leases as its own).
 * It holds one group at a time: the engine hands one over when the
 * recorder is idle and gathers the next meanwhile. A group is recorded
 * with srv_db_lines_done, tried again with backoff while the database
 * fails (nothing is lost: the lines stay pending under this node's
 * lease until recorded, and the statement is exactly-once and fenced, so
 * a try that did commit before its answer was lost records nothing the
 * second time). The same thread also claims one batch's next lines
 * ahead (srv_recorder_claim_ask), so the engine waits for no claim
 * either. */
#ifndef OAB_SERVER_RECORDER_H
#define OAB_SERVER_RECORDER_H

#include <stddef.h>

#include "db.h"

typedef struct srv_recorder srv_recorder;

/* Opens a connection of its own to db's shared state
 * (srv_db_open_side), names it node (its claims are not released: they
 * are the engine's) and starts the thread. wake(ud) is called on that
 * thread after each group is recorded (the engine's loop waits on it for
 * a batch to finalize). Returns 0 and *out (free with
 * srv_recorder_stop), or -1 (logged: connection, out of memory,
 * thread). */
int srv_recorder_start(const srv_db *db, const char *node,
                       void (*wake)(void *ud), void *ud,
                       srv_recorder **out);

/* Hands over the *n finished lines of *v (capacity *cap) when the
 * recorder is idle: the arrays are swapped, so *v then holds the
 * recorder's empty one (its texts already freed) and *n is 0; the
 * recorder owns the lines and frees their texts once recorded. Returns
 * 1 when taken, 0 when the recorder is busy with a group (nothing
 * changes) or *n is 0. */
int srv_recorder_give(srv_recorder *r, srv_line_done **v, size_t *n,
                      size_t *cap);

/* Lines handed over and not recorded yet (0 when idle). */
size_t srv_recorder_pending(srv_recorder *r);

/* A claim ahead: asks the thread to claim (srv_db_lines_pending) up to
 * max lines of batch seq from idx from, before the engine needs them, so
 * the engine does not wait for that round trip either. One at a time;
 * it goes before a group waiting. Returns 1 when asked, 0 when a claim
 * is asked already (or max is out of 1..SRV_PAGE). */
int srv_recorder_claim_ask(srv_recorder *r, long long seq, long long from,
                           int max);
/* 1 when a claim is asked for batch seq (answered or not). */
int srv_recorder_claim_for(srv_recorder *r, long long seq);
/* Takes the answer of the claim asked, waiting for it: the lines into
 * idx/off/len (room for the max asked), *n how many (0: none pending
 * from there; idx, off and len all NULL: the answer is dropped, its
 * lines stay leased to this node, whose later claims of the batch take
 * them back). Returns its
 * srv_db_lines_pending result, SQLITE_MISUSE when none was asked. The
 * claim asked is then over. */
int srv_recorder_claim_take(srv_recorder *r, long long *idx, long long *off,
                            long long *len, int *n);

/* Stops the thread: a group in hand gets the try in progress (if any)
 * and no more; lines it could not record stay pending in the database
 * under this node's lease, as on a kill. Closes the connection and frees
 * r. NULL: nothing. */
void srv_recorder_stop(srv_recorder *r);

#endif
