/* test_alloc.c - allocation-failure tests (SQLite-style fault injection).
 *
 * The executable is linked with -Wl,--wrap=malloc,calloc,realloc,strdup,free
 * so every allocation the library makes goes through the wrappers below;
 * cJSON (a shared library) gets the same allocator through cJSON_InitHooks.
 * For each I/O-free entry point the case runs with allocation N failing,
 * N = 1, 2, ... until a run injects no failure. Each failing run must
 * return an error (OAB_ENOMEM) - or, for a call whose answer is a value
 * (result parsing), a result - and must leave nothing allocated (the
 * wrappers keep the set of live blocks) and no file behind. The same loop
 * then runs with every allocation from the Nth on failing ("persistent"),
 * which exercises cleanup paths that allocate themselves. The run with no
 * failure must give the same answer as a run without any injection. */
#include "oaibatch.h"
#include <cjson/cJSON.h>
#include "util/fs.h"
#include "util/str.h"
#include "testutil.h"

#include <dirent.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the failing allocator ---- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
void __wrap_free(void *p);

static long g_calls;      /* allocation calls since the case began */
static long g_fail_at;    /* 0: never fail */
static int g_persistent;  /* fail every call from g_fail_at on */
static long g_injected;   /* failures injected in this run */

/* Live blocks: open addressing, linear probing, tombstones. */
#define SLOTS (1u << 20)
#define TOMB ((void *)(uintptr_t)1)
static void *g_live[SLOTS];
static long g_n_live;

static size_t slot_of(const void *p)
{
    uintptr_t x = (uintptr_t)p;
    x ^= x >> 17;
    x *= (uintptr_t)0x9E3779B97F4A7C15ull;
    return (size_t)(x >> 7) & (SLOTS - 1);
}

static void live_add(void *p)
{
    size_t i = slot_of(p);
    while (g_live[i] && g_live[i] != TOMB)
        i = (i + 1) & (SLOTS - 1);
    g_live[i] = p;
    g_n_live++;
}

/* 1 when p was live (and is now forgotten). */
static int live_del(void *p)
{
    size_t i = slot_of(p);
    while (g_live[i]) {
        if (g_live[i] == p) {
            g_live[i] = TOMB;
            g_n_live--;
            return 1;
        }
        i = (i + 1) & (SLOTS - 1);
    }
    return 0;
}

static void live_reset(void)
{
    memset(g_live, 0, sizeof g_live);
    g_n_live = 0;
}

static int should_fail(void)
{
    g_calls++;
    if (g_fail_at > 0 && (g_calls == g_fail_at ||
                          (g_persistent && g_calls > g_fail_at))) {
        g_injected++;
        return 1;
    }
    return 0;
}

void *__wrap_malloc(size_t n)
{
    if (should_fail())
        return NULL;
    void *p = __real_malloc(n);
    if (p)
        live_add(p);
    return p;
}

void *__wrap_calloc(size_t n, size_t m)
{
    if (should_fail())
        return NULL;
    void *p = __real_calloc(n, m);
    if (p)
        live_add(p);
    return p;
}

void *__wrap_realloc(void *p, size_t n)
{
    if (should_fail())
        return NULL;
    void *q = __real_realloc(p, n);
    if (q || n == 0) {
        if (p)
            live_del(p);
        if (q)
            live_add(q);
    }
    return q;
}

char *__wrap_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = __wrap_malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

void __wrap_free(void *p)
{
    if (p)
        live_del(p); /* blocks libc made itself are not in the set */
    __real_free(p);
}

/* ---- the harness ---- */

/* What a case produced, compared between runs (static: not counted). */
static char g_out[1 << 16];
static size_t g_out_len;

static void out_reset(void)
{
    g_out_len = 0;
    g_out[0] = '\0';
}

static void out_add(const char *s, size_t n)
{
    if (n > sizeof g_out - 1 - g_out_len)
        n = sizeof g_out - 1 - g_out_len;
    memcpy(g_out + g_out_len, s, n);
    g_out_len += n;
    g_out[g_out_len] = '\0';
}

static void out_str(const char *s)
{
    out_add(s ? s : "(null)", strlen(s ? s : "(null)"));
    out_add("\n", 1);
}

static void out_num(long long v)
{
    char b[32];
    snprintf(b, sizeof b, "%lld\n", v);
    out_add(b, strlen(b));
}

typedef oab_status (*case_fn)(void);
/* Checks after a run (e.g. no file left); 0 when fine. */
typedef int (*after_fn)(oab_status st);

static char g_ref[1 << 16];
static long g_total_runs;

/* Prints the first line where this run's answer differs. */
static void show_diff(const char *name, long n, int persistent)
{
    const char *a = g_out, *b = g_ref;
    while (*a && *a == *b) {
        a++;
        b++;
    }
    while (a > g_out && a[-1] != '\n') {
        a--;
        b--;
    }
    fprintf(stderr, "%s: fail at %ld%s: degraded\n  got:  %.*s\n  want: %.*s\n",
            name, n, persistent ? "+" : "", (int)strcspn(a, "\n"), a,
            (int)strcspn(b, "\n"), b);
}

/* value_ok: a failing run may also succeed with another answer (a result
 * that says the line could not be decoded). */
