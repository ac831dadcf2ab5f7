#!/usr/bin/env python3
"""Adaptive concurrency and priority of `oaibatch serve` (issue 14).

usage: test_server_adaptive.py SERVER_BINARY CASE
CASE: window (an upstream that takes 8 at a time: no line fails, the window
comes down), latency (an upstream whose answers slow down past 8 in flight,
no 429s: the window stays near 8), ramp (slow start: an upstream that
never slows down takes the window from 8 past 64 within 300 answers),
weights (two upstreams weighted 3:1 take lines about 3:1), deadline (a normal batch near its expiry runs beside a
later high one), refused (an upstream refusing connections leaves the pool),
priority (a high batch created after a big low one finishes first; an
unknown priority is refused). Reuses test_server_http.py's helpers; every
process started is stopped.
"""
import os
import re
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_server_http as h  # noqa: E402


def windows(c):
    """upstream label -> oaibatch_upstream_concurrency_limit."""
    st, _, data = c.req("GET", "/metrics", raw=True)
    h.check(st == 200, "GET /metrics %s" % st)
    out = {}
    for m in re.finditer(r'^oaibatch_upstream_concurrency_limit\{upstream="'
                         r'([^"]*)"\} (\S+)$', data.decode(), re.M):
        out[m.group(1)] = float(m.group(2))
    return out


def run_clean(binary, tmp, upstreams, args, n, what):
    """A server on upstreams (ports) runs an n-line batch; checks that
    every line completed and none failed; returns (client, batch). An
    upstream may be (port, [flags after its --upstream])."""
    argv = []
    for up in upstreams:
        port, more = up if isinstance(up, tuple) else (up, [])
        argv += ["--upstream", "http://127.0.0.1:%d/v1" % port] + more
    s = h.start_server(binary, tmp, os.path.join(tmp, "data"), argv + args)
    c = h.Client(s.port)
    st, f = c.upload(h.chat_lines(n))
    st, b = c.create(f["id"])
    done = c.wait(b["id"], timeout=120)
    rc = done["request_counts"]
    h.check(done["status"] == "completed" and rc["completed"] == n and
            rc["failed"] == 0, "%s: %s" % (what, rc))
    return s, c, done


def case_window(binary, tmp):
    n = 400
    up = h.start_upstream(tmp, ["--max-inflight", "8", "--delay-ms", "20"])
    s, c, done = run_clean(binary, tmp, [up.port],
                           ["--concurrency", "64", "--max-retries", "2",
                            "--retry-base-ms", "20",
                            # the 429 rule alone (latency: case_latency)
                            "--latency-tolerance", "0"], n,
                           "400 lines, none failed")
    st, cnt = h.Client(up.port).req("GET", "/count")
    # the window went past 8 (AIMD probes), met 429s, and came back down
    h.check(cnt["rejected"] > 0, "the upstream answered 429s %s" % cnt["rejected"])
    h.check(cnt["max_inflight"] <= 8, "upstream never over 8")
    w = windows(c)
    h.check(len(w) == 1, "one upstream in the gauge %s" % w)
    # without the decrease 400 successes grow 8 to sqrt(64 + 2 x 400),
    # about 29 (each adds 1/window); halvings keep it near 8 (the last
    # lines of the batch, with nothing queued behind them, push it up a
    # little: 17 seen under ASan)
    h.check(all(1 <= v <= 24 for v in w.values()),
            "window came down below the cap (64): %s" % w)
    out = c.lines(done["output_file_id"])
    h.check(sorted(x["custom_id"] for x in out) ==
            sorted("r%d" % i for i in range(n)), "every line once")


