/* SPDX-License-Identifier: MIT */
/* The database schema as an ordered list of migrations. `PRAGMA user_version` records how many
 * have been applied; opening a database applies the missing ones in one transaction each, and
 * refuses a database written by a newer Patron rather than guess at its meaning. */
#include <stdio.h>

#include "core/outbox_internal.h"
#include "core/store_internal.h"

/* Version 1: store settings, members and cards, the double-entry ledger with its lots,
 * sales and refunds, rewards, and the idempotency register. Ledger entries are append-only:
 * triggers refuse any UPDATE or DELETE on them; a store's own entries are numbered by
 * store_seq = id, so the sequence is gap-free without an index of its own. Indexes are few on
 * purpose: each one is another page written at every checkout's commit. */
static const char schema_v1[] =
    "CREATE TABLE settings(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE rule_changes(id INTEGER PRIMARY KEY, key TEXT NOT NULL, old_value TEXT,"
    "  new_value TEXT, changed_by TEXT NOT NULL, changed_at INTEGER NOT NULL);"
    "CREATE TABLE categories(name TEXT PRIMARY KEY, multiplier_permille INTEGER NOT NULL"
    "  CHECK(multiplier_permille BETWEEN 0 AND 100000));"
    "CREATE TABLE tiers(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    "  threshold INTEGER NOT NULL UNIQUE CHECK(threshold >= 0),"
    "  multiplier_permille INTEGER NOT NULL CHECK(multiplier_permille BETWEEN 0 AND 100000));"
    "CREATE TABLE members(id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT, phone TEXT,"
    "  birthday TEXT, consent_marketing INTEGER NOT NULL DEFAULT 0, consent_at INTEGER,"
    "  consent_source TEXT, created_at INTEGER NOT NULL,"
    "  tier_id INTEGER NOT NULL REFERENCES tiers(id), tier_until INTEGER,"
    "  erased_at INTEGER);"
    "CREATE INDEX members_phone ON members(phone) WHERE phone IS NOT NULL;"
    "CREATE TABLE cards(number TEXT PRIMARY KEY, member_id INTEGER NOT NULL REFERENCES members(id),"
    "  status TEXT NOT NULL CHECK(status IN ('active','blocked')), issued_at INTEGER NOT NULL,"
    "  blocked_at INTEGER, replaced_by TEXT) WITHOUT ROWID;"
    "CREATE INDEX cards_member ON cards(member_id);"
    "CREATE TABLE accounts(id INTEGER PRIMARY KEY, name TEXT UNIQUE,"
    "  member_id INTEGER UNIQUE REFERENCES members(id), balance INTEGER NOT NULL DEFAULT 0,"
    "  CHECK((name IS NULL) <> (member_id IS NULL)));"
    "CREATE TABLE entries(id INTEGER PRIMARY KEY, store_id INTEGER NOT NULL,"
    "  store_seq INTEGER NOT NULL, kind TEXT NOT NULL"
    "  CHECK(kind IN ('earn','redeem','reverse','expire','adjust')),"
    "  debit_account INTEGER NOT NULL REFERENCES accounts(id),"
    "  credit_account INTEGER NOT NULL REFERENCES accounts(id),"
    "  points INTEGER NOT NULL CHECK(points > 0), member_id INTEGER NOT NULL REFERENCES "
    "members(id),"
    "  created_at INTEGER NOT NULL, original_entry INTEGER REFERENCES entries(id),"
    "  sale_id INTEGER, refund_id INTEGER, redemption_id INTEGER, note TEXT, approved_by TEXT);"
    "CREATE INDEX entries_member ON entries(member_id, kind, created_at);"
    "CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries"
    "  BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;"
    "CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries"
    "  BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;"
    "CREATE TABLE lots(id INTEGER PRIMARY KEY, member_id INTEGER NOT NULL REFERENCES members(id),"
    "  entry_id INTEGER NOT NULL REFERENCES entries(id), points INTEGER NOT NULL,"
    "  remaining INTEGER NOT NULL CHECK(remaining >= 0 AND remaining <= points),"
    "  earned_at INTEGER NOT NULL, expires_at INTEGER);"
    "CREATE INDEX lots_open ON lots(member_id, earned_at, id) WHERE remaining > 0;"
    "CREATE TABLE sales(id INTEGER PRIMARY KEY, store_id INTEGER NOT NULL, ref TEXT NOT NULL,"
    "  member_id INTEGER NOT NULL REFERENCES members(id), card TEXT NOT NULL,"
    "  total_minor INTEGER NOT NULL, currency TEXT NOT NULL, lines_minor INTEGER NOT NULL,"
    "  weight_total INTEGER NOT NULL, points_earned INTEGER NOT NULL,"
    "  tier_multiplier_permille INTEGER NOT NULL, balance_after INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL, UNIQUE(store_id, ref));"
    "CREATE TABLE sale_lines(sale_id INTEGER NOT NULL REFERENCES sales(id), line_no INTEGER NOT "
    "NULL,"
    "  sku TEXT NOT NULL, category TEXT NOT NULL, qty INTEGER NOT NULL, unit_minor INTEGER NOT "
    "NULL,"
    "  weight_per_unit INTEGER NOT NULL, PRIMARY KEY(sale_id, line_no)) WITHOUT ROWID;"
    "CREATE TABLE refunds(id INTEGER PRIMARY KEY, sale_id INTEGER NOT NULL REFERENCES sales(id),"
    "  points_reversed INTEGER NOT NULL, shortfall INTEGER NOT NULL, balance_after INTEGER NOT "
    "NULL,"
    "  created_at INTEGER NOT NULL);"
    "CREATE TABLE refund_lines(refund_id INTEGER NOT NULL REFERENCES refunds(id),"
    "  sale_id INTEGER NOT NULL, line_no INTEGER NOT NULL, qty INTEGER NOT NULL CHECK(qty > 0),"
    "  PRIMARY KEY(refund_id, line_no)) WITHOUT ROWID;"
    "CREATE INDEX refund_lines_sale ON refund_lines(sale_id, line_no);"
    "CREATE TABLE rewards(id INTEGER PRIMARY KEY, name TEXT NOT NULL,"
    "  cost INTEGER NOT NULL CHECK(cost > 0),"
    "  kind TEXT NOT NULL CHECK(kind IN ('amount','percent','item','points')),"
    "  value INTEGER NOT NULL CHECK(value >= 0), currency TEXT NOT NULL,"
    "  valid_days INTEGER NOT NULL CHECK(valid_days > 0), active INTEGER NOT NULL DEFAULT 1,"
    "  created_at INTEGER NOT NULL);"
    "CREATE TABLE redemptions(id INTEGER PRIMARY KEY, reward_id INTEGER NOT NULL REFERENCES "
    "rewards(id),"
    "  member_id INTEGER NOT NULL REFERENCES members(id), points INTEGER NOT NULL,"
    "  balance_after INTEGER NOT NULL, created_at INTEGER NOT NULL);"
    "CREATE TABLE idempotency(key TEXT PRIMARY KEY, op TEXT NOT NULL, request_hash BLOB NOT NULL,"
    "  result_id INTEGER NOT NULL, created_at INTEGER NOT NULL) WITHOUT ROWID;";

