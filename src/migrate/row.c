/* SPDX-License-Identifier: MIT */
/* One row of an import: its values read and checked (the text rules, the card's check digit,
 * the phone in E.164, whole points, dates), then matched to a member (card, then phone, then
 * e-mail) or made into a new one, and its points posted against migration:BATCH. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ledger/ledger_internal.h"
#include "migrate/import_internal.h"

static int row_fail(struct patron__import_row *r, int field, const char *fmt, const char *v)
{
    r->bad_field = field;
    snprintf(r->why, sizeof r->why, fmt, v);
    return -1;
}

static int parse_points(const char *v, int64_t *out)
{
    char *end;
    long long n = strtoll(v, &end, 10);
    if (end == v || (v[0] != '-' && v[0] != '+' && (v[0] < '0' || v[0] > '9')))
        return -1;
    if (*end == '.' || *end == ',') /* Odoo writes points as floats: "120.0" is whole */
        for (end++; *end == '0'; end++)
            ;
    if (*end || n < -PATRON_ADJUST_POINTS_MAX || n > PATRON_ADJUST_POINTS_MAX)
        return -1;
    *out = n;
    return 0;
}

/* Days since 1970-01-01 of a valid civil date (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

/* YYYY-MM-DD (a time after it, as Odoo writes, is ignored) to its midnight UTC. */
static int parse_date(const char *v, int64_t *at)
{
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, m, d, n = 0;
    if (sscanf(v, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10 ||
        (v[10] && v[10] != ' ' && v[10] != 'T'))
        return -1;
    if (y < 1900 || y > 2100 || m < 1 || m > 12 || d < 1 || d > days[m - 1])
        return -1;
    if (at)
        *at = days_from_civil(y, m, d) * PATRON__DAY_SECONDS;
    return 0;
}

static int parse_consent(const char *v, int *out)
{
    static const char *const yes[] = {"1", "yes", "y", "true", "t"};
    static const char *const no[] = {"0", "no", "n", "false", "f"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcasecmp(v, yes[i]) == 0)
            return *out = 1, 0;
        if (strcasecmp(v, no[i]) == 0)
            return *out = 0, 0;
    }
    return -1;
}

static int read_text(struct patron__import_row *r, int f, const char *v, char *dst, size_t cap,
                     size_t min);

/* A date YYYY-MM-DD, or a time as patron_time_parse reads it (Square's RFC 3339). */
static int parse_when(const char *v, int64_t *at)
{
    return parse_date(v, at) == 0 || patron_time_parse(v, at) == 0 ? 0 : -1;
}

static int read_tier(struct patron__import_row *r, const struct patron__import_ctx *x,
                     const char *v)
{
    sqlite3_stmt *st =
        patron__stmt(x->s, "SELECT id, threshold, name FROM tiers WHERE name = ?1 COLLATE NOCASE");
    int rc;
    if (!st)
        return row_fail(r, PATRON__F_TIER, "%sthe tiers cannot be read", "");
    sqlite3_bind_text(st, 1, v, -1, SQLITE_TRANSIENT);
    if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        r->tier_id = sqlite3_column_int64(st, 0);
        r->tier_threshold = sqlite3_column_int64(st, 1);
        patron__copy(r->tier, sizeof r->tier, (const char *)sqlite3_column_text(st, 2));
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0
                            : row_fail(r, PATRON__F_TIER,
                                       "tier '%.40s' is not one of this program's tiers "
                                       "(patron program tiers)",
                                       v);
}

/* The fields an import keeps beside the member's own: reference, enrolment, tier, lifetime
 * points and the consent's date. */
static int read_kept(struct patron__import_row *r, const struct patron__import_ctx *x, int f,
                     const char *v)
{
    switch (f) {
    case PATRON__F_REF:
        return read_text(r, f, v, r->ref, sizeof r->ref, 1);
    case PATRON__F_JOINED:
        if (parse_when(v, &r->joined_at) != 0)
            return row_fail(r, f, "joined date '%.40s' is not a date YYYY-MM-DD", v);
        return r->joined_at <= x->now ? 0 : row_fail(r, f, "joined date %.40s is in the future", v);
    case PATRON__F_TIER:
        return read_tier(r, x, v);
    case PATRON__F_LIFETIME:
        r->has_lifetime = 1;
        return parse_points(v, &r->lifetime) == 0 && r->lifetime >= 0
                   ? 0
                   : row_fail(r, f, "'%.40s' is not a whole number of lifetime points", v);
    case PATRON__F_CONSENT_DATE:
        if (parse_when(v, &r->consent_at) != 0)
            return row_fail(r, f, "consent date '%.40s' is not a date YYYY-MM-DD", v);
        return r->consent_at <= x->now ? 0
                                       : row_fail(r, f, "consent date %.40s is in the future", v);
    default:
        return 0;
    }
}

