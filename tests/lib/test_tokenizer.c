/* test_tokenizer.c - the tokenizer and request tokens: known encodings,
 * decode round trips, the model table, errors naming file and line
 * (unknown encoding, missing and corrupt rank files), the JIT, use from
 * several threads at once, and request tokens against values computed
 * by hand from the cookbook's rules. Needs $OAB_ENCODINGS_DIR (made by
 * scripts/test-deps.sh). Corrupt rank files are written to a temporary
 * folder this test makes and removes. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "core/tokenizer.h"
#include "oaibatch.h"
#include "testutil.h"

#include <pcre2.h>
#include <pthread.h>
#include <stdint.h>
#include <unistd.h>

static oab_tokenizer *o200k, *cl100k;

static size_t count(const oab_tokenizer *t, const char *s)
{
    size_t n = (size_t)-1;
    CHECK_OK(oab_tokenizer_count(&n, t, s, strlen(s)));
    return n;
}

/* ---- encoding and decoding ---- */

static void test_known_ids(void)
{
    /* ids as js-tiktoken 1.0.21 gives them */
    uint32_t *ids = NULL;
    size_t n = 0;
    CHECK_OK(oab_tokenizer_encode(&ids, &n, o200k, "hello world", 11));
    CHECK_EQ_INT(n, 2);
    if (n == 2) {
        CHECK_EQ_INT(ids[0], 24912);
        CHECK_EQ_INT(ids[1], 2375);
    }
    oab_free(ids);
    CHECK_OK(oab_tokenizer_encode(&ids, &n, cl100k, "hello world", 11));
    CHECK_EQ_INT(n, 2);
    if (n == 2) {
        CHECK_EQ_INT(ids[0], 15339);
        CHECK_EQ_INT(ids[1], 1917);
    }
    oab_free(ids);
    /* special tokens are plain text: <|endoftext|> is 7 tokens, not 1 */
    CHECK_EQ_INT(count(cl100k, "<|endoftext|>"), 7);
    CHECK_EQ_INT(count(o200k, "<|endoftext|>"), 7);
    CHECK_EQ_INT(count(o200k, ""), 0);
    /* digits in runs of three: 1234567 -> 123 456 7 */
    CHECK_EQ_INT(count(cl100k, "1234567"), 3);
}

static void test_round_trip(void)
{
    static const char *texts[] = {
        "Hello, world! Don't panic.", "日本語のテキストです。",
        "مرحبا بالعالم", "👨‍👩‍👧‍👦 and 🇫🇷", "    indented\n\n\tcode();\r\n",
        "<|endoftext|><|fim_prefix|>",
    };
    const oab_tokenizer *ts[2] = { o200k, cl100k };
    for (size_t k = 0; k < 2; k++) {
        for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
            uint32_t *ids = NULL;
            size_t n = 0, len = 0;
            char *back = NULL;
            CHECK_OK(oab_tokenizer_encode(&ids, &n, ts[k], texts[i],
                                          strlen(texts[i])));
            CHECK(n > 0);
            CHECK_OK(oab_tokenizer_decode(&back, &len, ts[k], ids, n));
            CHECK_STR(back, texts[i]);
            CHECK_EQ_INT(len, strlen(texts[i]));
            size_t c = 0;
            CHECK_OK(oab_tokenizer_count(&c, ts[k], texts[i], strlen(texts[i])));
            CHECK_EQ_INT(c, n);
            oab_free(ids);
            oab_free(back);
        }
    }
    /* a long piece goes through the heap merge; it must round-trip and
     * give fewer tokens than bytes */
    size_t big = 20000;
    char *s = malloc(big + 1);
    for (size_t i = 0; i < big; i++)
        s[i] = "abcdefghij"[(i * 7 + i / 3) % 10];
    s[big] = '\0';
    uint32_t *ids = NULL;
    size_t n = 0, len = 0;
    char *back = NULL;
    CHECK_OK(oab_tokenizer_encode(&ids, &n, o200k, s, big));
    CHECK(n > 0 && n < big);
    CHECK_OK(oab_tokenizer_decode(&back, &len, o200k, ids, n));
    CHECK(back && len == big && memcmp(back, s, big) == 0);
    oab_free(ids);
    oab_free(back);
    free(s);
    /* a megabyte of spaces and one of letters: no JIT stack trouble */
    big = 1 << 20;
    s = malloc(big);
    memset(s, ' ', big);
    CHECK_OK(oab_tokenizer_count(&n, cl100k, s, big));
    CHECK(n > 0);
    memset(s, 'a', big);
    CHECK_OK(oab_tokenizer_count(&n, o200k, s, big));
    CHECK(n > 0 && n < big);
    /* the same through PCRE2 (non-ASCII): "é" letters, U+3000 spaces */
    for (size_t i = 0; i + 1 < big; i += 2)
        s[i] = '\xc3', s[i + 1] = '\xa9';
    CHECK_OK(oab_tokenizer_count(&n, o200k, s, big));
    CHECK(n > 0 && n < big);
    for (size_t i = 0; i + 2 < big; i += 3)
        s[i] = '\xe3', s[i + 1] = '\x80', s[i + 2] = '\x80';
    CHECK_OK(oab_tokenizer_count(&n, cl100k, s, big / 3 * 3));
    CHECK(n > 0);
    free(s);
}

