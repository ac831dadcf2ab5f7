/* cmd_submit.c - `oaibatch submit FILE` and `oaibatch run FILE`:
 * validate, split, journal, upload, create (each step recorded before the
 * next network call), then wait; run also writes the results. */
#include "oaibatch.h"
#include <cjson/cJSON.h>
#include "util/clock.h"
#include "util/str.h"
#include "jobcore.h"
#include "output.h"
#include "util/sha256.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct submit_opts {
    const char *path;
    const char *endpoint;
    const char *completion_window;
    const char *md_keys[16];
    const char *md_vals[16];
    size_t n_md;
    int force;
    int no_wait;
    long max_lines;
    long max_bytes;
    int limits_given;
    cli_wait_opts wait;
} submit_opts;

enum {
    S_NOWAIT = 1, S_METADATA, S_ENDPOINT, S_WINDOW, S_FORCE, S_MAXLINES,
    S_MAXBYTES, S_OUT, S_FORMAT, S_ONLY, S_ORDER, S_RAW
};

/* returns 1 consumed, 0 not one, -1 bad */
static int submit_opt(const char *cmd, int id, const char *arg,
                      submit_opts *o)
{
    int r = cli_wait_opt(cmd, id, arg, &o->wait);
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
        o->completion_window = arg;
        return 1;
    case S_FORCE:
        o->force = 1;
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
        o->limits_given = 1;
        return 1;
    default:
        return 0;
    }
}

static void submit_opts_free(submit_opts *o)
{
    for (size_t i = 0; i < o->n_md; i++)
        free((char *)o->md_keys[i]);
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
                       char hex[65])
{
    oab__sha256 s;
    oab__sha256_init(&s);
    char head[256];
    snprintf(head, sizeof head, "oaibatch-job-v1\n%ld\n%ld\n",
             o->max_lines, o->max_bytes);
    oab__sha256_update(&s, head, strlen(head));
    const char *parts[3] = { base_url, o->endpoint ? o->endpoint : "",
                             o->completion_window ? o->completion_window : "" };
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

/* Makes the job in the journal (validated and split) or finds the one
 * this file was submitted as. *job_out is the job, with its parts. */
static int prepare_job(cli_ctx *ctx, const submit_opts *o, jr_job **job_out,
                       int *reattached)
{
    *job_out = NULL;
    *reattached = 0;
    oab_client *c = cli_client(ctx);
    if (!c)
        return CLI_EXIT_API;
    journal *jr = cli_journal(ctx);
    if (!jr)
        return CLI_EXIT_LOCAL;
    const char *base_url = oab_client_base_url(c);
    char fp[65];
    if (fingerprint(o, base_url ? base_url : "", fp) != 0) {
        cli_error(ctx, "cannot read %s", o->path);
        return CLI_EXIT_LOCAL;
    }
    if (!o->force) {
        jr_job *old = NULL;
        int r = journal_job_by_fingerprint(jr, fp, &old);
        if (r < 0) {
            cli_error(ctx, "journal: %s", journal_errmsg(jr));
            return CLI_EXIT_LOCAL;
        }
        if (r == 0) {
            char when[32];
            out_time(when, sizeof when, old->created_at);
            cli_info(ctx, "%s was submitted before as %s (%s UTC); "
                     "re-attaching (--force for a new job)", o->path,
                     old->id, when);
            *job_out = old;
            *reattached = 1;
            return CLI_EXIT_OK;
        }
    }

    oab_validate_options vo;
    cli_validate_options(&vo, 20);
    oab_validation *v = NULL;
    oab_status st = oab_validate_path(&v, o->path, &vo);
    if (st != OAB_OK) {
        int rc;
        if (st == OAB_EVALIDATION && v) {
            print_problems(ctx, o->path, v);
            rc = CLI_EXIT_INVALID;
        } else {
            cli_error(ctx, "cannot read %s: %s", o->path, oab_strerror(st));
            rc = CLI_EXIT_LOCAL;
        }
        oab_validation_free(v);
        return rc;
    }
    if (v->n_lines == 0) {
        oab_validation_free(v);
        cli_error(ctx, "%s holds no requests", o->path);
        return CLI_EXIT_INVALID;
    }

    jr_job *job = calloc(1, sizeof *job);
    if (!job) {
        oab_validation_free(v);
        return CLI_EXIT_LOCAL;
    }
    job->id = new_job_id();
    job->created_at = oab__unix_now();
    job->input_path = oab__strdup(o->path);
    job->fingerprint = oab__strdup(fp);
    job->base_url = oab__strdup(base_url);
    job->endpoint = oab__strdup(o->endpoint ? o->endpoint : v->url);
    job->model = oab__strdup(v->model);
    job->n_lines = (long)v->n_lines;
    job->metadata_json = metadata_json(o);
    oab_validation_free(v);

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
        jr_job_free(job);
        return CLI_EXIT_LOCAL;
    }
    oab_split_options so = OAB_SPLIT_OPTIONS_INIT;
    so.max_lines = (size_t)o->max_lines;
    so.max_bytes = (unsigned long long)o->max_bytes;
    if (o->limits_given)
        so.margin = 0; /* the user's numbers are meant exactly */
    oab_split *sp = NULL;
    oab_error err = { 0, 0, "" };
    st = oab_split_path(&sp, o->path, parts_dir, &so, &err);
    free(parts_dir);
    if (st != OAB_OK) {
        cli_error(ctx, "cannot split %s: %s", o->path,
                  err.message[0] ? err.message : oab_strerror(st));
        jr_job_free(job);
        return CLI_EXIT_LOCAL;
    }
    job->parts = calloc(sp->n_parts ? sp->n_parts : 1, sizeof *job->parts);
    if (!job->parts) {
        oab_split_free(sp);
        jr_job_free(job);
        return CLI_EXIT_LOCAL;
    }
    for (size_t i = 0; i < sp->n_parts; i++) {
        jr_part *p = &job->parts[job->n_parts++];
        p->idx = (int)i + 1;
        p->kind = oab__strdup("part");
        p->path = oab__strdup(sp->parts[i].path);
        p->n_lines = (long)sp->parts[i].n_lines;
        p->input_lines = jr_ranges_encode(sp->parts[i].input_lines,
                                          sp->parts[i].n_lines);
    }
    oab_split_free(sp);
    if (journal_job_insert(jr, job) != 0) {
        cli_error(ctx, "journal: %s", journal_errmsg(jr));
        jr_job_free(job);
        return CLI_EXIT_LOCAL;
    }
    if (job->n_parts > 1)
        cli_info(ctx, "%s: %ld lines, split into %zu parts", o->path,
                 job->n_lines, job->n_parts);
    *job_out = job;
    return CLI_EXIT_OK;
}

