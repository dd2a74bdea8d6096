/* SPDX-License-Identifier: MIT */
/* The outbox: each kind of fact writes exactly its rows in its own transaction; a failed write,
 * a request rolled back inside a batch and a failing batch leave no row and no gap; erasure
 * rewrites the payloads that held personal data; the ledger verifier catches a missing row or a
 * gap; the list call pages in order; a store upgraded from before the outbox gets a row for every
 * fact it holds; every row about a member names them by member_uid. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "testutil.h"
#include "voucher_fixture.h"

/* The kinds of the rows after *seq, comma-separated, in order; *seq moves to the last one. */
struct collect {
    char kinds[512];
    int64_t last;
};

static int collect_row(const struct patron_outbox_row *r, void *ctx)
{
    struct collect *c = ctx;
    size_t n = strlen(c->kinds);
    snprintf(c->kinds + n, sizeof c->kinds - n, "%s%s", n ? "," : "", r->kind);
    c->last = r->store_seq;
    return 0;
}

static const char *kinds_since(patron_store *s, int64_t *seq)
{
    static struct collect c;
    size_t count = 0;
    memset(&c, 0, sizeof c);
    c.last = *seq;
    assert_int_equal(patron_outbox_list(s, *seq, 1000, collect_row, &c, &count), 0);
    *seq = c.last;
    return c.kinds;
}

/* The outbox is 1..n without gaps and the ledger (with its outbox checks) verifies. */
static void assert_gap_free(patron_store *s)
{
    int64_t last = -1;
    assert_int_equal(patron_outbox_last(s, &last), 0);
    assert_int_equal(test_scalar(s, "SELECT COUNT(*) FROM outbox"), last);
    assert_int_equal(test_scalar(s, "SELECT COUNT(*) FROM outbox WHERE store_id <> 1"), 0);
    /* every row that names a member carries the member's chain-wide identity */
    assert_int_equal(test_scalar(s,
                                 "SELECT COUNT(*) FROM outbox WHERE member_id IS NOT NULL AND"
                                 " member_id IN (SELECT id FROM members) AND"
                                 " json_extract(payload, '$.member_uid') IS NOT '1-' || member_id"),
                     0);
    test_assert_ledger_verifies(s);
}

static void sell(patron_store *s, const char *card, const char *ref, int64_t total)
{
    struct patron_sale_line lines[] = {
        {.sku = "TEA", .category = "general", .qty = 2, .unit_minor = total / 2}};
    struct patron_sale in = {.card = card,
                             .ref = ref,
                             .total_minor = total,
                             .lines = lines,
                             .n_lines = 1,
                             .idempotency_key = ref};
    struct patron_sale_result r;
    int err = patron_sale_record(s, &in, &r);
    if (err != 0)
        fail_msg("sale %s: %s", ref, patron_store_detail(s));
}

