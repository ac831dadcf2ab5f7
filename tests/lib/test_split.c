/* Tests of splitting: at the line limit, at the byte limit, with the
 * margin, input line numbers per part, and no leftovers on failure. */
#include "oaibatch.h"
#include "util/buf.h"
#include "util/fs.h"
#include "testutil.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static void write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK(fwrite(data, 1, len, f) == len);
    fclose(f);
}

static char *slurp(const char *path, size_t *len)
{
    char *p = NULL;
    if (oab__read_file(path, &p, len) != OAB_OK)
        return NULL;
    return p;
}

static int count_files(void)
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

static void clean(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[512];
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
}

/* n request lines; line i (1-based, counting blank ones) is LINE(i). */
static void make_input(oab__buf *b, int n, int blank_every)
{
    oab__buf_clear(b);
    int lineno = 0;
    for (int i = 1; i <= n; i++) {
        if (blank_every && i % blank_every == 0) {
            oab__buf_puts(b, "\n");
            lineno++;
        }
        lineno++;
        oab__buf_printf(b, "{\"custom_id\":\"r%d\",\"line\":%d}\n", i, lineno);
    }
}

/* Each part holds the lines it says, in order, each line whose "line"
 * member is its input line number. Returns the lines seen. */
static size_t check_parts(const oab_split *s, unsigned long long max_bytes,
                          size_t max_lines)
{
    size_t total = 0;
    long prev = 0;
    for (size_t i = 0; i < s->n_parts; i++) {
        const oab_split_part *p = &s->parts[i];
        size_t len = 0;
        char *data = slurp(p->path, &len);
        CHECK(data != NULL);
        if (!data)
            continue;
        CHECK_EQ_INT(len, p->n_bytes);
        CHECK(len <= max_bytes);
        CHECK(p->n_lines <= max_lines);
        CHECK(p->n_lines > 0);
        CHECK_EQ_INT(p->first_line, p->input_lines[0]);
        char *q = data;
        for (size_t k = 0; k < p->n_lines; k++) {
            char *nl = strchr(q, '\n');
            CHECK(nl != NULL);
            if (!nl)
                break;
            const char *m = strstr(q, "\"line\":");
            long ln = m ? strtol(m + 7, NULL, 10) : -1;
            CHECK_EQ_INT(ln, p->input_lines[k]);
            CHECK(p->input_lines[k] > prev);
            prev = p->input_lines[k];
            q = nl + 1;
        }
        CHECK(*q == '\0');
        total += p->n_lines;
        oab_free(data);
    }
    return total;
}

static void test_within_limits(void)
{
    oab__buf b = OAB__BUF_INIT;
    make_input(&b, 5, 3);
    char in[128];
    snprintf(in, sizeof in, "%s/small.jsonl", dir);
    write_file(in, b.data, b.len);
    oab_split *s = NULL;
    oab_error err;
    CHECK_OK(oab_split_path(&s, in, dir, NULL, &err));
    CHECK_EQ_INT(s->n_parts, 1);
    char want[160];
    snprintf(want, sizeof want, "%s/small.part001.jsonl", dir);
    CHECK_STR(s->parts[0].path, want);
    CHECK_EQ_INT(s->parts[0].n_lines, 5);
    CHECK_EQ_INT(s->parts[0].first_line, 1);
    CHECK_EQ_INT(s->parts[0].input_lines[2], 4); /* line 3 was blank */
    CHECK_EQ_INT(check_parts(s, OAB_MAX_FILE_BYTES, OAB_MAX_LINES), 5);
    /* blank lines are not copied */
    CHECK_EQ_INT(s->parts[0].n_bytes, b.len - 1);
    oab_split_free(s);
    clean();
    oab__buf_free(&b);
}

