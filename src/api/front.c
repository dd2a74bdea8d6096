/* SPDX-License-Identifier: MIT */
/* The front of the counter service. It owns the listening socket, ends TLS when the service has a
 * certificate (OpenSSL: TLS 1.2 or 1.3, ECDHE with AEAD ciphers only), and passes each
 * connection's bytes to libmicrohttpd (through a socket pair), all of them in one thread's epoll
 * loop, while it reads the framing of every request: a head that is too long, malformed, of an HTTP
 * version other than 1.x, without Host in HTTP/1.1, or with a bad Content-Length or
 * Transfer-Encoding is answered here with a problem document, as every error of the service is, and
 * never reaches libmicrohttpd, whose own error pages are HTML. A head is passed on only once it is
 * whole and checked; bodies pass as they come. Replies pass back unchanged. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api.h"

#define HEAD_MAX (16 * 1024) /* request line and headers */
/* A relay's buffers, one each way, for each connection: the client's side holds a whole head
 * and more (so that a longer one is seen and refused); a reply passes through in pieces of
 * libmicrohttpd's 8 KiB blocks, so a larger buffer only held memory a connection. */
#define RELAY_IN (HEAD_MAX + 4 * 1024)
#define RELAY_OUT (16 * 1024)
#define LINE_MAX_BYTES 8192   /* the request line */
#define CHUNK_LINE_MAX 1024   /* a chunk-size line or a trailer line */
#define PROBLEM_WRITE_MS 5000 /* to send a refusal to a client that does not read */
#define SWEEP_MS 1000         /* how often the loop looks for idle connections */
#define LOOP_EVENTS 64        /* events taken from epoll at a time */

enum in_state { IN_HEAD, IN_BODY, IN_CHUNK_SIZE, IN_CHUNK_DATA, IN_CHUNK_END, IN_TRAILER };
/* A connection's life: the TLS handshake (with TLS only), the relay of its requests and
 * replies, and a refusal being sent before it closes. */
enum relay_phase { PHASE_HANDSHAKE, PHASE_RELAY, PHASE_REFUSAL };

struct relay;
/* What epoll hands back for a socket: its relay, and which side it is (0 the client's, 1
 * libmicrohttpd's). */
struct relay_side {
    struct relay *r;
    int side;
};

struct relay {
    struct api_front *f;
    int client, inner;
    char in[RELAY_IN]; /* from the client; in[0..in_ok) is checked and may pass */
    size_t in_len, in_ok;
    char out[RELAY_OUT]; /* from libmicrohttpd, to the client */
    size_t out_len;
    enum in_state st;
    uint64_t remaining;
    size_t head_seen; /* bytes of the coming head already looked at */
    int client_eof, inner_eof, inner_shut;
    int inner_full, client_full; /* a send took only part: epoll says when to go on */
    SSL *ssl;                    /* NULL on plain HTTP */
    int tls_wants; /* EPOLLIN or EPOLLOUT: what TLS waits for on the client's socket */
    int refused;   /* an HTTP status: the client is answered here, after what came before */
    const char *code, *title;
    char detail[160];
    enum relay_phase phase;
    int client_hung_up;   /* epoll said the client's socket is closed both ways, or failed */
    uint64_t deadline_ms; /* monotonic: ended if nothing moves before then */
    struct relay_side sides[2];
    int watched[2];             /* each socket is in the loop's epoll (the loop's alone) */
    uint32_t events[2];         /* and for what */
    int taken, dead;            /* taken into the loop; ended, freed after the loop's turn */
    struct relay *prev, *next;  /* every open relay, under the lock */
    struct relay *arrival_next; /* accepted, not yet taken in */
    struct relay *loop_next;    /* the loop's own lists: expired, then ended */
};

struct api_front {
    struct MHD_Daemon *daemon;
    int listen_fd;
    unsigned idle_ms;
    SSL_CTX *tls; /* NULL on plain HTTP; borrowed */
    unsigned max_relays, n_relays;
    pthread_t thread;
    int started;
    pthread_mutex_t lock;
    pthread_cond_t gone;
    struct relay *relays;
    atomic_int stopping;
    int epoll_fd; /* the relay loop's */
    int wake_fd;  /* an eventfd: new arrivals, or the loop's stop */
    pthread_t loop;
    struct relay *arrivals; /* under the lock */
    atomic_int loop_stopping;
};

static void refuse(struct relay *r, int status, const char *code, const char *title,
                   const char *detail)
{
    r->refused = status;
    r->code = code;
    r->title = title;
    snprintf(r->detail, sizeof r->detail, "%s", detail);
}