static void each_fact_writes_exactly_its_rows(void **state)
{
    (void)state;
    struct test_store t;
    struct patron_member m;
    char card[14], fresh[14];
    int64_t seq = 0, reward = 0, offer = 0;
    test_store_open(&t);
    struct patron_enrollment in = {.name = "Ada Outbox", .email = "ada@example.org"};
    assert_int_equal(patron_member_enroll(t.s, &in, &m), 0);
    memcpy(card, m.card, sizeof card);
    assert_string_equal(kinds_since(t.s, &seq), "member,consent,card");
    assert_int_equal(patron_member_consent(t.s, card, 1, "web", "till-1"), 0);
    assert_string_equal(kinds_since(t.s, &seq), "consent");
    sell(t.s, card, "S-1", 5000);
    assert_string_equal(kinds_since(t.s, &seq), "sale,entry,lot");
    /* The sale's payload carries its lines; the entry's its own store_seq. */
    assert_int_equal(test_scalar(t.s, "SELECT json_extract(payload, '$.lines[0][3]') FROM outbox"
                                      " WHERE kind = 'sale'"),
                     2);
    assert_int_equal(test_scalar(t.s, "SELECT json_extract(payload, '$.store_seq') FROM outbox"
                                      " WHERE kind = 'entry'"),
                     1);
    struct patron_refund_result rr;
    struct patron_refund rf = {.ref = "S-1", .idempotency_key = "R-1"};
    assert_int_equal(patron_refund_record(t.s, &rf, &rr), 0);
    assert_string_equal(kinds_since(t.s, &seq), "refund,entry,lot");
    sell(t.s, card, "S-2", 50000);
    kinds_since(t.s, &seq);
    struct patron_adjust_result ar;
    struct patron_adjustment adj = {
        .card = card, .points = 7, .reason = "typo", .manager = "Mo", .idempotency_key = "A-1"};
    assert_int_equal(patron_ledger_adjust(t.s, &adj, &ar), 0);
    assert_string_equal(kinds_since(t.s, &seq), "entry,lot");
    struct patron_reward_def def = {.name = "Tea", .cost = 10, .kind = PATRON_VALUE_ITEM};
    assert_int_equal(patron_reward_add(t.s, &def, &reward), 0);
    assert_string_equal(kinds_since(t.s, &seq), ""); /* the program is not a store fact */
    struct patron_redeem_request rq = {.card = card, .reward_id = reward, .idempotency_key = "D-1"};
    struct patron_redeem_result rd;
    assert_int_equal(patron_reward_redeem(t.s, &rq, &rd), 0);
    assert_string_equal(kinds_since(t.s, &seq), "entry,lot,voucher_issued,redemption");
    struct patron_voucher_request vr = {.token_or_code = rd.code, .ref = "S-3", .till = "t1"};
    struct patron_voucher_result vres;
    assert_int_equal(patron_voucher_redeem(t.s, &vr, &vres), 0);
    assert_string_equal(kinds_since(t.s, &seq), "voucher_redeemed");
    assert_int_equal(patron_reward_redeem(t.s,
                                          &(struct patron_redeem_request){.card = card,
                                                                          .reward_id = reward,
                                                                          .idempotency_key = "D-2"},
                                          &rd),
                     0);
    kinds_since(t.s, &seq);
    assert_int_equal(patron_voucher_void(t.s, rd.code, "Mo", "lost"), 0);
    assert_string_equal(kinds_since(t.s, &seq), "voucher_voided");
    int64_t fb = 0;
    struct patron_feedback f = {.card = card, .score = 4, .sale_ref = "S-2", .comment = "nice"};
    assert_int_equal(patron_feedback_record(t.s, &f, &fb), 0);
    assert_string_equal(kinds_since(t.s, &seq), "feedback");
    struct patron_goodwill_request gw = {.card = card,
                                         .reward_id = reward,
                                         .manager = "Mo",
                                         .complaint = "cold tea",
                                         .idempotency_key = "G-1"};
    struct patron_goodwill_result gr;
    assert_int_equal(patron_goodwill_issue(t.s, &gw, &gr), 0);
    assert_string_equal(kinds_since(t.s, &seq), "voucher_issued,redemption,goodwill");
    struct patron_offer_def od = {
        .name = "Bonus", .benefit = PATRON_BENEFIT_BONUS, .benefit_value = 25};
    assert_int_equal(patron_offer_add(t.s, &od, &offer), 0);
    kinds_since(t.s, &seq);
    sell(t.s, card, "S-4", 1000);
    assert_string_equal(kinds_since(t.s, &seq), "sale,entry,lot,entry,lot,offer_use");
    assert_int_equal(patron_card_replace(t.s, card, fresh), 0);
    assert_string_equal(kinds_since(t.s, &seq), "card,card");
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM outbox WHERE kind = 'card' AND"
                                      " json_extract(payload, '$.status') = 'blocked'"),
                     1);
    t.now += 400 * TEST_DAY;
    struct patron_expiry_result er;
    assert_int_equal(patron_ledger_expire(t.s, &er), 0);
    assert_true(er.lots_expired > 0);
    const char *expired = kinds_since(t.s, &seq);
    assert_non_null(strstr(expired, "entry,lot"));
    assert_null(strstr(expired, "sale"));
    assert_int_equal(patron_member_erase(t.s, fresh, "admin"), 0);
    assert_string_equal(kinds_since(t.s, &seq), "consent,erasure");
    assert_gap_free(t.s);
    test_store_close(&t);
}

