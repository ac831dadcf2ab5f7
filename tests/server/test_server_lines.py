#!/usr/bin/env python3
"""GET /v1/batches/{id}/lines, the server's extension listing one batch's
lines (server/README.md).

usage: test_server_lines.py SERVER_BINARY CASE
CASE: finished (a completed batch with failing lines: every line once
across pages, states, status codes, error codes, the custom_id filter, bad
cursors and limits, another key gets 404), running (while a slow batch
runs: finished lines and pending ones, each custom_id at most once on a
page; small pages list every line finished before; after a cancel the
unrun lines are failed with batch_cancelled, and a cursor of a page taken
while it ran still pages on). Both run on SQLite and on PostgreSQL
(server_pg_lines_*: there a running batch's finished lines are rows of
`results`, not spools).
Reuses test_server_http.py's helpers; every process started is stopped.
"""
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_server_http as h  # noqa: E402


def page_all(c, bid, limit, after=None, **q):
    """Every line of batch bid, page by page (from the cursor after when
    given); returns (items, pages)."""
    items, pages = [], 0
    while True:
        args = dict(q, limit=limit)
        if after:
            args["after"] = after
        st, p = c.req("GET", "/v1/batches/%s/lines?%s"
                      % (bid, urllib.parse.urlencode(args)))
        h.check(st == 200 and p["object"] == "list", "page %s %s" % (st, p))
        h.check(len(p["data"]) <= limit, "a page holds at most limit")
        items += p["data"]
        pages += 1
        if not p["has_more"]:
            return items, pages
        h.check(p["last_id"], "a cursor when more follow")
        after = p["last_id"]
        if pages > 1000:
            raise RuntimeError("no end")


def case_finished(binary, tmp):
    up = h.start_upstream(tmp, ["--always-fail", "bad"])
    s = h.start_server(binary, tmp, os.path.join(tmp, "data"),
                       ["--upstream", "http://127.0.0.1:%d/v1" % up.port,
                        "--api-key", "sk-a", "--api-key", "sk-b",
                        "--max-retries", "0", "--quiet"])
    c = h.Client(s.port, key="sk-a")
    n = 57
    data = h.chat_lines(n - 7) + h.chat_lines(7, prefix="bad")
    st, f = c.upload(data)
    st, b = c.create(f["id"])
    done = c.wait(b["id"], timeout=120)
    h.check(done["status"] == "completed" and
            done["request_counts"]["failed"] == 7, "batch %s" % done)
    items, pages = page_all(c, b["id"], 10)
    h.check(pages == 6, "57 lines in 6 pages of 10: %d" % pages)
    ids = [x["custom_id"] for x in items]
    want = ["r%d" % i for i in range(n - 7)] + ["bad%d" % i for i in range(7)]
    h.check(sorted(ids) == sorted(want), "every line once: %s" % ids)
    by = {x["custom_id"]: x for x in items}
    h.check(all(by["r%d" % i]["state"] == "completed" and
                by["r%d" % i]["status_code"] == 200 and
                by["r%d" % i]["error_code"] is None for i in range(n - 7)),
            "completed lines: 200, no error code %s" % by["r3"])
    h.check(all(by["bad%d" % i]["state"] == "failed" and
                by["bad%d" % i]["status_code"] == 500 for i in range(7)),
            "failed lines: status 500 %s" % by["bad0"])
    h.check(all(x["object"] == "batch.line" for x in items), "objects")
    # one page with everything, and the custom_id filter
    st, p = c.req("GET", "/v1/batches/%s/lines?limit=1000" % b["id"])
    h.check(len(p["data"]) == n and p["has_more"] is False,
            "limit 1000: all in one page")
    items, _ = page_all(c, b["id"], 3, custom_id="bad")
    h.check(sorted(x["custom_id"] for x in items) ==
            sorted("bad%d" % i for i in range(7)), "custom_id filter")
    # bad input
    for q, param in (("limit=0", "limit"), ("limit=1001", "limit"),
                     ("limit=x", "limit"), ("after=zz", "after"),
                     ("after=o-1", "after"), ("after=o", "after")):
        st, e = c.req("GET", "/v1/batches/%s/lines?%s" % (b["id"], q))
        h.check(st == 400 and e["error"]["param"] == param,
                "%s refused: %s %s" % (q, st, e))
    # the owner check: another key, and no key
    st, e = h.Client(s.port, key="sk-b").req(
        "GET", "/v1/batches/%s/lines" % b["id"])
    h.check(st == 404 and "error" in e, "another key gets 404: %s" % st)
    st, e = h.Client(s.port).req("GET", "/v1/batches/%s/lines" % b["id"])
    h.check(st == 401, "no key gets 401: %s" % st)
    st, e = c.req("GET", "/v1/batches/batch_nope/lines")
    h.check(st == 404, "unknown batch 404")


