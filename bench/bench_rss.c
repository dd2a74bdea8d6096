/* SPDX-License-Identifier: MIT */
/* The service's peak resident memory (VmHWM of `patron serve`) while it serves every report
 * (JSON, CSV and each chart as SVG), members' exports and 16 keep-alive tills checking out, all
 * at once, over the large store of bench_reports (a copy, so the kept one stays as generated).
 * To show what the peak is made of, the service is started afresh for each load: idle, the
 * tills alone, the reports and exports alone, then everything at once (the tills paced, so that
 * the work is the same at any speed), the figure of the goal `serve_peak_rss_mib` <= 32. The
 * last line is one JSON object with the figures.
 *
 *     bench_rss [--quick] [--members N] [--dir DIR] [--sales N] [--exports N] [--patron PATH]
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "patron/patron.h"
#include "patron/terminal.h"

#include "bench_serve.h"
#include "bench_store.h"

/* All at once, the tills sell at this pace each (checkouts a second): the same work whatever the
 * service's speed, since what the WAL's index holds grows with what is written while a report
 * reads; 16 tills at this pace sell far more than a shop's busiest hour. */
#define TILL_PACE 50.0

struct load {
    struct bench *b;
    char admin[64];
    long exports;
    int rounds;
    atomic_int finished; /* readers through */
    atomic_long replies, bytes, errors;
};

struct reader {
    struct load *l;
    const char *format; /* a report format, or NULL for the members' exports */
};

static size_t count_bytes(char *d, size_t s, size_t n, void *u)
{
    (void)d;
    atomic_fetch_add((atomic_long *)u, (long)(s * n));
    return s * n;
}

/* One GET on the reader's keep-alive connection, with the admin's token. */
static void get(CURL *h, struct load *l, const char *path)
{
    char url[256], auth[128];
    long status = 0;
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", l->b->port, path);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", l->admin);
    struct curl_slist *hdrs = curl_slist_append(NULL, auth);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, count_bytes);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &l->bytes);
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
        fprintf(stderr, "bench_rss: GET %s: %ld\n", path, status);
        atomic_fetch_add(&l->errors, 1);
    }
    atomic_fetch_add(&l->replies, 1);
    curl_slist_free_all(hdrs);
}

/* Every report in one format (the charts only of the reports that have one), or the exports of
 * members 1..l->exports. */
static void *reader_main(void *arg)
{
    struct reader *r = arg;
    CURL *h = curl_easy_init();
    char path[128];
    if (!r->format) {
        for (long m = 1; m <= r->l->exports; m++) {
            char card[14];
            bench_store_card(m, card);
            snprintf(path, sizeof path, "/v1/members/%s/export", card);
            get(h, r->l, path);
        }
    }
    for (size_t i = 0; r->format && patron_report_names[i]; i++) {
        const char *name = patron_report_names[i];
        if (strcmp(r->format, "svg") == 0 && patron_report_chart_of(name) == PATRON_CHART_NONE)
            continue;
        snprintf(path, sizeof path, "/v1/reports/%s?format=%s", name, r->format);
        get(h, r->l, path);
    }
    curl_easy_cleanup(h);
    atomic_fetch_add(&r->l->finished, 1);
    return NULL;
}

/* The service started afresh on the store, one load, and its peak in KiB. Tills alone sell
 * b->sales; beside the readers they sell rounds of b->sales until every reply is in. */
