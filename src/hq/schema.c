/* SPDX-License-Identifier: MIT */
/* The head office schema as ordered migrations, like the store's: each runs once, in its own
 * transaction, under an advisory lock, and hq_schema_version remembers the last one applied. A
 * database newer than the program is refused, never touched.
 *
 * Each registered store logs in as a role of its own, a member of the database's group role of
 * stores (created per database: roles are shared by every database of a cluster). Row-level
 * security keys every row on the store the logged-in role belongs to (stores.role_name). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hq_internal.h"
#include "patron/error.h"

/* Migration 1: stores, the shipped facts, chain-wide members and cards, redemptions, and the
 * policies that confine a store's role to its own rows. "@STORES@" is the group role. */
static const char migration_1[] =
    "CREATE TABLE hq_schema_version (version integer NOT NULL);"
    "INSERT INTO hq_schema_version VALUES (0);"
    "CREATE TABLE stores ("
    " store_id integer PRIMARY KEY CHECK (store_id BETWEEN 1 AND 65535),"
    " name text NOT NULL CHECK (name <> ''),"
    " role_name text NOT NULL UNIQUE,"
    " created_at timestamptz NOT NULL DEFAULT now());"
    /* every fact a store ships, once: (store_id, store_seq) is its identity; the store's own
     * clock and head office's receive time are both kept, store clocks may be wrong */
    "CREATE TABLE facts ("
    " store_id integer NOT NULL REFERENCES stores,"
    " store_seq bigint NOT NULL CHECK (store_seq > 0),"
    " kind text NOT NULL,"
    " payload jsonb NOT NULL,"
    " store_time timestamptz,"
    " received_at timestamptz NOT NULL DEFAULT now(),"
    " PRIMARY KEY (store_id, store_seq));"
    "CREATE TABLE members ("
    " member_uid text PRIMARY KEY,"
    " home_store_id integer NOT NULL REFERENCES stores,"
    " enrolled_at timestamptz,"
    " erased_at timestamptz,"
    " received_at timestamptz NOT NULL DEFAULT now());"
    "CREATE TABLE cards ("
    " card_number text PRIMARY KEY,"
    " member_uid text NOT NULL REFERENCES members,"
    " store_id integer NOT NULL REFERENCES stores,"
    " issued_at timestamptz,"
    " received_at timestamptz NOT NULL DEFAULT now());"
    "CREATE INDEX cards_member ON cards (member_uid);"
    "CREATE TABLE redemptions ("
    " store_id integer NOT NULL REFERENCES stores,"
    " store_seq bigint NOT NULL CHECK (store_seq > 0),"
    " member_uid text REFERENCES members,"
    " voucher_id text,"
    " points bigint NOT NULL CHECK (points >= 0),"
    " redeemed_at timestamptz,"
    " received_at timestamptz NOT NULL DEFAULT now(),"
    " PRIMARY KEY (store_id, store_seq));"
    "CREATE INDEX redemptions_voucher ON redemptions (voucher_id);"
    /* the store the logged-in role belongs to (NULL for head office's own roles) */
    "CREATE FUNCTION hq_my_store() RETURNS integer LANGUAGE sql STABLE AS"
    " $$SELECT store_id FROM stores WHERE role_name = current_user$$;"
    "GRANT USAGE ON SCHEMA public TO @STORES@;"
    "GRANT SELECT ON stores, hq_schema_version TO @STORES@;"
    "GRANT SELECT, INSERT ON facts, members, cards, redemptions TO @STORES@;"
    "GRANT EXECUTE ON FUNCTION hq_my_store() TO @STORES@;"
    "ALTER TABLE stores ENABLE ROW LEVEL SECURITY;"
    "ALTER TABLE facts ENABLE ROW LEVEL SECURITY;"
    "ALTER TABLE members ENABLE ROW LEVEL SECURITY;"
    "ALTER TABLE cards ENABLE ROW LEVEL SECURITY;"
    "ALTER TABLE redemptions ENABLE ROW LEVEL SECURITY;"
    /* a store sees its own row of stores and its own facts... */
    "CREATE POLICY stores_own ON stores FOR SELECT TO @STORES@ USING (role_name = current_user);"
    "CREATE POLICY facts_read ON facts FOR SELECT TO @STORES@ USING (store_id = hq_my_store());"
    "CREATE POLICY facts_write ON facts FOR INSERT TO @STORES@"
    " WITH CHECK (store_id = hq_my_store());"
    /* ...and every member, card and redemption of the chain, but writes only its own */
    "CREATE POLICY members_read ON members FOR SELECT TO @STORES@ USING (true);"
    "CREATE POLICY members_write ON members FOR INSERT TO @STORES@"
    " WITH CHECK (home_store_id = hq_my_store());"
    "CREATE POLICY cards_read ON cards FOR SELECT TO @STORES@ USING (true);"
    "CREATE POLICY cards_write ON cards FOR INSERT TO @STORES@"
    " WITH CHECK (store_id = hq_my_store());"
    "CREATE POLICY redemptions_read ON redemptions FOR SELECT TO @STORES@ USING (true);"
    "CREATE POLICY redemptions_write ON redemptions FOR INSERT TO @STORES@"
    " WITH CHECK (store_id = hq_my_store());";

/* The chain's projection of the shipped facts (issue 11): as a batch of facts arrives, one
 * statement-level trigger (in the batch's own transaction, as head office's owner: the facts
 * themselves passed row-level security) fills in members with what a store needs to know them,
 * their cards, the chain's entries (signed points: + to the member, - from them) and, kept in the
 * same transaction, each member's chain balance and lifetime earnings, in total and per store.
 * Every projected row keeps the transaction that last changed it (changed_xid), so a store pulls
 * what changed since the snapshot xmin of its last pull. A fact shipped before member_uid was
 * carried names its member as "<store>-<member_id>"; facts already at head office when this
 * migration runs are projected by it. */
static const char migration_2[] =
    "ALTER TABLE members ADD COLUMN home_member_id bigint, ADD COLUMN name text,"
    " ADD COLUMN email text, ADD COLUMN phone text, ADD COLUMN birthday text,"
    " ADD COLUMN consent_marketing boolean NOT NULL DEFAULT false,"
    " ADD COLUMN consent_at timestamptz,"
    " ADD COLUMN changed_xid xid8 NOT NULL DEFAULT pg_current_xact_id();"
    "CREATE INDEX members_changed ON members (changed_xid);"
    "ALTER TABLE cards ADD COLUMN blocked boolean NOT NULL DEFAULT false,"
    " ADD COLUMN changed_xid xid8 NOT NULL DEFAULT pg_current_xact_id();"
    "CREATE INDEX cards_changed ON cards (changed_xid);"
    "CREATE TABLE chain_entries ("
    " store_id integer NOT NULL REFERENCES stores,"
    " store_seq bigint NOT NULL,"
    " member_uid text NOT NULL,"
    " kind text NOT NULL,"
    " points bigint NOT NULL,"
    " earned bigint NOT NULL,"
    " store_time timestamptz,"
    " received_at timestamptz NOT NULL DEFAULT now(),"
    " PRIMARY KEY (store_id, store_seq));"
    "CREATE INDEX chain_entries_member ON chain_entries (member_uid);"
    "CREATE TABLE chain_balances ("
    " member_uid text PRIMARY KEY,"
    " points bigint NOT NULL DEFAULT 0,"
    " earned bigint NOT NULL DEFAULT 0,"
    " changed_xid xid8 NOT NULL DEFAULT pg_current_xact_id());"
    "CREATE INDEX chain_balances_changed ON chain_balances (changed_xid);"
    "CREATE TABLE chain_member_stores ("
    " member_uid text NOT NULL,"
    " store_id integer NOT NULL REFERENCES stores,"
    " points bigint NOT NULL DEFAULT 0,"
    " earned bigint NOT NULL DEFAULT 0,"
    " PRIMARY KEY (member_uid, store_id));"
    /* the member a fact names: its member_uid, or "<store>-<member_id>" for an older payload */
    "CREATE FUNCTION hq_fact_member(f facts) RETURNS text LANGUAGE sql IMMUTABLE AS"
    " $$SELECT coalesce(f.payload->>'member_uid', f.store_id || '-' ||"
    " coalesce(f.payload->>'member_id', f.payload->>'id'))$$;"
    "CREATE FUNCTION hq_project() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER"
    " SET search_path FROM CURRENT AS $$BEGIN"
    /* enrolments: the member fact comes from the member's home store */
    " INSERT INTO members AS m (member_uid, home_store_id, home_member_id, name, email, phone,"
    "  birthday, consent_marketing, consent_at, enrolled_at)"
    " SELECT DISTINCT ON (hq_fact_member(f)) hq_fact_member(f), f.store_id,"
    "  (f.payload->>'id')::bigint, f.payload->>'name', f.payload->>'email',"
    "  f.payload->>'phone', f.payload->>'birthday',"
    "  coalesce((f.payload->>'consent_marketing')::integer, 0) <> 0,"
    "  to_timestamp((f.payload->>'consent_at')::bigint),"
    "  to_timestamp((f.payload->>'created_at')::bigint)"
    "  FROM new_facts f WHERE f.kind = 'member'"
    "  ORDER BY hq_fact_member(f), f.store_seq DESC"
    " ON CONFLICT (member_uid) DO UPDATE SET home_member_id = excluded.home_member_id,"
    "  name = excluded.name, email = excluded.email, phone = excluded.phone,"
    "  birthday = excluded.birthday, consent_marketing = excluded.consent_marketing,"
    "  consent_at = excluded.consent_at, enrolled_at = excluded.enrolled_at,"
    "  changed_xid = pg_current_xact_id() WHERE m.erased_at IS NULL;"
    /* consent changed anywhere */
    " UPDATE members m SET consent_marketing = c.marketing, consent_at = c.at,"
    "  changed_xid = pg_current_xact_id()"
    "  FROM (SELECT DISTINCT ON (hq_fact_member(f)) hq_fact_member(f) AS uid,"
    "  coalesce((f.payload->>'marketing')::integer, 0) <> 0 AS marketing,"
    "  to_timestamp((f.payload->>'changed_at')::bigint) AS at"
    "  FROM new_facts f WHERE f.kind = 'consent'"
    "  ORDER BY hq_fact_member(f), f.store_id, f.store_seq DESC) c"
    "  WHERE m.member_uid = c.uid AND m.erased_at IS NULL;"
    /* a card or entry naming a member head office has not met yet keeps them as a bare row */
    " INSERT INTO members (member_uid, home_store_id)"
    " SELECT DISTINCT ON (hq_fact_member(f)) hq_fact_member(f),"
    "  coalesce((SELECT s.store_id FROM stores s"
    "  WHERE s.store_id::text = split_part(hq_fact_member(f), '-', 1)), f.store_id)"
    "  FROM new_facts f WHERE f.kind IN ('card', 'entry')"
    "  ORDER BY hq_fact_member(f) ON CONFLICT (member_uid) DO NOTHING;"
    " INSERT INTO cards AS c (card_number, member_uid, store_id, issued_at, blocked)"
    " SELECT DISTINCT ON (f.payload->>'number') f.payload->>'number', hq_fact_member(f),"
    "  f.store_id, to_timestamp((f.payload->>'issued_at')::bigint),"
    "  f.payload->>'status' = 'blocked'"
    "  FROM new_facts f WHERE f.kind = 'card'"
    "  ORDER BY f.payload->>'number', f.store_seq DESC"
    " ON CONFLICT (card_number) DO UPDATE SET blocked = c.blocked OR excluded.blocked,"
    "  changed_xid = pg_current_xact_id();"
    /* an erasure anywhere erases the member at head office and blocks their cards */
    " UPDATE members m SET name = NULL, email = NULL, phone = NULL, birthday = NULL,"
    "  consent_marketing = false, consent_at = NULL,"
    "  erased_at = coalesce(to_timestamp((f.payload->>'erased_at')::bigint), now()),"
    "  changed_xid = pg_current_xact_id()"
    "  FROM new_facts f WHERE f.kind = 'erasure' AND m.member_uid = hq_fact_member(f);"
    " UPDATE cards c SET blocked = true, changed_xid = pg_current_xact_id()"
    "  FROM new_facts f WHERE f.kind = 'erasure' AND c.member_uid = hq_fact_member(f);"
    " INSERT INTO redemptions (store_id, store_seq, member_uid, voucher_id, points, redeemed_at)"
    " SELECT f.store_id, f.store_seq, hq_fact_member(f), f.payload->>'voucher_id',"
    "  (f.payload->>'points')::bigint, to_timestamp((f.payload->>'created_at')::bigint)"
    "  FROM new_facts f WHERE f.kind = 'redemption' ON CONFLICT DO NOTHING;"
    /* entries, and the balances they move, in member order (two stores' batches lock the
     * same balances in the same order) */
    " WITH e AS (INSERT INTO chain_entries (store_id, store_seq, member_uid, kind, points,"
    "  earned, store_time)"
    " SELECT f.store_id, f.store_seq, hq_fact_member(f), f.payload->>'kind',"
    "  CASE WHEN f.payload->>'credit' = 'member' THEN 1 ELSE -1 END"
    "  * (f.payload->>'points')::bigint,"
    "  CASE WHEN f.payload->>'kind' = 'earn' AND f.payload->>'credit' = 'member'"
    "  THEN (f.payload->>'points')::bigint"
    "  WHEN f.payload->>'kind' = 'reverse' AND f.payload->>'debit' = 'member'"
    "  THEN -(f.payload->>'points')::bigint ELSE 0 END,"
    "  to_timestamp((f.payload->>'created_at')::bigint)"
    "  FROM new_facts f WHERE f.kind = 'entry'"
    "  ON CONFLICT DO NOTHING RETURNING member_uid, store_id, points, earned),"
    " s AS (INSERT INTO chain_member_stores AS t (member_uid, store_id, points, earned)"
    "  SELECT member_uid, store_id, sum(points), sum(earned) FROM e GROUP BY 1, 2 ORDER BY 1, 2"
    "  ON CONFLICT (member_uid, store_id) DO UPDATE SET points = t.points + excluded.points,"
    "  earned = t.earned + excluded.earned)"
    " INSERT INTO chain_balances AS b (member_uid, points, earned)"
    " SELECT member_uid, sum(points), sum(earned) FROM e GROUP BY 1 ORDER BY 1"
    " ON CONFLICT (member_uid) DO UPDATE SET points = b.points + excluded.points,"
    "  earned = b.earned + excluded.earned, changed_xid = pg_current_xact_id();"
    " RETURN NULL; END$$;"
    "CREATE TRIGGER facts_project AFTER INSERT ON facts REFERENCING NEW TABLE AS new_facts"
    " FOR EACH STATEMENT EXECUTE FUNCTION hq_project();"
    "GRANT SELECT ON chain_entries, chain_balances, chain_member_stores TO @STORES@;"
    "ALTER TABLE chain_entries ENABLE ROW LEVEL SECURITY;"
    "ALTER TABLE chain_balances ENABLE ROW LEVEL SECURITY;"
    "ALTER TABLE chain_member_stores ENABLE ROW LEVEL SECURITY;"
    /* a store reads every member's balance (what they may spend), its own entries only */
    "CREATE POLICY chain_entries_read ON chain_entries FOR SELECT TO @STORES@"
    " USING (store_id = hq_my_store());"
    "CREATE POLICY chain_balances_read ON chain_balances FOR SELECT TO @STORES@ USING (true);"
    "CREATE POLICY chain_member_stores_read ON chain_member_stores FOR SELECT TO @STORES@"
    " USING (true);"
    /* the facts shipped before this migration are projected too: moved out and back in, in
     * store order, through the trigger (their receive times kept) */
    "CREATE TEMP TABLE hq_facts_before ON COMMIT DROP AS SELECT * FROM facts;"
    "DELETE FROM facts;"
    "INSERT INTO facts SELECT * FROM hq_facts_before ORDER BY store_id, store_seq;"
    "DROP TABLE hq_facts_before;";

