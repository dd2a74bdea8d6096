/* SPDX-License-Identifier: MIT */
/* Printing in the counter service: a reward redeemed over HTTP is answered before it prints and
 * then comes out of the virtual printer as a PNG whose QR code zbar reads back as the voucher's
 * token; reprints are queued and printed; without a printer the jobs stay queued (a reprint is
 * 503 with its job) and print after a restart with one; a printer that cannot be opened is
 * opened again once it can, and the queued coupon prints then; a printer that fails mid-job
 * keeps the job queued with its reason. */
#include "apiutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "zbar_util.h"

/* How long a poll may wait for the printer thread, in 20 ms steps: generous for sanitizers. */
#define POLL_STEPS 1500

struct shop {
    struct api_server sv;
    char cashier[64], manager[64];
    char card[14];
    int64_t reward_id;
};

static void pause_briefly(void)
{
    nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
}

/* A store with a cashier's and a manager's till, a member with points and a reward. */
static void shop_new(struct shop *s)
{
    memset(s, 0, sizeof *s);
    apit_store_new(&s->sv);
    apit_terminal(&s->sv, "till-1", "cashier", s->cashier);
    apit_terminal(&s->sv, "office", "manager", s->manager);
    apit_member(&s->sv, "Ada", s->card);
    json_decref(
        apit_patron(&s->sv, "sale", s->card, "--ref", "SEED", "--total", "100000", (char *)NULL));
    json_t *j = apit_patron(&s->sv, "reward", "add", "--name", "Free coffee", "--cost", "100",
                            "--kind", "item", "--value", "1001", (char *)NULL);
    s->reward_id = apit_jint(j, "reward_id");
    json_decref(j);
}

/* Redeems the reward over HTTP; returns the coupon's job and copies the token. */
static int64_t redeem(struct shop *s, const char *key, char token[244])
{
    struct apit_reply r;
    char path[64], body[64];
    snprintf(path, sizeof path, "/v1/rewards/%lld/redeem", (long long)s->reward_id);
    snprintf(body, sizeof body, "{\"card\":\"%s\"}", s->card);
    apit_call(s->sv.port, "POST", path, s->cashier, key, body, &r);
    assert_int_equal(r.status, 201);
    assert_string_equal(apit_jstr(r.json, "print_status"), "queued"); /* answered before printing */
    int64_t job = apit_jint(r.json, "print_job");
    assert_true(job > 0);
    snprintf(token, 244, "%s", apit_jstr(r.json, "token"));
    apit_reply_free(&r);
    return job;
}

/* The job's status as a till polls it, once it is `want` (or the last seen after the wait). */
static char *poll_job(struct shop *s, int64_t job, const char *want)
{
    static char status[16];
    char path[64];
    snprintf(path, sizeof path, "/v1/print-jobs/%lld", (long long)job);
    for (int i = 0; i < POLL_STEPS; i++) {
        struct apit_reply r;
        apit_call(s->sv.port, "GET", path, s->cashier, NULL, NULL, &r);
        assert_int_equal(r.status, 200);
        snprintf(status, sizeof status, "%s", apit_jstr(r.json, "status"));
        apit_reply_free(&r);
        if (strcmp(status, want) == 0)
            break;
        pause_briefly();
    }
    return status;
}

/* Waits until /metrics shows `line`; returns 1 when it did. */
static int poll_metrics(struct shop *s, const char *line)
{
    for (int i = 0; i < POLL_STEPS; i++) {
        struct apit_reply r;
        apit_call(s->sv.port, "GET", "/metrics", NULL, NULL, NULL, &r);
        int found = strstr(r.body, line) != NULL;
        apit_reply_free(&r);
        if (found)
            return 1;
        pause_briefly();
    }
    fprintf(stderr, "metrics never showed: %s\n", line);
    return 0;
}

