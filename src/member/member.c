/* SPDX-License-Identifier: MIT */
/* Members and cards: enrolment (with marketing consent and its date), look-up by card, phone or
 * id, and replacing a lost card. A member's balance lives in their ledger account. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/outbox_internal.h"
#include "member/member_internal.h"

#define CARD_MINT_TRIES 160

#define MEMBER_COLUMNS                                                                             \
    "SELECT m.id, m.name, m.email, m.phone, m.birthday, m.consent_marketing, m.consent_at,"        \
    " m.created_at, a.balance + m.chain_points, t.name, m.tier_until, m.greet_by_name"

/* Keeps digits and a leading '+'; 6-20 digits. */
static int normalise_phone(const char *in, char out[32])
{
    size_t n = 0, digits = 0;
    for (const char *p = in; *p; p++) {
        if (*p == '+' && n == 0)
            out[n++] = '+';
        else if (isdigit((unsigned char)*p) && n < 31)
            out[n++] = *p, digits++;
        else if (*p != ' ' && *p != '-' && *p != '(' && *p != ')' && *p != '.')
            return -1;
    }
    out[n] = '\0';
    return digits >= 6 && digits <= 20 ? 0 : -1;
}

static int valid_birthday(const char *b)
{
    int y, m, d;
    char tail;
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (strlen(b) != 10 || sscanf(b, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
        return 0;
    return y >= 1900 && y <= 2100 && m >= 1 && m <= 12 && d >= 1 && d <= days[m - 1];
}

static int validate_enrollment(patron_store *s, const struct patron_enrollment *in, char phone[32])
{
    phone[0] = '\0';
    int err;
    if ((err = patron__text_rule(s, "the name", in->name, 1, PATRON_NAME_MAX, 0)) != 0 ||
        (in->email &&
         (err = patron__text_rule(s, "the e-mail", in->email, 3, PATRON_EMAIL_MAX, 0)) != 0) ||
        (in->phone &&
         (err = patron__text_rule(s, "the phone", in->phone, 3, PATRON_PHONE_MAX, 0)) != 0) ||
        (in->consent_source && (err = patron__text_rule(s, "the consent source", in->consent_source,
                                                        1, PATRON_SOURCE_MAX, 0)) != 0))
        return err;
    if (in->email && !strchr(in->email, '@'))
        return patron__fail(s, PATRON_EINVAL, "the e-mail is not an address (it has no '@')");
    if (in->phone && normalise_phone(in->phone, phone) != 0)
        return patron__fail(s, PATRON_EINVAL, "phone must have 6-20 digits");
    if (in->birthday && !valid_birthday(in->birthday))
        return patron__fail(s, PATRON_EINVAL, "birthday must be a date YYYY-MM-DD");
    return 0;
}

/* A number at random in the store's current space (card_space.c), which then counts it; a store
 * with no id yet (before init) mints anywhere in the in-store range. A space is left at 90% full,
 * so a try finds a free serial at least one time in ten: the tries make a miss negligible. */
static int mint_number(patron_store *s, int space, char card[PATRON_CARD_DIGITS + 1])
{
    uint64_t r;
    int err = patron__random(&r, sizeof r);
    if (err != 0)
        return err;
    if (space > 0) {
        if ((err = patron_card_mint(space, r % PATRON_CARD_SERIALS, card)) != 0)
            return patron__fail(s, err, "cannot mint a card number in space %d", space);
        return 0;
    }
    snprintf(card, PATRON_CARD_DIGITS + 1, "%s%010llu", PATRON_CARD_PREFIX,
             (unsigned long long)(r % UINT64_C(10000000000)));
    card[PATRON_CARD_DIGITS - 1] = patron_card_check_digit(card);
    card[PATRON_CARD_DIGITS] = '\0';
    return 0;
}

static int mint_card(patron_store *s, int64_t member_id, char card[PATRON_CARD_DIGITS + 1])
{
    sqlite3_stmt *st = patron__stmt(s, "INSERT OR IGNORE INTO cards(number, member_id, status, "
                                       "issued_at) VALUES (?1, ?2, 'active', ?3)");
    int space = 0, err;
    if (!st)
        return PATRON_EDB;
    if (s->store_id > 0 && (err = patron__card_space_pick(s, &space)) != 0)
        return err;
    for (int attempt = 0; attempt < CARD_MINT_TRIES; attempt++) {
        if ((err = mint_number(s, space, card)) != 0)
            return err;
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, card, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, member_id);
        sqlite3_bind_int64(st, 3, patron_store_now(s));
        if ((err = patron__step_done(s, st)) != 0)
            return err;
        if (sqlite3_changes(s->db) != 1)
            continue;
        if (space > 0 && (err = patron__card_space_minted(s, space)) != 0)
            return err;
        return patron__outbox_add_card(s, card);
    }
    return patron__fail(s, PATRON_EDB, "could not mint a unique card number");
}

static void bind_optional(sqlite3_stmt *st, int i, const char *v)
{
    if (v && *v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

/* The first answer on consent, recorded by a trigger at enrolment (schema.c), goes to the outbox
 * like every later one. */
static int outbox_first_consent(patron_store *s, int64_t member_id)
{
    sqlite3_stmt *st = patron__stmt(s, "SELECT MAX(id) FROM consent_changes WHERE member_id = ?1");
    int64_t id = 0;
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, member_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return patron__db_err(s, rc);
    return id ? patron__outbox_add(s, PATRON__OUTBOX_CONSENT, id) : 0;
}

/* The new row's id and uid as SQLite and the trigger members_uid would give them (the largest id
 * plus one; the store_id setting, '-', the id), bound with the row: the trigger's UPDATE of the
 * row just inserted, beside the consent trigger, made the insert about four times dearer (a
 * statement journal for the two). Unbound (the trigger's way) if the ids ran out. */
static int bind_identity(patron_store *s, sqlite3_stmt *ins, int id_param)
{
    sqlite3_stmt *st = patron__stmt(
        s, "SELECT MAX(id), (SELECT value FROM settings WHERE key = 'store_id') FROM members");
    char uid[64];
    if (!st)
        return PATRON_EDB;
    int rc = sqlite3_step(st);
    int64_t max = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    const char *store = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 1) : NULL;
    int n = snprintf(uid, sizeof uid, "%s-%lld", store ? store : "0", (long long)max + 1);
    if (rc == SQLITE_ROW && max < INT64_MAX && n > 0 && (size_t)n < sizeof uid) {
        sqlite3_bind_int64(ins, id_param, max + 1);
        sqlite3_bind_text(ins, id_param + 1, uid, n, SQLITE_TRANSIENT);
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : patron__db_err(s, rc);
}

static int insert_member(patron_store *s, const struct patron_enrollment *in, const char *phone,
                         const struct patron__member_origin *o, int64_t *member_id)
{
    static const char *const sql =
        "INSERT INTO members(name, email, phone, birthday, consent_marketing, consent_at,"
        " consent_source, created_at, tier_id, tier_until, greet_by_name, id, member_uid)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
        " COALESCE(?9, (SELECT id FROM tiers WHERE threshold = 0)), ?10, ?11, ?12, ?13)";
    static const struct patron__member_origin now_origin = {0};
    sqlite3_stmt *st = patron__stmt(s, sql);
    int64_t now = patron_store_now(s);
    int err;
    if (!st)
        return PATRON_EDB;
    if ((err = bind_identity(s, st, 12)) != 0)
        return err;
    if (!o)
        o = &now_origin;
    sqlite3_bind_text(st, 1, in->name, -1, SQLITE_TRANSIENT);
    bind_optional(st, 2, in->email);
    bind_optional(st, 3, phone);
    bind_optional(st, 4, in->birthday);
    sqlite3_bind_int(st, 5, in->consent_marketing ? 1 : 0);
    if (o->consent_at || in->consent_marketing)
        sqlite3_bind_int64(st, 6, o->consent_at ? o->consent_at : now);
    bind_optional(st, 7,
                  o->consent_source       ? o->consent_source
                  : in->consent_marketing ? (in->consent_source ? in->consent_source : "counter")
                                          : NULL);
    sqlite3_bind_int64(st, 8, o->joined_at ? o->joined_at : now);
    if (o->tier_id)
        sqlite3_bind_int64(st, 9, o->tier_id);
    if (o->tier_until)
        sqlite3_bind_int64(st, 10, o->tier_until);
    sqlite3_bind_int(st, 11, in->greet_by_name ? 1 : 0);
    if ((err = patron__step_done(s, st)) != 0)
        return err;
    *member_id = sqlite3_last_insert_rowid(s->db);
    if (!(st = patron__stmt(s, "INSERT INTO accounts(member_id) VALUES (?1)")))
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, *member_id);
    if ((err = patron__step_done(s, st)) != 0 ||
        (err = patron__outbox_add(s, PATRON__OUTBOX_MEMBER, *member_id)) != 0)
        return err;
    return outbox_first_consent(s, *member_id);
}

static int keep_card(patron_store *s, int64_t member_id, const char *card)
{
    sqlite3_stmt *st = patron__stmt(s, "INSERT INTO cards(number, member_id, status, issued_at)"
                                       " VALUES (?1, ?2, 'active', ?3)");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_text(st, 1, card, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, member_id);
    sqlite3_bind_int64(st, 3, patron_store_now(s));
    int err = patron__step_done(s, st);
    return err != 0 ? err : patron__outbox_add_card(s, card);
}

int patron__member_create(patron_store *s, const struct patron_enrollment *in, const char *card,
                          const struct patron__member_origin *origin, int64_t *member_id,
                          char minted[PATRON_CARD_DIGITS + 1])
{
    char phone[32], number[PATRON_CARD_DIGITS + 1];
    int err;
    if ((err = validate_enrollment(s, in, phone)) != 0 ||
        (err = insert_member(s, in, phone, origin, member_id)) != 0)
        return err;
    if (card)
        return keep_card(s, *member_id, card);
    return mint_card(s, *member_id, minted ? minted : number);
}

int patron_member_enroll(patron_store *s, const struct patron_enrollment *in,
                         struct patron_member *out)
{
    char phone[32], card[PATRON_CARD_DIGITS + 1];
    int64_t member_id;
    int err;
    if ((err = validate_enrollment(s, in, phone)) != 0)
        return err;
    if ((err = patron__tx_begin(s)) != 0)
        return err;
    if ((err = insert_member(s, in, phone, NULL, &member_id)) != 0 ||
        (err = mint_card(s, member_id, card)) != 0) {
        patron__tx_rollback(s);
        return err;
    }
    if ((err = patron__tx_commit(s)) != 0)
        return err;
    return patron_member_by_card(s, card, out);
}

/* Text is read back repaired (bad bytes become U+FFFD): entry points refuse them, but a row that
 * somehow holds them must still scan, print and answer. */
static void read_member(sqlite3_stmt *st, struct patron_member *m)
{
    memset(m, 0, sizeof *m);
    m->member_id = sqlite3_column_int64(st, 0);
    patron_text_repair(m->name, sizeof m->name, (const char *)sqlite3_column_text(st, 1));
    patron_text_repair(m->email, sizeof m->email, (const char *)sqlite3_column_text(st, 2));
    patron_text_repair(m->phone, sizeof m->phone, (const char *)sqlite3_column_text(st, 3));
    patron__copy(m->birthday, sizeof m->birthday, (const char *)sqlite3_column_text(st, 4));
    m->consent_marketing = sqlite3_column_int(st, 5);
    m->consent_at = sqlite3_column_int64(st, 6);
    m->created_at = sqlite3_column_int64(st, 7);
    m->points = sqlite3_column_int64(st, 8);
    patron__copy(m->tier, sizeof m->tier, (const char *)sqlite3_column_text(st, 9));
    m->tier_until = sqlite3_column_int64(st, 10);
    m->greet_by_name = sqlite3_column_int(st, 11);
}

/* Runs a member query whose first parameter is bound by the caller; card columns follow. */
static int fetch_member(patron_store *s, sqlite3_stmt *st, struct patron_member *out, int err_none)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        read_member(st, out);
        patron__copy(out->card, sizeof out->card, (const char *)sqlite3_column_text(st, 12));
        out->card_blocked = sqlite3_column_text(st, 13) &&
                            strcmp((const char *)sqlite3_column_text(st, 13), "blocked") == 0;
        out->erased = sqlite3_column_int(st, 14);
    }
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 0;
    return rc == SQLITE_DONE ? err_none : patron__db_err(s, rc);
}