static void test_bad_input(void)
{
    size_t n = 9;
    CHECK_EQ_INT(oab_tokenizer_count(&n, o200k, "\xff\xfe", 2), OAB_EINVAL);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(oab_tokenizer_count(&n, o200k, "a\xed\xa0\x80", 4),
                 OAB_EINVAL); /* a surrogate */
    CHECK_EQ_INT(oab_tokenizer_count(&n, NULL, "a", 1), OAB_EINVAL);
    CHECK_EQ_INT(oab_tokenizer_count(&n, o200k, NULL, 1), OAB_EINVAL);
    CHECK_OK(oab_tokenizer_count(&n, o200k, NULL, 0));
    CHECK_EQ_INT(n, 0);
    uint32_t bad_id = 0xFFFFFF;
    char *out = NULL;
    CHECK_EQ_INT(oab_tokenizer_decode(&out, NULL, o200k, &bad_id, 1),
                 OAB_EINVAL);
    CHECK(out == NULL);
}

static void test_jit(void)
{
    uint32_t have = 0;
    pcre2_config(PCRE2_CONFIG_JIT, &have);
    CHECK_EQ_INT(oab_tokenizer_uses_jit(o200k), have ? 1 : 0);
    CHECK_EQ_INT(oab_tokenizer_uses_jit(cl100k), have ? 1 : 0);
    CHECK_STR(oab_tokenizer_encoding(o200k), "o200k_base");
    CHECK_STR(oab_tokenizer_encoding(cl100k), "cl100k_base");
}

/* The hand-run ASCII pre-tokenizer against PCRE2 alone, on random
 * strings of the characters where the regexes are subtle (contractions,
 * the long s, capitals, digit runs, newlines and slashes, Unicode spaces,
 * letters and digits next to ASCII). */
