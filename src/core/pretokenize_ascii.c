/* pretokenize_ascii.c - the pre-tokenizer regexes of o200k_base and
 * cl100k_base, hand-run where only ASCII characters decide the match.
 *
 * At every position tiktoken's find_iter tries the alternatives of the
 * encoding's regex in order, quantifiers greedy, backtracking. Over ASCII
 * the classes are plain (letters A-Z a-z, digits, \s = space \t \n \v \f
 * \r, the rest "other"), so the match each alternative makes is worked
 * out below step by step. Whenever a character that takes part in the
 * decision is not ASCII (a letter, mark, digit, space or symbol of
 * Unicode could extend or change the match) the function gives up and
 * the caller asks PCRE2, which then makes the same match. The oracle
 * tests (js-tiktoken, tiktoken) and a differential test against PCRE2
 * alone hold the two to the same result. */
#include "core/tokenizer.h"

#include <stdint.h>

enum {
    C_UP = 1,     /* A-Z */
    C_LO = 2,     /* a-z */
    C_DIG = 4,    /* 0-9 */
    C_WS = 8,     /* \s */
    C_NL = 16,    /* \r \n (also C_WS) */
    C_OTH = 32,   /* none of those: [^\s\p{L}\p{N}] */
    C_NONASCII = 64,
    C_END = 128
};

#define NONE SIZE_MAX

#define U C_UP
#define L C_LO
#define D C_DIG
#define W C_WS
#define N (C_WS | C_NL)
#define O C_OTH
static const unsigned char ascii_cls[128] = {
    O, O, O, O, O, O, O, O, O, W, N, W, W, N, O, O,
    O, O, O, O, O, O, O, O, O, O, O, O, O, O, O, O,
    W, O, O, O, O, O, O, O, O, O, O, O, O, O, O, O,
    D, D, D, D, D, D, D, D, D, D, O, O, O, O, O, O,
    O, U, U, U, U, U, U, U, U, U, U, U, U, U, U, U,
    U, U, U, U, U, U, U, U, U, U, U, O, O, O, O, O,
    O, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L,
    L, L, L, L, L, L, L, L, L, L, L, O, O, O, O, O,
};
#undef U
#undef L
#undef D
#undef W
#undef N
#undef O

static int cls_at(const unsigned char *u, size_t len, size_t i)
{
    if (i >= len)
        return C_END;
    return u[i] < 0x80 ? ascii_cls[u[i]] : C_NONASCII;
}

