/* SPDX-License-Identifier: MIT */
/* One card, one balance, every store (issue 11), against a throwaway PostgreSQL (label pg): head
 * office projects the shipped facts into members, cards, chain entries and balances (a sync's few
 * rows in their own transaction, a backlog behind its ship), and a store's role may read but not
 * write them; `patron sync` pulls
 * members, cards and balances of other stores down, so a card works in every store. */
#include <jansson.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chainutil.h"
#include "clirun.h"
#include "hq.h"

static void head_office_projects_members_cards_entries_and_balances(void **state)
{
    (void)state;
    char owner[512], url1[1024], url2[1024], card[14], sql[256];
    struct test_store a;
    struct patron_member m;
    chain_make("chain_project", owner, url1, url2);
    chain_store_open(&a, 1);
    test_enroll(&a, "Ada Chain", card);
    chain_sell(a.s, card, "A-1", 12000);
    chain_sell(a.s, card, "A-2", 3000);
    assert_int_equal(patron_member_by_card(a.s, card, &m), 0);
    assert_true(m.points > 0);
    chain_sync_ok(&a, url1, NULL);
    assert_string_equal(pg_text(owner, "SELECT name || ' ' || home_store_id || ' ' ||"
                                       " home_member_id FROM members WHERE member_uid = '1-1'"),
                        "Ada Chain 1 1");
    snprintf(sql, sizeof sql, "SELECT member_uid FROM cards WHERE card_number = '%s'", card);
    assert_string_equal(pg_text(owner, sql), "1-1");
    assert_int_equal(pg_int(owner, "SELECT points FROM chain_balances WHERE member_uid = '1-1'"),
                     m.points);
    assert_int_equal(pg_int(owner, "SELECT earned FROM chain_balances WHERE member_uid = '1-1'"),
                     m.points);
    assert_int_equal(pg_int(owner, "SELECT sum(points) FROM chain_entries"), m.points);
    assert_int_equal(pg_int(owner, "SELECT count(*) FROM chain_entries"),
                     test_scalar(a.s, "SELECT count(*) FROM entries"));
    assert_int_equal(pg_int(owner, "SELECT points FROM chain_member_stores"
                                   " WHERE member_uid = '1-1' AND store_id = 1"),
                     m.points);
    /* a second sync ships nothing and projects nothing twice */
    chain_sync_ok(&a, url1, NULL);
    assert_int_equal(pg_int(owner, "SELECT points FROM chain_balances WHERE member_uid = '1-1'"),
                     m.points);
    /* a store's role reads balances but writes none, nor another store's entries */
    assert_int_equal(pg_int(url2, "SELECT count(*) FROM chain_balances"), 1);
    assert_int_equal(pg_int(url2, "SELECT count(*) FROM chain_entries"), 0);
    assert_int_equal(chain_exec_as(url2, "UPDATE chain_balances SET points = 1000000"),
                     PATRON_EFORBIDDEN);
    assert_int_equal(chain_exec_as(url2,
                                   "INSERT INTO chain_entries (store_id, store_seq, member_uid,"
                                   " kind, points, earned) VALUES (1, 999, '1-1', 'earn', 5, 5)"),
                     PATRON_EFORBIDDEN);
    /* an erasure at the home store reaches head office: no name, cards blocked */
    assert_int_equal(patron_member_erase(a.s, card, "admin"), 0);
    chain_sync_ok(&a, url1, NULL);
    assert_string_equal(pg_text(owner, "SELECT coalesce(name, '') || (erased_at IS NOT NULL)"
                                       " FROM members WHERE member_uid = '1-1'"),
                        "true");
    snprintf(sql, sizeof sql, "SELECT blocked FROM cards WHERE card_number = '%s'", card);
    assert_string_equal(pg_text(owner, sql), "t");
    test_store_close(&a);
}

/* A head office from before the projection (schema version 1) holding shipped facts: upgraded
 * by `patron hq init`, its members, cards, entries and balances come from the facts it held. */
