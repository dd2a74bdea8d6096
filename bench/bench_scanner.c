/* SPDX-License-Identifier: MIT */
/* From a card scanner's last byte to the member on the till's event stream: a serial scanner
 * (a pseudo-terminal pair, as the tests use) bound to a till sends a card scan; the time from
 * writing its end of line to the `scan` event with the member arriving on GET /v1/events, over
 * loopback, p50 and p99. Goal: p99 <= 5 ms.
 *
 *     bench_scanner [--scans N] [--patron PATH]
 */
#include <curl/curl.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_spawn.h"

#define MAX_SCANS 100000

static atomic_long events_seen;
static atomic_int stop;
static double *arrived; /* when each scan's event arrived */
static int port;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_scanner: %s\n", what);
    exit(1);
}

/* Runs the program with its stdout into out (cap bytes); dies when it fails. */
static void run(char *out, size_t cap, char *const argv[])
{
    int fds[2];
    pid_t pid;
    int status = 0;
    if (pipe(fds) != 0)
        die("pipe");
    if ((pid = fork()) == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        execv(argv[0], argv);
        _exit(127);
    }
    close(fds[1]);
    size_t len = 0;
    ssize_t n;
    while (len + 1 < cap && (n = read(fds[0], out + len, cap - 1 - len)) > 0)
        len += (size_t)n;
    out[len] = '\0';
    close(fds[0]);
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        die(argv[3] ? argv[3] : "patron");
}

static void field(const char *json, const char *key, char *out, size_t cap)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":\"", key);
    const char *p = strstr(json, pat);
    if (!p) {
        snprintf(pat, sizeof pat, "\"%s\": \"", key);
        if (!(p = strstr(json, pat)))
            die(key);
    }
    p += strlen(pat);
    size_t n = strcspn(p, "\"");
    snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), p);
}

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
    static char tail[16];
    (void)arg;
    /* count "event: scan" lines, also across chunk edges */
    char buf[4096 + 16];
    size_t len = size * n, t = strlen(tail), off = 0;
    while (off < len) {
        size_t take = len - off < 4096 ? len - off : 4096;
        memcpy(buf, tail, t);
        memcpy(buf + t, p + off, take);
        buf[t + take] = '\0';
        for (char *q = buf; (q = strstr(q, "event: scan\n")); q++) {
            long i = atomic_fetch_add(&events_seen, 1);
            if (i < MAX_SCANS)
                arrived[i] = now_s();
        }
        size_t keep = t + take < 11 ? t + take : 11;
        memcpy(tail, buf + t + take - keep, keep);
        tail[keep] = '\0';
        t = keep;
        off += take;
    }
    return len;
}

static int on_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    (void)arg, (void)a, (void)b, (void)c, (void)d;
    return atomic_load(&stop);
}

static void *stream_main(void *token)
{
    char url[96], auth[128];
    struct curl_slist *hs = NULL;
    CURL *h = curl_easy_init();
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/events", port);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", (const char *)token);
    hs = curl_slist_append(hs, auth);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_perform(h);
    curl_slist_free_all(hs);
    curl_easy_cleanup(h);
    return NULL;
}

static pid_t start_server(char *patron, char *db)
{
    /* quiet: the service logs a line per scan */
    char *argv[] = {patron,     "--db",        db,  "--printer", "none", "serve",
                    "--listen", "127.0.0.1:0", NULL};
    pid_t pid = bench_serve_spawn(argv, 1, &port);
    if (port <= 0)
        die("the service did not start");
    return pid;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    char *patron = getenv("PATRON_BIN") ? getenv("PATRON_BIN") : "./patron";
    long scans = 500;
    char dir[] = "/tmp/patron-bench-scanner-XXXXXX", db[300], out[8192], card[32], token[64];
    char spec[128], line[40];
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--scans") == 0)
            scans = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--patron") == 0)
            patron = argv[i + 1];
    }
    if (scans < 1 || scans > MAX_SCANS || !mkdtemp(dir) || !(arrived = calloc(MAX_SCANS, 8)))
        die("bad arguments");
    snprintf(db, sizeof db, "%s/patron.db", dir);
    run(out, sizeof out, (char *[]){patron, "--db", db, "init", NULL});
    run(out, sizeof out,
        (char *[]){patron, "--db", db, "--json", "member", "enroll", "--name", "Ada", NULL});
    field(out, "card", card, sizeof card);
    run(out, sizeof out,
        (char *[]){patron, "--db", db, "--json", "terminal", "add", "till", "--role", "cashier",
                   NULL});
    field(out, "token", token, sizeof token);
    int pty = posix_openpt(O_RDWR | O_NOCTTY);
    if (pty < 0 || grantpt(pty) != 0 || unlockpt(pty) != 0)
        die("no pseudo-terminal");
    snprintf(spec, sizeof spec, "file:%s", ptsname(pty));
    run(out, sizeof out, (char *[]){patron, "--db", db, "terminal", "scanner", "till", spec, NULL});
    pid_t pid = start_server(patron, db);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    pthread_t t;
    pthread_create(&t, NULL, stream_main, token);
    /* warm-up: scans until the service has the line open and one arrives on the stream */
    snprintf(line, sizeof line, "%s\r\n", card);
    size_t n = strlen(line);
    for (double end = now_s() + 30; atomic_load(&events_seen) == 0; usleep(100000)) {
        if (now_s() > end || write(pty, line, n) != (ssize_t)n)
            die("no scan reached the event stream");
    }
    usleep(300000);
    double *lat = calloc((size_t)scans, sizeof *lat);
    for (long i = 0; i < scans; i++) {
        long base = atomic_load(&events_seen);
        double t0 = now_s();
        if (write(pty, line, n) != (ssize_t)n)
            die("write");
        while (atomic_load(&events_seen) <= base)
            if (now_s() - t0 > 10)
                die("a scan never reached the event stream");
            else /* not a spin: this machine's cores are the service's too */
                nanosleep(&(struct timespec){0, 20 * 1000}, NULL);
        lat[i] = (arrived[base] - t0) * 1e3;
        usleep(60000); /* below the scanner's flood limit of 20 scans a second */
    }
    qsort(lat, (size_t)scans, sizeof *lat, cmp);
    double p50 = lat[scans / 2], p99 = lat[(size_t)((double)scans * 0.99)];
    printf("scans %ld  p50 %.3f ms  p99 %.3f ms  (goal p99 <= 5 ms)\n", scans, p50, p99);
    printf("{\"scanner_to_event_p50_ms\": %.3f, \"scanner_to_event_p99_ms\": %.3f}\n", p50, p99);
    atomic_store(&stop, 1);
    kill(pid, SIGTERM);
    pthread_join(t, NULL);
    waitpid(pid, NULL, 0);
    curl_global_cleanup();
    close(pty);
    free(lat);
    free(arrived);
    char *rm[] = {"/bin/rm", "-rf", dir, NULL};
    run(out, sizeof out, rm);
    return 0;
}
