/* test_util_json_scan.c - the one JSON lexer (src/util/json_scan.c) and
 * the checker, compactor and unescaper built on it: every token kind,
 * the error positions the document reader reports, UTF-8 checked or not,
 * the nesting limit, and strings long enough to take the 16- and 8-byte
 * paths with the byte that stops them at every offset. */
#include "util/json.h"
#include "util/json_scan.h"
#include "util/jdoc.h"
#include "util/limits.h"
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

/* Scans one string; returns 0/-1 and fills the outputs. */
static int scan_str(const char *text, int utf8, size_t *len, int *esc,
                    int *bad, size_t *err_at)
{
    oab__jscan s;
    oab__jscan_init(&s, text, strlen(text), utf8);
    const char *body = NULL;
    int rc = oab__jscan_string(&s, &body, len, esc);
    *bad = s.bad_utf8;
    if (rc != 0)
        *err_at = (size_t)(s.err - text);
    else if (body != text + 1 || s.p != text + *len + 2)
        return -2; /* body or end in the wrong place */
    return rc;
}

static void test_strings(void)
{
    size_t len = 0, at = 0;
    int esc = 0, bad = 0;
    CHECK_EQ_INT(scan_str("\"abc\"", 1, &len, &esc, &bad, &at), 0);
    CHECK_EQ_INT(len, 3);
    CHECK_EQ_INT(esc, 0);
    CHECK_EQ_INT(scan_str("\"a\\n\\u00e9\\\"\"", 1, &len, &esc, &bad, &at),
                 0);
    CHECK_EQ_INT(esc, 1);
    CHECK_EQ_INT(bad, 0);
    /* a surrogate pair is fine, a lone half is bad UTF-8 but good syntax */
    CHECK_EQ_INT(scan_str("\"\\ud83d\\ude00\"", 1, &len, &esc, &bad, &at), 0);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(scan_str("\"\\ud83d x\"", 1, &len, &esc, &bad, &at), 0);
    CHECK_EQ_INT(bad, 1);
    CHECK_EQ_INT(scan_str("\"\\ude00\"", 1, &len, &esc, &bad, &at), 0);
    CHECK_EQ_INT(bad, 1);
    CHECK_EQ_INT(scan_str("\"\\ude00\"", 0, &len, &esc, &bad, &at), 0);
    CHECK_EQ_INT(bad, 0); /* not looked at without the UTF-8 check */
    /* raw bytes: checked only when asked */
    CHECK_EQ_INT(scan_str("\"caf\xc3\xa9 \xe6\x9d\xb1\"", 1, &len, &esc, &bad,
                          &at), 0);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(scan_str("\"a\xc0\xafz\"", 1, &len, &esc, &bad, &at), 0);
    CHECK_EQ_INT(bad, 1); /* overlong */
    CHECK_EQ_INT(scan_str("\"\xed\xa0\x80\"", 1, &len, &esc, &bad, &at), 0);
    CHECK_EQ_INT(bad, 1); /* an encoded surrogate */
    CHECK_EQ_INT(scan_str("\"\xf4\x90\x80\x80\"", 1, &len, &esc, &bad, &at),
                 0);
    CHECK_EQ_INT(bad, 1); /* past U+10FFFF */
    CHECK_EQ_INT(scan_str("\"a\xc0\xafz\"", 0, &len, &esc, &bad, &at), 0);
    CHECK_EQ_INT(bad, 0);
    /* failures and where they are */
    CHECK_EQ_INT(scan_str("\"abc", 1, &len, &esc, &bad, &at), -1);
    CHECK_EQ_INT(at, 4); /* ran out */
    CHECK_EQ_INT(scan_str("\"a\tb\"", 1, &len, &esc, &bad, &at), -1);
    CHECK_EQ_INT(at, 2); /* a raw control byte */
    CHECK_EQ_INT(scan_str("\"a\\qb\"", 1, &len, &esc, &bad, &at), -1);
    CHECK_EQ_INT(at, 3); /* the escape letter */
    CHECK_EQ_INT(scan_str("\"\\u12g4\"", 1, &len, &esc, &bad, &at), -1);
    CHECK_EQ_INT(at, 5); /* the bad hex digit */
    CHECK_EQ_INT(scan_str("\"\\u12", 1, &len, &esc, &bad, &at), -1);
    CHECK_EQ_INT(at, 5);
    CHECK_EQ_INT(scan_str("\"\\", 1, &len, &esc, &bad, &at), -1);
    CHECK_EQ_INT(at, 2);
}

