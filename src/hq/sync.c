/* SPDX-License-Identifier: MIT */
/* `patron sync`: ships the store's outbox to head office in store_seq order, in batches, exactly
 * once. Each batch is COPYed into a temporary staging table and moved into `facts` by one
 * INSERT ... SELECT ... ON CONFLICT (store_id, store_seq) DO NOTHING, under the store's own role
 * (row-level security applies), in one transaction; the store lists the next batch while head
 * office moves and commits this one. Only after head office committed it does the store record
 * the batch as acknowledged. A sync starts from head office's own highest store_seq
 * for the store, so a crash between the two commits ships nothing twice and loses nothing.
 * A round that finds only a few rows (what a store selling between rounds writes) takes the
 * short way: one statement, one round trip, inserting the rows only when head office holds
 * exactly what the store recorded (see short_sql); head office projects them in that
 * transaction. The batches of the long way leave their facts for head office to project after
 * them, so that a backlog ships at the cost of writing it: the sync projects one batch when it
 * has shipped, each later round another (schema.c, migration_project_behind).
 * Tests cut the link at a chosen moment with PATRON_SYNC_FAULT (see fault_at). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hq_internal.h"
#include "patron/card_space.h"
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

/* Reads every result of what was sent for a batch: 0, or the first refusal's code. */
static int batch_results(patron_hq *h, char *detail, size_t len)
{
    PGresult *res;
    int rc = 0;
    while ((res = PQgetResult(h->conn)) != NULL) {
        if (rc == 0 && PQresultStatus(res) != PGRES_COMMAND_OK)
            rc = patron__hq_fail(res, h->conn, "head office refused the batch", detail, len);
        else
            PQclear(res);
    }
    return rc;
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
    return batch_results(h, detail, len);
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

/* Starts a batch's transaction: its facts are left pending, projected after the ship (see
 * patron_hq_ship), and work_mem (for this transaction only) is large enough to keep the batch in
 * memory: head office's store check reads the batch's rows from a transition table (about twice
 * the COPY text), which a batch of 10,000 spilled to a temporary file at the default 4 MB. */
static int begin_batch(patron_hq *h, const struct batch *b, char *detail, size_t len)
{
    char sql[160];
    size_t kb = b->len / 512 + 1024;
    snprintf(sql, sizeof sql,
             "BEGIN; SET LOCAL work_mem = '%zukB'; SET LOCAL patron.projection = 'deferred'",
             kb < 4096 ? 4096 : kb);
    return patron__hq_run(h->conn, sql, "cannot start a batch at head office", detail, len);
}

#define MOVE_SQL                                                                                   \
    "INSERT INTO facts (store_id, store_seq, kind, payload, store_time)"                           \
    " SELECT store_id, store_seq, kind, payload::jsonb, to_timestamp(recorded_at)"                 \
    " FROM patron_sync_staging ORDER BY store_seq ON CONFLICT (store_id, store_seq) DO NOTHING"

/* Starts shipping one batch (the nth of this sync) in one head office transaction: the batch
 * COPYed, then its move into facts and the COMMIT sent in one message, not waited for, so that
 * the store lists the next batch while head office writes this one (ship_batch_end waits). A
 * fault before COMMIT takes the slow way: the move, then the link cut. */
static int ship_batch_start(patron_hq *h, const struct batch *b, int64_t nth, char *detail,
                            size_t len)
{
    int rc = begin_batch(h, b, detail, len);
    if (rc == 0)
        rc = copy_batch(h, b, detail, len);
    if (rc == 0 && fault_at(nth, 0, detail, len)) {
        char ignored[256];
        (void)patron__hq_run(h->conn, MOVE_SQL, "head office refused the batch", ignored,
                             sizeof ignored);
        rc = PATRON_EDB;
    }
    if (rc == 0 && PQsendQuery(h->conn, MOVE_SQL "; COMMIT") != 1)
        rc = patron__hq_fail(NULL, h->conn, "the link to head office broke during a batch", detail,
                             len);
    if (rc != 0)
        PQclear(PQexec(h->conn, "ROLLBACK"));
    return rc;
}

/* Waits for the batch ship_batch_start sent: its move and its COMMIT. */
static int ship_batch_end(patron_hq *h, int64_t nth, char *detail, size_t len)
{
    int rc = batch_results(h, detail, len);
    if (rc != 0) /* the move failed: the COMMIT was not run, the transaction is open */
        PQclear(PQexec(h->conn, "ROLLBACK"));
    else if (fault_at(nth, 1, detail, len))
        rc = PATRON_EDB;
    return rc;
}

static int store_id_of(patron_store *s, int *store_id, char *detail, size_t len)
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
    return 0;
}

