/* tokenizer.c - byte-pair encoding as OpenAI's tiktoken does it.
 *
 * The text is split by the encoding's pre-tokenizer regex (PCRE2 with
 * Unicode properties, JIT-compiled when the machine has it), the way
 * tiktoken's find_iter does: every match is a piece. A piece that is a
 * token is one token; otherwise its bytes are merged pairwise, always the
 * adjacent pair with the lowest rank first, the leftmost of equals first
 * (tiktoken's _byte_pair_merge). Short pieces use tiktoken's own vector
 * scan; long ones a heap with the same order (rank, position), so a long
 * run of letters is not quadratic. The rank table is an open-addressing
 * hash of the token bytes, with a Bloom filter beside it that answers
 * most lookups of non-tokens without a probe; counting also keeps a
 * per-thread cache of piece counts (below). No I/O here: rank files are read by
 * tokenizer_files.c. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "core/tokenizer.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/json.h"

#include <pcre2.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define NO_RANK UINT32_MAX
/* Pieces up to this many bytes merge by tiktoken's vector scan. */
#define SMALL_PIECE 128

/* ---- the encodings ---- */

static const oab__encoding encodings[] = {
    { "o200k_base",
      "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*"
      "[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
      "|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+"
      "[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
      "|\\p{N}{1,3}"
      "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*"
      "|\\s*[\\r\\n]+"
      "|\\s+(?!\\S)"
      "|\\s+",
      OAB__ASCII_O200K },
    { "cl100k_base",
      "(?i:'s|'t|'re|'ve|'m|'ll|'d)"
      "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+"
      "|\\p{N}{1,3}"
      "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
      "|\\s*[\\r\\n]+"
      "|\\s+(?!\\S)"
      "|\\s+",
      OAB__ASCII_CL100K },
};

const oab__encoding *oab__encoding_find(const char *name)
{
    for (size_t i = 0; name && i < sizeof encodings / sizeof encodings[0]; i++)
        if (strcmp(encodings[i].name, name) == 0)
            return &encodings[i];
    return NULL;
}

oab_status oab__encoding_check(const char *name, oab_error *err)
{
    if (oab__encoding_find(name))
        return OAB_OK;
    return oab__err(err, OAB_EINVAL, 0,
                    "unknown encoding '%s' (known: o200k_base, cl100k_base)",
                    name ? name : "(null)");
}

/* ---- the tokenizer ---- */

struct oab_tokenizer {
    const oab__encoding *enc;
    uint32_t id;            /* unique per load: the piece caches' owner tag */
    pcre2_code *re;
    int jit;
    int fast_path;          /* the hand-run ASCII pre-tokenizer (default 1) */
    unsigned char *bytes;   /* every token's bytes, one after another */
    uint32_t *tok_off;      /* by rank: offset into bytes */
    uint16_t *tok_len;      /* by rank: length, 0 = no such token */
    uint32_t n_ranks;       /* highest rank + 1 */
    struct slot *slots;     /* open addressing, linear probing */
    uint64_t mask;          /* slots - 1 */
    uint64_t *bloom;        /* 2^BLOOM_BITS bits: which hashes may be tokens */
    uint32_t byte_rank[256];
    uint32_t pair_rank[65536]; /* two-byte tokens, by (b0 << 8) | b1 */
};

/* A slot holds what a lookup compares, so that most lookups touch one
 * cache line: the token's first 8 bytes (zero-padded), its length and
 * 16 more bits of its hash; only tokens longer than 8 bytes compare the
 * rest in t->bytes. */
typedef struct slot {
    uint64_t head;
    uint32_t rank1; /* rank + 1; 0 = empty */
    uint16_t len;
    uint16_t tag;
} slot;