/* Version 2: vouchers. The keyring (own keys, other stores' and partners' public keys), the
 * vouchers this store issued, the redemption register (one row per voucher, ever: the UNIQUE
 * constraint is what makes a voucher single-use), offline acceptances kept for reconciliation
 * with head office, and wrong typed codes per till for the lock-out. */
static const char schema_v2[] =
    "CREATE TABLE keys(key_id INTEGER PRIMARY KEY CHECK(key_id BETWEEN 1 AND 65535),"
    "  kind TEXT NOT NULL CHECK(kind IN ('own','chain','partner')),"
    "  status TEXT NOT NULL CHECK(status IN ('active','verify','retired')),"
    "  partner TEXT, chain_id TEXT CHECK(chain_id IS NULL OR length(chain_id) = 32),"
    "  public_key BLOB NOT NULL CHECK(length(public_key) = 32), file TEXT,"
    "  created_at INTEGER NOT NULL, retired_at INTEGER,"
    "  CHECK(status <> 'active' OR kind = 'own'));"
    "CREATE UNIQUE INDEX keys_one_active ON keys(status) WHERE status = 'active';"
    "CREATE TABLE vouchers(key_id INTEGER NOT NULL REFERENCES keys(key_id),"
    "  voucher_id INTEGER NOT NULL, member_id INTEGER NOT NULL, offer_id INTEGER NOT NULL,"
    "  kind INTEGER NOT NULL, flags INTEGER NOT NULL, value INTEGER NOT NULL,"
    "  currency INTEGER NOT NULL, issued_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,"
    "  store_scope INTEGER NOT NULL, token TEXT NOT NULL, voided_at INTEGER, voided_by TEXT,"
    "  void_reason TEXT, PRIMARY KEY(key_id, voucher_id)) WITHOUT ROWID;"
    "CREATE UNIQUE INDEX vouchers_id ON vouchers(voucher_id);"
    "CREATE INDEX vouchers_member ON vouchers(member_id, issued_at);"
    "CREATE TABLE voucher_redemptions(id INTEGER PRIMARY KEY, key_id INTEGER NOT NULL,"
    "  voucher_id INTEGER NOT NULL, kind INTEGER NOT NULL, value INTEGER NOT NULL,"
    "  currency INTEGER NOT NULL, member_id INTEGER NOT NULL, store_id INTEGER NOT NULL,"
    "  till TEXT NOT NULL, ref TEXT NOT NULL, offline INTEGER NOT NULL,"
    "  redeemed_at INTEGER NOT NULL, record BLOB NOT NULL CHECK(length(record) = 100),"
    "  UNIQUE(key_id, voucher_id));"
    "CREATE TABLE offline_acceptances(id INTEGER PRIMARY KEY,"
    "  redemption_id INTEGER NOT NULL REFERENCES voucher_redemptions(id),"
    "  key_id INTEGER NOT NULL, voucher_id INTEGER NOT NULL, kind INTEGER NOT NULL,"
    "  value INTEGER NOT NULL, currency INTEGER NOT NULL, day INTEGER NOT NULL,"
    "  till TEXT NOT NULL, ref TEXT NOT NULL, accepted_at INTEGER NOT NULL, reported_at INTEGER);"
    "CREATE INDEX offline_acceptances_day ON offline_acceptances(day);"
    "CREATE TABLE code_attempts(id INTEGER PRIMARY KEY, till TEXT NOT NULL,"
    "  at INTEGER NOT NULL, typed TEXT NOT NULL);"
    "CREATE INDEX code_attempts_till ON code_attempts(till, at);";

/* Version 3: the print queue: jobs written with the sale or redemption that asks for them,
 * printed after the commit (status 0 queued, 1 sending, 2 printed); a reward redemption names
 * the voucher it became and the coupon job that prints it; the member index of the entries
 * carries the points, so a tier's 12-month sum reads the index alone. */
static const char schema_v3[] =
    "CREATE TABLE print_jobs(id INTEGER PRIMARY KEY, template TEXT NOT NULL, vars TEXT NOT NULL,"
    "  status INTEGER NOT NULL CHECK(status IN (0, 1, 2)), attempts INTEGER NOT NULL,"
    "  last_error TEXT, created_at INTEGER NOT NULL, next_attempt_at INTEGER NOT NULL,"
    "  printed_at INTEGER, reprint_of INTEGER REFERENCES print_jobs(id));"
    "CREATE INDEX print_jobs_pending ON print_jobs(id) WHERE status <> 2;"
    "DROP INDEX entries_member;"
    "CREATE INDEX entries_member ON entries(member_id, kind, created_at, points);"
    "ALTER TABLE redemptions ADD COLUMN voucher_key_id INTEGER;"
    "ALTER TABLE redemptions ADD COLUMN voucher_id INTEGER;"
    "ALTER TABLE redemptions ADD COLUMN print_job INTEGER REFERENCES print_jobs(id);";

