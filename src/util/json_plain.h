/* util/json_plain.h - the one run finder of JSON string bytes: the first
 * byte that is not plain, jumping 16 bytes at a time (SSE2) or 8 (SWAR).
 * Shared by the lexer (util/json_scan.c), which scans strings, and the
 * escaper (oab__buf_json_string in util/buf.c), which writes them: the
 * bytes one must look at are the same. Internal: util layer. */
#ifndef OAB_UTIL_JSON_PLAIN_H
#define OAB_UTIL_JSON_PLAIN_H

#include <stdint.h>
#include <string.h>

#if defined(__SSE2__) && defined(__GNUC__)
#include <emmintrin.h>
#define OAB__HAVE_SSE2 1
#endif

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* The first byte at or after p that ends a run of plain string bytes:
 * '"', '\\', a control byte, or (high != 0) a byte >= 0x80; end if none. */
static inline const unsigned char *oab__json_plain_end(const unsigned char *p,
                                              const unsigned char *end,
                                              int high)
{
#ifdef OAB__HAVE_SSE2
    const __m128i dq = _mm_set1_epi8('"');
    const __m128i bs = _mm_set1_epi8('\\');
    const __m128i ctl = _mm_set1_epi8(0x1f);
    const unsigned hmask = high ? 0xFFFFu : 0u;
    while (end - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i hit = _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(v, dq), _mm_cmpeq_epi8(v, bs)),
            _mm_cmpeq_epi8(_mm_max_epu8(v, ctl), ctl));
        unsigned m = (unsigned)_mm_movemask_epi8(hit) |
                     ((unsigned)_mm_movemask_epi8(v) & hmask);
        if (m)
            return p + __builtin_ctz(m);
        p += 16;
    }
#endif
    const uint64_t hw = high ? HIGHS : 0;
    while (end - p >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        uint64_t q = w ^ (ONES * '"');
        uint64_t b = w ^ (ONES * '\\');
        uint64_t t = ((q - ONES) & ~q) | ((b - ONES) & ~b) |
                     (w - ONES * 0x20);
        if (((t & ~w) | (w & hw)) & HIGHS)
            break;
        p += 8;
    }
    while (p < end) {
        unsigned char c = *p;
        if (c == '"' || c == '\\' || c < 0x20 || (high && c >= 0x80))
            return p;
        p++;
    }
    return end;
}

#endif
