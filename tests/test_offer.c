/* SPDX-License-Identifier: MIT */
/* Offers: each targeting rule, each trigger, the limits (per member, in total, per day with a
 * moved clock), the window, stacking and exclusive offers, refusal of offers that could never
 * apply, the explanation text, and how offer points behave in refunds and replays. */
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "testutil.h"

static struct test_store t;
static int serial;

static int setup(void **state)
{
    (void)state;
    test_store_open(&t);
    serial = 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_store_close(&t);
    return 0;
}

static int64_t add(struct patron_offer_def d)
{
    int64_t id = 0;
    if (!d.name)
        d.name = "Test offer";
    if (!d.benefit_value) {
        d.benefit = PATRON_BENEFIT_BONUS;
        d.benefit_value = 50;
    }
    int err = patron_offer_add(t.s, &d, &id);
    if (err != 0)
        fprintf(stderr, "offer refused: %s\n", patron_store_detail(t.s));
    assert_int_equal(err, 0);
    return id;
}

static int refused(struct patron_offer_def d, const char *why)
{
    int64_t id = 0;
    if (!d.name)
        d.name = "Impossible";
    if (!d.benefit_value) {
        d.benefit = PATRON_BENEFIT_BONUS;
        d.benefit_value = 10;
    }
    int err = patron_offer_add(t.s, &d, &id);
    assert_int_not_equal(err, 0);
    if (why && !strstr(patron_store_detail(t.s), why)) {
        fprintf(stderr, "detail '%s' lacks '%s'\n", patron_store_detail(t.s), why);
        fail();
    }
    return err;
}

/* A sale of `total` minor units with the given lines (none: one general line). */
static struct patron_sale_result sell_lines(const char *card, int64_t total,
                                            const struct patron_sale_line *lines, size_t n)
{
    char ref[32];
    struct patron_sale_result r;
    snprintf(ref, sizeof ref, "R%d", ++serial);
    struct patron_sale in = {.card = card,
                             .ref = ref,
                             .total_minor = total,
                             .lines = lines,
                             .n_lines = n,
                             .idempotency_key = ref};
    int err = patron_sale_record(t.s, &in, &r);
    if (err != 0)
        fprintf(stderr, "sale refused: %s\n", patron_store_detail(t.s));
    assert_int_equal(err, 0);
    return r;
}

static struct patron_sale_result sell(const char *card, int64_t total)
{
    return sell_lines(card, total, NULL, 0);
}

static int got(const struct patron_sale_result *r, int64_t offer_id)
{
    for (size_t i = 0; i < r->n_offers_applied; i++)
        if (r->offers_applied[i] == offer_id)
            return 1;
    return 0;
}

static const struct patron_offer_match *seen(const char *card, int64_t offer_id)
{
    static struct patron_scan_result r;
    assert_int_equal(patron_scan(t.s, card, &r), 0);
    for (size_t i = 0; i < r.n_offers; i++)
        if (r.offers[i].offer_id == offer_id)
            return &r.offers[i];
    return NULL;
}

static void enroll_birthday(const char *name, const char *birthday, char *card)
{
    struct patron_enrollment in = {.name = name, .birthday = birthday};
    struct patron_member m;
    assert_int_equal(patron_member_enroll(t.s, &in, &m), 0);
    memcpy(card, m.card, PATRON_CARD_DIGITS + 1);
}

static void test_everyone_gets_bonus_points_as_their_own_entry(void **state)
{
    char card[16];
    (void)state;
    test_enroll(&t, "Ann", card);
    int64_t id = add((struct patron_offer_def){.name = "Fifty extra"});
    struct patron_sale_result r = sell(card, 1000);
    assert_int_equal(r.points_earned, 10);
    assert_int_equal(r.bonus_points, 50);
    assert_int_equal(r.points, 60);
    assert_true(got(&r, id));
    const struct patron_offer_match *o = seen(card, id);
    assert_non_null(o);
    assert_string_equal(o->why, "open to every member");
    assert_string_equal(o->benefit, "bonus:50");
    sqlite3_stmt *st;
    sqlite3_prepare_v2(patron_store_sqlite(t.s),
                       "SELECT points, note FROM entries WHERE kind = 'earn' AND note IS NOT NULL",
                       -1, &st, NULL);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(st, 0), 50);
    assert_string_equal((const char *)sqlite3_column_text(st, 1), "offer 1: Fifty extra");
    sqlite3_finalize(st);
    test_assert_ledger_verifies(t.s);
}

