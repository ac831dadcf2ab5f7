#!/usr/bin/env bash
# bench/scale: a job of OAB_BENCH_LINES (default 1,000,000) chat lines
# through `oaibatch run --in-input-order` against `oaibatch serve`
# (builtin:test model) on 127.0.0.1: split into parts of 50,000 lines,
# uploaded, created, polled, results merged in input order. Wall time and
# the command's peak RSS (GNU time), beside a Node script with the
# official openai package doing the same split, upload, poll and merge
# (bench/scale/node_peer.mjs) against the same server, in the same run.
# Writes bench/results/scale.md. Not a CTest test: it takes minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BUILD=${OAB_BUILD:-$ROOT/build-bench}
CLI=$BUILD/cli/oaibatch
N=${OAB_BENCH_LINES:-1000000}
TMP=$(mktemp -d /tmp/oab-bench-scale.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT

[ -x "$CLI" ] || { echo "no $CLI (build first)" >&2; exit 1; }
[ -d tests/harness/node/node_modules/openai ] || bash scripts/test-deps.sh

wait_port() {
  for _ in $(seq 1 400); do
    [ -s "$1" ] && { cat "$1"; return 0; }
    sleep 0.025
  done
  echo "server did not start" >&2; return 1
}

python3 - "$N" > "$TMP/in.jsonl" <<'PY'
import json, sys
for i in range(int(sys.argv[1])):
    print(json.dumps({"custom_id": "req-%07d" % i, "method": "POST",
                      "url": "/v1/chat/completions",
                      "body": {"model": "gpt-4o-mini", "max_tokens": 64,
                               "messages": [
                                   {"role": "user", "content": "Summarize item %d in one line." % i}]}}))
PY
BYTES=$(stat -c %s "$TMP/in.jsonl")

start_server() {  # $1: data folder
  rm -f "$TMP/s.port"
  "$CLI" serve --port 0 --data "$1" --port-file "$TMP/s.port" --quiet \
    --upstream builtin:test 2>"$1.log" &
  SPID=$!
  PIDS+=($SPID)
  PORT=$(wait_port "$TMP/s.port")
}

# checks OUT: N lines, in input order, every one succeeded (or answered)
check_out() {  # $1: file, $2: field holding the status ("status" or "response")
  python3 - "$1" "$N" "$2" <<'PY'
import json, sys
path, n, field = sys.argv[1], int(sys.argv[2]), sys.argv[3]
k = ok = 0
with open(path) as f:
    for line in f:
        r = json.loads(line)
        assert r["custom_id"] == "req-%07d" % k, (k, r["custom_id"])
        if field == "status":
            ok += r["status"] == "succeeded"
        else:
            ok += bool(r.get("response")) and r["response"]["status_code"] == 200
        k += 1
assert k == n, (k, n)
print(ok)
PY
}

rss_mb() { awk -F': ' '/Maximum resident/ {printf "%.1f", $2 / 1024}' "$1"; }
wall_s() { awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, a, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + a[i]; printf "%.1f", s}' "$1"; }

# oaibatch run
start_server "$TMP/data1"
export OPENAI_API_KEY=sk-local
/usr/bin/time -v -o "$TMP/ours.time" "$CLI" run "$TMP/in.jsonl" --in-input-order \
  -o "$TMP/ours.jsonl" --journal "$TMP/journal/j.db" \
  --base-url "http://127.0.0.1:$PORT/v1" --interval 1 --max-interval 2 -q \
  2>"$TMP/ours.err" || { cat "$TMP/ours.err" >&2; exit 1; }
OURS_OK=$(check_out "$TMP/ours.jsonl" status)
OURS_PARTS=$(python3 -c "import json,sys; print(len(json.load(sys.stdin)[0]['batches']))" \
  < <("$CLI" jobs --json --journal "$TMP/journal/j.db"))
kill "$SPID"; wait "$SPID" 2>/dev/null || true

# the Node peer, against a fresh server
start_server "$TMP/data2"
mkdir -p "$TMP/peer"
/usr/bin/time -v -o "$TMP/peer.time" node bench/scale/node_peer.mjs \
  "http://127.0.0.1:$PORT/v1" "$TMP/in.jsonl" "$TMP/peer.jsonl" "$TMP/peer" \
  >"$TMP/peer.out" 2>"$TMP/peer.err" || { cat "$TMP/peer.err" >&2; exit 1; }
PEER_OK=$(check_out "$TMP/peer.jsonl" response)
PEER_PARTS=$(python3 -c "import json,sys; print(json.load(sys.stdin)['parts'])" < "$TMP/peer.out")
kill "$SPID"; wait "$SPID" 2>/dev/null || true

OURS_RSS=$(rss_mb "$TMP/ours.time"); PEER_RSS=$(rss_mb "$TMP/peer.time")
OURS_WALL=$(wall_s "$TMP/ours.time"); PEER_WALL=$(wall_s "$TMP/peer.time")
MET=$(awk -v r="$OURS_RSS" 'BEGIN {print (r <= 64) ? "yes" : "no"}')
mkdir -p bench/results
cat > bench/results/scale.md <<MD
## scale: a ${N}-line job through \`oaibatch run\` (issue 13)

\`bash bench/scale/run.sh\` (OAB_BENCH_LINES=${N}): ${N} chat lines
($(awk -v b="$BYTES" 'BEGIN {printf "%.0f MB", b / 1e6}')) through \`oaibatch run --in-input-order -o FILE\` against
\`oaibatch serve --upstream builtin:test\` on 127.0.0.1: validated,
split into parts of at most 50,000 lines, uploaded, created, polled
every 1-2 s, results merged in input order (each part's rows sorted,
part after part). Beside it, in the same run and against a fresh
server of the same build, \`bench/scale/node_peer.mjs\` with the official
\`openai\` package does the same split, upload, create, poll and merge.
Wall time includes the server running every line (the same for both).
Peak RSS is the client process's (GNU time), not the server's.

| client | parts | lines in input order, succeeded | wall | peak RSS (MiB) |
|---|---:|---:|---:|---:|
| oaibatch run | ${OURS_PARTS} | ${OURS_OK} | ${OURS_WALL} s | ${OURS_RSS} |
| Node + openai package | ${PEER_PARTS} | ${PEER_OK} | ${PEER_WALL} s | ${PEER_RSS} |

| target | result | met |
|---|---|---|
| oaibatch run peak RSS <= 64 MiB | ${OURS_RSS} MiB | ${MET} |
MD
cat bench/results/scale.md