/* Version 4 (the counter service): tills with their role and hashed token, the append-only audit
 * log of state-changing requests, and the reply register that answers a retried POST. */
static const char schema_v4[] =
    "CREATE TABLE terminals(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    "  role TEXT NOT NULL CHECK(role IN ('cashier','manager','admin')),"
    "  token_hash BLOB NOT NULL UNIQUE CHECK(length(token_hash) = 32),"
    "  created_at INTEGER NOT NULL, revoked_at INTEGER);"
    "CREATE TABLE audit_log(id INTEGER PRIMARY KEY, at INTEGER NOT NULL,"
    "  terminal_id INTEGER REFERENCES terminals(id), op TEXT NOT NULL, outcome TEXT NOT NULL,"
    "  status INTEGER NOT NULL);"
    "CREATE INDEX audit_log_at ON audit_log(at);"
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log"
    "  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log"
    "  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
    "CREATE TABLE api_replies(key TEXT PRIMARY KEY, request_hash BLOB NOT NULL,"
    "  status INTEGER NOT NULL, body TEXT NOT NULL, created_at INTEGER NOT NULL) WITHOUT ROWID;";

/* Version 5: offers, segments, preferences, feedback, goodwill and referrals. offer_uses is the
 * register of applied offers that the limits count; sales gain a per-member index because targeting
 * asks of every checkout when the member last bought and what. A referral names each referee once
 * and records the sale that earned both bonuses, so it is paid once. */
static const char schema_v5[] =
    "CREATE INDEX sales_member ON sales(member_id, created_at);"
    "CREATE TABLE segments(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    "  created_at INTEGER NOT NULL);"
    "CREATE TABLE segment_members(segment_id INTEGER NOT NULL REFERENCES segments(id),"
    "  member_id INTEGER NOT NULL REFERENCES members(id), added_at INTEGER NOT NULL,"
    "  PRIMARY KEY(segment_id, member_id)) WITHOUT ROWID;"
    "CREATE TABLE offers(id INTEGER PRIMARY KEY, name TEXT NOT NULL,"
    "  tier_id INTEGER REFERENCES tiers(id), category TEXT, within_days INTEGER,"
    "  birthday_month INTEGER NOT NULL DEFAULT 0, lapsed_days INTEGER,"
    "  first_visit INTEGER NOT NULL DEFAULT 0, segment_id INTEGER REFERENCES segments(id),"
    "  min_basket_minor INTEGER, sku TEXT, basket_category TEXT,"
    "  benefit TEXT NOT NULL CHECK(benefit IN ('bonus','multiplier','reward')),"
    "  benefit_value INTEGER NOT NULL CHECK(benefit_value > 0),"
    "  exclusive INTEGER NOT NULL DEFAULT 0, valid_from INTEGER, valid_to INTEGER,"
    "  limit_per_member INTEGER, limit_total INTEGER, limit_per_day INTEGER,"
    "  created_at INTEGER NOT NULL, created_by TEXT NOT NULL, ended_at INTEGER, ended_by TEXT,"
    "  CHECK(valid_to IS NULL OR valid_from IS NULL OR valid_to > valid_from));"
    "CREATE TABLE offer_uses(id INTEGER PRIMARY KEY, offer_id INTEGER NOT NULL REFERENCES "
    "offers(id),"
    "  member_id INTEGER NOT NULL REFERENCES members(id),"
    "  sale_id INTEGER NOT NULL REFERENCES sales(id), day INTEGER NOT NULL,"
    "  points INTEGER NOT NULL, entry_id INTEGER REFERENCES entries(id),"
    "  redemption_id INTEGER REFERENCES redemptions(id), voucher_id INTEGER, voucher_code TEXT,"
    "  why TEXT NOT NULL, created_at INTEGER NOT NULL);"
    "CREATE INDEX offer_uses_member ON offer_uses(offer_id, member_id);"
    "CREATE INDEX offer_uses_day ON offer_uses(offer_id, day);"
    "CREATE INDEX offer_uses_sale ON offer_uses(sale_id);"
    "CREATE TABLE preferences(member_id INTEGER NOT NULL REFERENCES members(id),"
    "  category TEXT NOT NULL, stated_at INTEGER NOT NULL,"
    "  PRIMARY KEY(member_id, category)) WITHOUT ROWID;"
    "CREATE TABLE feedback(id INTEGER PRIMARY KEY, member_id INTEGER NOT NULL REFERENCES "
    "members(id),"
    "  sale_id INTEGER REFERENCES sales(id), day INTEGER NOT NULL,"
    "  score INTEGER NOT NULL CHECK(score BETWEEN 1 AND 5), comment TEXT,"
    "  created_at INTEGER NOT NULL);"
    "CREATE UNIQUE INDEX feedback_sale ON feedback(sale_id) WHERE sale_id IS NOT NULL;"
    "CREATE UNIQUE INDEX feedback_day ON feedback(member_id, day) WHERE sale_id IS NULL;"
    "CREATE TABLE goodwill(id INTEGER PRIMARY KEY, member_id INTEGER NOT NULL REFERENCES "
    "members(id),"
    "  reward_id INTEGER NOT NULL REFERENCES rewards(id), complaint TEXT NOT NULL,"
    "  manager TEXT NOT NULL, day INTEGER NOT NULL,"
    "  redemption_id INTEGER NOT NULL REFERENCES redemptions(id), voucher_id INTEGER,"
    "  voucher_code TEXT, created_at INTEGER NOT NULL);"
    "CREATE INDEX goodwill_manager ON goodwill(manager, day);"
    "CREATE TABLE referral_codes(member_id INTEGER PRIMARY KEY REFERENCES members(id),"
    "  code TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL);"
    "CREATE TABLE referrals(referee_id INTEGER PRIMARY KEY REFERENCES members(id),"
    "  referrer_id INTEGER NOT NULL REFERENCES members(id), linked_at INTEGER NOT NULL,"
    "  sale_id INTEGER REFERENCES sales(id), rewarded_at INTEGER, points INTEGER,"
    "  CHECK(referee_id <> referrer_id));"
    "CREATE INDEX referrals_referrer ON referrals(referrer_id);";

