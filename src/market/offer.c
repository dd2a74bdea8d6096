/* SPDX-License-Identifier: MIT */
/* The offers catalogue: adding an offer only after proving it can ever apply, reading, listing
 * and ending offers, and the handle's cache of running offers that every checkout evaluates. Adding
 * or ending an offer is a rule change: it is recorded with who and when and moves rules_version,
 * which tells every handle to read its cache again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "market/offer_internal.h"

#define MAX_DAYS 3650
#define MAX_BONUS 1000000
#define MAX_MULTIPLIER 10000
#define MAX_BASKET INT64_C(100000000000)
#define MAX_LIMIT INT64_C(1000000000)

static const char *const benefit_names[] = {
    [PATRON_BENEFIT_BONUS] = "bonus",
    [PATRON_BENEFIT_MULTIPLIER] = "multiplier",
    [PATRON_BENEFIT_REWARD] = "reward",
};

/* SKUs and categories are the sale's tokens: no spaces, 1..63 bytes. */
static int token(const char *text)
{
    if (!patron__printable(text, 64))
        return 0;
    return strchr(text, ' ') == NULL;
}

/* "1.5" -> 1500; at most three decimals. */
static int parse_permille(const char *text, int64_t *out)
{
    int64_t whole = 0, frac = 0, scale = 1000;
    const char *p = text;
    if (*p < '0' || *p > '9')
        return -1;
    for (; *p >= '0' && *p <= '9'; p++)
        if ((whole = whole * 10 + (*p - '0')) > 1000000)
            return -1;
    if (*p == '.') {
        if (p[1] == '\0')
            return -1;
        for (p++; *p >= '0' && *p <= '9' && scale > 1; p++)
            frac += (*p - '0') * (scale /= 10);
    }
    if (*p != '\0')
        return -1;
    *out = whole * 1000 + frac;
    return 0;
}

int patron_offer_benefit_parse(const char *text, enum patron_offer_benefit *kind, int64_t *value)
{
    const char *colon = text ? strchr(text, ':') : NULL;
    char *end;
    if (!colon || colon[1] == '\0')
        return PATRON_EINVAL;
    for (size_t i = 0; i < sizeof benefit_names / sizeof benefit_names[0]; i++) {
        size_t n = strlen(benefit_names[i]);
        if ((size_t)(colon - text) != n || strncmp(text, benefit_names[i], n) != 0)
            continue;
        int64_t v = 0;
        if (i == PATRON_BENEFIT_MULTIPLIER) {
            if (parse_permille(colon + 1, &v) != 0)
                return PATRON_EINVAL;
        } else {
            long long parsed = strtoll(colon + 1, &end, 10);
            if (*end != '\0' || parsed < 1)
                return PATRON_EINVAL;
            v = parsed;
        }
        *kind = (enum patron_offer_benefit)i;
        *value = v;
        return 0;
    }
    return PATRON_EINVAL;
}

void patron_offer_benefit_format(enum patron_offer_benefit kind, int64_t value, char *buf,
                                 size_t len)
{
    if (kind != PATRON_BENEFIT_MULTIPLIER) {
        snprintf(buf, len, "%s:%lld", kind == PATRON_BENEFIT_BONUS ? "bonus" : "reward",
                 (long long)value);
        return;
    }
    snprintf(buf, len, "multiplier:%lld.%03lld", (long long)(value / 1000),
             (long long)(value % 1000));
    /* "multiplier:1.500" reads better as "multiplier:1.5", and "2.000" as "2" */
    char *end = buf + strlen(buf);
    if (!strchr(buf, '.'))
        return;
    while (end > buf && end[-1] == '0')
        *--end = '\0';
    if (end > buf && end[-1] == '.')
        end[-1] = '\0';
}

static int lookup_id(patron_store *s, const char *sql, const char *name, int64_t *id)
{
    sqlite3_stmt *st = patron__stmt(s, sql);
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    *id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : patron__db_err(s, rc);
}