static int is_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* The length of a line (without CR LF or LF) starting at p, and of its terminator. */
static size_t line_len(const char *p, size_t n, size_t *term)
{
    const char *lf = memchr(p, '\n', n);
    size_t len = lf ? (size_t)(lf - p) : n;
    *term = lf ? 1 : 0;
    if (lf && len > 0 && p[len - 1] == '\r') {
        len--;
        (*term)++;
    }
    return len;
}

/* Request line: METHOD SP TARGET SP HTTP/1.x. Returns 0 and the minor version, or refuses. */
static int check_request_line(struct relay *r, const char *p, size_t len, int *minor)
{
    size_t i = 0, m;
    while (i < len && i < 32 && is_tchar((unsigned char)p[i]))
        i++;
    if (i == 0 || i >= len || p[i] != ' ')
        goto bad;
    m = ++i;
    while (i < len && (unsigned char)p[i] > 0x20 && p[i] != 0x7f)
        i++;
    if (i == m || i >= len || p[i] != ' ')
        goto bad;
    const char *v = p + i + 1;
    size_t vlen = len - i - 1;
    if (vlen != 8 || memcmp(v, "HTTP/", 5) != 0 || v[6] != '.' || v[5] < '0' || v[5] > '9' ||
        v[7] < '0' || v[7] > '9')
        goto bad;
    if (v[5] != '1') {
        refuse(r, 505, "EHTTPVERSION", "HTTP version not supported",
               "this service speaks HTTP/1.0 and HTTP/1.1");
        return -1;
    }
    *minor = v[7] - '0';
    return 0;
bad:
    refuse(r, 400, "EINVAL", "invalid input",
           "the request line is not METHOD TARGET HTTP/1.1 with single spaces");
    return -1;
}

struct framing {
    int hosts, chunked, has_length, bad;
    uint64_t length;
};

static void check_header(struct relay *r, const char *p, size_t len, struct framing *fr)
{
    size_t i = 0;
    while (i < len && is_tchar((unsigned char)p[i]))
        i++;
    if (i == 0 || i >= len || p[i] != ':') {
        refuse(r, 400, "EINVAL", "invalid input", "a header line is not NAME: VALUE");
        fr->bad = 1;
        return;
    }
    size_t nlen = i++, vs, ve = len;
    for (size_t k = i; k < len; k++)
        if (((unsigned char)p[k] < 0x20 && p[k] != '\t') || p[k] == 0x7f) {
            refuse(r, 400, "EINVAL", "invalid input", "a header value has a control character");
            fr->bad = 1;
            return;
        }
    while (i < len && (p[i] == ' ' || p[i] == '\t'))
        i++;
    vs = i;
    while (ve > vs && (p[ve - 1] == ' ' || p[ve - 1] == '\t'))
        ve--;
    if (nlen == 4 && strncasecmp(p, "host", 4) == 0) {
        fr->hosts++;
    } else if (nlen == 14 && strncasecmp(p, "content-length", 14) == 0) {
        uint64_t v = 0;
        size_t k = vs;
        for (; k < ve && k - vs < 18 && p[k] >= '0' && p[k] <= '9'; k++)
            v = v * 10 + (uint64_t)(p[k] - '0');
        if (k == vs || k != ve || (fr->has_length && fr->length != v)) {
            refuse(r, 400, "EINVAL", "invalid input",
                   "Content-Length is one decimal number of at most 18 digits");
            fr->bad = 1;
            return;
        }
        fr->has_length = 1;
        fr->length = v;
    } else if (nlen == 17 && strncasecmp(p, "transfer-encoding", 17) == 0) {
        if (fr->chunked || ve - vs != 7 || strncasecmp(p + vs, "chunked", 7) != 0) {
            refuse(r, 400, "EINVAL", "invalid input",
                   "the only Transfer-Encoding taken is chunked");
            fr->bad = 1;
            return;
        }
        fr->chunked = 1;
    }
}