def case_latency(binary, tmp):
    # a latency knee without 429s: past 8 in flight the answers only get
    # slower (40 ms x in flight / 8), so more in flight buys nothing.
    # Without the latency rule the window grows from 8 to about
    # sqrt(64 + 2 x 1200) = 50 (each answer adds 1/window; 42 at once
    # seen with --latency-tolerance 0); with it the window is cut whenever
    # the smoothed latency passes 2 x its baseline, so it stays near the
    # knee (8 to about 16)
    n = 1200
    up = h.start_upstream(tmp, ["--knee", "8", "--delay-ms", "40"])
    s = h.start_server(binary, tmp, os.path.join(tmp, "data"),
                       ["--upstream", "http://127.0.0.1:%d/v1" % up.port,
                        "--concurrency", "128", "--retry-base-ms", "20",
                        "--quiet"])
    c = h.Client(s.port)
    st, f = c.upload(h.chat_lines(n))
    st, b = c.create(f["id"])
    seen = []  # the window while lines are queued behind it
    for _ in range(6000):
        st, cur = c.req("GET", "/v1/batches/" + b["id"])
        if cur["status"] in ("completed", "failed", "expired", "cancelled"):
            break
        rc = cur["request_counts"]
        if cur["status"] == "in_progress" and n // 4 < rc["completed"] < n - 64:
            seen += list(windows(c).values())
        time.sleep(0.1)
    rc = cur["request_counts"]
    h.check(cur["status"] == "completed" and rc["completed"] == n and
            rc["failed"] == 0, "1200 lines, none failed: %s" % rc)
    st, cnt = h.Client(up.port).req("GET", "/count")
    h.check(cnt["rejected"] == 0 and cnt["calls"] == n,
            "no 429, one call per line %s" % cnt)
    seen.sort()
    h.check(len(seen) >= 5, "window sampled while running: %s" % seen)
    h.check(seen and 2 <= seen[len(seen) // 2] <= 24,
            "window settled near the knee (8), not the cap (128): median"
            " %s of %s" % (seen[len(seen) // 2] if seen else None, seen))
    # slow start (x1.5 per round trip from 8) ends at the first answer
    # slower than 2 x the first answers' mean: sent at about 17 in flight,
    # answered while the window grew to about 26
    print("latency: at most %d in flight at the upstream, window median %s"
          % (cnt["max_inflight"], seen[len(seen) // 2] if seen else None))
    h.check(cnt["max_inflight"] <= 32,
            "the upstream never saw far past its knee: %d at once"
            % cnt["max_inflight"])


def case_ramp(binary, tmp):
    # slow start: on an upstream that never slows down nor refuses, each
    # answer adds 0.5 to the window until its first cut (x1.5 per round
    # trip), so 300 answers take it from 8 to 8 + 150; additive increase
    # alone (1/window per answer) would reach sqrt(64 + 2 x 300), about
    # 26. Asserted on counts: the window after the batch and the most in
    # flight the upstream saw (the window doubles past 48 in about 6
    # round trips, some 100 answers, while 200 lines are still queued)
    n = 300
    up = h.start_upstream(tmp, ["--delay-ms", "200"])
    s, c, done = run_clean(binary, tmp, [up.port],
                           ["--concurrency", "256", "--quiet"], n,
                           "300 lines, none failed")
    st, cnt = h.Client(up.port).req("GET", "/count")
    w = windows(c)
    print("ramp: window %s after %d answers, at most %d in flight"
          % (w, cnt["calls"], cnt["max_inflight"]))
    h.check(cnt["rejected"] == 0 and cnt["calls"] == n,
            "no 429, one call per line %s" % cnt)
    h.check(len(w) == 1 and all(v >= 64 for v in w.values()),
            "the window grew past 64 within 300 answers (additive increase:"
            " about 26): %s" % w)
    h.check(cnt["max_inflight"] >= 48,
            "the upstream saw 48 at once within 300 lines (additive"
            " increase: about 26): %d" % cnt["max_inflight"])


def case_fast(binary, tmp):
    # an upstream that answers in about a millisecond (a second server on
    # the built-in model) keeps its window: a round trip that doubles from
    # 1 ms to 2 ms is noise, not a queue (SRV_LAT_MIN_RISE), and before
    # that rule each such cut lowered the round trip and so the baseline,
    # which ratcheted the window down (4 to 26 at the end of 5,000 lines
    # in 17 runs, against 64 now in a Release build). Asserted on the
    # window after the batch, with room for a sanitizer build, whose
    # upstream really does slow down with 64 in flight (22 and 31 seen;
    # the bound still fails most runs without the rule).
    n = 5000
    up = h.start_server(binary, tmp, os.path.join(tmp, "up"),
                        ["--upstream", "builtin:test", "--quiet"])
    s, c, done = run_clean(binary, tmp, [up.port],
                           ["--concurrency", "64", "--quiet"], n,
                           "5000 lines, none failed")
    w = windows(c)
    print("fast: window %s after %d lines" % (w, n))
    h.check(len(w) == 1 and all(v >= 16 for v in w.values()),
            "the window of a fast upstream stays up (>= 16 of 64): %s" % w)


def case_refused(binary, tmp):
    n = 100
    up = h.start_upstream(tmp, ["--delay-ms", "5"])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    dead = sock.getsockname()[1]
    sock.close()  # nothing listens there: connections are refused
    s, c, done = run_clean(binary, tmp, [dead, up.port],
                           ["--concurrency", "8", "--retry-base-ms", "20"],
                           n, "completed on the other upstream")
    st, cnt = h.Client(up.port).req("GET", "/count")
    h.check(cnt["calls"] == n, "the live upstream answered every line %s"
            % cnt["calls"])
    s.kill()
    with open(os.path.join(tmp, "server.log")) as fh:
        log = fh.read()
    h.check("out of the pool" in log, "the dead upstream was taken out")


def case_priority(binary, tmp):
    up = h.start_upstream(tmp, ["--delay-ms", "30"])
    s = h.start_server(binary, tmp, os.path.join(tmp, "data"),
                       ["--upstream", "http://127.0.0.1:%d/v1" % up.port,
                        "--concurrency", "2"])
    c = h.Client(s.port)
    st, f = c.upload(h.chat_lines(3))
    for bad in ("urgent", "HIGH", ""):
        st, e = c.create(f["id"], metadata={"priority": bad})
        h.check(st == 400 and e["error"]["param"] == "metadata.priority",
                "priority %r refused: %s %s" % (bad, st, e))
    st, lo = c.upload(h.chat_lines(300, prefix="lo"))
    st, hi = c.upload(h.chat_lines(80, prefix="hi"))
    st, blo = c.create(lo["id"], metadata={"priority": "low"})
    h.check(st == 200, "low batch created %s" % st)
    # the low batch is running before the high one arrives
    c.wait(blo["id"], until=("in_progress",))
    st, bhi = c.create(hi["id"], metadata={"priority": "high"})
    h.check(st == 200, "high batch created %s" % st)
    c.wait(bhi["id"], until=("in_progress", "completed"))
    st, before = c.req("GET", "/v1/batches/" + blo["id"])
    c0 = before["request_counts"]["completed"]
    dhi = c.wait(bhi["id"], timeout=120)
    st, now_lo = c.req("GET", "/v1/batches/" + blo["id"])
    h.check(dhi["status"] == "completed", "high completed")
    # round robin would have run about 80 low lines beside the 80 high
    # ones; by priority only those in flight (2) and those started before
    # the engine's next scan picks the new batch up (a scan: 0.2 s)
    h.check(now_lo["status"] != "completed" and
            now_lo["request_counts"]["completed"] <= c0 + 30,
            "low waited while high ran: %d then %s" %
            (c0, now_lo["request_counts"]))
    dlo = c.wait(blo["id"], timeout=120)
    h.check(dlo["status"] == "completed" and
            dlo["completed_at"] >= dhi["completed_at"], "low finished after")


def case_weights(binary, tmp):
    # two equal upstreams weighted 3:1 (--concurrency 12: caps 12 and 4;
    # picks 3 of 4 to the first while both have room)
    n = 600
    ua = h.start_upstream(tmp, ["--delay-ms", "10"], name="up-a")
    ub = h.start_upstream(tmp, ["--delay-ms", "10"], name="up-b")
    # (--latency-tolerance 0: the test upstreams are Python on a busy
    # machine, whose round trips rise with the 12 in flight; a latency cut
    # of the heavy one's window would be the window's doing, not the
    # weights')
    run_clean(binary, tmp, [(ua.port, ["--upstream-weight", "3"]), ub.port],
              ["--concurrency", "12", "--latency-tolerance", "0", "--quiet"],
              n, "600 lines, none failed")
    st, ca = h.Client(ua.port).req("GET", "/count")
    st, cb = h.Client(ub.port).req("GET", "/count")
    h.check(ca["calls"] + cb["calls"] == n, "one call per line %s + %s"
            % (ca["calls"], cb["calls"]))
    ratio = ca["calls"] / float(max(1, cb["calls"]))
    # equal weights give about 1:1; 3:1 is asked for; a generous bound
    h.check(2.0 <= ratio <= 5.0, "lines split about 3:1: %d and %d (%.2f)"
            % (ca["calls"], cb["calls"], ratio))
    h.check(cb["calls"] > 0, "the light upstream still took lines")
    # the option's checks
    for bad in (["--upstream-weight", "2"],
                ["--upstream", "http://127.0.0.1:1/v1", "--upstream-weight",
                 "0"]):
        r = subprocess.run([binary, "--port", "0", "--data",
                            os.path.join(tmp, "d2")] + bad,
                           capture_output=True, timeout=30)
        h.check(r.returncode == 2 and b"--upstream-weight" in r.stderr,
                "%s refused: %s %r" % (bad, r.returncode, r.stderr))


def case_deadline(binary, tmp):
    # a normal batch near its expiry runs beside a later high one: with a
    # 20 s completion window it runs as high from 2 s before its expiry
    # (SRV_DEADLINE_SHARE), so while the high batch still runs, the normal
    # one gets lines again (without the promotion it would get none until
    # the high one ends: priority orders new lines)
    up = h.start_upstream(tmp, ["--delay-ms", "50"])
    s = h.start_server(binary, tmp, os.path.join(tmp, "data"),
                       ["--upstream", "http://127.0.0.1:%d/v1" % up.port,
                        "--concurrency", "2", "--window-seconds", "20",
                        "--latency-tolerance", "0", "--quiet"])
    c = h.Client(s.port)
    st, fn = c.upload(h.chat_lines(2000, prefix="n"))
    st, fh = c.upload(h.chat_lines(3000, prefix="h"))
    st, bn = c.create(fn["id"])
    h.check(st == 200, "normal batch created %s" % st)
    c.wait(bn["id"], until=("in_progress",))
    time.sleep(2.0)  # the high batch expires 2 s after the normal one
    st, bh = c.create(fh["id"], metadata={"priority": "high"})
    h.check(st == 200, "high batch created %s" % st)
    c.wait(bh["id"], until=("in_progress",))
    time.sleep(1.0)  # lines of the normal batch in flight finish
    st, cur = c.req("GET", "/v1/batches/" + bn["id"])
    n0 = cur["request_counts"]["completed"]
    last = n0  # the normal batch's count while the high one runs
    for _ in range(600):
        st, nb = c.req("GET", "/v1/batches/" + bn["id"])
        st, hb = c.req("GET", "/v1/batches/" + bh["id"])
        if nb["status"] != "in_progress" or hb["status"] != "in_progress":
            break
        last = nb["request_counts"]["completed"]
        time.sleep(0.1)
    h.check(hb["status"] == "in_progress",
            "the high batch still ran when the normal one expired: %s"
            % hb["status"])
    done = c.wait(bn["id"], timeout=60)
    h.check(done["status"] == "expired", "normal batch expired (window 20 s)"
            " with lines unrun: %s" % done["status"])
    # 2 s at high beside the high batch: about 20 of 40 lines/s
    h.check(last - n0 >= 8, "the normal batch ran beside the high one near"
            " its expiry: %d then %d" % (n0, last))
    c.req("POST", "/v1/batches/%s/cancel" % bh["id"])
    c.wait(bh["id"], timeout=60)


CASES = {"window": case_window, "latency": case_latency,
         "ramp": case_ramp, "fast": case_fast,
         "weights": case_weights, "deadline": case_deadline,
         "refused": case_refused,
         "priority": case_priority}

if __name__ == "__main__":
    sys.exit(h.main(CASES, "server_adaptive"))
