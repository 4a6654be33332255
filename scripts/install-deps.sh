#!/usr/bin/env bash
# Installs the Debian 12 packages that the build, the tests and `make run` need.
# Idempotent: does nothing (and needs no network) when everything is present.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  clang clang-tidy clang-format libclang-rt-14-dev
  libwebsockets-dev libwebsockets-evlib-uv libuv1-dev
  libsqlite3-dev sqlite3 libsodium-dev libssl-dev libfmt-dev
  doctest-dev rapidjson-dev
  python3 python3-websockets tmux openjdk-17-jdk-headless
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
