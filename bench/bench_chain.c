/* SPDX-License-Identifier: MIT */
/* Chain benchmarks against a head office on loopback (bench/hq-chain.sh starts the PostgreSQL).
 *
 * --spend N: an online redemption of points earned at another store. A member enrols and earns
 * at store 1, which syncs; store 2 syncs (pulls the member and their chain balance) and then
 * redeems a 1-point reward N times, each through the code `patron reward redeem` runs: the
 * member's chain identity and store balance (patron_chain_member_of_card), the claim at head
 * office (patron_hq_claim, one PostgreSQL transaction), then the store's redemption
 * (patron_reward_redeem, a durable SQLite commit). Timed twice: with a fresh head office
 * connection per redemption, as the `patron` command makes it (login included), over a
 * connection kept open, and, the figure that counts, as a till spends: POST
 * /v1/rewards/{id}/redeem over a keep-alive loopback connection to `patron serve` (--patron PATH)
 * on store 2, which claims over the head office links it keeps (--hq-links) and runs its own sync
 * thread. The three alternate, so that all see the same load. Prints p50/p99 of each and, as its
 * last line, JSON with chain_spend_p99_ms (served), chain_spend_cli_p99_ms (a fresh connection)
 * and chain_spend_kept_p99_ms (the library over a kept connection).
 *
 * --lag: STORES store files (threads), each selling at RATE / STORES checkouts a second for
 * SECONDS and syncing continuously over a link of its own on `patron serve`'s schedule: soon after
 * each commit it ships (patron_hq_ship, nothing when nothing is pending), and every PULL seconds
 * (serve's --sync-interval, default 5) it runs the whole sync (patron_hq_sync: ship, then pull).
 * --pull-every-round runs the whole sync after each commit instead (the schedule before the two
 * were apart), to compare in one run's conditions. Selling starts once every store's link is up
 * and has run its first whole sync, as at stores whose service has been running: 100 links
 * starting at once warm 100 head office backends for seconds, and a sale committed meanwhile
 * would measure that start, not the lag. Each sale's commit time is taken on the wall
 * clock right after its commit; head office's receive time (facts.received_at, same machine,
 * same clock) of the sale's fact gives its lag. Prints p50/p99/max, how long the rounds took
 * (shipping only, and whole), and, as its last line, JSON with hq_lag_p99_ms.
 *   bench_chain --hq OWNER_URL --dir DIR --spend N --patron PATH
 *   bench_chain --hq OWNER_URL --dir DIR --lag [--stores 100] [--rate 500] [--seconds 30]
 *               [--pull 5] [--pull-every-round] */
#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "bench_spawn.h"
#include "hq.h"
#include "patron/patron.h"
#include "patron/terminal.h"

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *why)
{
    fprintf(stderr, "bench_chain: %s: %s\n", what, why);
    exit(1);
}

/* Registers store `id` and writes the URL its role logs in with. */
static void store_login(patron_hq *h, const char *dir, int id, char *url, size_t len)
{
    struct patron_hq_login login = {0};
    char detail[512], passfile[600];
    patron_hq_password_new(login.password);
    if (patron_hq_store_add(h, id, "Bench", &login, detail, sizeof detail) != 0)
        die("store add", detail);
    snprintf(passfile, sizeof passfile, "%s/store-%d.pgpass", dir, id);
    FILE *f = fopen(passfile, "w");
    if (!f || fprintf(f, "*:*:*:*:%s\n", login.password) < 0 || fclose(f) != 0)
        die(passfile, "cannot write");
    chmod(passfile, 0600);
    if (patron_hq_store_url(h, login.role, passfile, url, len) != 0)
        die("store url", "too long");
}

static patron_store *store_new(const char *dir, int id)
{
    char path[600];
    patron_store *s = NULL;
    snprintf(path, sizeof path, "%s/chain-store-%d.db", dir, id);
    unlink(path);
    if (patron_store_open(path, &s) != 0 || patron_store_init(s, id, "Bench shop") != 0)
        die(path, "cannot make the store");
    return s;
}

