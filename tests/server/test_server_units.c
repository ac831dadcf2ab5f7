/* test_server_units.c - the I/O-free parts of the local server fed
 * directly: the Range parser, the multipart closing-delimiter check and
 * byte-exact fields, the JSONL reader's line offsets (the server's line
 * storage), and the built-in test model's caps. */
#include "oaibatch.h"
#include <cjson/cJSON.h>
#include "http.h"
#include "range.h"
#include "testmodel.h"
#include "upload.h"
#include "testutil.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void range_case(const char *h, uint64_t size, int want, uint64_t ws,
                       uint64_t wl)
{
    uint64_t s = 99, l = 99;
    int k = srv_range_parse(h, size, &s, &l);
    CHECK_EQ_INT(k, want);
    if (k != want)
        fprintf(stderr, "  range %s on %llu\n", h ? h : "(null)",
                (unsigned long long)size);
    if (want == SRV_RANGE_ONE) {
        CHECK_EQ_INT(s, ws);
        CHECK_EQ_INT(l, wl);
    }
}

static void test_range(void)
{
    range_case(NULL, 10, SRV_RANGE_NONE, 0, 0);
    range_case("bytes=3-4", 10, SRV_RANGE_ONE, 3, 2);
    range_case("bytes=3-", 10, SRV_RANGE_ONE, 3, 7);
    range_case("bytes=-3", 10, SRV_RANGE_ONE, 7, 3);
    range_case("bytes=-30", 10, SRV_RANGE_ONE, 0, 10);
    range_case("bytes=0-0", 10, SRV_RANGE_ONE, 0, 1);
    range_case("bytes=9-9", 10, SRV_RANGE_ONE, 9, 1);
    range_case("bytes=8-1000", 10, SRV_RANGE_ONE, 8, 2);
    range_case("bytes = 2-3 ", 10, SRV_RANGE_ONE, 2, 2);
    range_case("bytes=10-", 10, SRV_RANGE_UNSAT, 0, 0);
    range_case("bytes=5-", 0, SRV_RANGE_UNSAT, 0, 0);
    range_case("bytes=0-", 0, SRV_RANGE_UNSAT, 0, 0);
    range_case("bytes=-0", 10, SRV_RANGE_UNSAT, 0, 0);
    range_case("bytes=-5", 0, SRV_RANGE_UNSAT, 0, 0);
    range_case("bytes=0-1,4-5", 10, SRV_RANGE_MANY, 0, 0);
    range_case("bytes=0-1,20-30", 10, SRV_RANGE_MANY, 0, 0);
    range_case("bytes=20-30,40-", 10, SRV_RANGE_UNSAT, 0, 0);
    range_case("bytes=5-3", 10, SRV_RANGE_NONE, 0, 0);
    range_case("bytes=", 10, SRV_RANGE_NONE, 0, 0);
    range_case("bytes=-", 10, SRV_RANGE_NONE, 0, 0);
    range_case("bytes=1-2x", 10, SRV_RANGE_NONE, 0, 0);
    range_case("items=1-2", 10, SRV_RANGE_NONE, 0, 0);
    range_case("bytes=99999999999999999999999-", 10, SRV_RANGE_NONE, 0, 0);
}

static int mp(const char *ct, const char *body)
{
    srv_mp_tail t;
    if (!srv_mp_begin(&t, ct))
        return -1;
    /* fed one byte at a time and whole: the same answer */
    srv_mp_tail t2 = t;
    size_t passed1 = 0;
    for (const char *p = body; *p; p++)
        passed1 += srv_mp_feed(&t2, p, 1);
    size_t passed = srv_mp_feed(&t, body, strlen(body));
    int a = srv_mp_complete(&t), b = srv_mp_complete(&t2);
    CHECK_EQ_INT(a, b);
    CHECK_EQ_INT((long)passed, (long)passed1);
    /* what is passed on ends with the closing delimiter, nothing after */
    if (a)
        CHECK(passed >= 5 && memcmp(body + passed - 2, "--", 2) == 0);
    else
        CHECK_EQ_INT((long)passed, (long)strlen(body));
    return a;
}

