/* Tests of the input validator: every problem code with its line number,
 * the limits (lines, bytes, embedding inputs), chunking, UTF-8, files,
 * body.messages of chat completions, stream: true, a byte order mark. */
#include "oaibatch.h"
#include <cjson/cJSON.h>
#include "util/buf.h"
#include "testutil.h"

#include <stdint.h>
#include <unistd.h>

/* The messages every chat completion needs. */
#define MSGS "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]"
#define L(id) "{\"custom_id\":\"" id "\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-4o-mini\"," MSGS "}}\n"

static oab_validation *run(const char *text, const oab_validate_options *o,
                           oab_status *st)
{
    oab_validation *v = NULL;
    *st = oab_validate_buffer(&v, text, strlen(text), o);
    return v;
}

/* The first problem with `code`, or NULL. */
static const oab_problem *find(const oab_validation *v, const char *code)
{
    for (size_t i = 0; v && i < v->n_problems; i++)
        if (strcmp(v->problems[i].code, code) == 0)
            return &v->problems[i];
    return NULL;
}

/* Checks that the file has exactly one problem, `code` on `line`. */
static void expect_one(const char *text, const char *code, long line,
                       const char *param)
{
    oab_status st;
    oab_validation *v = run(text, NULL, &st);
    CHECK_EQ_INT(st, OAB_EVALIDATION);
    CHECK(v != NULL);
    if (!v)
        return;
    CHECK_EQ_INT(v->n_problems, 1);
    CHECK_EQ_INT(v->n_problems_total, 1);
    const oab_problem *p = find(v, code);
    CHECK(p != NULL);
    if (p) {
        CHECK_EQ_INT(p->line, line);
        CHECK_STR(p->param, param);
        CHECK(p->message && p->message[0]);
    } else {
        for (size_t i = 0; i < v->n_problems; i++)
            fprintf(stderr, "  got %s line %ld: %s\n", v->problems[i].code,
                    v->problems[i].line, v->problems[i].message);
    }
    oab_validation_free(v);
}

static void test_valid(void)
{
    oab_status st;
    oab_validation *v = run(L("a") L("b") "\n" L("c"), NULL, &st);
    CHECK_OK(st);
    CHECK(v != NULL);
    CHECK_EQ_INT(v->n_lines, 3);
    CHECK_EQ_INT(v->n_problems, 0);
    CHECK_EQ_INT(v->n_problems_total, 0);
    CHECK_STR(v->url, "/v1/chat/completions");
    CHECK_STR(v->model, "gpt-4o-mini");
    CHECK_EQ_INT(v->n_bytes, strlen(L("a") L("b") "\n" L("c")));
    oab_validation_free(v);

    /* CRLF line ends, no newline at the end, escapes, UTF-8, deep bodies */
    const char *t =
        "{\"custom_id\":\"\\u00e9t\\u00e9\",\"method\":\"POST\",\"url\":\"\\/v1\\/embeddings\","
        "\"body\":{\"model\":\"text-embedding-3-small\",\"input\":\"caf\xc3\xa9 \xf0\x9f\x98\x80\"}}\r\n"
        "  {\"body\":{\"input\":[\"x\",\"y\"],\"model\":\"text-embedding-3-small\",\"x\":[1,2.5e-3,-0,true,false,null,{}]},"
        "\"url\":\"/v1/embeddings\",\"method\":\"POST\",\"custom_id\":\"\xc3\xa9t\xc3\xa9-2\"}  ";
    v = run(t, NULL, &st);
    CHECK_OK(st);
    CHECK_EQ_INT(v->n_lines, 2);
    CHECK_EQ_INT(v->n_embedding_inputs, 3);
    CHECK_STR(v->url, "/v1/embeddings");
    oab_validation_free(v);

    /* the seed's minimum of two is switchable off */
    oab_validate_options o = OAB_VALIDATE_OPTIONS_INIT;
    o.min_requests = -1;
    v = run(L("only"), &o, &st);
    CHECK_OK(st);
    oab_validation_free(v);
}

