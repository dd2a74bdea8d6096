/* SPDX-License-Identifier: MIT */
/* The device-file back-end (file:PATH), on a plain file and on FIFOs that stand in for
 * /dev/usb/lp0: jobs arrive whole and in order, a device that stops taking data times out, a
 * reader that goes away is an error and not a SIGPIPE, and nothing is created under /dev. */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend_internal.h"

#define BIG (200 * 1024)

struct fx {
    char dir[256];
    char path[300];
    char spec[310];
    char detail[512];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    const char *tmp = getenv("TMPDIR");
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "%s/patron-devfile-XXXXXX", tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/lp0", f->dir);
    snprintf(f->spec, sizeof f->spec, "file:%s", f->path);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    test_rmtree(f->dir);
    free(f);
    return 0;
}

static uint8_t *pattern(size_t n)
{
    uint8_t *b = malloc(n);
    assert_non_null(b);
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(i * 7 + (i >> 8));
    return b;
}

static void test_plain_file_gets_jobs_in_order(void **state)
{
    struct fx *f = *state;
    patron_printer *p = NULL;
    struct patron_printer_info info;
    unsigned s = 0;
    char got[16] = "";
    assert_int_equal(patron_printer_open(f->spec, 0, &p, f->detail, sizeof f->detail), 0);
    assert_int_equal(patron_printer_send(p, "a", (const uint8_t *)"\x1b@one\n", 6, NULL, 0), 0);
    assert_int_equal(patron_printer_send(p, "b", (const uint8_t *)"two\n", 4, NULL, 0), 0);
    assert_int_equal(patron_printer_status(p, &s), 0);
    assert_int_equal(s, PATRON_PRINTER_STATUS_UNKNOWN);
    patron_printer_describe(p, &info);
    assert_string_equal(info.kind, "file");
    assert_string_equal(info.description, f->path);
    patron_printer_close(p);
    FILE *in = fopen(f->path, "rb");
    assert_non_null(in);
    assert_int_equal(fread(got, 1, sizeof got, in), 10);
    fclose(in);
    assert_memory_equal(got, "\x1b@one\ntwo\n", 10);
}

struct reader {
    int fd;
    uint8_t *buf;
    size_t len;
};

static void *read_all(void *arg)
{
    struct reader *r = arg;
    ssize_t n;
    fcntl(r->fd, F_SETFL, fcntl(r->fd, F_GETFL) & ~O_NONBLOCK);
    while ((n = read(r->fd, r->buf + r->len, BIG + 1 - r->len)) > 0 || (n < 0 && errno == EINTR))
        r->len += n > 0 ? (size_t)n : 0;
    return NULL;
}

static void test_fifo_gets_a_200k_job_whole(void **state)
{
    struct fx *f = *state;
    patron_printer *p = NULL;
    pthread_t t;
    uint8_t *job = pattern(BIG);
    struct reader r = {.buf = malloc(BIG + 1)};
    assert_non_null(r.buf);
    assert_int_equal(mkfifo(f->path, 0600), 0);
    r.fd = open(f->path, O_RDONLY | O_NONBLOCK);
    assert_true(r.fd >= 0);
    assert_int_equal(patron_printer_open(f->spec, 0, &p, f->detail, sizeof f->detail), 0);
    assert_int_equal(pthread_create(&t, NULL, read_all, &r), 0);
    assert_int_equal(patron_printer_send(p, "big", job, BIG, f->detail, sizeof f->detail), 0);
    patron_printer_close(p); /* the reader sees end of file */
    pthread_join(t, NULL);
    close(r.fd);
    assert_int_equal(r.len, BIG);
    assert_memory_equal(r.buf, job, BIG);
    free(r.buf);
    free(job);
}

static void test_fifo_without_reader_is_edevice(void **state)
{
    struct fx *f = *state;
    patron_printer *p = NULL;
    assert_int_equal(mkfifo(f->path, 0600), 0);
    assert_int_equal(patron_printer_open(f->spec, 0, &p, f->detail, sizeof f->detail),
                     PATRON_EDEVICE);
    assert_null(p);
    assert_non_null(strstr(f->detail, "nothing is reading"));
}

static void test_device_that_stops_taking_data_times_out(void **state)
{
    struct fx *f = *state;
    patron_printer *p = NULL;
    uint8_t *job = pattern(BIG); /* more than a pipe holds */
    assert_int_equal(mkfifo(f->path, 0600), 0);
    int rfd = open(f->path, O_RDONLY | O_NONBLOCK); /* opened, never read */
    assert_true(rfd >= 0);
    assert_int_equal(patron_printer_open(f->spec, 0, &p, f->detail, sizeof f->detail), 0);
    assert_int_equal(patron__file_set_timeout(p, 100), 0);
    assert_int_equal(patron_printer_send(p, "big", job, BIG, f->detail, sizeof f->detail),
                     PATRON_ETIMEOUT);
    assert_non_null(strstr(f->detail, "took no data for 100 ms"));
    patron_printer_close(p);
    close(rfd);
    free(job);
}

static void test_reader_gone_is_edevice_not_sigpipe(void **state)
{
    struct fx *f = *state;
    patron_printer *p = NULL;
    assert_int_equal(mkfifo(f->path, 0600), 0);
    int rfd = open(f->path, O_RDONLY | O_NONBLOCK);
    assert_true(rfd >= 0);
    assert_int_equal(patron_printer_open(f->spec, 0, &p, f->detail, sizeof f->detail), 0);
    close(rfd);
    /* SIGPIPE's default action would end this test program here */
    assert_int_equal(
        patron_printer_send(p, "j", (const uint8_t *)"x", 1, f->detail, sizeof f->detail),
        PATRON_EDEVICE);
    assert_non_null(strstr(f->detail, "stopped"));
    patron_printer_close(p);
}

static void test_missing_device_is_not_created(void **state)
{
    patron_printer *p = NULL;
    char detail[256];
    struct stat st;
    (void)state;
    assert_int_equal(
        patron_printer_open("file:/dev/patron-no-such-lp", 0, &p, detail, sizeof detail),
        PATRON_EDEVICE);
    assert_non_null(strstr(detail, "plugged in"));
    assert_int_equal(stat("/dev/patron-no-such-lp", &st), -1);
}

static void test_directory_is_einval(void **state)
{
    struct fx *f = *state;
    patron_printer *p = NULL;
    char spec[300];
    snprintf(spec, sizeof spec, "file:%s", f->dir);
    assert_int_equal(patron_printer_open(spec, 0, &p, f->detail, sizeof f->detail), PATRON_EINVAL);
    assert_non_null(strstr(f->detail, "is a directory"));
}

static void test_no_permission_is_eprintaccess(void **state)
{
    struct fx *f = *state;
    patron_printer *p = NULL;
    if (geteuid() == 0)
        skip(); /* root may write anywhere */
    FILE *c = fopen(f->path, "w");
    assert_non_null(c);
    fclose(c);
    assert_int_equal(chmod(f->path, 0444), 0);
    assert_int_equal(patron_printer_open(f->spec, 0, &p, f->detail, sizeof f->detail),
                     PATRON_EPRINTACCESS);
    assert_non_null(strstr(f->detail, "lp group"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_plain_file_gets_jobs_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fifo_gets_a_200k_job_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fifo_without_reader_is_edevice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_device_that_stops_taking_data_times_out, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_reader_gone_is_edevice_not_sigpipe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_device_is_not_created, setup, teardown),
        cmocka_unit_test_setup_teardown(test_directory_is_einval, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_permission_is_eprintaccess, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
