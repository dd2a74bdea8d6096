/* SPDX-License-Identifier: MIT */
/* Members over HTTP, and the one JSON shape: the service and `patron --json` answer the same
 * objects for the same results (scan, member, rewards, sale, redemption, vouchers, print jobs);
 * enrolment with a referral code pays both members on the first sale; consent is recorded and
 * replayed; the export is the admin's; erasure runs alone between group commits, even with
 * sales in flight, leaves the member erased, the ledger verifying, and no copy of their email in
 * the database file or its WAL. */
#include "apiutil.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW "2026-03-10T12:00:00Z"

static struct fixture {
    struct api_server sv;
    char cashier[64], manager[64], admin[64];
    char ada[14], bob[14];
    int64_t reward_id;
} fx;

/* The program's answer, at the service's clock and without printing. */
#define CLI(...) apit_patron(&fx.sv, "--now", NOW, "--printer", "none", __VA_ARGS__, (char *)NULL)

/* Both answers are the same object but for the `except` keys (NULL-terminated). */
static void assert_same_json(json_t *cli, json_t *api, const char *const *except)
{
    json_t *a = json_deep_copy(cli), *b = json_deep_copy(api);
    for (size_t i = 0; except && except[i]; i++) {
        json_object_del(a, except[i]);
        json_object_del(b, except[i]);
    }
    if (!json_equal(a, b)) {
        char *sa = json_dumps(a, JSON_SORT_KEYS), *sb = json_dumps(b, JSON_SORT_KEYS);
        fprintf(stderr, "program: %s\nservice: %s\n", sa, sb);
        free(sa);
        free(sb);
    }
    assert_true(json_equal(a, b));
    json_decref(a);
    json_decref(b);
}