/* The hash of a token of n bytes whose first 8 (zero-padded) are head. */
static uint64_t hash_bytes(uint64_t head, const unsigned char *p, size_t n)
{
    uint64_t h = (head ^ ((uint64_t)n << 56)) * 0xff51afd7ed558ccdull;
    for (size_t i = 8; i < n; i += 8) {
        uint64_t w = 0;
        memcpy(&w, p + i, n - i < 8 ? n - i : 8);
        h = (h ^ (h >> 32) ^ w) * 0xc4ceb9fe1a85ec53ull;
    }
    h = (h ^ (h >> 32)) * 0x9E3779B97F4A7C15ull; /* every byte in every bit */
    return h ^ (h >> 29);
}

static uint64_t head_of(const unsigned char *p, size_t n)
{
    uint64_t head = 0;
    memcpy(&head, p, n < 8 ? n : 8);
    return head;
}

/* The slot of p[0..n) (first 8 bytes `head`, hash h): the one that holds
 * it, or the empty one where it would go. */
static const slot *probe(const oab_tokenizer *t, uint64_t head, uint64_t h,
                         const unsigned char *p, size_t n)
{
    uint16_t tag = (uint16_t)(h >> 48);
    for (uint64_t i = h & t->mask;; i = (i + 1) & t->mask) {
        const slot *s = &t->slots[i];
        if (!s->rank1 || (s->head == head && s->len == n && s->tag == tag &&
                          (n <= 8 || memcmp(t->bytes + t->tok_off[s->rank1 - 1] + 8,
                                            p + 8, n - 8) == 0)))
            return s;
    }
}

static const slot *find_slot(const oab_tokenizer *t, const unsigned char *p,
                             size_t n)
{
    uint64_t head = head_of(p, n);
    return probe(t, head, hash_bytes(head, p, n), p, n);
}

/* A Bloom filter of the tokens (two bits each, from the table hash's
 * bits that do not pick the slot): most byte strings a merge asks for
 * are not tokens, and the filter, small enough for the CPU's cache,
 * answers them without a probe of the table, which is not. */
#define BLOOM_BITS 21
static int bloom_maybe(const oab_tokenizer *t, uint64_t h)
{
    uint64_t a = (h >> 20) & ((UINT64_C(1) << BLOOM_BITS) - 1);
    uint64_t b = (h >> 41) & ((UINT64_C(1) << BLOOM_BITS) - 1);
    return (t->bloom[a >> 6] >> (a & 63) & 1) && (t->bloom[b >> 6] >> (b & 63) & 1);
}

static void bloom_add(oab_tokenizer *t, uint64_t h)
{
    uint64_t a = (h >> 20) & ((UINT64_C(1) << BLOOM_BITS) - 1);
    uint64_t b = (h >> 41) & ((UINT64_C(1) << BLOOM_BITS) - 1);
    t->bloom[a >> 6] |= UINT64_C(1) << (a & 63);
    t->bloom[b >> 6] |= UINT64_C(1) << (b & 63);
}

/* The rank of the token p[0..n), or NO_RANK. */
static uint32_t rank_of(const oab_tokenizer *t, const unsigned char *p,
                        size_t n)
{
    if (n == 1)
        return t->byte_rank[p[0]];
    if (n == 2)
        return t->pair_rank[(p[0] << 8) | p[1]];
    uint64_t head = head_of(p, n), h = hash_bytes(head, p, n);
    if (!bloom_maybe(t, h))
        return NO_RANK;
    return probe(t, head, h, p, n)->rank1 - 1; /* empty: 0 - 1 = NO_RANK */
}

/* Inserts rank r (its bytes already in t->bytes); 0 when the same bytes
 * are there already. */
static int table_insert(oab_tokenizer *t, uint32_t r)
{
    const unsigned char *p = t->bytes + t->tok_off[r];
    size_t n = t->tok_len[r];
    slot *s = (slot *)find_slot(t, p, n);
    if (s->rank1)
        return 0;
    s->head = head_of(p, n);
    s->len = (uint16_t)n;
    uint64_t h = hash_bytes(s->head, p, n);
    s->tag = (uint16_t)(h >> 48);
    s->rank1 = r + 1;
    bloom_add(t, h);
    if (n == 1)
        t->byte_rank[p[0]] = r;
    if (n == 2)
        t->pair_rank[(p[0] << 8) | p[1]] = r;
    return 1;
}