/* Every stopping byte at every offset of a long string, both modes: the
 * 16-byte, 8-byte and 1-byte paths must all see it. */
static void test_long_strings(void)
{
    static const char *const stops[] = {"\"", "\\n", "\x01", "\xc3\xa9",
                                        "\xff"};
    char buf[128];
    for (size_t k = 0; k < sizeof stops / sizeof *stops; k++) {
        for (size_t off = 0; off < 60; off++) {
            size_t sl = strlen(stops[k]);
            buf[0] = '"';
            memset(buf + 1, 'x', off);
            memcpy(buf + 1 + off, stops[k], sl);
            memset(buf + 1 + off + sl, 'y', 40);
            buf[1 + off + sl + 40] = '"';
            buf[2 + off + sl + 40] = '\0';
            for (int utf8 = 0; utf8 < 2; utf8++) {
                size_t len = 0, at = 0;
                int esc = 0, bad = 0;
                int rc = scan_str(buf, utf8, &len, &esc, &bad, &at);
                switch (k) {
                case 0: /* the string ends there */
                    CHECK(rc == -1 || (rc == 0 && len == off));
                    break;
                case 1:
                    CHECK(rc == 0 && esc == 1 && len == off + 2 + 40);
                    break;
                case 2:
                    CHECK(rc == -1 && at == off + 1);
                    break;
                case 3:
                    CHECK(rc == 0 && bad == 0 && len == off + 2 + 40);
                    break;
                default:
                    CHECK(rc == 0 && bad == utf8 && len == off + 1 + 40);
                }
            }
        }
    }
    /* case 0 closes the string early: check that it stopped there */
    oab__jscan s;
    const char *t = "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"tail";
    oab__jscan_init(&s, t, strlen(t), 1);
    CHECK_EQ_INT(oab__jscan_string(&s, NULL, NULL, NULL), 0);
    CHECK_STR(s.p, "tail");
}

static int scan_val(const char *text, size_t *err_at, int *too_deep)
{
    oab__jscan s;
    oab__jscan_init(&s, text, strlen(text), 1);
    int rc = oab__jscan_value(&s, 0);
    if (rc != 0 && err_at)
        *err_at = (size_t)(s.err - text);
    if (too_deep)
        *too_deep = s.too_deep;
    if (rc == 0 && *s.p)
        return -2; /* not all of it */
    return rc;
}