static void test_codes(void)
{
    expect_one(L("a") "{\"custom_id\":\"b\",\"method\":\"POST\"\n", "invalid_json_line", 2, NULL);
    expect_one(L("a") "[1,2]\n", "invalid_json_line", 2, NULL);
    expect_one(L("a") "{\"custom_id\":\"b\"} x\n", "invalid_json_line", 2, NULL);
    expect_one(L("a") "{\"a\":01}\n", "invalid_json_line", 2, NULL);
    expect_one(L("a") "{\"a\":\"tab\there\"}\n", "invalid_json_line", 2, NULL);
    expect_one(L("a") "{\"a\":\"\\x\"}\n", "invalid_json_line", 2, NULL);
    expect_one(L("a") "{'a':1}\n", "invalid_json_line", 2, NULL);
    expect_one(L("a") "{\"a\":1,}\n", "invalid_json_line", 2, NULL);
    expect_one(L("a") "{\"a\":tru}\n", "invalid_json_line", 2, NULL);
    expect_one(L("a") "{\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-4o-mini\"," MSGS "}}\n",
               "missing_custom_id", 2, "custom_id");
    expect_one(L("a") "{\"custom_id\":\"\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-4o-mini\"," MSGS "}}\n",
               "missing_custom_id", 2, "custom_id");
    expect_one(L("a") "{\"custom_id\":7,\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-4o-mini\"," MSGS "}}\n",
               "invalid_custom_id", 2, "custom_id");
    expect_one(L("a") L("b") "\n" L("a"), "duplicate_custom_id", 4, "custom_id");
    /* the same id written with an escape is still the same id */
    expect_one(L("a") "{\"custom_id\":\"\\u0061\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-4o-mini\"," MSGS "}}\n",
               "duplicate_custom_id", 2, "custom_id");
    expect_one(L("a") "{\"custom_id\":\"b\",\"method\":\"GET\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-4o-mini\"," MSGS "}}\n",
               "invalid_method", 2, "method");
    expect_one(L("a") "{\"custom_id\":\"b\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-4o-mini\"," MSGS "}}\n",
               "missing_method", 2, "method");
    expect_one(L("a") "{\"custom_id\":\"b\",\"method\":\"POST\",\"url\":\"/v1/chat\",\"body\":{\"model\":\"gpt-4o-mini\"}}\n",
               "invalid_url", 2, "url");
    expect_one(L("a") "{\"custom_id\":\"b\",\"method\":\"POST\",\"body\":{\"model\":\"gpt-4o-mini\"}}\n",
               "missing_url", 2, "url");
    expect_one(L("a") "{\"custom_id\":\"b\",\"method\":\"POST\",\"url\":\"/v1/responses\",\"body\":{\"model\":\"gpt-4o-mini\"}}\n",
               "url_mismatch", 2, "url");
    expect_one(L("a") "{\"custom_id\":\"b\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\"}\n",
               "missing_body", 2, "body");
    expect_one(L("a") "{\"custom_id\":\"b\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":\"x\"}\n",
               "invalid_body", 2, "body");
    expect_one(L("a") "{\"custom_id\":\"b\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{" MSGS "}}\n",
               "missing_model", 2, "body.model");
    expect_one(L("a") "{\"custom_id\":\"b\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-4o\"," MSGS "}}\n",
               "model_mismatch", 2, "body.model");
    expect_one(L("a") "{\"custom_id\":\"b\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":5," MSGS "}}\n",
               "invalid_model", 2, "body.model");
    /* a model nested deeper does not count as body.model */
    expect_one(L("a") "{\"custom_id\":\"b\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"x\":{\"model\":\"gpt-4o-mini\"}," MSGS "}}\n",
               "missing_model", 2, "body.model");
    expect_one("", "empty_file", 0, NULL);
    expect_one("\n\n  \n", "empty_file", 0, NULL);
    expect_one(L("a"), "too_few_requests", 0, NULL);

    /* the expected url from the options */
    oab_validate_options o = OAB_VALIDATE_OPTIONS_INIT;
    o.expected_url = "/v1/responses";
    oab_status st;
    oab_validation *v = run(L("a") L("b"), &o, &st);
    CHECK_EQ_INT(st, OAB_EVALIDATION);
    CHECK_EQ_INT(v->n_problems, 2);
    CHECK_STR(v->problems[0].code, "url_mismatch");
    CHECK_EQ_INT(v->problems[0].line, 1);
    CHECK_EQ_INT(v->problems[1].line, 2);
    oab_validation_free(v);

    /* several problems on one line, all reported */
    v = run(L("a") "{\"custom_id\":\"a\",\"method\":\"PUT\",\"url\":\"/v2/x\"}\n", NULL, &st);
    CHECK_EQ_INT(st, OAB_EVALIDATION);
    CHECK_EQ_INT(v->n_problems, 4);
    CHECK(find(v, "duplicate_custom_id") && find(v, "invalid_method") &&
          find(v, "invalid_url") && find(v, "missing_body"));
    const oab_problem *p = find(v, "duplicate_custom_id");
    CHECK(p && strstr(p->message, "line 1"));
    oab_validation_free(v);
}