static void an_upgraded_head_office_projects_the_facts_it_held(void **state)
{
    (void)state;
    char owner[512], url1[1024], url2[1024], card[14];
    struct test_store a;
    struct patron_member m;
    struct clirun r = {0};
    chain_make("chain_upgrade", owner, url1, url2);
    chain_store_open(&a, 1);
    test_enroll(&a, "Hal Early", card);
    chain_sell(a.s, card, "A-1", 12000);
    assert_int_equal(patron_member_by_card(a.s, card, &m), 0);
    chain_sync_ok(&a, url1, NULL);
    /* back to version 1: the later migrations' objects gone, the chain tables empty */
    PGconn *conn = PQconnectdb(owner);
    assert_int_equal(PQstatus(conn), CONNECTION_OK);
    PGresult *res = PQexec(
        conn, "DROP TABLE program_versions, program_draft_rules, program_draft_categories,"
              " program_draft_tiers, program_draft_rewards, program_draft_keys,"
              " program_draft_offers, store_programs;"
              " DROP FUNCTION hq_scrub(text, jsonb); DROP INDEX facts_personal;"
              " DROP TABLE erasures;"
              " DROP FUNCTION hq_voucher_claim(bigint, bigint, text);"
              " DROP FUNCTION hq_voucher_release(text); DROP TABLE voucher_claims, voucher_voids;"
              " DROP FUNCTION hq_project_pending(integer, bigint), hq_pending_stores();"
              " DROP FUNCTION hq_facts_in(integer, bigint, bigint);"
              " DROP FUNCTION hq_project_facts(integer, bigint, bigint); DROP TABLE hq_projected;"
              " DROP TRIGGER facts_project ON facts; DROP FUNCTION hq_claim_release(text);"
              " DROP FUNCTION hq_claim(text, bigint, bigint, text);"
              " DROP FUNCTION hq_claim_refund(text, bigint, bigint, text, boolean);"
              " DROP TABLE chain_claims;"
              " DROP FUNCTION hq_project(); DROP FUNCTION hq_fact_member(facts);"
              " DROP TABLE chain_entries, chain_balances, chain_member_stores;"
              " DROP TRIGGER facts_check_store ON facts;"
              " DROP TRIGGER facts_check_store_update ON facts;"
              " DROP TRIGGER stores_in_use ON stores; DROP TRIGGER stores_in_use_update ON stores;"
              " DROP FUNCTION hq_check_store(); DROP FUNCTION hq_store_in_use();"
              " DROP TRIGGER stores_not_granted ON stores; DROP FUNCTION hq_store_not_granted();"
              " DROP FUNCTION hq_card_space_grant(integer[]);"
              " DROP FUNCTION hq_card_space_join(integer[]); DROP TABLE card_spaces;"
              " DROP FUNCTION hq_chain_stores(), hq_chain_conflicts(), hq_conflict_rows();"
              " ALTER TABLE facts ADD FOREIGN KEY (store_id) REFERENCES stores;"
              " DELETE FROM redemptions; DELETE FROM cards; DELETE FROM members;"
              " ALTER TABLE members DROP COLUMN home_member_id, DROP COLUMN name,"
              " DROP COLUMN email, DROP COLUMN phone, DROP COLUMN birthday,"
              " DROP COLUMN consent_marketing, DROP COLUMN consent_at, DROP COLUMN changed_xid;"
              " ALTER TABLE cards DROP COLUMN blocked, DROP COLUMN changed_xid;"
              " UPDATE hq_schema_version SET version = 1");
    assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    PQfinish(conn);
    int64_t facts = pg_int(owner, "SELECT count(*) FROM facts");
    assert_int_equal(clirun(&r, "--home", home, "--hq", owner, "hq", "init", (char *)NULL), 0);
    assert_int_equal(pg_int(owner, "SELECT count(*) FROM facts"), facts);
    assert_string_equal(pg_text(owner, "SELECT name FROM members WHERE member_uid = '1-1'"),
                        "Hal Early");
    assert_int_equal(pg_int(owner, "SELECT points FROM chain_balances WHERE member_uid = '1-1'"),
                     m.points);
    chain_sync_ok(&a, url1, NULL);
    assert_int_equal(pg_int(owner, "SELECT points FROM chain_balances WHERE member_uid = '1-1'"),
                     m.points);
    test_store_close(&a);
}

static int64_t outbox_last(patron_store *s)
{
    int64_t last = 0;
    assert_int_equal(patron_outbox_last(s, &last), 0);
    return last;
}

/* The projection at head office of what store 1 shipped: its cursor and the member's balance. */
static int64_t projected_seq(const char *owner)
{
    return pg_int(owner, "SELECT coalesce((SELECT seq FROM hq_projected WHERE store_id = 1), 0)");
}

static int64_t chain_points(const char *owner)
{
    return pg_int(owner, "SELECT coalesce((SELECT points FROM chain_balances"
                         " WHERE member_uid = '1-1'), 0)");
}

/* A backlog ships with its facts pending (a batch's transaction writes the facts alone): the sync
 * projects one batch of them, each later round another, in store order; `patron hq stores` says
 * how far; `patron hq verify` projects what is left before it reads; a store may project only
 * its own facts. */