static void sell(patron_store *s, const char *card, const char *ref, int64_t total)
{
    struct patron_sale_line lines[] = {
        {.sku = "TEA", .category = "general", .qty = 1, .unit_minor = total}};
    struct patron_sale in = {.card = card,
                             .ref = ref,
                             .total_minor = total,
                             .lines = lines,
                             .n_lines = 1,
                             .idempotency_key = ref};
    struct patron_sale_result r;
    if (patron_sale_record(s, &in, &r) != 0)
        die(ref, patron_store_detail(s));
}

static void sync_or_die(const char *url, patron_store *s)
{
    patron_hq *h = NULL;
    struct patron_hq_sync_result r;
    char detail[512];
    if (patron_hq_connect(url, &h, detail, sizeof detail) != 0 ||
        patron_hq_sync(h, s, 1000, NULL, NULL, &r, detail, sizeof detail) != 0)
        die("sync", detail);
    patron_hq_close(h);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The q-quantile of v[0..n) (sorted here). */
static double quantile(double *v, size_t n, double q)
{
    qsort(v, n, sizeof *v, cmp_double);
    size_t i = (size_t)(q * (double)(n - 1) + 0.5);
    return n ? v[i < n ? i : n - 1] : 0;
}

/* Where one redemption's time went, in ms. */
struct spend_parts {
    double connect, claim, redeem;
};

/* One redemption at store 2 as `patron reward redeem` makes it; `link` NULL: connect for it. */
static void spend_once(patron_store *s, const char *url, patron_hq *link, const char *card,
                       int64_t reward, const char *key, struct spend_parts *parts)
{
    char uid[32], detail[512];
    int64_t local = 0;
    patron_hq *h = link;
    double t0 = mono_s();
    if (patron_chain_member_of_card(s, card, uid, sizeof uid, &local) != 0)
        die("member of card", patron_store_detail(s));
    if (!h && patron_hq_connect(url, &h, detail, sizeof detail) != 0)
        die("connect", detail);
    double t1 = mono_s();
    if (patron_hq_claim(h, uid, 1, local, key, NULL, detail, sizeof detail) != 0)
        die("claim", detail);
    double t2 = mono_s();
    struct patron_redeem_request rq = {.card = card, .reward_id = reward, .idempotency_key = key};
    struct patron_redeem_result rd;
    if (patron_reward_redeem(s, &rq, &rd) != 0)
        die("redeem", patron_store_detail(s));
    double t3 = mono_s();
    if (!link)
        patron_hq_close(h);
    parts->connect = (t1 - t0) * 1e3;
    parts->claim = (t2 - t1) * 1e3;
    parts->redeem = (t3 - t2) * 1e3;
}

/* `patron serve` on store 2 (its own head office links), and a till's keep-alive connection. */
struct served {
    pid_t pid;
    int port;
    CURL *h;
    char url[96], auth[128], body[64];
};

static void serve_start(struct served *sv, const char *patron, const char *db, const char *hq)
{
    char *argv[] = {(char *)patron, "--db",     (char *)db,    "--hq", (char *)hq,
                    "serve",        "--listen", "127.0.0.1:0", NULL};
    sv->pid = bench_serve_spawn(argv, 0, &sv->port);
    if (sv->port <= 0)
        die(patron, "the service did not start");
}

static size_t discard(char *d, size_t size, size_t n, void *u)
{
    (void)d;
    (void)u;
    return size * n;
}

/* One redemption as a till makes it; dies unless 201. */
static void served_once(struct served *sv, const char *key)
{
    char header[96];
    long status = 0;
    snprintf(header, sizeof header, "Idempotency-Key: %s", key);
    struct curl_slist *hdrs = curl_slist_append(NULL, sv->auth);
    hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    hdrs = curl_slist_append(hdrs, header);
    curl_easy_setopt(sv->h, CURLOPT_URL, sv->url);
    curl_easy_setopt(sv->h, CURLOPT_POSTFIELDS, sv->body);
    curl_easy_setopt(sv->h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(sv->h, CURLOPT_WRITEFUNCTION, discard);
    if (curl_easy_perform(sv->h) == CURLE_OK)
        curl_easy_getinfo(sv->h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdrs);
    if (status != 201)
        die("served redemption", "not 201");
}

/* Store 2's service with a cashier till, ready to redeem `reward` for `card`. */
static void served_open(struct served *sv, patron_store *s, const char *patron, const char *hq,
                        const char *dir, int64_t reward, const char *card)
{
    struct patron_terminal t;
    char token[PATRON_TOKEN_LEN + 1], db[600];
    if (patron_terminal_add(s, "bench-till", PATRON_ROLE_CASHIER, &t, token) != 0)
        die("till", patron_store_detail(s));
    snprintf(db, sizeof db, "%s/chain-store-2.db", dir);
    serve_start(sv, patron, db, hq);
    if (!(sv->h = curl_easy_init()))
        die("curl", "no handle");
    snprintf(sv->url, sizeof sv->url, "http://127.0.0.1:%d/v1/rewards/%lld/redeem", sv->port,
             (long long)reward);
    snprintf(sv->auth, sizeof sv->auth, "Authorization: Bearer %s", token);
    snprintf(sv->body, sizeof sv->body, "{\"card\":\"%s\"}", card);
}

static void served_close(struct served *sv)
{
    curl_easy_cleanup(sv->h);
    kill(sv->pid, SIGTERM);
    waitpid(sv->pid, NULL, 0);
}

static void print_spend(const char *what, double *v, long n)
{
    printf("  %-50s p50 %7.2f ms  p99 %7.2f ms\n", what, quantile(v, (size_t)n, 0.5),
           quantile(v, (size_t)n, 0.99));
}

static int run_spend(const char *owner, const char *dir, long n, const char *patron)
{
    char url1[4096], url2[4096], detail[512], card[PATRON_CARD_DIGITS + 1], ref[32];
    patron_hq *h = NULL;
    if (patron_hq_connect(owner, &h, detail, sizeof detail) != 0 ||
        patron_hq_init(h, NULL, NULL, detail, sizeof detail) != 0)
        die("head office", detail);
    store_login(h, dir, 1, url1, sizeof url1);
    store_login(h, dir, 2, url2, sizeof url2);
    patron_hq_close(h);
    patron_store *a = store_new(dir, 1), *b = store_new(dir, 2);
    struct patron_enrollment in = {.name = "Bea Twostores"};
    struct patron_member m;
    if (patron_member_enroll(a, &in, &m) != 0)
        die("enrol", patron_store_detail(a));
    memcpy(card, m.card, sizeof card);
    for (int i = 0; m.points < 3 * n + 10; i++) {
        snprintf(ref, sizeof ref, "A-%d", i);
        sell(a, card, ref, 1000000);
        if (patron_member_by_card(a, card, &m) != 0)
            die("member", patron_store_detail(a));
    }
    sync_or_die(url1, a);
    sync_or_die(url2, b);
    struct patron_reward_def def = {.name = "A sip", .cost = 1, .kind = PATRON_VALUE_ITEM};
    int64_t reward = 0;
    if (patron_reward_add(b, &def, &reward) != 0)
        die("reward", patron_store_detail(b));
    double *fresh = calloc((size_t)n, sizeof *fresh), *kept = calloc((size_t)n, sizeof *kept);
    double *conn = calloc((size_t)n, sizeof *conn), *claim = calloc((size_t)n, sizeof *claim);
    double *redeem = calloc((size_t)n, sizeof *redeem), *served = calloc((size_t)n, sizeof *served);
    struct served sv = {0};
    if (!fresh || !kept || !conn || !claim || !redeem || !served ||
        patron_hq_connect(url2, &h, detail, sizeof detail) != 0)
        die("spend", "out of memory or no head office");
    served_open(&sv, b, patron, url2, dir, reward, card);
    for (long i = 0; i < 3 * n; i++) { /* alternate, so that all see the same load */
        char key[48];
        struct spend_parts p;
        snprintf(key, sizeof key, "bench-spend-%ld", i);
        double t0 = mono_s();
        if (i % 3 == 2) {
            served_once(&sv, key);
            served[i / 3] = (mono_s() - t0) * 1e3;
            continue;
        }
        spend_once(b, url2, i % 3 ? h : NULL, card, reward, key, &p);
        (i % 3 ? kept : fresh)[i / 3] = (mono_s() - t0) * 1e3;
        if (i % 3) {
            claim[i / 3] = p.claim;
            redeem[i / 3] = p.redeem;
        } else {
            conn[i / 3] = p.connect;
        }
    }
    served_close(&sv);
    patron_hq_close(h);
    double f50 = quantile(fresh, (size_t)n, 0.5), f99 = quantile(fresh, (size_t)n, 0.99);
    double k50 = quantile(kept, (size_t)n, 0.5), k99 = quantile(kept, (size_t)n, 0.99);
    double s50 = quantile(served, (size_t)n, 0.5), s99 = quantile(served, (size_t)n, 0.99);
    printf("online redemption of points earned at another store, %ld each:\n", n);
    print_spend("through patron serve (HTTP keep-alive, links kept)", served, n);
    print_spend("a fresh head office connection (patron CLI)", fresh, n);
    print_spend("the library over a connection kept open", kept, n);
    printf("  of which: connecting (login) p50 %.2f ms, the claim at head office p50 %.2f ms /"
           " p99 %.2f ms, the store's redemption p50 %.2f ms / p99 %.2f ms\n",
           quantile(conn, (size_t)n, 0.5), quantile(claim, (size_t)n, 0.5),
           quantile(claim, (size_t)n, 0.99), quantile(redeem, (size_t)n, 0.5),
           quantile(redeem, (size_t)n, 0.99));
    free(conn);
    free(claim);
    free(redeem);
    printf("{\"chain_spend_n\": %ld, \"chain_spend_p50_ms\": %.2f, \"chain_spend_p99_ms\": %.2f,"
           " \"chain_spend_cli_p50_ms\": %.2f, \"chain_spend_cli_p99_ms\": %.2f,"
           " \"chain_spend_kept_p50_ms\": %.2f, \"chain_spend_kept_p99_ms\": %.2f}\n",
           n, s50, s99, f50, f99, k50, k99);
    free(served);
    free(fresh);
    free(kept);
    patron_store_close(a);
    patron_store_close(b);
    return 0;
}

/* --lag: one store, its seller and its syncer (each with a store handle of its own). */
struct lag_store {
    int id;
    char path[600], url[4096], card[PATRON_CARD_DIGITS + 1];
    double interval, first; /* seconds between sales, first sale's monotonic time */
    double stop_at;
    long n_sales, cap;
    long *seq;          /* the last outbox row of each sale */
    double *committed;  /* its commit time, wall clock */
    pthread_mutex_t mu; /* the bell: the seller rings it after each commit */
    pthread_cond_t bell;
    int rung, done, failed;
    double pull_every;          /* seconds between whole syncs; 0: a whole sync every round */
    double *ship_ms, *whole_ms; /* each round's duration, by kind */
    long n_ship, n_whole, rounds_cap;
};

/* Keeps one round's duration. */
static void note_round(struct lag_store *st, int whole, double ms)
{
    long *n = whole ? &st->n_whole : &st->n_ship;
    double *v = whole ? st->whole_ms : st->ship_ms;
    if (*n < st->rounds_cap)
        v[(*n)++] = ms;
}

/* Whether the store's outbox holds a row head office has not acknowledged. */
static int outbox_pending(patron_store *s)
{
    struct patron_outbox_sync o;
    int64_t last = 0;
    if (patron_outbox_sync_get(s, &o) != 0 || patron_outbox_last(s, &last) != 0)
        return 1;
    return last > o.acked_seq;
}

static void *seller(void *arg)
{
    struct lag_store *st = arg;
    patron_store *s = NULL;
    char ref[48];
    if (patron_store_open(st->path, &s) != 0)
        die(st->path, "cannot open");
    for (long k = 0; k < st->cap; k++) {
        double due = st->first + (double)k * st->interval, now = mono_s();
        if (due >= st->stop_at)
            break;
        if (due > now) {
            struct timespec ts = {.tv_sec = (time_t)(due - now),
                                  .tv_nsec =
                                      (long)((due - now - (double)(time_t)(due - now)) * 1e9)};
            nanosleep(&ts, NULL);
        }
        snprintf(ref, sizeof ref, "S%d-%ld", st->id, k);
        sell(s, st->card, ref, 1000 + k % 500);
        double at = wall_s();
        int64_t last = 0;
        if (patron_outbox_last(s, &last) != 0)
            die("outbox", patron_store_detail(s));
        st->seq[k] = (long)last;
        st->committed[k] = at;
        pthread_mutex_lock(&st->mu);
        st->n_sales = k + 1;
        st->rung = 1;
        pthread_cond_signal(&st->bell);
        pthread_mutex_unlock(&st->mu);
    }
    pthread_mutex_lock(&st->mu);
    st->done = 1;
    pthread_cond_signal(&st->bell);
    pthread_mutex_unlock(&st->mu);
    patron_store_close(s);
    return NULL;
}

/* One round on serve's schedule (src/api/sync.c): the whole sync when due or after a failure,
 * else the shipping of what is pending (nothing pending: no round). */
static void sync_round(struct lag_store *st, patron_store *s, patron_hq *h, double *pulled_at,
                       int last)
{
    char detail[512];
    struct patron_hq_sync_result r;
    double t0 = mono_s();
    int whole = last || st->pull_every <= 0 || *pulled_at == 0 || t0 - *pulled_at >= st->pull_every;
    if (!whole && !outbox_pending(s))
        return;
    int rc = whole ? patron_hq_sync(h, s, 1000, NULL, NULL, &r, detail, sizeof detail)
                   : patron_hq_ship(h, s, 1000, NULL, NULL, &r, detail, sizeof detail);
    note_round(st, whole, (mono_s() - t0) * 1e3);
    if (rc != 0) {
        fprintf(stderr, "bench_chain: store %d: %s\n", st->id, detail);
        st->failed++;
        *pulled_at = 0;
    } else if (whole) {
        *pulled_at = t0;
    }
}

/* Stores whose link is up and has run its first whole sync: selling starts when all are, as it
 * would at stores whose `patron serve` has been running (a link's first round also warms its
 * head office backend, which at 100 stores starting at once takes seconds of both cores). */
static struct {
    pthread_mutex_t mu;
    pthread_cond_t all;
    int ready;
} gate = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};

static void gate_pass(void)
{
    pthread_mutex_lock(&gate.mu);
    gate.ready++;
    pthread_cond_broadcast(&gate.all);
    pthread_mutex_unlock(&gate.mu);
}

static void gate_wait(int n)
{
    pthread_mutex_lock(&gate.mu);
    while (gate.ready < n)
        pthread_cond_wait(&gate.all, &gate.mu);
    pthread_mutex_unlock(&gate.mu);
}

/* After its first whole sync (not counted among the rounds), rounds as soon as a sale was
 * committed since the last one began (as `patron serve`'s sync thread does soon after each
 * commit), else when the next whole sync is due (at most a second apart); a last whole sync
 * after the seller ends. */
static void *syncer(void *arg)
{
    struct lag_store *st = arg;
    patron_store *s = NULL;
    patron_hq *h = NULL;
    char detail[512];
    struct patron_hq_sync_result r;
    if (patron_store_open(st->path, &s) != 0 ||
        patron_hq_connect(st->url, &h, detail, sizeof detail) ||
        patron_hq_sync(h, s, 1000, NULL, NULL, &r, detail, sizeof detail))
        die("syncer", "cannot open the store, reach head office or sync");
    double pulled_at = mono_s();
    gate_pass();
    for (int last = 0; !last;) {
        pthread_mutex_lock(&st->mu);
        if (!st->rung && !st->done) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 1;
            pthread_cond_timedwait(&st->bell, &st->mu, &ts);
        }
        st->rung = 0;
        last = st->done;
        pthread_mutex_unlock(&st->mu);
        sync_round(st, s, h, &pulled_at, last);
    }
    patron_hq_close(h);
    patron_store_close(s);
    return NULL;
}