static void test_utf8_and_truncation(void)
{
    /* invalid UTF-8 inside a string: the line is JSON but not UTF-8 */
    expect_one(L("a") "{\"custom_id\":\"b\xff\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-4o-mini\"," MSGS "}}\n",
               "invalid_utf8", 2, NULL);
    /* overlong encoding, lone surrogate (raw and escaped), cut sequence */
    expect_one(L("a") "{\"custom_id\":\"b\xc0\xaf\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-4o-mini\"," MSGS "}}\n",
               "invalid_utf8", 2, NULL);
    expect_one(L("a") "{\"custom_id\":\"b\xed\xa0\x80\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-4o-mini\"," MSGS "}}\n",
               "invalid_utf8", 2, NULL);
    expect_one(L("a") "{\"custom_id\":\"b\\ud800\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-4o-mini\"," MSGS "}}\n",
               "invalid_utf8", 2, NULL);
    expect_one(L("a") "{\"custom_id\":\"b\xe2\x82\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-4o-mini\"," MSGS "}}\n",
               "invalid_utf8", 2, NULL);
    /* a valid surrogate pair is fine */
    oab_status st;
    oab_validation *v = run(L("a") "{\"custom_id\":\"\\ud83d\\ude00\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-4o-mini\"," MSGS "}}\n", NULL, &st);
    CHECK_OK(st);
    oab_validation_free(v);
    /* non-ASCII outside a string is not JSON */
    expect_one(L("a") "\xef\xbb\xbf{}\n", "invalid_json_line", 2, NULL);

    /* a last line without newline is fine when it is whole JSON ... */
    const char *whole = L("a") L("b");
    char buf[1024];
    size_t n = strlen(whole) - 1; /* drop the final newline */
    memcpy(buf, whole, n);
    buf[n] = '\0';
    v = run(buf, NULL, &st);
    CHECK_OK(st);
    CHECK_EQ_INT(v->n_lines, 2);
    oab_validation_free(v);
    /* ... and invalid_json_line when it was cut off */
    buf[n - 20] = '\0';
    v = run(buf, NULL, &st);
    CHECK_EQ_INT(st, OAB_EVALIDATION);
    CHECK_EQ_INT(v->n_problems, 1);
    CHECK_STR(v->problems[0].code, "invalid_json_line");
    CHECK_EQ_INT(v->problems[0].line, 2);
    CHECK(strstr(v->problems[0].message, "cut off") != NULL);
    oab_validation_free(v);

    /* nesting: 1000 containers are fine, 1001 are not (as cJSON) */
    oab__buf b = OAB__BUF_INIT;
    oab__buf_puts(&b, L("a") "{\"custom_id\":\"b\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-4o-mini\"," MSGS ",\"x\":");
    for (int i = 0; i < 998; i++)
        oab__buf_putc(&b, '[');
    for (int i = 0; i < 998; i++)
        oab__buf_putc(&b, ']');
    oab__buf_puts(&b, "}}\n");
    v = NULL;
    CHECK_OK(oab_validate_buffer(&v, b.data, b.len, NULL));
    oab_validation_free(v);
    cJSON *j = cJSON_Parse(strchr(b.data, '\n') + 1);
    CHECK(j != NULL);
    cJSON_Delete(j);
    oab__buf_clear(&b);
    oab__buf_puts(&b, L("a") "{\"custom_id\":\"b\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-4o-mini\"," MSGS ",\"x\":");
    for (int i = 0; i < 999; i++)
        oab__buf_putc(&b, '[');
    for (int i = 0; i < 999; i++)
        oab__buf_putc(&b, ']');
    oab__buf_puts(&b, "}}\n");
    v = NULL;
    CHECK_EQ_INT(oab_validate_buffer(&v, b.data, b.len, NULL), OAB_EVALIDATION);
    CHECK(v && v->n_problems == 1 &&
          strcmp(v->problems[0].code, "invalid_json_line") == 0);
    oab_validation_free(v);
    j = cJSON_Parse(strchr(b.data, '\n') + 1);
    CHECK(j == NULL);
    oab__buf_free(&b);
}

