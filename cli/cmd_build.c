/* cmd_build.c - `oaibatch build`: a batch input file from prompts (a text
 * file, or a column of a CSV or JSONL file). */
#include "oaibatch.h"
#include <cjson/cJSON.h>
#include "util/buf.h"
#include "util/fs.h"
#include "util/idset.h"
#include "util/json.h"
#include "util/str.h"
#include "commands.h"
#include "outfile.h"
#include "output.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct build_opts {
    const char *model, *system, *endpoint, *schema_path, *schema_name;
    const char *tools_path, *format, *column, *id_column, *id_prefix;
    const char *out_path;
    long max_tokens;
    double temperature;
    oab_output_mode mode;
    const char *schema_opt; /* an option that goes with --schema, given
                               ("--mode", ...), else NULL */
    int strict;
} build_opts;

typedef struct build_state {
    cli_ctx *ctx;
    const build_opts *o;
    oab_schema *schema;
    oab_tool *tools;
    size_t n_tools;
    char **tool_strings; /* owned strings behind tools */
    size_t n_tool_strings;
    cli_outfile out;     /* -o PATH */
    const char *name;    /* INPUT as given, for messages ("-") */
    oab__idset ids;      /* --id-column: the custom_ids so far, with the
                            line each was first used on */
    long count;
    int failed;
} build_state;

/* ---- tools file ---- */

static char *keep_str(build_state *b, char *s)
{
    char **n = realloc(b->tool_strings,
                       (b->n_tool_strings + 1) * sizeof *n);
    if (!n) {
        free(s);
        return NULL;
    }
    b->tool_strings = n;
    b->tool_strings[b->n_tool_strings++] = s;
    return s;
}

static int load_tools(build_state *b, const char *path)
{
    char *text = NULL;
    size_t len = 0;
    if (oab__read_file(path, &text, &len) != OAB_OK) {
        cli_error(b->ctx, "cannot read the tools file %s", path);
        return CLI_EXIT_LOCAL;
    }
    cJSON *arr = oab__json_parse(text, len);
    free(text);
    if (!cJSON_IsArray(arr)) {
        cJSON_Delete(arr);
        cli_error(b->ctx, "%s: expected a JSON array of tools", path);
        return CLI_EXIT_USAGE;
    }
    size_t n = (size_t)cJSON_GetArraySize(arr);
    b->tools = calloc(n ? n : 1, sizeof *b->tools);
    if (!b->tools) {
        cJSON_Delete(arr);
        return CLI_EXIT_LOCAL;
    }
    size_t i = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, arr)
    {
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(t, "function");
        if (!cJSON_IsObject(f))
            f = t;
        const char *name = oab__json_str(f, "name");
        if (!name) {
            cJSON_Delete(arr);
            cli_error(b->ctx, "%s: tool %zu has no name", path, i + 1);
            return CLI_EXIT_USAGE;
        }
        oab_tool *tool = &b->tools[i++];
        tool->name = keep_str(b, oab__strdup(name));
        const char *d = oab__json_str(f, "description");
        tool->description = d ? keep_str(b, oab__strdup(d)) : NULL;
        const cJSON *params = cJSON_GetObjectItemCaseSensitive(f, "parameters");
        tool->parameters_json =
            params ? keep_str(b, oab__json_print(params)) : NULL;
        tool->strict = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f, "strict"));
    }
    b->n_tools = i;
    cJSON_Delete(arr);
    return CLI_EXIT_OK;
}

/* ---- one prompt ---- */

/* The fields that chat and responses options share, from the command
 * line (the two structs name the system prompt and the token cap
 * differently). */
#define FILL_REQUEST_OPTIONS(x, system_field, max_field)               \
    do {                                                               \
        (x).model = o->model;                                          \
        (x).system_field = o->system;                                  \
        (x).max_field = o->max_tokens;                                 \
        (x).temperature = o->temperature;                              \
        (x).tools = b->tools;                                          \
        (x).n_tools = b->n_tools;                                      \
        (x).output_schema = b->schema;                                 \
        (x).output_mode = b->schema ? o->mode : OAB_OUTPUT_NONE;       \
    } while (0)

