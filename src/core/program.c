/* SPDX-License-Identifier: MIT */
/* The program's rules: one table of rules with their defaults and ranges, category multipliers,
 * tiers, and the program's seed (its accounts, the base tier and the rules' defaults) that
 * patron_store_init() (store_init.c) plants. Every change is recorded in rule_changes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/store_internal.h"
#include "patron/program.h"

struct rule {
    const char *name;
    const char *fallback;
    int64_t min, max;    /* for integer rules */
    const char *choices; /* for word rules: "a|b"; NULL for integers */
};

static const struct rule rules[] = {
    {"currency", "EUR", 0, 0, "*currency"},
    {"earn_points", "1", 0, 1000000, NULL},
    {"earn_unit_minor", "100", 1, 100000000, NULL},
    {"expiry_days", "365", 0, 36500, NULL},
    {"expiry_notice_days", "30", 0, 3650, NULL},
    {"refund_policy", "clamp", 0, 0, "clamp|negative"},
    {"refund_returns_reward", "0", 0, 1, NULL},
    {"point_value_minor_per_100", "100", 0, 1000000000, NULL},
    {"offline_voucher_cap_minor", "5000", 0, 100000000, NULL},
    {"offline_daily_cap_minor", "20000", 0, 1000000000, NULL},
    {"offline_daily_cap_count", "20", 0, 100000, NULL},
    {"chain_offline_member_cap", "500", 0, 1000000000, NULL},
    {"chain_offline_store_cap", "5000", 0, 1000000000, NULL},
    {"code_lockout_attempts", "5", 1, 1000, NULL},
    {"code_lockout_seconds", "900", 1, 86400, NULL},
    {"voucher_require_card", "0", 0, 1, NULL},
    {"goodwill_per_manager_per_day", "5", 0, 1000, NULL},
    {"referral_bonus_points", "100", 0, 1000000, NULL},
    {"referral_min_basket_minor", "0", 0, 100000000000, NULL},
    {"phone_country_code", "0", 0, 999, NULL},
};

static const char *const account_names[PATRON__ACCT_COUNT] = {
    [PATRON__ACCT_ISSUED] = "program:issued",
    [PATRON__ACCT_REDEEMED] = "program:redeemed",
    [PATRON__ACCT_EXPIRED] = "program:expired",
    [PATRON__ACCT_ADJUST] = "program:adjustments",
};

static const struct rule *find_rule(const char *name)
{
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (strcmp(rules[i].name, name) == 0)
            return &rules[i];
    return NULL;
}

static int is_currency(const char *v)
{
    return strlen(v) == 3 && v[0] >= 'A' && v[0] <= 'Z' && v[1] >= 'A' && v[1] <= 'Z' &&
           v[2] >= 'A' && v[2] <= 'Z';
}

static int word_allowed(const char *choices, const char *v)
{
    size_t n = strlen(v);
    for (const char *p = choices; *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, v, n) == 0)
            return 1;
        p += len + (bar ? 1 : 0);
    }
    return 0;
}

static int validate_rule(patron_store *s, const struct rule *r, const char *value)
{
    char *end;
    if (r->choices && strcmp(r->choices, "*currency") == 0)
        return is_currency(value) ? 0
                                  : patron__fail(s, PATRON_EINVAL,
                                                 "%s must be an ISO 4217 code like EUR", r->name);
    if (r->choices)
        return word_allowed(r->choices, value)
                   ? 0
                   : patron__fail(s, PATRON_EINVAL, "%s must be one of %s", r->name, r->choices);
    long long v = strtoll(value, &end, 10);
    if (*value == '\0' || *end != '\0' || v < r->min || v > r->max)
        return patron__fail(s, PATRON_EINVAL, "%s must be a whole number from %lld to %lld",
                            r->name, (long long)r->min, (long long)r->max);
    return 0;
}

int patron_program_set(patron_store *s, const char *name, const char *value, const char *who)
{
    const struct rule *r = find_rule(name ? name : "");
    int err;
    if (!r)
        return patron__fail(s, PATRON_EINVAL, "no rule named '%s'", name ? name : "");
    if (!value || (err = validate_rule(s, r, value)) != 0)
        return value ? err : patron__fail(s, PATRON_EINVAL, "%s needs a value", name);
    if ((err = patron__tx_begin(s)) != 0)
        return err;
    if ((err = patron__setting_set(s, name, value, who)) != 0) {
        patron__tx_rollback(s);
        return err;
    }
    return patron__tx_commit(s);
}

