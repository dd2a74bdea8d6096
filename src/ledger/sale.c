/* SPDX-License-Identifier: MIT */
/* A sale at the ledger's level: validate, hash the request for idempotency, find the member,
 * apply the earning rule stated in include/patron/ledger.h (here only), and write the sale (its
 * lines in its row) and the earn entry. The offers and the referral bonus come on top in the
 * checkout (checkout.c), which calls down into this file and never the other way. */
#include <stdio.h>
#include <string.h>

#include "core/outbox_internal.h"
#include "ledger/ledger_internal.h"
#include "ledger/sale_internal.h"

/* A line's text field (its SKU or category): the field is named, with the line's number, only
 * when it breaks the rule, so a valid line costs no formatting. */
static int line_text_rule(patron_store *s, size_t i, const char *field, const char *v)
{
    char what[48];
    if (patron_text_check(v, 1, PATRON_TOKEN_MAX, PATRON_TEXT_NO_SPACE) == PATRON_TEXT_OK)
        return 0;
    snprintf(what, sizeof what, "line %zu's %s", i + 1, field);
    return patron__text_rule(s, what, v, 1, PATRON_TOKEN_MAX, PATRON_TEXT_NO_SPACE);
}

static int validate_lines(patron_store *s, const struct patron_sale *in)
{
    int err;
    if (in->n_lines > PATRON_LINES_MAX || (in->n_lines && !in->lines))
        return patron__fail(s, PATRON_EINVAL, "a sale has at most %d lines", PATRON_LINES_MAX);
    for (size_t i = 0; i < in->n_lines; i++) {
        const struct patron_sale_line *l = &in->lines[i];
        if ((err = line_text_rule(s, i, "SKU", l->sku)) != 0 ||
            (err = line_text_rule(s, i, "category", l->category)) != 0)
            return err;
        if (l->qty < 1 || l->qty > PATRON_QTY_MAX || l->unit_minor < 0 ||
            l->unit_minor > PATRON_UNIT_PRICE_MAX)
            return patron__fail(s, PATRON_EINVAL,
                                "line %zu: quantity 1-%d and unit price 0-%lld minor units", i + 1,
                                PATRON_QTY_MAX, (long long)PATRON_UNIT_PRICE_MAX);
    }
    return 0;
}

/* Checks the sale as given: a sale without lines is checked as such, before it is booked as one
 * "general" line of its total. */
int patron__sale_validate(patron_store *s, const struct patron_sale *in, const char *currency)
{
    int err =
        patron__text_rule(s, "the sale's ref", in->ref, 1, PATRON_REF_MAX, PATRON_TEXT_NO_SPACE);
    if (err != 0)
        return err;
    if (in->total_minor < 0 || in->total_minor > PATRON_TOTAL_MAX)
        return patron__fail(s, PATRON_EINVAL, "the total must be 0-%lld minor units",
                            (long long)PATRON_TOTAL_MAX);
    if (in->currency && strcmp(in->currency, currency) != 0)
        return patron__fail(s, PATRON_EINVAL, "this program counts in %s, not %.8s", currency,
                            in->currency);
    return validate_lines(s, in);
}

void patron__sale_hash(struct patron__idem *h, const struct patron_sale *in)
{
    patron__idem_add_str(h, in->card);
    patron__idem_add_str(h, in->ref);
    patron__idem_add_int(h, in->total_minor);
    patron__idem_add_int(h, (int64_t)in->n_lines);
    for (size_t i = 0; i < in->n_lines; i++) {
        patron__idem_add_str(h, in->lines[i].sku);
        patron__idem_add_str(h, in->lines[i].category);
        patron__idem_add_int(h, in->lines[i].qty);
        patron__idem_add_int(h, in->lines[i].unit_minor);
    }
}

static int64_t earn_points(const struct patron_program *p, int64_t weight, int64_t paid,
                           int64_t lines_minor, int64_t tier_permille)
{
    if (lines_minor <= 0 || weight <= 0 || paid <= 0)
        return 0;
    if (paid > lines_minor)
        paid = lines_minor; /* paying more than the lines (tips, rounding) earns nothing extra */
    __int128 num = (__int128)weight * paid * tier_permille * p->earn_points;
    __int128 den = (__int128)lines_minor * p->earn_unit_minor * 1000 * 1000;
    return (int64_t)(num / den);
}

/* A ref is a sale's identity: recorded once, a new request naming it (under another key) is
 * refused with the first sale named. Asked only when the sale's insert hit the unique ref, so a
 * sale pays for no look-up of its own. */