def case_running(binary, tmp):
    up = h.start_upstream(tmp, ["--delay-ms", "100"])
    s = h.start_server(binary, tmp, os.path.join(tmp, "data"),
                       ["--upstream", "http://127.0.0.1:%d/v1" % up.port,
                        "--concurrency", "2", "--latency-tolerance", "0",
                        "--quiet"])
    c = h.Client(s.port)
    n = 200
    st, f = c.upload(h.chat_lines(n))
    st, b = c.create(f["id"])
    c.wait(b["id"], until=("in_progress",))
    for _ in range(200):
        st, cur = c.req("GET", "/v1/batches/" + b["id"])
        if cur["request_counts"]["completed"] >= 5:
            break
        h.time.sleep(0.05)
    st, p = c.req("GET", "/v1/batches/%s/lines?limit=1000" % b["id"])
    h.check(st == 200, "lines of a running batch %s" % st)
    states = [x["state"] for x in p["data"]]
    ids = [x["custom_id"] for x in p["data"]]
    h.check(len(set(ids)) == len(ids) == n,
            "each line once on the page: %d of %d" % (len(set(ids)), n))
    h.check(states.count("completed") >= 5 and states.count("pending") > 100,
            "finished lines first, then pending ones: %d completed, %d"
            " pending" % (states.count("completed"), states.count("pending")))
    h.check(states == sorted(states, key=["completed", "failed",
                                          "pending"].index),
            "completed, failed, pending in that order")
    # the filter on a running batch: r19 and r190..r199, finished or not
    items, _ = page_all(c, b["id"], 4, custom_id="r19")
    h.check(sorted(x["custom_id"] for x in items) ==
            sorted(["r19"] + ["r19%d" % i for i in range(10)]),
            "custom_id filter while running: %s" % items)
    pend = [x for x in p["data"] if x["state"] == "pending"]
    h.check(all(x["status_code"] is None and x["error_code"] is None
                for x in pend), "pending lines have no status yet")
    done_then = set(x["custom_id"] for x in p["data"]
                    if x["state"] == "completed")
    h.check(all(x["status_code"] == 200 for x in p["data"]
                if x["state"] == "completed"), "finished lines: 200")
    # small pages while it runs: each page holds a line at most once, and
    # every line finished at the first snapshot is still listed finished
    # (lines finishing meanwhile may show twice or not at all)
    st, first = c.req("GET", "/v1/batches/%s/lines?limit=3" % b["id"])
    h.check(st == 200 and len(first["data"]) == 3 and first["has_more"] and
            all(x["state"] == "completed" for x in first["data"]),
            "a first page of 3 finished lines: %s" % first)
    items, pages = page_all(c, b["id"], 7)
    h.check(pages >= n // 7, "pages of 7: %d" % pages)
    walked = set(x["custom_id"] for x in items if x["state"] == "completed")
    h.check(done_then <= walked,
            "the lines finished before are listed finished: %s missing"
            % sorted(done_then - walked))
    c.req("POST", "/v1/batches/%s/cancel" % b["id"])
    done = c.wait(b["id"], timeout=60)
    h.check(done["status"] == "cancelled", "cancelled")
    items, _ = page_all(c, b["id"], 50)
    h.check(sorted(x["custom_id"] for x in items) ==
            sorted("r%d" % i for i in range(n)), "after the end: every line")
    # a cursor from a page taken while the batch ran still pages on after
    # its end: every line not on that page is listed after it
    items, _ = page_all(c, b["id"], 50, after=first["last_id"])
    rest = set("r%d" % i for i in range(n)) - set(
        x["custom_id"] for x in first["data"])
    h.check(rest <= set(x["custom_id"] for x in items),
            "an old cursor after the end: %d lines missing"
            % len(rest - set(x["custom_id"] for x in items)))
    unrun = [x for x in items if x["state"] == "failed"]
    h.check(unrun and all(x["error_code"] == "batch_cancelled"
                          for x in unrun),
            "unrun lines failed with batch_cancelled (%d)" % len(unrun))


CASES = {"finished": case_finished, "running": case_running}

if __name__ == "__main__":
    sys.exit(h.main(CASES, "server_lines"))
