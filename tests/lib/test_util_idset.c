/* test_util_idset.c - the custom_id set (src/util/idset.c): adding and
 * finding, first value kept, insertion order, keys with NUL bytes and the
 * empty key, growth across many keys, long keys past an arena chunk. */
#include "util/idset.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_basic(void)
{
    oab__idset s = OAB__IDSET_INIT;
    CHECK_EQ_INT(oab__idset_find(&s, "a", 1), OAB__IDSET_NONE);
    size_t i = 99;
    int added = 0;
    CHECK_OK(oab__idset_add(&s, "req-1", 5, 1, &i, &added));
    CHECK_EQ_INT(i, 0);
    CHECK_EQ_INT(added, 1);
    CHECK_OK(oab__idset_add(&s, "req-2", 5, 2, &i, &added));
    CHECK_EQ_INT(i, 1);
    CHECK_EQ_INT(added, 1);
    /* again: not added, the first value stays */
    CHECK_OK(oab__idset_add(&s, "req-1", 5, 7, &i, &added));
    CHECK_EQ_INT(i, 0);
    CHECK_EQ_INT(added, 0);
    CHECK_EQ_INT(oab__idset_at(&s, 0)->value, 1);
    CHECK_EQ_INT(s.n, 2);
    /* prefixes and NUL bytes are other keys; the empty key is a key */
    CHECK_EQ_INT(oab__idset_find(&s, "req-", 4), OAB__IDSET_NONE);
    CHECK_OK(oab__idset_add(&s, "a\0b", 3, 3, &i, &added));
    CHECK_EQ_INT(added, 1);
    CHECK_EQ_INT(oab__idset_find(&s, "a", 1), OAB__IDSET_NONE);
    CHECK_EQ_INT(oab__idset_find(&s, "a\0b", 3), 2);
    CHECK_OK(oab__idset_add(&s, "", 0, 4, NULL, &added));
    CHECK_EQ_INT(added, 1);
    CHECK_EQ_INT(oab__idset_find(&s, "", 0), 3);
    /* keys are copied and NUL-terminated */
    char k[] = "temp";
    CHECK_OK(oab__idset_add(&s, k, 4, 5, NULL, NULL));
    k[0] = 'X';
    CHECK_EQ_INT(oab__idset_find(&s, "temp", 4), 4);
    CHECK_STR(oab__idset_at(&s, 4)->key, "temp");
    CHECK_EQ_INT(oab__idset_at(&s, 4)->len, 4);
    /* the value can be changed in place */
    oab__idset_at(&s, 1)->value = 42;
    CHECK_EQ_INT(oab__idset_at(&s, oab__idset_find(&s, "req-2", 5))->value,
                 42);
    oab__idset_free(&s);
    CHECK_EQ_INT(s.n, 0);
    oab__idset_free(&s); /* twice is fine */
}

static void test_many(void)
{
    oab__idset s = OAB__IDSET_INIT;
    enum { N = 100000 };
    char k[32];
    for (long i = 0; i < N; i++) {
        int n = snprintf(k, sizeof k, "request-%ld", i);
        int added = 0;
        CHECK_OK(oab__idset_add(&s, k, (size_t)n, i + 1, NULL, &added));
        if (!added)
            CHECK(added);
    }
    CHECK_EQ_INT(s.n, N);
    size_t bad = 0;
    for (long i = 0; i < N; i++) {
        int n = snprintf(k, sizeof k, "request-%ld", i);
        size_t at = oab__idset_find(&s, k, (size_t)n);
        if (at != (size_t)i || oab__idset_at(&s, at)->value != i + 1 ||
            strcmp(oab__idset_at(&s, at)->key, k) != 0)
            bad++;
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(oab__idset_find(&s, "request-100000", 14), OAB__IDSET_NONE);
    /* a key longer than an arena chunk */
    size_t big = 200000;
    char *long_key = malloc(big);
    memset(long_key, 'k', big);
    CHECK_OK(oab__idset_add(&s, long_key, big, -1, NULL, NULL));
    CHECK_EQ_INT(oab__idset_find(&s, long_key, big), N);
    CHECK_EQ_INT(oab__idset_find(&s, long_key, big - 1), OAB__IDSET_NONE);
    free(long_key);
    oab__idset_free(&s);
}

static void test_fnv(void)
{
    /* the published FNV-1a 64 test vectors */
    CHECK(oab__fnv1a64("", 0) == 0xcbf29ce484222325ULL);
    CHECK(oab__fnv1a64("a", 1) == 0xaf63dc4c8601ec8cULL);
    CHECK(oab__fnv1a64("foobar", 6) == 0x85944171f73967e8ULL);
}

int main(void)
{
    test_basic();
    test_many();
    test_fnv();
    return t_summary("test_util_idset");
}
