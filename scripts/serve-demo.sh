#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what is missing, builds Patron, and starts the counter service on a fresh demo store
# in ./var/serve-demo: three members with points, two rewards, and a cashier till whose token is
# printed once. Then prints curl lines for a scan, a sale, a reward redemption (its coupon goes
# to the USB printer, or without one to the virtual printer's PNGs in $PATRON_HOME/prints) and a
# voucher redemption. Stop it with Ctrl-C (it finishes in-flight requests first).
# `scripts/serve-demo.sh --check` runs those lines itself, shows the answers, and stops.
set -euo pipefail
cd "$(dirname "$0")/.."
check=0
if [ "${1:-}" = "--check" ]; then check=1; fi
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)" >/dev/null

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

# Each example as the exact command line a till would send.
scan=(curl -s -H "$auth" -H "$json" -d "{\"card\":\"$card\"}" "$url/v1/scan")
sale=(curl -s -H "$auth" -H "$json" -H "Idempotency-Key: demo-sale-1"
  -d "{\"card\":\"$card\",\"ref\":\"T-1001\",\"total\":4650,\"currency\":\"EUR\",\"lines\":[{\"sku\":\"BEANS\",\"category\":\"coffee\",\"qty\":1,\"unit_price\":1850},{\"sku\":\"CAKE\",\"category\":\"bakery\",\"qty\":2,\"unit_price\":1400}]}"
  "$url/v1/sales")
reward=(curl -s -H "$auth" -H "$json" -H "Idempotency-Key: demo-reward-1"
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

# What the cashier sees when the card is scanned:
$(show "${scan[@]}")
# A sale that earns points (send it twice: the same key answers the first result again):
$(show "${sale[@]}")
# Spend 100 points on reward 1. The answer comes at once; the coupon prints after it, on the USB
# printer or, without one, as $PATRON_HOME/prints/job-N.png (N is "print_job" in the answer):
$(show "${reward[@]}")
# The coupon's voucher, redeemed once at the till by its typed code (the QR holds its token):
  code=\$($(show "${reward[@]}" | sed 's/^ *//') | sed -nE 's/.*"code":"([^"]+)".*/\\1/p')
  curl -s -H '$auth' -H '$json' -H 'Idempotency-Key: demo-voucher-1' \\
    -d "{\\"code\\":\\"\$code\\",\\"ref\\":\\"T-1002\\"}" $url/v1/vouchers/redeem
# Has the coupon printed yet?  curl -s -H '$auth' $url/v1/print-jobs/1
# Metrics, including the printer's state:  curl -s $url/metrics | grep patron_print

EOF

if [ "$check" = 1 ]; then
  run() { printf '$ %s\n' "$1"; shift; "$@"; printf '\n'; }
  fail=0
  run "scan" "${scan[@]}" | tee "$PATRON_HOME/scan.json"
  grep -q '"points"' "$PATRON_HOME/scan.json" || fail=1
  run "sale" "${sale[@]}" | tee "$PATRON_HOME/sale.json"
  grep -q '"points_earned"' "$PATRON_HOME/sale.json" || fail=1
  run "reward" "${reward[@]}" | tee "$PATRON_HOME/reward.json"
  code=$(sed -nE 's/.*"code":"([^"]+)".*/\1/p' "$PATRON_HOME/reward.json")
  [ -n "$code" ] || fail=1
  run "voucher" curl -s -H "$auth" -H "$json" -H 'Idempotency-Key: demo-voucher-1' \
    -d "{\"code\":\"$code\",\"ref\":\"T-1002\"}" "$url/v1/vouchers/redeem" |
    tee "$PATRON_HOME/voucher.json"
  grep -q '"redemption_id"' "$PATRON_HOME/voucher.json" || fail=1
  for _ in $(seq 1 100); do
    curl -s -H "$auth" "$url/v1/print-jobs/1" | grep -q '"status":"printed"' && break
    sleep 0.1
  done
  run "print job" curl -s -H "$auth" "$url/v1/print-jobs/1"
  ls "$PATRON_HOME"/prints/*.png 2>/dev/null || echo "(the coupon went to a USB printer)"
  kill -TERM "$pid"
  wait "$pid" || fail=1
  [ "$fail" = 0 ] && echo "serve-demo: all examples answered as expected" || echo "serve-demo: FAILED"
  exit "$fail"
fi
# Ctrl-C interrupts the first wait (the trap passes SIGTERM on); the second sees the service out.
wait "$pid" || true
wait "$pid" 2>/dev/null || true