/* Online spend claims (issue 11): before a store spends a member's points it claims them here.
 * hq_claim locks the member's chain balance row, so claims for one member are taken one at a
 * time: what the store may spend is its own balance (sent with the claim: it holds entries not
 * shipped yet) plus the chain balance less the store's own part, less what other stores claimed
 * and have not shipped yet (held). A redemption entry arriving from the store releases its hold.
 * A claim is idempotent per (store, key). The functions run as head office's owner, so the store
 * is the session's login role. */
static const char migration_3[] =
    "ALTER TABLE chain_member_stores ADD COLUMN held bigint NOT NULL DEFAULT 0"
    " CHECK (held >= 0);"
    "CREATE TABLE chain_claims ("
    " store_id integer NOT NULL REFERENCES stores,"
    " claim_key text NOT NULL,"
    " member_uid text NOT NULL,"
    " points bigint NOT NULL CHECK (points > 0),"
    " available bigint NOT NULL,"
    " released boolean NOT NULL DEFAULT false,"
    " claimed_at timestamptz NOT NULL DEFAULT now(),"
    " PRIMARY KEY (store_id, claim_key));"
    "CREATE FUNCTION hq_claim(uid text, pts bigint, local_points bigint, key text)"
    " RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$"
    "DECLARE me integer := (SELECT store_id FROM stores WHERE role_name = session_user); total "
    "bigint; own bigint; others bigint;"
    " avail bigint; before bigint;"
    "BEGIN"
    " IF me IS NULL THEN RAISE EXCEPTION 'only a store claims points'"
    "  USING ERRCODE = '42501'; END IF;"
    " IF pts <= 0 THEN RAISE EXCEPTION 'a claim takes a positive number of points'; END IF;"
    " INSERT INTO chain_balances (member_uid) VALUES (uid) ON CONFLICT DO NOTHING;"
    " SELECT points INTO total FROM chain_balances WHERE member_uid = uid FOR UPDATE;"
    " SELECT c.available - c.points INTO before FROM chain_claims c"
    "  WHERE c.store_id = me AND c.claim_key = key;"
    " IF FOUND THEN RETURN before; END IF;"
    " SELECT coalesce(sum(points) FILTER (WHERE store_id = me), 0),"
    "  coalesce(sum(held) FILTER (WHERE store_id <> me), 0) INTO own, others"
    "  FROM chain_member_stores WHERE member_uid = uid;"
    " avail := local_points + (total - own) - others;"
    " IF avail < pts THEN RETURN avail - pts; END IF;"
    " INSERT INTO chain_member_stores AS t (member_uid, store_id, held) VALUES (uid, me, pts)"
    "  ON CONFLICT (member_uid, store_id) DO UPDATE SET held = t.held + excluded.held;"
    " INSERT INTO chain_claims (store_id, claim_key, member_uid, points, available)"
    "  VALUES (me, key, uid, pts, avail);"
    " RETURN avail - pts;"
    "END$$;"
    /* a claim whose spend did not happen at the store gives its points back */
    "CREATE FUNCTION hq_claim_release(key text) RETURNS void LANGUAGE plpgsql SECURITY DEFINER"
    " SET search_path FROM CURRENT AS $$"
    "DECLARE me integer := (SELECT store_id FROM stores WHERE role_name = session_user); c "
    "chain_claims;"
    "BEGIN"
    " UPDATE chain_claims SET released = true WHERE store_id = me AND claim_key = key"
    "  AND NOT released RETURNING * INTO c;"
    " IF FOUND THEN UPDATE chain_member_stores SET held = greatest(0, held - c.points)"
    "  WHERE member_uid = c.member_uid AND store_id = me; END IF;"
    "END$$;"
    "CREATE FUNCTION hq_release_holds() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER"
    " SET search_path FROM CURRENT AS $$BEGIN"
    " UPDATE chain_member_stores t SET held = greatest(0, t.held - r.points)"
    "  FROM (SELECT hq_fact_member(f) AS uid, f.store_id, sum((f.payload->>'points')::bigint)"
    "  AS points FROM new_facts f WHERE f.kind = 'entry' AND f.payload->>'kind' = 'redeem'"
    "  AND f.payload->>'debit' = 'member' GROUP BY 1, 2) r"
    "  WHERE t.member_uid = r.uid AND t.store_id = r.store_id AND t.held > 0;"
    " RETURN NULL; END$$;"
    "CREATE TRIGGER facts_release_holds AFTER INSERT ON facts REFERENCING NEW TABLE AS new_facts"
    " FOR EACH STATEMENT EXECUTE FUNCTION hq_release_holds();"
    "REVOKE ALL ON FUNCTION hq_claim(text, bigint, bigint, text) FROM PUBLIC;"
    "REVOKE ALL ON FUNCTION hq_claim_release(text) FROM PUBLIC;"
    "GRANT EXECUTE ON FUNCTION hq_claim(text, bigint, bigint, text) TO @STORES@;"
    "GRANT EXECUTE ON FUNCTION hq_claim_release(text) TO @STORES@;";

/* Migration 4: the facts policies ask hq_my_store() once per statement (an initplan), not once per
 * row: a batch of 10,000 rows went through the per-row function call in twice the time. Same
 * rule: a store reads and writes only its own facts. */
static const char migration_4[] =
    "ALTER POLICY facts_read ON facts USING (store_id = (SELECT hq_my_store()));"
    "ALTER POLICY facts_write ON facts WITH CHECK (store_id = (SELECT hq_my_store()));";

/* Erasure everywhere (issue 11): an erasure shipped by any store is recorded in erasures, once
 * per member (the first store's; the erasures other stores ship when they follow it are
 * ignored), and every personal field the member's shipped facts carry is scrubbed the way the
 * store scrubs its own outbox (hq_scrub), in the batch's own transaction, by a trigger that runs
 * after the projection (triggers fire in name order) has scrubbed the member row and blocked the
 * cards. Facts about an erased member that arrive later are scrubbed as they arrive. The ledger
 * figures stay, so every chain balance still equals its entries. Stores read every erasure and
 * pull the ones changed since their cursor (src/hq/pull_erasure.c). Erasures and facts already at
 * head office when this migration runs are applied by it. */
static const char migration_5[] =
    "CREATE TABLE erasures ("
    " member_uid text PRIMARY KEY,"
    " store_id integer NOT NULL REFERENCES stores,"
    " erased_at timestamptz NOT NULL,"
    " received_at timestamptz NOT NULL DEFAULT now(),"
    " changed_xid xid8 NOT NULL DEFAULT pg_current_xact_id());"
    "CREATE INDEX erasures_changed ON erasures (changed_xid);"
    /* the facts that carry personal data, by member: what an erasure scrubs */
    "CREATE INDEX facts_personal ON facts ((hq_fact_member(facts)))"
    " WHERE kind IN ('member', 'consent', 'feedback', 'goodwill');"
    "CREATE FUNCTION hq_scrub(kind text, p jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS"
    " $$SELECT CASE kind"
    " WHEN 'member' THEN p || '{\"name\": \"erased\", \"email\": null, \"phone\": null,"
    " \"birthday\": null, \"consent_source\": null}'::jsonb"
    " WHEN 'consent' THEN p || '{\"source\": null}'::jsonb"
    " WHEN 'feedback' THEN p || '{\"comment\": null}'::jsonb"
    " WHEN 'goodwill' THEN p || '{\"complaint\": \"erased\"}'::jsonb"
    " ELSE p END$$;"
    "CREATE FUNCTION hq_erase() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER"
    " SET search_path FROM CURRENT AS $$BEGIN"
    " IF EXISTS (SELECT 1 FROM new_facts WHERE kind = 'erasure') THEN"
    " INSERT INTO erasures (member_uid, store_id, erased_at)"
    " SELECT DISTINCT ON (hq_fact_member(f)) hq_fact_member(f), f.store_id,"
    "  coalesce(to_timestamp((f.payload->>'erased_at')::bigint), now())"
    "  FROM new_facts f WHERE f.kind = 'erasure'"
    "  ORDER BY hq_fact_member(f), f.store_seq ON CONFLICT (member_uid) DO NOTHING;"
    /* the facts of members erased by this batch, and this batch's facts of erased members */
    " UPDATE facts f SET payload = hq_scrub(f.kind, f.payload)"
    "  WHERE f.kind IN ('member', 'consent', 'feedback', 'goodwill')"
    "  AND hq_fact_member(f) IN (SELECT e.member_uid FROM erasures e"
    "  WHERE e.changed_xid = pg_current_xact_id());"
    " END IF;"
    " UPDATE facts f SET payload = hq_scrub(f.kind, f.payload)"
    "  FROM new_facts n JOIN erasures e ON e.member_uid = hq_fact_member(n)"
    "  WHERE n.kind IN ('member', 'consent', 'feedback', 'goodwill')"
    "  AND f.store_id = n.store_id AND f.store_seq = n.store_seq"
    "  AND f.payload <> hq_scrub(f.kind, f.payload);"
    " RETURN NULL; END$$;"
    "CREATE TRIGGER facts_project_erasure AFTER INSERT ON facts"
    " REFERENCING NEW TABLE AS new_facts FOR EACH STATEMENT EXECUTE FUNCTION hq_erase();"
    "GRANT SELECT ON erasures TO @STORES@;"
    "ALTER TABLE erasures ENABLE ROW LEVEL SECURITY;"
    "CREATE POLICY erasures_read ON erasures FOR SELECT TO @STORES@ USING (true);"
    /* what head office held before */
    "INSERT INTO erasures (member_uid, store_id, erased_at)"
    " SELECT DISTINCT ON (hq_fact_member(f)) hq_fact_member(f), f.store_id,"
    "  coalesce(to_timestamp((f.payload->>'erased_at')::bigint), f.received_at)"
    "  FROM facts f WHERE f.kind = 'erasure'"
    "  ORDER BY hq_fact_member(f), f.received_at, f.store_id, f.store_seq;"
    "UPDATE facts f SET payload = hq_scrub(f.kind, f.payload)"
    " WHERE f.kind IN ('member', 'consent', 'feedback', 'goodwill')"
    " AND hq_fact_member(f) IN (SELECT member_uid FROM erasures);";

