# SPDX-License-Identifier: MIT
# Sourced by the head office benchmarks: pg_start starts a throwaway PostgreSQL on a free loopback
# port with its durable defaults (fsync and synchronous_commit on), as the postgres user when run
# as root, passwords (SCRAM) for every role but the superuser; sets $port and $base, and removes
# it all on exit. Extra server options in $PG_OPTS.
pg_start() {
  pgbin=${PATRON_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
  base=$(mktemp -d /tmp/patron-hqbench-XXXXXX)
  [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$base"
  chmod 755 "$base"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  trap pg_cleanup EXIT
  pg_run "$pgbin/initdb" -D "$base/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
  cat >"$base/data/pg_hba.conf" <<'HBA'
local all postgres trust
local all all scram-sha-256
host all postgres 127.0.0.1/32 trust
host all all 127.0.0.1/32 scram-sha-256
HBA
  pg_run "$pgbin/pg_ctl" -D "$base/data" -l "$base/server.log" -w -t 60 \
    -o "-p $port -k $base -c listen_addresses=127.0.0.1 -c max_wal_size=4GB ${PG_OPTS:-}" start >/dev/null
}
pg_run() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pg_cleanup() {
  pg_run "$pgbin/pg_ctl" -D "$base/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$base" ${work:+"$work"}
}