static void run_case(const char *name, case_fn fn, after_fn after,
                     int value_ok)
{
    /* the reference run */
    g_fail_at = 0;
    g_calls = 0;
    g_injected = 0;
    live_reset();
    out_reset();
    oab_status ref = fn();
    long ref_calls = g_calls;
    CHECK_EQ_INT(g_n_live, 0);
    if (after)
        CHECK_EQ_INT(after(ref), 0);
    memcpy(g_ref, g_out, g_out_len + 1);
    if (getenv("OAB_ALLOC_VERBOSE"))
        fprintf(stderr, "%s: reference %s\n%.300s\n", name,
                oab_status_name(ref), g_ref);
    if (ref != OAB_OK && ref != OAB_EVALIDATION) {
        fprintf(stderr, "%s: reference run failed: %s\n%s", name,
                oab_status_name(ref), g_out);
        t_fail++;
        return;
    }
    for (int persistent = 0; persistent <= 1; persistent++) {
        long n;
        for (n = 1;; n++) {
            g_fail_at = n;
            g_persistent = persistent;
            g_calls = 0;
            g_injected = 0;
            live_reset();
            out_reset();
            oab_status st = fn();
            long injected = g_injected;
            long leaked = g_n_live;
            g_fail_at = 0;
            g_total_runs++;
            int bad = 0;
            if (leaked != 0) {
                fprintf(stderr, "%s: fail at %ld%s: %ld blocks leaked\n",
                        name, n, persistent ? "+" : "", leaked);
                bad = 1;
            }
            if (after && after(st) != 0) {
                fprintf(stderr, "%s: fail at %ld%s: files left behind\n",
                        name, n, persistent ? "+" : "");
                bad = 1;
            }
            if (!injected) {
                if (st != ref || strcmp(g_out, g_ref) != 0) {
                    fprintf(stderr, "%s: run without failure differs\n",
                            name);
                    bad = 1;
                }
                if (bad)
                    t_fail++;
                else
                    t_pass++;
                break;
            }
            if (st == ref && strcmp(g_out, g_ref) == 0) {
                /* the failure was absorbed without changing the answer */
            } else if (st == OAB_ENOMEM) {
                /* the expected answer */
            } else if (value_ok && st == OAB_OK) {
                /* a result describing the problem */
                if (getenv("OAB_ALLOC_VERBOSE"))
                    show_diff(name, n, persistent);
            } else {
                fprintf(stderr,
                        "%s: fail at %ld%s: returned %s (want OAB_ENOMEM)\n"
                        "%s",
                        name, n, persistent ? "+" : "", oab_status_name(st),
                        g_out);
                bad = 1;
            }
            if (bad)
                t_fail++;
            else
                t_pass++;
            if (n > ref_calls + 1000) {
                fprintf(stderr, "%s: no end to the allocations\n", name);
                t_fail++;
                break;
            }
        }
        if (!persistent)
            printf("%-28s %4ld allocations, %4ld runs\n", name, ref_calls,
                   n);
    }
    live_reset();
}

/* ---- fixtures ---- */

#define WEATHER                                                           \
    "{\"type\":\"object\",\"properties\":{\"location\":{\"type\":"       \
    "\"string\"},\"temperature\":{\"type\":\"number\"},\"condition\":{"  \
    "\"type\":\"string\"},\"humidity\":{\"type\":\"integer\"}},"         \
    "\"required\":[\"location\",\"temperature\",\"condition\","          \
    "\"humidity\"],\"additionalProperties\":false}"

/* A schema that uses most of the validator: $defs/$ref, pattern, format,
 * enum, anyOf, optional properties (made nullable by strict). */
#define RICH                                                              \
    "{\"type\":\"object\",\"$defs\":{\"tag\":{\"type\":\"string\","      \
    "\"pattern\":\"^[a-z]+\\\\d*$\"}},\"properties\":{"                   \
    "\"name\":{\"type\":\"string\",\"minLength\":1},"                     \
    "\"when\":{\"type\":\"string\",\"format\":\"date-time\"},"            \
    "\"mail\":{\"type\":\"string\",\"format\":\"email\"},"                \
    "\"kind\":{\"enum\":[\"a\",\"b\"]},"                                  \
    "\"tags\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/$defs/tag\"},"  \
    "\"uniqueItems\":true},"                                              \
    "\"size\":{\"anyOf\":[{\"type\":\"integer\",\"minimum\":0},"          \
    "{\"type\":\"string\"}]},"                                            \
    "\"meta\":{\"type\":\"object\",\"properties\":{\"x\":{\"type\":"      \
    "\"number\"}}}},"                                                     \
    "\"required\":[\"name\",\"tags\"]}"

#define RICH_OK                                                           \
    "{\"name\":\"n\",\"when\":\"2024-03-28T12:00:00Z\",\"mail\":"          \
    "\"a@b.example\",\"kind\":\"a\",\"tags\":[\"ab1\",\"cd\"],\"size\":3,"  \
    "\"meta\":{\"x\":1.5}}"
#define RICH_BAD                                                          \
    "{\"name\":\"n\",\"when\":null,\"mail\":null,\"kind\":null,"           \
    "\"tags\":[\"ab1\",\"X-\"],\"size\":null,\"meta\":null}"

/* $id/$anchor references, patternProperties, propertyNames and the
 * applicators: the rest of the schema preparation and validation. */
