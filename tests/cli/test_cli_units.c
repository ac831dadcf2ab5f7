/* test_cli_units.c - unit tests of the command's pieces that need no
 * server: SHA-256 (fingerprints), line ranges, the journal, the option
 * parser. */
#include "oaibatch.h"
#include "util/str.h"
#include "cli.h"
#include "journal.h"
#include "util/sha256.h"
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void hash_hex(const char *s, size_t len, char hex[65])
{
    oab__sha256 h;
    oab__sha256_init(&h);
    oab__sha256_update(&h, s, len);
    oab__sha256_final_hex(&h, hex);
}

static void test_sha256(void)
{
    char hex[65];
    hash_hex("", 0, hex);
    CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    hash_hex("abc", 3, hex);
    CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    hash_hex(two, strlen(two), hex);
    CHECK_STR(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    /* a million 'a' fed in odd pieces */
    oab__sha256 h;
    oab__sha256_init(&h);
    char chunk[997];
    memset(chunk, 'a', sizeof chunk);
    size_t left = 1000000;
    while (left) {
        size_t k = left < sizeof chunk ? left : sizeof chunk;
        oab__sha256_update(&h, chunk, k);
        left -= k;
    }
    oab__sha256_final_hex(&h, hex);
    CHECK_STR(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void test_ranges(void)
{
    long lines[] = { 1, 2, 3, 7, 9, 10 };
    char *t = journal_ranges_encode(lines, 6);
    CHECK_STR(t, "1-3,7,9-10");
    size_t n = 0;
    long *back = journal_ranges_decode(t, &n);
    CHECK_EQ_INT(n, 6);
    CHECK(back && memcmp(back, lines, sizeof lines) == 0);
    free(back);
    free(t);
    t = journal_ranges_encode(NULL, 0);
    CHECK_STR(t, "");
    back = journal_ranges_decode(t, &n);
    CHECK(back != NULL);
    CHECK_EQ_INT(n, 0);
    free(back);
    free(t);
    CHECK(journal_ranges_decode("3-1", &n) == NULL);
    CHECK(journal_ranges_decode("1,x", &n) == NULL);
}

static void test_journal(void)
{
    char dir[] = "/tmp/oab_cli_units_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char *path = oab__sprintf("%s/deep/er/journal.db", dir);
    journal *j = NULL;
    char msg[256];
    CHECK_EQ_INT(journal_open(&j, path, msg, sizeof msg), 0);
    journal_part parts[2];
    memset(parts, 0, sizeof parts);
    parts[0].idx = 1;
    parts[0].kind = (char *)"part";
    parts[0].path = (char *)"/x/p1.jsonl";
    parts[0].n_lines = 3;
    parts[0].input_lines = (char *)"1-3";
    parts[1].idx = 2;
    parts[1].kind = (char *)"part";
    parts[1].path = (char *)"/x/p2.jsonl";
    parts[1].n_lines = 2;
    parts[1].input_lines = (char *)"4-5";
    journal_job job;
    memset(&job, 0, sizeof job);
    job.id = (char *)"job_0123456789abcdef";
    job.created_at = 1000;
    job.input_path = (char *)"in.jsonl";
    job.fingerprint = (char *)"fp1";
    job.endpoint = (char *)"/v1/chat/completions";
    job.n_lines = 5;
    job.metadata_json = (char *)"{\"a\":\"b\"}";
    job.parts = parts;
    job.n_parts = 2;
    CHECK_EQ_INT(journal_job_insert(j, &job), 0);
    CHECK(journal_job_insert(j, &job) != 0); /* same id twice */

    CHECK_EQ_INT(journal_part_set_file(j, job.id, 1, "file-1"), 0);
    CHECK_EQ_INT(journal_part_set_batch(j, job.id, 1, "batch_1"), 0);
    CHECK_EQ_INT(journal_part_set_status(j, job.id, 1, "in_progress", 3, 1, 0), 0);
    /* a part that is not there (its job removed meanwhile): a batch made
     * for it is not taken for recorded */
    CHECK_EQ_INT(journal_part_set_batch(j, job.id, 9, "batch_9"), -1);
    CHECK(strstr(journal_errmsg(j), "no longer in the journal") != NULL);
    CHECK_EQ_INT(journal_part_set_batch(j, "job_gone", 1, "batch_9"), -1);
    CHECK_EQ_INT(journal_part_set_batch(j, job.id, 1, "batch_1"), 0);
    CHECK(strstr(journal_errmsg(j), "no longer") == NULL);

    journal_job *got = NULL;
    CHECK_EQ_INT(journal_job_by_fingerprint(j, "fp1", &got), 0);
    CHECK(got && got->n_parts == 2);
    if (got && got->n_parts == 2) {
        CHECK_STR(got->id, job.id);
        CHECK_STR(got->parts[0].file_id, "file-1");
        CHECK_STR(got->parts[0].batch_id, "batch_1");
        CHECK_STR(got->parts[0].status, "in_progress");
        CHECK_EQ_INT(got->parts[0].count_completed, 1);
        CHECK(got->parts[1].file_id == NULL);
        CHECK_STR(got->parts[1].input_lines, "4-5");
        CHECK_STR(got->metadata_json, "{\"a\":\"b\"}");
    }
    journal_job_free(got);
    got = NULL;
    CHECK_EQ_INT(journal_job_by_fingerprint(j, "nope", &got), 1);
    CHECK_EQ_INT(journal_job_get(j, "job_missing", &got), 1);

    char *jid = NULL;
    int idx = 0;
    CHECK_EQ_INT(journal_find_batch(j, "batch_1", &jid, &idx), 0);
    CHECK_STR(jid, job.id);
    CHECK_EQ_INT(idx, 1);
    free(jid);
    CHECK_EQ_INT(journal_find_batch(j, "batch_zz", &jid, &idx), 1);

    journal_part retry;
    memset(&retry, 0, sizeof retry);
    retry.kind = (char *)"retry";
    retry.path = (char *)"/x/retry.jsonl";
    retry.n_lines = 1;
    retry.input_lines = (char *)"2";
    CHECK_EQ_INT(journal_part_add(j, job.id, &retry), 0);
    CHECK_EQ_INT(retry.idx, 3);

    journal_job **list = NULL;
    size_t n = 0;
    CHECK_EQ_INT(journal_jobs_list(j, 0, &list, &n), 0);
    CHECK_EQ_INT(n, 1);
    if (n == 1) {
        CHECK_EQ_INT(list[0]->n_parts, 3);
        CHECK_STR(list[0]->parts[2].kind, "retry");
    }
    journal_job_list_free(list, n);
    journal_close(j);

    /* reopening keeps everything */
    CHECK_EQ_INT(journal_open(&j, path, msg, sizeof msg), 0);
    CHECK_EQ_INT(journal_job_get(j, job.id, &got), 0);
    CHECK(got && got->n_parts == 3);
    journal_job_free(got);
    journal_close(j);
    char *cmd = oab__sprintf("rm -rf '%s'", dir);
    CHECK_EQ_INT(system(cmd), 0);
    free(cmd);
    free(path);
}

static void test_args(void)
{
    static const cli_opt opts[] = { { "out", 'o', 1, 1 },
                                    { "flag", 0, 0, 2 },
                                    { NULL, 0, 0, 0 } };
    char *argv[] = { (char *)"cmd", (char *)"--out=a", (char *)"-ob",
                     (char *)"-o", (char *)"c", (char *)"pos",
                     (char *)"--flag", (char *)"--json", (char *)"--",
                     (char *)"--flag", NULL };
    cli_args a = { 10, argv, 1, 0, "cmd" };
    const char *arg;
    CHECK_EQ_INT(cli_next(&a, opts, &arg), 1);
    CHECK_STR(arg, "a");
    CHECK_EQ_INT(cli_next(&a, opts, &arg), 1);
    CHECK_STR(arg, "b");
    CHECK_EQ_INT(cli_next(&a, opts, &arg), 1);
    CHECK_STR(arg, "c");
    CHECK_EQ_INT(cli_next(&a, opts, &arg), CLI_PARSE_POSITIONAL);
    CHECK_STR(arg, "pos");
    CHECK_EQ_INT(cli_next(&a, opts, &arg), 2);
    CHECK_EQ_INT(cli_next(&a, opts, &arg), OPT_JSON);
    CHECK_EQ_INT(cli_next(&a, opts, &arg), CLI_PARSE_POSITIONAL);
    CHECK_STR(arg, "--flag");
    CHECK_EQ_INT(cli_next(&a, opts, &arg), CLI_PARSE_END);
}

int main(void)
{
    test_sha256();
    test_ranges();
    test_journal();
    test_args();
    return t_summary("test_cli_units");
}