static void offline_acceptance_is_in_the_outbox(void **state)
{
    (void)state;
    struct test_store t = {0}, other = {0};
    struct patron__voucher_issued v;
    struct patron_voucher_request req = {.ref = "S-OFF", .till = "till-1", .offline = 1};
    struct patron_voucher_result res;
    char chain[33], pem[256], path[600];
    int id = 0;
    int64_t seq = 0;
    vfix_open(&t, 1, NULL);
    other.now = t.now;
    vfix_chain(&t, chain);
    vfix_open(&other, 2, chain);
    assert_int_equal(patron_keyring_export(other.s, 2, pem, sizeof pem), 0);
    snprintf(path, sizeof path, "%s/key-2.pub.pem", t.dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(pem, fp);
    fclose(fp);
    assert_int_equal(patron_keyring_trust(t.s, path, "Store 2", NULL, 0, &id), 0);
    vfix_issue(&other, NULL, &v);
    assert_string_equal(kinds_since(other.s, &seq), "voucher_issued");
    assert_int_equal(test_scalar(other.s, "SELECT store_id FROM outbox"), 2);
    seq = 0;
    req.token_or_code = v.token;
    assert_int_equal(patron_voucher_redeem(t.s, &req, &res), 0);
    assert_string_equal(kinds_since(t.s, &seq), "voucher_redeemed,offline_acceptance");
    assert_gap_free(t.s);
    test_store_close(&other);
    test_store_close(&t);
}

static void failed_writes_leave_no_row(void **state)
{
    (void)state;
    struct test_store t;
    char card[14];
    int64_t before = 0, after = 0, seq = 0;
    test_store_open(&t);
    test_enroll(&t, "Bea Failing", card);
    sell(t.s, card, "S-1", 1000);
    assert_int_equal(patron_outbox_last(t.s, &before), 0);
    struct patron_sale_result r;
    struct patron_sale dup = {
        .card = card, .ref = "S-1", .total_minor = 1000, .idempotency_key = "other"};
    assert_int_equal(patron_sale_record(t.s, &dup, &r), PATRON_EDUPLICATE);
    struct patron_sale unknown = {
        .card = "2900000000018", .ref = "S-2", .total_minor = 1000, .idempotency_key = "S-2"};
    assert_int_equal(patron_sale_record(t.s, &unknown, &r), PATRON_ENOCARD);
    /* A failure after the sale, its entry and their outbox rows were written. */
    assert_int_equal(sqlite3_exec(patron_store_sqlite(t.s),
                                  "CREATE TEMP TRIGGER fail_lot BEFORE INSERT ON lots"
                                  " WHEN (SELECT ref FROM sales ORDER BY id DESC LIMIT 1) = 'S-X'"
                                  " BEGIN SELECT RAISE(ABORT, 'planted failure'); END",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    struct patron_sale late = {
        .card = card, .ref = "S-X", .total_minor = 1000, .idempotency_key = "S-X"};
    assert_int_not_equal(patron_sale_record(t.s, &late, &r), 0);
    assert_non_null(strstr(patron_store_detail(t.s), "planted failure"));
    assert_int_equal(patron_outbox_last(t.s, &after), 0);
    assert_int_equal(after, before);
    seq = before;
    sell(t.s, card, "S-3", 1000);
    assert_string_equal(kinds_since(t.s, &seq), "sale,entry,lot");
    assert_int_equal(test_scalar(t.s, "SELECT MIN(store_seq) FROM outbox WHERE kind = 'sale'"
                                      " AND json_extract(payload, '$.ref') = 'S-3'"),
                     before + 1);
    assert_gap_free(t.s);
    test_store_close(&t);
}

/* Group commit: each call of a batch is a savepoint; the failing one is rolled back alone and the
 * numbers it took are taken again by the next call. A batch rolled back keeps nothing. */
static void a_rolled_back_request_in_a_batch_leaves_no_gap(void **state)
{
    (void)state;
    struct test_store t;
    struct patron_sale_result r;
    char card[14];
    int64_t before = 0, seq = 0;
    test_store_open(&t);
    test_enroll(&t, "Cy Batch", card);
    assert_int_equal(sqlite3_exec(patron_store_sqlite(t.s),
                                  "CREATE TEMP TRIGGER fail_lot BEFORE INSERT ON lots"
                                  " WHEN (SELECT ref FROM sales ORDER BY id DESC LIMIT 1) = 'B-X'"
                                  " BEGIN SELECT RAISE(ABORT, 'planted failure'); END",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(patron_outbox_last(t.s, &before), 0);
    seq = before;
    assert_int_equal(patron_store_batch_begin(t.s), 0);
    sell(t.s, card, "B-1", 1000);
    struct patron_sale bad = {
        .card = card, .ref = "B-X", .total_minor = 1000, .idempotency_key = "B-X"};
    assert_int_not_equal(patron_sale_record(t.s, &bad, &r), 0);
    assert_non_null(strstr(patron_store_detail(t.s), "planted failure"));
    sell(t.s, card, "B-2", 1000);
    assert_int_equal(patron_store_batch_commit(t.s), 0);
    assert_string_equal(kinds_since(t.s, &seq), "sale,entry,lot,sale,entry,lot");
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM outbox WHERE kind = 'sale' AND"
                                      " json_extract(payload, '$.ref') = 'B-X'"),
                     0);
    assert_gap_free(t.s);
    /* A whole batch rolled back: nothing, and the next write goes on from the same number. */
    assert_int_equal(patron_store_batch_begin(t.s), 0);
    sell(t.s, card, "B-3", 1000);
    patron_store_batch_rollback(t.s);
    int64_t last = 0;
    assert_int_equal(patron_outbox_last(t.s, &last), 0);
    assert_int_equal(last, seq);
    sell(t.s, card, "B-4", 1000);
    assert_int_equal(test_scalar(t.s, "SELECT MIN(store_seq) FROM outbox WHERE kind = 'sale' AND"
                                      " json_extract(payload, '$.ref') = 'B-4'"),
                     seq + 1);
    assert_gap_free(t.s);
    test_store_close(&t);
}

static void erasure_leaves_no_personal_data_in_the_outbox(void **state)
{
    (void)state;
    struct test_store t;
    struct patron_member m;
    char card[14], keep[14];
    int64_t reward = 0, fb = 0;
    test_store_open(&t);
    struct patron_enrollment in = {.name = "Quillon Erasmus-Vane",
                                   .email = "q.vane@example.org",
                                   .phone = "+447700900555",
                                   .birthday = "1970-03-04",
                                   .consent_marketing = 1,
                                   .consent_source = "Quillon's form"};
    assert_int_equal(patron_member_enroll(t.s, &in, &m), 0);
    memcpy(card, m.card, sizeof card);
    test_enroll(&t, "Kept Outbox", keep);
    assert_int_equal(patron_member_consent(t.s, card, 1, "Quillon-app", "till-1"), 0);
    sell(t.s, card, "S-1", 5000);
    struct patron_feedback f = {
        .card = card, .score = 1, .sale_ref = "S-1", .comment = "Quillon says: too slow"};
    assert_int_equal(patron_feedback_record(t.s, &f, &fb), 0);
    struct patron_reward_def def = {.name = "Tea", .cost = 10, .kind = PATRON_VALUE_ITEM};
    assert_int_equal(patron_reward_add(t.s, &def, &reward), 0);
    struct patron_goodwill_request gw = {.card = card,
                                         .reward_id = reward,
                                         .manager = "Mo",
                                         .complaint = "Quillon waited an hour",
                                         .idempotency_key = "G-1"};
    struct patron_goodwill_result gr;
    assert_int_equal(patron_goodwill_issue(t.s, &gw, &gr), 0);
    static const char *const personal[] = {"Quillon", "q.vane@example.org", "+447700900555",
                                           "1970-03-04"};
    char sql[200];
    for (size_t i = 0; i < 4; i++) {
        snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM outbox WHERE instr(payload, '%s') > 0",
                 personal[i]);
        assert_true(test_scalar(t.s, sql) >= 1); /* the check can see what it looks for */
    }
    int64_t rows = test_scalar(t.s, "SELECT COUNT(*) FROM outbox");
    assert_int_equal(patron_member_erase(t.s, card, "admin"), 0);
    for (size_t i = 0; i < 4; i++) {
        snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM outbox WHERE instr(payload, '%s') > 0",
                 personal[i]);
        assert_int_equal(test_scalar(t.s, sql), 0);
    }
    /* The rows stay (head office still learns of the enrolment and the visit), only emptied. */
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM outbox"), rows + 2);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM outbox WHERE kind = 'member' AND"
                                      " json_extract(payload, '$.name') = 'erased'"),
                     1);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM outbox WHERE kind = 'member' AND"
                                      " json_extract(payload, '$.name') = 'Kept Outbox'"),
                     1);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM outbox WHERE kind = 'feedback' AND"
                                      " json_extract(payload, '$.score') = 1"),
                     1);
    /* Anything else in a row stays append-only. */
    assert_int_not_equal(sqlite3_exec(patron_store_sqlite(t.s),
                                      "UPDATE outbox SET kind = 'x' WHERE store_seq = 1", NULL,
                                      NULL, NULL),
                         SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(patron_store_sqlite(t.s),
                                      "DELETE FROM outbox WHERE store_seq = 1", NULL, NULL, NULL),
                         SQLITE_OK);
    assert_gap_free(t.s);
    test_store_close(&t);
}

