/* SPDX-License-Identifier: MIT */
/* Personalisation (see include/patron/personal.h): stated preferences, favourite categories from
 * the last year's purchases, and the receipt footer built from the scan's facts and offers, so
 * the receipt says nothing the cashier's screen would not. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "member/member_internal.h"
#include "patron/personal.h"
#include "patron/print.h"
#include "patron/program.h"
#include "patron/scan.h"

static int count_preferences(patron_store *s, int64_t member_id, int64_t *n)
{
    sqlite3_stmt *st = patron__stmt(s, "SELECT COUNT(*) FROM preferences WHERE member_id = ?1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, member_id);
    int rc = sqlite3_step(st);
    *n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : patron__db_err(s, rc);
}

int patron_preference_set(patron_store *s, const char *card, const char *category, int on)
{
    static const char *const add = "INSERT OR IGNORE INTO preferences(member_id, category,"
                                   " stated_at) VALUES (?1, ?2, ?3)";
    static const char *const drop = "DELETE FROM preferences WHERE member_id = ?1 AND"
                                    " category = ?2 AND ?3 IS NOT NULL";
    struct patron__member_row m;
    int64_t n = 0;
    int err;
    if (!patron__printable(category, 64) || strchr(category, ' '))
        return patron__fail(s, PATRON_EINVAL, "a category is 1-63 bytes, no spaces");
    if ((err = patron__member_for_card(s, card, 1, &m)) != 0 ||
        (on && (err = count_preferences(s, m.member_id, &n)) != 0))
        return err;
    if (on && n >= PATRON_PREFERENCES_MAX)
        return patron__fail(s, PATRON_ELIMIT, "a member keeps at most %d preferences",
                            PATRON_PREFERENCES_MAX);
    sqlite3_stmt *st = patron__stmt(s, on ? add : drop);
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, m.member_id);
    sqlite3_bind_text(st, 2, category, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, patron_store_now(s));
    return patron__step_done(s, st);
}

static int stated(patron_store *s, int64_t member_id, struct patron_favourite *out, size_t cap,
                  size_t *n)
{
    sqlite3_stmt *st =
        patron__stmt(s, "SELECT category FROM preferences WHERE member_id = ?1 ORDER BY category");
    int rc;
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, member_id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < cap) {
        memset(&out[*n], 0, sizeof out[*n]);
        patron__copy(out[*n].category, sizeof out[*n].category,
                     (const char *)sqlite3_column_text(st, 0));
        out[(*n)++].stated = 1;
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : patron__db_err(s, rc);
}

/* Fills spend and visits of stated ones, and appends bought ones not stated. */
static int bought(patron_store *s, int64_t member_id, struct patron_favourite *out, size_t cap,
                  size_t *n)
{
    static const char *const sql =
        "SELECT l.category, SUM(l.qty * l.unit_minor), COUNT(DISTINCT s.id) FROM sales s"
        " JOIN sale_lines l ON l.sale_id = s.id WHERE s.member_id = ?1 AND s.created_at >= ?2"
        " GROUP BY l.category ORDER BY 2 DESC, 1";
    sqlite3_stmt *st = patron__stmt(s, sql);
    size_t n_stated = *n;
    int rc;
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, member_id);
    sqlite3_bind_int64(st, 2, patron_store_now(s) - PATRON__YEAR_SECONDS);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *category = (const char *)sqlite3_column_text(st, 0);
        size_t i = 0;
        while (i < n_stated && strcmp(out[i].category, category) != 0)
            i++;
        if (i == n_stated && *n == cap)
            continue;
        if (i == n_stated) {
            i = (*n)++;
            memset(&out[i], 0, sizeof out[i]);
            patron__copy(out[i].category, sizeof out[i].category, category);
        }
        out[i].spent_minor = sqlite3_column_int64(st, 1);
        out[i].visits = sqlite3_column_int64(st, 2);
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : patron__db_err(s, rc);
}

int patron_member_favourites(patron_store *s, const char *card, struct patron_favourite *out,
                             size_t cap, size_t *count)
{
    struct patron__member_row m;
    size_t n = 0;
    int err = patron__member_for_card(s, card, 0, &m);
    if (err != 0 || (err = stated(s, m.member_id, out, cap, &n)) != 0 ||
        (err = bought(s, m.member_id, out, cap, &n)) != 0)
        return err;
    *count = n;
    return 0;
}

static int favoured(const struct patron_offer *o, const struct patron_favourite *fav, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(o->basket_category, fav[i].category) == 0 ||
            strcmp(o->category, fav[i].category) == 0)
            return 1;
    return 0;
}

/* The scan's offers are best first already; among equal values a favourite's offer wins. */
static int next_offer(patron_store *s, const char *card, const struct patron_scan_result *r,
                      struct patron_footer *f)
{
    struct patron_favourite fav[8];
    struct patron_offer o;
    size_t n_fav = 0, pick = 0;
    int err;
    if (r->n_offers == 0)
        return 0;
    if ((err = patron_member_favourites(s, card, fav, 8, &n_fav)) != 0)
        return err;
    for (size_t i = 0; i < r->n_offers && r->offers[i].points == r->offers[0].points; i++) {
        if ((err = patron_offer_get(s, r->offers[i].offer_id, &o)) != 0)
            return err;
        if (favoured(&o, fav, n_fav)) {
            pick = i;
            break;
        }
    }
    f->next_offer = r->offers[pick];
    f->has_next_offer = 1;
    return 0;
}

