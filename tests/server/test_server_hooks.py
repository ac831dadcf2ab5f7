#!/usr/bin/env python3
"""Webhooks and metrics of `oaibatch serve` (issue 14), against the
server on 127.0.0.1.

usage: server_hooks_test.py SERVER_BINARY CASE
CASE: webhook_events, webhook_retry, webhook_restart, webhook_give_up,
      metrics, metrics_auth.
Every webhook received is verified twice: by the official openai npm
package (client.webhooks.unwrap, tests/server/node/verify_webhooks.mjs, node from
$OAB_NODE) and by an HMAC-SHA256 computed here. The receiver is a thread
of this process; every server started is stopped at the end.
"""
import base64
import hashlib
import hmac
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import test_server_http as T  # noqa: E402
from test_server_http import check, chat_lines, start_server, start_upstream, \
    Client  # noqa: E402

SECRET_BYTES = b"oaibatch-test-webhook-key-32byte"
SECRET = "whsec_" + base64.b64encode(SECRET_BYTES).decode()
SLOW = T.SLOW


class Receiver:
    """A webhook receiver on 127.0.0.1: records every request; answers
    the statuses in `script` in turn, then 200, each after `delay`
    seconds."""

    def __init__(self, port=0, script=(), delay=0):
        self.got = []
        self.script = list(script)
        self.lock = threading.Lock()
        rec = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n).decode()
                if delay:
                    time.sleep(delay)
                with rec.lock:
                    status = rec.script.pop(0) if rec.script else 200
                    rec.got.append({"headers": {k.lower(): v for k, v in
                                                self.headers.items()},
                                    "body": body, "status": status})
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), H)
        self.port = self.httpd.server_address[1]
        self.t = threading.Thread(target=self.httpd.serve_forever,
                                  daemon=True)
        self.t.start()

    def url(self):
        return "http://127.0.0.1:%d/hook?token=not-logged" % self.port

    def delivered(self):
        with self.lock:
            return [g for g in self.got if 200 <= g["status"] < 300]

    def wait(self, n, timeout=30):
        t = time.time()
        while time.time() - t < timeout * SLOW:
            if len(self.delivered()) >= n:
                return self.delivered()
            time.sleep(0.05)
        return self.delivered()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def py_verify(g):
    """An independent Standard Webhooks check: HMAC-SHA256 keyed with the
    base64-decoded secret over id.timestamp.body, base64, after v1,."""
    h = g["headers"]
    msg = "%s.%s.%s" % (h["webhook-id"], h["webhook-timestamp"], g["body"])
    want = base64.b64encode(hmac.new(SECRET_BYTES, msg.encode(),
                                     hashlib.sha256).digest()).decode()
    sigs = [p[3:] for p in h["webhook-signature"].split(" ")
            if p.startswith("v1,")]
    return any(hmac.compare_digest(want, s) for s in sigs)


def sdk_verify(tmp, got):
    """Runs the openai package's webhooks.unwrap over every event."""
    node = os.environ.get("OAB_NODE") or "node"
    path = os.path.join(tmp, "events.json")
    with open(path, "w") as f:
        json.dump([{"headers": g["headers"], "body": g["body"]}
                   for g in got], f)
    env = dict(os.environ, OAB_WEBHOOK_SECRET=SECRET)
    r = subprocess.run([node, os.path.join(HERE, "..", "harness", "node",
                                           "verify_webhooks.mjs"), path],
                       capture_output=True, text=True, env=env, timeout=120)
    check(r.returncode == 0, "node verifier ran: %s" % r.stderr[-500:])
    try:
        return json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        check(False, "node verifier output: %r" % r.stdout[-500:])
        return []


def verify_all(tmp, got):
    """Both checks on every delivered event; returns the parsed events."""
    res = sdk_verify(tmp, got)
    check(len(res) == len(got), "one SDK verdict per event")
    for g, r in zip(got, res):
        check(r.get("ok") is True, "openai webhooks.unwrap accepts: %s" % r)
        check(r.get("tamperedRefused") is True,
              "openai webhooks.unwrap refuses a tampered body")
        check(py_verify(g), "python HMAC check accepts %s" % g["body"])
        ts = int(g["headers"]["webhook-timestamp"])
        check(abs(ts - time.time()) < 300, "timestamp is now")
    return [json.loads(g["body"]) for g in got]


def server_log(tmp, name="server"):
    with open(os.path.join(tmp, name + ".log"), errors="replace") as f:
        return f.read()


def wait_log(tmp, pattern, timeout=30, name="server"):
    t = time.time()
    while time.time() - t < timeout * SLOW:
        if re.search(pattern, server_log(tmp, name)):
            return True
        time.sleep(0.05)
    return False


