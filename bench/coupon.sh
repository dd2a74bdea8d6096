#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Coupon rendering, Patron against the npm receiptline package on the same coupon document:
# coupons per second and bytes per coupon for both, and the ratios (goal: >= 20x the speed,
# no more bytes). Usage: bench/coupon.sh [BUILD_DIR]   (needs `npm install --prefix bench`)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
export PATRON_SOURCE_DIR=$here/..
if [ ! -d "$here/node_modules/receiptline" ]; then
  npm install --prefix "$here" --no-audit --no-fund >/dev/null
fi
ours=$("$build/bench/bench_coupon" 20000)
theirs=$("$build/bench/bench_coupon" --document | node "$here/receiptline_coupon.js" 300)
echo "$ours"
echo "$theirs"
get() { awk -v k="$1" '$1 == k { print $2 }' <<<"$ours
$theirs"; }
awk -v ps="$(get patron_coupons_per_sec)" -v rs="$(get receiptline_coupons_per_sec)" \
    -v pb="$(get patron_bytes_per_coupon)" -v rb="$(get receiptline_bytes_per_coupon)" 'BEGIN {
  printf "speed_ratio %.1f (goal >= 20)\n", ps / rs
  printf "bytes_ratio %.3f (goal <= 1)\n", pb / rb
}'
awk -v ps="$(get patron_raster_coupons_per_sec)" -v rs="$(get receiptline_coupons_per_sec)" \
    -v pb="$(get patron_raster_bytes_per_coupon)" -v rb="$(get receiptline_bytes_per_coupon)" 'BEGIN {
  printf "raster_speed_ratio %.1f (QR as an image, like receiptline)\n", ps / rs
  printf "raster_bytes_ratio %.3f\n", pb / rb
}'
