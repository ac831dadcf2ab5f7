#!/usr/bin/env python3
"""The server's Anthropic API (issue 16) at the HTTP level, with a real
OpenAI-compatible upstream (harness/server_upstream.py) behind it.

usage: test_server_anthropic.py SERVER_BINARY CASE
CASE: restart (kill -9 mid-batch twice: every custom_id exactly once in
the results), upstream (messages and batch lines answered by the upstream,
its failures as errored results, x-api-key and error shapes), state (a
state file of the version before this API opens and gets the table),
expire (a 1 s window: expired results).
Every process started here is stopped at the end, even on failure.
"""
import json
import os
import signal
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_server_http as h  # noqa: E402  (the shared server harness)
from test_server_http import check, start_server, start_upstream, SLOW  # noqa: E402

KEY = "sk-ant-local"
MODEL = "claude-3-5-haiku-latest"


class AClient(h.Client):
    """Client with x-api-key (as Anthropic's SDKs send it)."""

    def __init__(self, port, key=KEY):
        super().__init__(port)
        self.akey = key

    def areq(self, method, path, body=None, raw=False):
        hd = {"anthropic-version": "2023-06-01"}
        if self.akey:
            hd["x-api-key"] = self.akey
        return self.req(method, path, body, hd, raw=raw)

    def batch(self, bid):
        st, b = self.areq("GET", "/v1/messages/batches/" + bid)
        if st != 200:
            raise RuntimeError("GET message batch: %s %s" % (st, b))
        return b

    def results(self, bid):
        st, hd, data = self.areq("GET", "/v1/messages/batches/%s/results" % bid, raw=True)
        check(st == 200, "results of %s: %s" % (bid, st))
        return [json.loads(x) for x in data.decode().splitlines() if x]


def params(text, **kw):
    p = {"model": MODEL, "max_tokens": 32,
         "messages": [{"role": "user", "content": text}]}
    p.update(kw)
    return p


def error_shape(st, body, status, etype, what):
    check(st == status, "%s: status %s (want %s)" % (what, st, status))
    ok = (isinstance(body, dict) and body.get("type") == "error" and
          isinstance(body.get("error"), dict) and body["error"].get("type") == etype and
          isinstance(body["error"].get("message"), str))
    check(ok, "%s: error shape %r" % (what, body))


def case_restart(binary, tmp):
    n = 1000
    up = start_upstream(tmp, ["--delay-ms", "5"])
    data = os.path.join(tmp, "data")
    args = ["--upstream", "http://127.0.0.1:%d/v1" % up.port, "--concurrency", "8",
            "--quiet", "--api-key", KEY]
    s = start_server(binary, tmp, data, args)
    c = AClient(s.port)
    reqs = [{"custom_id": "r%d" % i, "params": params("hello number r%d" % i)}
            for i in range(n)]
    reqs.append({"custom_id": "bad-1", "params": params("x", n=2)})
    st, b = c.areq("POST", "/v1/messages/batches", {"requests": reqs})
    check(st == 200 and b["id"].startswith("msgbatch_"), "create: %s" % st)
    bid = b["id"]
    for target, name in ((200, "server2"), (600, "server3")):
        t = time.time()
        while time.time() - t < 60 * SLOW:
            g = c.batch(bid)
            if g["request_counts"]["succeeded"] >= target:
                break
            time.sleep(0.02)
        s.kill(signal.SIGKILL)
        check(g["processing_status"] == "in_progress" and
              target <= g["request_counts"]["succeeded"] < n,
              "killed mid-batch at %d" % g["request_counts"]["succeeded"])
        s = start_server(binary, tmp, data, args, name=name)
        c = AClient(s.port)
    t = time.time()
    while time.time() - t < 120 * SLOW:
        g = c.batch(bid)
        if g["processing_status"] == "ended":
            break
        time.sleep(0.05)
    check(g["processing_status"] == "ended", "resumed and ended")
    check(g["request_counts"] == {"processing": 0, "succeeded": n, "errored": 1,
                                  "canceled": 0, "expired": 0},
          "counts %s" % g["request_counts"])
    res = c.results(bid)
    ids = [r["custom_id"] for r in res]
    check(len(ids) == n + 1 and set(ids) == set(["r%d" % i for i in range(n)] + ["bad-1"]),
          "exactly once per custom_id (%d lines)" % len(ids))
    kinds = {}
    for r in res:
        kinds[r["result"]["type"]] = kinds.get(r["result"]["type"], 0) + 1
    check(kinds == {"succeeded": n, "errored": 1}, "result types %s" % kinds)
    r5 = [r for r in res if r["custom_id"] == "r5"][0]["result"]
    check(r5["message"]["content"][0]["type"] == "text" and
          r5["message"]["stop_reason"] == "end_turn", "a translated message: %r" % r5)
    st, cnt = h.Client(up.port).req("GET", "/count")
    # lines in flight at a kill (at most --concurrency) are sent again; on
    # PostgreSQL also the finished lines gathered for the next commit (at
    # most --concurrency more), as in test_server_http's restart case
    per_kill = 2 * 8 if os.environ.get("OAB_DB") else 8
    check(n <= cnt["calls"] <= n + 2 * per_kill, "upstream calls %d" % cnt["calls"])
    check(max(cnt["per_prompt"].values()) <= 2, "no line sent 3 times")


