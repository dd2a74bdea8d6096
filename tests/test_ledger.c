/* SPDX-License-Identifier: MIT */
/* The points ledger: the earning rule and its rounding, idempotent sales, proportional refunds,
 * balance floors per policy, expiry by lots, tiers over a moved clock, manager adjustments, and
 * the verifier catching a balance corrupted by hand. */
#include <stdio.h>
#include <string.h>

#include <openssl/sha.h>
#include <sqlite3.h>

#include "testutil.h"

static struct test_store t;
static char card[14];

static int setup(void **state)
{
    (void)state;
    test_store_open(&t);
    test_enroll(&t, "Grace Hopper", card);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_store_close(&t);
    return 0;
}

static int sale(const char *ref, int64_t total, const struct patron_sale_line *lines, size_t n,
                struct patron_sale_result *r)
{
    char key[64];
    snprintf(key, sizeof key, "k-%s", ref);
    struct patron_sale in = {.card = card,
                             .ref = ref,
                             .total_minor = total,
                             .lines = lines,
                             .n_lines = n,
                             .idempotency_key = key};
    return patron_sale_record(t.s, &in, r);
}

static int64_t earn(const char *ref, int64_t total)
{
    struct patron_sale_result r;
    assert_int_equal(sale(ref, total, NULL, 0, &r), 0);
    return r.points_earned;
}

static int refund(const char *ref, const char *key, const char *sku, int64_t qty,
                  struct patron_refund_result *r)
{
    struct patron_refund_line line = {sku, qty};
    struct patron_refund in = {
        .ref = ref, .lines = sku ? &line : NULL, .n_lines = sku ? 1 : 0, .idempotency_key = key};
    return patron_refund_record(t.s, &in, r);
}

static int64_t balance(void)
{
    struct patron_member m;
    assert_int_equal(patron_member_by_card(t.s, card, &m), 0);
    return m.points;
}

static void earning_rounds_down_per_sale(void **state)
{
    (void)state;
    assert_int_equal(earn("r1", 1299), 12); /* 1 point per 100 minor units, rounded down */
    assert_int_equal(earn("r2", 99), 0);
    assert_int_equal(balance(), 12);
    test_assert_ledger_verifies(t.s);
}

static void giftcards_and_reward_paid_part_earn_nothing(void **state)
{
    (void)state;
    struct patron_sale_line lines[] = {{"CAKE", "food", 2, 1000}, {"GC50", "giftcard", 1, 5000}};
    struct patron_sale_result r;
    assert_int_equal(sale("g1", 7000, lines, 2, &r), 0);
    assert_int_equal(r.points_earned, 20); /* only the cakes */
    /* 1000 of 7000 paid with a reward: the food's share of what was paid earns */
    assert_int_equal(sale("g2", 6000, lines, 2, &r), 0);
    assert_int_equal(r.points_earned, 17); /* floor(2000 * 6000/7000 / 100) = 17 */
    assert_int_equal(patron_category_set(t.s, "wine", 2000, "owner"), 0);
    struct patron_sale_line wine = {"RED", "wine", 1, 1000};
    assert_int_equal(sale("g3", 1000, &wine, 1, &r), 0);
    assert_int_equal(r.points_earned, 20); /* double points category */
}

static void same_key_same_sale_earns_once(void **state)
{
    (void)state;
    struct patron_sale_result a, b;
    assert_int_equal(sale("once", 5000, NULL, 0, &a), 0);
    assert_int_equal(sale("once", 5000, NULL, 0, &b), 0);
    assert_false(a.replayed);
    assert_true(b.replayed);
    assert_int_equal(b.sale_id, a.sale_id);
    assert_int_equal(b.points_earned, 50);
    assert_int_equal(b.points, a.points);
    assert_int_equal(balance(), 50);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM entries WHERE kind = 'earn'"), 1);
}

static void same_key_other_total_is_refused(void **state)
{
    (void)state;
    struct patron_sale_result r;
    assert_int_equal(sale("dup", 5000, NULL, 0, &r), 0);
    assert_int_equal(sale("dup", 5001, NULL, 0, &r), PATRON_EIDEMPOTENCY);
    /* the same ref under a new key is refused too (a receipt earns once), as a business rule
     * that names the first sale, not as a misused key */
    struct patron_sale in = {
        .card = card, .ref = "dup", .total_minor = 5000, .idempotency_key = "another"};
    int64_t first = test_scalar(t.s, "SELECT id FROM sales WHERE ref = 'dup'");
    char named[64];
    snprintf(named, sizeof named, "sale ref dup was already recorded (sale %lld)",
             (long long)first);
    assert_int_equal(patron_sale_record(t.s, &in, &r), PATRON_EDUPLICATE);
    assert_int_equal(patron_err_kind(PATRON_EDUPLICATE), PATRON_KIND_REFUSED);
    assert_string_equal(patron_store_detail(t.s), named);
    assert_int_equal(balance(), 50);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM sales"), 1);
}

/* Two tills may happen to send the same key string: each names its own request. */
static void keys_are_scoped_by_till(void **state)
{
    (void)state;
    struct patron_sale_result a, b, c;
    struct patron_sale one = {
        .card = card, .ref = "till1-1", .total_minor = 1000, .idempotency_key = "K-1"};
    struct patron_sale two = {
        .card = card, .ref = "till2-1", .total_minor = 2000, .idempotency_key = "K-1"};
    patron_store_set_till(t.s, 1);
    assert_int_equal(patron_sale_record(t.s, &one, &a), 0);
    patron_store_set_till(t.s, 2);
    assert_int_equal(patron_sale_record(t.s, &two, &b), 0);
    assert_false(b.replayed);
    assert_int_not_equal(b.sale_id, a.sale_id);
    patron_store_set_till(t.s, 1);
    assert_int_equal(patron_sale_record(t.s, &one, &c), 0); /* till 1's retry */
    assert_true(c.replayed);
    assert_int_equal(c.sale_id, a.sale_id);
    assert_int_equal(patron_sale_record(t.s, &two, &c), PATRON_EIDEMPOTENCY);
    patron_store_set_till(t.s, 0);
    assert_int_equal(balance(), 30);
}