static void test_values(void)
{
    size_t at = 0;
    CHECK_EQ_INT(scan_val("-0.5e+10", &at, NULL), 0);
    CHECK_EQ_INT(scan_val("12", &at, NULL), 0);
    CHECK_EQ_INT(scan_val("true", &at, NULL), 0);
    CHECK_EQ_INT(scan_val("null", &at, NULL), 0);
    CHECK_EQ_INT(scan_val("{\"a\": [1, 2, {\"b\": false}], \"c\": \"d\"}",
                          &at, NULL), 0);
    CHECK_EQ_INT(scan_val("01", &at, NULL), -2); /* 0, then more */
    CHECK_EQ_INT(scan_val("1.", &at, NULL), -1);
    CHECK_EQ_INT(at, 2);
    CHECK_EQ_INT(scan_val("1.x", &at, NULL), -1);
    CHECK_EQ_INT(at, 2);
    CHECK_EQ_INT(scan_val("1e", &at, NULL), -1);
    CHECK_EQ_INT(at, 2);
    CHECK_EQ_INT(scan_val("-", &at, NULL), -1);
    CHECK_EQ_INT(at, 1);
    CHECK_EQ_INT(scan_val("-a", &at, NULL), -1);
    CHECK_EQ_INT(at, 1);
    CHECK_EQ_INT(scan_val("trve", &at, NULL), -1);
    CHECK_EQ_INT(at, 2);
    CHECK_EQ_INT(scan_val("tru", &at, NULL), -1);
    CHECK_EQ_INT(at, 3);
    CHECK_EQ_INT(scan_val("[1,]", &at, NULL), -1);
    CHECK_EQ_INT(at, 3);
    CHECK_EQ_INT(scan_val("{\"a\" 1}", &at, NULL), -1);
    CHECK_EQ_INT(at, 5);
    CHECK_EQ_INT(scan_val("{1:2}", &at, NULL), -1);
    CHECK_EQ_INT(at, 1);
    CHECK_EQ_INT(scan_val("[1 2]", &at, NULL), -1);
    CHECK_EQ_INT(at, 3);
    CHECK_EQ_INT(scan_val("[1", &at, NULL), -1);
    CHECK_EQ_INT(at, 2);
}

static void test_depth(void)
{
    /* OAB__JSON_MAX_DEPTH nested arrays pass, one more does not */
    size_t n = OAB__JSON_MAX_DEPTH;
    char *t = malloc(2 * n + 3);
    memset(t, '[', n);
    memset(t + n, ']', n);
    t[2 * n] = '\0';
    int deep = 0;
    CHECK_EQ_INT(scan_val(t, NULL, &deep), 0);
    CHECK_EQ_INT(deep, 0);
    CHECK_EQ_INT(oab__json_check(t, 2 * n, NULL), OAB_OK);
    oab__jdoc d = OAB__JDOC_INIT;
    CHECK_EQ_INT(oab__jdoc_parse(&d, t, 2 * n), OAB_OK);
    memset(t, '[', n + 1);
    memset(t + n + 1, ']', n + 1);
    t[2 * n + 2] = '\0';
    size_t at = 0;
    CHECK_EQ_INT(scan_val(t, &at, &deep), -1);
    CHECK_EQ_INT(deep, 1);
    CHECK_EQ_INT(at, n);
    CHECK_EQ_INT(oab__json_check(t, 2 * n + 2, NULL), OAB_EJSON);
    CHECK_EQ_INT(oab__jdoc_parse(&d, t, 2 * n + 2), OAB_EJSON);
    CHECK_EQ_INT(d.err_pos, n);
    oab__jdoc_free(&d);
    free(t);
}