static void a_backlog_is_projected_behind_the_ship(void **state)
{
    (void)state;
    char owner[512], url1[1024], url2[1024], card[14], ref[16], detail[512];
    struct test_store a;
    struct patron_member m;
    struct patron_hq_sync_result res;
    patron_hq *h = NULL;
    chain_make("chain_behind", owner, url1, url2);
    chain_store_open(&a, 1);
    test_enroll(&a, "Bo Backlog", card);
    for (int i = 0; i < 6; i++) {
        snprintf(ref, sizeof ref, "B-%d", i);
        chain_sell(a.s, card, ref, 10000 + 100 * i);
    }
    assert_int_equal(patron_member_by_card(a.s, card, &m), 0);
    int64_t rows = outbox_last(a.s);
    assert_true(rows > 12);
    assert_int_equal(patron_hq_connect(url1, &h, detail, sizeof detail), 0);
    assert_int_equal(patron_hq_ship(h, a.s, 4, NULL, NULL, &res, detail, sizeof detail), 0);
    assert_int_equal(res.shipped, rows);
    assert_int_equal(pg_int(owner, "SELECT count(*) FROM facts"), rows);
    assert_int_equal(projected_seq(owner), 4);
    assert_true(chain_points(owner) < m.points);
    /* a round with nothing to ship projects the next batch */
    assert_int_equal(patron_hq_ship(h, a.s, 4, NULL, NULL, &res, detail, sizeof detail), 0);
    assert_int_equal(res.shipped, 0);
    assert_int_equal(projected_seq(owner), 8);
    assert_int_equal(chain_exec_as(url2, "SELECT hq_project_pending(1, NULL)"), PATRON_EFORBIDDEN);
    patron_hq_close(h);
    /* `patron hq stores` says how far, and projects nothing itself */
    struct clirun r = {0};
    assert_int_equal(
        clirun(&r, "--home", home, "--hq", owner, "--json", "hq", "stores", (char *)NULL), 0);
    json_t *o = json_loads(r.out, 0, NULL);
    json_t *first = json_array_get(json_object_get(o, "stores"), 0);
    assert_int_equal(json_integer_value(json_object_get(first, "projected_seq")), 8);
    assert_int_equal(json_integer_value(json_object_get(first, "last_seq")), rows);
    json_decref(o);
    HQ_OK(owner, "verify");
    assert_int_equal(projected_seq(owner), rows);
    assert_int_equal(chain_points(owner), m.points);
    assert_int_equal(pg_int(owner, "SELECT count(*) FROM chain_entries"),
                     test_scalar(a.s, "SELECT count(*) FROM entries"));
    test_store_close(&a);
}

/* Enrolled in store 1, scanned in store 2 after its sync with the chain balance; earning in 2
 * counts for the same member_uid at head office and back in 1; store 2 spends points earned in
 * 1; nothing pulled down writes an outbox row, and a second pull changes nothing. */
static void a_member_of_one_store_earns_and_spends_in_another(void **state)
{
    (void)state;
    char owner[512], url1[1024], url2[1024], card[14];
    struct test_store a, b;
    struct patron_member m;
    struct patron_scan_result scan;
    chain_make("chain_pull", owner, url1, url2);
    chain_store_open(&a, 1);
    chain_store_open(&b, 2);
    test_enroll(&a, "Bea Twostores", card);
    chain_sell(a.s, card, "A-1", 20000);
    assert_int_equal(patron_member_by_card(a.s, card, &m), 0);
    int64_t earned_a = m.points;
    assert_true(earned_a > 0);
    chain_sync_ok(&a, url1, NULL);
    /* unknown in store 2 until it syncs */
    assert_int_equal(patron_scan(b.s, card, &scan), PATRON_ENOCARD);
    int64_t b_last = outbox_last(b.s);
    chain_sync_ok(&b, url2, NULL);
    assert_int_equal(outbox_last(b.s), b_last);
    assert_int_equal(patron_scan(b.s, card, &scan), 0);
    assert_string_equal(scan.member.name, "Bea Twostores");
    assert_int_equal(scan.member.points, earned_a);
    assert_int_equal(test_scalar(b.s, "SELECT count(*) FROM members WHERE member_uid = '1-1'"), 1);
    /* earning in store 2 counts for 1-1 at head office; the sale's answer, and its replay, say
     * what she holds in the chain, as the scan does */
    struct patron_sale_line tea[] = {
        {.sku = "TEA", .category = "general", .qty = 1, .unit_minor = 10000}};
    struct patron_sale sale_b = {.card = card,
                                 .ref = "B-1",
                                 .total_minor = 10000,
                                 .lines = tea,
                                 .n_lines = 1,
                                 .idempotency_key = "B-1"};
    struct patron_sale_result sold, sold_again;
    assert_int_equal(patron_sale_record(b.s, &sale_b, &sold), 0);
    assert_int_equal(patron_member_by_card(b.s, card, &m), 0);
    int64_t earned_b = m.points - earned_a;
    assert_true(earned_b > 0);
    assert_int_equal(sold.points, earned_a + earned_b);
    assert_int_equal(patron_sale_record(b.s, &sale_b, &sold_again), 0);
    assert_true(sold_again.replayed);
    assert_int_equal(sold_again.points, sold.points);
    chain_sync_ok(&b, url2, NULL);
    assert_int_equal(pg_int(owner, "SELECT points FROM chain_balances WHERE member_uid = '1-1'"),
                     earned_a + earned_b);
    assert_int_equal(pg_int(owner, "SELECT count(*) FROM members"), 1);
    /* and store 1 sees it after its own sync */
    chain_sync_ok(&a, url1, NULL);
    assert_int_equal(patron_member_by_card(a.s, card, &m), 0);
    assert_int_equal(m.points, earned_a + earned_b);
    /* store 2 spends more than it holds itself: points earned in store 1 count */
    int64_t reward = 0;
    struct patron_reward_def def = {
        .name = "Big tea", .cost = earned_b + 1, .kind = PATRON_VALUE_ITEM};
    assert_int_equal(patron_reward_add(b.s, &def, &reward), 0);
    struct patron_redeem_request rq = {.card = card, .reward_id = reward, .idempotency_key = "R1"};
    struct patron_redeem_result rd;
    assert_int_equal(patron_reward_redeem(b.s, &rq, &rd), 0);
    assert_int_equal(rd.points, earned_a - 1);
    struct patron_redeem_result rd_again;
    assert_int_equal(patron_reward_redeem(b.s, &rq, &rd_again), 0);
    assert_true(rd_again.replayed);
    assert_int_equal(rd_again.points, rd.points);
    test_assert_ledger_verifies(b.s);
    chain_sync_ok(&b, url2, NULL);
    assert_int_equal(pg_int(owner, "SELECT points FROM chain_balances WHERE member_uid = '1-1'"),
                     earned_a - 1);
    /* a pull again changes nothing and writes nothing to the outbox */
    int64_t before = outbox_last(b.s);
    int64_t chain_points = test_scalar(b.s, "SELECT chain_points FROM members");
    chain_sync_ok(&b, url2, NULL);
    assert_int_equal(outbox_last(b.s), before);
    assert_int_equal(test_scalar(b.s, "SELECT chain_points FROM members"), chain_points);
    assert_int_equal(test_scalar(b.s, "SELECT count(*) FROM members"), 1);
    assert_int_equal(test_scalar(b.s, "SELECT count(*) FROM cards"), 1);
    chain_sync_ok(&a, url1, NULL);
    assert_int_equal(patron_member_by_card(a.s, card, &m), 0);
    assert_int_equal(m.points, earned_a - 1);
    test_store_close(&b);
    test_store_close(&a);
}