/* ---- loading a rank file ---- */

/* Decodes standard base64 (padded, length a multiple of 4) into out
 * with `dig` giving each byte's digit value (-1: not a digit); returns
 * the byte count, or -1. */
static long b64_decode(const char *s, size_t n, unsigned char *out,
                       const signed char dig[256])
{
    if (n == 0 || n % 4)
        return -1;
    size_t pad = s[n - 1] == '=' ? (s[n - 2] == '=' ? 2 : 1) : 0;
    long k = 0;
    for (size_t i = 0; i < n; i += 4) {
        uint32_t v = 0;
        for (size_t j = 0; j < 4; j++) {
            int d = (i + j >= n - pad) ? 0 : dig[(unsigned char)s[i + j]];
            if (d < 0)
                return -1;
            v = (v << 6) | (uint32_t)d;
        }
        out[k++] = (unsigned char)(v >> 16);
        if (i + 4 < n || pad < 2)
            out[k++] = (unsigned char)(v >> 8);
        if (i + 4 < n || pad < 1)
            out[k++] = (unsigned char)v;
    }
    return k;
}

typedef struct rank_entry {
    uint32_t off, rank;
    uint16_t len;
    long line;
} rank_entry;

/* Parses "<base64> <rank>" lines into entries and t->bytes. */
static oab_status parse_ranks(oab_tokenizer *t, rank_entry **ents_out,
                              size_t *n_out, const char *data, size_t len,
                              const char *src, oab_error *err)
{
    rank_entry *ents = NULL;
    size_t n = 0, cap = 0, used = 0;
    static const char digits[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    signed char dig[256];
    memset(dig, -1, sizeof dig);
    for (int i = 0; i < 64; i++)
        dig[(unsigned char)digits[i]] = (signed char)i;
    /* decoded tokens are shorter than their base64 */
    t->bytes = malloc(len ? len : 1);
    if (!t->bytes)
        return OAB_ENOMEM;
    long lineno = 0;
    const char *p = data, *end = data + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        const char *next = nl ? nl + 1 : end;
        lineno++;
        while (e > p && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if (e == p) {
            p = next;
            continue;
        }
        const char *sp = p;
        while (sp < e && *sp != ' ' && *sp != '\t')
            sp++;
        const char *rs = sp;
        while (rs < e && (*rs == ' ' || *rs == '\t'))
            rs++;
        if (sp == e || rs == e) {
            free(ents);
            return oab__err(err, OAB_EJSON, lineno,
                            "%s:%ld: expected '<base64 token> <rank>'", src,
                            lineno);
        }
        uint64_t rank = 0;
        const char *q = rs;
        for (; q < e && *q >= '0' && *q <= '9' && rank < OAB__RANK_MAX; q++)
            rank = rank * 10 + (uint64_t)(*q - '0');
        if (q != e || rank >= OAB__RANK_MAX) {
            free(ents);
            return oab__err(err, OAB_EJSON, lineno,
                            "%s:%ld: the rank is not a number below %u", src,
                            lineno, OAB__RANK_MAX);
        }
        long k = b64_decode(p, (size_t)(sp - p), t->bytes + used, dig);
        if (k <= 0 || k > UINT16_MAX) {
            free(ents);
            return oab__err(err, OAB_EJSON, lineno,
                            "%s:%ld: the token is not valid base64", src,
                            lineno);
        }
        rank_entry *grown = oab__grow(ents, &cap, n, sizeof *ents, 4096);
        if (!grown) {
            free(ents);
            return OAB_ENOMEM;
        }
        ents = grown;
        ents[n].off = (uint32_t)used;
        ents[n].len = (uint16_t)k;
        ents[n].rank = (uint32_t)rank;
        ents[n].line = lineno;
        n++;
        used += (size_t)k;
        p = next;
    }
    if (!n) {
        free(ents);
        return oab__err(err, OAB_EJSON, 0, "%s: no tokens in the file", src);
    }
    *ents_out = ents;
    *n_out = n;
    return OAB_OK;
}

/* Builds the by-rank arrays and the hash table from the entries. */
static oab_status index_ranks(oab_tokenizer *t, const rank_entry *ents,
                              size_t n, const char *src, oab_error *err)
{
    uint32_t max = 0;
    for (size_t i = 0; i < n; i++)
        if (ents[i].rank > max)
            max = ents[i].rank;
    t->n_ranks = max + 1;
    t->tok_off = calloc(t->n_ranks, sizeof *t->tok_off);
    t->tok_len = calloc(t->n_ranks, sizeof *t->tok_len);
    size_t cap = 1024;
    while (cap < 2 * n)
        cap *= 2;
    t->slots = calloc(cap, sizeof *t->slots);
    t->bloom = calloc((UINT64_C(1) << BLOOM_BITS) / 64, sizeof *t->bloom);
    if (!t->tok_off || !t->tok_len || !t->slots || !t->bloom)
        return OAB_ENOMEM;
    t->mask = cap - 1;
    memset(t->byte_rank, 0xff, sizeof t->byte_rank); /* NO_RANK */
    memset(t->pair_rank, 0xff, sizeof t->pair_rank);
    for (size_t i = 0; i < n; i++) {
        const rank_entry *e = &ents[i];
        if (t->tok_len[e->rank])
            return oab__err(err, OAB_EJSON, e->line,
                            "%s:%ld: rank %u is given twice", src, e->line,
                            e->rank);
        t->tok_off[e->rank] = e->off;
        t->tok_len[e->rank] = e->len;
        if (!table_insert(t, e->rank))
            return oab__err(err, OAB_EJSON, e->line,
                            "%s:%ld: this token is given twice", src, e->line);
    }
    for (unsigned b = 0; b < 256; b++)
        if (t->byte_rank[b] == NO_RANK)
            return oab__err(err, OAB_EJSON, 0,
                            "%s: no token for the byte 0x%02x (every byte "
                            "must be a token)", src, b);
    return OAB_OK;
}

static oab_status compile_regex(oab_tokenizer *t, oab_error *err)
{
    int ec;
    PCRE2_SIZE eo;
    t->re = pcre2_compile((PCRE2_SPTR)t->enc->pattern, PCRE2_ZERO_TERMINATED,
                          PCRE2_UTF | PCRE2_UCP, &ec, &eo, NULL);
    if (!t->re) {
        PCRE2_UCHAR msg[128];
        pcre2_get_error_message(ec, msg, sizeof msg);
        return oab__err(err, OAB_EUNSUPPORTED, 0,
                        "%s: PCRE2 cannot compile the pre-tokenizer regex "
                        "at %zu: %s", t->enc->name, (size_t)eo, (char *)msg);
    }
    uint32_t have_jit = 0;
    pcre2_config(PCRE2_CONFIG_JIT, &have_jit);
    t->jit = have_jit && pcre2_jit_compile(t->re, PCRE2_JIT_COMPLETE) == 0;
    return OAB_OK;
}

oab_status oab_tokenizer_load_buffer(oab_tokenizer **out, const char *encoding,
                                     const char *data, size_t len,
                                     const char *source, oab_error *err)
{
    if (!out)
        return oab__err(err, OAB_EINVAL, 0, "out is NULL");
    *out = NULL;
    const char *src = source ? source : "rank file";
    oab_status st = oab__encoding_check(encoding, err);
    if (st != OAB_OK)
        return st;
    const oab__encoding *enc = oab__encoding_find(encoding);
    if (!data && len)
        return oab__err(err, OAB_EINVAL, 0, "%s: data is NULL", src);
    if (len > OAB__RANK_FILE_MAX)
        return oab__err(err, OAB_ELIMIT, 0, "%s: larger than %u bytes", src,
                        OAB__RANK_FILE_MAX);
    oab_tokenizer *t = calloc(1, sizeof *t);
    if (!t)
        return oab__err(err, OAB_ENOMEM, 0, "out of memory");
    t->enc = enc;
    t->fast_path = 1;
    static atomic_uint next_id = 1;
    t->id = atomic_fetch_add(&next_id, 1);
    if (!t->id) /* after 2^32 loads: 0 marks an empty cache entry */
        t->id = atomic_fetch_add(&next_id, 1);
    rank_entry *ents = NULL;
    size_t n = 0;
    st = parse_ranks(t, &ents, &n, data, len, src, err);
    if (st == OAB_OK)
        st = index_ranks(t, ents, n, src, err);
    free(ents);
    if (st == OAB_OK)
        st = compile_regex(t, err);
    if (st != OAB_OK) {
        oab_tokenizer_free(t);
        if (st == OAB_ENOMEM)
            oab__err(err, st, 0, "%s: out of memory", src);
        return st;
    }
    *out = t;
    return OAB_OK;
}

void oab_tokenizer_free(oab_tokenizer *t)
{
    if (!t)
        return;
    pcre2_code_free(t->re);
    free(t->bytes);
    free(t->tok_off);
    free(t->tok_len);
    free(t->slots);
    free(t->bloom);
    free(t);
}

const char *oab_tokenizer_encoding(const oab_tokenizer *t)
{
    return t ? t->enc->name : NULL;
}

void oab__tokenizer_set_fast_path(oab_tokenizer *t, int on)
{
    t->fast_path = on;
}

int oab_tokenizer_uses_jit(const oab_tokenizer *t)
{
    return t ? t->jit : 0;
}

/* ---- merging one piece ---- */

typedef struct part {
    uint32_t start, rank;
} part;

/* tiktoken's _byte_pair_merge: parts[0..m) with parts[m-1].start == n;
 * returns m - 1, the number of tokens (token k is the bytes from
 * parts[k].start to parts[k+1].start). parts has room for n + 1. */
static size_t merge_small(const oab_tokenizer *t, const unsigned char *p,
                          size_t n, part *parts)
{
    uint32_t min_r = NO_RANK;
    size_t min_i = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        uint32_t r = rank_of(t, p + i, 2);
        parts[i].start = (uint32_t)i;
        parts[i].rank = r;
        if (r < min_r) {
            min_r = r;
            min_i = i;
        }
    }
    parts[n - 1].start = (uint32_t)(n - 1);
    parts[n - 1].rank = NO_RANK;
    parts[n].start = (uint32_t)n;
    parts[n].rank = NO_RANK;
    size_t m = n + 1;
    while (min_r != NO_RANK) {
        size_t i = min_i;
        /* the rank of the pair at i once parts[i + 1] is gone */
#define RANK_AFTER(i)                                                        \
    ((i) + 3 < m ? rank_of(t, p + parts[i].start,                            \
                           parts[(i) + 3].start - parts[i].start)            \
                 : NO_RANK)
        if (i > 0)
            parts[i - 1].rank = RANK_AFTER(i - 1);
        parts[i].rank = RANK_AFTER(i);
#undef RANK_AFTER
        memmove(&parts[i + 1], &parts[i + 2], (m - i - 2) * sizeof *parts);
        m--;
        min_r = NO_RANK;
        for (size_t j = 0; j + 1 < m; j++) {
            if (parts[j].rank < min_r) {
                min_r = parts[j].rank;
                min_i = j;
            }
        }
    }
    return m - 1;
}

