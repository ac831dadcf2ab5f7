/* schema_format.c - the "format" assertions of the JSON Schema validator:
 * date-time, date, time (RFC 3339), email (RFC 5321 addresses, quoted
 * local parts and address literals), uuid, ipv4, ipv6 (RFC 4291 text
 * forms) and hostname (RFC 1123, with Punycode labels decoded and checked
 * against IDNA2008's contextual rules and exceptions). */
#define _POSIX_C_SOURCE 200809L
#define PCRE2_CODE_UNIT_WIDTH 8

#include "oaibatch.h"
#include "core/schema_int.h"
#include "util/str.h"
#include <pcre2.h>
#include <stdint.h>
#include <string.h>

static int digits(const char *s, int n, int *val)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    *val = v;
    return 1;
}

static int days_in_month(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return d[m - 1];
}

static int fmt_date_n(const char *s, size_t len)
{
    int y, m, d;
    if (len != 10 || s[4] != '-' || s[7] != '-' || !digits(s, 4, &y) ||
        !digits(s + 5, 2, &m) || !digits(s + 8, 2, &d))
        return 0;
    return m >= 1 && m <= 12 && d >= 1 && d <= days_in_month(y, m);
}

static int fmt_time_n(const char *s, size_t len)
{
    int h, mi, se;
    if (len < 9 || s[2] != ':' || s[5] != ':' || !digits(s, 2, &h) ||
        !digits(s + 3, 2, &mi) || !digits(s + 6, 2, &se))
        return 0;
    if (h > 23 || mi > 59 || se > 60)
        return 0;
    size_t i = 8;
    if (i < len && s[i] == '.') {
        i++;
        size_t st = i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == st)
            return 0;
    }
    if (i >= len)
        return 0;
    int off = 0;
    if (s[i] == 'Z' || s[i] == 'z') {
        i++;
    } else if (s[i] == '+' || s[i] == '-') {
        int oh, om;
        if (len - i != 6 || s[i + 3] != ':' || !digits(s + i + 1, 2, &oh) ||
            !digits(s + i + 4, 2, &om) || oh > 23 || om > 59)
            return 0;
        off = (s[i] == '+' ? 1 : -1) * (oh * 60 + om);
        i += 6;
    } else {
        return 0;
    }
    if (i != len)
        return 0;
    if (se == 60) {
        int utc = ((h * 60 + mi - off) % 1440 + 1440) % 1440;
        if (utc != 23 * 60 + 59)
            return 0;
    }
    return 1;
}

static int fmt_date_time(const char *s, size_t len)
{
    return len > 11 && (s[10] == 'T' || s[10] == 't') && fmt_date_n(s, 10) &&
           fmt_time_n(s + 11, len - 11);
}

static int fmt_ipv4_n(const char *s, size_t len)
{
    int parts = 0;
    size_t i = 0;
    while (parts < 4) {
        size_t st = i;
        int v = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9' && i - st < 3) {
            v = v * 10 + (s[i] - '0');
            i++;
        }
        size_t n = i - st;
        if (n == 0 || (n > 1 && s[st] == '0') || v > 255)
            return 0;
        parts++;
        if (parts < 4) {
            if (i >= len || s[i] != '.')
                return 0;
            i++;
        }
    }
    return i == len;
}

static int fmt_ipv6_n(const char *s, size_t len)
{
    size_t i = 0;
    int groups = 0, dc = 0;
    if (len >= 2 && s[0] == ':' && s[1] == ':') {
        dc = 1;
        i = 2;
    } else if (len && s[0] == ':') {
        return 0;
    }
    while (i < len) {
        /* an IPv4 tail? */
        size_t seg = i;
        while (seg < len && s[seg] != ':' && s[seg] != '.')
            seg++;
        if (seg < len && s[seg] == '.') {
            if (!fmt_ipv4_n(s + i, len - i))
                return 0;
            groups += 2;
            i = len;
            break;
        }
        size_t st = i;
        while (i < len && oab__hexval((unsigned char)s[i]) >= 0 && i - st < 5)
            i++;
        if (i == st || i - st > 4)
            return 0;
        groups++;
        if (i == len)
            break;
        if (s[i] != ':')
            return 0;
        if (i + 1 < len && s[i + 1] == ':') {
            if (dc)
                return 0;
            dc = 1;
            i += 2;
        } else {
            i++;
            if (i == len)
                return 0;
        }
    }
    return dc ? groups <= 7 : groups == 8;
}

