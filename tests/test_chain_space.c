/* SPDX-License-Identifier: MIT */
/* Card number spaces granted by head office (label pg): a chain store whose spaces are 80% used
 * is granted another at `patron sync`, two stores never the same one, a grant whose answer was
 * lost is given again, `patron hq store add` refuses the id of a granted space, a chain store out
 * of numbers asks at enrolment when head office can be reached and refuses, writing nothing, when
 * it cannot; a card of a granted space is its store's at head office and in other stores; a
 * store that took spaces for itself before it joined reports them at its first sync. */
#include <jansson.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chainutil.h"
#include "clirun.h"
#include "hq.h"

static void sql(struct test_store *t, const char *text)
{
    char *msg = NULL;
    if (sqlite3_exec(patron_store_sqlite(t->s), text, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", text, msg ? msg : "?");
}

/* Sets the count of the store's spaces to `minted`. */
static void used(struct test_store *t, int64_t minted)
{
    char text[96];
    snprintf(text, sizeof text, "UPDATE card_spaces SET minted = %lld", (long long)minted);
    sql(t, text);
}

static int64_t held(struct test_store *t, int space, const char *source)
{
    char text[160];
    snprintf(text, sizeof text,
             "SELECT count(*) FROM card_spaces WHERE space = %d AND source = '%s'", space, source);
    return test_scalar(t->s, text);
}

static void two_stores_are_granted_distinct_spaces_at_sync(void **state)
{
    (void)state;
    char owner[512], url1[1024], url2[1024], card[14], text[160];
    struct test_store a, b;
    struct clirun r = {0};
    chain_make("chain_space_sync", owner, url1, url2);
    chain_store_open(&a, 1);
    chain_store_open(&b, 2);
    /* under 80%: nothing asked */
    used(&a, PATRON_CARD_SPACE_LOW - 1);
    chain_sync_ok(&a, url1, NULL);
    assert_int_equal(pg_int(owner, "SELECT count(*) FROM card_spaces"), 0);
    used(&a, PATRON_CARD_SPACE_LOW);
    used(&b, PATRON_CARD_SPACE_LOW);
    if (clirun(&r, "--json", "--db", a.path, "--home", home, "--hq", url1, "sync", (char *)NULL))
        fail_msg("sync: %s", r.err);
    json_t *o = json_loads(r.out, 0, NULL);
    assert_non_null(o);
    assert_int_equal(json_integer_value(json_object_get(o, "card_space")), 65535);
    json_decref(o);
    chain_sync_ok(&b, url2, NULL);
    assert_int_equal(held(&a, 65535, "granted"), 1);
    assert_int_equal(held(&b, 65534, "granted"), 1);
    assert_string_equal(pg_text(owner, "SELECT string_agg(space || ':' || store_id, ' '"
                                       " ORDER BY space) FROM card_spaces"),
                        "65534:2 65535:1");
    /* a second sync asks nothing more: the granted space is empty */
    chain_sync_ok(&a, url1, NULL);
    assert_int_equal(pg_int(owner, "SELECT count(*) FROM card_spaces"), 2);
    /* store 1 mints in its grant once its own space is full; head office files the card
     * under store 1, and store 2, once it has pulled the grants, says the number is store 1's */
    used(&a, 0);
    sql(&a, "UPDATE card_spaces SET minted = 137331 WHERE space = 1");
    test_enroll(&a, "Granted Gail", card);
    assert_int_equal(patron_card_store(card, NULL), 65535);
    assert_int_equal(patron_card_owner(a.s, card), 1);
    chain_sync_ok(&a, url1, NULL);
    snprintf(text, sizeof text, "SELECT store_id FROM cards WHERE card_number = '%s'", card);
    assert_int_equal(pg_int(owner, text), 1);
    assert_int_equal(patron_card_owner(b.s, card), 1);
    /* a granted space's id cannot become a store's */
    assert_int_equal(clirun(&r, "--home", home, "--hq", owner, "hq", "store", "add", "65535",
                            "--name", "Clash", (char *)NULL),
                     2);
    assert_non_null(strstr(r.err, "granted card number space 65535"));
    assert_int_equal(pg_int(owner, "SELECT count(*) FROM stores WHERE store_id = 65535"), 0);
    test_store_close(&a);
    test_store_close(&b);
}

/* A store's id is never granted, and an answer lost is given again (the store passes what it
 * holds); a head office role that is no store is refused. */
static void grants_skip_store_ids_and_repeat_a_lost_one(void **state)
{
    (void)state;
    char owner[512], url1[1024], url2[1024], url3[1024], detail[512];
    struct test_store a;
    patron_hq *h = NULL;
    int first = 0, again = 0;
    chain_make("chain_space_ids", owner, url1, url2);
    chain_store_add(owner, 65535, url3, sizeof url3);
    chain_store_open(&a, 1);
    assert_int_equal(patron_hq_connect(url1, &h, detail, sizeof detail), 0);
    assert_int_equal(patron_hq_card_space_grant(h, a.s, &first, detail, sizeof detail), 0);
    assert_int_equal(first, 65534);
    assert_int_equal(patron_hq_card_space_grant(h, a.s, &again, detail, sizeof detail), 0);
    assert_int_equal(again, 65534); /* not kept in the store: the same space */
    assert_int_equal(patron_card_space_grant_keep(a.s, first, 1), 0);
    assert_int_equal(patron_hq_card_space_grant(h, a.s, &again, detail, sizeof detail), 0);
    assert_int_equal(again, 65533);
    patron_hq_close(h);
    assert_int_equal(patron_hq_connect(owner, &h, detail, sizeof detail), 0);
    assert_int_not_equal(patron_hq_card_space_grant(h, a.s, &again, detail, sizeof detail), 0);
    patron_hq_close(h);
    test_store_close(&a);
}

static int64_t rows(struct test_store *t)
{
    return test_scalar(t->s,
                       "SELECT (SELECT count(*) FROM members) * 1000000 +"
                       " (SELECT count(*) FROM cards) * 1000 + (SELECT count(*) FROM outbox)");
}

/* Out of numbers at enrolment: online, head office grants a space there and then; offline, the
 * enrolment is refused with a sentence and nothing is written. */
static void an_enrolment_out_of_numbers_asks_head_office(void **state)
{
    (void)state;
    char owner[512], url1[1024], url2[1024];
    struct test_store a;
    struct clirun r = {0};
    chain_make("chain_space_enrol", owner, url1, url2);
    chain_store_open(&a, 1);
    chain_sync_ok(&a, url1, NULL);
    used(&a, PATRON_CARD_SPACE_FULL);
    int64_t before = rows(&a);
    const char *down = "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2";
    assert_int_equal(clirun(&r, "--json", "--db", a.path, "--home", home, "--hq", down, "member",
                            "enroll", "--name", "Offline Olive", (char *)NULL),
                     2);
    assert_non_null(strstr(r.err, "card numbers"));
    assert_int_equal(rows(&a), before);
    assert_int_equal(test_scalar(a.s, "SELECT count(*) FROM card_spaces"), 1);
    memset(&r, 0, sizeof r);
    assert_int_equal(clirun(&r, "--json", "--db", a.path, "--home", home, "--hq", url1, "member",
                            "enroll", "--name", "Online Otto", (char *)NULL),
                     0);
    assert_int_equal(held(&a, 65535, "granted"), 1);
    assert_int_equal(test_scalar(a.s, "SELECT minted FROM card_spaces WHERE space = 65535"), 1);
    assert_int_equal(pg_int(owner, "SELECT store_id FROM card_spaces WHERE space = 65535"), 1);
    test_store_close(&a);
}

/* A store that ran without a head office took a space for itself (top-down from 65535); joining
 * the chain (its first sync) it reports it before shipping: head office records it as the store's
 * grant, never grants it to another store and refuses it as a store id. A store whose own taken
 * space head office already holds for another store is refused in a sentence, nothing shipped,
 * and keeps selling. */
static void a_store_joining_the_chain_reports_the_spaces_it_took(void **state)
{
    (void)state;
    char owner[512], url1[1024], url2[1024], url3[1024], card[14];
    struct test_store a, b, c;
    struct clirun r = {0};
    chain_make("chain_space_join", owner, url1, url2);
    chain_store_add(owner, 3, url3, sizeof url3);
    chain_store_open(&a, 1);
    chain_store_open(&b, 2);
    chain_store_open(&c, 3);
    used(&a, PATRON_CARD_SPACE_FULL);
    test_enroll(&a, "Solo Sam", card);
    assert_int_equal(patron_card_store(card, NULL), 65535);
    assert_int_equal(held(&a, 65535, "self"), 1);
    chain_sync_ok(&a, url1, NULL);
    assert_string_equal(pg_text(owner, "SELECT string_agg(space || ':' || store_id, ' ')"
                                       " FROM card_spaces"),
                        "65535:1");
    /* reported once: the next sync asks nothing */
    chain_sync_ok(&a, url1, NULL);
    assert_int_equal(pg_int(owner, "SELECT count(*) FROM card_spaces"), 1);
    /* never granted to another store, nor taken as a store's id */
    used(&b, PATRON_CARD_SPACE_LOW);
    chain_sync_ok(&b, url2, NULL);
    assert_int_equal(held(&b, 65534, "granted"), 1);
    assert_int_equal(clirun(&r, "--home", home, "--hq", owner, "hq", "store", "add", "65535",
                            "--name", "Clash", (char *)NULL),
                     2);
    /* store 3 took 65535 too, on its own: refused, nothing shipped, still selling */
    used(&c, PATRON_CARD_SPACE_FULL);
    test_enroll(&c, "Late Lou", card);
    assert_int_equal(patron_card_store(card, NULL), 65535);
    assert_int_equal(clirun(&r, "--db", c.path, "--home", home, "--hq", url3, "sync", (char *)NULL),
                     2);
    assert_non_null(strstr(r.err, "took card number space 65535 for itself"));
    assert_non_null(strstr(r.err, "head office holds it for store 1"));
    assert_int_equal(pg_int(owner, "SELECT count(*) FROM facts WHERE store_id = 3"), 0);
    assert_int_equal(pg_int(owner, "SELECT store_id FROM card_spaces WHERE space = 65535"), 1);
    chain_sell(c.s, card, "C-1", 1000);
    test_store_close(&a);
    test_store_close(&b);
    test_store_close(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(two_stores_are_granted_distinct_spaces_at_sync),
        cmocka_unit_test(grants_skip_store_ids_and_repeat_a_lost_one),
        cmocka_unit_test(an_enrolment_out_of_numbers_asks_head_office),
        cmocka_unit_test(a_store_joining_the_chain_reports_the_spaces_it_took),
    };
    return cmocka_run_group_tests(tests, chain_group_setup, chain_group_teardown);
}
