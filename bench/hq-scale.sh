#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A 10,000-store chain at head office: 10,000 store ids and 10,000,000 ledger entries (1,000 a
# store, 100 members a store, four earns of 10 points and one redemption of 5 in every five),
# generated once in SQL on a throwaway PostgreSQL (durable defaults) and projected by head office's
# own trigger as they arrive, then `patron hq report liability` (goal <= 5 s) and `patron hq
# verify` (goal <= 60 s) timed. Last line: JSON.
#   bench/hq-scale.sh BUILD_DIR [STORES] [ENTRIES_PER_STORE]
set -euo pipefail
build=$1
stores=${2:-10000}
per=${3:-1000}
. "$(dirname "$0")/pg-cluster.sh"
pg_start
owner="postgresql://postgres@127.0.0.1:$port/hqscale"
psql -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c 'CREATE DATABASE hqscale' >/dev/null
work=$(mktemp -d)
"$build/patron" --home "$work" --hq "$owner" hq init >/dev/null
t0=$(date +%s.%N)
psql -X -q -v ON_ERROR_STOP=1 "$owner" -c "INSERT INTO stores (store_id, name, role_name)
  SELECT i, 'Store ' || i, 'hqscale_role_' || i FROM generate_series(1, $stores) i"
# The facts go in as a sync's batches do, so that the trigger projects them (members,
# chain_entries, chain_balances, chain_member_stores) as they arrive: one statement per 500 stores.
for ((first = 1; first <= stores; first += 500)); do
  last=$((first + 499 < stores ? first + 499 : stores))
  psql -X -q -v ON_ERROR_STOP=1 "$owner" <<SQL
INSERT INTO facts (store_id, store_seq, kind, payload, store_time)
  SELECT s, n, 'entry', jsonb_build_object(
      'kind', CASE WHEN n % 5 = 0 THEN 'redeem' ELSE 'earn' END,
      'debit', CASE WHEN n % 5 = 0 THEN 'member' ELSE 'earned' END,
      'credit', CASE WHEN n % 5 = 0 THEN 'redeemed' ELSE 'member' END,
      'points', CASE WHEN n % 5 = 0 THEN 5 ELSE 10 END,
      'member_id', (n / 5) % 100 + 1),
    now()
  FROM generate_series($first, $last) s, generate_series(1, $per) n ORDER BY s, n;
SQL
done
psql -X -q -v ON_ERROR_STOP=1 "$owner" -c 'VACUUM ANALYZE'
t1=$(date +%s.%N)
"$build/patron" --home "$work" --hq "$owner" hq report liability >/dev/null
t2=$(date +%s.%N)
"$build/patron" --home "$work" --hq "$owner" hq verify >/dev/null
t3=$(date +%s.%N)
awk -v g="$t0" -v a="$t1" -v b="$t2" -v c="$t3" -v s="$stores" -v e="$((stores * per))" 'BEGIN {
  printf "generated %d stores, %d entries in %.0f s\n", s, e, a - g
  printf "hq report liability %.2f s (goal <= 5), hq verify %.2f s (goal <= 60)\n", b - a, c - b
  printf "{\"hq_stores\": %d, \"hq_entries\": %d, \"hq_liability_s\": %.2f, \"hq_verify_s\": %.2f}\n", s, e, b - a, c - b }'
