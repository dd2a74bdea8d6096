/* SPDX-License-Identifier: MIT */
/* The patron-usb-emu program end to end: it runs another program (patron-print) against an
 * emulated printer in a separate process, saves exactly what that program sent, and passes its
 * exit status through; faults given on its command line reach the program as real USB errors. */
#include "testutil.h"

#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static const uint8_t ASK[] = {0x10, 0x04, 0x01, 0x10, 0x04, 0x02, 0x10, 0x04, 0x04};
static const uint8_t JOB[] = "\x1b@Coupon 10% off\n\x1dV\x01";
#define JOB_LEN (sizeof JOB - 1)

struct run {
    char dir[256], job[300], out[300], log[300];
    char text[4096]; /* stdout and stderr of the run */
    uint8_t got[1024];
    size_t got_len;
};

static void prepare(struct run *r)
{
    const char *tmp = getenv("TMPDIR");
    memset(r, 0, sizeof *r);
    snprintf(r->dir, sizeof r->dir, "%s/patron-emu-XXXXXX", tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(r->dir));
    snprintf(r->job, sizeof r->job, "%s/job.bin", r->dir);
    snprintf(r->out, sizeof r->out, "%s/out.bin", r->dir);
    snprintf(r->log, sizeof r->log, "%s/log.txt", r->dir);
    FILE *f = fopen(r->job, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(JOB, 1, JOB_LEN, f), JOB_LEN);
    fclose(f);
}

static size_t slurp(const char *path, void *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    size_t n = 0;
    if (f) {
        n = fread(buf, 1, cap, f);
        fclose(f);
    }
    return n;
}

static void cleanup(struct run *r)
{
    unlink(r->job);
    unlink(r->out);
    unlink(r->log);
    rmdir(r->dir);
}

/* Runs patron-usb-emu --out OUT EMU_ARGS... -- patron-print PRINT_ARGS... ; the two lists are
 * NULL-terminated. Returns the exit status. */
static int run_emu(struct run *r, const char *const *emu_args, const char *const *print_args)
{
    const char *argv[32];
    int n = 0, status = 0;
    pid_t pid;
    posix_spawn_file_actions_t fa;
    argv[n++] = getenv("PATRON_USB_EMU");
    argv[n++] = "--out";
    argv[n++] = r->out;
    while (*emu_args)
        argv[n++] = *emu_args++;
    argv[n++] = "--";
    argv[n++] = getenv("PATRON_PRINT");
    while (*print_args)
        argv[n++] = *print_args++;
    argv[n] = NULL;
    assert_non_null(argv[0]);
    assert_non_null(argv[n - 1]);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, r->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    assert_int_equal(posix_spawn(&pid, argv[0], &fa, NULL, (char **)argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    r->text[slurp(r->log, r->text, sizeof r->text - 1)] = '\0';
    r->got_len = slurp(r->out, r->got, sizeof r->got);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static void test_saves_exactly_what_the_program_sent(void **state)
{
    struct run r;
    (void)state;
    prepare(&r);
    const char *emu[] = {"--usblp", "--stats", NULL};
    const char *print[] = {"--printer", "usb", r.job, NULL};
    assert_int_equal(run_emu(&r, emu, print), 0);
    assert_int_equal(r.got_len, sizeof ASK + JOB_LEN + sizeof ASK);
    assert_memory_equal(r.got, ASK, sizeof ASK);
    assert_memory_equal(r.got + sizeof ASK, JOB, JOB_LEN);
    assert_memory_equal(r.got + sizeof ASK + JOB_LEN, ASK, sizeof ASK);
    assert_non_null(strstr(r.text, "usblp detached 1, reattached 1"));
    cleanup(&r);
}

static void test_clone_endpoints_and_vid_pid(void **state)
{
    struct run r;
    (void)state;
    prepare(&r);
    const char *emu[] = {"--vid", "04b8", "--pid", "0e28", "--ep-out", "03", "--ep-in", "81", NULL};
    const char *print[] = {"--printer", "usb:04b8:0e28", r.job, NULL};
    assert_int_equal(run_emu(&r, emu, print), 0);
    assert_int_equal(r.got_len, sizeof ASK + JOB_LEN + sizeof ASK);
    cleanup(&r);
}

static void test_paper_end_is_exit_5_and_nothing_printed(void **state)
{
    struct run r;
    (void)state;
    prepare(&r);
    const char *emu[] = {"--paper-end", NULL};
    const char *print[] = {"--printer", "usb", r.job, NULL};
    assert_int_equal(run_emu(&r, emu, print), 5);
    assert_int_equal(r.got_len, sizeof ASK);
    assert_non_null(strstr(r.text, "out of paper"));
    cleanup(&r);
}

static void test_status_of_an_open_cover(void **state)
{
    struct run r;
    (void)state;
    prepare(&r);
    const char *emu[] = {"--cover-open", NULL};
    const char *print[] = {"--printer", "usb", "--status", NULL};
    assert_int_equal(run_emu(&r, emu, print), 0);
    assert_non_null(strstr(r.text, "offline cover-open\n"));
    cleanup(&r);
}

static void test_unplug_is_exit_5(void **state)
{
    struct run r;
    (void)state;
    prepare(&r);
    const char *emu[] = {"--unplug-after", "12", NULL};
    const char *print[] = {"--printer", "usb", r.job, NULL};
    assert_int_equal(run_emu(&r, emu, print), 5);
    assert_int_equal(r.got_len, 12);
    assert_non_null(strstr(r.text, "unplugged"));
    cleanup(&r);
}

static void test_busy_is_exit_5_with_the_fix(void **state)
{
    struct run r;
    (void)state;
    prepare(&r);
    const char *emu[] = {"--busy", NULL};
    const char *print[] = {"--printer", "usb", r.job, NULL};
    assert_int_equal(run_emu(&r, emu, print), 5);
    assert_non_null(strstr(r.text, "modprobe -r usblp"));
    assert_int_equal(r.got_len, 0);
    cleanup(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_saves_exactly_what_the_program_sent),
        cmocka_unit_test(test_clone_endpoints_and_vid_pid),
        cmocka_unit_test(test_paper_end_is_exit_5_and_nothing_printed),
        cmocka_unit_test(test_status_of_an_open_cover),
        cmocka_unit_test(test_unplug_is_exit_5),
        cmocka_unit_test(test_busy_is_exit_5_with_the_fix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
