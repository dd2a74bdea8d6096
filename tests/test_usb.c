/* SPDX-License-Identifier: MIT */
/* USB printing through the real libusb against the emulated printer (umockdev): enumeration,
 * taking the printer from usblp, claiming, endpoints read from the descriptors, byte-exact jobs,
 * DLE EOT status, and the faults a counter meets (unplugged, busy, stuck, silent printers).
 * Runs under the umockdev preload (see patron_add_usb_test in tests/CMakeLists.txt). */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "backend_internal.h"
#include "usb_printer_emu.h"

#define JOB_200K (200 * 1024)

/* What the back-end writes to ask for the status before and after a job. */
static const uint8_t ASK[] = {0x10, 0x04, 0x01, 0x10, 0x04, 0x02, 0x10, 0x04, 0x04};

struct fx {
    usbemu *emu;
    usbemu_printer *p;
    patron_printer *pr;
    char detail[512];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->emu = usbemu_new();
    assert_non_null(f->emu);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    patron_printer_close(f->pr);
    usbemu_free(f->emu);
    free(f);
    return 0;
}

static usbemu_printer *add(struct fx *f, const struct usbemu_printer_config *c)
{
    usbemu_printer *p = NULL;
    assert_int_equal(usbemu_add_printer(f->emu, c, &p), 0);
    f->p = p;
    return p;
}

/* Opens `spec` with short timeouts: the emulated node makes libusb poll busily. */
static void open_ok(struct fx *f, const char *spec)
{
    int r = patron_printer_open(spec, 384, &f->pr, f->detail, sizeof f->detail);
    if (r != 0)
        fail_msg("open %s: %s (%s)", spec, patron_err_name(r), f->detail);
    assert_int_equal(patron__usb_set_timeouts(f->pr, 2000, 200), 0);
}

/* ESC @, a GS v 0 raster of about `len` bytes (deterministic noise with a DLE EOT 2 hidden in
 * it, as real image data can contain), then a feed and a cut. */
static uint8_t *make_job(size_t len, size_t *out_len)
{
    const size_t xbytes = 48; /* 384 dots */
    size_t rows = (len - 16) / xbytes, n = 0;
    uint8_t *j = malloc(32 + rows * xbytes); /* header 10 bytes, tail 7 */
    uint32_t seed = 12345;
    assert_non_null(j);
    const uint8_t head[] = {0x1b,
                            0x40,
                            0x1d,
                            0x76,
                            0x30,
                            0x00,
                            (uint8_t)xbytes,
                            0,
                            (uint8_t)(rows & 0xff),
                            (uint8_t)(rows >> 8)};
    memcpy(j, head, sizeof head);
    n = sizeof head;
    for (size_t i = 0; i < rows * xbytes; i++) {
        seed = seed * 1103515245u + 12345u;
        j[n++] = (uint8_t)(seed >> 16);
    }
    memcpy(j + sizeof head + 1000, "\x10\x04\x02", 3);
    const uint8_t tail[] = {0x0a, 0x1b, 0x64, 0x03, 0x1d, 0x56, 0x01};
    memcpy(j + n, tail, sizeof tail);
    n += sizeof tail;
    *out_len = n;
    return j;
}

/* Asserts the printer received exactly the concatenation of the given parts. */
static void assert_received(usbemu_printer *p, const uint8_t *const *parts, const size_t *lens,
                            size_t nparts)
{
    size_t total = 0, off = 0;
    for (size_t i = 0; i < nparts; i++)
        total += lens[i];
    uint8_t *got = malloc(total + 1);
    assert_non_null(got);
    assert_int_equal(usbemu_printer_received(p, got, total + 1), total);
    for (size_t i = 0; i < nparts; i++) {
        assert_memory_equal(got + off, parts[i], lens[i]);
        off += lens[i];
    }
    free(got);
}

static void print_job_exact(struct fx *f)
{
    size_t len;
    uint8_t *job = make_job(JOB_200K, &len);
    assert_int_equal(patron_printer_send(f->pr, "job-1", job, len, f->detail, sizeof f->detail), 0);
    const uint8_t *parts[] = {ASK, job, ASK};
    const size_t lens[] = {sizeof ASK, len, sizeof ASK};
    assert_received(f->p, parts, lens, 3);
    free(job);
}

/* ---- enumeration ---- */