static void test_limits(void)
{
    /* 50,001 requests: too_many_tasks on line 50001, once */
    oab__buf b = OAB__BUF_INIT;
    for (int i = 1; i <= 50001; i++)
        oab__buf_printf(&b,
                        "{\"custom_id\":\"r%d\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"m\"," MSGS "}}\n",
                        i);
    oab_validation *v = NULL;
    CHECK_EQ_INT(oab_validate_buffer(&v, b.data, b.len, NULL), OAB_EVALIDATION);
    CHECK_EQ_INT(v->n_lines, 50001);
    CHECK_EQ_INT(v->n_problems, 1);
    CHECK_STR(v->problems[0].code, "too_many_tasks");
    CHECK_EQ_INT(v->problems[0].line, 50001);
    oab_validation_free(v);
    /* 50,000 is fine */
    size_t last = b.len - 1;
    while (b.data[last - 1] != '\n')
        last--;
    CHECK_OK(oab_validate_buffer(&v, b.data, last, NULL));
    CHECK_EQ_INT(v->n_lines, 50000);
    oab_validation_free(v);

    /* bytes: exactly at the limit is fine, one byte more is not */
    const char *two = L("a") L("b");
    size_t n = strlen(two);
    oab_validate_options o = OAB_VALIDATE_OPTIONS_INIT;
    o.max_bytes = n;
    CHECK_OK(oab_validate_buffer(&v, two, n, &o));
    oab_validation_free(v);
    o.max_bytes = n - 1;
    CHECK_EQ_INT(oab_validate_buffer(&v, two, n, &o), OAB_EVALIDATION);
    CHECK_EQ_INT(v->n_problems, 1);
    CHECK_STR(v->problems[0].code, "file_too_large");
    CHECK_EQ_INT(v->problems[0].line, 2);
    oab_validation_free(v);
    /* a line longer than the whole limit is not kept in memory */
    o.max_bytes = strlen(L("a")) + 10;
    oab__buf_clear(&b);
    oab__buf_puts(&b, L("a"));
    oab__buf_puts(&b, "{\"custom_id\":\"big\",\"x\":\"");
    for (int i = 0; i < 1000; i++)
        oab__buf_putc(&b, 'x');
    oab__buf_puts(&b, "\"}\n");
    oab_validator *vd = NULL;
    CHECK_OK(oab_validator_new(&vd, &o));
    for (size_t i = 0; i < b.len; i += 7)
        CHECK_OK(oab_validator_feed(vd, b.data + i, b.len - i < 7 ? b.len - i : 7));
    CHECK_EQ_INT(oab_validator_finish(vd, &v), OAB_EVALIDATION);
    oab_validator_free(vd);
    CHECK_EQ_INT(v->n_lines, 2);
    CHECK(find(v, "file_too_large") && find(v, "file_too_large")->line == 2);
    oab_validation_free(v);

    /* embedding inputs, counted over the file */
    o = (oab_validate_options)OAB_VALIDATE_OPTIONS_INIT;
    o.max_embedding_inputs = 5;
#define E(id, input) "{\"custom_id\":\"" id "\",\"method\":\"POST\",\"url\":\"/v1/embeddings\",\"body\":{\"model\":\"e\",\"input\":" input "}}\n"
    const char *emb = E("1", "[\"a\",\"b\"]") E("2", "[1,2,3]") E("3", "[[1],[2]]")
        E("4", "\"x\"");
    CHECK_EQ_INT(oab_validate_buffer(&v, emb, strlen(emb), &o), OAB_EVALIDATION);
    CHECK_EQ_INT(v->n_embedding_inputs, 6);
    CHECK_EQ_INT(v->n_problems, 1);
    CHECK_STR(v->problems[0].code, "too_many_embedding_inputs");
    CHECK_EQ_INT(v->problems[0].line, 4);
    oab_validation_free(v);
    emb = E("1", "\"x\"") "{\"custom_id\":\"2\",\"method\":\"POST\",\"url\":\"/v1/embeddings\",\"body\":{\"model\":\"e\"}}\n";
    CHECK_EQ_INT(oab_validate_buffer(&v, emb, strlen(emb), NULL), OAB_EVALIDATION);
    CHECK(find(v, "missing_input") && find(v, "missing_input")->line == 2);
    oab_validation_free(v);

    /* problems kept up to max_problems, all counted */
    o = (oab_validate_options)OAB_VALIDATE_OPTIONS_INIT;
    o.max_problems = 3;
    oab__buf_clear(&b);
    for (int i = 0; i < 10; i++)
        oab__buf_puts(&b, "not json\n");
    CHECK_EQ_INT(oab_validate_buffer(&v, b.data, b.len, &o), OAB_EVALIDATION);
    CHECK_EQ_INT(v->n_problems, 3);
    CHECK_EQ_INT(v->n_problems_total, 10);
    CHECK_EQ_INT(v->problems[2].line, 3);
    oab_validation_free(v);
    oab__buf_free(&b);
}

