/* realpath */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700
#endif
/* cmd_submit.c - `oaibatch submit FILE` and `oaibatch run FILE`:
 * validate, split, journal, upload, create (each step recorded before the
 * next network call), then wait; run also writes the results. */
#include "oaibatch.h"
#include <cjson/cJSON.h>
#include "util/clock.h"
#include "util/str.h"
#include "collect.h"
#include "commands.h"
#include "estimate.h"
#include "output.h"
#include "part.h"
#include "queue.h"
#include "reuse.h"
#include "view.h"
#include "wait.h"
#include "util/sha256.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct submit_opts {
    const char *path;        /* the file read (standard input's copy) */
    const char *name;        /* FILE as given, for messages ("-") */
    char *stdin_copy;        /* the copy of standard input, removed after */
    const char *endpoint;
    cli_part_opts part;      /* --completion-window, --output-expires-after */
    int delete_inputs;       /* --delete-inputs-after */
    const char *md_keys[16];
    const char *md_vals[16];
    size_t n_md;
    int force;
    int no_wait;
    int dry_run;
    long max_lines;
    long max_bytes;
    int limits_given;
    cli_wait_opts wait;
    cli_results_opts *results; /* run: where the results go */
    char *input_model;       /* the first line's body.model (owned) */
    long reask;              /* run --reask N: re-ask rounds */
    double max_cost;         /* --max-cost USD; -1: not given */
    long long token_limit;   /* --enqueued-token-limit N; 0: none */
    long tier;               /* --tier N; 0: none */
    int reuse;               /* --reuse-answers */
} submit_opts;

enum {
    S_NOWAIT = 1, S_METADATA, S_ENDPOINT, S_WINDOW, S_FORCE, S_MAXLINES,
    S_MAXBYTES, S_DRYRUN, S_EXPIRES, S_DELETE_INPUTS, S_REASK, S_MAXCOST,
    S_TOKLIMIT, S_TIER, S_REUSE
};

/* --NAME ARG as a number from lo to hi into *out: 1, or -1 after saying
 * "--NAME takes WHAT". */
static int long_in(const char *cmd, const char *name, const char *arg,
                   long lo, long hi, const char *what, long *out)
{
    if (cli_parse_long(cmd, name, arg, out) != 0)
        return -1;
    if (*out < lo || *out > hi) {
        cli_usage_error(cmd, "--%s takes %s", name, what);
        return -1;
    }
    return 1;
}

/* returns 1 consumed, 0 not one, -1 bad */
static int submit_opt(const char *cmd, int id, const char *arg, void *st)
{
    submit_opts *o = st;
    int r = cli_wait_opt(cmd, id, arg, &o->wait);
    if (!r && o->results)
        r = cli_results_opt(cmd, id, arg, o->results);
    if (r)
        return r;
    switch (id) {
    case S_NOWAIT:
        o->no_wait = 1;
        return 1;
    case S_METADATA: {
        const char *eq = strchr(arg, '=');
        if (!eq || eq == arg) {
            cli_usage_error(cmd, "--metadata takes KEY=VALUE, not '%s'", arg);
            return -1;
        }
        if (o->n_md >= 14) {
            cli_usage_error(cmd, "at most 14 --metadata pairs (the API's 16 "
                            "less the two oaibatch adds)");
            return -1;
        }
        if (strncmp(arg, "oaibatch_", 9) == 0) {
            cli_usage_error(cmd, "--metadata keys starting with oaibatch_ "
                            "are oaibatch's own");
            return -1;
        }
        if ((size_t)(eq - arg) > 64 || strlen(eq + 1) > 512) {
            cli_usage_error(cmd, "metadata keys hold at most 64 characters, "
                            "values 512");
            return -1;
        }
        /* the key is cut at '=' below, in a copy kept for the run */
        o->md_keys[o->n_md] = oab__strndup(arg, (size_t)(eq - arg));
        o->md_vals[o->n_md++] = eq + 1;
        return 1;
    }
    case S_ENDPOINT:
        o->endpoint = arg;
        return 1;
    case S_WINDOW:
        o->part.completion_window = arg;
        return 1;
    case S_EXPIRES: {
        long v;
        if (cli_parse_long(cmd, "output-expires-after", arg, &v) != 0)
            return -1;
        if (v < 3600 || v > 2592000) {
            cli_usage_error(cmd, "--output-expires-after takes 3600 to "
                            "2592000 seconds (1 hour to 30 days)");
            return -1;
        }
        o->part.output_expires_after = v;
        return 1;
    }
    case S_DELETE_INPUTS:
        o->delete_inputs = 1;
        return 1;
    case S_FORCE:
        o->force = 1;
        return 1;
    case S_DRYRUN:
        o->dry_run = 1;
        return 1;
    case S_MAXLINES:
        if (cli_parse_long(cmd, "max-lines", arg, &o->max_lines) != 0)
            return -1;
        if (o->max_lines < 1 || o->max_lines > OAB_MAX_LINES) {
            cli_usage_error(cmd, "--max-lines takes 1 to %d", OAB_MAX_LINES);
            return -1;
        }
        o->limits_given = 1;
        return 1;
    case S_MAXBYTES:
        if (cli_parse_long(cmd, "max-bytes", arg, &o->max_bytes) != 0)
            return -1;
        if (o->max_bytes < 1024) {
            cli_usage_error(cmd, "--max-bytes takes at least 1024");
            return -1;
        }
        if (o->max_bytes > CLI_MAX_PART_BYTES)
            fprintf(stderr, "oaibatch: warning: --max-bytes %ld is over "
                    "%ld, the smaller reading of the API's 200 MB per file; "
                    "the provider may refuse such parts\n", o->max_bytes,
                    (long)CLI_MAX_PART_BYTES);
        o->limits_given = 1;
        return 1;
    case S_MAXCOST: {
        char *end;
        errno = 0;
        double v = strtod(arg, &end);
        if (errno || end == arg || *end || !(v >= 0) || v > 1e12) {
            cli_usage_error(cmd, "--max-cost takes an amount in USD (0 or "
                            "more), not '%s'", arg);
            return -1;
        }
        o->max_cost = v;
        return 1;
    }
    case S_TOKLIMIT: {
        long v = 0;
        int ok = long_in(cmd, "enqueued-token-limit", arg, 1, LONG_MAX,
                        "1 or more tokens", &v);
        o->token_limit = v;
        return ok;
    }
    case S_TIER:
        return long_in(cmd, "tier", arg, 1, 5, "OpenAI's usage tier, 1 to 5",
                       &o->tier);
    case S_REUSE:
        o->reuse = 1;
        return 1;
    case S_REASK:
        return long_in(cmd, "reask", arg, 0, 100, "0 to 100 rounds",
                       &o->reask);
    default:
        return 0;
    }
}

