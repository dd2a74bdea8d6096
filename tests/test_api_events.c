/* SPDX-License-Identifier: MIT */
/* The till's event stream (GET /v1/events) read over HTTP while a serial card scanner, emulated
 * by a pseudo-terminal pair, sends a card, a misread card, garbage and a voucher-sized code:
 * each scan arrives with what Patron did (the member and points, or the sentence why nothing
 * was done), a sale made over HTTP arrives as a `sale`, another till's stream sees none of it,
 * and a till may keep only so many streams open. */
#include "apistream.h"
#include "apiutil.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NOW "2026-03-10T12:00:00Z"
#define WAIT_S APIT_STREAM_WAIT_S

static struct fixture {
    struct api_server sv;
    char cashier[64], other[64];
    char ada[14];
    int pty; /* the scanner's end of the serial line */
} fx;

static void scanner_sends(const char *text)
{
    size_t n = strlen(text);
    assert_int_equal(write(fx.pty, text, n), (ssize_t)n);
}

static int setup(void **state)
{
    (void)state;
    apit_store_new(&fx.sv);
    apit_terminal(&fx.sv, "till-1", "cashier", fx.cashier);
    apit_terminal(&fx.sv, "till-2", "cashier", fx.other);
    json_t *j =
        apit_patron(&fx.sv, "--now", NOW, "member", "enroll", "--name", "Ada", (char *)NULL);
    snprintf(fx.ada, sizeof fx.ada, "%s", apit_jstr(j, "card"));
    json_decref(j);
    json_decref(apit_patron(&fx.sv, "--now", NOW, "--printer", "none", "sale", fx.ada, "--ref",
                            "SEED", "--total", "12400", (char *)NULL));
    fx.pty = posix_openpt(O_RDWR | O_NOCTTY);
    assert_true(fx.pty >= 0);
    assert_int_equal(grantpt(fx.pty), 0);
    assert_int_equal(unlockpt(fx.pty), 0);
    char spec[128];
    snprintf(spec, sizeof spec, "file:%s", ptsname(fx.pty));
    json_decref(apit_patron(&fx.sv, "terminal", "scanner", "till-1", spec, (char *)NULL));
    /* a short idle deadline: the streams must outlive it */
    apit_start(&fx.sv, "--now", NOW, "--printer", "none", "--timeout", "2", (char *)NULL);
    for (time_t end = time(NULL) + WAIT_S;
         !apit_file_has(fx.sv.log, "event=scanner till=till-1 state=open"); apit_nap())
        if (time(NULL) > end)
            fail_msg("the service never opened the serial scanner");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    int status = apit_stop(&fx.sv);
    close(fx.pty);
    test_rmtree(fx.sv.dir);
    return status == 0 ? 0 : -1;
}

static void serial_scans_arrive_with_what_patron_found(void **state)
{
    (void)state;
    struct apit_stream mine, theirs;
    char line[64], voucher[260];
    apit_stream_open(&mine, fx.sv.port, fx.cashier);
    apit_stream_open(&theirs, fx.sv.port, fx.other);
    apit_stream_wait(&mine, ": open");
    apit_stream_wait(&theirs, ": open");
    snprintf(line, sizeof line, "%s\r\n", fx.ada);
    scanner_sends(line);
    apit_stream_wait(&mine, "event: scan");
    apit_stream_wait(&mine, "\"kind\":\"card\"");
    apit_stream_wait(&mine, "\"name\":\"Ada\"");
    apit_stream_wait(&mine, "\"points\":124");
    /* a misread: the last digit wrong */
    snprintf(line, sizeof line, "%.12s%c\r\n", fx.ada, fx.ada[12] == '9' ? '0' : fx.ada[12] + 1);
    scanner_sends(line);
    apit_stream_wait(&mine, "check digit is wrong");
    /* garbage bytes */
    scanner_sends("29\x01\x02\xff"
                  "abc\r\n");
    apit_stream_wait(&mine, "not a barcode");
    /* 243 digits are a voucher's QR: checked, and this one is no voucher of ours */
    memset(voucher, '1', 243);
    snprintf(voucher + 243, sizeof voucher - 243, "\n");
    scanner_sends(voucher);
    apit_stream_wait(&mine, "\"kind\":\"voucher\"");
    /* a sale over HTTP is on the same stream */
    char body[256];
    struct apit_reply r;
    snprintf(body, sizeof body, "{\"card\":\"%s\",\"ref\":\"EV-1\",\"total\":1000}", fx.ada);
    apit_call(fx.sv.port, "POST", "/v1/sales", fx.cashier, "ev-1", body, &r);
    apit_assert_status(&r, 201, NULL);
    apit_reply_free(&r);
    apit_stream_wait(&mine, "event: sale");
    apit_stream_wait(&mine, "\"sale_id\":2");
    /* the other till saw none of it; its stream is alive (the open comment) and empty */
    assert_false(apit_stream_has(&theirs, "event: scan"));
    assert_false(apit_stream_has(&theirs, "event: sale"));
    /* the log names what happened, never the card */
    assert_true(apit_file_has(fx.sv.log, "event=scan till=till-1 kind=card outcome=ok"));
    assert_false(apit_file_has(fx.sv.log, fx.ada));
    apit_stream_close(&mine);
    apit_stream_close(&theirs);
}

