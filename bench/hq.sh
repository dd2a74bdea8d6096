#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Head office ingest: starts a throwaway PostgreSQL on loopback with its durable defaults (fsync
# and synchronous_commit on), runs bench_hq (patron sync's path, pipeline mode and raw COPY of the
# same outbox rows, in the same run) and removes the cluster. Its last line is bench_hq's JSON.
#   bench/hq.sh BUILD_DIR [ROWS [BENCH_HQ_OPTIONS...]]      (ROWS default 1000000)
# e.g. bench/hq.sh build-rel 100000 --pipeline 0 (leaves pipeline mode out: it is the slowest)
set -euo pipefail
build=$1
rows=${2:-1000000}
shift $(($# < 2 ? $# : 2))
. "$(dirname "$0")/pg-cluster.sh"
pg_start
psql -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c 'CREATE DATABASE hqbench' >/dev/null
work=$(mktemp -d)
"$build/bench/bench_hq" --hq "postgresql://postgres@127.0.0.1:$port/hqbench" --dir "$work" \
  --rows "$rows" "$@"
