/* Unit tests of the core helpers: status table, buffers, JSONL reader. */
#include "oaibatch.h"
#include <cjson/cJSON.h>
#include "core/expect.h"
#include "util/buf.h"
#include "util/json.h"
#include "testutil.h"

struct lines {
    int n;
    long nums[16];
    char text[16][64];
};

static int collect(const char *line, size_t len, long lineno, void *ud)
{
    struct lines *l = ud;
    if (l->n < 16) {
        l->nums[l->n] = lineno;
        snprintf(l->text[l->n], 64, "%.*s", (int)len, line);
    }
    l->n++;
    return 0;
}

static void test_status(void)
{
    CHECK_STR(oab_strerror(OAB_OK), "success");
    CHECK_STR(oab_status_name(OAB_ENOTFOUND), "OAB_ENOTFOUND");
    CHECK_STR(oab_strerror((oab_status)9999), "unknown status");
    CHECK_STR(oab_version(), OAB_VERSION_STRING);
    CHECK_EQ_INT(oab_batch_status_from_str("finalizing"), OAB_BATCH_FINALIZING);
    CHECK_EQ_INT(oab_batch_status_from_str("paused"), OAB_BATCH_UNKNOWN);
    CHECK(oab_batch_status_is_terminal(OAB_BATCH_EXPIRED));
    CHECK(!oab_batch_status_is_terminal(OAB_BATCH_CANCELLING));
    oab_output_mode m;
    CHECK_OK(oab_output_mode_from_str(&m, "prompted"));
    CHECK_EQ_INT(m, OAB_OUTPUT_PROMPTED);
    CHECK_EQ_INT(oab_output_mode_from_str(&m, "json"), OAB_EINVAL);
}

static void test_buf(void)
{
    oab__buf b = OAB__BUF_INIT;
    CHECK_OK(oab__buf_printf(&b, "%d-%s", 42, "x"));
    CHECK_OK(oab__buf_json_string(&b, "a\"b\\\n\x01", 6));
    CHECK_STR(b.data, "42-x\"a\\\"b\\\\\\n\\u0001\"");
    size_t n;
    char *s = oab__buf_take(&b, &n);
    CHECK_EQ_INT(n, strlen(s));
    free(s);
    CHECK(b.data == NULL);
}

static void test_reader_chunks(void)
{
    const char *text = "{\"a\":1}\r\n\n  \n{\"b\":2}\n{\"c\":3}";
    size_t len = strlen(text);
    /* every chunk size gives the same lines */
    for (size_t chunk = 1; chunk <= len; chunk++) {
        struct lines l = {0};
        oab_jsonl_reader *r = NULL;
        CHECK_OK(oab_jsonl_reader_new(&r, 0));
        for (size_t i = 0; i < len; i += chunk) {
            size_t n = len - i < chunk ? len - i : chunk;
            CHECK_OK(oab_jsonl_reader_feed(r, text + i, n, collect, &l));
        }
        int trunc = 0;
        CHECK_OK(oab_jsonl_reader_finish(r, collect, &l, &trunc));
        CHECK_EQ_INT(l.n, 3);
        CHECK_EQ_INT(l.nums[0], 1);
        CHECK_EQ_INT(l.nums[1], 4);
        CHECK_EQ_INT(l.nums[2], 5);
        CHECK_STR(l.text[0], "{\"a\":1}");
        CHECK_STR(l.text[2], "{\"c\":3}");
        CHECK_EQ_INT(trunc, 1);
        oab_jsonl_reader_free(r);
    }
}

static void test_reader_limit(void)
{
    oab_jsonl_reader *r = NULL;
    CHECK_OK(oab_jsonl_reader_new(&r, 8));
    struct lines l = {0};
    CHECK_OK(oab_jsonl_reader_feed(r, "1234567\n", 8, collect, &l));
    CHECK_EQ_INT(oab_jsonl_reader_feed(r, "123456789\n", 10, collect, &l),
                 OAB_ELIMIT);
    oab_jsonl_reader_free(r);
}

static void test_json_helpers(void)
{
    cJSON *j = oab__json_parse("{\"a\":{\"b\":{\"c\":\"x\"}},\"n\":7} ", 28);
    CHECK(j != NULL);
    CHECK_STR(cJSON_GetStringValue(oab__json_path(j, "a.b.c")), "x");
    CHECK_EQ_INT(oab__json_ll(j, "n", -1), 7);
    CHECK_EQ_INT(oab__json_ll(j, "zz", -1), -1);
    cJSON_Delete(j);
    CHECK(oab__json_parse("{\"a\":1} x", 9) == NULL);
    CHECK_STR(oab__model_name("openai:gpt-4o-mini"), "gpt-4o-mini");
    CHECK_STR(oab__model_name("gpt-4o-mini"), "gpt-4o-mini");
}

int main(void)
{
    test_status();
    test_buf();
    test_reader_chunks();
    test_reader_limit();
    test_json_helpers();
    return t_summary("test_core");
}