/* Checks a whole head (len bytes, ending with its empty line) and sets the body's framing. */
static int check_head(struct relay *r, const char *p, size_t len)
{
    struct framing fr = {0};
    size_t term, n = line_len(p, len, &term);
    int minor;
    if (n > LINE_MAX_BYTES) {
        refuse(r, 414, "ETOOBIG", "URI too long", "the request line is longer than 8 KiB");
        return -1;
    }
    if (check_request_line(r, p, n, &minor) != 0)
        return -1;
    for (size_t at = n + term; at < len && !fr.bad;) {
        n = line_len(p + at, len - at, &term);
        if (n == 0)
            break; /* the empty line that ends the head */
        if (p[at] == ' ' || p[at] == '\t') {
            refuse(r, 400, "EINVAL", "invalid input", "folded header lines are not taken");
            return -1;
        }
        check_header(r, p + at, n, &fr);
        at += n + term;
    }
    if (fr.bad)
        return -1;
    if (minor >= 1 && fr.hosts != 1) {
        refuse(r, 400, "EINVAL", "invalid input", "an HTTP/1.1 request has one Host header");
        return -1;
    }
    if (fr.chunked && (fr.has_length || minor == 0)) {
        refuse(r, 400, "EINVAL", "invalid input",
               "chunked is for HTTP/1.1 requests without Content-Length");
        return -1;
    }
    r->st = fr.chunked ? IN_CHUNK_SIZE : fr.length ? IN_BODY : IN_HEAD;
    r->remaining = fr.length;
    return 0;
}

/* The end of the head at p (after its empty line), or 0 while it is not all here. The bytes
 * before `from` were looked at already: a head that comes a byte at a time costs no more. */
static size_t head_end(const char *p, size_t n, size_t from)
{
    for (size_t i = from > 2 ? from - 2 : 0; i + 1 < n; i++)
        if (p[i] == '\n' &&
            (p[i + 1] == '\n' || (p[i + 1] == '\r' && i + 2 < n && p[i + 2] == '\n')))
            return i + (p[i + 1] == '\n' ? 2 : 3);
    return 0;
}

static int take_head(struct relay *r, char *p, size_t n)
{
    if (p[0] == '\r' || p[0] == '\n') { /* empty lines before a request are skipped */
        memmove(p, p + 1, n - 1);
        r->in_len--;
        r->head_seen = 0;
        return 1;
    }
    size_t end = head_end(p, n, r->head_seen);
    r->head_seen = n;
    if (end == 0 || end > HEAD_MAX) {
        size_t scan = n < LINE_MAX_BYTES + 1 ? n : LINE_MAX_BYTES + 1;
        if (n > LINE_MAX_BYTES && !memchr(p, '\n', scan))
            refuse(r, 414, "ETOOBIG", "URI too long", "the request line is longer than 8 KiB");
        else if (n > HEAD_MAX)
            refuse(r, 431, "ETOOBIG", "Request header fields too large",
                   "the request's headers are larger than 16 KiB");
        return 0;
    }
    if (check_head(r, p, end) != 0)
        return 0;
    r->in_ok += end;
    r->head_seen = 0;
    return 1;
}

/* A chunk-size line, the CR LF after a chunk, or a trailer line. */
static int take_chunk_line(struct relay *r, const char *p, size_t n)
{
    size_t term, len = line_len(p, n, &term);
    if (term == 0) {
        if (n > CHUNK_LINE_MAX)
            refuse(r, 400, "EINVAL", "invalid input", "a chunk line is longer than 1 KiB");
        return 0;
    }
    if (r->st == IN_CHUNK_END) {
        if (len != 0)
            refuse(r, 400, "EINVAL", "invalid input", "a chunk does not end where its size says");
        r->st = IN_CHUNK_SIZE;
    } else if (r->st == IN_TRAILER) {
        r->st = len == 0 ? IN_HEAD : IN_TRAILER;
    } else {
        uint64_t v = 0;
        size_t k = 0;
        for (; k < len && k < 15 && p[k] && strchr("0123456789abcdefABCDEF", p[k]); k++)
            v = v * 16 + (uint64_t)(p[k] <= '9' ? p[k] - '0' : (p[k] | 0x20) - 'a' + 10);
        if (k == 0 || (k < len && p[k] != ';' && p[k] != ' ' && p[k] != '\t')) {
            refuse(r, 400, "EINVAL", "invalid input", "a chunk size is not a hexadecimal number");
            return 0;
        }
        r->remaining = v;
        r->st = v ? IN_CHUNK_DATA : IN_TRAILER;
    }
    if (r->refused)
        return 0;
    r->in_ok += len + term;
    return 1;
}

/* Reads the framing of what came from the client as far as it goes. */
static void advance(struct relay *r)
{
    while (!r->refused && r->in_ok < r->in_len) {
        char *p = r->in + r->in_ok;
        size_t n = r->in_len - r->in_ok;
        int more;
        if (r->st == IN_HEAD) {
            more = take_head(r, p, n);
        } else if (r->st == IN_BODY || r->st == IN_CHUNK_DATA) {
            size_t take = n < r->remaining ? n : (size_t)r->remaining;
            r->in_ok += take;
            r->remaining -= take;
            if (r->remaining == 0)
                r->st = r->st == IN_BODY ? IN_HEAD : IN_CHUNK_END;
            more = 1;
        } else {
            more = take_chunk_line(r, p, n);
        }
        if (!more)
            return;
    }
}

