/* util/compat.h - compiler attributes used by the internal headers. */
#ifndef OAB_UTIL_COMPAT_H
#define OAB_UTIL_COMPAT_H

#if defined(__GNUC__)
#define OAB__PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define OAB__PRINTF(a, b)
#endif

#endif
