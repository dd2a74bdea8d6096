/* SPDX-License-Identifier: MIT */
/* Referrals (see include/patron/referral.h): minting and reading codes, linking a referee to a
 * referrer with the self-referral and loop checks, and paying both once on the referee's first
 * qualifying sale, inside that sale's transaction. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "ledger/ledger_internal.h"
#include "ledger/sale_internal.h"
#include "market/referral_internal.h"
#include "patron/referral.h"

#define MINT_TRIES 8
#define MAX_CHAIN 10000 /* referrers walked when looking for a loop */

static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/* Upper-cases, drops dashes and spaces, and reads O as 0 and I, L as 1, as Crockford says. */
static int normalise_code(const char *in, char out[PATRON_REFERRAL_CODE_CHARS + 1])
{
    size_t n = 0;
    for (const char *p = in ? in : ""; *p; p++) {
        int ch = toupper((unsigned char)*p);
        if (ch == '-' || ch == ' ')
            continue;
        ch = ch == 'O' ? '0' : (ch == 'I' || ch == 'L') ? '1' : ch;
        if (n == PATRON_REFERRAL_CODE_CHARS || !strchr(crockford, ch) || ch == '\0')
            return -1;
        out[n++] = (char)ch;
    }
    out[n] = '\0';
    return n == PATRON_REFERRAL_CODE_CHARS ? 0 : -1;
}

