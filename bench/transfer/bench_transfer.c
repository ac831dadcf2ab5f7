/* bench_transfer.c - one upload or one download through the library, and
 * the process's peak RSS. Usage:
 *   bench_transfer upload BASE_URL PATH        -> "SECONDS PEAK_RSS_KB FILE_ID"
 *   bench_transfer download BASE_URL ID OUT    -> "SECONDS PEAK_RSS_KB"
 */
#include "oaibatch.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long peak_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: bench_transfer upload|download BASE ...\n");
        return 2;
    }
    oab_client_options o = OAB_CLIENT_OPTIONS_INIT;
    o.base_url = argv[2];
    o.api_key = "sk-bench";
    oab_client *c = NULL;
    if (oab_client_new(&c, &o) != OAB_OK)
        return 1;
    double t0 = now();
    int rc = 0;
    if (strcmp(argv[1], "upload") == 0) {
        oab_file *f = NULL;
        if (oab_file_upload_path(c, &f, argv[3], "batch", 0) != OAB_OK) {
            fprintf(stderr, "upload: %s\n", oab_client_errmsg(c));
            rc = 1;
        } else {
            printf("%.3f %ld %s\n", now() - t0, peak_kb(), f->id);
        }
        oab_file_free(f);
    } else if (argc >= 5) {
        if (oab_file_download_path(c, argv[3], argv[4]) != OAB_OK) {
            fprintf(stderr, "download: %s\n", oab_client_errmsg(c));
            rc = 1;
        } else {
            printf("%.3f %ld\n", now() - t0, peak_kb());
        }
    } else {
        rc = 2;
    }
    oab_client_free(c);
    return rc;
}