/* `patron scan` of a card this store does not know: looked up at head office, kept, answered
 * (and known offline afterwards); with head office unreachable, a sentence says the card is
 * another store's and the link is down. */
static void an_unknown_card_is_looked_up_online(void **state)
{
    (void)state;
    char owner[512], url1[1024], url2[1024], card[14], late[14], dead[512];
    struct test_store a, b;
    struct clirun r = {0};
    chain_make("chain_lookup", owner, url1, url2);
    chain_store_open(&a, 1);
    chain_store_open(&b, 2);
    test_enroll(&a, "Cy Roaming", card);
    chain_sell(a.s, card, "A-1", 20000);
    chain_sync_ok(&a, url1, NULL);
    patron_store_close(b.s);
    b.s = NULL;
    /* without a head office: unknown, and the sentence names the card's store */
    assert_int_equal(clirun(&r, "--db", b.path, "--home", home, "scan", card, (char *)NULL), 3);
    assert_non_null(strstr(r.err, "in store 1's range"));
    /* online: looked up, kept, answered with the chain balance */
    if (clirun(&r, "--json", "--db", b.path, "--home", home, "--hq", url2, "scan", card,
               (char *)NULL) != 0)
        fail_msg("scan online: %s", r.err);
    json_t *o = json_loads(r.out, 0, NULL);
    assert_non_null(o);
    assert_non_null(json_string_value(json_object_get(o, "name")));
    assert_string_equal(json_string_value(json_object_get(o, "name")), "Cy Roaming");
    assert_true(json_integer_value(json_object_get(o, "points")) > 0);
    json_decref(o);
    /* kept: known offline now, with no outbox row written */
    assert_int_equal(clirun(&r, "--db", b.path, "--home", home, "scan", card, (char *)NULL), 0);
    assert_int_equal(patron_store_open(b.path, &b.s), 0);
    int64_t last = 0;
    assert_int_equal(patron_outbox_last(b.s, &last), 0);
    assert_int_equal(last, 0);
    patron_store_close(b.s);
    b.s = NULL;
    /* a card no store issued: head office says so */
    char unknown[PATRON_CARD_DIGITS + 1];
    assert_int_equal(patron_card_mint(1, PATRON_CARD_SERIALS - 1, unknown), 0);
    assert_int_equal(
        clirun(&r, "--db", b.path, "--home", home, "--hq", url2, "scan", unknown, (char *)NULL), 3);
    assert_non_null(strstr(r.err, "no store of the chain issued card"));
    /* head office unreachable: a sentence, the store carries on */
    test_enroll(&a, "Di Late", late);
    chain_sync_ok(&a, url1, NULL);
    snprintf(dead, sizeof dead, "postgresql://nobody:x@127.0.0.1:1/chain_lookup"); /* no one */
    assert_int_equal(
        clirun(&r, "--db", b.path, "--home", home, "--hq", dead, "scan", late, (char *)NULL), 3);
    assert_non_null(strstr(r.err, "is not this store's (it is from store 1, by its number) and "
                                  "the link to head office is down"));
    assert_int_equal(patron_store_open(b.path, &b.s), 0);
    test_store_close(&b);
    test_store_close(&a);
}

/* `patron reward redeem` at store `t` with head office `url`, in a child process. */
static pid_t redeem_async(const struct test_store *t, const char *url, const char *card,
                          const char *reward)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct clirun r = {0};
        int status = clirun(&r, "--db", t->path, "--home", home, "--hq", url, "reward", "redeem",
                            card, reward, (char *)NULL);
        if (status != 0)
            fprintf(stderr, "redeem at %s: %d %s\n", t->path, status, r.err);
        _exit(status);
    }
    return pid;
}