static void test_tier_target_needs_the_tier_or_above(void **state)
{
    char low[16], high[16];
    (void)state;
    assert_int_equal(patron_tier_set(t.s, "Gold", 100, 1000, "test"), 0);
    assert_int_equal(patron_tier_set(t.s, "Platinum", 500, 1000, "test"), 0);
    test_enroll(&t, "Low", low);
    test_enroll(&t, "High", high);
    sell(high, 60000); /* 600 points: Platinum */
    int64_t id = add((struct patron_offer_def){.tier = "Gold", .exclusive = 1});
    assert_null(seen(low, id));
    assert_false(got((struct patron_sale_result[]){sell(low, 1000)}, id));
    const struct patron_offer_match *o = seen(high, id);
    assert_non_null(o);
    assert_string_equal(o->why, "tier Gold or above");
    assert_true(got((struct patron_sale_result[]){sell(high, 1000)}, id));
}

static void test_bought_category_within_days(void **state)
{
    char card[16];
    struct patron_sale_line coffee = {"LATTE", "coffee", 1, 350};
    struct patron_sale_line bread = {"LOAF", "bakery", 1, 350};
    (void)state;
    test_enroll(&t, "Cat", card);
    int64_t id = add((struct patron_offer_def){.category = "coffee", .within_days = 7});
    /* the basket of the sale itself is not history */
    assert_false(got((struct patron_sale_result[]){sell_lines(card, 350, &coffee, 1)}, id));
    t.now += 3 * TEST_DAY;
    const struct patron_offer_match *o = seen(card, id);
    assert_non_null(o);
    assert_string_equal(o->why, "bought coffee in the last 7 days");
    assert_true(got((struct patron_sale_result[]){sell_lines(card, 350, &bread, 1)}, id));
    t.now += 8 * TEST_DAY;
    assert_null(seen(card, id));
    assert_false(got((struct patron_sale_result[]){sell_lines(card, 350, &bread, 1)}, id));
}

static void test_birthday_month(void **state)
{
    char january[16], march[16];
    (void)state;
    enroll_birthday("Jan", "1990-01-20", january);
    enroll_birthday("Mar", "1985-03-02", march);
    int64_t id = add((struct patron_offer_def){.birthday_month = 1});
    const struct patron_offer_match *o = seen(january, id);
    assert_non_null(o);
    assert_string_equal(o->why, "birthday month (January)");
    assert_null(seen(march, id));
    t.now += 50 * TEST_DAY; /* 2026-03-06 */
    assert_null(seen(january, id));
    assert_true(got((struct patron_sale_result[]){sell(march, 500)}, id));
}

static void test_lapsed_members_win_back(void **state)
{
    char card[16], never[16];
    (void)state;
    test_enroll(&t, "Lapsed", card);
    test_enroll(&t, "Never", never);
    int64_t id = add((struct patron_offer_def){.lapsed_days = 30});
    assert_false(got((struct patron_sale_result[]){sell(card, 500)}, id));
    t.now += 10 * TEST_DAY;
    assert_null(seen(card, id));
    t.now += 35 * TEST_DAY;
    const struct patron_offer_match *o = seen(card, id);
    assert_non_null(o);
    assert_string_equal(o->why, "win-back: no purchase for 45 days (offer from 30)");
    assert_true(got((struct patron_sale_result[]){sell(card, 500)}, id));
    /* the win-back sale is itself a visit: the next one is not lapsed */
    assert_false(got((struct patron_sale_result[]){sell(card, 500)}, id));
    assert_null(seen(never, id)); /* never bought is not lapsed */
}

