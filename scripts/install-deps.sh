#!/usr/bin/env bash
# Installs what building and testing oaibatch needs on Debian 12 (as root).
# Safe to run again: apt-get skips what is there.
set -euo pipefail
PKGS=(build-essential cmake pkg-config git ca-certificates
      libcurl4-openssl-dev libcjson-dev libsqlite3-dev libmicrohttpd-dev
      libpcre2-dev libpq-dev postgresql python3 nodejs npm valgrind clang-14
      prometheus chromium chromium-driver)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js may come from elsewhere than Debian's package; then npm is with it.
if command -v node >/dev/null && command -v npm >/dev/null; then
  tmp=(); for p in "${missing[@]}"; do [[ $p == nodejs || $p == npm ]] || tmp+=("$p"); done
  missing=("${tmp[@]+"${tmp[@]}"}")
fi
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}"
fi