/* The same merge order with a min-heap of (rank, start) over a linked
 * list of part starts, for long pieces. Writes the token starts to
 * starts[0..k] (starts[k] == n) and returns k. */
typedef struct heap_item {
    uint32_t rank, start;
} heap_item;

static int item_less(heap_item a, heap_item b)
{
    return a.rank < b.rank || (a.rank == b.rank && a.start < b.start);
}

static void heap_push(heap_item *h, size_t *n, heap_item x)
{
    size_t i = (*n)++;
    while (i > 0 && item_less(x, h[(i - 1) / 2])) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i] = x;
}

static heap_item heap_pop(heap_item *h, size_t *n)
{
    heap_item top = h[0], x = h[--*n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n)
            break;
        if (c + 1 < *n && item_less(h[c + 1], h[c]))
            c++;
        if (!item_less(h[c], x))
            break;
        h[i] = h[c];
        i = c;
    }
    if (*n)
        h[i] = x;
    return top;
}

static oab_status merge_large(const oab_tokenizer *t, const unsigned char *p,
                              size_t n, uint32_t *starts, size_t *k_out)
{
    /* next[i]: the start after i (n + 1 = none); rank[i]: the pair at i */
    uint32_t *next = malloc((n + 1) * sizeof *next);
    uint32_t *prev = malloc((n + 1) * sizeof *prev);
    uint32_t *rank = malloc((n + 1) * sizeof *rank);
    heap_item *heap = malloc(3 * (n + 1) * sizeof *heap); /* n + 2 per merge */
    if (!next || !prev || !rank || !heap) {
        free(next), free(prev), free(rank), free(heap);
        return OAB_ENOMEM;
    }
    size_t hn = 0;
    for (size_t i = 0; i <= n; i++) {
        next[i] = (uint32_t)(i + 1);
        prev[i] = i ? (uint32_t)(i - 1) : UINT32_MAX;
        rank[i] = i + 1 < n ? rank_of(t, p + i, 2) : NO_RANK;
        if (rank[i] != NO_RANK)
            heap_push(heap, &hn, (heap_item){ rank[i], (uint32_t)i });
    }
    /* the pair at i: the bytes from i to the start after next[i] */
#define PAIR_RANK(i)                                                         \
    ((i) < n && next[i] < n ? rank_of(t, p + (i), next[next[i]] - (i))       \
                            : NO_RANK)
    while (hn) {
        heap_item it = heap_pop(heap, &hn);
        uint32_t s = it.start;
        if (rank[s] != it.rank)
            continue; /* stale */
        uint32_t gone = next[s];
        next[s] = next[gone];
        if (next[gone] <= n)
            prev[next[gone]] = s;
        rank[gone] = NO_RANK;
        rank[s] = PAIR_RANK(s);
        if (rank[s] != NO_RANK)
            heap_push(heap, &hn, (heap_item){ rank[s], s });
        if (prev[s] != UINT32_MAX) {
            uint32_t q = prev[s];
            rank[q] = PAIR_RANK(q);
            if (rank[q] != NO_RANK)
                heap_push(heap, &hn, (heap_item){ rank[q], q });
        }
    }
#undef PAIR_RANK
    size_t k = 0;
    for (uint32_t i = 0; i < n; i = next[i])
        starts[k++] = i;
    starts[k] = (uint32_t)n;
    free(next), free(prev), free(rank), free(heap);
    *k_out = k;
    return OAB_OK;
}