static void test_list_shows_printers_only(void **state)
{
    struct fx *f = *state;
    struct patron_printer_info info[4];
    size_t n = 99;
    assert_int_equal(usbemu_add_other(f->emu, 0x046d, 0xc31c, 3), 0); /* a keyboard */
    add(f, &(struct usbemu_printer_config){.vid = 0x04b8, .pid = 0x0e28});
    assert_int_equal(patron_printer_list(info, 4, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(info[0].kind, "usb");
    assert_int_equal(info[0].vendor_id, 0x04b8);
    assert_int_equal(info[0].product_id, 0x0e28);
}

static void test_list_counts_beyond_capacity(void **state)
{
    struct fx *f = *state;
    struct patron_printer_info info[1];
    size_t n = 0;
    add(f, NULL);
    add(f, &(struct usbemu_printer_config){.vid = 0x04b8, .pid = 0x0202});
    assert_int_equal(patron_printer_list(info, 1, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(patron_printer_list(NULL, 0, &n), 0);
    assert_int_equal(n, 2);
}

static void test_auto_and_usb_pick_the_printer_not_the_keyboard(void **state)
{
    struct fx *f = *state;
    struct patron_printer_info info;
    assert_int_equal(usbemu_add_other(f->emu, 0x046d, 0xc31c, 3), 0);
    add(f, &(struct usbemu_printer_config){
               .vid = 0x04b8, .pid = 0x0e28, .manufacturer = "EPSON", .product = "TM-T20III"});
    open_ok(f, "auto");
    patron_printer_describe(f->pr, &info);
    assert_string_equal(info.kind, "usb");
    assert_int_equal(info.vendor_id, 0x04b8);
    /* maker and model come from the printer class GET_DEVICE_ID */
    assert_non_null(strstr(info.description, "04b8:0e28 EPSON TM-T20III bus 1 dev"));
}

static void test_vid_pid_selects_among_printers(void **state)
{
    struct fx *f = *state;
    struct patron_printer_info info;
    usbemu_printer *first = add(f, &(struct usbemu_printer_config){.vid = 0x04b8, .pid = 0x0202});
    usbemu_printer *second = add(f, NULL);
    open_ok(f, "usb:0416:5011");
    patron_printer_describe(f->pr, &info);
    assert_int_equal(info.vendor_id, 0x0416);
    assert_int_equal(info.product_id, 0x5011);
    assert_int_equal(patron_printer_send(f->pr, "j", (const uint8_t *)"\x1b@", 2, NULL, 0), 0);
    assert_int_equal(usbemu_printer_received(first, NULL, 0), 0);
    assert_int_equal(usbemu_printer_received(second, NULL, 0), 2 * sizeof ASK + 2);
}

static void test_vid_pid_absent_is_edevice(void **state)
{
    struct fx *f = *state;
    add(f, NULL);
    assert_int_equal(patron_printer_open("usb:dead:beef", 0, &f->pr, f->detail, sizeof f->detail),
                     PATRON_EDEVICE);
    assert_null(f->pr);
    assert_non_null(strstr(f->detail, "dead:beef"));
}

static void test_vendor_class_clone_needs_vid_pid(void **state)
{
    struct fx *f = *state;
    add(f, &(struct usbemu_printer_config){.iface_class = 0xff});
    assert_int_equal(patron_printer_open("usb", 0, &f->pr, f->detail, sizeof f->detail),
                     PATRON_EDEVICE);
    open_ok(f, "usb:0416:5011");
    print_job_exact(f);
}

/* ---- taking the printer ---- */

static void test_detaches_bound_usblp_and_gives_it_back(void **state)
{
    struct fx *f = *state;
    struct usbemu_stats s;
    add(f, &(struct usbemu_printer_config){.usblp_bound = 1});
    open_ok(f, "usb");
    usbemu_printer_stats(f->p, &s);
    assert_int_equal(s.detaches, 1);
    assert_int_equal(s.usblp_bound, 0);
    assert_int_equal(s.claims, 1);
    assert_int_equal(s.claimed, 1);
    patron_printer_close(f->pr);
    f->pr = NULL;
    usbemu_printer_stats(f->p, &s);
    assert_int_equal(s.releases, 1);
    assert_int_equal(s.reattaches, 1);
    assert_int_equal(s.usblp_bound, 1);
}

static void test_claims_without_detach_when_no_driver(void **state)
{
    struct fx *f = *state;
    struct usbemu_stats s;
    add(f, NULL);
    open_ok(f, "usb");
    usbemu_printer_stats(f->p, &s);
    assert_int_equal(s.detaches, 0);
    assert_int_equal(s.claims, 1);
    patron_printer_close(f->pr);
    f->pr = NULL;
    usbemu_printer_stats(f->p, &s);
    assert_int_equal(s.reattaches, 0); /* nothing to give back */
    assert_int_equal(s.claimed, 0);
}

static void test_busy_is_eprintbusy_with_the_fix(void **state)
{
    struct fx *f = *state;
    add(f, &(struct usbemu_printer_config){.faults = USBEMU_FAULT_BUSY});
    assert_int_equal(patron_printer_open("usb", 0, &f->pr, f->detail, sizeof f->detail),
                     PATRON_EPRINTBUSY);
    assert_null(f->pr);
    assert_non_null(strstr(f->detail, "the usblp kernel driver or another program holds the "
                                      "printer 0416:5011"));
    assert_non_null(strstr(f->detail, "modprobe -r usblp"));
}

/* ---- endpoints from the descriptors, byte-exact jobs ---- */

static void test_prints_200k_exact_on_01_82(void **state)
{
    struct fx *f = *state;
    add(f, &(struct usbemu_printer_config){.ep_out = 0x01, .ep_in = 0x82});
    open_ok(f, "usb");
    print_job_exact(f);
}

static void test_prints_200k_exact_on_clone_03_81(void **state)
{
    struct fx *f = *state;
    add(f, &(struct usbemu_printer_config){.ep_out = 0x03, .ep_in = 0x81});
    open_ok(f, "usb");
    print_job_exact(f);
    unsigned s = 0;
    assert_int_equal(patron_printer_status(f->pr, &s), 0); /* IN endpoint 0x81 answered */
    assert_int_equal(s, PATRON_PRINTER_ONLINE);
}

static void test_unidirectional_printer_prints_without_status(void **state)
{
    struct fx *f = *state;
    unsigned s = 0;
    add(f, &(struct usbemu_printer_config){.no_in_endpoint = 1});
    open_ok(f, "usb");
    assert_int_equal(patron_printer_status(f->pr, &s), 0);
    assert_int_equal(s, PATRON_PRINTER_STATUS_UNKNOWN);
    assert_int_equal(patron_printer_send(f->pr, "j", (const uint8_t *)"\x1b@hi\n", 5, NULL, 0), 0);
    const uint8_t *parts[] = {(const uint8_t *)"\x1b@hi\n"};
    const size_t lens[] = {5};
    assert_received(f->p, parts, lens, 1);
}

/* ---- status ---- */

static unsigned status_of(struct fx *f, unsigned emu_bits)
{
    unsigned s = 0;
    usbemu_printer_set_status(f->p, emu_bits);
    assert_int_equal(patron_printer_status(f->pr, &s), 0);
    return s;
}

static void test_status_online_paper_cover(void **state)
{
    struct fx *f = *state;
    add(f, NULL);
    open_ok(f, "usb");
    assert_int_equal(status_of(f, 0), PATRON_PRINTER_ONLINE);
    assert_int_equal(status_of(f, USBEMU_PAPER_END), PATRON_PRINTER_PAPER_END);
    assert_int_equal(status_of(f, USBEMU_COVER_OPEN), PATRON_PRINTER_COVER_OPEN);
    assert_int_equal(status_of(f, USBEMU_PAPER_NEAR_END),
                     PATRON_PRINTER_ONLINE | PATRON_PRINTER_PAPER_NEAR_END);
    assert_int_equal(status_of(f, USBEMU_OFFLINE), 0);
}

static void test_paper_end_refuses_the_job(void **state)
{
    struct fx *f = *state;
    add(f, &(struct usbemu_printer_config){.status = USBEMU_PAPER_END});
    open_ok(f, "usb");
    assert_int_equal(
        patron_printer_send(f->pr, "j", (const uint8_t *)"\x1b@", 2, f->detail, sizeof f->detail),
        PATRON_EPAPER);
    assert_non_null(strstr(f->detail, "out of paper"));
    assert_int_equal(usbemu_printer_received(f->p, NULL, 0), sizeof ASK); /* only the question */
}

static void test_cover_open_refuses_the_job(void **state)
{
    struct fx *f = *state;
    add(f, &(struct usbemu_printer_config){.status = USBEMU_COVER_OPEN});
    open_ok(f, "usb");
    assert_int_equal(
        patron_printer_send(f->pr, "j", (const uint8_t *)"\x1b@", 2, f->detail, sizeof f->detail),
        PATRON_ECOVER);
    assert_non_null(strstr(f->detail, "cover open"));
    assert_int_equal(usbemu_printer_received(f->p, NULL, 0), sizeof ASK);
}

/* Image data can hold DLE EOT n; the printer answers it, and that stale answer must not be
 * taken for the answer to the next status request. */
static void test_status_after_hidden_dle_eot_in_raster(void **state)
{
    struct fx *f = *state;
    size_t len;
    uint8_t *job = make_job(8192, &len);
    unsigned s = 0;
    memcpy(job + 2000, "\x10\x04\x04", 3); /* with the DLE EOT 2 at 1010: two stale */
    add(f, &(struct usbemu_printer_config){.status = USBEMU_PAPER_NEAR_END});
    open_ok(f, "usb");
    assert_int_equal(patron_printer_send(f->pr, "j", job, len, f->detail, sizeof f->detail), 0);
    assert_int_equal(patron_printer_status(f->pr, &s), 0);
    assert_int_equal(s, PATRON_PRINTER_ONLINE | PATRON_PRINTER_PAPER_NEAR_END);
    assert_int_equal(patron_printer_status(f->pr, &s), 0);
    assert_int_equal(s, PATRON_PRINTER_ONLINE | PATRON_PRINTER_PAPER_NEAR_END);
    free(job);
}

/* ---- faults ---- */

static void test_unplugged_mid_job_is_edevice(void **state)
{
    struct fx *f = *state;
    size_t len;
    uint8_t *job = make_job(JOB_200K, &len);
    add(f, NULL);
    open_ok(f, "usb");
    usbemu_printer_set_unplug_after(f->p, sizeof ASK + 50000);
    assert_int_equal(patron_printer_send(f->pr, "j", job, len, f->detail, sizeof f->detail),
                     PATRON_EDEVICE);
    assert_non_null(strstr(f->detail, "unplugged"));
    assert_int_equal(usbemu_printer_received(f->p, NULL, 0), sizeof ASK + 50000);
    unsigned s;
    assert_int_equal(patron_printer_status(f->pr, &s), PATRON_EDEVICE);
    free(job);
}

static void test_stuck_printer_times_out(void **state)
{
    struct fx *f = *state;
    struct usbemu_stats s;
    add(f, &(struct usbemu_printer_config){.faults = USBEMU_FAULT_HANG_OUT});
    open_ok(f, "usb");
    assert_int_equal(patron__usb_set_timeouts(f->pr, 150, 100), 0);
    assert_int_equal(
        patron_printer_send(f->pr, "j", (const uint8_t *)"\x1b@", 2, f->detail, sizeof f->detail),
        PATRON_ETIMEOUT);
    assert_non_null(strstr(f->detail, "did not answer in time"));
    usbemu_printer_stats(f->p, &s);
    assert_true(s.discarded >= 1); /* libusb cancelled the URB that never completed */
    assert_int_equal(usbemu_printer_received(f->p, NULL, 0), 0);
}

static void test_silent_printer_still_prints(void **state)
{
    struct fx *f = *state;
    unsigned s = 0;
    add(f, &(struct usbemu_printer_config){.faults = USBEMU_FAULT_SILENT});
    open_ok(f, "usb");
    assert_int_equal(patron_printer_status(f->pr, &s), PATRON_ETIMEOUT);
    usbemu_printer_clear(f->p);
    assert_int_equal(patron_printer_send(f->pr, "a", (const uint8_t *)"A", 1, NULL, 0), 0);
    assert_int_equal(patron_printer_send(f->pr, "b", (const uint8_t *)"B", 1, NULL, 0), 0);
    /* asked once, then printed without asking again */
    const uint8_t *parts[] = {ASK, (const uint8_t *)"A", (const uint8_t *)"B"};
    const size_t lens[] = {sizeof ASK, 1, 1};
    assert_received(f->p, parts, lens, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_list_shows_printers_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_counts_beyond_capacity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_auto_and_usb_pick_the_printer_not_the_keyboard, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_vid_pid_selects_among_printers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vid_pid_absent_is_edevice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vendor_class_clone_needs_vid_pid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detaches_bound_usblp_and_gives_it_back, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_claims_without_detach_when_no_driver, setup, teardown),
        cmocka_unit_test_setup_teardown(test_busy_is_eprintbusy_with_the_fix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prints_200k_exact_on_01_82, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prints_200k_exact_on_clone_03_81, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unidirectional_printer_prints_without_status, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_status_online_paper_cover, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paper_end_refuses_the_job, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cover_open_refuses_the_job, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_after_hidden_dle_eot_in_raster, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_unplugged_mid_job_is_edevice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stuck_printer_times_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_silent_printer_still_prints, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