static int refuse_known_ref(patron_store *s, const char *ref)
{
    sqlite3_stmt *st = patron__stmt(s, "SELECT id FROM sales WHERE store_id = ?1 AND ref = ?2");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int(st, 1, s->store_id);
    sqlite3_bind_text(st, 2, ref, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    int64_t first = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return patron__fail(s, PATRON_EDUPLICATE, "sale ref %.63s was already recorded (sale %lld)",
                            ref, (long long)first);
    return rc == SQLITE_DONE ? 0 : patron__db_err(s, rc);
}

/* The sale's lines as its row keeps them and its outbox payload carries them: a compact JSON
 * array of [line_no, sku, category, qty, unit_minor, weight_per_unit], in line order. */
static void lines_json(struct patron__jw *w, const struct patron_sale *in, const int64_t *weights)
{
    patron__jw_init(w);
    patron__jw_raw(w, "[");
    for (size_t i = 0; i < in->n_lines; i++) {
        if (i)
            patron__jw_raw(w, ",");
        patron__jw_raw(w, "[");
        patron__jw_int(w, (int64_t)i + 1);
        patron__jw_raw(w, ",");
        patron__jw_str(w, in->lines[i].sku);
        patron__jw_raw(w, ",");
        patron__jw_str(w, in->lines[i].category);
        patron__jw_raw(w, ",");
        patron__jw_int(w, in->lines[i].qty);
        patron__jw_raw(w, ",");
        patron__jw_int(w, in->lines[i].unit_minor);
        patron__jw_raw(w, ",");
        patron__jw_int(w, weights[i]);
        patron__jw_raw(w, "]");
    }
    patron__jw_raw(w, "]");
}

/* The sale's categories, each once in the order of its first line, as a JSON array of strings. */
static void categories_json(struct patron__jw *w, const struct patron_sale *in)
{
    patron__jw_init(w);
    patron__jw_raw(w, "[");
    for (size_t i = 0, n = 0; i < in->n_lines; i++) {
        size_t j = 0;
        while (j < i && strcmp(in->lines[j].category, in->lines[i].category) != 0)
            j++;
        if (j < i)
            continue;
        if (n++)
            patron__jw_raw(w, ",");
        patron__jw_str(w, in->lines[i].category);
    }
    patron__jw_raw(w, "]");
}

static int insert_sale(patron_store *s, const struct patron_sale *in, const char *currency,
                       const struct patron__member_row *m, const struct patron__earning *e,
                       int64_t now, const struct patron__jw *lines,
                       const struct patron__jw *categories, int64_t *sale_id)
{
    static const char *const sql =
        "INSERT INTO sales(store_id, ref, member_id, card, total_minor, currency, lines_minor,"
        " weight_total, points_earned, tier_multiplier_permille, balance_after, created_at, lines,"
        " categories) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";
    sqlite3_stmt *st = patron__stmt(s, sql);
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int(st, 1, s->store_id);
    sqlite3_bind_text(st, 2, in->ref, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, m->member_id);
    sqlite3_bind_text(st, 4, in->card, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, in->total_minor);
    sqlite3_bind_text(st, 6, currency, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, e->lines_minor);
    sqlite3_bind_int64(st, 8, e->weight);
    sqlite3_bind_int64(st, 9, e->points);
    sqlite3_bind_int64(st, 10, m->tier_multiplier_permille);
    sqlite3_bind_int64(st, 11, patron__member_points(m) + e->points);
    sqlite3_bind_int64(st, 12, now);
    sqlite3_bind_text(st, 13, lines->p, (int)lines->len, SQLITE_STATIC);
    sqlite3_bind_text(st, 14, categories->p, (int)categories->len, SQLITE_STATIC);
    int err = patron__step_done(s, st);
    if (err == PATRON_EDB && sqlite3_extended_errcode(s->db) == SQLITE_CONSTRAINT_UNIQUE)
        return refuse_known_ref(s, in->ref);
    if (err == 0)
        *sale_id = sqlite3_last_insert_rowid(s->db);
    return err;
}

/* The sale's outbox row, from the values just written: the payload outbox.c's sale statement
 * would read back from the rows (balance_after left out), without reading them. */
static int sale_outbox(patron_store *s, const struct patron_sale *in, const char *currency,
                       const struct patron__member_row *m, const struct patron__earning *e,
                       int64_t now, int64_t sale_id, const struct patron__jw *lines)
{
    struct patron__jw w;
    patron__jw_init(&w);
    patron__jw_raw(&w, "{\"id\":");
    patron__jw_int(&w, sale_id);
    patron__jw_int_field(&w, "store_id", s->store_id);
    patron__jw_str_field(&w, "ref", in->ref);
    patron__jw_int_field(&w, "member_id", m->member_id);
    patron__jw_str_field(&w, "card", in->card);
    patron__jw_int_field(&w, "total_minor", in->total_minor);
    patron__jw_member_uid_field(&w, m->member_uid);
    patron__jw_str_field(&w, "currency", currency);
    patron__jw_int_field(&w, "lines_minor", e->lines_minor);
    patron__jw_int_field(&w, "weight_total", e->weight);
    patron__jw_int_field(&w, "points_earned", e->points);
    patron__jw_int_field(&w, "tier_multiplier_permille", m->tier_multiplier_permille);
    patron__jw_int_field(&w, "created_at", now);
    patron__jw_key(&w, "lines");
    patron__jw_mem(&w, lines->p, lines->len);
    patron__jw_raw(&w, "}");
    int err = patron__outbox_add_json(s, "sale", "sales", sale_id, m->member_id, &w);
    patron__jw_free(&w);
    return err;
}

void patron__sale_weigh(patron_store *s, const struct patron_program *p,
                        const struct patron_sale *in, int64_t tier_permille, int64_t *weights,
                        struct patron__earning *e)
{
    int64_t mult[PATRON_SALE_MAX_LINES];
    e->weight = 0;
    e->lines_minor = 0;
    for (size_t i = 0; i < in->n_lines && i < PATRON_SALE_MAX_LINES; i++) {
        size_t j = 0;
        while (j < i && strcmp(in->lines[j].category, in->lines[i].category) != 0)
            j++;
        mult[i] = j < i ? mult[j] : patron_category_multiplier(s, in->lines[i].category);
        if (weights)
            weights[i] = in->lines[i].unit_minor * mult[i];
        e->weight += in->lines[i].unit_minor * mult[i] * in->lines[i].qty;
        e->lines_minor += in->lines[i].unit_minor * in->lines[i].qty;
    }
    e->points = earn_points(p, e->weight, in->total_minor, e->lines_minor, tier_permille);
}

int patron__sale_book(patron_store *s, const struct patron_sale *in, const struct patron_program *p,
                      struct patron__member_row *m, struct patron__earning *e, int64_t *sale_id,
                      int *changed)
{
    int64_t weights[PATRON_SALE_MAX_LINES], entry_id, now = patron_store_now(s);
    struct patron__jw lines, categories;
    int err;
    if ((err = patron__member_for_card(s, in->card, 1, m)) != 0 ||
        (err = patron__tier_review(s, m, 0, changed)) != 0)
        return err;
    patron__sale_weigh(s, p, in, m->tier_multiplier_permille, weights, e);
    lines_json(&lines, in, weights);
    categories_json(&categories, in);
    err = lines.oom || categories.oom
              ? PATRON_ENOMEM
              : insert_sale(s, in, p->currency, m, e, now, &lines, &categories, sale_id);
    if (err == 0)
        err = sale_outbox(s, in, p->currency, m, e, now, *sale_id, &lines);
    patron__jw_free(&lines);
    patron__jw_free(&categories);
    if (err != 0)
        return err;
    if (e->points <= 0)
        return 0;
    struct patron__posting post = {.kind = "earn",
                                   .points = e->points,
                                   .to_member = 1,
                                   .program = PATRON__ACCT_ISSUED,
                                   .sale_id = *sale_id};
    if ((err = patron__ledger_post(s, m, &post, &entry_id)) != 0)
        return err;
    return patron__tier_review(s, m, 1, changed);
}

int patron__sale_balance_after(patron_store *s, int64_t sale_id, int64_t balance)
{
    sqlite3_stmt *st = patron__stmt(s, "UPDATE sales SET balance_after = ?2 WHERE id = ?1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, sale_id);
    sqlite3_bind_int64(st, 2, balance);
    return patron__step_done(s, st);
}

int patron__sale_tier_name(patron_store *s, int64_t tier_id, char *buf, size_t len)
{
    const struct patron__tier_slot *tiers;
    size_t n = patron__tiers_kept(s, &tiers);
    for (size_t i = 0; i < n; i++)
        if (tiers[i].id == tier_id) {
            patron__copy(buf, len, tiers[i].name);
            return 0;
        }
    sqlite3_stmt *st = patron__stmt(s, "SELECT name FROM tiers WHERE id = ?1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, tier_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        patron__copy(buf, len, (const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : patron__db_err(s, rc);
}

int patron__sale_result(patron_store *s, int64_t sale_id, struct patron_sale_result *out)
{
    static const char *const sql =
        "SELECT s.member_id, s.points_earned, s.balance_after, t.name FROM sales s"
        " JOIN members m ON m.id = s.member_id JOIN tiers t ON t.id = m.tier_id WHERE s.id = ?1";
    sqlite3_stmt *st = patron__stmt(s, sql);
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, sale_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        memset(out, 0, sizeof *out);
        out->sale_id = sale_id;
        out->member_id = sqlite3_column_int64(st, 0);
        out->points_earned = sqlite3_column_int64(st, 1);
        out->points = sqlite3_column_int64(st, 2);
        patron__copy(out->tier, sizeof out->tier, (const char *)sqlite3_column_text(st, 3));
        out->replayed = 1;
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : patron__db_err(s, rc);
}