static void verify_catches_a_deleted_row(void **state)
{
    (void)state;
    struct test_store t;
    struct patron_verify_result v;
    char card[14];
    test_store_open(&t);
    test_enroll(&t, "Dee Verify", card);
    sell(t.s, card, "S-1", 1000);
    sell(t.s, card, "S-2", 1000);
    assert_gap_free(t.s);
    sqlite3 *db = patron_store_sqlite(t.s);
    assert_int_equal(sqlite3_exec(db,
                                  "DROP TRIGGER outbox_no_delete;"
                                  " DELETE FROM outbox WHERE kind = 'entry' AND row_key = 2",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(patron_ledger_verify(t.s, &v), 0);
    assert_false(v.ok);
    assert_int_equal(v.outbox_gaps, 1);
    assert_int_equal(v.outbox_missing, 1);
    assert_non_null(strstr(v.first_problem, "outbox"));
    /* The last row gone leaves no hole in the numbers, but its entry has no row. */
    struct test_store u;
    test_store_open(&u);
    test_enroll(&u, "Eve Verify", card);
    sell(u.s, card, "S-1", 1000);
    assert_int_equal(sqlite3_exec(patron_store_sqlite(u.s),
                                  "DROP TRIGGER outbox_no_delete;"
                                  " DELETE FROM outbox WHERE store_seq >= (SELECT store_seq FROM"
                                  " outbox WHERE kind = 'entry')",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(patron_ledger_verify(u.s, &v), 0);
    assert_false(v.ok);
    assert_int_equal(v.outbox_gaps, 0);
    assert_int_equal(v.outbox_missing, 1);
    assert_non_null(strstr(v.first_problem, "entry 1"));
    test_store_close(&u);
    test_store_close(&t);
}

struct page {
    int64_t seqs[8];
    size_t n;
    int stop_after;
};

static int page_row(const struct patron_outbox_row *r, void *ctx)
{
    struct page *p = ctx;
    json_error_t e;
    json_t *j = json_loads(r->payload, 0, &e);
    assert_non_null(j);
    assert_true(json_is_object(j));
    json_decref(j);
    assert_int_equal(r->store_id, 1);
    assert_true(r->recorded_at >= TEST_EPOCH);
    if (strcmp(r->kind, "card") == 0) {
        assert_string_equal(r->table, "cards");
        assert_int_equal(strlen(r->row_key), 13);
    }
    if (strcmp(r->kind, "entry") == 0) {
        assert_string_equal(r->table, "entries");
        assert_true(r->member_id > 0);
    }
    p->seqs[p->n++] = r->store_seq;
    return p->stop_after && (int)p->n == p->stop_after ? 42 : 0;
}

static void list_pages_in_order(void **state)
{
    (void)state;
    struct test_store t;
    char card[14];
    size_t count = 0;
    test_store_open(&t);
    test_enroll(&t, "Flo List", card);
    sell(t.s, card, "S-1", 1000); /* rows 1..6: member, consent, card, sale, entry, lot */
    struct page p = {0};
    assert_int_equal(patron_outbox_list(t.s, 0, 3, page_row, &p, &count), 0);
    assert_int_equal(count, 3);
    assert_int_equal(p.seqs[0], 1);
    assert_int_equal(p.seqs[2], 3);
    memset(&p, 0, sizeof p);
    assert_int_equal(patron_outbox_list(t.s, 3, 100, page_row, &p, &count), 0);
    assert_int_equal(count, 3);
    assert_int_equal(p.seqs[0], 4);
    assert_int_equal(p.seqs[2], 6);
    assert_int_equal(patron_outbox_list(t.s, 6, 100, page_row, &p, &count), 0);
    assert_int_equal(count, 0);
    memset(&p, 0, sizeof p);
    p.stop_after = 2;
    assert_int_equal(patron_outbox_list(t.s, 0, 100, page_row, &p, &count), 42);
    assert_int_equal(count, 2);
    assert_int_equal(patron_outbox_list(t.s, -1, 100, page_row, &p, &count), PATRON_EINVAL);
    assert_int_equal(patron_outbox_list(t.s, 0, 100, NULL, NULL, &count), PATRON_EINVAL);
    test_store_close(&t);
}

/* A store from before the outbox: the upgrade writes a row for every fact it holds (an erased
 * member's without their personal data), numbered 1..n; new facts follow on. */
/* A sale's lines travel in its payload, in line order. */
static void a_sale_carries_its_lines_in_order(void **state)
{
    (void)state;
    struct test_store t;
    char card[14];
    struct patron_sale_result r;
    test_store_open(&t);
    test_enroll(&t, "Lines Outbox", card);
    struct patron_sale_line lines[] = {
        {.sku = "TEA", .category = "general", .qty = 2, .unit_minor = 100},
        {.sku = "CAKE", .category = "general", .qty = 1, .unit_minor = 250},
        {.sku = "MILK", .category = "general", .qty = 3, .unit_minor = 50}};
    struct patron_sale in = {.card = card,
                             .ref = "L-1",
                             .total_minor = 600,
                             .lines = lines,
                             .n_lines = 3,
                             .idempotency_key = "L-1"};
    assert_int_equal(patron_sale_record(t.s, &in, &r), 0);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM outbox WHERE kind = 'sale' AND"
                                      " json_extract(payload, '$.ref') = 'L-1' AND"
                                      " json_extract(payload, '$.lines') ="
                                      " '[[1,\"TEA\",\"general\",2,100,100000],"
                                      "[2,\"CAKE\",\"general\",1,250,250000],"
                                      "[3,\"MILK\",\"general\",3,50,50000]]'"),
                     1);
    assert_gap_free(t.s);
    test_store_close(&t);
}

/* The payloads of a sale, its entry and its lot are written from the values the checkout holds;
 * each is byte for byte what json_object() reads back from the rows (quotes, backslashes and UTF-8
 * in the ref, SKUs and categories included), balance_after left out as always. */
static void a_sale_payload_is_what_its_rows_say(void **state)
{
    (void)state;
    static const char *const from_rows =
        "SELECT COUNT(*) FROM outbox o WHERE o.kind = 'sale' AND o.payload IS"
        " (SELECT json_object('id', s.id, 'store_id', s.store_id, 'ref', s.ref,"
        " 'member_id', s.member_id, 'card', s.card, 'total_minor', s.total_minor,"
        " 'member_uid', (SELECT member_uid FROM members WHERE members.id = s.member_id),"
        " 'currency', s.currency, 'lines_minor', s.lines_minor, 'weight_total', s.weight_total,"
        " 'points_earned', s.points_earned, 'tier_multiplier_permille',"
        " s.tier_multiplier_permille, 'created_at', s.created_at, 'lines',"
        " json_group_array(json_array(l.line_no, l.sku, l.category, l.qty, l.unit_minor,"
        " l.weight_per_unit)) FILTER (WHERE l.sale_id IS NOT NULL))"
        " FROM sales s LEFT JOIN sale_lines l ON l.sale_id = s.id WHERE s.id = o.row_key"
        " GROUP BY s.id)";
    static const char *const entries_from_rows =
        "SELECT COUNT(*) FROM outbox o JOIN entries e ON e.id = o.row_key WHERE o.kind = 'entry'"
        " AND o.payload IS json_object('id', e.id, 'store_id', e.store_id, 'store_seq',"
        " e.store_seq, 'kind', e.kind, 'debit', (SELECT COALESCE(name, 'member') FROM accounts"
        " WHERE id = e.debit_account), 'credit', (SELECT COALESCE(name, 'member') FROM accounts"
        " WHERE id = e.credit_account), 'points', e.points, 'member_id', e.member_id,"
        " 'created_at', e.created_at, 'member_uid', (SELECT member_uid FROM members"
        " WHERE members.id = e.member_id), 'original_entry', e.original_entry, 'sale_id',"
        " e.sale_id, 'refund_id', e.refund_id, 'redemption_id', e.redemption_id, 'note', e.note,"
        " 'approved_by', e.approved_by)";
    /* A lot's first outbox row says how it was opened (later rows follow what consumed it). */
    static const char *const lots_from_rows =
        "SELECT COUNT(*) FROM outbox o JOIN lots l ON l.id = o.row_key WHERE o.kind = 'lot'"
        " AND o.store_seq = (SELECT min(store_seq) FROM outbox x WHERE x.kind = 'lot'"
        " AND x.row_key = l.id) AND o.payload IS json_object('id', l.id, 'member_id', l.member_id,"
        " 'entry_id', l.entry_id, 'points', l.points, 'member_uid', (SELECT member_uid"
        " FROM members WHERE members.id = l.member_id), 'remaining', l.points, 'earned_at',"
        " l.earned_at, 'expires_at', l.expires_at)";
    struct test_store t;
    char card[14];
    struct patron_sale_result r;
    test_store_open(&t);
    test_enroll(&t, "Payload Outbox", card);
    assert_int_equal(patron_category_set(t.s, "caf\xc3\xa9", 1500, "test"), 0);
    struct patron_sale_line lines[] = {
        {.sku = "A\"B\\C", .category = "caf\xc3\xa9", .qty = 2, .unit_minor = 125},
        {.sku = "\xe2\x82\xac-1/2", .category = "x'y", .qty = 1, .unit_minor = 0},
        {.sku = "GIFT", .category = "giftcard", .qty = 1, .unit_minor = 999}};
    struct patron_sale in = {.card = card,
                             .ref = "R\"1\\\\",
                             .total_minor = 1249,
                             .lines = lines,
                             .n_lines = 3,
                             .idempotency_key = "P-1"};
    assert_int_equal(patron_sale_record(t.s, &in, &r), 0);
    struct patron_sale bare = {
        .card = card, .ref = "P-2", .total_minor = 500, .idempotency_key = "P-2"};
    assert_int_equal(patron_sale_record(t.s, &bare, &r), 0);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM outbox WHERE kind = 'sale'"), 2);
    assert_int_equal(test_scalar(t.s, from_rows), 2);
    /* The entries and lots they opened, a manager's credit and debit, and a refund's reversal. */
    struct patron_adjustment adj = {.card = card,
                                    .points = 7,
                                    .reason = "said \"sorry\" \\ twice",
                                    .manager = "Ann \xc3\x85",
                                    .idempotency_key = "P-3"};
    struct patron_adjust_result ar;
    assert_int_equal(patron_ledger_adjust(t.s, &adj, &ar), 0);
    adj.points = -3;
    adj.idempotency_key = "P-4";
    assert_int_equal(patron_ledger_adjust(t.s, &adj, &ar), 0);
    struct patron_refund back = {.ref = "P-2", .idempotency_key = "P-5"};
    struct patron_refund_result rr;
    assert_int_equal(patron_refund_record(t.s, &back, &rr), 0);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM outbox WHERE kind = 'entry'"), 5);
    assert_int_equal(test_scalar(t.s, entries_from_rows), 5);
    assert_int_equal(
        test_scalar(t.s, "SELECT COUNT(DISTINCT row_key) FROM outbox WHERE kind = 'lot'"),
        test_scalar(t.s, lots_from_rows));
    assert_true(test_scalar(t.s, lots_from_rows) >= 3);
    assert_gap_free(t.s);
    test_store_close(&t);
}

static int count_uid_reads(unsigned type, void *ctx, void *stmt, void *x)
{
    (void)x;
    const char *sql = type == SQLITE_TRACE_STMT ? sqlite3_sql(stmt) : NULL;
    if (sql && strstr(sql, "SELECT member_uid FROM members"))
        (*(int *)ctx)++;
    return 0;
}

/* A checkout's outbox rows (sale, entry, lot) carry the member_uid its card look-up read, not
 * one read again per row; quoted as json_quote() quotes it (a uid with a quote and a
 * backslash), the same in an adjustment's entry. */
static void a_checkout_reads_the_member_uid_once(void **state)
{
    (void)state;
    struct test_store t;
    char card[14];
    struct patron_sale_result r;
    int reads = 0;
    test_store_open(&t);
    test_enroll(&t, "Uid Outbox", card);
    assert_int_equal(sqlite3_exec(patron_store_sqlite(t.s),
                                  "UPDATE members SET member_uid = '1-\"7\\' WHERE id = 1", NULL,
                                  NULL, NULL),
                     SQLITE_OK);
    sqlite3_trace_v2(patron_store_sqlite(t.s), SQLITE_TRACE_STMT, count_uid_reads, &reads);
    struct patron_sale in = {
        .card = card, .ref = "U-1", .total_minor = 5000, .idempotency_key = "U-1"};
    assert_int_equal(patron_sale_record(t.s, &in, &r), 0);
    assert_true(r.points_earned > 0);
    assert_int_equal(reads, 0);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM outbox WHERE kind IN ('sale', 'entry',"
                                      " 'lot') AND instr(payload, '\"member_uid\":' ||"
                                      " json_quote((SELECT member_uid FROM members WHERE id = 1)))"
                                      " > 0"),
                     3);
    struct patron_adjustment adj = {.card = card,
                                    .points = 5,
                                    .reason = "goodwill",
                                    .manager = "Ann",
                                    .idempotency_key = "U-2"};
    struct patron_adjust_result ar;
    assert_int_equal(patron_ledger_adjust(t.s, &adj, &ar), 0);
    sqlite3_trace_v2(patron_store_sqlite(t.s), 0, NULL, NULL);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM outbox WHERE kind = 'entry' AND"
                                      " instr(payload, '\"member_uid\":\"1-\\\"7\\\\\"') > 0"),
                     2);
    test_store_close(&t);
}

