/* SPDX-License-Identifier: MIT */
/* Offer evaluation benchmark: 200 running offers of every kind of target and trigger, a member
 * with a purchase history, and a 20-line basket; times patron_offer_evaluate() in-process (the
 * code the sale runs inside its transaction) and, as the ceiling measured in the same run, a
 * plain card look-up. Prints p50/p99 and their ratios; the last line is one JSON object. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "patron/patron.h"

#define OFFERS 200
#define LINES 20
#define GOAL_P99_US 100.0

static const char *const categories[] = {"coffee", "tea", "bakery", "dairy", "fruit", "home"};

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void die(patron_store *s, const char *what, int err)
{
    fprintf(stderr, "bench_offers: %s: %s (%s)\n", what, patron_strerror(err),
            s ? patron_store_detail(s) : "");
    exit(1);
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Offer i: a rotation of targets and triggers, so every evaluation path is exercised. */
static void make_offer(int i, char *name, char *sku, struct patron_offer_def *d)
{
    memset(d, 0, sizeof *d);
    snprintf(name, 32, "Offer %d", i);
    snprintf(sku, 16, "SKU%03d", i % 40);
    d->name = name;
    d->benefit = PATRON_BENEFIT_BONUS;
    d->benefit_value = 5 + i % 50;
    switch (i % 10) {
    case 0:
        d->tier = "Gold";
        break;
    case 1:
        d->category = categories[i % 6];
        d->within_days = 7 + i % 60;
        break;
    case 2:
        d->birthday_month = 1;
        break;
    case 3:
        d->lapsed_days = 30 + i % 60;
        break;
    case 4:
        d->first_visit = 1;
        break;
    case 5:
        d->segment = "regulars";
        break;
    case 6:
        d->min_basket_minor = 1000 * (i % 8);
        break;
    case 7:
        d->sku = sku;
        break;
    case 8:
        d->basket_category = categories[i % 6];
        break;
    default:
        d->benefit = PATRON_BENEFIT_MULTIPLIER;
        d->benefit_value = 1500;
        break;
    }
    d->exclusive = i % 7 == 0;
    d->limit_per_member = i % 3 == 0 ? 1000 : 0;
    d->limit_per_day = i % 5 == 0 ? 100000 : 0;
}

static patron_store *prepare(const char *path, char *card, struct patron_sale_line *basket)
{
    patron_store *s;
    struct patron_member m;
    struct patron_enrollment e = {.name = "Bench", .birthday = "1990-01-05"};
    int err;
    unlink(path);
    if ((err = patron_store_open(path, &s)) != 0 || (err = patron_store_init(s, 1, "Bench")) != 0)
        die(NULL, "open", err);
    patron_store_set_fixed_time(s, 1768471200); /* 2026-01-15 */
    if ((err = patron_tier_set(s, "Gold", 100, 1000, "bench")) != 0 ||
        (err = patron_member_enroll(s, &e, &m)) != 0 ||
        (err = patron_segment_add(s, "regulars", m.card)) != 0)
        die(s, "setup", err);
    memcpy(card, m.card, 14);
    for (int i = 0; i < LINES; i++) {
        static char skus[LINES][16];
        snprintf(skus[i], sizeof skus[i], "SKU%03d", i * 3);
        basket[i] = (struct patron_sale_line){skus[i], categories[i % 6], 1 + i % 3, 150 + 37 * i};
    }
    for (int i = 0; i < 12; i++) { /* some history: a sale every few days */
        char ref[16];
        struct patron_sale_result r;
        snprintf(ref, sizeof ref, "H%d", i);
        struct patron_sale in = {.card = card,
                                 .ref = ref,
                                 .total_minor = 5000,
                                 .lines = basket,
                                 .n_lines = 6,
                                 .idempotency_key = ref};
        patron_store_set_fixed_time(s, 1768471200 - (12 - i) * 4 * 86400);
        if ((err = patron_sale_record(s, &in, &r)) != 0)
            die(s, "history", err);
    }
    patron_store_set_fixed_time(s, 1768471200);
    for (int i = 0; i < OFFERS; i++) {
        char name[32], sku[16];
        struct patron_offer_def d;
        int64_t id;
        make_offer(i, name, sku, &d);
        if ((err = patron_offer_add(s, &d, &id)) != 0)
            die(s, "offer", err);
    }
    return s;
}

int main(int argc, char **argv)
{
    long rounds = argc > 1 ? atol(argv[1]) : 5000;
    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char path[512], card[14];
    struct patron_sale_line basket[LINES];
    struct patron_offer_evaluation ev;
    struct patron_member m;
    double *eval = malloc(sizeof *eval * (size_t)rounds),
           *look = malloc(sizeof *look * (size_t)rounds);
    int err;
    snprintf(path, sizeof path, "%s/bench-offers.db", dir);
    patron_store *s = prepare(path, card, basket);
    struct patron_sale sale = {
        .card = card, .total_minor = 9000, .lines = basket, .n_lines = LINES};
    if ((err = patron_offer_evaluate(s, &sale, &ev)) != 0) /* warm the caches */
        die(s, "evaluate", err);
    for (long i = 0; i < rounds; i++) {
        double t0 = now_us();
        if ((err = patron_offer_evaluate(s, &sale, &ev)) != 0)
            die(s, "evaluate", err);
        double t1 = now_us();
        if ((err = patron_member_by_card(s, card, &m)) != 0)
            die(s, "look-up", err);
        eval[i] = t1 - t0;
        look[i] = now_us() - t1;
    }
    qsort(eval, (size_t)rounds, sizeof *eval, cmp);
    qsort(look, (size_t)rounds, sizeof *look, cmp);
    double p50 = eval[rounds / 2], p99 = eval[rounds * 99 / 100];
    double l50 = look[rounds / 2], l99 = look[rounds * 99 / 100];
    printf("offers %d, basket %d lines, %zu candidates, %zu applied, %lld bonus points\n", OFFERS,
           LINES, ev.n_candidates, ev.n_applied, (long long)ev.bonus_points);
    printf("evaluate: p50 %.1f us, p99 %.1f us (goal p99 <= %.0f us: ratio %.2f)\n", p50, p99,
           GOAL_P99_US, p99 / GOAL_P99_US);
    printf("card look-up: p50 %.1f us, p99 %.1f us (evaluate / look-up at p50: %.1fx)\n", l50, l99,
           p50 / l50);
    printf("{\"offers\": %d, \"lines\": %d, \"rounds\": %ld, \"p50_us\": %.2f, \"p99_us\": %.2f,"
           " \"goal_p99_us\": %.0f, \"p99_over_goal\": %.3f, \"lookup_p50_us\": %.2f,"
           " \"p50_over_lookup\": %.2f}\n",
           OFFERS, LINES, rounds, p50, p99, GOAL_P99_US, p99 / GOAL_P99_US, l50, p50 / l50);
    patron_store_close(s);
    unlink(path);
    free(eval);
    free(look);
    return 0; /* a missed goal is reported above, not an error */
}