/* The request of one prompt. */
static oab_status make_request(build_state *b, const char *custom_id,
                               const char *prompt, oab_request **req,
                               oab_error *err)
{
    const build_opts *o = b->o;
    if (strcmp(o->endpoint, "embeddings") == 0) {
        const char *inputs[1] = { prompt };
        return oab_embeddings_request_new(req, custom_id, o->model, inputs, 1,
                                          0, err);
    }
    if (strcmp(o->endpoint, "responses") == 0) {
        oab_responses_options ro = OAB_RESPONSES_OPTIONS_INIT;
        FILL_REQUEST_OPTIONS(ro, instructions, max_output_tokens);
        return oab_responses_request_new(req, custom_id, prompt, &ro, err);
    }
    oab_chat_options co = OAB_CHAT_OPTIONS_INIT;
    FILL_REQUEST_OPTIONS(co, system_prompt, max_tokens);
    return oab_chat_request_new(req, custom_id, prompt, &co, err);
}

/* Checks the options (model, system prompt, tools against the schema...)
 * on a request of a made-up prompt, before any line is read: what is
 * refused then is the command line's fault, not a line's. Exit code. */
static int check_options(build_state *b)
{
    oab_request *req = NULL;
    oab_error err = { 0, 0, "" };
    oab_status st = make_request(b, "x", "x", &req, &err);
    oab_request_free(req);
    if (st == OAB_OK)
        return CLI_EXIT_OK;
    if (st == OAB_ENOMEM) {
        cli_error(b->ctx, "out of memory");
        return CLI_EXIT_LOCAL;
    }
    return cli_usage_error("build", "%s",
                           err.message[0] ? err.message : oab_strerror(st));
}

/* s for a message, into q[64]: at most 60 bytes (cut before a UTF-8
 * continuation byte, "..." after), control characters as '?'. */