/* Every sale's lag in ms (received_at of its last fact minus its commit), into lags. */
static long collect_lags(const char *owner, struct lag_store *st, int n, double *lags)
{
    PGconn *c = PQconnectdb(owner);
    if (PQstatus(c) != CONNECTION_OK)
        die(owner, PQerrorMessage(c));
    long out = 0;
    for (int i = 0; i < n; i++) {
        char id[16];
        snprintf(id, sizeof id, "%d", st[i].id);
        const char *p[] = {id};
        PGresult *res = PQexecParams(c,
                                     "SELECT store_seq, extract(epoch FROM received_at)::float8"
                                     " FROM facts WHERE store_id = $1::integer ORDER BY store_seq",
                                     1, NULL, p, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_TUPLES_OK)
            die("facts", PQresultErrorMessage(res));
        long rows = PQntuples(res), k = 0;
        for (long j = 0; j < rows && k < st[i].n_sales; j++) {
            if (strtol(PQgetvalue(res, (int)j, 0), NULL, 10) != st[i].seq[k])
                continue;
            lags[out++] = (strtod(PQgetvalue(res, (int)j, 1), NULL) - st[i].committed[k]) * 1e3;
            k++;
        }
        if (k != st[i].n_sales)
            die("lag", "a sale never reached head office");
        PQclear(res);
    }
    PQfinish(c);
    return out;
}