/* Submits (or re-attaches); fills t with the job's target. */
static int submit_file(cli_ctx *ctx, const submit_opts *o, cli_target *t)
{
    jr_job *job = NULL;
    int reattached = 0;
    memset(t, 0, sizeof *t);
    int rc = prepare_job(ctx, o, &job, &reattached);
    if (rc != CLI_EXIT_OK)
        return rc;
    for (size_t i = 0; i < job->n_parts && rc == CLI_EXIT_OK; i++)
        rc = cli_part_start(ctx, job, &job->parts[i], o->completion_window);
    if (rc != CLI_EXIT_OK) {
        cli_info(ctx, "the job is in the journal; run the same command again "
                 "to carry on: job %s", job->id);
        jr_job_free(job);
        return rc;
    }
    char *id = oab__strdup(job->id);
    jr_job_free(job);
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

static const cli_opt submit_table[] = {
    { "no-wait", 0, 0, S_NOWAIT },
    { "metadata", 0, 1, S_METADATA },
    { "endpoint", 0, 1, S_ENDPOINT },
    { "completion-window", 0, 1, S_WINDOW },
    { "force", 0, 0, S_FORCE },
    { "max-lines", 0, 1, S_MAXLINES },
    { "max-bytes", 0, 1, S_MAXBYTES },
    CLI_WAIT_OPTIONS,
    { NULL, 0, 0, 0 }
};

static const cli_opt run_table[] = {
    { "metadata", 0, 1, S_METADATA },
    { "endpoint", 0, 1, S_ENDPOINT },
    { "force", 0, 0, S_FORCE },
    { "max-lines", 0, 1, S_MAXLINES },
    { "max-bytes", 0, 1, S_MAXBYTES },
    { "output", 'o', 1, S_OUT },
    { "format", 0, 1, S_FORMAT },
    { "only", 0, 1, S_ONLY },
    { "in-input-order", 0, 0, S_ORDER },
    { "raw", 0, 0, S_RAW },
    CLI_WAIT_OPTIONS,
    { NULL, 0, 0, 0 }
};

static int parse_submit(cli_ctx *ctx, const char *cmd, int argc, char **argv,
                        submit_opts *o, cli_results_opts *ro)
{
    memset(o, 0, sizeof *o);
    cli_wait_opts w = CLI_WAIT_OPTS_INIT;
    o->wait = w;
    o->max_lines = OAB_MAX_LINES;
    o->max_bytes = (long)OAB_MAX_FILE_BYTES;
    cli_args a = { argc, argv, 1, 0, cmd };
    const char *arg;
    int id;
    while ((id = cli_next(&a, ro ? run_table : submit_table, &arg)) !=
           CLI_PARSE_END) {
        if (id == CLI_PARSE_ERROR)
            return CLI_EXIT_USAGE;
        if (id == CLI_PARSE_POSITIONAL) {
            if (o->path)
                return cli_usage_error(cmd, "one FILE only");
            o->path = arg;
            continue;
        }
        int r = submit_opt(cmd, id, arg, o);
        if (r < 0)
            return CLI_EXIT_USAGE;
        if (r > 0)
            continue;
        if (ro) {
            r = 1;
            switch (id) {
            case S_OUT: ro->out_path = arg; break;
            case S_FORMAT:
                if (cli_format_check(cmd, arg) != 0)
                    return CLI_EXIT_USAGE;
                ro->format = arg;
                break;
            case S_ONLY:
                if (cli_only_parse(cmd, arg, &ro->only_mask) != 0)
                    return CLI_EXIT_USAGE;
                break;
            case S_ORDER: ro->input_order = 1; break;
            case S_RAW: ro->raw = 1; break;
            default: r = 0;
            }
            if (r)
                continue;
        }
        r = cli_common_opt(ctx, cmd, id, arg);
        if (r >= 0)
            return r;
    }
    if (!o->path)
        return cli_usage_error(cmd, "missing FILE");
    return -1;
}

int cmd_submit(cli_ctx *ctx, int argc, char **argv)
{
    submit_opts o;
    int rc = parse_submit(ctx, "submit", argc, argv, &o, NULL);
    if (rc >= 0) {
        submit_opts_free(&o);
        return rc;
    }
    cli_target t;
    rc = submit_file(ctx, &o, &t);
    if (rc == CLI_EXIT_OK) {
        print_submitted(ctx, &t);
        if (!o.no_wait) {
            rc = cli_target_wait(ctx, &t, &o.wait);
            if (rc == CLI_EXIT_OK && !cli_target_all_completed(&t))
                rc = CLI_EXIT_FAILED;
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
    submit_opts_free(&o);
    return rc;
}

int cmd_run(cli_ctx *ctx, int argc, char **argv)
{
    submit_opts o;
    cli_results_opts ro = { NULL, "jsonl", 0, 0, 0 };
    int rc = parse_submit(ctx, "run", argc, argv, &o, &ro);
    if (rc >= 0) {
        submit_opts_free(&o);
        return rc;
    }
    cli_target t;
    rc = submit_file(ctx, &o, &t);
    if (rc == CLI_EXIT_OK) {
        cli_info(ctx, "job %s", t.job->id);
        rc = cli_target_wait(ctx, &t, &o.wait);
        if (rc == CLI_EXIT_INTERRUPTED)
            cli_info(ctx, "results later with: oaibatch results %s",
                     t.job->id);
    }
    if (rc == CLI_EXIT_OK) {
        cli_rows rows;
        memset(&rows, 0, sizeof rows);
        rc = cli_target_collect(ctx, &t, NULL, ro.raw, &rows);
        if (rc == CLI_EXIT_OK)
            rc = cli_results_write(ctx, &rows, &ro);
        cli_rows_free(&rows);
    }
    cli_target_free(&t);
    submit_opts_free(&o);
    return rc;
}