static int check_targets(patron_store *s, const struct patron_offer_def *d)
{
    if ((d->category != NULL) != (d->within_days != 0))
        return patron__fail(s, PATRON_EINVAL, "--category and --within-days go together");
    if (d->category && (!token(d->category) || d->within_days < 1 || d->within_days > MAX_DAYS))
        return patron__fail(s, PATRON_EINVAL,
                            "a bought-category target needs a category (1-63 bytes, no spaces) "
                            "and 1-%d days",
                            MAX_DAYS);
    if (d->lapsed_days < 0 || d->lapsed_days > MAX_DAYS)
        return patron__fail(s, PATRON_EINVAL, "lapsed days must be 1-%d", MAX_DAYS);
    if (d->first_visit && d->lapsed_days)
        return patron__fail(s, PATRON_EINVAL,
                            "conflicting rules: a first visit (no purchase yet) cannot also be a "
                            "lapsed member (an old purchase)");
    if (d->first_visit && d->category)
        return patron__fail(s, PATRON_EINVAL,
                            "conflicting rules: a first visit has no purchase history for "
                            "--category to match");
    if (d->lapsed_days && d->category && d->within_days <= d->lapsed_days)
        return patron__fail(s, PATRON_EINVAL,
                            "conflicting rules: no purchase for %lld days and a purchase within "
                            "%lld days cannot both hold",
                            (long long)d->lapsed_days, (long long)d->within_days);
    return 0;
}