static void test_check_compact_unescape(void)
{
    char type = 0;
    CHECK_EQ_INT(oab__json_check(" {\"a\" : 1} ", 11, &type), OAB_OK);
    CHECK_EQ_INT(type, OAB__JT_OBJECT);
    CHECK_EQ_INT(oab__json_check("\"s\"", 3, &type), OAB_OK);
    CHECK_EQ_INT(type, OAB__JT_STRING);
    CHECK_EQ_INT(oab__json_check("false", 5, &type), OAB_OK);
    CHECK_EQ_INT(type, OAB__JT_BOOL);
    CHECK_EQ_INT(oab__json_check("null", 4, &type), OAB_OK);
    CHECK_EQ_INT(type, OAB__JT_NULL);
    CHECK_EQ_INT(oab__json_check("-1", 2, &type), OAB_OK);
    CHECK_EQ_INT(type, OAB__JT_NUMBER);
    CHECK_EQ_INT(oab__json_check("[1] 2", 5, NULL), OAB_EJSON);
    CHECK_EQ_INT(oab__json_check("", 0, NULL), OAB_EJSON);
    CHECK_EQ_INT(oab__json_check("\"\xc3\"", 3, NULL), OAB_EJSON);
    CHECK_EQ_INT(oab__json_check(NULL, 0, NULL), OAB_EJSON);

    oab__buf b = OAB__BUF_INIT;
    const char *in = " { \"a b\" : [ 1 , \"x\\\" y\" ] }\n";
    CHECK_EQ_INT(oab__json_append_compact(&b, in, strlen(in), &type), OAB_OK);
    CHECK_STR(b.data, "{\"a b\":[1,\"x\\\" y\"]}");
    CHECK_EQ_INT(oab__json_append_compact(&b, "[", 1, NULL), OAB_EJSON);
    oab__buf_clear(&b);
    const char *esc = "a\\n\\u00e9\\ud83d\\ude00\\ud800\\/";
    CHECK_EQ_INT(oab__json_unescape(esc, strlen(esc), &b), OAB_OK);
    CHECK_STR(b.data, "a\n\xc3\xa9\xf0\x9f\x98\x80\xef\xbf\xbd/");
    oab__buf_clear(&b);
    CHECK_EQ_INT(oab__json_unescape("\\u12", 4, &b), OAB_EJSON);
    oab__buf_free(&b);

    CHECK(oab__utf8_valid("caf\xc3\xa9", 5));
    CHECK(!oab__utf8_valid("caf\xc3", 4));
    CHECK(!oab__utf8_valid("\xe0\x80\x80", 3));
}

/* oab__utf8_repair: each byte that begins no valid sequence is one
 * U+FFFD, valid text (ASCII and multi-byte) is kept, and the result is
 * always valid. */