/* SQLite tests a partial index's condition on every insert; an IN list of more than two
 * constants there builds a temporary table each time (most of an outbox row's cost). The
 * erasure's condition still finds its rows through the index (INDEXED BY fails otherwise). */
static void an_outbox_row_builds_no_temporary_table(void **state)
{
    (void)state;
    struct test_store t;
    test_store_open(&t);
    sqlite3_stmt *st;
    int ops = 0, ephemeral = 0;
    assert_int_equal(sqlite3_prepare_v2(patron_store_sqlite(t.s),
                                        "EXPLAIN INSERT INTO outbox(store_id, kind, tbl, row_key,"
                                        " member_id, payload, recorded_at)"
                                        " VALUES (1, 'lot', 'lots', 1, 1, '{}', 0)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        ops++;
        ephemeral += strcmp((const char *)sqlite3_column_text(st, 1), "OpenEphemeral") == 0;
    }
    sqlite3_finalize(st);
    assert_true(ops > 0);
    assert_int_equal(ephemeral, 0);
    char card[14];
    test_enroll(&t, "Ada Outbox", card);
    assert_true(test_scalar(t.s, "SELECT COUNT(*) FROM outbox WHERE member_id = 1 AND"
                                 " tbl = 'members'") == 1);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM outbox INDEXED BY outbox_personal"
                                      " WHERE member_id = 1 AND (tbl = 'members' OR"
                                      " tbl = 'consent_changes' OR tbl = 'feedback' OR"
                                      " tbl = 'goodwill')"),
                     test_scalar(t.s, "SELECT COUNT(*) FROM outbox WHERE member_id = 1 AND"
                                      " tbl IN ('members', 'consent_changes', 'feedback',"
                                      " 'goodwill')"));
    test_store_close(&t);
}

