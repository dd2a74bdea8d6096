/* SPDX-License-Identifier: MIT */
/* Sales on a card not yet known (patron/held.h): kept in held_sales (and held_sale_lines) with
 * their points at the program's base rate, in one transaction with the outbox row; posted later
 * through patron_sale_record under the held sale's own idempotency key, then marked, so a post
 * run twice, or cut between the two, records the sale once. */
#include <stdio.h>
#include <string.h>

#include "core/outbox_internal.h"
#include "ledger/sale_internal.h"
#include "patron/held.h"

#define HELD_COLUMNS "id, card, ref, points, held_at, coalesce(sale_id, 0)"

static void read_row(patron_store *s, sqlite3_stmt *st, struct patron_held_sale *out)
{
    memset(out, 0, sizeof *out);
    out->held_id = sqlite3_column_int64(st, 0);
    patron__copy(out->card, sizeof out->card, (const char *)sqlite3_column_text(st, 1));
    patron__copy(out->ref, sizeof out->ref, (const char *)sqlite3_column_text(st, 2));
    out->points = sqlite3_column_int64(st, 3);
    out->held_at = sqlite3_column_int64(st, 4);
    out->sale_id = sqlite3_column_int64(st, 5);
    out->card_store = patron_card_owner(s, out->card);
}

/* The held sale kept under `key`: 1 (into *out), 0 for none, or a negative code. */
static int held_by_key(patron_store *s, const char *key, struct patron_held_sale *out,
                       int64_t *total)
{
    sqlite3_stmt *st = patron__stmt(s, "SELECT " HELD_COLUMNS
                                       ", total_minor FROM held_sales WHERE idempotency_key = ?1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        read_row(s, st, out);
        *total = sqlite3_column_int64(st, 6);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return patron__db_err(s, rc);
    return rc == SQLITE_ROW;
}

static int card_known(patron_store *s, const char *number, int *known)
{
    sqlite3_stmt *st = patron__stmt(s, "SELECT 1 FROM cards WHERE number = ?1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_text(st, 1, number, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    *known = rc == SQLITE_ROW;
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : patron__db_err(s, rc);
}

static int insert_lines(patron_store *s, int64_t held_id, const struct patron_sale *in)
{
    int err = 0;
    for (size_t i = 0; i < in->n_lines && err == 0; i++) {
        sqlite3_stmt *st = patron__stmt(s, "INSERT INTO held_sale_lines(held_id, line_no, sku,"
                                           " category, qty, unit_minor)"
                                           " VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
        if (!st)
            return PATRON_EDB;
        sqlite3_bind_int64(st, 1, held_id);
        sqlite3_bind_int64(st, 2, (int64_t)i + 1);
        sqlite3_bind_text(st, 3, in->lines[i].sku, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 4, in->lines[i].category, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 5, in->lines[i].qty);
        sqlite3_bind_int64(st, 6, in->lines[i].unit_minor);
        err = patron__step_done(s, st);
    }
    return err;
}

/* Inside the transaction: the new held sale, its lines and its outbox row. */
static int keep(patron_store *s, const struct patron_sale *in, const char *number, int64_t points,
                struct patron_held_sale *out)
{
    sqlite3_stmt *st = patron__stmt(
        s, "INSERT INTO held_sales(card, card_given, ref, idempotency_key, total_minor, points,"
           " held_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    int err;
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_text(st, 1, number, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, in->card, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, in->ref, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, in->idempotency_key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 5, in->total_minor);
    sqlite3_bind_int64(st, 6, points);
    sqlite3_bind_int64(st, 7, patron_store_now(s));
    if ((err = patron__step_done(s, st)) != 0)
        return err;
    int64_t id = sqlite3_last_insert_rowid(s->db);
    if ((err = insert_lines(s, id, in)) != 0 ||
        (err = patron__outbox_add(s, PATRON__OUTBOX_HELD_SALE, id)) != 0)
        return err;
    memset(out, 0, sizeof *out);
    out->held_id = id;
    patron__copy(out->card, sizeof out->card, number);
    patron__copy(out->ref, sizeof out->ref, in->ref);
    out->card_store = patron_card_owner(s, number);
    out->points = points;
    out->held_at = patron_store_now(s);
    return 0;
}

/* Checks the request and the card; the card's number into number. */
static int check(patron_store *s, struct patron_sale *sale, const struct patron_program *p,
                 char number[PATRON_CARD_DIGITS + 1])
{
    int known = 0, err;
    if ((err = patron__sale_validate(s, sale, p->currency)) != 0)
        return err;
    if (!patron__printable(sale->idempotency_key, 128))
        return patron__fail(s, PATRON_EINVAL, "a held sale needs an idempotency key");
    if ((err = patron_card_parse(sale->card, number)) != 0)
        return patron__fail(s, err, "card number '%.32s' is mistyped",
                            sale->card ? sale->card : "");
    int from = patron_card_owner(s, number);
    if (from <= 0 || from == s->store_id)
        return patron__fail(s, PATRON_ENOCARD,
                            "card %s is not another store's by its number: unknown card", number);
    if ((err = card_known(s, number, &known)) != 0)
        return err;
    if (known)
        return patron__fail(s, PATRON_EINVAL, "card %s is known here: record the sale", number);
    return 0;
}

int patron_sale_hold(patron_store *s, const struct patron_sale *in, struct patron_held_sale *out)
{
    struct patron_sale_line general = {"-", "general", 1, in->total_minor};
    struct patron_sale sale = *in;
    struct patron_program p;
    struct patron__earning e;
    char number[PATRON_CARD_DIGITS + 1];
    int64_t total = 0;
    int err, found;
    if ((err = patron_program_get(s, &p)) != 0 || (err = check(s, &sale, &p, number)) != 0)
        return err;
    if (sale.n_lines == 0) {
        sale.lines = &general;
        sale.n_lines = 1;
    }
    if ((err = patron__tx_begin(s)) != 0)
        return err;
    if ((found = held_by_key(s, sale.idempotency_key, out, &total)) < 0) {
        err = found;
    } else if (found) {
        out->replayed = 1;
        if (strcmp(out->card, number) != 0 || strcmp(out->ref, sale.ref) != 0 ||
            total != sale.total_minor)
            err = patron__fail(s, PATRON_EIDEMPOTENCY, "the key held another sale");
    } else {
        patron__sale_weigh(s, &p, &sale, 1000, NULL, &e);
        err = keep(s, &sale, number, e.points, out);
    }
    if (err != 0) {
        patron__tx_rollback(s);
        return err;
    }
    return patron__tx_commit(s);
}

/* The next open held sale after `after` whose card is active here: its id, or 0. */
static int next_postable(patron_store *s, int64_t after, int64_t *id)
{
    sqlite3_stmt *st = patron__stmt(s, "SELECT h.id FROM held_sales h JOIN cards c"
                                       " ON c.number = h.card AND c.status = 'active'"
                                       " WHERE h.sale_id IS NULL AND h.id > ?1 ORDER BY h.id");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, after);
    int rc = sqlite3_step(st);
    *id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : patron__db_err(s, rc);
}

/* The held sale's request as it was kept; the texts live in `text` until it is reset. */
struct held_request {
    struct patron_sale sale;
    struct patron_sale_line lines[PATRON_SALE_MAX_LINES];
    char text[PATRON_SALE_MAX_LINES + 1][3][128];
};

static int load_lines(patron_store *s, int64_t id, struct held_request *q)
{
    sqlite3_stmt *st = patron__stmt(s, "SELECT sku, category, qty, unit_minor FROM"
                                       " held_sale_lines WHERE held_id = ?1 ORDER BY line_no");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, id);
    int rc;
    size_t n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < PATRON_SALE_MAX_LINES) {
        patron__copy(q->text[n + 1][0], 128, (const char *)sqlite3_column_text(st, 0));
        patron__copy(q->text[n + 1][1], 128, (const char *)sqlite3_column_text(st, 1));
        q->lines[n] =
            (struct patron_sale_line){q->text[n + 1][0], q->text[n + 1][1],
                                      sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3)};
        n++;
    }
    sqlite3_reset(st);
    q->sale.lines = q->lines;
    q->sale.n_lines = n;
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : patron__db_err(s, rc);
}