/* ---- splitting and encoding ---- */

/* Receives each token of the text: counted, and kept when `keep`. */
typedef struct sink {
    size_t count;
    int keep;
    uint32_t *ids;
    size_t cap;
} sink;

static int sink_put(sink *s, uint32_t r)
{
    if (s->keep) {
        uint32_t *g = oab__grow(s->ids, &s->cap, s->count, sizeof *s->ids, 64);
        if (!g)
            return -1;
        s->ids = g;
        s->ids[s->count] = r;
    }
    s->count++;
    return 0;
}

static oab_status encode_piece(const oab_tokenizer *t, const unsigned char *p,
                               size_t n, sink *s)
{
    uint32_t r = rank_of(t, p, n);
    if (r != NO_RANK)
        return sink_put(s, r) ? OAB_ENOMEM : OAB_OK;
    if (n <= SMALL_PIECE) {
        part parts[SMALL_PIECE + 1];
        size_t k = merge_small(t, p, n, parts);
        if (!s->keep) {
            s->count += k;
            return OAB_OK;
        }
        for (size_t i = 0; i < k; i++)
            if (sink_put(s, rank_of(t, p + parts[i].start,
                                    parts[i + 1].start - parts[i].start)))
                return OAB_ENOMEM;
        return OAB_OK;
    }
    uint32_t *starts = malloc((n + 1) * sizeof *starts);
    if (!starts)
        return OAB_ENOMEM;
    size_t k = 0;
    oab_status st = merge_large(t, p, n, starts, &k);
    for (size_t i = 0; st == OAB_OK && i < k; i++)
        if (sink_put(s, rank_of(t, p + starts[i], starts[i + 1] - starts[i])))
            st = OAB_ENOMEM;
    free(starts);
    return st;
}