static void lag_setup(const char *owner, const char *dir, struct lag_store *st, int n)
{
    char detail[512];
    patron_hq *h = NULL;
    if (patron_hq_connect(owner, &h, detail, sizeof detail) != 0 ||
        patron_hq_init(h, NULL, NULL, detail, sizeof detail) != 0)
        die("head office", detail);
    for (int i = 0; i < n; i++) {
        st[i].id = i + 1;
        store_login(h, dir, st[i].id, st[i].url, sizeof st[i].url);
        patron_store *s = store_new(dir, st[i].id);
        struct patron_enrollment in = {.name = "Lag Member"};
        struct patron_member m;
        if (patron_member_enroll(s, &in, &m) != 0)
            die("enrol", patron_store_detail(s));
        memcpy(st[i].card, m.card, sizeof st[i].card);
        sync_or_die(st[i].url, s); /* the enrolment is not part of the measure */
        patron_store_close(s);
        snprintf(st[i].path, sizeof st[i].path, "%s/chain-store-%d.db", dir, st[i].id);
        pthread_mutex_init(&st[i].mu, NULL);
        pthread_cond_init(&st[i].bell, NULL);
    }
    patron_hq_close(h);
}

/* p50/p99 of every store's rounds of one kind (whole or shipping only), in ms. */
static void round_figures(struct lag_store *st, int n, int whole, double *p50, double *p99,
                          long *count)
{
    long total = 0, k = 0;
    for (int i = 0; i < n; i++)
        total += whole ? st[i].n_whole : st[i].n_ship;
    double *v = calloc((size_t)total + 1, sizeof *v);
    if (!v)
        die("lag", "out of memory");
    for (int i = 0; i < n; i++)
        for (long j = 0; j < (whole ? st[i].n_whole : st[i].n_ship); j++)
            v[k++] = whole ? st[i].whole_ms[j] : st[i].ship_ms[j];
    *p50 = quantile(v, (size_t)total, 0.5);
    *p99 = quantile(v, (size_t)total, 0.99);
    *count = total;
    free(v);
}

