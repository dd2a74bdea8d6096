#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what is missing, builds the `patron` program (only it: no tests, no benchmarks), and
# starts the counter service on a fresh demo store in ./var/serve-demo: three members with
# points, two rewards, and a cashier till whose token is printed once. Then prints curl lines
# for a scan, a sale, a reward redemption (its coupon goes to the USB printer, or without one to
# the virtual printer's PNGs in $PATRON_HOME/prints) and a voucher redemption, and writes
# var/serve-demo/demo.env, which sets the URL, TOKEN and CARD the README's curl lines use.
# Stop it with Ctrl-C (it finishes in-flight requests first). A second run while one is
# running stops at once and leaves the running demo's store alone.
# `scripts/serve-demo.sh --check` runs those lines itself, shows the answers, and stops.
# `--scanner` adds an emulated serial card scanner (a pseudo-terminal) bound to the demo till,
# which scans the first member's card every 5 seconds: watch the scans arrive with
# `curl -N -H "Authorization: Bearer $TOKEN" $URL/v1/events`.
set -euo pipefail
cd "$(dirname "$0")/.."
check=0
scanner=0
for arg in "$@"; do
  case $arg in
  --check) check=1 ;;
  --scanner) scanner=1 ;;
  *) echo "usage: scripts/serve-demo.sh [--check] [--scanner]" >&2; exit 64 ;;
  esac
done
started=$SECONDS
step() { printf '==> %s\n' "$*"; }

# One demo at a time: the lock is held as long as this script or its service runs, and the
# store is wiped only by the run that holds it.
mkdir -p var
exec 9>var/serve-demo.lock
if ! flock -n 9; then
  echo "serve-demo: a demo is already running on var/serve-demo; its store is left as it is." >&2
  echo "Use that one (its lines are in its terminal; . var/serve-demo/demo.env sets TOKEN and" >&2
  echo "CARD), or stop it with Ctrl-C and run this again." >&2
  exit 1
fi

step "Checking the build tools and libraries (scripts/install-deps.sh; installs only what is missing)"
bash scripts/install-deps.sh
if [ ! -f build/CMakeCache.txt ]; then
  step "Configuring a Release build in build/"
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
step "Building the patron program only (the first build compiles about 90 files: one to three" \
  "minutes on two cores; later runs take seconds)"
cmake --build build --target patron-cli -j "$(nproc)"
step "Built in $((SECONDS - started)) s. Starting the counter service on a fresh demo store"

export PATRON_HOME="$PWD/var/serve-demo"
rm -rf "$PATRON_HOME"
mkdir -p "$PATRON_HOME"
out="$PATRON_HOME/serve.out"
./build/patron serve --demo --listen "${PATRON_LISTEN:-127.0.0.1:8420}" >"$out" &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null || true' INT TERM

for _ in $(seq 1 100); do
  grep -q '^listening on ' "$out" && break
  kill -0 "$pid" 2>/dev/null || { echo "patron serve stopped; see above" >&2; exit 1; }
  sleep 0.1
done
grep -q '^listening on ' "$out" || { echo "patron serve did not start listening" >&2; exit 1; }
cat "$out"
url=$(sed -nE 's/^listening on (http[^ ]+)$/\1/p' "$out")
token=$(sed -nE 's/^demo till token .*: (ptk_[A-Za-z0-9_-]+)$/\1/p' "$out")
card=$(sed -nE 's/^demo member .* card ([0-9]+)$/\1/p' "$out" | head -n 1)
auth="Authorization: Bearer $token"
json='Content-Type: application/json'

if [ "$scanner" = 1 ]; then
  step "Starting an emulated card scanner bound to demo-till; restarting the service to open it"
  # The scanner's end of a pseudo-terminal pair; `patron serve` opens the other end as it would
  # /dev/ttyACM0, and each line written here is one scan.
  python3 -c '
import os, pty, sys, time
m, s = pty.openpty()
print(os.ttyname(s), flush=True)
time.sleep(3)
while True:
    os.write(m, (sys.argv[1] + "\r\n").encode())
    time.sleep(5)
' "$card" >"$PATRON_HOME/scanner.tty" &
  scanner_pid=$!
  for _ in $(seq 1 50); do [ -s "$PATRON_HOME/scanner.tty" ] && break; sleep 0.1; done
  ./build/patron terminal scanner demo-till "file:$(cat "$PATRON_HOME/scanner.tty")" >/dev/null
  kill -TERM "$pid"
  wait "$pid" || true
  ./build/patron serve --listen "${PATRON_LISTEN:-127.0.0.1:8420}" >"$out" &
  pid=$!
  trap 'kill -TERM "$pid" "$scanner_pid" 2>/dev/null || true' INT TERM EXIT
  for _ in $(seq 1 100); do
    grep -q '^listening on ' "$out" && break
    kill -0 "$pid" 2>/dev/null || { echo "patron serve stopped; see above" >&2; exit 1; }
    sleep 0.1
  done
  url=$(sed -nE 's/^listening on (http[^ ]+)$/\1/p' "$out") # port 0 picks another port
fi

# What the README's curl lines read: `. var/serve-demo/demo.env` sets URL, TOKEN and CARD.
umask 077
printf 'URL=%s\nTOKEN=%s\nCARD=%s\n' "$url" "$token" "$card" >"$PATRON_HOME/demo.env"
umask 022

# Each example as the exact command line a till would send.
scan=(curl -s -H "$auth" -H "$json" -d "{\"card\":\"$card\"}" "$url/v1/scan")
# The same requests as the README's lines (same keys, same bodies): running both replays.
sale=(curl -s -H "$auth" -H "$json" -H "Idempotency-Key: sale-T-1001"
  -d "{\"card\":\"$card\",\"ref\":\"T-1001\",\"total\":4650}" "$url/v1/sales")