static void test_line_limit(void)
{
    oab__buf b = OAB__BUF_INIT;
    make_input(&b, 25, 7);
    char in[128];
    snprintf(in, sizeof in, "%s/lines.jsonl", dir);
    write_file(in, b.data, b.len);
    oab_split_options o = OAB_SPLIT_OPTIONS_INIT;
    o.max_lines = 10;
    o.margin = 0;
    oab_split *s = NULL;
    oab_error err;
    CHECK_OK(oab_split_path(&s, in, dir, &o, &err));
    CHECK_EQ_INT(s->n_parts, 3);
    CHECK_EQ_INT(s->parts[0].n_lines, 10);
    CHECK_EQ_INT(s->parts[1].n_lines, 10);
    CHECK_EQ_INT(s->parts[2].n_lines, 5);
    CHECK_EQ_INT(s->parts[1].first_line, 12); /* one blank line before */
    CHECK_EQ_INT(check_parts(s, OAB_MAX_FILE_BYTES, 10), 25);
    char want[160];
    snprintf(want, sizeof want, "%s/lines.part003.jsonl", dir);
    CHECK_STR(s->parts[2].path, want);
    oab_split_free(s);
    clean();

    /* the default margin keeps 2% free: 100 -> 98 lines a part */
    write_file(in, b.data, b.len);
    make_input(&b, 200, 0);
    write_file(in, b.data, b.len);
    o = (oab_split_options)OAB_SPLIT_OPTIONS_INIT;
    o.max_lines = 100;
    CHECK_OK(oab_split_path(&s, in, dir, &o, &err));
    CHECK_EQ_INT(s->n_parts, 3);
    CHECK_EQ_INT(s->parts[0].n_lines, 98);
    CHECK_EQ_INT(s->parts[2].n_lines, 4);
    CHECK_EQ_INT(check_parts(s, OAB_MAX_FILE_BYTES, 98), 200);
    oab_split_free(s);
    clean();
    oab__buf_free(&b);
}

static void test_byte_limit(void)
{
    oab__buf b = OAB__BUF_INIT;
    make_input(&b, 40, 0);
    /* CRLF input: parts get plain newlines */
    oab__buf crlf = OAB__BUF_INIT;
    for (size_t i = 0; i < b.len; i++) {
        if (b.data[i] == '\n')
            oab__buf_putc(&crlf, '\r');
        oab__buf_putc(&crlf, b.data[i]);
    }
    char in[128];
    snprintf(in, sizeof in, "%s/bytes.jsonl", dir);
    write_file(in, crlf.data, crlf.len);
    oab_split_options o = OAB_SPLIT_OPTIONS_INIT;
    o.max_bytes = 200;
    o.margin = 0.1; /* 180 bytes a part */
    oab_split *s = NULL;
    oab_error err;
    CHECK_OK(oab_split_path(&s, in, dir, &o, &err));
    CHECK(s->n_parts > 5);
    CHECK_EQ_INT(check_parts(s, 180, OAB_MAX_LINES), 40);
    unsigned long long total = 0;
    for (size_t i = 0; i < s->n_parts; i++) {
        total += s->parts[i].n_bytes;
        /* a part is closed only when the next line would not fit */
        if (i + 1 < s->n_parts)
            CHECK(s->parts[i].n_bytes + 30 > 180);
    }
    CHECK_EQ_INT(total, b.len);
    oab_split_free(s);
    clean();

    /* a line bigger than a whole part: OAB_ELIMIT, naming the line, and
       no parts left behind */
    oab__buf_clear(&b);
    oab__buf_puts(&b, "{\"custom_id\":\"a\"}\n{\"custom_id\":\"a\"}\n{\"custom_id\":\"b\",\"x\":\"");
    for (int i = 0; i < 300; i++)
        oab__buf_putc(&b, 'x');
    oab__buf_puts(&b, "\"}\n");
    write_file(in, b.data, b.len);
    o.margin = 0;
    o.max_bytes = 40;
    CHECK_EQ_INT(oab_split_path(&s, in, dir, &o, &err), OAB_ELIMIT);
    CHECK(s == NULL);
    CHECK_EQ_INT(err.line, 3);
    CHECK(strstr(err.message, "line 3") != NULL);
    CHECK_EQ_INT(count_files(), 1); /* only the input */
    clean();
    oab__buf_free(&b);
    oab__buf_free(&crlf);
}

static void test_errors(void)
{
    oab_split *s = (oab_split *)1;
    oab_error err;
    char in[128];
    snprintf(in, sizeof in, "%s/none.jsonl", dir);
    CHECK_EQ_INT(oab_split_path(&s, in, dir, NULL, &err), OAB_EIO);
    CHECK(s == NULL);
    write_file(in, "\n\n", 2);
    CHECK_EQ_INT(oab_split_path(&s, in, dir, NULL, &err), OAB_EINVAL);
    oab_split_options o = OAB_SPLIT_OPTIONS_INIT;
    o.margin = 1.5;
    CHECK_EQ_INT(oab_split_path(&s, in, dir, &o, &err), OAB_EINVAL);
    clean();
    oab_split_free(NULL);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/oab_test_split_XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_within_limits();
    test_line_limit();
    test_byte_limit();
    test_errors();
    clean();
    rmdir(dir);
    return t_summary("test_split");
}
