/* SPDX-License-Identifier: MIT */
/* The marketing routes of the counter service: feedback on a visit (replayed, refused when it
 * contradicts itself), a manager's goodwill coupon that comes out of the virtual printer with
 * the voucher's token in its QR code and stops at the daily limit, offers added, shown at scan,
 * applied at a sale and ended (with the program's JSON for the same offers), the audience of an
 * offer's targets counted with a sample while it is written, the program's rules, tiers and
 * rewards changed with the audit of each change, the keyring listed and rotated, and the owner's
 * reports as JSON (the program's bytes) and CSV, each route refusing the roles below its own; a
 * long report is sent as it is written, with the library's bytes, and the next report waits
 * until it is sent; a member's export, sent from a file, holds no turn while it is sent. */
#include "apistream.h"
#include "apiutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "patron/json.h"
#include "zbar_util.h"

#define NOW "2026-03-10T12:00:00Z"
#define POLL_STEPS 1500 /* 20 ms each: generous for sanitizers */

static struct fixture {
    struct api_server sv;
    char cashier[64], manager[64], admin[64];
    char ada[14], bob[14];
    char prints[300];
    int64_t reward_id;
} fx;

#define CLI(...) apit_patron(&fx.sv, "--now", NOW, "--printer", "none", __VA_ARGS__, (char *)NULL)

static void post(const char *token, const char *path, const char *key, const char *body,
                 struct apit_reply *r)
{
    apit_call(fx.sv.port, "POST", path, token, key, body, r);
}

static void get(const char *token, const char *path, struct apit_reply *r)
{
    apit_call(fx.sv.port, "GET", path, token, NULL, NULL, r);
}

