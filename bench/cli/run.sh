#!/usr/bin/env bash
# Startup of the command: `oaibatch --version` (target: under 10 ms), and
# `oaibatch jobs` on an empty journal (opens SQLite, no network), beside the
# start-up of what a user would run instead: Node loading the official
# `openai` SDK (tests/harness/node/node_modules, if installed), and Python starting.
# Writes bench/results/cli.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BUILD=${OAB_BUILD:-$ROOT/build-bench}
if [ ! -x "$BUILD/cli/oaibatch" ]; then
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD" -j"$(nproc)" --target oaibatch_cli >/dev/null
fi
CLI=$BUILD/cli/oaibatch
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
N=${N:-200}

# "median min" wall time in ms of N runs of a command (after 5 warm-up
# runs), each run timed alone with bash's $EPOCHREALTIME (no fork)
time_ms() {
  local i a b
  for i in 1 2 3 4 5; do "$@" >/dev/null 2>&1 || true; done
  : >"$TMP/times"
  for ((i = 0; i < N; i++)); do
    a=$EPOCHREALTIME
    "$@" >/dev/null 2>&1 || true
    b=$EPOCHREALTIME
    echo "$a $b" >>"$TMP/times"
  done
  awk '{printf "%.3f\n", ($2 - $1) * 1000}' "$TMP/times" | sort -n |
    awk '{v[NR] = $1} END {printf "%.2f %.2f", v[int((NR + 1) / 2)], v[1]}'
}
rss_mib() {
  /usr/bin/time -v "$@" 2>&1 >/dev/null | awk '/Maximum resident/{printf "%.1f", $6/1024}'
}

ROWS=""
VERSION_MS=""
row() { # name, command...
  local name=$1
  shift
  local t med min rss
  t=$(time_ms "$@")
  med=${t% *}
  min=${t#* }
  rss=$(rss_mib "$@")
  [ -z "$VERSION_MS" ] && VERSION_MS=$med
  ROWS+="| $name | $med | $min | $rss |"$'\n'
}
row "oaibatch --version" "$CLI" --version
row "oaibatch jobs (empty journal)" "$CLI" jobs --journal "$TMP/j.db"
# the interpreter itself, not a version manager's shim script
PY=$(python3 -c 'import sys; print(sys.executable)')
row "python3 -c pass" "$PY" -c pass
row "python3 -c 'import json, urllib.request'" "$PY" -c "import json, urllib.request"
if [ -d "$ROOT/tests/harness/node/node_modules/openai" ]; then
  row "node -e \"require('openai')\"" node -e "require('$ROOT/tests/harness/node/node_modules/openai')"
fi
row "node -e 0" node -e 0
if command -v hyperfine >/dev/null; then
  HF=" (hyperfine is installed but a shell loop is used for all rows alike)"
else
  HF=" (a shell loop; hyperfine is not installed)"
fi
MET=$(echo "$VERSION_MS < 10" | bc -l | sed 's/1/met/;s/0/not met/')
mkdir -p "$ROOT/bench/results"
{
  echo "## cli: start-up of the command"
  echo
  echo "\`bench/cli/run.sh\`: median and fastest wall time of $N runs each$HF,"
  echo "after 5 warm-up runs; peak RSS from \`/usr/bin/time -v\` of one run."
  echo "Load average when run: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores. The"
  echo "official \`openai\` Python CLI is not installable here; the peers are"
  echo "what a user would start instead: Node loading the official \`openai\`"
  echo "npm package, and Python 3 starting (with the modules an HTTP JSON"
  echo "client needs)."
  echo
  echo "| command | median (ms) | fastest (ms) | peak RSS (MiB) |"
  echo "|---|---:|---:|---:|"
  printf "%s" "$ROWS"
  echo
  echo "| target | measured | result |"
  echo "|---|---|---|"
  echo "| \`oaibatch --version\` under 10 ms (median) | $VERSION_MS ms | $MET |"
} > "$ROOT/bench/results/cli.md"
cat "$ROOT/bench/results/cli.md"
