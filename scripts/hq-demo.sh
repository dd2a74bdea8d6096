#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A chain of three stores on one head office, on this machine: installs what is missing, builds
# the `patron` program, starts a throwaway PostgreSQL on loopback (its own folder and port, as
# the postgres user when run as root; never the system's cluster), creates the head office and
# registers three stores, each with its own SQLite store in var/hq-demo ($PATRON_HQ_DEMO_DIR).
# Head office publishes a reward for the whole chain. A member enrols in the first store and
# earns there; the second store's till is shown her card, looks it up at head office and she
# earns there too; the third store redeems the chain's reward with the points she earned in the
# other two, claimed at head office first. Each store ships its outbox to head office as it
# goes (`patron sync`), and her balance at the first store counts all three. Then head office
# shows `patron hq stores`, the liability report, the members who use several stores and
# `patron hq verify`. The PostgreSQL server and its folder are removed on exit, whatever happens.
# `scripts/hq-demo.sh --check` does the same and fails unless every step gave what it should
# (the ctest hq_demo runs it with the test build's program in $PATRON_BIN).
set -euo pipefail
cd "$(dirname "$0")/.."
check=0
if [ "${1:-}" = "--check" ]; then check=1; fi
step() { printf '\n==> %s\n' "$*"; }
fail() { echo "hq-demo: $*" >&2; exit 1; }

if [ -n "${PATRON_BIN:-}" ]; then
  bin=$PATRON_BIN
else
  step "Checking the build tools and libraries (scripts/install-deps.sh; installs only what is missing)"
  bash scripts/install-deps.sh
  if [ ! -f build/CMakeCache.txt ]; then
    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
  fi
  step "Building the patron program only"
  cmake --build build --target patron-cli -j "$(nproc)"
  bin=$PWD/build/patron
fi

pgbin=${PATRON_PG_BIN:-$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)}
[ -x "$pgbin/initdb" ] || fail "no PostgreSQL server in /usr/lib/postgresql/*/bin (scripts/install-deps.sh installs it)"

demo=${PATRON_HQ_DEMO_DIR:-$PWD/var/hq-demo}
rm -rf "$demo"
mkdir -p "$demo"
base=$(mktemp -d /tmp/patron-hq-demo-XXXXXX)
as_server() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
  if [ -f "$base/data/postmaster.pid" ]; then
    as_server "$pgbin/pg_ctl" -D "$base/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$base"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step "Starting a throwaway PostgreSQL on loopback (folder $base, removed on exit)"
if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$base"; fi
chmod 700 "$base"
as_server "$pgbin/initdb" -D "$base/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
  --no-sync >"$base/initdb.log" 2>&1 || { cat "$base/initdb.log"; fail "initdb failed"; }
# the owner logs in without a password on loopback; every store role with its own (SCRAM)
as_server sh -c "printf '%s\n' 'local all postgres trust' 'local all all scram-sha-256' \
  'host all postgres 127.0.0.1/32 trust' 'host all all 127.0.0.1/32 scram-sha-256' \
  >'$base/data/pg_hba.conf'"

