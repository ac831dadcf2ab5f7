/* args.c - the command line parser shared by every subcommand: long
 * options (--name VALUE, --name=VALUE), short ones (-o VALUE, -oVALUE),
 * "--" to end options, and the global options. */
#include "oaibatch.h"
#include "commands.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

const cli_opt cli_global_opts[] = {
    { "help", 'h', 0, OPT_HELP },
    { "json", 0, 0, OPT_JSON },
    { "quiet", 'q', 0, OPT_QUIET },
    { "journal", 0, 1, OPT_JOURNAL },
    { "base-url", 0, 1, OPT_BASE_URL },
    { "api-key-env", 0, 1, OPT_API_KEY_ENV },
    { "no-color", 0, 0, OPT_NO_COLOR },
    { "color", 0, 1, OPT_COLOR },
    { "provider", 0, 1, OPT_PROVIDER },
    { "anthropic-max-tokens", 0, 1, OPT_ANTHROPIC_MAX_TOKENS },
    { NULL, 0, 0, 0 }
};

static const cli_opt *find_long(const cli_opt *opts, const char *name,
                                size_t len)
{
    for (int pass = 0; pass < 2; pass++) {
        const cli_opt *o = pass ? cli_global_opts : opts;
        for (; o && o->name; o++)
            if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
                return o;
    }
    return NULL;
}

static const cli_opt *find_short(const cli_opt *opts, char c)
{
    for (int pass = 0; pass < 2; pass++) {
        const cli_opt *o = pass ? cli_global_opts : opts;
        for (; o && o->name; o++)
            if (o->short_name == c)
                return o;
    }
    return NULL;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "oaibatch%s%s: ", cmd && *cmd ? " " : "", cmd ? cmd : "");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'oaibatch%s%s --help'.\n", cmd && *cmd ? " " : "",
            cmd ? cmd : "");
    return CLI_EXIT_USAGE;
}

int cli_next(cli_args *a, const cli_opt *opts, const char **arg)
{
    *arg = NULL;
    if (a->i >= a->argc)
        return CLI_PARSE_END;
    char *w = a->argv[a->i++];
    if (a->only_positional || w[0] != '-' || w[1] == '\0') {
        *arg = w;
        return CLI_PARSE_POSITIONAL;
    }
    if (w[1] == '-') {
        if (w[2] == '\0') {
            a->only_positional = 1;
            return cli_next(a, opts, arg);
        }
        const char *name = w + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const cli_opt *o = find_long(opts, name, len);
        if (!o) {
            cli_usage_error(a->cmd, "unknown option '--%.*s'", (int)len, name);
            return CLI_PARSE_ERROR;
        }
        if (o->has_arg) {
            if (eq) {
                *arg = eq + 1;
            } else if (a->i < a->argc) {
                *arg = a->argv[a->i++];
            } else {
                cli_usage_error(a->cmd, "option '--%s' needs a value", o->name);
                return CLI_PARSE_ERROR;
            }
        } else if (eq) {
            cli_usage_error(a->cmd, "option '--%s' takes no value", o->name);
            return CLI_PARSE_ERROR;
        }
        return o->id;
    }
    /* short option; only one per word (no bundling) */
    const cli_opt *o = find_short(opts, w[1]);
    if (!o) {
        cli_usage_error(a->cmd, "unknown option '%s'", w);
        return CLI_PARSE_ERROR;
    }
    if (o->has_arg) {
        if (w[2]) {
            *arg = w + 2;
        } else if (a->i < a->argc) {
            *arg = a->argv[a->i++];
        } else {
            cli_usage_error(a->cmd, "option '-%c' needs a value", w[1]);
            return CLI_PARSE_ERROR;
        }
    } else if (w[2]) {
        cli_usage_error(a->cmd, "unknown option '%s'", w);
        return CLI_PARSE_ERROR;
    }
    return o->id;
}

int cli_global_opt(cli_ctx *ctx, int id, const char *arg)
{
    switch (id) {
    case OPT_JSON:
        ctx->json = 1;
        return 1;
    case OPT_QUIET:
        ctx->quiet = 1;
        return 1;
    case OPT_JOURNAL:
        ctx->journal_path = arg;
        return 1;
    case OPT_BASE_URL:
        ctx->base_url = arg;
        return 1;
    case OPT_API_KEY_ENV:
        ctx->api_key_env = arg;
        return 1;
    case OPT_PROVIDER: {
        oab_provider p;
        if (oab_provider_from_str(&p, arg) != OAB_OK)
            return -2;
        ctx->provider = arg;
        return 1;
    }
    case OPT_ANTHROPIC_MAX_TOKENS: {
        char *end = NULL;
        errno = 0;
        long v = strtol(arg, &end, 10);
        if (errno || end == arg || *end || v < 1)
            return -3;
        ctx->anthropic_max_tokens = v;
        return 1;
    }
    case OPT_NO_COLOR:
        ctx->color = ctx->color_err = 0;
        return 1;
    case OPT_COLOR:
        if (strcmp(arg, "always") == 0) {
            ctx->color = ctx->color_err = 1;
        } else if (strcmp(arg, "never") == 0) {
            ctx->color = ctx->color_err = 0;
        } else if (strcmp(arg, "auto") != 0) {
            return -1;
        }
        return 1;
    default:
        return 0;
    }
}

int cli_parse_long(const char *cmd, const char *opt, const char *s, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end) {
        cli_usage_error(cmd, "option '--%s' needs a whole number, not '%s'",
                        opt, s);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_parse_threads(const char *cmd, const char *s, int *out)
{
    long n;
    if (cli_parse_long(cmd, "threads", s, &n))
        return -1;
    if (n < 1 || n > 8) {
        cli_usage_error(cmd, "--threads must be from 1 to 8, not %ld", n);
        return -1;
    }
    *out = (int)n;
    return 0;
}

int cli_parse_double(const char *cmd, const char *opt, const char *s,
                     double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v)) {
        cli_usage_error(cmd, "option '--%s' needs a number, not '%s'", opt, s);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_parse_args(cli_ctx *ctx, const cli_parse_spec *spec, int argc,
                   char **argv, void *st, const char **pos)
{
    const char *cmd = spec->cmd;
    cli_args a = { argc, argv, 1, 0, cmd };
    const char *arg, *word = NULL;
    int id;
    while ((id = cli_next(&a, spec->opts, &arg)) != CLI_PARSE_END) {
        if (id == CLI_PARSE_ERROR)
            return CLI_EXIT_USAGE;
        if (id == CLI_PARSE_POSITIONAL) {
            if (!spec->pos_name)
                return cli_usage_error(cmd, "unexpected argument '%s'", arg);
            if (word)
                return cli_usage_error(cmd, "one %s only", spec->pos_name);
            word = arg;
            continue;
        }
        int r = spec->handle ? spec->handle(cmd, id, arg, st) : 0;
        if (r < 0)
            return CLI_EXIT_USAGE;
        if (r > 0)
            continue;
        r = cli_common_opt(ctx, cmd, id, arg);
        if (r >= 0)
            return r;
    }
    if (pos)
        *pos = word;
    if (spec->pos_name && !word && !spec->pos_optional)
        return cli_usage_error(cmd, "missing %s", spec->pos_name);
    return -1;
}