/* The program head office authors (issue 11): a draft only its owner reads and writes (no grant
 * to the stores), and the publications, each a whole program as one jsonb snapshot, that every
 * store reads. Each store writes the publication it applied into its own row of store_programs. */
static const char migration_program[] =
    "CREATE TABLE program_versions ("
    " version bigint PRIMARY KEY CHECK (version > 0),"
    " published_at timestamptz NOT NULL DEFAULT now(),"
    " published_by text NOT NULL DEFAULT current_user,"
    " body jsonb NOT NULL);"
    "CREATE TABLE program_draft_rules (name text PRIMARY KEY, value text NOT NULL);"
    "CREATE TABLE program_draft_categories ("
    " name text PRIMARY KEY, multiplier_permille bigint NOT NULL);"
    "CREATE TABLE program_draft_tiers ("
    " name text PRIMARY KEY, threshold bigint NOT NULL UNIQUE, multiplier_permille bigint NOT "
    "NULL);"
    "CREATE TABLE program_draft_rewards ("
    " reward_id bigserial PRIMARY KEY, name text NOT NULL, cost bigint NOT NULL,"
    " kind text NOT NULL, value bigint NOT NULL, valid_days bigint NOT NULL DEFAULT 0,"
    " ended_at timestamptz);"
    "CREATE UNIQUE INDEX program_draft_rewards_name ON program_draft_rewards (name)"
    " WHERE ended_at IS NULL;"
    /* offers: `patron offer add`'s definition as a document */
    "CREATE TABLE program_draft_offers ("
    " offer_id bigserial PRIMARY KEY, name text NOT NULL, body jsonb NOT NULL,"
    " ended_at timestamptz);"
    "CREATE UNIQUE INDEX program_draft_offers_name ON program_draft_offers (name)"
    " WHERE ended_at IS NULL;"
    /* the chain's key trust list: public keys (PEM) by the key id vouchers carry */
    "CREATE TABLE program_draft_keys ("
    " key_id integer PRIMARY KEY CHECK (key_id BETWEEN 1 AND 65535),"
    " partner text NOT NULL, chain_id text, pem text NOT NULL,"
    " added_at timestamptz NOT NULL DEFAULT now(), revoked_at timestamptz);"
    "CREATE TABLE store_programs ("
    " store_id integer PRIMARY KEY REFERENCES stores,"
    " version bigint NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now());"
    "GRANT SELECT ON program_versions TO @STORES@;"
    "GRANT SELECT, INSERT, UPDATE ON store_programs TO @STORES@;"
    "ALTER TABLE store_programs ENABLE ROW LEVEL SECURITY;"
    "CREATE POLICY store_programs_read ON store_programs FOR SELECT TO @STORES@"
    " USING (store_id = (SELECT hq_my_store()));"
    "CREATE POLICY store_programs_insert ON store_programs FOR INSERT TO @STORES@"
    " WITH CHECK (store_id = (SELECT hq_my_store()));"
    "CREATE POLICY store_programs_update ON store_programs FOR UPDATE TO @STORES@"
    " USING (store_id = (SELECT hq_my_store())) WITH CHECK (store_id = (SELECT hq_my_store()));";

/* Vouchers single-use per chain (issue 11): a store redeeming a voucher online claims it here
 * first, one row per (key id, voucher id), so a second store is refused with where and when it
 * was redeemed; a claim whose redemption failed at the store is given back. Redemptions and voids
 * shipped by the stores (offline ones too) are projected into the same tables (by the trigger,
 * and once here for the facts shipped before), which every store pulls down so that its
 * register refuses them offline as well. redeemed_at is the store's time once the redemption
 * itself arrived (NULL while only claimed). */
static const char migration_vouchers[] =
    "CREATE TABLE voucher_claims ("
    " key_id bigint NOT NULL,"
    " voucher_id bigint NOT NULL,"
    " store_id integer NOT NULL REFERENCES stores,"
    " claim_key text,"
    " claimed_at timestamptz NOT NULL DEFAULT now(),"
    " redeemed_at timestamptz,"
    " changed_xid xid8 NOT NULL DEFAULT pg_current_xact_id(),"
    " PRIMARY KEY (key_id, voucher_id));"
    "CREATE TABLE voucher_voids ("
    " key_id bigint NOT NULL,"
    " voucher_id bigint NOT NULL,"
    " store_id integer NOT NULL REFERENCES stores,"
    " voided_at timestamptz,"
    " changed_xid xid8 NOT NULL DEFAULT pg_current_xact_id(),"
    " PRIMARY KEY (key_id, voucher_id));"
    "CREATE FUNCTION hq_project_vouchers() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER"
    " SET search_path FROM CURRENT AS $$BEGIN "
    "INSERT INTO voucher_claims AS c (key_id, voucher_id, store_id, claimed_at, redeemed_at)"
    " SELECT DISTINCT ON (1, 2) (f.payload->>'key_id')::bigint,"
    " (f.payload->>'voucher_id')::bigint, f.store_id, f.received_at,"
    " to_timestamp((f.payload->>'redeemed_at')::bigint) FROM new_facts f"
    " WHERE f.kind = 'voucher_redeemed' ORDER BY 1, 2, f.store_id, f.store_seq"
    " ON CONFLICT (key_id, voucher_id) DO UPDATE SET redeemed_at = excluded.redeemed_at,"
    " changed_xid = pg_current_xact_id()"
    " WHERE c.store_id = excluded.store_id AND c.redeemed_at IS NULL;"
    "INSERT INTO voucher_voids (key_id, voucher_id, store_id, voided_at)"
    " SELECT DISTINCT ON (1, 2) (f.payload->>'key_id')::bigint,"
    " (f.payload->>'voucher_id')::bigint, f.store_id,"
    " to_timestamp((f.payload->>'voided_at')::bigint) FROM new_facts f"
    " WHERE f.kind = 'voucher_voided' ORDER BY 1, 2, f.store_seq ON CONFLICT DO NOTHING;"
    " RETURN NULL; END$$;"
    "CREATE TRIGGER facts_vouchers AFTER INSERT ON facts REFERENCING NEW TABLE AS new_facts"
    " FOR EACH STATEMENT EXECUTE FUNCTION hq_project_vouchers();"
    "INSERT INTO voucher_claims AS c (key_id, voucher_id, store_id, claimed_at, redeemed_at)"
    " SELECT DISTINCT ON (1, 2) (f.payload->>'key_id')::bigint,"
    " (f.payload->>'voucher_id')::bigint, f.store_id, f.received_at,"
    " to_timestamp((f.payload->>'redeemed_at')::bigint) FROM facts f"
    " WHERE f.kind = 'voucher_redeemed' ORDER BY 1, 2, f.store_id, f.store_seq"
    " ON CONFLICT (key_id, voucher_id) DO UPDATE SET redeemed_at = excluded.redeemed_at,"
    " changed_xid = pg_current_xact_id()"
    " WHERE c.store_id = excluded.store_id AND c.redeemed_at IS NULL;"
    "INSERT INTO voucher_voids (key_id, voucher_id, store_id, voided_at)"
    " SELECT DISTINCT ON (1, 2) (f.payload->>'key_id')::bigint,"
    " (f.payload->>'voucher_id')::bigint, f.store_id,"
    " to_timestamp((f.payload->>'voided_at')::bigint) FROM facts f"
    " WHERE f.kind = 'voucher_voided' ORDER BY 1, 2, f.store_seq ON CONFLICT DO NOTHING;"
    "CREATE FUNCTION hq_voucher_claim(kid bigint, vid bigint, key text) RETURNS text"
    " LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$"
    "DECLARE me integer := (SELECT store_id FROM stores WHERE role_name = session_user);"
    " c voucher_claims; v voucher_voids;"
    "BEGIN"
    " IF me IS NULL THEN RAISE EXCEPTION 'only a store claims vouchers'"
    "  USING ERRCODE = '42501'; END IF;"
    " SELECT * INTO v FROM voucher_voids WHERE key_id = kid AND voucher_id = vid;"
    " IF FOUND THEN RETURN 'voided at store ' || v.store_id || ' at '"
    "  || to_char(v.voided_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC'; END IF;"
    " INSERT INTO voucher_claims (key_id, voucher_id, store_id, claim_key)"
    "  VALUES (kid, vid, me, key) ON CONFLICT DO NOTHING;"
    " IF FOUND THEN RETURN NULL; END IF;"
    " SELECT * INTO c FROM voucher_claims WHERE key_id = kid AND voucher_id = vid;"
    " IF c.store_id = me AND c.claim_key = key THEN RETURN NULL; END IF;"
    " RETURN 'already redeemed at store ' || c.store_id || ' at '"
    "  || to_char(coalesce(c.redeemed_at, c.claimed_at) AT TIME ZONE 'UTC',"
    "  'YYYY-MM-DD HH24:MI:SS') || ' UTC';"
    "END$$;"
    "CREATE FUNCTION hq_voucher_release(key text) RETURNS void LANGUAGE plpgsql SECURITY DEFINER"
    " SET search_path FROM CURRENT AS $$BEGIN"
    " DELETE FROM voucher_claims WHERE store_id = (SELECT store_id FROM stores"
    "  WHERE role_name = session_user) AND claim_key = key AND redeemed_at IS NULL;"
    "END$$;"
    "REVOKE ALL ON FUNCTION hq_voucher_claim(bigint, bigint, text) FROM PUBLIC;"
    "REVOKE ALL ON FUNCTION hq_voucher_release(text) FROM PUBLIC;"
    "GRANT EXECUTE ON FUNCTION hq_voucher_claim(bigint, bigint, text) TO @STORES@;"
    "GRANT EXECUTE ON FUNCTION hq_voucher_release(text) TO @STORES@;"
    "GRANT SELECT ON voucher_claims, voucher_voids TO @STORES@;"
    "ALTER TABLE voucher_claims ENABLE ROW LEVEL SECURITY;"
    "ALTER TABLE voucher_voids ENABLE ROW LEVEL SECURITY;"
    "CREATE POLICY voucher_claims_read ON voucher_claims FOR SELECT TO @STORES@ USING (true);"
    "CREATE POLICY voucher_voids_read ON voucher_voids FOR SELECT TO @STORES@ USING (true);";

/* The projection trigger at the scale of a chain. A card or entry naming a member
 * head office has not met finds the member's home store by `store_id::text`: an index on that
 * expression makes it a look-up, not a scan of every store for every row (10,000 rows of a batch
 * at 1,000 stores took 100 s). hq_fact_member is STABLE, as what it calls (integer || text) is:
 * declared IMMUTABLE it was never inlined, a function call per row and per use. */
static const char migration_scale[] =
    "CREATE INDEX IF NOT EXISTS stores_id_text ON stores ((store_id::text));"
    "ALTER FUNCTION hq_fact_member(facts) STABLE;";

/* Refunds that take points back are claimed too (issue 11): hq_claim_refund takes what the
 * refund reverses under the same lock and the same sum as hq_claim. With `clamp` (the clamp
 * policy) it takes at most what the member holds in the chain, maybe nothing, and says how much:
 * the store reverses exactly that. Without, it takes all of it even below zero (the negative
 * policy). Idempotent per (store, key): the claim standing is answered again (fresh = false); a
 * released one is claimed anew. A claim of 0 points is kept too, so a retry takes no more. A
 * claimed debit's hold is given back when its entry arrives: a refund's reversal and an
 * adjustment's debit as a redemption's. */
