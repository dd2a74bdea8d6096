#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The chain's latencies on a throwaway PostgreSQL on loopback with its durable defaults (fsync and
# synchronous_commit on): bench_chain --spend (an online redemption of points earned at another
# store: chain_spend_p99_ms through `patron serve` from BUILD_DIR, chain_spend_cli_p99_ms as the
# `patron` command makes it) and bench_chain --lag (STORES stores selling at RATE checkouts a
# second together for SECONDS, each syncing continuously: hq_lag_p99_ms). Each in a database of
# its own. The last two lines are bench_chain's JSON.
#   bench/hq-chain.sh BUILD_DIR [SPENDS] [STORES] [RATE] [SECONDS]   (1000 100 500 30)
# HQ_LAG_OPTS adds bench_chain --lag options: "--pull-every-round" (the whole sync after each
# commit, the schedule before shipping and pulling were apart) or "--pull S".
set -euo pipefail
build=$1
spends=${2:-1000}
stores=${3:-100}
rate=${4:-500}
seconds=${5:-30}
# 100 stores keep a sync link each, plus the bench's own connections
PG_OPTS="-c max_connections=300 ${PG_OPTS:-}"
export PGOPTIONS="-c client_min_messages=warning"
. "$(dirname "$0")/pg-cluster.sh"
pg_start
work=$(mktemp -d)
for db in hqspend hqlag; do
  psql -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "CREATE DATABASE $db" >/dev/null
  mkdir -p "$work/$db"
done
"$build/bench/bench_chain" --hq "postgresql://postgres@127.0.0.1:$port/hqspend" \
  --dir "$work/hqspend" --spend "$spends" --patron "$build/patron"
# shellcheck disable=SC2086 # HQ_LAG_OPTS is words
"$build/bench/bench_chain" --hq "postgresql://postgres@127.0.0.1:$port/hqlag" --dir "$work/hqlag" \
  --lag --stores "$stores" --rate "$rate" --seconds "$seconds" ${HQ_LAG_OPTS:-}