/* Any chunking gives the same report. */
static void test_chunking(void)
{
    const char *text = L("a") "\r\n" L("b") "{\"custom_id\":\"a\",\"x\":\"\xc3\xa9\"}\n" L("c") "{bad";
    size_t n = strlen(text);
    oab_validation *ref = NULL;
    CHECK_EQ_INT(oab_validate_buffer(&ref, text, n, NULL), OAB_EVALIDATION);
    CHECK(ref && ref->n_problems >= 4);
    for (size_t step = 1; step < 40; step += 3) {
        oab_validator *vd = NULL;
        CHECK_OK(oab_validator_new(&vd, NULL));
        for (size_t i = 0; i < n; i += step)
            CHECK_OK(oab_validator_feed(vd, text + i, n - i < step ? n - i : step));
        oab_validation *v = NULL;
        CHECK_EQ_INT(oab_validator_finish(vd, &v), OAB_EVALIDATION);
        CHECK_EQ_INT(oab_validator_feed(vd, "x", 1), OAB_ESTATE);
        oab_validator_free(vd);
        CHECK_EQ_INT(v->n_problems, ref->n_problems);
        for (size_t i = 0; i < v->n_problems && i < ref->n_problems; i++) {
            CHECK_STR(v->problems[i].code, ref->problems[i].code);
            CHECK_EQ_INT(v->problems[i].line, ref->problems[i].line);
        }
        CHECK_EQ_INT(v->n_lines, ref->n_lines);
        oab_validation_free(v);
    }
    oab_validation_free(ref);
}

static void test_path(void)
{
    char path[] = "/tmp/oab_test_validate_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    const char *text = L("a") L("b") L("a");
    CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    oab_validation *v = NULL;
    CHECK_EQ_INT(oab_validate_path(&v, path, NULL), OAB_EVALIDATION);
    CHECK(v && v->n_problems == 1 && v->problems[0].line == 3);
    oab_validation_free(v);
    unlink(path);
    v = (oab_validation *)1;
    CHECK_EQ_INT(oab_validate_path(&v, path, NULL), OAB_EIO);
    CHECK(v == NULL);
    oab_validation_free(NULL);
    oab_validator_free(NULL);
}

