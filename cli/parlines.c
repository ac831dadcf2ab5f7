/* parlines.c - see parlines.h.
 *
 * Batches live in a ring of 2 x threads slots, each with its buffer of
 * lines (kept between uses) and its state. A slot goes FREE -> READY
 * (filled by the reader) -> WORKING -> DONE (a worker) -> FREE (merged
 * by the reader, in sequence order). Workers take READY slots in
 * sequence order; the reader, before refilling a slot, merges every
 * DONE batch from the oldest on, waiting for the oldest when the ring is
 * full. One mutex and two condition variables guard the ring. With one
 * thread the ring has one slot and the reader runs each batch itself
 * when it is full: the same batches, merged the same way. */
#include "parlines.h"
#include "cmd_tokens.h"
#include "util/buf.h"
#include "util/err.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BATCH_BYTES (1u << 20)
#define BATCH_LINES 4096
#define MAX_THREADS 8

enum { FREE, READY, WORKING, DONE };

typedef struct line_at {
    size_t off, len;    /* the line: buf + off, len bytes */
    long lineno;
} line_at;

typedef struct slot {
    int state;
    int stopped;        /* line() stopped the batch */
    char *buf;          /* the lines, each followed by a NUL */
    size_t len, cap;
    line_at *at;
    size_t n, ncap;
    void *st;           /* the batch's state */
} slot;

typedef struct par {
    const cli_par_ops *ops;
    slot *slots;
    size_t nslots;
    unsigned long long filled;  /* batches handed out so far */
    unsigned long long taken;   /* next batch a worker takes */
    unsigned long long merged;  /* next batch to merge */
    int quit;                   /* workers leave when nothing is READY */
    atomic_int abort;           /* a stop: workers skip their lines */
    int failed;                 /* a line or merge stopped the run */
    int inline_work;            /* no workers: the reader runs batches */
    int nomem;                  /* a line could not be kept */
    pthread_mutex_t mu;
    pthread_cond_t work;        /* a slot became READY, or quit */
    pthread_cond_t done;        /* a slot became DONE */
} par;

int cli_par_default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        return 1;
    return n > MAX_THREADS ? MAX_THREADS : (int)n;
}

static void run_batch(par *p, slot *s)
{
    for (size_t k = 0; k < s->n && !s->stopped; k++) {
        if (p->abort)
            break;
        const line_at *a = &s->at[k];
        if (p->ops->line(s->st, s->buf + a->off, a->len, a->lineno,
                         p->ops->ud))
            s->stopped = 1;
    }
}

static void *worker(void *arg)
{
    par *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        slot *s = NULL;
        while (!s) {
            if (p->taken < p->filled) {
                s = &p->slots[p->taken % p->nslots];
                p->taken++;
            } else if (p->quit) {
                pthread_mutex_unlock(&p->mu);
                return NULL;
            } else {
                pthread_cond_wait(&p->work, &p->mu);
            }
        }
        s->state = WORKING;
        pthread_mutex_unlock(&p->mu);
        run_batch(p, s);
        pthread_mutex_lock(&p->mu);
        s->state = DONE;
        pthread_cond_broadcast(&p->done);
    }
}

/* Merges (or, after a stop, discards) the oldest batch; called with the
 * mutex held, which it drops while merging. */
static void merge_oldest(par *p)
{
    slot *s = &p->slots[p->merged % p->nslots];
    while (s->state != DONE)
        pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
    if (p->failed) {
        p->ops->discard(s->st, p->ops->ud);
    } else if (p->ops->merge(s->st, p->ops->ud)) {
        p->failed = 1;
    }
    s->stopped = 0;
    s->len = s->n = 0;
    pthread_mutex_lock(&p->mu);
    if (p->failed)
        p->abort = 1;
    s->state = FREE;
    p->merged++;
}

/* The slot being filled (sequence number p->filled). */
static slot *filling(par *p)
{
    return &p->slots[p->filled % p->nslots];
}

