/* SPDX-License-Identifier: MIT */
/* Refunds: reverse a sale's points (offer bonuses included) line by line, in proportion to the
 * refunded weight, with the cumulative rounding rule of include/patron/ledger.h; refuse refunding
 * more than was sold; and apply the program's policy when the member has already spent the points.
 * Each refund has its own identity, its return reference: the same one sent again answers it.
 */
#include <stdlib.h>
#include <string.h>

#include "core/idempotency.h"
#include "core/outbox_internal.h"
#include "ledger/ledger_internal.h"
#include "patron/ledger.h"
#include "patron/program.h"
#include "reward/coupon_internal.h"

struct sold_line {
    char sku[64];
    int64_t qty, refunded, weight_per_unit, take;
};

struct sale_row {
    int64_t sale_id, member_id, points_earned, weight_total, earn_entry;
    struct sold_line lines[PATRON_SALE_MAX_LINES];
    size_t n_lines;
};

static int load_sale(patron_store *s, const char *ref, struct sale_row *sale)
{
    static const char *const head =
        "SELECT s.id, s.member_id, (SELECT COALESCE(SUM(points), 0) FROM entries"
        "  WHERE sale_id = s.id AND kind = 'earn' AND member_id = s.member_id), s.weight_total,"
        " (SELECT MIN(id) FROM entries WHERE sale_id = s.id AND kind = 'earn')"
        " FROM sales s WHERE s.store_id = ?1 AND s.ref = ?2";
    sqlite3_stmt *st = patron__stmt(s, head);
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int(st, 1, s->store_id);
    sqlite3_bind_text(st, 2, ref, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        sale->sale_id = sqlite3_column_int64(st, 0);
        sale->member_id = sqlite3_column_int64(st, 1);
        sale->points_earned = sqlite3_column_int64(st, 2);
        sale->weight_total = sqlite3_column_int64(st, 3);
        sale->earn_entry = sqlite3_column_int64(st, 4);
    }
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return patron__fail(s, PATRON_ENOSALE, "no sale with ref '%.63s' in this store", ref);
    return rc == SQLITE_ROW ? 0 : patron__db_err(s, rc);
}

static int load_lines(patron_store *s, struct sale_row *sale)
{
    static const char *const sql = "SELECT l.sku, l.qty, l.weight_per_unit, (SELECT "
                                   "COALESCE(SUM(r.qty), 0) FROM refund_lines r"
                                   " WHERE r.sale_id = l.sale_id AND r.line_no = l.line_no)"
                                   " FROM sale_lines l WHERE l.sale_id = ?1 ORDER BY l.line_no";
    sqlite3_stmt *st = patron__stmt(s, sql);
    int rc;
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, sale->sale_id);
    sale->n_lines = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && sale->n_lines < PATRON_SALE_MAX_LINES) {
        struct sold_line *l = &sale->lines[sale->n_lines++];
        patron__copy(l->sku, sizeof l->sku, (const char *)sqlite3_column_text(st, 0));
        l->qty = sqlite3_column_int64(st, 1);
        l->weight_per_unit = sqlite3_column_int64(st, 2);
        l->refunded = sqlite3_column_int64(st, 3);
        l->take = 0;
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : patron__db_err(s, rc);
}

/* Spreads each requested quantity over the sale's lines with that SKU. */
static int choose_quantities(patron_store *s, const struct patron_refund *in, struct sale_row *sale)
{
    int64_t any = 0;
    for (size_t i = 0; i < sale->n_lines && in->n_lines == 0; i++)
        any += sale->lines[i].take = sale->lines[i].qty - sale->lines[i].refunded;
    if (in->n_lines == 0)
        return any > 0 ? 0
                       : patron__fail(s, PATRON_EREFUND, "the sale was already refunded in full");
    for (size_t r = 0; r < in->n_lines; r++) {
        int64_t want = in->lines[r].qty;
        if (!in->lines[r].sku || want < 1)
            return patron__fail(s, PATRON_EINVAL, "refund line %zu needs a SKU and a quantity",
                                r + 1);
        for (size_t i = 0; i < sale->n_lines && want > 0; i++) {
            struct sold_line *l = &sale->lines[i];
            int64_t left = l->qty - l->refunded - l->take;
            if (strcmp(l->sku, in->lines[r].sku) != 0 || left <= 0)
                continue;
            int64_t take = left < want ? left : want;
            l->take += take;
            want -= take;
        }
        if (want > 0)
            return patron__fail(s, PATRON_EREFUND, "refunding %lld more of %.63s than was sold",
                                (long long)want, in->lines[r].sku);
    }
    return 0;
}

/* The cumulative rule: after this refund, floor(earned * refunded weight / total weight) points
 * are reversed in all; this refund owes the difference from before. */
