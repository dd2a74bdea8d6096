#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Instructions per piece of work, counted by valgrind's callgrind (exact and repeatable on a busy
# machine, unlike time): a durable 5-line checkout through the library, a scan, a raw one-row
# SQLite insert+commit with the same settings (WAL, synchronous=FULL), and a checkout over HTTP on
# the server's side (`patron serve` under callgrind, driven by one keep-alive curl), and the
# checkout's floor: the same rows written by SQLite alone into the store's schema. Each figure
# is a run of COUNT less a run of zero (the same program doing nothing), divided by COUNT, so
# start-up cancels; the top functions are counted the same way (self instructions per item).
# Prints a table, then, as its last line, one JSON object.
#   bench/instructions.sh BUILD_DIR     (bench/run --instructions calls it)
#   PATRON_INSTR_COUNT=N                items per run (default 200)
#   PATRON_INSTR_KEEP=DIR               keep the callgrind files there (for callgrind_annotate)
#   PATRON_INSTR_FLAT="SMALL LARGE"     flatness with size: the checkout in kept stores of SMALL
#                                       and LARGE members, a sale each (default "10000 10000000";
#                                       generated once into $PATRON_BENCH_DATA, default bench-data;
#                                       "" leaves it out)
#   PATRON_INSTR_ONLY=http              the HTTP checkout alone (its figure and top functions)
set -euo pipefail
build=$1
n=${PATRON_INSTR_COUNT:-200}
top=${PATRON_INSTR_TOP:-10}
command -v valgrind >/dev/null || { echo "bench/run --instructions needs valgrind" >&2; exit 1; }
tmp=$(mktemp -d)
serve_pid=""
cleanup() {
  if [ -n "$serve_pid" ]; then kill "$serve_pid" 2>/dev/null || true; fi
  if [ -n "${PATRON_INSTR_KEEP:-}" ]; then mkdir -p "$PATRON_INSTR_KEEP" && cp "$tmp"/*.cg "$PATRON_INSTR_KEEP"/; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

cg() { # cg OUT PROGRAM ARGS...: one run under callgrind
  local out=$1
  shift
  valgrind --tool=callgrind --callgrind-out-file="$out" "$@" >/dev/null 2>"$out.log" ||
    { cat "$out.log" >&2; exit 1; }
}

# "COUNT NAME" per function, every function, from a callgrind file: self instructions, or with
# `inclusive` those of the function and all it calls. Functions without a symbol (stripped
# system libraries) are named by address and library.
per_function() {
  local how=no
  [ "${2:-}" = inclusive ] && how=yes
  callgrind_annotate --threshold=100 --inclusive=$how "$1" 2>/dev/null |
    awk '/^ *[0-9,]+ \(/ && !/PROGRAM TOTALS/ {
      c = $1; gsub(",", "", c); $1 = ""; $2 = ""; sub(/^ +/, "");
      lib = ""; if (match($0, / \[[^]]*\]$/)) { lib = substr($0, RSTART + 2, RLENGTH - 3); sub(/.*\//, "", lib) }
      sub(/ \[.*\]$/, ""); sub(/^[^:]*:/, "");
      if ($0 ~ /^0x/ && lib != "") $0 = $0 " (" lib ")"; print c, $0 }'
}

# per_item ZERO N_FILE [inclusive]: the top functions, per item, of a run less the run of zero
per_item() {
  { per_function "$1" "${3:-}" | sed 's/^/0 /'; per_function "$2" "${3:-}" | sed 's/^/1 /'; } |
    awk -v n="$n" '{ k = $3; for (i = 4; i <= NF; i++) k = k " " $i; v[k] += ($1 == 1 ? $2 : -$2) }
      END { for (k in v) if (v[k] > 0) printf "%12.0f  %s\n", v[k] / n, k }' |
    grep -v -E '  (main|sale|__libc_start_main[^ ]*|measured_[a-z_]*|0x[0-9a-f]* \(ld-[^)]*\)|\(below main\)|start_thread|clone3?)( |$)' |
    sort -rn | head -n "$top"
}

total() { callgrind_annotate "$1" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }'; }

# report NAME ZERO_FILE N_FILE: prints the per-item figure, and the top functions to $tmp/NAME.top
report() {
  local name=$1 zero=$2 full=$3 t0 t1
  t0=$(total "$zero")
  t1=$(total "$full")
  per_item "$zero" "$full" >"$tmp/$name.top"
  per_item "$zero" "$full" inclusive >"$tmp/$name.incl"
  echo $(((t1 - t0) / n))
}

lib() { # lib MODE: the library figure for one mode of bench_instr
  cg "$tmp/$1-0.cg" "$build/bench/bench_instr" "$1" 0 "$tmp/data-$1-0"
  cg "$tmp/$1-n.cg" "$build/bench/bench_instr" "$1" "$n" "$tmp/data-$1-n"
  report "$1" "$tmp/$1-0.cg" "$tmp/$1-n.cg"
}

# One `patron serve` under callgrind on a copy of the store, COUNT sales over one keep-alive
# connection, then SIGTERM (the service finishes and exits, and callgrind writes its file).
serve_run() {
  local count=$1 db="$tmp/serve-$1/patron.db" port="" token
  mkdir -p "$tmp/serve-$1"
  cp "$tmp/http/patron.db" "$db"
  valgrind --tool=callgrind --callgrind-out-file="$tmp/http-$count.cg" \
    "$build/patron" --db "$db" serve --listen 127.0.0.1:0 >"$tmp/serve-$count/out" \
    2>"$tmp/serve-$count/err" &
  serve_pid=$!
  for _ in $(seq 600); do
    port=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$tmp/serve-$count/out")
    [ -n "$port" ] && break
    sleep 0.2
  done
  [ -n "$port" ] || { cat "$tmp/serve-$count/err" >&2; exit 1; }
  token=$(head -1 "$tmp/http/store")
  local lines='"lines":[{"sku":"COFFEE","category":"coffee","qty":2,"unit_price":350},'
  lines+='{"sku":"CAKE","category":"bakery","qty":1,"unit_price":420},'
  lines+='{"sku":"MILK","category":"dairy","qty":1,"unit_price":129},'
  lines+='{"sku":"GIFT","category":"giftcard","qty":1,"unit_price":2000},'
  lines+='{"sku":"MUG","category":"home","qty":1,"unit_price":899}]'
  if [ "$count" -gt 0 ]; then
    tail -n +2 "$tmp/http/store" | awk -v n="$count" -v port="$port" -v token="$token" \
      -v lines="$lines" '{ card[NR - 1] = $1 } END {
        for (i = 0; i < n; i++) {
          printf "url = \"http://127.0.0.1:%s/v1/sales\"\n", port
          printf "header = \"Authorization: Bearer %s\"\n", token
          printf "header = \"Content-Type: application/json\"\n"
          printf "header = \"Idempotency-Key: h-%d\"\n", i
          printf "data-binary = {\"card\":\"%s\",\"ref\":\"h-%d\",\"total\":4148,%s}\n",
            card[i % NR], i, lines
          printf "output = /dev/null\nwrite-out = \"%%{http_code}\\n\"\n"
          if (i + 1 < n) print "next"
        } }' >"$tmp/curl.cfg"
    curl -s -K "$tmp/curl.cfg" >"$tmp/codes" || true
    local ok
    ok=$(grep -c '^201$' "$tmp/codes" || true)
    [ "$ok" = "$count" ] || { echo "HTTP checkouts: $ok of $count answered 201" >&2; exit 1; }
  fi
  kill -TERM "$serve_pid"
  wait "$serve_pid" || true
  serve_pid=""
}

# at MEMBERS: instructions per checkout in a kept store of MEMBERS members (made first, outside
# the count), on 200 cards spread over them
at() {
  "$build/bench/bench_instr" checkout-at "$1" 0 "$data"
  cg "$tmp/at$1-0.cg" "$build/bench/bench_instr" checkout-at "$1" 0 "$data"
  cg "$tmp/at$1-n.cg" "$build/bench/bench_instr" checkout-at "$1" "$n" "$data"
  report "at$1" "$tmp/at$1-0.cg" "$tmp/at$1-n.cg"
}

echo "== instructions per item (callgrind; $n items less a run of zero)"
if [ "${PATRON_INSTR_ONLY:-}" = http ]; then
  mkdir -p "$tmp/http"
  "$build/bench/bench_instr" http-store "$tmp/http/patron.db" >"$tmp/http/store"
  serve_run 0
  serve_run "$n"
  http=$(report http "$tmp/http-0.cg" "$tmp/http-$n.cg")
  printf '%-52s %12s\n' "checkout over HTTP, server side (POST /v1/sales)" "$http"
  echo "-- http: top functions, self instructions per item"
  cat "$tmp/http.top"
  echo "-- http: top functions, with what they call, per item"
  cat "$tmp/http.incl"
  printf '{"http_checkout_instructions": %s, "items": %s}\n' "$http" "$n"
  exit 0
fi
checkout=$(lib checkout)
raw=$(lib raw)
floor=$(lib floor)
scan=$(lib scan)
mkdir -p "$tmp/http"
"$build/bench/bench_instr" http-store "$tmp/http/patron.db" >"$tmp/http/store"
serve_run 0
serve_run "$n"
http=$(report http "$tmp/http-0.cg" "$tmp/http-$n.cg")
ratio=$(awk -v a="$checkout" -v b="$raw" 'BEGIN { printf "%.1f", a / b }')
http_ratio=$(awk -v a="$http" -v b="$raw" 'BEGIN { printf "%.1f", a / b }')
scan_ratio=$(awk -v a="$scan" -v b="$raw" 'BEGIN { printf "%.1f", a / b }')
floor_ratio=$(awk -v a="$floor" -v b="$raw" 'BEGIN { printf "%.1f", a / b }')
over_floor=$(awk -v a="$checkout" -v b="$floor" 'BEGIN { printf "%.2f", a / b }')
row() { printf '%-52s %12s %8s\n' "$1" "$2" "$3"; }
row "item" "instructions" "x raw"
row "raw SQLite one-row insert+commit (WAL, FULL)" "$raw" "1.0"
row "checkout's rows by SQLite alone (the floor)" "$floor" "$floor_ratio"
row "checkout, library (5-line durable sale)" "$checkout" "$ratio"
row "checkout ÷ its floor" "" "$over_floor"
row "checkout over HTTP, server side (POST /v1/sales)" "$http" "$http_ratio"
row "scan, library (member, points, tier, rewards)" "$scan" "$scan_ratio"
flat=${PATRON_INSTR_FLAT-10000 10000000}
data=${PATRON_BENCH_DATA:-bench-data}
flat_json=""
if [ -n "$flat" ]; then
  read -r small large <<<"$flat"
  mkdir -p "$data"
  at_small=$(at "$small")
  at_large=$(at "$large")
  flatness=$(awk -v a="$at_large" -v b="$at_small" 'BEGIN { printf "%.2f", a / b }')
  row "checkout, library, $small members" "$at_small" ""
  row "checkout, library, $large members (÷ the one above)" "$at_large" "$flatness"
  flat_json=$(printf '"checkout_instructions_small": %s, "checkout_instructions_large": %s, ' \
    "$at_small" "$at_large")
  flat_json+=$(printf '"checkout_instructions_large_vs_small": %s, "flat_members": "%s", ' \
    "$flatness" "$small/$large")
fi
for name in checkout floor http scan raw ${flat:+at$small at$large}; do
  echo
  echo "-- $name: top functions, self instructions per item"
  cat "$tmp/$name.top"
  echo "-- $name: top functions, with what they call, per item"
  cat "$tmp/$name.incl"
done
echo
printf '{"checkout_instructions": %s, "raw_commit_instructions": %s, ' "$checkout" "$raw"
printf '"checkout_instructions_vs_raw_commit": %s, "checkout_floor_instructions": %s, ' \
  "$ratio" "$floor"
printf '"checkout_floor_vs_raw_commit": %s, "checkout_instructions_vs_floor": %s, ' \
  "$floor_ratio" "$over_floor"
printf '"http_checkout_instructions": %s, ' "$http"
printf '"http_checkout_instructions_vs_raw_commit": %s, "scan_instructions": %s, ' \
  "$http_ratio" "$scan"
printf '%s"scan_instructions_vs_raw_commit": %s, "items": %s}\n' "$flat_json" "$scan_ratio" "$n"