static int setup(void **state)
{
    (void)state;
    apit_store_new(&fx.sv);
    apit_terminal(&fx.sv, "till-1", "cashier", fx.cashier);
    apit_terminal(&fx.sv, "office", "manager", fx.manager);
    apit_terminal(&fx.sv, "owner", "admin", fx.admin);
    json_t *j = CLI("member", "enroll", "--name", "Ada", "--email", "ada.lovelace@example.org",
                    "--phone", "+44 20 7946 0001");
    snprintf(fx.ada, sizeof fx.ada, "%s", apit_jstr(j, "card"));
    json_decref(j);
    j = CLI("member", "enroll", "--name", "Bob");
    snprintf(fx.bob, sizeof fx.bob, "%s", apit_jstr(j, "card"));
    json_decref(j);
    json_decref(CLI("sale", fx.ada, "--ref", "SEED-A", "--total", "100000"));
    json_decref(CLI("sale", fx.bob, "--ref", "SEED-B", "--total", "100000"));
    /* A member moved in from another program with an old card number (an alias that scans). */
    char csv[400];
    snprintf(csv, sizeof csv, "%s/old.csv", fx.sv.dir);
    FILE *f = fopen(csv, "wb");
    assert_non_null(f);
    fputs("card,email,points,ref,lifetime_points\nOLD-77,old@example.org,30,x-1,900\n", f);
    assert_int_equal(fclose(f), 0);
    static char out[8192]; /* --json would print progress lines before the report */
    assert_int_equal(test_run_patron(out, sizeof out, "--db", fx.sv.db, "--now", NOW, "import",
                                     "members", csv, "--batch", "api", (char *)NULL),
                     0);
    j = CLI("reward", "add", "--name", "Coffee", "--cost", "100", "--kind", "item", "--value", "1");
    fx.reward_id = apit_jint(j, "reward_id");
    json_decref(j);
    apit_start(&fx.sv, "--now", NOW, "--printer", "none", (char *)NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    int status = apit_stop(&fx.sv);
    test_rmtree(fx.sv.dir);
    return status == 0 ? 0 : -1;
}

static void post(const char *token, const char *path, const char *key, const char *body,
                 struct apit_reply *r)
{
    apit_call(fx.sv.port, "POST", path, token, key, body, r);
}

static void get(const char *token, const char *path, struct apit_reply *r)
{
    apit_call(fx.sv.port, "GET", path, token, NULL, NULL, r);
}

static void scan_member_and_rewards_match_the_program(void **state)
{
    struct apit_reply r;
    char body[64], path[64];
    (void)state;
    snprintf(body, sizeof body, "{\"card\":\"%s\"}", fx.ada);
    post(fx.cashier, "/v1/scan", NULL, body, &r);
    apit_assert_status(&r, 200, NULL);
    json_t *cli = CLI("scan", fx.ada);
    assert_same_json(cli, r.json, NULL);
    /* The contract's fields, and both names the two sides used for expiry. */
    static const char *const scan_fields[] = {
        "member_id",   "name",        "points",       "tier",       "offers",      "rewards",
        "expiring_at", "expiring_on", "member_since", "created_at", "card_blocked"};
    for (size_t i = 0; i < sizeof scan_fields / sizeof scan_fields[0]; i++)
        assert_non_null(json_object_get(r.json, scan_fields[i]));
    assert_string_equal(apit_jstr(r.json, "created_at"), NOW);
    json_decref(cli);
    apit_reply_free(&r);

    snprintf(path, sizeof path, "/v1/members/%s", fx.ada);
    get(fx.cashier, path, &r);
    apit_assert_status(&r, 200, NULL);
    cli = CLI("member", "show", fx.ada);
    assert_same_json(cli, r.json, NULL);
    assert_int_equal(strlen(apit_jstr(r.json, "referral_code")), 8);
    assert_string_equal(apit_jstr(r.json, "email"), "ada.lovelace@example.org");
    assert_false(json_is_true(json_object_get(r.json, "erased")));
    json_decref(cli);
    apit_reply_free(&r);

    get(fx.cashier, "/v1/rewards", &r);
    apit_assert_status(&r, 200, NULL);
    cli = CLI("reward", "list");
    assert_same_json(cli, r.json, NULL);
    assert_int_equal(apit_jint(r.json, "count"), 1);
    json_decref(cli);
    apit_reply_free(&r);
}

/* An old card number imported as an alias scans over HTTP and shows the member with what they
 * brought, as the program does. */
static void an_imported_alias_scans_over_http(void **state)
{
    struct apit_reply r;
    (void)state;
    post(fx.cashier, "/v1/scan", NULL, "{\"card\":\"OLD-77\"}", &r);
    apit_assert_status(&r, 200, NULL);
    assert_int_equal(apit_jint(r.json, "points"), 30);
    assert_int_equal(strlen(apit_jstr(r.json, "card")), 13);
    apit_reply_free(&r);
    get(fx.cashier, "/v1/members/OLD-77", &r);
    apit_assert_status(&r, 200, NULL);
    json_t *cli = CLI("member", "show", "OLD-77");
    assert_same_json(cli, r.json, NULL);
    json_t *imp = json_object_get(r.json, "imported");
    assert_string_equal(apit_jstr(imp, "ref"), "x-1");
    assert_int_equal(apit_jint(imp, "lifetime_points"), 900);
    assert_string_equal(json_string_value(json_array_get(json_object_get(imp, "old_cards"), 0)),
                        "OLD-77");
    json_decref(cli);
    apit_reply_free(&r);
    post(fx.cashier, "/v1/scan", NULL, "{\"card\":\"OLD-78\"}", &r);
    assert_true(r.status >= 400);
    apit_reply_free(&r);
}

/* The program, asked again for the same till (--till) with the service's idempotency key,
 * answers the same result as a replay: the objects differ only in the service's print_status. */
static void sale_redemption_and_vouchers_match_the_program(void **state)
{
    static const char *const replay_keys[] = {"print_status", NULL};
    struct apit_reply r;
    char body[128], path[96], id[8];
    (void)state;
    snprintf(body, sizeof body, "{\"card\":\"%s\",\"ref\":\"SHAPE-1\",\"total\":2500}", fx.bob);
    post(fx.cashier, "/v1/sales", "shape-sale", body, &r);
    apit_assert_status(&r, 201, NULL);
    json_t *cli = CLI("sale", fx.bob, "--ref", "SHAPE-1", "--total", "2500", "--key", "shape-sale",
                      "--till", "till-1");
    assert_true(json_is_true(json_object_get(cli, "replayed")));
    json_object_set_new(r.json, "replayed", json_true()); /* what the service says again */
    assert_same_json(cli, r.json, replay_keys);
    json_decref(cli);
    apit_reply_free(&r);

    snprintf(path, sizeof path, "/v1/rewards/%lld/redeem", (long long)fx.reward_id);
    snprintf(id, sizeof id, "%lld", (long long)fx.reward_id);
    snprintf(body, sizeof body, "{\"card\":\"%s\"}", fx.bob);
    post(fx.cashier, path, "shape-redeem", body, &r);
    apit_assert_status(&r, 201, NULL);
    cli = CLI("reward", "redeem", fx.bob, id, "--key", "shape-redeem", "--till", "till-1");
    assert_true(json_is_true(json_object_get(cli, "replayed")));
    json_object_set_new(r.json, "replayed", json_true());
    assert_same_json(cli, r.json, replay_keys);
    json_decref(cli);
    char code[32], voucher_id[24];
    int64_t job = apit_jint(r.json, "print_job");
    snprintf(code, sizeof code, "%s", apit_jstr(r.json, "code"));
    snprintf(voucher_id, sizeof voucher_id, "%s", apit_jstr(r.json, "voucher_id"));
    apit_reply_free(&r);

    snprintf(body, sizeof body, "{\"code\":\"%s\"}", code);
    post(fx.cashier, "/v1/vouchers/check", NULL, body, &r);
    apit_assert_status(&r, 200, NULL);
    cli = CLI("voucher", "check", code);
    assert_same_json(cli, r.json, NULL);
    json_decref(cli);
    apit_reply_free(&r);

    snprintf(path, sizeof path, "/v1/vouchers/%s", voucher_id);
    get(fx.manager, path, &r);
    apit_assert_status(&r, 200, NULL);
    cli = CLI("voucher", "show", code);
    assert_same_json(cli, r.json, NULL);
    json_decref(cli);
    apit_reply_free(&r);

    snprintf(path, sizeof path, "/v1/print-jobs/%lld", (long long)job);
    get(fx.cashier, path, &r);
    apit_assert_status(&r, 200, NULL);
    assert_string_equal(apit_jstr(r.json, "created_at"), NOW);
    apit_reply_free(&r);
    get(fx.manager, "/v1/print-jobs", &r);
    apit_assert_status(&r, 200, NULL);
    cli = CLI("print", "queue", "--all");
    assert_same_json(cli, r.json, NULL);
    json_decref(cli);
    apit_reply_free(&r);
}

static void referral_enrolment_pays_both_on_the_first_sale(void **state)
{
    struct apit_reply r, again;
    char path[64], body[256], newcomer[14];
    (void)state;
    snprintf(path, sizeof path, "/v1/members/%s", fx.ada);
    get(fx.cashier, path, &r);
    char code[16];
    snprintf(code, sizeof code, "%s", apit_jstr(r.json, "referral_code"));
    int64_t ada_before = apit_jint(r.json, "points");
    apit_reply_free(&r);

    snprintf(body, sizeof body, "{\"name\":\"Cy\",\"referred_by\":\"%s\"}", code);
    post(fx.cashier, "/v1/members", "enrol-cy", body, &r);
    apit_assert_status(&r, 201, NULL);
    snprintf(newcomer, sizeof newcomer, "%s", apit_jstr(r.json, "card"));
    post(fx.cashier, "/v1/members", "enrol-cy", body, &again);
    assert_true(again.replayed);
    apit_assert_replay_of(&again, &r);
    apit_reply_free(&again);
    apit_reply_free(&r);
    json_t *info = CLI("referral", "show", newcomer);
    assert_false(json_is_null(json_object_get(info, "referred_by")));
    json_decref(info);

    snprintf(body, sizeof body, "{\"card\":\"%s\",\"ref\":\"CY-1\",\"total\":3000}", newcomer);
    post(fx.cashier, "/v1/sales", "sale-cy-1", body, &r);
    apit_assert_status(&r, 201, NULL);
    int64_t earned = apit_jint(r.json, "points_earned"), bonus = apit_jint(r.json, "bonus_points");
    assert_int_equal(bonus, 100); /* the program's referral_bonus_points */
    assert_int_equal(apit_jint(r.json, "points"), earned + bonus);
    apit_reply_free(&r);
    get(fx.cashier, path, &r);
    assert_int_equal(apit_jint(r.json, "points"), ada_before + 100);
    apit_reply_free(&r);
    /* The bonus is once: a second sale pays neither again. */
    snprintf(body, sizeof body, "{\"card\":\"%s\",\"ref\":\"CY-2\",\"total\":3000}", newcomer);
    post(fx.cashier, "/v1/sales", "sale-cy-2", body, &r);
    assert_int_equal(apit_jint(r.json, "bonus_points"), 0);
    apit_reply_free(&r);
    get(fx.cashier, path, &r);
    assert_int_equal(apit_jint(r.json, "points"), ada_before + 100);
    apit_reply_free(&r);

    post(fx.cashier, "/v1/members", "enrol-x", "{\"name\":\"X\",\"referred_by\":\"ZZZZZZZZ\"}", &r);
    apit_assert_status(&r, 404, "ENOTFOUND");
    apit_reply_free(&r);
    post(fx.cashier, "/v1/members", "enrol-y", "{\"name\":\"Y\",\"referred_by\":7}", &r);
    apit_assert_status(&r, 400, "EINVAL");
    apit_reply_free(&r);
}

/* Text rules hold over HTTP (400 for a C1 control character, which is valid JSON), a sale
 * without lines is judged by its total, and a row that somehow holds bad bytes still answers. */
static void text_rules_and_limits_hold_over_http(void **state)
{
    struct apit_reply r;
    char path[64], body[256], card[14];
    patron_store *s;
    (void)state;
    post(fx.cashier, "/v1/members", "enrol-c1", "{\"name\":\"A\\u0085B\"}", &r);
    apit_assert_status(&r, 400, "EINVAL");
    apit_reply_free(&r);
    post(fx.cashier, "/v1/members", "enrol-dee", "{\"name\":\"Dee\"}", &r);
    apit_assert_status(&r, 201, NULL);
    snprintf(card, sizeof card, "%s", apit_jstr(r.json, "card"));
    apit_reply_free(&r);
    snprintf(body, sizeof body, "{\"card\":\"%s\",\"ref\":\"BIG-1\",\"total\":2000000000}", card);
    post(fx.cashier, "/v1/sales", "sale-big-1", body, &r);
    apit_assert_status(&r, 201, NULL);
    apit_reply_free(&r);
    /* As an old store or a hand edit might hold it. */
    assert_int_equal(patron_store_open(fx.sv.db, &s), 0);
    snprintf(body, sizeof body,
             "UPDATE members SET name = CAST(x'44ff65' AS TEXT) WHERE id = (SELECT member_id"
             " FROM cards WHERE number = '%s')",
             card);
    assert_int_equal(sqlite3_exec(patron_store_sqlite(s), body, NULL, NULL, NULL), SQLITE_OK);
    patron_store_close(s);
    snprintf(path, sizeof path, "/v1/members/%s", card);
    get(fx.cashier, path, &r);
    apit_assert_status(&r, 200, NULL);
    assert_string_equal(apit_jstr(r.json, "name"), "D\xef\xbf\xbd"
                                                   "e");
    apit_reply_free(&r);
    snprintf(body, sizeof body, "{\"card\":\"%s\"}", card);
    post(fx.cashier, "/v1/scan", NULL, body, &r);
    apit_assert_status(&r, 200, NULL);
    apit_reply_free(&r);
}

static void consent_is_recorded_and_replayed(void **state)
{
    struct apit_reply r, again;
    char path[64], member[64];
    const char *body = "{\"marketing\":true,\"source\":\"web\"}";
    (void)state;
    snprintf(path, sizeof path, "/v1/members/%s/consent", fx.bob);
    snprintf(member, sizeof member, "/v1/members/%s", fx.bob);
    post(fx.cashier, path, NULL, body, &r);
    apit_assert_status(&r, 400, "EINVAL"); /* a write needs its key */
    apit_reply_free(&r);
    post(fx.cashier, path, "consent-1", body, &r);
    apit_assert_status(&r, 200, NULL);
    assert_true(json_is_true(json_object_get(r.json, "consent_marketing")));
    assert_string_equal(apit_jstr(r.json, "consent_source"), "web");
    assert_string_equal(apit_jstr(r.json, "consent_at"), NOW);
    assert_string_equal(apit_jstr(r.json, "card"), fx.bob);
    post(fx.cashier, path, "consent-1", body, &again);
    assert_true(again.replayed);
    apit_assert_replay_of(&again, &r);
    apit_reply_free(&again);
    apit_reply_free(&r);
    post(fx.cashier, path, "consent-1", "{\"marketing\":false}", &r);
    apit_assert_status(&r, 422, "EIDEMPOTENCY");
    apit_reply_free(&r);
    get(fx.cashier, member, &r);
    assert_true(json_is_true(json_object_get(r.json, "consent_marketing")));
    apit_reply_free(&r);

    post(fx.cashier, path, "consent-2", "{\"marketing\":false}", &r);
    apit_assert_status(&r, 200, NULL);
    assert_false(json_is_true(json_object_get(r.json, "consent_marketing")));
    apit_reply_free(&r);
    get(fx.cashier, member, &r);
    assert_false(json_is_true(json_object_get(r.json, "consent_marketing")));
    apit_reply_free(&r);

    post(fx.cashier, path, "consent-3", "{\"source\":\"web\"}", &r);
    apit_assert_status(&r, 400, "EINVAL");
    apit_reply_free(&r);
    post(fx.cashier, path, "consent-4", "{\"marketing\":\"yes\"}", &r);
    apit_assert_status(&r, 400, "EINVAL");
    apit_reply_free(&r);
    post(fx.cashier, path, "consent-5", "{\"marketing\":true,\"by\":\"me\"}", &r);
    apit_assert_status(&r, 400, "EINVAL");
    apit_reply_free(&r);
    post(fx.cashier, "/v1/members/2900000000001/consent", "consent-6", body, &r);
    assert_true(r.status == 400 || r.status == 404);
    apit_reply_free(&r);
    post(NULL, path, "consent-7", body, &r);
    apit_assert_status(&r, 401, "EAUTH");
    apit_reply_free(&r);
}

static void export_is_for_the_admin(void **state)
{
    struct apit_reply r;
    char path[64];
    (void)state;
    snprintf(path, sizeof path, "/v1/members/%s/export", fx.ada);
    get(fx.cashier, path, &r);
    apit_assert_status(&r, 403, "EFORBIDDEN");
    apit_reply_free(&r);
    get(fx.manager, path, &r);
    apit_assert_status(&r, 403, "EFORBIDDEN");
    apit_reply_free(&r);
    get(fx.admin, path, &r);
    apit_assert_status(&r, 200, NULL);
    assert_string_equal(r.type, "application/json");
    json_t *m = json_object_get(r.json, "member");
    assert_string_equal(apit_jstr(m, "name"), "Ada");
    assert_true(json_array_size(json_object_get(r.json, "entries")) >= 1);
    assert_true(json_array_size(json_object_get(r.json, "sales")) >= 1);
    apit_reply_free(&r);
    apit_call(fx.sv.port, "GET", "/v1/members/2900000000001/export", fx.admin, NULL, NULL, &r);
    assert_true(r.status == 400 || r.status == 404);
    apit_reply_free(&r);
}

/* Sales for Bob while Ada is erased: the erasure waits for the batch before it and the sales
 * after it wait for the erasure; each is answered, and all of them stand. */
struct seller {
    int n;
    int ok;
};

static void *sell(void *arg)
{
    struct seller *s = arg;
    CURL *h = curl_easy_init();
    for (int i = 0; i < s->n; i++) {
        struct apit_reply r;
        char body[128], key[32];
        snprintf(body, sizeof body, "{\"card\":\"%s\",\"ref\":\"ER-%d\",\"total\":1000}", fx.bob,
                 i);
        snprintf(key, sizeof key, "erase-race-%d", i);
        if (apit_request(h, fx.sv.port, "POST", "/v1/sales", fx.cashier, key, body, &r) == 0 &&
            r.status == 201)
            s->ok++;
        apit_reply_free(&r);
    }
    curl_easy_cleanup(h);
    return NULL;
}

/* Whether `needle` occurs anywhere in the file at `path` (a missing file holds nothing). */
static int file_holds(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    size_t n = strlen(needle), len = 0, cap = 1 << 20;
    char *buf = malloc(cap);
    int found = 0;
    assert_non_null(buf);
    for (size_t got; (got = fread(buf + len, 1, cap - len, f)) > 0;) {
        len += got;
        if (len == cap) {
            char *nb = realloc(buf, cap *= 2);
            assert_non_null(nb);
            buf = nb;
        }
    }
    for (size_t i = 0; i + n <= len && !found; i++)
        found = memcmp(buf + i, needle, n) == 0;
    free(buf);
    fclose(f);
    return found;
}

static void erase_runs_alone_and_leaves_the_ledger_whole(void **state)
{
    struct apit_reply r, again;
    char path[64], member[64], wal[320], body[64];
    struct seller seller = {.n = 30};
    pthread_t t;
    (void)state;
    snprintf(path, sizeof path, "/v1/members/%s/erase", fx.ada);
    snprintf(member, sizeof member, "/v1/members/%s", fx.ada);
    post(fx.cashier, path, "erase-0", NULL, &r);
    apit_assert_status(&r, 403, "EFORBIDDEN");
    apit_reply_free(&r);
    post(fx.manager, path, "erase-0", NULL, &r);
    apit_assert_status(&r, 403, "EFORBIDDEN");
    apit_reply_free(&r);
    post(fx.admin, path, NULL, NULL, &r);
    apit_assert_status(&r, 400, "EINVAL");
    apit_reply_free(&r);
    post(fx.admin, path, "erase-1", "{\"why\":1}", &r);
    apit_assert_status(&r, 400, "EINVAL");
    apit_reply_free(&r);
    get(fx.cashier, member, &r);
    int64_t ada_id = apit_jint(r.json, "member_id");
    apit_reply_free(&r);
    /* Before: the email is on disk, so the check below can see it. */
    snprintf(wal, sizeof wal, "%s-wal", fx.sv.db);
    assert_true(file_holds(fx.sv.db, "ada.lovelace@example.org") ||
                file_holds(wal, "ada.lovelace@example.org"));

    assert_int_equal(pthread_create(&t, NULL, sell, &seller), 0);
    post(fx.admin, path, "erase-1", NULL, &r);
    assert_int_equal(pthread_join(t, NULL), 0);
    apit_assert_status(&r, 200, NULL);
    assert_int_equal(seller.ok, seller.n);
    assert_int_equal(apit_jint(r.json, "member_id"), ada_id);
    assert_true(json_is_true(json_object_get(r.json, "erased")));
    post(fx.admin, path, "erase-1", NULL, &again);
    assert_true(again.replayed);
    apit_assert_replay_of(&again, &r);
    apit_reply_free(&again);
    apit_reply_free(&r);

    get(fx.cashier, member, &r);
    apit_assert_status(&r, 200, NULL);
    assert_true(json_is_true(json_object_get(r.json, "erased")));
    assert_true(json_is_true(json_object_get(r.json, "card_blocked")));
    assert_string_equal(apit_jstr(r.json, "name"), "erased");
    assert_true(json_is_null(json_object_get(r.json, "email")));
    assert_null(json_object_get(r.json, "referral_code"));
    apit_reply_free(&r);
    snprintf(body, sizeof body, "{\"card\":\"%s\"}", fx.ada);
    post(fx.cashier, "/v1/scan", NULL, body, &r);
    apit_assert_status(&r, 409, "EBLOCKED");
    apit_reply_free(&r);
    /* Erasing again only finishes the checkpoint. */
    post(fx.admin, path, "erase-2", NULL, &r);
    apit_assert_status(&r, 200, NULL);
    apit_reply_free(&r);

    json_t *v = CLI("ledger", "verify");
    assert_true(json_is_true(json_object_get(v, "ok")));
    json_decref(v);
    assert_false(file_holds(fx.sv.db, "ada.lovelace@example.org"));
    assert_false(file_holds(wal, "ada.lovelace@example.org"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(scan_member_and_rewards_match_the_program),
        cmocka_unit_test(an_imported_alias_scans_over_http),
        cmocka_unit_test(sale_redemption_and_vouchers_match_the_program),
        cmocka_unit_test(referral_enrolment_pays_both_on_the_first_sale),
        cmocka_unit_test(text_rules_and_limits_hold_over_http),
        cmocka_unit_test(consent_is_recorded_and_replayed),
        cmocka_unit_test(export_is_for_the_admin),
        cmocka_unit_test(erase_runs_alone_and_leaves_the_ledger_whole),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