static int64_t pending_count(struct shop *s, int64_t *newest)
{
    struct apit_reply r;
    apit_call(s->sv.port, "GET", "/v1/print-jobs?pending=1", s->manager, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    int64_t n = apit_jint(r.json, "count");
    json_t *first = json_array_get(json_object_get(r.json, "jobs"), 0);
    if (newest)
        *newest = first ? apit_jint(first, "job_id") : 0;
    apit_reply_free(&r);
    return n;
}

static void assert_coupon_reads(const char *dir, int64_t job, const char *token)
{
    char png[512];
    snprintf(png, sizeof png, "%s/job-%lld.png", dir, (long long)job);
    assert_int_equal(access(png, R_OK), 0);
    char *got = test_decode_png(png, ZBAR_QRCODE);
    assert_non_null(got);
    assert_string_equal(got, token);
    free(got);
}

static void coupons_print_on_the_virtual_printer(void **state)
{
    struct shop s;
    struct apit_reply r;
    char dir[300], spec[320], token[244], path[64];
    (void)state;
    shop_new(&s);
    snprintf(dir, sizeof dir, "%s/coupons", s.sv.dir);
    snprintf(spec, sizeof spec, "virtual:%s", dir);
    apit_start(&s.sv, "--printer", spec, (char *)NULL);

    int64_t job = redeem(&s, "redeem-1", token);
    assert_string_equal(poll_job(&s, job, "printed"), "printed");
    assert_coupon_reads(dir, job, token);

    snprintf(path, sizeof path, "/v1/print-jobs/%lld/reprint", (long long)job);
    apit_call(s.sv.port, "POST", path, s.cashier, "reprint-0", NULL, &r);
    assert_int_equal(r.status, 403); /* a manager's tool */
    apit_reply_free(&r);
    apit_call(s.sv.port, "POST", path, s.manager, "reprint-1", NULL, &r);
    assert_int_equal(r.status, 202);
    int64_t copy = apit_jint(r.json, "job_id");
    assert_int_equal(apit_jint(r.json, "reprint_of"), job);
    assert_string_equal(apit_jstr(r.json, "print_status"), "queued");
    apit_reply_free(&r);
    assert_string_equal(poll_job(&s, copy, "printed"), "printed");
    assert_coupon_reads(dir, copy, token);

    assert_int_equal(pending_count(&s, NULL), 0);
    apit_call(s.sv.port, "GET", "/v1/print-jobs", s.manager, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(apit_jint(r.json, "count"), 2);
    assert_int_equal(apit_jint(json_array_get(json_object_get(r.json, "jobs"), 0), "job_id"), copy);
    apit_reply_free(&r);
    apit_call(s.sv.port, "GET", "/v1/print-jobs", s.cashier, NULL, NULL, &r);
    assert_int_equal(r.status, 403);
    apit_reply_free(&r);
    apit_call(s.sv.port, "GET", "/v1/print-jobs/999", s.cashier, NULL, NULL, &r);
    assert_int_equal(r.status, 404);
    apit_reply_free(&r);
    apit_call(s.sv.port, "POST", "/v1/print-jobs/999/reprint", s.manager, "reprint-2", NULL, &r);
    assert_int_equal(r.status, 404);
    apit_reply_free(&r);
    apit_call(s.sv.port, "GET", "/v1/print-jobs?pending=maybe", s.manager, NULL, NULL, &r);
    assert_int_equal(r.status, 400);
    apit_reply_free(&r);

    assert_true(poll_metrics(&s, "patron_printer_state{state=\"online\"} 1"));
    assert_true(poll_metrics(&s, "patron_print_jobs_printed_total 2"));
    assert_true(poll_metrics(&s, "patron_print_queue_depth 0"));
    assert_int_equal(apit_stop(&s.sv), 0);
    apit_cleanup(&s.sv);
}

static void without_a_printer_jobs_stay_queued(void **state)
{
    struct shop s;
    struct apit_reply r, again;
    char token[244], path[64], dir[300], spec[320];
    int64_t newest;
    (void)state;
    shop_new(&s);
    apit_start(&s.sv, "--printer", "none", (char *)NULL);
    int64_t job = redeem(&s, "redeem-1", token);
    assert_int_equal(pending_count(&s, &newest), 1);
    assert_int_equal(newest, job);

    /* The printer is known to be absent: 503, and the reprint stays queued. */
    snprintf(path, sizeof path, "/v1/print-jobs/%lld/reprint", (long long)job);
    apit_call(s.sv.port, "POST", path, s.manager, "reprint-1", NULL, &r);
    assert_int_equal(r.status, 503);
    assert_string_equal(r.type, "application/problem+json");
    assert_string_equal(apit_jstr(r.json, "code"), "EDEVICE");
    int64_t copy = apit_jint(r.json, "job_id");
    assert_true(copy > job);
    assert_int_equal(apit_jint(r.json, "reprint_of"), job);
    assert_non_null(strstr(apit_jstr(r.json, "detail"), "stays queued"));
    /* A retry of the same request is the same answer, not a third coupon. */
    apit_call(s.sv.port, "POST", path, s.manager, "reprint-1", NULL, &again);
    assert_int_equal(again.status, 503);
    assert_true(again.replayed);
    assert_string_equal(again.type, "application/problem+json");
    apit_assert_replay_of(&again, &r);
    apit_reply_free(&again);
    apit_reply_free(&r);
    assert_int_equal(pending_count(&s, &newest), 2);
    assert_int_equal(newest, copy);
    assert_string_equal(poll_job(&s, copy, "queued"), "queued");
    assert_true(poll_metrics(&s, "patron_printer_state{state=\"offline\"} 1"));
    assert_true(poll_metrics(&s, "patron_print_queue_depth 2"));
    assert_int_equal(apit_stop(&s.sv), 0);

    /* The queue is durable: the next start with a printer prints both. */
    snprintf(dir, sizeof dir, "%s/later", s.sv.dir);
    snprintf(spec, sizeof spec, "virtual:%s", dir);
    apit_start(&s.sv, "--printer", spec, (char *)NULL);
    assert_string_equal(poll_job(&s, copy, "printed"), "printed");
    assert_string_equal(poll_job(&s, job, "printed"), "printed");
    assert_coupon_reads(dir, job, token);
    assert_coupon_reads(dir, copy, token);
    assert_int_equal(apit_stop(&s.sv), 0);
    apit_cleanup(&s.sv);
}

static void a_printer_that_comes_back_prints_the_queue(void **state)
{
    struct shop s;
    struct apit_reply r;
    char blocker[300], dir[320], spec[340], token[244], path[64];
    (void)state;
    shop_new(&s);
    /* The printer's folder cannot be made while a plain file stands in its way. */
    snprintf(blocker, sizeof blocker, "%s/blocked", s.sv.dir);
    FILE *f = fopen(blocker, "w");
    assert_non_null(f);
    fclose(f);
    snprintf(dir, sizeof dir, "%s/prints", blocker);
    snprintf(spec, sizeof spec, "virtual:%s", dir);
    apit_start(&s.sv, "--printer", spec, "--print-poll", "1", (char *)NULL);
    assert_true(poll_metrics(&s, "patron_printer_state{state=\"offline\"} 1"));
    int64_t job = redeem(&s, "redeem-1", token);
    snprintf(path, sizeof path, "/v1/print-jobs/%lld/reprint", (long long)job);
    apit_call(s.sv.port, "POST", path, s.manager, "reprint-1", NULL, &r);
    assert_int_equal(r.status, 503);
    int64_t copy = apit_jint(r.json, "job_id");
    apit_reply_free(&r);
    assert_string_equal(poll_job(&s, job, "queued"), "queued");

    assert_int_equal(unlink(blocker), 0); /* the printer is back */
    assert_string_equal(poll_job(&s, job, "printed"), "printed");
    assert_string_equal(poll_job(&s, copy, "printed"), "printed");
    assert_coupon_reads(dir, job, token);
    assert_true(poll_metrics(&s, "patron_printer_state{state=\"online\"} 1"));
    assert_int_equal(apit_stop(&s.sv), 0);
    apit_cleanup(&s.sv);
}

/* Polls a job until the printer thread has recorded a failure on it; returns that reason. */
static char *poll_failure(struct shop *s, int64_t job)
{
    static char reason[200];
    char path[64];
    snprintf(path, sizeof path, "/v1/print-jobs/%lld", (long long)job);
    reason[0] = '\0';
    for (int i = 0; i < POLL_STEPS && !reason[0]; i++) {
        struct apit_reply r;
        apit_call(s->sv.port, "GET", path, s->cashier, NULL, NULL, &r);
        const char *e = apit_jstr(r.json, "last_error");
        if (e)
            snprintf(reason, sizeof reason, "%s", e);
        else
            pause_briefly();
        apit_reply_free(&r);
    }
    return reason;
}

/* A printer behind a FIFO: nobody reading it is a printer that is not there. */
static void a_device_printer_fails_and_recovers(void **state)
{
    struct shop s;
    struct apit_reply r;
    char fifo[300], spec[320], token[244], path[64];
    static char bytes[256 * 1024];
    (void)state;
    shop_new(&s);
    snprintf(fifo, sizeof fifo, "%s/printer.fifo", s.sv.dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    snprintf(spec, sizeof spec, "file:%s", fifo);
    apit_start(&s.sv, "--printer", spec, "--print-poll", "1", (char *)NULL);
    assert_true(poll_metrics(&s, "patron_printer_state{state=\"offline\"} 1"));
    int64_t job = redeem(&s, "redeem-1", token);
    assert_string_equal(poll_job(&s, job, "queued"), "queued");

    /* The printer is switched on: the queued coupon goes out, QR data and all. */
    int fd = open(fifo, O_RDONLY | O_NONBLOCK);
    assert_true(fd >= 0);
    assert_string_equal(poll_job(&s, job, "printed"), "printed");
    size_t n = 0;
    ssize_t got;
    while (n < sizeof bytes && (got = read(fd, bytes + n, sizeof bytes - n)) > 0)
        n += (size_t)got;
    assert_true(n > 243);
    assert_non_null(memmem(bytes, n, token, 243));

    /* Switched off mid-shift: the reprint fails, stays queued with its reason. */
    close(fd);
    snprintf(path, sizeof path, "/v1/print-jobs/%lld/reprint", (long long)job);
    apit_call(s.sv.port, "POST", path, s.manager, "reprint-1", NULL, &r);
    assert_int_equal(r.status, 202);
    int64_t copy = apit_jint(r.json, "job_id");
    apit_reply_free(&r);
    assert_non_null(strstr(poll_failure(&s, copy), "failed"));
    assert_string_equal(poll_job(&s, copy, "queued"), "queued");
    assert_true(poll_metrics(&s, "patron_printer_state{state=\"offline\"} 1"));
    assert_true(poll_metrics(&s, "patron_print_failures_total 1"));
    apit_call(s.sv.port, "POST", path, s.manager, "reprint-2", NULL, &r);
    assert_int_equal(r.status, 503); /* known to be down now */
    apit_reply_free(&r);
    assert_int_equal(apit_stop(&s.sv), 0);
    apit_cleanup(&s.sv);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(coupons_print_on_the_virtual_printer),
        cmocka_unit_test(without_a_printer_jobs_stay_queued),
        cmocka_unit_test(a_printer_that_comes_back_prints_the_queue),
        cmocka_unit_test(a_device_printer_fails_and_recovers),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return failed;
}