static void bad_sales_are_refused_before_any_write(void **state)
{
    (void)state;
    struct patron_sale_result r;
    struct patron_sale_line bad = {"X", "food", 0, 100};
    assert_int_equal(sale("b1", -1, NULL, 0, &r), PATRON_EINVAL);
    assert_int_equal(sale("b2", 100, &bad, 1, &r), PATRON_EINVAL);
    struct patron_sale other = {
        .card = card, .ref = "b3", .total_minor = 100, .currency = "USD", .idempotency_key = "b3"};
    assert_int_equal(patron_sale_record(t.s, &other, &r), PATRON_EINVAL);
    other.currency = NULL;
    other.card = "2900000000019"; /* wrong check digit */
    assert_int_equal(patron_sale_record(t.s, &other, &r), PATRON_ECHECKDIGIT);
    other.card = "2900000000018"; /* valid, unknown */
    assert_int_equal(patron_sale_record(t.s, &other, &r), PATRON_ENOCARD);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM sales"), 0);
}

static void partial_refunds_reverse_in_proportion(void **state)
{
    (void)state;
    struct patron_sale_line lines[] = {{"MUG", "home", 3, 1100}};
    struct patron_sale_result s;
    struct patron_refund_result r;
    assert_int_equal(sale("p1", 3300, lines, 1, &s), 0);
    assert_int_equal(s.points_earned, 33);
    /* 33 points over 3 mugs: floor(33*1/3)=11, then 22-11, then 33-22 */
    assert_int_equal(refund("p1", "rf1", "MUG", 1, &r), 0);
    assert_int_equal(r.points_reversed, 11);
    assert_int_equal(refund("p1", "rf2", "MUG", 1, &r), 0);
    assert_int_equal(r.points_reversed, 11);
    assert_int_equal(refund("p1", "rf3", "MUG", 2, &r), PATRON_EREFUND); /* only 1 left */
    assert_int_equal(refund("p1", "rf3", "MUG", 1, &r), 0);
    assert_int_equal(r.points_reversed, 11);
    assert_int_equal(balance(), 0);
    assert_int_equal(refund("p1", "rf4", NULL, 0, &r), PATRON_EREFUND); /* nothing left */
    test_assert_ledger_verifies(t.s);
}

static void cumulative_rounding_never_overshoots(void **state)
{
    (void)state;
    struct patron_sale_line lines[] = {{"PEN", "office", 3, 333}};
    struct patron_sale_result s;
    struct patron_refund_result r;
    assert_int_equal(sale("c1", 999, lines, 1, &s), 0);
    assert_int_equal(s.points_earned, 9);
    int64_t sum = 0;
    for (int i = 0; i < 3; i++) {
        char key[16];
        snprintf(key, sizeof key, "c1-%d", i);
        assert_int_equal(refund("c1", key, "PEN", 1, &r), 0);
        sum += r.points_reversed;
    }
    assert_int_equal(sum, 9); /* all three together reverse exactly what was earned */
}

static void refund_replay_and_unknown_sale(void **state)
{
    (void)state;
    struct patron_refund_result a, b;
    earn("w1", 2000);
    assert_int_equal(refund("w1", "whole", NULL, 0, &a), 0);
    assert_int_equal(refund("w1", "whole", NULL, 0, &b), 0);
    assert_true(b.replayed);
    assert_int_equal(b.points_reversed, 20);
    assert_int_equal(balance(), 0);
    assert_int_equal(refund("nope", "x", NULL, 0, &a), PATRON_ENOSALE);
    assert_int_equal(refund("w1", "other", "NOSUCH", 1, &a), PATRON_EREFUND);
}

static int refund_return(const char *key, const char *return_ref, const char *sku, int64_t qty,
                         struct patron_refund_result *r)
{
    struct patron_refund_line line = {sku, qty};
    struct patron_refund in = {.ref = "rr",
                               .lines = &line,
                               .n_lines = 1,
                               .idempotency_key = key,
                               .return_ref = return_ref};
    return patron_refund_record(t.s, &in, r);
}

/* Each return is a refund of its own: one cake today and another tomorrow are two refunds; the
 * same return reference again answers the first, whatever the key; reused for another return it
 * is refused, naming the first. */
