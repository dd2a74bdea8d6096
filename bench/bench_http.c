/* SPDX-License-Identifier: MIT */
/* Checkouts per second over HTTP with 1, 4 and 16 keep-alive tills against `patron serve`, with
 * p50/p99 latency, compared with the ceiling of raw SQLite one-row durable commits (WAL,
 * synchronous=FULL) measured in the same run on the same disk; and the service's resident
 * memory with a large member base. Goals: 16 tills >= 2x the ceiling (group commit) at
 * p99 <= 10 ms; resident memory <= 32 MiB.
 *
 *     bench_http [--members N] [--sales N] [--patron PATH]
 */
#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "patron/patron.h"
#include "patron/terminal.h"

#define MAX_TILLS 16
#define MAX_SALES 200000

struct bench {
    const char *patron;
    char dir[256], db[300];
    char token[64];
    char cards[64][14];
    int n_cards;
    pid_t pid;
    int port;
    long sales;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_http: %s\n", what);
    exit(1);
}

/* One-row durable commits per second on a fresh file beside the store. */
static double raw_sqlite_ceiling(const char *dir)
{
    char path[300];
    sqlite3 *db;
    snprintf(path, sizeof path, "%s/ceiling.db", dir);
    if (sqlite3_open(path, &db) != SQLITE_OK)
        die("cannot open the ceiling database");
    sqlite3_exec(db,
                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                 "CREATE TABLE t(id INTEGER PRIMARY KEY, v INTEGER);",
                 NULL, NULL, NULL);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "INSERT INTO t(v) VALUES (?1)", -1, &st, NULL);
    int n = 1000;
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        sqlite3_bind_int(st, 1, i);
        sqlite3_step(st);
        sqlite3_reset(st);
    }
    double rate = n / (now_s() - t0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rate;
}

/* The store: members in one transaction through the library, a till, one card per till. */
static void prepare_store(struct bench *b, long members)
{
    patron_store *s;
    struct patron_terminal t;
    if (patron_store_open(b->db, &s) != 0 || patron_store_init(s, 1, "Bench") != 0)
        die("cannot create the store");
    if (patron_terminal_add(s, "bench", PATRON_ROLE_CASHIER, &t, b->token) != 0)
        die("cannot add the till");
    double t0 = now_s();
    for (long i = 0; i < members;) {
        if (patron_store_batch_begin(s) != 0)
            die("batch");
        for (long k = 0; k < 10000 && i < members; k++, i++) {
            struct patron_enrollment in = {.name = "Bench Member"};
            struct patron_member m;
            if (patron_member_enroll(s, &in, &m) != 0)
                die("enroll");
            if (b->n_cards < 64)
                memcpy(b->cards[b->n_cards++], m.card, 14);
        }
        if (patron_store_batch_commit(s) != 0)
            die("commit");
    }
    fprintf(stderr, "enrolled %ld members in %.1f s\n", members, now_s() - t0);
    patron_store_close(s);
}

static void start_server(struct bench *b)
{
    int fds[2];
    char line[256];
    if (pipe(fds) != 0)
        die("pipe");
    if ((b->pid = fork()) == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        execl(b->patron, b->patron, "--db", b->db, "serve", "--listen", "127.0.0.1:0", NULL);
        _exit(127);
    }
    close(fds[1]);
    FILE *f = fdopen(fds[0], "r");
    while (f && fgets(line, sizeof line, f)) {
        char *p = strstr(line, "listening on http://127.0.0.1:");
        if (p) {
            b->port = atoi(p + strlen("listening on http://127.0.0.1:"));
            break;
        }
    }
    if (f)
        fclose(f);
    if (b->port <= 0)
        die("the service did not start");
}

static long rss_kib(pid_t pid, const char *field)
{
    char path[64], line[256];
    long v = -1;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, field, strlen(field)) == 0)
            v = atol(line + strlen(field));
    if (f)
        fclose(f);
    return v;
}

struct till {
    struct bench *b;
    int id, round;
    long count;
    double *lat;
    long errors;
};

static size_t discard(char *d, size_t s, size_t n, void *u)
{
    (void)d;
    (void)u;
    return s * n;
}