def case_upstream(binary, tmp):
    up = start_upstream(tmp, ["--always-fail", "FAILME"])
    s = start_server(binary, tmp, os.path.join(tmp, "data"),
                     ["--upstream", "http://127.0.0.1:%d/v1" % up.port,
                      "--max-retries", "1", "--retry-base-ms", "10", "--api-key", KEY])
    c = AClient(s.port)
    st, m = c.areq("POST", "/v1/messages", params("hi there", system="short"))
    check(st == 200 and m["type"] == "message" and m["content"][0]["type"] == "text" and
          m["usage"]["output_tokens"] > 0, "message through the upstream: %s %r" % (st, m))
    st, e = c.areq("POST", "/v1/messages", params("FAILME now"))
    error_shape(st, e, 500, "api_error", "upstream 500")
    st, e = c.areq("POST", "/v1/messages", params("x", stream=True))
    error_shape(st, e, 400, "invalid_request_error", "stream refused")
    # the key in Authorization works too; a missing one is refused
    st, _ = c.req("POST", "/v1/messages", params("bearer"),
                  {"Authorization": "Bearer " + KEY})
    check(st == 200, "Authorization: Bearer on /v1/messages: %s" % st)
    st, e = AClient(s.port, key=None).areq("GET", "/v1/messages/batches")
    error_shape(st, e, 401, "authentication_error", "no key")
    # x-api-key is not a key for the OpenAI paths
    st, e = c.req("GET", "/v1/batches", None, {"x-api-key": KEY})
    check(st == 401 and "param" in e.get("error", {}), "OpenAI path keeps its shape: %s" % st)
    st, e = c.areq("POST", "/v1/messages/batches", b"{not json")
    error_shape(st, e, 400, "invalid_request_error", "bad JSON body")
    st, e = c.areq("PUT", "/v1/messages/batches")
    error_shape(st, e, 405, "invalid_request_error", "method not allowed")
    st, e = c.areq("POST", "/v1/messages/batches",
                   {"requests": [{"custom_id": "a", "params": params("a")},
                                 {"custom_id": "b"}]})
    error_shape(st, e, 400, "invalid_request_error", "request without params")
    check("requests[1].params" in e["error"]["message"], "names the request: %r" % e)
    reqs = [{"custom_id": "ok", "params": params("fine")},
            {"custom_id": "fails", "params": params("FAILME please")},
            {"custom_id": "other-model", "params": dict(params("m"), model="claude-other")},
            {"custom_id": "refused", "params": params("x", messages=[
                {"role": "user", "content": [{"type": "document", "source": {
                    "type": "text", "media_type": "text/plain", "data": "d"}}]}])}]
    st, b = c.areq("POST", "/v1/messages/batches", {"requests": reqs})
    check(st == 200, "create: %s %r" % (st, b))
    t = time.time()
    while time.time() - t < 60 * SLOW:
        g = c.batch(b["id"])
        if g["processing_status"] == "ended":
            break
        time.sleep(0.05)
    check(g["request_counts"]["succeeded"] == 1 and g["request_counts"]["errored"] == 3,
          "counts %s" % g["request_counts"])
    res = {r["custom_id"]: r["result"] for r in c.results(b["id"])}
    check(sorted(res) == sorted(r["custom_id"] for r in reqs), "every custom_id once")
    check(res["ok"]["type"] == "succeeded", "ok succeeded")
    f = res["fails"]
    check(f["type"] == "errored" and f["error"]["error"]["type"] == "api_error" and
          "always failing" in f["error"]["error"]["message"], "upstream failure: %r" % f)
    om = res["other-model"]
    check(om["type"] == "errored" and "one model per batch" in om["error"]["error"]["message"],
          "second model refused: %r" % om)
    check(res["refused"]["type"] == "errored" and
          res["refused"]["error"]["error"]["type"] == "invalid_request_error" and
          "document" in res["refused"]["error"]["error"]["message"],
          "untranslatable request errored: %r" % res["refused"])