static int setup(void **state)
{
    char spec[320];
    (void)state;
    apit_store_new(&fx.sv);
    apit_terminal(&fx.sv, "till-1", "cashier", fx.cashier);
    apit_terminal(&fx.sv, "office", "manager", fx.manager);
    apit_terminal(&fx.sv, "owner", "admin", fx.admin);
    apit_member(&fx.sv, "Ada", fx.ada);
    apit_member(&fx.sv, "Bob", fx.bob);
    json_decref(CLI("sale", fx.ada, "--ref", "SEED-A", "--total", "20000"));
    json_t *j =
        CLI("reward", "add", "--name", "Coffee", "--cost", "100", "--kind", "item", "--value", "1");
    fx.reward_id = apit_jint(j, "reward_id");
    json_decref(j);
    json_decref(CLI("program", "set", "goodwill_per_manager_per_day", "2"));
    json_decref(CLI("offer", "segment", "regulars", fx.ada));
    snprintf(fx.prints, sizeof fx.prints, "%s/coupons", fx.sv.dir);
    snprintf(spec, sizeof spec, "virtual:%s", fx.prints);
    apit_start(&fx.sv, "--now", NOW, "--printer", spec, (char *)NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    int status = apit_stop(&fx.sv);
    test_rmtree(fx.sv.dir);
    return status == 0 ? 0 : -1;
}

static void feedback_is_one_per_visit(void **state)
{
    struct apit_reply r, again;
    char body[700], comment[502];
    (void)state;
    snprintf(body, sizeof body,
             "{\"card\":\"%s\",\"score\":4,\"comment\":\"Quick service\",\"ref\":\"SEED-A\"}",
             fx.ada);
    post(fx.cashier, "/v1/feedback", NULL, body, &r);
    apit_assert_status(&r, 400, "EINVAL"); /* no key */
    apit_reply_free(&r);
    post(fx.cashier, "/v1/feedback", "fb-1", body, &r);
    apit_assert_status(&r, 201, NULL);
    int64_t id = apit_jint(r.json, "feedback_id");
    assert_int_equal(apit_jint(r.json, "score"), 4);
    post(fx.cashier, "/v1/feedback", "fb-1", body, &again);
    assert_true(again.replayed);
    apit_assert_replay_of(&again, &r);
    apit_reply_free(&again);
    apit_reply_free(&r);
    /* The same feedback under another key is the same feedback. */
    post(fx.cashier, "/v1/feedback", "fb-2", body, &r);
    apit_assert_status(&r, 201, NULL);
    assert_int_equal(apit_jint(r.json, "feedback_id"), id);
    apit_reply_free(&r);

    snprintf(body, sizeof body, "{\"card\":\"%s\",\"score\":1,\"ref\":\"SEED-A\"}", fx.ada);
    post(fx.cashier, "/v1/feedback", "fb-3", body, &r);
    apit_assert_status(&r, 409, "ERULE");
    apit_reply_free(&r);
    snprintf(body, sizeof body, "{\"card\":\"%s\",\"score\":5,\"ref\":\"NOPE\"}", fx.ada);
    post(fx.cashier, "/v1/feedback", "fb-4", body, &r);
    apit_assert_status(&r, 404, "ENOSALE");
    apit_reply_free(&r);
    snprintf(body, sizeof body, "{\"card\":\"%s\",\"score\":6}", fx.ada);
    post(fx.cashier, "/v1/feedback", "fb-5", body, &r);
    apit_assert_status(&r, 400, "EINVAL");
    apit_reply_free(&r);
    memset(comment, 'x', 501);
    comment[501] = '\0';
    snprintf(body, sizeof body, "{\"card\":\"%s\",\"score\":3,\"comment\":\"%s\"}", fx.ada,
             comment);
    post(fx.cashier, "/v1/feedback", "fb-6", body, &r);
    apit_assert_status(&r, 400, "EINVAL");
    apit_reply_free(&r);
    post(fx.cashier, "/v1/feedback", "fb-7", "{\"score\":3}", &r);
    apit_assert_status(&r, 400, "EINVAL");
    apit_reply_free(&r);
    post(NULL, "/v1/feedback", "fb-8", body, &r);
    apit_assert_status(&r, 401, "EAUTH");
    apit_reply_free(&r);
    /* Without a sale the visit is the day. */
    snprintf(body, sizeof body, "{\"card\":\"%s\",\"score\":5}", fx.bob);
    post(fx.cashier, "/v1/feedback", "fb-9", body, &r);
    apit_assert_status(&r, 201, NULL);
    assert_true(apit_jint(r.json, "feedback_id") != id);
    apit_reply_free(&r);
}

static const char *poll_job(int64_t job)
{
    static char status[16];
    char path[64];
    snprintf(path, sizeof path, "/v1/print-jobs/%lld", (long long)job);
    for (int i = 0; i < POLL_STEPS; i++) {
        struct apit_reply r;
        get(fx.cashier, path, &r);
        apit_assert_status(&r, 200, NULL);
        snprintf(status, sizeof status, "%s", apit_jstr(r.json, "status"));
        apit_reply_free(&r);
        if (strcmp(status, "printed") == 0)
            break;
        nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
    }
    return status;
}

static void goodwill_coupon_prints(void **state)
{
    struct apit_reply r, again;
    char body[256], path[64], png[400], token[300];
    (void)state;
    snprintf(body, sizeof body,
             "{\"card\":\"%s\",\"reward_id\":%lld,\"complaint\":\"cold coffee\"}", fx.bob,
             (long long)fx.reward_id);
    post(fx.cashier, "/v1/goodwill", "gw-0", body, &r);
    apit_assert_status(&r, 403, "EFORBIDDEN"); /* a manager's gesture */
    apit_reply_free(&r);
    post(fx.manager, "/v1/goodwill", "gw-1", body, &r);
    apit_assert_status(&r, 201, NULL);
    assert_int_equal(apit_jint(r.json, "issued_today"), 1);
    assert_int_equal(apit_jint(r.json, "daily_limit"), 2);
    assert_int_equal(apit_jint(r.json, "reward_id"), fx.reward_id);
    int64_t job = apit_jint(r.json, "print_job");
    assert_true(job > 0);
    assert_non_null(apit_jstr(r.json, "print_status"));
    assert_non_null(apit_jstr(r.json, "code"));
    snprintf(path, sizeof path, "/v1/vouchers/%s", apit_jstr(r.json, "voucher_id"));
    post(fx.manager, "/v1/goodwill", "gw-1", body, &again);
    assert_true(again.replayed);
    apit_assert_replay_of(&again, &r);
    apit_reply_free(&again);
    apit_reply_free(&r);

    assert_string_equal(poll_job(job), "printed");
    get(fx.manager, path, &r);
    apit_assert_status(&r, 200, NULL);
    assert_string_equal(apit_jstr(r.json, "status"), "open");
    snprintf(token, sizeof token, "%s", apit_jstr(r.json, "token"));
    apit_reply_free(&r);
    snprintf(png, sizeof png, "%s/job-%lld.png", fx.prints, (long long)job);
    assert_int_equal(access(png, R_OK), 0);
    char *read = test_decode_png(png, ZBAR_QRCODE);
    assert_non_null(read);
    assert_string_equal(read, token);
    free(read);

    /* The replay gave no second coupon; the limit counts gestures, not requests. */
    get(fx.manager, "/v1/print-jobs", &r);
    assert_int_equal(apit_jint(r.json, "count"), 1);
    apit_reply_free(&r);
    snprintf(body, sizeof body, "{\"card\":\"%s\",\"reward_id\":%lld,\"complaint\":\"long wait\"}",
             fx.ada, (long long)fx.reward_id);
    post(fx.manager, "/v1/goodwill", "gw-2", body, &r);
    apit_assert_status(&r, 201, NULL);
    assert_int_equal(apit_jint(r.json, "issued_today"), 2);
    apit_reply_free(&r);
    snprintf(body, sizeof body, "{\"card\":\"%s\",\"reward_id\":%lld,\"complaint\":\"again\"}",
             fx.ada, (long long)fx.reward_id);
    post(fx.manager, "/v1/goodwill", "gw-3", body, &r);
    apit_assert_status(&r, 409, "ELIMIT");
    apit_reply_free(&r);
    snprintf(body, sizeof body, "{\"card\":\"%s\",\"reward_id\":999,\"complaint\":\"x\"}", fx.ada);
    post(fx.manager, "/v1/goodwill", "gw-4", body, &r);
    apit_assert_status(&r, 404, "ENOREWARD");
    apit_reply_free(&r);
    snprintf(body, sizeof body, "{\"card\":\"%s\",\"reward_id\":1}", fx.ada);
    post(fx.manager, "/v1/goodwill", "gw-5", body, &r);
    apit_assert_status(&r, 400, "EINVAL");
    apit_reply_free(&r);
}

static void audience_post(const char *token, const char *body, int status, const char *code,
                          struct apit_reply *r)
{
    post(token, "/v1/offers/audience", NULL, body, r);
    apit_assert_status(r, status, code);
}

/* The count and sample of the members an offer's targets reach, by the scan's own test: Ada is
 * in the segment 'regulars' and has bought, Bob has not bought yet. */
static void offer_audience_is_counted_with_a_sample(void **state)
{
    struct apit_reply r;
    (void)state;
    audience_post(fx.cashier, "{}", 403, "EFORBIDDEN", &r);
    apit_reply_free(&r);
    audience_post(fx.manager, "{}", 403, "EFORBIDDEN", &r);
    apit_reply_free(&r);
    audience_post(fx.admin, "{}", 200, NULL, &r);
    assert_int_equal(apit_jint(r.json, "count"), 2);
    assert_int_equal(apit_jint(r.json, "members"), 2);
    assert_int_equal(json_array_size(json_object_get(r.json, "sample")), 2);
    apit_reply_free(&r);
    audience_post(fx.admin, "{\"segment\":\"regulars\"}", 200, NULL, &r);
    assert_int_equal(apit_jint(r.json, "count"), 1);
    json_t *first = json_array_get(json_object_get(r.json, "sample"), 0);
    assert_string_equal(apit_jstr(first, "card"), fx.ada);
    assert_string_equal(apit_jstr(first, "name"), "Ada");
    apit_reply_free(&r);
    audience_post(fx.admin, "{\"first_visit\":true}", 200, NULL, &r);
    assert_int_equal(apit_jint(r.json, "count"), 1);
    first = json_array_get(json_object_get(r.json, "sample"), 0);
    assert_string_equal(apit_jstr(first, "card"), fx.bob);
    apit_reply_free(&r);
    audience_post(fx.admin, "{\"segment\":\"regulars\",\"first_visit\":true}", 200, NULL, &r);
    assert_int_equal(apit_jint(r.json, "count"), 0);
    assert_int_equal(json_array_size(json_object_get(r.json, "sample")), 0);
    apit_reply_free(&r);
    audience_post(fx.admin, "{\"segment\":\"nobody\"}", 400, "EINVAL", &r);
    apit_reply_free(&r);
    audience_post(fx.admin, "{\"category\":\"coffee\"}", 400, "EINVAL", &r);
    apit_reply_free(&r);
    audience_post(fx.admin, "{\"name\":\"X\"}", 400, "EINVAL", &r);
    apit_reply_free(&r);
}

static void offers_are_added_applied_and_ended(void **state)
{
    struct apit_reply r, again;
    char body[256], path[64], end[64];
    const char *offer = "{\"name\":\"Spend 10, get 50\",\"benefit\":\"bonus:50\","
                        "\"min_basket\":1000,\"limit_per_member\":3,\"to\":\"2026-12-31\"}";
    (void)state;
    get(fx.cashier, "/v1/offers", &r);
    apit_assert_status(&r, 403, "EFORBIDDEN");
    apit_reply_free(&r);
    get(fx.manager, "/v1/offers", &r);
    apit_assert_status(&r, 200, NULL);
    assert_int_equal(apit_jint(r.json, "count"), 0);
    apit_reply_free(&r);
    post(fx.manager, "/v1/offers", "offer-0", offer, &r);
    apit_assert_status(&r, 403, "EFORBIDDEN");
    apit_reply_free(&r);

    post(fx.admin, "/v1/offers", "offer-1", offer, &r);
    apit_assert_status(&r, 201, NULL);
    int64_t id = apit_jint(r.json, "offer_id");
    assert_string_equal(apit_jstr(r.json, "status"), "running");
    assert_string_equal(apit_jstr(r.json, "benefit"), "bonus:50");
    assert_string_equal(apit_jstr(r.json, "created_by"), "owner");
    assert_string_equal(apit_jstr(r.json, "to"), "2027-01-01T00:00:00Z"); /* through that day */
    assert_int_equal(apit_jint(r.json, "min_basket"), 1000);
    post(fx.admin, "/v1/offers", "offer-1", offer, &again);
    assert_true(again.replayed);
    apit_assert_replay_of(&again, &r);
    apit_reply_free(&again);
    apit_reply_free(&r);

    post(fx.admin, "/v1/offers", "offer-2", "{\"name\":\"X\",\"benefit\":\"gift:1\"}", &r);
    apit_assert_status(&r, 400, "EINVAL");
    apit_reply_free(&r);
    post(fx.admin, "/v1/offers", "offer-3", "{\"name\":\"X\",\"benefit\":\"bonus:5\",\"x\":1}", &r);
    apit_assert_status(&r, 400, "EINVAL");
    apit_reply_free(&r);
    post(fx.admin, "/v1/offers", "offer-4",
         "{\"name\":\"X\",\"benefit\":\"bonus:5\",\"from\":\"2026-05-01\",\"to\":\"2026-04-01\"}",
         &r);
    apit_assert_status(&r, 400, "EINVAL");
    apit_reply_free(&r);
    post(fx.admin, "/v1/offers", "offer-5",
         "{\"name\":\"X\",\"benefit\":\"bonus:5\","
         "\"from\":\"tomorrow\"}",
         &r);
    apit_assert_status(&r, 400, "EINVAL");
    apit_reply_free(&r);

    snprintf(path, sizeof path, "/v1/offers/%lld", (long long)id);
    get(fx.manager, path, &r);
    apit_assert_status(&r, 200, NULL);
    char id_text[16];
    snprintf(id_text, sizeof id_text, "%lld", (long long)id);
    json_t *cli = CLI("offer", "show", id_text);
    assert_true(json_equal(cli, r.json));
    json_decref(cli);
    apit_reply_free(&r);
    get(fx.manager, "/v1/offers/999", &r);
    apit_assert_status(&r, 404, NULL);
    apit_reply_free(&r);

    /* Shown at scan, with why; applied to a sale over the minimum basket. */
    snprintf(body, sizeof body, "{\"card\":\"%s\"}", fx.bob);
    post(fx.cashier, "/v1/scan", NULL, body, &r);
    json_t *shown = json_array_get(json_object_get(r.json, "offers"), 0);
    assert_non_null(shown);
    assert_int_equal(apit_jint(shown, "offer_id"), id);
    assert_non_null(apit_jstr(shown, "why"));
    assert_true(json_is_null(json_object_get(shown, "reward_id")));
    apit_reply_free(&r);
    snprintf(body, sizeof body, "{\"card\":\"%s\",\"ref\":\"OFF-1\",\"total\":1500}", fx.bob);
    post(fx.cashier, "/v1/sales", "sale-off-1", body, &r);
    apit_assert_status(&r, 201, NULL);
    assert_int_equal(apit_jint(r.json, "bonus_points"), 50);
    assert_int_equal(
        json_integer_value(json_array_get(json_object_get(r.json, "offers_applied"), 0)), id);
    apit_reply_free(&r);

    snprintf(end, sizeof end, "/v1/offers/%lld/end", (long long)id);
    post(fx.manager, end, "end-0", NULL, &r);
    apit_assert_status(&r, 403, "EFORBIDDEN");
    apit_reply_free(&r);
    post(fx.admin, end, "end-1", NULL, &r);
    apit_assert_status(&r, 200, NULL);
    assert_true(json_is_true(json_object_get(r.json, "ended")));
    assert_string_equal(apit_jstr(r.json, "status"), "ended");
    assert_int_equal(apit_jint(r.json, "uses"), 1);
    assert_string_equal(apit_jstr(r.json, "ended_at"), NOW);
    apit_reply_free(&r);
    post(fx.admin, end, "end-2", NULL, &r);
    apit_assert_status(&r, 409, "EINACTIVE");
    apit_reply_free(&r);

    get(fx.manager, "/v1/offers", &r);
    assert_int_equal(apit_jint(r.json, "count"), 0);
    apit_reply_free(&r);
    get(fx.manager, "/v1/offers?all=1", &r);
    assert_int_equal(apit_jint(r.json, "count"), 1);
    cli = CLI("offer", "list", "--all");
    assert_true(json_equal(cli, r.json));
    json_decref(cli);
    apit_reply_free(&r);
    get(fx.manager, "/v1/offers?all=maybe", &r);
    apit_assert_status(&r, 400, "EINVAL");
    apit_reply_free(&r);
    get(fx.manager, "/v1/offers?every=1", &r);
    apit_assert_status(&r, 400, "EINVAL");
    apit_reply_free(&r);
}

static void reports_as_json_and_csv(void **state)
{
    struct apit_reply r;
    (void)state;
    get(fx.cashier, "/v1/reports/liability", &r);
    apit_assert_status(&r, 403, "EFORBIDDEN");
    apit_reply_free(&r);
    get(fx.manager, "/v1/reports/liability", &r);
    apit_assert_status(&r, 403, "EFORBIDDEN");
    apit_reply_free(&r);

    get(fx.admin, "/v1/reports/liability", &r);
    apit_assert_status(&r, 200, NULL);
    assert_string_equal(r.type, "application/json");
    assert_string_equal(apit_jstr(r.json, "report"), "liability");
    json_t *cli = CLI("report", "liability");
    assert_true(json_equal(cli, r.json)); /* the program's own JSON of the table */
    json_decref(cli);
    apit_reply_free(&r);

    get(fx.admin, "/v1/reports/redemption?from=2026-01-01&to=2026-04-01&format=csv", &r);
    apit_assert_status(&r, 200, NULL);
    assert_string_equal(r.type, "text/csv; charset=utf-8");
    assert_null(r.json);
    assert_non_null(strstr(r.body, "\r\n"));
    apit_reply_free(&r);
    get(fx.admin, "/v1/reports/churn?limit=5", &r);
    apit_assert_status(&r, 200, NULL);
    assert_string_equal(apit_jstr(r.json, "report"), "churn");
    apit_reply_free(&r);
    get(fx.admin, "/v1/reports/expiring?months=3", &r);
    apit_assert_status(&r, 200, NULL);
    cli = CLI("report", "expiring", "--months", "3");
    assert_true(json_equal(cli, r.json));
    json_decref(cli);
    /* Three months and the "later" row. */
    assert_int_equal(json_array_size(json_object_get(r.json, "rows")), 4);
    apit_reply_free(&r);

    get(fx.admin, "/v1/reports/nonsense", &r);
    apit_assert_status(&r, 404, NULL);
    apit_reply_free(&r);
    get(fx.admin, "/v1/reports/expiring?months=0", &r);
    apit_assert_status(&r, 400, "EINVAL");
    apit_reply_free(&r);
    get(fx.admin, "/v1/reports/redemption?from=yesterday", &r);
    apit_assert_status(&r, 400, "EINVAL");
    apit_reply_free(&r);
    get(fx.admin, "/v1/reports/liability?format=xml", &r);
    apit_assert_status(&r, 400, "EINVAL");
    apit_reply_free(&r);
    get(fx.admin, "/v1/reports/liability?limit=1&limit=2", &r);
    apit_assert_status(&r, 400, "EINVAL");
    apit_reply_free(&r);
}

#define LAPSED 300 /* rows: many pieces of the report, many blocks of the reply */

/* Members with two sales in January 2026, the second 1 to 7 days after the first: by NOW each
 * is far past twice its usual gap, so the churn list has them all. */
static void plant_lapsed(patron_store *s, int n)
{
    int64_t t0;
    assert_int_equal(patron_json_time_parse("2026-01-05T10:00:00Z", &t0), 0);
    assert_int_equal(patron_store_batch_begin(s), 0);
    for (int i = 0; i < n; i++) {
        struct patron_enrollment in = {.name = "Lapsed, \"quoted\""};
        struct patron_member m;
        char ref[32];
        patron_store_set_fixed_time(s, t0);
        assert_int_equal(patron_member_enroll(s, &in, &m), 0);
        for (int k = 0; k < 2; k++) {
            struct patron_sale_result res;
            snprintf(ref, sizeof ref, "L%d-%d", i, k);
            struct patron_sale sale = {
                .card = m.card, .ref = ref, .total_minor = 1000 + i, .idempotency_key = ref};
            patron_store_set_fixed_time(s, t0 + 3600 + k * (1 + i % 7) * 86400);
            assert_int_equal(patron_sale_record(s, &sale, &res), 0);
        }
    }
    assert_int_equal(patron_store_batch_commit(s), 0);
}

/* The report written whole by the library on the store at NOW. */
static char *library_bytes(const char *db, const char *name, enum patron_report_format format,
                           size_t *len, size_t *rows)
{
    patron_store *s;
    struct patron_report_table *t = NULL;
    char *buf = NULL;
    int64_t now;
    assert_int_equal(patron_json_time_parse(NOW, &now), 0);
    assert_int_equal(patron_store_open(db, &s), 0);
    patron_store_set_fixed_time(s, now);
    assert_int_equal(patron_report_run(s, name, NULL, &t), 0);
    FILE *f = open_memstream(&buf, len);
    assert_non_null(f);
    assert_int_equal(patron_report_write(t, format, f), 0);
    assert_int_equal(fclose(f), 0);
    *rows = t->n_rows;
    patron_report_free(t);
    patron_store_close(s);
    return buf;
}

/* A long report goes out as it is written (chunked, never held whole), and its bytes are the
 * library's own: the table written whole by patron_report_write, as JSON and as CSV. */
static void a_long_report_is_streamed_with_the_librarys_bytes(void **state)
{
    static const struct {
        const char *path;
        enum patron_report_format format;
    } want[] = {{"/v1/reports/churn", PATRON_REPORT_JSON},
                {"/v1/reports/churn?format=csv", PATRON_REPORT_CSV}};
    struct api_server sv;
    struct apit_reply r;
    char admin[64], te[64];
    patron_store *s;
    (void)state;
    apit_store_new(&sv);
    apit_terminal(&sv, "owner", "admin", admin);
    assert_int_equal(patron_store_open(sv.db, &s), 0);
    plant_lapsed(s, LAPSED);
    patron_store_close(s);
    apit_start(&sv, "--now", NOW, "--printer", "none", (char *)NULL);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        size_t len, rows;
        char *lib = library_bytes(sv.db, "churn", want[i].format, &len, &rows);
        assert_int_equal(rows, LAPSED);
        assert_true(len > 8192); /* more than one block of the reply */
        apit_call(sv.port, "GET", want[i].path, admin, NULL, NULL, &r);
        apit_assert_status(&r, 200, NULL);
        assert_string_equal(apit_header(&r, "Transfer-Encoding", te, sizeof te), "chunked");
        assert_int_equal(r.len, len);
        assert_memory_equal(r.body, lib, len);
        apit_reply_free(&r);
        free(lib);
    }
    assert_int_equal(apit_stop(&sv), 0);
    test_rmtree(sv.dir);
}

