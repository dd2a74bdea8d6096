/* SPDX-License-Identifier: MIT */
/* Card number spaces granted by head office (patron/card_space.h): the grant a store asks for
 * when its spaces are full (at enrolment, online) or 80% used (at `patron sync`), and the pull of
 * the chain's grants, so that a store keeps a grant whose answer it lost and says a number of a
 * granted space is its store's. The grant is recorded at head office as it is made
 * (hq_card_space_grant, schema.c), not shipped later: two stores asking at once must never get
 * the same space, which only the one place that hands them out can promise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hq_internal.h"
#include "patron/card_space.h"
#include "patron/chain.h"
#include "patron/error.h"

/* The spaces the store holds as a PostgreSQL array literal, malloc'd ("{1,65535}"). */
static char *held_array(patron_store *s)
{
    size_t n = 0, cap = 0;
    struct patron_card_space *sp = NULL;
    if (patron_card_spaces(s, NULL, 0, &n) != 0)
        return NULL;
    if (n && !(sp = calloc(n, sizeof *sp)))
        return NULL;
    cap = n;
    char *out = malloc(8 * cap + 3);
    if (!out || patron_card_spaces(s, sp, cap, &n) != 0) {
        free(sp);
        free(out);
        return NULL;
    }
    size_t at = 0;
    out[at++] = '{';
    for (size_t i = 0; i < n && i < cap; i++)
        at += (size_t)snprintf(out + at, 8, i ? ",%d" : "%d", sp[i].space);
    out[at++] = '}';
    out[at] = '\0';
    free(sp);
    return out;
}

int patron_hq_card_space_grant(patron_hq *h, patron_store *s, int *space, char *detail, size_t len)
{
    char *held = held_array(s);
    if (!held) {
        snprintf(detail, len, "cannot read the card number spaces this store holds");
        return PATRON_ENOMEM;
    }
    const char *params[] = {held};
    PGresult *res = PQexecParams(h->conn, "SELECT hq_card_space_grant($1::integer[])", 1, NULL,
                                 params, NULL, NULL, 0);
    free(held);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return patron__hq_fail(res, h->conn, "head office cannot grant a card number space", detail,
                               len);
    *space = atoi(PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}

int patron_hq_card_space_grant_url(const char *url, patron_store *s, int *space, char *detail,
                                   size_t len)
{
    patron_hq *h = NULL;
    int rc = patron_hq_connect(url, &h, detail, len);
    if (rc != 0)
        return rc;
    rc = patron_hq_card_space_grant(h, s, space, detail, len);
    patron_hq_close(h);
    return rc;
}

int patron_hq_card_space_top_up(patron_hq *h, patron_store *s, int *granted, char *detail,
                                size_t len)
{
    struct patron_store_info info;
    int low = 0, space = 0, rc;
    *granted = 0;
    if ((rc = patron_card_spaces_low(s, &low)) != 0 || (rc = patron_store_info(s, &info)) != 0) {
        snprintf(detail, len, "cannot read the card number spaces: %s", patron_store_detail(s));
        return rc;
    }
    if (!low)
        return 0;
    if ((rc = patron_hq_card_space_grant(h, s, &space, detail, len)) != 0)
        return rc;
    if ((rc = patron_card_space_grant_keep(s, space, info.store_id)) != 0) {
        snprintf(detail, len, "cannot keep card number space %d head office granted: %s", space,
                 patron_store_detail(s));
        return rc;
    }
    *granted = space;
    return 0;
}

/* The spaces as a PostgreSQL array literal into out ("{65535,65534}"). */
static void array_of(const int *spaces, size_t n, char *out, size_t len)
{
    size_t at = (size_t)snprintf(out, len, "{");
    for (size_t i = 0; i < n && at < len; i++)
        at += (size_t)snprintf(out + at, len - at, i ? ",%d" : "%d", spaces[i]);
    if (at < len)
        snprintf(out + at, len - at, "}");
}

/* Head office's answer to the spaces reported: recorded (kept here as granted to this store), or
 * the first one another store holds, refused in a sentence. */
static int joined(patron_store *s, const PGresult *res, const int *spaces, size_t n, char *detail,
                  size_t len)
{
    int rc, me = 0;
    if (!PQgetisnull(res, 0, 0)) {
        int space = 0, other = 0;
        sscanf(PQgetvalue(res, 0, 0), "%d %d", &space, &other);
        snprintf(detail, len,
                 "this store took card number space %d for itself before it joined the chain, "
                 "and head office holds it for store %d: cards of the two stores would share "
                 "numbers, so nothing was shipped. The shop keeps selling without a head office "
                 "(no --hq); to join the chain it needs a new store file (`patron init "
                 "--store-id N` for an id head office registers) with its members enrolled "
                 "there",
                 space, other);
        return PATRON_EDUPLICATE;
    }
    struct patron_store_info info;
    if ((rc = patron_store_info(s, &info)) == 0)
        me = info.store_id;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = patron_card_space_grant_keep(s, spaces[i], me);
    if (rc != 0)
        snprintf(detail, len, "cannot keep the card number spaces head office recorded: %s",
                 patron_store_detail(s));
    return rc;
}

int patron__hq_card_space_join(patron_hq *h, patron_store *s, char *detail, size_t len)
{
    int spaces[64];
    size_t n = 0;
    char taken[64 * 7 + 3];
    int rc = patron_card_spaces_self_taken(s, spaces, 64, &n);
    if (rc != 0) {
        snprintf(detail, len, "cannot read the card number spaces: %s", patron_store_detail(s));
        return rc;
    }
    if (n == 0) /* none, or reported already: no question to head office */
        return 0;
    if (n > 64) /* the rest at the next sync */
        n = 64;
    array_of(spaces, n, taken, sizeof taken);
    const char *params[] = {taken};
    PGresult *res = PQexecParams(h->conn, "SELECT hq_card_space_join($1::integer[])", 1, NULL,
                                 params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return patron__hq_fail(res, h->conn,
                               "head office cannot record the card number spaces this store took",
                               detail, len);
    rc = joined(s, res, spaces, n, detail, len);
    PQclear(res);
    return rc;
}

int patron__hq_card_spaces_read(patron_hq *h, PGresult **out, char *detail, size_t len)
{
    return patron__hq_select(h, "SELECT space, store_id FROM card_spaces ORDER BY space", 0, NULL,
                             "card number spaces", out, detail, len);
}

int patron__hq_card_spaces_keep(patron_store *s, const PGresult *res, char *detail, size_t len)
{
    int rc = 0, n = PQntuples(res);
    if (n > 0 && (rc = patron_chain_begin(s)) == 0) {
        for (int i = 0; i < n && rc == 0; i++)
            rc = patron_card_space_grant_keep(s, atoi(PQgetvalue(res, i, 0)),
                                              atoi(PQgetvalue(res, i, 1)));
        if (rc != 0)
            patron_chain_rollback(s);
        else
            rc = patron_chain_commit(s, NULL);
    }
    if (rc != 0)
        snprintf(detail, len, "cannot keep the chain's card number spaces: %s",
                 patron_store_detail(s));
    return rc;
}