def case_state(binary, tmp):
    """A state file of the version before the Anthropic API: it opens, its
    OpenAI batch is still there and Anthropic batches work beside it."""
    data = os.path.join(tmp, "data")
    s = start_server(binary, tmp, data, ["--api-key", KEY])
    c = h.Client(s.port, key=KEY)
    st, f = c.upload(h.chat_lines(3))
    st, ob = c.create(f["id"])
    c.wait(ob["id"])
    s.kill(signal.SIGTERM)
    db = sqlite3.connect(os.path.join(data, "state.sqlite"))
    db.execute("DROP TABLE IF EXISTS anth_batches")
    db.commit()
    db.close()
    s = start_server(binary, tmp, data, ["--api-key", KEY], name="server2")
    c = h.Client(s.port, key=KEY)
    st, got = c.req("GET", "/v1/batches/" + ob["id"])
    check(st == 200 and got["status"] == "completed", "old batch kept: %s" % st)
    a = AClient(s.port)
    st, l0 = a.areq("GET", "/v1/messages/batches")
    check(st == 200 and l0["data"] == [], "no message batches yet: %r" % l0)
    st, b = a.areq("POST", "/v1/messages/batches",
                   {"requests": [{"custom_id": "x", "params": params("x")}]})
    check(st == 200, "create on an old state file: %s" % st)
    st, e = a.areq("GET", "/v1/messages/batches/" + ob["id"])
    error_shape(st, e, 404, "not_found_error", "an OpenAI batch is not a message batch")
    st, e = c.req("GET", "/v1/batches/" + b["id"])
    check(st == 404, "a message batch is not an OpenAI batch: %s" % st)
    st, lst = c.req("GET", "/v1/batches")
    check([x["id"] for x in lst["data"]] == [ob["id"]], "/v1/batches lists only its own")


def case_expire(binary, tmp):
    """A 1 s window on a slow model: the batch ends with succeeded and
    expired results, every custom_id once, the counts agreeing."""
    s = start_server(binary, tmp, os.path.join(tmp, "data"),
                     ["--latency-ms", "150", "--concurrency", "2",
                      "--window-seconds", "1", "--api-key", KEY])
    c = AClient(s.port)
    reqs = [{"custom_id": "e%d" % i, "params": params("q%d" % i)} for i in range(30)]
    st, b = c.areq("POST", "/v1/messages/batches", {"requests": reqs})
    check(st == 200, "create: %s" % st)
    t = time.time()
    while time.time() - t < 60 * SLOW:
        g = c.batch(b["id"])
        if g["processing_status"] == "ended":
            break
        time.sleep(0.05)
    rc = g["request_counts"]
    check(g["processing_status"] == "ended" and rc["expired"] > 0 and
          rc["succeeded"] + rc["expired"] == 30 and rc["processing"] == 0,
          "expired counts %s" % rc)
    res = c.results(b["id"])
    check(sorted(r["custom_id"] for r in res) == sorted(r["custom_id"] for r in reqs),
          "every custom_id once")
    kinds = [r["result"]["type"] for r in res]
    check(kinds.count("expired") == rc["expired"] and
          kinds.count("succeeded") == rc["succeeded"], "result types %s" % kinds)


CASES = {k[5:]: v for k, v in globals().items() if k.startswith("case_")}

if __name__ == "__main__":
    sys.exit(h.main(CASES, name="server_anthropic"))