static int read_text(struct patron__import_row *r, int f, const char *v, char *dst, size_t cap,
                     size_t min)
{
    if (patron_text_check(v, min, cap - 1, 0) != PATRON_TEXT_OK)
        return row_fail(r, f,
                        "'%.40s' breaks the text rules (UTF-8, no control characters, "
                        "within the length limit)",
                        v);
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

static int read_card(struct patron__import_row *r, const char *v)
{
    int err = patron_card_parse(v, r->card);
    if (err == PATRON_ECHECKDIGIT)
        return row_fail(r, PATRON__F_CARD, "card number %.40s has a wrong check digit", v);
    if (err != 0) { /* another program's number: the member gets a Patron card */
        r->card[0] = '\0';
        if (strlen(v) > PATRON__ALIAS_MAX)
            return row_fail(r, PATRON__F_CARD,
                            "card number %.40s is longer than 32 characters: it cannot be kept "
                            "as an alias that scans",
                            v);
        snprintf(r->foreign, sizeof r->foreign, "%s", v);
    }
    return 0;
}

static int read_value(struct patron__import_row *r, const struct patron__import_ctx *x, int f,
                      const char *v)
{
    switch (f) {
    case PATRON__F_CARD:
        return read_card(r, v);
    case PATRON__F_PHONE:
        if (patron_import_phone_e164(v, x->country_code, r->phone) != 0)
            return row_fail(r, f,
                            "phone '%.40s' cannot be written in E.164 (+ and 8-15 digits; "
                            "a national number needs a country code setting)",
                            v);
        return 0;
    case PATRON__F_EMAIL:
        if (read_text(r, f, v, r->email, sizeof r->email, 3) != 0)
            return -1;
        return strchr(v, '@') ? 0 : row_fail(r, f, "'%.40s' is not an e-mail address", v);
    case PATRON__F_NAME:
        return read_text(r, f, v, r->name, sizeof r->name, 1);
    case PATRON__F_BIRTHDAY:
        if (parse_date(v, NULL) != 0)
            return row_fail(r, f, "birthday '%.40s' is not a date YYYY-MM-DD", v);
        memcpy(r->birthday, v, 10);
        return 0;
    case PATRON__F_CONSENT:
        r->has_consent = 1;
        return parse_consent(v, &r->consent) == 0
                   ? 0
                   : row_fail(r, f, "consent '%.40s' is not yes/no, true/false or 1/0", v);
    case PATRON__F_POINTS:
        r->has_points = 1;
        return parse_points(v, &r->points) == 0
                   ? 0
                   : row_fail(r, f, "'%.40s' is not a whole number of points", v);
    case PATRON__F_EXPIRES:
        if (parse_date(v, &r->expires_at) != 0)
            return row_fail(r, f, "expiry '%.40s' is not a date YYYY-MM-DD", v);
        return r->expires_at > x->now ? 0 : row_fail(r, f, "expiry %.40s has already passed", v);
    default:
        return read_kept(r, x, f, v);
    }
}

int patron__import_read_row(const struct patron__import_ctx *x, const struct patron__csv *c,
                            struct patron__import_row *r)
{
    memset(r, 0, sizeof *r);
    r->bad_field = -1;
    for (size_t i = 0; i < c->count && i < x->columns; i++) {
        const char *v = c->fields[i];
        if (!*v || x->field_of[i] == PATRON__F_IGNORE)
            continue;
        if (read_value(r, x, x->field_of[i], v) != 0)
            return -1;
    }
    if (!r->card[0] && !r->phone[0] && !r->email[0] && !r->foreign[0])
        return row_fail(r, -1, "%sthe row has no card, phone or e-mail to find the member by", "");
    return 0;
}