static void test_fast_path(void)
{
    static const char *const atoms[] = {
        "a", "b", "Z", "Q", "s", "S", "t", "re", "VE", "ll", "D", "m", "'",
        "'", " ", " ", "  ", "\t", "\n", "\r", "\r\n", "\v", "\f", "/",
        "//", "!", "(", ".", "-", "_", "0", "12", "345", "\x01", "\x7f",
        "\xc3\xa9",       /* é, a letter */
        "\xc5\xbf",       /* long s: 's folds to it */
        "\xc2\xa0",       /* no-break space */
        "\xd9\xa3",       /* Arabic-Indic three, a digit */
        "\xe2\x80\xa8",  /* line separator */
        "\xe2\x82\xac",  /* euro sign, a symbol */
        "\xcc\x81",       /* combining acute, a mark */
        "\xf0\x9f\x98\x80", /* an emoji */
        "\xc7\x85",       /* titlecase letter */
    };
    const size_t n_atoms = sizeof atoms / sizeof atoms[0];
    oab_tokenizer *ts[2] = { o200k, cl100k };
    unsigned long long x = 88172645463325252ull;
    int differ = 0;
    char buf[256];
    for (int round = 0; round < 20000; round++) {
        size_t len = 0;
        int k = 1 + (int)(x % 12);
        for (int a = 0; a < k; a++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            const char *at = atoms[x % n_atoms];
            size_t al = strlen(at);
            memcpy(buf + len, at, al);
            len += al;
        }
        for (int e = 0; e < 2; e++) {
            uint32_t *fast = NULL, *slow = NULL;
            size_t nf = 0, ns = 0;
            oab__tokenizer_set_fast_path(ts[e], 1);
            oab_status a = oab_tokenizer_encode(&fast, &nf, ts[e], buf, len);
            oab__tokenizer_set_fast_path(ts[e], 0);
            oab_status b = oab_tokenizer_encode(&slow, &ns, ts[e], buf, len);
            oab__tokenizer_set_fast_path(ts[e], 1);
            if (a != OAB_OK || b != OAB_OK || nf != ns ||
                (nf && memcmp(fast, slow, nf * sizeof *fast) != 0)) {
                if (differ++ < 5) {
                    fprintf(stderr, "fast path differs (%s) on:",
                            oab_tokenizer_encoding(ts[e]));
                    for (size_t i = 0; i < len; i++)
                        fprintf(stderr, " %02x", (unsigned char)buf[i]);
                    fputc('\n', stderr);
                }
            }
            oab_free(fast);
            oab_free(slow);
        }
    }
    CHECK_EQ_INT(differ, 0);
}

/* ---- the model table ---- */

