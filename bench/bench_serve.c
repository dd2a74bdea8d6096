/* SPDX-License-Identifier: MIT */
/* The pieces the HTTP benchmarks share (bench_http, bench_rss): `patron serve` started on a
 * store on a free loopback port, keep-alive tills checking out from one client thread with their
 * latencies, and the service's memory and CPU time read from /proc. */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
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

/* utime + stime of a /proc stat file, in seconds: fields 14 and 15, counted after the command
 * name's closing parenthesis (the name may hold spaces). */
static double stat_cpu_s(const char *path)
{
    char line[1024];
    unsigned long long utime, stime;
    FILE *f = fopen(path, "r");
    int ok = f && fgets(line, sizeof line, f);
    if (f)
        fclose(f);
    const char *p = ok ? strrchr(line, ')') : NULL;
    if (!p ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
        return -1;
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

double bench_proc_cpu_s(pid_t pid, const char *thread)
{
    char path[400], name[64];
    if (!thread) {
        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        return stat_cpu_s(path);
    }
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    struct dirent *e;
    double cpu = -1;
    while (d && cpu < 0 && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "/proc/%d/task/%s/comm", (int)pid, e->d_name);
        FILE *f = fopen(path, "r");
        int named = f && fgets(name, sizeof name, f) && strcspn(name, "\n") == strlen(thread) &&
                    strncmp(name, thread, strlen(thread)) == 0;
        if (f)
            fclose(f);
        if (named) {
            snprintf(path, sizeof path, "/proc/%d/task/%s/stat", (int)pid, e->d_name);
            cpu = stat_cpu_s(path);
        }
    }
    if (d)
        closedir(d);
    return cpu;
}

/* One till: one keep-alive connection, one checkout in flight at a time. */
struct till {
    struct bench *b;
    int id, round, fd;
    long next, count;
    double *lat, started;
    long errors, connections;
    int in_flight;
    size_t in_len;
    char in[8192];
};

static void till_connect(struct till *t)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)t->b->port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    t->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (t->fd < 0 || connect(t->fd, (struct sockaddr *)&a, sizeof a) != 0)
        bench_die("a till cannot connect to the service");
    setsockopt(t->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    t->connections++;
    t->in_len = 0;
}

/* Sends the till's next checkout; 0 when the till has sent all of its own. The request is a few
 * hundred bytes on a connection with nothing unread, so the write does not block. */
static int till_send_next(struct till *t)
{
    if (t->next == t->count)
        return 0;
    t->in_flight = 1;
    long i = t->next++;
    char body[160], req[640];
    int body_len =
        snprintf(body, sizeof body, "{\"card\":\"%s\",\"ref\":\"b%d-%d-%ld\",\"total\":1999}",
                 t->b->cards[(t->id + i) % t->b->n_cards], t->round, t->id, i);
    int len = snprintf(req, sizeof req,
                       "POST /v1/sales HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                       "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
                       "Idempotency-Key: b%d-%d-%ld\r\nContent-Length: %d\r\n\r\n%s",
                       t->b->token, t->round, t->id, i, body_len, body);
    t->started = bench_now();
    if (write(t->fd, req, (size_t)len) != len)
        bench_die("a till cannot send its checkout");
    return 1;
}

/* The status of the whole response in t->in (Content-Length framing, which is what the service
 * sends), 0 while it is not whole yet. */
static int response_status(const struct till *t)
{
    const char *in = t->in, *end = memmem(in, t->in_len, "\r\n\r\n", 4);
    if (!end)
        return 0;
    const char *length = memmem(in, (size_t)(end - in), "\r\nContent-Length:", 17);
    if (!length)
        length = memmem(in, (size_t)(end - in), "\r\ncontent-length:", 17);
    if (!length || strncmp(in, "HTTP/1.1 ", 9) != 0)
        bench_die("the service sent a response without a Content-Length");
    size_t whole = (size_t)(end + 4 - in) + strtoul(length + 17, NULL, 10);
    if (t->in_len < whole)
        return 0;
    if (t->in_len > whole)
        bench_die("the service sent more than one response to one request");
    return atoi(in + 9);
}

