/* SPDX-License-Identifier: MIT */
/* The rewards catalogue and redemption: validation, spending exactly the cost, refusal without
 * enough points or for a withdrawn reward, and idempotent replays. */
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

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(catalogue_validates),
        T(redeem_spends_cost_once_per_key),
        T(withdrawn_and_unknown_rewards_are_refused),
        T(scan_lists_affordable_rewards),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