/* Members enough for a churn list far longer than every buffer between the service and a
 * client that reads nothing (the relay's, the sockets': Linux grows a TCP send buffer up to
 * net.ipv4.tcp_wmem's 4 MiB), so its reply stays unsent: about 6.6 MB. */
#define LAPSED_HELD 48000

/* A client that asks for a report and reads only the start of the reply: a small receive
 * buffer, so the rest waits in the service. Returns the socket. */
static int report_unread(int port, const char *path, const char *token)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), small = 4096;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    char req[512], head[512];
    assert_true(fd >= 0);
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
                     "Connection: close\r\n\r\n",
                     path, token);
    assert_int_equal(send(fd, req, (size_t)n, 0), n);
    ssize_t k = recv(fd, head, sizeof head - 1, 0);
    assert_true(k > 12);
    head[k] = '\0';
    assert_non_null(strstr(head, "HTTP/1.1 200"));
    return fd;
}

/* The bytes left of a reply, read to the service's close. */
static size_t read_to_end(int fd)
{
    char buf[65536];
    size_t total = 0;
    ssize_t k;
    while ((k = recv(fd, buf, sizeof buf, 0)) > 0)
        total += (size_t)k;
    assert_int_equal(k, 0);
    close(fd);
    return total;
}

static int64_t reports_waiting(int port)
{
    struct apit_reply r;
    apit_call(port, "GET", "/metrics", NULL, NULL, NULL, &r);
    apit_assert_status(&r, 200, NULL);
    const char *at = strstr(r.body, "\npatron_reports_waiting ");
    assert_non_null(at);
    int64_t n = strtoll(at + strlen("\npatron_reports_waiting "), NULL, 10);
    apit_reply_free(&r);
    return n;
}