reward=(curl -s -H "$auth" -H "$json" -H "Idempotency-Key: redeem-1"
  -d "{\"card\":\"$card\"}" "$url/v1/rewards/1/redeem")

# A command line to copy: plain words as they are, the others in single quotes.
show() {
  local a line="  "
  for a in "$@"; do
    if [[ $a =~ ^[A-Za-z0-9_./:=@-]+$ ]]; then line+="$a "; else line+="'${a//\'/\'\\\'\'}' "; fi
  done
  printf '%s\n' "${line% }"
}
cat <<EOF

Try the counter service (replies are JSON; errors are application/problem+json):

# What the cashier sees when the card is scanned (and the customer, on the till's display:
# the newest of $PATRON_HOME/display/frame-N.txt, and .png):
$(show "${scan[@]}")
# A sale that earns points (send it twice: the same key answers the first result again):
$(show "${sale[@]}")
# Spend 100 points on reward 1. The answer comes at once; the coupon prints after it, on the USB
# printer or, without one, as $PATRON_HOME/prints/job-N.png (N is "print_job" in the answer):
$(show "${reward[@]}")
# The coupon's voucher, redeemed once at the till by its typed code (the QR holds its token):
  code=\$($(show "${reward[@]}" | sed 's/^ *//') | sed -nE 's/.*"code":"([^"]+)".*/\\1/p')
  curl -s -H '$auth' -H '$json' -H 'Idempotency-Key: voucher-1' \\
    -d "{\\"code\\":\\"\$code\\",\\"ref\\":\\"T-1002\\"}" $url/v1/vouchers/redeem
# Has the coupon printed yet?  curl -s -H '$auth' $url/v1/print-jobs/1
# Metrics, including the printer's state:  curl -s $url/metrics | grep patron_print
# The till's event stream (scans from its scanner, sales, print states; Ctrl-C ends it):
  curl -N -H '$auth' $url/v1/events

The README's curl lines work as printed in another terminal of this folder after
  . var/serve-demo/demo.env
To have \`patron\` on your PATH: cmake --install build   (or --prefix ~/.local for yourself)
EOF

if [ "$check" = 1 ]; then
  run() { printf '$ %s\n' "$1"; shift; "$@"; printf '\n'; }
  fail=0
  run "scan" "${scan[@]}" | tee "$PATRON_HOME/scan.json"
  grep -q '"points"' "$PATRON_HOME/scan.json" || fail=1
  for _ in $(seq 1 50); do
    grep -qs '^Hello Ada' "$PATRON_HOME"/display/frame-*.txt && break
    sleep 0.1
  done
  grep -hs '^Hello Ada' "$PATRON_HOME"/display/frame-*.txt | head -n 1 || fail=1
  run "sale" "${sale[@]}" | tee "$PATRON_HOME/sale.json"
  grep -q '"points_earned"' "$PATRON_HOME/sale.json" || fail=1
  run "reward" "${reward[@]}" | tee "$PATRON_HOME/reward.json"
  code=$(sed -nE 's/.*"code":"([^"]+)".*/\1/p' "$PATRON_HOME/reward.json")
  [ -n "$code" ] || fail=1
  run "voucher" curl -s -H "$auth" -H "$json" -H 'Idempotency-Key: voucher-1' \
    -d "{\"code\":\"$code\",\"ref\":\"T-1002\"}" "$url/v1/vouchers/redeem" |
    tee "$PATRON_HOME/voucher.json"
  grep -q '"redemption_id"' "$PATRON_HOME/voucher.json" || fail=1
  if [ "$scanner" = 1 ]; then
    run "events (12 s)" curl -s -N --max-time 12 -H "$auth" "$url/v1/events" |
      tee "$PATRON_HOME/events.txt" || true
    grep -q '"kind":"card"' "$PATRON_HOME/events.txt" || { echo "no scan arrived" >&2; fail=1; }
  fi
  for _ in $(seq 1 100); do
    curl -s -H "$auth" "$url/v1/print-jobs/1" | grep -q '"status":"printed"' && break
    sleep 0.1
  done
  run "print job" curl -s -H "$auth" "$url/v1/print-jobs/1"
  ls "$PATRON_HOME"/prints/*.png 2>/dev/null || echo "(the coupon went to a USB printer)"
  # The README's lines, as printed there (the indented block after its serve-demo marker).
  awk '/<!-- serve-demo --check runs/ {on = 1; next} on && /^    / {print substr($0, 5); next}
       on && /^$/ && seen++ {exit}' README.md >"$PATRON_HOME/readme-lines.sh"
  printf '$ bash %s\n' "$PATRON_HOME/readme-lines.sh"
  bash -e "$PATRON_HOME/readme-lines.sh" | tee "$PATRON_HOME/readme.out" || fail=1
  for want in '"points"' '"points_earned"' '"code"' '"redemption_id"'; do
    grep -q "$want" "$PATRON_HOME/readme.out" || { echo "README lines: no $want" >&2; fail=1; }
  done
  kill -TERM "$pid"
  wait "$pid" || fail=1
  [ "$fail" = 0 ] && echo "serve-demo: all examples answered as expected" || echo "serve-demo: FAILED"
  exit "$fail"
fi
# Ctrl-C interrupts the first wait (the trap passes SIGTERM on); the second sees the service out.
wait "$pid" || true
wait "$pid" 2>/dev/null || true
