#!/usr/bin/env bash
# Test-only dependencies that do not come from Debian (npm packages used by
# the interoperability tests), installed into tests/node/node_modules.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f tests/node/package.json ] && { [ ! -d tests/node/node_modules/openai ] ||
   [ ! -d tests/node/node_modules/js-tiktoken ]; }; then
  (cd tests/node && npm install --no-audit --no-fund --silent)
fi
# The tokenizer's rank files, converted from the installed js-tiktoken.
if [ -d tests/node/node_modules/js-tiktoken ] && { [ ! -f tests/node/encodings/o200k_base.tiktoken ] ||
   [ ! -f tests/node/encodings/cl100k_base.tiktoken ]; }; then
  OAB_JS_TIKTOKEN=tests/node/node_modules/js-tiktoken bash scripts/get-encodings.sh tests/node/encodings >/dev/null
fi
