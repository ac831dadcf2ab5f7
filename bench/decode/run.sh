#!/usr/bin/env bash
# Decode benchmark: a 50,000-line batch output file (~90 MB, seed-shaped
# chat completions, one in eight answering with tool calls) plus its error
# file, decoded extracting output text, tool calls (arguments parsed) and
# usage by oab_results_stream_files (bench_decode), by Python's json
# (peer.py) and by Node's JSON.parse (peer.js), in the same run; then peak
# RSS on a ~1 GB output file. Writes bench/results/decode.md.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${OAB_BUILD:-$root/build-bench}"
if [ ! -x "$build/bench/bench_decode" ]; then
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build" -j"$(nproc)" --target bench_decode >/dev/null
fi
bin="$build/bench/bench_decode"
work="$(mktemp -d /tmp/oab_bench_decode.XXXXXX)"
trap 'rm -rf "$work"' EXIT
out="$work/output.jsonl" err="$work/errors.jsonl"
python3 "$here/gen.py" "$out" "$err" 50000
mb() { awk -v b="$(stat -c %s "$1")" 'BEGIN{printf "%.1f", b/1048576}'; }
lines=$(( $(wc -l <"$out") + $(wc -l <"$err") ))

# best wall time and best CPU time (user + sys) of 5 runs, the peak RSS
# seen; keeps the summary line to compare
declare -A best cpu rss summary
lt() { awk -v a="$1" -v b="$2" 'BEGIN{exit !(a<b)}'; }
measure() { # name cmd...
  local name=$1; shift
  local b="" c="" r=0
  for i in 1 2 3 4 5; do
    /usr/bin/time -f "%e %U %S %M" -o "$work/time" "$@" >"$work/stdout"
    read -r t u s m <"$work/time"
    local us; us=$(awk -v u="$u" -v s="$s" 'BEGIN{printf "%.2f", u+s}')
    if [ -z "$b" ] || lt "$t" "$b"; then b=$t; fi
    if [ -z "$c" ] || lt "$us" "$c"; then c=$us; fi
    [ "$m" -gt "$r" ] && r=$m
  done
  best[$name]=$b cpu[$name]=$c rss[$name]=$r summary[$name]="$(cat "$work/stdout")"
}
measure c "$bin" "$out" "$err"
measure python python3 "$here/peer.py" "$out" "$err"
measure node node "$here/peer.js" "$out" "$err"
same=yes
[ "${summary[c]}" = "${summary[python]}" ] && [ "${summary[c]}" = "${summary[node]}" ] || same=no

# ~1 GiB: the same file twelve times over (custom_ids repeat; no input map)
big="$work/big.jsonl"
for i in $(seq 12); do cat "$out"; done >"$big"
/usr/bin/time -f "%e %M" -o "$work/time" "$bin" "$big" >"$work/stdout"
read -r big_t big_rss <"$work/time"
big_mb=$(mb "$big")
rm -f "$big"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1f", a/b}'; }
met() { awk -v x="$1" -v t="$2" 'BEGIN{print (x>=t) ? "met" : "NOT met"}'; }
rss_mb() { awk -v k="$1" 'BEGIN{printf "%.1f", k/1024}'; }
vs_py=$(ratio "${best[python]}" "${best[c]}")
vs_node=$(ratio "${best[node]}" "${best[c]}")
cpu_py=$(ratio "${cpu[python]}" "${cpu[c]}")
cpu_node=$(ratio "${cpu[node]}" "${cpu[c]}")
rss_ok=$(awk -v k="${rss[c]}" 'BEGIN{print (k<=32768) ? "met" : "NOT met"}')
big_ok=$(awk -v k="$big_rss" 'BEGIN{print (k<=32768) ? "met" : "NOT met"}')

cat >"$root/bench/results/decode.md" <<MD
## Decoding results (output + error file)

\`bench/decode/run.sh\`: a $(mb "$out") MiB, 50,000-line output file
(seed-shaped chat completions with ~1.1 KB of text each, one line in eight
answering with two tool calls) plus a $(mb "$err") MiB error file ($lines
lines in all), decoded extracting the output text, the tool calls with
their arguments parsed, and usage totals. oaibatch: \`oab_results_stream_files\`
(bench/decode/bench_decode.c). Peers, same work, same run: Python $(python3 -c 'import platform;print(platform.python_version())') \`json\`
line by line (peer.py), Node $(node --version) \`JSON.parse\` over 1 MiB
chunks split into lines (peer.js). Best wall time and best CPU time
(user + sys) of 5 runs each; peak RSS from \`/usr/bin/time\`. The targets
are judged on wall time. The three print the same summary line: **$same**.
Load average when run: $(cut -d' ' -f1-3 /proc/loadavg).

| tool | wall (s) | CPU (s) | peak RSS (MiB) | oaibatch faster by (wall / CPU) |
|---|---:|---:|---:|---:|
| oaibatch (C) | ${best[c]} | ${cpu[c]} | $(rss_mb "${rss[c]}") | |
| Python json | ${best[python]} | ${cpu[python]} | $(rss_mb "${rss[python]}") | ${vs_py}x / ${cpu_py}x |
| Node JSON.parse | ${best[node]} | ${cpu[node]} | $(rss_mb "${rss[node]}") | ${vs_node}x / ${cpu_node}x |

| target | measured | result |
|---|---|---|
| at least 2.5x faster than Python | ${vs_py}x | $(met "$vs_py" 2.5) |
| at least 2x faster than Node | ${vs_node}x | $(met "$vs_node" 2) |
| peak RSS at most 32 MiB (50,000 lines) | $(rss_mb "${rss[c]}") MiB | $rss_ok |
| peak RSS at most 32 MiB on a ${big_mb} MiB output file | $(rss_mb "$big_rss") MiB (${big_t} s) | $big_ok |

Summary line: \`${summary[c]}\`
MD
cat "$root/bench/results/decode.md"

# the same files through `oaibatch results` (bench/results/decode_results.md)
bash "$here/run_results.sh"