#define MEMBER_FROM                                                                                \
    " FROM members m JOIN accounts a ON a.member_id = m.id JOIN tiers t ON t.id = m.tier_id"

/* 1 when `old` is an imported alias (card_aliases): `number` is then its Patron card. */
static int alias_card(patron_store *s, const char *old, char number[PATRON_CARD_DIGITS + 1])
{
    sqlite3_stmt *st;
    int found;
    if (!old || !*old ||
        !(st = patron__stmt(s, "SELECT card FROM card_aliases WHERE old_number = ?1")))
        return 0;
    sqlite3_bind_text(st, 1, old, -1, SQLITE_TRANSIENT);
    found = sqlite3_step(st) == SQLITE_ROW;
    if (found)
        patron__copy(number, PATRON_CARD_DIGITS + 1, (const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    return found;
}

/* A look-up by card: the number is checked (a typo is refused before any look-up; another
 * program's number imported as an alias stands for its Patron card), then bound as ?1 of
 * `sql`. */
static int card_query(patron_store *s, const char *sql, const char *card,
                      char number[PATRON_CARD_DIGITS + 1], sqlite3_stmt **st)
{
    int err = patron_card_parse(card, number);
    if (err != 0 && alias_card(s, card, number))
        err = 0;
    if (err != 0)
        return patron__fail(s, err, "card number '%.32s'", card ? card : "");
    if (!(*st = patron__stmt(s, sql)))
        return PATRON_EDB;
    sqlite3_bind_text(*st, 1, number, -1, SQLITE_TRANSIENT);
    return 0;
}

/* A card no member here holds; one from another store's number space says which store (a space
 * head office granted is its store's, as the last pull said). */
static int unknown_card(patron_store *s, const char *number)
{
    int store = patron_card_owner(s, number);
    if (store > 0 && store != s->store_id)
        return patron__fail(s, PATRON_ENOCARD,
                            "no member holds card %s here; its number is in store %d's range "
                            "(a sync with head office brings the chain's cards)",
                            number, store);
    return patron__fail(s, PATRON_ENOCARD, "no member holds card %s", number);
}

/* The member behind a card, with the ledger row fields the checkout needs, in one query. */
int patron__member_load(patron_store *s, const char *card, struct patron_member *out,
                        struct patron__member_row *row)
{
    static const char sql[] =
        MEMBER_COLUMNS ", c.number, c.status, a.id, m.tier_id, t.threshold, t.multiplier_permille,"
                       " m.erased_at IS NOT NULL, m.chain_points"
                       " FROM cards c JOIN members m ON m.id = c.member_id"
                       " JOIN accounts a ON a.member_id = m.id JOIN tiers t ON t.id = m.tier_id"
                       " WHERE c.number = ?1";
    char number[PATRON_CARD_DIGITS + 1];
    sqlite3_stmt *st = NULL;
    int err = card_query(s, sql, card, number, &st);
    if (err != 0)
        return err;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        read_member(st, out);
        patron__copy(out->card, sizeof out->card, (const char *)sqlite3_column_text(st, 12));
        out->card_blocked = strcmp((const char *)sqlite3_column_text(st, 13), "blocked") == 0;
        out->erased = sqlite3_column_int(st, 18);
        int64_t chain_points = sqlite3_column_int64(st, 19);
        if (row)
            *row = (struct patron__member_row){.member_id = out->member_id,
                                               .account_id = sqlite3_column_int64(st, 14),
                                               .balance = out->points - chain_points,
                                               .chain_points = chain_points,
                                               .tier_id = sqlite3_column_int64(st, 15),
                                               .tier_until = out->tier_until,
                                               .tier_threshold = sqlite3_column_int64(st, 16),
                                               .tier_multiplier_permille =
                                                   sqlite3_column_int64(st, 17),
                                               .card_blocked = out->card_blocked,
                                               .erased = sqlite3_column_int(st, 18)};
    }
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return unknown_card(s, number);
    return rc == SQLITE_ROW ? 0 : patron__db_err(s, rc);
}

int patron_member_by_card(patron_store *s, const char *card, struct patron_member *out)
{
    return patron__member_load(s, card, out, NULL);
}

int patron_member_by_id(patron_store *s, int64_t member_id, struct patron_member *out)
{
    static const char sql[] = MEMBER_COLUMNS
        ", (SELECT number FROM cards WHERE member_id = m.id AND status = 'active'"
        " ORDER BY issued_at DESC LIMIT 1), 'active', m.erased_at IS NOT NULL" MEMBER_FROM
        " WHERE m.id = ?1";
    sqlite3_stmt *st = patron__stmt(s, sql);
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, member_id);
    return fetch_member(s, st, out, PATRON_ENOTFOUND);
}

