#!/bin/sh
# SPDX-License-Identifier: MIT
# The checkout's floor (bench/bench_floor.c: bench_instr floor, which bench/instructions.sh counts,
# and bench_checkout times) writes exactly the rows a checkout writes: after the same number of
# checkouts from the same start, every table a checkout writes holds as many rows in the floor's
# store as in the library's.
# Usage: test_bench_floor.sh BENCH_INSTR
set -eu
bench=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bench" checkout 7 "$tmp/lib"
"$bench" floor 7 "$tmp/floor"
counts() {
    sqlite3 "$1" "SELECT 'sales', count(*) FROM sales UNION ALL
        SELECT 'sale_lines', count(*) FROM sale_lines UNION ALL
        SELECT 'entries', count(*) FROM entries UNION ALL
        SELECT 'lots', count(*) FROM lots UNION ALL
        SELECT 'idempotency', count(*) FROM idempotency UNION ALL
        SELECT 'outbox', count(*) FROM outbox UNION ALL
        SELECT 'balances', sum(balance <> 0) FROM accounts"
}
counts "$tmp/lib/instr-checkout.db" >"$tmp/lib.txt"
counts "$tmp/floor/instr-floor.db" >"$tmp/floor.txt"
if ! diff -u "$tmp/lib.txt" "$tmp/floor.txt"; then
    echo "the floor does not write the rows a checkout writes (- checkout, + floor)" >&2
    exit 1
fi
grep -q '^sales|7$' "$tmp/lib.txt" || { echo "the checkouts did not run" >&2; exit 1; }