static void test_multipart(void)
{
    const char *ct = "multipart/form-data; boundary=abc";
    CHECK_EQ_INT(mp(ct, "--abc\r\nX\r\n\r\ndata\r\n--abc--\r\n"), 1);
    CHECK_EQ_INT(mp(ct, "--abc\r\nX\r\n\r\ndata\r\n--abc--"), 1);
    CHECK_EQ_INT(mp(ct, "--abc\r\nX\r\n\r\ndata\r\n--abc"), 0);
    CHECK_EQ_INT(mp(ct, "--abc\r\nX\r\n\r\ndata\r\n--abc-"), 0);
    CHECK_EQ_INT(mp(ct, "--abc\r\nX\r\n\r\ndata"), 0);
    CHECK_EQ_INT(mp(ct, "--abc\r\nX\r\n\r\ndata x--abc--"), 0);
    /* an epilogue (RFC 2046) after the closing delimiter */
    CHECK_EQ_INT(mp(ct, "--abc\r\nX\r\n\r\ndata\r\n--abc--\r\n\r\n"), 1);
    CHECK_EQ_INT(mp(ct, "--abc\r\nX\r\n\r\ndata\r\n--abc--\r\nsome text"), 1);
    CHECK_EQ_INT(mp(ct, "--abc\r\nX\r\n\r\nda\r\r\n--abc--"), 1);
    CHECK_EQ_INT(mp(ct, "--abc--"), 1);
    CHECK_EQ_INT(mp(ct, ""), 0);
    CHECK_EQ_INT(mp("Multipart/Form-Data; BOUNDARY=\"q r\"",
                    "--q r\r\n\r\n\r\n--q r--\r\n"), 1);
    CHECK_EQ_INT(mp("application/x-www-form-urlencoded", "a=b"), -1);
    CHECK_EQ_INT(mp("multipart/form-data", "--x--"), -1);
    CHECK_EQ_INT(mp("multipart/form-data; boundary=", "--x--"), -1);
    CHECK_EQ_INT(mp(NULL, ""), -1);
    CHECK(srv_field_is("batch", 5, "batch"));
    CHECK(!srv_field_is("batch\0evil", 10, "batch"));
    CHECK(!srv_field_is("batc", 4, "batch"));
    CHECK(!srv_field_is(NULL, 0, "batch"));
}

typedef struct offs {
    unsigned long long off[8];
    size_t len[8];
    int n;
    oab_jsonl_reader *r;
} offs;

static int take(const char *line, size_t len, long lineno, void *ud)
{
    offs *o = ud;
    (void)line;
    (void)lineno;
    if (o->n < 8) {
        o->off[o->n] = oab_jsonl_reader_line_offset(o->r);
        o->len[o->n] = len;
        o->n++;
    }
    return 0;
}

static void test_offsets(void)
{
    /* blank lines (a tab, spaces and a tab, CRLF) are not delivered, and
     * every delivered line's offset points at its bytes */
    const char *text = "{\"a\":1}\n\t\n  \t \r\n{\"b\":22}\r\n\n{\"c\":3}";
    size_t n = strlen(text);
    for (size_t chunk = 1; chunk <= n; chunk++) {
        offs o;
        memset(&o, 0, sizeof o);
        CHECK_OK(oab_jsonl_reader_new(&o.r, 0));
        for (size_t i = 0; i < n; i += chunk) {
            size_t k = n - i < chunk ? n - i : chunk;
            CHECK_OK(oab_jsonl_reader_feed(o.r, text + i, k, take, &o));
        }
        CHECK_OK(oab_jsonl_reader_finish(o.r, take, &o, NULL));
        oab_jsonl_reader_free(o.r);
        CHECK_EQ_INT(o.n, 3);
        static const char *want[] = {"{\"a\":1}", "{\"b\":22}", "{\"c\":3}"};
        for (int i = 0; i < 3 && i < o.n; i++) {
            CHECK_EQ_INT(o.len[i], strlen(want[i]));
            CHECK(memcmp(text + o.off[i], want[i], strlen(want[i])) == 0);
        }
    }
    CHECK_EQ_INT(oab_jsonl_reader_line_offset(NULL), 0);
}

static cJSON *answer(const char *url, const char *body_text, int *status)
{
    cJSON *body = cJSON_Parse(body_text);
    cJSON *a = srv_tm_answer(url, body, status);
    cJSON_Delete(body);
    return a;
}

static const char *err_code(const cJSON *a)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(a, "error"), "code");
    return cJSON_IsString(c) ? c->valuestring : NULL;
}