static int check_benefit(patron_store *s, const struct patron_offer_def *d)
{
    switch (d->benefit) {
    case PATRON_BENEFIT_BONUS:
        if (d->benefit_value < 1 || d->benefit_value > MAX_BONUS)
            return patron__fail(s, PATRON_EINVAL, "a bonus is 1-%d points", MAX_BONUS);
        return 0;
    case PATRON_BENEFIT_MULTIPLIER:
        if (d->benefit_value <= 1000 || d->benefit_value > MAX_MULTIPLIER)
            return patron__fail(s, PATRON_EINVAL,
                                "a multiplier must be above 1 and at most 10 (it adds to the "
                                "ordinary points)");
        return 0;
    case PATRON_BENEFIT_REWARD:
        break;
    default:
        return patron__fail(s, PATRON_EINVAL, "the benefit is bonus, multiplier or reward");
    }
    sqlite3_stmt *st = patron__stmt(s, "SELECT active FROM rewards WHERE id = ?1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, d->benefit_value);
    int rc = sqlite3_step(st);
    int active = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return patron__db_err(s, rc);
    if (active != 1)
        return patron__fail(s, PATRON_EINVAL, "reward %lld %s", (long long)d->benefit_value,
                            active == 0 ? "was withdrawn" : "does not exist");
    return 0;
}

static int check_window(patron_store *s, const struct patron_offer_def *d)
{
    int64_t now = patron_store_now(s);
    if (d->valid_from < 0 || d->valid_to < 0)
        return patron__fail(s, PATRON_EINVAL, "the window's dates must be after 1970");
    if (d->valid_to && d->valid_from && d->valid_to <= d->valid_from)
        return patron__fail(s, PATRON_EINVAL, "impossible window: it ends before it starts");
    if (d->valid_to && d->valid_to <= now)
        return patron__fail(s, PATRON_EINVAL, "impossible window: it ended already");
    if (d->limit_per_member < 0 || d->limit_total < 0 || d->limit_per_day < 0 ||
        d->limit_per_member > MAX_LIMIT || d->limit_total > MAX_LIMIT ||
        d->limit_per_day > MAX_LIMIT)
        return patron__fail(s, PATRON_EINVAL, "limits are 1-10^9 (0 for none)");
    return 0;
}

static int check_def(patron_store *s, const struct patron_offer_def *d)
{
    int err;
    if (!patron__printable(d->name, 128))
        return patron__fail(s, PATRON_EINVAL, "an offer needs a name of 1-127 printable bytes");
    if (d->min_basket_minor < 0 || d->min_basket_minor > MAX_BASKET)
        return patron__fail(s, PATRON_EINVAL, "the basket minimum is 0-10^11 minor units");
    if ((d->sku && !token(d->sku)) || (d->basket_category && !token(d->basket_category)))
        return patron__fail(s, PATRON_EINVAL, "SKU and basket category are 1-63 bytes, no spaces");
    if (d->tier && !patron__printable(d->tier, 64))
        return patron__fail(s, PATRON_EINVAL, "a tier name is 1-63 bytes");
    if (d->segment && !patron__printable(d->segment, 64))
        return patron__fail(s, PATRON_EINVAL, "a segment name is 1-63 bytes");
    if (d->created_by && !patron__printable(d->created_by, 64))
        return patron__fail(s, PATRON_EINVAL, "who made the offer is 1-63 bytes");
    if ((err = check_targets(s, d)) != 0 || (err = check_benefit(s, d)) != 0)
        return err;
    return check_window(s, d);
}

static int count_running(patron_store *s, int64_t *n)
{
    sqlite3_stmt *st = patron__stmt(s, "SELECT COUNT(*) FROM offers WHERE ended_at IS NULL"
                                       " AND (valid_to IS NULL OR valid_to > ?1)");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, patron_store_now(s));
    int rc = sqlite3_step(st);
    *n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : patron__db_err(s, rc);
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static void bind_int_or_null(sqlite3_stmt *st, int i, int64_t v)
{
    if (v)
        sqlite3_bind_int64(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

static int insert_offer(patron_store *s, const struct patron_offer_def *d, int64_t tier_id,
                        int64_t segment_id, int64_t *offer_id)
{
    static const char *const sql =
        "INSERT INTO offers(name, tier_id, category, within_days, birthday_month, lapsed_days,"
        " first_visit, segment_id, min_basket_minor, sku, basket_category, benefit, benefit_value,"
        " exclusive, valid_from, valid_to, limit_per_member, limit_total, limit_per_day,"
        " created_at, created_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
        " ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)";
    sqlite3_stmt *st = patron__stmt(s, sql);
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_text(st, 1, d->name, -1, SQLITE_STATIC);
    bind_int_or_null(st, 2, tier_id);
    bind_text_or_null(st, 3, d->category);
    bind_int_or_null(st, 4, d->within_days);
    sqlite3_bind_int(st, 5, d->birthday_month ? 1 : 0);
    bind_int_or_null(st, 6, d->lapsed_days);
    sqlite3_bind_int(st, 7, d->first_visit ? 1 : 0);
    bind_int_or_null(st, 8, segment_id);
    bind_int_or_null(st, 9, d->min_basket_minor);
    bind_text_or_null(st, 10, d->sku);
    bind_text_or_null(st, 11, d->basket_category);
    sqlite3_bind_text(st, 12, benefit_names[d->benefit], -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 13, d->benefit_value);
    sqlite3_bind_int(st, 14, d->exclusive ? 1 : 0);
    bind_int_or_null(st, 15, d->valid_from);
    bind_int_or_null(st, 16, d->valid_to);
    bind_int_or_null(st, 17, d->limit_per_member);
    bind_int_or_null(st, 18, d->limit_total);
    bind_int_or_null(st, 19, d->limit_per_day);
    sqlite3_bind_int64(st, 20, patron_store_now(s));
    sqlite3_bind_text(st, 21, d->created_by ? d->created_by : "system", -1, SQLITE_STATIC);
    int err = patron__step_done(s, st);
    if (err == 0)
        *offer_id = sqlite3_last_insert_rowid(s->db);
    return err;
}

/* Resolves names to ids and refuses what does not exist; runs inside the transaction. */
static int resolve(patron_store *s, const struct patron_offer_def *d, int64_t *tier_id,
                   int64_t *segment_id)
{
    int err;
    *tier_id = *segment_id = 0;
    if (d->tier && (err = lookup_id(s, "SELECT id FROM tiers WHERE name = ?1", d->tier, tier_id)))
        return err;
    if (d->tier && *tier_id == 0)
        return patron__fail(s, PATRON_EINVAL, "no tier named '%s'", d->tier);
    if (d->segment &&
        (err = lookup_id(s, "SELECT id FROM segments WHERE name = ?1", d->segment, segment_id)))
        return err;
    if (d->segment && *segment_id == 0)
        return patron__fail(s, PATRON_EINVAL, "no segment named '%s'", d->segment);
    return 0;
}

int patron_offer_add(patron_store *s, const struct patron_offer_def *def, int64_t *offer_id)
{
    int64_t tier_id, segment_id, running = 0, id = 0;
    char key[48], value[64];
    int err = check_def(s, def);
    if (err != 0 || (err = patron__tx_begin(s)) != 0)
        return err;
    if ((err = resolve(s, def, &tier_id, &segment_id)) != 0 ||
        (err = count_running(s, &running)) != 0)
        goto out;
    if (running >= PATRON_OFFER_MAX_ACTIVE) {
        err = patron__fail(s, PATRON_ELIMIT, "%d offers are running; end some first",
                           PATRON_OFFER_MAX_ACTIVE);
        goto out;
    }
    if ((err = insert_offer(s, def, tier_id, segment_id, &id)) != 0)
        goto out;
    snprintf(key, sizeof key, "offer:%lld", (long long)id);
    patron_offer_benefit_format(def->benefit, def->benefit_value, value, sizeof value);
    if ((err = patron__setting_set(s, key, value, def->created_by)) != 0)
        goto out;
    if ((err = patron__tx_commit(s)) == 0)
        *offer_id = id;
    return err;
out:
    patron__tx_rollback(s);
    return err;
}

#define OFFER_COLUMNS                                                                              \
    "SELECT o.id, o.name, COALESCE(o.tier_id, 0), t.name, COALESCE(t.threshold, 0), o.category,"   \
    " COALESCE(o.within_days, 0), o.birthday_month, COALESCE(o.lapsed_days, 0), o.first_visit,"    \
    " COALESCE(o.segment_id, 0), g.name, COALESCE(o.min_basket_minor, 0), o.sku,"                  \
    " o.basket_category, o.benefit, o.benefit_value, r.name, COALESCE(r.cost, 0),"                 \
    " COALESCE(r.active, 0), o.exclusive, COALESCE(o.valid_from, 0), COALESCE(o.valid_to, 0),"     \
    " COALESCE(o.limit_per_member, 0), COALESCE(o.limit_total, 0),"                                \
    " COALESCE(o.limit_per_day, 0), o.created_at, o.created_by, COALESCE(o.ended_at, 0)"           \
    " FROM offers o LEFT JOIN tiers t ON t.id = o.tier_id"                                         \
    " LEFT JOIN segments g ON g.id = o.segment_id"                                                 \
    " LEFT JOIN rewards r ON o.benefit = 'reward' AND r.id = o.benefit_value"

static void text_col(sqlite3_stmt *st, int i, char *dst, size_t cap)
{
    patron__copy(dst, cap, (const char *)sqlite3_column_text(st, i));
}

static void read_offer(sqlite3_stmt *st, void *row)
{
    struct patron_offer *o = row;
    memset(o, 0, sizeof *o);
    o->offer_id = sqlite3_column_int64(st, 0);
    text_col(st, 1, o->name, sizeof o->name);
    o->tier_id = sqlite3_column_int64(st, 2);
    text_col(st, 3, o->tier, sizeof o->tier);
    o->tier_threshold = sqlite3_column_int64(st, 4);
    text_col(st, 5, o->category, sizeof o->category);
    o->within_days = sqlite3_column_int64(st, 6);
    o->birthday_month = sqlite3_column_int(st, 7);
    o->lapsed_days = sqlite3_column_int64(st, 8);
    o->first_visit = sqlite3_column_int(st, 9);
    o->segment_id = sqlite3_column_int64(st, 10);
    text_col(st, 11, o->segment, sizeof o->segment);
    o->min_basket_minor = sqlite3_column_int64(st, 12);
    text_col(st, 13, o->sku, sizeof o->sku);
    text_col(st, 14, o->basket_category, sizeof o->basket_category);
    const char *b = (const char *)sqlite3_column_text(st, 15);
    o->benefit = b && b[0] == 'm'   ? PATRON_BENEFIT_MULTIPLIER
                 : b && b[0] == 'r' ? PATRON_BENEFIT_REWARD
                                    : PATRON_BENEFIT_BONUS;
    o->benefit_value = sqlite3_column_int64(st, 16);
    text_col(st, 17, o->reward_name, sizeof o->reward_name);
    o->reward_cost = sqlite3_column_int64(st, 18);
    o->reward_active = sqlite3_column_int(st, 19);
    o->exclusive = sqlite3_column_int(st, 20);
    o->valid_from = sqlite3_column_int64(st, 21);
    o->valid_to = sqlite3_column_int64(st, 22);
    o->limit_per_member = sqlite3_column_int64(st, 23);
    o->limit_total = sqlite3_column_int64(st, 24);
    o->limit_per_day = sqlite3_column_int64(st, 25);
    o->created_at = sqlite3_column_int64(st, 26);
    text_col(st, 27, o->created_by, sizeof o->created_by);
    o->ended_at = sqlite3_column_int64(st, 28);
}

static int count_uses(patron_store *s, struct patron_offer *o)
{
    sqlite3_stmt *st = patron__stmt(s, "SELECT COUNT(*) FROM offer_uses WHERE offer_id = ?1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, o->offer_id);
    int rc = sqlite3_step(st);
    o->uses = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : patron__db_err(s, rc);
}

int patron_offer_get(patron_store *s, int64_t offer_id, struct patron_offer *out)
{
    struct patron_offer o;
    sqlite3_stmt *st = patron__stmt(s, OFFER_COLUMNS " WHERE o.id = ?1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, offer_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        read_offer(st, &o);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return patron__fail(s, PATRON_ENOTFOUND, "no offer %lld", (long long)offer_id);
    if (rc != SQLITE_ROW)
        return patron__db_err(s, rc);
    int err = count_uses(s, &o);
    if (err == 0)
        *out = o;
    return err;
}

int patron_offer_list(patron_store *s, int include_ended, struct patron_offer *out, size_t cap,
                      size_t *count)
{
    sqlite3_stmt *st =
        patron__stmt(s, OFFER_COLUMNS " WHERE ?1 OR o.ended_at IS NULL ORDER BY o.id");
    size_t n = 0;
    int err;
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int(st, 1, include_ended ? 1 : 0);
    if ((err = patron__read_rows(s, st, out, sizeof *out, cap, &n, read_offer)) != 0)
        return err;
    for (size_t i = 0; i < n && i < cap && err == 0; i++)
        err = count_uses(s, &out[i]);
    if (err == 0)
        *count = n;
    return err;
}

int patron_offer_end(patron_store *s, int64_t offer_id, const char *who)
{
    struct patron_offer o = {0};
    char key[48];
    int err;
    if (who && !patron__printable(who, 64))
        return patron__fail(s, PATRON_EINVAL, "who ends the offer is 1-63 bytes");
    if ((err = patron__tx_begin(s)) != 0)
        return err;
    if ((err = patron_offer_get(s, offer_id, &o)) != 0)
        goto out;
    if (o.ended_at) {
        err =
            patron__fail(s, PATRON_EINACTIVE, "offer %lld was already ended", (long long)offer_id);
        goto out;
    }
    sqlite3_stmt *st =
        patron__stmt(s, "UPDATE offers SET ended_at = ?2, ended_by = ?3 WHERE id = ?1");
    if (!st) {
        err = PATRON_EDB;
        goto out;
    }
    sqlite3_bind_int64(st, 1, offer_id);
    sqlite3_bind_int64(st, 2, patron_store_now(s));
    sqlite3_bind_text(st, 3, who ? who : "system", -1, SQLITE_STATIC);
    snprintf(key, sizeof key, "offer:%lld", (long long)offer_id);
    if ((err = patron__step_done(s, st)) != 0 ||
        (err = patron__setting_set(s, key, "ended", who)) != 0)
        goto out;
    return patron__tx_commit(s);
out:
    patron__tx_rollback(s);
    return err;
}

const char *patron_offer_status(const patron_store *s, const struct patron_offer *o)
{
    int64_t now = patron_store_now(s);
    if (o->ended_at)
        return "ended";
    if (o->valid_to && now >= o->valid_to)
        return "over";
    if (o->valid_from && now < o->valid_from)
        return "scheduled";
    return "running";
}

/* Frees the cache; the store calls it on close. */
static void offer_cache_free(struct patron__offer_cache *c)
{
    if (!c)
        return;
    free(c->v);
    free(c);
}

static int load_cache(patron_store *s, struct patron__offer_cache *c, int64_t version)
{
    sqlite3_stmt *st = patron__stmt(s, OFFER_COLUMNS " WHERE o.ended_at IS NULL"
                                                     " AND (o.valid_to IS NULL OR o.valid_to > ?1)"
                                                     " ORDER BY o.id LIMIT ?2");
    int rc;
    if (!st)
        return PATRON_EDB;
    if (!c->v && !(c->v = malloc(sizeof *c->v * PATRON_OFFER_MAX_ACTIVE)))
        return PATRON_ENOMEM;
    c->n = 0;
    c->version = 0;
    c->loaded_at = patron_store_now(s);
    sqlite3_bind_int64(st, 1, c->loaded_at);
    sqlite3_bind_int(st, 2, PATRON_OFFER_MAX_ACTIVE);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        read_offer(st, &c->v[c->n++]);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return patron__db_err(s, rc);
    c->version = version;
    return 0;
}

int patron__offer_cache_get(patron_store *s, const struct patron__offer_cache **out)
{
    int64_t version = patron__setting_int(s, "rules_version", 0);
    struct patron__offer_cache *c = s->offers;
    int err;
    if (!c && !(c = s->offers = calloc(1, sizeof *c)))
        return PATRON_ENOMEM;
    s->offers_free = offer_cache_free;
    if (c->version == 0 || c->version != version || patron_store_now(s) < c->loaded_at) {
        if ((err = load_cache(s, c, version)) != 0)
            return err;
    }
    *out = c;
    return 0;
}

/* The targets of `d` as an offer the evaluation reads: names resolved, tier threshold read. */
int patron__offer_audience_target(patron_store *s, const struct patron_offer_def *d,
                                  struct patron_offer *o)
{
    int err = check_targets(s, d);
    if (err != 0 || (err = resolve(s, d, &o->tier_id, &o->segment_id)) != 0)
        return err;
    if (o->tier_id) {
        sqlite3_stmt *st = patron__stmt(s, "SELECT threshold FROM tiers WHERE id = ?1");
        if (!st)
            return PATRON_EDB;
        sqlite3_bind_int64(st, 1, o->tier_id);
        int rc = sqlite3_step(st);
        o->tier_threshold = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
        sqlite3_reset(st);
        if (rc != SQLITE_ROW)
            return patron__db_err(s, rc);
        patron__copy(o->tier, sizeof o->tier, d->tier);
    }
    if (d->segment)
        patron__copy(o->segment, sizeof o->segment, d->segment);
    if (d->category)
        patron__copy(o->category, sizeof o->category, d->category);
    o->within_days = d->within_days;
    o->birthday_month = d->birthday_month;
    o->lapsed_days = d->lapsed_days;
    o->first_visit = d->first_visit;
    return 0;
}
