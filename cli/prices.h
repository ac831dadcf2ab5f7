/* prices.h - the price table of `oaibatch estimate` (data/prices.tsv,
 * built into the command; --prices FILE reads another). */
#ifndef OAB_CLI_PRICES_H
#define OAB_CLI_PRICES_H

#include "cli.h"

/* USD per 1M tokens; a negative price means "not offered" ("-"). */
typedef struct cli_price {
    char *model;
    double input, cached_input, output;
    double batch_input, batch_cached_input, batch_output;
    double max_output; /* the model's output limit in tokens */
} cli_price;

typedef struct cli_prices {
    cli_price *rows;
    size_t n, cap;
} cli_prices;

/* The built-in table's text (data/prices.tsv at build time). */
extern const char cli_prices_builtin[];

/* Parses a price table: '#' comments, then rows of eight columns (model
 * and seven numbers or "-"). A bad row: OAB_EVALIDATION, err saying
 * "SOURCE:LINE: ..." with err->line set. */
oab_status cli_prices_parse(cli_prices *p, const char *text, size_t len,
                            const char *source, oab_error *err);
/* The row of a model: its exact name, else the longest row name that is
 * a prefix followed by '-' ("gpt-4o-2024-08-06" -> "gpt-4o"). NULL if
 * none. */
const cli_price *cli_prices_find(const cli_prices *p, const char *model);
void cli_prices_free(cli_prices *p);

#endif
