/* test_core_jsonl_lines.c - one idea of a line across the library: the
 * JSONL reader (public and raw mode), the validator and the splitter all
 * take a line holding only spaces, tabs and CRs as blank (regression: a
 * tab-only line), count it in line numbers, and agree whatever the
 * chunking of the input. */
#define _POSIX_C_SOURCE 200809L
#include "oaibatch.h"
#include "core/jsonl_reader.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REQ(id)                                                            \
    "{\"custom_id\":\"" id "\",\"method\":\"POST\",\"url\":"                \
    "\"/v1/chat/completions\",\"body\":{\"model\":\"m\",\"messages\":" \
    "[{\"role\":\"user\",\"content\":\"hi\"}]}}"

/* Requests on lines 1, 3, 5 and 8; the others are blank in every way. */
static const char input[] =
    REQ("a") "\n"
    "\t\n"               /* 2: a tab only */
    REQ("b") "\r\n"
    " \t \r\n"           /* 4: spaces, tabs and a CR */
    REQ("c") "\n"
    "\r\r\n"             /* 6: CRs only */
    "\n"                 /* 7: empty */
    REQ("d") "\n"
    "  \t";              /* 9: blank, without a newline */

static void test_blank(void)
{
    CHECK(oab__line_blank("", 0));
    CHECK(oab__line_blank("\t", 1));
    CHECK(oab__line_blank(" \t \r", 4));
    CHECK(oab__line_blank("\r \r", 3));
    CHECK(!oab__line_blank(" x ", 3));
    CHECK(!oab__line_blank("\v", 1));
    CHECK(!oab__line_blank("{}", 2));
}

typedef struct seen {
    long lines[16];
    size_t n;
} seen;

static int on_line(const char *line, size_t len, long lineno, void *ud)
{
    seen *s = ud;
    if (s->n < 16)
        s->lines[s->n++] = lineno;
    /* delivered lines are requests, NUL-terminated, without their CR */
    CHECK(line[len] == '\0');
    CHECK(len > 0 && line[0] == '{' && line[len - 1] == '}');
    return 0;
}

/* The public reader, fed in chunks of `step` bytes. */
static void test_reader(size_t step)
{
    oab_jsonl_reader *r = NULL;
    CHECK_OK(oab_jsonl_reader_new(&r, 0));
    seen s = {{0}, 0};
    size_t len = sizeof input - 1;
    for (size_t i = 0; i < len; i += step) {
        size_t n = len - i < step ? len - i : step;
        CHECK_OK(oab_jsonl_reader_feed(r, input + i, n, on_line, &s));
    }
    int cut = 0;
    CHECK_OK(oab_jsonl_reader_finish(r, on_line, &s, &cut));
    CHECK_EQ_INT(cut, 1);
    CHECK_EQ_INT(s.n, 4);
    CHECK_EQ_INT(s.lines[0], 1);
    CHECK_EQ_INT(s.lines[1], 3);
    CHECK_EQ_INT(s.lines[2], 5);
    CHECK_EQ_INT(s.lines[3], 8);
    oab_jsonl_reader_free(r);
}

typedef struct raw_seen {
    size_t bytes, n, blank, in_place, too_long, cut;
    long last;
    const char *base, *base_end;
} raw_seen;

static int on_raw(const oab__line *ln, void *ud)
{
    raw_seen *s = ud;
    s->bytes += ln->bytes;
    s->n++;
    s->blank += ln->blank != 0;
    s->too_long += ln->text == NULL;
    s->cut += ln->cut_off != 0;
    if (ln->text && ln->text >= s->base && ln->text < s->base_end)
        s->in_place++;
    CHECK(ln->lineno == s->last + 1);
    s->last = ln->lineno;
    return 0;
}

static void test_raw(size_t step, size_t max_line)
{
    oab_jsonl_reader *r = NULL;
    CHECK_OK(oab__jsonl_reader_new_raw(&r, max_line));
    size_t len = sizeof input - 1;
    raw_seen s;
    memset(&s, 0, sizeof s);
    s.base = input;
    s.base_end = input + len;
    for (size_t i = 0; i < len; i += step) {
        size_t n = len - i < step ? len - i : step;
        CHECK_OK(oab__jsonl_reader_feed_raw(r, input + i, n, on_raw, &s));
    }
    CHECK_OK(oab__jsonl_reader_finish_raw(r, on_raw, &s));
    CHECK_EQ_INT(s.n, 9);
    CHECK_EQ_INT(s.bytes, len); /* every byte belongs to one line */
    CHECK_EQ_INT(s.cut, 1);
    if (max_line == 0) {
        CHECK_EQ_INT(s.blank, 5);
        CHECK_EQ_INT(s.too_long, 0);
        if (step >= len) /* whole lines are given in place */
            CHECK_EQ_INT(s.in_place, 8);
    } else {
        CHECK_EQ_INT(s.too_long, 4); /* the requests; counted, not kept */
    }
    /* the public calls refuse a raw reader, and the other way round */
    CHECK_EQ_INT(oab_jsonl_reader_feed(r, "x", 1, NULL, NULL), OAB_EINVAL);
    oab_jsonl_reader_free(r);
    CHECK_OK(oab_jsonl_reader_new(&r, 0));
    CHECK_EQ_INT(oab__jsonl_reader_feed_raw(r, "x", 1, on_raw, &s),
                 OAB_EINVAL);
    oab_jsonl_reader_free(r);
}

