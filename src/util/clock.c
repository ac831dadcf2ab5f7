/* clock.c - monotonic and wall clocks, sleeping (internal). */
#define _POSIX_C_SOURCE 200809L

#include "oaibatch.h"
#include "util/clock.h"
#include <errno.h>
#include <time.h>

double oab__now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

long long oab__unix_now(void)
{
    return (long long)time(NULL);
}

static struct timespec deadline_on(clockid_t clock, double seconds)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    long long ns = (long long)ts.tv_nsec + (long long)(seconds * 1e9);
    ts.tv_sec += (time_t)(ns / 1000000000LL);
    ts.tv_nsec = (long)(ns % 1000000000LL);
    return ts;
}

struct timespec oab__deadline_in(double seconds)
{
    return deadline_on(CLOCK_REALTIME, seconds);
}

struct timespec oab__deadline_in_mono(double seconds)
{
    return deadline_on(CLOCK_MONOTONIC, seconds);
}

void oab__sleep(double seconds)
{
    if (seconds <= 0)
        return;
    struct timespec ts;
    ts.tv_sec = (time_t)seconds;
    ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}