static int lower_at(const unsigned char *u, size_t len, size_t i)
{
    if (i >= len)
        return -1;
    unsigned char c = u[i];
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* (?i:'s|'t|'re|'ve|'m|'ll|'d) at k: 1 with *end, 0 no match, -1 when a
 * non-ASCII character would decide (the long s folds to s). */
static int contraction(const unsigned char *u, size_t len, size_t k,
                       size_t *end)
{
    if (k >= len || u[k] != '\'')
        return 0;
    for (size_t q = k + 1; q < k + 3 && q < len; q++)
        if (u[q] >= 0x80)
            return -1;
    int a = lower_at(u, len, k + 1), b = lower_at(u, len, k + 2);
    if (a == 's' || a == 't' || a == 'm' || a == 'd') {
        *end = k + 2;
        return 1;
    }
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') ||
        (a == 'l' && b == 'l')) {
        *end = k + 3;
        return 1;
    }
    return 0;
}

/* \p{N}{1,3} at i (a digit). */
static int digits(const unsigned char *u, size_t len, size_t i, size_t *end)
{
    size_t k = i;
    while (k < i + 3 && (cls_at(u, len, k) & C_DIG))
        k++;
    if (k < i + 3 && (cls_at(u, len, k) & C_NONASCII))
        return 0;
    *end = k;
    return 1;
}

/* ` ?[^\s\p{L}\p{N}]+` then [\r\n/]* (o200k, slash 1) or [\r\n]*.
 * Returns 1 with *end, 0 no match, -1 give up. */
static int others(const unsigned char *u, size_t len, size_t i, int slash,
                  size_t *end)
{
    size_t p = i;
    if (u[i] == ' ') {
        int d = cls_at(u, len, i + 1);
        if (d & C_NONASCII)
            return -1;
        if (!(d & C_OTH))
            return 0;
        p = i + 1;
    } else if (!(cls_at(u, len, i) & C_OTH)) {
        return 0;
    }
    size_t k = p;
    while (cls_at(u, len, k) & C_OTH)
        k++;
    if (cls_at(u, len, k) & C_NONASCII)
        return -1;
    while (k < len && (u[k] == '\r' || u[k] == '\n' || (slash && u[k] == '/')))
        k++;
    *end = k;
    return 1;
}

/* \s*[\r\n]+ | \s+(?!\S) | \s+ at i (whitespace). */
static int spaces(const unsigned char *u, size_t len, size_t i, size_t *end)
{
    size_t w = i, last_nl = NONE;
    int c;
    while ((c = cls_at(u, len, w)) & C_WS) {
        if (c & C_NL)
            last_nl = w;
        w++;
    }
    if (c & C_NONASCII)
        return 0;
    if (last_nl != NONE)
        *end = last_nl + 1;  /* \s*[\r\n]+ backs off to the last newline */
    else if (w == len || w - i < 2)
        *end = w;            /* \s+(?!\S) at the end, or \s+ */
    else
        *end = w - 1;        /* \s+(?!\S) leaves one space to the next */
    return 1;
}

/* Where the optional [^\r\n\p{L}\p{N}] prefix of the letter alternatives
 * lets the letters start: i for a letter, i + 1 after a prefix, NONE
 * when c can be neither. */
static size_t letters_start(int c, size_t i)
{
    if (c & (C_UP | C_LO))
        return i;
    if ((c & (C_WS | C_OTH)) && !(c & C_NL))
        return i + 1;
    return NONE;
}

/* The letter alternatives at i: o200k's words (capitals, then small
 * letters, then a contraction) or cl100k's [^\r\n\p{L}\p{N}]?\p{L}+.
 * 1 with *end, 0 when they do not match, -1 give up. */
static int letters(const unsigned char *u, size_t len, size_t i, int o200k,
                   size_t *end)
{
    size_t j = letters_start(cls_at(u, len, i), i);
    if (j == NONE)
        return 0;
    int d = cls_at(u, len, j);
    if (d & C_NONASCII)
        return -1;
    if (!(d & (C_UP | C_LO)))
        return 0;
    size_t k = j;
    if (o200k) {
        /* [Lu..]*[Ll..]+ or [Lu..]+[Ll..]*: capitals, then small */
        while (cls_at(u, len, k) & C_UP)
            k++;
        while (cls_at(u, len, k) & C_LO)
            k++;
    } else {
        while (cls_at(u, len, k) & (C_UP | C_LO))
            k++;
    }
    if (cls_at(u, len, k) & C_NONASCII)
        return -1;
    *end = k;
    return o200k && contraction(u, len, k, end) < 0 ? -1 : 1;
}

int oab__pretok_ascii(const oab__encoding *enc, const unsigned char *u,
                      size_t len, size_t i, size_t *end)
{
    int o200k = enc->ascii_kind == OAB__ASCII_O200K, r;
    /* cl100k tries the contractions first, o200k after its words */
    if (!o200k && (r = contraction(u, len, i, end)) != 0)
        return r > 0;
    if ((r = letters(u, len, i, o200k, end)) != 0)
        return r > 0;
    if (cls_at(u, len, i) & C_DIG)
        return digits(u, len, i, end);
    if ((r = others(u, len, i, o200k, end)) != 0)
        return r > 0;
    return spaces(u, len, i, end);
}