static void *till_main(void *arg)
{
    struct till *t = arg;
    CURL *h = curl_easy_init();
    char url[64], auth[128], key[96], body[160];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/sales", t->b->port);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", t->b->token);
    for (long i = 0; i < t->count; i++) {
        snprintf(key, sizeof key, "Idempotency-Key: b%d-%d-%ld", t->round, t->id, i);
        snprintf(body, sizeof body, "{\"card\":\"%s\",\"ref\":\"b%d-%d-%ld\",\"total\":1999}",
                 t->b->cards[(t->id + i) % t->b->n_cards], t->round, t->id, i);
        struct curl_slist *hdrs = curl_slist_append(NULL, auth);
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
        hdrs = curl_slist_append(hdrs, key);
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
        double t0 = now_s();
        long status = 0;
        if (curl_easy_perform(h) == CURLE_OK)
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        t->lat[i] = now_s() - t0;
        t->errors += status != 201;
        curl_slist_free_all(hdrs);
    }
    curl_easy_cleanup(h);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

struct result {
    double rate, p50, p99;
    long errors;
};

static struct result run_round(struct bench *b, int tills, int round)
{
    static struct till ts[MAX_TILLS];
    pthread_t th[MAX_TILLS];
    long per = b->sales / tills;
    double *lat = calloc((size_t)(per * tills), sizeof *lat);
    struct result r = {0};
    double t0 = now_s();
    for (int i = 0; i < tills; i++) {
        ts[i] = (struct till){b, i, round, per, lat + i * per, 0};
        pthread_create(&th[i], NULL, till_main, &ts[i]);
    }
    for (int i = 0; i < tills; i++) {
        pthread_join(th[i], NULL);
        r.errors += ts[i].errors;
    }
    r.rate = (double)(per * tills) / (now_s() - t0);
    qsort(lat, (size_t)(per * tills), sizeof *lat, cmp_double);
    r.p50 = lat[(per * tills) / 2] * 1e3;
    r.p99 = lat[(per * tills) * 99 / 100] * 1e3;
    free(lat);
    return r;
}

int main(int argc, char **argv)
{
    struct bench b = {.patron = getenv("PATRON_BIN"), .sales = 4000};
    long members = 10000;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--members") == 0)
            members = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--sales") == 0)
            b.sales = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--patron") == 0)
            b.patron = argv[i + 1];
    }
    if (!b.patron)
        die("give --patron PATH or set PATRON_BIN");
    if (b.sales < 16 || b.sales > MAX_SALES)
        die("--sales is 16 to 200000");
    const char *tmp = getenv("TMPDIR");
    snprintf(b.dir, sizeof b.dir, "%s/patron-bench-XXXXXX", tmp ? tmp : "/tmp");
    if (!mkdtemp(b.dir))
        die("mkdtemp");
    snprintf(b.db, sizeof b.db, "%s/patron.db", b.dir);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    double ceiling = raw_sqlite_ceiling(b.dir);
    prepare_store(&b, members < 16 ? 16 : members);
    start_server(&b);
    printf("raw SQLite durable one-row commits: %.0f/s (the ceiling)\n", ceiling);
    printf("%-6s %12s %8s %8s %8s %7s\n", "tills", "checkouts/s", "x ceil", "p50 ms", "p99 ms",
           "errors");
    const int rounds[] = {1, 4, 16};
    struct result last = {0};
    for (int i = 0; i < 3; i++) {
        last = run_round(&b, rounds[i], i);
        printf("%-6d %12.0f %8.2f %8.2f %8.2f %7ld\n", rounds[i], last.rate, last.rate / ceiling,
               last.p50, last.p99, last.errors);
    }
    long rss = rss_kib(b.pid, "VmRSS:"), hwm = rss_kib(b.pid, "VmHWM:");
    printf("service memory with %ld members: %.1f MiB resident, %.1f MiB peak\n", members,
           (double)rss / 1024, (double)hwm / 1024);
    printf("goals: 16 tills >= 2x ceiling: %s; p99 <= 10 ms: %s; peak <= 32 MiB: %s\n",
           last.rate >= 2 * ceiling ? "met" : "NOT met", last.p99 <= 10 ? "met" : "NOT met",
           hwm >= 0 && hwm <= 32 * 1024 ? "met" : "NOT met");
    kill(b.pid, SIGTERM);
    waitpid(b.pid, NULL, 0);
    curl_global_cleanup();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", b.dir);
    return system(cmd) == 0 ? 0 : 1;
}