static void test_models(void)
{
    static const char *const cases[][2] = {
        { "gpt-4o", "o200k_base" },           { "gpt-4o-mini", "o200k_base" },
        { "gpt-4o-2024-08-06", "o200k_base" }, { "gpt-4.1-nano", "o200k_base" },
        { "gpt-5", "o200k_base" },            { "gpt-5-mini", "o200k_base" },
        { "o1", "o200k_base" },               { "o3-mini", "o200k_base" },
        { "o4-mini", "o200k_base" },          { "openai:gpt-4o", "o200k_base" },
        { "ft:gpt-4o-mini:org::abc", "o200k_base" },
        { "gpt-4", "cl100k_base" },           { "gpt-4-0613", "cl100k_base" },
        { "gpt-4-turbo", "cl100k_base" },     { "gpt-3.5-turbo", "cl100k_base" },
        { "text-embedding-3-small", "cl100k_base" },
        { "text-embedding-ada-002", "cl100k_base" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *enc = NULL;
        CHECK_OK(oab_encoding_for_model(&enc, cases[i][0], NULL, NULL));
        CHECK_STR(enc, cases[i][1]);
    }
    const char *enc = "x";
    oab_error err;
    CHECK_EQ_INT(oab_encoding_for_model(&enc, "llama-3-70b", NULL, &err),
                 OAB_EINVAL);
    CHECK(enc == NULL);
    CHECK(strstr(err.message, "llama-3-70b") != NULL);
    CHECK_OK(oab_encoding_for_model(&enc, "llama-3-70b", "cl100k_base", NULL));
    CHECK_STR(enc, "cl100k_base");
    CHECK_EQ_INT(oab_encoding_for_model(&enc, "llama", "p50k_base", &err),
                 OAB_EINVAL);
    CHECK(strstr(err.message, "p50k_base") != NULL);
}

/* ---- errors: unknown encoding, missing and corrupt rank files ---- */

static char tmpdir[64];

static char *write_tmp(const char *name, const char *text)
{
    char *path = malloc(strlen(tmpdir) + strlen(name) + 2);
    sprintf(path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    fputs(text, f);
    fclose(f);
    return path;
}

/* A rank file with every byte as a token (ranks 0-255), then `extra`. */
static char *byte_ranks(const char *extra)
{
    static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t cap = 256 * 16 + strlen(extra) + 1;
    char *s = malloc(cap), *p = s;
    for (int b = 0; b < 256; b++)
        p += sprintf(p, "%c%c== %d\n", b64[b >> 2], b64[(b & 3) << 4], b);
    strcpy(p, extra);
    return s;
}

static void expect_load_error(const char *text, oab_status want,
                              long want_line, const char *want_text)
{
    char *path = write_tmp("bad.tiktoken", text);
    oab_tokenizer *t = (oab_tokenizer *)1;
    oab_error err;
    CHECK_EQ_INT(oab_tokenizer_load(&t, "cl100k_base", path, &err), want);
    CHECK(t == NULL);
    CHECK_EQ_INT(err.line, want_line);
    CHECK(strstr(err.message, path) != NULL);
    if (!strstr(err.message, want_text))
        fprintf(stderr, "message: %s\n", err.message);
    CHECK(strstr(err.message, want_text) != NULL);
    unlink(path);
    free(path);
}

static void test_load_errors(void)
{
    oab_tokenizer *t = (oab_tokenizer *)1;
    oab_error err;
    CHECK_EQ_INT(oab_tokenizer_load(&t, "p50k_base", NULL, &err), OAB_EINVAL);
    CHECK(t == NULL);
    CHECK(strstr(err.message, "unknown encoding 'p50k_base'") != NULL);

    snprintf(tmpdir, sizeof tmpdir, "/tmp/oab_tok_XXXXXX");
    CHECK(mkdtemp(tmpdir) != NULL);
    char missing[128];
    snprintf(missing, sizeof missing, "%s/none.tiktoken", tmpdir);
    CHECK_EQ_INT(oab_tokenizer_load(&t, "o200k_base", missing, &err), OAB_EIO);
    CHECK(strstr(err.message, missing) != NULL);

    /* the default lookup in an empty folder names the places tried */
    oab_tokenizers *set = NULL;
    const oab_tokenizer *got = NULL;
    CHECK_OK(oab_tokenizers_new(&set, tmpdir));
    CHECK_EQ_INT(oab_tokenizers_get(&got, set, "o200k_base", &err), OAB_EIO);
    CHECK(strstr(err.message, tmpdir) != NULL);
    CHECK(strstr(err.message, "o200k_base.tiktoken") != NULL);
    oab_tokenizers_free(set);

    char *ok = byte_ranks("aGk= 256\n");
    char *s;
    /* bad base64 on line 258 */
    s = byte_ranks("aGk= 256\n!!!! 257\n");
    expect_load_error(s, OAB_EJSON, 258, ":258: the token is not valid base64");
    free(s);
    s = byte_ranks("aGk=\n");
    expect_load_error(s, OAB_EJSON, 257, ":257: expected '<base64 token> <rank>'");
    free(s);
    s = byte_ranks("aGk= 12x\n");
    expect_load_error(s, OAB_EJSON, 257, ":257: the rank is not a number");
    free(s);
    s = byte_ranks("aGk= 256\naGk= 257\n");
    expect_load_error(s, OAB_EJSON, 258, ":258: this token is given twice");
    free(s);
    s = byte_ranks("aGk= 255\n");
    expect_load_error(s, OAB_EJSON, 257, ":257: rank 255 is given twice");
    free(s);
    expect_load_error("", OAB_EJSON, 0, "no tokens");
    expect_load_error("aGk= 0\n", OAB_EJSON, 0, "no token for the byte 0x00");

    /* a good small file loads: "hi" is one token, "ih" two */
    char *path = write_tmp("small.tiktoken", ok);
    CHECK_OK(oab_tokenizer_load(&t, "cl100k_base", path, &err));
    CHECK_EQ_INT(count(t, "hi"), 1);
    CHECK_EQ_INT(count(t, "ih"), 2);
    oab_tokenizer_free(t);
    unlink(path);
    free(path);
    free(ok);
    CHECK_EQ_INT(rmdir(tmpdir), 0);
}

/* ---- threads ---- */

typedef struct job {
    const oab_tokenizer *t;
    const char *text;
    size_t want;
    int bad;
} job;

static void *count_many(void *arg)
{
    job *j = arg;
    for (int i = 0; i < 200; i++) {
        size_t n = 0;
        if (oab_tokenizer_count(&n, j->t, j->text, strlen(j->text)) != OAB_OK ||
            n != j->want)
            j->bad++;
    }
    return NULL;
}

static void test_threads(void)
{
    static const char *texts[] = {
        "The quick brown fox jumps over the lazy dog. 日本語 العربية 👍🏽",
        "int main(void) { return 0; }\n\n\n    // done",
        "1234567890 9876543210 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "Ünïcödé wörds and CamelCaseIdentifiers and   spaces   ",
    };
    enum { N = 8 };
    pthread_t th[N];
    job jobs[N];
    for (int i = 0; i < N; i++) {
        jobs[i].t = i % 2 ? o200k : cl100k;
        jobs[i].text = texts[i % 4];
        jobs[i].want = count(jobs[i].t, jobs[i].text);
        jobs[i].bad = 0;
        CHECK(jobs[i].want > 0);
    }
    for (int i = 0; i < N; i++)
        CHECK_EQ_INT(pthread_create(&th[i], NULL, count_many, &jobs[i]), 0);
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        CHECK_EQ_INT(jobs[i].bad, 0);
    }
}

/* Counting keeps a per-thread cache of piece counts (tokenizer.c):
 * a count must still equal the number of ids encode gives (encode does
 * not use the cache) when pieces repeat, when 40,000 different pieces
 * overwrite each other's entries, when two tokenizers that count the
 * same piece differently take turns on one thread, and after a
 * tokenizer is freed and another loaded, perhaps at the same address. */
static size_t n_ids(const oab_tokenizer *t, const char *s)
{
    uint32_t *ids = NULL;
    size_t n = (size_t)-1;
    CHECK_OK(oab_tokenizer_encode(&ids, &n, t, s, strlen(s)));
    oab_free(ids);
    return n;
}

static void test_cache(void)
{
    /* these differ between the two encodings */
    static const char *pieces[] = { " indentation", " résumé", "SELECT",
                                    " nonetheless", "    ", " 東京都",
                                    "CamelCase", " Weltanschauung" };
    int differ = 0;
    for (int round = 0; round < 3; round++)
        for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++) {
            size_t a = count(o200k, pieces[i]), b = count(cl100k, pieces[i]);
            CHECK_EQ_INT(a, n_ids(o200k, pieces[i]));
            CHECK_EQ_INT(b, n_ids(cl100k, pieces[i]));
            differ += a != b;
        }
    CHECK(differ > 0); /* else this part tests nothing */
    /* many different pieces of 3 to 16 bytes, twice */
    char text[64];
    unsigned x = 12345;
    size_t bad = 0;
    for (int round = 0; round < 2; round++) {
        x = 12345;
        for (int i = 0; i < 40000; i++) {
            size_t len = 0;
            text[len++] = ' ';
            size_t n = 2 + (x >> 7) % 15;
            for (size_t k = 0; k < n; k++) {
                x = x * 1103515245u + 12345u;
                text[len++] = "etaoinshrdlucmfwypvbgkqjxzETAOIN"[(x >> 16) % 32];
            }
            text[len] = '\0';
            const oab_tokenizer *t = i % 2 ? o200k : cl100k;
            size_t c = 0;
            CHECK_OK(oab_tokenizer_count(&c, t, text, len));
            bad += c != n_ids(t, text);
        }
    }
    CHECK_EQ_INT(bad, 0);
    /* a tokenizer loaded after another was freed */
    for (int k = 0; k < 2; k++) {
        oab_tokenizer *t = NULL;
        CHECK_OK(oab_tokenizer_load(&t, k ? "o200k_base" : "cl100k_base",
                                    NULL, NULL));
        for (size_t i = 0; t && i < sizeof pieces / sizeof pieces[0]; i++)
            CHECK_EQ_INT(count(t, pieces[i]), n_ids(t, pieces[i]));
        oab_tokenizer_free(t);
    }
}

