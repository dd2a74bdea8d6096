#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Head office ingest: starts a throwaway PostgreSQL on loopback with its durable defaults (fsync
# and synchronous_commit on), runs bench_hq (patron sync's path, pipeline mode and raw COPY of the
# same outbox rows, in the same run) and removes the cluster. Its last line is bench_hq's JSON.
#   bench/hq.sh BUILD_DIR [ROWS]      (ROWS default 1000000)
set -euo pipefail
build=$1
rows=${2:-1000000}
pgbin=${PATRON_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
base=$(mktemp -d /tmp/patron-hqbench-XXXXXX)
run() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" -eq 0 ] && chown postgres:postgres "$base"
chmod 755 "$base"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cleanup() {
  run "$pgbin/pg_ctl" -D "$base/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$base"
}
trap cleanup EXIT
run "$pgbin/initdb" -D "$base/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
cat >"$base/data/pg_hba.conf" <<'HBA'
local all postgres trust
local all all scram-sha-256
host all postgres 127.0.0.1/32 trust
host all all 127.0.0.1/32 scram-sha-256
HBA
run "$pgbin/pg_ctl" -D "$base/data" -l "$base/server.log" -w -t 60 \
  -o "-p $port -k $base -c listen_addresses=127.0.0.1 -c max_wal_size=4GB" start >/dev/null
psql -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c 'CREATE DATABASE hqbench' >/dev/null
work=$(mktemp -d)
trap 'cleanup; rm -rf "$work"' EXIT
"$build/bench/bench_hq" --hq "postgresql://postgres@127.0.0.1:$port/hqbench" --dir "$work" \
  --rows "$rows"