static void add_line(struct patron_footer *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Through a local buffer: the arguments may live in *f too. */
static void add_line(struct patron_footer *f, const char *fmt, ...)
{
    char line[PATRON_FOOTER_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (f->n_lines < PATRON_FOOTER_LINES)
        memcpy(f->lines[f->n_lines++], line, sizeof line);
}

static void footer_lines(struct patron_footer *f)
{
    char date[16];
    time_t t = (time_t)f->expiring_at;
    struct tm tm;
    add_line(f, "Thank you, %.120s! You have %lld points.", f->name, (long long)f->points);
    if (f->next_tier[0])
        add_line(f, "%lld points to %.60s.", (long long)f->points_to_next_tier, f->next_tier);
    if (f->expiring_points > 0) {
        gmtime_r(&t, &tm);
        strftime(date, sizeof date, "%Y-%m-%d", &tm);
        add_line(f, "%lld points expire on %s.", (long long)f->expiring_points, date);
    }
    if (f->has_next_offer)
        add_line(f, "Next time: %.100s (%.80s).", f->next_offer.name, f->next_offer.why);
}

int patron_receipt_footer(patron_store *s, const char *card, struct patron_footer *out)
{
    struct patron_scan_result r;
    struct patron_footer f = {0};
    int err = patron_scan(s, card, &r);
    if (err != 0 || (err = next_offer(s, card, &r, &f)) != 0)
        return err;
    patron__copy(f.name, sizeof f.name, r.member.name);
    f.points = r.member.points;
    patron__copy(f.next_tier, sizeof f.next_tier, r.next_tier);
    f.points_to_next_tier = r.points_to_next_tier;
    f.expiring_points = r.expiring_points;
    f.expiring_at = r.expiring_at;
    footer_lines(&f);
    *out = f;
    return 0;
}

#define FOOTER_VALUES 9

/* The footer's values for receipts/receipt-footer.receipt. A line with nothing to say gets
 * empty values and is left out: the tier lines in a store without tiers (only the base one),
 * the expiry line when no points expire within the notice period. */
static void footer_values(const struct patron_footer *f, const char *tier, int has_tiers,
                          int64_t earned, int64_t horizon, char (*v)[PATRON_FOOTER_LINE_MAX])
{
    time_t t = (time_t)(f->expiring_at ? f->expiring_at : horizon);
    struct tm tm;
    memset(v, 0, FOOTER_VALUES * sizeof *v);
    snprintf(v[0], PATRON_FOOTER_LINE_MAX, "+%lld", (long long)earned);
    snprintf(v[1], PATRON_FOOTER_LINE_MAX, "%lld", (long long)f->points);
    if (has_tiers && f->next_tier[0])
        snprintf(v[2], PATRON_FOOTER_LINE_MAX, "%lld points to %.60s",
                 (long long)f->points_to_next_tier, f->next_tier);
    else if (has_tiers)
        snprintf(v[2], PATRON_FOOTER_LINE_MAX, "Top tier: %.60s", tier);
    gmtime_r(&t, &tm);
    strftime(v[4], PATRON_FOOTER_LINE_MAX, "%Y-%m-%d", &tm);
    if (f->expiring_points > 0) {
        snprintf(v[3], PATRON_FOOTER_LINE_MAX, "%lld", (long long)f->expiring_points);
        snprintf(v[7], PATRON_FOOTER_LINE_MAX, "Expiring by %s", v[4]);
    }
    if (f->has_next_offer)
        snprintf(v[5], PATRON_FOOTER_LINE_MAX, "Next time: %.100s", f->next_offer.name);
    if (has_tiers) {
        snprintf(v[6], PATRON_FOOTER_LINE_MAX, "Tier");
        snprintf(v[8], PATRON_FOOTER_LINE_MAX, "%.60s", tier);
    }
}

int patron_receipt_footer_enqueue(patron_store *s, const char *card, int64_t points_earned,
                                  int64_t *job_id)
{
    struct patron_footer f;
    struct patron_member m;
    struct patron_program p;
    char v[FOOTER_VALUES][PATRON_FOOTER_LINE_MAX];
    size_t tiers = 0;
    int err = patron_receipt_footer(s, card, &f);
    if (err != 0 || (err = patron_member_by_card(s, card, &m)) != 0 ||
        (err = patron_program_get(s, &p)) != 0 || (err = patron_tier_list(s, NULL, 0, &tiers)) != 0)
        return err;
    footer_values(&f, m.tier, tiers > 1, points_earned,
                  patron_store_now(s) + p.expiry_notice_days * PATRON__DAY_SECONDS, v);
    struct patron_receipt_var vars[] = {
        {"member.name", f.name},       {"points.earned", v[0]}, {"points.balance", v[1]},
        {"tier.name", v[8]},           {"tier.progress", v[2]}, {"points.expiring", v[3]},
        {"points.expiry_date", v[4]},  {"offer.next", v[5]},    {"tier.label", v[6]},
        {"points.expiry_label", v[7]},
    };
    return patron_print_enqueue(s, "receipt-footer", vars, sizeof vars / sizeof vars[0], job_id);
}
