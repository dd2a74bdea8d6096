/* SPDX-License-Identifier: MIT */
/* The rewards catalogue and redemption: validation, spending exactly the cost, refusal without
 * enough points or for a withdrawn reward, idempotent replays, and every change of the catalogue
 * recorded with who, old and new. */
#include <stdio.h>
#include <string.h>

#include "testutil.h"

static struct test_store t;
static char card[14];
static int64_t coffee;

static int setup(void **state)
{
    (void)state;
    struct patron_reward_def d = {"Free coffee", 50, PATRON_VALUE_ITEM, 1001, 14};
    struct patron_sale_result r;
    test_store_open(&t);
    test_enroll(&t, "Edsger Dijkstra", card);
    assert_int_equal(patron_reward_add(t.s, &d, &coffee), 0);
    struct patron_sale in = {
        .card = card, .ref = "S1", .total_minor = 12000, .idempotency_key = "S1"};
    assert_int_equal(patron_sale_record(t.s, &in, &r), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_store_close(&t);
    return 0;
}

static void catalogue_validates(void **state)
{
    (void)state;
    int64_t id;
    struct patron_reward_def bad[] = {
        {"", 10, PATRON_VALUE_AMOUNT, 100, 30},
        {"Zero", 0, PATRON_VALUE_AMOUNT, 100, 30},
        {"Pct", 10, PATRON_VALUE_PERCENT, 101, 30},
        {"Days", 10, PATRON_VALUE_AMOUNT, 100, 4000},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(patron_reward_add(t.s, &bad[i], &id), PATRON_EINVAL);
    struct patron_reward list[4];
    size_t n;
    assert_int_equal(patron_reward_list(t.s, list, 4, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(list[0].name, "Free coffee");
    assert_string_equal(list[0].currency, "EUR");
    assert_int_equal(list[0].valid_days, 14);
}

static void redeem_spends_cost_once_per_key(void **state)
{
    (void)state;
    struct patron_redeem_result a, b;
    struct patron_redeem_request req = {card, coffee, "R1"};
    assert_int_equal(patron_reward_redeem(t.s, &req, &a), 0);
    assert_int_equal(a.points_spent, 50);
    assert_int_equal(a.points, 70);
    assert_int_equal(patron_reward_redeem(t.s, &req, &b), 0);
    assert_true(b.replayed);
    assert_int_equal(b.redemption_id, a.redemption_id);
    assert_int_equal(b.points, 70);
    req.idempotency_key = "R2";
    assert_int_equal(patron_reward_redeem(t.s, &req, &b), 0);
    assert_int_equal(b.points, 20);
    req.idempotency_key = "R3";
    assert_int_equal(patron_reward_redeem(t.s, &req, &b), PATRON_ENOFUNDS);
    assert_non_null(strstr(patron_store_detail(t.s), "20 points"));
}

static void withdrawn_and_unknown_rewards_are_refused(void **state)
{
    (void)state;
    struct patron_redeem_result r;
    struct patron_redeem_request req = {card, coffee + 100, "U1"};
    assert_int_equal(patron_reward_redeem(t.s, &req, &r), PATRON_ENOREWARD);
    assert_int_equal(patron_reward_retire(t.s, coffee), 0);
    req.reward_id = coffee;
    assert_int_equal(patron_reward_redeem(t.s, &req, &r), PATRON_EINACTIVE);
}

static void scan_lists_affordable_rewards(void **state)
{
    (void)state;
    struct patron_scan_result scan;
    int64_t id;
    struct patron_reward_def dear = {"Espresso machine", 5000, PATRON_VALUE_ITEM, 1, 30};
    assert_int_equal(patron_reward_add(t.s, &dear, &id), 0);
    assert_int_equal(patron_scan(t.s, card, &scan), 0);
    assert_int_equal(scan.n_rewards, 1);
    assert_int_equal(scan.rewards[0].reward_id, coffee);
    assert_int_equal(scan.member.points, 120);
}

/* Sale "P1" paid with the coupon of a redeemed reward, then refunded in full. */
static int64_t refund_sale_paid_with_reward(void)
{
    struct patron_redeem_result rr;
    struct patron_redeem_request req = {card, coffee, "RW"};
    struct patron_voucher_result vr;
    struct patron_sale_result sr;
    struct patron_refund_result f;
    assert_int_equal(patron_reward_redeem(t.s, &req, &rr), 0);
    struct patron_voucher_request vq = {
        .token_or_code = rr.token, .ref = "P1", .idempotency_key = "V1", .till = "till-1"};
    assert_int_equal(patron_voucher_redeem(t.s, &vq, &vr), 0);
    struct patron_sale sale = {
        .card = card, .ref = "P1", .total_minor = 300, .idempotency_key = "P1"};
    assert_int_equal(patron_sale_record(t.s, &sale, &sr), 0);
    struct patron_refund rf = {.ref = "P1", .idempotency_key = "F1"};
    assert_int_equal(patron_refund_record(t.s, &rf, &f), 0);
    return f.rewards_returned;
}

static void refund_keeps_the_reward_by_default(void **state)
{
    (void)state;
    assert_int_equal(refund_sale_paid_with_reward(), 0);
}

static void refund_gives_the_reward_back_when_the_program_says_so(void **state)
{
    (void)state;
    struct patron_voucher_info vouchers[8];
    size_t n = 0;
    struct patron_member m;
    assert_int_equal(patron_program_set(t.s, "refund_returns_reward", "1", "owner"), 0);
    assert_int_equal(refund_sale_paid_with_reward(), 1);
    assert_int_equal(patron_member_by_card(t.s, card, &m), 0);
    assert_int_equal(patron_voucher_list(t.s, m.member_id, vouchers, 8, &n), 0);
    assert_int_equal(n, 2); /* the one spent, and the one given back */
}

/* Every change of the catalogue is a rule change with who, old and new: added, changed in place
 * (a redemption then costs the new price), ended (once). */
static void catalogue_changes_are_recorded(void **state)
{
    (void)state;
    struct patron_rule_change v[4];
    struct patron_reward_def cake = {"Cake", 300, PATRON_VALUE_ITEM, 2, 0};
    struct patron_reward r;
    char key[32];
    size_t n = 0;
    int64_t id;
    assert_int_equal(patron_rule_changes(t.s, "reward:", v, 4, &n), 0);
    assert_int_equal(n, 1); /* the coffee of setup, by "system" */
    assert_string_equal(v[0].changed_by, "system");
    assert_int_equal(patron_reward_add_by(t.s, &cake, "owner", &id), 0);
    cake.cost = 350;
    cake.name = "Big cake";
    assert_int_equal(patron_reward_change(t.s, id, &cake, "manager-2"), 0);
    assert_int_equal(patron_reward_get(t.s, id, &r), 0);
    assert_int_equal(r.cost, 350);
    assert_string_equal(r.name, "Big cake");
    assert_int_equal(patron_reward_end(t.s, id, "owner"), 0);
    assert_int_equal(patron_reward_end(t.s, id, "owner"), PATRON_EINACTIVE);
    assert_int_equal(patron_reward_change(t.s, id, &cake, "owner"), PATRON_EINACTIVE);
    assert_int_equal(patron_reward_end(t.s, 999, "owner"), PATRON_ENOREWARD);
    assert_int_equal(patron_reward_retire(t.s, id), 0); /* retiring stays quiet about repeats */
    snprintf(key, sizeof key, "reward:%lld", (long long)id);
    assert_int_equal(patron_rule_changes(t.s, key, v, 4, &n), 0);
    assert_int_equal(n, 3); /* newest first */
    assert_string_equal(v[0].new_value, "ended");
    assert_string_equal(v[0].changed_by, "owner");
    assert_string_equal(v[1].old_value, "Cake: 300 points for item 2, valid 30 days");
    assert_string_equal(v[1].new_value, "Big cake: 350 points for item 2, valid 30 days");
    assert_string_equal(v[1].changed_by, "manager-2");
    assert_false(v[2].has_old);
    assert_true(v[0].changed_at > 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(catalogue_validates),
        T(redeem_spends_cost_once_per_key),
        T(withdrawn_and_unknown_rewards_are_refused),
        T(scan_lists_affordable_rewards),
        T(refund_keeps_the_reward_by_default),
        T(refund_gives_the_reward_back_when_the_program_says_so),
        T(catalogue_changes_are_recorded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