#define WIDE                                                              \
    "{\"$id\":\"https://example.com/root\",\"type\":\"object\","       \
    "\"$defs\":{\"pos\":{\"$anchor\":\"pos\",\"type\":\"integer\","    \
    "\"minimum\":1},\"sub\":{\"$id\":\"sub\",\"type\":\"string\","       \
    "\"format\":\"uuid\"}},\"properties\":{\"n\":{\"$ref\":\"#pos\"},"    \
    "\"id\":{\"$ref\":\"sub\"},\"host\":{\"format\":\"hostname\"},"       \
    "\"ip\":{\"oneOf\":[{\"format\":\"ipv4\"},{\"format\":\"ipv6\"}]},"   \
    "\"list\":{\"type\":\"array\",\"contains\":{\"const\":3},"            \
    "\"prefixItems\":[{\"type\":\"number\"}]},"                           \
    "\"kind\":{\"not\":{\"enum\":[\"x\"]}}},"                               \
    "\"patternProperties\":{\"^x-[a-z]+$\":{\"type\":\"string\"}},"         \
    "\"propertyNames\":{\"maxLength\":8},"                                 \
    "\"dependentRequired\":{\"host\":[\"ip\"]},"                           \
    "\"if\":{\"required\":[\"kind\"]},\"then\":{\"required\":[\"n\"]},"     \
    "\"else\":{\"minProperties\":1}}"
#define WIDE_OK                                                           \
    "{\"n\":2,\"id\":\"123e4567-e89b-12d3-a456-426614174000\","            \
    "\"host\":\"a.example\",\"ip\":\"::1\",\"list\":[1.5,3],"              \
    "\"kind\":\"y\",\"x-tag\":\"t\"}"
#define WIDE_BAD                                                          \
    "{\"n\":2,\"host\":\"a.example\",\"ip\":\"::1\",\"list\":[1,2],"     \
    "\"x-tag\":5}"

static char g_fixtures[1024];
static char g_tmp[256];

static oab_schema *g_weather, *g_rich, *g_wide;
static oab_request *g_req_chat, *g_req_resp;

static char *g_lines[16];   /* result lines picked from output.jsonl */

static void out_err(oab_status st, const oab_error *err)
{
    out_str(oab_status_name(st));
    if (st != OAB_OK)
        out_str(err->message);
}

/* -- schema -- */

static oab_status case_schema_new(void)
{
    oab_schema *s = NULL;
    oab_error err;
    oab_status st = oab_schema_new(&s, "rich", "A rich one", RICH, 1, &err);
    out_err(st, &err);
    if (st == OAB_OK) {
        out_str(oab_schema_json(s));
        out_str(oab_schema_name(s));
        out_str(oab_schema_description(s));
    } else {
        CHECK(s == NULL);
    }
    oab_schema_free(s);
    return st;
}

static oab_status case_schema_new_loose(void)
{
    oab_schema *s = NULL;
    oab_error err;
    oab_status st = oab_schema_new(&s, NULL, NULL, WEATHER, 0, &err);
    out_err(st, &err);
    if (st == OAB_OK)
        out_str(oab_schema_json(s));
    oab_schema_free(s);
    return st;
}

static oab_status case_validate_ok(void)
{
    oab_error err;
    oab_status st = oab_schema_validate(g_rich, RICH_OK, strlen(RICH_OK),
                                        &err);
    out_err(st, &err);
    return st;
}

static oab_status case_validate_bad(void)
{
    oab_error err;
    oab_status st = oab_schema_validate(g_rich, RICH_BAD, strlen(RICH_BAD),
                                        &err);
    out_err(st, &err);
    return st;
}

static oab_status case_schema_new_wide(void)
{
    oab_schema *s = NULL;
    oab_error err;
    oab_status st = oab_schema_new(&s, "wide", NULL, WIDE, 0, &err);
    out_err(st, &err);
    if (st == OAB_OK)
        out_str(oab_schema_json(s));
    oab_schema_free(s);
    return st;
}

static oab_status wide_case(const char *inst)
{
    oab_error err;
    oab_status st = oab_schema_validate(g_wide, inst, strlen(inst), &err);
    out_err(st, &err);
    return st;
}

static oab_status case_wide_ok(void) { return wide_case(WIDE_OK); }
static oab_status case_wide_bad(void) { return wide_case(WIDE_BAD); }

/* -- requests -- */

static const oab_tool k_tools[] = {
    {"get_weather", "Weather for a city",
     "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},"
     "\"required\":[\"city\"]}",
     1},
    {"noop", NULL, NULL, 0}};
static const char *const k_stop[] = {"END", "STOP"};

static oab_status chat_case(oab_output_mode mode)
{
    oab_message msgs[2] = {{"user", "Hi", NULL, "bob", NULL, NULL},
                           {"assistant", NULL, NULL, NULL, NULL,
                            "[{\"id\":\"call_1\",\"type\":\"function\","
                            "\"function\":{\"name\":\"noop\","
                            "\"arguments\":\"{}\"}}]"}};
    oab_chat_options o = OAB_CHAT_OPTIONS_INIT;
    o.model = "openai:gpt-4o-mini";
    o.system_prompt = "Be brief.";
    o.messages = msgs;
    o.n_messages = 2;
    o.max_tokens = 200;
    o.temperature = 0.8;
    o.stop = k_stop;
    o.n_stop = 2;
    o.tools = k_tools;
    o.n_tools = 2;
    o.tool_choice = OAB_TOOL_CHOICE_AUTO;
    o.parallel_tool_calls = 0;
    o.output_schema = g_weather;
    o.output_mode = mode;
    o.extra_body_json = "{\"seed\": 7, \"metadata\": {\"k\": \"v\"}}";
    oab_request *r = NULL;
    oab_error err;
    oab_status st = oab_chat_request_new(&r, "req-1", "Weather in Paris?", &o,
                                         &err);
    out_err(st, &err);
    if (st == OAB_OK) {
        char *line = NULL;
        oab_status st2 = oab_request_to_json(r, &line);
        if (st2 == OAB_OK)
            out_str(line);
        oab_free(line);
        st = st2;
    } else {
        CHECK(r == NULL);
    }
    oab_request_free(r);
    return st;
}