def run_batch(c, data, **kw):
    st, f = c.upload(data)
    check(st == 200, "upload %s" % st)
    st, b = c.create(f["id"], **kw)
    check(st == 200, "create %s %s" % (st, b))
    return b


def case_webhook_events(binary, tmp):
    """completed, cancelled and failed batches each send one event of
    OpenAI's shape, accepted by the openai package; the secret (given by
    the environment here) and the URL's query never reach the log."""
    rcv = Receiver()
    os.environ["OAB_WEBHOOK_SECRET"] = SECRET
    try:
        s = start_server(binary, tmp, os.path.join(tmp, "data"),
                         ["--webhook-url", rcv.url(), "--latency-ms", "300",
                          "--concurrency", "1"])
    finally:
        del os.environ["OAB_WEBHOOK_SECRET"]
    c = Client(s.port)
    done = run_batch(c, chat_lines(2, "ok"))
    slow = run_batch(c, chat_lines(40, "slow"))
    bad = run_batch(c, b"{not json\n")
    check(c.wait(done["id"])["status"] == "completed", "completed")
    check(c.wait(bad["id"])["status"] == "failed", "failed")
    st, _ = c.req("POST", "/v1/batches/%s/cancel" % slow["id"])
    check(st == 200, "cancel %s" % st)
    check(c.wait(slow["id"])["status"] == "cancelled", "cancelled")
    got = rcv.wait(3)
    check(len(got) == 3, "three events: %d" % len(got))
    evs = verify_all(tmp, got)
    by_batch = {e["data"]["id"]: e for e in evs}
    check(by_batch.get(done["id"], {}).get("type") == "batch.completed",
          "batch.completed for %s" % done["id"])
    check(by_batch.get(slow["id"], {}).get("type") == "batch.cancelled",
          "batch.cancelled for %s" % slow["id"])
    check(by_batch.get(bad["id"], {}).get("type") == "batch.failed",
          "batch.failed for %s" % bad["id"])
    for e in evs:
        check(e["object"] == "event" and e["id"].startswith("evt_") and
              isinstance(e["created_at"], int) and
              abs(e["created_at"] - time.time()) < 300 and
              set(e) == {"object", "id", "type", "created_at", "data"},
              "event shape %s" % e)
    check(len({e["id"] for e in evs}) == 3, "event ids differ")
    check(all(g["headers"]["webhook-id"].startswith("wh_") for g in got),
          "webhook-id header")
    time.sleep(0.5 * SLOW)
    check(len(rcv.got) == 3, "no event sent twice: %d" % len(rcv.got))
    s.kill()
    log = server_log(tmp)
    secret_b64 = SECRET[6:]
    check(secret_b64 not in log and "not-logged" not in log,
          "neither the secret nor the URL's query in the log")
    check(log.count(": delivered (HTTP 200") == 3, "three delivered lines")
    rcv.stop()


def case_webhook_expired(binary, tmp):
    """A batch whose window closes with lines unrun sends batch.expired."""
    rcv = Receiver()
    s = start_server(binary, tmp, os.path.join(tmp, "data"),
                     ["--webhook-url", rcv.url(), "--webhook-secret", SECRET,
                      "--window-seconds", "2", "--latency-ms", "400",
                      "--concurrency", "1"])
    c = Client(s.port)
    b = run_batch(c, chat_lines(40))
    check(c.wait(b["id"], timeout=60)["status"] == "expired", "expired")
    got = rcv.wait(1)
    check(len(got) == 1, "one event: %d" % len(got))
    evs = verify_all(tmp, got)
    check(evs and evs[0]["type"] == "batch.expired" and
          evs[0]["data"]["id"] == b["id"], "batch.expired: %s" % evs)
    s.kill()
    rcv.stop()


