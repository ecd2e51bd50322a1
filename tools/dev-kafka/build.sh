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