static int read_program(patron_store *s, struct patron_program *out)
{
    struct patron_program p = {0};
    char word[16];
    if (patron__setting_get(s, "currency", p.currency, sizeof p.currency) != 0)
        memcpy(p.currency, "EUR", 4);
    p.earn_points = patron__setting_int(s, "earn_points", 1);
    p.earn_unit_minor = patron__setting_int(s, "earn_unit_minor", 100);
    p.expiry_days = patron__setting_int(s, "expiry_days", 365);
    p.expiry_notice_days = patron__setting_int(s, "expiry_notice_days", 30);
    p.point_value_minor_per_100 = patron__setting_int(s, "point_value_minor_per_100", 100);
    p.refund_policy = PATRON_REFUND_CLAMP;
    if (patron__setting_get(s, "refund_policy", word, sizeof word) == 0 &&
        strcmp(word, "negative") == 0)
        p.refund_policy = PATRON_REFUND_NEGATIVE;
    *out = p;
    return 0;
}

/* The rules are read on every checkout; the handle keeps them until rules_version moves. */
int patron_program_get(patron_store *s, struct patron_program *out)
{
    int64_t version = patron__setting_int(s, "rules_version", 0);
    int err;
    if (version == 0 || version != s->program_version) {
        if ((err = read_program(s, &s->program)) != 0)
            return err;
        s->program_version = version;
    }
    *out = s->program;
    return 0;
}

static int valid_name(const char *name, size_t cap)
{
    return cap > 1 && patron_text_check(name, 1, cap - 1, 0) == PATRON_TEXT_OK;
}

int patron_category_set(patron_store *s, const char *category, int64_t multiplier_permille,
                        const char *who)
{
    static const char *const sql =
        "INSERT INTO categories(name, multiplier_permille) VALUES (?1, ?2) "
        "ON CONFLICT(name) DO UPDATE SET multiplier_permille = excluded.multiplier_permille";
    char key[96], value[24];
    int err;
    if (!valid_name(category, 64) || multiplier_permille < 0 || multiplier_permille > 100000)
        return patron__fail(s, PATRON_EINVAL,
                            "a category needs a name (1-63 bytes) and a multiplier of 0-100000 "
                            "thousandths");
    if ((err = patron__tx_begin(s)) != 0)
        return err;
    sqlite3_stmt *st = patron__stmt(s, sql);
    if (!st) {
        err = PATRON_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, category, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, multiplier_permille);
    if ((err = patron__step_done(s, st)) != 0)
        goto out;
    snprintf(key, sizeof key, "category:%s", category);
    snprintf(value, sizeof value, "%lld", (long long)multiplier_permille);
    if ((err = patron__setting_set(s, key, value, who)) != 0)
        goto out;
    return patron__tx_commit(s);
out:
    patron__tx_rollback(s);
    return err;
}

int64_t patron_category_multiplier(patron_store *s, const char *category)
{
    const char *kept;
    if (patron__rules_lookup(s, 'c', category, &kept))
        return kept ? strtoll(kept, NULL, 10) : 1000;
    sqlite3_stmt *st =
        patron__stmt(s, "SELECT multiplier_permille FROM categories WHERE name = ?1");
    int64_t m = 1000;
    if (!st)
        return m;
    sqlite3_bind_text(st, 1, category, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        m = sqlite3_column_int64(st, 0);
        patron__rules_keep(s, 'c', category, (const char *)sqlite3_column_text(st, 0));
    } else if (rc == SQLITE_DONE) {
        patron__rules_keep(s, 'c', category, NULL);
    }
    sqlite3_reset(st);
    return m;
}

int patron_tier_set(patron_store *s, const char *name, int64_t threshold,
                    int64_t multiplier_permille, const char *who)
{
    static const char *const sql =
        "INSERT INTO tiers(name, threshold, multiplier_permille) VALUES (?1, ?2, ?3) "
        "ON CONFLICT(name) DO UPDATE SET threshold = excluded.threshold, "
        "multiplier_permille = excluded.multiplier_permille";
    char key[96], value[48];
    int err;
    if (!valid_name(name, 64) || threshold < 0 || threshold > 1000000000 ||
        multiplier_permille < 0 || multiplier_permille > 100000)
        return patron__fail(s, PATRON_EINVAL,
                            "a tier needs a name (1-63 bytes), a threshold of 0-10^9 points and a "
                            "multiplier of 0-100000 thousandths");
    if ((err = patron__tx_begin(s)) != 0)
        return err;
    sqlite3_stmt *st = patron__stmt(s, sql);
    if (!st) {
        err = PATRON_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, threshold);
    sqlite3_bind_int64(st, 3, multiplier_permille);
    if ((err = patron__step_done(s, st)) != 0) {
        if (err == PATRON_EDB)
            err = patron__fail(s, PATRON_EINVAL, "another tier already has threshold %lld",
                               (long long)threshold);
        goto out;
    }
    snprintf(key, sizeof key, "tier:%s", name);
    snprintf(value, sizeof value, "%lld@%lld", (long long)threshold,
             (long long)multiplier_permille);
    if ((err = patron__setting_set(s, key, value, who)) != 0)
        goto out;
    return patron__tx_commit(s);
out:
    patron__tx_rollback(s);
    return err;
}

