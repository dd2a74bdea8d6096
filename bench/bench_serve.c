/* SPDX-License-Identifier: MIT */
/* The pieces the HTTP benchmarks share (bench_http, bench_rss): `patron serve` started on a
 * store on a free loopback port, keep-alive tills checking out through libcurl with their
 * latencies, and the service's memory read from /proc. */
#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_serve.h"
#include "bench_spawn.h"

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void bench_die(const char *what)
{
    fprintf(stderr, "bench: %s\n", what);
    exit(1);
}

void bench_serve_start(struct bench *b)
{
    char *argv[] = {(char *)b->patron, "--db", b->db, "serve", "--listen", "127.0.0.1:0", NULL};
    b->pid = bench_serve_spawn(argv, 0, &b->port);
    if (b->port <= 0)
        bench_die("the service did not start");
}

void bench_serve_stop(struct bench *b)
{
    kill(b->pid, SIGTERM);
    waitpid(b->pid, NULL, 0);
    b->pid = 0;
    b->port = 0;
}

long bench_proc_kib(pid_t pid, const char *field)
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
        double t0 = bench_now();
        long status = 0;
        if (curl_easy_perform(h) == CURLE_OK)
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        t->lat[i] = bench_now() - t0;
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

struct bench_result bench_tills_run(struct bench *b, int tills, int round)
{
    static struct till ts[MAX_TILLS];
    pthread_t th[MAX_TILLS];
    long per = b->sales / tills;
    double *lat = calloc((size_t)(per * tills), sizeof *lat);
    struct bench_result r = {0};
    double t0 = bench_now();
    for (int i = 0; i < tills; i++) {
        ts[i] = (struct till){b, i, round, per, lat + i * per, 0};
        pthread_create(&th[i], NULL, till_main, &ts[i]);
    }
    for (int i = 0; i < tills; i++) {
        pthread_join(th[i], NULL);
        r.errors += ts[i].errors;
    }
    r.rate = (double)(per * tills) / (bench_now() - t0);
    qsort(lat, (size_t)(per * tills), sizeof *lat, cmp_double);
    r.p50 = lat[(per * tills) / 2] * 1e3;
    r.p99 = lat[(per * tills) * 99 / 100] * 1e3;
    free(lat);
    return r;
}