/* Version 6: privacy (consent history and the erasure log).
 * The consent history starts at enrolment through a trigger, so every way a member is created
 * records their first answer; later changes are written by patron_member_consent() with who
 * made them. The erasure log names the member by id only: it must hold no personal data.
 * IF NOT EXISTS keeps the step harmless if it is renumbered after a merge. */
static const char schema_v6[] =
    "CREATE TABLE IF NOT EXISTS consent_changes(id INTEGER PRIMARY KEY,"
    "  member_id INTEGER NOT NULL REFERENCES members(id),"
    "  marketing INTEGER NOT NULL CHECK(marketing IN (0, 1)), source TEXT,"
    "  changed_at INTEGER NOT NULL, changed_by TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS consent_changes_member ON consent_changes(member_id, id);"
    "CREATE TRIGGER IF NOT EXISTS members_consent_at_enrolment AFTER INSERT ON members"
    "  BEGIN INSERT INTO consent_changes(member_id, marketing, source, changed_at, changed_by)"
    "  VALUES (NEW.id, NEW.consent_marketing, NEW.consent_source,"
    "  COALESCE(NEW.consent_at, NEW.created_at), 'enrolment'); END;"
    "CREATE TABLE IF NOT EXISTS erasures(id INTEGER PRIMARY KEY,"
    "  member_id INTEGER NOT NULL UNIQUE REFERENCES members(id),"
    "  erased_at INTEGER NOT NULL, erased_by TEXT NOT NULL, cards_blocked INTEGER NOT NULL);";

/* Version 7: refunds with their own identity. A refund gains its return reference (the return
 * receipt's number, unique like a sale's ref; NULL for refunds from before) and the hash of its
 * request, so that the same return reference sent again answers the first refund. */
static const char schema_v7[] =
    "ALTER TABLE refunds ADD COLUMN return_ref TEXT;"
    "ALTER TABLE refunds ADD COLUMN request_hash BLOB;"
    "CREATE UNIQUE INDEX refunds_return_ref ON refunds(return_ref) WHERE return_ref IS NOT NULL;";

/* Version 8: idempotency keys scoped by till. The key registers (the library's and the service's
 * kept replies) gain the till that sent the key (0: the local `patron` program; rows from before
 * are kept under 0), so two tills using the same key string do not meet. */
static const char schema_v8[] =
    "CREATE TABLE idempotency_by_till(till INTEGER NOT NULL DEFAULT 0, key TEXT NOT NULL,"
    "  op TEXT NOT NULL, request_hash BLOB NOT NULL, result_id INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL, PRIMARY KEY(till, key)) WITHOUT ROWID;"
    "INSERT INTO idempotency_by_till(till, key, op, request_hash, result_id, created_at)"
    "  SELECT 0, key, op, request_hash, result_id, created_at FROM idempotency;"
    "DROP TABLE idempotency;"
    "ALTER TABLE idempotency_by_till RENAME TO idempotency;"
    "CREATE TABLE api_replies_by_till(till INTEGER NOT NULL DEFAULT 0, key TEXT NOT NULL,"
    "  request_hash BLOB NOT NULL, status INTEGER NOT NULL, body TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL, PRIMARY KEY(till, key)) WITHOUT ROWID;"
    "INSERT INTO api_replies_by_till(till, key, request_hash, status, body, created_at)"
    "  SELECT 0, key, request_hash, status, body, created_at FROM api_replies;"
    "DROP TABLE api_replies;"
    "ALTER TABLE api_replies_by_till RENAME TO api_replies;";

/* Version 9: the outbox. Every fact head office needs is written here in the transaction that
 * writes the fact (outbox.c), numbered by store_seq = rowid without gaps: the next number is the
 * largest plus one, taken inside the writer's transaction, so a rolled back request (a savepoint
 * of a batch) takes its numbers back with it. One store writes one file, so store_seq alone is
 * the key; store_id travels with each row for head office. Rows are append-only except their
 * payload, which an erasure rewrites; the partial index finds the rows holding personal data.
 * The facts a store already holds are written to it by the same migration (outbox.c). */
static const char schema_v9[] =
    "CREATE TABLE outbox(store_seq INTEGER PRIMARY KEY, store_id INTEGER NOT NULL,"
    "  kind TEXT NOT NULL, tbl TEXT NOT NULL, row_key NOT NULL, member_id INTEGER,"
    "  payload TEXT NOT NULL, recorded_at INTEGER NOT NULL);"
    "CREATE INDEX outbox_personal ON outbox(member_id)"
    "  WHERE tbl IN ('members', 'consent_changes', 'feedback', 'goodwill');"
    "CREATE TRIGGER outbox_no_update BEFORE UPDATE OF store_seq, store_id, kind, tbl, row_key,"
    "  member_id, recorded_at ON outbox"
    "  BEGIN SELECT RAISE(ABORT, 'the outbox is append-only'); END;"
    "CREATE TRIGGER outbox_no_delete BEFORE DELETE ON outbox"
    "  BEGIN SELECT RAISE(ABORT, 'the outbox is append-only'); END;";

