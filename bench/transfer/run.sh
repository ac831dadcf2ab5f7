#!/usr/bin/env bash
# transfer: upload and download of a 300 MB file through oaibatch, and the
# same with curl(1), against tests/harness/mock_server.py on 127.0.0.1; time and
# peak RSS of each client process. Target: oaibatch's peak RSS < 32 MB for
# both directions. Writes bench/results/transfer.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${OAB_BUILD:-build-bench}
BIN=$BUILD/bench/bench_transfer
[ -x "$BIN" ] || { echo "build $BIN first (bench/run.sh does)" >&2; exit 1; }
SIZE_MB=${TRANSFER_MB:-300}
TMP=$(mktemp -d)
MOCKPID=
cleanup() { [ -n "$MOCKPID" ] && kill "$MOCKPID" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT

# a JSONL file of SIZE_MB MiB
python3 - "$TMP/big.jsonl" "$SIZE_MB" <<'PY'
import sys
line = ('{"custom_id":"r%08d","method":"POST","url":"/v1/chat/completions",'
        '"body":{"model":"gpt-4o-mini","messages":[{"role":"user","content":"'
        + "x" * 120 + '"}]}}\n')
target = int(sys.argv[2]) << 20
with open(sys.argv[1], "w") as f:
    n = 0
    i = 0
    while n < target:
        s = line % i
        f.write(s)
        n += len(s)
        i += 1
PY
SHA=$(sha256sum "$TMP/big.jsonl" | cut -d' ' -f1)
BYTES=$(stat -c %s "$TMP/big.jsonl")

start_mock() {
  python3 tests/harness/mock_server.py tests/harness/mock_cases/big_transfer.json \
    --body-file "$TMP/big.jsonl" > "$TMP/port" &
  MOCKPID=$!
  for _ in $(seq 100); do [ -s "$TMP/port" ] && break; sleep 0.05; done
  PORT=$(head -1 "$TMP/port")
  BASE="http://127.0.0.1:$PORT/v1"
}
stop_mock() {
  curl -sS "http://127.0.0.1:$PORT/__mock/report" > "$TMP/report.json"
  kill "$MOCKPID"; wait "$MOCKPID" 2>/dev/null || true; MOCKPID=
  python3 - "$TMP/report.json" "$SHA" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ok = not r["mismatches"] and r["served"] == r["expected"] and \
    r["uploads"] and r["uploads"][0]["file"]["sha256"] == sys.argv[2]
print("mock report:", "ok" if ok else r, file=sys.stderr)
sys.exit(0 if ok else 1)
PY
}
# runs a command; prints "SECONDS PEAK_RSS_KB" of the child
measure() {
  python3 - "$@" <<'PY'
import resource, subprocess, sys, time
t = time.monotonic()
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
dt = time.monotonic() - t
print("%.3f %d" % (dt, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
PY
}

# three rounds, alternating the clients; the median of each is reported
for round in 1 2 3; do
  start_mock
  measure "$BIN" upload "$BASE" "$TMP/big.jsonl" >> "$TMP/ou"
  measure "$BIN" download "$BASE" file-big "$TMP/oab_out.jsonl" >> "$TMP/od"
  stop_mock
  [ "$(sha256sum "$TMP/oab_out.jsonl" | cut -d' ' -f1)" = "$SHA" ] || { echo "oaibatch download differs" >&2; exit 1; }
  rm -f "$TMP/oab_out.jsonl"

  start_mock
  measure curl -sS -f -H "Authorization: Bearer sk-bench" \
    -F purpose=batch -F "file=@$TMP/big.jsonl" "$BASE/files" >> "$TMP/cu"
  measure curl -sS -f -H "Authorization: Bearer sk-bench" \
    -o "$TMP/curl_out.jsonl" "$BASE/files/file-big/content" >> "$TMP/cd"
  stop_mock
  [ "$(sha256sum "$TMP/curl_out.jsonl" | cut -d' ' -f1)" = "$SHA" ] || { echo "curl download differs" >&2; exit 1; }
  rm -f "$TMP/curl_out.jsonl"
done
median() { sort -n "$1" | sed -n 2p; }   # by seconds; RSS of that run
maxrss() { sort -n -k2 "$1" | tail -1 | cut -d' ' -f2; }
read -r OU_S _ < <(median "$TMP/ou"); OU_KB=$(maxrss "$TMP/ou")
read -r OD_S _ < <(median "$TMP/od"); OD_KB=$(maxrss "$TMP/od")
read -r CU_S _ < <(median "$TMP/cu"); CU_KB=$(maxrss "$TMP/cu")
read -r CD_S _ < <(median "$TMP/cd"); CD_KB=$(maxrss "$TMP/cd")

mkdir -p bench/results
python3 - "$BYTES" "$OU_S" "$OU_KB" "$OD_S" "$OD_KB" "$CU_S" "$CU_KB" "$CD_S" "$CD_KB" \
  "$(curl --version | head -1 | cut -d' ' -f1-2)" > bench/results/transfer.md <<'PY'
import sys
b = int(sys.argv[1])
v = [float(x) for x in sys.argv[2:10]]
curlv = sys.argv[10]
mb = b / 1e6
rows = [("oaibatch", "upload (oab_file_upload_path)", v[0], v[1]),
        ("oaibatch", "download (oab_file_download_path)", v[2], v[3]),
        (curlv, "upload (-F file=@...)", v[4], v[5]),
        (curlv, "download (-o)", v[6], v[7])]
print("## transfer: 300 MiB upload and download\n")
print("A %.0f MB JSONL file (%d bytes) uploaded as multipart `file` + `purpose` and "
      "downloaded again, against `tests/harness/mock_server.py` on 127.0.0.1 (Python, on the "
      "same 2-core machine: the server's speed bounds both clients). Seconds: median "
      "of 3 rounds; peak RSS: the highest of the 3 (getrusage of the client process). "
      "Every upload and download is checked by sha256. oaibatch writes the download "
      "to `path.part`, fsyncs it and renames it; curl -o does not fsync, which "
      "accounts for part of the download time difference.\n" % (mb, b))
print("| client | operation | seconds | MB/s | peak RSS (MB) | target | met |")
print("|---|---|---:|---:|---:|---|---|")
for who, op, s, kb in rows:
    ours = who == "oaibatch"
    target = "< 32 MB" if ours else "(peer)"
    met = ("yes" if kb / 1024 < 32 else "NO") if ours else ""
    print("| %s | %s | %.2f | %.0f | %.1f | %s | %s |" % (who, op, s, mb / s, kb / 1024, target, met))
PY
cat bench/results/transfer.md
