#!/usr/bin/env bash
# Test-only dependencies that do not come from Debian (npm packages used by
# the interoperability tests), installed into tests/node/node_modules.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f tests/node/package.json ] && [ ! -d tests/node/node_modules/openai ]; then
  (cd tests/node && npm install --no-audit --no-fund --silent)
fi