static void a_store_upgraded_to_the_outbox_holds_every_fact(void **state)
{
    (void)state;
    struct test_store t;
    struct patron_member m;
    char card[14], gone[14];
    int64_t seq = 0, reward = 0, fb = 0;
    test_store_open(&t);
    test_enroll(&t, "Gus Upgrade", card);
    struct patron_enrollment in = {.name = "Hal Vanished", .email = "hal@example.org"};
    assert_int_equal(patron_member_enroll(t.s, &in, &m), 0);
    memcpy(gone, m.card, sizeof gone);
    sell(t.s, card, "S-1", 50000);
    sell(t.s, card, "S-2", 50000);
    sell(t.s, gone, "S-3", 1000);
    struct patron_refund_result rr;
    struct patron_refund rf = {.ref = "S-2", .idempotency_key = "R-1"};
    assert_int_equal(patron_refund_record(t.s, &rf, &rr), 0);
    struct patron_reward_def def = {.name = "Tea", .cost = 10, .kind = PATRON_VALUE_ITEM};
    assert_int_equal(patron_reward_add(t.s, &def, &reward), 0);
    struct patron_redeem_request rq = {.card = card, .reward_id = reward, .idempotency_key = "D-1"};
    struct patron_redeem_result rd;
    assert_int_equal(patron_reward_redeem(t.s, &rq, &rd), 0);
    struct patron_voucher_request vr = {.token_or_code = rd.code, .ref = "S-4", .till = "t1"};
    struct patron_voucher_result vres;
    assert_int_equal(patron_voucher_redeem(t.s, &vr, &vres), 0);
    struct patron_feedback f = {.card = gone, .score = 3, .comment = "Hal says hello"};
    assert_int_equal(patron_feedback_record(t.s, &f, &fb), 0);
    assert_int_equal(patron_member_erase(t.s, gone, "admin"), 0);
    assert_int_equal(sqlite3_exec(patron_store_sqlite(t.s),
                                  "DROP TABLE outbox; DROP TABLE sync_state;"
                                  /* and what the migrations after version 8 added */
                                  "ALTER TABLE terminals DROP COLUMN display_spec;"
                                  "ALTER TABLE terminals DROP COLUMN display_profile;"
                                  "ALTER TABLE members DROP COLUMN greet_by_name;"
                                  "ALTER TABLE terminals DROP COLUMN scanner;"
                                  "DROP TABLE chain_pull; DROP TRIGGER members_uid;"
                                  "DROP TABLE chain_erasure_pull; DROP TABLE held_sale_lines;"
                                  "DROP TABLE held_sales;"
                                  "DROP TABLE chain_vouchers; DROP TABLE chain_voucher_pull;"
                                  "DROP TABLE offline_spends;"
                                  "DROP INDEX members_uid;"
                                  "ALTER TABLE members DROP COLUMN member_uid;"
                                  "ALTER TABLE members DROP COLUMN chain_points;"
                                  "ALTER TABLE members DROP COLUMN chain_earned;"
                                  "DROP TABLE card_spaces; DROP TABLE card_space_grants;"
                                  "DROP INDEX entries_flows;" TEST_SQL_AS_SCHEMA_25
                                  "PRAGMA user_version = 8",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    patron_store_close(t.s);
    assert_int_equal(patron_store_open(t.path, &t.s), 0);
    patron_store_set_fixed_time(t.s, t.now);
    assert_int_equal(test_scalar(t.s, "PRAGMA user_version"), PATRON_SCHEMA_VERSION);
    static const char *const pairs[][2] = {
        {"member", "members"},
        {"card", "cards"},
        {"consent", "consent_changes"},
        {"sale", "sales"},
        {"refund", "refunds"},
        {"entry", "entries"},
        {"lot", "lots"},
        {"redemption", "redemptions"},
        {"voucher_issued", "vouchers"},
        {"voucher_redeemed", "voucher_redemptions"},
        {"feedback", "feedback"},
        {"erasure", "erasures"},
    };
    char sql[200];
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM %s", pairs[i][1]);
        int64_t rows = test_scalar(t.s, sql);
        assert_true(rows > 0);
        snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM outbox WHERE kind = '%s'", pairs[i][0]);
        assert_int_equal(test_scalar(t.s, sql), rows);
    }
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM outbox WHERE store_seq = 1 AND"
                                      " kind = 'member'"),
                     1);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM outbox WHERE kind = 'erasure' AND"
                                      " store_seq = (SELECT MAX(store_seq) FROM outbox)"),
                     1);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM outbox WHERE instr(payload, 'Hal')"
                                      " OR instr(payload, 'hal@')"),
                     0);
    assert_gap_free(t.s);
    assert_int_equal(patron_outbox_last(t.s, &seq), 0);
    sell(t.s, card, "S-5", 1000);
    assert_string_equal(kinds_since(t.s, &seq), "sale,entry,lot");
    assert_gap_free(t.s);
    test_store_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_fact_writes_exactly_its_rows),
        cmocka_unit_test(offline_acceptance_is_in_the_outbox),
        cmocka_unit_test(failed_writes_leave_no_row),
        cmocka_unit_test(a_rolled_back_request_in_a_batch_leaves_no_gap),
        cmocka_unit_test(erasure_leaves_no_personal_data_in_the_outbox),
        cmocka_unit_test(verify_catches_a_deleted_row),
        cmocka_unit_test(list_pages_in_order),
        cmocka_unit_test(a_sale_carries_its_lines_in_order),
        cmocka_unit_test(a_sale_payload_is_what_its_rows_say),
        cmocka_unit_test(a_checkout_reads_the_member_uid_once),
        cmocka_unit_test(an_outbox_row_builds_no_temporary_table),
        cmocka_unit_test(a_store_upgraded_to_the_outbox_holds_every_fact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
