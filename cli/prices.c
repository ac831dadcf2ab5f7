/* prices.c - reading the price table of `oaibatch estimate`. */
#include "util/buf.h"
#include "util/err.h"
#include "util/str.h"
#include "prices.h"

#include <stdlib.h>
#include <string.h>

#define N_COLUMNS 8

static const char *const columns[N_COLUMNS] = {
    "model",       "input",        "cached_input",       "output",
    "batch_input", "batch_cached_input", "batch_output", "max_output"
};

static int parse_price(const char *s, double *out)
{
    if (strcmp(s, "-") == 0) {
        *out = -1;
        return 0;
    }
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v >= 0) || v > 1e9)
        return -1;
    *out = v;
    return 0;
}

/* Splits a row at blanks into at most max fields (NUL-terminated in
 * place); returns the count, max + 1 when there are more. */
static int split_fields(char *row, char **f, int max)
{
    int n = 0;
    char *p = row;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            return n;
        if (n == max)
            return max + 1;
        f[n++] = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        if (*p)
            *p++ = '\0';
    }
}

static oab_status parse_row(cli_prices *p, char *row, const char *source,
                            long lineno, oab_error *err)
{
    char *f[N_COLUMNS];
    int n = split_fields(row, f, N_COLUMNS);
    if (n == 0)
        return OAB_OK;
    if (n != N_COLUMNS)
        return oab__err(err, OAB_EVALIDATION, lineno,
                        "%s:%ld: %s columns, expected %d (%s ...)", source,
                        lineno, n > N_COLUMNS ? "more than 8" : "fewer",
                        N_COLUMNS, columns[0]);
    double v[N_COLUMNS - 1];
    for (int i = 1; i < N_COLUMNS; i++)
        if (parse_price(f[i], &v[i - 1]) != 0)
            return oab__err(err, OAB_EVALIDATION, lineno,
                            "%s:%ld: column %s: '%s' is not a number or '-'",
                            source, lineno, columns[i], f[i]);
    if (cli_prices_find(p, f[0]) &&
        strcmp(cli_prices_find(p, f[0])->model, f[0]) == 0)
        return oab__err(err, OAB_EVALIDATION, lineno,
                        "%s:%ld: model %s is given twice", source, lineno,
                        f[0]);
    cli_price *g = oab__grow(p->rows, &p->cap, p->n, sizeof *p->rows, 32);
    char *model = oab__strdup(f[0]);
    if (!g || !model) {
        free(model);
        if (g)
            p->rows = g;
        return oab__err(err, OAB_ENOMEM, lineno, "out of memory");
    }
    p->rows = g;
    cli_price *r = &p->rows[p->n++];
    r->model = model;
    r->input = v[0];
    r->cached_input = v[1];
    r->output = v[2];
    r->batch_input = v[3];
    r->batch_cached_input = v[4];
    r->batch_output = v[5];
    r->max_output = v[6] < 0 ? 0 : v[6];
    return OAB_OK;
}

oab_status cli_prices_parse(cli_prices *p, const char *text, size_t len,
                            const char *source, oab_error *err)
{
    memset(p, 0, sizeof *p);
    const char *s = text, *end = text + len;
    long lineno = 0;
    oab_status st = OAB_OK;
    while (s < end && st == OAB_OK) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *e = nl ? nl : end;
        lineno++;
        const char *hash = memchr(s, '#', (size_t)(e - s));
        size_t n = (size_t)((hash ? hash : e) - s);
        char *row = oab__strndup(s, n);
        if (!row)
            st = oab__err(err, OAB_ENOMEM, lineno, "out of memory");
        else if (n && row[n - 1] == '\r')
            row[n - 1] = '\0';
        if (row)
            st = parse_row(p, row, source, lineno, err);
        free(row);
        s = nl ? nl + 1 : end;
    }
    if (st == OAB_OK && !p->n)
        st = oab__err(err, OAB_EVALIDATION, 0, "%s: no price rows", source);
    if (st != OAB_OK)
        cli_prices_free(p);
    return st;
}

const cli_price *cli_prices_find(const cli_prices *p, const char *model)
{
    const cli_price *best = NULL;
    size_t best_len = 0;
    for (size_t i = 0; model && i < p->n; i++) {
        const char *m = p->rows[i].model;
        size_t k = strlen(m);
        if (strcmp(m, model) == 0)
            return &p->rows[i];
        if (k > best_len && strncmp(m, model, k) == 0 && model[k] == '-') {
            best = &p->rows[i];
            best_len = k;
        }
    }
    return best;
}

void cli_prices_free(cli_prices *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->rows[i].model);
    free(p->rows);
    memset(p, 0, sizeof *p);
}