/* Two stores spend the same member's last points at the same moment, online: both claims wait on
 * the member's balance row (held by the test), then exactly one wins and the other is refused
 * with exit 2; after every sync head office's balance is not below zero. */
static void two_stores_spending_the_last_points_at_once_one_wins(void **state)
{
    (void)state;
    char owner[512], url1[1024], url2[1024], url3[1024], card[14], id[24];
    struct test_store a, b, c;
    struct patron_member m;
    chain_make("chain_claim", owner, url1, url2);
    chain_store_add(owner, 3, url3, sizeof url3);
    chain_store_open(&a, 1);
    chain_store_open(&b, 2);
    chain_store_open(&c, 3);
    test_enroll(&a, "Ed Lastpoints", card);
    chain_sell(a.s, card, "A-1", 20000);
    assert_int_equal(patron_member_by_card(a.s, card, &m), 0);
    int64_t points = m.points, reward_b = 0, reward_c = 0;
    chain_sync_ok(&a, url1, NULL);
    chain_sync_ok(&b, url2, NULL);
    chain_sync_ok(&c, url3, NULL);
    struct patron_reward_def def = {.name = "All of it", .cost = points, .kind = PATRON_VALUE_ITEM};
    assert_int_equal(patron_reward_add(b.s, &def, &reward_b), 0);
    assert_int_equal(patron_reward_add(c.s, &def, &reward_c), 0);
    /* hold the member's balance row so that both claims arrive before either is taken */
    PGconn *lock = PQconnectdb(owner);
    assert_int_equal(PQstatus(lock), CONNECTION_OK);
    PQclear(PQexec(lock, "BEGIN"));
    PGresult *res = PQexec(lock, "SELECT points FROM chain_balances WHERE member_uid = '1-1'"
                                 " FOR UPDATE");
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    PQclear(res);
    snprintf(id, sizeof id, "%lld", (long long)reward_b);
    pid_t pb = redeem_async(&b, url2, card, id);
    snprintf(id, sizeof id, "%lld", (long long)reward_c);
    pid_t pc = redeem_async(&c, url3, card, id);
    assert_int_equal(chain_lock_waiters(owner, "chain_claim", 2), 2);
    PQclear(PQexec(lock, "COMMIT"));
    PQfinish(lock);
    int eb = chain_exit_of(pb), ec = chain_exit_of(pc);
    assert_true((eb == 0 && ec == 2) || (eb == 2 && ec == 0));
    /* the loser spent nothing; after the syncs head office's balance is zero, nothing held */
    struct test_store *winner = eb == 0 ? &b : &c, *loser = eb == 0 ? &c : &b;
    assert_int_equal(test_scalar(winner->s, "SELECT count(*) FROM redemptions"), 1);
    assert_int_equal(test_scalar(loser->s, "SELECT count(*) FROM redemptions"), 0);
    chain_sync_ok(&b, url2, NULL);
    chain_sync_ok(&c, url3, NULL);
    assert_int_equal(pg_int(owner, "SELECT points FROM chain_balances WHERE member_uid = '1-1'"),
                     0);
    assert_int_equal(pg_int(owner, "SELECT sum(held) FROM chain_member_stores"), 0);
    /* and now a claim is refused outright: nothing left anywhere */
    struct clirun r = {0};
    snprintf(id, sizeof id, "%lld", (long long)(eb == 0 ? reward_c : reward_b));
    assert_int_equal(clirun(&r, "--db", loser->path, "--home", home, "--hq", eb == 0 ? url3 : url2,
                            "reward", "redeem", card, id, (char *)NULL),
                     2);
    test_store_close(&c);
    test_store_close(&b);
    test_store_close(&a);
}

/* How many rows of any head office table (public schema) mention `word`, as text. */
static int64_t hq_rows_mentioning(const char *owner, const char *word)
{
    char sql[1024];
    snprintf(sql, sizeof sql,
             "SELECT coalesce(sum((xpath('/row/c/text()', query_to_xml(format("
             "'SELECT count(*) AS c FROM %%I t WHERE t::text ILIKE %%L', table_name,"
             " '%%%s%%'), false, true, '')))[1]::text::bigint), 0)"
             " FROM information_schema.tables WHERE table_schema = 'public'"
             " AND table_type = 'BASE TABLE'",
             word);
    return pg_int(owner, sql);
}

/* Enrolled at store 1, known at store 2 (pulled, scanned, with feedback of its own); erased at
 * store 1: head office records the erasure and keeps nothing personal of the member in any
 * table, store 2 erases the member on its next sync as its own erasure would, every ledger
 * verifies and so does head office; store 2's own erasure, shipped back, is ignored. */