def case_webhook_retry(binary, tmp):
    """A receiver that answers 500 twice, then 200: the same message
    (webhook-id) is sent three times, acknowledged once; the metrics
    count 2 failed attempts and 1 delivery."""
    rcv = Receiver(script=[500, 500])
    s = start_server(binary, tmp, os.path.join(tmp, "data"),
                     ["--webhook-url", rcv.url(), "--webhook-secret", SECRET])
    c = Client(s.port)
    b = run_batch(c, chat_lines(3))
    check(c.wait(b["id"])["status"] == "completed", "completed")
    got = rcv.wait(1, timeout=30)
    check(len(got) == 1, "delivered once")
    check(len(rcv.got) == 3, "three attempts: %d" % len(rcv.got))
    check([g["status"] for g in rcv.got] == [500, 500, 200],
          "500, 500, 200: %s" % [g["status"] for g in rcv.got])
    check(len({g["headers"]["webhook-id"] for g in rcv.got}) == 1,
          "one webhook-id across the retries")
    check(len({g["body"] for g in rcv.got}) == 1, "one body")
    verify_all(tmp, rcv.got)  # every attempt is signed
    st, h, text = c.req("GET", "/metrics", raw=True)
    text = text.decode()
    check('oaibatch_webhook_deliveries_total{outcome="delivered"} 1' in text,
          "metrics: 1 delivered")
    check('oaibatch_webhook_deliveries_total{outcome="failed_attempt"} 2'
          in text, "metrics: 2 failed attempts")
    check("oaibatch_webhook_pending 0" in text, "metrics: none pending")
    log = server_log(tmp)
    check(log.count("HTTP 500 on attempt") == 2, "two retry lines")
    s.kill()
    rcv.stop()


def case_webhook_restart(binary, tmp):
    """The receiver is down when the batch ends; the server is killed
    (SIGKILL) with the event undelivered; restarted with the receiver up,
    it sends the event, which the openai package accepts."""
    port = free_port()
    data = os.path.join(tmp, "data")
    url = "http://127.0.0.1:%d/hook" % port
    args = ["--webhook-url", url, "--webhook-secret", SECRET]
    s = start_server(binary, tmp, data, args)
    c = Client(s.port)
    b = run_batch(c, chat_lines(2))
    check(c.wait(b["id"])["status"] == "completed", "completed")
    check(wait_log(tmp, r"no answer on attempt 1"), "first attempt failed")
    s.kill(signal.SIGKILL)
    rcv = Receiver(port=port)
    s2 = start_server(binary, tmp, data, args, name="server2")
    got = rcv.wait(1, timeout=30)
    check(len(got) == 1, "delivered after the restart: %d" % len(got))
    check(wait_log(tmp, r"1 undelivered event from before", name="server2"),
          "restart log line")
    evs = verify_all(tmp, got)
    check(evs and evs[0]["data"]["id"] == b["id"] and
          evs[0]["type"] == "batch.completed", "the batch's event: %s" % evs)
    s2.kill()
    rcv.stop()


def case_webhook_give_up(binary, tmp):
    """With the receiver down, an event is given up after
    --webhook-give-up seconds, with a log line and a metric."""
    url = "http://127.0.0.1:%d/hook" % free_port()
    s = start_server(binary, tmp, os.path.join(tmp, "data"),
                     ["--webhook-url", url, "--webhook-secret", SECRET,
                      "--webhook-give-up", "3"])
    c = Client(s.port)
    b = run_batch(c, chat_lines(1))
    check(c.wait(b["id"])["status"] == "completed", "completed")
    check(wait_log(tmp, r"webhook evt_\w+ \(batch.completed\) to "
                        r"http://127.0.0.1:\d+/hook: given up after \d+ "
                        r"attempts in 3 s", timeout=30), "give-up line")
    st, h, text = c.req("GET", "/metrics", raw=True)
    text = text.decode()
    check('oaibatch_webhook_deliveries_total{outcome="given_up"} 1' in text,
          "metrics: 1 given up")
    check("oaibatch_webhook_pending 0" in text, "metrics: none pending")
    s.kill()


def case_webhook_config(binary, tmp):
    """A URL without a secret, or a secret that is not base64, is refused
    at start (exit non-zero, the secret not echoed)."""
    for extra in ([], ["--webhook-secret", "whsec_%%%%notbase64"]):
        r = subprocess.run([binary, "--port", "0", "--data",
                            os.path.join(tmp, "d"), "--webhook-url",
                            "http://127.0.0.1:9/x"] + extra,
                           capture_output=True, text=True, timeout=60,
                           env={k: v for k, v in os.environ.items()
                                if k != "OAB_WEBHOOK_SECRET"})
        check(r.returncode != 0, "refused: %s" % extra)
        check("notbase64" not in r.stderr, "secret not echoed")
        check("webhook" in r.stderr, "says why: %s" % r.stderr[-300:])


def metric(text, name, labels=""):
    pat = re.escape(name) + (r"\{" + re.escape(labels) + r"\}" if labels
                             else "") + r" (\S+)$"
    m = re.search(pat, text, re.M)
    return float(m.group(1)) if m else None