static void test_testmodel_caps(void)
{
    int status = 0;
    /* 1000 x 1000 strings of 100000: refused, not generated */
    cJSON *a = answer("/v1/chat/completions",
        "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
        "\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{"
        "\"name\":\"x\",\"schema\":{\"type\":\"array\",\"minItems\":1000,"
        "\"items\":{\"type\":\"array\",\"minItems\":1000,\"items\":{"
        "\"type\":\"string\",\"minLength\":100000}}}}}}", &status);
    CHECK_EQ_INT(status, 400);
    CHECK_STR(err_code(a), "answer_too_large");
    cJSON_Delete(a);
    /* the same through a forced tool and the responses API */
    a = answer("/v1/responses",
        "{\"model\":\"m\",\"input\":\"x\",\"tool_choice\":{\"type\":"
        "\"function\",\"name\":\"f\"},\"tools\":[{\"type\":\"function\","
        "\"name\":\"f\",\"parameters\":{\"type\":\"object\",\"properties\":"
        "{\"s\":{\"type\":\"string\",\"minLength\":5000000}},\"required\":"
        "[\"s\"]}}]}", &status);
    CHECK_EQ_INT(status, 400);
    CHECK_STR(err_code(a), "answer_too_large");
    cJSON_Delete(a);
    /* a const repeated past the byte cap */
    cJSON *inst;
    cJSON *schema = cJSON_Parse(
        "{\"type\":\"array\",\"minItems\":1000,\"items\":{\"const\":\"\"}}");
    char *big = malloc(20001);
    memset(big, 'x', 20000);
    big[20000] = '\0';
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(schema, "items"), "const",
                              cJSON_CreateString(big));
    free(big);
    CHECK(srv_tm_instance(schema, NULL) == NULL);
    cJSON_Delete(schema);
    /* properties / required of the wrong type (a fuzzer finding: the
     * generated values leaked, and deep down a NULL name was compared) */
    schema = cJSON_Parse("{\"type\":\"object\",\"properties\":[\"a\"],"
                         "\"required\":{\"a\":1}}");
    inst = srv_tm_instance(schema, NULL);
    CHECK(cJSON_IsObject(inst) && cJSON_GetArraySize(inst) == 0);
    cJSON_Delete(inst);
    cJSON_Delete(schema);
    /* the same 12 levels down, where only required members are made */
    schema = cJSON_Parse("{\"properties\":[1,2],\"required\":[\"z\"]}");
    for (int i = 0; i < 12; i++) {
        cJSON *outer = cJSON_CreateObject();
        cJSON *pr = cJSON_AddObjectToObject(outer, "properties");
        cJSON_AddItemToObject(pr, "k", schema);
        cJSON *rq = cJSON_AddArrayToObject(outer, "required");
        cJSON_AddItemToArray(rq, cJSON_CreateString("k"));
        schema = outer;
    }
    inst = srv_tm_instance(schema, NULL);
    CHECK(cJSON_IsObject(inst));
    cJSON_Delete(inst);
    cJSON_Delete(schema);
    /* a normal one is still made */
    schema = cJSON_Parse("{\"type\":\"array\",\"minItems\":3,\"items\":"
                         "{\"type\":\"string\",\"minLength\":10}}");
    inst = srv_tm_instance(schema, NULL);
    CHECK(cJSON_GetArraySize(inst) == 3);
    cJSON_Delete(inst);
    cJSON_Delete(schema);
    /* embeddings: dimensions, and inputs x dimensions */
    a = answer("/v1/embeddings",
               "{\"model\":\"e\",\"input\":\"a\",\"dimensions\":65536}",
               &status);
    CHECK_EQ_INT(status, 400);
    CHECK_STR(err_code(a), "invalid_value");
    cJSON_Delete(a);
    cJSON *many = cJSON_Parse("{\"model\":\"e\",\"dimensions\":8192}");
    cJSON *in = cJSON_AddArrayToObject(many, "input");
    for (int i = 0; i < 200; i++)
        cJSON_AddItemToArray(in, cJSON_CreateString("x"));
    a = srv_tm_answer("/v1/embeddings", many, &status);
    CHECK_EQ_INT(status, 400);
    CHECK_STR(err_code(a), "too_many_values");
    cJSON_Delete(a);
    cJSON_Delete(many);
    a = answer("/v1/embeddings",
               "{\"model\":\"e\",\"input\":[\"a\",\"b\"],\"dimensions\":8}",
               &status);
    CHECK_EQ_INT(status, 200);
    CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(a, "data")), 2);
    cJSON_Delete(a);
}

/* The Host names a server with no keys answers to (DNS rebinding). */
static void test_host_allowed(void)
{
    srv_config c;
    memset(&c, 0, sizeof c);
    static const char *const yes[] = {
        NULL, "127.0.0.1", "127.0.0.1:8080", "10.1.2.3", "[::1]",
        "[::1]:8080", "localhost", "LOCALHOST:1",
        "app.localhost", "a.b.localhost:99"};
    static const char *const no[] = {
        "", "evil.example", "evil.example:8080", "localhost.evil.example",
        "evillocalhost", "1.2.3.4.nip.io", "127.0.0.1:", "127.0.0.1:80x",
        "127.0.0.1 x", "[::1", "[]", "[::1]x", "[evil.example]", ":80",
        "batch.internal"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        CHECK(srv_host_allowed(&c, yes[i]) == 1);
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        CHECK(srv_host_allowed(&c, no[i]) == 0);
    c.allowed_hosts[c.n_allowed_hosts++] = "Batch.Internal";
    CHECK(srv_host_allowed(&c, "batch.internal:8080") == 1);
    CHECK(srv_host_allowed(&c, "batch.internal") == 1);
    CHECK(srv_host_allowed(&c, "batch.internal.evil") == 0);
    CHECK(srv_host_allowed(&c, "x.batch.internal") == 0);
    c.allowed_hosts[c.n_allowed_hosts++] = "*";
    CHECK(srv_host_allowed(&c, "anything.example") == 1);
}

int main(void)
{
    test_host_allowed();
    test_range();
    test_multipart();
    test_offsets();
    test_testmodel_caps();
    return t_summary("test_server_units");
}