/* Version 10: what head office acknowledged. One row: the highest store_seq head office holds
 * (written only after head office committed it), the last success and the last error. */
static const char schema_v10[] =
    "CREATE TABLE sync_state(id INTEGER PRIMARY KEY CHECK(id = 1),"
    "  acked_seq INTEGER NOT NULL DEFAULT 0 CHECK(acked_seq >= 0),"
    "  last_success INTEGER NOT NULL DEFAULT 0, last_attempt INTEGER NOT NULL DEFAULT 0,"
    "  last_error TEXT NOT NULL DEFAULT '');"
    "INSERT INTO sync_state(id) VALUES (1);";

/* Version 11: the outbox's personal-data index tests its rows with ORs of equalities. SQLite
 * evaluates a partial index's condition on every insert, and an IN list of more than two
 * constants builds a temporary table each time a statement runs: that was most of what an
 * outbox row cost. The erasure's WHERE repeats this condition word for word (outbox.c). */
static const char schema_v11[] =
    "DROP INDEX outbox_personal;"
    "CREATE INDEX outbox_personal ON outbox(member_id)"
    "  WHERE tbl = 'members' OR tbl = 'consent_changes' OR tbl = 'feedback' OR tbl = 'goodwill';";

/* Version 12: what an import keeps. An old card number that is not a valid in-store number is an
 * alias of the member's Patron card: it still scans (unique on the old number). The facts of
 * the program a member came from that Patron has no column for: the batch, the lifetime points
 * the old program counted, its reference for the member and its tier's name. And the index
 * by e-mail an import matches with. */
static const char schema_v12[] =
    "CREATE TABLE IF NOT EXISTS card_aliases(old_number TEXT PRIMARY KEY,"
    "  card TEXT NOT NULL REFERENCES cards(number), batch TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS card_aliases_card ON card_aliases(card);"
    "CREATE TABLE IF NOT EXISTS member_imports(member_id INTEGER PRIMARY KEY"
    "  REFERENCES members(id), batch TEXT NOT NULL, ref TEXT, lifetime_points INTEGER,"
    "  tier TEXT, imported_at INTEGER NOT NULL);"
    /* An import matches members by e-mail without regard to case, once a row: without this
     * index each row read the whole table. */
    "CREATE INDEX IF NOT EXISTS members_email ON members(lower(email));";

/* Version 13 (the customer display): the display bound to each till and its profile, and the
 * member's answer to "may the display greet you by your first name?" (no until asked). */
static const char schema_v13[] =
    "ALTER TABLE terminals ADD COLUMN display_spec TEXT NOT NULL DEFAULT 'none';"
    "ALTER TABLE terminals ADD COLUMN display_profile TEXT NOT NULL DEFAULT 'epson-dm-d';"
    "ALTER TABLE members ADD COLUMN greet_by_name INTEGER NOT NULL DEFAULT 0"
    "  CHECK(greet_by_name IN (0, 1));";

/* Version 14 (webhooks): the endpoints (HTTPS beyond loopback, the events each takes, whether it
 * may receive personal data, enabled or disabled with the reason), their signing keys (several
 * active during a rotation: an old key retires at retire_at), the webhooks' own cursor on the
 * outbox (never sync's), and the durable deliveries, one per event and endpoint with a stable
 * msg_id. A tier change has no outbox row: a trigger notes it in tier_changes in the transaction
 * that changed it.
 */
static const char schema_v14[] =
    "CREATE TABLE IF NOT EXISTS webhook_endpoints(id INTEGER PRIMARY KEY, url TEXT NOT NULL,"
    "  events TEXT NOT NULL, personal INTEGER NOT NULL DEFAULT 0,"
    "  enabled INTEGER NOT NULL DEFAULT 1, disabled_reason TEXT NOT NULL DEFAULT '',"
    "  from_seq INTEGER NOT NULL, from_tier INTEGER NOT NULL, created_at INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS webhook_keys(id INTEGER PRIMARY KEY,"
    "  endpoint_id INTEGER NOT NULL REFERENCES webhook_endpoints(id),"
    "  kind TEXT NOT NULL CHECK(kind IN ('hmac','ed25519')), secret BLOB NOT NULL,"
    "  created_at INTEGER NOT NULL, retire_at INTEGER);"
    "CREATE INDEX IF NOT EXISTS webhook_keys_endpoint ON webhook_keys(endpoint_id);"
    "CREATE TABLE IF NOT EXISTS webhook_state(id INTEGER PRIMARY KEY CHECK(id = 1),"
    "  outbox_seq INTEGER NOT NULL DEFAULT 0, tier_seq INTEGER NOT NULL DEFAULT 0);"
    "INSERT OR IGNORE INTO webhook_state(id, outbox_seq) SELECT 1, COALESCE(MAX(store_seq), 0) "
    "FROM outbox;"
    "CREATE TABLE IF NOT EXISTS tier_changes(id INTEGER PRIMARY KEY, member_id INTEGER NOT NULL,"
    "  old_tier INTEGER, new_tier INTEGER NOT NULL);"
    "CREATE TRIGGER IF NOT EXISTS members_tier_changed AFTER UPDATE OF tier_id ON members"
    "  WHEN old.tier_id IS NOT new.tier_id BEGIN"
    "  INSERT INTO tier_changes(member_id, old_tier, new_tier)"
    "  VALUES (new.id, old.tier_id, new.tier_id); END;"
    "CREATE TABLE IF NOT EXISTS webhook_deliveries(id INTEGER PRIMARY KEY,"
    "  endpoint_id INTEGER NOT NULL REFERENCES webhook_endpoints(id), event TEXT NOT NULL,"
    "  msg_id TEXT NOT NULL UNIQUE, store_seq INTEGER, tier_change INTEGER,"
    "  occurred_at INTEGER NOT NULL, status TEXT NOT NULL DEFAULT 'queued'"
    "  CHECK(status IN ('queued','delivered','failed')), attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_attempt INTEGER NOT NULL, last_status INTEGER NOT NULL DEFAULT 0,"
    "  last_error TEXT NOT NULL DEFAULT '', delivered_at INTEGER);"
    "CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries(next_attempt)"
    "  WHERE status = 'queued';"
    "CREATE INDEX IF NOT EXISTS webhook_deliveries_endpoint ON webhook_deliveries(endpoint_id, "
    "id);";

