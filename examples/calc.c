/* calc.c - see calc.h. */
#include "calc.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CALC_MAX_DEPTH 64   /* nesting of parentheses and unary signs */
#define CALC_MAX_LEN 4096   /* longest expression accepted */

typedef struct calc {
    const char *start;
    const char *p;
    int depth;
    char *err;
    size_t errlen;
    int failed;
} calc;

/* Records the first failure: "<what> at <1-based position>". */
static void fail(calc *c, const char *what)
{
    if (c->failed)
        return;
    c->failed = 1;
    if (c->errlen)
        snprintf(c->err, c->errlen, "%s at %ld", what,
                 (long)(c->p - c->start) + 1);
}

static void skip_spaces(calc *c)
{
    while (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')
        c->p++;
}

static void fail_unexpected(calc *c)
{
    char what[32];
    if (*c->p == '\0') {
        fail(c, "unexpected end of expression");
        return;
    }
    if (isprint((unsigned char)*c->p))
        snprintf(what, sizeof what, "unexpected '%c'", *c->p);
    else
        snprintf(what, sizeof what, "unexpected byte 0x%02x",
                 (unsigned char)*c->p);
    fail(c, what);
}

static double parse_expr(calc *c);

static double parse_number(calc *c)
{
    const char *q = c->p;
    char buf[128];
    size_t n;
    double v;
    char *end;

    /* digits [. digits] [e [+-] digits], or . digits: checked by hand so
     * strtod never sees hex, inf or nan */
    while (isdigit((unsigned char)*q))
        q++;
    if (*q == '.') {
        q++;
        while (isdigit((unsigned char)*q))
            q++;
    }
    if (q == c->p || (q == c->p + 1 && *c->p == '.')) {
        fail_unexpected(c);
        return 0;
    }
    if (*q == 'e' || *q == 'E') {
        const char *e = q + 1;
        if (*e == '+' || *e == '-')
            e++;
        if (isdigit((unsigned char)*e)) {
            while (isdigit((unsigned char)*e))
                e++;
            q = e;
        }
    }
    n = (size_t)(q - c->p);
    if (n >= sizeof buf) {
        fail(c, "number too long");
        return 0;
    }
    memcpy(buf, c->p, n);
    buf[n] = '\0';
    errno = 0;
    v = strtod(buf, &end);
    if (errno == ERANGE && fabs(v) > 1.0) {
        fail(c, "number out of range");
        return 0;
    }
    c->p = q;
    return v;
}

static double parse_factor(calc *c)
{
    double v;

    skip_spaces(c);
    if (c->failed)
        return 0;
    if (++c->depth > CALC_MAX_DEPTH) {
        fail(c, "expression nested too deeply");
        return 0;
    }
    if (*c->p == '-' || *c->p == '+') {
        int neg = *c->p == '-';
        c->p++;
        v = parse_factor(c);
        v = neg ? -v : v;
    } else if (*c->p == '(') {
        c->p++;
        v = parse_expr(c);
        skip_spaces(c);
        if (!c->failed && *c->p != ')') {
            if (*c->p == '\0')
                fail(c, "missing ')'");
            else
                fail_unexpected(c);
        }
        if (!c->failed)
            c->p++;
    } else if (isdigit((unsigned char)*c->p) || *c->p == '.') {
        v = parse_number(c);
    } else {
        fail_unexpected(c);
        v = 0;
    }
    c->depth--;
    return v;
}

static double parse_term(calc *c)
{
    double v = parse_factor(c);

    for (;;) {
        char op;
        double rhs;
        skip_spaces(c);
        if (c->failed || (*c->p != '*' && *c->p != '/'))
            return v;
        op = *c->p++;
        rhs = parse_factor(c);
        if (c->failed)
            return 0;
        if (op == '/') {
            if (rhs == 0) {
                fail(c, "division by zero");
                return 0;
            }
            v /= rhs;
        } else {
            v *= rhs;
        }
    }
}

static double parse_expr(calc *c)
{
    double v = parse_term(c);

    for (;;) {
        char op;
        double rhs;
        skip_spaces(c);
        if (c->failed || (*c->p != '+' && *c->p != '-'))
            return v;
        op = *c->p++;
        rhs = parse_term(c);
        v = op == '+' ? v + rhs : v - rhs;
    }
}

int calc_eval(const char *expr, double *out, char *err, size_t errlen)
{
    calc c;
    double v;

    memset(&c, 0, sizeof c);
    c.start = c.p = expr ? expr : "";
    c.err = err;
    c.errlen = errlen;
    if (errlen)
        err[0] = '\0';
    if (strlen(c.start) > CALC_MAX_LEN) {
        fail(&c, "expression too long");
        return -1;
    }
    v = parse_expr(&c);
    skip_spaces(&c);
    if (!c.failed && *c.p != '\0')
        fail_unexpected(&c);
    if (!c.failed && !isfinite(v))
        fail(&c, "result out of range");
    if (c.failed)
        return -1;
    *out = v == 0 ? 0 : v; /* no "-0" */
    return 0;
}

const char *calc_format(double value, char *buf, size_t size)
{
    snprintf(buf, size, "%.12g", value);
    return buf;
}