static void refunds_are_named_by_their_return_ref(void **state)
{
    (void)state;
    struct patron_sale_line lines[] = {{"CAKE", "food", 2, 1000}, {"TEA", "food", 1, 1000}};
    struct patron_sale_result s;
    struct patron_refund_result a, b, c;
    assert_int_equal(sale("rr", 3000, lines, 2, &s), 0);
    assert_int_equal(refund_return("k1", "RET-1", "CAKE", 1, &a), 0);
    assert_int_equal(refund_return("k2", "RET-2", "CAKE", 1, &b), 0);
    assert_false(b.replayed);
    assert_int_not_equal(b.refund_id, a.refund_id);
    assert_int_equal(b.points_reversed, 10);
    assert_string_equal(b.return_ref, "RET-2");
    assert_int_equal(balance(), 10);
    /* a retry under a new key, same return: the first answer */
    assert_int_equal(refund_return("k3", "RET-2", "CAKE", 1, &c), 0);
    assert_true(c.replayed);
    assert_int_equal(c.refund_id, b.refund_id);
    assert_string_equal(c.return_ref, "RET-2");
    assert_int_equal(refund_return("k2", "RET-2", "CAKE", 1, &c), 0); /* and under its key */
    assert_true(c.replayed);
    assert_int_equal(c.refund_id, b.refund_id);
    /* the same return reference for another return */
    assert_int_equal(refund_return("k4", "RET-2", "TEA", 1, &c), PATRON_EDUPLICATE);
    assert_non_null(strstr(patron_store_detail(t.s), "return ref RET-2 was already recorded"));
    assert_int_equal(refund_return("k2", "RET-2", "TEA", 1, &c), PATRON_EDUPLICATE); /* its key */
    assert_int_equal(refund_return("k1", "RET-9", "TEA", 1, &c), PATRON_EIDEMPOTENCY);
    assert_int_equal(refund_return("k5", "RET-3", "CAKE", 1, &c), PATRON_EREFUND);
    assert_int_equal(refund_return("k6", "bad ref", "TEA", 1, &c), PATRON_EINVAL);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM refunds"), 2);
    assert_int_equal(balance(), 10);
    test_assert_ledger_verifies(t.s);
}

static void spent_points_clamp_policy_records_shortfall(void **state)
{
    (void)state;
    struct patron_refund_result r;
    int64_t reward_id;
    struct patron_reward_def d = {"Tote bag", 80, PATRON_VALUE_ITEM, 7, 30};
    struct patron_redeem_result rr;
    struct patron_redeem_request req = {card, 0, "spend"};
    earn("s1", 10000);
    assert_int_equal(patron_reward_add(t.s, &d, &reward_id), 0);
    req.reward_id = reward_id;
    assert_int_equal(patron_reward_redeem(t.s, &req, &rr), 0);
    assert_int_equal(balance(), 20);
    assert_int_equal(refund("s1", "s1-all", NULL, 0, &r), 0);
    assert_int_equal(r.points_reversed, 20);
    assert_int_equal(r.shortfall, 80);
    assert_int_equal(balance(), 0);
    test_assert_ledger_verifies(t.s);
}

static void spent_points_negative_policy_goes_below_zero(void **state)
{
    (void)state;
    struct patron_refund_result r;
    int64_t reward_id;
    struct patron_reward_def d = {"Tote bag", 80, PATRON_VALUE_ITEM, 7, 30};
    struct patron_redeem_result rr;
    struct patron_redeem_request req = {card, 0, "spend"};
    assert_int_equal(patron_program_set(t.s, "refund_policy", "negative", "owner"), 0);
    earn("n1", 10000);
    assert_int_equal(patron_reward_add(t.s, &d, &reward_id), 0);
    req.reward_id = reward_id;
    assert_int_equal(patron_reward_redeem(t.s, &req, &rr), 0);
    assert_int_equal(refund("n1", "n1-all", NULL, 0, &r), 0);
    assert_int_equal(r.points_reversed, 100);
    assert_int_equal(r.shortfall, 0);
    assert_int_equal(balance(), -80);
    test_assert_ledger_verifies(t.s);
    earn("n2", 10000); /* the deficit is covered first */
    assert_int_equal(balance(), 20);
    test_assert_ledger_verifies(t.s);
}

static void expiry_is_fifo_and_idempotent(void **state)
{
    (void)state;
    struct patron_expiry_result e;
    struct patron_scan_result scan;
    earn("e1", 3000); /* 30 points at day 0 */
    t.now += 200 * TEST_DAY;
    earn("e2", 5000);        /* 50 points at day 200 */
    t.now += 150 * TEST_DAY; /* day 350: the first lot expires at day 365 */
    assert_int_equal(patron_scan(t.s, card, &scan), 0);
    assert_int_equal(scan.expiring_points, 30);
    assert_int_equal(scan.expiring_at, TEST_EPOCH + 365 * TEST_DAY);
    t.now += 16 * TEST_DAY; /* day 366 */
    assert_int_equal(patron_ledger_expire(t.s, &e), 0);
    assert_int_equal(e.points_expired, 30);
    assert_int_equal(e.lots_expired, 1);
    assert_int_equal(balance(), 50);
    assert_int_equal(patron_ledger_expire(t.s, &e), 0);
    assert_int_equal(e.points_expired, 0); /* running it again changes nothing */
    assert_int_equal(balance(), 50);
    test_assert_ledger_verifies(t.s);
}

static void spending_takes_the_oldest_lot_first(void **state)
{
    (void)state;
    struct patron_expiry_result e;
    struct patron_adjust_result a;
    struct patron_adjustment adj = {card, -40, "damaged goods returned", "Mia", "adj-1"};
    earn("f1", 3000);
    t.now += 200 * TEST_DAY;
    earn("f2", 5000);
    assert_int_equal(patron_ledger_adjust(t.s, &adj, &a), 0); /* takes 30 from lot 1, 10 from 2 */
    t.now += 170 * TEST_DAY;
    assert_int_equal(patron_ledger_expire(t.s, &e), 0);
    assert_int_equal(e.points_expired, 0); /* lot 1 was already spent */
    t.now += 200 * TEST_DAY;
    assert_int_equal(patron_ledger_expire(t.s, &e), 0);
    assert_int_equal(e.points_expired, 40);
    assert_int_equal(balance(), 0);
    test_assert_ledger_verifies(t.s);
}

