#!/bin/sh
# SPDX-License-Identifier: MIT
# No cycle of calls between the library's files through the checkout: sale.c (the ledger's
# level) calls neither the offers nor the referrals; checkout.c composes them from above. An
# object file depends on another when it uses a symbol the other defines; this test fails when a
# file of CHECKED can reach itself. usage: test_layers.sh OBJECT_DIR
set -eu
dir=$1
checked='sale.c.o offer_eval.c.o referral.c.o checkout.c.o offer.c.o member.c.o'
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for o in $(find "$dir" -name "*.o"); do
    b=$(basename "$o")
    nm -g "$o" | awk -v f="$b" -v defs="$tmp/defs" -v uses="$tmp/uses" '
        $1 == "U" { print $2, f >>uses; next }
        NF == 3 { print $3, f >>defs }'
done
# "user provider" edges, one per pair
awk 'NR == FNR { def[$1] = $2; next } ($1 in def) && def[$1] != $2 { print $2, def[$1] }' \
    "$tmp/defs" "$tmp/uses" | sort -u >"$tmp/edges"
[ -s "$tmp/edges" ] || { echo "no dependencies found in $dir" >&2; exit 1; }
awk -v checked="$checked" '
    { out[$1] = out[$1] " " $2 }
    function reach(start, node,    n, parts, i) {
        if (seen[node]) return 0
        seen[node] = 1
        n = split(out[node], parts, " ")
        for (i = 1; i <= n; i++) {
            if (parts[i] == start) { path = node " -> " start; return 1 }
            if (reach(start, parts[i])) { path = node " -> " path; return 1 }
        }
        return 0
    }
    END {
        bad = 0
        n = split(checked, files, " ")
        for (k = 1; k <= n; k++) {
            split("", seen)
            if (reach(files[k], files[k])) { print "cycle: " path > "/dev/stderr"; bad = 1 }
        }
        exit bad
    }' "$tmp/edges"
echo "no cycle through: $checked"
