/* parlines.h - the lines of a file worked on by several threads, the
 * results merged in file order.
 *
 * The calling thread reads the file (cli_read_lines: a path or "-", the
 * library's JSONL reader with its line numbers, BOM and CRLF handling)
 * and hands the lines out in batches of about 1 MiB to worker threads;
 * each batch has its own state, which a worker fills line by line and
 * the calling thread merges into the result, batch by batch in file
 * order. So the result, and the first error, are those of one thread
 * reading the whole file. Used by `estimate` (and so by submit's and
 * run's cost check) and `tokens`. */
#ifndef OAB_CLI_PARLINES_H
#define OAB_CLI_PARLINES_H

#include "cli.h"

typedef struct cli_par_ops {
    /* Bytes of one batch's state; each state starts zeroed. */
    size_t state_size;
    /* On a worker thread: one line of the batch into its state. Non-zero
     * stops the batch there (the state says why, for merge). */
    int (*line)(void *state, const char *line, size_t len, long lineno,
                void *ud);
    /* On the calling thread, batch by batch in file order: merges the
     * state into the result, frees what the state holds and leaves it
     * zeroed for the next batch. Non-zero stops the run (the batch had
     * an error, or writing failed): the batches after it are discarded. */
    int (*merge)(void *state, void *ud);
    /* Frees what a state holds without merging it (a batch after a stop)
     * and leaves it zeroed. */
    void (*discard)(void *state, void *ud);
    void *ud;
} cli_par_ops;

/* How many worker threads to use by default: the machine's online CPUs,
 * at most 8. */
int cli_par_default_threads(void);

/* Runs ops over the lines of `path` with `threads` workers (<= 1: on the
 * calling thread alone, no thread started; also when none can start). OAB_OK; OAB_ESTOPPED when
 * line or merge stopped it; else the reader's status with err set (a
 * missing file, a line too long), or OAB_ENOMEM. */
oab_status cli_par_lines(const char *path, int threads,
                         const cli_par_ops *ops, oab_error *err);

#endif