static void tiers_rise_on_earn_and_fall_at_period_end(void **state)
{
    (void)state;
    struct patron_sale_result r;
    struct patron_scan_result scan;
    assert_int_equal(patron_tier_set(t.s, "Silver", 100, 1500, "owner"), 0);
    assert_int_equal(sale("t1", 6000, NULL, 0, &r), 0);
    assert_string_equal(r.tier, "Member");
    assert_int_equal(patron_scan(t.s, card, &scan), 0);
    assert_string_equal(scan.next_tier, "Silver");
    assert_int_equal(scan.points_to_next_tier, 40);
    assert_int_equal(sale("t2", 4000, NULL, 0, &r), 0); /* crosses 100 earned */
    assert_string_equal(r.tier, "Silver");
    assert_true(r.tier_upgraded);
    assert_int_equal(sale("t3", 1000, NULL, 0, &r), 0);
    assert_int_equal(r.points_earned, 15); /* Silver earns x1.5 */
    t.now += 364 * TEST_DAY;
    assert_int_equal(patron_scan(t.s, card, &scan), 0);
    assert_string_equal(scan.member.tier, "Silver"); /* period not over yet */
    t.now += 2 * TEST_DAY;
    assert_int_equal(patron_scan(t.s, card, &scan), 0);
    assert_string_equal(scan.member.tier, "Member"); /* nothing earned in the last 12 months */
}

static void tier_kept_when_requalified(void **state)
{
    (void)state;
    struct patron_sale_result r;
    struct patron_expiry_result e;
    assert_int_equal(patron_tier_set(t.s, "Silver", 100, 1000, "owner"), 0);
    assert_int_equal(sale("q1", 10000, NULL, 0, &r), 0);
    assert_string_equal(r.tier, "Silver");
    t.now += 300 * TEST_DAY;
    assert_int_equal(sale("q2", 10000, NULL, 0, &r), 0);
    t.now += 70 * TEST_DAY; /* period over; q2 alone still qualifies */
    assert_int_equal(patron_ledger_expire(t.s, &e), 0);
    assert_int_equal(e.members_downgraded, 1);
    struct patron_member m;
    assert_int_equal(patron_member_by_card(t.s, card, &m), 0);
    assert_string_equal(m.tier, "Silver");
}

static void adjustments_need_reason_and_manager(void **state)
{
    (void)state;
    struct patron_adjust_result a;
    struct patron_adjustment adj = {card, 25, NULL, "Mia", "a1"};
    assert_int_equal(patron_ledger_adjust(t.s, &adj, &a), PATRON_EINVAL);
    adj.reason = "goodwill";
    adj.manager = NULL;
    assert_int_equal(patron_ledger_adjust(t.s, &adj, &a), PATRON_EINVAL);
    adj.manager = "Mia";
    assert_int_equal(patron_ledger_adjust(t.s, &adj, &a), 0);
    assert_int_equal(a.points, 25);
    struct patron_adjustment debit = {card, -26, "typo", "Mia", "a2"};
    assert_int_equal(patron_ledger_adjust(t.s, &debit, &a), PATRON_ENOFUNDS);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM entries WHERE kind = 'adjust' AND "
                                      "approved_by = 'Mia' AND note = 'goodwill'"),
                     1);
    test_assert_ledger_verifies(t.s);
}

/* The adjustment sent again with its key: a replay, answering `entry_id` and `points`. */
static void assert_replay_answers(const struct patron_adjustment *adj, int64_t entry_id,
                                  int64_t points)
{
    struct patron_adjust_result again;
    assert_int_equal(patron_ledger_adjust(t.s, adj, &again), 0);
    assert_true(again.replayed);
    assert_int_equal(again.entry_id, entry_id);
    assert_int_equal(again.points, points);
}

/* The same adjustment sent again answers what its first answer said, its entry and the points
 * then, however the balance moved since (a sale here, the chain's part pulled from head office),
 * and posts nothing more. */
