/* test_transport_big.c - a 300 MiB upload and download through the mock
 * server: the content arrives intact and the process's memory does not
 * grow with the file (peak RSS growth < 32 MiB; the whole peak too when
 * not built with AddressSanitizer, whose shadow memory inflates RSS). */
#include <cjson/cJSON.h>
#include "oaibatch.h"
#include "testutil.h"
#include "mock_server.h"

#include <sys/resource.h>
#include <sys/stat.h>

#define BIG_MIB 300
#define LIMIT_KB (32L * 1024)

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

static long peak_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static const char LINE[] =
    "{\"custom_id\":\"r\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
    "\"body\":{\"model\":\"gpt-4o-mini\",\"messages\":[]}}\n";

/* Writes BIG_MIB MiB of lines numbered by position; returns the size. */
static long long make_file(const char *path)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    long long target = (long long)BIG_MIB << 20, n = 0;
    char line[256];
    for (long i = 0; n < target; i++) {
        int len = snprintf(line, sizeof line, "%08ld%s", i, LINE);
        fwrite(line, 1, (size_t)len, f);
        n += len;
    }
    fclose(f);
    return n;
}

static int same_files(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb;
    static char ba[1 << 16], bb[1 << 16];
    while (same) {
        size_t na = fread(ba, 1, sizeof ba, fa), nb = fread(bb, 1, sizeof bb, fb);
        if (na != nb || memcmp(ba, bb, na) != 0)
            same = 0;
        if (na == 0)
            break;
    }
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return same;
}

int main(void)
{
    char dir[] = "/tmp/oab_big_XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char in[64], out[64];
    snprintf(in, sizeof in, "%s/big.jsonl", dir);
    snprintf(out, sizeof out, "%s/back.jsonl", dir);
    long long size = make_file(in);
    CHECK(size >= (long long)BIG_MIB << 20);

    mock m;
    if (mock_start(&m, "big_transfer", in) != 0) {
        CHECK(!"mock did not start");
        remove(in);
        rmdir(dir);
        return t_summary("test_transport_big");
    }
    oab_client_options o = OAB_CLIENT_OPTIONS_INIT;
    o.base_url = m.base;
    oab_client *c = NULL;
    CHECK_OK(oab_client_new(&c, &o));
    long base = peak_kb();

    oab_file *f = NULL;
    CHECK_OK(oab_file_upload_path(c, &f, in, "batch", 0));
    CHECK(f && strcmp(f->id, "file-big") == 0);
    oab_file_free(f);
    long after_up = peak_kb();
    CHECK_OK(oab_file_download_path(c, "file-big", out));
    long after_down = peak_kb();
    oab_client_free(c);

    printf("peak RSS: %ld KiB before, %ld after the upload, %ld after the "
           "download (%s)\n", base, after_up, after_down,
           UNDER_ASAN ? "AddressSanitizer" : "plain build");
    CHECK(after_down - base < LIMIT_KB);
    if (!UNDER_ASAN)
        CHECK(after_down < LIMIT_KB);
    CHECK(same_files(in, out));

    cJSON *rep = NULL;
    CHECK(mock_finish_report(&m, NULL, &rep));
    const cJSON *up = rep ? cJSON_GetArrayItem(cJSON_GetObjectItem(rep, "uploads"), 0) : NULL;
    const cJSON *file = up ? cJSON_GetObjectItem(up, "file") : NULL;
    CHECK(file && (long long)cJSON_GetObjectItem(file, "size")->valuedouble == size);
    cJSON_Delete(rep);
    remove(in);
    remove(out);
    rmdir(dir);
    return t_summary("test_transport_big");
}
