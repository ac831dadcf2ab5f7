/* Tests of the JSONL writer: exact bytes in memory, atomic files, and the
 * round trip through the reader. */
#include "oaibatch.h"
#include "testutil.h"

#include <sys/stat.h>
#include <unistd.h>

static oab_request *req(const char *id, const char *prompt)
{
    oab_chat_options o = OAB_CHAT_OPTIONS_INIT;
    o.model = "gpt-4o-mini";
    o.max_tokens = 50;
    oab_request *r = NULL;
    CHECK_OK(oab_chat_request_new(&r, id, prompt, &o, NULL));
    return r;
}

static int exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

static void test_buffer(void)
{
    oab_jsonl_writer *w = NULL;
    CHECK_OK(oab_jsonl_writer_open_buffer(&w));
    oab_request *a = req("a", "Hello world"), *b = req("b", "Write a haiku");
    CHECK_OK(oab_jsonl_write_request(w, a));
    CHECK_OK(oab_jsonl_write_request(w, b));
    const char *pretty = "{\n  \"custom_id\": \"c\",\n  \"method\": \"POST\",\n  \"url\": \"/v1/chat/completions\",\n  \"body\": {\"model\": \"gpt-4o-mini\", \"messages\": [ ]}\n}\n";
    CHECK_OK(oab_jsonl_write_json(w, pretty, strlen(pretty)));
    CHECK_EQ_INT(oab_jsonl_write_json(w, "[1]", 3), OAB_EJSON);
    CHECK_EQ_INT(oab_jsonl_write_json(w, "{\"a\":", 5), OAB_EJSON);
    CHECK_EQ_INT(oab_jsonl_write_json(w, "{\"a\":\"\xff\"}", 9), OAB_EJSON);
    CHECK_EQ_INT(oab_jsonl_writer_lines(w), 3);
    const char *want =
        "{\"custom_id\":\"a\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello world\"}],\"max_tokens\":50}}\n"
        "{\"custom_id\":\"b\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"Write a haiku\"}],\"max_tokens\":50}}\n"
        "{\"custom_id\":\"c\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-4o-mini\",\"messages\":[]}}\n";
    CHECK_EQ_INT(oab_jsonl_writer_bytes(w), strlen(want));
    CHECK_OK(oab_jsonl_writer_close(w)); /* a no-op for buffers */
    char *out = NULL;
    size_t len = 0;
    CHECK_OK(oab_jsonl_writer_take_buffer(w, &out, &len));
    CHECK_STR(out, want);
    CHECK_EQ_INT(len, strlen(want));
    oab_free(out);
    /* the writer is left empty */
    CHECK_OK(oab_jsonl_writer_take_buffer(w, &out, &len));
    CHECK_STR(out, "");
    CHECK_EQ_INT(len, 0);
    oab_free(out);
    oab_jsonl_writer_free(w);
    oab_request_free(a);
    oab_request_free(b);
}

struct seen {
    int n;
    long last_lineno;
    char first[256];
};

static int on_line(const char *line, size_t len, long lineno, void *ud)
{
    struct seen *s = ud;
    if (!s->n)
        snprintf(s->first, sizeof s->first, "%.*s", (int)len, line);
    s->n++;
    s->last_lineno = lineno;
    return 0;
}

static void test_path(void)
{
    char dir[] = "/tmp/oab_test_jsonl_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256], tmp[300];
    snprintf(path, sizeof path, "%s/in.jsonl", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);

    /* many lines (more than one flush), renamed only on close */
    oab_jsonl_writer *w = NULL;
    CHECK_OK(oab_jsonl_writer_open_path(&w, path));
    char id[32];
    for (int i = 0; i < 3000; i++) {
        snprintf(id, sizeof id, "req-%d", i);
        oab_request *r = req(id, "What is 2+2? Explain it at length, please.");
        CHECK_OK(oab_jsonl_write_request(w, r));
        oab_request_free(r);
    }
    CHECK(exists(tmp));
    CHECK(!exists(path));
    unsigned long long bytes = oab_jsonl_writer_bytes(w);
    CHECK_OK(oab_jsonl_writer_close(w));
    CHECK_EQ_INT(oab_jsonl_writer_close(w), OAB_ESTATE);
    CHECK(!exists(tmp));
    CHECK(exists(path));
    oab_jsonl_writer_free(w);
    struct stat st;
    CHECK(stat(path, &st) == 0 && (unsigned long long)st.st_size == bytes);
    struct seen s = {0};
    CHECK_OK(oab_jsonl_read_path(path, on_line, &s, NULL));
    CHECK_EQ_INT(s.n, 3000);
    CHECK_EQ_INT(s.last_lineno, 3000);
    CHECK(strncmp(s.first, "{\"custom_id\":\"req-0\",", 21) == 0);
    oab_validation *v = NULL;
    CHECK_OK(oab_validate_path(&v, path, NULL));
    CHECK_EQ_INT(v->n_lines, 3000);
    oab_validation_free(v);

    /* freed without close: the old file stays as it was, no .tmp left */
    CHECK_OK(oab_jsonl_writer_open_path(&w, path));
    oab_request *r = req("x", "y");
    CHECK_OK(oab_jsonl_write_request(w, r));
    oab_request_free(r);
    oab_jsonl_writer_free(w);
    CHECK(!exists(tmp));
    CHECK(stat(path, &st) == 0 && (unsigned long long)st.st_size == bytes);
    char *tb = (char *)1;
    CHECK_OK(oab_jsonl_writer_open_path(&w, path));
    CHECK_EQ_INT(oab_jsonl_writer_take_buffer(w, &tb, NULL), OAB_EINVAL);
    CHECK(tb == NULL);
    oab_jsonl_writer_free(w);

    /* a directory that does not exist */
    char bad[300];
    snprintf(bad, sizeof bad, "%s/no/such/dir.jsonl", dir);
    w = (oab_jsonl_writer *)1;
    CHECK_EQ_INT(oab_jsonl_writer_open_path(&w, bad), OAB_EIO);
    CHECK(w == NULL);
    oab_jsonl_writer_free(NULL);

    unlink(path);
    rmdir(dir);
}

int main(void)
{
    test_buffer();
    test_path();
    return t_summary("test_request_jsonl");
}