static int prepare(patron_hq *h, int store_id, int64_t *high, char *detail, size_t len)
{
    int rc;
    if ((rc = need_schema(h, detail, len)) != 0 ||
        (rc = where_we_are(h, store_id, high, detail, len)) != 0 || h->staging_made)
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

/* The short way, for what a round usually finds: a few rows past what the store recorded as
 * acknowledged. The rows go as four array parameters of one statement, one round trip and one
 * transaction of its own: it asks what head office holds (its schema version, whose login this
 * is, its highest store_seq for the store) and inserts the rows only when that is what the store
 * expects (the latest schema, this store's login, the store's acknowledged row as head office's
 * highest), so no row is inserted after a gap. Anything else inserts nothing and the round takes
 * the long way (the batches below), which names the trouble or starts again from head office's
 * highest. Up to SHORT_ROWS rows and SHORT_BYTES of text: a backlog goes by COPY, which ingests
 * faster in bulk (README, "Ingest, measured"). */
#define SHORT_ROWS 500
#define SHORT_BYTES ((size_t)1 << 20)

static const char short_sql[] =
    "WITH held AS (SELECT (SELECT max(version) FROM hq_schema_version) = $2::integer"
    " AND hq_my_store() = $1::integer AND (SELECT coalesce(max(store_seq), 0) FROM facts"
    " WHERE store_id = $1::integer) = $3::bigint AS expected),"
    " added AS (INSERT INTO facts (store_id, store_seq, kind, payload, store_time)"
    " SELECT $1::integer, u.seq, u.kind, u.payload::jsonb, to_timestamp(u.at)"
    " FROM held, unnest($4::bigint[], $5::text[], $6::text[], $7::bigint[])"
    " AS u(seq, kind, payload, at) WHERE held.expected"
    " ORDER BY u.seq ON CONFLICT (store_id, store_seq) DO NOTHING)"
    " SELECT expected IS TRUE FROM held";

/* A few rows as the columns of short_sql: PostgreSQL array literals. */
struct columns {
    struct batch seq, kind, payload, at;
    int64_t last_seq;
    int64_t rows;
    int full; /* its payloads reached SHORT_BYTES */
};

/* Appends `s` as an array element (quoted, `"` and `\` escaped), then `end` ("," or "}"). */
static int put_element(struct batch *b, const char *s, char end)
{
    size_t n = strlen(s ? s : "");
    if (grow(b, 2 * n + 4) != 0)
        return PATRON_ENOMEM;
    if (b->len == 0)
        b->text[b->len++] = '{';
    b->text[b->len++] = '"';
    for (const char *p = s ? s : ""; *p; p++) {
        if (*p == '"' || *p == '\\')
            b->text[b->len++] = '\\';
        b->text[b->len++] = *p;
    }
    b->text[b->len++] = '"';
    b->text[b->len++] = end;
    b->text[b->len] = '\0';
    return 0;
}

static int add_column_row(const struct patron_outbox_row *row, void *ctx)
{
    struct columns *c = ctx;
    char seq[24], at[24];
    snprintf(seq, sizeof seq, "%lld", (long long)row->store_seq);
    snprintf(at, sizeof at, "%lld", (long long)row->recorded_at);
    int rc = 0;
    if ((rc = put_element(&c->seq, seq, ',')) == 0 &&
        (rc = put_element(&c->kind, row->kind, ',')) == 0 &&
        (rc = put_element(&c->payload, row->payload, ',')) == 0)
        rc = put_element(&c->at, at, ',');
    c->last_seq = row->store_seq;
    c->rows++;
    c->full = rc == 0 && c->payload.len >= SHORT_BYTES;
    return rc ? rc : c->full; /* 1: more than the short way takes, stop listing */
}

static void columns_free(struct columns *c)
{
    free(c->seq.text);
    free(c->kind.text);
    free(c->payload.text);
    free(c->at.text);
}

/* Lists the whole outbox past `acked` into c: 0 when it fits the short way (fewer rows than
 * `most`, the caller's batch, and SHORT_ROWS), 1 when it does not (none, or more), else a
 * failure. */
static int columns_list(patron_store *s, int64_t acked, size_t most, struct columns *c)
{
    size_t limit = most < SHORT_ROWS ? most : SHORT_ROWS;
    int rc = patron_outbox_list(s, acked, limit, add_column_row, c, NULL);
    if (rc != 0 || c->rows == 0 || c->rows >= (int64_t)limit)
        return rc ? rc : 1;
    struct batch *each[] = {&c->seq, &c->kind, &c->payload, &c->at};
    for (size_t i = 0; i < sizeof each / sizeof each[0]; i++)
        each[i]->text[each[i]->len - 1] = '}';
    return 0;
}

/* Runs short_sql for the rows in c, the nth batch of this sync; *took 1 when head office held
 * what the store expected (the rows are in), 0 when the round must take the long way. */
static int ship_short(patron_hq *h, int store_id, int64_t acked, const struct columns *c,
                      int64_t nth, int *took, char *detail, size_t len)
{
    char id[16], version[16], high[24];
    snprintf(id, sizeof id, "%d", store_id);
    snprintf(version, sizeof version, "%d", patron_hq_schema_latest());
    snprintf(high, sizeof high, "%lld", (long long)acked);
    const char *params[] = {id,           version,         high,      c->seq.text,
                            c->kind.text, c->payload.text, c->at.text};
    /* the fault before COMMIT: the statement runs in a transaction that is then rolled back */
    int doomed = fault_at(nth, 0, detail, len), rc = 0;
    if (doomed && (rc = patron__hq_run(h->conn, "BEGIN", "cannot start a batch at head office",
                                       detail, len)) != 0)
        return rc;
    PGresult *res = PQexecParams(h->conn, short_sql, 7, NULL, params, NULL, NULL, 0);
    *took = PQresultStatus(res) == PGRES_TUPLES_OK && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    if (PQresultStatus(res) != PGRES_TUPLES_OK && PQstatus(h->conn) != CONNECTION_OK)
        return patron__hq_fail(res, h->conn, "head office refused the batch", detail, len);
    PQclear(res); /* refused on a sound link: the long way says why */
    if (doomed) {
        PQclear(PQexec(h->conn, "ROLLBACK"));
        return PATRON_EDB;
    }
    return *took && fault_at(nth, 1, detail, len) ? PATRON_EDB : 0;
}

/* The short way for the whole outbox past what the store recorded as acknowledged, recorded at
 * the store; *done 0 when the round is to take the long way instead (nothing written). */
static int ship_whole_outbox(patron_hq *h, patron_store *s, int store_id, size_t most, int *done,
                             struct patron_hq_sync_result *r, char *detail, size_t len)
{
    struct patron_outbox_sync st;
    struct columns c = {0};
    size_t joining = 0;
    int space = 0, rc;
    *done = 0;
    /* a store joining the chain reports its card number spaces first: the long way */
    if (patron_outbox_sync_get(s, &st) != 0 ||
        patron_card_spaces_self_taken(s, &space, 1, &joining) != 0 || joining > 0 ||
        columns_list(s, st.acked_seq, most, &c) != 0) {
        columns_free(&c);
        return 0; /* the long way reads them again and names any trouble */
    }
    rc = ship_short(h, store_id, st.acked_seq, &c, r->batches + 1, done, detail, len);
    if (rc == 0 && *done && (rc = patron_outbox_sync_ack(s, c.last_seq, 0)) != 0)
        store_failed(s, rc, "head office holds the batch but the store cannot record it", detail,
                     len);
    if (rc == 0 && *done) {
        r->from_seq = st.acked_seq;
        r->acked_seq = c.last_seq;
        r->shipped = c.rows;
        r->batches = 1;
    }
    columns_free(&c);
    return rc;
}

/* Lists the next batch, the outbox's rows past `after`, into b (emptied first). */
static int list_batch(patron_store *s, int64_t after, size_t most, struct batch *b, char *detail,
                      size_t len)
{
    b->len = 0;
    b->rows = 0;
    b->full = 0;
    int rc = patron_outbox_list(s, after, most, add_row, b, NULL);
    if (rc == 1 && b->full)
        rc = 0;
    if (rc != 0)
        snprintf(detail, len, "cannot read the store's outbox");
    return rc;
}

int patron_hq_ship(patron_hq *h, patron_store *s, size_t batch_rows, patron_hq_sync_progress fn,
                   void *ctx, struct patron_hq_sync_result *r, char *detail, size_t len)
{
    struct batch next = {0}, spare = {0};
    int store_id = 0, done = 0, rc;
    size_t most = batch_rows ? batch_rows : PATRON_HQ_SYNC_BATCH_ROWS;
    memset(r, 0, sizeof *r);
    if ((rc = store_id_of(s, &store_id, detail, len)) != 0 ||
        (rc = ship_whole_outbox(h, s, store_id, most, &done, r, detail, len)) != 0)
        return rc;
    if (done) {
        if (fn)
            fn(r, ctx);
        return 0;
    }
    if ((rc = prepare(h, store_id, &r->from_seq, detail, len)) != 0)
        return rc;
    r->acked_seq = r->from_seq;
    /* a store that ran without a head office: the card number spaces it took, before its cards */
    if ((rc = patron__hq_card_space_join(h, s, detail, len)) != 0)
        return rc;
    /* head office is the truth: it holds exactly the rows up to its highest */
    if ((rc = accept_high(s, r->from_seq, detail, len)) != 0)
        return rc;
    /* one batch listed ahead: the next is read from the store while head office writes one */
    rc = list_batch(s, r->acked_seq, most, &next, detail, len);
    while (rc == 0 && next.rows > 0) {
        struct batch b = next;
        int last_batch = b.rows < (int64_t)most && !b.full, listed = 0;
        next = spare;
        next.rows = 0; /* the outbox's end: a row committed since goes at the next round */
        if ((rc = ship_batch_start(h, &b, r->batches + 1, detail, len)) == 0) {
            char why[128] = "";
            listed = last_batch ? 0 : list_batch(s, b.last_seq, most, &next, why, sizeof why);
            if ((rc = ship_batch_end(h, r->batches + 1, detail, len)) == 0 && listed != 0)
                snprintf(detail, len, "%s", why);
        }
        spare = b;
        if (rc == 0 && (rc = patron_outbox_sync_ack(s, b.last_seq, 0)) != 0)
            store_failed(s, rc, "head office holds the batch but the store cannot record it",
                         detail, len);
        if (rc != 0)
            break;
        r->acked_seq = b.last_seq;
        r->shipped += b.rows;
        r->batches++;
        if (fn)
            fn(r, ctx);
        rc = listed;
    }
    free(next.text);
    free(spare.text);
    /* the batches' facts were left pending: one batch of them projected now, the rest by the
     * next rounds, an idle one too (a round ships in seconds what projecting takes minutes to
     * catch up on) */
    if (rc == 0)
        rc = patron__hq_project(h, store_id, (int64_t)most, NULL, detail, len);
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