static void read_tier(sqlite3_stmt *st, void *row)
{
    struct patron_tier *t = row;
    t->tier_id = sqlite3_column_int64(st, 0);
    patron__copy(t->name, sizeof t->name, (const char *)sqlite3_column_text(st, 1));
    t->threshold = sqlite3_column_int64(st, 2);
    t->multiplier_permille = sqlite3_column_int64(st, 3);
}

int patron_tier_list(patron_store *s, struct patron_tier *out, size_t cap, size_t *count)
{
    sqlite3_stmt *st = patron__stmt(
        s, "SELECT id, name, threshold, multiplier_permille FROM tiers ORDER BY threshold");
    if (!st)
        return PATRON_EDB;
    return patron__read_rows(s, st, out, sizeof *out, cap, count, read_tier);
}

int patron_program_version(patron_store *s, int64_t *version)
{
    *version = patron__setting_int(s, "program_version", 0);
    return 0;
}

int patron_program_version_set(patron_store *s, int64_t version, const char *who)
{
    char value[24];
    int err;
    if (version < 1)
        return patron__fail(s, PATRON_EINVAL, "a program version is a positive number");
    snprintf(value, sizeof value, "%lld", (long long)version);
    if ((err = patron__tx_begin(s)) != 0)
        return err;
    if ((err = patron__setting_set(s, "program_version", value, who)) != 0) {
        patron__tx_rollback(s);
        return err;
    }
    return patron__tx_commit(s);
}

const char *patron__program_account_name(enum patron__program_account a)
{
    return (unsigned)a < PATRON__ACCT_COUNT ? account_names[a] : NULL;
}

int patron__load_program_accounts(patron_store *s)
{
    sqlite3_stmt *st = patron__stmt(s, "SELECT id FROM accounts WHERE name = ?1");
    if (!st)
        return PATRON_EDB;
    for (int i = 0; i < PATRON__ACCT_COUNT; i++) {
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, account_names[i], -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW) {
            sqlite3_reset(st);
            return patron__fail(s, PATRON_EDB, "program account %s is missing", account_names[i]);
        }
        s->program_accounts[i] = sqlite3_column_int64(st, 0);
    }
    sqlite3_reset(st);
    return 0;
}

int patron__program_seed(patron_store *s)
{
    static const char *const seed =
        "INSERT INTO accounts(name) VALUES ('program:issued'), ('program:redeemed'),"
        " ('program:expired'), ('program:adjustments');"
        "INSERT INTO tiers(name, threshold, multiplier_permille) VALUES ('Member', 0, 1000);"
        "INSERT INTO categories(name, multiplier_permille) VALUES ('giftcard', 0);";
    int err;
    if ((err = patron__exec(s, seed)) != 0)
        return err;
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if ((err = patron__setting_set(s, rules[i].name, rules[i].fallback, "init")) != 0)
            return err;
    return 0;
}

static void read_change(sqlite3_stmt *st, void *row)
{
    struct patron_rule_change *c = row;
    memset(c, 0, sizeof *c);
    c->change_id = sqlite3_column_int64(st, 0);
    patron__copy(c->key, sizeof c->key, (const char *)sqlite3_column_text(st, 1));
    c->has_old = sqlite3_column_type(st, 2) != SQLITE_NULL;
    patron__copy(c->old_value, sizeof c->old_value, (const char *)sqlite3_column_text(st, 2));
    patron__copy(c->new_value, sizeof c->new_value, (const char *)sqlite3_column_text(st, 3));
    patron__copy(c->changed_by, sizeof c->changed_by, (const char *)sqlite3_column_text(st, 4));
    c->changed_at = sqlite3_column_int64(st, 5);
}

int patron_rule_changes(patron_store *s, const char *prefix, struct patron_rule_change *out,
                        size_t cap, size_t *count)
{
    sqlite3_stmt *st = patron__stmt(
        s, "SELECT id, key, old_value, new_value, changed_by, changed_at FROM rule_changes"
           " WHERE substr(key, 1, length(?1)) = ?1 ORDER BY id DESC");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_text(st, 1, prefix ? prefix : "", -1, SQLITE_STATIC);
    return patron__read_rows(s, st, out, sizeof *out, cap, count, read_change);
}
