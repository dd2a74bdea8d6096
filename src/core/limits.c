/* SPDX-License-Identifier: MIT */
/* The one table of limits (include/patron/limits.h), the text rules every entry point applies
 * (UTF-8, no control characters, a length in bytes), the repair of bad text read back from a
 * store, and the strict parser of times given as input. */
#include <string.h>

#include "core/store_internal.h"
#include "patron/error.h"
#include "patron/limits.h"

const struct patron_limit patron_limits[PATRON_LIMIT_COUNT] = {
#define PATRON_XX(id, field, where, min, max, unit) {field, where, min, max, unit},
    PATRON_LIMIT_MAP(PATRON_XX)
#undef PATRON_XX
};

/* The length of the UTF-8 sequence at p (at most n bytes), or 0 when it is not valid; *cp gets
 * the code point. */
static size_t utf8_seq(const unsigned char *p, size_t n, uint32_t *cp)
{
    size_t len;
    uint32_t c, min;
    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }
    if (p[0] >= 0xC2 && p[0] <= 0xDF)
        len = 2, c = p[0] & 0x1F, min = 0x80;
    else if (p[0] >= 0xE0 && p[0] <= 0xEF)
        len = 3, c = p[0] & 0x0F, min = 0x800;
    else if (p[0] >= 0xF0 && p[0] <= 0xF4)
        len = 4, c = p[0] & 0x07, min = 0x10000;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (p[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return len;
}

static int is_control(uint32_t c)
{
    return c < 0x20 || (c >= 0x7F && c <= 0x9F);
}

enum patron_text_fault patron_text_check(const char *text, size_t min, size_t max, int flags)
{
    if (!text)
        return PATRON_TEXT_MISSING;
    size_t n = strlen(text);
    if (n < min)
        return PATRON_TEXT_SHORT;
    if (n > max)
        return PATRON_TEXT_LONG;
    const unsigned char *p = (const unsigned char *)text;
    for (size_t i = 0; i < n;) {
        uint32_t c;
        size_t len = utf8_seq(p + i, n - i, &c);
        if (len == 0)
            return PATRON_TEXT_ENCODING;
        if (is_control(c) || (c == ' ' && (flags & PATRON_TEXT_NO_SPACE)))
            return PATRON_TEXT_CONTROL;
        i += len;
    }
    return PATRON_TEXT_OK;
}

const char *patron_text_fault_str(enum patron_text_fault f)
{
    switch (f) {
    case PATRON_TEXT_OK:
        return "is valid";
    case PATRON_TEXT_MISSING:
        return "is missing";
    case PATRON_TEXT_SHORT:
        return "is too short";
    case PATRON_TEXT_LONG:
        return "is too long";
    case PATRON_TEXT_ENCODING:
        return "is not valid UTF-8";
    case PATRON_TEXT_CONTROL:
        return "holds a control character";
    }
    return "is not valid";
}

char *patron_text_repair(char *dst, size_t cap, const char *src)
{
    static const char replacement[] = "\xEF\xBF\xBD";
    const unsigned char *p = (const unsigned char *)(src ? src : "");
    size_t n = strlen((const char *)p), out = 0;
    for (size_t i = 0; i < n;) {
        uint32_t c;
        size_t len = utf8_seq(p + i, n - i, &c);
        const char *piece = len ? (const char *)p + i : replacement;
        size_t plen = len ? len : 3;
        if (len && is_control(c))
            piece = "?", plen = 1;
        if (out + plen >= cap)
            break;
        memcpy(dst + out, piece, plen);
        out += plen;
        i += len ? len : 1;
    }
    dst[out] = '\0';
    return dst;
}

/* Reads exactly `width` digits. */
static int digits(const char **p, int width, int *out)
{
    int v = 0;
    for (int i = 0; i < width; i++) {
        char ch = (*p)[i];
        if (ch < '0' || ch > '9')
            return -1;
        v = v * 10 + (ch - '0');
    }
    *p += width;
    *out = v;
    return 0;
}

static int expect(const char **p, char ch)
{
    return **p == ch ? (++*p, 0) : -1;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

int patron_time_parse(const char *text, int64_t *out)
{
    const char *p = text;
    int y, mo, d, h = 0, mi = 0, s = 0;
    if (!p || digits(&p, 4, &y) || expect(&p, '-') || digits(&p, 2, &mo) || expect(&p, '-') ||
        digits(&p, 2, &d))
        return PATRON_EINVAL;
    if (*p == 'T' &&
        (expect(&p, 'T') || digits(&p, 2, &h) || expect(&p, ':') || digits(&p, 2, &mi) ||
         expect(&p, ':') || digits(&p, 2, &s) || (*p == 'Z' && expect(&p, 'Z'))))
        return PATRON_EINVAL;
    if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 ||
        s > 59)
        return PATRON_EINVAL;
    int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
    if (t < PATRON_TIME_MIN || t > PATRON_TIME_MAX)
        return PATRON_EINVAL;
    *out = t;
    return 0;
}

int patron_time_parse_until(const char *text, int64_t *out)
{
    int64_t t;
    if (patron_time_parse(text, &t) != 0)
        return PATRON_EINVAL;
    if (strlen(text) == 10) /* a date alone: through that day, so up to the next midnight */
        t += PATRON__DAY_SECONDS;
    *out = t;
    return 0;
}

int patron__text_rule(patron_store *s, const char *what, const char *v, size_t min, size_t max,
                      int flags)
{
    enum patron_text_fault f = patron_text_check(v, min, max, flags);
    if (f == PATRON_TEXT_OK)
        return 0;
    return patron__fail(
        s, PATRON_EINVAL, "%s %s (%zu to %zu bytes of UTF-8 text without%s control characters)",
        what, patron_text_fault_str(f), min, max, flags & PATRON_TEXT_NO_SPACE ? " spaces or" : "");
}