/* A schema string holding \u0000 would be cut when the server parses the
 * line: refused with the field; a NUL in message content is not a schema
 * and passes. */
static void test_schema_nul(void)
{
    const char *t =
        "{\"custom_id\":\"a\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
        "\"body\":{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":"
        "\"x\\u0000y\"}]}}\n"
        "{\"custom_id\":\"b\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
        "\"body\":{\"model\":\"m\"," MSGS ",\"response_format\":{\"type\":\"json_schema\","
        "\"json_schema\":{\"name\":\"r\",\"schema\":{\"type\":\"object\","
        "\"properties\":{\"p\":{\"type\":\"string\",\"pattern\":\"^\\u0000a$\"}}}}}}}\n";
    oab_validation *v = NULL;
    CHECK_EQ_INT(oab_validate_buffer(&v, t, strlen(t), NULL), OAB_EVALIDATION);
    CHECK_EQ_INT(v->n_problems, 1);
    CHECK_STR(v->problems[0].code, "invalid_value");
    CHECK_EQ_INT(v->problems[0].line, 2);
    CHECK_STR(v->problems[0].param,
              "body.response_format.json_schema.schema.properties.p.pattern");
    CHECK(strstr(v->problems[0].message, "\\u0000") != NULL);
    oab_validation_free(v);
}

/* A chat completion line: custom_id "b", body members `members`. */
#define CHAT(members) "{\"custom_id\":\"b\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-4o-mini\"" members "}}\n"

/* Chat completions need body.messages, an array of at least one object;
 * what a message holds is not checked. */
static void test_messages(void)
{
    expect_one(L("a") CHAT(""), "missing_messages", 2, "body.messages");
    expect_one(L("a") CHAT(",\"messages\":null"), "missing_messages", 2,
               "body.messages");
    expect_one(L("a") CHAT(",\"messages\":\"hi\""), "invalid_messages", 2,
               "body.messages");
    expect_one(L("a") CHAT(",\"messages\":{\"role\":\"user\"}"),
               "invalid_messages", 2, "body.messages");
    expect_one(L("a") CHAT(",\"messages\":[]"), "invalid_messages", 2,
               "body.messages");
    expect_one(L("a") CHAT(",\"messages\":[ ]"), "invalid_messages", 2,
               "body.messages");
    expect_one(L("a") CHAT(",\"messages\":[\"hi\"]"), "invalid_messages", 2,
               "body.messages");
    expect_one(L("a") CHAT(",\"messages\":[{\"role\":\"user\",\"content\":\"x\"},[],null]"),
               "invalid_messages", 2, "body.messages");
    /* a messages member nested deeper is not body.messages */
    expect_one(L("a") CHAT(",\"x\":{" MSGS "}"), "missing_messages", 2,
               "body.messages");

    oab_status st;
    /* the message names the element, which is the first bad one */
    oab_validation *v =
        run(L("a") CHAT(",\"messages\":[{},{},7,\"x\"]"), NULL, &st);
    CHECK_EQ_INT(st, OAB_EVALIDATION);
    CHECK(v && v->n_problems == 1);
    if (v && v->n_problems == 1)
        CHECK(strstr(v->problems[0].message, "body.messages[2]") &&
              strstr(v->problems[0].message, "a number"));
    oab_validation_free(v);

    /* roles, content and the other fields are the model's to judge; the
       key may be written with escapes */
    const char *fine =
        L("a")
        CHAT(",\"messages\":[{}]")
        "{\"custom_id\":\"c\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"wizard\",\"content\":7}],\"temperature\":\"hot\"}}\n"
        "{\"custom_id\":\"d\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-4o-mini\",\"m\\u0065ssages\":[{\"role\":\"user\",\"content\":\"x\"}]}}\n";
    v = run(fine, NULL, &st);
    CHECK_OK(st);
    CHECK(v && v->n_problems_total == 0 && v->n_lines == 4);
    oab_validation_free(v);

    /* other endpoints need no messages */
    const char *other =
        "{\"custom_id\":\"a\",\"method\":\"POST\",\"url\":\"/v1/responses\",\"body\":{\"model\":\"gpt-4o-mini\",\"input\":\"hi\"}}\n"
        "{\"custom_id\":\"b\",\"method\":\"POST\",\"url\":\"/v1/responses\",\"body\":{\"model\":\"gpt-4o-mini\",\"input\":\"hi\",\"messages\":7}}\n";
    v = run(other, NULL, &st);
    CHECK_OK(st);
    oab_validation_free(v);
    /* nor a line whose url is not an endpoint (the url is the problem) */
    expect_one(L("a") "{\"custom_id\":\"b\",\"method\":\"POST\",\"url\":\"/v1/chat\",\"body\":{\"model\":\"gpt-4o-mini\"}}\n",
               "invalid_url", 2, "url");

    /* one problem per line, every line, in any chunking */
    const char *text = L("a") CHAT("") "\n" CHAT(",\"messages\":[]")
        CHAT(",\"messages\":[1]") L("c");
    size_t n = strlen(text);
    for (size_t step = 1; step <= n; step += 5) {
        oab_validator *vd = NULL;
        CHECK_OK(oab_validator_new(&vd, NULL));
        for (size_t i = 0; i < n; i += step)
            CHECK_OK(oab_validator_feed(vd, text + i,
                                        n - i < step ? n - i : step));
        v = NULL;
        CHECK_EQ_INT(oab_validator_finish(vd, &v), OAB_EVALIDATION);
        oab_validator_free(vd);
        if (!v)
            continue;
        /* the duplicate custom_id "b" on lines 4 and 5 is reported too */
        size_t seen = 0;
        for (size_t i = 0; i < v->n_problems; i++) {
            const oab_problem *p = &v->problems[i];
            if (strcmp(p->code, "duplicate_custom_id") == 0)
                continue;
            CHECK_STR(p->param, "body.messages");
            CHECK_EQ_INT(p->line, seen == 0 ? 2 : (long)seen + 3);
            CHECK_STR(p->code, seen == 0 ? "missing_messages"
                                         : "invalid_messages");
            seen++;
        }
        CHECK_EQ_INT(seen, 3);
        oab_validation_free(v);
    }
}

