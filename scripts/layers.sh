#!/bin/sh
# SPDX-License-Identifier: MIT
# The library's layers, lowest first: a file in src/LAYER/ includes internal headers of its own
# layer or of a lower one, never a higher one; the front ends (src/api, src/cli) and the head
# office (src/hq, a library of its own on libpq) include only the public headers (patron/*.h) and
# their own. Prints each wrong include and exits 1.
# usage: scripts/layers.sh [SOURCE_DIR]
set -eu
cd "${1:-$(dirname "$0")/..}"
layers="core member ledger voucher print reward market checkout report privacy migrate till hook wallet"

rank() {
    i=0
    for l in $layers; do
        i=$((i + 1))
        [ "$l" = "$1" ] && { echo $i; return; }
    done
    echo 0
}

status=0
for dir in src/*/; do
    dir=${dir%/}
    layer=${dir#src/}
    case $layer in
    api | cli | hq) front=1 ;;
    *) front=0 ;;
    esac
    mine=$(rank "$layer")
    if [ "$front" -eq 0 ] && [ "$mine" -eq 0 ]; then
        echo "$dir: not a known layer; add it to the list in scripts/layers.sh" >&2
        status=1
        continue
    fi
    for f in "$dir"/*.c "$dir"/*.h; do
        [ -e "$f" ] || continue
        # "layer/file.h" includes name the layer they reach into.
        for inc in $(sed -nE 's/^#include "([a-z_]+)\/[a-z_0-9]+\.h".*/\1/p' "$f"); do
            [ "$inc" = patron ] && continue
            if [ "$front" -eq 1 ]; then
                echo "$f includes an internal header of $inc/ (front ends use patron/*.h only)" >&2
                status=1
            elif [ "$(rank "$inc")" -gt "$mine" ]; then
                echo "$f ($layer) includes a header of the higher layer $inc/" >&2
                status=1
            fi
        done
    done
done
for f in src/*.c src/*.h; do
    [ -e "$f" ] || continue
    echo "$f: every library file lives in a layer folder (src/LAYER/)" >&2
    status=1
done
[ $status -eq 0 ] && echo "layers respected: $layers; front ends use the public headers only"
exit $status