static void quote_id(char q[64], const char *s)
{
    size_t len = strlen(s), n = len, i;
    if (n > 60) {
        n = 60;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    for (i = 0; i < n; i++)
        q[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7F ? '?' : s[i];
    if (n < len) {
        memcpy(q + i, "...", 3);
        i += 3;
    }
    q[i] = '\0';
}

/* --id-column: custom_id, taken from line `lineno`, is not one taken
 * before. 0, or -1 after saying why. */
static int check_unique(build_state *b, const char *custom_id, long lineno)
{
    size_t at;
    int added;
    if (oab__idset_add(&b->ids, custom_id, strlen(custom_id), lineno, &at,
                       &added) != OAB_OK) {
        cli_error(b->ctx, "out of memory");
        b->failed = CLI_EXIT_LOCAL;
        return -1;
    }
    if (added)
        return 0;
    char q[64];
    quote_id(q, custom_id);
    cli_error(b->ctx, "%s:%ld: custom_id \"%s\" was already used on line %ld",
              b->name, lineno, q, oab__idset_at(&b->ids, at)->value);
    b->failed = CLI_EXIT_INVALID;
    return -1;
}

static int emit(build_state *b, const char *custom_id, const char *prompt,
                long lineno)
{
    const build_opts *o = b->o;
    oab_request *req = NULL;
    oab_error err = { 0, 0, "" };
    char *made = NULL;
    b->count++;
    if (!custom_id) {
        made = oab__sprintf("%s%ld", o->id_prefix, b->count);
        if (!made) {
            cli_error(b->ctx, "out of memory");
            b->failed = CLI_EXIT_LOCAL;
            return -1;
        }
        custom_id = made;
    }
    oab_status st = make_request(b, custom_id, prompt, &req, &err);
    if (st != OAB_OK) {
        /* the options passed check_options: the line is at fault */
        cli_error(b->ctx, "%s:%ld: %s", b->name, lineno,
                  err.message[0] ? err.message : oab_strerror(st));
        b->failed = st == OAB_ENOMEM ? CLI_EXIT_LOCAL : CLI_EXIT_INVALID;
        free(made);
        return -1;
    }
    /* generated ids differ from each other; taken ones may not */
    int dup = !made && check_unique(b, custom_id, lineno) != 0;
    free(made);
    if (dup) {
        oab_request_free(req);
        return -1;
    }
    char *line = NULL;
    st = oab_request_to_json(req, &line);
    if (st == OAB_OK) {
        FILE *f = b->out.f ? b->out.f : stdout;
        fputs(line, f);
        fputc('\n', f);
        if (ferror(f))
            st = OAB_EIO;
    }
    oab_free(line);
    oab_request_free(req);
    if (st != OAB_OK) {
        cli_error(b->ctx, "cannot write the request: %s", oab_strerror(st));
        b->failed = CLI_EXIT_LOCAL;
        return -1;
    }
    return 0;
}

/* ---- text and JSONL inputs ---- */

/* 1 when p[0..len) starts with a UTF-8 byte order mark. Build's inputs
 * are not Batch API files: one at the start of the file is skipped. */
static int has_bom(const char *p, size_t len)
{
    return len >= 3 && (unsigned char)p[0] == 0xEF &&
           (unsigned char)p[1] == 0xBB && (unsigned char)p[2] == 0xBF;
}

/* Skips a byte order mark at the start of the file (of line 1). */
static void skip_bom(const char **line, size_t *len, long lineno)
{
    if (lineno == 1 && has_bom(*line, *len)) {
        *line += 3;
        *len -= 3;
    }
}

static int text_line(const char *line, size_t len, long lineno, void *ud)
{
    build_state *b = ud;
    skip_bom(&line, &len, lineno);
    size_t s = 0;
    while (s < len && isspace((unsigned char)line[s]))
        s++;
    while (len > s && isspace((unsigned char)line[len - 1]))
        len--;
    if (len == s)
        return 0;
    char *p = oab__strndup(line + s, len - s);
    if (!p)
        return 1;
    int rc = emit(b, NULL, p, lineno);
    free(p);
    return rc ? 1 : 0;
}

static char *json_cell(const cJSON *v)
{
    if (!v || cJSON_IsNull(v))
        return NULL;
    if (cJSON_IsString(v))
        return oab__strdup(v->valuestring);
    return oab__json_print(v);
}

static int jsonl_line(const char *line, size_t len, long lineno, void *ud)
{
    build_state *b = ud;
    skip_bom(&line, &len, lineno);
    size_t s = 0;
    while (s < len && isspace((unsigned char)line[s]))
        s++;
    if (s == len)
        return 0; /* blank after the byte order mark */
    cJSON *o = oab__json_parse(line, len);
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        cli_error(b->ctx, "%s:%ld: not a JSON object", b->name, lineno);
        b->failed = CLI_EXIT_INVALID;
        return 1;
    }
    char *prompt = json_cell(cJSON_GetObjectItemCaseSensitive(o, b->o->column));
    char *cid = b->o->id_column
                    ? json_cell(cJSON_GetObjectItemCaseSensitive(
                          o, b->o->id_column))
                    : NULL;
    cJSON_Delete(o);
    int rc = 0;
    if (!prompt) {
        cli_error(b->ctx, "%s:%ld: no \"%s\" field", b->name, lineno,
                  b->o->column);
        b->failed = CLI_EXIT_INVALID;
        rc = 1;
    } else if (b->o->id_column && !cid) {
        cli_error(b->ctx, "%s:%ld: no \"%s\" field", b->name, lineno,
                  b->o->id_column);
        b->failed = CLI_EXIT_INVALID;
        rc = 1;
    } else {
        rc = emit(b, cid, prompt, lineno) ? 1 : 0;
    }
    free(prompt);
    free(cid);
    return rc;
}

/* ---- CSV (RFC 4180, header row) ---- */

typedef struct csv_row {
    char **f;
    size_t n;
} csv_row;

static void csv_row_clear(csv_row *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->f[i]);
    free(r->f);
    r->f = NULL;
    r->n = 0;
}

