/* SPDX-License-Identifier: MIT */
/* A card this store does not know, looked up at head office while the customer waits: the card,
 * its member and their chain balance less this store's part, kept in the store (patron/chain.h,
 * no outbox row) so that the scan that follows finds them, now and offline later. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hq_internal.h"
#include "patron/card.h"
#include "patron/card_space.h"
#include "patron/chain.h"
#include "patron/error.h"
#include "patron/held.h"

static const char lookup_sql[] =
    "SELECT c.member_uid, c.blocked::integer,"
    " coalesce(extract(epoch FROM c.issued_at)::bigint, 0), m.name, m.email, m.phone,"
    " m.birthday, m.consent_marketing::integer,"
    " coalesce(extract(epoch FROM m.consent_at)::bigint, 0),"
    " coalesce(extract(epoch FROM m.enrolled_at)::bigint, 0),"
    " (m.erased_at IS NOT NULL)::integer,"
    " coalesce(b.points, 0) - coalesce(s.points, 0), coalesce(b.earned, 0) - coalesce(s.earned, 0)"
    " FROM cards c JOIN members m ON m.member_uid = c.member_uid"
    " LEFT JOIN chain_balances b ON b.member_uid = c.member_uid"
    " LEFT JOIN chain_member_stores s ON s.member_uid = c.member_uid"
    " AND s.store_id = hq_my_store() WHERE c.card_number = $1";

static const char *text_or_null(const PGresult *res, int col)
{
    return PQgetisnull(res, 0, col) ? NULL : PQgetvalue(res, 0, col);
}

static int64_t int_at(const PGresult *res, int col)
{
    return strtoll(PQgetvalue(res, 0, col), NULL, 10);
}

/* Keeps the one row of lookup_sql in the store. */
static int keep(patron_store *s, const char *number, const PGresult *res)
{
    struct patron_chain_member m = {.member_uid = PQgetvalue(res, 0, 0),
                                    .name = text_or_null(res, 3),
                                    .email = text_or_null(res, 4),
                                    .phone = text_or_null(res, 5),
                                    .birthday = text_or_null(res, 6),
                                    .consent_marketing = (int)int_at(res, 7),
                                    .consent_at = int_at(res, 8),
                                    .created_at = int_at(res, 9),
                                    .erased = (int)int_at(res, 10)};
    struct patron_chain_card c = {.number = number,
                                  .member_uid = m.member_uid,
                                  .blocked = (int)int_at(res, 1),
                                  .issued_at = int_at(res, 2)};
    struct patron_chain_balance b = {
        .member_uid = m.member_uid, .points = int_at(res, 11), .earned = int_at(res, 12)};
    int kept = 0, err = patron_chain_begin(s);
    if (err != 0)
        return err;
    if ((err = patron_chain_put_member(s, &m)) != 0 ||
        (err = patron_chain_put_card(s, &c, &kept)) != 0 ||
        (err = patron_chain_put_balance(s, &b)) != 0) {
        patron_chain_rollback(s);
        return err;
    }
    if ((err = patron_chain_commit(s, NULL)) != 0)
        return err;
    return kept ? 0 : PATRON_ENOCARD;
}

int patron_hq_card_lookup(patron_hq *h, patron_store *s, const char *card, char *detail, size_t len)
{
    char number[PATRON_CARD_DIGITS + 1];
    int rc = patron_card_parse(card, number);
    if (rc != 0) {
        snprintf(detail, len, "card number '%.32s' is mistyped", card ? card : "");
        return rc;
    }
    const char *params[] = {number};
    PGresult *res = PQexecParams(h->conn, lookup_sql, 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return patron__hq_fail(res, h->conn, "cannot look the card up at head office", detail, len);
    if (PQntuples(res) == 0) {
        PQclear(res);
        snprintf(detail, len, "no store of the chain issued card %s", number);
        return PATRON_ENOCARD;
    }
    rc = keep(s, number, res);
    PQclear(res);
    /* the sales held on this card while it was unknown are the member's now */
    if (rc == 0 && (rc = patron_held_post(s, NULL)) != 0) {
        snprintf(detail, len, "cannot post the sales held on card %s: %s", number,
                 patron_store_detail(s));
        return rc;
    }
    if (rc == PATRON_ENOCARD)
        snprintf(detail, len, "card %s is another member's in this store", number);
    else if (rc != 0)
        snprintf(detail, len, "cannot keep card %s: %s", number, patron_store_detail(s));
    return rc;
}

int patron_hq_card_lookup_url(const char *url, patron_store *s, const char *card, char *detail,
                              size_t len)
{
    char number[PATRON_CARD_DIGITS + 1], why[400], from[64] = "another store";
    patron_hq *h = NULL;
    int rc = patron_hq_connect(url, &h, why, sizeof why);
    if (rc == 0) {
        rc = patron_hq_card_lookup(h, s, card, detail, len);
        patron_hq_close(h);
        return rc;
    }
    int store = patron_card_parse(card, number) == 0 ? patron_card_owner(s, number) : 0;
    if (store > 0)
        snprintf(from, sizeof from, "store %d, by its number", store);
    snprintf(detail, len,
             "card %s is not this store's (it is from %s) and the link to head office is down, "
             "so it cannot be looked up now (%s)",
             patron_card_parse(card, number) == 0 ? number : "?", from, why);
    return PATRON_ENOCARD;
}
