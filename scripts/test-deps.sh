#!/usr/bin/env bash
# Test-only dependencies that do not come from Debian: the npm packages of
# the Node.js test tooling (tests/harness/node: the openai and
# @anthropic-ai/sdk SDKs for the interoperability tests, js-tiktoken and tiktoken as the tokenizer oracle), installed into
# tests/harness/node/node_modules at exactly the versions of package-lock.json
# (npm ci). Installs again when the lock file changed since the last
# install (its sha256 is kept in node_modules/.oab-lock.sha256).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=tests/harness/node
lock="$dir/package-lock.json"
stamp="$dir/node_modules/.oab-lock.sha256"
if ! command -v npm >/dev/null; then
  echo "test-deps.sh: npm not found (scripts/install-deps.sh installs it)" >&2
  exit 1
fi
want=$(sha256sum "$lock" | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
  (cd "$dir" && npm ci --no-audit --no-fund --silent)
  echo "$want" > "$stamp"
fi
# The tokenizer's rank files, converted from the installed js-tiktoken.
if [ ! -f "$dir/encodings/o200k_base.tiktoken" ] ||
   [ ! -f "$dir/encodings/cl100k_base.tiktoken" ]; then
  OAB_JS_TIKTOKEN="$dir/node_modules/js-tiktoken" \
    bash scripts/get-encodings.sh "$dir/encodings" >/dev/null
fi