static int fmt_uuid(const char *s, size_t len)
{
    if (len != 36)
        return 0;
    for (size_t i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return 0;
        } else if (oab__hexval((unsigned char)s[i]) < 0) {
            return 0;
        }
    }
    return 1;
}

/* RFC 3492 Punycode decoding; returns the number of code points or -1. */
static int punycode_decode(const char *in, size_t len, uint32_t *out,
                           int max_out)
{
    const uint32_t base = 36, tmin = 1, tmax = 26, skew = 38, damp = 700;
    uint32_t n = 128, bias = 72, i = 0;
    int outlen = 0;
    size_t b = 0;
    for (size_t j = 0; j < len; j++)
        if (in[j] == '-')
            b = j;
    if (b > 0) {
        for (size_t j = 0; j < b; j++) {
            if ((unsigned char)in[j] >= 0x80 || outlen >= max_out)
                return -1;
            out[outlen++] = (unsigned char)in[j];
        }
    }
    size_t pos = b > 0 ? b + 1 : 0;
    while (pos < len) {
        uint32_t oldi = i, w = 1;
        for (uint32_t k = base;; k += base) {
            if (pos >= len)
                return -1;
            char c = in[pos++];
            uint32_t digit;
            if (c >= '0' && c <= '9')
                digit = (uint32_t)(c - '0' + 26);
            else if (c >= 'a' && c <= 'z')
                digit = (uint32_t)(c - 'a');
            else if (c >= 'A' && c <= 'Z')
                digit = (uint32_t)(c - 'A');
            else
                return -1;
            if (digit > (UINT32_MAX - i) / w)
                return -1;
            i += digit * w;
            uint32_t t = k <= bias ? tmin : k >= bias + tmax ? tmax : k - bias;
            if (digit < t)
                break;
            if (w > UINT32_MAX / (base - t))
                return -1;
            w *= base - t;
        }
        /* adapt */
        uint32_t delta = oldi == 0 ? (i - oldi) / damp : (i - oldi) / 2;
        delta += delta / (uint32_t)(outlen + 1);
        uint32_t k = 0;
        while (delta > ((base - tmin) * tmax) / 2) {
            delta /= base - tmin;
            k += base;
        }
        bias = k + (base - tmin + 1) * delta / (delta + skew);
        if (i / (uint32_t)(outlen + 1) > 0x10FFFF - n)
            return -1;
        n += i / (uint32_t)(outlen + 1);
        i %= (uint32_t)(outlen + 1);
        if (outlen >= max_out || n > 0x10FFFF || (n >= 0xD800 && n <= 0xDFFF))
            return -1;
        memmove(out + i + 1, out + i, (size_t)(outlen - (int)i) * sizeof *out);
        out[i++] = n;
        outlen++;
    }
    return outlen;
}

static int is_virama(uint32_t c)
{
    static const uint32_t v[] = {
        0x094D, 0x09CD, 0x0A4D, 0x0ACD, 0x0B4D, 0x0BCD, 0x0C4D, 0x0CCD,
        0x0D3B, 0x0D3C, 0x0D4D, 0x0DCA, 0x0E3A, 0x0EBA, 0x0F84, 0x1039,
        0x103A, 0x1714, 0x1734, 0x17D2, 0x1A60, 0x1B44, 0x1BAA, 0x1BAB,
        0x1BF2, 0x1BF3, 0x2D7F, 0xA806, 0xA8C4, 0xA953, 0xA9C0, 0xAAF6,
        0xABED, 0x10A3F, 0x11046, 0x1107F, 0x110B9, 0x11133, 0x11134,
        0x111C0, 0x11235, 0x112EA, 0x1134D, 0x11442, 0x114C2, 0x115BF,
        0x1163F, 0x116B6, 0x1172B, 0x11839, 0x119E0, 0x11A34, 0x11A47,
        0x11A99, 0x11C3F, 0x11D44, 0x11D45, 0x11D97};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        if (v[i] == c)
            return 1;
    return 0;
}

