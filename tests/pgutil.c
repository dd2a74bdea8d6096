/* SPDX-License-Identifier: MIT */
/* The throwaway PostgreSQL of the `pg` tests (see pgutil.h and ../shared notes): initdb, pg_ctl
 * start/stop, run as the postgres user when the test runs as root, which the server refuses to
 * be. */
#include <arpa/inet.h>
#include <glob.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "pgutil.h"
#include "testutil.h"

/* Runs argv (as postgres when root), its output into `log`; returns the exit status. */
static int run_as_server(const struct pg_cluster *pg, const char *const argv[])
{
    char log[320];
    snprintf(log, sizeof log, "%s/setup.log", pg->base);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        FILE *f = freopen(log, "a", stdout);
        if (!f || dup2(fileno(stdout), 2) < 0)
            _exit(127);
        if (geteuid() == 0) {
            const char *args[16] = {"runuser", "-u", "postgres", "--"};
            for (int i = 0; i < 11 && argv[i]; i++)
                args[4 + i] = argv[i];
            execvp("runuser", (char *const *)args);
        } else {
            execv(argv[0], (char *const *)argv);
        }
        _exit(127);
    }
    int status;
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The newest installed server's bin folder ($PATRON_PG_BIN first). */
static int find_bin(char *out, size_t len)
{
    const char *env = getenv("PATRON_PG_BIN");
    glob_t g;
    if (env && env[0]) {
        snprintf(out, len, "%s", env);
        return 0;
    }
    if (glob("/usr/lib/postgresql/*/bin/initdb", 0, NULL, &g) != 0)
        return -1;
    snprintf(out, len, "%s", g.gl_pathv[g.gl_pathc - 1]);
    globfree(&g);
    *strrchr(out, '/') = '\0';
    return 0;
}

static int free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t n = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &n) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

/* Passwords for every role but the superuser, on the socket and on loopback. */
static int write_hba(const struct pg_cluster *pg)
{
    char path[320];
    snprintf(path, sizeof path, "%s/data/pg_hba.conf", pg->base);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs("local all postgres trust\n"
          "local all all scram-sha-256\n"
          "host all postgres 127.0.0.1/32 trust\n"
          "host all all 127.0.0.1/32 scram-sha-256\n",
          f);
    return fclose(f) == 0 ? 0 : -1;
}

static int init_folder(struct pg_cluster *pg)
{
    char initdb[320], data[320];
    snprintf(pg->base, sizeof pg->base, "/tmp/patron-pg-XXXXXX");
    if (!mkdtemp(pg->base))
        return -1;
    if (geteuid() == 0) {
        struct passwd *pw = getpwnam("postgres");
        if (!pw || chown(pg->base, pw->pw_uid, pw->pw_gid) != 0)
            return -1;
    }
    chmod(pg->base, 0700);
    snprintf(initdb, sizeof initdb, "%s/initdb", pg->bin);
    snprintf(data, sizeof data, "%s/data", pg->base);
    const char *argv[] = {initdb,      "-D",    data, "-U",   "postgres",
                          "-A",        "trust", "-E", "UTF8", "--locale=C.UTF-8",
                          "--no-sync", NULL};
    if (run_as_server(pg, argv) != 0)
        return -1;
    return write_hba(pg);
}

int pg_cluster_resume(struct pg_cluster *pg)
{
    char pg_ctl[320], data[320], log[320], opts[1400];
    snprintf(pg_ctl, sizeof pg_ctl, "%s/pg_ctl", pg->bin);
    snprintf(data, sizeof data, "%s/data", pg->base);
    snprintf(log, sizeof log, "%s/server.log", pg->base);
    snprintf(opts, sizeof opts,
             /* fsync off: only an operating system crash could lose what the server wrote, and
              * the tests stop the server, never the machine. synchronous_commit stays on: a
              * commit is written before it is acknowledged, so `pg_ctl stop -m immediate`
              * loses nothing that head office confirmed (as in production). */
             "-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", pg->port, pg->base);
    if (pg->ssl) {
        size_t n = strlen(opts);
        snprintf(opts + n, sizeof opts - n,
                 " -c ssl=on -c ssl_cert_file=%s/server.crt -c ssl_key_file=%s/server.key"
                 " -c ssl_ca_file=%s/ca.crt",
                 pg->base, pg->base, pg->base);
    }
    const char *argv[] = {pg_ctl, "-D", data, "-l", log,     "-w",
                          "-t",   "60", "-o", opts, "start", NULL};
    if (run_as_server(pg, argv) != 0)
        return -1;
    pg->running = 1;
    return 0;
}