struct second_report {
    int port;
    const char *token;
    long status;
};

static void *second_report_main(void *arg)
{
    struct second_report *sr = arg;
    struct apit_reply r;
    apit_call(sr->port, "GET", "/v1/reports/liability", sr->token, NULL, NULL, &r);
    sr->status = r.status;
    apit_reply_free(&r);
    return NULL;
}

/* One report at a time, run AND sent: the churn list of a report still on its way out is held,
 * so the next report waits (patron_reports_waiting in /metrics) until the first reply is sent
 * to its end, then runs. Two lists at once were the service's peak memory. */
static void a_report_waits_until_the_one_before_is_sent(void **state)
{
    struct api_server sv;
    struct second_report sr = {0};
    pthread_t th;
    char admin[64];
    patron_store *s;
    (void)state;
    apit_store_new(&sv);
    apit_terminal(&sv, "owner", "admin", admin);
    assert_int_equal(patron_store_open(sv.db, &s), 0);
    plant_lapsed(s, LAPSED_HELD);
    patron_store_close(s);
    apit_start(&sv, "--now", NOW, "--printer", "none", (char *)NULL);
    int fd = report_unread(sv.port, "/v1/reports/churn", admin);
    sr = (struct second_report){sv.port, admin, 0};
    assert_int_equal(pthread_create(&th, NULL, second_report_main, &sr), 0);
    int step = 0;
    while (reports_waiting(sv.port) != 1 && ++step < POLL_STEPS)
        apit_nap();
    assert_int_equal(reports_waiting(sv.port), 1);     /* the liability report waits its turn */
    assert_true(read_to_end(fd) > 100u * LAPSED_HELD); /* the churn list, sent to its end */
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(sr.status, 200);
    assert_int_equal(reports_waiting(sv.port), 0);
    assert_int_equal(apit_stop(&sv), 0);
    test_rmtree(sv.dir);
}

