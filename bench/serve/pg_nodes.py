#!/usr/bin/env python3
"""bench/serve/pg_nodes.py: lines a second of one batch run by `oaibatch
serve` against an instant upstream (a second oaibatch-server in
builtin:test mode), with the state in SQLite (one node) and in PostgreSQL
with 1, 2 and 3 nodes sharing it (issue 15). Each row: a fresh cluster
(tests/harness/pg.py: a throwaway one on a Unix socket) and fresh data
folders; the file is uploaded through node 1, the batch created there and
polled there; lines/s is batch create to `completed`, wall clock.

  pg_nodes.py SERVER_BINARY PG_BINDIR [LINES (50000)] [CONCURRENCY (64)]

Prints a Markdown table. OAB_BENCH_ROWS=pg1,pg3 (of sqlite, pg1, pg2,
pg3) runs only those rows; OAB_BENCH_LATENCY_MS=N gives the upstream N ms
a request (an upstream that is the slow part, as a model server is:
nodes then add capacity as long as the cores have some left).
"""
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "harness"))
import pg  # noqa: E402


def wait_port(path, proc):
    for _ in range(1200):
        if os.path.exists(path) and open(path).read().strip():
            return int(open(path).read())
        if proc.poll() is not None:
            raise RuntimeError("server exited")
        time.sleep(0.025)
    raise RuntimeError("server did not start")


def start(binary, tmp, name, args, env):
    pf = os.path.join(tmp, name + ".port")
    if os.path.exists(pf):
        os.unlink(pf)
    log = open(os.path.join(tmp, name + ".log"), "w")
    p = subprocess.Popen([binary, "--port", "0", "--port-file", pf,
                          "--quiet", "--data", os.path.join(tmp, name)]
                         + args, stdout=log, stderr=log, env=env)
    return p, wait_port(pf, p)


def req(port, method, url, body=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    c.request(method, url, body=body, headers=headers or {})
    r = c.getresponse()
    d = r.read()
    c.close()
    return json.loads(d)


def lines(n):
    out = []
    for i in range(n):
        out.append(json.dumps({
            "custom_id": "req-%d" % i, "method": "POST",
            "url": "/v1/chat/completions",
            "body": {"model": "gpt-4o-mini", "max_tokens": 64, "messages": [
                {"role": "system", "content": "You are terse."},
                {"role": "user", "content": "Summarize item %d of the"
                 " catalogue in one line." % i}]}}))
    return ("\n".join(out) + "\n").encode()


def cpu_ticks():
    """(busy, all) clock ticks of every core so far, from /proc/stat."""
    f = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    idle = f[3] + f[4]  # idle, iowait
    return sum(f[:8]) - idle, sum(f[:8])


def run(binary, tmp, up, data, nodes, url, conc):
    env = dict(os.environ)
    env.pop("OAB_DB", None)
    args = ["--upstream", "http://127.0.0.1:%d/v1" % up,
            "--concurrency", str(conc)]
    if url:
        args += ["--db", url]
    procs = []
    try:
        ports = []
        for i in range(nodes):
            p, port = start(binary, tmp, "node%d" % i, args, env)
            procs.append(p)
            ports.append(port)
        b = uuid.uuid4().hex
        body = (("--%s\r\nContent-Disposition: form-data; name=\"purpose\""
                 "\r\n\r\nbatch\r\n--%s\r\nContent-Disposition: form-data;"
                 " name=\"file\"; filename=\"in.jsonl\"\r\n\r\n") % (b, b)
                ).encode() + data + ("\r\n--%s--\r\n" % b).encode()
        f = req(ports[0], "POST", "/v1/files", body,
                {"Content-Type": "multipart/form-data; boundary=" + b})
        t0 = time.time()
        c0 = cpu_ticks()
        bt = req(ports[0], "POST", "/v1/batches", json.dumps({
            "input_file_id": f["id"], "endpoint": "/v1/chat/completions",
            "completion_window": "24h"}),
            {"Content-Type": "application/json"})
        while True:
            g = req(ports[0], "GET", "/v1/batches/" + bt["id"])
            if g["status"] in ("completed", "failed", "expired", "cancelled"):
                break
            time.sleep(0.05)
        secs = time.time() - t0
        c1 = cpu_ticks()
        # the machine's cores busy over the batch (every process: nodes,
        # PostgreSQL, the upstream, this script), and that CPU time per
        # line: what shows whether more nodes could have gone faster
        busy = (c1[0] - c0[0]) / max(1, c1[1] - c0[1])
        cpu_us = (c1[0] - c0[0]) / os.sysconf("SC_CLK_TCK") * 1e6
        return (g["status"], g["request_counts"]["completed"], secs, busy,
                cpu_us / max(1, g["request_counts"]["completed"]))
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait()
        for i in range(nodes):
            shutil.rmtree(os.path.join(tmp, "node%d" % i), ignore_errors=True)


def main():
    binary, bindir = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 50000
    conc = int(sys.argv[4]) if len(sys.argv) > 4 else 64
    tmp = tempfile.mkdtemp(prefix="oab-bench-pg-")
    up_p = None
    try:
        env = dict(os.environ)
        env.pop("OAB_DB", None)
        # every node keeps up to --concurrency connections to the one
        # upstream, all from 127.0.0.1: past its --max-conns-per-ip (128)
        # the upstream refused them, which took it out of the 3rd node's
        # pool and left a claim of lines waiting (3 nodes x 64 took 61 s)
        lat = os.environ.get("OAB_BENCH_LATENCY_MS")
        up_p, up = start(binary, tmp, "upstream",
                         ["--max-conns-per-ip", "1024"]
                         + (["--latency-ms", lat] if lat else []), env)
        data = lines(n)
        rows = []
        configs = [("SQLite", 1), ("PostgreSQL", 1), ("PostgreSQL", 2),
                   ("PostgreSQL", 3)]
        # OAB_BENCH_ROWS=pg3,pg3 (sqlite, pg1, pg2, pg3): only those rows
        want = os.environ.get("OAB_BENCH_ROWS")
        if want:
            named = {"sqlite": configs[0], "pg1": configs[1],
                     "pg2": configs[2], "pg3": configs[3]}
            configs = [named[w] for w in want.split(",")]
        for kind, nodes in configs:
            if kind == "SQLite":
                r = run(binary, tmp, up, data, 1, None, conc)
            else:
                with pg.Cluster(bindir) as cl:
                    r = run(binary, tmp, up, data, nodes, cl.url, conc)
            rows.append((kind, nodes) + r)
            print("%s x%d: %s %d lines in %.2f s, cores %.0f%% busy,"
                  " %.0f us CPU a line" % ((kind, nodes) + r[:3]
                                           + (r[3] * 100, r[4])),
                  file=sys.stderr)
        print("| state | nodes | status | lines ok | seconds | lines/s"
              " | cores busy | CPU us a line |")
        print("|---|---:|---|---:|---:|---:|---:|---:|")
        for kind, nodes, st, done, secs, busy, us in rows:
            print("| %s | %d | %s | %d | %.2f | %.0f | %.0f%% | %.0f |"
                  % (kind, nodes, st, done, secs, done / secs, busy * 100,
                     us))
    finally:
        if up_p:
            up_p.send_signal(signal.SIGTERM)
            up_p.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