static int64_t points_owed(const struct sale_row *sale)
{
    __int128 before = 0, after = 0;
    if (sale->weight_total <= 0 || sale->points_earned <= 0)
        return 0;
    for (size_t i = 0; i < sale->n_lines; i++) {
        before += (__int128)sale->lines[i].refunded * sale->lines[i].weight_per_unit;
        after += (__int128)(sale->lines[i].refunded + sale->lines[i].take) *
                 sale->lines[i].weight_per_unit;
    }
    __int128 owed_after = sale->points_earned * after / sale->weight_total;
    __int128 owed_before = sale->points_earned * before / sale->weight_total;
    return (int64_t)(owed_after - owed_before);
}

/* What a new refund row carries besides its numbers: its identity and its request's hash. */
struct refund_identity {
    const char *return_ref; /* NULL: none */
    const unsigned char *hash;
};

static int insert_refund(patron_store *s, const struct sale_row *sale,
                         const struct refund_identity *id, int64_t reversed, int64_t shortfall,
                         int64_t balance_after, int64_t *refund_id)
{
    sqlite3_stmt *st = patron__stmt(
        s, "INSERT INTO refunds(sale_id, points_reversed, shortfall, balance_after,"
           " created_at, return_ref, request_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, sale->sale_id);
    sqlite3_bind_int64(st, 2, reversed);
    sqlite3_bind_int64(st, 3, shortfall);
    sqlite3_bind_int64(st, 4, balance_after);
    sqlite3_bind_int64(st, 5, patron_store_now(s));
    if (id->return_ref)
        sqlite3_bind_text(st, 6, id->return_ref, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 6);
    sqlite3_bind_blob(st, 7, id->hash, 32, SQLITE_STATIC);
    int err = patron__step_done(s, st);
    if (err != 0)
        return err;
    *refund_id = sqlite3_last_insert_rowid(s->db);
    if (!(st = patron__stmt(s, "INSERT INTO refund_lines(refund_id, sale_id, line_no, qty)"
                               " VALUES (?1, ?2, ?3, ?4)")))
        return PATRON_EDB;
    for (size_t i = 0; i < sale->n_lines && err == 0; i++) {
        if (sale->lines[i].take == 0)
            continue;
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, *refund_id);
        sqlite3_bind_int64(st, 2, sale->sale_id);
        sqlite3_bind_int64(st, 3, (int64_t)i + 1);
        sqlite3_bind_int64(st, 4, sale->lines[i].take);
        err = patron__step_done(s, st);
    }
    return err != 0 ? err : patron__outbox_add(s, PATRON__OUTBOX_REFUND, *refund_id);
}

