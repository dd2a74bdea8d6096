#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what is missing, builds Patron, and runs a scripted checkout on a demo store in
# ./var/demo: members enrol, sales earn points, a refund reverses some, a reward is redeemed,
# and every step shows what the cashier sees.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)" >/dev/null

export PATRON_HOME="$PWD/var/demo"
rm -rf "$PATRON_HOME"
mkdir -p "$PATRON_HOME"
patron() { ./build/patron "$@"; }
step() { printf '\n\033[1m$ patron %s\033[0m\n' "$*"; patron "$@"; }
card_of() { patron --json member enroll "$@" | sed -E 's/.*"card": ?"([0-9]+)".*/\1/'; }

step init --store-name "Corner Cafe"
step program tier Silver 200 1250 --by owner
step program tier Gold 1000 1500 --by owner
step program category coffee 2000 --by owner
step reward add --name "Free coffee" --cost 60 --kind item --value 1001
step reward add --name "5 EUR off" --cost 150 --kind amount --value 500
ada=$(card_of --name "Ada Lovelace" --email ada@example.org --consent marketing)
alan=$(card_of --name "Alan Turing" --phone "+44 161 496 0000")
echo "Enrolled Ada ($ada) and Alan ($alan)."
step scan "$ada"
step sale "$ada" --ref T-1001 --total 4650 --line BEANS:coffee:1:1850 --line CAKE:bakery:2:1400
step sale "$ada" --ref T-1001 --total 4650 --line BEANS:coffee:1:1850 --line CAKE:bakery:2:1400
step sale "$alan" --ref T-1002 --total 9900 --line GIFT:giftcard:1:5000 --line MUG:home:1:4900
step refund --ref T-1002 --line MUG:1
step scan "$ada"
step reward redeem "$ada" 1
step scan 2900000000019 || echo "(exit $? - a mistyped card is refused before any look-up)"
step ledger verify
echo
echo "The demo store is in $PATRON_HOME; try: PATRON_HOME=$PATRON_HOME ./build/patron scan $ada"