static int load(patron_store *s, int64_t id, struct held_request *q)
{
    sqlite3_stmt *st = patron__stmt(s, "SELECT card_given, ref, idempotency_key, total_minor"
                                       " FROM held_sales WHERE id = ?1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        for (int i = 0; i < 3; i++)
            patron__copy(q->text[0][i], 128, (const char *)sqlite3_column_text(st, i));
        q->sale = (struct patron_sale){.card = q->text[0][0],
                                       .ref = q->text[0][1],
                                       .idempotency_key = q->text[0][2],
                                       .total_minor = sqlite3_column_int64(st, 3)};
    }
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return patron__fail(s, PATRON_ENOTFOUND, "no held sale %lld", (long long)id);
    if (rc != SQLITE_ROW)
        return patron__db_err(s, rc);
    return load_lines(s, id, q);
}

static int mark_posted(patron_store *s, int64_t id, int64_t sale_id)
{
    sqlite3_stmt *st = patron__stmt(s, "UPDATE held_sales SET sale_id = ?2, posted_at = ?3"
                                       " WHERE id = ?1 AND sale_id IS NULL");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, sale_id);
    sqlite3_bind_int64(st, 3, patron_store_now(s));
    return patron__step_done(s, st);
}

/* Posts one held sale: 0 posted, 1 refused (it stays held), or a negative code. */
static int post_one(patron_store *s, int64_t id)
{
    static struct held_request q; /* large; one thread per store handle */
    struct patron_sale_result r;
    int err = load(s, id, &q);
    if (err != 0)
        return err;
    err = patron_sale_record(s, &q.sale, &r);
    if (err != 0)
        return patron_err_kind(err) == PATRON_KIND_INTERNAL ? err : 1;
    return mark_posted(s, id, r.sale_id);
}

int patron_held_post(patron_store *s, int64_t *posted)
{
    int64_t id = 0, count = 0;
    int err = 0;
    if (posted)
        *posted = 0;
    while (err == 0 && (err = next_postable(s, id, &id)) == 0 && id != 0) {
        if ((err = post_one(s, id)) == 0)
            count++;
        else if (err == 1)
            err = 0;
    }
    if (posted)
        *posted = count;
    return err;
}

int patron_held_list(patron_store *s, struct patron_held_sale *out, size_t cap, size_t *count)
{
    sqlite3_stmt *st = patron__stmt(s, "SELECT " HELD_COLUMNS
                                       " FROM held_sales WHERE sale_id IS NULL ORDER BY id");
    size_t n = 0;
    int rc;
    if (!st)
        return PATRON_EDB;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n < cap)
            read_row(s, st, &out[n]);
        n++;
    }
    sqlite3_reset(st);
    *count = n;
    return rc == SQLITE_DONE ? 0 : patron__db_err(s, rc);
}