/* What a TLS call that did not move bytes means: -1 with errno EAGAIN (tls_wants says for what),
 * 0 when the client closed, -1 with EIO on failure. */
static ssize_t tls_result(struct relay *r, int k)
{
    switch (SSL_get_error(r->ssl, k)) {
    case SSL_ERROR_WANT_READ:
        r->tls_wants = EPOLLIN;
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_WANT_WRITE:
        r->tls_wants = EPOLLOUT;
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    default:
        errno = EIO;
        return -1;
    }
}

/* recv() and send() on the client's socket, through TLS when it is on. */
static ssize_t client_recv(struct relay *r, char *buf, size_t n)
{
    if (!r->ssl)
        return recv(r->client, buf, n, 0);
    ERR_clear_error();
    r->tls_wants = 0;
    int k = SSL_read(r->ssl, buf, n > INT_MAX ? INT_MAX : (int)n);
    return k > 0 ? k : tls_result(r, k);
}

static ssize_t client_send(struct relay *r, const char *buf, size_t n)
{
    if (!r->ssl)
        return send(r->client, buf, n, MSG_NOSIGNAL);
    ERR_clear_error();
    r->tls_wants = 0;
    int k = SSL_write(r->ssl, buf, n > INT_MAX ? INT_MAX : (int)n);
    if (k > 0)
        return k;
    ssize_t v = tls_result(r, k);
    if (v == 0)
        errno = EPIPE;
    return v == 0 ? -1 : v;
}

/* Builds the refusal (the problem document, then the connection closes) as the reply still to
 * send; the loop sends it as the client takes it. Returns -1 when there is nothing to send. */
static int queue_refusal(struct relay *r)
{
    struct api_response resp = {0};
    if (r->refused == 400)
        api_problem(PATRON_EINVAL, r->detail, NULL, &resp);
    else
        api_problem_http(r->refused, r->refused == 505 ? "ehttpversion" : "etoobig", r->title,
                         r->code, r->detail, &resp);
    if (!resp.body)
        return -1;
    int n = snprintf(r->out, sizeof r->out,
                     "HTTP/1.1 %d %s\r\nContent-Type: application/problem+json\r\n"
                     "Content-Length: %zu\r\nCache-Control: no-store\r\nConnection: close\r\n"
                     "\r\n%s",
                     r->refused, r->title, resp.len, resp.body);
    api_response_cleanup(&resp);
    if (n < 0 || (size_t)n >= sizeof r->out)
        return -1;
    r->out_len = (size_t)n;
    return 0;
}

static void refusal_sent(const struct relay *r)
{
    api_metrics_request(-1, r->refused, 0);
    api_log("event=request method=- route=unmatched status=%d ms=0 till=0 error=%s", r->refused,
            r->code);
}

/* Passes the checked bytes to libmicrohttpd: tried as soon as there are some, the loop waits
 * for the socket pair only once it is full. Returns 1 when libmicrohttpd's side is gone. */
static int pass_in(struct relay *r)
{
    size_t want = r->in_ok;
    ssize_t k = send(r->inner, r->in, want, MSG_NOSIGNAL);
    if (k < 0 && errno != EAGAIN && errno != EINTR)
        return 1;
    r->inner_full = k < 0 ? errno == EAGAIN : (size_t)k < want;
    if (k > 0) {
        memmove(r->in, r->in + k, r->in_len - (size_t)k);
        r->in_len -= (size_t)k;
        r->in_ok -= (size_t)k;
        advance(r); /* room again for a head that did not fit */
    }
    return 0;
}

/* Passes the reply to the client, likewise. Returns 1 when the client is gone. */
static int pass_out(struct relay *r)
{
    size_t want = r->out_len;
    ssize_t k = client_send(r, r->out, want);
    if (k < 0 && errno != EAGAIN && errno != EINTR)
        return 1;
    r->client_full = k < 0 ? errno == EAGAIN : (size_t)k < want;
    if (k > 0) {
        memmove(r->out, r->out + k, r->out_len - (size_t)k);
        r->out_len -= (size_t)k;
    }
    return 0;
}

static int reading(const struct relay *r)
{
    return !r->client_eof && !r->refused && r->in_len < RELAY_IN;
}

/* One step of a relay once a socket is ready (rev: what epoll said of the client's and of
 * libmicrohttpd's side): moves what can move. A request read from the client is passed on in
 * the same step, and a reply read from libmicrohttpd is sent at once. Returns 0 to go on, 1
 * when done. */
