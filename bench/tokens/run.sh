#!/usr/bin/env bash
# Token counting and the estimate: oaibatch against the npm packages
# js-tiktoken (pure JavaScript) and tiktoken (Rust core in WebAssembly),
# in the same run. Counts must be equal on every string. Inputs are
# generated into bench/out/tokens/ (not committed). Figures go to
# bench/out/tokens/results.jsonl; bench/RESULTS.md (section Tokens) records a run.
# Needs tests/harness/node (scripts/test-deps.sh) and a build with bench_tokens
# ($OAB_BUILD, default build-bench).
set -euo pipefail
cd "$(dirname "$0")/../.."
B="${OAB_BUILD:-$PWD/build-bench}/bench/bench_tokens"
O=bench/out/tokens
mkdir -p "$O"
export OAB_ENCODINGS_DIR="${OAB_ENCODINGS_DIR:-$PWD/tests/harness/node/encodings}"
[ -f "$O/corpus.jsonl" ] || python3 bench/tokens/gen_corpus.py 100000 7 > "$O/corpus.jsonl"
[ -f "$O/estimate.jsonl" ] || python3 bench/tokens/gen_estimate.py 50000 200000000 > "$O/estimate.jsonl"
[ -f "$O/estimate-english.jsonl" ] || python3 bench/tokens/gen_estimate.py 50000 200000000 english > "$O/estimate-english.jsonl"
R="$O/results.jsonl"
: > "$R"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for enc in o200k_base cl100k_base; do
  "$B" count "$enc" "$O/corpus.jsonl" "$O/ours.$enc.txt" | tee -a "$R"
  node bench/tokens/peers.mjs wasm "$enc" "$O/corpus.jsonl" "$O/wasm.$enc.txt" 3 | tee -a "$R"
  node bench/tokens/peers.mjs js "$enc" "$O/corpus.jsonl" "$O/js.$enc.txt" 1 | tee -a "$R"
  for peer in wasm js; do
    if cmp -s "$O/ours.$enc.txt" "$O/$peer.$enc.txt"; then
      echo "{\"check\":\"$enc counts equal to $peer on every string\"}" | tee -a "$R"
    else
      echo "{\"check\":\"$enc counts DIFFER from $peer\"}" | tee -a "$R"
    fi
  done
done
"$B" estimate "$O/estimate.jsonl" | tee -a "$R"
"$B" estimate "$O/estimate-english.jsonl" | tee -a "$R"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