static void test_first_visit_welcome(void **state)
{
    char card[16];
    (void)state;
    test_enroll(&t, "New", card);
    int64_t id = add((struct patron_offer_def){.first_visit = 1});
    const struct patron_offer_match *o = seen(card, id);
    assert_non_null(o);
    assert_string_equal(o->why, "welcome: first visit");
    assert_true(got((struct patron_sale_result[]){sell(card, 500)}, id));
    assert_null(seen(card, id));
    assert_false(got((struct patron_sale_result[]){sell(card, 500)}, id));
}

static void test_segment_offer_is_seen_only_by_its_members(void **state)
{
    char vip[16], other[16];
    (void)state;
    test_enroll(&t, "Vip", vip);
    test_enroll(&t, "Other", other);
    assert_int_equal(patron_segment_add(t.s, "vip", vip), 0);
    assert_int_equal(patron_segment_add(t.s, "vip", vip), 0); /* twice is fine */
    int64_t id = add((struct patron_offer_def){.segment = "vip", .exclusive = 1});
    const struct patron_offer_match *o = seen(vip, id);
    assert_non_null(o);
    assert_string_equal(o->why, "in segment 'vip'");
    assert_true(o->exclusive);
    struct patron_scan_result r;
    assert_int_equal(patron_scan(t.s, other, &r), 0);
    assert_int_equal(r.n_offers, 0);
    assert_false(got((struct patron_sale_result[]){sell(other, 500)}, id));
    assert_true(got((struct patron_sale_result[]){sell(vip, 500)}, id));
}

static void test_triggers_basket_amount_sku_and_category(void **state)
{
    char card[16];
    struct patron_sale_line lines[2] = {{"LATTE", "coffee", 2, 400}, {"MUFFIN", "bakery", 1, 300}};
    (void)state;
    test_enroll(&t, "Trig", card);
    int64_t amount = add((struct patron_offer_def){.min_basket_minor = 2000});
    int64_t sku = add((struct patron_offer_def){.sku = "MUFFIN"});
    int64_t cat = add((struct patron_offer_def){.basket_category = "coffee"});
    const struct patron_offer_match *o = seen(card, amount);
    assert_string_equal(o->why, "open to every member; on a basket of 20.00 or more");
    struct patron_sale_result r = sell(card, 1999);
    assert_int_equal(r.n_offers_applied, 0);
    r = sell(card, 2000);
    assert_true(got(&r, amount));
    assert_false(got(&r, sku));
    r = sell_lines(card, 1100, lines, 2);
    assert_false(got(&r, amount));
    assert_true(got(&r, sku));
    assert_true(got(&r, cat));
}

static void test_limit_per_member(void **state)
{
    char a[16], b[16];
    (void)state;
    test_enroll(&t, "A", a);
    test_enroll(&t, "B", b);
    int64_t id = add((struct patron_offer_def){.limit_per_member = 2});
    assert_true(got((struct patron_sale_result[]){sell(a, 500)}, id));
    assert_true(got((struct patron_sale_result[]){sell(a, 500)}, id));
    assert_false(got((struct patron_sale_result[]){sell(a, 500)}, id));
    assert_null(seen(a, id));
    assert_true(got((struct patron_sale_result[]){sell(b, 500)}, id));
}

static void test_limit_in_total(void **state)
{
    char a[16], b[16], c[16];
    (void)state;
    test_enroll(&t, "A", a);
    test_enroll(&t, "B", b);
    test_enroll(&t, "C", c);
    int64_t id = add((struct patron_offer_def){.limit_total = 2});
    assert_true(got((struct patron_sale_result[]){sell(a, 500)}, id));
    assert_true(got((struct patron_sale_result[]){sell(b, 500)}, id));
    assert_false(got((struct patron_sale_result[]){sell(c, 500)}, id));
    t.now += 30 * TEST_DAY;
    assert_false(got((struct patron_sale_result[]){sell(c, 500)}, id));
    struct patron_offer o;
    assert_int_equal(patron_offer_get(t.s, id, &o), 0);
    assert_int_equal(o.uses, 2);
}