/* several threads asking a set for the same encoding get one tokenizer */
typedef struct set_job {
    oab_tokenizers *set;
    const oab_tokenizer *got;
    oab_status st;
} set_job;

static void *get_one(void *arg)
{
    set_job *j = arg;
    j->st = oab_tokenizers_get(&j->got, j->set, "cl100k_base", NULL);
    return NULL;
}

static void test_set_threads(void)
{
    oab_tokenizers *set = NULL;
    CHECK_OK(oab_tokenizers_new(&set, NULL));
    enum { N = 4 };
    pthread_t th[N];
    set_job jobs[N];
    for (int i = 0; i < N; i++) {
        jobs[i].set = set;
        pthread_create(&th[i], NULL, get_one, &jobs[i]);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        CHECK_OK(jobs[i].st);
        CHECK(jobs[i].got == jobs[0].got);
    }
    CHECK_EQ_INT(count(jobs[0].got, "hello world"), 2);
    oab_tokenizers_free(set);
}

/* ---- request tokens, computed by hand from the cookbook's rules ---- */

static oab_request_tokens body(const oab_tokenizer *t, const char *url,
                               const char *json)
{
    oab_request_tokens r;
    oab_error err;
    memset(&r, 0xAB, sizeof r);
    oab_status st = oab_request_tokens_body(&r, t, url, json, strlen(json),
                                            &err);
    if (st != OAB_OK)
        fprintf(stderr, "request tokens: %s\n", err.message);
    CHECK_OK(st);
    return r;
}