static const char migration_refund_claims[] =
    "ALTER TABLE chain_claims DROP CONSTRAINT chain_claims_points_check,"
    " ADD CONSTRAINT chain_claims_points_check CHECK (points >= 0);"
    "CREATE FUNCTION hq_claim_refund(uid text, pts bigint, local_points bigint, key text,"
    " clamp boolean, OUT taken bigint, OUT fresh boolean)"
    " LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$"
    "DECLARE me integer := (SELECT store_id FROM stores WHERE role_name = session_user);"
    " total bigint; own bigint; others bigint; avail bigint; c chain_claims;"
    "BEGIN"
    " IF me IS NULL THEN RAISE EXCEPTION 'only a store claims points'"
    "  USING ERRCODE = '42501'; END IF;"
    " IF pts <= 0 THEN RAISE EXCEPTION 'a claim takes a positive number of points'; END IF;"
    " INSERT INTO chain_balances (member_uid) VALUES (uid) ON CONFLICT DO NOTHING;"
    " SELECT points INTO total FROM chain_balances WHERE member_uid = uid FOR UPDATE;"
    " SELECT * INTO c FROM chain_claims WHERE store_id = me AND claim_key = key;"
    " IF FOUND AND NOT c.released THEN taken := c.points; fresh := false; RETURN; END IF;"
    " DELETE FROM chain_claims WHERE store_id = me AND claim_key = key;"
    " SELECT coalesce(sum(points) FILTER (WHERE store_id = me), 0),"
    "  coalesce(sum(held) FILTER (WHERE store_id <> me), 0) INTO own, others"
    "  FROM chain_member_stores WHERE member_uid = uid;"
    " avail := local_points + (total - own) - others;"
    " taken := CASE WHEN clamp THEN least(pts, greatest(avail, 0)) ELSE pts END;"
    " fresh := true;"
    " IF taken > 0 THEN"
    "  INSERT INTO chain_member_stores AS t (member_uid, store_id, held) VALUES (uid, me, taken)"
    "  ON CONFLICT (member_uid, store_id) DO UPDATE SET held = t.held + excluded.held;"
    " END IF;"
    " INSERT INTO chain_claims (store_id, claim_key, member_uid, points, available)"
    "  VALUES (me, key, uid, taken, avail);"
    "END$$;"
    "REVOKE ALL ON FUNCTION hq_claim_refund(text, bigint, bigint, text, boolean) FROM PUBLIC;"
    "GRANT EXECUTE ON FUNCTION hq_claim_refund(text, bigint, bigint, text, boolean)"
    " TO @STORES@;"
    "CREATE OR REPLACE FUNCTION hq_release_holds() RETURNS trigger LANGUAGE plpgsql"
    " SECURITY DEFINER SET search_path FROM CURRENT AS $$BEGIN"
    " UPDATE chain_member_stores t SET held = greatest(0, t.held - r.points)"
    "  FROM (SELECT hq_fact_member(f) AS uid, f.store_id, sum((f.payload->>'points')::bigint)"
    "  AS points FROM new_facts f WHERE f.kind = 'entry'"
    "  AND f.payload->>'kind' IN ('redeem', 'reverse', 'adjust')"
    "  AND f.payload->>'debit' = 'member' GROUP BY 1, 2) r"
    "  WHERE t.member_uid = r.uid AND t.store_id = r.store_id AND t.held > 0;"
    " RETURN NULL; END$$;";

/* Cheaper ingest (hq_ingest_vs_copy), the same rules.
 * 1. The foreign keys from facts and chain_entries to stores are checked once per statement,
 *    not once per row: a declarative foreign key runs a query per inserted row (17% of head
 *    office's CPU in a sync). hq_check_store locks the stores the statement's rows name (FOR KEY
 *    SHARE, as the foreign key did) and refuses a row naming no store with the foreign key's
 *    SQLSTATE (23503); hq_store_in_use refuses deleting or renumbering a store facts or entries
 *    name. The check fires first (triggers fire in name order).
 * 2. The projection is the same but for one statement: a card or entry whose member head office
 *    already holds no longer looks up the member's home store and tries an insert only to skip it
 *    (ON CONFLICT still covers a member another batch inserts at the same moment). */
static const char migration_ingest[] =
    "CREATE FUNCTION hq_check_store() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER"
    " SET search_path FROM CURRENT AS $$DECLARE missing integer; BEGIN"
    " PERFORM FROM stores s WHERE s.store_id IN (SELECT n.store_id FROM new_rows n)"
    "  ORDER BY s.store_id FOR KEY SHARE;"
    " SELECT n.store_id INTO missing FROM new_rows n"
    "  WHERE NOT EXISTS (SELECT FROM stores s WHERE s.store_id = n.store_id) LIMIT 1;"
    " IF FOUND THEN RAISE EXCEPTION"
    "  'insert or update on table \"%\" violates foreign key constraint \"%_store_id_fkey\"',"
    "  TG_TABLE_NAME, TG_TABLE_NAME USING ERRCODE = 'foreign_key_violation',"
    "  DETAIL = format('Key (store_id)=(%s) is not present in table \"stores\".', missing);"
    " END IF; RETURN NULL; END$$;"
    "CREATE FUNCTION hq_store_in_use() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER"
    " SET search_path FROM CURRENT AS $$BEGIN"
    " IF EXISTS (SELECT FROM facts WHERE store_id = OLD.store_id)"
    "  OR EXISTS (SELECT FROM chain_entries WHERE store_id = OLD.store_id) THEN RAISE EXCEPTION"
    "  'update or delete on table \"stores\" violates foreign key constraint on table \"facts\"'"
    "  USING ERRCODE = 'foreign_key_violation',"
    "  DETAIL = format('Key (store_id)=(%s) is still referenced.', OLD.store_id);"
    " END IF; IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END$$;"
    "ALTER TABLE facts DROP CONSTRAINT facts_store_id_fkey;"
    "ALTER TABLE chain_entries DROP CONSTRAINT chain_entries_store_id_fkey;"
    "CREATE TRIGGER facts_check_store AFTER INSERT ON facts REFERENCING NEW TABLE AS new_rows"
    " FOR EACH STATEMENT EXECUTE FUNCTION hq_check_store();"
    "CREATE TRIGGER facts_check_store_update AFTER UPDATE ON facts"
    " REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION hq_check_store();"
    "CREATE TRIGGER chain_entries_check_store AFTER INSERT ON chain_entries"
    " REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION hq_check_store();"
    "CREATE TRIGGER chain_entries_check_store_update AFTER UPDATE ON chain_entries"
    " REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION hq_check_store();"
    "CREATE TRIGGER stores_in_use BEFORE DELETE ON stores"
    " FOR EACH ROW EXECUTE FUNCTION hq_store_in_use();"
    "CREATE TRIGGER stores_in_use_update BEFORE UPDATE OF store_id ON stores FOR EACH ROW"
    " WHEN (OLD.store_id IS DISTINCT FROM NEW.store_id) EXECUTE FUNCTION hq_store_in_use();"
    "CREATE OR REPLACE FUNCTION hq_project() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER"
    " SET search_path FROM CURRENT AS $$BEGIN"
    /* enrolments: the member fact comes from the member's home store */
    " INSERT INTO members AS m (member_uid, home_store_id, home_member_id, name, email, phone,"
    "  birthday, consent_marketing, consent_at, enrolled_at)"
    " SELECT DISTINCT ON (hq_fact_member(f)) hq_fact_member(f), f.store_id,"
    "  (f.payload->>'id')::bigint, f.payload->>'name', f.payload->>'email',"
    "  f.payload->>'phone', f.payload->>'birthday',"
    "  coalesce((f.payload->>'consent_marketing')::integer, 0) <> 0,"
    "  to_timestamp((f.payload->>'consent_at')::bigint),"
    "  to_timestamp((f.payload->>'created_at')::bigint)"
    "  FROM new_facts f WHERE f.kind = 'member'"
    "  ORDER BY hq_fact_member(f), f.store_seq DESC"
    " ON CONFLICT (member_uid) DO UPDATE SET home_member_id = excluded.home_member_id,"
    "  name = excluded.name, email = excluded.email, phone = excluded.phone,"
    "  birthday = excluded.birthday, consent_marketing = excluded.consent_marketing,"
    "  consent_at = excluded.consent_at, enrolled_at = excluded.enrolled_at,"
    "  changed_xid = pg_current_xact_id() WHERE m.erased_at IS NULL;"
    /* consent changed anywhere */
    " UPDATE members m SET consent_marketing = c.marketing, consent_at = c.at,"
    "  changed_xid = pg_current_xact_id()"
    "  FROM (SELECT DISTINCT ON (hq_fact_member(f)) hq_fact_member(f) AS uid,"
    "  coalesce((f.payload->>'marketing')::integer, 0) <> 0 AS marketing,"
    "  to_timestamp((f.payload->>'changed_at')::bigint) AS at"
    "  FROM new_facts f WHERE f.kind = 'consent'"
    "  ORDER BY hq_fact_member(f), f.store_id, f.store_seq DESC) c"
    "  WHERE m.member_uid = c.uid AND m.erased_at IS NULL;"
    /* a card or entry naming a member head office has not met yet keeps them as a bare row */
    " INSERT INTO members (member_uid, home_store_id)"
    " SELECT DISTINCT ON (hq_fact_member(f)) hq_fact_member(f),"
    "  coalesce((SELECT s.store_id FROM stores s"
    "  WHERE s.store_id::text = split_part(hq_fact_member(f), '-', 1)), f.store_id)"
    "  FROM new_facts f WHERE f.kind IN ('card', 'entry')"
    "  AND NOT EXISTS (SELECT FROM members m WHERE m.member_uid = hq_fact_member(f))"
    "  ORDER BY hq_fact_member(f) ON CONFLICT (member_uid) DO NOTHING;"
    " INSERT INTO cards AS c (card_number, member_uid, store_id, issued_at, blocked)"
    " SELECT DISTINCT ON (f.payload->>'number') f.payload->>'number', hq_fact_member(f),"
    "  f.store_id, to_timestamp((f.payload->>'issued_at')::bigint),"
    "  f.payload->>'status' = 'blocked'"
    "  FROM new_facts f WHERE f.kind = 'card'"
    "  ORDER BY f.payload->>'number', f.store_seq DESC"
    " ON CONFLICT (card_number) DO UPDATE SET blocked = c.blocked OR excluded.blocked,"
    "  changed_xid = pg_current_xact_id();"
    /* an erasure anywhere erases the member at head office and blocks their cards */
    " UPDATE members m SET name = NULL, email = NULL, phone = NULL, birthday = NULL,"
    "  consent_marketing = false, consent_at = NULL,"
    "  erased_at = coalesce(to_timestamp((f.payload->>'erased_at')::bigint), now()),"
    "  changed_xid = pg_current_xact_id()"
    "  FROM new_facts f WHERE f.kind = 'erasure' AND m.member_uid = hq_fact_member(f);"
    " UPDATE cards c SET blocked = true, changed_xid = pg_current_xact_id()"
    "  FROM new_facts f WHERE f.kind = 'erasure' AND c.member_uid = hq_fact_member(f);"
    " INSERT INTO redemptions (store_id, store_seq, member_uid, voucher_id, points, redeemed_at)"
    " SELECT f.store_id, f.store_seq, hq_fact_member(f), f.payload->>'voucher_id',"
    "  (f.payload->>'points')::bigint, to_timestamp((f.payload->>'created_at')::bigint)"
    "  FROM new_facts f WHERE f.kind = 'redemption' ON CONFLICT DO NOTHING;"
    /* entries, and the balances they move, in member order (two stores' batches lock the
     * same balances in the same order) */
    " WITH e AS (INSERT INTO chain_entries (store_id, store_seq, member_uid, kind, points,"
    "  earned, store_time)"
    " SELECT f.store_id, f.store_seq, hq_fact_member(f), f.payload->>'kind',"
    "  CASE WHEN f.payload->>'credit' = 'member' THEN 1 ELSE -1 END"
    "  * (f.payload->>'points')::bigint,"
    "  CASE WHEN f.payload->>'kind' = 'earn' AND f.payload->>'credit' = 'member'"
    "  THEN (f.payload->>'points')::bigint"
    "  WHEN f.payload->>'kind' = 'reverse' AND f.payload->>'debit' = 'member'"
    "  THEN -(f.payload->>'points')::bigint ELSE 0 END,"
    "  to_timestamp((f.payload->>'created_at')::bigint)"
    "  FROM new_facts f WHERE f.kind = 'entry'"
    "  ON CONFLICT DO NOTHING RETURNING member_uid, store_id, points, earned),"
    " s AS (INSERT INTO chain_member_stores AS t (member_uid, store_id, points, earned)"
    "  SELECT member_uid, store_id, sum(points), sum(earned) FROM e GROUP BY 1, 2 ORDER BY 1, 2"
    "  ON CONFLICT (member_uid, store_id) DO UPDATE SET points = t.points + excluded.points,"
    "  earned = t.earned + excluded.earned)"
    " INSERT INTO chain_balances AS b (member_uid, points, earned)"
    " SELECT member_uid, sum(points), sum(earned) FROM e GROUP BY 1 ORDER BY 1"
    " ON CONFLICT (member_uid) DO UPDATE SET points = b.points + excluded.points,"
    "  earned = b.earned + excluded.earned, changed_xid = pg_current_xact_id();"
    " RETURN NULL; END$$;";

