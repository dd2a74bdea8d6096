/* SPDX-License-Identifier: MIT */
/* API test helpers: preparing a store with the `patron` program, running `patron serve` as a
 * child on port 0, and a small libcurl client that logs every reply for tests/check_replies.py
 * when PATRON_API_REPLY_LOG names a file. */
#include "apiutil.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_ARGS 48

/* Runs the program with argv (argv[0] is set here); stdout into out. Returns the exit status. */
static int run(const char **argv, char *out, size_t cap)
{
    int fds[2];
    argv[0] = getenv("PATRON_BIN");
    assert_non_null(argv[0]);
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    size_t n = 0;
    ssize_t r;
    char sink[256];
    while (n + 1 < cap && (r = read(fds[0], out + n, cap - 1 - n)) > 0)
        n += (size_t)r;
    out[n] = '\0';
    while (read(fds[0], sink, sizeof sink) > 0)
        ;
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void apit_store_new(struct api_server *sv)
{
    apit_store_new_id(sv, 1);
}

void apit_store_new_id(struct api_server *sv, int store_id)
{
    const char *tmp = getenv("TMPDIR");
    char id[16];
    memset(sv, 0, sizeof *sv);
    snprintf(sv->dir, sizeof sv->dir, "%s/patron-api-XXXXXX", tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(sv->dir));
    snprintf(sv->db, sizeof sv->db, "%s/patron.db", sv->dir);
    snprintf(sv->log, sizeof sv->log, "%s/serve.log", sv->dir);
    snprintf(id, sizeof id, "%d", store_id);
    json_decref(apit_patron(sv, "init", "--store-id", id, (char *)NULL));
}

json_t *apit_patron(struct api_server *sv, const char *arg, ...)
{
    const char *argv[MAX_ARGS];
    static char out[65536];
    int argc = 1;
    va_list ap;
    argv[argc++] = "--db";
    argv[argc++] = sv->db;
    argv[argc++] = "--json";
    va_start(ap, arg);
    for (const char *a = arg; a && argc < MAX_ARGS - 1; a = va_arg(ap, const char *))
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;
    int status = run(argv, out, sizeof out);
    if (status != 0)
        fprintf(stderr, "patron %s exited %d: %s\n", arg, status, out);
    assert_int_equal(status, 0);
    json_t *j = json_loads(out, 0, NULL);
    assert_non_null(j);
    return j;
}

void apit_terminal(struct api_server *sv, const char *name, const char *role, char *token)
{
    json_t *j = apit_patron(sv, "terminal", "add", name, "--role", role, (char *)NULL);
    const char *t = json_string_value(json_object_get(j, "token"));
    assert_non_null(t);
    snprintf(token, 64, "%s", t);
    json_decref(j);
}

void apit_member(struct api_server *sv, const char *name, char *card)
{
    json_t *j = apit_patron(sv, "member", "enroll", "--name", name, (char *)NULL);
    const char *c = json_string_value(json_object_get(j, "card"));
    assert_non_null(c);
    snprintf(card, 14, "%s", c);
    json_decref(j);
}

/* Reads the child's stdout until the "listening on" line; returns 1 when found. */
static int read_banner(struct api_server *sv, int fd)
{
    size_t n = 0;
    ssize_t r;
    while (n + 1 < sizeof sv->banner && (r = read(fd, sv->banner + n, 1)) == 1) {
        n++;
        sv->banner[n] = '\0';
        if (sv->banner[n - 1] != '\n')
            continue;
        char *line = strstr(sv->banner, "listening on http");
        if (line) {
            char *colon = strrchr(line, ':');
            sv->port = atoi(colon + 1);
            return sv->port > 0;
        }
    }
    return 0;
}

int apit_try_start(struct api_server *sv, char *why, const char *const *extra)
{
    const char *argv[MAX_ARGS];
    int argc = 1, fds[2];
    argv[argc++] = "--db";
    argv[argc++] = sv->db;
    /* The printer's "auto" falls back to the virtual printer in HOME/prints: keep it here. */
    argv[argc++] = "--home";
    argv[argc++] = sv->dir;
    argv[argc++] = "serve";
    argv[argc++] = "--listen";
    argv[argc++] = "127.0.0.1:0";
    for (size_t i = 0; extra && extra[i] && argc < MAX_ARGS - 1; i++) {
        if (strcmp(extra[i], "--listen") == 0)
            argc -= 2; /* the caller's address replaces the default */
        argv[argc++] = extra[i];
    }
    argv[argc] = NULL;
    argv[0] = getenv("PATRON_BIN");
    assert_non_null(argv[0]);
    assert_int_equal(pipe(fds), 0);
    sv->pid = fork();
    assert_true(sv->pid >= 0);
    if (sv->pid == 0) {
        int logfd = open(sv->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        dup2(fds[1], 1);
        if (logfd >= 0)
            dup2(logfd, 2);
        close(fds[0]);
        close(fds[1]);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    int ok = read_banner(sv, fds[0]);
    close(fds[0]);
    if (ok)
        return -1;
    int status;
    waitpid(sv->pid, &status, 0);
    sv->pid = 0;
    if (why) {
        FILE *f = fopen(sv->log, "r");
        why[0] = '\0';
        char line[512];
        while (f && fgets(line, sizeof line, f))
            if (strncmp(line, "patron:", 7) == 0)
                snprintf(why, 256, "%.255s", line);
        if (f)
            fclose(f);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void apit_start(struct api_server *sv, const char *extra, ...)
{
    const char *args[MAX_ARGS];
    size_t n = 0;
    va_list ap;
    va_start(ap, extra);
    for (const char *a = extra; a && n < MAX_ARGS - 1; a = va_arg(ap, const char *))
        args[n++] = a;
    va_end(ap);
    args[n] = NULL;
    int status = apit_try_start(sv, NULL, args);
    if (status != -1)
        fprintf(stderr, "patron serve exited %d before listening (log: %s)\n", status, sv->log);
    assert_int_equal(status, -1);
}

int apit_stop(struct api_server *sv)
{
    int status;
    if (sv->pid <= 0)
        return -1;
    kill(sv->pid, SIGTERM);
    waitpid(sv->pid, &status, 0);
    sv->pid = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void apit_kill(struct api_server *sv)
{
    int status;
    if (sv->pid <= 0)
        return;
    kill(sv->pid, SIGKILL);
    waitpid(sv->pid, &status, 0);
    sv->pid = 0;
}

int apit_tls_files(const struct api_server *sv, char *cert, char *key)
{
    char cmd[1024];
    snprintf(cert, 300, "%s/cert.pem", sv->dir);
    snprintf(key, 300, "%s/key.pem", sv->dir);
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
             "-subj /CN=localhost -keyout %s -out %s >/dev/null 2>&1",
             key, cert);
    return system(cmd) == 0 ? 0 : -1;
}

void apit_cleanup(struct api_server *sv)
{
    apit_kill(sv);
    if (getenv("PATRON_KEEP_TMP"))
        fprintf(stderr, "kept %s\n", sv->dir); /* for reading serve.log after a failure */
    else
        test_rmtree(sv->dir);
}

struct sink {
    char *buf;
    size_t len;
};

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
    struct sink *s = ctx;
    size_t add = size * n;
    char *nb = realloc(s->buf, s->len + add + 1);
    if (!nb)
        return 0;
    memcpy(nb + s->len, data, add);
    s->buf = nb;
    s->len += add;
    s->buf[s->len] = '\0';
    return add;
}

static size_t on_header(char *data, size_t size, size_t n, void *ctx)
{
    struct apit_reply *r = ctx;
    size_t len = size * n;
    if (len >= 27 && strncasecmp(data, "Idempotent-Replayed: true", 25) == 0)
        r->replayed = 1;
    if (len >= 17 && strncasecmp(data, "WWW-Authenticate:", 17) == 0)
        r->www_auth = 1;
    size_t used = strlen(r->headers);
    if (used + len < sizeof r->headers) {
        memcpy(r->headers + used, data, len);
        r->headers[used + len] = '\0';
    }
    return len;
}

static pthread_once_t reply_log_once = PTHREAD_ONCE_INIT;

/* Each test executable starts its log afresh, so the log holds this run's replies only. */
static void reply_log_truncate(void)
{
    int fd = open(getenv("PATRON_API_REPLY_LOG"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    close(fd);
}

/* Appends {method, path, status, type, body} as one JSON line, in one write(2) on an O_APPEND
 * descriptor so that replies received on several threads never interleave. Text that is not
 * UTF-8 is logged as null, which the checker refuses. */
static void reply_log(const char *method, const char *path, const struct apit_reply *r)
{
    const char *file = getenv("PATRON_API_REPLY_LOG");
    if (!file || !*file)
        return;
    /* The browser app's files are not the API's: only its problem documents are. */
    if (strncmp(path, "/v1/", 4) != 0 && strcmp(path, "/metrics") != 0 &&
        strcmp(r->type, "application/problem+json") != 0)
        return;
    pthread_once(&reply_log_once, reply_log_truncate);
    json_t *rec = json_object();
    const char *keys[] = {"method", "path", "type", "body"};
    /* A picture's bytes are not text: its content type is what the contract says of it. */
    const char *body = strncmp(r->type, "image/", 6) == 0 ? "" : r->body;
    const char *values[] = {method, path, r->type, body};
    assert_non_null(rec);
    for (size_t i = 0; i < 4; i++) {
        json_t *v = json_string(values[i]);
        json_object_set_new(rec, keys[i], v ? v : json_null());
    }
    json_object_set_new(rec, "status", json_integer((json_int_t)r->status));
    char *line = json_dumps(rec, JSON_COMPACT);
    json_decref(rec);
    assert_non_null(line);
    size_t len = strlen(line);
    line[len] = '\n'; /* the NUL becomes the end of the line: the write counts bytes */
    int fd = open(file, O_WRONLY | O_CREAT | O_APPEND, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, line, len + 1), (ssize_t)(len + 1));
    close(fd);
    free(line);
}

static long request_timeout_s = 30;

void apit_set_timeout(long seconds)
{
    request_timeout_s = seconds;
}

int apit_request(CURL *h, int port, const char *method, const char *path, const char *token,
                 const char *key, const char *body, struct apit_reply *out)
{
    char auth[128], idem[192];
    const char *extra[3] = {NULL, NULL, NULL};
    size_t n = 0;
    if (token) {
        /* a token given with its scheme ("ApplePass T", a phone's) is sent as it is */
        snprintf(auth, sizeof auth, "Authorization: %s%s",
                 strncmp(token, "ApplePass ", 10) == 0 ? "" : "Bearer ", token);
        extra[n++] = auth;
    }
    if (key) {
        snprintf(idem, sizeof idem, "Idempotency-Key: %s", key);
        extra[n++] = idem;
    }
    return apit_request_with(h, port, method, path, extra, body, out);
}

const char *apit_header(const struct apit_reply *r, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    out[0] = '\0';
    for (const char *p = r->headers; *p; p += strcspn(p, "\n") + (p[strcspn(p, "\n")] != '\0')) {
        if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
            const char *v = p + n + 1 + strspn(p + n + 1, " ");
            size_t len = strcspn(v, "\r\n");
            snprintf(out, cap, "%.*s", (int)len, v);
            break;
        }
    }
    return out;
}

int apit_request_with(CURL *h, int port, const char *method, const char *path,
                      const char *const *extra, const char *body, struct apit_reply *out)
{
    char url[512];
    struct curl_slist *headers = NULL;
    struct sink sink = {NULL, 0};
    CURL *own = h ? NULL : curl_easy_init();
    CURL *e = h ? h : own;
    memset(out, 0, sizeof *out);
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    curl_easy_reset(e);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT, request_timeout_s);
    if (body) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
        headers = curl_slist_append(headers, "Content-Type: application/json");
    }
    headers = curl_slist_append(headers, "Expect:");
    for (size_t i = 0; extra && extra[i]; i++)
        headers = curl_slist_append(headers, extra[i]);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, out);
    int rc = (int)curl_easy_perform(e);
    if (rc == CURLE_OK) {
        char *type = NULL;
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &out->status);
        curl_easy_getinfo(e, CURLINFO_CONTENT_TYPE, &type);
        snprintf(out->type, sizeof out->type, "%s", type ? type : "");
        out->len = sink.len;
        out->body = sink.buf ? sink.buf : strdup("");
        out->json = json_loads(out->body, 0, NULL);
        reply_log(method, path, out);
    } else {
        free(sink.buf);
    }
    curl_slist_free_all(headers);
    if (own)
        curl_easy_cleanup(own);
    return rc;
}