/* stream: true makes the server fail the whole batch: refused for every
 * endpoint that takes stream; false, null or absent are fine. */
static void test_stream(void)
{
#define LINE(id, url, body) "{\"custom_id\":\"" id "\",\"method\":\"POST\",\"url\":\"" url "\",\"body\":" body "}\n"
    expect_one(L("a") CHAT("," MSGS ",\"stream\":true"),
               "stream_not_supported", 2, "body.stream");
    expect_one(L("a") CHAT(",\"stream\" : true ," MSGS),
               "stream_not_supported", 2, "body.stream");
    expect_one(LINE("a", "/v1/responses", "{\"model\":\"m\",\"input\":\"x\"}")
               LINE("b", "/v1/responses", "{\"model\":\"m\",\"input\":\"x\",\"stream\":true}"),
               "stream_not_supported", 2, "body.stream");
    expect_one(LINE("a", "/v1/completions", "{\"model\":\"m\",\"prompt\":\"x\",\"stream\":true}")
               LINE("b", "/v1/completions", "{\"model\":\"m\",\"prompt\":\"x\"}"),
               "stream_not_supported", 1, "body.stream");
    expect_one(LINE("a", "/v1/images/generations", "{\"prompt\":\"x\",\"stream\":true}")
               LINE("b", "/v1/images/generations", "{\"prompt\":\"x\"}"),
               "stream_not_supported", 1, "body.stream");
    /* written with an escape, the key is still stream */
    expect_one(L("a") CHAT("," MSGS ",\"str\\u0065am\":true"),
               "stream_not_supported", 2, "body.stream");

    /* a problem on each such line */
    oab_status st;
    oab_validation *v =
        run(LINE("a", "/v1/responses", "{\"model\":\"m\",\"input\":\"x\",\"stream\":true}")
            LINE("b", "/v1/responses", "{\"stream\":true,\"model\":\"m\",\"input\":\"x\"}")
            LINE("c", "/v1/responses", "{\"model\":\"m\",\"input\":\"x\"}"),
            NULL, &st);
    CHECK_EQ_INT(st, OAB_EVALIDATION);
    CHECK(v && v->n_problems == 2);
    if (v && v->n_problems == 2) {
        CHECK_STR(v->problems[0].code, "stream_not_supported");
        CHECK_EQ_INT(v->problems[0].line, 1);
        CHECK_EQ_INT(v->problems[1].line, 2);
        CHECK(strstr(v->problems[0].message, "stream") != NULL);
    }
    oab_validation_free(v);

    /* false, null, absent, nested deeper, or not a boolean: not asked */
    const char *fine =
        L("a")
        CHAT("," MSGS ",\"stream\":false")
        "{\"custom_id\":\"c\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-4o-mini\"," MSGS ",\"stream\":null}}\n"
        "{\"custom_id\":\"d\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-4o-mini\"," MSGS ",\"x\":{\"stream\":true}}}\n"
        "{\"custom_id\":\"e\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-4o-mini\"," MSGS ",\"stream_options\":{\"include_usage\":true}}}\n";
    v = run(fine, NULL, &st);
    CHECK_OK(st);
    CHECK(v && v->n_problems_total == 0);
    oab_validation_free(v);
    /* endpoints without stream: not this check's business */
    v = run(LINE("a", "/v1/embeddings", "{\"model\":\"e\",\"input\":\"x\",\"stream\":true}")
            LINE("b", "/v1/embeddings", "{\"model\":\"e\",\"input\":\"x\"}"),
            NULL, &st);
    CHECK_OK(st);
    oab_validation_free(v);
#undef LINE
}