static void an_erasure_at_one_store_erases_the_member_everywhere(void **state)
{
    (void)state;
    char owner[512], url1[1024], url2[1024], card[14];
    struct test_store a, b;
    struct patron_member m;
    struct patron_scan_result scan;
    struct clirun r = {0};
    int64_t fid = 0;
    chain_make("chain_erase", owner, url1, url2);
    chain_store_open(&a, 1);
    chain_store_open(&b, 2);
    struct patron_enrollment in = {.name = "Zed Forgettable",
                                   .email = "zed@forgettable.example",
                                   .phone = "+44 7700 900123",
                                   .birthday = "1980-02-03",
                                   .consent_marketing = 1,
                                   .consent_source = "counter"};
    assert_int_equal(patron_member_enroll(a.s, &in, &m), 0);
    memcpy(card, m.card, sizeof card);
    chain_sell(a.s, card, "A-1", 20000);
    struct patron_feedback fa = {.card = card, .score = 2, .comment = "Zed disliked the queue"};
    assert_int_equal(patron_feedback_record(a.s, &fa, &fid), 0);
    chain_sync_ok(&a, url1, NULL);
    chain_sync_ok(&b, url2, NULL);
    assert_int_equal(patron_scan(b.s, card, &scan), 0);
    assert_string_equal(scan.member.name, "Zed Forgettable");
    chain_sell(b.s, card, "B-1", 10000);
    struct patron_feedback fb = {.card = card, .score = 5, .comment = "Zed liked store two"};
    assert_int_equal(patron_feedback_record(b.s, &fb, &fid), 0);
    chain_sync_ok(&b, url2, NULL);
    assert_true(hq_rows_mentioning(owner, "Forgettable") > 0);
    assert_true(hq_rows_mentioning(owner, "store two") > 0);
    int64_t points = pg_int(owner, "SELECT points FROM chain_balances WHERE member_uid = '1-1'");
    /* erased at store 1, shipped: head office records it and keeps nothing personal */
    assert_int_equal(patron_member_erase(a.s, card, "admin"), 0);
    chain_sync_ok(&a, url1, NULL);
    assert_string_equal(pg_text(owner, "SELECT member_uid || ' ' || store_id FROM erasures"),
                        "1-1 1");
    const char *words[] = {"Forgettable", "forgettable.example", "7700 900123",
                           "1980-02-03",  "the queue",           "store two"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (hq_rows_mentioning(owner, words[i]) != 0)
            fail_msg("head office still holds '%s'", words[i]);
    assert_int_equal(pg_int(owner, "SELECT points FROM chain_balances WHERE member_uid = '1-1'"),
                     points);
    assert_int_equal(clirun(&r, "--home", home, "--hq", owner, "hq", "verify", (char *)NULL), 0);
    /* store 2 erases the member on its next sync, like its own erasure */
    chain_sync_ok(&b, url2, NULL);
    assert_int_equal(test_scalar(b.s, "SELECT count(*) FROM erasures"), 1);
    assert_int_equal(test_scalar(b.s, "SELECT count(*) FROM members WHERE name = 'erased'"
                                      " AND email IS NULL AND phone IS NULL AND birthday IS NULL"
                                      " AND erased_at IS NOT NULL"),
                     1);
    assert_int_equal(test_scalar(b.s, "SELECT count(*) FROM feedback WHERE comment IS NOT NULL"),
                     0);
    assert_int_equal(test_scalar(b.s, "SELECT count(*) FROM consent_changes"), 0);
    assert_int_equal(test_scalar(b.s, "SELECT count(*) FROM cards WHERE status = 'active'"), 0);
    assert_int_equal(test_scalar(b.s,
                                 "SELECT count(*) FROM outbox WHERE payload LIKE '%Forgettable%'"
                                 " OR payload LIKE '%store two%'"),
                     0);
    assert_int_equal(patron_member_by_card(b.s, card, &m), 0);
    assert_true(m.card_blocked);
    assert_string_equal(m.name, "erased");
    test_assert_ledger_verifies(a.s);
    test_assert_ledger_verifies(b.s);
    /* store 2's erasure went up and changed nothing; a pull again erases nothing twice */
    chain_sync_ok(&b, url2, NULL);
    chain_sync_ok(&a, url1, NULL);
    assert_int_equal(pg_int(owner, "SELECT count(*) FROM erasures"), 1);
    assert_string_equal(pg_text(owner, "SELECT store_id FROM erasures"), "1");
    assert_int_equal(test_scalar(a.s, "SELECT count(*) FROM erasures"), 1);
    assert_int_equal(test_scalar(b.s, "SELECT count(*) FROM erasures"), 1);
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (hq_rows_mentioning(owner, words[i]) != 0)
            fail_msg("head office holds '%s' again", words[i]);
    assert_int_equal(clirun(&r, "--home", home, "--hq", owner, "hq", "verify", (char *)NULL), 0);
    test_store_close(&b);
    test_store_close(&a);
}

/* An erasure at the store that is not the member's home reaches the home store too. */
static void an_erasure_away_from_home_reaches_the_home_store(void **state)
{
    (void)state;
    char owner[512], url1[1024], url2[1024], card[14];
    struct test_store a, b;
    struct patron_member m;
    struct patron_scan_result scan;
    chain_make("chain_erase_away", owner, url1, url2);
    chain_store_open(&a, 1);
    chain_store_open(&b, 2);
    test_enroll(&a, "Yve Wanderer", card);
    chain_sell(a.s, card, "A-1", 20000);
    chain_sync_ok(&a, url1, NULL);
    chain_sync_ok(&b, url2, NULL);
    assert_int_equal(patron_scan(b.s, card, &scan), 0);
    assert_int_equal(patron_member_erase(b.s, card, "admin"), 0);
    chain_sync_ok(&b, url2, NULL);
    assert_string_equal(pg_text(owner, "SELECT member_uid || ' ' || store_id FROM erasures"),
                        "1-1 2");
    assert_int_equal(hq_rows_mentioning(owner, "Wanderer"), 0);
    chain_sync_ok(&a, url1, NULL);
    assert_int_equal(patron_member_by_card(a.s, card, &m), 0);
    assert_string_equal(m.name, "erased");
    assert_true(m.card_blocked);
    assert_int_equal(test_scalar(a.s, "SELECT count(*) FROM erasures"), 1);
    test_assert_ledger_verifies(a.s);
    assert_int_equal(hq_rows_mentioning(owner, "Wanderer"), 0);
    test_store_close(&b);
    test_store_close(&a);
}

/* A sale at store 1 on store 2's card that neither store 1 nor head office knows yet (the link
 * down, then store 2 not synced yet): held against the card, said in a sentence, listed by
 * `patron sync status`, and posted to the member exactly once on the sync after store 2's. */
static void a_sale_on_a_card_not_yet_known_is_held_until_the_next_sync(void **state)
{
    (void)state;
    char owner[512], url1[1024], url2[1024], card[14], dead[512];
    struct test_store a, b;
    struct patron_member m;
    struct clirun r = {0};
    chain_make("chain_held", owner, url1, url2);
    chain_store_open(&a, 1);
    chain_store_open(&b, 2);
    test_enroll(&b, "Ike Early", card);
    patron_store_close(a.s);
    a.s = NULL;
    /* head office unreachable: the sale is kept, its points held, the till told */
    snprintf(dead, sizeof dead, "postgresql://nobody:x@127.0.0.1:1/chain_held");
    if (clirun(&r, "--db", a.path, "--home", home, "--hq", dead, "sale", card, "--ref", "A-9",
               "--total", "20000", (char *)NULL) != 0)
        fail_msg("held sale: %s", r.err);
    assert_non_null(strstr(r.out, "the link to head office is down"));
    assert_non_null(strstr(r.out, "points are held until the card is known"));
    /* the same sale again is the same held sale */
    assert_int_equal(clirun(&r, "--json", "--db", a.path, "--home", home, "--hq", dead, "sale",
                            card, "--ref", "A-9", "--total", "20000", (char *)NULL),
                     0);
    json_t *o = json_loads(r.out, 0, NULL);
    assert_non_null(o);
    assert_true(json_is_true(json_object_get(o, "held")));
    assert_true(json_is_true(json_object_get(o, "replayed")));
    assert_int_equal(json_integer_value(json_object_get(o, "card_store")), 2);
    int64_t held = json_integer_value(json_object_get(o, "points_held"));
    assert_true(held > 0);
    json_decref(o);
    /* without a head office the card is unknown, as before */
    assert_int_equal(clirun(&r, "--db", a.path, "--home", home, "sale", card, "--ref", "A-10",
                            "--total", "100", (char *)NULL),
                     3);
    /* synced while store 2 has not: head office does not know the card, the sale stays held */
    chain_sync_ok(&a, url1, NULL);
    assert_int_equal(
        clirun(&r, "--json", "--db", a.path, "--home", home, "sync", "status", (char *)NULL), 0);
    o = json_loads(r.out, 0, NULL);
    assert_non_null(o);
    json_t *list = json_object_get(o, "held");
    assert_int_equal(json_array_size(list), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "card")), card);
    json_decref(o);
    assert_int_equal(pg_int(owner, "SELECT count(*) FROM facts WHERE kind = 'held_sale'"), 1);
    /* store 2 ships the card; store 1's next sync posts the held sale, once */
    chain_sync_ok(&b, url2, NULL);
    chain_sync_ok(&a, url1, NULL);
    assert_int_equal(patron_store_open(a.path, &a.s), 0);
    patron_store_set_clock(a.s, chain_clock, &a);
    assert_int_equal(patron_member_by_card(a.s, card, &m), 0);
    int64_t own = test_scalar(a.s, "SELECT sum(points) FROM entries WHERE kind = 'earn'");
    assert_int_equal(own, held);
    assert_int_equal(test_scalar(a.s, "SELECT count(*) FROM sales WHERE ref = 'A-9'"), 1);
    assert_int_equal(test_scalar(a.s, "SELECT count(*) FROM held_sales WHERE sale_id IS NULL"), 0);
    /* a crash between the sale and its mark: posting again records nothing twice */
    assert_int_equal(sqlite3_exec(patron_store_sqlite(a.s),
                                  "UPDATE held_sales SET sale_id = NULL, posted_at = NULL", NULL,
                                  NULL, NULL),
                     SQLITE_OK);
    int64_t posted = -1;
    assert_int_equal(patron_held_post(a.s, &posted), 0);
    assert_int_equal(posted, 1);
    assert_int_equal(test_scalar(a.s, "SELECT count(*) FROM sales"), 1);
    assert_int_equal(test_scalar(a.s, "SELECT sum(points) FROM entries WHERE kind = 'earn'"), own);
    assert_int_equal(patron_held_post(a.s, &posted), 0);
    assert_int_equal(posted, 0);
    test_assert_ledger_verifies(a.s);
    patron_store_close(a.s);
    a.s = NULL;
    chain_sync_ok(&a, url1, NULL);
    assert_int_equal(pg_int(owner, "SELECT points FROM chain_member_stores"
                                   " WHERE member_uid = '2-1' AND store_id = 1"),
                     held);
    assert_int_equal(clirun(&r, "--home", home, "--hq", owner, "hq", "verify", (char *)NULL), 0);
    assert_int_equal(patron_store_open(a.path, &a.s), 0);
    test_store_close(&b);
    test_store_close(&a);
}