static long measure(struct load *l, int tills, int readers, long *sales)
{
    static const char *const formats[] = {"json", "csv", "svg", NULL};
    struct reader rs[4];
    pthread_t th[4];
    int n = readers ? 4 : 0;
    bench_serve_start(l->b);
    atomic_store(&l->finished, 0);
    for (int i = 0; i < n; i++) {
        rs[i] = (struct reader){l, formats[i]};
        pthread_create(&th[i], NULL, reader_main, &rs[i]);
    }
    *sales = 0;
    for (int round = 0; tills && (round == 0 || atomic_load(&l->finished) < n); round++) {
        struct bench_result res = bench_tills_run(l->b, MAX_TILLS, l->rounds++);
        *sales += l->b->sales / MAX_TILLS * MAX_TILLS;
        atomic_fetch_add(&l->errors, res.errors);
    }
    for (int i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    long hwm = bench_proc_kib(l->b->pid, "VmHWM:");
    bench_serve_stop(l->b);
    return hwm;
}

/* A copy of the large store with a cashier's till and an admin's, and the tills' cards. */
static void prepare(struct load *l, const char *data, long members)
{
    struct bench *b = l->b;
    char kept[512], cmd[1200];
    struct patron_terminal t;
    patron_store_close(bench_store_large(data, members));
    bench_store_path(data, members, kept, sizeof kept);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", kept, b->db);
    if (system(cmd) != 0)
        bench_die("cannot copy the store");
    patron_store *s;
    if (patron_store_open(b->db, &s) != 0 ||
        patron_terminal_add(s, "bench", PATRON_ROLE_CASHIER, &t, b->token) != 0 ||
        patron_terminal_add(s, "office", PATRON_ROLE_ADMIN, &t, l->admin) != 0)
        bench_die("cannot add the tills");
    patron_store_close(s);
    for (b->n_cards = 0; b->n_cards < 64 && b->n_cards < members; b->n_cards++)
        bench_store_card(b->n_cards + 1, b->cards[b->n_cards]);
}

static double mib(long kib)
{
    return (double)kib / 1024.0;
}

int main(int argc, char **argv)
{
    struct bench b = {.patron = getenv("PATRON_BIN"), .sales = 1600};
    struct load l = {.b = &b, .exports = 200};
    const char *data = "bench-data";
    long members = 1000000, sales[4];
    for (int i = 1; i < argc; i++) {
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--quick") == 0)
            members = 100000;
        else if (strcmp(argv[i], "--members") == 0 && next)
            members = atol(argv[++i]);
        else if (strcmp(argv[i], "--dir") == 0 && next)
            data = argv[++i];
        else if (strcmp(argv[i], "--sales") == 0 && next)
            b.sales = atol(argv[++i]);
        else if (strcmp(argv[i], "--exports") == 0 && next)
            l.exports = atol(argv[++i]);
        else if (strcmp(argv[i], "--patron") == 0 && next)
            b.patron = argv[++i];
        else
            bench_die("usage: bench_rss [--quick] [--members N] [--dir DIR] [--sales N] "
                      "[--exports N] [--patron PATH]");
    }
    if (!b.patron)
        bench_die("give --patron PATH or set PATRON_BIN");
    if (members < 64 || b.sales < MAX_TILLS || l.exports < 0 || l.exports > members)
        bench_die("--members is at least 64, --sales at least 16, --exports at most --members");
    const char *tmp = getenv("TMPDIR");
    snprintf(b.dir, sizeof b.dir, "%s/patron-bench-XXXXXX", tmp ? tmp : "/tmp");
    mkdir(data, 0755);
    if (!mkdtemp(b.dir))
        bench_die("mkdtemp");
    snprintf(b.db, sizeof b.db, "%s/patron.db", b.dir);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    prepare(&l, data, members);
    long idle = measure(&l, 0, 0, &sales[0]);
    long tills = measure(&l, 1, 0, &sales[1]);
    long reads = measure(&l, 0, 1, &sales[2]);
    long replies = atomic_load(&l.replies), bytes = atomic_load(&l.bytes);
    b.till_pace = TILL_PACE;
    long all = measure(&l, 1, 1, &sales[3]);
    printf("patron serve over %ld members, %ld entries; peak resident memory (VmHWM), each load "
           "on a fresh start:\n",
           members, members * BENCH_ENTRIES_PER_MEMBER);
    printf("  started, idle                         %6.1f MiB\n", mib(idle));
    printf("  16 tills alone (%5ld checkouts)       %6.1f MiB\n", sales[1], mib(tills));
    printf("  every report and %4ld exports alone   %6.1f MiB  (%ld replies, %.1f MiB of bodies)\n",
           l.exports, mib(reads), replies, (double)bytes / 1048576.0);
    printf("  all at once (%5ld checkouts, %.0f/s)   %6.1f MiB  (goal <= 32: %s)\n", sales[3],
           MAX_TILLS * TILL_PACE, mib(all), all <= 32 * 1024 ? "met" : "NOT met");
    printf("{\"serve_peak_rss_mib\": %.1f, \"serve_idle_rss_mib\": %.1f, "
           "\"serve_tills_rss_mib\": %.1f, \"serve_reads_rss_mib\": %.1f, \"members\": %ld, "
           "\"errors\": %ld}\n",
           mib(all), mib(idle), mib(tills), mib(reads), members, atomic_load(&l.errors));
    curl_global_cleanup();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", b.dir);
    return system(cmd) == 0 && atomic_load(&l.errors) == 0 ? 0 : 1;
}