static oab_status case_chat_native(void) { return chat_case(OAB_OUTPUT_NATIVE); }
static oab_status case_chat_tool(void) { return chat_case(OAB_OUTPUT_TOOL); }
static oab_status case_chat_prompted(void)
{
    return chat_case(OAB_OUTPUT_PROMPTED);
}

static oab_status resp_case(oab_output_mode mode)
{
    oab_responses_options o = OAB_RESPONSES_OPTIONS_INIT;
    o.model = "gpt-4o-mini";
    o.instructions = "Be brief.";
    o.input_json = "[{\"role\":\"user\",\"content\":\"first\"}]";
    o.max_output_tokens = 100;
    o.reasoning_effort = "low";
    o.tools = k_tools;
    o.n_tools = 2;
    o.output_schema = g_weather;
    o.output_mode = mode;
    o.extra_body_json = "{\"store\":false}";
    oab_request *r = NULL;
    oab_error err;
    oab_status st = oab_responses_request_new(&r, "r-1", "second", &o, &err);
    out_err(st, &err);
    if (st == OAB_OK) {
        char *line = NULL;
        st = oab_request_to_json(r, &line);
        if (st == OAB_OK)
            out_str(line);
        oab_free(line);
    }
    oab_request_free(r);
    return st;
}

static oab_status case_resp_native(void) { return resp_case(OAB_OUTPUT_NATIVE); }
static oab_status case_resp_tool(void) { return resp_case(OAB_OUTPUT_TOOL); }
static oab_status case_resp_prompted(void)
{
    return resp_case(OAB_OUTPUT_PROMPTED);
}

static oab_status case_embeddings(void)
{
    const char *in[] = {"one", "two"};
    oab_request *r = NULL;
    oab_error err;
    oab_status st = oab_embeddings_request_new(&r, "e-1",
                                               "text-embedding-3-small", in,
                                               2, 256, &err);
    out_err(st, &err);
    if (st == OAB_OK) {
        char *line = NULL;
        st = oab_request_to_json(r, &line);
        if (st == OAB_OK)
            out_str(line);
        oab_free(line);
    }
    oab_request_free(r);
    return st;
}

static oab_status case_request_to_json(void)
{
    char *line = NULL;
    oab_status st = oab_request_to_json(g_req_chat, &line);
    out_str(oab_status_name(st));
    out_str(line);
    oab_free(line);
    return st;
}

/* -- JSONL writer (buffer) -- */

static oab_status case_writer_buffer(void)
{
    oab_jsonl_writer *w = NULL;
    oab_status st = oab_jsonl_writer_open_buffer(&w);
    if (st == OAB_OK)
        st = oab_jsonl_write_request(w, g_req_chat);
    if (st == OAB_OK)
        st = oab_jsonl_write_request(w, g_req_resp);
    if (st == OAB_OK) {
        const char *j = "{ \"custom_id\" : \"x\", \"n\": [1, 2.50, \"\\u00e9\"] }";
        st = oab_jsonl_write_json(w, j, strlen(j));
    }
    if (st == OAB_OK)
        st = oab_jsonl_writer_close(w);
    char *data = NULL;
    size_t len = 0;
    if (st == OAB_OK) {
        out_num((long long)oab_jsonl_writer_lines(w));
        out_num((long long)oab_jsonl_writer_bytes(w));
        st = oab_jsonl_writer_take_buffer(w, &data, &len);
    }
    if (st == OAB_OK) {
        out_add(data, len);
        out_num((long long)oab_jsonl_writer_lines(w));
    }
    oab_free(data);
    oab_jsonl_writer_free(w);
    out_str(oab_status_name(st));
    return st;
}

/* -- JSONL writer (path): nothing is left when it fails -- */

static char g_wpath[512];

static oab_status case_writer_path(void)
{
    oab_jsonl_writer *w = NULL;
    oab_status st = oab_jsonl_writer_open_path(&w, g_wpath);
    if (st == OAB_OK)
        st = oab_jsonl_write_request(w, g_req_chat);
    if (st == OAB_OK)
        st = oab_jsonl_write_json(w, "{\"a\": 1}", 8);
    if (st == OAB_OK)
        st = oab_jsonl_writer_close(w);
    oab_jsonl_writer_free(w);
    out_str(oab_status_name(st));
    if (st == OAB_OK) {
        char *data = NULL;
        size_t len = 0;
        /* read with the real allocator's counting paused */
        long fail = g_fail_at;
        g_fail_at = 0;
        if (oab__read_file(g_wpath, &data, &len) == OAB_OK)
            out_add(data, len);
        free(data);
        g_fail_at = fail;
    }
    return st;
}

static int count_dir(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    if (d)
        closedir(d);
    return n;
}