int pg_cluster_halt(struct pg_cluster *pg, const char *mode)
{
    char pg_ctl[320], data[320];
    snprintf(pg_ctl, sizeof pg_ctl, "%s/pg_ctl", pg->bin);
    snprintf(data, sizeof data, "%s/data", pg->base);
    const char *argv[] = {pg_ctl, "-D", data, "-m", mode, "-w", "-t", "60", "stop", NULL};
    int rc = run_as_server(pg, argv);
    if (rc == 0)
        pg->running = 0;
    return rc == 0 ? 0 : -1;
}

/* Copies tls/name into the cluster's folder, owned by the server's user, mode 0600. */
static int copy_tls_file(const struct pg_cluster *pg, const char *tls, const char *name)
{
    char from[512], to[320], buf[4096];
    snprintf(from, sizeof from, "%s/%s", tls, name);
    snprintf(to, sizeof to, "%s/%s", pg->base, name);
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    size_t n;
    int ok = in && out && chmod(to, 0600) == 0;
    while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0)
        ok = fwrite(buf, 1, n, out) == n;
    if (in)
        fclose(in);
    if (out && fclose(out) != 0)
        ok = 0;
    if (ok && geteuid() == 0) {
        struct passwd *pw = getpwnam("postgres");
        ok = pw && chown(to, pw->pw_uid, pw->pw_gid) == 0;
    }
    return ok ? 0 : -1;
}

static int cluster_start(struct pg_cluster *pg, const char *tls)
{
    memset(pg, 0, sizeof *pg);
    if (find_bin(pg->bin, sizeof pg->bin) != 0) {
        fprintf(stderr, "pgutil: no PostgreSQL server in /usr/lib/postgresql/*/bin "
                        "(scripts/install-deps.sh installs it)\n");
        return -1;
    }
    if (init_folder(pg) != 0) {
        fprintf(stderr, "pgutil: initdb failed; see %s/setup.log\n", pg->base);
        return -1;
    }
    if (tls &&
        (copy_tls_file(pg, tls, "server.crt") != 0 || copy_tls_file(pg, tls, "server.key") != 0 ||
         copy_tls_file(pg, tls, "ca.crt") != 0)) {
        fprintf(stderr, "pgutil: cannot copy the TLS files of %s\n", tls);
        return -1;
    }
    pg->ssl = tls != NULL;
    /* a port found free may be taken before the server binds it: try a few */
    for (int attempt = 0; attempt < 5; attempt++) {
        if ((pg->port = free_port()) > 0 && pg_cluster_resume(pg) == 0)
            return 0;
    }
    fprintf(stderr, "pgutil: the server did not start; see %s/server.log\n", pg->base);
    return -1;
}

int pg_cluster_start(struct pg_cluster *pg)
{
    return cluster_start(pg, NULL);
}

int pg_cluster_start_tls(struct pg_cluster *pg, const char *tls)
{
    return cluster_start(pg, tls);
}

static void remove_tree(const char *dir)
{
    pid_t pid = fork();
    if (pid == 0) {
        execlp("rm", "rm", "-rf", "--", dir, (char *)NULL);
        _exit(127);
    }
    if (pid > 0)
        waitpid(pid, NULL, 0);
}

void pg_cluster_stop(struct pg_cluster *pg)
{
    if (pg->running)
        pg_cluster_halt(pg, "fast");
    if (pg->base[0])
        remove_tree(pg->base);
    pg->base[0] = '\0';
}

void pg_cluster_url(const struct pg_cluster *pg, const char *name, const char *user,
                    const char *password, char *url, size_t len)
{
    snprintf(url, len, "postgresql://%s%s%s@127.0.0.1:%d/%s", user, password ? ":" : "",
             password ? password : "", pg->port, name);
}

int pg_cluster_createdb(struct pg_cluster *pg, const char *name, char *url, size_t len)
{
    char admin[512], sql[256];
    pg_cluster_url(pg, "postgres", "postgres", NULL, admin, sizeof admin);
    PGconn *conn = PQconnectdb(admin);
    int ok = PQstatus(conn) == CONNECTION_OK;
    if (ok) {
        snprintf(sql, sizeof sql, "CREATE DATABASE \"%s\"", name);
        PGresult *res = PQexec(conn, sql);
        ok = PQresultStatus(res) == PGRES_COMMAND_OK;
        if (!ok)
            fprintf(stderr, "pgutil: %s", PQresultErrorMessage(res));
        PQclear(res);
    } else {
        fprintf(stderr, "pgutil: %s", PQerrorMessage(conn));
    }
    PQfinish(conn);
    pg_cluster_url(pg, name, "postgres", NULL, url, len);
    return ok ? 0 : -1;
}

int pg_suite_start(struct pg_cluster *pg, const char *prefix, char *home, size_t len)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(home, len, "%s/%s-XXXXXX", tmp ? tmp : "/tmp", prefix);
    if (!mkdtemp(home))
        return -1;
    return pg_cluster_start(pg);
}

void pg_suite_stop(struct pg_cluster *pg, const char *home)
{
    pg_cluster_stop(pg);
    test_rmtree(home);
}
