#!/usr/bin/env bash
# Token counting and the estimate: oaibatch against the npm packages
# js-tiktoken (pure JavaScript) and tiktoken (Rust core in WebAssembly),
# in the same run. Counts must be equal on every string. Inputs are
# generated into bench/out/tokens/ (not committed). Figures go to
# bench/out/tokens/results.jsonl; bench/RESULTS.md (section Tokens) records a run.
# Needs tests/harness/node (scripts/test-deps.sh) and a build with bench_tokens
# ($OAB_BUILD, default build-bench). `run.sh estimate` runs only the
# estimate part (minutes; the counting peers take the better part of an
# hour, js-tiktoken's cl100k most of it).
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
encs="o200k_base cl100k_base"
[ "${1:-}" = estimate ] && encs=""
for enc in $encs; do
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
# the command itself (rank file load and report included), on one thread
# and on the default (the machine's CPUs, at most 8); best of 3 wall
# times, peak RSS of that run
CLI="${OAB_BUILD:-$PWD/build-bench}/cli/oaibatch"
for input in estimate estimate-english; do
  for threads in 1 default; do
    targs=(); [ "$threads" = 1 ] && targs=(--threads 1)
    best=""
    for i in 1 2 3; do
      /usr/bin/time -f "%e %M" -o "$O/time" "$CLI" estimate "${targs[@]}" \
        "$O/$input.jsonl" > "$O/estimate.out"
      read -r wall rss < "$O/time"
      if [ -z "$best" ] || awk -v a="$wall" -v b="$best" 'BEGIN{exit !(a<b)}'; then
        best=$wall; best_rss=$rss
      fi
    done
    bytes=$(stat -c %s "$O/$input.jsonl")
    echo "{\"impl\":\"oaibatch estimate command\",\"input\":\"$input\",\"threads\":\"$threads\",\"cpus\":$(nproc),\"bytes\":$bytes,\"wall_s\":$best,\"mb_per_s\":$(awk -v b="$bytes" -v t="$best" 'BEGIN{printf "%.1f", b/1e6/t}'),\"peak_rss_kb\":$best_rss}" | tee -a "$R"
  done
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