static void a_till_keeps_a_bounded_number_of_streams(void **state)
{
    (void)state;
    struct apit_stream st[4];
    struct apit_reply r;
    for (int i = 0; i < 4; i++)
        apit_stream_open_surely(&st[i], fx.sv.port, fx.cashier);
    apit_call(fx.sv.port, "GET", "/v1/events", fx.cashier, NULL, NULL, &r);
    apit_assert_status(&r, 409, "ELIMIT");
    apit_reply_free(&r);
    /* another till is not affected; no token, no stream */
    apit_call(fx.sv.port, "GET", "/v1/events", NULL, NULL, NULL, &r);
    apit_assert_status(&r, 401, NULL);
    apit_reply_free(&r);
    apit_stream_close(&st[0]);
    /* a closed stream frees its place */
    struct apit_stream again;
    apit_stream_open_surely(&again, fx.sv.port, fx.cashier);
    apit_stream_close(&again);
    for (int i = 1; i < 4; i++)
        apit_stream_close(&st[i]);
}

static int count_of(struct apit_stream *st, const char *text)
{
    int n = 0;
    pthread_mutex_lock(&st->lock);
    for (const char *p = st->buf; p && (p = strstr(p, text)); p++)
        n++;
    pthread_mutex_unlock(&st->lock);
    return n;
}

/* The idle deadline (--timeout 2, and the front's idle bound of 2 + 5 s) does not cut a quiet
 * stream: heartbeats keep it alive, and an event long after still arrives on it. */
static void a_quiet_stream_outlives_the_idle_deadline(void **state)
{
    (void)state;
    struct apit_stream st;
    struct apit_reply r;
    char body[256];
    apit_stream_open_surely(&st, fx.sv.port, fx.cashier);
    time_t opened = time(NULL);
    for (time_t end = opened + WAIT_S; time(NULL) < opened + 9 || count_of(&st, ": heartbeat") < 3;
         apit_nap()) {
        if (time(NULL) > end || atomic_load(&st.done))
            fail_msg("the quiet stream was cut (%d heartbeats)", count_of(&st, ": heartbeat"));
    }
    snprintf(body, sizeof body, "{\"card\":\"%s\",\"ref\":\"EV-LATE\",\"total\":500}", fx.ada);
    apit_call(fx.sv.port, "POST", "/v1/sales", fx.cashier, "ev-late", body, &r);
    apit_assert_status(&r, 201, NULL);
    apit_reply_free(&r);
    apit_stream_wait(&st, "event: sale");
    assert_false(atomic_load(&st.done));
    apit_stream_close(&st);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(serial_scans_arrive_with_what_patron_found),
        cmocka_unit_test(a_till_keeps_a_bounded_number_of_streams),
        cmocka_unit_test(a_quiet_stream_outlives_the_idle_deadline),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    curl_global_cleanup();
    return rc;
}