static void submit_opts_free(submit_opts *o)
{
    for (size_t i = 0; i < o->n_md; i++)
        free((char *)o->md_keys[i]);
    if (o->stdin_copy)
        remove(o->stdin_copy);
    free(o->stdin_copy);
    free(o->input_model);
}

/* ---- Anthropic ---- */

static int first_model(const char *line, size_t len, long lineno, void *ud)
{
    (void)lineno;
    char **model = ud;
    cJSON *j = cJSON_ParseWithLength(line, len);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(j, "body"), "model");
    if (cJSON_IsString(m))
        *model = oab__strdup(m->valuestring);
    cJSON_Delete(j);
    return 1; /* the first line is enough */
}

/* Reads the first line's model, so that a model written "anthropic:..."
 * chooses the provider before the client is made (validation checks
 * later that every line has the same model). */
static void peek_model(cli_ctx *ctx, submit_opts *o)
{
    free(o->input_model);
    o->input_model = NULL;
    oab_jsonl_read_path(o->path, first_model, &o->input_model, NULL);
    ctx->input_model = o->input_model;
}

typedef struct translate_ctx {
    const char *name;
    oab_anthropic_options opts;
    size_t n_problems;
    int failed;       /* not a refusal: out of memory */
} translate_ctx;

static int translate_line(const char *line, size_t len, long lineno, void *ud)
{
    translate_ctx *x = ud;
    char *out = NULL;
    oab_error err = { 0, 0, "" };
    oab_status st = oab_anthropic_request_from_openai(&out, line, len, lineno,
                                                      &x->opts, NULL, &err);
    oab_free(out);
    if (st == OAB_EVALIDATION || st == OAB_EJSON) {
        /* the library names its own option; the command's is this */
        int no_max = strstr(err.message, "requires max_tokens") != NULL;
        if (x->n_problems++ < 20)
            fprintf(stderr, "%s: %s%s\n", x->name,
                    err.message[0] ? err.message : oab_strerror(st),
                    no_max ? " (the command's: --anthropic-max-tokens N)"
                           : "");
    } else if (st != OAB_OK) {
        x->failed = 1;
        return 1;
    }
    return 0;
}

/* Anthropic: every line is translated once before anything is journaled
 * or sent, so that a line Anthropic cannot take is named with its field
 * (the translation the create does would refuse it part by part). */
static int check_anthropic(cli_ctx *ctx, const submit_opts *o)
{
    if (o->n_md)
        return cli_usage_error(o->results ? "run" : "submit",
                               "--metadata: Anthropic's message batches have "
                               "no metadata");
    if (o->token_limit || o->tier)
        return cli_usage_error(o->results ? "run" : "submit",
                               "--enqueued-token-limit / --tier: OpenAI's "
                               "limit; Anthropic's batches have none");
    if (o->part.output_expires_after)
        return cli_usage_error(o->results ? "run" : "submit",
                               "--output-expires-after: Anthropic keeps "
                               "results 29 days; it cannot be set");
    if (o->part.completion_window &&
        strcmp(o->part.completion_window, "24h") != 0)
        return cli_usage_error("submit", "--completion-window: Anthropic's "
                               "batches run within 24h");
    translate_ctx x = { o->name, OAB_ANTHROPIC_OPTIONS_INIT, 0, 0 };
    x.opts.default_max_tokens = ctx->anthropic_max_tokens;
    oab_error err = { 0, 0, "" };
    oab_status st = oab_jsonl_read_path(o->path, translate_line, &x, &err);
    if (x.failed || (st != OAB_OK && st != OAB_ESTOPPED)) {
        cli_error(ctx, "cannot read %s: %s", o->name,
                  err.message[0] ? err.message : oab_strerror(st));
        return CLI_EXIT_LOCAL;
    }
    if (x.n_problems) {
        cli_error(ctx, "%s cannot be sent to Anthropic (%zu line%s refused); "
                  "nothing was sent", o->name, x.n_problems,
                  x.n_problems == 1 ? "" : "s");
        return CLI_EXIT_INVALID;
    }
    return CLI_EXIT_OK;
}