static int run_lag(const char *owner, const char *dir, int n, double rate, double seconds,
                   double pull_every)
{
    struct lag_store *st = calloc((size_t)n, sizeof *st);
    pthread_t *th = calloc(2 * (size_t)n, sizeof *th);
    if (!st || !th)
        die("lag", "out of memory");
    lag_setup(owner, dir, st, n);
    double per_store = rate / n;
    long total_cap = 0;
    for (int i = 0; i < n; i++) {
        st[i].interval = 1 / per_store;
        st[i].cap = (long)(seconds * per_store) + 2;
        st[i].seq = calloc((size_t)st[i].cap, sizeof *st[i].seq);
        st[i].committed = calloc((size_t)st[i].cap, sizeof *st[i].committed);
        st[i].pull_every = pull_every;
        st[i].rounds_cap = st[i].cap + (long)seconds + 16;
        st[i].ship_ms = calloc((size_t)st[i].rounds_cap, sizeof *st[i].ship_ms);
        st[i].whole_ms = calloc((size_t)st[i].rounds_cap, sizeof *st[i].whole_ms);
        total_cap += st[i].cap;
        if (!st[i].seq || !st[i].committed || !st[i].ship_ms || !st[i].whole_ms)
            die("lag", "out of memory");
        pthread_create(&th[2 * i + 1], NULL, syncer, &st[i]);
    }
    gate_wait(n);
    double start = mono_s() + 0.1;
    for (int i = 0; i < n; i++) {
        st[i].first = start + st[i].interval * i / n; /* staggered */
        st[i].stop_at = start + seconds;
        pthread_create(&th[2 * i], NULL, seller, &st[i]);
    }
    for (int i = 0; i < 2 * n; i++)
        pthread_join(th[i], NULL);
    double elapsed = mono_s() - start;
    long sales = 0, failed = 0;
    for (int i = 0; i < n; i++) {
        sales += st[i].n_sales;
        failed += st[i].failed;
    }
    double *lags = calloc((size_t)total_cap, sizeof *lags);
    if (!lags)
        die("lag", "out of memory");
    long got = collect_lags(owner, st, n, lags);
    double p50 = quantile(lags, (size_t)got, 0.5), p99 = quantile(lags, (size_t)got, 0.99);
    double max = got ? lags[got - 1] : 0;
    printf("%d stores, %ld checkouts in %.1f s (%.0f/s, asked %.0f/s), %ld failed syncs\n", n,
           sales, elapsed, (double)sales / elapsed, rate, failed);
    printf(
        "commit at the store to received at head office: p50 %.0f ms, p99 %.0f ms, max %.0f ms\n",
        p50, p99, max);
    double s50, s99, w50, w99;
    long ns, nw;
    round_figures(st, n, 0, &s50, &s99, &ns);
    round_figures(st, n, 1, &w50, &w99, &nw);
    printf("rounds (whole sync every %s): %ld shipping only, p50 %.0f ms, p99 %.0f ms; %ld whole"
           " (ship, pull), p50 %.0f ms, p99 %.0f ms\n",
           pull_every > 0 ? "few seconds" : "round", ns, s50, s99, nw, w50, w99);
    printf("{\"hq_lag_stores\": %d, \"hq_lag_checkouts\": %ld, \"hq_lag_checkouts_per_s\": %.0f,"
           " \"hq_lag_p50_ms\": %.0f, \"hq_lag_p99_ms\": %.0f, \"hq_lag_max_ms\": %.0f}\n",
           n, sales, (double)sales / elapsed, p50, p99, max);
    return 0;
}

