/* output.h - what the command prints: aligned tables, CSV fields, JSON,
 * colour (only on a terminal, never with NO_COLOR) and progress lines. */
#ifndef OAB_CLI_OUTPUT_H
#define OAB_CLI_OUTPUT_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdio.h>

/* ANSI colour codes; out_c() gives "" when colour is off. */
#define OUT_BOLD "\033[1m"
#define OUT_RED "\033[31m"
#define OUT_GREEN "\033[32m"
#define OUT_YELLOW "\033[33m"
#define OUT_DIM "\033[2m"
#define OUT_RESET "\033[0m"
const char *out_c(int on, const char *code);

/* Colour for a batch or result status word (green/red/yellow/""). */
const char *out_status_color(const char *status);

/* Whether colour should be used on a stream: a terminal, $NO_COLOR unset
 * or empty, $TERM not "dumb". */
int out_want_color(FILE *f);
/* $TERM is "dumb": a terminal that takes no escape sequences. */
int out_term_dumb(void);
int out_isatty(FILE *f);
/* Terminal width of stderr (or $COLUMNS), 80 when unknown. */
int out_term_width(void);

typedef struct out_table out_table;
out_table *out_table_new(size_t ncols, const char *const *headers);
/* Copies the row; NULL cells print as "-". Newlines become spaces. */
void out_table_add(out_table *t, const char *const *cells);
/* Prints with columns aligned; cells wider than max_width (0 = no limit)
 * are cut with "...". Headers bold when `color`. */
void out_table_print(const out_table *t, FILE *f, int color, size_t max_width);
size_t out_table_rows(const out_table *t);
void out_table_free(out_table *t);

/* One CSV field (RFC 4180: quoted when it holds , " CR or LF). */
void out_csv_field(FILE *f, const char *s);

/* Adds "k": v to o, or "k": null when v is NULL. */
void out_json_add_str(cJSON *o, const char *k, const char *v);

/* Prints JSON (pretty when asked) and a newline. */
void out_json(FILE *f, const cJSON *v, int pretty);

/* "1h02m03s", "4m05s", "12s" */
void out_duration(char *buf, size_t n, double seconds);
/* "2026-11-25 03:40:00" in UTC, "-" for 0 */
void out_time(char *buf, size_t n, long long unix_s);

/* Progress on a terminal: rewrites the current line of f. */
void out_progress(FILE *f, const char *text);
/* Ends a progress line (newline) if one is showing. */
void out_progress_done(FILE *f);
/* A bar of `width` cells filled to frac (0..1), e.g. "[#####     ]".
 * Writes into buf (size >= width + 3). */
void out_bar(char *buf, size_t n, double frac, int width);

#endif
