/* SPDX-License-Identifier: MIT */
/* Erasure over HTTP while another connection keeps the WAL from being truncated: the service
 * answers 503 EBUSY (the erasure is committed, old copies may remain in the WAL), keeps no
 * reply for the key, and the same request sent again once the reader is gone finishes the
 * checkpoint and answers 200. Slow: the checkpoint waits out the store's busy timeout on each
 * of its attempts. */
#include "apiutil.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

static void erase_waits_for_a_reader_then_finishes(void **state)
{
    struct api_server sv;
    struct apit_reply r;
    char admin[64], card[14], path[64];
    sqlite3 *reader;
    sqlite3_stmt *st;
    (void)state;
    apit_store_new(&sv);
    apit_terminal(&sv, "owner", "admin", admin);
    apit_member(&sv, "Ada", card);
    apit_start(&sv, NULL);

    /* A reader in the middle of a read transaction holds the WAL's current snapshot. */
    assert_int_equal(sqlite3_open_v2(sv.db, &reader, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(reader, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(reader, "SELECT count(*) FROM members", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);

    snprintf(path, sizeof path, "/v1/members/%s/erase", card);
    apit_call(sv.port, "POST", path, admin, "erase-1", NULL, &r);
    if (r.status != 503)
        fprintf(stderr, "expected 503, got %ld: %s\n", r.status, r.body);
    assert_int_equal(r.status, 503);
    assert_string_equal(apit_jstr(r.json, "code"), "EBUSY");
    assert_non_null(strstr(apit_jstr(r.json, "detail"), "committed"));
    apit_reply_free(&r);

    sqlite3_finalize(st);
    sqlite3_exec(reader, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(reader);

    /* Committed already: the member reads as erased. */
    snprintf(path, sizeof path, "/v1/members/%s", card);
    apit_call(sv.port, "GET", path, admin, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_true(json_is_true(json_object_get(r.json, "erased")));
    apit_reply_free(&r);

    /* No reply was kept for the key: the retry runs and finishes the checkpoint. */
    snprintf(path, sizeof path, "/v1/members/%s/erase", card);
    apit_call(sv.port, "POST", path, admin, "erase-1", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_false(r.replayed);
    assert_true(json_is_true(json_object_get(r.json, "erased")));
    apit_reply_free(&r);
    apit_call(sv.port, "POST", path, admin, "erase-1", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_true(r.replayed);
    apit_reply_free(&r);

    json_t *v = apit_patron(&sv, "ledger", "verify", (char *)NULL);
    assert_true(json_is_true(json_object_get(v, "ok")));
    json_decref(v);
    assert_int_equal(apit_stop(&sv), 0);
    apit_cleanup(&sv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(erase_waits_for_a_reader_then_finishes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