static void test_utf8_repair(void)
{
    static const struct {
        const char *in;
        size_t n;
        const char *want;
    } cases[] = {
        {"plain", 5, "plain"},
        {"caf\xc3\xa9 \xf0\x9f\x98\x80", 10, "caf\xc3\xa9 \xf0\x9f\x98\x80"},
        {"a\xff" "b", 3, "a\xef\xbf\xbd" "b"},
        {"\xc3", 1, "\xef\xbf\xbd"},                   /* cut at the end */
        {"\xc3 x", 3, "\xef\xbf\xbd x"},               /* cut mid-text */
        {"\xe2\x82", 2, "\xef\xbf\xbd\xef\xbf\xbd"}, /* each byte */
        {"\xed\xa0\x80", 3,                           /* a surrogate */
         "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
        {"\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd"}, /* an overlong */
        {"\"x\xfe\"", 4, "\"x\xef\xbf\xbd\""},
        {"", 0, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        oab__buf b = OAB__BUF_INIT;
        CHECK_EQ_INT(oab__utf8_repair(&b, cases[i].in, cases[i].n), OAB_OK);
        CHECK(b.len == strlen(cases[i].want) &&
              memcmp(b.data ? b.data : "", cases[i].want, b.len) == 0);
        CHECK(oab__utf8_valid(b.data ? b.data : "", b.len));
        oab__buf_free(&b);
    }
}

/* oab__json_parse_cost: one node a value (commas and opening brackets
 * outside strings, plus one) and the text's bytes; never less than what
 * cJSON takes. */
static void test_parse_cost(void)
{
    size_t node = sizeof(cJSON) + 32;
    /* the length is the literal's, never counted by hand */
#define COST(lit, nv) oab__json_parse_cost(lit, sizeof lit - 1, nv)
    CHECK(COST("0", NULL) == node + 1);
    CHECK(COST("[0,0,0]", NULL) == 4 * node + 7);
    CHECK(COST("{\"a\":{\"b\":[]}}", NULL) == 4 * node + 14);
    /* commas and brackets inside strings, an escaped quote among them */
    CHECK(COST("\"a,[{\\\",b\"", NULL) == node + 10);
    CHECK(COST("[\"x\\\\\",1]", NULL) == 3 * node + 9);
    CHECK(COST("", NULL) == node);
    size_t n = 0;
    CHECK(COST("{\"a\":[1,2]}", &n) == 4 * node + 11);
    CHECK(n == 4);
    /* the length bounds the walk: a prefix counts only its own bytes */
    CHECK(oab__json_parse_cost("[0,0,0]", 2, NULL) == 2 * node + 2);
#undef COST
}

/* Random mutations of a JSON text: the checker and the document reader
 * (two walkers over the one lexer) accept and refuse the same texts. */
static void test_walkers_agree(void)
{
    static const char seed[] =
        "{\"a\": [1, -2.5e3, true, false, null, \"x\\ny\\u00e9\"],"
        " \"b\": {\"c\": {}, \"d\": []}, \"e\": \"\"}";
    static const char alphabet[] = "{}[]\":,\\ 0123456789.eE+-truefalsn\t\n";
    char buf[sizeof seed + 8];
    unsigned long x = 12345;
    oab__jdoc d = OAB__JDOC_INIT;
    size_t disagree = 0, accepted = 0;
    for (int round = 0; round < 20000; round++) {
        memcpy(buf, seed, sizeof seed);
        size_t len = sizeof seed - 1;
        int edits = 1 + (int)(round % 3);
        for (int e = 0; e < edits; e++) {
            x = x * 6364136223846793005UL + 1442695040888963407UL;
            size_t at = (size_t)(x >> 33) % len;
            char c = alphabet[(x >> 13) % (sizeof alphabet - 1)];
            if ((x >> 7) % 4 == 0 && len > 1) { /* delete */
                memmove(buf + at, buf + at + 1, len - at - 1);
                len--;
            } else {
                buf[at] = c; /* replace */
            }
        }
        int ok1 = oab__json_check(buf, len, NULL) == OAB_OK;
        int ok2 = oab__jdoc_parse(&d, buf, len) == OAB_OK;
        accepted += ok1;
        if (ok1 != ok2)
            disagree++;
    }
    CHECK_EQ_INT(disagree, 0);
    CHECK(accepted > 100); /* the mutations do not all break the text */
    oab__jdoc_free(&d);
}

/* oab__json_each_nul: every string decoding to U+0000, with its path. */
static int collect_nul(const char *path, void *ud)
{
    oab__buf *b = ud;
    oab__buf_puts(b, path);
    oab__buf_putc(b, ';');
    return 0;
}

static void test_each_nul(void)
{
    oab__buf b = OAB__BUF_INIT;
    const char *t =
        "{\"a\":{\"pattern\":\"^x\\u0000y$\"},\"l\":[1,\"\\u0000\",{\"k\":"
        "\"ok\\\\u0000\"}],\"n\\u0000k\":true,\"e\":\"\\u00001\","
        "\"u\":\"\\u0001\\\"\\u0000\"}";
    CHECK_OK(oab__json_each_nul(t, strlen(t), collect_nul, &b));
    /* an escaped backslash before u0000 is not a NUL; a NUL key counts */
    CHECK_STR(b.data, "a.pattern;l[1];n\\u0000k;e;u;");
    oab__buf_clear(&b);
    CHECK_OK(oab__json_each_nul("{\"a\":\"\\\\u0000\"}", 15, collect_nul,
                                &b));
    CHECK(b.len == 0);
    CHECK_OK(oab__json_each_nul("[]", 2, collect_nul, &b));
    CHECK(b.len == 0);
    CHECK_EQ_INT(oab__json_each_nul("{\"a\":", 5, collect_nul, &b), OAB_EJSON);
    oab__buf_free(&b);
}

int main(void)
{
    test_each_nul();
    test_strings();
    test_long_strings();
    test_values();
    test_depth();
    test_check_compact_unescape();
    test_utf8_repair();
    test_parse_cost();
    test_walkers_agree();
    return t_summary("test_util_json_scan");
}
