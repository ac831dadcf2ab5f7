/* util/idset.h - a set of byte strings (custom_ids) with a value per
 * entry: open addressing over an arena of the keys, entries numbered in
 * the order they were added. Internal: util layer, no API knowledge;
 * cli/ and server/ may use it.
 *
 * Memory: one copy of every key (NUL-terminated, in 64 KiB arena chunks),
 * one 24-byte entry and about two 4-byte slots per key. Keys may hold
 * any bytes, NUL included; an empty key is a key. Nothing is ever
 * removed. */
#ifndef OAB_UTIL_IDSET_H
#define OAB_UTIL_IDSET_H

#include "oaibatch.h"
#include <stddef.h>
#include <stdint.h>

typedef struct oab__idset_entry {
    const char *key;        /* in the arena, NUL-terminated */
    long value;
    uint32_t len;           /* keys are shorter than 4 GiB */
    uint32_t hash;          /* the low half of the slot hash */
} oab__idset_entry;         /* 24 bytes: a million ids take 24 MB here */

typedef struct oab__idset {
    oab__idset_entry *entries;   /* in the order added */
    size_t n, cap;
    uint32_t *slots;             /* entry index + 1, 0 = empty */
    size_t n_slots;              /* a power of two */
    struct oab__idset_chunk *chunks;
} oab__idset;

#define OAB__IDSET_INIT { NULL, 0, 0, NULL, 0, NULL }

/* No entry (what oab__idset_find returns for a key not in the set). */
#define OAB__IDSET_NONE ((size_t)-1)

/* Adds key[0..len) with `value` unless it is there. *index (may be NULL)
 * gets the entry's index, *added (may be NULL) 1 when it is new, 0 when
 * the key was there already (its value is then unchanged). OAB_ENOMEM
 * (the set is unchanged), OAB_ELIMIT past 2^32-1 entries or for a key of
 * 4 GiB or more. */
oab_status oab__idset_add(oab__idset *s, const char *key, size_t len,
                          long value, size_t *index, int *added);
/* The index of key[0..len), or OAB__IDSET_NONE. */
size_t oab__idset_find(const oab__idset *s, const char *key, size_t len);
/* Entry i (i < s->n): its key, length and value; the value may be
 * changed in place. Borrowed until oab__idset_free. */
static inline oab__idset_entry *oab__idset_at(const oab__idset *s, size_t i)
{
    return &s->entries[i];
}
void oab__idset_free(oab__idset *s);

/* FNV-1a, 64 bits, of s[0..n) (no final mixing: the value is stable and
 * may be shown, e.g. in generated ids). */
uint64_t oab__fnv1a64(const void *s, size_t n);

#endif