static int after_writer_path(oab_status st)
{
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp", g_wpath);
    int bad = access(tmp, F_OK) == 0;
    if (st != OAB_OK)
        bad |= access(g_wpath, F_OK) == 0;
    unlink(g_wpath);
    return bad;
}

/* -- validator -- */

static const char k_valid[] =
    "{\"custom_id\":\"a\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
    "\"body\":{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\","
    "\"content\":\"hi\"}]}}\n"
    "\n"
    "{\"custom_id\":\"b\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
    "\"body\":{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\","
    "\"content\":\"ho\"}]}}\r\n";

static const char k_invalid[] =
    "{\"custom_id\":\"a\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
    "\"body\":{\"model\":\"gpt-4o-mini\",\"messages\":[]}}\n"
    "{\"custom_id\":\"a\",\"method\":\"GET\",\"url\":\"/v1/embeddings\","
    "\"body\":{\"model\":\"m2\",\"input\":[\"x\",\"y\"]}}\n"
    "not json\n"
    "{\"custom_id\":7,\"url\":\"/v1/nope\",\"body\":[]}\n"
    "{\"custom_id\":\"c\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
    "\"body\":{\"messages\":[]}}\n"
    "{\"custom_id\":\"\xff\"}\n"
    "{\"custom_id\":\"d\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
    "\"body\":{\"model\":\"gpt-4o-mini\"";

static oab_status validator_case(const char *data, size_t len, size_t chunk)
{
    oab_validate_options o = OAB_VALIDATE_OPTIONS_INIT;
    o.max_lines = 4; /* too_many_tasks on line 5 */
    oab_validator *v = NULL;
    oab_validation *rep = NULL;
    oab_status st = oab_validator_new(&v, &o);
    for (size_t off = 0; st == OAB_OK && off < len; off += chunk)
        st = oab_validator_feed(v, data + off,
                                len - off < chunk ? len - off : chunk);
    if (st == OAB_OK)
        st = oab_validator_finish(v, &rep);
    out_str(oab_status_name(st));
    if (rep) {
        out_num((long long)rep->n_lines);
        out_num((long long)rep->n_bytes);
        out_str(rep->url);
        out_str(rep->model);
        out_num((long long)rep->n_problems_total);
        for (size_t i = 0; i < rep->n_problems; i++) {
            out_num(rep->problems[i].line);
            out_str(rep->problems[i].code);
            out_str(rep->problems[i].message);
            out_str(rep->problems[i].param);
        }
    }
    oab_validation_free(rep);
    oab_validator_free(v);
    return st;
}

static oab_status case_validator_valid(void)
{
    return validator_case(k_valid, sizeof k_valid - 1, 17);
}

static oab_status case_validator_invalid(void)
{
    return validator_case(k_invalid, sizeof k_invalid - 1, 29);
}

static oab_status case_validate_buffer(void)
{
    oab_validation *rep = NULL;
    oab_status st = oab_validate_buffer(&rep, k_invalid, sizeof k_invalid - 1,
                                        NULL);
    out_str(oab_status_name(st));
    if (rep)
        for (size_t i = 0; i < rep->n_problems; i++)
            out_str(rep->problems[i].message);
    oab_validation_free(rep);
    return st;
}

/* -- results -- */

static oab_status result_case(int k, const oab_expect *ex)
{
    oab_result *r = NULL;
    const char *line = g_lines[k];
    oab_status st = oab_result_parse(&r, line, strlen(line), 3, ex);
    out_str(oab_status_name(st));
    if (r) {
        out_str(r->custom_id);
        out_str(oab_result_status_str(r->status));
        out_str(r->output);
        out_str(r->parsed_json);
        out_str(r->invalid_reason);
        out_str(r->error_code);
        out_str(r->body_json);
        out_num((long long)r->n_tool_calls);
        for (size_t i = 0; i < r->n_tool_calls; i++) {
            out_str(r->tool_calls[i].name);
            out_str(r->tool_calls[i].arguments);
        }
        out_num(r->usage.total_tokens);
    } else {
        CHECK(st != OAB_OK);
    }
    oab_result_free(r);
    return st;
}

enum { L_PLAIN, L_TOOLS, L_NATIVE, L_NATIVE_BAD, L_TOOL, L_PROMPTED,
       L_PROMPTED_BAD, L_HTTP, L_RESP, L_EMB, L_BROKEN, N_LINES };

static oab_status case_result_plain(void) { return result_case(L_PLAIN, NULL); }
static oab_status case_result_tools(void) { return result_case(L_TOOLS, NULL); }
static oab_status case_result_native(void)
{
    oab_expect ex = {g_weather, OAB_OUTPUT_NATIVE};
    return result_case(L_NATIVE, &ex);
}
static oab_status case_result_native_bad(void)
{
    oab_expect ex = {g_weather, OAB_OUTPUT_NATIVE};
    return result_case(L_NATIVE_BAD, &ex);
}
static oab_status case_result_tool(void)
{
    oab_expect ex = {g_weather, OAB_OUTPUT_TOOL};
    return result_case(L_TOOL, &ex);
}
static oab_status case_result_prompted(void)
{
    oab_expect ex = {g_weather, OAB_OUTPUT_PROMPTED};
    return result_case(L_PROMPTED, &ex);
}
static oab_status case_result_prompted_bad(void)
{
    oab_expect ex = {g_weather, OAB_OUTPUT_PROMPTED};
    return result_case(L_PROMPTED_BAD, &ex);
}
static oab_status case_result_http(void) { return result_case(L_HTTP, NULL); }
static oab_status case_result_resp(void) { return result_case(L_RESP, NULL); }
static oab_status case_result_emb(void) { return result_case(L_EMB, NULL); }
static oab_status case_result_broken(void)
{
    return result_case(L_BROKEN, NULL);
}