/* The projection of a batch at the cost of its writes (hq_ingest_vs_copy), the same rules.
 * 1. One trigger, hq_project, does what four did (the projection, the erasures, the holds given
 *    back, the vouchers), in the order they fired, and runs only the statements of the kinds of
 *    fact the batch holds: it reads the batch's kinds once, where each statement of the four
 *    read the whole batch (a sync's batch of sales and entries has no member, consent, card,
 *    erasure, redemption or voucher). Holds are given back only when the batch's store holds
 *    some (a partial index on the few rows with a hold).
 * 2. hq_check_store reads the statement's distinct stores once and checks those, not every row
 *    against stores (the same lock, the same SQLSTATE and sentence).
 * 3. chain_member_stores and chain_balances keep room on each page (fillfactor 70, for the pages
 *    written from now on): a member's row updated by each batch stays on its page, and
 *    chain_member_stores's update then touches no index (a HOT update). */
static const char migration_project_once[] =
    "ALTER TABLE chain_member_stores SET (fillfactor = 70);"
    "ALTER TABLE chain_balances SET (fillfactor = 70);"
    "CREATE INDEX chain_member_stores_held ON chain_member_stores (store_id) WHERE held > 0;"
    "CREATE OR REPLACE FUNCTION hq_check_store() RETURNS trigger LANGUAGE plpgsql"
    " SECURITY DEFINER SET search_path FROM CURRENT AS $$"
    "DECLARE ids integer[] := ARRAY(SELECT DISTINCT n.store_id FROM new_rows n); missing integer;"
    "BEGIN"
    " PERFORM FROM stores s WHERE s.store_id = ANY (ids) ORDER BY s.store_id FOR KEY SHARE;"
    " SELECT i INTO missing FROM unnest(ids) i"
    "  WHERE NOT EXISTS (SELECT FROM stores s WHERE s.store_id = i) LIMIT 1;"
    " IF FOUND THEN RAISE EXCEPTION"
    "  'insert or update on table \"%\" violates foreign key constraint \"%_store_id_fkey\"',"
    "  TG_TABLE_NAME, TG_TABLE_NAME USING ERRCODE = 'foreign_key_violation',"
    "  DETAIL = format('Key (store_id)=(%s) is not present in table \"stores\".', missing);"
    " END IF; RETURN NULL; END$$;"
    "DROP TRIGGER facts_project_erasure ON facts;"
    "DROP TRIGGER facts_release_holds ON facts;"
    "DROP TRIGGER facts_vouchers ON facts;"
    "DROP FUNCTION hq_erase(), hq_release_holds(), hq_project_vouchers();"
    "CREATE OR REPLACE FUNCTION hq_project() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER"
    " SET search_path FROM CURRENT AS $$"
    "DECLARE kinds text[] := ARRAY(SELECT DISTINCT f.kind FROM new_facts f);"
    "BEGIN"
    /* enrolments: the member fact comes from the member's home store */
    " IF 'member' = ANY (kinds) THEN"
    " INSERT INTO members AS m (member_uid, home_store_id, home_member_id, name, email, phone,"
    "  birthday, consent_marketing, consent_at, enrolled_at)"
    " SELECT DISTINCT ON (hq_fact_member(f)) hq_fact_member(f), f.store_id,"
    "  (f.payload->>'id')::bigint, f.payload->>'name', f.payload->>'email',"
    "  f.payload->>'phone', f.payload->>'birthday',"
    "  coalesce((f.payload->>'consent_marketing')::integer, 0) <> 0,"
    "  to_timestamp((f.payload->>'consent_at')::bigint),"
    "  to_timestamp((f.payload->>'created_at')::bigint)"
    "  FROM new_facts f WHERE f.kind = 'member'"
    "  ORDER BY hq_fact_member(f), f.store_seq DESC"
    " ON CONFLICT (member_uid) DO UPDATE SET home_member_id = excluded.home_member_id,"
    "  name = excluded.name, email = excluded.email, phone = excluded.phone,"
    "  birthday = excluded.birthday, consent_marketing = excluded.consent_marketing,"
    "  consent_at = excluded.consent_at, enrolled_at = excluded.enrolled_at,"
    "  changed_xid = pg_current_xact_id() WHERE m.erased_at IS NULL;"
    " END IF;"
    /* consent changed anywhere */
    " IF 'consent' = ANY (kinds) THEN"
    " UPDATE members m SET consent_marketing = c.marketing, consent_at = c.at,"
    "  changed_xid = pg_current_xact_id()"
    "  FROM (SELECT DISTINCT ON (hq_fact_member(f)) hq_fact_member(f) AS uid,"
    "  coalesce((f.payload->>'marketing')::integer, 0) <> 0 AS marketing,"
    "  to_timestamp((f.payload->>'changed_at')::bigint) AS at"
    "  FROM new_facts f WHERE f.kind = 'consent'"
    "  ORDER BY hq_fact_member(f), f.store_id, f.store_seq DESC) c"
    "  WHERE m.member_uid = c.uid AND m.erased_at IS NULL;"
    " END IF;"
    /* a card or entry naming a member head office has not met yet keeps them as a bare row */
    " IF kinds && ARRAY['card', 'entry'] THEN"
    " INSERT INTO members (member_uid, home_store_id)"
    " SELECT DISTINCT ON (hq_fact_member(f)) hq_fact_member(f),"
    "  coalesce((SELECT s.store_id FROM stores s"
    "  WHERE s.store_id::text = split_part(hq_fact_member(f), '-', 1)), f.store_id)"
    "  FROM new_facts f WHERE f.kind IN ('card', 'entry')"
    "  AND NOT EXISTS (SELECT FROM members m WHERE m.member_uid = hq_fact_member(f))"
    "  ORDER BY hq_fact_member(f) ON CONFLICT (member_uid) DO NOTHING;"
    " END IF;"
    " IF 'card' = ANY (kinds) THEN"
    " INSERT INTO cards AS c (card_number, member_uid, store_id, issued_at, blocked)"
    " SELECT DISTINCT ON (f.payload->>'number') f.payload->>'number', hq_fact_member(f),"
    "  f.store_id, to_timestamp((f.payload->>'issued_at')::bigint),"
    "  f.payload->>'status' = 'blocked'"
    "  FROM new_facts f WHERE f.kind = 'card'"
    "  ORDER BY f.payload->>'number', f.store_seq DESC"
    " ON CONFLICT (card_number) DO UPDATE SET blocked = c.blocked OR excluded.blocked,"
    "  changed_xid = pg_current_xact_id();"
    " END IF;"
    /* an erasure anywhere erases the member at head office and blocks their cards */
    " IF 'erasure' = ANY (kinds) THEN"
    " UPDATE members m SET name = NULL, email = NULL, phone = NULL, birthday = NULL,"
    "  consent_marketing = false, consent_at = NULL,"
    "  erased_at = coalesce(to_timestamp((f.payload->>'erased_at')::bigint), now()),"
    "  changed_xid = pg_current_xact_id()"
    "  FROM new_facts f WHERE f.kind = 'erasure' AND m.member_uid = hq_fact_member(f);"
    " UPDATE cards c SET blocked = true, changed_xid = pg_current_xact_id()"
    "  FROM new_facts f WHERE f.kind = 'erasure' AND c.member_uid = hq_fact_member(f);"
    " END IF;"
    " IF 'redemption' = ANY (kinds) THEN"
    " INSERT INTO redemptions (store_id, store_seq, member_uid, voucher_id, points, redeemed_at)"
    " SELECT f.store_id, f.store_seq, hq_fact_member(f), f.payload->>'voucher_id',"
    "  (f.payload->>'points')::bigint, to_timestamp((f.payload->>'created_at')::bigint)"
    "  FROM new_facts f WHERE f.kind = 'redemption' ON CONFLICT DO NOTHING;"
    " END IF;"
    /* entries, and the balances they move, in member order (two stores' batches lock the
     * same balances in the same order) */
    " IF 'entry' = ANY (kinds) THEN"
    " WITH e AS (INSERT INTO chain_entries (store_id, store_seq, member_uid, kind, points,"
    "  earned, store_time)"
    " SELECT f.store_id, f.store_seq, hq_fact_member(f), f.payload->>'kind',"
    "  CASE WHEN f.payload->>'credit' = 'member' THEN 1 ELSE -1 END"
    "  * (f.payload->>'points')::bigint,"
    "  CASE WHEN f.payload->>'kind' = 'earn' AND f.payload->>'credit' = 'member'"
    "  THEN (f.payload->>'points')::bigint"
    "  WHEN f.payload->>'kind' = 'reverse' AND f.payload->>'debit' = 'member'"
    "  THEN -(f.payload->>'points')::bigint ELSE 0 END,"
    "  to_timestamp((f.payload->>'created_at')::bigint)"
    "  FROM new_facts f WHERE f.kind = 'entry'"
    "  ON CONFLICT DO NOTHING RETURNING member_uid, store_id, points, earned),"
    " s AS (INSERT INTO chain_member_stores AS t (member_uid, store_id, points, earned)"
    "  SELECT member_uid, store_id, sum(points), sum(earned) FROM e GROUP BY 1, 2 ORDER BY 1, 2"
    "  ON CONFLICT (member_uid, store_id) DO UPDATE SET points = t.points + excluded.points,"
    "  earned = t.earned + excluded.earned)"
    " INSERT INTO chain_balances AS b (member_uid, points, earned)"
    " SELECT member_uid, sum(points), sum(earned) FROM e GROUP BY 1 ORDER BY 1"
    " ON CONFLICT (member_uid) DO UPDATE SET points = b.points + excluded.points,"
    "  earned = b.earned + excluded.earned, changed_xid = pg_current_xact_id();"
    " END IF;"
    /* erasures: recorded once per member, and every personal field of the member's facts
     * scrubbed (what hq_erase did) */
    " IF 'erasure' = ANY (kinds) THEN"
    " INSERT INTO erasures (member_uid, store_id, erased_at)"
    " SELECT DISTINCT ON (hq_fact_member(f)) hq_fact_member(f), f.store_id,"
    "  coalesce(to_timestamp((f.payload->>'erased_at')::bigint), now())"
    "  FROM new_facts f WHERE f.kind = 'erasure'"
    "  ORDER BY hq_fact_member(f), f.store_seq ON CONFLICT (member_uid) DO NOTHING;"
    " UPDATE facts f SET payload = hq_scrub(f.kind, f.payload)"
    "  WHERE f.kind IN ('member', 'consent', 'feedback', 'goodwill')"
    "  AND hq_fact_member(f) IN (SELECT e.member_uid FROM erasures e"
    "  WHERE e.changed_xid = pg_current_xact_id());"
    " END IF;"
    " IF kinds && ARRAY['member', 'consent', 'feedback', 'goodwill'] THEN"
    " UPDATE facts f SET payload = hq_scrub(f.kind, f.payload)"
    "  FROM new_facts n JOIN erasures e ON e.member_uid = hq_fact_member(n)"
    "  WHERE n.kind IN ('member', 'consent', 'feedback', 'goodwill')"
    "  AND f.store_id = n.store_id AND f.store_seq = n.store_seq"
    "  AND f.payload <> hq_scrub(f.kind, f.payload);"
    " END IF;"
    /* a claimed debit's hold is given back when its entry arrives (what hq_release_holds did) */
    " IF 'entry' = ANY (kinds) AND EXISTS (SELECT FROM chain_member_stores t WHERE t.held > 0"
    "  AND t.store_id IN (SELECT DISTINCT f.store_id FROM new_facts f)) THEN"
    " UPDATE chain_member_stores t SET held = greatest(0, t.held - r.points)"
    "  FROM (SELECT hq_fact_member(f) AS uid, f.store_id, sum((f.payload->>'points')::bigint)"
    "  AS points FROM new_facts f WHERE f.kind = 'entry'"
    "  AND f.payload->>'kind' IN ('redeem', 'reverse', 'adjust')"
    "  AND f.payload->>'debit' = 'member' GROUP BY 1, 2) r"
    "  WHERE t.member_uid = r.uid AND t.store_id = r.store_id AND t.held > 0;"
    " END IF;"
    /* vouchers redeemed and voided (what hq_project_vouchers did) */
    " IF 'voucher_redeemed' = ANY (kinds) THEN"
    " INSERT INTO voucher_claims AS c (key_id, voucher_id, store_id, claimed_at, redeemed_at)"
    " SELECT DISTINCT ON (1, 2) (f.payload->>'key_id')::bigint,"
    "  (f.payload->>'voucher_id')::bigint, f.store_id, f.received_at,"
    "  to_timestamp((f.payload->>'redeemed_at')::bigint) FROM new_facts f"
    "  WHERE f.kind = 'voucher_redeemed' ORDER BY 1, 2, f.store_id, f.store_seq"
    " ON CONFLICT (key_id, voucher_id) DO UPDATE SET redeemed_at = excluded.redeemed_at,"
    "  changed_xid = pg_current_xact_id()"
    "  WHERE c.store_id = excluded.store_id AND c.redeemed_at IS NULL;"
    " END IF;"
    " IF 'voucher_voided' = ANY (kinds) THEN"
    " INSERT INTO voucher_voids (key_id, voucher_id, store_id, voided_at)"
    " SELECT DISTINCT ON (1, 2) (f.payload->>'key_id')::bigint,"
    "  (f.payload->>'voucher_id')::bigint, f.store_id,"
    "  to_timestamp((f.payload->>'voided_at')::bigint) FROM new_facts f"
    "  WHERE f.kind = 'voucher_voided' ORDER BY 1, 2, f.store_seq ON CONFLICT DO NOTHING;"
    " END IF;"
    " RETURN NULL; END$$;";

