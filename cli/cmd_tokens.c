/* cmd_tokens.c - `oaibatch tokens`: one token count per line of a JSONL
 * file whose lines are JSON strings (a plain tokenizer, to compare with
 * other tokenizers). Also the line source that `estimate` shares. */
#include "util/buf.h"
#include "util/err.h"
#include "util/json.h"
#include "util/str.h"
#include "cli.h"
#include "commands.h"
#include "cmd_tokens.h"
#include "parlines.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

oab_status cli_read_lines(const char *path, oab_line_fn fn, void *userdata,
                          oab_error *err)
{
    if (strcmp(path, "-") != 0)
        return oab_jsonl_read_path(path, fn, userdata, err);
    oab_jsonl_reader *r = NULL;
    oab_status st = oab_jsonl_reader_new(&r, 0);
    char chunk[65536];
    size_t n;
    while (st == OAB_OK && (n = fread(chunk, 1, sizeof chunk, stdin)) > 0)
        st = oab_jsonl_reader_feed(r, chunk, n, fn, userdata);
    if (st == OAB_OK && ferror(stdin))
        st = oab__err(err, OAB_EIO, 0, "standard input: %s", strerror(errno));
    if (st == OAB_OK)
        st = oab_jsonl_reader_finish(r, fn, userdata, NULL);
    else if (st == OAB_ELIMIT)
        oab__err(err, st, 0, "standard input: a line is too long");
    oab_jsonl_reader_free(r);
    return st;
}

typedef struct tokens_run {
    const char *path;
    const oab_tokenizer *t;
    int ids;
    oab_error err;
} tokens_run;

/* One batch of lines (parlines.h): its output, and the error that
 * stopped it. */
typedef struct tokens_part {
    oab__buf out;
    oab_error err;
    int failed;
} tokens_part;

static int on_line(void *state, const char *line, size_t len, long lineno,
                   void *ud)
{
    tokens_part *pt = state;
    const tokens_run *k = ud;
    cJSON *j = oab__json_parse(line, len);
    if (!cJSON_IsString(j)) {
        cJSON_Delete(j);
        oab__err(&pt->err, OAB_EVALIDATION, lineno,
                 "%s:%ld: not a JSON string", k->path, lineno);
        return pt->failed = 1;
    }
    const char *s = j->valuestring;
    oab_status st;
    if (k->ids) {
        uint32_t *ids = NULL;
        size_t n = 0;
        st = oab_tokenizer_encode(&ids, &n, k->t, s, strlen(s));
        if (st == OAB_OK) {
            oab__buf_putc(&pt->out, '[');
            for (size_t i = 0; i < n; i++)
                oab__buf_printf(&pt->out, "%s%u", i ? "," : "", ids[i]);
            oab__buf_puts(&pt->out, "]\n");
        }
        free(ids);
    } else {
        size_t n = 0;
        st = oab_tokenizer_count(&n, k->t, s, strlen(s));
        if (st == OAB_OK)
            oab__buf_printf(&pt->out, "%zu\n", n);
    }
    cJSON_Delete(j);
    if (st != OAB_OK) {
        oab__err(&pt->err, st == OAB_EINVAL ? OAB_EVALIDATION : st, lineno,
                 "%s:%ld: %s", k->path, lineno,
                 st == OAB_EINVAL ? "not valid UTF-8" : oab_strerror(st));
        return pt->failed = 1;
    }
    return 0;
}

static void part_discard(void *state, void *ud)
{
    (void)ud;
    tokens_part *pt = state;
    oab__buf_free(&pt->out);
    memset(pt, 0, sizeof *pt);
}

/* The batch's lines go out in file order, those before a bad line too. */
static int part_merge(void *state, void *ud)
{
    tokens_part *pt = state;
    tokens_run *k = ud;
    int stop = 0;
    if (pt->out.len && fwrite(pt->out.data, 1, pt->out.len, stdout) !=
                           pt->out.len) {
        oab__err(&k->err, OAB_EIO, 0, "cannot write the output");
        stop = 1;
    } else if (pt->failed) {
        k->err = pt->err;
        stop = 1;
    }
    part_discard(pt, NULL);
    return stop;
}

