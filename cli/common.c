/* common.c - what every subcommand shares: diagnostics, the client and
 * the journal made on first use, error-to-exit-code mapping, signals and
 * crash points for tests. */
#include "oaibatch.h"
#include "util/compat.h"
#include "util/str.h"
#include "cli.h"
#include "journal.h"
#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

volatile int cli_interrupted;

static void vdiag(cli_ctx *ctx, const char *tag, const char *color,
                  const char *fmt, va_list ap) OAB__PRINTF(4, 0);

static void vdiag(cli_ctx *ctx, const char *tag, const char *color,
                  const char *fmt, va_list ap)
{
    int c = ctx && ctx->color_err;
    fprintf(stderr, "oaibatch: %s%s%s", out_c(c, color), tag,
            out_c(c, OUT_RESET));
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

/* the body of cli_error and cli_warn: a tagged line after any progress */
#define DIAG(ctx, tag, color, fmt)                 \
    do {                                           \
        va_list ap;                                \
        va_start(ap, fmt);                         \
        out_progress_done(stderr);                 \
        vdiag(ctx, tag, color, fmt, ap);           \
        va_end(ap);                                \
    } while (0)

void cli_error(cli_ctx *ctx, const char *fmt, ...)
{
    DIAG(ctx, "error: ", OUT_RED, fmt);
}

void cli_warn(cli_ctx *ctx, const char *fmt, ...)
{
    DIAG(ctx, "warning: ", OUT_YELLOW, fmt);
}

void cli_info(cli_ctx *ctx, const char *fmt, ...)
{
    if (ctx->quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    out_progress_done(stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* The provider the user asked for (--provider, else $OAB_PROVIDER), or
 * NULL. */
static const char *asked_provider(const cli_ctx *ctx)
{
    if (ctx->provider)
        return ctx->provider;
    const char *env = getenv("OAB_PROVIDER");
    return env && *env ? env : NULL;
}

const char *cli_provider_name(const cli_ctx *ctx)
{
    if (ctx->job_provider)
        return ctx->job_provider;
    if (asked_provider(ctx))
        return asked_provider(ctx);
    if (ctx->input_model && strncmp(ctx->input_model, "anthropic:", 10) == 0)
        return "anthropic";
    return "openai";
}

int cli_is_anthropic(const cli_ctx *ctx)
{
    return strcmp(cli_provider_name(ctx), "anthropic") == 0;
}

oab_client *cli_client(cli_ctx *ctx)
{
    if (ctx->client)
        return ctx->client;
    oab_client_options o = OAB_CLIENT_OPTIONS_INIT;
    o.base_url = ctx->base_url;
    const char *pname = cli_provider_name(ctx);
    oab_provider prov;
    if (oab_provider_from_str(&prov, pname) != OAB_OK) {
        cli_error(ctx, "$OAB_PROVIDER: '%s' is not a provider (openai or "
                  "anthropic)", pname);
        return NULL;
    }
    o.provider = (int)prov;
    o.anthropic_max_tokens = ctx->anthropic_max_tokens;
    if (ctx->api_key_env) {
        const char *k = getenv(ctx->api_key_env);
        if (!k || !*k) {
            cli_error(ctx, "--api-key-env: the environment variable %s is "
                      "not set", ctx->api_key_env);
            return NULL;
        }
        o.api_key = k;
    }
    const char *retries = getenv("OAB_CLI_MAX_RETRIES");
    if (retries && *retries)
        o.max_retries = atoi(retries);
    oab_error err;
    oab_status st = oab_client_new_v2(&ctx->client, &o, &err);
    if (st != OAB_OK) {
        if (st == OAB_ENOKEY && prov == OAB_PROVIDER_ANTHROPIC)
            cli_error(ctx, "no API key for Anthropic: set ANTHROPIC_API_KEY "
                      "(or name another variable with --api-key-env), or "
                      "use --base-url for a local server");
        else if (st == OAB_ENOKEY)
            cli_error(ctx, "no API key: set OPENAI_API_KEY (or name another "
                      "variable with --api-key-env), or use --base-url for "
                      "a local server");
        else
            cli_error(ctx, "cannot make the client: %s", err.message[0]
                                                             ? err.message
                                                             : oab_strerror(st));
        return NULL;
    }
    return ctx->client;
}

void cli_use_provider(cli_ctx *ctx, const char *provider)
{
    const char *want = provider && *provider ? provider : "openai";
    const char *now = cli_provider_name(ctx);
    if (ctx->job_provider && strcmp(ctx->job_provider, want) == 0)
        return;
    char *keep = oab__strdup(want);
    if (!keep)
        return;
    if (strcmp(now, want) != 0) {
        if (asked_provider(ctx) && strcmp(asked_provider(ctx), want) != 0)
            cli_warn(ctx, "the job was submitted to %s; using it, not %s",
                     want, asked_provider(ctx));
        oab_client_free(ctx->client);
        ctx->client = NULL;
    }
    free(ctx->job_provider);
    ctx->job_provider = keep;
}

char *cli_url_public(const char *url)
{
    if (!url)
        return NULL;
    const char *auth = strstr(url, "://");
    auth = auth ? auth + 3 : url;
    size_t hostpart = strcspn(auth, "/?#");
    const char *at = memchr(auth, '@', hostpart);
    if (!at)
        return oab__strdup(url);
    /* the last '@' of the authority ends the user information */
    for (const char *p = at; p < auth + hostpart; p++)
        if (*p == '@')
            at = p;
    return oab__sprintf("%.*s%s", (int)(auth - url), url, at + 1);
}

/* The base URL the user gave (--base-url, else the provider's
 * variable), or NULL for the library's default; kept from before a
 * job's URL was taken over. */
static const char *given_base_url(cli_ctx *ctx)
{
    if (!ctx->given_saved) {
        const char *env = getenv(cli_is_anthropic(ctx) ? "ANTHROPIC_BASE_URL"
                                                       : "OPENAI_BASE_URL");
        ctx->given_base_url = ctx->base_url ? ctx->base_url
                              : env && *env ? env
                                            : NULL;
        ctx->given_saved = 1;
    }
    return ctx->given_base_url;
}

/* 1 when u is url as the journal keeps it (no credentials, no '/' at
 * the end). */
static int same_url(const char *u, const char *url)
{
    char *k = cli_url_public(u);
    if (!k)
        return 0;
    size_t n = strlen(k);
    while (n > 0 && k[n - 1] == '/')
        k[--n] = '\0';
    int same = strcmp(k, url) == 0;
    free(k);
    return same;
}

void cli_use_base_url(cli_ctx *ctx, const char *url, const char *job_id)
{
    if (!url || !*url)
        return;
    const char *given = given_base_url(ctx);
    /* the URL in use: the client's, else the one taken over or given;
     * none, the job's is taken without a word (and without making a
     * client for the default URL, which wants a key the job's server
     * may not) */
    const char *now = ctx->client ? oab_client_base_url(ctx->client)
                                  : ctx->base_url;
    if (now && same_url(now, url))
        return;
    if (given && !same_url(given, url)) {
        int warned = 0;
        for (size_t i = 0; i < ctx->n_warned && !warned; i++)
            warned = strcmp(ctx->warned[i], url) == 0;
        if (!warned) {
            char *shown = cli_url_public(given);
            cli_warn(ctx, "the job was submitted to %s; using it, not %s "
                     "(if the job's server is at %s now: oaibatch jobs "
                     "move %s --to %s)", url, shown ? shown : "another URL",
                     shown ? shown : "URL", job_id ? job_id : "JOB",
                     shown ? shown : "URL");
            free(shown);
            char *w = ctx->n_warned < sizeof ctx->warned / sizeof *ctx->warned
                          ? oab__strdup(url)
                          : NULL;
            if (w)
                ctx->warned[ctx->n_warned++] = w;
        }
    }
    /* the job's URL is the given one without its credentials: the given
     * one, credentials and all */
    char *keep = oab__strdup(given && same_url(given, url) ? given : url);
    if (!keep)
        return;
    oab_client_free(ctx->client);
    ctx->client = NULL;
    free(ctx->job_base_url);
    ctx->job_base_url = keep;
    ctx->base_url = keep;
}

journal *cli_journal(cli_ctx *ctx)
{
    if (ctx->jr)
        return ctx->jr;
    char *def = NULL;
    const char *path = ctx->journal_path;
    if (!path) {
        def = journal_default_path();
        path = def;
    }
    char msg[512];
    if (!path || journal_open(&ctx->jr, path, msg, sizeof msg) != 0) {
        cli_error(ctx, "%s", path ? msg : "out of memory");
        ctx->jr = NULL;
    }
    free(def);
    return ctx->jr;
}

int cli_exit_for(oab_status st)
{
    switch (st) {
    case OAB_OK:
        return CLI_EXIT_OK;
    case OAB_EVALIDATION:
        return CLI_EXIT_INVALID;
    case OAB_EINVAL:
        return CLI_EXIT_USAGE;
    case OAB_EIO:
    case OAB_ESQL:
    case OAB_ENOMEM:
        return CLI_EXIT_LOCAL;
    case OAB_ESTOPPED:
        return CLI_EXIT_INTERRUPTED;
    default:
        return CLI_EXIT_API;
    }
}

const char *cli_failure(cli_ctx *ctx, oab_status st)
{
    const char *detail = ctx->client ? oab_client_errmsg(ctx->client) : NULL;
    return detail && *detail ? detail : oab_strerror(st);
}

int cli_api_error(cli_ctx *ctx, oab_status st, const char *what)
{
    cli_error(ctx, "%s: %s", what, cli_failure(ctx, st));
    return cli_exit_for(st);
}

int cli_api_errorf(cli_ctx *ctx, oab_status st, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return cli_api_error(ctx, st, what);
}

void cli_crash_point(const char *point)
{
    const char *c = getenv("OAB_CLI_CRASH_AFTER");
    if (c && strcmp(c, point) == 0) {
        fprintf(stderr, "oaibatch: crash injected after %s\n", point);
        _exit(99);
    }
}

static void on_signal(int sig)
{
    (void)sig;
    cli_interrupted = 1;
}

void cli_install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

void cli_sleep(double seconds)
{
    while (seconds > 0 && !cli_interrupted) {
        double step = seconds > 0.1 ? 0.1 : seconds;
        struct timespec ts;
        ts.tv_sec = (time_t)step;
        ts.tv_nsec = (long)((step - (double)ts.tv_sec) * 1e9);
        nanosleep(&ts, NULL);
        seconds -= step;
    }
}

void cli_validate_options(oab_validate_options *o, size_t max_problems)
{
    oab_validate_options d = OAB_VALIDATE_OPTIONS_INIT;
    *o = d;
    o->max_lines = SIZE_MAX;
    o->max_bytes = ULLONG_MAX;
    o->max_embedding_inputs = SIZE_MAX;
    o->min_requests = -1;
    o->max_problems = max_problems;
}

int cli_mkdirs(const char *path)
{
    char *p = oab__strdup(path);
    if (!p)
        return -1;
    for (char *s = p + 1; *s; s++) {
        if (*s == '/') {
            *s = '\0';
            if (mkdir(p, 0700) != 0 && errno != EEXIST) {
                free(p);
                return -1;
            }
            *s = '/';
        }
    }
    int rc = mkdir(p, 0700) != 0 && errno != EEXIST ? -1 : 0;
    free(p);
    return rc;
}

int cli_common_opt(cli_ctx *ctx, const char *cmd, int id, const char *arg)
{
    if (id == OPT_HELP)
        return cli_print_help(cmd);
    int g = cli_global_opt(ctx, id, arg);
    if (g == 1)
        return -1;
    if (g == -2)
        return cli_usage_error(cmd, "--provider takes openai or anthropic, "
                               "not '%s'", arg);
    if (g == -3)
        return cli_usage_error(cmd, "--anthropic-max-tokens needs a whole "
                               "number of 1 or more, not '%s'", arg);
    if (g < 0)
        return cli_usage_error(cmd, "--color takes auto, always or never");
    return cli_usage_error(cmd, "unexpected option");
}

int cli_lock(cli_ctx *ctx, const char *name, const char *what)
{
    journal *jr = cli_journal(ctx);
    if (!jr)
        return CLI_EXIT_LOCAL;
    int told = 0;
    for (;;) {
        long holder = 0;
        int r = journal_lock_try(jr, name, &holder);
        if (r == 0)
            return CLI_EXIT_OK;
        if (r < 0) {
            cli_error(ctx, "journal: %s", journal_errmsg(jr));
            return CLI_EXIT_LOCAL;
        }
        if (!told++) {
            if (holder > 0)
                cli_info(ctx, "waiting for another oaibatch (pid %ld) that "
                         "is %s", holder, what);
            else
                cli_info(ctx, "waiting for another oaibatch that is %s",
                         what);
        }
        cli_install_signals();
        cli_sleep(0.1);
        if (cli_interrupted)
            return CLI_EXIT_INTERRUPTED;
    }
}

void cli_unlock(cli_ctx *ctx, const char *name)
{
    if (ctx->jr)
        journal_lock_release(ctx->jr, name);
}

int cli_check_readable(cli_ctx *ctx, const char *path, const char *name)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    int e = 0;
    if (fd < 0 || fstat(fd, &st) != 0)
        e = errno;
    else if (S_ISDIR(st.st_mode))
        e = EISDIR;
    if (fd >= 0)
        close(fd);
    if (e) {
        cli_error(ctx, "cannot read %s: %s", name, strerror(e));
        return CLI_EXIT_LOCAL;
    }
    return CLI_EXIT_OK;
}

int cli_check_input(cli_ctx *ctx, const char *path)
{
    int rc = cli_check_readable(ctx, path, path);
    if (rc != CLI_EXIT_OK)
        return rc;
    unsigned char head[3];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, head, sizeof head) : -1;
    if (fd >= 0)
        close(fd);
    if (n == 3 && head[0] == 0xEF && head[1] == 0xBB && head[2] == 0xBF) {
        cli_error(ctx, "%s:1: the file starts with a UTF-8 byte order mark "
                  "(BOM), which the Batch API refuses; save it as UTF-8 "
                  "without a BOM", path);
        return CLI_EXIT_INVALID;
    }
    return CLI_EXIT_OK;
}

int cli_spool_stdin(cli_ctx *ctx, char **copy, const char **path)
{
    const char *base = getenv("TMPDIR");
    char *p = oab__sprintf("%s/oaibatch_stdin_XXXXXX",
                           base && *base ? base : "/tmp");
    int fd = p ? mkstemp(p) : -1;
    if (fd < 0) {
        cli_error(ctx, "cannot copy standard input: %s", strerror(errno));
        free(p);
        return CLI_EXIT_LOCAL;
    }
    char buf[65536];
    ssize_t n;
    int bad = 0;
    while (!bad && (n = read(STDIN_FILENO, buf, sizeof buf)) != 0) {
        if (n < 0) {
            bad = errno != EINTR;
            continue;
        }
        for (ssize_t off = 0; off < n && !bad;) {
            ssize_t w = write(fd, buf + off, (size_t)(n - off));
            if (w < 0 && errno != EINTR)
                bad = 1;
            else if (w > 0)
                off += w;
        }
    }
    if (close(fd) != 0)
        bad = 1;
    if (bad) {
        cli_error(ctx, "cannot copy standard input to %s: %s", p,
                  strerror(errno));
        remove(p);
        free(p);
        return CLI_EXIT_LOCAL;
    }
    *copy = p;
    *path = p;
    return -1;
}

int cli_jobs_list(cli_ctx *ctx, int limit, journal_job ***jobs, size_t *n)
{
    *jobs = NULL;
    *n = 0;
    journal *jr = cli_journal(ctx);
    if (!jr)
        return CLI_EXIT_LOCAL;
    if (journal_jobs_list(jr, limit, jobs, n) != 0) {
        cli_error(ctx, "journal: %s", journal_errmsg(jr));
        return CLI_EXIT_LOCAL;
    }
    return CLI_EXIT_OK;
}
