/* Unit tests of the examples' helpers: the safe calculator (calc.c), the
 * small JSON reader (common.c) and the local tool implementations
 * (weather_tools.c). No server needed. */
#include "oaibatch.h"
#include <math.h>
#include <string.h>

#include "calc.h"
#include "common.h"
#include "testutil.h"
#include "weather_tools.h"

static double eval_ok(const char *expr)
{
    double v = NAN;
    char err[128];
    int rc = calc_eval(expr, &v, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "unexpected failure for '%s': %s\n", expr, err);
    CHECK_EQ_INT(rc, 0);
    return v;
}

static void eval_fails(const char *expr, const char *want)
{
    double v = 12345;
    char err[128];
    CHECK_EQ_INT(calc_eval(expr, &v, err, sizeof err), -1);
    CHECK(v == 12345); /* not touched */
    if (strstr(err, want) == NULL)
        fprintf(stderr, "'%s': got error '%s', want '%s'\n", expr, err, want);
    CHECK(strstr(err, want) != NULL);
}

static void test_calc(void)
{
    char buf[64];

    CHECK(eval_ok("15 * 23 + 7") == 352);
    CHECK(eval_ok("2+2") == 4);
    CHECK(eval_ok("7 - 2 - 1") == 4);          /* left associative */
    CHECK(eval_ok("8 / 4 / 2") == 1);
    CHECK(eval_ok("2 + 3 * 4") == 14);         /* precedence */
    CHECK(eval_ok("(2 + 3) * 4") == 20);
    CHECK(eval_ok("-3 + 5") == 2);             /* unary minus */
    CHECK(eval_ok("-(2 + 3)") == -5);
    CHECK(eval_ok("--4") == 4);
    CHECK(eval_ok("+4 * -2") == -8);
    CHECK(eval_ok("1.5 * 4") == 6);            /* decimals */
    CHECK(eval_ok(".5 + 0.25") == 0.75);
    CHECK(eval_ok("1e3 / 8") == 125);
    CHECK(eval_ok("  ( ( 1 ) )\n") == 1);
    CHECK(fabs(eval_ok("10 / 3") - 3.333333333333) < 1e-9);

    CHECK_STR(calc_format(352, buf, sizeof buf), "352");
    CHECK_STR(calc_format(2.5, buf, sizeof buf), "2.5");
    CHECK_STR(calc_format(eval_ok("0 * -1"), buf, sizeof buf), "0");
    CHECK_STR(calc_format(eval_ok("10/3"), buf, sizeof buf), "3.33333333333");

    eval_fails("1 / 0", "division by zero");
    eval_fails("1 / (2 - 2)", "division by zero");
    eval_fails("", "unexpected end");
    eval_fails("2 +", "unexpected end");
    eval_fails("(1 + 2", "missing ')'");
    eval_fails("1 + 2)", "unexpected ')' at 6");
    eval_fails("2 ** 3", "unexpected '*' at 4");
    eval_fails("__import__('os').system('rm -rf /')", "unexpected '_' at 1");
    eval_fails("a", "unexpected 'a'");
    eval_fails("1 2", "unexpected '2'");
    eval_fails("0x10", "unexpected 'x'");      /* no hex through strtod */
    eval_fails("inf", "unexpected 'i'");
    eval_fails("nan", "unexpected 'n'");
    eval_fails(".", "unexpected '.'");
    eval_fails("1e999 * 1", "out of range");
    eval_fails("1e308 * 10", "result out of range");
    {
        /* deep nesting is refused, not a stack overflow */
        char deep[300];
        memset(deep, '(', 200);
        strcpy(deep + 200, "1");
        eval_fails(deep, "nested too deeply");
        memset(deep, '-', 200);
        strcpy(deep + 200, "1");
        eval_fails(deep, "nested too deeply");
    }
    {
        double v;
        CHECK_EQ_INT(calc_eval(NULL, &v, NULL, 0), -1);
        CHECK_EQ_INT(calc_eval("1+", &v, NULL, 0), -1);
    }
}