/* Tiers qualify on chain-wide earnings: a member who earns a tier's worth in store 1 is in that
 * tier at store 2 after its sync (scan), and store 2's checkout earns at the tier's rate. */
static void a_tier_earned_in_one_store_shows_in_another(void **state)
{
    (void)state;
    char owner[512], url1[1024], url2[1024], card[14];
    struct test_store a, b;
    struct patron_scan_result scan;
    chain_make("chain_tier", owner, url1, url2);
    chain_store_open(&a, 1);
    chain_store_open(&b, 2);
    assert_int_equal(patron_tier_set(a.s, "Gold", 150, 2000, "test"), 0);
    assert_int_equal(patron_tier_set(b.s, "Gold", 150, 2000, "test"), 0);
    assert_int_equal(patron_tier_set(b.s, "Platinum", 1000, 3000, "test"), 0);
    test_enroll(&a, "Tia Tiered", card);
    chain_sell(a.s, card, "A-1", 20000); /* 200 points at store 1 */
    chain_sync_ok(&a, url1, NULL);
    chain_sync_ok(&b, url2, NULL);
    assert_int_equal(patron_scan(b.s, card, &scan), 0);
    assert_string_equal(scan.member.tier, "Gold");
    assert_string_equal(scan.next_tier, "Platinum");
    assert_int_equal(scan.points_to_next_tier, 800);
    /* the tier's multiplier applies to what the member earns in store 2 */
    chain_sell(b.s, card, "B-1", 10000);
    assert_int_equal(test_scalar(b.s, "SELECT sum(points) FROM entries WHERE kind = 'earn'"), 200);
    test_assert_ledger_verifies(b.s);
    test_store_close(&b);
    test_store_close(&a);
}

