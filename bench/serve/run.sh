#!/usr/bin/env bash
# bench/serve: a 50,000-line batch run by `oaibatch serve` against an
# instant upstream on 127.0.0.1 (a second oaibatch-server in builtin:test
# mode serving /v1/chat/completions), lines per second and peak RSS; beside
# it, in the same run, the same lines sent to the same upstream at the same
# concurrency by a Node script with the official openai SDK.
# Writes bench/results/serve.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BUILD=${OAB_BUILD:-$ROOT/build-bench}
SERVER=$BUILD/server/oaibatch-server
N=${OAB_BENCH_LINES:-50000}
CONC=${OAB_BENCH_CONCURRENCY:-64}
TMP=$(mktemp -d /tmp/oab-bench-serve.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT

[ -x "$SERVER" ] || { echo "no $SERVER (build first)" >&2; exit 1; }
[ -d tests/harness/node/node_modules/openai ] || bash scripts/test-deps.sh

wait_port() {
  for _ in $(seq 1 400); do
    [ -s "$1" ] && { cat "$1"; return 0; }
    sleep 0.025
  done
  echo "server did not start" >&2; return 1
}

# the instant upstream
"$SERVER" --port 0 --data "$TMP/up" --port-file "$TMP/up.port" --quiet \
  2>"$TMP/up.log" &
PIDS+=($!)
UP=$(wait_port "$TMP/up.port")

python3 - "$N" > "$TMP/in.jsonl" <<'PY'
import json, sys
for i in range(int(sys.argv[1])):
    print(json.dumps({"custom_id": "req-%d" % i, "method": "POST",
                      "url": "/v1/chat/completions",
                      "body": {"model": "gpt-4o-mini", "max_tokens": 64,
                               "messages": [
                                   {"role": "system", "content": "You are terse."},
                                   {"role": "user", "content": "Summarize item %d of the catalogue in one line." % i}]}}))
PY

# oaibatch serve in front of it
"$SERVER" --port 0 --data "$TMP/batch" --port-file "$TMP/b.port" --quiet \
  --upstream "http://127.0.0.1:$UP/v1" --concurrency "$CONC" 2>"$TMP/b.log" &
SPID=$!
PIDS+=($SPID)
BP=$(wait_port "$TMP/b.port")

OURS=$(python3 - "$BP" "$TMP/in.jsonl" "$SPID" <<'PY'
import http.client, json, sys, time, uuid
port, path, pid = int(sys.argv[1]), sys.argv[2], sys.argv[3]
def req(method, url, body=None, headers={}):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    c.request(method, url, body=body, headers=headers)
    r = c.getresponse(); d = r.read(); c.close()
    return json.loads(d) if r.getheader("Content-Type", "").startswith("application/json") else d
data = open(path, "rb").read()
b = uuid.uuid4().hex
body = (("--%s\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n"
         "--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"in.jsonl\"\r\n\r\n")
        % (b, b)).encode() + data + ("\r\n--%s--\r\n" % b).encode()
f = req("POST", "/v1/files", body, {"Content-Type": "multipart/form-data; boundary=" + b})
t0 = time.time()
bt = req("POST", "/v1/batches", json.dumps({"input_file_id": f["id"],
         "endpoint": "/v1/chat/completions", "completion_window": "24h"}),
         {"Content-Type": "application/json"})
while True:
    g = req("GET", "/v1/batches/" + bt["id"])
    if g["status"] in ("completed", "failed", "expired", "cancelled"):
        break
    time.sleep(0.02)
secs = time.time() - t0
out = req("GET", "/v1/files/%s/content" % g["output_file_id"])
n_out = out.count(b"\n")
rss = [l.split()[1] for l in open("/proc/%s/status" % pid) if l.startswith("VmHWM")][0]
print(json.dumps({"status": g["status"], "completed": g["request_counts"]["completed"],
                  "seconds": secs, "rss_kb": int(rss), "out_lines": n_out}))
PY
)
echo "oaibatch serve: $OURS" >&2

# the Node SDK peer, same lines, same upstream, same concurrency
/usr/bin/time -v -o "$TMP/node.time" node bench/serve/node_peer.mjs \
  "http://127.0.0.1:$UP/v1" "$TMP/in.jsonl" "$TMP/node_out.jsonl" "$CONC" \
  > "$TMP/node.json"
NODE=$(cat "$TMP/node.json")
NODE_RSS=$(awk -F: '/Maximum resident/{gsub(/ /,"",$2); print $2}' "$TMP/node.time")
echo "node SDK: $NODE rss_kb=$NODE_RSS" >&2

python3 - "$OURS" "$NODE" "$NODE_RSS" "$N" "$CONC" > bench/results/serve.md <<'PY'
import json, sys
ours, node = json.loads(sys.argv[1]), json.loads(sys.argv[2])
node_rss, n, conc = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
our_lps = ours["completed"] / ours["seconds"]
node_lps = node["ok"] / node["seconds"]
ratio = our_lps / node_lps
rss_mb = ours["rss_kb"] / 1024
ok_t = ratio >= 2.0
ok_m = rss_mb <= 64
print("## serve: a %d-line batch against a local upstream\n" % n)
print("`oaibatch serve --upstream http://127.0.0.1:PORT/v1 --concurrency %d` runs a"
      " %d-line chat batch (upload, create, poll until completed, timed from"
      " create to completed, including validation and writing the output file)"
      " against an instant upstream on 127.0.0.1 (a second oaibatch-server in"
      " builtin:test mode). Beside it, in the same run, a Node script with the"
      " official `openai` SDK sends the same lines to the same upstream with %d"
      " requests in flight and writes one output line per request"
      " (`bench/serve/node_peer.mjs`).\n" % (conc, n, conc))
print("| runner | lines ok | seconds | lines/s | peak RSS |")
print("|---|---:|---:|---:|---:|")
print("| oaibatch serve (batch engine, curl multi) | %d | %.2f | %.0f | %.1f MB |"
      % (ours["completed"], ours["seconds"], our_lps, rss_mb))
print("| Node + openai SDK, %d in flight | %d | %.2f | %.0f | %.1f MB |"
      % (conc, node["ok"], node["seconds"], node_lps, node_rss / 1024))
print()
print("| target | result | met |")
print("|---|---|---|")
print("| throughput >= 2x the Node SDK script | %.2fx | %s |" % (ratio, "yes" if ok_t else "no"))
print("| peak RSS <= 64 MB | %.1f MB | %s |" % (rss_mb, "yes" if ok_m else "no"))
PY
cat bench/results/serve.md