/* Version 15 (updatable wallet passes): the phones registered for a pass (Apple's pass web
 * service), the tag each was last told about, and the durable queue of pushes; the secret the
 * passes' authentication tokens are derived from. */
static const char schema_v15[] =
    "CREATE TABLE IF NOT EXISTS wallet_registrations(device TEXT NOT NULL, pass_type TEXT NOT NULL,"
    "  serial TEXT NOT NULL, push_token TEXT NOT NULL, registered_at INTEGER NOT NULL,"
    "  pushed_tag INTEGER NOT NULL, PRIMARY KEY(device, pass_type, serial)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS wallet_registrations_serial ON wallet_registrations(serial);"
    "CREATE TABLE IF NOT EXISTS wallet_pushes(id INTEGER PRIMARY KEY, push_token TEXT NOT NULL,"
    "  pass_type TEXT NOT NULL, queued_at INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
    "  sent_at INTEGER, last_error TEXT);"
    "CREATE INDEX IF NOT EXISTS wallet_pushes_due ON wallet_pushes(id) WHERE sent_at IS NULL;"
    "INSERT OR IGNORE INTO settings(key, value)"
    "  VALUES ('wallet_token_secret', lower(hex(randomblob(32))));";

/* Version 16: the till's card scanner, kept with it: a device spec ("auto", "usb", "usb:VID:PID",
 * "file:DEV") that `patron serve` opens, or "none". */
static const char schema_v16[] =
    "ALTER TABLE terminals ADD COLUMN scanner TEXT NOT NULL DEFAULT 'none';";

/* Version 17 (the chain): every member has a chain-wide identity, member_uid = "<home store
 * id>-<member id at the home store>", set when the member is written (members of other stores,
 * pulled down from head office, arrive with theirs). chain_points and chain_earned are the part
 * of the member's chain balance and lifetime earnings made in other stores, as of the last pull
 * from head office; chain_pull keeps that pull's cursor (head office's snapshot xmin). The
 * column member_uid itself is added before this SQL runs (patron__outbox_member_uid), or by the
 * outbox's backfill when an older store passes through version 9, whose payloads carry it. */
static const char schema_v17[] =
    "ALTER TABLE members ADD COLUMN chain_points INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE members ADD COLUMN chain_earned INTEGER NOT NULL DEFAULT 0;"
    "CREATE UNIQUE INDEX members_uid ON members(member_uid);"
    "CREATE TRIGGER members_uid AFTER INSERT ON members WHEN NEW.member_uid IS NULL BEGIN"
    "  UPDATE members SET member_uid ="
    "  COALESCE((SELECT value FROM settings WHERE key = 'store_id'), '0') || '-' || NEW.id"
    "  WHERE id = NEW.id; END;"
    "CREATE TABLE chain_pull(id INTEGER PRIMARY KEY CHECK(id = 1),"
    "  cursor TEXT NOT NULL DEFAULT '0', last_pull INTEGER NOT NULL DEFAULT 0);"
    "INSERT INTO chain_pull(id) VALUES (1);";

/* Erasure everywhere (issue 11): chain_erasure_pull keeps where the next pull of head office's
 * erasures starts (head office's snapshot xmin), apart from chain_pull's cursor. */
static const char schema_chain_erasure[] =
    "CREATE TABLE chain_erasure_pull(id INTEGER PRIMARY KEY CHECK(id = 1),"
    "  cursor TEXT NOT NULL DEFAULT '0', last_pull INTEGER NOT NULL DEFAULT 0);"
    "INSERT INTO chain_erasure_pull(id) VALUES (1);";

/* Sales on a card not yet known (issue 11): a sale on another store's card that neither this
 * store nor head office knows yet, kept with its lines and its points (the base rate) against
 * the card number until the card is known here; sale_id is the member's sale once posted. */
static const char schema_held_sales[] =
    "CREATE TABLE held_sales(id INTEGER PRIMARY KEY, card TEXT NOT NULL,"
    "  card_given TEXT NOT NULL, ref TEXT NOT NULL, idempotency_key TEXT NOT NULL UNIQUE,"
    "  total_minor INTEGER NOT NULL, points INTEGER NOT NULL, held_at INTEGER NOT NULL,"
    "  sale_id INTEGER REFERENCES sales(id), posted_at INTEGER);"
    "CREATE INDEX held_sales_open ON held_sales(card) WHERE sale_id IS NULL;"
    "CREATE TABLE held_sale_lines(held_id INTEGER NOT NULL REFERENCES held_sales(id),"
    "  line_no INTEGER NOT NULL, sku TEXT NOT NULL, category TEXT NOT NULL,"
    "  qty INTEGER NOT NULL, unit_minor INTEGER NOT NULL, PRIMARY KEY (held_id, line_no));";

/* Vouchers redeemed or voided at other stores of the chain, pulled down from head office, so
 * that the register refuses them here too, online or not (redeemed_store and redeemed_at, or
 * voided_at, NULL when not); chain_voucher_pull keeps that pull's cursor. And the offline
 * spends of points (issue 11). */
