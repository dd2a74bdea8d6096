#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The systemd unit (scripts/patron.service) reaches USB printers and keeps its hardening: the
# private /dev holds the USB device nodes libusb and usblp use and no other devices, netlink is
# allowed for udev, the service joins group lp (the udev rule's), and every other protection
# stays. Where systemd-analyze exists, the unit verifies without a warning and its exposure
# stays at 2.0 or below.
set -euo pipefail
unit="$1"
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
has() { grep -qxF -- "$1" "$unit" || fail "$unit lacks the line: $1"; }

has "PrivateDevices=yes"
has "DeviceAllow=char-usb_device rw"
has "DeviceAllow=char-usb rw"
has "SupplementaryGroups=lp"
[ "$(grep -c '^DeviceAllow=' "$unit")" -eq 2 ] || fail "devices other than USB are allowed"
grep -Eq '^BindPaths=(.* )?-/dev/bus/usb( |$)' "$unit" || fail "/dev/bus/usb is not bound"
grep -Eq '^RestrictAddressFamilies=(.* )?AF_NETLINK( |$)' "$unit" || fail "no netlink for udev"
for line in DynamicUser=yes NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes \
  PrivateTmp=yes ProtectKernelTunables=yes ProtectKernelModules=yes ProtectKernelLogs=yes \
  ProtectControlGroups=yes ProtectClock=yes RestrictNamespaces=yes RestrictSUIDSGID=yes \
  LockPersonality=yes MemoryDenyWriteExecute=yes SystemCallArchitectures=native \
  SystemCallFilter=@system-service "SystemCallFilter=~@privileged @resources" \
  CapabilityBoundingSet= AmbientCapabilities= UMask=0077; do
  has "$line"
done

if command -v systemd-analyze >/dev/null; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  sed 's|/usr/bin/patron|/bin/true|' "$unit" >"$tmp/patron.service"
  out=$(systemd-analyze verify --man=no "$tmp/patron.service" 2>&1) || fail "verify: $out"
  [ -z "$out" ] || fail "systemd-analyze verify warns: $out"
  systemd-analyze security --offline=yes --threshold=20 "$tmp/patron.service" >/dev/null ||
    fail "the unit's exposure is above 2.0"
fi
echo "ok: $unit"