int cli_tokens_exit(cli_ctx *ctx, const oab_error *err, oab_status st)
{
    cli_error(ctx, "%s", err->message[0] ? err->message : oab_strerror(st));
    if (st == OAB_EVALIDATION || st == OAB_EJSON)
        return CLI_EXIT_INVALID;
    return st == OAB_ESTOPPED ? CLI_EXIT_INTERRUPTED : CLI_EXIT_LOCAL;
}

enum { O_ENC = 1, O_MODEL, O_DIR, O_IDS, O_THREADS };
const cli_opt cli_opts_tokens[] = { { "encoding", 0, 1, O_ENC },
                                    { "model", 0, 1, O_MODEL },
                                    { "encodings", 0, 1, O_DIR },
                                    { "ids", 0, 0, O_IDS },
                                    { "threads", 0, 1, O_THREADS },
                                    { NULL, 0, 0, 0 } };

int cmd_tokens(cli_ctx *ctx, int argc, char **argv)
{
    const cli_opt *opts = cli_opts_tokens;
    cli_args a = { argc, argv, 1, 0, "tokens" };
    const char *arg, *path = NULL, *encoding = NULL, *model = NULL,
                     *dir = NULL;
    int id, ids = 0, threads = 0;
    while ((id = cli_next(&a, opts, &arg)) != CLI_PARSE_END) {
        if (id == CLI_PARSE_ERROR)
            return CLI_EXIT_USAGE;
        if (id == CLI_PARSE_POSITIONAL) {
            if (path)
                return cli_usage_error("tokens", "one FILE only");
            path = arg;
        } else if (id == O_ENC) {
            encoding = arg;
        } else if (id == O_MODEL) {
            model = arg;
        } else if (id == O_DIR) {
            dir = arg;
        } else if (id == O_IDS) {
            ids = 1;
        } else if (id == O_THREADS) {
            if (cli_parse_threads("tokens", arg, &threads))
                return CLI_EXIT_USAGE;
        } else {
            int r = cli_common_opt(ctx, "tokens", id, arg);
            if (r >= 0)
                return r;
        }
    }
    if (encoding && model)
        return cli_usage_error("tokens", "--encoding or --model, not both");
    tokens_run k;
    memset(&k, 0, sizeof k);
    k.path = path ? path : "-";
    k.ids = ids;
    if (model && oab_encoding_for_model(&encoding, model, NULL, &k.err) != OAB_OK)
        return cli_usage_error("tokens", "%s", k.err.message);
    if (!encoding)
        encoding = "o200k_base";
    oab_tokenizer *t = NULL;
    char *rank_path = dir ? oab__sprintf("%s/%s.tiktoken", dir, encoding) : NULL;
    oab_status st = oab_tokenizer_load(&t, encoding, rank_path, &k.err);
    free(rank_path);
    if (st == OAB_EINVAL)
        return cli_usage_error("tokens", "%s", k.err.message);
    if (st != OAB_OK) { /* a missing or corrupt rank file: local */
        cli_error(ctx, "%s", k.err.message);
        return CLI_EXIT_LOCAL;
    }
    k.t = t;
    cli_par_ops ops = { sizeof(tokens_part), on_line, part_merge,
                        part_discard, &k };
    st = cli_par_lines(k.path, threads ? threads : cli_par_default_threads(),
                       &ops, &k.err);
    int rc = CLI_EXIT_OK;
    if (fflush(stdout) != 0 && st == OAB_OK)
        st = oab__err(&k.err, OAB_EIO, 0, "cannot write the output");
    if (st == OAB_ESTOPPED)
        st = k.err.status;
    if (st != OAB_OK)
        rc = cli_tokens_exit(ctx, &k.err, st);
    oab_tokenizer_free(t);
    return rc;
}