/* ---- a per-thread cache of piece counts ----
 *
 * Counting text spends most of its time looking pieces up in the rank
 * table (megabytes: its lookups miss the caches) and merging the pieces
 * that are not one token. Text repeats its words, so each thread that
 * counts keeps the counts of the last pieces of 3 to CACHE_PIECE bytes
 * it met, direct-mapped, CACHE_SIZE entries (192 KiB, freed when the
 * thread exits). An entry is tagged with its tokenizer's id, so one
 * thread may use several tokenizers, and a freed tokenizer's entries
 * never match a new one. Only counting uses it: encoding needs the ids. */
#define CACHE_BITS 13
#define CACHE_SIZE (1u << CACHE_BITS)
#define CACHE_PIECE 16

typedef struct cache_entry {
    uint64_t w0, w1; /* the piece's bytes, zero-padded */
    uint32_t owner;  /* tokenizer id; 0 = empty */
    uint16_t len;
    uint16_t count;
} cache_entry;

/* The pointer is kept in TLS as well as in the key, so that leak
 * checkers see the main thread's cache (whose key destructor never
 * runs) as reachable. */
static _Thread_local cache_entry *tls_cache;
static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static int cache_key_ok;

static void cache_key_make(void)
{
    cache_key_ok = pthread_key_create(&cache_key, free) == 0;
}

