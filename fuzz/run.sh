#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, -fsanitize=fuzzer,address,undefined)
# and runs each for a bounded time (OAB_FUZZ_SECONDS, default 30) from the
# committed seed corpora; fails on any crash, leak, UB report or timeout.
# New corpus entries and crash files go to a temporary folder.
set -euo pipefail
cd "$(dirname "$0")/.."
CC=${OAB_FUZZ_CC:-$(command -v clang-14 || command -v clang || true)}
if [ -z "$CC" ]; then
  echo "fuzz/run.sh: clang not found (scripts/install-deps.sh installs clang-14)" >&2
  exit 1
fi
SECS=${OAB_FUZZ_SECONDS:-30}
BUILD=${OAB_FUZZ_BUILD:-build-fuzz}
cmake -S . -B "$BUILD" -DCMAKE_C_COMPILER="$CC" -DCMAKE_BUILD_TYPE=Debug \
  -DOAB_WERROR=ON -DOAB_FUZZ=ON -DOAB_BUILD_TESTS=OFF -DOAB_BUILD_CLI=OFF \
  -DOAB_BUILD_EXAMPLES=OFF -DOAB_BUILD_BENCH=OFF >/dev/null
TARGETS=(range multipart jsonl_store testmodel validator result schema anthropic
  tokenizer objects)
cmake --build "$BUILD" -j2 --target "${TARGETS[@]/#/fuzz_}"
TMP=$(mktemp -d /tmp/oab-fuzz.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
for t in "${TARGETS[@]}"; do
  mkdir -p "$TMP/$t"
  dict=()
  case $t in testmodel|validator|result|schema|anthropic|objects) dict=(-dict=fuzz/json.dict) ;; esac
  echo "fuzz_$t: ${SECS}s" >&2
  OAB_ENCODINGS_DIR=${OAB_ENCODINGS_DIR:-$PWD/tests/harness/node/encodings} \
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    "$BUILD/fuzz/fuzz_$t" -max_total_time="$SECS" -timeout=10 \
    -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
    -artifact_prefix="$TMP/$t-" "${dict[@]}" "$TMP/$t" "fuzz/corpus/$t" \
    2> "$TMP/$t.log" || { tail -60 "$TMP/$t.log" >&2; exit 1; }
  grep -E "stat::number_of_executed_units" "$TMP/$t.log" >&2 || true
done
echo "fuzz: all targets ran ${SECS}s without a finding" >&2
