/* SPDX-License-Identifier: MIT */
/* Shared test helpers: temporary stores with a test-controlled clock, and running the program. */
#include "testutil.h"

#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int64_t test_clock(void *ctx)
{
    return ((struct test_store *)ctx)->now;
}

void test_store_open(struct test_store *t)
{
    const char *tmp = getenv("TMPDIR");
    memset(t, 0, sizeof *t);
    snprintf(t->dir, sizeof t->dir, "%s/patron-test-XXXXXX", tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(t->dir));
    snprintf(t->path, sizeof t->path, "%s/patron.db", t->dir);
    assert_int_equal(patron_store_open(t->path, &t->s), 0);
    t->now = TEST_EPOCH;
    patron_store_set_clock(t->s, test_clock, t);
    assert_int_equal(patron_store_init(t->s, 1, "Test shop"), 0);
}

void test_store_close(struct test_store *t)
{
    patron_store_close(t->s);
    t->s = NULL;
    test_rmtree(t->dir);
}

void test_enroll(struct test_store *t, const char *name, char *card)
{
    struct patron_enrollment in = {.name = name};
    struct patron_member m;
    assert_int_equal(patron_member_enroll(t->s, &in, &m), 0);
    memcpy(card, m.card, PATRON_CARD_DIGITS + 1);
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void test_rmtree(const char *dir)
{
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

char *test_tmpdir_unusable(void)
{
    const char *tmpdir = getenv("TMPDIR");
    char *saved = tmpdir ? strdup(tmpdir) : NULL;
    setenv("TMPDIR", "/nonexistent/patron", 1);
    return saved;
}

void test_tmpdir_restore(char *saved)
{
    if (saved)
        setenv("TMPDIR", saved, 1);
    else
        unsetenv("TMPDIR");
    free(saved);
}

int test_run(char *out, size_t cap, const char *const argv[])
{
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(pipefd[1], 1);
        close(pipefd[0]);
        close(pipefd[1]);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(pipefd[1]);
    size_t n = 0;
    ssize_t r;
    while (n + 1 < cap && (r = read(pipefd[0], out + n, cap - 1 - n)) > 0)
        n += (size_t)r;
    out[n] = '\0';
    char sink[256];
    while (read(pipefd[0], sink, sizeof sink) > 0)
        ;
    close(pipefd[0]);
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int test_run_patron(char *out, size_t cap, const char *arg, ...)
{
    const char *argv[64];
    int argc = 0;
    va_list ap;
    argv[argc++] = getenv("PATRON_BIN");
    assert_non_null(argv[0]);
    va_start(ap, arg);
    for (const char *a = arg; a && argc < 63; a = va_arg(ap, const char *))
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;
    return test_run(out, cap, argv);
}

int64_t test_scalar(patron_store *s, const char *sql)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(patron_store_sqlite(s), sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

void test_assert_ledger_verifies(patron_store *s)
{
    struct patron_verify_result v;
    assert_int_equal(patron_ledger_verify(s, &v), 0);
    if (!v.ok)
        fail_msg("the ledger does not verify: %s", v.first_problem);
}