# A port where nothing answers may still be taken before the server binds it: try another then.
start_on() {
  log="$base/server-$1.log"
  as_server "$pgbin/pg_ctl" -D "$base/data" -l "$log" -w -t 60 \
    -o "-p $1 -k $base -c listen_addresses=127.0.0.1" start >/dev/null 2>&1
}
port= log=
for p in $(shuf -i 20000-60000 -n 50); do
  (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue
  if start_on "$p"; then port=$p; break; fi
  grep -q "Address already in use" "$log" 2>/dev/null || { cat "$log"; fail "the server did not start"; }
done
[ -n "$port" ] || { cat "$log"; fail "the server found no free port on 127.0.0.1"; }
echo "listening on 127.0.0.1:$port"

owner="postgresql://postgres@127.0.0.1:$port/postgres"
export PATRON_HOME=$demo
run() { printf '$ patron %s\n' "$*"; "$bin" "$@"; }
hq() { run --hq "$owner" hq "$@"; }
store() { local n=$1; shift; run --db "$demo/store$n.db" "$@"; }
json_field() { sed -nE "s/.*\"$1\": ?\"([^\"]+)\".*/\\1/p"; }

step "Creating the head office and registering three stores"
hq init
declare -a url
names=("" "North Street" "Market Square" "Station Kiosk")
for n in 1 2 3; do
  store "$n" init --store-id "$n" --store-name "${names[$n]}" >/dev/null
  url[n]=$("$bin" --json --hq "$owner" hq store add "$n" --name "${names[$n]}" | json_field url)
  [ -n "${url[$n]}" ] || fail "store $n was not registered"
  echo "store $n (${names[$n]}) registered; its head office URL: ${url[$n]}"
done

# A store's command with head office set, as a store's till runs it.
chain() { local n=$1; shift; run --db "$demo/store$n.db" --hq "${url[$n]}" "$@"; }
sync_store() { chain "$1" sync >/dev/null && echo "(store $1 synced with head office)"; }
points_of() { # points_of STORE CARD: the member's points as that store sees them
  "$bin" --json --db "$demo/store$1.db" scan "$2" | sed -nE 's/.*"points": ?(-?[0-9]+).*/\1/p'
}

step "Head office publishes a reward for the whole chain; every store receives it"
hq reward add --name "Free coffee" --cost 60 --kind item --value 1001
hq program publish
for n in 1 2 3; do sync_store "$n"; done

step "Ada enrols at store 1 and earns there"
ada=$("$bin" --json --db "$demo/store1.db" member enroll --name "Ada Lovelace" | json_field card)
[ -n "$ada" ] || fail "no card for Ada"
echo "Ada's card: $ada"
chain 1 sale "$ada" --ref N-1001 --total 4650
sync_store 1
earned1=$(points_of 1 "$ada")

step "Ada shows her card at store 2: the till looks it up at head office, and she earns there"
chain 2 sale "$ada" --ref M-2001 --total 2500 || fail "store 2 did not take Ada's card"
sync_store 2
earned2=$(($(points_of 2 "$ada") - earned1))
echo "Ada has earned $earned1 points at store 1 and $earned2 at store 2"

step "Ada redeems the chain's reward at store 3, with the points she earned at stores 1 and 2"
sync_store 3 # the chain's members and balances come down with every sync
coffee=$("$bin" --json --db "$demo/store3.db" reward list |
  sed -nE 's/.*"name": ?"Free coffee",[^}]*"reward_id": ?([0-9]+).*/\1/p')
[ -n "$coffee" ] || fail "store 3 has no Free coffee reward from head office"
chain 3 reward redeem "$ada" "$coffee"
sync_store 3

step "Back at store 1, Ada's balance counts what she did at all three stores"
sync_store 1
chain 1 scan "$ada"

step "Head office: the stores, the liability report, and the books verified"
hq stores
hq report liability
hq report multistore
hq verify

if [ "$check" = 1 ]; then
  stores=$("$bin" --json --hq "$owner" hq stores)
  [ "$(grep -o '"store_id":' <<<"$stores" | wc -l)" = 3 ] || fail "head office does not list 3 stores"
  for n in 1 2 3; do
    pending=$("$bin" --json --db "$demo/store$n.db" sync status | sed -nE 's/.*"pending": ?([0-9]+).*/\1/p')
    [ "$pending" = 0 ] || fail "store $n still has $pending rows to ship"
  done
  left=$(points_of 1 "$ada")
  [ "$left" = $((earned1 + earned2 - 60)) ] ||
    fail "store 1 sees $left points for Ada, not $earned1 + $earned2 - 60"
  multistore=$("$bin" --json --hq "$owner" hq report multistore)
  grep -Eq '"stores": ?3' <<<"$multistore" || fail "Ada is not shown using three stores: $multistore"
  liability=$("$bin" --json --hq "$owner" hq report liability)
  grep -Eq '"store": ?"total"' <<<"$liability" || fail "the liability report has no total"
  verify=$("$bin" --json --hq "$owner" hq verify)
  grep -Eq '"ok": ?true' <<<"$verify" || fail "hq verify failed: $verify"
  grep -Eq '"stores_checked": ?3' <<<"$verify" || fail "hq verify did not check 3 stores: $verify"
  echo
  echo "hq-demo --check: every step gave what it should."
fi
echo
echo "The stores are in $demo (store1.db, store2.db, store3.db); the head office stops now."