static const char schema_chain_vouchers[] =
    "CREATE TABLE chain_vouchers(key_id INTEGER NOT NULL, voucher_id INTEGER NOT NULL,"
    "  redeemed_store INTEGER, redeemed_at INTEGER, voided_at INTEGER,"
    "  PRIMARY KEY(key_id, voucher_id)) WITHOUT ROWID;"
    "CREATE TABLE chain_voucher_pull(id INTEGER PRIMARY KEY CHECK(id = 1),"
    "  cursor TEXT NOT NULL DEFAULT '0', offline_settled INTEGER NOT NULL DEFAULT 0);"
    "INSERT INTO chain_voucher_pull(id) VALUES (1);"
    /* points spent while head office could not be reached (capped by the rules
     * chain_offline_member_cap and chain_offline_store_cap between syncs): entries up to
     * offline_settled were shipped before a successful sync and no longer count */
    "CREATE TABLE offline_spends(entry_id INTEGER PRIMARY KEY REFERENCES entries(id),"
    "  member_id INTEGER NOT NULL, points INTEGER NOT NULL, spent_at INTEGER NOT NULL);";

/* The import register: how far each batch got (the last row of its last committed chunk), its
 * report's counts so far, and whether it finished (an import commits every few hundred rows). */
static const char schema_import_register[] =
    "CREATE TABLE IF NOT EXISTS import_batches(batch TEXT PRIMARY KEY,"
    "  done_row INTEGER NOT NULL, finished INTEGER NOT NULL, rows_read INTEGER NOT NULL,"
    "  created INTEGER NOT NULL, matched INTEGER NOT NULL, updated INTEGER NOT NULL,"
    "  skipped INTEGER NOT NULL, failed INTEGER NOT NULL, file_points INTEGER NOT NULL,"
    "  points_posted INTEGER NOT NULL, aliases INTEGER NOT NULL) WITHOUT ROWID;";

/* The ledger's entry kinds checked by ORs of equalities. SQLite builds a temporary B-tree for an
 * IN list of more than two constants every time a statement runs, so each entry inserted (five
 * kinds in its CHECK) paid for one. The condition is the same, so only the table's text in the
 * schema changes (SQLite's documented writable_schema procedure; the rows are not touched):
 * writable_schema_on before, entries_kind_check after. A failure closes the handle (store.c). */
static const char schema_entries_kind[] =
    "UPDATE sqlite_schema SET sql = replace(sql,"
    "  'CHECK(kind IN (''earn'',''redeem'',''reverse'',''expire'',''adjust''))',"
    "  'CHECK(kind = ''earn'' OR kind = ''redeem'' OR kind = ''reverse'' OR kind = ''expire''"
    " OR kind = ''adjust'')')"
    "  WHERE type = 'table' AND name = 'entries';";

/* Indexes the reports read alone, never visiting the table: each member's sales in member order
 * (total_minor joins sales_member, report_table.c), the open lots with their expiry and what
 * is left (expires_at and remaining join lots_open, which redemption already rewrites when
 * remaining changes, as remaining is in its WHERE; the expiring report) and an offer's uses by
 * member (points and voucher_id join offer_uses_member; a use is never updated; the offers
 * report), and a member's cards with their state (the churn list's card; cards are written at
 * enrolment, replacement and blocking, never by a sale). Same keys first, so no look-up
 * changes, and no index more to write. */
static const char schema_report_indexes[] =
    "DROP INDEX IF EXISTS sales_member;"
    "CREATE INDEX sales_member ON sales(member_id, created_at, total_minor);"
    "DROP INDEX IF EXISTS lots_open;"
    "CREATE INDEX lots_open ON lots(member_id, earned_at, id, expires_at, remaining)"
    "  WHERE remaining > 0;"
    "DROP INDEX IF EXISTS offer_uses_member;"
    "CREATE INDEX offer_uses_member ON offer_uses(offer_id, member_id, points, voucher_id);"
    "DROP INDEX IF EXISTS cards_member;"
    "CREATE INDEX cards_member ON cards(member_id, status, issued_at);";

/* Card number spaces that grow (card.h): the spaces this store mints from, its own (its store
 * id) first, then one more each time they are 90% full: counting down from 65535 by itself
 * ("self") without a head office, or granted by head office ("granted"). minted counts the
 * cards minted in the space, kept in the transaction of each card (no count per enrolment);
 * taken_seq orders the spaces as they were taken. card_space_grants are the chain's grants as
 * the last pull brought them, so that a number in a granted space is said to be its store's.
 * The own space's row and its count are written after this SQL (card_spaces_seed). */
static const char schema_card_spaces[] =
    "CREATE TABLE card_spaces(space INTEGER PRIMARY KEY CHECK(space BETWEEN 1 AND 65535),"
    "  taken_seq INTEGER NOT NULL UNIQUE, taken_at INTEGER NOT NULL,"
    "  source TEXT NOT NULL CHECK(source = 'own' OR source = 'granted' OR source = 'self'),"
    "  minted INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE card_space_grants(space INTEGER PRIMARY KEY, store_id INTEGER NOT NULL);";

/* Earned and redeemed points by the time of their entry, for the redemption report: a partial
 * index of those two kinds, so the report reads the period's earns and redeems in time order and
 * nothing else (before: every entry through entries_member). kind leads so the index covers the
 * report's statements. An earn or a redeem adds one index entry at the end of its kind's run
 * (entries are written in time order); the other kinds add none. */
static const char schema_entry_flows[] =
    "CREATE INDEX IF NOT EXISTS entries_flows ON entries(kind, created_at, points)"
    "  WHERE kind = 'earn' OR kind = 'redeem';";

/* A sale's lines in the sale's own row: one row and one statement per sale instead of one per
 * line (each line was a row of its own B-tree, with a foreign key probe of its sale). `lines` is
 * the compact JSON array the sale's outbox payload carries, [[line_no, sku, category, qty,
 * unit_minor, weight_per_unit], ...] in line order; `categories` is the sale's categories, each
 * once in the order of their first line, a JSON array of strings, which the offers read (reading
 * a category out of each line's JSON costs SQLite more than a row did). Both are written once, at
 * the sale. The view sale_lines gives the same rows as the table it replaces, so refunds,
 * exports and any query of a shop's own read the lines as before. */
