/* SPDX-License-Identifier: MIT */
/* From a scan request to the customer display's bytes written: `patron serve` with a till bound
 * to a serial display (the slave side of a pseudo-terminal, profile epson-dm-d), N scans over
 * HTTP one after another, each timed from the request until the whole scan frame has arrived on
 * the master side. Prints p50/p99 in ms and, last, one JSON line with display_after_scan_p99_ms.
 * Goal: p99 <= 10 ms.
 *
 *     bench_display [--scans N] [--patron PATH]
 */
#include <curl/curl.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_spawn.h"
#include "patron/patron.h"
#include "patron/terminal.h"

/* A frame without scrolling: US X n, then per line US $ 1 y and 20 cells. */
#define FRAME_BYTES (3 + 2 * (4 + 20))

struct bench {
    const char *patron;
    char dir[256], db[300], token[64], card[14], spec[128];
    int master, port;
    pid_t pid;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_display: %s\n", what);
    exit(1);
}

static void open_pty(struct bench *b)
{
    b->master = posix_openpt(O_RDWR | O_NOCTTY);
    if (b->master < 0 || grantpt(b->master) != 0 || unlockpt(b->master) != 0)
        die("no pseudo-terminal");
    snprintf(b->spec, sizeof b->spec, "file:%s", ptsname(b->master));
}

static void prepare_store(struct bench *b)
{
    patron_store *s;
    struct patron_terminal t;
    struct patron_member m;
    struct patron_enrollment in = {.name = "Ada Bench", .greet_by_name = 1};
    if (patron_store_open(b->db, &s) != 0 || patron_store_init(s, 1, "Bench") != 0)
        die("cannot create the store");
    if (patron_terminal_add(s, "bench", PATRON_ROLE_CASHIER, &t, b->token) != 0 ||
        patron_terminal_display_set(s, "bench", b->spec, "epson-dm-d") != 0)
        die("cannot add the till");
    if (patron_member_enroll(s, &in, &m) != 0)
        die("enroll");
    memcpy(b->card, m.card, sizeof b->card);
    patron_store_close(s);
}

static void start_server(struct bench *b)
{
    char *argv[] = {
        (char *)b->patron, "--db",           b->db,  "--printer", "none", "serve", "--listen",
        "127.0.0.1:0",     "--display-idle", "3600", NULL};
    b->pid = bench_serve_spawn(argv, 0, &b->port);
    if (b->port <= 0)
        die("the service did not start");
}

/* Reads what arrives until `want` bytes came (0: until a quiet spell); returns the count. */
static size_t take(int fd, size_t want, int quiet_ms)
{
    uint8_t buf[4096];
    size_t got = 0;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    while ((want == 0 || got < want) && poll(&p, 1, quiet_ms) == 1) {
        ssize_t r = read(fd, buf, want && want - got < sizeof buf ? want - got : sizeof buf);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    return got;
}

static size_t discard(char *d, size_t s, size_t n, void *u)
{
    (void)d;
    (void)u;
    return s * n;
}

/* The store's folder holds files only. */
static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[600];
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    struct bench b = {.patron = "build/patron"};
    long scans = 300;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--scans") == 0)
            scans = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--patron") == 0)
            b.patron = argv[i + 1];
    }
    if (getenv("PATRON_BIN"))
        b.patron = getenv("PATRON_BIN");
    if (scans < 10)
        scans = 10;
    snprintf(b.dir, sizeof b.dir, "%s/bench-display-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(b.dir))
        die("mkdtemp");
    snprintf(b.db, sizeof b.db, "%s/patron.db", b.dir);
    open_pty(&b);
    prepare_store(&b);
    start_server(&b);
    take(b.master, 0, 1000); /* set-up, clear, welcome */
    double *lat = calloc((size_t)scans, sizeof *lat);
    CURL *h = curl_easy_init();
    char url[64], auth[128], body[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/scan", b.port);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", b.token);
    snprintf(body, sizeof body, "{\"card\":\"%s\"}", b.card);
    struct curl_slist *hdrs = curl_slist_append(NULL, auth);
    hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    long lost = 0;
    for (long i = 0; i < scans; i++) {
        double t0 = now_s();
        if (curl_easy_perform(h) != CURLE_OK)
            die("a scan failed");
        size_t got = take(b.master, FRAME_BYTES, 2000);
        lat[i] = (now_s() - t0) * 1000.0;
        lost += got != FRAME_BYTES;
    }
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    kill(b.pid, SIGTERM);
    waitpid(b.pid, NULL, 0);
    close(b.master);
    qsort(lat, (size_t)scans, sizeof *lat, cmp_double);
    double p50 = lat[scans / 2], p99 = lat[(scans * 99) / 100];
    printf("scans %ld, frames short %ld, scan to display bytes p50 %.2f ms p99 %.2f ms (goal p99 "
           "<= 10)\n",
           scans, lost, p50, p99);
    printf("{\"display_after_scan_p50_ms\": %.2f, \"display_after_scan_p99_ms\": %.2f}\n", p50,
           p99);
    free(lat);
    remove_dir(b.dir);
    return lost == 0 ? 0 : 1;
}