/* 120,000 notes about the member in a table the store does not know (the export finds every
 * table with a member_id): an export of about 13 MB, far more than the sockets hold. */
static void plant_notes(const char *db)
{
    patron_store *s;
    assert_int_equal(patron_store_open(db, &s), 0);
    assert_int_equal(sqlite3_exec(patron_store_sqlite(s),
                                  "CREATE TABLE shop_notes(member_id INTEGER, note TEXT);"
                                  "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
                                  " WHERE i < 120000) INSERT INTO shop_notes SELECT 1,"
                                  " printf('%06d likes the window seat and the lemon cake', i)"
                                  " FROM n",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    patron_store_close(s);
}

/* A member's export is read in its turn but sent from a file: a client that does not read it
 * holds no turn, and a report runs meanwhile. */
static void an_export_on_its_way_out_holds_no_turn(void **state)
{
    struct api_server sv;
    struct second_report sr = {0};
    pthread_t th;
    char admin[64], card[14], path[64];
    (void)state;
    apit_store_new(&sv);
    apit_terminal(&sv, "owner", "admin", admin);
    apit_member(&sv, "Ada", card);
    plant_notes(sv.db);
    apit_start(&sv, "--now", NOW, "--printer", "none", (char *)NULL);
    snprintf(path, sizeof path, "/v1/members/%s/export", card);
    int fd = report_unread(sv.port, path, admin);
    sr = (struct second_report){sv.port, admin, 0};
    assert_int_equal(pthread_create(&th, NULL, second_report_main, &sr), 0);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += POLL_STEPS / 50; /* as long as the polls of the other tests */
    int joined = pthread_timedjoin_np(th, NULL, &until);
    size_t sent = read_to_end(fd); /* lets a report that waited go on */
    if (joined != 0)
        assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(joined, 0); /* the report ran while the export waited to be read */
    assert_int_equal(sr.status, 200);
    assert_true(sent > 120000u * 40u);
    assert_int_equal(apit_stop(&sv), 0);
    test_rmtree(sv.dir);
}

static int64_t count_of(const char *token, const char *path)
{
    struct apit_reply r;
    get(token, path, &r);
    apit_assert_status(&r, 200, NULL);
    int64_t n = apit_jint(r.json, "count");
    apit_reply_free(&r);
    return n;
}

/* The program for the back office: rules, tiers and rewards read by a manager and changed by an
 * admin only, every change in the rule changes with who, when, old and new. */
static void program_rewards_and_tiers_change_with_their_audit(void **state)
{
    struct apit_reply r;
    char path[64];
    const char *reward = "{\"name\":\"Cake\",\"cost\":300,\"kind\":\"item\",\"value\":2}";
    (void)state;
    get(fx.cashier, "/v1/program", &r);
    apit_assert_status(&r, 403, "EFORBIDDEN");
    apit_reply_free(&r);
    get(fx.manager, "/v1/program", &r);
    apit_assert_status(&r, 200, NULL);
    assert_int_equal(apit_jint(json_object_get(r.json, "rules"), "earn_points"), 1);
    apit_reply_free(&r);
    post(fx.manager, "/v1/program", NULL, "{\"name\":\"expiry_days\",\"value\":\"400\"}", &r);
    apit_assert_status(&r, 403, "EFORBIDDEN");
    apit_reply_free(&r);
    post(fx.admin, "/v1/program", NULL, "{\"name\":\"expiry_days\",\"value\":\"400\"}", &r);
    apit_assert_status(&r, 200, NULL);
    assert_int_equal(apit_jint(json_object_get(r.json, "rules"), "expiry_days"), 400);
    apit_reply_free(&r);
    post(fx.admin, "/v1/program", NULL, "{\"name\":\"nope\",\"value\":\"1\"}", &r);
    apit_assert_status(&r, 400, "EINVAL");
    apit_reply_free(&r);
    post(fx.admin, "/v1/tiers", NULL,
         "{\"name\":\"Gold\",\"threshold\":5000,\"multiplier_permille\":1500}", &r);
    apit_assert_status(&r, 200, NULL);
    apit_reply_free(&r);

    post(fx.admin, "/v1/rewards", "rw-1", reward, &r);
    apit_assert_status(&r, 201, NULL);
    int64_t id = apit_jint(r.json, "reward_id");
    assert_int_equal(apit_jint(r.json, "cost"), 300);
    apit_reply_free(&r);
    snprintf(path, sizeof path, "/v1/rewards/%lld", (long long)id);
    post(fx.admin, path, NULL, "{\"name\":\"Big cake\",\"cost\":350,\"kind\":\"item\",\"value\":2}",
         &r);
    apit_assert_status(&r, 200, NULL);
    assert_string_equal(apit_jstr(r.json, "name"), "Big cake");
    apit_reply_free(&r);
    snprintf(path, sizeof path, "/v1/rewards/%lld/end", (long long)id);
    post(fx.admin, path, "rw-end-1", NULL, &r);
    apit_assert_status(&r, 200, NULL);
    assert_false(json_is_true(json_object_get(r.json, "active")));
    apit_reply_free(&r);
    post(fx.admin, path, "rw-end-2", NULL, &r);
    apit_assert_status(&r, 409, "EINACTIVE");
    apit_reply_free(&r);

    /* the audit: newest first, with who, old and new */
    snprintf(path, sizeof path, "/v1/rule-changes?prefix=reward:%lld", (long long)id);
    get(fx.manager, path, &r);
    apit_assert_status(&r, 200, NULL);
    json_t *v = json_object_get(r.json, "changes");
    assert_int_equal(json_array_size(v), 3);
    assert_string_equal(apit_jstr(json_array_get(v, 0), "new_value"), "ended");
    assert_string_equal(apit_jstr(json_array_get(v, 0), "changed_by"), "owner");
    assert_string_equal(apit_jstr(json_array_get(v, 1), "old_value"),
                        "Cake: 300 points for item 2, valid 30 days");
    assert_string_equal(apit_jstr(json_array_get(v, 1), "new_value"),
                        "Big cake: 350 points for item 2, valid 30 days");
    assert_true(json_is_null(json_object_get(json_array_get(v, 2), "old_value")));
    apit_reply_free(&r);
    get(fx.manager, "/v1/rule-changes?prefix=expiry_days", &r);
    apit_assert_status(&r, 200, NULL);
    json_t *last = json_array_get(json_object_get(r.json, "changes"), 0);
    assert_string_equal(apit_jstr(last, "new_value"), "400");
    assert_string_equal(apit_jstr(last, "changed_by"), "owner");
    assert_non_null(apit_jstr(last, "changed_at"));
    apit_reply_free(&r);
    assert_int_equal(count_of(fx.manager, "/v1/rule-changes?prefix=tier:Gold"), 1);
    assert_true(count_of(fx.manager, "/v1/rule-changes") >= 6);
    get(fx.cashier, "/v1/rule-changes", &r);
    apit_assert_status(&r, 403, "EFORBIDDEN");
    apit_reply_free(&r);
}

/* The keyring for the back office: an admin lists the keys (fingerprints, never a private key
 * or its file) and rotates; the new key signs the next voucher, the old one verifies. */
static void keys_are_listed_and_rotated_by_an_admin(void **state)
{
    struct apit_reply r;
    (void)state;
    get(fx.manager, "/v1/keys", &r);
    apit_assert_status(&r, 403, "EFORBIDDEN");
    apit_reply_free(&r);
    post(fx.manager, "/v1/keys/rotate", "rot-0", NULL, &r);
    apit_assert_status(&r, 403, "EFORBIDDEN");
    apit_reply_free(&r);
    get(fx.admin, "/v1/keys", &r);
    apit_assert_status(&r, 200, NULL);
    size_t before = json_array_size(json_object_get(r.json, "keys"));
    assert_true(before >= 1);
    assert_null(strstr(r.body, "PRIVATE"));
    assert_null(strstr(r.body, ".pem"));
    assert_null(json_object_get(json_array_get(json_object_get(r.json, "keys"), 0), "file"));
    apit_reply_free(&r);
    post(fx.admin, "/v1/keys/rotate", "rot-1", NULL, &r);
    apit_assert_status(&r, 201, NULL);
    int64_t id = apit_jint(r.json, "key_id");
    apit_reply_free(&r);
    get(fx.admin, "/v1/keys", &r);
    json_t *keys = json_object_get(r.json, "keys");
    assert_int_equal(json_array_size(keys), before + 1);
    int actives = 0;
    for (size_t i = 0; i < json_array_size(keys); i++) {
        json_t *k = json_array_get(keys, i);
        if (strcmp(apit_jstr(k, "status"), "active") == 0) {
            actives++;
            assert_int_equal(apit_jint(k, "key_id"), id);
        }
        assert_int_equal(strlen(apit_jstr(k, "fingerprint")), 16);
    }
    assert_int_equal(actives, 1);
    apit_reply_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(offer_audience_is_counted_with_a_sample),
        cmocka_unit_test(feedback_is_one_per_visit),
        cmocka_unit_test(goodwill_coupon_prints),
        cmocka_unit_test(offers_are_added_applied_and_ended),
        cmocka_unit_test(reports_as_json_and_csv),
        cmocka_unit_test(a_long_report_is_streamed_with_the_librarys_bytes),
        cmocka_unit_test(a_report_waits_until_the_one_before_is_sent),
        cmocka_unit_test(an_export_on_its_way_out_holds_no_turn),
        cmocka_unit_test(program_rewards_and_tiers_change_with_their_audit),
        cmocka_unit_test(keys_are_listed_and_rotated_by_an_admin),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
