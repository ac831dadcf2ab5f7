#!/usr/bin/env bash
# Runs every benchmark (bench/*/run.sh) and assembles bench/RESULTS.md from
# the sections they write to bench/results/<name>.md.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-bench -j"$(nproc)" >/dev/null
export OAB_BUILD="$PWD/build-bench"
for d in bench/*/; do
  [ -x "$d/run.sh" ] || continue
  echo "== $d" >&2
  bash "$d/run.sh" || echo "benchmark $d failed" >&2
done
{
  echo "# Benchmark results"
  echo
  echo "Run by \`bash bench/run.sh\` on $(date -u +%Y-%m-%d)."
  echo "Machine: $(uname -m), $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo),"
  echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(. /etc/os-release; echo "$PRETTY_NAME")."
  echo
  for f in bench/results/*.md; do [ -f "$f" ] && { cat "$f"; echo; }; done
} > bench/RESULTS.md
echo "wrote bench/RESULTS.md" >&2