/* Card number spaces that grow (patron/card_space.h): head office grants a store whose spaces are
 * filling another one, recorded here when granted (so no second store is ever granted it, and a
 * grant whose answer was lost is given again to the same store: `held` lists what the store
 * already holds). The space is the highest that is neither granted nor a registered store's own;
 * the grant and `patron hq store add` take the same lock, so a store id and a granted space never
 * meet. Every store reads the grants (its pull keeps them, so that a number is said to be its
 * granting store's). Cards minted in a granted space ship as the minting store's facts, so the
 * projection already files them under that store. */
static const char migration_card_spaces[] =
    "CREATE TABLE card_spaces ("
    " space integer PRIMARY KEY CHECK (space BETWEEN 1 AND 65535),"
    " store_id integer NOT NULL REFERENCES stores,"
    " granted_at timestamptz NOT NULL DEFAULT now());"
    "CREATE FUNCTION hq_card_space_grant(held integer[]) RETURNS integer LANGUAGE plpgsql"
    " SECURITY DEFINER SET search_path FROM CURRENT AS $$"
    "DECLARE me integer := (SELECT store_id FROM stores WHERE role_name = session_user);"
    " got integer;"
    "BEGIN"
    " IF me IS NULL THEN RAISE EXCEPTION 'only a store is granted card number spaces'"
    "  USING ERRCODE = '42501'; END IF;"
    " LOCK TABLE card_spaces IN SHARE ROW EXCLUSIVE MODE;"
    " SELECT c.space INTO got FROM card_spaces c WHERE c.store_id = me"
    "  AND c.space <> ALL (coalesce(held, '{}')) ORDER BY c.space DESC LIMIT 1;"
    " IF FOUND THEN RETURN got; END IF;"
    " SELECT g.space INTO got FROM generate_series(65535, 1, -1) AS g(space)"
    "  WHERE NOT EXISTS (SELECT FROM card_spaces c WHERE c.space = g.space)"
    "  AND NOT EXISTS (SELECT FROM stores s WHERE s.store_id = g.space) LIMIT 1;"
    " IF NOT FOUND THEN RAISE EXCEPTION 'every card number space of the chain is taken'"
    "  USING ERRCODE = '54000'; END IF;"
    " INSERT INTO card_spaces (space, store_id) VALUES (got, me);"
    " RETURN got;"
    "END$$;"
    "CREATE FUNCTION hq_store_not_granted() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER"
    " SET search_path FROM CURRENT AS $$DECLARE owner integer; BEGIN"
    " LOCK TABLE card_spaces IN SHARE ROW EXCLUSIVE MODE;"
    " SELECT c.store_id INTO owner FROM card_spaces c WHERE c.space = NEW.store_id;"
    " IF FOUND THEN RAISE EXCEPTION"
    "  'card number space % was granted to store %', NEW.store_id, owner"
    "  USING ERRCODE = 'unique_violation', CONSTRAINT = 'card_spaces_granted'; END IF;"
    " RETURN NEW; END$$;"
    "CREATE TRIGGER stores_not_granted BEFORE INSERT OR UPDATE OF store_id ON stores"
    " FOR EACH ROW EXECUTE FUNCTION hq_store_not_granted();"
    "REVOKE ALL ON FUNCTION hq_card_space_grant(integer[]) FROM PUBLIC;"
    "GRANT EXECUTE ON FUNCTION hq_card_space_grant(integer[]) TO @STORES@;"
    "GRANT SELECT ON card_spaces TO @STORES@;";

/* The chain as a store may read it (issue 12, the back office's chain screen): functions that
 * run as head office's owner and give only what a store needs, the store being the session's
 * login role (session_user: current_user is the owner inside them).
 * - hq_conflict_rows(): every conflict of the chain, one row per use (a double spend's
 *   redemptions; an offline overdraft's spend; an overdraft's one row has no use), each with
 *   the stores it involves and when head office last heard of it; `part` and `ord` give the
 *   order `patron hq conflicts` lists them in. The one place of the conflict SQL: the CLI
 *   (as the owner) reads it, stores may not.
 * - hq_chain_conflicts(): those rows of the conflicts the calling store is one of the stores of,
 *   the 200 newest conflicts (by head office's receive time; PATRON_HQ_CHAIN_CONFLICTS).
 * - hq_chain_stores(): each store's id, name, facts shipped, last store_seq, last sync, lag and
 *   program version; never a role name, password or certificate. `patron hq stores` adds the
 *   owner's columns (role, registered) to it. */
/* ISO 8601 UTC text of a timestamp: to_char(T AT TIME ZONE 'UTC', HQ_ISO) */
#define HQ_ISO "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'"
#define HQ_CONFLICT_COLUMNS                                                                        \
    "kind text, ref text, member_uid text, voucher text, value bigint, balance bigint,"            \
    " store_id integer, store_time text, received_at text, offline boolean, stores integer[],"     \
    " newest timestamptz, part integer, ord bigint"
static const char migration_chain_screen[] =
    "CREATE FUNCTION hq_conflict_rows() RETURNS TABLE (" HQ_CONFLICT_COLUMNS ")"
    " LANGUAGE sql STABLE SET search_path FROM CURRENT AS $$"
    /* vouchers redeemed more than once: every use, oldest by store clock first */
    " WITH r AS (SELECT f.store_id, f.store_time, f.received_at, f.payload FROM facts f"
    "  WHERE f.kind = 'voucher_redeemed'),"
    " d AS (SELECT r.payload->>'key_id' AS k, r.payload->>'voucher_id' AS v,"
    "  array_agg(DISTINCT r.store_id ORDER BY r.store_id) AS stores,"
    "  max(r.received_at) AS newest FROM r GROUP BY 1, 2 HAVING count(*) > 1),"
    /* every entry's member side (a member is its member_uid, or "<store>-<member id>"), with
     * its store */
    " s AS (SELECT coalesce(f.payload->>'member_uid',"
    "  f.store_id || '-' || (f.payload->>'member_id')) AS account,"
    "  f.store_id, f.received_at,"
    "  CASE WHEN f.payload->>'credit' = 'member'"
    "  THEN (f.payload->>'points')::bigint ELSE 0 END"
    "  - CASE WHEN f.payload->>'debit' = 'member'"
    "  THEN (f.payload->>'points')::bigint ELSE 0 END AS points"
    "  FROM facts f WHERE f.kind = 'entry'"
    "  AND 'member' IN (f.payload->>'credit', f.payload->>'debit')),"
    " o AS (SELECT s.account, sum(s.points) AS balance,"
    "  array_agg(DISTINCT s.store_id ORDER BY s.store_id) AS stores,"
    "  max(s.received_at) AS newest FROM s GROUP BY s.account HAVING sum(s.points) < 0),"
    /* offline spends that overdrew the chain balance: each member's entries in the order head
     * office received them, and the spends marked offline after which the balance was below 0 */
    " x AS (SELECT e.store_id, e.store_seq FROM chain_entries e JOIN facts o"
    "  ON o.store_id = e.store_id AND o.store_seq = e.store_seq"
    "  WHERE e.points < 0 AND o.kind = 'entry' AND o.payload @> '{\"offline\": true}'),"
    " m AS (SELECT DISTINCT e.member_uid FROM chain_entries e JOIN x USING (store_id, store_seq)),"
    " b AS (SELECT e.*, sum(e.points) OVER (PARTITION BY e.member_uid"
    "  ORDER BY e.received_at, e.store_id, e.store_seq) AS after"
    "  FROM chain_entries e JOIN m USING (member_uid))"
    " SELECT 'double_spend', d.k || '/' || d.v, NULL, d.k || '/' || d.v,"
    "  coalesce((r.payload->>'value')::bigint, 0), NULL::bigint, r.store_id,"
    "  to_char(r.store_time AT TIME ZONE 'UTC', " HQ_ISO "),"
    "  to_char(r.received_at AT TIME ZONE 'UTC', " HQ_ISO "),"
    "  coalesce((r.payload->>'offline')::int, 0) <> 0, d.stores, d.newest, 1,"
    "  row_number() OVER (ORDER BY d.k, d.v, r.store_time, r.received_at, r.store_id)"
    "  FROM d JOIN r ON r.payload->>'key_id' = d.k AND r.payload->>'voucher_id' = d.v"
    " UNION ALL"
    " SELECT 'overdraft', o.account, o.account, NULL, 0, o.balance, NULL, NULL, NULL, false,"
    "  o.stores, o.newest, 2, row_number() OVER (ORDER BY o.account) FROM o"
    " UNION ALL"
    " SELECT 'offline_overdraft', b.member_uid || '@' || b.store_id || ':' || b.store_seq,"
    "  b.member_uid, NULL, -b.points, b.after, b.store_id,"
    "  coalesce(to_char(b.store_time AT TIME ZONE 'UTC', " HQ_ISO "), ''),"
    "  to_char(b.received_at AT TIME ZONE 'UTC', " HQ_ISO "), true,"
    "  ARRAY[b.store_id], b.received_at, 3,"
    "  row_number() OVER (ORDER BY b.member_uid, b.received_at, b.store_id, b.store_seq)"
    "  FROM b JOIN x USING (store_id, store_seq) WHERE b.after < 0$$;"
    "REVOKE ALL ON FUNCTION hq_conflict_rows() FROM PUBLIC;"
    "CREATE FUNCTION hq_chain_conflicts() RETURNS TABLE (" HQ_CONFLICT_COLUMNS ")"
    " LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$"
    " WITH c AS (SELECT * FROM hq_conflict_rows() y"
    "  WHERE (SELECT s.store_id FROM stores s WHERE s.role_name = session_user)"
    "  = ANY (y.stores)),"
    " k AS (SELECT c.kind AS kk, c.ref AS kr, max(c.newest) AS kn FROM c"
    "  GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 LIMIT 200)"
    " SELECT c.kind, c.ref, c.member_uid, c.voucher, c.value, c.balance, c.store_id,"
    "  c.store_time, c.received_at, c.offline, c.stores, k.kn, c.part, c.ord"
    "  FROM c JOIN k ON k.kk = c.kind AND k.kr = c.ref$$;"
    "REVOKE ALL ON FUNCTION hq_chain_conflicts() FROM PUBLIC;"
    "GRANT EXECUTE ON FUNCTION hq_chain_conflicts() TO @STORES@;"
    "CREATE FUNCTION hq_chain_stores() RETURNS TABLE (store_id integer, name text,"
    " facts bigint, last_seq bigint, last_sync text, lag_s bigint, program_version text)"
    " LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$"
    " SELECT s.store_id, s.name, count(f.store_seq), coalesce(max(f.store_seq), 0),"
    "  to_char(max(f.received_at) AT TIME ZONE 'UTC', " HQ_ISO "),"
    /* how long the newest fact took from the store's clock to head office */
    "  (SELECT greatest(0, extract(epoch FROM l.received_at - l.store_time))::bigint"
    "  FROM facts l WHERE l.store_id = s.store_id ORDER BY l.store_seq DESC LIMIT 1),"
    "  (SELECT p.version::text FROM store_programs p WHERE p.store_id = s.store_id)"
    "  FROM stores s LEFT JOIN facts f ON f.store_id = s.store_id"
    "  GROUP BY s.store_id ORDER BY s.store_id$$;"
    "REVOKE ALL ON FUNCTION hq_chain_stores() FROM PUBLIC;"
    "GRANT EXECUTE ON FUNCTION hq_chain_stores() TO @STORES@;";

