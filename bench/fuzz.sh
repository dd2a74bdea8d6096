#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Longer fuzzing runs than CI's corpus replay: builds the libFuzzer targets with clang in
# build-fuzz and runs one (or `all`, one after the other) for SECONDS each (default 300) on a copy
# of its seed corpus, so the checked-in corpus stays small. Crashes land in build-fuzz/artifacts/;
# fix the product, then add the input to tests/fuzz/corpus/NAME/ as a regression seed.
# usage: bench/fuzz.sh [NAME|all] [SECONDS]     (FUZZ_BUILD_JOBS=1 while other fuzzers run)
set -euo pipefail
cd "$(dirname "$0")/.."
name=${1:-fuzz_voucher}
seconds=${2:-300}
targets=()
if [ "$name" = all ]; then
  for dir in tests/fuzz/corpus/*/; do
    targets+=("$(basename "$dir")")
  done
else
  targets=("$name")
fi

# Longest input each target is given: room for its largest useful seed, no more.
max_len() {
  case "$1" in
  fuzz_card) echo 64 ;;
  fuzz_voucher) echo 600 ;;
  fuzz_escpos_model) echo 4096 ;;
  *) echo 2048 ;;
  esac
}

CC=clang cmake -S . -B build-fuzz -DPATRON_FUZZ=ON -DPATRON_BENCH=OFF >/dev/null
cmake --build build-fuzz -j"${FUZZ_BUILD_JOBS:-2}" --target "${targets[@]}"
mkdir -p build-fuzz/artifacts
for t in "${targets[@]}"; do
  work=build-fuzz/corpus-$t
  mkdir -p "$work"
  cp -n tests/fuzz/corpus/"$t"/* "$work"/
  dict=()
  if [ -f tests/fuzz/"$t".dict ]; then
    dict=(-dict=tests/fuzz/"$t".dict)
  fi
  echo "=== $t for ${seconds}s ==="
  ./build-fuzz/tests/fuzz/"$t" -max_total_time="$seconds" -max_len="$(max_len "$t")" \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "${dict[@]}" \
    -artifact_prefix=build-fuzz/artifacts/"$t"- "$work"
done
