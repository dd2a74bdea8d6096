/* SPDX-License-Identifier: MIT */
/* The print queue against the emulated USB printer (the project's real libusb code under
 * umockdev): a coupon is queued with its redemption; paper end, cover open, an unplugged or
 * stuck printer and a busy one each leave the job queued with its reason; after recovery it
 * prints exactly once; a reprint says REPRINT. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "backend_internal.h"
#include "testutil.h"
#include "usb_printer_emu.h"

struct fx {
    struct test_store t;
    usbemu *emu;
    usbemu_printer *dev;
    patron_printer *printer;
    char card[14];
    char token[244];
    int64_t job;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    struct patron_reward_def d = {"Free coffee", 50, PATRON_VALUE_ITEM, 1001, 14};
    struct patron_sale_result s;
    struct patron_redeem_result r;
    int64_t reward_id;
    assert_non_null(f);
    test_store_open(&f->t);
    test_enroll(&f->t, "Ada Lovelace", f->card);
    struct patron_sale sale = {
        .card = f->card, .ref = "S1", .total_minor = 20000, .idempotency_key = "S1"};
    assert_int_equal(patron_sale_record(f->t.s, &sale, &s), 0);
    assert_int_equal(patron_reward_add(f->t.s, &d, &reward_id), 0);
    struct patron_redeem_request req = {f->card, reward_id, "R1"};
    assert_int_equal(patron_reward_redeem(f->t.s, &req, &r), 0);
    assert_true(r.print_job > 0);
    f->job = r.print_job;
    memcpy(f->token, r.token, sizeof f->token);
    f->emu = usbemu_new();
    assert_non_null(f->emu);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    patron_printer_close(f->printer);
    usbemu_free(f->emu);
    test_store_close(&f->t);
    free(f);
    return 0;
}

static void plug(struct fx *f, unsigned status, unsigned faults)
{
    struct usbemu_printer_config cfg = {.status = status, .faults = faults};
    assert_int_equal(usbemu_add_printer(f->emu, &cfg, &f->dev), 0);
}

static int open_printer(struct fx *f)
{
    char detail[256];
    patron_printer_close(f->printer);
    f->printer = NULL;
    int err = patron_printer_open("usb", 384, &f->printer, detail, sizeof detail);
    if (err == 0)
        assert_int_equal(patron__usb_set_timeouts(f->printer, 1000, 200), 0);
    return err;
}

static struct patron_print_run_result run(struct fx *f)
{
    struct patron_print_run_result r;
    const struct patron_escpos_profile *profile = patron_escpos_profile_find("generic-80");
    assert_non_null(profile);
    assert_int_equal(patron_print_run(f->t.s, f->printer, profile, NULL, &r), 0);
    return r;
}

/* How many times the token went out inside a native QR store command. */
static int tokens_received(struct fx *f)
{
    static uint8_t buf[1 << 20];
    size_t n = usbemu_printer_received(f->dev, buf, sizeof buf);
    int count = 0;
    for (size_t i = 0; i + 243 <= n; i++)
        if (memcmp(buf + i, f->token, 243) == 0)
            count++;
    return count;
}

static int contains(struct fx *f, const char *text)
{
    static uint8_t buf[1 << 20];
    size_t n = usbemu_printer_received(f->dev, buf, sizeof buf), k = strlen(text);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(buf + i, text, k) == 0)
            return 1;
    return 0;
}

static void assert_job(struct fx *f, enum patron_print_status status, const char *reason)
{
    struct patron_print_job j;
    assert_int_equal(patron_print_get(f->t.s, f->job, &j), 0);
    assert_int_equal(j.status, status);
    if (reason && !strstr(j.last_error, reason))
        fail_msg("job's reason '%s' does not say '%s'", j.last_error, reason);
}

/* The failure, then recovery after the back-off: printed exactly once. */
static void recover_and_print_once(struct fx *f)
{
    struct patron_print_run_result r = run(f);
    assert_int_equal(r.printed, 0); /* not due yet: the back-off holds it */
    f->t.now += 11;
    r = run(f);
    assert_int_equal(r.last_error, 0);
    assert_int_equal(r.printed, 1);
    assert_int_equal(r.pending, 0);
    assert_job(f, PATRON_PRINT_PRINTED, NULL);
    assert_int_equal(tokens_received(f), 1);
    r = run(f);
    assert_int_equal(r.printed, 0);
    assert_int_equal(tokens_received(f), 1); /* nothing prints twice unless asked */
}

static void prints_a_queued_coupon(void **state)
{
    struct fx *f = *state;
    plug(f, 0, 0);
    assert_int_equal(open_printer(f), 0);
    assert_job(f, PATRON_PRINT_QUEUED, NULL);
    struct patron_print_run_result r = run(f);
    assert_int_equal(r.printed, 1);
    assert_int_equal(tokens_received(f), 1);
    assert_job(f, PATRON_PRINT_PRINTED, NULL);
}