void apit_reply_free(struct apit_reply *r)
{
    json_decref(r->json);
    free(r->body);
    memset(r, 0, sizeof *r);
}

void apit_call(int port, const char *method, const char *path, const char *token, const char *key,
               const char *body, struct apit_reply *out)
{
    int rc = apit_request(NULL, port, method, path, token, key, body, out);
    if (rc != CURLE_OK)
        fprintf(stderr, "%s %s: %s\n", method, path, curl_easy_strerror((CURLcode)rc));
    assert_int_equal(rc, CURLE_OK);
}

const char *apit_jstr(json_t *j, const char *key)
{
    return json_string_value(json_object_get(j, key));
}

int64_t apit_jint(json_t *j, const char *key)
{
    json_t *v = json_object_get(j, key);
    assert_true(json_is_integer(v));
    return (int64_t)json_integer_value(v);
}

void apit_assert_status(const struct apit_reply *r, long status, const char *code)
{
    if (r->status != status)
        fprintf(stderr, "expected %ld, got %ld: %s\n", status, r->status, r->body);
    assert_int_equal(r->status, status);
    if (code)
        assert_string_equal(apit_jstr(r->json, "code"), code);
}

int apit_is_replay_of(const struct apit_reply *again, const struct apit_reply *first)
{
    json_t *want = json_loads(first->body ? first->body : "", 0, NULL);
    json_t *got = json_loads(again->body ? again->body : "", 0, NULL);
    int same = want && got && again->status == first->status && again->replayed;
    if (same && json_is_object(want) && json_object_get(want, "replayed"))
        same = json_object_set_new(want, "replayed", json_true()) == 0;
    same = same && json_equal(want, got);
    json_decref(want);
    json_decref(got);
    return same;
}

void apit_assert_replay_of(const struct apit_reply *again, const struct apit_reply *first)
{
    if (!apit_is_replay_of(again, first))
        fail_msg("not a replay (status %ld, header %d):\n first: %s\n again: %s", again->status,
                 again->replayed, first->body, again->body);
}