static void test_json(void)
{
    const char *json = "{\"location\":\"Par\\u00eds \\\"x\\\"\",\"temperature\":"
                       " -21.5 ,\"nested\":{\"a\":[1,{\"b\":\"}\"}]},"
                       "\"condition\":\"sunny\\n\",\"humidity\":60,"
                       "\"emoji\":\"\\ud83d\\ude00\"}";
    char buf[64];
    double d;
    const char *v;
    size_t len;

    CHECK(ex_json_string(json, "location", buf, sizeof buf));
    CHECK_STR(buf, "Par\xC3\xADs \"x\"");
    CHECK(ex_json_string(json, "condition", buf, sizeof buf));
    CHECK_STR(buf, "sunny\n");
    CHECK(ex_json_string(json, "emoji", buf, sizeof buf));
    CHECK_STR(buf, "\xF0\x9F\x98\x80");
    CHECK(ex_json_number(json, "temperature", &d));
    CHECK(d == -21.5);
    CHECK(ex_json_number(json, "humidity", &d));
    CHECK(d == 60);
    CHECK(ex_json_member(json, "nested", &v, &len));
    CHECK_EQ_INT(len, strlen("{\"a\":[1,{\"b\":\"}\"}]}"));
    CHECK(!ex_json_member(json, "b", &v, &len));      /* top level only */
    CHECK(!ex_json_number(json, "location", &d));    /* wrong type */
    CHECK(!ex_json_string(json, "humidity", buf, sizeof buf));
    CHECK(!ex_json_string(json, "location", buf, 4)); /* does not fit */
    CHECK(!ex_json_member("[1,2]", "a", &v, &len));
    CHECK(!ex_json_member("{\"a\":", "a", &v, &len));
    CHECK(!ex_json_member("{\"a\":1", "b", &v, &len));
    CHECK(!ex_json_member(NULL, "a", &v, &len));
    CHECK(ex_json_member("{}", "a", &v, &len) == 0);

    {
        ex_str s = {NULL, 0, 0};
        CHECK(ex_str_puts(&s, "["));
        CHECK(ex_str_quote(&s, "a\"b\\c\nd\x01"));
        CHECK(ex_str_puts(&s, "]"));
        CHECK_STR(s.data, "[\"a\\\"b\\\\c\\nd\\u0001\"]");
        free(s.data);
    }
}

static void test_tools(void)
{
    char out[256];

    CHECK_STR(ex_tools[0].name, "get_weather");
    CHECK_STR(ex_tools[1].name, "calculate");
    CHECK_EQ_INT(ex_run_tool("calculate", "{\"expression\":\"15 * 23 + 7\"}",
                             out, sizeof out), 0);
    CHECK_STR(out, "Result: 352");
    CHECK_EQ_INT(ex_run_tool("calculate", "{\"expression\":\"1/0\"}", out,
                             sizeof out), 0);
    CHECK_STR(out, "Error: division by zero at 4");
    CHECK_EQ_INT(ex_run_tool("calculate", "{}", out, sizeof out), 0);
    CHECK_STR(out, "Error: missing argument 'expression'");
    CHECK_EQ_INT(ex_run_tool("get_weather", "{\"location\":\"Tokyo\"}", out,
                             sizeof out), 0);
    CHECK_STR(out, "Weather in Tokyo: 22\xC2\xB0" "C, sunny, 60% humidity");
    CHECK_EQ_INT(ex_run_tool("get_weather",
                             "{\"location\":\"London, UK\",\"units\":"
                             "\"fahrenheit\"}", out, sizeof out), 0);
    CHECK_STR(out, "Weather in London, UK: 22\xC2\xB0" "F, sunny, 60% humidity");
    CHECK_EQ_INT(ex_run_tool("rm", "{}", out, sizeof out), -1);
    CHECK_STR(out, "Error: unknown tool 'rm'");
}

int main(void)
{
    test_calc();
    test_json();
    test_tools();
    return t_summary("examples_calc");
}