/* -- jobs and files -- */

static const char k_job[] =
    "{\"id\":\"batch_1\",\"object\":\"batch\",\"endpoint\":"
    "\"/v1/chat/completions\",\"model\":\"gpt-4o-mini\",\"errors\":{"
    "\"object\":\"list\",\"data\":[{\"code\":\"invalid_url\",\"message\":"
    "\"bad url\",\"param\":\"url\",\"line\":2},{\"code\":\"x\",\"message\":"
    "\"y\",\"param\":null,\"line\":null}]},\"input_file_id\":\"file-in\","
    "\"completion_window\":\"24h\",\"status\":\"completed\","
    "\"output_file_id\":\"file-out\",\"error_file_id\":\"\",\"created_at\":"
    "1711471533,\"in_progress_at\":1711471538,\"expires_at\":1711557933,"
    "\"completed_at\":1711493133,\"request_counts\":{\"total\":100,"
    "\"completed\":95,\"failed\":5},\"usage\":{\"input_tokens\":10,"
    "\"input_tokens_details\":{\"cached_tokens\":2},\"output_tokens\":20,"
    "\"output_tokens_details\":{\"reasoning_tokens\":3},\"total_tokens\":30},"
    "\"metadata\":{\"customer_id\":\"user_123\",\"batch\":\"nightly\"}}";

static oab_status case_job_parse(void)
{
    oab_job *j = NULL, *d = NULL;
    oab_error err;
    oab_status st = oab_job_parse(&j, k_job, sizeof k_job - 1, &err);
    out_err(st, &err);
    if (st == OAB_OK)
        st = oab_job_dup(&d, j);
    out_str(oab_status_name(st));
    if (d) {
        out_str(d->id);
        out_str(d->status_text);
        out_str(d->output_file_id);
        out_str(d->error_file_id);
        out_num(d->count_failed);
        out_num(d->cached_tokens);
        for (size_t i = 0; i < d->n_metadata; i++) {
            out_str(d->metadata[i].key);
            out_str(d->metadata[i].value);
        }
        for (size_t i = 0; i < d->n_errors; i++) {
            out_str(d->errors[i].code);
            out_str(d->errors[i].param);
            out_num(d->errors[i].line);
        }
        out_str(d->raw_json);
    }
    oab_job_free(j);
    oab_job_free(d);
    return st;
}

static const char k_file[] =
    "{\"id\":\"file-abc\",\"object\":\"file\",\"bytes\":120000,\"created_at\":"
    "1677610602,\"expires_at\":null,\"filename\":\"batch.jsonl\",\"purpose\":"
    "\"batch\",\"status\":\"processed\"}";

static oab_status case_file_parse(void)
{
    oab_file *f = NULL;
    oab_error err;
    oab_status st = oab_file_parse(&f, k_file, sizeof k_file - 1, &err);
    out_err(st, &err);
    if (f) {
        out_str(f->id);
        out_str(f->filename);
        out_str(f->purpose);
        out_str(f->status);
        out_num(f->bytes);
        out_str(f->raw_json);
    }
    oab_file_free(f);
    return st;
}

/* -- JSONL reader -- */

static int on_line(const char *line, size_t len, long lineno, void *ud)
{
    (void)ud;
    out_num(lineno);
    out_add(line, len);
    out_add("\n", 1);
    return 0;
}

static oab_status case_jsonl_reader(void)
{
    static const char text[] = "first line\r\n\nsecond\nthird, longer line "
                               "that crosses chunks\nlast without newline";
    oab_jsonl_reader *r = NULL;
    oab_status st = oab_jsonl_reader_new(&r, 0);
    for (size_t off = 0; st == OAB_OK && off < sizeof text - 1; off += 5) {
        size_t n = sizeof text - 1 - off < 5 ? sizeof text - 1 - off : 5;
        st = oab_jsonl_reader_feed(r, text + off, n, on_line, NULL);
    }
    int trunc = 0;
    if (st == OAB_OK)
        st = oab_jsonl_reader_finish(r, on_line, NULL, &trunc);
    out_num(trunc);
    out_str(oab_status_name(st));
    oab_jsonl_reader_free(r);
    return st;
}

/* -- split -- */

static char g_split_in[512], g_split_dir[512];

static oab_status case_split(void)
{
    oab_split_options o = OAB_SPLIT_OPTIONS_INIT;
    o.max_lines = 3;
    o.margin = 0;
    oab_split *s = NULL;
    oab_error err;
    oab_status st = oab_split_path(&s, g_split_in, g_split_dir, &o, &err);
    out_err(st, &err);
    if (s) {
        out_num((long long)s->n_parts);
        for (size_t i = 0; i < s->n_parts; i++) {
            const char *base = strrchr(s->parts[i].path, '/');
            out_str(base ? base + 1 : s->parts[i].path);
            out_num(s->parts[i].first_line);
            out_num((long long)s->parts[i].n_lines);
            for (size_t k = 0; k < s->parts[i].n_lines; k++)
                out_num(s->parts[i].input_lines[k]);
            out_num((long long)s->parts[i].n_bytes);
        }
    }
    oab_split_free(s);
    return st;
}