static const char schema_sale_lines_in_sale[] =
    "ALTER TABLE sales ADD COLUMN lines TEXT NOT NULL DEFAULT '[]';"
    "ALTER TABLE sales ADD COLUMN categories TEXT NOT NULL DEFAULT '[]';"
    "UPDATE sales SET lines = (SELECT json_group_array(json_array(line_no, sku, category, qty,"
    "  unit_minor, weight_per_unit)) FROM (SELECT * FROM sale_lines l WHERE l.sale_id = sales.id"
    "  ORDER BY l.line_no)),"
    "  categories = (SELECT json_group_array(category) FROM (SELECT category, MIN(line_no) AS first"
    "  FROM sale_lines l WHERE l.sale_id = sales.id GROUP BY category ORDER BY first))"
    "  WHERE id IN (SELECT sale_id FROM sale_lines);"
    "DROP TABLE sale_lines;"
    "CREATE VIEW sale_lines AS SELECT s.id AS sale_id, l.value ->> 0 AS line_no,"
    "  l.value ->> 1 AS sku, l.value ->> 2 AS category, l.value ->> 3 AS qty,"
    "  l.value ->> 4 AS unit_minor, l.value ->> 5 AS weight_per_unit"
    "  FROM sales s, json_each(s.lines) l;";

/* An adjustment's answer kept on its entry: balance_after is the member's points after it (this
 * store's ledger and the chain's part, patron__member_points), so that the adjustment sent again
 * answers what its first answer said, as sales, refunds and redemptions keep theirs in their own
 * rows. NULL on the other kinds, and on an adjustment written before this version, whose replay
 * answers the balance as it is now (adjust.c). Adding a column rewrites no row; the entries'
 * triggers refuse only UPDATE and DELETE. */
static const char schema_adjustment_answer[] =
    "ALTER TABLE entries ADD COLUMN balance_after INTEGER;";

static const char *const migrations[] = {
    schema_v1,
    schema_v2,
    schema_v3,
    schema_v4,
    schema_v5,
    schema_v6,
    schema_v7,
    schema_v8,
    schema_v9,
    schema_v10,
    schema_v11,
    schema_v12,
    schema_v13,
    schema_v14,
    schema_v15,
    schema_v16,
    schema_v17,
    schema_chain_erasure,
    schema_held_sales,
    schema_chain_vouchers,
    schema_import_register,
    schema_entries_kind,
    schema_report_indexes,
    schema_card_spaces,
    schema_entry_flows,
    schema_sale_lines_in_sale,
    schema_adjustment_answer,
};

#define MIGRATION_COUNT ((int)(sizeof migrations / sizeof migrations[0]))

static int writable_schema_on(patron_store *s)
{
    return patron__exec(s, "PRAGMA writable_schema = ON");
}

/* After schema_entries_kind: the schema's version one up (other connections read the schema
 * again), writable_schema off, and this connection's own copy of the schema read again. */
static int entries_kind_check(patron_store *s)
{
    char pragma[48];
    sqlite3_stmt *st;
    int version = 0, rc = sqlite3_prepare_v2(s->db, "PRAGMA schema_version", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return patron__db_err(s, rc);
    if ((rc = sqlite3_step(st)) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return patron__db_err(s, rc);
    snprintf(pragma, sizeof pragma, "PRAGMA schema_version = %d", version + 1);
    int err = patron__exec(s, pragma);
    int off = patron__exec(s, "PRAGMA writable_schema = RESET");
    return err != 0 ? err : off;
}

/* Work a migration needs beyond its SQL, in its transaction: before it or after it. */
static const struct {
    const char *sql;
    int (*before)(patron_store *s);
    int (*after)(patron_store *s);
} migration_steps[] = {
    {schema_v9, patron__outbox_member_uid, patron__outbox_backfill},
    {schema_v17, patron__outbox_member_uid, NULL},
    {schema_entries_kind, writable_schema_on, entries_kind_check},
    {schema_card_spaces, NULL, patron__card_spaces_seed},
};

static int migration_step(patron_store *s, int index, int after)
{
    for (size_t i = 0; i < sizeof migration_steps / sizeof migration_steps[0]; i++) {
        if (migration_steps[i].sql != migrations[index])
            continue;
        int (*fn)(patron_store *) = after ? migration_steps[i].after : migration_steps[i].before;
        return fn ? fn(s) : 0;
    }
    return 0;
}

static int read_user_version(patron_store *s, int *version)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return patron__db_err(s, rc);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : patron__db_err(s, rc);
}

static int apply_migration(patron_store *s, int index)
{
    char pragma[48];
    int err = patron__tx_begin(s);
    if (err != 0)
        return err;
    if ((err = migration_step(s, index, 0)) != 0 ||
        (err = patron__exec(s, migrations[index])) != 0 || (err = migration_step(s, index, 1)) != 0)
        goto out;
    snprintf(pragma, sizeof pragma, "PRAGMA user_version=%d", index + 1);
    if ((err = patron__exec(s, pragma)) != 0)
        goto out;
    return patron__tx_commit(s);
out:
    patron__tx_rollback(s);
    return err;
}

int patron__schema_migrate(patron_store *s)
{
    int version = 0, err;
    if ((err = read_user_version(s, &version)) != 0)
        return err;
    if (version > MIGRATION_COUNT)
        return patron__fail(s, PATRON_ESCHEMA,
                            "database schema version %d is newer than this program's %d; "
                            "upgrade Patron to open it",
                            version, MIGRATION_COUNT);
    for (int i = version; i < MIGRATION_COUNT; i++)
        if ((err = apply_migration(s, i)) != 0)
            return err;
    return 0;
}

_Static_assert(MIGRATION_COUNT == PATRON_SCHEMA_VERSION,
               "PATRON_SCHEMA_VERSION in store.h must count the migrations");
