#!/usr/bin/env python3
"""Adaptive concurrency against fixed windows and a Node SDK script
(issue 14).

usage: adaptive.py SERVER_BINARY [--lines N] [--knee K[,K2...]]
                   [--queue Q[,Q2...]] [--delay-ms D] [--node N]
                   [--max-seconds T]

The simulated model servers are the test harness upstream
(tests/harness/server_upstream.py), one per knee: --knee K (a request
takes D ms x max(1, in flight / K): throughput grows up to K in flight,
then stays flat) and --max-inflight Q (past Q in flight it answers 429
with Retry-After). With several knees the server gets them all as one
pool (--upstream repeated). Each run gets fresh upstreams and server: the
adaptive default (--concurrency 256, windows from 8), then
--fixed-concurrency with --concurrency 16, 64 and 256 (per upstream), and
with --node N the same lines sent to the same upstreams by
bench/serve/node_peer.mjs (the official openai package, N requests in
flight in all, workers spread round robin over the upstreams, the SDK's
own retries: maxRetries 5). A run still going after T seconds is cut
there (the batch cancelled) and its rate is lines done / T. Prints a
Markdown table: lines/s (batch create to its end, wall clock), the
upstreams' 429s, failed lines, most in flight per upstream. Every process
started is stopped; the work folder is removed.
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "server"))
import test_server_http as h  # noqa: E402


def start_ups(tmp, name, a):
    ups = []
    for i, (k, q) in enumerate(zip(a.knees, a.queues)):
        ups.append(h.start_upstream(
            tmp, ["--knee", str(k), "--max-inflight", str(q),
                  "--delay-ms", str(a.delay_ms)],
            name="up-%s-%d" % (name.replace(" ", "_"), i)))
    return ups


def up_counts(ups):
    out = []
    for up in ups:
        st, cnt = h.Client(up.port).req("GET", "/count")
        out.append(cnt)
    return out


def row(name, lines, dt, cut, counts, failed):
    return (name + (" (cut at %.0f s)" % dt if cut else ""), lines / dt,
            sum(c["rejected"] for c in counts), failed,
            " + ".join(str(c["max_inflight"]) for c in counts))


def run(binary, tmp, name, server_args, a):
    ups = start_ups(tmp, name, a)
    argv = []
    for up in ups:
        argv += ["--upstream", "http://127.0.0.1:%d/v1" % up.port]
    s = h.start_server(binary, tmp, os.path.join(tmp, "data-" + name),
                       argv + ["--quiet", "--retry-base-ms", "100"] +
                       server_args, name="srv-" + name.replace(" ", "_"))
    try:
        c = h.Client(s.port)
        st, f = c.upload(h.chat_lines(a.lines))
        t0 = time.time()
        st, b = c.create(f["id"])
        cut = False
        while True:
            st, cur = c.req("GET", "/v1/batches/" + b["id"])
            if cur["status"] in ("completed", "failed", "expired",
                                 "cancelled"):
                break
            if not cut and time.time() - t0 > a.max_seconds:
                cut = True
                dt = time.time() - t0
                done_lines = cur["request_counts"]["completed"]
                c.req("POST", "/v1/batches/%s/cancel" % b["id"])
            time.sleep(0.2)
        if not cut:
            dt = time.time() - t0
            done_lines = cur["request_counts"]["completed"]
        counts = up_counts(ups)
        failed = 0 if cut else cur["request_counts"]["failed"]
        return row(name, done_lines, dt, cut, counts, failed)
    finally:
        s.kill(signal.SIGTERM)
        for up in ups:
            up.kill(signal.SIGTERM)


def run_node(tmp, n, a):
    name = "Node openai SDK, %d in flight" % n
    ups = start_ups(tmp, "node", a)
    try:
        inp = os.path.join(tmp, "node-in.jsonl")
        with open(inp, "wb") as fh:
            fh.write(h.chat_lines(a.lines))
        urls = ",".join("http://127.0.0.1:%d/v1" % up.port for up in ups)
        t0 = time.time()
        r = subprocess.run(["node", os.path.join(HERE, "node_peer.mjs"), urls,
                            inp, os.path.join(tmp, "node-out.jsonl"),
                            str(n)], capture_output=True,
                           timeout=a.max_seconds * 4 + 60)
        dt = time.time() - t0
        if r.returncode != 0:
            raise RuntimeError("node: %s" % r.stderr.decode()[-2000:])
        res = json.loads(r.stdout.decode().strip().splitlines()[-1])
        return row(name, res["ok"], dt, False, up_counts(ups), res["failed"])
    finally:
        for up in ups:
            up.kill(signal.SIGTERM)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--lines", type=int, default=4000)
    ap.add_argument("--knee", default="24")
    ap.add_argument("--queue", default="48")
    ap.add_argument("--delay-ms", type=int, default=50)
    ap.add_argument("--node", type=int, default=0)
    ap.add_argument("--max-seconds", type=float, default=1e9)
    ap.add_argument("--fixed", default="16,64,256")
    a = ap.parse_args()
    a.knees = [int(x) for x in a.knee.split(",")]
    a.queues = [int(x) for x in a.queue.split(",")]
    if len(a.knees) != len(a.queues):
        ap.error("as many --queue values as --knee values")
    tmp = tempfile.mkdtemp(prefix="oab-bench-adaptive-")
    rows = []
    try:
        rows.append(run(a.binary, tmp, "adaptive (cap 256)", [], a))
        for n in [int(x) for x in a.fixed.split(",") if x]:
            rows.append(run(a.binary, tmp, "fixed %d" % n,
                            ["--fixed-concurrency", "--concurrency", str(n)],
                            a))
        if a.node:
            rows.append(run_node(tmp, a.node, a))
    finally:
        for p in h.PROCS:
            p.kill(signal.SIGTERM)
        shutil.rmtree(tmp, ignore_errors=True)
    print("knees %s, queue limits %s, %d ms per request below the knee, "
          "%d lines\n" % (a.knee, a.queue, a.delay_ms, a.lines))
    print("| setting | lines/s | 429s | failed lines | most in flight |")
    print("|---|---|---|---|---|")
    for r in rows:
        print("| %s | %.0f | %d | %d | %s |" % r)
    return 0


if __name__ == "__main__":
    sys.exit(main())
