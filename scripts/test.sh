#!/usr/bin/env bash
# Builds oaibatch and runs the whole test suite: once as a normal build
# (warnings are errors), once under AddressSanitizer + UBSan.
# Usage: scripts/test.sh [--no-sanitize]
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=$(nproc 2>/dev/null || echo 2)
bash scripts/test-deps.sh

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOAB_WERROR=ON >/dev/null
cmake --build build -j"$JOBS"
(cd build && ctest --output-on-failure -j"$JOBS")

if [ "${1:-}" != "--no-sanitize" ]; then
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DOAB_WERROR=ON -DOAB_SANITIZE=ON >/dev/null
  cmake --build build-asan -j"$JOBS"
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
     UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
     ctest --output-on-failure -j"$JOBS")
fi

# libFuzzer targets, a bounded run each (clang-14 from
# scripts/install-deps.sh; fuzz/run.sh fails without it)
if [ "${1:-}" != "--no-sanitize" ]; then
  bash fuzz/run.sh
fi
