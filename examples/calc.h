/* calc.h - a safe arithmetic evaluator for the tools example.
 *
 * The seed document's calculator runs eval(expression) on text a model
 * wrote ("Don't use eval in production!"). This one never runs the text:
 * a small recursive-descent parser reads numbers (decimals, exponents),
 * + - * / and parentheses, with unary minus and plus, and computes the value.
 * Anything else is an error, never code.
 *
 *   expr   = term   { ("+" | "-") term }
 *   term   = factor { ("*" | "/") factor }
 *   factor = ("-" | "+") factor | number | "(" expr ")"
 */
#ifndef OAB_EXAMPLES_CALC_H
#define OAB_EXAMPLES_CALC_H

#include <stddef.h>

/* Evaluates `expr`. Returns 0 and sets *out on success; returns -1 and
 * writes a one-line reason ("unexpected 'x' at 3", "division by zero")
 * into err (of `errlen` bytes, may be 0) on failure. */
int calc_eval(const char *expr, double *out, char *err, size_t errlen);

/* Formats a value the way people write it: 352, 2.5, -0.125 (at most 12
 * significant digits). Returns buf. */
const char *calc_format(double value, char *buf, size_t size);

#endif /* OAB_EXAMPLES_CALC_H */