static int member_row(patron_store *s, int64_t member_id, struct patron__member_row *m)
{
    sqlite3_stmt *st = patron__stmt(s, "SELECT a.id, a.balance, m.chain_points FROM accounts a"
                                       " JOIN members m ON m.id = a.member_id"
                                       " WHERE a.member_id = ?1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, member_id);
    int rc = sqlite3_step(st);
    memset(m, 0, sizeof *m);
    if (rc == SQLITE_ROW) {
        m->member_id = member_id;
        m->account_id = sqlite3_column_int64(st, 0);
        m->balance = sqlite3_column_int64(st, 1);
        m->chain_points = sqlite3_column_int64(st, 2);
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : patron__db_err(s, rc);
}

static int fully_refunded(const struct sale_row *sale)
{
    for (size_t i = 0; i < sale->n_lines; i++)
        if (sale->lines[i].refunded + sale->lines[i].take < sale->lines[i].qty)
            return 0;
    return 1;
}

/* A sale paid (in part) with reward vouchers, refunded in full: when the program says so
 * (refund_returns_reward = 1), each of those rewards comes back to the member as a new coupon. */
static int give_rewards_back(patron_store *s, const struct sale_row *sale, const char *ref,
                             struct patron__member_row *m, int64_t *returned)
{
    static const char *const sql =
        "SELECT v.offer_id FROM voucher_redemptions r JOIN vouchers v ON v.key_id = r.key_id"
        " AND v.voucher_id = r.voucher_id WHERE r.ref = ?1 AND r.store_id = ?2"
        " AND v.offer_id IN (SELECT id FROM rewards) ORDER BY r.id";
    int64_t rewards[16];
    size_t n = 0;
    int rc, err = 0;
    if (!fully_refunded(sale) || patron__setting_int(s, "refund_returns_reward", 0) != 1)
        return 0;
    sqlite3_stmt *st = patron__stmt(s, sql);
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, s->store_id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < 16)
        rewards[n++] = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return patron__db_err(s, rc);
    for (size_t i = 0; i < n && err == 0; i++) {
        struct patron__coupon c;
        if ((err = patron__coupon_issue(s, m, rewards[i], 0, &c)) == 0)
            (*returned)++;
    }
    return err;
}

static int record(patron_store *s, const struct patron_refund *in, const struct refund_identity *id,
                  struct sale_row *sale, struct patron_refund_result *out)
{
    struct patron_program p;
    struct patron__member_row m;
    int64_t refund_id, entry_id;
    int err;
    if ((err = patron_program_get(s, &p)) != 0 || (err = load_sale(s, in->ref, sale)) != 0 ||
        (err = load_lines(s, sale)) != 0 || (err = choose_quantities(s, in, sale)) != 0 ||
        (err = member_row(s, sale->member_id, &m)) != 0)
        return err;
    int64_t owed = points_owed(sale), reversed = owed;
    /* clamp: what head office granted, else the member's last known chain balance */
    int64_t may = in->claimed ? in->claimed_points : patron__member_points(&m);
    if (p.refund_policy == PATRON_REFUND_CLAMP && reversed > may)
        reversed = may > 0 ? may : 0;
    if ((err = insert_refund(s, sale, id, reversed, owed - reversed,
                             patron__member_points(&m) - reversed, &refund_id)) != 0)
        return err;
    if (reversed > 0) {
        struct patron__posting post = {.kind = "reverse",
                                       .points = reversed,
                                       .to_member = 0,
                                       .program = PATRON__ACCT_ISSUED,
                                       .refund_id = refund_id,
                                       .sale_id = sale->sale_id,
                                       .original_entry = sale->earn_entry,
                                       .uncapped = 1};
        if ((err = patron__ledger_post(s, &m, &post, &entry_id)) != 0)
            return err;
    }
    int64_t returned = 0;
    if ((err = give_rewards_back(s, sale, in->ref, &m, &returned)) != 0)
        return err;
    *out = (struct patron_refund_result){.refund_id = refund_id,
                                         .sale_id = sale->sale_id,
                                         .member_id = m.member_id,
                                         .points_reversed = reversed,
                                         .shortfall = owed - reversed,
                                         .points = patron__member_points(&m),
                                         .rewards_returned = returned};
    if (in->return_ref)
        patron__copy(out->return_ref, sizeof out->return_ref, in->return_ref);
    return 0;
}

static int replay(patron_store *s, int64_t refund_id, struct patron_refund_result *out)
{
    sqlite3_stmt *st = patron__stmt(
        s, "SELECT r.sale_id, s.member_id, r.points_reversed, r.shortfall, r.balance_after,"
           " COALESCE(r.return_ref, '') FROM refunds r JOIN sales s ON s.id = r.sale_id"
           " WHERE r.id = ?1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, refund_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = (struct patron_refund_result){.refund_id = refund_id,
                                             .sale_id = sqlite3_column_int64(st, 0),
                                             .member_id = sqlite3_column_int64(st, 1),
                                             .points_reversed = sqlite3_column_int64(st, 2),
                                             .shortfall = sqlite3_column_int64(st, 3),
                                             .points = sqlite3_column_int64(st, 4),
                                             .replayed = 1};
        patron__copy(out->return_ref, sizeof out->return_ref,
                     (const char *)sqlite3_column_text(st, 5));
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : patron__db_err(s, rc);
}

struct refund_request {
    const struct patron_refund *in;
    const struct patron__idem *h; /* its hash is final when record_refund runs */
    struct sale_row *sale;        /* work space, too large for the stack */
};

/* A return reference already recorded: the same request (same sale, lines and return_ref)
 * answers that refund again; another one is refused, naming it. Sets *first to 0 when new. */
static int known_return(patron_store *s, const struct refund_request *q, int64_t *first)
{
    sqlite3_stmt *st =
        patron__stmt(s, "SELECT id, request_hash FROM refunds WHERE return_ref = ?1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_text(st, 1, q->in->return_ref, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st), same = 0;
    *first = 0;
    if (rc == SQLITE_ROW) {
        *first = sqlite3_column_int64(st, 0);
        same = sqlite3_column_bytes(st, 1) == (int)sizeof q->h->hash &&
               memcmp(sqlite3_column_blob(st, 1), q->h->hash, sizeof q->h->hash) == 0;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return patron__db_err(s, rc);
    if (*first && !same)
        return patron__fail(
            s, PATRON_EDUPLICATE,
            "return ref %.63s was already recorded (refund %lld) for another request",
            q->in->return_ref, (long long)*first);
    return 0;
}

static int record_refund(patron_store *s, const void *request, void *result, int64_t *result_id)
{
    const struct refund_request *q = request;
    struct patron_refund_result *r = result;
    struct refund_identity id = {q->in->return_ref, q->h->hash};
    int64_t first = 0;
    int err = q->in->return_ref ? known_return(s, q, &first) : 0;
    if (err == 0)
        err = first ? replay(s, first, r) : record(s, q->in, &id, q->sale, r);
    if (err == 0)
        *result_id = r->refund_id;
    return err;
}

static int replay_refund(patron_store *s, int64_t refund_id, void *result)
{
    return replay(s, refund_id, result);
}

/* A key refused for another request whose return reference names another recorded return
 * (the program's default key derives from the return reference): the refusal that says more is
 * that the return reference was already recorded. `h`'s hash stays valid after its cleanup. */
static int say_duplicate(patron_store *s, const struct refund_request *q, int err)
{
    int64_t first = 0;
    int dup = known_return(s, q, &first);
    return dup == PATRON_EDUPLICATE ? dup : err;
}

static int valid_return_ref(const char *v)
{
    size_t n = strlen(v);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] <= 0x20 || v[i] == 0x7f)
            return 0;
    return n > 0 && n < 64;
}

int patron_refund_record(patron_store *s, const struct patron_refund *in,
                         struct patron_refund_result *out)
{
    struct refund_request q = {in, NULL, NULL};
    struct patron_refund_result r = {0};
    struct patron__idem h;
    int err;
    if (!in->ref || !in->ref[0] || in->n_lines > PATRON_SALE_MAX_LINES)
        return patron__fail(s, PATRON_EINVAL, "a refund needs the sale's ref and at most %d lines",
                            PATRON_SALE_MAX_LINES);
    if (in->return_ref && !valid_return_ref(in->return_ref))
        return patron__fail(s, PATRON_EINVAL, "a return ref is 1-63 bytes without spaces");
    if (!(q.sale = calloc(1, sizeof *q.sale)))
        return PATRON_ENOMEM;
    if ((err = patron__idem_init(s, &h, "refund", in->idempotency_key)) == 0) {
        patron__idem_add_str(&h, in->ref);
        patron__idem_add_str(&h, in->return_ref);
        patron__idem_add_int(&h, (int64_t)in->n_lines);
        for (size_t i = 0; i < in->n_lines; i++) {
            patron__idem_add_str(&h, in->lines[i].sku);
            patron__idem_add_int(&h, in->lines[i].qty);
        }
        q.h = &h;
        if ((err = patron__idem_run(s, &h, &q, record_refund, replay_refund, &r)) == 0)
            *out = r;
        else if (err == PATRON_EIDEMPOTENCY && in->return_ref)
            err = say_duplicate(s, &q, err);
    }
    free(q.sale);
    return err;
}

/* The member's chain identity ("" for none) and whether `return_ref` is recorded already. */
static int preview_member(patron_store *s, const struct patron_refund *in,
                          struct patron_refund_preview *out)
{
    sqlite3_stmt *st =
        patron__stmt(s, "SELECT coalesce((SELECT member_uid FROM members WHERE id = ?1), ''),"
                        " EXISTS (SELECT 1 FROM refunds WHERE return_ref = ?2)");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, out->member_id);
    if (in->return_ref)
        sqlite3_bind_text(st, 2, in->return_ref, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 2);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        patron__copy(out->member_uid, sizeof out->member_uid,
                     (const char *)sqlite3_column_text(st, 0));
        out->recorded = sqlite3_column_int(st, 1);
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : patron__db_err(s, rc);
}

int patron_refund_preview(patron_store *s, const struct patron_refund *in,
                          struct patron_refund_preview *out)
{
    struct patron_program p;
    struct patron__member_row m;
    struct sale_row *sale;
    int err;
    memset(out, 0, sizeof *out);
    if (!in->ref || !in->ref[0] || in->n_lines > PATRON_SALE_MAX_LINES)
        return patron__fail(s, PATRON_EINVAL, "a refund needs the sale's ref and at most %d lines",
                            PATRON_SALE_MAX_LINES);
    if (!(sale = calloc(1, sizeof *sale)))
        return PATRON_ENOMEM;
    if ((err = patron_program_get(s, &p)) == 0 && (err = load_sale(s, in->ref, sale)) == 0 &&
        (err = load_lines(s, sale)) == 0 && (err = choose_quantities(s, in, sale)) == 0 &&
        (err = member_row(s, sale->member_id, &m)) == 0) {
        out->member_id = sale->member_id;
        out->points_owed = points_owed(sale);
        out->balance = m.balance;
        out->clamp = p.refund_policy == PATRON_REFUND_CLAMP;
        err = preview_member(s, in, out);
    }
    free(sale);
    return err;
}