/* The pull's first question (pull.c) asks, through an index on changed_xid, whether anything of
 * each part moved since a store's cursors: members, cards, balances and erasures have theirs;
 * these are the vouchers' (written once per voucher redeemed or voided, not per sale). */
static const char migration_pull_changed[] =
    "CREATE INDEX voucher_claims_changed ON voucher_claims (changed_xid)"
    " WHERE redeemed_at IS NOT NULL;"
    "CREATE INDEX voucher_voids_changed ON voucher_voids (changed_xid);";

/* A store that ran without a head office took card number spaces for itself (top-down from
 * 65535); when it joins the chain it reports them (hq_card_space_join, at its sync before it ships)
 * and head office records them as granted to it, so that it never grants them to another store
 * and `patron hq store add` refuses them as ids; a space already granted to another store, or
 * another store's own id, is answered "SPACE STORE" and nothing is recorded. */
static const char migration_card_space_join[] =
    "CREATE FUNCTION hq_card_space_join(taken integer[]) RETURNS text LANGUAGE plpgsql"
    " SECURITY DEFINER SET search_path FROM CURRENT AS $$"
    "DECLARE me integer := (SELECT store_id FROM stores WHERE role_name = session_user);"
    " clash text;"
    "BEGIN"
    " IF me IS NULL THEN RAISE EXCEPTION 'only a store reports the card number spaces it took'"
    "  USING ERRCODE = '42501'; END IF;"
    " LOCK TABLE card_spaces IN SHARE ROW EXCLUSIVE MODE;"
    " SELECT t.space || ' ' || coalesce(c.store_id, s.store_id) INTO clash"
    "  FROM unnest(taken) AS t(space)"
    "  LEFT JOIN card_spaces c ON c.space = t.space AND c.store_id <> me"
    "  LEFT JOIN stores s ON s.store_id = t.space AND s.store_id <> me"
    "  WHERE c.space IS NOT NULL OR s.store_id IS NOT NULL ORDER BY t.space DESC LIMIT 1;"
    " IF clash IS NOT NULL THEN RETURN clash; END IF;"
    " INSERT INTO card_spaces (space, store_id) SELECT DISTINCT t.space, me"
    "  FROM unnest(taken) AS t(space) ON CONFLICT (space) DO NOTHING;"
    " RETURN NULL;"
    "END$$;"
    "REVOKE ALL ON FUNCTION hq_card_space_join(integer[]) FROM PUBLIC;"
    "GRANT EXECUTE ON FUNCTION hq_card_space_join(integer[]) TO @STORES@;";

/* The projection behind the ship (hq_ingest_vs_copy): a store's backlog arrives as facts first and
 * is projected after, a batch at a time, so that the ship of a million facts costs what writing
 * them costs. The rules are hq_project's, read from a range of a store's facts instead of a
 * statement's new rows: hq_project_facts(store, after, upto) projects the store's facts with
 * after < store_seq <= upto (hq_facts_in, which the planner inlines: an index range scan), and
 * hq_projected keeps, per store, the store_seq up to which its facts are projected (in store_seq
 * order, and only up to a gap).
 * - hq_project_pending(store, most) projects the store's oldest pending facts, at most `most`
 *   (NULL: all), in one transaction with its cursor, and says how many. A store may ask it for
 *   its own facts only; head office's owner for any store.
 * - The trigger now calls it for the store whose facts a statement inserted, for HQ_PROJECT_ROWS
 *   (more than a sync's short way inserts): a round of a store with nothing pending projects its
 *   new facts in their own transaction, as before; a round behind a backlog projects the
 *   backlog's oldest batch instead. It reads no transition table.
 * - A transaction that set patron.projection to 'deferred' (a sync's batches, sync.c) does not
 *   call it at all: the sync projects one batch of its facts when it has shipped, each later
 *   round another, and head office's own commands (verify, conflicts, reports) all that is
 *   pending before they read (project.c).
 * Claims stay exact meanwhile: a store's own pending facts are missing from both the chain
 * balance and the store's part of it, and a claimed debit stays held until its entry is
 * projected. Facts held before this migration were projected as they arrived. */
#define HQ_PROJECT_ROWS "10000"
static const char migration_project_behind[] =
    "CREATE TABLE hq_projected ("
    " store_id integer PRIMARY KEY REFERENCES stores ON DELETE CASCADE,"
    " seq bigint NOT NULL DEFAULT 0 CHECK (seq >= 0));"
    "INSERT INTO hq_projected (store_id, seq) SELECT store_id, max(store_seq) FROM facts"
    " GROUP BY store_id;"
    /* no SECURITY DEFINER and no SET, so that it is inlined; its callers fix the search_path */
    "CREATE FUNCTION hq_facts_in(p_store integer, p_after bigint, p_upto bigint)"
    " RETURNS SETOF facts LANGUAGE sql STABLE AS $$SELECT * FROM facts"
    " WHERE store_id = p_store AND store_seq > p_after AND store_seq <= p_upto$$;"
    "CREATE FUNCTION hq_project_facts(p_store integer, p_after bigint, p_upto bigint)"
    " RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$"
    "DECLARE kinds text[] := ARRAY(SELECT DISTINCT f.kind"
    " FROM hq_facts_in(p_store, p_after, p_upto) f);"
    "BEGIN"
    /* enrolments: the member fact comes from the member's home store */
    " IF 'member' = ANY (kinds) THEN"
    " INSERT INTO members AS m (member_uid, home_store_id, home_member_id, name, email, phone,"
    "  birthday, consent_marketing, consent_at, enrolled_at)"
    " SELECT DISTINCT ON (hq_fact_member(f)) hq_fact_member(f), f.store_id,"
    "  (f.payload->>'id')::bigint, f.payload->>'name', f.payload->>'email',"
    "  f.payload->>'phone', f.payload->>'birthday',"
    "  coalesce((f.payload->>'consent_marketing')::integer, 0) <> 0,"
    "  to_timestamp((f.payload->>'consent_at')::bigint),"
    "  to_timestamp((f.payload->>'created_at')::bigint)"
    "  FROM hq_facts_in(p_store, p_after, p_upto) f WHERE f.kind = 'member'"
    "  ORDER BY hq_fact_member(f), f.store_seq DESC"
    " ON CONFLICT (member_uid) DO UPDATE SET home_member_id = excluded.home_member_id,"
    "  name = excluded.name, email = excluded.email, phone = excluded.phone,"
    "  birthday = excluded.birthday, consent_marketing = excluded.consent_marketing,"
    "  consent_at = excluded.consent_at, enrolled_at = excluded.enrolled_at,"
    "  changed_xid = pg_current_xact_id() WHERE m.erased_at IS NULL;"
    " END IF;"
    /* consent changed anywhere */
    " IF 'consent' = ANY (kinds) THEN"
    " UPDATE members m SET consent_marketing = c.marketing, consent_at = c.at,"
    "  changed_xid = pg_current_xact_id()"
    "  FROM (SELECT DISTINCT ON (hq_fact_member(f)) hq_fact_member(f) AS uid,"
    "  coalesce((f.payload->>'marketing')::integer, 0) <> 0 AS marketing,"
    "  to_timestamp((f.payload->>'changed_at')::bigint) AS at"
    "  FROM hq_facts_in(p_store, p_after, p_upto) f WHERE f.kind = 'consent'"
    "  ORDER BY hq_fact_member(f), f.store_id, f.store_seq DESC) c"
    "  WHERE m.member_uid = c.uid AND m.erased_at IS NULL;"
    " END IF;"
    /* a card or entry naming a member head office has not met yet keeps them as a bare row */
    " IF kinds && ARRAY['card', 'entry'] THEN"
    " INSERT INTO members (member_uid, home_store_id)"
    " SELECT DISTINCT ON (hq_fact_member(f)) hq_fact_member(f),"
    "  coalesce((SELECT s.store_id FROM stores s"
    "  WHERE s.store_id::text = split_part(hq_fact_member(f), '-', 1)), f.store_id)"
    "  FROM hq_facts_in(p_store, p_after, p_upto) f WHERE f.kind IN ('card', 'entry')"
    "  AND NOT EXISTS (SELECT FROM members m WHERE m.member_uid = hq_fact_member(f))"
    "  ORDER BY hq_fact_member(f) ON CONFLICT (member_uid) DO NOTHING;"
    " END IF;"
    " IF 'card' = ANY (kinds) THEN"
    " INSERT INTO cards AS c (card_number, member_uid, store_id, issued_at, blocked)"
    " SELECT DISTINCT ON (f.payload->>'number') f.payload->>'number', hq_fact_member(f),"
    "  f.store_id, to_timestamp((f.payload->>'issued_at')::bigint),"
    "  f.payload->>'status' = 'blocked'"
    "  FROM hq_facts_in(p_store, p_after, p_upto) f WHERE f.kind = 'card'"
    "  ORDER BY f.payload->>'number', f.store_seq DESC"
    " ON CONFLICT (card_number) DO UPDATE SET blocked = c.blocked OR excluded.blocked,"
    "  changed_xid = pg_current_xact_id();"
    " END IF;"
    /* an erasure anywhere erases the member at head office and blocks their cards */
    " IF 'erasure' = ANY (kinds) THEN"
    " UPDATE members m SET name = NULL, email = NULL, phone = NULL, birthday = NULL,"
    "  consent_marketing = false, consent_at = NULL,"
    "  erased_at = coalesce(to_timestamp((f.payload->>'erased_at')::bigint), now()),"
    "  changed_xid = pg_current_xact_id()"
    "  FROM hq_facts_in(p_store, p_after, p_upto) f WHERE f.kind = 'erasure' AND m.member_uid ="
    " hq_fact_member(f);"
    " UPDATE cards c SET blocked = true, changed_xid = pg_current_xact_id()"
    "  FROM hq_facts_in(p_store, p_after, p_upto) f WHERE f.kind = 'erasure' AND c.member_uid ="
    " hq_fact_member(f);"
    " END IF;"
    " IF 'redemption' = ANY (kinds) THEN"
    " INSERT INTO redemptions (store_id, store_seq, member_uid, voucher_id, points, redeemed_at)"
    " SELECT f.store_id, f.store_seq, hq_fact_member(f), f.payload->>'voucher_id',"
    "  (f.payload->>'points')::bigint, to_timestamp((f.payload->>'created_at')::bigint)"
    "  FROM hq_facts_in(p_store, p_after, p_upto) f WHERE f.kind = 'redemption' ON CONFLICT DO"
    " NOTHING;"
    " END IF;"
    /* entries, and the balances they move, in member order (two stores' batches lock the
     * same balances in the same order) */
    " IF 'entry' = ANY (kinds) THEN"
    " WITH e AS (INSERT INTO chain_entries (store_id, store_seq, member_uid, kind, points,"
    "  earned, store_time)"
    " SELECT f.store_id, f.store_seq, hq_fact_member(f), f.payload->>'kind',"
    "  CASE WHEN f.payload->>'credit' = 'member' THEN 1 ELSE -1 END"
    "  * (f.payload->>'points')::bigint,"
    "  CASE WHEN f.payload->>'kind' = 'earn' AND f.payload->>'credit' = 'member'"
    "  THEN (f.payload->>'points')::bigint"
    "  WHEN f.payload->>'kind' = 'reverse' AND f.payload->>'debit' = 'member'"
    "  THEN -(f.payload->>'points')::bigint ELSE 0 END,"
    "  to_timestamp((f.payload->>'created_at')::bigint)"
    "  FROM hq_facts_in(p_store, p_after, p_upto) f WHERE f.kind = 'entry'"
    "  ON CONFLICT DO NOTHING RETURNING member_uid, store_id, points, earned),"
    " s AS (INSERT INTO chain_member_stores AS t (member_uid, store_id, points, earned)"
    "  SELECT member_uid, store_id, sum(points), sum(earned) FROM e GROUP BY 1, 2 ORDER BY 1, 2"
    "  ON CONFLICT (member_uid, store_id) DO UPDATE SET points = t.points + excluded.points,"
    "  earned = t.earned + excluded.earned)"
    " INSERT INTO chain_balances AS b (member_uid, points, earned)"
    " SELECT member_uid, sum(points), sum(earned) FROM e GROUP BY 1 ORDER BY 1"
    " ON CONFLICT (member_uid) DO UPDATE SET points = b.points + excluded.points,"
    "  earned = b.earned + excluded.earned, changed_xid = pg_current_xact_id();"
    " END IF;"
    /* erasures: recorded once per member, and every personal field of the member's facts
     * scrubbed (what hq_erase did) */
    " IF 'erasure' = ANY (kinds) THEN"
    " INSERT INTO erasures (member_uid, store_id, erased_at)"
    " SELECT DISTINCT ON (hq_fact_member(f)) hq_fact_member(f), f.store_id,"
    "  coalesce(to_timestamp((f.payload->>'erased_at')::bigint), now())"
    "  FROM hq_facts_in(p_store, p_after, p_upto) f WHERE f.kind = 'erasure'"
    "  ORDER BY hq_fact_member(f), f.store_seq ON CONFLICT (member_uid) DO NOTHING;"
    " UPDATE facts f SET payload = hq_scrub(f.kind, f.payload)"
    "  WHERE f.kind IN ('member', 'consent', 'feedback', 'goodwill')"
    "  AND hq_fact_member(f) IN (SELECT e.member_uid FROM erasures e"
    "  WHERE e.changed_xid = pg_current_xact_id());"
    " END IF;"
    " IF kinds && ARRAY['member', 'consent', 'feedback', 'goodwill'] THEN"
    " UPDATE facts f SET payload = hq_scrub(f.kind, f.payload)"
    "  FROM hq_facts_in(p_store, p_after, p_upto) n JOIN erasures e ON e.member_uid ="
    " hq_fact_member(n)"
    "  WHERE n.kind IN ('member', 'consent', 'feedback', 'goodwill')"
    "  AND f.store_id = n.store_id AND f.store_seq = n.store_seq"
    "  AND f.payload <> hq_scrub(f.kind, f.payload);"
    " END IF;"
    /* a claimed debit's hold is given back when its entry arrives (what hq_release_holds did) */
    " IF 'entry' = ANY (kinds) AND EXISTS (SELECT FROM chain_member_stores t WHERE t.held > 0"
    "  AND t.store_id = p_store) THEN"
    " UPDATE chain_member_stores t SET held = greatest(0, t.held - r.points)"
    "  FROM (SELECT hq_fact_member(f) AS uid, f.store_id, sum((f.payload->>'points')::bigint)"
    "  AS points FROM hq_facts_in(p_store, p_after, p_upto) f WHERE f.kind = 'entry'"
    "  AND f.payload->>'kind' IN ('redeem', 'reverse', 'adjust')"
    "  AND f.payload->>'debit' = 'member' GROUP BY 1, 2) r"
    "  WHERE t.member_uid = r.uid AND t.store_id = r.store_id AND t.held > 0;"
    " END IF;"
    /* vouchers redeemed and voided (what hq_project_vouchers did) */
    " IF 'voucher_redeemed' = ANY (kinds) THEN"
    " INSERT INTO voucher_claims AS c (key_id, voucher_id, store_id, claimed_at, redeemed_at)"
    " SELECT DISTINCT ON (1, 2) (f.payload->>'key_id')::bigint,"
    "  (f.payload->>'voucher_id')::bigint, f.store_id, f.received_at,"
    "  to_timestamp((f.payload->>'redeemed_at')::bigint) FROM hq_facts_in(p_store, p_after,"
    " p_upto) f"
    "  WHERE f.kind = 'voucher_redeemed' ORDER BY 1, 2, f.store_id, f.store_seq"
    " ON CONFLICT (key_id, voucher_id) DO UPDATE SET redeemed_at = excluded.redeemed_at,"
    "  changed_xid = pg_current_xact_id()"
    "  WHERE c.store_id = excluded.store_id AND c.redeemed_at IS NULL;"
    " END IF;"
    " IF 'voucher_voided' = ANY (kinds) THEN"
    " INSERT INTO voucher_voids (key_id, voucher_id, store_id, voided_at)"
    " SELECT DISTINCT ON (1, 2) (f.payload->>'key_id')::bigint,"
    "  (f.payload->>'voucher_id')::bigint, f.store_id,"
    "  to_timestamp((f.payload->>'voided_at')::bigint) FROM hq_facts_in(p_store, p_after, p_upto) f"
    "  WHERE f.kind = 'voucher_voided' ORDER BY 1, 2, f.store_seq ON CONFLICT DO NOTHING;"
    " END IF;"
    " END$$;"
    "CREATE FUNCTION hq_project_pending(p_store integer, p_most bigint) RETURNS bigint"
    " LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$"
    "DECLARE me integer := (SELECT store_id FROM stores WHERE role_name = session_user);"
    " done bigint; upto bigint; n bigint;"
    "BEGIN"
    " IF me IS NOT NULL AND me <> p_store THEN"
    "  RAISE EXCEPTION 'store % may project only its own facts, not store %''s', me, p_store"
    "  USING ERRCODE = '42501'; END IF;"
    /* nothing pending: nothing written */
    " IF coalesce((SELECT seq FROM hq_projected WHERE store_id = p_store), 0)"
    "  >= (SELECT coalesce(max(store_seq), 0) FROM facts WHERE store_id = p_store) THEN"
    "  RETURN 0; END IF;"
    " INSERT INTO hq_projected (store_id) VALUES (p_store) ON CONFLICT DO NOTHING;"
    " SELECT seq INTO done FROM hq_projected WHERE store_id = p_store FOR UPDATE;"
    /* the oldest pending facts, up to the first gap */
    " SELECT max(r.store_seq), count(*) INTO upto, n FROM (SELECT f.store_seq,"
    "  row_number() OVER (ORDER BY f.store_seq) AS k FROM facts f"
    "  WHERE f.store_id = p_store AND f.store_seq > done ORDER BY f.store_seq LIMIT p_most) r"
    "  WHERE r.store_seq = done + r.k;"
    " IF n = 0 THEN RETURN 0; END IF;"
    " PERFORM hq_project_facts(p_store, done, upto);"
    " UPDATE hq_projected SET seq = upto WHERE store_id = p_store;"
    " RETURN n;"
    "END$$;"
    /* the stores with facts past their projected store_seq */
    "CREATE FUNCTION hq_pending_stores() RETURNS SETOF integer LANGUAGE sql STABLE"
    " SET search_path FROM CURRENT AS $$SELECT s.store_id FROM stores s"
    " WHERE coalesce((SELECT p.seq FROM hq_projected p WHERE p.store_id = s.store_id), 0)"
    " < (SELECT coalesce(max(f.store_seq), 0) FROM facts f WHERE f.store_id = s.store_id)"
    " ORDER BY s.store_id$$;"
    /* a statement's facts: a store's projected with its oldest pending ones, the owner's (tests,
     * the benchmarks' generated chains) with every store's pending ones */
    "DROP TRIGGER facts_project ON facts;"
    "CREATE OR REPLACE FUNCTION hq_project() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER"
    " SET search_path FROM CURRENT AS $$"
    "DECLARE me integer := (SELECT store_id FROM stores WHERE role_name = session_user);"
    " s integer;"
    "BEGIN"
    " IF me IS NOT NULL THEN PERFORM hq_project_pending(me, " HQ_PROJECT_ROWS "); RETURN NULL;"
    " END IF;"
    " FOR s IN SELECT hq_pending_stores() LOOP PERFORM hq_project_pending(s, NULL); END LOOP;"
    " RETURN NULL; END$$;"
    /* no transition table and, for a deferred batch, no call: the ship pays nothing for it */
    "CREATE TRIGGER facts_project AFTER INSERT ON facts FOR EACH STATEMENT"
    " WHEN (current_setting('patron.projection', true) IS DISTINCT FROM 'deferred')"
    " EXECUTE FUNCTION hq_project();"
    "REVOKE ALL ON FUNCTION hq_facts_in(integer, bigint, bigint) FROM PUBLIC;"
    "REVOKE ALL ON FUNCTION hq_pending_stores() FROM PUBLIC;"
    "REVOKE ALL ON FUNCTION hq_project_facts(integer, bigint, bigint) FROM PUBLIC;"
    "REVOKE ALL ON FUNCTION hq_project_pending(integer, bigint) FROM PUBLIC;"
    "GRANT EXECUTE ON FUNCTION hq_project_pending(integer, bigint) TO @STORES@;";