static void test_limit_per_day_resets_at_midnight(void **state)
{
    char a[16], b[16];
    (void)state;
    test_enroll(&t, "A", a);
    test_enroll(&t, "B", b);
    int64_t id = add((struct patron_offer_def){.limit_per_day = 1});
    assert_true(got((struct patron_sale_result[]){sell(a, 500)}, id));
    assert_false(got((struct patron_sale_result[]){sell(b, 500)}, id));
    t.now += 13 * 3600; /* 23:00 the same day */
    assert_false(got((struct patron_sale_result[]){sell(b, 500)}, id));
    t.now += 3600; /* midnight */
    assert_true(got((struct patron_sale_result[]){sell(b, 500)}, id));
}

static void test_window_opens_and_closes(void **state)
{
    char card[16];
    struct patron_offer o;
    (void)state;
    test_enroll(&t, "Win", card);
    int64_t id = add((struct patron_offer_def){.valid_from = t.now + 2 * TEST_DAY,
                                               .valid_to = t.now + 5 * TEST_DAY});
    assert_int_equal(patron_offer_get(t.s, id, &o), 0);
    assert_string_equal(patron_offer_status(t.s, &o), "scheduled");
    assert_false(got((struct patron_sale_result[]){sell(card, 500)}, id));
    t.now += 2 * TEST_DAY;
    assert_string_equal(patron_offer_status(t.s, &o), "running");
    assert_true(got((struct patron_sale_result[]){sell(card, 500)}, id));
    t.now += 3 * TEST_DAY;
    assert_string_equal(patron_offer_status(t.s, &o), "over");
    assert_false(got((struct patron_sale_result[]){sell(card, 500)}, id));
}

static void test_stacking_combines_and_the_best_exclusive_wins(void **state)
{
    char card[16];
    struct patron_sale_result r;
    (void)state;
    test_enroll(&t, "Stack", card);
    int64_t ten = add((struct patron_offer_def){.benefit_value = 10});
    int64_t twenty = add((struct patron_offer_def){.benefit_value = 20});
    r = sell(card, 500);
    assert_int_equal(r.n_offers_applied, 2);
    assert_int_equal(r.bonus_points, 30);
    /* an exclusive offer worth less than the combinable set loses */
    int64_t ex25 = add((struct patron_offer_def){.benefit_value = 25, .exclusive = 1});
    r = sell(card, 500);
    assert_int_equal(r.bonus_points, 30);
    assert_true(got(&r, ten) && got(&r, twenty) && !got(&r, ex25));
    /* an equal one loses the tie to the set whose lowest id is lower */
    int64_t ex30 = add((struct patron_offer_def){.benefit_value = 30, .exclusive = 1});
    r = sell(card, 500);
    assert_false(got(&r, ex30));
    /* a better one is applied alone */
    int64_t ex40 = add((struct patron_offer_def){.benefit_value = 40, .exclusive = 1});
    int64_t ex40b = add((struct patron_offer_def){.benefit_value = 40, .exclusive = 1});
    r = sell(card, 500);
    assert_int_equal(r.n_offers_applied, 1);
    assert_int_equal(r.offers_applied[0], ex40); /* of two equal, the lowest id */
    assert_int_equal(r.bonus_points, 40);
    (void)ex40b;
    struct patron_offer_evaluation ev;
    struct patron_sale in = {.card = card, .total_minor = 500};
    assert_int_equal(patron_offer_evaluate(t.s, &in, &ev), 0);
    assert_int_equal(ev.n_candidates, 6);
    assert_int_equal(ev.n_applied, 1);
    assert_int_equal(ev.applied[0].offer_id, ex40);
}

