/* SPDX-License-Identifier: MIT */
/* `patron sync`: ships the store's outbox to head office in store_seq order, in batches, exactly
 * once. Each batch is COPYed into a temporary staging table and moved into `facts` by one
 * INSERT ... SELECT ... ON CONFLICT (store_id, store_seq) DO NOTHING, under the store's own role
 * (row-level security applies), in one transaction. Only after head office committed it does the
 * store record the batch as acknowledged. A sync starts from head office's own highest store_seq
 * for the store, so a crash between the two commits ships nothing twice and loses nothing.
 * Tests cut the link at a chosen moment with PATRON_SYNC_FAULT (see fault_at). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hq_internal.h"
#include "patron/error.h"
#include "patron/outbox.h"

/* One batch as COPY text: the rows, tab-separated, each field escaped. */
struct batch {
    char *text;
    size_t len, cap;
    int64_t last_seq;
    int64_t rows;
    int full; /* its text reached PATRON_HQ_SYNC_BATCH_BYTES: the listing stopped there */
};

static int grow(struct batch *b, size_t more)
{
    if (b->len + more + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 65536;
    while (cap < b->len + more + 1)
        cap *= 2;
    char *t = realloc(b->text, cap);
    if (!t)
        return PATRON_ENOMEM;
    b->text = t;
    b->cap = cap;
    return 0;
}

/* Appends `s` escaped for COPY's text format, then `end` (a tab or a newline). */
static int put_field(struct batch *b, const char *s, char end)
{
    size_t n = strlen(s ? s : "");
    if (grow(b, 2 * n + 1) != 0)
        return PATRON_ENOMEM;
    for (const char *p = s ? s : ""; *p; p++) {
        char c = *p;
        const char *esc = c == '\\'   ? "\\\\"
                          : c == '\t' ? "\\t"
                          : c == '\n' ? "\\n"
                          : c == '\r' ? "\\r"
                                      : NULL;
        if (esc) {
            memcpy(b->text + b->len, esc, 2);
            b->len += 2;
        } else {
            b->text[b->len++] = c;
        }
    }
    b->text[b->len++] = end;
    return 0;
}

static int add_row(const struct patron_outbox_row *row, void *ctx)
{
    struct batch *b = ctx;
    char id[16], seq[24], at[24];
    snprintf(id, sizeof id, "%d", row->store_id);
    snprintf(seq, sizeof seq, "%lld", (long long)row->store_seq);
    snprintf(at, sizeof at, "%lld", (long long)row->recorded_at);
    int rc = 0;
    if ((rc = put_field(b, id, '\t')) == 0 && (rc = put_field(b, seq, '\t')) == 0 &&
        (rc = put_field(b, row->kind, '\t')) == 0 && (rc = put_field(b, row->payload, '\t')) == 0)
        rc = put_field(b, at, '\n');
    b->last_seq = row->store_seq;
    b->rows++;
    b->full = rc == 0 && b->len >= PATRON_HQ_SYNC_BATCH_BYTES;
    return rc ? rc : b->full; /* 1: the batch is full, stop listing */
}

/* The store this login belongs to at head office, and the highest store_seq held for it. */
static int where_we_are(patron_hq *h, int store_id, int64_t *high, char *detail, size_t len)
{
    char id[16];
    snprintf(id, sizeof id, "%d", store_id);
    const char *params[] = {id};
    PGresult *res =
        PQexecParams(h->conn,
                     "SELECT hq_my_store(), (SELECT coalesce(max(store_seq), 0) FROM facts"
                     " WHERE store_id = $1::integer)",
                     1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return patron__hq_fail(res, h->conn, "cannot ask head office what it holds", detail, len);
    int mine = PQgetisnull(res, 0, 0) ? 0 : atoi(PQgetvalue(res, 0, 0));
    *high = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
    PQclear(res);
    if (mine == store_id)
        return 0;
    if (mine == 0)
        snprintf(detail, len,
                 "the head office login is not a store's (register the store with `patron hq "
                 "store add %d` and use the URL it prints)",
                 store_id);
    else
        snprintf(detail, len,
                 "this is store %d but the head office login belongs to store %d: use store "
                 "%d's URL",
                 store_id, mine, store_id);
    return PATRON_EFORBIDDEN;
}

static int need_schema(patron_hq *h, char *detail, size_t len)
{
    int version = 0, rc = patron_hq_schema_version(h, &version, detail, len);
    if (rc != 0 || version == patron_hq_schema_latest())
        return rc;
    snprintf(detail, len,
             version > patron_hq_schema_latest()
                 ? "the head office database is at schema version %d, newer than this program "
                   "knows (%d): upgrade patron before syncing"
                 : "the head office database is at schema version %d, not %d: run `patron hq "
                   "init` first",
             version, patron_hq_schema_latest());
    return PATRON_ESCHEMA;
}

/* COPY the batch into the staging table. */
static int copy_batch(patron_hq *h, const struct batch *b, char *detail, size_t len)
{
    PGresult *res = PQexec(h->conn, "COPY patron_sync_staging FROM STDIN");
    if (PQresultStatus(res) != PGRES_COPY_IN)
        return patron__hq_fail(res, h->conn, "head office refused the batch", detail, len);
    PQclear(res);
    if (PQputCopyData(h->conn, b->text, (int)b->len) != 1 || PQputCopyEnd(h->conn, NULL) != 1)
        return patron__hq_fail(NULL, h->conn, "the link to head office broke during a batch",
                               detail, len);
    int rc = 0;
    while ((res = PQgetResult(h->conn)) != NULL) {
        if (rc == 0 && PQresultStatus(res) != PGRES_COMMAND_OK)
            rc = patron__hq_fail(res, h->conn, "head office refused the batch", detail, len);
        else
            PQclear(res);
    }
    return rc;
}

/* The link cut on purpose, for the chain campaign and the bad-day tests: PATRON_SYNC_FAULT
 * "before:K" fails the K-th batch of a sync (1-based) just before head office's COMMIT (rolled
 * back), "after:K" just after it (committed at head office, not yet recorded at the store). 1
 * when batch `nth` is to fail at this moment (after_commit 0: before, 1: after). */
static int fault_at(int64_t nth, int after_commit, char *detail, size_t len)
{
    const char *f = getenv("PATRON_SYNC_FAULT");
    const char *when = after_commit ? "after:" : "before:";
    if (!f || strncmp(f, when, strlen(when)) != 0 || strtoll(f + strlen(when), NULL, 10) != nth)
        return 0;
    snprintf(detail, len,
             "the link to head office was cut %s its COMMIT of batch %lld (PATRON_SYNC_FAULT)",
             after_commit ? "after" : "before", (long long)nth);
    return 1;
}

/* Starts a batch's transaction with work_mem (for this transaction only) large enough to keep
 * the batch in memory: head office's triggers read the batch's facts from a transition table
 * (about twice the COPY text) a dozen times, and a batch of 10,000 spilled it to a temporary
 * file at the default 4 MB. */
static int begin_batch(patron_hq *h, const struct batch *b, char *detail, size_t len)
{
    char sql[96];
    size_t kb = b->len / 512 + 1024;
    snprintf(sql, sizeof sql, "BEGIN; SET LOCAL work_mem = '%zukB'", kb < 4096 ? 4096 : kb);
    return patron__hq_run(h->conn, sql, "cannot start a batch at head office", detail, len);
}

/* Ships one batch (the nth of this sync) in one head office transaction. */
static int ship_batch(patron_hq *h, const struct batch *b, int64_t nth, char *detail, size_t len)
{
    int rc = begin_batch(h, b, detail, len);
    if (rc == 0)
        rc = copy_batch(h, b, detail, len);
    if (rc == 0)
        rc = patron__hq_run(h->conn,
                            "INSERT INTO facts (store_id, store_seq, kind, payload, store_time)"
                            " SELECT store_id, store_seq, kind, payload::jsonb,"
                            " to_timestamp(recorded_at) FROM patron_sync_staging"
                            " ORDER BY store_seq ON CONFLICT (store_id, store_seq) DO NOTHING",
                            "head office refused the batch", detail, len);
    if (rc == 0 && fault_at(nth, 0, detail, len))
        rc = PATRON_EDB;
    if (rc == 0)
        rc = patron__hq_run(h->conn, "COMMIT", "head office did not commit the batch", detail, len);
    if (rc != 0)
        PQclear(PQexec(h->conn, "ROLLBACK"));
    else if (fault_at(nth, 1, detail, len))
        rc = PATRON_EDB;
    return rc;
}

static int prepare(patron_hq *h, patron_store *s, int *store_id, int64_t *high, char *detail,
                   size_t len)
{
    struct patron_store_info info;
    int rc = patron_store_info(s, &info);
    if (rc != 0) {
        snprintf(detail, len, "cannot read the store's id");
        return rc;
    }
    if (info.store_id <= 0) {
        snprintf(detail, len, "the store has no id yet: run `patron init --store-id N` first");
        return PATRON_EINVAL;
    }
    *store_id = info.store_id;
    if ((rc = need_schema(h, detail, len)) != 0 ||
        (rc = where_we_are(h, info.store_id, high, detail, len)) != 0 || h->staging_made)
        return rc;
    /* once per session: a link kept open (patron serve) does not make it again at each round */
    rc = patron__hq_run(h->conn,
                        "CREATE TEMP TABLE IF NOT EXISTS patron_sync_staging (store_id integer,"
                        " store_seq bigint, kind text, payload text, recorded_at bigint)"
                        " ON COMMIT DELETE ROWS",
                        "cannot make the staging table at head office", detail, len);
    h->staging_made = rc == 0;
    return rc;
}

/* What went wrong when the store could not record what head office holds, in a sentence: busy
 * (another writer held the store past busy_timeout) or the store's own error. */
static int store_failed(patron_store *s, int rc, const char *what, char *detail, size_t len)
{
    if (rc == -EBUSY)
        snprintf(detail, len,
                 "the store was busy; what head office acknowledged is recorded at the next sync");
    else
        snprintf(detail, len, "%s: %s", what, patron_store_detail(s));
    return rc;
}

/* Records head office's highest store_seq for the store as acknowledged: only a head office
 * ahead of the store's outbox is "never wrote". When the store already says so, nothing is
 * written (no write lock taken). */
static int accept_high(patron_store *s, int64_t high, char *detail, size_t len)
{
    struct patron_outbox_sync st;
    int64_t last = 0;
    int rc = patron_outbox_last(s, &last);
    if (rc == 0 && high > last) {
        snprintf(detail, len, "head office holds store_seq %lld, which this store never wrote",
                 (long long)high);
        return PATRON_EINVAL;
    }
    if (rc == 0)
        rc = patron_outbox_sync_get(s, &st);
    if (rc == 0 && st.acked_seq != high)
        rc = patron_outbox_sync_ack(s, high, 0);
    return rc ? store_failed(s, rc, "the store cannot record what head office holds", detail, len)
              : 0;
}

int patron_hq_ship(patron_hq *h, patron_store *s, size_t batch_rows, patron_hq_sync_progress fn,
                   void *ctx, struct patron_hq_sync_result *r, char *detail, size_t len)
{
    struct batch b = {0};
    int store_id = 0, rc;
    memset(r, 0, sizeof *r);
    if ((rc = prepare(h, s, &store_id, &r->from_seq, detail, len)) != 0)
        return rc;
    r->acked_seq = r->from_seq;
    /* a store that ran without a head office: the card number spaces it took, before its cards */
    if ((rc = patron__hq_card_space_join(h, s, detail, len)) != 0)
        return rc;
    /* head office is the truth: it holds exactly the rows up to its highest */
    if ((rc = accept_high(s, r->from_seq, detail, len)) != 0)
        return rc;
    size_t most = batch_rows ? batch_rows : PATRON_HQ_SYNC_BATCH_ROWS;
    for (;;) {
        b.len = 0;
        b.rows = 0;
        b.full = 0;
        rc = patron_outbox_list(s, r->acked_seq, most, add_row, &b, NULL);
        if (rc == 1 && b.full)
            rc = 0;
        if (rc != 0) {
            snprintf(detail, len, "cannot read the store's outbox");
            break;
        }
        if (b.rows == 0)
            break;
        int last_batch = b.rows < (int64_t)most && !b.full;
        if ((rc = ship_batch(h, &b, r->batches + 1, detail, len)) != 0)
            break;
        if ((rc = patron_outbox_sync_ack(s, b.last_seq, 0)) != 0) {
            store_failed(s, rc, "head office holds the batch but the store cannot record it",
                         detail, len);
            break;
        }
        r->acked_seq = b.last_seq;
        r->shipped += b.rows;
        r->batches++;
        if (fn)
            fn(r, ctx);
        if (last_batch) /* the outbox's end: a row committed since goes at the next round */
            break;
    }
    free(b.text);
    return rc;
}

int patron_hq_sync(patron_hq *h, patron_store *s, size_t batch_rows, patron_hq_sync_progress fn,
                   void *ctx, struct patron_hq_sync_result *r, char *detail, size_t len)
{
    int rc = patron_hq_ship(h, s, batch_rows, fn, ctx, r, detail, len);
    if (rc == 0)
        rc = patron_hq_pull(h, s, &r->pulled, detail, len);
    if (rc == 0 && (rc = patron_outbox_sync_ack(s, r->acked_seq, 1)) != 0)
        store_failed(s, rc, "head office holds every row but the store cannot record it", detail,
                     len);
    if (rc == 0) /* a new card number space before the store runs out, offline perhaps */
        rc = patron_hq_card_space_top_up(h, s, &r->card_space, detail, len);
    return rc;
}