int patron_member_by_phone(patron_store *s, const char *phone, struct patron_member *out)
{
    char normal[32];
    int64_t member_id;
    if (!phone || normalise_phone(phone, normal) != 0)
        return patron__fail(s, PATRON_EINVAL, "phone must have 6-20 digits");
    sqlite3_stmt *st = patron__stmt(
        s, "SELECT id FROM members WHERE phone = ?1 AND erased_at IS NULL ORDER BY id LIMIT 1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_text(st, 1, normal, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    member_id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? PATRON_ENOTFOUND : patron__db_err(s, rc);
    return patron_member_by_id(s, member_id, out);
}

/* The ledger's view of a member from columns 0-7 of MEMBER_ROW_COLUMNS (the two look-ups below). */
#define MEMBER_ROW_COLUMNS                                                                         \
    "m.id, a.id, a.balance, m.tier_id, COALESCE(m.tier_until, 0), t.threshold, "                   \
    "t.multiplier_permille, m.chain_points"

static void read_member_row(sqlite3_stmt *st, struct patron__member_row *out)
{
    out->member_id = sqlite3_column_int64(st, 0);
    out->account_id = sqlite3_column_int64(st, 1);
    out->balance = sqlite3_column_int64(st, 2);
    out->tier_id = sqlite3_column_int64(st, 3);
    out->tier_until = sqlite3_column_int64(st, 4);
    out->tier_threshold = sqlite3_column_int64(st, 5);
    out->tier_multiplier_permille = sqlite3_column_int64(st, 6);
    out->chain_points = sqlite3_column_int64(st, 7);
}

int patron__member_for_card(patron_store *s, const char *card, int require_active,
                            struct patron__member_row *out)
{
    static const char *const sql =
        "SELECT " MEMBER_ROW_COLUMNS ", c.status = 'blocked', m.erased_at IS NOT NULL,"
        " m.member_uid FROM cards c JOIN members m ON m.id = c.member_id JOIN accounts a ON "
        "a.member_id = m.id"
        " JOIN tiers t ON t.id = m.tier_id WHERE c.number = ?1";
    char number[PATRON_CARD_DIGITS + 1];
    sqlite3_stmt *st = NULL;
    int err = card_query(s, sql, card, number, &st);
    if (err != 0)
        return err;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        read_member_row(st, out);
        out->card_blocked = sqlite3_column_int(st, 8);
        out->erased = sqlite3_column_int(st, 9);
        const char *uid = (const char *)sqlite3_column_text(st, 10);
        out->member_uid[0] = '\0';
        if (uid && strlen(uid) < sizeof out->member_uid)
            patron__copy(out->member_uid, sizeof out->member_uid, uid);
    }
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return unknown_card(s, number);
    if (rc != SQLITE_ROW)
        return patron__db_err(s, rc);
    if (require_active && (out->card_blocked || out->erased))
        return patron__fail(s, PATRON_EBLOCKED, "card %s was blocked; use the member's new card",
                            number);
    return 0;
}

