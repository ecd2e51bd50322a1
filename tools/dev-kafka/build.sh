#!/usr/bin/env bash
# Builds the dev Kafka broker to build/dev-kafka and prints the binary's path: librdkafka's mock
# cluster from Debian bookworm's librdkafka source package (2.0.2-1) with patches/*.patch
# applied, as a static library under build/librdkafka, and dev-kafka.c linked against it.
#
# Cached: the library is rebuilt only when the source version, the configure flags or a patch
# changed (a fingerprint in build/librdkafka/.fingerprint), the binary only when it is older
# than dev-kafka.c, this script or the library. Safe to run from several processes at once: the
# build holds a lock (flock) and the binary is renamed into place.
#
# On a fresh Debian machine it installs what it needs (dpkg-dev, build-essential, patch) when it
# may (root or password-less sudo). The source comes through apt with a private sources list and
# state under build/apt, so the machine's apt configuration is left alone.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
script="$here/build.sh"
src="$here/dev-kafka.c"
build="$here/build"
out="$build/dev-kafka"
rdk="$build/librdkafka"
lib="$rdk/src/librdkafka.a"

debian_version="2.0.2-1"
# Only what the mock needs: no TLS, SASL, compression codecs (the mock stores record batches as
# they come), HTTP or syslog; a static library without debug symbols.
configure_flags=(--disable-ssl --disable-gssapi --disable-zstd --disable-zlib --disable-curl
  --disable-lz4-ext --disable-syslog --disable-debug-symbols --enable-static)

fingerprint() {
  { echo "$debian_version ${configure_flags[*]}"; cat "$here"/patches/*.patch; } | sha256sum | cut -d' ' -f1
}

up_to_date() {
  [[ -x "$out" && -f "$lib" && -f "$rdk/.fingerprint" ]] &&
    [[ "$(cat "$rdk/.fingerprint")" == "$(fingerprint)" ]] &&
    [[ ! "$out" -ot "$src" && ! "$out" -ot "$script" && ! "$out" -ot "$lib" ]]
}

if up_to_date; then
  echo "$out"
  exit 0
fi

mkdir -p "$build"
exec 9>"$build/.lock"
flock 9
if up_to_date; then # another process built it while we waited
  echo "$out"
  exit 0
fi

say() { echo "dev-kafka: $*" >&2; }

as_root=""
if [[ "$(id -u)" -ne 0 ]]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then as_root="sudo -n"; else as_root="none"; fi
fi

# Installs the Debian packages whose commands are missing, when we may.
need() { # need <command> <package>...
  local cmd="$1"
  shift
  command -v "$cmd" >/dev/null && return 0
  if [[ "$as_root" == "none" ]] || ! command -v apt-get >/dev/null; then
    say "'$cmd' is missing: run 'apt-get install -y $*'"
    exit 1
  fi
  say "installing $* (apt-get)..."
  $as_root apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq "$@" >&2
}

# The mirror the machine already uses for bookworm, else Debian's redirector.
debian_mirror() {
  local uri
  uri="$(grep -hoE '^(URIs:|deb) *(\[[^]]*\] *)?https?://[^ ]+' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null |
    grep -oE 'https?://[^ ]+' | grep -vE 'security|nodesource|google' | head -1 || true)"
  echo "${DEV_KAFKA_DEBIAN_MIRROR:-${uri:-http://deb.debian.org/debian}}"
}

# Downloads librdkafka_<version>.dsc and its tarballs to build/apt/src with a private deb-src
# entry; apt checks them against the signed Sources index.
fetch_source() {
  local apt_dir="$build/apt"
  local dsc="$apt_dir/src/librdkafka_${debian_version}.dsc"
  [[ -f "$dsc" ]] && { echo "$dsc"; return 0; }
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/src"
  echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $(debian_mirror) bookworm main" >"$apt_dir/sources.list"
  local opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o "Dir::Etc::SourceParts=$apt_dir/none"
    -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o Debug::NoLocking=1)
  # As root apt would drop to the _apt user, who may not write here.
  [[ "$(id -u)" -eq 0 ]] && opts+=(-o APT::Sandbox::User=root)
  say "fetching Debian's librdkafka $debian_version source (apt-get source)..."
  apt-get "${opts[@]}" -qq update >&2
  (cd "$apt_dir/src" && apt-get "${opts[@]}" -qq source --download-only "librdkafka=$debian_version" >&2)
  echo "$dsc"
}

if [[ ! -f "$lib" || ! -f "$rdk/.fingerprint" || "$(cat "$rdk/.fingerprint")" != "$(fingerprint)" ]]; then
  need dpkg-source dpkg-dev
  need make build-essential
  need cc build-essential
  need patch patch
  dsc="$(fetch_source)"
  started=$SECONDS
  rm -rf "$rdk"
  dpkg-source --no-copy -x "$dsc" "$rdk" >&2
  for p in "$here"/patches/*.patch; do
    say "applying $(basename "$p")"
    patch -d "$rdk" -p1 --quiet --forward <"$p" >&2
  done
  say "building librdkafka (static, mock only; takes a minute or two)..."
  # Logs beside the tree: mklove's configure loads every ./configure.* file as a module.
  (cd "$rdk" && ./configure "${configure_flags[@]}" >"$build/librdkafka-configure.log" 2>&1) ||
    { tail -20 "$build/librdkafka-configure.log" >&2; exit 1; }
  (cd "$rdk" && make -C src -j"$(nproc)" librdkafka.a >"$build/librdkafka-make.log" 2>&1) ||
    { tail -40 "$build/librdkafka-make.log" >&2; exit 1; }
  mkdir -p "$build/include/librdkafka"
  cp "$rdk/src/rdkafka.h" "$rdk/src/rdkafka_mock.h" "$build/include/librdkafka/"
  fingerprint >"$rdk/.fingerprint"
  say "librdkafka built in $((SECONDS - started)) s"
fi

tmp="$(mktemp "$build/.dev-kafka.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
${CC:-cc} -O2 -Wall -Wextra -I"$build/include" -o "$tmp" "$src" "$lib" -lm -ldl -lpthread -lrt
chmod 755 "$tmp"
mv -f "$tmp" "$out"
trap - EXIT
echo "$out"