/* Reads one record starting at *p; returns 0, 1 at end of input. */
static int csv_next(const char **p, const char *end, csv_row *row, long *line)
{
    csv_row_clear(row);
    if (*p >= end)
        return 1;
    oab__buf field = OAB__BUF_INIT;
    const char *s = *p;
    for (;;) {
        int quoted = 0;
        oab__buf_clear(&field);
        if (s < end && *s == '"') {
            quoted = 1;
            s++;
            while (s < end) {
                if (*s == '"') {
                    if (s + 1 < end && s[1] == '"') {
                        oab__buf_putc(&field, '"');
                        s += 2;
                        continue;
                    }
                    s++;
                    break;
                }
                if (*s == '\n')
                    (*line)++;
                oab__buf_putc(&field, *s++);
            }
        }
        while (s < end && *s != ',' && *s != '\n' && *s != '\r') {
            if (!quoted || !isspace((unsigned char)*s))
                oab__buf_putc(&field, *s);
            s++;
        }
        char **nf = realloc(row->f, (row->n + 1) * sizeof *nf);
        if (!nf)
            break;
        row->f = nf;
        row->f[row->n++] = field.data ? oab__strdup(field.data)
                                      : oab__strdup("");
        if (s < end && *s == ',') {
            s++;
            continue;
        }
        if (s < end && *s == '\r')
            s++;
        if (s < end && *s == '\n')
            s++;
        (*line)++;
        break;
    }
    oab__buf_free(&field);
    *p = s;
    return 0;
}

static int csv_index(const csv_row *h, const char *name)
{
    for (size_t i = 0; i < h->n; i++)
        if (strcmp(h->f[i], name) == 0)
            return (int)i;
    return -1;
}

static int build_csv(build_state *b, const char *path)
{
    char *text = NULL;
    size_t len = 0;
    const char *name = b->name;
    if (oab__read_file(path, &text, &len) != OAB_OK) {
        cli_error(b->ctx, "cannot read %s", name);
        return CLI_EXIT_LOCAL;
    }
    const char *p = text, *end = text + len;
    if (has_bom(p, len))
        p += 3;
    csv_row header = { NULL, 0 }, row = { NULL, 0 };
    long line = 1;
    int rc = CLI_EXIT_OK;
    if (csv_next(&p, end, &header, &line) != 0) {
        cli_error(b->ctx, "%s: empty CSV file", name);
        rc = CLI_EXIT_INVALID;
        goto done;
    }
    int ci = csv_index(&header, b->o->column);
    int ii = b->o->id_column ? csv_index(&header, b->o->id_column) : -1;
    if (ci < 0 || (b->o->id_column && ii < 0)) {
        cli_error(b->ctx, "%s: no column \"%s\" in the header row", name,
                  ci < 0 ? b->o->column : b->o->id_column);
        rc = CLI_EXIT_USAGE;
        goto done;
    }
    for (;;) {
        long at = line;
        if (csv_next(&p, end, &row, &line) != 0)
            break;
        if (row.n == 1 && row.f[0][0] == '\0')
            continue; /* blank line */
        if ((size_t)ci >= row.n || (ii >= 0 && (size_t)ii >= row.n)) {
            cli_error(b->ctx, "%s:%ld: the row has %zu field%s", name, at,
                      row.n, row.n == 1 ? "" : "s");
            rc = CLI_EXIT_INVALID;
            break;
        }
        if (emit(b, ii >= 0 ? row.f[ii] : NULL, row.f[ci], at) != 0) {
            rc = b->failed;
            break;
        }
    }
done:
    csv_row_clear(&header);
    csv_row_clear(&row);
    free(text);
    return rc;
}

static const char *ext_format(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (dot && (!strcmp(dot, ".csv") || !strcmp(dot, ".CSV")))
        return "csv";
    if (dot && (!strcmp(dot, ".jsonl") || !strcmp(dot, ".ndjson")))
        return "jsonl";
    return "text";
}

enum {
    O_OUT = 1, O_MODEL, O_ENDPOINT, O_SYSTEM, O_MAXTOK, O_TEMP, O_TOOLS,
    O_SCHEMA, O_SCHEMA_NAME, O_MODE, O_NOSTRICT, O_FORMAT, O_COLUMN,
    O_IDCOL, O_IDPREFIX
};