static int is_combining_mark(uint32_t c)
{
    /* General category M, via PCRE2's Unicode tables */
    if (c < 0x80)
        return 0;
    char u[4];
    size_t n = oab__utf8_encode(c, u);
    int ec;
    PCRE2_SIZE off;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR) "^\\p{M}", PCRE2_ZERO_TERMINATED,
                                     PCRE2_UTF, &ec, &off, NULL);
    if (!code)
        return 0;
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(code, NULL);
    int r = md ? pcre2_match(code, (PCRE2_SPTR)u, n, 0, 0, md, NULL) : -1;
    pcre2_match_data_free(md);
    pcre2_code_free(code);
    return r >= 0;
}

/* IDNA2008 checks on a decoded label (RFC 5891/5892, the contextual
 * rules and exceptions; not the full derived property table). */
static int idna_label_ok(const uint32_t *u, int n)
{
    if (n < 1)
        return 0;
    if (n >= 4 && u[2] == '-' && u[3] == '-')
        return 0;
    if (u[0] == '-' || u[n - 1] == '-')
        return 0;
    if (is_combining_mark(u[0]))
        return 0;
    int has_arabic_indic = 0, has_ext_arabic_indic = 0, has_kana_han = 0,
        has_katakana_dot = 0, non_ascii = 0;
    for (int i = 0; i < n; i++) {
        uint32_t c = u[i];
        if (c >= 0x80)
            non_ascii = 1;
        if ((c >= 'A' && c <= 'Z') || c == '.')
            return 0;
        if (c < 0x80 && !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                          c == '-'))
            return 0;
        /* DISALLOWED exceptions (RFC 5892 2.6) */
        if (c == 0x0640 || c == 0x07FA || c == 0x302E || c == 0x302F ||
            (c >= 0x3031 && c <= 0x3035) || c == 0x303B)
            return 0;
        if (c == 0x00B7) { /* MIDDLE DOT: between two 'l' */
            if (i == 0 || i == n - 1 || u[i - 1] != 'l' || u[i + 1] != 'l')
                return 0;
        } else if (c == 0x0375) { /* KERAIA: followed by Greek */
            if (i == n - 1 ||
                !((u[i + 1] >= 0x0370 && u[i + 1] <= 0x03FF) ||
                  (u[i + 1] >= 0x1F00 && u[i + 1] <= 0x1FFF)))
                return 0;
        } else if (c == 0x05F3 || c == 0x05F4) { /* GERESH: after Hebrew */
            if (i == 0 || !(u[i - 1] >= 0x0590 && u[i - 1] <= 0x05FF))
                return 0;
        } else if (c == 0x200D) { /* ZWJ: after a virama */
            if (i == 0 || !is_virama(u[i - 1]))
                return 0;
        } else if (c == 0x200C) { /* ZWNJ: after a virama, or joining */
            if (i == 0 || (!is_virama(u[i - 1]) &&
                           !(u[i - 1] >= 0x0620 && u[i - 1] <= 0x06FF &&
                             i + 1 < n && u[i + 1] >= 0x0620 &&
                             u[i + 1] <= 0x06FF)))
                return 0;
        } else if (c == 0x30FB) {
            has_katakana_dot = 1;
        }
        if (c >= 0x0660 && c <= 0x0669)
            has_arabic_indic = 1;
        if (c >= 0x06F0 && c <= 0x06F9)
            has_ext_arabic_indic = 1;
        if ((c >= 0x3040 && c <= 0x309F) || (c >= 0x30A0 && c <= 0x30FF && c != 0x30FB) ||
            (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
            (c >= 0x20000 && c <= 0x2FFFF))
            has_kana_han = 1;
    }
    if (has_arabic_indic && has_ext_arabic_indic)
        return 0;
    if (has_katakana_dot && !has_kana_han)
        return 0;
    return non_ascii;
}

static int fmt_hostname_n(const char *s, size_t len)
{
    if (len < 1 || len > 253)
        return 0;
    size_t i = 0;
    while (i <= len) {
        size_t st = i;
        while (i < len && s[i] != '.')
            i++;
        size_t n = i - st;
        if (n < 1 || n > 63)
            return 0;
        const char *l = s + st;
        for (size_t k = 0; k < n; k++) {
            char c = l[k];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '-'))
                return 0;
        }
        if (l[0] == '-' || l[n - 1] == '-')
            return 0;
        if (n >= 4 && l[2] == '-' && l[3] == '-') {
            if (!((l[0] == 'x' || l[0] == 'X') && (l[1] == 'n' || l[1] == 'N')))
                return 0;
            uint32_t u[64];
            int un = punycode_decode(l + 4, n - 4, u, 64);
            if (un < 0 || !idna_label_ok(u, un))
                return 0;
        }
        if (i == len)
            break;
        i++; /* the dot */
        if (i == len)
            return 0; /* trailing dot */
    }
    return 1;
}