static const char *const migrations[] = {migration_1,
                                         migration_2,
                                         migration_3,
                                         migration_4,
                                         migration_5,
                                         migration_program,
                                         migration_vouchers,
                                         migration_scale,
                                         migration_refund_claims,
                                         migration_ingest,
                                         migration_project_once,
                                         migration_card_spaces,
                                         migration_chain_screen,
                                         migration_pull_changed,
                                         migration_card_space_join,
                                         migration_project_behind};
#define N_MIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

int patron_hq_schema_latest(void)
{
    return N_MIGRATIONS;
}

int patron_hq_schema_version(patron_hq *h, int *version, char *detail, size_t len)
{
    *version = 0;
    PGresult *res = PQexec(h->conn, "SELECT to_regclass('hq_schema_version') IS NOT NULL");
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return patron__hq_fail(res, h->conn, "cannot read the schema version", detail, len);
    int exists = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (!exists)
        return 0;
    res = PQexec(h->conn, "SELECT max(version) FROM hq_schema_version");
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return patron__hq_fail(res, h->conn, "cannot read the schema version", detail, len);
    *version = atoi(PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}

/* migration text with @STORES@ replaced by the group role; malloc'd */
static char *expand(const char *sql, const char *group)
{
    size_t n = 1, glen = strlen(group);
    for (const char *p = strstr(sql, "@STORES@"); p; p = strstr(p + 1, "@STORES@"))
        n += glen;
    char *out = malloc(strlen(sql) + n), *w = out;
    if (!out)
        return NULL;
    for (const char *p = sql, *at; *p; p = at + 8) {
        if (!(at = strstr(p, "@STORES@"))) {
            memcpy(w, p, strlen(p) + 1);
            return out;
        }
        memcpy(w, p, (size_t)(at - p));
        w += at - p;
        memcpy(w, group, glen);
        w += glen;
    }
    *w = '\0';
    return out;
}

/* Creates the group role unless it exists (roles are per cluster, not per database). */
static int ensure_group(PGconn *conn, const char *name, const char *ident, char *detail, size_t len)
{
    char sql[512];
    char *literal = PQescapeLiteral(conn, name, strlen(name));
    if (!literal)
        return PATRON_ENOMEM;
    snprintf(sql, sizeof sql,
             "DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = %s)"
             " THEN CREATE ROLE %s NOLOGIN; END IF; END$$",
             literal, ident);
    PQfreemem(literal);
    return patron__hq_run(conn, sql, "cannot create the stores' group role", detail, len);
}

static int apply(PGconn *conn, int i, const char *group, char *detail, size_t len)
{
    char *sql = expand(migrations[i], group), bump[96];
    if (!sql)
        return PATRON_ENOMEM;
    int rc = patron__hq_run(conn, sql, "a head office migration failed", detail, len);
    free(sql);
    snprintf(bump, sizeof bump, "UPDATE hq_schema_version SET version = %d", i + 1);
    return rc ? rc : patron__hq_run(conn, bump, "cannot record the schema version", detail, len);
}

static int migrate_locked(patron_hq *h, int *from, char *detail, size_t len)
{
    int version = 0, rc;
    if ((rc = patron_hq_schema_version(h, &version, detail, len)) != 0)
        return rc;
    *from = version;
    if (version > N_MIGRATIONS) {
        snprintf(detail, len,
                 "the head office database is at schema version %d, newer than this program "
                 "knows (%d): upgrade patron before using it",
                 version, N_MIGRATIONS);
        return PATRON_ESCHEMA;
    }
    char name[64];
    patron__hq_group_name(h->conn, name, sizeof name);
    char *group = PQescapeIdentifier(h->conn, name, strlen(name));
    if (!group)
        return PATRON_ENOMEM;
    rc = version < N_MIGRATIONS ? ensure_group(h->conn, name, group, detail, len) : 0;
    for (int i = version; rc == 0 && i < N_MIGRATIONS; i++)
        rc = apply(h->conn, i, group, detail, len);
    PQfreemem(group);
    return rc;
}

int patron_hq_init(patron_hq *h, int *from, int *to, char *detail, size_t len)
{
    int found = 0, rc;
    /* one lock for every migrating program, whatever the database */
    if ((rc = patron__hq_run(h->conn, "BEGIN; SELECT pg_advisory_xact_lock(7429300411)",
                             "cannot lock the head office schema", detail, len)) != 0)
        return rc;
    rc = migrate_locked(h, &found, detail, len);
    if (rc == 0)
        rc = patron__hq_run(h->conn, "COMMIT", "cannot commit the schema", detail, len);
    else
        PQclear(PQexec(h->conn, "ROLLBACK"));
    if (from)
        *from = found;
    if (to)
        *to = rc == 0 ? N_MIGRATIONS : found;
    return rc;
}
