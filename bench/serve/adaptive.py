#!/usr/bin/env python3
"""Adaptive concurrency against fixed windows (issue 14).

usage: adaptive.py SERVER_BINARY [--lines N] [--knee K] [--queue Q]
                   [--delay-ms D]

The simulated model server is the test harness upstream
(tests/harness/server_upstream.py) with --knee K (a request takes D ms x
max(1, in flight / K): throughput grows up to K in flight, then stays flat)
and --max-inflight Q (past Q in flight it answers 429 with Retry-After).
Each run gets a fresh upstream and server: the adaptive default
(--concurrency 256, window from 8), then --fixed-concurrency with
--concurrency 16, 64 and 256. Prints a Markdown table: lines/s (batch
create to completed, wall clock), the upstream's 429s, failed lines.
Every process started is stopped; the work folder is removed.
"""
import argparse
import os
import shutil
import signal
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "server"))
import test_server_http as h  # noqa: E402


def run(binary, tmp, name, server_args, a):
    up = h.start_upstream(tmp, ["--knee", str(a.knee), "--max-inflight",
                                str(a.queue), "--delay-ms", str(a.delay_ms)],
                          name="up-" + name)
    s = h.start_server(binary, tmp, os.path.join(tmp, "data-" + name),
                       ["--upstream", "http://127.0.0.1:%d/v1" % up.port,
                        "--quiet", "--retry-base-ms", "100"] + server_args,
                       name="srv-" + name)
    try:
        c = h.Client(s.port)
        st, f = c.upload(h.chat_lines(a.lines))
        t0 = time.time()
        st, b = c.create(f["id"])
        done = c.wait(b["id"], timeout=3600)
        dt = time.time() - t0
        st, cnt = h.Client(up.port).req("GET", "/count")
        rc = done["request_counts"]
        return (name, a.lines / dt, cnt["rejected"], rc["failed"],
                cnt["max_inflight"])
    finally:
        s.kill(signal.SIGTERM)
        up.kill(signal.SIGTERM)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--lines", type=int, default=4000)
    ap.add_argument("--knee", type=int, default=24)
    ap.add_argument("--queue", type=int, default=48)
    ap.add_argument("--delay-ms", type=int, default=50)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="oab-bench-adaptive-")
    rows = []
    try:
        rows.append(run(a.binary, tmp, "adaptive (cap 256)", [], a))
        for n in (16, 64, 256):
            rows.append(run(a.binary, tmp, "fixed %d" % n,
                            ["--fixed-concurrency", "--concurrency", str(n)],
                            a))
    finally:
        for p in h.PROCS:
            p.kill(signal.SIGTERM)
        shutil.rmtree(tmp, ignore_errors=True)
    print("knee %d, queue limit %d, %d ms per request below the knee, "
          "%d lines\n" % (a.knee, a.queue, a.delay_ms, a.lines))
    print("| setting | lines/s | 429s | failed lines | most in flight |")
    print("|---|---|---|---|---|")
    for r in rows:
        print("| %s | %.0f | %d | %d | %d |" % r)
    return 0


if __name__ == "__main__":
    sys.exit(main())
