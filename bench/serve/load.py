#!/usr/bin/env python3
"""bench/serve/load.py - several clients at once against `oaibatch serve`.

Starts an instant upstream (an oaibatch-server in builtin:test mode) and
`oaibatch serve --upstream` in front of it, both on 127.0.0.1; then
CLIENTS threads each upload LINES chat lines, create a batch and poll its
status until it ends. Prints JSON: lines/s (all lines, from the first
create to the last batch done), status p50/p99 (ms, every GET of a
batch), peak RSS of the batch server (VmHWM).

usage: load.py SERVER_BINARY [CLIENTS=20] [LINES=2500] [CONCURRENCY=64]
"""
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid


def wait_port(path, proc):
    for _ in range(2000):
        if os.path.exists(path):
            s = open(path).read().strip()
            if s:
                return int(s)
        if proc.poll() is not None:
            raise RuntimeError("server exited")
        time.sleep(0.01)
    raise RuntimeError("server did not start")


def req(port, method, url, body=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    c.request(method, url, body=body, headers=headers or {})
    r = c.getresponse()
    d = r.read()
    c.close()
    return json.loads(d)


def lines(n, k):
    out = []
    for i in range(n):
        out.append(json.dumps({
            "custom_id": "c%d-%d" % (k, i), "method": "POST",
            "url": "/v1/chat/completions",
            "body": {"model": "gpt-4o-mini", "max_tokens": 64, "messages": [
                {"role": "system", "content": "You are terse."},
                {"role": "user", "content": "Summarize item %d of client %d."
                 % (i, k)}]}}))
    return ("\n".join(out) + "\n").encode()


def main():
    binary = sys.argv[1]
    clients = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 2500
    conc = sys.argv[4] if len(sys.argv) > 4 else "64"
    tmp = tempfile.mkdtemp(prefix="oab-load-")
    procs = []
    try:
        up = subprocess.Popen([binary, "--port", "0", "--data", tmp + "/up",
                               "--port-file", tmp + "/up.port", "--quiet"],
                              stderr=subprocess.DEVNULL)
        procs.append(up)
        upp = wait_port(tmp + "/up.port", up)
        srv = subprocess.Popen([binary, "--port", "0", "--data", tmp + "/b",
                                "--port-file", tmp + "/b.port", "--quiet",
                                "--upstream", "http://127.0.0.1:%d/v1" % upp,
                                "--concurrency", conc],
                               stderr=subprocess.DEVNULL)
        procs.append(srv)
        port = wait_port(tmp + "/b.port", srv)
        files = []
        for k in range(clients):
            b = uuid.uuid4().hex
            body = (("--%s\r\nContent-Disposition: form-data; name=\"purpose\""
                     "\r\n\r\nbatch\r\n--%s\r\nContent-Disposition: form-data;"
                     " name=\"file\"; filename=\"in.jsonl\"\r\n\r\n") %
                    (b, b)).encode() + lines(n, k) + \
                ("\r\n--%s--\r\n" % b).encode()
            f = req(port, "POST", "/v1/files", body,
                    {"Content-Type": "multipart/form-data; boundary=" + b})
            files.append(f["id"])
        lat = []
        lock = threading.Lock()
        done = []
        start = threading.Barrier(clients + 1)

        def client(fid):
            start.wait()
            bt = req(port, "POST", "/v1/batches", json.dumps({
                "input_file_id": fid, "endpoint": "/v1/chat/completions",
                "completion_window": "24h"}),
                {"Content-Type": "application/json"})
            mine = []
            while True:
                t = time.perf_counter()
                g = req(port, "GET", "/v1/batches/" + bt["id"])
                mine.append((time.perf_counter() - t) * 1000)
                if g["status"] in ("completed", "failed", "expired",
                                   "cancelled"):
                    break
                time.sleep(0.02)
            with lock:
                lat.extend(mine)
                done.append(g["request_counts"]["completed"])

        th = [threading.Thread(target=client, args=(f,)) for f in files]
        for t in th:
            t.start()
        start.wait()
        t0 = time.time()
        for t in th:
            t.join()
        secs = time.time() - t0
        rss = [ln.split()[1] for ln in open("/proc/%d/status" % srv.pid)
               if ln.startswith("VmHWM")][0]
        lat.sort()
        print(json.dumps({
            "clients": clients, "lines": sum(done), "seconds": round(secs, 2),
            "lines_per_s": round(sum(done) / secs),
            "status_p50_ms": round(lat[len(lat) // 2], 1),
            "status_p99_ms": round(lat[int(len(lat) * 0.99)], 1),
            "status_gets": len(lat), "peak_rss_mb": round(int(rss) / 1024, 1)}))
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