/* The validator, fed in chunks of `step` bytes: four requests, no
 * problem, and a bad line after the blanks named by its own number. */
static void test_validator(size_t step)
{
    oab_validator *v = NULL;
    CHECK_OK(oab_validator_new(&v, NULL));
    size_t len = sizeof input - 1;
    for (size_t i = 0; i < len; i += step) {
        size_t n = len - i < step ? len - i : step;
        CHECK_OK(oab_validator_feed(v, input + i, n));
    }
    oab_validation *r = NULL;
    CHECK_OK(oab_validator_finish(v, &r));
    CHECK(r != NULL);
    if (r) {
        CHECK_EQ_INT(r->n_lines, 4);
        CHECK_EQ_INT(r->n_problems_total, 0);
        CHECK_EQ_INT(r->n_bytes, len);
    }
    oab_validation_free(r);
    oab_validator_free(v);

    static const char bad[] = "\t\n \t \r\n" REQ("a") "\n\t\nnot json\n"
                              REQ("b") "\n";
    r = NULL;
    CHECK_EQ_INT(oab_validate_buffer(&r, bad, sizeof bad - 1, NULL),
                 OAB_EVALIDATION);
    CHECK(r && r->n_lines == 3 && r->n_problems == 1);
    if (r && r->n_problems == 1) {
        CHECK_EQ_INT(r->problems[0].line, 5);
        CHECK_STR(r->problems[0].code, "invalid_json_line");
    }
    oab_validation_free(r);
}

/* A line longer than the file limit is counted, not kept, in any
 * chunking; file_too_large names its line. */
static void test_validator_long_line(size_t step)
{
    oab_validate_options o = OAB_VALIDATE_OPTIONS_INIT;
    o.max_bytes = 64;
    o.min_requests = -1;
    oab_validator *v = NULL;
    CHECK_OK(oab_validator_new(&v, &o));
    static const char in[] = "\t\n" REQ("long-long-long-long") "\n";
    size_t len = sizeof in - 1;
    for (size_t i = 0; i < len; i += step) {
        size_t n = len - i < step ? len - i : step;
        CHECK_OK(oab_validator_feed(v, in + i, n));
    }
    oab_validation *r = NULL;
    CHECK_EQ_INT(oab_validator_finish(v, &r), OAB_EVALIDATION);
    CHECK(r && r->n_lines == 1 && r->n_problems == 1);
    if (r && r->n_problems == 1) {
        CHECK_STR(r->problems[0].code, "file_too_large");
        CHECK_EQ_INT(r->problems[0].line, 2);
    }
    oab_validation_free(r);
    oab_validator_free(v);
}

/* The splitter keeps the requests, with their input line numbers. */
static void test_split(void)
{
    char dir[] = "/tmp/oab_test_lines.XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK(!"mkdtemp");
        return;
    }
    char in[128], part[160];
    snprintf(in, sizeof in, "%s/in.jsonl", dir);
    FILE *f = fopen(in, "wb");
    CHECK(f != NULL);
    if (!f)
        return;
    fwrite(input, 1, sizeof input - 1, f);
    fclose(f);
    oab_split *s = NULL;
    oab_error err;
    CHECK_OK(oab_split_path(&s, in, dir, NULL, &err));
    CHECK(s && s->n_parts == 1);
    if (s && s->n_parts == 1) {
        CHECK_EQ_INT(s->parts[0].n_lines, 4);
        CHECK_EQ_INT(s->parts[0].input_lines[0], 1);
        CHECK_EQ_INT(s->parts[0].input_lines[1], 3);
        CHECK_EQ_INT(s->parts[0].input_lines[2], 5);
        CHECK_EQ_INT(s->parts[0].input_lines[3], 8);
        snprintf(part, sizeof part, "%s", s->parts[0].path);
        unlink(part);
    }
    oab_split_free(s);
    unlink(in);
    rmdir(dir);
}

int main(void)
{
    test_blank();
    size_t steps[] = {1, 2, 3, 7, 64, 4096};
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
        test_reader(steps[i]);
        test_raw(steps[i], 0);
        test_raw(steps[i], 32);
        test_validator(steps[i]);
        test_validator_long_line(steps[i]);
    }
    test_split();
    return t_summary("test_core_jsonl_lines");
}
