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
/* The same on CLOCK_MONOTONIC, for a condition variable whose attribute
 * set that clock (pthread_condattr_setclock): a wall clock stepped back
 * or forward does not stretch or cut the wait. */
struct timespec oab__deadline_in_mono(double seconds);

#endif
