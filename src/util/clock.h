/* util/clock.h - clocks and sleeping.
 * Internal: util layer, no API knowledge. */
#ifndef OAB_UTIL_CLOCK_H
#define OAB_UTIL_CLOCK_H

#include <time.h>

/* ---- time ---- */
double oab__now(void);                 /* monotonic seconds */
long long oab__unix_now(void);         /* wall clock, seconds */
void oab__sleep(double seconds);
/* The wall clock `seconds` from now, as pthread_cond_timedwait's
 * deadline (a condition variable's default clock is CLOCK_REALTIME). */
struct timespec oab__deadline_in(double seconds);

#endif