static void hand_out(par *p)
{
    if (p->inline_work) {
        filling(p)->state = WORKING;
        run_batch(p, filling(p));
        filling(p)->state = DONE;
    }
    pthread_mutex_lock(&p->mu);
    if (!p->inline_work)
        filling(p)->state = READY;
    p->filled++;
    pthread_cond_signal(&p->work);
    /* merge what is done; make sure the next slot is free */
    while (p->merged < p->filled &&
           (p->slots[p->merged % p->nslots].state == DONE ||
            filling(p)->state != FREE))
        merge_oldest(p);
    pthread_mutex_unlock(&p->mu);
}

static int append(slot *s, const char *line, size_t len, long lineno)
{
    line_at *a = oab__grow(s->at, &s->ncap, s->n, sizeof *s->at, 256);
    if (!a)
        return -1;
    s->at = a;
    if (s->len + len + 1 > s->cap) {
        size_t nc = s->cap ? s->cap : BATCH_BYTES + 4096;
        while (nc < s->len + len + 1)
            nc *= 2;
        char *b = realloc(s->buf, nc);
        if (!b)
            return -1;
        s->buf = b;
        s->cap = nc;
    }
    memcpy(s->buf + s->len, line, len);
    s->buf[s->len + len] = '\0';
    s->at[s->n++] = (line_at){ s->len, len, lineno };
    s->len += len + 1;
    return 0;
}

static int on_line(const char *line, size_t len, long lineno, void *ud)
{
    par *p = ud;
    slot *s = filling(p);
    if (append(s, line, len, lineno) != 0) {
        p->nomem = 1;
        return 1; /* the batches before are still merged: an earlier
                   * line's error is the one to report */
    }
    if (s->len >= BATCH_BYTES || s->n >= BATCH_LINES)
        hand_out(p);
    return p->failed;
}

static void free_slots(par *p)
{
    for (size_t i = 0; i < p->nslots; i++) {
        free(p->slots[i].buf);
        free(p->slots[i].at);
        free(p->slots[i].st);
    }
    free(p->slots);
}

oab_status cli_par_lines(const char *path, int threads,
                         const cli_par_ops *ops, oab_error *err)
{
    if (threads > MAX_THREADS)
        threads = MAX_THREADS;
    if (threads < 1)
        threads = 1;
    par p;
    memset(&p, 0, sizeof p);
    p.ops = ops;
    p.nslots = threads > 1 ? 2 * (size_t)threads : 1;
    p.slots = calloc(p.nslots, sizeof *p.slots);
    int ok = p.slots != NULL;
    for (size_t i = 0; ok && i < p.nslots; i++)
        ok = (p.slots[i].st = calloc(1, ops->state_size ? ops->state_size
                                                         : 1)) != NULL;
    if (!ok) {
        if (p.slots)
            free_slots(&p);
        return oab__err(err, OAB_ENOMEM, 0, "out of memory");
    }
    pthread_mutex_init(&p.mu, NULL);
    pthread_cond_init(&p.work, NULL);
    pthread_cond_init(&p.done, NULL);
    pthread_t tid[MAX_THREADS];
    int started = 0;
    while (threads > 1 && started < threads &&
           pthread_create(&tid[started], NULL, worker, &p) == 0)
        started++;
    p.inline_work = started == 0; /* one thread, or none could start */
    /* A read error (a line too long, an I/O error) or running out of
     * memory ends the reading; the lines before it are still worked on
     * and merged, so that an error on an earlier line is the one
     * reported, as when one thread reads the file. */
    oab_status st = cli_read_lines(path, on_line, &p, err);
    if (filling(&p)->n && !p.failed)
        hand_out(&p);
    pthread_mutex_lock(&p.mu);
    while (p.merged < p.filled)
        merge_oldest(&p);
    p.quit = 1;
    pthread_cond_broadcast(&p.work);
    pthread_mutex_unlock(&p.mu);
    for (int i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
    pthread_cond_destroy(&p.work);
    pthread_cond_destroy(&p.done);
    pthread_mutex_destroy(&p.mu);
    /* every state is zeroed now: merged, discarded, or (the batch being
     * filled at a stop) never worked on */
    int failed = p.failed, nomem = p.nomem;
    free_slots(&p);
    if (failed)
        return OAB_ESTOPPED; /* a line's error, or merge's */
    if (nomem)
        return oab__err(err, OAB_ENOMEM, 0, "out of memory");
    return st;
}