/* The projection at a chain of many stores: a fact naming a member head office has not met finds
 * the member's home store through an index (not a scan of every store for every row), and
 * hq_fact_member is STABLE like what it calls, so that PostgreSQL inlines it. */
static void the_projection_finds_home_stores_through_an_index(void **state)
{
    (void)state;
    char owner[512], url1[1024], url2[1024];
    chain_make("chain_index", owner, url1, url2);
    assert_string_equal(
        pg_text(owner, "SELECT provolatile FROM pg_proc WHERE proname = 'hq_fact_member'"), "s");
    PGconn *conn = PQconnectdb(owner);
    assert_int_equal(PQstatus(conn), CONNECTION_OK);
    PGresult *res = PQexec(conn, "SET enable_seqscan = off; EXPLAIN (COSTS OFF)"
                                 " SELECT s.store_id FROM stores s"
                                 " WHERE s.store_id::text = split_part('2-7', '-', 1)");
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    int indexed = 0;
    for (int i = 0; i < PQntuples(res); i++)
        indexed |= strstr(PQgetvalue(res, i, 0), "stores_id_text") != NULL;
    if (!indexed)
        fail_msg("the home store look-up does not use the index: %s", PQgetvalue(res, 0, 0));
    PQclear(res);
    PQfinish(conn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(head_office_projects_members_cards_entries_and_balances),
        cmocka_unit_test(an_upgraded_head_office_projects_the_facts_it_held),
        cmocka_unit_test(a_backlog_is_projected_behind_the_ship),
        cmocka_unit_test(a_member_of_one_store_earns_and_spends_in_another),
        cmocka_unit_test(an_unknown_card_is_looked_up_online),
        cmocka_unit_test(two_stores_spending_the_last_points_at_once_one_wins),
        cmocka_unit_test(an_erasure_at_one_store_erases_the_member_everywhere),
        cmocka_unit_test(an_erasure_away_from_home_reaches_the_home_store),
        cmocka_unit_test(a_sale_on_a_card_not_yet_known_is_held_until_the_next_sync),
        cmocka_unit_test(a_tier_earned_in_one_store_shows_in_another),
        cmocka_unit_test(the_projection_finds_home_stores_through_an_index),
    };
    return cmocka_run_group_tests(tests, chain_group_setup, chain_group_teardown);
}