static void test_multiplier_adds_to_the_ordinary_points(void **state)
{
    char card[16];
    (void)state;
    test_enroll(&t, "Mult", card);
    int64_t id =
        add((struct patron_offer_def){.benefit = PATRON_BENEFIT_MULTIPLIER, .benefit_value = 1500});
    struct patron_sale_result r = sell(card, 2500); /* 25 points */
    assert_int_equal(r.points_earned, 25);
    assert_int_equal(r.bonus_points, 12); /* floor(25 * 0.5) */
    assert_true(got(&r, id));
    /* a sale that earns nothing gets nothing from a multiplier, and it is not counted */
    struct patron_sale_line gift = {"GIFT", "giftcard", 1, 5000};
    r = sell_lines(card, 5000, &gift, 1);
    assert_int_equal(r.n_offers_applied, 0);
    const struct patron_offer_match *o = seen(card, id);
    assert_string_equal(o->benefit, "multiplier:1.5");
    assert_int_equal(o->points, 0);
}

static void test_reward_benefit_gives_a_free_coupon(void **state)
{
    char card[16];
    int64_t reward_id;
    (void)state;
    test_enroll(&t, "Rew", card);
    struct patron_reward_def def = {
        .name = "Free coffee", .cost = 300, .kind = PATRON_VALUE_ITEM, .value = 1};
    assert_int_equal(patron_reward_add(t.s, &def, &reward_id), 0);
    int64_t id = add(
        (struct patron_offer_def){.benefit = PATRON_BENEFIT_REWARD, .benefit_value = reward_id});
    struct patron_sale_result r = sell(card, 1000);
    assert_true(got(&r, id));
    assert_int_equal(r.bonus_points, 0);
    assert_int_equal(r.points, 10);
    assert_int_equal(r.n_coupons, 1);
    assert_int_equal(r.coupons[0].reward_id, reward_id);
    assert_int_equal(r.coupons[0].redemption_id,
                     test_scalar(t.s, "SELECT redemption_id FROM offer_uses"));
    assert_true(r.coupons[0].voucher_id != 0); /* a signed voucher, with its typable code */
    assert_int_equal(strlen(r.coupons[0].code), 17);
    struct patron_voucher_request check = {.token_or_code = r.coupons[0].code};
    struct patron_voucher_result vr;
    assert_int_equal(patron_voucher_check(t.s, &check, &vr), 0);
    const struct patron_offer_match *o = seen(card, id);
    assert_int_equal(o->points, 300);
    assert_int_equal(o->reward_id, reward_id);
}

static void test_impossible_offers_are_refused_saying_why(void **state)
{
    (void)state;
    assert_int_equal(
        refused((struct patron_offer_def){.valid_from = t.now + 10, .valid_to = t.now + 5},
                "ends before it starts"),
        PATRON_EINVAL);
    refused((struct patron_offer_def){.valid_to = t.now - 1}, "ended already");
    refused((struct patron_offer_def){.first_visit = 1, .lapsed_days = 30}, "conflicting rules");
    refused((struct patron_offer_def){.first_visit = 1, .category = "coffee", .within_days = 3},
            "conflicting rules");
    refused((struct patron_offer_def){.lapsed_days = 30, .category = "coffee", .within_days = 7},
            "cannot both hold");
    refused((struct patron_offer_def){.category = "coffee"}, "go together");
    refused((struct patron_offer_def){.benefit = PATRON_BENEFIT_MULTIPLIER, .benefit_value = 1000},
            "above 1");
    refused((struct patron_offer_def){.tier = "Diamond"}, "no tier named 'Diamond'");
    refused((struct patron_offer_def){.segment = "ghosts"}, "no segment named 'ghosts'");
    refused((struct patron_offer_def){.benefit = PATRON_BENEFIT_REWARD, .benefit_value = 99},
            "reward 99 does not exist");
    refused((struct patron_offer_def){.limit_total = -1}, "limits");
    size_t n = 1;
    assert_int_equal(patron_offer_list(t.s, 1, NULL, 0, &n), 0);
    assert_int_equal(n, 0);
}