static int relay_step(struct relay *r, const uint32_t rev[2])
{
    ssize_t k;
    /* TLS may hold bytes already read from the socket, or wait the other way: it is asked
     * whatever epoll said. */
    int client_ready = r->ssl || (rev[0] & (EPOLLIN | EPOLLOUT | EPOLLHUP | EPOLLERR));
    if (rev[0] & EPOLLOUT)
        r->client_full = 0;
    if (rev[1] & EPOLLOUT)
        r->inner_full = 0;
    if (client_ready && reading(r)) {
        k = client_recv(r, r->in + r->in_len, RELAY_IN - r->in_len);
        if (k > 0) {
            r->in_len += (size_t)k;
            advance(r);
        } else if (k == 0 || (errno != EAGAIN && errno != EINTR)) {
            r->client_eof = 1;
        }
    }
    while (r->in_ok > 0 && !r->inner_full) /* again when what was sent made room for a head */
        if (pass_in(r))
            return 1;
    if ((rev[1] & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !r->inner_eof && r->out_len < RELAY_OUT) {
        k = recv(r->inner, r->out + r->out_len, RELAY_OUT - r->out_len, 0);
        if (k > 0)
            r->out_len += (size_t)k;
        else if (k == 0 || (errno != EAGAIN && errno != EINTR))
            r->inner_eof = 1;
    }
    if (r->out_len > 0 && (r->ssl || !r->client_full) && pass_out(r))
        return 1;
    /* Nothing more to pass on: libmicrohttpd answers what it has, then sees the end. */
    if ((r->client_eof || r->refused) && r->in_ok == 0 && !r->inner_shut) {
        shutdown(r->inner, SHUT_WR);
        r->inner_shut = 1;
    }
    return r->inner_eof && r->out_len == 0;
}

/* The TLS handshake's next step. Returns 0 when done, 1 while it waits, -1 when it failed. */
static int handshake_step(struct relay *r)
{
    ERR_clear_error();
    int k = SSL_accept(r->ssl);
    if (k == 1)
        return 0;
    if (tls_result(r, k) == -1 && errno == EAGAIN)
        return 1;
    const char *why = ERR_reason_error_string(ERR_peek_last_error());
    api_log("event=tls_refused reason=\"%s\"", why ? why : "closed");
    return -1;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* What each socket of a relay waits for: the client's [0] and libmicrohttpd's [1]. A side that
 * is gone (libmicrohttpd's after its end, the client's after it hung up) waits for nothing and
 * is taken out of the loop, which would otherwise hear of its hang-up again and again. */
static void relay_wants(const struct relay *r, uint32_t ev[2])
{
    ev[0] = ev[1] = 0;
    if (r->phase == PHASE_HANDSHAKE) {
        ev[0] = r->tls_wants ? (uint32_t)r->tls_wants : EPOLLIN;
        ev[1] = EPOLLIN; /* the guard closing libmicrohttpd's side ends the handshake */
    } else if (r->phase == PHASE_REFUSAL) {
        ev[0] = r->tls_wants ? (uint32_t)r->tls_wants : EPOLLOUT;
    } else {
        if (reading(r))
            ev[0] |= EPOLLIN;
        if (r->out_len > 0 && r->client_full)
            ev[0] |= EPOLLOUT;
        if (reading(r) || r->out_len > 0) /* what TLS asked for, while it is asked anything */
            ev[0] |= (uint32_t)r->tls_wants;
        if (!r->inner_eof && r->out_len < RELAY_OUT)
            ev[1] |= EPOLLIN;
        if (r->in_ok > 0 && r->inner_full)
            ev[1] |= EPOLLOUT;
    }
}

/* Tells epoll what the relay's sockets now wait for, only where that changed. */
static void relay_watch(struct relay *r)
{
    uint32_t ev[2];
    relay_wants(r, ev);
    int gone[2] = {r->client_hung_up, r->inner_eof};
    int fds[2] = {r->client, r->inner};
    for (int side = 0; side < 2; side++) {
        if (gone[side]) {
            if (r->watched[side])
                epoll_ctl(r->f->epoll_fd, EPOLL_CTL_DEL, fds[side], NULL);
            r->watched[side] = 0;
            continue;
        }
        if (r->watched[side] && r->events[side] == ev[side])
            continue;
        struct epoll_event e = {.events = ev[side], .data.ptr = &r->sides[side]};
        int op = r->watched[side] ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
        if (epoll_ctl(r->f->epoll_fd, op, fds[side], &e) == 0) {
            r->watched[side] = 1;
            r->events[side] = ev[side];
        }
    }
}

/* Ends a relay: its sockets are closed at once (so epoll forgets them), its memory once the
 * loop is through the events it already holds, which may name it. */
static void relay_end(struct relay *r, struct relay **dead)
{
    struct api_front *f = r->f;
    if (r->ssl) {
        if (r->phase != PHASE_HANDSHAKE)
            SSL_shutdown(r->ssl); /* one try: the close_notify, if the socket takes it */
        SSL_free(r->ssl);
        r->ssl = NULL;
    }
    close(r->inner);
    pthread_mutex_lock(&f->lock);
    if (r->prev)
        r->prev->next = r->next;
    else
        f->relays = r->next;
    if (r->next)
        r->next->prev = r->prev;
    f->n_relays--;
    close(r->client); /* under the lock: the stop never shuts down a closed socket */
    pthread_cond_broadcast(&f->gone);
    pthread_mutex_unlock(&f->lock);
    r->dead = 1;
    r->loop_next = *dead;
    *dead = r;
}

/* The refusal's turn: sent as the client takes it, then the connection closes. Returns 1
 * when done. */
static int refusal_step(struct relay *r)
{
    if (pass_out(r))
        return 1;
    if (r->out_len == 0) {
        refusal_sent(r);
        return 1;
    }
    return 0;
}

/* A socket of the relay is ready: the relay moves as far as it can. */
static void relay_ready(struct relay *r, int side, uint32_t events, struct relay **dead)
{
    uint32_t rev[2] = {0, 0};
    rev[side] = events;
    if (side == 0 && (events & (EPOLLHUP | EPOLLERR)))
        r->client_hung_up = 1; /* nothing more comes; a reply still fails on its own */
    if (r->phase != PHASE_REFUSAL)
        r->deadline_ms = now_ms() + r->f->idle_ms;
    int done = 0;
    if (r->phase == PHASE_HANDSHAKE) {
        int k = side == 1 ? -1 : handshake_step(r);
        if (k < 0)
            done = 1;
        else if (k == 0)
            r->phase = PHASE_RELAY;
        rev[0] = rev[1] = 0; /* the step after the handshake asks TLS itself */
    }
    if (r->phase == PHASE_RELAY && !done) {
        /* TLS may hold more than the step took, which epoll cannot see: steps again */
        while (!(done = relay_step(r, rev)) && r->ssl && reading(r) && SSL_pending(r->ssl) > 0)
            rev[0] = rev[1] = 0;
        if (done && r->refused && r->inner_eof && queue_refusal(r) == 0) {
            r->phase = PHASE_REFUSAL;
            r->deadline_ms = now_ms() + PROBLEM_WRITE_MS;
            done = refusal_step(r);
        }
    } else if (r->phase == PHASE_REFUSAL && !done) {
        done = refusal_step(r);
    }
    if (done)
        relay_end(r, dead);
    else
        relay_watch(r);
}

/* Ends every relay whose client has neither sent nor read within its time. */
static void sweep_idle(struct api_front *f, struct relay **dead)
{
    struct relay *expired = NULL;
    uint64_t now = now_ms();
    pthread_mutex_lock(&f->lock);
    for (struct relay *r = f->relays; r; r = r->next)
        if (r->taken && now >= r->deadline_ms) {
            r->loop_next = expired;
            expired = r;
        }
    pthread_mutex_unlock(&f->lock);
    while (expired) {
        struct relay *r = expired;
        expired = r->loop_next; /* before relay_end puts r on the ended list */
        relay_end(r, dead);
    }
}

/* Takes the connections the front accepted since the last turn into the loop. */
static void take_arrivals(struct api_front *f)
{
    uint64_t ticks;
    (void)!read(f->wake_fd, &ticks, sizeof ticks);
    pthread_mutex_lock(&f->lock);
    struct relay *r = f->arrivals;
    f->arrivals = NULL;
    pthread_mutex_unlock(&f->lock);
    while (r) {
        struct relay *next = r->arrival_next;
        r->taken = 1;
        relay_watch(r);
        r = next;
    }
}

/* The relay thread: one epoll loop moves every connection's bytes, so a batch of replies costs
 * it one wake-up, not one a connection; a slow or silent client waits in the loop without
 * holding anyone else. */
static void *relay_main(void *arg)
{
    struct api_front *f = arg;
    pthread_setname_np(pthread_self(), "relay"); /* as ps, top and perf show it */
    struct epoll_event evs[LOOP_EVENTS];
    uint64_t next_sweep = now_ms() + SWEEP_MS;
    for (int stopping = 0; !stopping;) {
        int n = epoll_wait(f->epoll_fd, evs, LOOP_EVENTS, SWEEP_MS);
        struct relay *dead = NULL;
        for (int i = 0; i < n; i++) {
            struct relay_side *ready = evs[i].data.ptr;
            if (!ready) { /* the eventfd: arrivals, or the stop */
                stopping = atomic_load(&f->loop_stopping);
                if (!stopping)
                    take_arrivals(f);
            } else if (!ready->r->dead) {
                relay_ready(ready->r, ready->side, evs[i].events, &dead);
            }
        }
        if (now_ms() >= next_sweep) {
            sweep_idle(f, &dead);
            next_sweep = now_ms() + SWEEP_MS;
        }
        while (dead) {
            struct relay *r = dead;
            dead = r->loop_next;
            free(r);
        }
    }
    if (f->tls)
        OPENSSL_thread_stop(); /* the loop's OpenSSL state goes with it */
    return NULL;
}

/* Every slot taken, by requests in hand (the guard has cut every waiting connection): the
 * client is told so, on plain HTTP, in one try, and the connection closes. */
static void refuse_busy(struct api_front *f, int client)
{
    struct api_response resp = {0};
    char msg[512];
    if (!f->tls && api_problem_http(503, "ebusy", "Service busy", "EBUSY",
                                    "every connection is taken; retry shortly", &resp) == 0) {
        int n = snprintf(msg, sizeof msg,
                         "HTTP/1.1 503 Service busy\r\nContent-Type: application/problem+json\r\n"
                         "Content-Length: %zu\r\nRetry-After: 1\r\nConnection: close\r\n\r\n%s",
                         resp.len, resp.body);
        if (n > 0 && (size_t)n < sizeof msg)
            (void)!send(client, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
        api_metrics_request(-1, 503, 0);
    }
    api_response_cleanup(&resp);
    api_log("event=connection_refused reason=slots_full");
    close(client);
}

static void start_relay(struct api_front *f, int client, const struct sockaddr *addr,
                        socklen_t addrlen)
{
    int sp[2];
    struct relay *r;
    /* The front keeps the connection cap itself: libmicrohttpd, told of connections from
     * outside, is given a cap it never reaches. */
    pthread_mutex_lock(&f->lock);
    int full = f->n_relays >= f->max_relays;
    pthread_mutex_unlock(&f->lock);
    if (full) {
        refuse_busy(f, client);
        return;
    }
    r = calloc(1, sizeof *r);
    if (!r || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0) {
        free(r);
        close(client);
        return;
    }
    r->f = f;
    r->client = client;
    r->inner = sp[0];
    r->sides[0] = (struct relay_side){r, 0};
    r->sides[1] = (struct relay_side){r, 1};
    r->phase = f->tls ? PHASE_HANDSHAKE : PHASE_RELAY;
    r->deadline_ms = now_ms() + f->idle_ms;
    if (f->tls && (!(r->ssl = SSL_new(f->tls)) || SSL_set_fd(r->ssl, client) != 1)) {
        SSL_free(r->ssl);
        close(sp[0]);
        close(sp[1]);
        close(client);
        free(r);
        return;
    }
    fcntl(client, F_SETFL, fcntl(client, F_GETFL) | O_NONBLOCK);
    fcntl(sp[0], F_SETFL, fcntl(sp[0], F_GETFL) | O_NONBLOCK);
    /* libmicrohttpd takes sp[1] (and closes it when it refuses it). */
    if (MHD_add_connection(f->daemon, sp[1], addr, addrlen) != MHD_YES) {
        SSL_free(r->ssl);
        close(sp[0]);
        close(client);
        free(r);
        return;
    }
    /* The loop takes the relay in at its next turn, and alone speaks to epoll of it. */
    pthread_mutex_lock(&f->lock);
    r->next = f->relays;
    if (f->relays)
        f->relays->prev = r;
    f->relays = r;
    f->n_relays++;
    r->arrival_next = f->arrivals;
    f->arrivals = r;
    pthread_mutex_unlock(&f->lock);
    uint64_t one = 1;
    (void)!write(f->wake_fd, &one, sizeof one);
}

static void *accept_main(void *arg)
{
    struct api_front *f = arg;
    pthread_setname_np(pthread_self(), "front");
    while (!atomic_load(&f->stopping)) {
        struct sockaddr_storage addr;
        socklen_t len = sizeof addr;
        int fd = accept4(f->listen_fd, (struct sockaddr *)&addr, &len, SOCK_CLOEXEC);
        if (fd >= 0) {
            start_relay(f, fd, (struct sockaddr *)&addr, len);
            continue;
        }
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
            usleep(10 * 1000); /* out of descriptors: let connections close */
        else if (errno != EINTR && errno != ECONNABORTED && errno != EAGAIN && errno != EPROTO &&
                 !atomic_load(&f->stopping))
            api_log("event=accept_failed errno=%d", errno);
    }
    return NULL;
}

/* Loads the certificate (with its chain) and the key, both PEM text. */
static int tls_load(SSL_CTX *ctx, const char *cert, const char *key)
{
    BIO *b = BIO_new_mem_buf(cert, -1);
    X509 *x = b ? PEM_read_bio_X509_AUX(b, NULL, NULL, NULL) : NULL;
    int ok = x && SSL_CTX_use_certificate(ctx, x) == 1;
    X509_free(x);
    while (ok && (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
        if (!(ok = SSL_CTX_add0_chain_cert(ctx, x) == 1))
            X509_free(x);
    BIO_free(b);
    ERR_clear_error(); /* the end of the chain reads as an error */
    b = ok ? BIO_new_mem_buf(key, -1) : NULL;
    EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
    ok = k && SSL_CTX_use_PrivateKey(ctx, k) == 1 && SSL_CTX_check_private_key(ctx) == 1;
    EVP_PKEY_free(k);
    BIO_free(b);
    return ok ? 0 : -1;
}

int api_front_tls_new(const char *cert, const char *key, struct ssl_ctx_st **out)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx)
        return PATRON_ECRYPTO;
    /* TLS 1.3's suites are all AEAD with forward secrecy; for 1.2 the same is asked. */
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20") != 1 ||
        tls_load(ctx, cert, key) != 0) {
        SSL_CTX_free(ctx);
        return PATRON_EINVAL;
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                 SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    *out = ctx;
    return 0;
}

void api_front_tls_free(struct ssl_ctx_st *ctx)
{
    SSL_CTX_free(ctx);
}

/* The relay loop's epoll, with the eventfd that rings it, and its thread. */
static int loop_start(struct api_front *f)
{
    f->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    f->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    struct epoll_event e = {.events = EPOLLIN, .data.ptr = NULL};
    int err = f->epoll_fd < 0 || f->wake_fd < 0 ? errno
              : epoll_ctl(f->epoll_fd, EPOLL_CTL_ADD, f->wake_fd, &e) != 0
                  ? errno
                  : pthread_create(&f->loop, NULL, relay_main, f);
    if (err != 0) {
        if (f->epoll_fd >= 0)
            close(f->epoll_fd);
        if (f->wake_fd >= 0)
            close(f->wake_fd);
    }
    return err;
}

static void loop_stop(struct api_front *f)
{
    uint64_t one = 1;
    atomic_store(&f->loop_stopping, 1);
    (void)!write(f->wake_fd, &one, sizeof one);
    pthread_join(f->loop, NULL);
    close(f->epoll_fd);
    close(f->wake_fd);
}

int api_front_start(struct MHD_Daemon *daemon, int listen_fd, unsigned max_connections,
                    unsigned idle_s, struct ssl_ctx_st *tls, struct api_front **out)
{
    struct api_front *f = calloc(1, sizeof *f);
    if (!f)
        return PATRON_ENOMEM;
    f->daemon = daemon;
    f->tls = tls;
    f->listen_fd = listen_fd;
    f->idle_ms = (idle_s ? idle_s : 1) * 1000u + 5000u;
    f->max_relays = max_connections ? max_connections : 1;
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->gone, NULL);
    int err = loop_start(f);
    if (err == 0 && (err = pthread_create(&f->thread, NULL, accept_main, f)) != 0)
        loop_stop(f);
    if (err != 0) {
        pthread_cond_destroy(&f->gone);
        pthread_mutex_destroy(&f->lock);
        free(f);
        return -err;
    }
    f->started = 1;
    *out = f;
    return 0;
}

void api_front_quiesce(struct api_front *f)
{
    if (!f || !f->started)
        return;
    atomic_store(&f->stopping, 1);
    shutdown(f->listen_fd, SHUT_RDWR); /* wakes accept() */
    pthread_join(f->thread, NULL);
    f->started = 0;
}

void api_front_stop(struct api_front *f)
{
    if (!f)
        return;
    api_front_quiesce(f);
    pthread_mutex_lock(&f->lock);
    for (struct relay *r = f->relays; r; r = r->next)
        shutdown(r->client, SHUT_RDWR);
    while (f->relays)
        pthread_cond_wait(&f->gone, &f->lock);
    pthread_mutex_unlock(&f->lock);
    loop_stop(f);
    pthread_cond_destroy(&f->gone);
    pthread_mutex_destroy(&f->lock);
    free(f);
}