/* Reads what the service sent the till; 1 when the checkout is answered (or the connection was
 * lost, counted as an error, and opened again). */
static int till_read(struct till *t)
{
    ssize_t n = read(t->fd, t->in + t->in_len, sizeof t->in - t->in_len - 1);
    int status;
    if (n <= 0) {
        close(t->fd);
        till_connect(t);
        status = -1;
    } else {
        t->in_len += (size_t)n;
        if ((status = response_status(t)) == 0)
            return 0;
    }
    t->lat[t->next - 1] = bench_now() - t->started;
    t->errors += status != 201;
    t->in_len = 0;
    t->in_flight = 0;
    return 1;
}

/* The CPU time this process has used, user and system, in seconds. */
static double cpu_seconds(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Sends the checkouts that are due (all of them when the tills are not paced); returns how many
 * tills have one in flight, and in *wait_s how long until the next is due. */
static int send_due(struct till *ts, int tills, double pace, double t0, double *wait_s)
{
    double now = bench_now();
    int in_flight = 0;
    *wait_s = 10;
    for (int i = 0; i < tills; i++) {
        struct till *t = &ts[i];
        double due = pace > 0 ? t0 + (double)t->next / pace : now;
        if (!t->in_flight && t->next < t->count) {
            if (due <= now)
                till_send_next(t);
            else if (due - now < *wait_s)
                *wait_s = due - now;
        }
        in_flight += t->in_flight;
    }
    return in_flight;
}

/* The tills are driven by one thread with poll(2), so that the client costs the service's cores
 * little: each till sends its next checkout as soon as the last is answered, or, paced, when it
 * is due. */
struct bench_result bench_tills_run(struct bench *b, int tills, int round)
{
    static struct till ts[MAX_TILLS];
    struct pollfd fds[MAX_TILLS];
    long per = b->sales / tills, answered = 0;
    double *lat = calloc((size_t)(per * tills), sizeof *lat);
    struct bench_result r = {0};
    double t0 = bench_now(), cpu0 = cpu_seconds(), wait_s;
    double server0 = bench_proc_cpu_s(b->pid, NULL), writer0 = bench_proc_cpu_s(b->pid, "writer");
    for (int i = 0; i < tills; i++) {
        ts[i] = (struct till){.b = b, .id = i, .round = round, .count = per, .lat = lat + i * per};
        till_connect(&ts[i]);
    }
    while (answered < per * tills) {
        int in_flight = send_due(ts, tills, b->till_pace, t0, &wait_s);
        for (int i = 0; i < tills; i++)
            fds[i] = (struct pollfd){.fd = ts[i].in_flight ? ts[i].fd : -1, .events = POLLIN};
        int ready = poll(fds, (nfds_t)tills, (int)(wait_s * 1000) + 1);
        if (ready <= 0 && in_flight > 0 && wait_s >= 10)
            bench_die("the service answered no till for 10 s");
        for (int i = 0; i < tills && ready > 0; i++)
            if (fds[i].revents && till_read(&ts[i]))
                answered++;
    }
    for (int i = 0; i < tills; i++) {
        r.errors += ts[i].errors;
        r.connections += ts[i].connections;
        close(ts[i].fd);
    }
    double wall = bench_now() - t0;
    r.rate = (double)(per * tills) / wall;
    r.client_cpu_us = (cpu_seconds() - cpu0) * 1e6 / (double)(per * tills);
    double server = bench_proc_cpu_s(b->pid, NULL) - server0;
    double writer = bench_proc_cpu_s(b->pid, "writer") - writer0;
    r.server_cpu_us = server * 1e6 / (double)(per * tills);
    r.writer_cpu_us = writer * 1e6 / (double)(per * tills);
    r.writer_busy = writer / wall;
    qsort(lat, (size_t)(per * tills), sizeof *lat, cmp_double);
    r.p50 = lat[(per * tills) / 2] * 1e3;
    r.p99 = lat[(per * tills) * 99 / 100] * 1e3;
    free(lat);
    return r;
}