static void test_benefit_text_round_trips(void **state)
{
    enum patron_offer_benefit k;
    int64_t v;
    char buf[32];
    (void)state;
    assert_int_equal(patron_offer_benefit_parse("multiplier:1.25", &k, &v), 0);
    assert_int_equal(k, PATRON_BENEFIT_MULTIPLIER);
    assert_int_equal(v, 1250);
    patron_offer_benefit_format(k, v, buf, sizeof buf);
    assert_string_equal(buf, "multiplier:1.25");
    assert_int_equal(patron_offer_benefit_parse("multiplier:2", &k, &v), 0);
    patron_offer_benefit_format(k, v, buf, sizeof buf);
    assert_string_equal(buf, "multiplier:2");
    assert_int_equal(patron_offer_benefit_parse("bonus:75", &k, &v), 0);
    assert_int_equal(v, 75);
    assert_int_equal(patron_offer_benefit_parse("reward:3", &k, &v), 0);
    assert_int_equal(k, PATRON_BENEFIT_REWARD);
    assert_int_equal(patron_offer_benefit_parse("bonus:-5", &k, &v), PATRON_EINVAL);
    assert_int_equal(patron_offer_benefit_parse("gift:5", &k, &v), PATRON_EINVAL);
    assert_int_equal(patron_offer_benefit_parse("multiplier:1.", &k, &v), PATRON_EINVAL);
}

static void test_explanation_names_every_condition(void **state)
{
    char card[16];
    struct patron_sale_line lines[2] = {{"LATTE", "coffee", 1, 400}, {"CAKE", "bakery", 1, 2100}};
    (void)state;
    assert_int_equal(patron_tier_set(t.s, "Silver", 10, 1000, "test"), 0);
    enroll_birthday("Expl", "2000-01-31", card);
    sell(card, 1500); /* 15 points: Silver */
    t.now += TEST_DAY;
    int64_t id = add((struct patron_offer_def){.tier = "Silver",
                                               .birthday_month = 1,
                                               .min_basket_minor = 2000,
                                               .basket_category = "coffee"});
    struct patron_offer_evaluation ev;
    struct patron_sale in = {.card = card, .total_minor = 2500, .lines = lines, .n_lines = 2};
    assert_int_equal(patron_offer_evaluate(t.s, &in, &ev), 0);
    assert_int_equal(ev.n_applied, 1);
    assert_int_equal(ev.applied[0].offer_id, id);
    assert_string_equal(ev.applied[0].why, "tier Silver or above; birthday month (January); "
                                           "basket 25.00 reaches 20.00; basket holds coffee");
    sqlite3_stmt *st;
    sell_lines(card, 2500, lines, 2);
    sqlite3_prepare_v2(patron_store_sqlite(t.s), "SELECT why FROM offer_uses", -1, &st, NULL);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), ev.applied[0].why);
    sqlite3_finalize(st);
}

static void test_refund_reverses_offer_points_in_proportion(void **state)
{
    char card[16];
    struct patron_sale_line lines[2] = {{"A", "general", 1, 1000}, {"B", "general", 1, 1000}};
    struct patron_refund_line back = {"A", 1};
    struct patron_refund_result rr;
    (void)state;
    test_enroll(&t, "Refund", card);
    add((struct patron_offer_def){.benefit_value = 40});
    struct patron_sale_result r = sell_lines(card, 2000, lines, 2);
    assert_int_equal(r.points, 60); /* 20 + 40 */
    struct patron_refund half = {.ref = "R1", .lines = &back, .n_lines = 1, .idempotency_key = "h"};
    assert_int_equal(patron_refund_record(t.s, &half, &rr), 0);
    assert_int_equal(rr.points_reversed, 30);
    struct patron_refund rest = {.ref = "R1", .idempotency_key = "rest"};
    assert_int_equal(patron_refund_record(t.s, &rest, &rr), 0);
    assert_int_equal(rr.points_reversed, 30);
    assert_int_equal(rr.points, 0);
}