/* This thread's cache, made on first use; NULL when it cannot be (then
 * counting goes on without it). */
static cache_entry *thread_cache(void)
{
    if (tls_cache)
        return tls_cache;
    if (pthread_once(&cache_once, cache_key_make) != 0 || !cache_key_ok)
        return NULL;
    cache_entry *c = calloc(CACHE_SIZE, sizeof *c);
    if (!c)
        return NULL;
    if (pthread_setspecific(cache_key, c) != 0) {
        free(c);
        return NULL;
    }
    return tls_cache = c;
}

/* The first n bytes (n <= 8) at p, zero-padded; `room` bytes may be
 * read at p. Reading 8 and masking is several times faster than a
 * copy of n bytes, whose narrow stores the wide load then waits for. */
static uint64_t load_padded(const unsigned char *p, size_t n, size_t room)
{
    uint64_t w = 0;
    if (room < 8) {
        memcpy(&w, p, n);
        return w;
    }
    memcpy(&w, p, 8);
    return n < 8 ? w & ((UINT64_C(1) << (8 * n)) - 1) : w;
}

/* Counts the piece p[0..n) into s; `room` bytes may be read at p. */
static oab_status count_piece(const oab_tokenizer *t, cache_entry *cache,
                              const unsigned char *p, size_t n, size_t room,
                              sink *s)
{
    if (!cache || n < 3 || n > CACHE_PIECE)
        return encode_piece(t, p, n, s);
    uint64_t w0 = load_padded(p, n < 8 ? n : 8, room);
    uint64_t w1 = n > 8 ? load_padded(p + 8, n - 8, room - 8) : 0;
    uint64_t h = (w0 ^ ((uint64_t)n << 59)) * 0xff51afd7ed558ccdull;
    h = (h ^ (h >> 32) ^ w1) * 0xc4ceb9fe1a85ec53ull;
    cache_entry *e = &cache[h >> (64 - CACHE_BITS)];
    if (e->owner == t->id && e->len == n && e->w0 == w0 && e->w1 == w1) {
        s->count += e->count;
        return OAB_OK;
    }
    size_t before = s->count;
    oab_status st = encode_piece(t, p, n, s);
    if (st == OAB_OK) {
        e->w0 = w0;
        e->w1 = w1;
        e->owner = t->id;
        e->len = (uint16_t)n;
        e->count = (uint16_t)(s->count - before); /* at most n tokens */
    }
    return st;
}