static int code_of(patron_store *s, int64_t member_id, char code[PATRON_REFERRAL_CODE_CHARS + 1])
{
    sqlite3_stmt *st = patron__stmt(s, "SELECT code FROM referral_codes WHERE member_id = ?1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, member_id);
    int rc = sqlite3_step(st);
    code[0] = '\0';
    if (rc == SQLITE_ROW)
        patron__copy(code, PATRON_REFERRAL_CODE_CHARS + 1,
                     (const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : patron__db_err(s, rc);
}

static int mint_code(patron_store *s, int64_t member_id, char code[PATRON_REFERRAL_CODE_CHARS + 1])
{
    sqlite3_stmt *st = patron__stmt(s, "INSERT OR IGNORE INTO referral_codes(member_id, code,"
                                       " created_at) VALUES (?1, ?2, ?3)");
    unsigned char r[PATRON_REFERRAL_CODE_CHARS];
    int err;
    if (!st)
        return PATRON_EDB;
    for (int attempt = 0; attempt < MINT_TRIES; attempt++) {
        if ((err = patron__random(r, sizeof r)) != 0)
            return err;
        for (size_t i = 0; i < sizeof r; i++)
            code[i] = crockford[r[i] & 31];
        code[PATRON_REFERRAL_CODE_CHARS] = '\0';
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, member_id);
        sqlite3_bind_text(st, 2, code, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 3, patron_store_now(s));
        if ((err = patron__step_done(s, st)) != 0)
            return err;
        if (sqlite3_changes(s->db) == 1)
            return 0;
    }
    return patron__fail(s, PATRON_EDB, "could not mint a unique referral code");
}

static int ensure_code(patron_store *s, int64_t member_id,
                       char code[PATRON_REFERRAL_CODE_CHARS + 1])
{
    int err = code_of(s, member_id, code);
    if (err != 0 || code[0])
        return err;
    if ((err = patron__tx_begin(s)) != 0)
        return err;
    if ((err = mint_code(s, member_id, code)) != 0) {
        patron__tx_rollback(s);
        return err;
    }
    return patron__tx_commit(s);
}

int patron_referral_code(patron_store *s, const char *card,
                         char code[PATRON_REFERRAL_CODE_CHARS + 1])
{
    struct patron__member_row m;
    int err = patron__member_for_card(s, card, 0, &m);
    return err != 0 ? err : ensure_code(s, m.member_id, code);
}

static int referrer_of_code(patron_store *s, const char *code, int64_t *member_id)
{
    char normal[PATRON_REFERRAL_CODE_CHARS + 1];
    if (normalise_code(code, normal) != 0)
        return patron__fail(s, PATRON_EINVAL, "a referral code is %d letters and digits",
                            PATRON_REFERRAL_CODE_CHARS);
    sqlite3_stmt *st = patron__stmt(s, "SELECT member_id FROM referral_codes WHERE code = ?1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_text(st, 1, normal, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    *member_id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return patron__fail(s, PATRON_ENOTFOUND, "no member has referral code %s", normal);
    return rc == SQLITE_ROW ? 0 : patron__db_err(s, rc);
}

/* One integer from a query of one or two ids; 0 when there is no row. */
static int query_int(patron_store *s, const char *sql, int64_t a, int64_t b, int64_t *out)
{
    sqlite3_stmt *st = patron__stmt(s, sql);
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, a);
    if (sqlite3_bind_parameter_count(st) > 1)
        sqlite3_bind_int64(st, 2, b);
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : patron__db_err(s, rc);
}

static int same_person(patron_store *s, int64_t referee, int64_t referrer, int64_t *same)
{
    return query_int(s,
                     "SELECT (a.email IS NOT NULL AND lower(a.email) = lower(b.email))"
                     " OR (a.phone IS NOT NULL AND a.phone = b.phone)"
                     " FROM members a, members b WHERE a.id = ?1 AND b.id = ?2",
                     referee, referrer, same);
}

/* Walks up from the referrer: meeting the referee on the way would close a loop. */
static int makes_loop(patron_store *s, int64_t referee, int64_t referrer, int *loop)
{
    int64_t at = referrer, up = 0;
    int err;
    *loop = 0;
    for (int i = 0; i < MAX_CHAIN && at != 0; i++) {
        if (at == referee) {
            *loop = 1;
            return 0;
        }
        if ((err = query_int(s, "SELECT referrer_id FROM referrals WHERE referee_id = ?1", at, 1,
                             &up)) != 0)
            return err;
        at = up;
    }
    return 0;
}

static int check_link(patron_store *s, int64_t referee, int64_t referrer)
{
    int64_t same = 0, already = 0, bought = 0;
    int loop = 0, err;
    if (referee == referrer)
        return patron__fail(s, PATRON_ERULE, "self-referral: a member cannot use their own code");
    if ((err = same_person(s, referee, referrer, &same)) != 0)
        return err;
    if (same)
        return patron__fail(s, PATRON_ERULE,
                            "self-referral: the new member has the referrer's email or phone");
    if ((err = query_int(s, "SELECT COUNT(*) FROM referrals WHERE referee_id = ?1", referee, 1,
                         &already)) != 0 ||
        (err = query_int(s, "SELECT COUNT(*) FROM sales WHERE member_id = ?1", referee, 1,
                         &bought)) != 0)
        return err;
    if (already)
        return patron__fail(s, PATRON_ERULE, "the member was already referred");
    if (bought)
        return patron__fail(s, PATRON_ERULE,
                            "the member has bought already; only a new member can be referred");
    if ((err = makes_loop(s, referee, referrer, &loop)) != 0)
        return err;
    if (loop)
        return patron__fail(s, PATRON_ERULE,
                            "referral loop: the referrer was referred, in turn, "
                            "by this member");
    return 0;
}

static int link(patron_store *s, int64_t referee, int64_t referrer)
{
    int err = check_link(s, referee, referrer);
    if (err != 0)
        return err;
    sqlite3_stmt *st = patron__stmt(
        s, "INSERT INTO referrals(referee_id, referrer_id, linked_at) VALUES (?1, ?2, ?3)");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, referee);
    sqlite3_bind_int64(st, 2, referrer);
    sqlite3_bind_int64(st, 3, patron_store_now(s));
    return patron__step_done(s, st);
}

int patron_member_enroll_referred(patron_store *s, const struct patron_enrollment *in,
                                  const char *code, struct patron_member *out)
{
    struct patron_member m;
    int64_t referrer = 0;
    int err = referrer_of_code(s, code, &referrer);
    if (err != 0 || (err = patron__tx_begin(s)) != 0)
        return err;
    if ((err = patron_member_enroll(s, in, &m)) != 0 ||
        (err = link(s, m.member_id, referrer)) != 0) {
        patron__tx_rollback(s);
        return err;
    }
    if ((err = patron__tx_commit(s)) == 0)
        *out = m;
    return err;
}

int patron_referral_link(patron_store *s, const char *card, const char *code)
{
    struct patron__member_row m;
    int64_t referrer = 0;
    int err = patron__member_for_card(s, card, 1, &m);
    if (err != 0 || (err = referrer_of_code(s, code, &referrer)) != 0 ||
        (err = patron__tx_begin(s)) != 0)
        return err;
    if ((err = link(s, m.member_id, referrer)) != 0) {
        patron__tx_rollback(s);
        return err;
    }
    return patron__tx_commit(s);
}

int patron_referral_info(patron_store *s, const char *card, struct patron_referral_info *out)
{
    struct patron_referral_info r = {0};
    struct patron__member_row m;
    int64_t rewarded = 0;
    int err = patron__member_for_card(s, card, 0, &m);
    if (err != 0 || (err = ensure_code(s, m.member_id, r.code)) != 0)
        return err;
    if ((err = query_int(s, "SELECT referrer_id FROM referrals WHERE referee_id = ?1", m.member_id,
                         1, &r.referred_by)) != 0 ||
        (err = query_int(s,
                         "SELECT rewarded_at IS NOT NULL FROM referrals WHERE referee_id = ?1"
                         "",
                         m.member_id, 1, &rewarded)) != 0 ||
        (err = query_int(s, "SELECT COUNT(*) FROM referrals WHERE referrer_id = ?1", m.member_id, 1,
                         &r.referred)) != 0 ||
        (err = query_int(s,
                         "SELECT COUNT(*) FROM referrals WHERE referrer_id = ?1 AND"
                         " rewarded_at IS NOT NULL",
                         m.member_id, 1, &r.referred_rewarded)) != 0)
        return err;
    r.rewarded = rewarded != 0;
    *out = r;
    return 0;
}

static int pay(patron_store *s, struct patron__member_row *m, int64_t points, const char *note,
               int *changed)
{
    struct patron__posting post = {.kind = "earn",
                                   .points = points,
                                   .to_member = 1,
                                   .program = PATRON__ACCT_ISSUED,
                                   .note = note};
    int64_t entry_id;
    int up = 0, err = patron__ledger_post(s, m, &post, &entry_id);
    if (err == 0 && (err = patron__tier_review(s, m, 1, &up)) == 0)
        *changed |= up;
    return err;
}

int patron__referral_on_sale(patron_store *s, struct patron__member_row *m,
                             const struct patron_sale *in, int64_t sale_id,
                             struct patron_sale_result *out, int *changed)
{
    struct patron__member_row referrer;
    int64_t referrer_id = 0, bonus, min_basket;
    char note[96];
    int err = query_int(s,
                        "SELECT referrer_id FROM referrals WHERE referee_id = ?1 AND"
                        " rewarded_at IS NULL",
                        m->member_id, 1, &referrer_id);
    if (err != 0 || referrer_id == 0)
        return err;
    bonus = patron__setting_int(s, "referral_bonus_points", 100);
    min_basket = patron__setting_int(s, "referral_min_basket_minor", 0);
    if (in->total_minor < min_basket || bonus <= 0)
        return 0;
    snprintf(note, sizeof note, "referral: referred by member %lld", (long long)referrer_id);
    if ((err = pay(s, m, bonus, note, changed)) != 0 ||
        (err = patron__member_row_by_id(s, referrer_id, &referrer)) != 0)
        return err;
    snprintf(note, sizeof note, "referral: member %lld made a first purchase",
             (long long)m->member_id);
    if (!referrer.erased && (err = pay(s, &referrer, bonus, note, &(int){0})) != 0)
        return err;
    sqlite3_stmt *st = patron__stmt(s, "UPDATE referrals SET sale_id = ?2, rewarded_at = ?3,"
                                       " points = ?4 WHERE referee_id = ?1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, m->member_id);
    sqlite3_bind_int64(st, 2, sale_id);
    sqlite3_bind_int64(st, 3, patron_store_now(s));
    sqlite3_bind_int64(st, 4, bonus);
    if ((err = patron__step_done(s, st)) != 0)
        return err;
    out->bonus_points += bonus;
    return patron__sale_balance_after(s, sale_id, patron__member_points(m));
}

int patron__referral_replay(patron_store *s, int64_t sale_id, struct patron_sale_result *out)
{
    sqlite3_stmt *st =
        patron__stmt(s, "SELECT COALESCE(SUM(points), 0) FROM referrals WHERE sale_id = ?1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, sale_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        out->bonus_points += sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : patron__db_err(s, rc);
}