int patron_card_replace(patron_store *s, const char *card, char new_card[PATRON_CARD_DIGITS + 1])
{
    struct patron__member_row m = {0};
    char old[PATRON_CARD_DIGITS + 1], minted[PATRON_CARD_DIGITS + 1];
    int err;
    if ((err = patron_card_parse(card, old)) != 0)
        return patron__fail(s, err, "card number '%.32s'", card ? card : "");
    if ((err = patron__tx_begin(s)) != 0)
        return err;
    if ((err = patron__member_for_card(s, old, 1, &m)) != 0 ||
        (err = mint_card(s, m.member_id, minted)) != 0)
        goto out;
    sqlite3_stmt *st = patron__stmt(
        s,
        "UPDATE cards SET status = 'blocked', blocked_at = ?2, replaced_by = ?3 WHERE number = ?1");
    if (!st) {
        err = PATRON_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, old, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, patron_store_now(s));
    sqlite3_bind_text(st, 3, minted, -1, SQLITE_TRANSIENT);
    if ((err = patron__step_done(s, st)) != 0 || (err = patron__outbox_add_card(s, old)) != 0)
        goto out;
    if ((err = patron__tx_commit(s)) != 0)
        return err;
    memcpy(new_card, minted, sizeof minted);
    return 0;
out:
    patron__tx_rollback(s);
    return err;
}

int patron__member_row_by_id(patron_store *s, int64_t member_id, struct patron__member_row *out)
{
    static const char *const sql =
        "SELECT " MEMBER_ROW_COLUMNS ", m.erased_at IS NOT NULL FROM members m"
        " JOIN accounts a ON a.member_id = m.id JOIN tiers t ON t.id = m.tier_id WHERE m.id = ?1";
    sqlite3_stmt *st = patron__stmt(s, sql);
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, member_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        memset(out, 0, sizeof *out);
        read_member_row(st, out);
        out->erased = sqlite3_column_int(st, 8);
    }
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return patron__fail(s, PATRON_ENOTFOUND, "no member %lld", (long long)member_id);
    return rc == SQLITE_ROW ? 0 : patron__db_err(s, rc);
}
