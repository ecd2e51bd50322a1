#!/usr/bin/env bash
# Builds the dev Kafka broker (librdkafka's mock cluster) to build/dev-kafka,
# only when the binary is missing or older than dev-kafka.c or this script.
# Prints the binary's path. Safe to run from several processes at once: each
# compiles to a private temporary file and renames it into place.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$here/dev-kafka.c"
out="$here/build/dev-kafka"
header=/usr/include/librdkafka/rdkafka_mock.h

# On a fresh Debian machine, install the one system package the broker needs, when we may.
if [[ ! -f "$header" ]]; then
  sudo=""
  if [[ "$(id -u)" -ne 0 ]] && command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo -n"; fi
  if [[ "$(id -u)" -eq 0 || -n "$sudo" ]] && command -v apt-get >/dev/null; then
    echo "dev-kafka: installing librdkafka-dev (apt-get)..." >&2
    $sudo apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq librdkafka-dev >&2
  fi
fi
if [[ ! -f "$header" ]]; then
  echo "dev-kafka: $header is missing: run 'apt-get install -y librdkafka-dev'" >&2
  exit 1
fi

if [[ -x "$out" && ! "$out" -ot "$src" && ! "$out" -ot "${BASH_SOURCE[0]}" ]]; then
  echo "$out"
  exit 0
fi

mkdir -p "$here/build"
tmp="$(mktemp "$here/build/.dev-kafka.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
${CC:-cc} -O2 -Wall -Wextra -o "$tmp" "$src" -lrdkafka
chmod 755 "$tmp"
mv -f "$tmp" "$out"
trap - EXIT
echo "$out"
