/* idset.c - the custom_id set (see util/idset.h). */

#include "util/idset.h"
#include <stdlib.h>
#include <string.h>

/* Keys live in chunks of at least this many bytes. */
#define CHUNK_MIN 65536
/* The slot table grows past 7 used slots in 10 (linear probing stays short). */
#define LOAD_NUM 7
#define LOAD_DEN 10

struct oab__idset_chunk {
    struct oab__idset_chunk *next;
    size_t used, cap;
    char data[];
};

uint64_t oab__fnv1a64(const void *s, size_t n)
{
    const unsigned char *p = s;
    uint64_t h = 14695981039346656037ULL; /* the FNV offset basis */
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* The slot hash: FNV-1a with its bits spread, as the mask keeps the low ones. */
static uint32_t hash_key(const char *s, size_t n)
{
    uint64_t h = oab__fnv1a64(s, n);
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 32;
    return (uint32_t)h;
}

void oab__idset_free(oab__idset *s)
{
    if (!s)
        return;
    free(s->entries);
    free(s->slots);
    struct oab__idset_chunk *c = s->chunks;
    while (c) {
        struct oab__idset_chunk *next = c->next;
        free(c);
        c = next;
    }
    memset(s, 0, sizeof *s);
}

static const char *arena_copy(oab__idset *s, const char *key, size_t n)
{
    struct oab__idset_chunk *c = s->chunks;
    if (!c || c->cap - c->used < n + 1) {
        size_t cap = n + 1 > CHUNK_MIN ? n + 1 : CHUNK_MIN;
        struct oab__idset_chunk *nc = malloc(sizeof *nc + cap);
        if (!nc)
            return NULL;
        nc->used = 0;
        nc->cap = cap;
        nc->next = s->chunks;
        s->chunks = nc;
        c = nc;
    }
    char *p = c->data + c->used;
    if (n)
        memcpy(p, key, n);
    p[n] = '\0';
    c->used += n + 1;
    return p;
}

static oab_status grow_slots(oab__idset *s)
{
    size_t cap = s->n_slots ? s->n_slots * 2 : 1024;
    uint32_t *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return OAB_ENOMEM;
    for (size_t i = 0; i < s->n; i++) {
        size_t j = (size_t)s->entries[i].hash & (cap - 1);
        while (slots[j])
            j = (j + 1) & (cap - 1);
        slots[j] = (uint32_t)i + 1;
    }
    free(s->slots);
    s->slots = slots;
    s->n_slots = cap;
    return OAB_OK;
}

/* The slot of key: its entry's, or the empty one where it would go. */
static size_t probe(const oab__idset *s, const char *key, size_t len,
                    uint32_t h)
{
    size_t mask = s->n_slots - 1;
    size_t j = (size_t)h & mask;
    while (s->slots[j]) {
        const oab__idset_entry *e = &s->entries[s->slots[j] - 1];
        if (e->hash == h && e->len == len && memcmp(e->key, key, len) == 0)
            break;
        j = (j + 1) & mask;
    }
    return j;
}

size_t oab__idset_find(const oab__idset *s, const char *key, size_t len)
{
    if (!s->n_slots)
        return OAB__IDSET_NONE;
    size_t j = probe(s, key, len, hash_key(key, len));
    return s->slots[j] ? s->slots[j] - 1 : OAB__IDSET_NONE;
}

oab_status oab__idset_add(oab__idset *s, const char *key, size_t len,
                          long value, size_t *index, int *added)
{
    if (added)
        *added = 0;
    if (s->n >= UINT32_MAX - 1 || len >= UINT32_MAX)
        return OAB_ELIMIT;
    if ((s->n + 1) * LOAD_DEN > s->n_slots * LOAD_NUM &&
        grow_slots(s) != OAB_OK)
        return OAB_ENOMEM;
    uint32_t h = hash_key(key, len);
    size_t j = probe(s, key, len, h);
    if (s->slots[j]) {
        if (index)
            *index = s->slots[j] - 1;
        return OAB_OK;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        oab__idset_entry *v = realloc(s->entries, cap * sizeof *v);
        if (!v)
            return OAB_ENOMEM;
        s->entries = v;
        s->cap = cap;
    }
    const char *copy = arena_copy(s, key, len);
    if (!copy)
        return OAB_ENOMEM;
    oab__idset_entry *e = &s->entries[s->n];
    e->key = copy;
    e->len = (uint32_t)len;
    e->value = value;
    e->hash = h;
    s->slots[j] = (uint32_t)s->n + 1;
    if (index)
        *index = s->n;
    if (added)
        *added = 1;
    s->n++;
    return OAB_OK;
}
