#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# System calls and context switches per HTTP checkout, thread by thread: `patron serve` runs
# under `perf record` (every raw_syscalls:sys_enter and sched:sched_switch event, no sampling)
# while bench_http's 16 keep-alive tills make SALES checkouts; a run of 16 checkouts is taken
# off, so start-up and stop cancel. Threads are grouped by name (the service names its own:
# front, relay, http, writer, webhooks, ...). A sleep is a switch away from a thread that
# waits (prev_state S or D); the other switches are preemptions, which depend on the load.
#   bench/http_syscalls.sh BUILD_DIR [SALES]   (default 2000)
#   PATRON_HTTP_BIN=PATH                        the patron program (default BUILD_DIR/patron)
set -euo pipefail
build=$1
n=${2:-2000}
bin=${PATRON_HTTP_BIN:-$build/patron}
command -v perf >/dev/null || { echo "bench/http_syscalls.sh needs perf" >&2; exit 1; }
tmp=$(mktemp -d)
trap '[ -n "${PATRON_SYSCALLS_KEEP:-}" ] && cp "$tmp"/perf-*.data "$PATRON_SYSCALLS_KEEP"/; rm -rf "$tmp"' EXIT

run() { # run COUNT: perf.data of one service answering COUNT checkouts from 16 tills
  cat >"$tmp/patron" <<WRAP
#!/bin/sh
exec perf record -q -c 1 -e raw_syscalls:sys_enter -e sched:sched_switch \
  -o "$tmp/perf-$1.data" -- "$(realpath "$bin")" "\$@"
WRAP
  chmod +x "$tmp/patron"
  PATRON_BIN="$tmp/patron" "$build/bench/bench_http" --members 1000 --sales "$1" --tills 16 \
    >"$tmp/bench-$1.out" 2>/dev/null
  grep -E '^16 ' "$tmp/bench-$1.out" >&2
  perf script -i "$tmp/perf-$1.data" -F comm,event,trace 2>/dev/null |
    awk '{ name = $1; sub(/-[0-9]+$/, "", name)
      if ($2 ~ /sys_enter/) sys[name]++
      else if ($2 ~ /sched_switch/) { sw[name]++; if ($0 ~ /prev_state=[SD]/) sl[name]++ } }
      END { for (k in sys) print k, sys[k] + 0, sw[k] + 0, sl[k] + 0
            for (k in sw) if (!(k in sys)) print k, 0, sw[k], sl[k] + 0 }' | sort >"$tmp/count-$1"
}

run 16
run "$n"
echo "== per HTTP checkout (16 keep-alive tills; $n checkouts less a run of 16)"
printf '%-12s %10s %10s %10s\n' thread syscalls sleeps switches
join -a 1 -a 2 -e 0 -o 0,1.2,1.3,1.4,2.2,2.3,2.4 "$tmp/count-$n" "$tmp/count-16" |
  awk -v n="$n" '{ d = n - 16; s = ($2 - $5) / d; z = ($4 - $7) / d; w = ($3 - $6) / d
      ts += s; tz += z; tw += w; printf "%-12s %10.2f %10.2f %10.2f\n", $1, s, z, w }
    END { printf "%-12s %10.2f %10.2f %10.2f\n", "all", ts, tz, tw
      printf "{\"http_syscalls_per_checkout\": %.2f, \"http_sleeps_per_checkout\": %.2f}\n", ts, tz }'
