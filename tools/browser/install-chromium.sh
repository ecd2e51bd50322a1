#!/usr/bin/env bash
# Makes sure Debian's chromium is installed and prints its path: the console's browser tests drive
# it with playwright-core, whose own browser download cannot be used here. Installs it with apt
# when it is missing and we may (root, or password-less sudo); otherwise says what to run and
# exits 1. CHROMIUM_PATH, when set, names the browser to use instead.
set -euo pipefail

if [[ -n "${CHROMIUM_PATH:-}" ]]; then
  [[ -x "$CHROMIUM_PATH" ]] && { echo "$CHROMIUM_PATH"; exit 0; }
  echo "install-chromium: CHROMIUM_PATH=$CHROMIUM_PATH is not an executable" >&2
  exit 1
fi
if path="$(command -v chromium)"; then
  echo "$path"
  exit 0
fi

as_root=""
if [[ "$(id -u)" -ne 0 ]]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then as_root="sudo -n"; else as_root="none"; fi
fi
if [[ "$as_root" == "none" ]] || ! command -v apt-get >/dev/null; then
  echo "install-chromium: chromium is missing: run 'apt-get install -y chromium' (or set CHROMIUM_PATH)" >&2
  exit 1
fi
# One installer at a time (parallel test runs on one machine).
exec 9>/tmp/routing-ledger-install-chromium.lock
flock 9
if ! path="$(command -v chromium)"; then
  echo "install-chromium: installing chromium (apt-get)..." >&2
  # An install killed half-way (a test run stopped mid-install) leaves dpkg "interrupted", and
  # every apt-get install then refuses until it is finished: finish it first (a no-op otherwise).
  DEBIAN_FRONTEND=noninteractive $as_root dpkg --configure -a >&2
  $as_root apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq chromium >&2
  path="$(command -v chromium)"
fi
echo "$path"
