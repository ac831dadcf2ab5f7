/* testutil.h - a minimal test harness: CHECK macros that count and report
 * file:line, and a summary line. Each test program returns non-zero when a
 * check failed. */
#ifndef OAB_TESTUTIL_H
#define OAB_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int t_pass, t_fail;

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (cond) {                                                        \
            t_pass++;                                                      \
        } else {                                                           \
            t_fail++;                                                      \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__,         \
                    __LINE__, #cond);                                      \
        }                                                                  \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                 \
    do {                                                                   \
        long long _a = (long long)(a), _b = (long long)(b);                \
        if (_a == _b) {                                                    \
            t_pass++;                                                      \
        } else {                                                           \
            t_fail++;                                                      \
            fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n",    \
                    __FILE__, __LINE__, #a, _a, #b, _b);                   \
        }                                                                  \
    } while (0)

#define CHECK_STR(a, b)                                                    \
    do {                                                                   \
        const char *_a = (a), *_b = (b);                                   \
        if ((_a == NULL && _b == NULL) ||                                  \
            (_a && _b && strcmp(_a, _b) == 0)) {                           \
            t_pass++;                                                      \
        } else {                                                           \
            t_fail++;                                                      \
            fprintf(stderr, "%s:%d: %s\n   got: %s\n  want: %s\n",         \
                    __FILE__, __LINE__, #a, _a ? _a : "(null)",            \
                    _b ? _b : "(null)");                                   \
        }                                                                  \
    } while (0)

#define CHECK_OK(expr) CHECK_EQ_INT((expr), OAB_OK)

/* Prints the closing line CTest logs show, returns the exit code. */
static inline int t_summary(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, t_pass, t_fail);
    return t_fail ? 1 : 0;
}

#endif