static int build_opt(const char *cmd, int id, const char *arg, void *st)
{
    build_opts *o = st;
    switch (id) {
    case O_OUT: o->out_path = arg; return 1;
    case O_MODEL: o->model = arg; return 1;
    case O_ENDPOINT: o->endpoint = arg; return 1;
    case O_SYSTEM: o->system = arg; return 1;
    case O_MAXTOK:
        if (cli_parse_long(cmd, "max-tokens", arg, &o->max_tokens) != 0)
            return -1;
        if (o->max_tokens < 1) {
            cli_usage_error(cmd, "--max-tokens takes 1 or more");
            return -1;
        }
        return 1;
    case O_TEMP:
        return cli_parse_double(cmd, "temperature", arg, &o->temperature) ? -1
                                                                          : 1;
    case O_TOOLS: o->tools_path = arg; return 1;
    case O_SCHEMA: o->schema_path = arg; return 1;
    case O_SCHEMA_NAME:
        o->schema_name = arg;
        o->schema_opt = "--schema-name";
        return 1;
    case O_MODE:
        if (oab_output_mode_from_str(&o->mode, arg) != OAB_OK ||
            o->mode == OAB_OUTPUT_NONE) {
            cli_usage_error(cmd, "--mode takes native, tool or prompted");
            return -1;
        }
        o->schema_opt = "--mode";
        return 1;
    case O_NOSTRICT:
        o->strict = 0;
        o->schema_opt = "--no-strict";
        return 1;
    case O_FORMAT: o->format = arg; return 1;
    case O_COLUMN: o->column = arg; return 1;
    case O_IDCOL: o->id_column = arg; return 1;
    case O_IDPREFIX: o->id_prefix = arg; return 1;
    default: return 0;
    }
}

const cli_opt cli_opts_build[] = {
    { "output", 'o', 1, O_OUT },
    { "model", 0, 1, O_MODEL },
    { "endpoint", 0, 1, O_ENDPOINT },
    { "system", 0, 1, O_SYSTEM },
    { "max-tokens", 0, 1, O_MAXTOK },
    { "temperature", 0, 1, O_TEMP },
    { "tools", 0, 1, O_TOOLS },
    { "schema", 0, 1, O_SCHEMA },
    { "schema-name", 0, 1, O_SCHEMA_NAME },
    { "mode", 0, 1, O_MODE },
    { "no-strict", 0, 0, O_NOSTRICT },
    { "format", 0, 1, O_FORMAT },
    { "column", 0, 1, O_COLUMN },
    { "id-column", 0, 1, O_IDCOL },
    { "id-prefix", 0, 1, O_IDPREFIX },
    { NULL, 0, 0, 0 }
};

static int parse_build(cli_ctx *ctx, int argc, char **argv, build_opts *o,
                       const char **input)
{
    static const cli_parse_spec spec = {
        "build", cli_opts_build, build_opt,
        "INPUT", 0
    };
    memset(o, 0, sizeof *o);
    o->endpoint = "chat";
    o->column = "prompt";
    o->id_prefix = "request-";
    o->max_tokens = -1;
    o->temperature = OAB_UNSET;
    o->mode = OAB_OUTPUT_NATIVE;
    o->strict = 1;
    int rc = cli_parse_args(ctx, &spec, argc, argv, o, input);
    if (rc >= 0)
        return rc;
    if (!o->model)
        return cli_usage_error("build", "--model is required");
    if (strcmp(o->endpoint, "chat") && strcmp(o->endpoint, "responses") &&
        strcmp(o->endpoint, "embeddings"))
        return cli_usage_error("build",
                               "--endpoint takes chat, responses or embeddings");
    if (!o->format)
        o->format = ext_format(*input);
    if (strcmp(o->format, "text") && strcmp(o->format, "csv") &&
        strcmp(o->format, "jsonl"))
        return cli_usage_error("build", "--format takes text, csv or jsonl");
    if (!strcmp(o->endpoint, "embeddings") && (o->schema_path || o->tools_path))
        return cli_usage_error("build", "embeddings take no --schema or --tools");
    if (o->schema_opt && !o->schema_path)
        return cli_usage_error("build", "%s goes with --schema",
                               o->schema_opt);
    return -1;
}

