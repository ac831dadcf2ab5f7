#!/usr/bin/env bash
# Request-area benchmarks (writes bench/results/requests.md):
#  (a) build + write 50,000 seed-shaped chat requests (one in three plain,
#      with the seed's two tools, with a native WeatherResult schema) to
#      JSONL with the builder + writer (bench_requests write), beside
#      Python's json.dumps (peer_write.py) and Node's JSON.stringify
#      (peer_write.js) writing the same lines; the three files must be
#      byte-identical. All three fsync the file, as the writer does.
#  (b) validate a ~200 MB, 49,000-line input (bench_requests validate,
#      oab_validate_path) beside a Python json line-by-line check
#      (peer_validate.py); then a file just over the 200 MiB limit.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${OAB_BUILD:-$root/build-bench}"
if [ ! -x "$build/bench/bench_requests" ]; then
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build" -j"$(nproc)" --target bench_requests >/dev/null
fi
bin="$build/bench/bench_requests"
work="$(mktemp -d /tmp/oab_bench_requests.XXXXXX)"
trap 'rm -rf "$work"' EXIT
N=50000

# best wall time of 3 runs, its CPU time (user+sys), the peak RSS seen
declare -A best cpu rss summary
measure() { # name cmd...
  local name=$1; shift
  local b="" c="" r=0
  for i in 1 2 3; do
    /usr/bin/time -f "%e %U %S %M" -o "$work/time" "$@" >"$work/stdout"
    read -r t u s m <"$work/time"
    if [ -z "$b" ] || awk -v a="$t" -v b="$b" 'BEGIN{exit !(a<b)}'; then
      b=$t; c=$(awk -v u="$u" -v s="$s" 'BEGIN{printf "%.2f", u+s}')
    fi
    [ "$m" -gt "$r" ] && r=$m
  done
  best[$name]=$b cpu[$name]=$c rss[$name]=$r summary[$name]="$(cat "$work/stdout")"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1f", (b>0)?a/b:0}'; }
met() { awk -v x="$1" -v t="$2" 'BEGIN{print (x>=t) ? "met" : "NOT met"}'; }
rss_mb() { awk -v k="$1" 'BEGIN{printf "%.1f", k/1024}'; }
mb() { awk -v b="$(stat -c %s "$1")" 'BEGIN{printf "%.1f", b/1048576}'; }

# ---- (a) build + write
measure c "$bin" write "$work/c.jsonl" $N
measure python python3 -c "
import os, runpy, sys
sys.argv = ['peer_write.py', '$work/py.jsonl', '$N']
runpy.run_path('$here/peer_write.py')
fd = os.open('$work/py.jsonl', os.O_RDONLY); os.fsync(fd); os.close(fd)"
measure node node -e "
process.argv = [process.argv[0], 'peer_write.js', '$work/js.jsonl', '$N'];
require('$here/peer_write.js');
const fs = require('fs'); const fd = fs.openSync('$work/js.jsonl', 'r'); fs.fsyncSync(fd); fs.closeSync(fd);"
same=yes
cmp -s "$work/c.jsonl" "$work/py.jsonl" && cmp -s "$work/c.jsonl" "$work/js.jsonl" || same=no
w_mb=$(mb "$work/c.jsonl")
w_vs_py=$(ratio "${best[python]}" "${best[c]}")
w_vs_node=$(ratio "${best[node]}" "${best[c]}")
w_cpu_py=$(ratio "${cpu[python]}" "${cpu[c]}")
w_cpu_node=$(ratio "${cpu[node]}" "${cpu[c]}")
w_rss_ok=$(awk -v k="${rss[c]}" 'BEGIN{print (k<=16384) ? "met" : "NOT met"}')
rm -f "$work"/*.jsonl

# ---- (b) validate
big="$work/big.jsonl"
python3 "$here/gen_big.py" "$big" $((199 * 1024 * 1024))
measure vc "$bin" validate "$big"
measure vpy python3 "$here/peer_validate.py" "$big"
v_mb=$(mb "$big")
v_bytes=$(stat -c %s "$big")
v_rate=$(awk -v b="$v_bytes" -v t="${best[vc]}" 'BEGIN{printf "%.0f", b/1e6/t}')
v_rate_cpu=$(awk -v b="$v_bytes" -v t="${cpu[vc]}" 'BEGIN{printf "%.0f", (t>0)?b/1e6/t:0}')
v_rate_py=$(awk -v b="$v_bytes" -v t="${best[vpy]}" 'BEGIN{printf "%.0f", b/1e6/t}')
v_vs_py=$(ratio "${best[vpy]}" "${best[vc]}")
v_ok=$(met "$v_rate" 300)
rm -f "$big"
# just over the limit: the validator must say file_too_large
over="$work/over.jsonl"
python3 "$here/gen_big.py" "$over" $((206 * 1024 * 1024))
o_mb=$(mb "$over")
/usr/bin/time -f "%e %M" -o "$work/time" "$bin" validate "$over" >"$work/stdout"
read -r o_t o_rss <"$work/time"
o_sum="$(cat "$work/stdout")"
o_ok=no
case "$o_sum" in *file_too_large*) o_ok=yes ;; esac
rm -f "$over"

cat >"$root/bench/results/requests.md" <<MD
## Building, writing and validating requests

\`bench/requests/run.sh\`, same run for every tool; best wall time of 3
runs (CPU time = user + system of that run); peak RSS from \`/usr/bin/time\`.

**(a) Build + write $N requests** (${w_mb} MiB of JSONL): seed-shaped chat
requests, one in three plain (max_tokens, temperature 0.8), one with the
seed's two tools, one with a native \`WeatherResult\` schema. oaibatch:
\`oab_chat_request_new\` + \`oab_jsonl_write_request\` to a path writer, one
request alive at a time (bench/requests/bench_requests.c). Peers: Python
$(python3 -c 'import platform;print(platform.python_version())') building
the same dicts and writing \`json.dumps(..., separators=(",",":"),
ensure_ascii=False)\` (peer_write.py), Node $(node --version) with
\`JSON.stringify\` (peer_write.js). Every tool fsyncs its file (the writer
does). The three files are byte-identical: **$same**.

| tool | wall (s) | CPU (s) | peak RSS (MiB) | oaibatch faster by (wall / CPU) |
|---|---:|---:|---:|---:|
| oaibatch (C) | ${best[c]} | ${cpu[c]} | $(rss_mb "${rss[c]}") | |
| Python json | ${best[python]} | ${cpu[python]} | $(rss_mb "${rss[python]}") | ${w_vs_py}x / ${w_cpu_py}x |
| Node JSON.stringify | ${best[node]} | ${cpu[node]} | $(rss_mb "${rss[node]}") | ${w_vs_node}x / ${w_cpu_node}x |

**(b) Validate a ${v_mb} MiB input** ($v_bytes bytes, 49,000 lines of
~4 KB chat requests with escapes and non-ASCII text, one in five with a
tool): \`oab_validate_path\` (JSON syntax, UTF-8, custom_id uniqueness,
method, url, body, model, limits) beside a Python \`json.loads\` line by
line with the same checks (peer_validate.py).

| tool | wall (s) | CPU (s) | MB/s (wall) | peak RSS (MiB) | summary |
|---|---:|---:|---:|---:|---|
| oaibatch (C) | ${best[vc]} | ${cpu[vc]} | $v_rate | $(rss_mb "${rss[vc]}") | \`${summary[vc]}\` |
| Python json | ${best[vpy]} | ${cpu[vpy]} | $v_rate_py | $(rss_mb "${rss[vpy]}") | \`${summary[vpy]}\` |

A ${o_mb} MiB file (just over the 200 MiB limit): reported as
file_too_large: **$o_ok** (\`$o_sum\`, ${o_t} s, $(rss_mb "$o_rss") MiB peak RSS).

| target | measured | result |
|---|---|---|
| build + write: at least 3x faster than Python | ${w_vs_py}x | $(met "$w_vs_py" 3) |
| build + write: at least 2x faster than Node | ${w_vs_node}x | $(met "$w_vs_node" 2) |
| build + write: peak RSS at most 16 MiB | $(rss_mb "${rss[c]}") MiB | $w_rss_ok |
| validate: at least 300 MB/s | $v_rate MB/s wall ($v_rate_cpu MB/s CPU); ${v_vs_py}x Python | $v_ok |
MD
cat "$root/bench/results/requests.md"
