/* bench_tokens.c - speed of the tokenizer and of the estimate.
 *
 *   bench_tokens count ENCODING CORPUS.jsonl COUNTS.txt
 *       counts every JSON string of the corpus (held in memory; the
 *       fastest of 3 passes is reported) and writes one count a line.
 *   bench_tokens estimate INPUT.jsonl
 *       input tokens and output bound of every line, as `oaibatch
 *       estimate` does (the file read and split into lines included).
 * Prints one JSON object of figures on stdout. Rank files: as the
 * library finds them ($OAB_ENCODINGS_DIR). */

#include "util/clock.h"
#include "util/json.h"
#include "util/str.h"
#include <stdlib.h>
#include <string.h>

typedef struct strings {
    char **s;
    size_t *len;
    size_t n, cap, bytes;
} strings;

static int on_string(const char *line, size_t len, long lineno, void *ud)
{
    strings *v = ud;
    cJSON *j = oab__json_parse(line, len);
    if (!cJSON_IsString(j)) {
        fprintf(stderr, "line %ld: not a JSON string\n", lineno);
        cJSON_Delete(j);
        return 1;
    }
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 1024;
        v->s = realloc(v->s, v->cap * sizeof *v->s);
        v->len = realloc(v->len, v->cap * sizeof *v->len);
    }
    v->len[v->n] = strlen(j->valuestring);
    v->s[v->n] = oab__strdup(j->valuestring);
    v->bytes += v->len[v->n];
    v->n++;
    cJSON_Delete(j);
    return 0;
}

static int bench_count(const char *enc, const char *corpus, const char *out)
{
    oab_error err;
    double t0 = oab__now();
    oab_tokenizer *t = NULL;
    if (oab_tokenizer_load(&t, enc, NULL, &err) != OAB_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    double load = oab__now() - t0;
    strings v = { 0 };
    if (oab_jsonl_read_path(corpus, on_string, &v, &err) != OAB_OK) {
        fprintf(stderr, "%s: %s\n", corpus, err.message);
        return 1;
    }
    size_t *counts = calloc(v.n, sizeof *counts);
    double best = 1e30;
    unsigned long long total = 0;
    for (int pass = 0; pass < 3; pass++) {
        total = 0;
        double s = oab__now();
        for (size_t i = 0; i < v.n; i++) {
            if (oab_tokenizer_count(&counts[i], t, v.s[i], v.len[i]) != OAB_OK) {
                fprintf(stderr, "string %zu: cannot count\n", i + 1);
                return 1;
            }
            total += counts[i];
        }
        double d = oab__now() - s;
        if (d < best)
            best = d;
    }
    FILE *f = fopen(out, "w");
    for (size_t i = 0; i < v.n; i++)
        fprintf(f, "%zu\n", counts[i]);
    fclose(f);
    printf("{\"impl\":\"oaibatch\",\"encoding\":\"%s\",\"strings\":%zu,"
           "\"bytes\":%zu,\"tokens\":%llu,\"load_s\":%.4f,\"count_s\":%.4f,"
           "\"mb_per_s\":%.2f,\"jit\":%d}\n",
           enc, v.n, v.bytes, total, load, best, v.bytes / best / 1e6,
           oab_tokenizer_uses_jit(t));
    for (size_t i = 0; i < v.n; i++)
        free(v.s[i]);
    free(v.s);
    free(v.len);
    free(counts);
    oab_tokenizer_free(t);
    return 0;
}

typedef struct est {
    oab_tokenizers *set;
    unsigned long long input, output, lines, bytes;
} est;

static int on_request(const char *line, size_t len, long lineno, void *ud)
{
    est *e = ud;
    oab_request_tokens rt;
    oab_error err;
    if (oab_request_tokens_line(&rt, NULL, e->set, line, len, NULL, &err) !=
        OAB_OK) {
        fprintf(stderr, "line %ld: %s\n", lineno, err.message);
        return 1;
    }
    e->input += rt.input;
    e->output += rt.output_max;
    e->lines++;
    e->bytes += len + 1;
    return 0;
}

static int bench_estimate(const char *input)
{
    est e = { 0 };
    oab_error err;
    oab_tokenizers_new(&e.set, NULL);
    const oab_tokenizer *t;
    /* loading the rank file is not part of the per-byte figure */
    double l0 = oab__now();
    if (oab_tokenizers_get(&t, e.set, "o200k_base", &err) != OAB_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    double load = oab__now() - l0;
    double t0 = oab__now();
    if (oab_jsonl_read_path(input, on_request, &e, &err) != OAB_OK) {
        fprintf(stderr, "%s: %s\n", input, err.message);
        return 1;
    }
    double d = oab__now() - t0;
    printf("{\"impl\":\"oaibatch estimate\",\"lines\":%llu,\"bytes\":%llu,"
           "\"input_tokens\":%llu,\"output_max\":%llu,\"load_s\":%.4f,"
           "\"estimate_s\":%.4f,\"mb_per_s\":%.2f}\n",
           e.lines, e.bytes, e.input, e.output, load, d, e.bytes / d / 1e6);
    oab_tokenizers_free(e.set);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "count") == 0)
        return bench_count(argv[2], argv[3], argv[4]);
    if (argc == 3 && strcmp(argv[1], "estimate") == 0)
        return bench_estimate(argv[2]);
    fprintf(stderr, "usage: bench_tokens count ENCODING CORPUS OUT | "
                    "estimate INPUT\n");
    return 2;
}