/* The cookbook's example conversation: it reports 129 prompt tokens for
 * gpt-4-0613 (cl100k_base) and 124 for gpt-4o (o200k_base), counted by
 * num_tokens_from_messages() and by the API alike. */
static const char cookbook[] =
    "{\"model\":\"gpt-4\",\"messages\":["
    "{\"role\":\"system\",\"content\":\"You are a helpful, pattern-following "
    "assistant that translates corporate jargon into plain English.\"},"
    "{\"role\":\"system\",\"name\":\"example_user\",\"content\":\"New "
    "synergies will help drive top-line growth.\"},"
    "{\"role\":\"system\",\"name\":\"example_assistant\",\"content\":"
    "\"Things working well together will increase revenue.\"},"
    "{\"role\":\"system\",\"name\":\"example_user\",\"content\":\"Let's "
    "circle back when we have more bandwidth to touch base on opportunities "
    "for increased leverage.\"},"
    "{\"role\":\"system\",\"name\":\"example_assistant\",\"content\":\"Let's "
    "talk later when we're less busy about how to do better.\"},"
    "{\"role\":\"user\",\"content\":\"This late pivot means we don't have "
    "time to boil the ocean for the client deliverable.\"}]}";

static void test_request_chat(void)
{
    oab_request_tokens r = body(cl100k, "/v1/chat/completions", cookbook);
    CHECK_EQ_INT(r.input, 129);
    CHECK_EQ_INT(r.output_bounded, 0);
    CHECK_EQ_INT(r.exact, 0);
    r = body(o200k, "/v1/chat/completions", cookbook);
    CHECK_EQ_INT(r.input, 124);

    /* per message 3, name 1, priming 3; bound = max_completion_tokens * n */
    const char *j =
        "{\"model\":\"gpt-4o\",\"max_tokens\":50,\"max_completion_tokens\":"
        "100,\"n\":2,\"messages\":[{\"role\":\"user\",\"name\":\"bob\","
        "\"content\":\"Hi there\"}]}";
    r = body(o200k, "/v1/chat/completions", j);
    size_t want = 3 + count(o200k, "user") + count(o200k, "bob") + 1 +
                  count(o200k, "Hi there") + 3;
    CHECK_EQ_INT(r.input, want);
    CHECK_EQ_INT(r.output_bounded, 1);
    CHECK_EQ_INT(r.output_max, 200);

    /* content parts: text counted, an image 85 (low) or 765 */
    j = "{\"model\":\"gpt-4o\",\"max_tokens\":7,\"messages\":[{\"role\":"
        "\"user\",\"content\":[{\"type\":\"text\",\"text\":\"What is "
        "this?\"},{\"type\":\"image_url\",\"image_url\":{\"url\":"
        "\"https://x/y.png\",\"detail\":\"low\"}},{\"type\":\"image_url\","
        "\"image_url\":{\"url\":\"https://x/z.png\"}}]}]}";
    r = body(o200k, "/v1/chat/completions", j);
    want = 3 + count(o200k, "user") + count(o200k, "What is this?") + 85 +
           765 + 3;
    CHECK_EQ_INT(r.input, want);
    CHECK_EQ_INT(r.output_max, 7);

    /* tools: the cookbook's function rule (o200k: 7 per function, 3 for
     * properties, 3 per property, -3 + 3 per enum item, 12 at the end) */
    j = "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":"
        "\"x\"}],\"tools\":[{\"type\":\"function\",\"function\":{\"name\":"
        "\"get_weather\",\"description\":\"Weather of a city.\","
        "\"parameters\":{\"type\":\"object\",\"properties\":{\"city\":{"
        "\"type\":\"string\",\"description\":\"The city.\"},\"unit\":{"
        "\"type\":\"string\",\"description\":\"Unit\",\"enum\":[\"c\","
        "\"f\"]}}}}}]}";
    r = body(o200k, "/v1/chat/completions", j);
    want = 3 + count(o200k, "user") + count(o200k, "x") + 3;
    want += 7 + count(o200k, "get_weather:Weather of a city") + 3;
    want += 3 + count(o200k, "city:string:The city");
    want += 3 - 3 + 3 + count(o200k, "c") + 3 + count(o200k, "f") +
            count(o200k, "unit:string:Unit");
    want += 12;
    CHECK_EQ_INT(r.input, want);
    /* cl100k: 10 per function */
    r = body(cl100k, "/v1/chat/completions", j);
    size_t want_cl = 3 + count(cl100k, "user") + count(cl100k, "x") + 3 + 10 +
                     count(cl100k, "get_weather:Weather of a city") + 3 + 3 +
                     count(cl100k, "city:string:The city") + 3 - 3 + 3 +
                     count(cl100k, "c") + 3 + count(cl100k, "f") +
                     count(cl100k, "unit:string:Unit") + 12;
    CHECK_EQ_INT(r.input, want_cl);

    /* a schema: its name and compact JSON */
    j = "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":"
        "\"x\"}],\"response_format\":{\"type\":\"json_schema\","
        "\"json_schema\":{\"name\":\"answer\",\"schema\": {\"type\": "
        "\"object\"}}}}";
    r = body(o200k, "/v1/chat/completions", j);
    want = 3 + count(o200k, "user") + count(o200k, "x") + 3 +
           count(o200k, "answer") + count(o200k, "{\"type\":\"object\"}");
    CHECK_EQ_INT(r.input, want);
}