static void test_replay_answers_the_same_offers(void **state)
{
    char card[16];
    struct patron_sale_result a, b;
    (void)state;
    test_enroll(&t, "Replay", card);
    int64_t id = add((struct patron_offer_def){.limit_per_member = 1});
    struct patron_sale in = {
        .card = card, .ref = "X1", .total_minor = 700, .idempotency_key = "k1"};
    assert_int_equal(patron_sale_record(t.s, &in, &a), 0);
    assert_int_equal(patron_sale_record(t.s, &in, &b), 0);
    assert_true(b.replayed);
    assert_int_equal(b.n_offers_applied, 1);
    assert_int_equal(b.offers_applied[0], id);
    assert_int_equal(b.bonus_points, a.bonus_points);
    assert_int_equal(b.points, a.points);
}

static void test_ended_offer_no_longer_applies(void **state)
{
    char card[16];
    size_t n;
    struct patron_offer list[4];
    (void)state;
    test_enroll(&t, "End", card);
    int64_t id = add((struct patron_offer_def){0});
    assert_true(got((struct patron_sale_result[]){sell(card, 500)}, id));
    assert_int_equal(patron_offer_end(t.s, id, "manager"), 0);
    assert_int_equal(patron_offer_end(t.s, id, "manager"), PATRON_EINACTIVE);
    assert_int_equal(patron_offer_end(t.s, 999, "manager"), PATRON_ENOTFOUND);
    assert_false(got((struct patron_sale_result[]){sell(card, 500)}, id));
    assert_int_equal(patron_offer_list(t.s, 0, list, 4, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(patron_offer_list(t.s, 1, list, 4, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(patron_offer_status(t.s, &list[0]), "ended");
    assert_int_equal(list[0].uses, 1);
}

static void test_dry_run_writes_nothing(void **state)
{
    char card[16];
    struct patron_offer_evaluation ev;
    (void)state;
    test_enroll(&t, "Dry", card);
    int64_t id = add((struct patron_offer_def){.limit_total = 1});
    struct patron_sale in = {.card = card, .total_minor = 900};
    assert_int_equal(patron_offer_evaluate(t.s, &in, &ev), 0);
    assert_int_equal(patron_offer_evaluate(t.s, &in, &ev), 0);
    assert_int_equal(ev.n_applied, 1);
    assert_int_equal(ev.base_points, 9);
    assert_int_equal(ev.bonus_points, 50);
    assert_true(got((struct patron_sale_result[]){sell(card, 900)}, id));
    assert_int_equal(patron_offer_evaluate(t.s, &in, &ev), 0);
    assert_int_equal(ev.n_applied, 0);
}

static void test_favourites_put_stated_preferences_first(void **state)
{
    char card[16];
    struct patron_favourite fav[4];
    size_t n = 0;
    struct patron_sale_line lines[3] = {
        {"TEA", "tea", 1, 300}, {"CAKE", "bakery", 2, 500}, {"BEAN", "coffee", 1, 1200}};
    (void)state;
    test_enroll(&t, "Fav", card);
    sell_lines(card, 2500, lines, 3);
    assert_int_equal(patron_preference_set(t.s, card, "tea", 1), 0);
    assert_int_equal(patron_preference_set(t.s, card, "vegan", 1), 0);
    assert_int_equal(patron_member_favourites(t.s, card, fav, 4, &n), 0);
    assert_int_equal(n, 4);
    assert_string_equal(fav[0].category, "tea");
    assert_true(fav[0].stated);
    assert_int_equal(fav[0].spent_minor, 300);
    assert_string_equal(fav[1].category, "vegan");
    assert_string_equal(fav[2].category, "coffee"); /* 12.00 before 10.00 */
    assert_false(fav[2].stated);
    assert_string_equal(fav[3].category, "bakery");
    assert_int_equal(patron_preference_set(t.s, card, "vegan", 0), 0);
    assert_int_equal(patron_member_favourites(t.s, card, fav, 4, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(patron_preference_set(t.s, card, "has space", 1), PATRON_EINVAL);
}

static void test_footer_is_tailored_to_the_member(void **state)
{
    char card[16];
    struct patron_footer f;
    (void)state;
    assert_int_equal(patron_tier_set(t.s, "Gold", 100, 1000, "test"), 0);
    test_enroll(&t, "Ann", card);
    sell(card, 4000); /* 40 points */
    add((struct patron_offer_def){
        .name = "Bread bonus", .basket_category = "bakery", .benefit_value = 20});
    add((struct patron_offer_def){
        .name = "Tea bonus", .basket_category = "tea", .benefit_value = 20});
    assert_int_equal(patron_preference_set(t.s, card, "tea", 1), 0);
    t.now += 340 * TEST_DAY; /* the 40 points expire within the 30 days' notice */
    assert_int_equal(patron_receipt_footer(t.s, card, &f), 0);
    assert_int_equal(f.n_lines, 4);
    assert_string_equal(f.lines[0], "Thank you, Ann! You have 40 points.");
    assert_string_equal(f.lines[1], "60 points to Gold.");
    assert_string_equal(f.lines[2], "40 points expire on 2027-01-15.");
    assert_true(f.has_next_offer);
    assert_string_equal(f.next_offer.name, "Tea bonus"); /* equal value: the favourite's */
    assert_string_equal(f.lines[3], "Next time: Tea bonus (open to every member; with any tea "
                                    "in the basket).");
    /* queued for the printer with the receipt-footer template's values */
    int64_t job;
    sqlite3_stmt *st;
    assert_int_equal(patron_receipt_footer_enqueue(t.s, card, 40, &job), 0);
    assert_int_equal(sqlite3_prepare_v2(patron_store_sqlite(t.s),
                                        "SELECT template, vars FROM print_jobs WHERE id = ?1", -1,
                                        &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(st, 1, job);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "receipt-footer");
    const char *vars = (const char *)sqlite3_column_text(st, 1);
    assert_non_null(strstr(vars, "\"points.earned\":\"+40\""));
    assert_non_null(strstr(vars, "\"tier.progress\":\"60 points to Gold\""));
    assert_non_null(strstr(vars, "\"points.expiry_date\":\"2027-01-15\""));
    assert_non_null(strstr(vars, "\"offer.next\":\"Next time: Tea bonus\""));
    sqlite3_finalize(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_everyone_gets_bonus_points_as_their_own_entry, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_tier_target_needs_the_tier_or_above, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bought_category_within_days, setup, teardown),
        cmocka_unit_test_setup_teardown(test_birthday_month, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lapsed_members_win_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_first_visit_welcome, setup, teardown),
        cmocka_unit_test_setup_teardown(test_segment_offer_is_seen_only_by_its_members, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_triggers_basket_amount_sku_and_category, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_limit_per_member, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limit_in_total, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limit_per_day_resets_at_midnight, setup, teardown),
        cmocka_unit_test_setup_teardown(test_window_opens_and_closes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stacking_combines_and_the_best_exclusive_wins, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_multiplier_adds_to_the_ordinary_points, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_reward_benefit_gives_a_free_coupon, setup, teardown),
        cmocka_unit_test_setup_teardown(test_impossible_offers_are_refused_saying_why, setup,
                                        teardown),
        cmocka_unit_test(test_benefit_text_round_trips),
        cmocka_unit_test_setup_teardown(test_explanation_names_every_condition, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refund_reverses_offer_points_in_proportion, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_replay_answers_the_same_offers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ended_offer_no_longer_applies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dry_run_writes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_favourites_put_stated_preferences_first, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_footer_is_tailored_to_the_member, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