/* A file that starts with a byte order mark: "bom" on line 1, and the
 * rest of that line checked as if the mark were not there. */
static void test_bom(void)
{
    oab_validate_options o = OAB_VALIDATE_OPTIONS_INIT;
    o.min_requests = -1;
    const char *text = "\xEF\xBB\xBF" L("a") L("b");
    size_t n = strlen(text);
    for (size_t step = 1; step <= n; step += 2) {
        oab_validator *vd = NULL;
        CHECK_OK(oab_validator_new(&vd, &o));
        for (size_t i = 0; i < n; i += step)
            CHECK_OK(oab_validator_feed(vd, text + i,
                                        n - i < step ? n - i : step));
        oab_validation *v = NULL;
        CHECK_EQ_INT(oab_validator_finish(vd, &v), OAB_EVALIDATION);
        oab_validator_free(vd);
        CHECK(v && v->n_problems == 1 && v->n_lines == 2);
        if (v && v->n_problems == 1) {
            CHECK_STR(v->problems[0].code, "bom");
            CHECK_EQ_INT(v->problems[0].line, 1);
            CHECK(v->problems[0].param == NULL);
        }
        oab_validation_free(v);
        if (step == 3)
            step = n / 2; /* a few chunkings are enough */
    }
    /* the rest of line 1 is still checked */
    oab_status st;
    oab_validation *v = run("\xEF\xBB\xBF{\"a\":1}\n" L("b"), &o, &st);
    CHECK_EQ_INT(st, OAB_EVALIDATION);
    CHECK(v && find(v, "bom") && find(v, "missing_custom_id") &&
          find(v, "missing_custom_id")->line == 1);
    oab_validation_free(v);
    /* a mark alone: no request */
    v = run("\xEF\xBB\xBF\n", &o, &st);
    CHECK_EQ_INT(st, OAB_EVALIDATION);
    CHECK(v && v->n_lines == 0 && find(v, "bom") && find(v, "empty_file"));
    oab_validation_free(v);
}

int main(void)
{
    test_messages();
    test_stream();
    test_bom();
    test_schema_nul();
    test_valid();
    test_codes();
    test_utf8_and_truncation();
    test_limits();
    test_chunking();
    test_path();
    return t_summary("test_validate");
}