static oab_status run(const oab_tokenizer *t, const char *text, size_t len,
                      sink *s)
{
    if (!t || (!text && len))
        return OAB_EINVAL;
    if (!len)
        return OAB_OK;
    if (!oab__utf8_valid(text, len))
        return OAB_EINVAL;
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    if (!md)
        return OAB_ENOMEM;
    const unsigned char *u = (const unsigned char *)text;
    cache_entry *cache = s->keep ? NULL : thread_cache();
    PCRE2_SIZE off = 0;
    oab_status st = OAB_OK;
    while (off < len && st == OAB_OK) {
        size_t end;
        if (u[off] < 0x80 && t->fast_path &&
            oab__pretok_ascii(t->enc, u, len, off, &end)) {
            st = count_piece(t, cache, u + off, end - off, len - off, s);
            off = end;
            continue;
        }
        int rc = t->jit ? pcre2_jit_match(t->re, u, len, off, 0, md, NULL)
                        : pcre2_match(t->re, u, len, off, PCRE2_NO_UTF_CHECK,
                                      md, NULL);
        if (rc == PCRE2_ERROR_NOMATCH)
            break;
        if (rc < 0) {
            st = rc == PCRE2_ERROR_NOMEMORY || rc == PCRE2_ERROR_JIT_STACKLIMIT
                     ? OAB_ENOMEM
                     : OAB_ELIMIT;
            break;
        }
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        if (ov[1] <= ov[0]) {
            /* no alternative matches empty; step one character on */
            off = ov[0] + 1;
            while (off < len && (u[off] & 0xC0) == 0x80)
                off++;
            continue;
        }
        st = count_piece(t, cache, u + ov[0], ov[1] - ov[0], len - ov[0],
                         s);
        off = ov[1];
    }
    pcre2_match_data_free(md);
    return st;
}

oab_status oab_tokenizer_count(size_t *out, const oab_tokenizer *t,
                               const char *text, size_t len)
{
    if (!out)
        return OAB_EINVAL;
    *out = 0;
    sink s = { 0, 0, NULL, 0 };
    oab_status st = run(t, text, len, &s);
    if (st == OAB_OK)
        *out = s.count;
    return st;
}

oab_status oab_tokenizer_encode(uint32_t **out, size_t *n,
                                const oab_tokenizer *t, const char *text,
                                size_t len)
{
    if (!out || !n)
        return OAB_EINVAL;
    *out = NULL;
    *n = 0;
    sink s = { 0, 1, NULL, 0 };
    oab_status st = run(t, text, len, &s);
    if (st != OAB_OK) {
        free(s.ids);
        return st;
    }
    *out = s.ids;
    *n = s.count;
    return OAB_OK;
}

oab_status oab_tokenizer_decode(char **out, size_t *len,
                                const oab_tokenizer *t, const uint32_t *ids,
                                size_t n)
{
    if (!out)
        return OAB_EINVAL;
    *out = NULL;
    if (len)
        *len = 0;
    if (!t || (!ids && n))
        return OAB_EINVAL;
    oab__buf b = OAB__BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        if (ids[i] >= t->n_ranks || !t->tok_len[ids[i]]) {
            oab__buf_free(&b);
            return OAB_EINVAL;
        }
        if (oab__buf_append(&b, t->bytes + t->tok_off[ids[i]],
                            t->tok_len[ids[i]]) != OAB_OK) {
            oab__buf_free(&b);
            return OAB_ENOMEM;
        }
    }
    *out = oab__buf_take(&b, len);
    return *out ? OAB_OK : OAB_ENOMEM;
}