static int fmt_email(const char *s, size_t len)
{
    size_t i = 0;
    if (len && s[0] == '"') {
        i = 1;
        while (i < len && s[i] != '"') {
            if (s[i] == '\\')
                i++;
            else if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7F)
                return 0;
            i++;
        }
        if (i >= len)
            return 0;
        i++;
        if (i >= len || s[i] != '@')
            return 0;
    } else {
        static const char atext[] = "!#$%&'*+-/=?^_`{|}~";
        while (i < len && s[i] != '@') {
            char c = s[i];
            if (c == '.') {
                if (i == 0 || s[i - 1] == '.' || i + 1 >= len || s[i + 1] == '@')
                    return 0;
            } else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (c >= '0' && c <= '9') || (c && strchr(atext, c)))) {
                return 0;
            }
            i++;
        }
        if (i == 0 || i >= len)
            return 0;
    }
    const char *d = s + i + 1;
    size_t dl = len - i - 1;
    if (dl >= 2 && d[0] == '[') {
        if (d[dl - 1] != ']')
            return 0;
        if (dl > 7 && strncmp(d + 1, "IPv6:", 5) == 0)
            return fmt_ipv6_n(d + 6, dl - 7);
        return fmt_ipv4_n(d + 1, dl - 2);
    }
    return fmt_hostname_n(d, dl);
}

/* duration (RFC 3339 Appendix A, ISO 8601): "P" then weeks ("P3W"), or
 * date units in the order Y M D with none skipped between the first and
 * the last given, then an optional "T" with H M S the same way; every
 * unit has at least one digit and "T" at least one unit. */
static int dur_units(const char *s, size_t len, size_t *i, const char *units)
{
    size_t n = strlen(units);
    size_t next = 0; /* index of the unit that may come next */
    int seen = 0;
    while (*i < len && s[*i] >= '0' && s[*i] <= '9') {
        size_t d = *i;
        while (*i < len && s[*i] >= '0' && s[*i] <= '9')
            (*i)++;
        if (*i >= len || *i == d)
            return -1;
        const char *u = memchr(units, s[*i], n);
        if (!u || (size_t)(u - units) < next)
            return -1;
        size_t k = (size_t)(u - units);
        if (seen && k != next) /* a unit between was left out */
            return -1;
        next = k + 1;
        seen = 1;
        (*i)++;
    }
    return seen;
}

static int fmt_duration(const char *s, size_t len)
{
    if (len < 3 || s[0] != 'P')
        return 0;
    size_t i = 1;
    /* weeks stand alone */
    size_t w = 1;
    while (w < len && s[w] >= '0' && s[w] <= '9')
        w++;
    if (w > 1 && w + 1 == len && s[w] == 'W')
        return 1;
    int date = dur_units(s, len, &i, "YMD");
    if (date < 0)
        return 0;
    if (i == len)
        return date == 1;
    if (s[i] != 'T')
        return 0;
    i++;
    int time = dur_units(s, len, &i, "HMS");
    return time == 1 && i == len;
}

int oab__schema_check_format(const char *fmt, const char *s, size_t len)
{
    if (strcmp(fmt, "date-time") == 0)
        return fmt_date_time(s, len);
    if (strcmp(fmt, "date") == 0)
        return fmt_date_n(s, len);
    if (strcmp(fmt, "time") == 0)
        return fmt_time_n(s, len);
    if (strcmp(fmt, "email") == 0)
        return fmt_email(s, len);
    if (strcmp(fmt, "uuid") == 0)
        return fmt_uuid(s, len);
    if (strcmp(fmt, "duration") == 0)
        return fmt_duration(s, len);
    if (strcmp(fmt, "ipv4") == 0)
        return fmt_ipv4_n(s, len);
    if (strcmp(fmt, "ipv6") == 0)
        return fmt_ipv6_n(s, len);
    if (strcmp(fmt, "hostname") == 0)
        return fmt_hostname_n(s, len);
    return -1;
}