static void test_request_other(void)
{
    /* responses: instructions as a system message, input as a user one */
    oab_request_tokens r =
        body(o200k, "/v1/responses",
             "{\"model\":\"gpt-4o\",\"instructions\":\"Be brief.\","
             "\"input\":\"Why is the sky blue?\",\"max_output_tokens\":300}");
    size_t want = 3 + count(o200k, "system") + count(o200k, "Be brief.") + 3 +
                  count(o200k, "user") + count(o200k, "Why is the sky blue?") +
                  3;
    CHECK_EQ_INT(r.input, want);
    CHECK_EQ_INT(r.output_max, 300);
    CHECK_EQ_INT(r.output_bounded, 1);

    /* embeddings: exact, strings and token arrays, no output */
    r = body(cl100k, "/v1/embeddings",
             "{\"model\":\"text-embedding-3-small\",\"input\":[\"hello "
             "world\",\"a b c\"]}");
    CHECK_EQ_INT(r.input, count(cl100k, "hello world") + count(cl100k, "a b c"));
    CHECK_EQ_INT(r.exact, 1);
    CHECK_EQ_INT(r.output_bounded, 1);
    CHECK_EQ_INT(r.output_max, 0);
    r = body(cl100k, "/v1/embeddings",
             "{\"model\":\"text-embedding-3-small\",\"input\":[[1,2,3],[4]]}");
    CHECK_EQ_INT(r.input, 4);

    /* completions: the prompt, max_tokens defaulting to 16 */
    r = body(cl100k, "/v1/completions",
             "{\"model\":\"gpt-3.5-turbo-instruct\",\"prompt\":\"Say hi\"}");
    CHECK_EQ_INT(r.input, count(cl100k, "Say hi"));
    CHECK_EQ_INT(r.output_max, 16);

    /* errors say which field */
    oab_error err;
    CHECK_EQ_INT(oab_request_tokens_body(&r, o200k, "/v1/chat/completions",
                                         "{\"messages\":3}", 14, &err),
                 OAB_EINVAL);
    CHECK(strstr(err.message, "body.messages") != NULL);
    CHECK_EQ_INT(oab_request_tokens_body(&r, o200k, "/v1/chat/completions",
                                         "{\"messages\":[],\"max_tokens\":"
                                         "\"x\"}", 33, &err),
                 OAB_EINVAL);
    CHECK(strstr(err.message, "max_tokens") != NULL);
    CHECK_EQ_INT(oab_request_tokens_body(&r, o200k, "/v1/images", "{}", 2,
                                         &err),
                 OAB_EINVAL);
    CHECK_EQ_INT(oab_request_tokens_body(&r, o200k, "/v1/responses", "{", 1,
                                         &err),
                 OAB_EJSON);

    /* a whole line: the model picks the encoding */
    oab_tokenizers *set = NULL;
    CHECK_OK(oab_tokenizers_new(&set, NULL));
    char *model = NULL;
    const char *line =
        "{\"custom_id\":\"a\",\"method\":\"POST\",\"url\":\"/v1/embeddings\","
        "\"body\":{\"model\":\"openai:text-embedding-3-small\",\"input\":"
        "\"hello world\"}}";
    CHECK_OK(oab_request_tokens_line(&r, &model, set, line, strlen(line), NULL,
                                     &err));
    CHECK_STR(model, "text-embedding-3-small");
    CHECK_EQ_INT(r.input, 2);
    oab_free(model);
    line = "{\"custom_id\":\"a\",\"method\":\"POST\",\"url\":\"/v1/embeddings\","
           "\"body\":{\"model\":\"my-local-model\",\"input\":\"hi\"}}";
    CHECK_EQ_INT(oab_request_tokens_line(&r, &model, set, line, strlen(line),
                                         NULL, &err),
                 OAB_EINVAL);
    CHECK(strstr(err.message, "my-local-model") != NULL);
    CHECK(model == NULL);
    CHECK_OK(oab_request_tokens_line(&r, NULL, set, line, strlen(line),
                                     "o200k_base", &err));
    CHECK_EQ_INT(r.input, 1);
    oab_tokenizers_free(set);
}

int main(void)
{
    oab_error err;
    if (oab_tokenizer_load(&o200k, "o200k_base", NULL, &err) != OAB_OK ||
        oab_tokenizer_load(&cl100k, "cl100k_base", NULL, &err) != OAB_OK) {
        fprintf(stderr, "test_tokenizer: %s\n", err.message);
        return 1;
    }
    test_known_ids();
    test_round_trip();
    test_bad_input();
    test_jit();
    test_fast_path();
    test_models();
    test_load_errors();
    test_threads();
    test_cache();
    test_set_threads();
    test_request_chat();
    test_request_other();
    oab_tokenizer_free(o200k);
    oab_tokenizer_free(cl100k);
    return t_summary("test_tokenizer");
}