static char *metadata_json(const submit_opts *o)
{
    cJSON *md = cJSON_CreateObject();
    for (size_t i = 0; i < o->n_md; i++) {
        cJSON_DeleteItemFromObjectCaseSensitive(md, o->md_keys[i]);
        cJSON_AddStringToObject(md, o->md_keys[i], o->md_vals[i]);
    }
    char *s = cJSON_PrintUnformatted(md);
    cJSON_Delete(md);
    return s;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* sha256 over the options that change what is paid for, then the file */
static int fingerprint(const submit_opts *o, const char *base_url,
                       int anthropic, char hex[65])
{
    oab__sha256 s;
    oab__sha256_init(&s);
    char head[256];
    /* the default limit is written as it was before it became
     * CLI_MAX_PART_BYTES, so that jobs journaled then still re-attach */
    snprintf(head, sizeof head, "oaibatch-job-v1\n%ld\n%ld\n",
             o->max_lines, o->limits_given ? o->max_bytes
                                           : (long)OAB_MAX_FILE_BYTES);
    oab__sha256_update(&s, head, strlen(head));
    if (anthropic) /* openai jobs keep the text they always had */
        oab__sha256_update(&s, "anthropic\n", 10);
    const char *parts[3] = { base_url, o->endpoint ? o->endpoint : "",
                             o->part.completion_window
                                 ? o->part.completion_window
                                 : "" };
    for (int i = 0; i < 3; i++) {
        oab__sha256_update(&s, parts[i], strlen(parts[i]));
        oab__sha256_update(&s, "\n", 1);
    }
    char *md[14];
    size_t n = 0;
    for (size_t i = 0; i < o->n_md; i++)
        md[n++] = oab__sprintf("%s=%s", o->md_keys[i], o->md_vals[i]);
    qsort(md, n, sizeof md[0], cmp_str);
    for (size_t i = 0; i < n; i++) {
        if (md[i]) {
            oab__sha256_update(&s, md[i], strlen(md[i]) + 1);
            free(md[i]);
        }
    }
    FILE *f = fopen(o->path, "rb");
    if (!f)
        return -1;
    char buf[65536];
    size_t k;
    while ((k = fread(buf, 1, sizeof buf, f)) > 0)
        oab__sha256_update(&s, buf, k);
    int bad = ferror(f);
    fclose(f);
    if (bad)
        return -1;
    oab__sha256_final_hex(&s, hex);
    return 0;
}

static char *new_job_id(void)
{
    unsigned char r[8];
    int fd = open("/dev/urandom", O_RDONLY);
    ssize_t got = fd >= 0 ? read(fd, r, sizeof r) : -1;
    if (fd >= 0)
        close(fd);
    if (got != (ssize_t)sizeof r) {
        unsigned long long x = (unsigned long long)oab__unix_now() ^
                               ((unsigned long long)getpid() << 32) ^
                               (unsigned long long)(oab__now() * 1e9);
        for (int i = 0; i < 8; i++)
            r[i] = (unsigned char)(x >> (8 * i));
    }
    return oab__sprintf("job_%02x%02x%02x%02x%02x%02x%02x%02x", r[0], r[1],
                        r[2], r[3], r[4], r[5], r[6], r[7]);
}

static void print_problems(cli_ctx *ctx, const char *path,
                           const oab_validation *v)
{
    for (size_t i = 0; i < v->n_problems; i++)
        fprintf(stderr, "%s:%ld: %s: %s\n", path, v->problems[i].line,
                v->problems[i].code ? v->problems[i].code : "problem",
                v->problems[i].message ? v->problems[i].message : "");
    cli_error(ctx, "%s failed validation (%zu problem%s); nothing was sent. "
              "See: oaibatch validate %s", path, v->n_problems_total,
              v->n_problems_total == 1 ? "" : "s", path);
}

/* Validates the input; checks --endpoint against the lines' url. */
static int validate_input(cli_ctx *ctx, const submit_opts *o,
                          oab_validation **out)
{
    oab_validate_options vo;
    cli_validate_options(&vo, 20);
    oab_validation *v = NULL;
    oab_status st = oab_validate_path(&v, o->path, &vo);
    int rc = CLI_EXIT_OK;
    if (st == OAB_EVALIDATION && v) {
        print_problems(ctx, o->name, v);
        rc = CLI_EXIT_INVALID;
    } else if (st != OAB_OK) {
        cli_error(ctx, "cannot read %s: %s", o->name, oab_strerror(st));
        rc = CLI_EXIT_LOCAL;
    } else if (v->n_lines == 0) {
        cli_error(ctx, "%s holds no requests", o->name);
        rc = CLI_EXIT_INVALID;
    } else if (o->endpoint && v->url && strcmp(o->endpoint, v->url) != 0) {
        cli_error(ctx, "--endpoint %s does not match the url of the lines "
                  "of %s (%s); nothing was sent", o->endpoint, o->name,
                  v->url);
        rc = CLI_EXIT_USAGE;
    } else if (cli_is_anthropic(ctx)) {
        rc = check_anthropic(ctx, o);
    }
    if (rc != CLI_EXIT_OK) {
        oab_validation_free(v);
        v = NULL;
    }
    *out = v;
    return rc;
}

/* Splits the input into parts in `dir`. */
static int split_input(cli_ctx *ctx, const submit_opts *o, const char *dir,
                       long max_lines, oab_split **out)
{
    oab_split_options so = OAB_SPLIT_OPTIONS_INIT;
    so.max_lines = (size_t)max_lines;
    so.max_bytes = (unsigned long long)o->max_bytes;
    if (o->limits_given) {
        so.margin = 0; /* the user's numbers are meant exactly */
    } else if (cli_is_anthropic(ctx)) {
        /* Anthropic's limits; the translated body is not the input's
         * size (keys renamed, system moved, tools reshaped), so an eighth
         * of the bytes is kept back on top of the split's margin */
        so.max_lines = OAB_ANTHROPIC_MAX_REQUESTS;
        so.max_bytes = OAB_ANTHROPIC_MAX_BATCH_BYTES -
                       OAB_ANTHROPIC_MAX_BATCH_BYTES / 8;
    }
    oab_error err = { 0, 0, "" };
    oab_status st = oab_split_path(out, o->path, dir, &so, &err);
    if (st != OAB_OK) {
        cli_error(ctx, "cannot split %s: %s", o->name,
                  err.message[0] ? err.message : oab_strerror(st));
        return CLI_EXIT_LOCAL;
    }
    return CLI_EXIT_OK;
}

/* --dry-run: validates and splits into a temporary folder, shows the
 * parts, removes them; sends nothing and writes no journal. */
static int dry_run(cli_ctx *ctx, submit_opts *o)
{
    int rc = cli_check_input(ctx, o->path);
    if (rc == CLI_EXIT_OK)
        peek_model(ctx, o);
    oab_validation *v = NULL;
    if (rc == CLI_EXIT_OK)
        rc = validate_input(ctx, o, &v);
    if (rc != CLI_EXIT_OK)
        return rc;
    const char *base = getenv("TMPDIR");
    char *dir = oab__sprintf("%s/oaibatch_dry_XXXXXX",
                             base && *base ? base : "/tmp");
    if (!dir || !mkdtemp(dir)) {
        cli_error(ctx, "cannot create a temporary folder: %s",
                  strerror(errno));
        free(dir);
        oab_validation_free(v);
        return CLI_EXIT_LOCAL;
    }
    oab_split *sp = NULL;
    rc = split_input(ctx, o, dir, o->max_lines, &sp);
    static const char *const hdr[] = { "PART", "LINES", "BYTES", "FIRST LINE",
                                       "LAST LINE" };
    out_table *tb = out_table_new(5, hdr);
    for (size_t i = 0; sp && i < sp->n_parts; i++) {
        const oab_split_part *p = &sp->parts[i];
        char c[5][32];
        snprintf(c[0], sizeof c[0], "%zu", i + 1);
        snprintf(c[1], sizeof c[1], "%zu", p->n_lines);
        snprintf(c[2], sizeof c[2], "%llu", p->n_bytes);
        snprintf(c[3], sizeof c[3], "%ld", p->first_line);
        snprintf(c[4], sizeof c[4], "%ld",
                 p->n_lines ? p->input_lines[p->n_lines - 1] : 0);
        const char *row[5] = { c[0], c[1], c[2], c[3], c[4] };
        out_table_add(tb, row);
        remove(p->path);
    }
    if (rc == CLI_EXIT_OK && ctx->json) {
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddStringToObject(doc, "file", o->name);
        cJSON_AddNumberToObject(doc, "requests", (double)v->n_lines);
        out_json_add_str(doc, "endpoint", o->endpoint ? o->endpoint : v->url);
        out_json_add_str(doc, "model", v->model);
        cJSON *parts = cJSON_AddArrayToObject(doc, "parts");
        for (size_t i = 0; i < sp->n_parts; i++) {
            const oab_split_part *p = &sp->parts[i];
            cJSON *po = cJSON_CreateObject();
            cJSON_AddNumberToObject(po, "part", (double)(i + 1));
            cJSON_AddNumberToObject(po, "lines", (double)p->n_lines);
            cJSON_AddNumberToObject(po, "bytes", (double)p->n_bytes);
            cJSON_AddNumberToObject(po, "first_line", (double)p->first_line);
            cJSON_AddNumberToObject(po, "last_line", (double)(
                p->n_lines ? p->input_lines[p->n_lines - 1] : 0));
            cJSON_AddItemToArray(parts, po);
        }
        cJSON_AddBoolToObject(doc, "dry_run", 1);
        out_json(stdout, doc, 1);
        cJSON_Delete(doc);
        cli_info(ctx, "dry run: nothing was sent");
    } else if (rc == CLI_EXIT_OK) {
        printf("%s: %zu request%s, %s, model %s, %zu part%s\n", o->name,
               v->n_lines, v->n_lines == 1 ? "" : "s",
               o->endpoint ? o->endpoint : v->url,
               v->model ? v->model : "-", sp->n_parts,
               sp->n_parts == 1 ? "" : "s");
        out_table_print(tb, stdout, ctx->color, 0);
        cli_info(ctx, "dry run: nothing was sent");
    }
    out_table_free(tb);
    oab_split_free(sp);
    rmdir(dir);
    free(dir);
    oab_validation_free(v);
    return rc;
}

/* The enqueued-token limit for the input's model: --enqueued-token-limit,
 * else --tier's figure, else 0 (no queue). -1 after saying that --tier
 * has no figure for the model. */
static long long token_limit(cli_ctx *ctx, const submit_opts *o,
                             const char *model)
{
    if (o->token_limit > 0 || !o->tier)
        return o->token_limit;
    long long lim = 0;
    if (cli_queue_tier_limit((int)o->tier, model, &lim) != 0) {
        cli_error(ctx, "--tier %ld: no published enqueued-token limit for "
                  "model %s; give it with --enqueued-token-limit N",
                  o->tier, model ? model : "-");
        return -1;
    }
    return lim;
}

/* Splits as split_input does and, under an enqueued-token limit, so that
 * every part's input tokens fit: fewer lines a part until the largest
 * part fits. Exit code. */
static int split_fitting(cli_ctx *ctx, const submit_opts *o, const char *dir,
                         long long lim, long n_lines, oab_split **out)
{
    long max_lines = o->max_lines;
    oab_tokenizers *set = NULL;
    if (lim > 0) {
        long long total = 0, biggest = 0;
        if (oab_tokenizers_new(&set, NULL) != OAB_OK ||
            cli_queue_count(set, o->path, &total, &biggest) != 0) {
            oab_tokenizers_free(set);
            cli_error(ctx, "cannot count the input tokens of %s", o->name);
            return CLI_EXIT_LOCAL;
        }
        if (biggest > lim) {
            oab_tokenizers_free(set);
            cli_error(ctx, "a line of %s holds %lld input tokens, more than "
                      "the enqueued-token limit of %lld; nothing was sent",
                      o->name, biggest, lim);
            return CLI_EXIT_INVALID;
        }
        if (total > lim) {
            long fit = (long)((double)n_lines * (double)lim / (double)total);
            if (fit < 1)
                fit = 1;
            if (fit < max_lines)
                max_lines = fit;
        }
    }
    for (;;) {
        int rc = split_input(ctx, o, dir, max_lines, out);
        if (rc != CLI_EXIT_OK || lim <= 0) {
            oab_tokenizers_free(set);
            return rc;
        }
        long long worst = 0;
        for (size_t i = 0; i < (*out)->n_parts; i++) {
            long long t = 0;
            if (cli_queue_count(set, (*out)->parts[i].path, &t, NULL) != 0)
                t = lim + 1;
            if (t > worst)
                worst = t;
        }
        if (worst <= lim || max_lines == 1) {
            oab_tokenizers_free(set);
            return CLI_EXIT_OK;
        }
        long next = (long)((double)max_lines * (double)lim / (double)worst);
        max_lines = next >= max_lines ? max_lines - 1 : next < 1 ? 1 : next;
        for (size_t i = 0; i < (*out)->n_parts; i++)
            remove((*out)->parts[i].path);
        oab_split_free(*out);
        *out = NULL;
    }
}

/* Makes the job in the journal (validated and split) or finds the one
 * this file was submitted as. *job_out is the job, with its parts;
 * *limit_out the enqueued-token limit it is queued under (0: none). */
static int prepare_job(cli_ctx *ctx, const submit_opts *o, const char *fp,
                       journal_job **job_out, long long *limit_out)
{
    *limit_out = 0;
    *job_out = NULL;
    oab_client *c = cli_client(ctx);
    journal *jr = cli_journal(ctx);
    if (!c || !jr)
        return !c ? CLI_EXIT_API : CLI_EXIT_LOCAL;
    const char *base_url = oab_client_base_url(c);
    if (!o->force) {
        journal_job *old = NULL;
        int r = journal_job_by_fingerprint(jr, fp, &old);
        if (r < 0) {
            cli_error(ctx, "journal: %s", journal_errmsg(jr));
            return CLI_EXIT_LOCAL;
        }
        if (r == 0) {
            char when[32];
            out_time(when, sizeof when, old->created_at);
            /* the fingerprint is the content's, not the path's: a copy
             * under another name is the same job */
            int same = old->input_path && !strcmp(old->input_path, o->name);
            if (same)
                cli_info(ctx, "%s was submitted before as %s (%s UTC); "
                         "re-attaching (--force for a new job)", o->name,
                         old->id, when);
            else
                cli_info(ctx, "%s holds what %s held when it was submitted "
                         "as %s (%s UTC); re-attaching (--force for a new "
                         "job)", o->name, old->input_path ? old->input_path
                                                          : "another file",
                         old->id, when);
            *job_out = old;
            *limit_out = token_limit(ctx, o, old->model);
            return *limit_out < 0 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
        }
    }

    oab_validation *v = NULL;
    int rc = validate_input(ctx, o, &v);
    if (rc != CLI_EXIT_OK)
        return rc;
    journal_job *job = calloc(1, sizeof *job);
    if (!job) {
        oab_validation_free(v);
        return CLI_EXIT_LOCAL;
    }
    job->id = new_job_id();
    job->created_at = oab__unix_now();
    job->input_path = strcmp(o->name, "-") ? realpath(o->name, NULL) : NULL;
    if (!job->input_path)
        job->input_path = oab__strdup(o->name);
    job->fingerprint = oab__strdup(fp);
    job->base_url = cli_url_public(base_url); /* no credentials */
    job->endpoint = oab__strdup(o->endpoint ? o->endpoint : v->url);
    job->model = oab__strdup(v->model);
    job->n_lines = (long)v->n_lines;
    job->metadata_json = metadata_json(o);
    job->provider = oab__strdup(oab_provider_str(oab_client_provider(c)));
    oab_validation_free(v);
    long long lim = token_limit(ctx, o, job->model);
    if (lim < 0) {
        journal_job_free(job);
        return CLI_EXIT_USAGE;
    }

    /* split into the journal's folder, next to the journal */
    char *dir = oab__strdup(journal_path(jr));
    char *slash = dir ? strrchr(dir, '/') : NULL;
    if (slash)
        *slash = '\0';
    char *parts_dir = oab__sprintf("%s/parts/%s", slash ? dir : ".", job->id);
    free(dir);
    if (!parts_dir || cli_mkdirs(parts_dir) != 0) {
        cli_error(ctx, "cannot create %s", parts_dir ? parts_dir : "a folder");
        free(parts_dir);
        journal_job_free(job);
        return CLI_EXIT_LOCAL;
    }
    oab_split *sp = NULL;
    rc = split_fitting(ctx, o, parts_dir, lim, job->n_lines, &sp);
    free(parts_dir);
    if (rc != CLI_EXIT_OK) {
        journal_job_free(job);
        return rc;
    }
    job->parts = calloc(sp->n_parts ? sp->n_parts : 1, sizeof *job->parts);
    if (!job->parts) {
        oab_split_free(sp);
        journal_job_free(job);
        return CLI_EXIT_LOCAL;
    }
    for (size_t i = 0; i < sp->n_parts; i++) {
        journal_part *p = &job->parts[job->n_parts++];
        p->idx = (int)i + 1;
        p->kind = oab__strdup("part");
        p->path = oab__strdup(sp->parts[i].path);
        p->n_lines = (long)sp->parts[i].n_lines;
        p->input_lines = journal_ranges_encode(sp->parts[i].input_lines,
                                          sp->parts[i].n_lines);
    }
    oab_split_free(sp);
    if (journal_job_insert(jr, job) != 0) {
        cli_error(ctx, "journal: %s", journal_errmsg(jr));
        journal_job_free(job);
        return CLI_EXIT_LOCAL;
    }
    if (job->n_parts > 1)
        cli_info(ctx, "%s: %ld lines, split into %zu parts", o->name,
                 job->n_lines, job->n_parts);
    *job_out = job;
    *limit_out = lim;
    return CLI_EXIT_OK;
}

/* Makes or finds the job and starts every part that has no batch. */
static int start_job(cli_ctx *ctx, const submit_opts *o, const char *fp,
                     char **job_id)
{
    journal_job *job = NULL;
    long long lim = 0;
    int rc = prepare_job(ctx, o, fp, &job, &lim);
    if (rc != CLI_EXIT_OK) {
        journal_job_free(job);
        return rc;
    }
    /* every part at once, or queued under the limit (the journal's, for
     * a job queued before) */
    rc = cli_queue_drive(ctx, job, lim, &o->part, &o->wait);
    if (rc != CLI_EXIT_OK && ctx->create_refused)
        /* the same request again gets the same answer */
        cli_info(ctx, "the job is in the journal, but the server refused "
                 "it (HTTP %ld): running the same command again asks the "
                 "same; change what it refused and submit with --force, "
                 "and remove this one with: oaibatch jobs rm %s "
                 "--delete-files", ctx->create_refused, job->id);
    else if (rc != CLI_EXIT_OK)
        cli_info(ctx, "the job is in the journal; run the same command again "
                 "to carry on: job %s", job->id);
    else
        *job_id = oab__strdup(job->id);
    journal_job_free(job);
    return rc;
}

/* Submits (or re-attaches); fills t with the job's target. The input's
 * lock is held from the journal look-up until every part has its batch,
 * so that processes submitting the same input at once end in one job:
 * the first makes it, the others wait and re-attach. */
static int submit_file(cli_ctx *ctx, submit_opts *o, cli_target *t)
{
    memset(t, 0, sizeof *t);
    int rc = cli_check_input(ctx, o->path);
    if (rc != CLI_EXIT_OK)
        return rc;
    if ((rc = cli_estimate_gate(ctx, o->path, o->name, o->max_cost)) != 0)
        return rc;
    peek_model(ctx, o);
    oab_client *c = cli_client(ctx);
    if (!c)
        return CLI_EXIT_API;
    char *base_url = cli_url_public(oab_client_base_url(c));
    char fp[65];
    int fprc = fingerprint(o, base_url ? base_url : "",
                           oab_client_provider(c) == OAB_PROVIDER_ANTHROPIC,
                           fp);
    free(base_url);
    if (fprc != 0) {
        cli_error(ctx, "cannot read %s: %s", o->name, strerror(errno));
        return CLI_EXIT_LOCAL;
    }
    char lock[96];
    cli_input_lock_name(lock, sizeof lock, fp);
    rc = cli_lock(ctx, lock, "submitting the same input");
    if (rc != CLI_EXIT_OK)
        return rc;
    char *id = NULL;
    rc = start_job(ctx, o, fp, &id);
    cli_unlock(ctx, lock);
    if (rc == CLI_EXIT_OK)
        rc = cli_target_resolve(ctx, id, t);
    free(id);
    return rc;
}

static void print_submitted(cli_ctx *ctx, cli_target *t)
{
    if (ctx->json)
        return;
    printf("%s\n", t->job->id);
    for (size_t i = 0; i < t->n_units; i++)
        printf("  %s\n", t->units[i].batch_id ? t->units[i].batch_id : "-");
}

/* the options submit and run share */
#define SUBMIT_OPTIONS                                         \
    { "metadata", 0, 1, S_METADATA },                          \
    { "endpoint", 0, 1, S_ENDPOINT },                          \
    { "force", 0, 0, S_FORCE },                                \
    { "max-lines", 0, 1, S_MAXLINES },                         \
    { "max-bytes", 0, 1, S_MAXBYTES },                         \
    { "dry-run", 0, 0, S_DRYRUN },                             \
    { "output-expires-after", 0, 1, S_EXPIRES },               \
    { "delete-inputs-after", 0, 0, S_DELETE_INPUTS },          \
    { "max-cost", 0, 1, S_MAXCOST },                           \
    { "enqueued-token-limit", 0, 1, S_TOKLIMIT },              \
    { "tier", 0, 1, S_TIER },                                  \
    CLI_WAIT_OPTIONS

const cli_opt cli_opts_submit[] = {
    SUBMIT_OPTIONS,
    { "no-wait", 0, 0, S_NOWAIT },
    { "completion-window", 0, 1, S_WINDOW },
    { NULL, 0, 0, 0 }
};

const cli_opt cli_opts_run[] = {
    SUBMIT_OPTIONS,
    CLI_RESULTS_OPTIONS,
    { "reask", 0, 1, S_REASK },
    { "reuse-answers", 0, 0, S_REUSE },
    { NULL, 0, 0, 0 }
};

/* ro: NULL for submit, the result options for run */
static int parse_submit(cli_ctx *ctx, const char *cmd, int argc, char **argv,
                        submit_opts *o, cli_results_opts *ro)
{
    cli_parse_spec spec = {
        cmd, ro ? cli_opts_run : cli_opts_submit, submit_opt,
        "FILE", 0
    };
    cli_wait_opts w = CLI_WAIT_OPTS_INIT;
    memset(o, 0, sizeof *o);
    o->wait = w;
    o->max_lines = OAB_MAX_LINES;
    o->max_bytes = CLI_MAX_PART_BYTES;
    o->results = ro;
    o->max_cost = -1;
    int rc = cli_parse_args(ctx, &spec, argc, argv, o, &o->path);
    if (rc < 0)
        rc = cli_wait_check(spec.cmd, &o->wait);
    o->name = o->path;
    if (rc < 0 && strcmp(o->path, "-") == 0)
        rc = cli_spool_stdin(ctx, &o->stdin_copy, &o->path);
    return rc;
}

/* --delete-inputs-after: once the job completed, deletes the input
 * files it uploaded (the journal keeps their ids). */
static void delete_inputs(cli_ctx *ctx, const submit_opts *o,
                          const cli_target *t)
{
    if (!o->delete_inputs || !cli_target_all_completed(t))
        return;
    if (cli_is_anthropic(ctx)) {
        cli_info(ctx, "--delete-inputs-after: Anthropic's batches upload no "
                 "files; nothing to delete");
        return;
    }
    size_t n = 0;
    cli_target_delete_remote(ctx, t, 0, &n);
    cli_info(ctx, "deleted %zu uploaded input file%s", n, n == 1 ? "" : "s");
}

/* Waits for a started job; exit code as `oaibatch wait`. */
static int wait_job(cli_ctx *ctx, const submit_opts *o, cli_target *t)
{
    int rc = cli_target_wait(ctx, t, &o->wait);
    if (rc == CLI_EXIT_OK && !cli_target_all_completed(t))
        rc = CLI_EXIT_FAILED;
    if (rc == CLI_EXIT_OK)
        delete_inputs(ctx, o, t);
    return rc;
}

static int submit(cli_ctx *ctx, submit_opts *o)
{
    cli_target t;
    int rc = submit_file(ctx, o, &t);
    if (rc == CLI_EXIT_OK) {
        print_submitted(ctx, &t);
        if (!o->no_wait) {
            rc = wait_job(ctx, o, &t);
            if (!ctx->quiet && !ctx->json && rc != CLI_EXIT_INTERRUPTED &&
                cli_target_done(&t))
                cli_info(ctx, "done: oaibatch results %s", t.job->id);
        } else {
            cli_target_fetch(ctx, &t, 0);
            cli_info(ctx, "submitted; follow it with: oaibatch wait %s",
                     t.job->id);
        }
        if (ctx->json)
            cli_target_show(ctx, &t);
    }
    cli_target_free(&t);
    return rc;
}

/* run --reuse-answers: the lines answered before are taken from the
 * journal, the others sent as the job; the results are both, and the
 * job's answers are indexed for the next run. */
/* run's part after the submit: wait, re-ask, delete the inputs; on an
 * interrupt it says how to go on (`again`: by running the same command,
 * as the reused answers are not in the job; else by `results`). */
static int run_job(cli_ctx *ctx, submit_opts *o, cli_target *t, int again)
{
    cli_info(ctx, "job %s", t->job->id);
    int rc = cli_target_wait(ctx, t, &o->wait);
    if (rc == CLI_EXIT_OK && o->reask)
        rc = cli_reask(ctx, t, o->reask, &o->wait);
    if (rc == CLI_EXIT_OK)
        delete_inputs(ctx, o, t);
    if (rc == CLI_EXIT_INTERRUPTED)
        cli_info(ctx, again ? "run the same command again to carry on "
                              "(job %s)"
                            : "results later with: oaibatch results %s",
                 t->job->id);
    return rc;
}

static int run_reusing(cli_ctx *ctx, submit_opts *o,
                       const cli_results_opts *ro)
{
    int rc = cli_check_input(ctx, o->path);
    if (rc != CLI_EXIT_OK)
        return rc;
    cli_reuse r;
    memset(&r, 0, sizeof r);
    cli_target t;
    memset(&t, 0, sizeof t);
    cli_rows rows;
    memset(&rows, 0, sizeof rows);
    /* the reused answers and the job's, merged with the texts on disk */
    rc = cli_rows_keep_text(ctx, &rows);
    if (rc == CLI_EXIT_OK)
        rc = cli_reuse_prepare(ctx, o->path, o->name, &rows, &r);
    int have = 0;
    if (rc == CLI_EXIT_OK && r.n_send) {
        const char *keep = o->path;
        o->path = r.send_path;
        rc = submit_file(ctx, o, &t);
        o->path = keep;
        have = rc == CLI_EXIT_OK;
        if (rc == CLI_EXIT_OK)
            rc = run_job(ctx, o, &t, 1);
        if (rc == CLI_EXIT_OK)
            rc = cli_target_collect(ctx, &t, NULL, ro->raw, &rows);
    } else if (rc == CLI_EXIT_OK) {
        cli_info(ctx, "every line was answered before; nothing was sent");
    }
    if (rc == CLI_EXIT_OK)
        rc = cli_reuse_finish(ctx, &r, have ? t.job->id : NULL, &rows);
    if (rc == CLI_EXIT_OK) {
        rc = cli_results_write(ctx, &rows, ro);
        if ((rc == CLI_EXIT_OK || rc == CLI_EXIT_FAILED) && rows.n_paid)
            cli_cost_report(ctx, &rows.paid, t.job ? t.job->model : NULL);
    }
    cli_rows_free(&rows);
    cli_target_free(&t);
    cli_reuse_free(&r);
    return rc;
}

static int run(cli_ctx *ctx, submit_opts *o, const cli_results_opts *ro)
{
    if (o->reuse)
        return run_reusing(ctx, o, ro);
    cli_target t;
    int rc = submit_file(ctx, o, &t);
    if (rc == CLI_EXIT_OK)
        rc = run_job(ctx, o, &t, 0);
    if (rc == CLI_EXIT_OK)
        rc = cli_target_write_results(ctx, &t, NULL, ro);
    cli_target_free(&t);
    return rc;
}

int cmd_submit(cli_ctx *ctx, int argc, char **argv)
{
    submit_opts o;
    int rc = parse_submit(ctx, "submit", argc, argv, &o, NULL);
    if (rc < 0)
        rc = o.dry_run ? dry_run(ctx, &o) : submit(ctx, &o);
    submit_opts_free(&o);
    return rc;
}

int cmd_run(cli_ctx *ctx, int argc, char **argv)
{
    submit_opts o;
    cli_results_opts ro = CLI_RESULTS_OPTS_INIT;
    int rc = parse_submit(ctx, "run", argc, argv, &o, &ro);
    if (rc < 0)
        rc = o.dry_run ? dry_run(ctx, &o) : run(ctx, &o, &ro);
    submit_opts_free(&o);
    return rc;
}