static int after_split(oab_status st)
{
    int n = count_dir(g_split_dir);
    int bad = st == OAB_OK ? n != 3 : n != 0;
    DIR *d = opendir(g_split_dir);
    struct dirent *e;
    char p[1024];
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(p, sizeof p, "%s/%s", g_split_dir, e->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
    return bad;
}

/* -- collected results of files on disk -- */

static char g_out_path[1100], g_err_path[1100], g_in_path[1100];

static oab_status collect_case(int with_input, int order,
                               const oab_schema *schema)
{
    oab_results_options o = OAB_RESULTS_OPTIONS_INIT;
    if (with_input)
        o.input_path = g_in_path;
    o.input_order = order;
    o.schema = schema;
    o.mode = schema ? OAB_OUTPUT_NATIVE : OAB_OUTPUT_NONE;
    oab_result_set *set = NULL;
    oab_error err;
    oab_status st = oab_results_collect_files(&set, g_out_path, g_err_path,
                                              &o, &err);
    out_err(st, &err);
    if (set) {
        out_num((long long)set->n);
        for (size_t i = 0; i < set->n; i++) {
            const oab_result *r = set->items[i];
            out_str(r->custom_id);
            out_str(oab_result_status_str(r->status));
            out_str(r->parsed_json);
            out_str(r->invalid_reason);
            out_num(r->input_line);
            out_num(r->duplicate);
        }
        out_num((long long)set->summary.total);
        out_num(set->summary.usage.total_tokens);
    } else {
        CHECK(st != OAB_OK);
    }
    oab_result_set_free(set);
    return st;
}

static oab_status case_collect_input(void) { return collect_case(1, 1, NULL); }
static oab_status case_collect_plain(void) { return collect_case(0, 0, NULL); }
static oab_status case_collect_schema(void)
{
    return collect_case(0, 0, g_weather);
}

/* ---- setup ---- */

static char *slurp_fixture(const char *name)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", g_fixtures, name);
    char *p = NULL;
    size_t len = 0;
    if (oab__read_file(path, &p, &len) != OAB_OK)
        return NULL;
    return p;
}

/* The line of `text` holding "custom_id":"<cid>" (a copy). */
static char *line_of(const char *text, const char *cid)
{
    char key[128];
    snprintf(key, sizeof key, "\"custom_id\":\"%s\"", cid);
    const char *hit = text ? strstr(text, key) : NULL;
    if (!hit)
        return NULL;
    const char *b = hit;
    while (b > text && b[-1] != '\n')
        b--;
    const char *e = strchr(hit, '\n');
    return oab__strndup(b, e ? (size_t)(e - b) : strlen(b));
}

static int setup(void)
{
    const char *tests = getenv("OAB_TESTS");
    if (!tests)
        tests = "tests";
    snprintf(g_fixtures, sizeof g_fixtures, "%s/lib/fixtures/results", tests);
    snprintf(g_out_path, sizeof g_out_path, "%s/output.jsonl", g_fixtures);
    snprintf(g_err_path, sizeof g_err_path, "%s/errors.jsonl", g_fixtures);
    snprintf(g_in_path, sizeof g_in_path, "%s/input.jsonl", g_fixtures);

    const char *tmpdir = getenv("TMPDIR");
    snprintf(g_tmp, sizeof g_tmp, "%s/oab_alloc_XXXXXX",
             tmpdir && *tmpdir ? tmpdir : "/tmp");
    if (!mkdtemp(g_tmp))
        return -1;
    snprintf(g_wpath, sizeof g_wpath, "%s/w.jsonl", g_tmp);
    snprintf(g_split_in, sizeof g_split_in, "%s/in.jsonl", g_tmp);
    snprintf(g_split_dir, sizeof g_split_dir, "%s/parts", g_tmp);
    if (mkdir(g_split_dir, 0700) != 0)
        return -1;
    const char split_text[] = "{\"custom_id\":\"1\"}\n{\"custom_id\":\"2\"}\r\n"
                              "\n{\"custom_id\":\"3\"}\n{\"custom_id\":\"4\"}\n"
                              "{\"custom_id\":\"5\"}\n{\"custom_id\":\"6\"}\n"
                              "{\"custom_id\":\"7\"}";
    if (oab__write_file_atomic(g_split_in, split_text, sizeof split_text - 1))
        return -1;

    oab_error err;
    if (oab_schema_new(&g_weather, NULL, NULL, WEATHER, 1, &err) != OAB_OK ||
        oab_schema_new(&g_rich, "rich", NULL, RICH, 1, &err) != OAB_OK ||
        oab_schema_new(&g_wide, "wide", NULL, WIDE, 0, &err) != OAB_OK) {
        fprintf(stderr, "schema: %s\n", err.message);
        return -1;
    }

    oab_chat_options o = OAB_CHAT_OPTIONS_INIT;
    o.model = "gpt-4o-mini";
    o.tools = k_tools;
    o.n_tools = 2;
    o.output_schema = g_weather;
    o.output_mode = OAB_OUTPUT_TOOL;
    if (oab_chat_request_new(&g_req_chat, "c-1", "Weather?", &o, &err))
        return -1;
    oab_responses_options ro = OAB_RESPONSES_OPTIONS_INIT;
    ro.model = "gpt-4o-mini";
    ro.output_schema = g_weather;
    if (oab_responses_request_new(&g_req_resp, "r-1", "Weather?", &ro, &err))
        return -1;

    char *out = slurp_fixture("output.jsonl");
    char *errs = slurp_fixture("errors.jsonl");
    char *resp = slurp_fixture("responses.jsonl");
    char *emb = slurp_fixture("embeddings.jsonl");
    g_lines[L_PLAIN] = line_of(out, "plain-1");
    g_lines[L_TOOLS] = line_of(out, "tools-1");
    g_lines[L_NATIVE] = line_of(out, "native-ok");
    g_lines[L_NATIVE_BAD] = line_of(out, "native-bad");
    g_lines[L_TOOL] = line_of(out, "tool-ok");
    g_lines[L_PROMPTED] = line_of(out, "prompted-ok");
    g_lines[L_PROMPTED_BAD] = line_of(out, "prompted-bad");
    g_lines[L_HTTP] = line_of(errs, "http-400");
    /* the first line of each of the other files */
    g_lines[L_RESP] = resp ? oab__strndup(resp, strcspn(resp, "\n")) : NULL;
    g_lines[L_EMB] = emb ? oab__strndup(emb, strcspn(emb, "\n")) : NULL;
    g_lines[L_BROKEN] = oab__strdup(
        "{\"id\":\"x\",\"custom_id\":\"cut-9\",\"response\":{\"status_code\":2");
    free(out);
    free(errs);
    free(resp);
    free(emb);
    for (int i = 0; i < N_LINES; i++)
        if (!g_lines[i]) {
            fprintf(stderr, "fixture line %d not found\n", i);
            return -1;
        }
    return 0;
}