static void adjustment_replay_answers_the_first_answer(void **state)
{
    (void)state;
    struct patron_adjust_result first;
    struct patron_adjustment adj = {card, 25, "goodwill", "Mia", "adj-replay"};
    earn("p1", 5000);
    assert_int_equal(patron_ledger_adjust(t.s, &adj, &first), 0);
    assert_false(first.replayed);
    assert_int_equal(first.points, 75);
    earn("p2", 3000);
    assert_int_equal(sqlite3_exec(patron_store_sqlite(t.s), "UPDATE members SET chain_points = 40",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(balance(), 145);
    assert_replay_answers(&adj, first.entry_id, 75);
    assert_int_equal(balance(), 145);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM entries WHERE kind = 'adjust'"), 1);
    /* a debit's answer likewise */
    struct patron_adjustment debit = {card, -45, "typo", "Mia", "adj-replay-debit"};
    assert_int_equal(patron_ledger_adjust(t.s, &debit, &first), 0);
    assert_int_equal(first.points, 100);
    earn("p3", 1000);
    assert_replay_answers(&debit, first.entry_id, 100);
    test_assert_ledger_verifies(t.s);
}

/* A store written before entries kept an adjustment's answer: the migration adds the column and
 * rewrites no entry; an adjustment made before answers its replay with the balance as it is now
 * (nothing kept says otherwise), one made after answers its first answer. */
static void adjustments_made_before_the_answer_was_kept_replay_today_s_balance(void **state)
{
    (void)state;
    struct patron_adjust_result old_first, new_first;
    struct patron_adjustment old_adj = {card, 25, "goodwill", "Mia", "adj-old"};
    struct patron_adjustment new_adj = {card, 10, "goodwill", "Mia", "adj-new"};
    char pragma[48];
    assert_int_equal(patron_ledger_adjust(t.s, &old_adj, &old_first), 0);
    assert_int_equal(old_first.points, 25);
    assert_int_equal(
        sqlite3_exec(patron_store_sqlite(t.s), TEST_SQL_NO_ADJUSTMENT_ANSWER, NULL, NULL, NULL),
        SQLITE_OK);
    snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", PATRON_SCHEMA_VERSION - 1);
    assert_int_equal(sqlite3_exec(patron_store_sqlite(t.s), pragma, NULL, NULL, NULL), SQLITE_OK);
    patron_store_close(t.s);
    assert_int_equal(patron_store_open(t.path, &t.s), 0);
    patron_store_set_fixed_time(t.s, t.now);
    assert_int_equal(test_scalar(t.s, "PRAGMA user_version"), PATRON_SCHEMA_VERSION);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM entries WHERE balance_after IS NULL"),
                     1);
    earn("m1", 5000);
    assert_replay_answers(&old_adj, old_first.entry_id, 75);
    assert_int_equal(patron_ledger_adjust(t.s, &new_adj, &new_first), 0);
    assert_int_equal(new_first.points, 85);
    earn("m2", 5000);
    assert_replay_answers(&new_adj, new_first.entry_id, 85);
    assert_int_equal(balance(), 135);
    test_assert_ledger_verifies(t.s);
}

static void verify_catches_a_corrupted_balance(void **state)
{
    (void)state;
    struct patron_verify_result v;
    earn("v1", 5000);
    test_assert_ledger_verifies(t.s);
    assert_int_equal(sqlite3_exec(patron_store_sqlite(t.s),
                                  "UPDATE accounts SET balance = balance + 7 WHERE member_id = 1",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(patron_ledger_verify(t.s, &v), 0);
    assert_false(v.ok);
    assert_int_equal(v.accounts_bad, 1);
    assert_int_equal(v.program_sum, 7);
    assert_non_null(strstr(v.first_problem, "57"));
}

static void entries_are_append_only_and_numbered(void **state)
{
    (void)state;
    struct patron_refund_result r;
    earn("a1", 5000);
    earn("a2", 5000);
    assert_int_equal(refund("a1", "a1r", NULL, 0, &r), 0);
    assert_int_not_equal(
        sqlite3_exec(patron_store_sqlite(t.s), "UPDATE entries SET points = 1", NULL, NULL, NULL),
        SQLITE_OK);
    assert_int_not_equal(
        sqlite3_exec(patron_store_sqlite(t.s), "DELETE FROM entries", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM entries"), 3);
    assert_int_equal(test_scalar(t.s, "SELECT MAX(store_seq) FROM entries WHERE store_id = 1"), 3);
    assert_int_equal(
        test_scalar(t.s, "SELECT original_entry FROM entries WHERE kind = 'reverse'"),
        test_scalar(t.s, "SELECT id FROM entries WHERE sale_id = 1 AND kind = 'earn'"));
}

/* How many temporary B-trees (OpenEphemeral) the statement that writes a ledger entry builds. */
static int entry_insert_temp_btrees(patron_store *s)
{
    sqlite3_stmt *st;
    int n = 0;
    assert_int_equal(sqlite3_prepare_v2(patron_store_sqlite(s),
                                        "EXPLAIN INSERT INTO entries(id, store_id, store_seq, kind,"
                                        " debit_account, credit_account, points, member_id,"
                                        " created_at) VALUES (?1, 1, ?1, ?2, 1, 2, 1, 1, 0)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW)
        n += strcmp((const char *)sqlite3_column_text(st, 1), "OpenEphemeral") == 0;
    sqlite3_finalize(st);
    return n;
}

/* The entry's kind is checked without a temporary B-tree per insert (an IN list of five did
 * build one), still refuses an unknown kind, and a store written before is converted. */
static void entry_kind_check_builds_no_temporary_btree(void **state)
{
    (void)state;
    sqlite3 *db = patron_store_sqlite(t.s);
    earn("k1", 5000);
    assert_int_equal(entry_insert_temp_btrees(t.s), 0);
    assert_int_equal(sqlite3_exec(db,
                                  "INSERT INTO entries(store_id, store_seq, kind, debit_account,"
                                  " credit_account, points, member_id, created_at)"
                                  " VALUES (1, 99, 'gift', 1, 2, 1, 1, 0)",
                                  NULL, NULL, NULL),
                     SQLITE_CONSTRAINT_CHECK);
    /* a store as the migration before this one left it: the IN list, six versions back (the
     * conversion is followed by the report indexes', the card spaces', the entry flows', the sale
     * lines' and the adjustment answer's migrations) */
    assert_int_equal(sqlite3_exec(db,
                                  "PRAGMA writable_schema = ON;"
                                  "UPDATE sqlite_schema SET sql = replace(sql,"
                                  " 'CHECK(kind = ''earn'' OR kind = ''redeem'' OR kind ="
                                  " ''reverse'' OR kind = ''expire'' OR kind = ''adjust'')',"
                                  " 'CHECK(kind IN (''earn'',''redeem'',''reverse'',''expire'',"
                                  "''adjust''))') WHERE name = 'entries';"
                                  "PRAGMA writable_schema = RESET;"
                                  "DROP TABLE card_spaces; DROP TABLE card_space_grants;"
                                  "DROP INDEX entries_flows;" TEST_SQL_AS_SCHEMA_25,
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(entry_insert_temp_btrees(t.s), 1); /* what every entry cost before */
    char pragma[48];
    snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", PATRON_SCHEMA_VERSION - 6);
    assert_int_equal(sqlite3_exec(db, pragma, NULL, NULL, NULL), SQLITE_OK);
    patron_store_close(t.s);
    assert_int_equal(patron_store_open(t.path, &t.s), 0);
    patron_store_set_fixed_time(t.s, t.now);
    assert_int_equal(test_scalar(t.s, "PRAGMA user_version"), PATRON_SCHEMA_VERSION);
    assert_int_equal(entry_insert_temp_btrees(t.s), 0);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM sqlite_schema WHERE name = 'entries'"
                                      " AND sql LIKE '%kind IN%'"),
                     0);
    earn("k2", 5000);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM entries WHERE kind = 'earn'"), 2);
    test_assert_ledger_verifies(t.s);
}

static void batch_failure_undoes_only_itself(void **state)
{
    (void)state;
    struct patron_sale_result r;
    assert_int_equal(patron_store_batch_begin(t.s), 0);
    assert_int_equal(sale("b1", 1000, NULL, 0, &r), 0);
    struct patron_sale bad = {
        .card = "2900000000018", .ref = "b2", .total_minor = 100, .idempotency_key = "b2"};
    assert_int_equal(patron_sale_record(t.s, &bad, &r), PATRON_ENOCARD);
    assert_int_equal(sale("b3", 2000, NULL, 0, &r), 0);
    assert_int_equal(patron_store_batch_commit(t.s), 0);
    assert_int_equal(balance(), 30);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM sales"), 2);
    test_assert_ledger_verifies(t.s);
}

/* A request's savepoint inside a batch: rolled back, its sale is gone but what is written after
 * (in the same savepoint) stays; the handle's commit count grows by one for the whole batch. */
static void savepoint_undoes_one_request(void **state)
{
    (void)state;
    struct patron_sale_result r;
    unsigned long long commits = patron_store_commits(t.s);
    assert_int_equal(patron_store_savepoint(t.s), PATRON_EINVAL); /* no batch open */
    assert_int_equal(patron_store_batch_begin(t.s), 0);
    assert_int_equal(patron_store_savepoint(t.s), 0);
    assert_int_equal(patron_store_savepoint(t.s), PATRON_EINVAL); /* one at a time */
    assert_int_equal(sale("s1", 1000, NULL, 0, &r), 0);
    assert_int_equal(patron_store_savepoint_rollback(t.s), 0);
    assert_int_equal(sale("s2", 2000, NULL, 0, &r), 0);
    assert_int_equal(patron_store_savepoint_release(t.s), 0);
    assert_int_equal(patron_store_savepoint_release(t.s), PATRON_EINVAL); /* none open */
    assert_int_equal(patron_store_savepoint(t.s), 0);
    assert_int_equal(sale("s3", 3000, NULL, 0, &r), 0);
    assert_int_equal(patron_store_savepoint_release(t.s), 0);
    assert_int_equal(patron_store_commits(t.s), commits); /* nothing committed yet */
    assert_int_equal(patron_store_batch_commit(t.s), 0);
    assert_int_equal(patron_store_commits(t.s), commits + 1);
    assert_int_equal(balance(), 50);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM sales"), 2);
    /* A batch rolled back with its savepoint open keeps nothing and leaves the handle usable. */
    assert_int_equal(patron_store_batch_begin(t.s), 0);
    assert_int_equal(patron_store_savepoint(t.s), 0);
    assert_int_equal(sale("s4", 4000, NULL, 0, &r), 0);
    patron_store_batch_rollback(t.s);
    assert_int_equal(patron_store_commits(t.s), commits + 1);
    assert_int_equal(sale("s5", 1000, NULL, 0, &r), 0);
    assert_int_equal(balance(), 60);
    test_assert_ledger_verifies(t.s);
}

/* The handle keeps the rules it reads on every sale; a rule changed by another handle, or one
 * undone by a rollback, counts on the very next sale all the same. */
static void rules_kept_by_the_handle_follow_every_change(void **state)
{
    (void)state;
    static const struct patron_sale_line coffee = {"LATTE", "coffee", 1, 1000};
    struct patron_sale_result r;
    patron_store *other;
    assert_int_equal(sale("k1", 1000, &coffee, 1, &r), 0);
    assert_int_equal(r.points_earned, 10);
    assert_int_equal(patron_store_open(t.path, &other), 0);
    assert_int_equal(patron_program_set(other, "earn_points", "2", "test"), 0);
    assert_int_equal(patron_category_set(other, "coffee", 2000, "test"), 0);
    patron_store_close(other);
    assert_int_equal(sale("k2", 1000, &coffee, 1, &r), 0);
    assert_int_equal(r.points_earned, 40);
    /* A change read by a sale, then undone with the request's savepoint. */
    assert_int_equal(patron_store_batch_begin(t.s), 0);
    assert_int_equal(patron_store_savepoint(t.s), 0);
    assert_int_equal(patron_program_set(t.s, "earn_points", "3", "test"), 0);
    assert_int_equal(patron_category_set(t.s, "coffee", 3000, "test"), 0);
    assert_int_equal(sale("k3", 1000, &coffee, 1, &r), 0);
    assert_int_equal(r.points_earned, 90);
    assert_int_equal(patron_store_savepoint_rollback(t.s), 0);
    assert_int_equal(patron_store_savepoint_release(t.s), 0);
    assert_int_equal(sale("k4", 1000, &coffee, 1, &r), 0);
    assert_int_equal(r.points_earned, 40);
    assert_int_equal(patron_store_batch_commit(t.s), 0);
    /* The same, with the whole transaction rolled back. */
    assert_int_equal(patron_store_batch_begin(t.s), 0);
    assert_int_equal(patron_program_set(t.s, "earn_points", "3", "test"), 0);
    assert_int_equal(sale("k5", 1000, &coffee, 1, &r), 0);
    assert_int_equal(r.points_earned, 60);
    patron_store_batch_rollback(t.s);
    assert_int_equal(sale("k6", 1000, &coffee, 1, &r), 0);
    assert_int_equal(r.points_earned, 40);
    test_assert_ledger_verifies(t.s);
}

/* The first column of the first row of `sql`, as text, into out. */
static void text_of(const char *sql, char *out, size_t cap)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(patron_store_sqlite(t.s), sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
}

/* A sale's lines are kept in its row, one row per sale; the view sale_lines reads them as the
 * table of one row per line did. A store whose lines were rows of that table keeps them through
 * the migration byte for byte as a sale writes them (SQLite's JSON and the sale's agree), and a
 * refund still finds a line by its SKU. */
static void sale_lines_move_into_the_sale_row_unchanged(void **state)
{
    (void)state;
    static const char lines_sql[] = "SELECT lines || categories FROM sales WHERE ref = 'm1'";
    static const char rows_sql[] =
        "SELECT group_concat(line_no || '|' || sku || '|' || category || '|' || qty || '|' ||"
        " unit_minor || '|' || weight_per_unit, ';') FROM sale_lines";
    struct patron_sale_line lines[] = {{"MUG\"2", "home\\x", 3, 1100},
                                       {"CAF\xc3\x89", "caf\xc3\xa9", 1, 250},
                                       {"TEA", "drinks", 2, 0}};
    struct patron_sale_result s;
    struct patron_refund_result r;
    char before[512], after[512], rows[512], pragma[48];
    assert_int_equal(sale("m1", 3550, lines, 3, &s), 0);
    text_of(lines_sql, before, sizeof before);
    assert_string_equal(before, "[[1,\"MUG\\\"2\",\"home\\\\x\",3,1100,1100000],"
                                "[2,\"CAF\xc3\x89\",\"caf\xc3\xa9\",1,250,250000],"
                                "[3,\"TEA\",\"drinks\",2,0,0]]"
                                "[\"home\\\\x\",\"caf\xc3\xa9\",\"drinks\"]");
    text_of(rows_sql, rows, sizeof rows);
    assert_string_equal(rows,
                        "1|MUG\"2|home\\x|3|1100|1100000;2|CAF\xc3\x89|caf\xc3\xa9|1|250|250000;"
                        "3|TEA|drinks|2|0|0");
    snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", PATRON_SCHEMA_VERSION - 2);
    assert_int_equal(
        sqlite3_exec(patron_store_sqlite(t.s), TEST_SQL_AS_SCHEMA_25, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(patron_store_sqlite(t.s), pragma, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(test_scalar(t.s, "SELECT count(*) FROM sale_lines"), 3);
    assert_int_equal(test_scalar(t.s, "SELECT count(*) FROM pragma_table_info('sales')"
                                      " WHERE name = 'lines'"),
                     0);
    patron_store_close(t.s);
    assert_int_equal(patron_store_open(t.path, &t.s), 0);
    patron_store_set_fixed_time(t.s, t.now);
    assert_int_equal(test_scalar(t.s, "PRAGMA user_version"), PATRON_SCHEMA_VERSION);
    assert_int_equal(test_scalar(t.s, "SELECT count(*) FROM sqlite_schema"
                                      " WHERE name = 'sale_lines' AND type = 'view'"),
                     1);
    text_of(lines_sql, after, sizeof after);
    assert_string_equal(after, before);
    text_of(rows_sql, rows, sizeof rows);
    assert_string_equal(rows,
                        "1|MUG\"2|home\\x|3|1100|1100000;2|CAF\xc3\x89|caf\xc3\xa9|1|250|250000;"
                        "3|TEA|drinks|2|0|0");
    assert_int_equal(refund("m1", "rf-m1", "CAF\xc3\x89", 1, &r), 0);
    assert_int_equal(r.points_reversed, s.points_earned * 250000 / 3550000);
    test_assert_ledger_verifies(t.s);
}

/* The handle keeps the tiers as it keeps the rules: a tier added by another handle, one added by
 * this handle, and a change undone by a rollback each count on the very next sale. */
static void tiers_kept_by_the_handle_follow_every_change(void **state)
{
    (void)state;
    struct patron_sale_result r;
    patron_store *other;
    assert_int_equal(sale("t1", 1000, NULL, 0, &r), 0);
    assert_string_equal(r.tier, "Member");
    assert_int_equal(patron_store_open(t.path, &other), 0);
    assert_int_equal(patron_tier_set(other, "Gold", 15, 1000, "test"), 0);
    patron_store_close(other);
    assert_int_equal(sale("t2", 1000, NULL, 0, &r), 0);
    assert_string_equal(r.tier, "Gold");
    assert_true(r.tier_upgraded);
    assert_int_equal(patron_tier_set(t.s, "Platinum", 25, 1000, "test"), 0);
    assert_int_equal(sale("t3", 1000, NULL, 0, &r), 0);
    assert_string_equal(r.tier, "Platinum");
    assert_int_equal(patron_tier_set(t.s, "Diamond", 45, 1000, "test"), 0);
    /* Diamond moved below Platinum and read by a sale, then undone with the savepoint. */
    assert_int_equal(patron_store_batch_begin(t.s), 0);
    assert_int_equal(patron_store_savepoint(t.s), 0);
    assert_int_equal(patron_tier_set(t.s, "Diamond", 20, 1000, "test"), 0);
    assert_int_equal(sale("t4", 1000, NULL, 0, &r), 0);
    assert_string_equal(r.tier, "Platinum");
    assert_int_equal(patron_store_savepoint_rollback(t.s), 0);
    assert_int_equal(patron_store_savepoint_release(t.s), 0);
    assert_int_equal(patron_store_batch_commit(t.s), 0);
    assert_int_equal(sale("t5", 1500, NULL, 0, &r), 0);
    assert_string_equal(r.tier, "Diamond");
    assert_true(r.tier_upgraded);
    test_assert_ledger_verifies(t.s);
}

static size_t put_str(unsigned char *b, size_t at, const char *v)
{
    size_t n = strlen(v);
    b[at] = (unsigned char)(n >> 24);
    b[at + 1] = (unsigned char)(n >> 16);
    b[at + 2] = (unsigned char)(n >> 8);
    b[at + 3] = (unsigned char)n;
    memcpy(b + at + 4, v, n);
    return at + 4 + n;
}

static size_t put_int(unsigned char *b, size_t at, int64_t v)
{
    for (int i = 0; i < 8; i++)
        b[at + (size_t)i] = (unsigned char)((uint64_t)v >> (56 - 8 * i));
    return at + 8;
}

/* A sale's request hash, which kept keys are compared with, is SHA-256 over its fields in order,
 * each string with its length before it (4 bytes, big-endian) and each integer in 8 bytes
 * big-endian; here with fields long enough to pass more than one buffer's worth to the digest. */
static void the_request_hash_is_sha256_of_the_fields_in_order(void **state)
{
    (void)state;
    char sku[12][PATRON_TOKEN_MAX + 1];
    struct patron_sale_line lines[12];
    for (int i = 0; i < 12; i++) {
        memset(sku[i], 'A' + i, PATRON_TOKEN_MAX);
        sku[i][PATRON_TOKEN_MAX] = '\0';
        lines[i] = (struct patron_sale_line){sku[i], "bakery", 1, 100};
    }
    struct patron_sale_result r;
    assert_int_equal(sale("h1", 1200, lines, 12, &r), 0);
    unsigned char bytes[4096], want[SHA256_DIGEST_LENGTH];
    size_t n = put_str(bytes, 0, "sale");
    n = put_str(bytes, n, card);
    n = put_str(bytes, n, "h1");
    n = put_int(bytes, n, 1200);
    n = put_int(bytes, n, 12);
    for (int i = 0; i < 12; i++) {
        n = put_str(bytes, n, lines[i].sku);
        n = put_str(bytes, n, lines[i].category);
        n = put_int(bytes, n, lines[i].qty);
        n = put_int(bytes, n, lines[i].unit_minor);
    }
    assert_true(n > 1024);
    SHA256(bytes, n, want);
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(t.path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT request_hash FROM idempotency WHERE key = 'k-h1'",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_bytes(st, 0), SHA256_DIGEST_LENGTH);
    assert_memory_equal(sqlite3_column_blob(st, 0), want, SHA256_DIGEST_LENGTH);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* Every line of a sale is a row of sale_lines, numbered from 1 in the order given, however many
 * lines the sale has (here 19). */
static void every_line_is_a_row_numbered_in_order(void **state)
{
    (void)state;
    enum { N = 19 };
    char sku[N][8];
    struct patron_sale_line lines[N];
    int64_t total = 0;
    for (int i = 0; i < N; i++) {
        snprintf(sku[i], sizeof sku[i], "S%02d", N - i);
        lines[i] =
            (struct patron_sale_line){sku[i], i % 2 ? "coffee" : "bakery", i % 3 + 1, 100 + i};
        total += (int64_t)(i % 3 + 1) * (100 + i);
    }
    struct patron_sale_result r;
    assert_int_equal(sale("rows", total, lines, N, &r), 0);
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(t.path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT line_no, sku, category, qty, unit_minor,"
                                        " weight_per_unit FROM sale_lines WHERE sale_id = ?1"
                                        " ORDER BY line_no",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(st, 1, r.sale_id);
    for (int i = 0; i < N; i++) {
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_int_equal(sqlite3_column_int64(st, 0), i + 1);
        assert_string_equal((const char *)sqlite3_column_text(st, 1), lines[i].sku);
        assert_string_equal((const char *)sqlite3_column_text(st, 2), lines[i].category);
        assert_int_equal(sqlite3_column_int64(st, 3), lines[i].qty);
        assert_int_equal(sqlite3_column_int64(st, 4), lines[i].unit_minor);
        assert_int_equal(sqlite3_column_int64(st, 5), lines[i].unit_minor * 1000);
    }
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);
    test_assert_ledger_verifies(t.s);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(earning_rounds_down_per_sale),
        T(giftcards_and_reward_paid_part_earn_nothing),
        T(same_key_same_sale_earns_once),
        T(same_key_other_total_is_refused),
        T(bad_sales_are_refused_before_any_write),
        T(partial_refunds_reverse_in_proportion),
        T(cumulative_rounding_never_overshoots),
        T(refund_replay_and_unknown_sale),
        T(refunds_are_named_by_their_return_ref),
        T(keys_are_scoped_by_till),
        T(spent_points_clamp_policy_records_shortfall),
        T(spent_points_negative_policy_goes_below_zero),
        T(expiry_is_fifo_and_idempotent),
        T(spending_takes_the_oldest_lot_first),
        T(tiers_rise_on_earn_and_fall_at_period_end),
        T(tier_kept_when_requalified),
        T(adjustments_need_reason_and_manager),
        T(adjustment_replay_answers_the_first_answer),
        T(adjustments_made_before_the_answer_was_kept_replay_today_s_balance),
        T(verify_catches_a_corrupted_balance),
        T(entries_are_append_only_and_numbered),
        T(entry_kind_check_builds_no_temporary_btree),
        T(batch_failure_undoes_only_itself),
        T(savepoint_undoes_one_request),
        T(rules_kept_by_the_handle_follow_every_change),
        T(sale_lines_move_into_the_sale_row_unchanged),
        T(tiers_kept_by_the_handle_follow_every_change),
        T(the_request_hash_is_sha256_of_the_fields_in_order),
        T(every_line_is_a_row_numbered_in_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