def case_metrics(binary, tmp):
    """After a batch of 6 lines (2 always failing upstream) the counters
    say what happened, and promtool accepts the exposition."""
    up = start_upstream(tmp, ["--always-fail", "boom"])
    base = "http://127.0.0.1:%d/v1" % up.port
    s = start_server(binary, tmp, os.path.join(tmp, "data"),
                     ["--upstream", base, "--max-retries", "1",
                      "--retry-base-ms", "10", "--concurrency", "3"])
    c = Client(s.port)
    lines = chat_lines(4, "ok") + chat_lines(2, "bad", "boom goes")
    b = run_batch(c, lines)
    b = c.wait(b["id"])
    check(b["status"] == "completed", "completed")
    check(b["request_counts"] == {"total": 6, "completed": 4, "failed": 2},
          "counts %s" % b["request_counts"])
    st, h, text = c.req("GET", "/metrics", raw=True)
    check(st == 200, "metrics %s" % st)
    check(h.get("Content-Type", "").startswith("text/plain; version=0.0.4"),
          "content type %s" % h.get("Content-Type"))
    text = text.decode()
    path = os.path.join(tmp, "metrics.txt")
    with open(path, "w") as f:
        f.write(text)
    r = subprocess.run([os.environ.get("OAB_PROMTOOL") or "promtool", "check", "metrics"], input=text,
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, "promtool check metrics: %s %s" %
          (r.stdout, r.stderr))
    ep = 'endpoint="/v1/chat/completions"'
    up_l = 'upstream="%s"' % base
    check(metric(text, "oaibatch_lines_done_total", ep) == 4, "done 4")
    check(metric(text, "oaibatch_lines_failed_total", ep) == 2, "failed 2")
    check(metric(text, "oaibatch_lines_queued", ep) == 0, "queued 0")
    check(metric(text, "oaibatch_lines_in_flight", ep) == 0, "in flight 0")
    check(metric(text, "oaibatch_batches", 'status="completed"') == 1,
          "1 completed batch")
    check(metric(text, "oaibatch_batches", 'status="failed"') == 0,
          "0 failed batches")
    check(metric(text, "oaibatch_upstream_requests_total",
                 up_l + ',code="200"') == 4, "4 upstream 200s")
    check(metric(text, "oaibatch_upstream_requests_total",
                 up_l + ',code="500"') == 4, "4 upstream 500s (2 x 2 tries)")
    check(metric(text, "oaibatch_upstream_request_duration_seconds_count",
                 up_l) == 8, "8 timed transfers")
    check(metric(text, "oaibatch_upstream_request_duration_seconds_bucket",
                 up_l + ',le="+Inf"') == 8, "+Inf bucket 8")
    check(metric(text, "oaibatch_upstream_in_flight", up_l) == 0,
          "nothing in flight")
    check(metric(text, "oaibatch_upstream_concurrency_limit", up_l) == 3,
          "cap 3")
    u = b["usage"]
    check(metric(text, "oaibatch_tokens_total", ep + ',kind="prompt"') ==
          u["input_tokens"] and u["input_tokens"] > 0,
          "prompt tokens = usage %s" % u)
    check(metric(text, "oaibatch_tokens_total", ep + ',kind="completion"') ==
          u["output_tokens"] and u["output_tokens"] > 0,
          "completion tokens = usage")
    for name in ("oaibatch_lines_done_total", "oaibatch_batches",
                 "oaibatch_upstream_request_duration_seconds"):
        check("# HELP %s " % name in text and "# TYPE %s " % name in text,
              "HELP and TYPE of %s" % name)
    s.kill()


def case_metrics_auth(binary, tmp):
    """With keys, /metrics needs one unless --metrics-public."""
    s = start_server(binary, tmp, os.path.join(tmp, "data"),
                     ["--api-key", "k1"])
    st, _ = Client(s.port).req("GET", "/metrics")
    check(st == 401, "no key: 401 (%s)" % st)
    st, h, text = Client(s.port, "k1").req("GET", "/metrics", raw=True)
    check(st == 200 and b"oaibatch_batches" in text, "with key: 200")
    s.kill()
    s = start_server(binary, tmp, os.path.join(tmp, "data2"),
                     ["--api-key", "k1", "--metrics-public"], name="s2")
    st, h, text = Client(s.port).req("GET", "/metrics", raw=True)
    check(st == 200 and b"oaibatch_batches" in text, "public: 200 (%s)" % st)
    st, _ = Client(s.port).req("GET", "/v1/batches")
    check(st == 401, "the API still needs a key (%s)" % st)
    s.kill()


CASES = {k[5:]: v for k, v in globals().items() if k.startswith("case_")}

if __name__ == "__main__":
    sys.exit(T.main(CASES, "server_hooks"))
