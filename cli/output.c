/* output.c - tables, CSV, JSON, colour and progress lines. */
#include "oaibatch.h"
#include <cjson/cJSON.h>
#include "util/str.h"
#include "output.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

const char *out_c(int on, const char *code)
{
    return on ? code : "";
}

const char *out_status_color(const char *s)
{
    if (!s)
        return "";
    if (!strcmp(s, "completed") || !strcmp(s, "succeeded"))
        return OUT_GREEN;
    if (!strcmp(s, "failed") || !strcmp(s, "http_error") ||
        !strcmp(s, "error") || !strcmp(s, "malformed") ||
        !strcmp(s, "invalid_output"))
        return OUT_RED;
    if (!strcmp(s, "expired") || !strcmp(s, "cancelled") ||
        !strcmp(s, "cancelling") || !strcmp(s, "missing"))
        return OUT_YELLOW;
    return "";
}

int out_isatty(FILE *f)
{
    return isatty(fileno(f));
}

int out_term_dumb(void)
{
    const char *term = getenv("TERM");
    return term && strcmp(term, "dumb") == 0;
}

int out_want_color(FILE *f)
{
    const char *nc = getenv("NO_COLOR");
    if (nc && *nc)
        return 0;
    return !out_term_dumb() && out_isatty(f);
}

int out_term_width(void)
{
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 10)
        return ws.ws_col;
    const char *c = getenv("COLUMNS");
    if (c && atoi(c) > 10)
        return atoi(c);
    return 80;
}

/* ---- tables ---- */

struct out_table {
    size_t ncols;
    char **cells;   /* headers first, then rows, row-major */
    size_t nrows;   /* including the header row */
    size_t cap;
};

static char *cell_copy(const char *s)
{
    if (!s)
        s = "-";
    char *c = oab__strdup(s);
    if (!c)
        return NULL;
    for (char *p = c; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
    return c;
}

out_table *out_table_new(size_t ncols, const char *const *headers)
{
    out_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->ncols = ncols;
    out_table_add(t, headers);
    return t;
}

void out_table_add(out_table *t, const char *const *cells)
{
    if (!t)
        return;
    if (t->nrows == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 16;
        char **n = realloc(t->cells, nc * t->ncols * sizeof *n);
        if (!n)
            return;
        t->cells = n;
        t->cap = nc;
    }
    for (size_t i = 0; i < t->ncols; i++)
        t->cells[t->nrows * t->ncols + i] = cell_copy(cells[i]);
    t->nrows++;
}

size_t out_table_rows(const out_table *t)
{
    return t && t->nrows ? t->nrows - 1 : 0;
}

/* display width: UTF-8 code points */
static size_t u8_width(const char *s)
{
    size_t w = 0;
    for (; s && *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            w++;
    return w;
}

/* byte length of the first `w` code points */
static size_t u8_prefix(const char *s, size_t w)
{
    size_t i = 0, seen = 0;
    while (s[i]) {
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            if (seen == w)
                break;
            seen++;
        }
        i++;
    }
    return i;
}

void out_table_print(const out_table *t, FILE *f, int color, size_t max_width)
{
    if (!t)
        return;
    size_t *w = calloc(t->ncols, sizeof *w);
    if (!w)
        return;
    for (size_t r = 0; r < t->nrows; r++)
        for (size_t c = 0; c < t->ncols; c++) {
            size_t cw = u8_width(t->cells[r * t->ncols + c]);
            if (max_width && cw > max_width)
                cw = max_width;
            if (cw > w[c])
                w[c] = cw;
        }
    for (size_t r = 0; r < t->nrows; r++) {
        if (r == 0 && color)
            fputs(OUT_BOLD, f);
        for (size_t c = 0; c < t->ncols; c++) {
            const char *s = t->cells[r * t->ncols + c];
            if (!s)
                s = "";
            size_t cw = u8_width(s);
            const char *sc = r > 0 && color ? out_status_color(s) : "";
            if (*sc)
                fputs(sc, f);
            if (max_width && cw > max_width) {
                size_t keep = max_width > 3 ? max_width - 3 : max_width;
                fwrite(s, 1, u8_prefix(s, keep), f);
                if (max_width > 3)
                    fputs("...", f);
                cw = max_width;
            } else {
                fputs(s, f);
            }
            if (*sc)
                fputs(OUT_RESET, f);
            if (c + 1 < t->ncols)
                for (size_t k = cw; k < w[c] + 2; k++)
                    fputc(' ', f);
        }
        if (r == 0 && color)
            fputs(OUT_RESET, f);
        fputc('\n', f);
    }
    free(w);
}

void out_table_free(out_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t);
}

/* ---- CSV, JSON ---- */

void out_csv_field(FILE *f, const char *s)
{
    if (!s)
        return;
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

void out_json(FILE *f, const cJSON *v, int pretty)
{
    char *s = pretty ? cJSON_Print(v) : cJSON_PrintUnformatted(v);
    if (s) {
        fputs(s, f);
        fputc('\n', f);
        free(s);
    }
}

/* ---- time ---- */

void out_duration(char *buf, size_t n, double seconds)
{
    if (seconds < 0)
        seconds = 0;
    long s = (long)(seconds + 0.5);
    if (s >= 3600)
        snprintf(buf, n, "%ldh%02ldm%02lds", s / 3600, s / 60 % 60, s % 60);
    else if (s >= 60)
        snprintf(buf, n, "%ldm%02lds", s / 60, s % 60);
    else
        snprintf(buf, n, "%lds", s);
}

void out_time(char *buf, size_t n, long long unix_s)
{
    if (unix_s <= 0) {
        snprintf(buf, n, "-");
        return;
    }
    time_t t = (time_t)unix_s;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm);
}

/* ---- progress ---- */

static int progress_showing;

void out_progress(FILE *f, const char *text)
{
    int width = out_term_width();
    size_t keep = u8_prefix(text, (size_t)(width > 1 ? width - 1 : 79));
    fprintf(f, "\r%.*s\033[K", (int)keep, text);
    fflush(f);
    progress_showing = 1;
}

void out_progress_done(FILE *f)
{
    if (progress_showing) {
        fputc('\n', f);
        fflush(f);
        progress_showing = 0;
    }
}

void out_bar(char *buf, size_t n, double frac, int width)
{
    if (n < (size_t)width + 3)
        width = n > 3 ? (int)n - 3 : 0;
    if (frac < 0)
        frac = 0;
    if (frac > 1)
        frac = 1;
    int fill = (int)(frac * width + 0.5);
    size_t k = 0;
    buf[k++] = '[';
    for (int i = 0; i < width; i++)
        buf[k++] = i < fill ? '#' : '.';
    buf[k++] = ']';
    buf[k] = '\0';
}

void out_json_add_str(cJSON *o, const char *k, const char *v)
{
    if (v)
        cJSON_AddStringToObject(o, k, v);
    else
        cJSON_AddNullToObject(o, k);
}