static void paper_end_keeps_the_job(void **state)
{
    struct fx *f = *state;
    plug(f, USBEMU_PAPER_END, 0);
    assert_int_equal(open_printer(f), 0);
    struct patron_print_run_result r = run(f);
    assert_int_equal(r.last_error, PATRON_EPAPER);
    assert_int_equal(r.pending, 1);
    assert_job(f, PATRON_PRINT_QUEUED, "paper");
    assert_int_equal(tokens_received(f), 0);
    usbemu_printer_set_status(f->dev, 0); /* paper loaded */
    recover_and_print_once(f);
}

static void cover_open_keeps_the_job(void **state)
{
    struct fx *f = *state;
    plug(f, USBEMU_COVER_OPEN, 0);
    assert_int_equal(open_printer(f), 0);
    struct patron_print_run_result r = run(f);
    assert_int_equal(r.last_error, PATRON_ECOVER);
    assert_job(f, PATRON_PRINT_QUEUED, "cover");
    usbemu_printer_set_status(f->dev, 0);
    recover_and_print_once(f);
}

static void stuck_printer_times_out_and_keeps_the_job(void **state)
{
    struct fx *f = *state;
    plug(f, 0, USBEMU_FAULT_HANG_OUT);
    assert_int_equal(open_printer(f), 0);
    struct patron_print_run_result r = run(f);
    assert_int_equal(r.last_error, PATRON_ETIMEOUT);
    assert_job(f, PATRON_PRINT_QUEUED, NULL);
    usbemu_printer_set_faults(f->dev, 0);
    usbemu_printer_clear(f->dev);
    recover_and_print_once(f);
}

static void unplugged_mid_job_keeps_the_job(void **state)
{
    struct fx *f = *state;
    plug(f, 0, 0);
    usbemu_printer_set_unplug_after(f->dev, 40);
    assert_int_equal(open_printer(f), 0);
    struct patron_print_run_result r = run(f);
    assert_int_equal(r.last_error, PATRON_EDEVICE);
    assert_job(f, PATRON_PRINT_QUEUED, NULL);
    plug(f, 0, 0); /* plugged in again: a new device */
    assert_int_equal(open_printer(f), 0);
    recover_and_print_once(f);
}

static void busy_printer_is_refused_with_the_fix(void **state)
{
    struct fx *f = *state;
    char detail[256];
    plug(f, 0, USBEMU_FAULT_BUSY);
    assert_int_equal(patron_printer_open("usb", 384, &f->printer, detail, sizeof detail),
                     PATRON_EPRINTBUSY);
    assert_non_null(strstr(detail, "usblp"));
    assert_job(f, PATRON_PRINT_QUEUED, NULL); /* never sent: still queued */
    usbemu_printer_set_faults(f->dev, 0);
    assert_int_equal(open_printer(f), 0);
    struct patron_print_run_result r = run(f);
    assert_int_equal(r.printed, 1);
    assert_int_equal(tokens_received(f), 1);
}

static void reprint_is_marked(void **state)
{
    struct fx *f = *state;
    int64_t again;
    plug(f, 0, 0);
    assert_int_equal(open_printer(f), 0);
    assert_int_equal(run(f).printed, 1);
    assert_false(contains(f, "REPRINT"));
    assert_int_equal(patron_print_reprint(f->t.s, f->job, &again), 0);
    assert_int_equal(run(f).printed, 1);
    assert_int_equal(tokens_received(f), 2);
    assert_true(contains(f, "REPRINT"));
}

/* A crash (power cut, SIGKILL) while a job was going out leaves it SENDING: whether the paper
 * came out is unknown, so it is sent again, marked REPRINT. */
static void job_caught_mid_send_goes_out_again_as_reprint(void **state)
{
    struct fx *f = *state;
    char sql[96];
    snprintf(sql, sizeof sql, "UPDATE print_jobs SET status = 1 WHERE id = %lld",
             (long long)f->job);
    assert_int_equal(sqlite3_exec(patron_store_sqlite(f->t.s), sql, NULL, NULL, NULL), SQLITE_OK);
    plug(f, 0, 0);
    assert_int_equal(open_printer(f), 0);
    struct patron_print_run_result r = run(f);
    assert_int_equal(r.printed, 1);
    assert_int_equal(tokens_received(f), 1);
    assert_true(contains(f, "REPRINT"));
    assert_job(f, PATRON_PRINT_PRINTED, NULL);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(prints_a_queued_coupon),
        T(paper_end_keeps_the_job),
        T(cover_open_keeps_the_job),
        T(stuck_printer_times_out_and_keeps_the_job),
        T(unplugged_mid_job_keeps_the_job),
        T(busy_printer_is_refused_with_the_fix),
        T(reprint_is_marked),
        T(job_caught_mid_send_goes_out_again_as_reprint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
