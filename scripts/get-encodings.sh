#!/usr/bin/env bash
# Makes the rank files of the tokenizer (o200k_base.tiktoken,
# cl100k_base.tiktoken) from the npm package js-tiktoken, which ships
# them in its own compact form: fetched with `npm pack` (or taken from an
# installed copy), converted to tiktoken's format, and checked against the
# SHA-256 of the files tiktoken itself downloads. See docs/tokens.md.
#
# Usage: scripts/get-encodings.sh [DEST]
#   DEST  default: $OAB_ENCODINGS_DIR, else
#         ${XDG_DATA_HOME:-~/.local/share}/oaibatch/encodings
# Environment: OAB_JS_TIKTOKEN=DIR  use this installed js-tiktoken package
#              instead of fetching one.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version=1.0.21
dest="${1:-${OAB_ENCODINGS_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/oaibatch/encodings}}"
declare -A sha=(
  [o200k_base]=446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d
  [cl100k_base]=223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7
)
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
pkg="${OAB_JS_TIKTOKEN:-}"
if [ -z "$pkg" ]; then
  (cd "$tmp" && npm pack --silent "js-tiktoken@$version" >/dev/null)
  tar xzf "$tmp"/js-tiktoken-*.tgz -C "$tmp"
  pkg="$tmp/package"
fi
mkdir -p "$dest"
for name in o200k_base cl100k_base; do
  python3 "$here/ranks_to_tiktoken.py" "$pkg/dist/ranks/$name.cjs" "$tmp/$name.tiktoken" >/dev/null
  got="$(sha256sum "$tmp/$name.tiktoken" | cut -d' ' -f1)"
  if [ "$got" != "${sha[$name]}" ]; then
    echo "get-encodings: $name: SHA-256 $got, not tiktoken's ${sha[$name]}" >&2
    exit 1
  fi
  mv "$tmp/$name.tiktoken" "$dest/$name.tiktoken"
  echo "$dest/$name.tiktoken"
done
