/* util/clock.h - clocks and sleeping.
 * Internal: util layer, no API knowledge. */
#ifndef OAB_UTIL_CLOCK_H
#define OAB_UTIL_CLOCK_H

/* ---- time ---- */
double oab__now(void);                 /* monotonic seconds */
long long oab__unix_now(void);         /* wall clock, seconds */
void oab__sleep(double seconds);

#endif