static int load_schema(build_state *b, const char *path)
{
    char *text = NULL;
    size_t len = 0;
    if (oab__read_file(path, &text, &len) != OAB_OK) {
        cli_error(b->ctx, "cannot read the schema %s", path);
        return CLI_EXIT_LOCAL;
    }
    oab_error err = { 0, 0, "" };
    oab_status st = oab_schema_new(&b->schema, b->o->schema_name, NULL, text,
                                   b->o->strict, &err);
    free(text);
    if (st != OAB_OK) {
        cli_error(b->ctx, "%s: %s", path,
                  err.message[0] ? err.message : oab_strerror(st));
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

/* Reads the prompts of `input` and emits a request for each. */
static int build_from(build_state *b, const char *input)
{
    const build_opts *o = b->o;
    if (!strcmp(o->format, "csv"))
        return build_csv(b, input);
    oab_error err = { 0, 0, "" };
    oab_status st = oab_jsonl_read_path(
        input, !strcmp(o->format, "jsonl") ? jsonl_line : text_line, b, &err);
    if (b->failed)
        return b->failed;
    if (st == OAB_ELIMIT) {
        cli_error(b->ctx, "%s:%ld: line too long", b->name, err.line);
        return CLI_EXIT_INVALID;
    }
    if (st != OAB_OK) {
        cli_error(b->ctx, "cannot read %s: %s", b->name, oab_strerror(st));
        return CLI_EXIT_LOCAL;
    }
    return CLI_EXIT_OK;
}

/* name: INPUT as given (input is the copy of standard input for "-") */
static int build(cli_ctx *ctx, const build_opts *o, const char *input,
                 const char *name)
{
    /* build's inputs are no Batch API files: a BOM is skipped */
    int rc = cli_check_readable(ctx, input, name);
    if (rc != CLI_EXIT_OK)
        return rc;
    build_state b;
    memset(&b, 0, sizeof b);
    b.ctx = ctx;
    b.o = o;
    b.name = name;
    oab__idset empty = OAB__IDSET_INIT;
    b.ids = empty;
    if (o->tools_path && (rc = load_tools(&b, o->tools_path)) != CLI_EXIT_OK)
        goto done;
    if (o->schema_path && (rc = load_schema(&b, o->schema_path)) != CLI_EXIT_OK)
        goto done;
    if ((rc = check_options(&b)) != CLI_EXIT_OK)
        goto done;
    if (o->out_path &&
        (rc = cli_outfile_open(ctx, &b.out, o->out_path)) != CLI_EXIT_OK)
        goto done;
    rc = build_from(&b, input);
    if (rc == CLI_EXIT_OK && b.count == 0) {
        cli_error(ctx, "%s: no prompts", name);
        rc = CLI_EXIT_INVALID;
    }
    if (rc == CLI_EXIT_OK && b.out.f)
        rc = cli_outfile_close(ctx, &b.out);
    if (rc == CLI_EXIT_OK)
        cli_info(ctx, "built %ld request%s%s%s", b.count,
                 b.count == 1 ? "" : "s", o->out_path ? " into " : "",
                 o->out_path ? o->out_path : "");
done:
    if (b.out.f)
        cli_outfile_abort(&b.out);
    oab__idset_free(&b.ids);
    oab_schema_free(b.schema);
    free(b.tools);
    for (size_t i = 0; i < b.n_tool_strings; i++)
        free(b.tool_strings[i]);
    free(b.tool_strings);
    return rc;
}

int cmd_build(cli_ctx *ctx, int argc, char **argv)
{
    build_opts o;
    const char *input = NULL;
    char *copy = NULL;
    int rc = parse_build(ctx, argc, argv, &o, &input);
    if (rc < 0 && strcmp(input, "-") == 0)
        rc = cli_spool_stdin(ctx, &copy, &input);
    if (rc < 0)
        rc = build(ctx, &o, input, copy ? "-" : input);
    if (copy)
        remove(copy);
    free(copy);
    return rc;
}