int main(int argc, char **argv)
{
    const char *owner = NULL, *dir = NULL, *patron = getenv("PATRON_BIN");
    long spend = 0;
    int lag = 0, stores = 100;
    double rate = 500, seconds = 30, pull_every = 5;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : "";
        if (strcmp(argv[i], "--lag") == 0)
            lag = 1;
        else if (strcmp(argv[i], "--hq") == 0 && ++i)
            owner = v;
        else if (strcmp(argv[i], "--dir") == 0 && ++i)
            dir = v;
        else if (strcmp(argv[i], "--patron") == 0 && ++i)
            patron = v;
        else if (strcmp(argv[i], "--spend") == 0 && ++i)
            spend = strtol(v, NULL, 10);
        else if (strcmp(argv[i], "--stores") == 0 && ++i)
            stores = atoi(v);
        else if (strcmp(argv[i], "--rate") == 0 && ++i)
            rate = strtod(v, NULL);
        else if (strcmp(argv[i], "--seconds") == 0 && ++i)
            seconds = strtod(v, NULL);
        else if (strcmp(argv[i], "--pull") == 0 && ++i)
            pull_every = strtod(v, NULL);
        else if (strcmp(argv[i], "--pull-every-round") == 0)
            pull_every = 0;
    }
    if (!owner || !dir || (!lag && (spend <= 0 || !patron)) || stores < 1 || stores > 65535 ||
        rate <= 0 || seconds <= 0)
        die("usage", "bench_chain --hq OWNER_URL --dir DIR --spend N --patron PATH | --lag"
                     " [--stores N] [--rate PER_S] [--seconds S] [--pull S] [--pull-every-round]");
    if (lag)
        return run_lag(owner, dir, stores, rate, seconds, pull_every);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = run_spend(owner, dir, spend, patron);
    curl_global_cleanup();
    return rc;
}