static void teardown(void)
{
    for (int i = 0; i < N_LINES; i++)
        free(g_lines[i]);
    oab_request_free(g_req_chat);
    oab_request_free(g_req_resp);
    oab_schema_free(g_weather);
    oab_schema_free(g_rich);
    oab_schema_free(g_wide);
    unlink(g_split_in);
    unlink(g_wpath);
    rmdir(g_split_dir);
    rmdir(g_tmp);
}

int main(void)
{
    cJSON_Hooks hooks = {__wrap_malloc, __wrap_free};
    cJSON_InitHooks(&hooks);

    if (setup() != 0) {
        fprintf(stderr, "setup failed\n");
        teardown();
        return 1;
    }

    /* The wrappers really are in place: a failing malloc fails. */
    g_fail_at = 1;
    g_calls = 0;
    char *probe = oab__strdup("x");
    CHECK(probe == NULL);
    g_fail_at = 0;
    free(probe);

    run_case("schema_new strict", case_schema_new, NULL, 0);
    run_case("schema_new loose", case_schema_new_loose, NULL, 0);
    run_case("schema_validate valid", case_validate_ok, NULL, 0);
    run_case("schema_validate invalid", case_validate_bad, NULL, 0);
    run_case("schema_new $id/patterns", case_schema_new_wide, NULL, 0);
    run_case("schema_validate wide ok", case_wide_ok, NULL, 0);
    run_case("schema_validate wide bad", case_wide_bad, NULL, 0);
    run_case("chat native", case_chat_native, NULL, 0);
    run_case("chat tool", case_chat_tool, NULL, 0);
    run_case("chat prompted", case_chat_prompted, NULL, 0);
    run_case("responses native", case_resp_native, NULL, 0);
    run_case("responses tool", case_resp_tool, NULL, 0);
    run_case("responses prompted", case_resp_prompted, NULL, 0);
    run_case("embeddings", case_embeddings, NULL, 0);
    run_case("request_to_json", case_request_to_json, NULL, 0);
    run_case("jsonl writer buffer", case_writer_buffer, NULL, 0);
    run_case("jsonl writer path", case_writer_path, after_writer_path, 0);
    run_case("validator valid", case_validator_valid, NULL, 0);
    run_case("validator invalid", case_validator_invalid, NULL, 0);
    run_case("validate_buffer", case_validate_buffer, NULL, 0);
    run_case("result plain", case_result_plain, NULL, 1);
    run_case("result tool calls", case_result_tools, NULL, 1);
    run_case("result native", case_result_native, NULL, 1);
    run_case("result native invalid", case_result_native_bad, NULL, 1);
    run_case("result tool", case_result_tool, NULL, 1);
    run_case("result prompted", case_result_prompted, NULL, 1);
    run_case("result prompted invalid", case_result_prompted_bad, NULL, 1);
    run_case("result http error", case_result_http, NULL, 1);
    run_case("result responses", case_result_resp, NULL, 1);
    run_case("result embeddings", case_result_emb, NULL, 1);
    run_case("result malformed", case_result_broken, NULL, 1);
    run_case("job_parse + dup", case_job_parse, NULL, 0);
    run_case("file_parse", case_file_parse, NULL, 0);
    run_case("jsonl_reader", case_jsonl_reader, NULL, 0);
    run_case("split_path", case_split, after_split, 0);
    run_case("collect input order", case_collect_input, NULL, 0);
    run_case("collect plain", case_collect_plain, NULL, 0);
    run_case("collect with schema", case_collect_schema, NULL, 0);
    printf("%ld runs with a failure injected\n", g_total_runs);

    teardown();
    return t_summary("test_alloc");
}
