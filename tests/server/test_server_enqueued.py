#!/usr/bin/env python3
"""`oaibatch serve --enqueued-token-limit N` (issue 13): a batch whose
input tokens, with those of the same key's batches of the same model in
flight (validating, in_progress, finalizing), pass N fails at validation
with errors.data [{code: "token_limit_exceeded", message, line: null,
param: null}], as OpenAI's does.

usage: test_server_enqueued.py SERVER_BINARY CASE
CASE: limit (another key and another model are not counted; a batch over
the limit by itself is refused; once the first batch ended the same file
goes through), bytes (without rank files the server counts the bytes / 4
of each line, and says so in its log). Reuses test_server_http.py's
helpers; every process started is stopped.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_server_http as h  # noqa: E402

LIMIT = 100


def refused(c, bid, what):
    b = c.wait(bid, timeout=60)
    data = (b.get("errors") or {}).get("data") or []
    h.check(b["status"] == "failed" and len(data) == 1, "%s: failed %s" % (what, b))
    if data:
        e = data[0]
        h.check(e["code"] == "token_limit_exceeded" and e["line"] is None and
                e["param"] is None and "Limit: %d" % LIMIT in e["message"],
                "%s: OpenAI's shape %s" % (what, e))
    h.check(b["request_counts"]["total"] == 0, "%s: no line ran" % what)
    return b


def start(binary, tmp, env_dir):
    if env_dir is None:
        os.environ.pop("OAB_ENCODINGS_DIR", None)
    else:
        os.environ["OAB_ENCODINGS_DIR"] = env_dir
    # one line at a time, 1.5 s each: a 6-line batch stays in flight 9 s
    return h.start_server(binary, tmp, os.path.join(tmp, "data"),
                          ["--api-key", "sk-alpha", "--api-key", "sk-beta",
                           "--concurrency", "1", "--fixed-concurrency",
                           "--latency-ms", "1500",
                           "--enqueued-token-limit", str(LIMIT)])


def case_limit(binary, tmp):
    enc = os.environ.get("OAB_ENCODINGS_DIR")
    h.check(enc and os.path.exists(os.path.join(enc, "o200k_base.tiktoken")),
            "rank files in OAB_ENCODINGS_DIR")
    s = start(binary, tmp, enc)
    a, b = h.Client(s.port, "sk-alpha"), h.Client(s.port, "sk-beta")
    six = h.chat_lines(6)          # about 12 tokens a line: 72
    st, fa = a.upload(six)
    st, ba = a.create(fa["id"])
    a.wait(ba["id"], until=("in_progress",))
    # the same key and model: 72 + 72 > 100
    st, fb = a.upload(h.chat_lines(6, prefix="b"))
    st, bb = a.create(fb["id"])
    refused(a, bb["id"], "second batch of alpha")
    # another key: its own count
    st, fc = b.upload(six)
    st, bc = b.create(fc["id"])
    got = b.wait(bc["id"], until=("in_progress", "completed", "failed"))
    h.check(got["status"] != "failed", "beta's batch runs: %s" % got.get("errors"))
    # another model of the same key: its own count
    st, fd = a.upload(six.replace(b'"gpt-4o-mini"', b'"gpt-4.1"'))
    st, bd = a.create(fd["id"])
    got = a.wait(bd["id"], until=("in_progress", "completed", "failed"))
    h.check(got["status"] != "failed", "alpha's gpt-4.1 batch runs: %s" % got.get("errors"))
    # over the limit by itself (20 lines: about 240 tokens)
    st, fe = b.upload(h.chat_lines(20, prefix="e").replace(b'"gpt-4o-mini"', b'"gpt-4o"'))
    st, be = b.create(fe["id"])
    refused(b, be["id"], "a batch over the limit alone")
    # once the first batch ended, the refused file goes through
    done = a.wait(ba["id"], timeout=120)
    h.check(done["status"] == "completed", "first batch completed")
    st, bb2 = a.create(fb["id"])
    got = a.wait(bb2["id"], until=("in_progress", "completed", "failed"))
    h.check(got["status"] != "failed", "sent again after the first ended: %s" % got.get("errors"))
    h.check(a.wait(bb2["id"], timeout=120)["request_counts"]["completed"] == 6,
            "its 6 lines ran")


def case_bytes(binary, tmp):
    s = start(binary, tmp, os.path.join(tmp, "no-rank-files"))
    a = h.Client(s.port, "sk-alpha")
    two, three = h.chat_lines(2), h.chat_lines(3, prefix="t")
    h.check(all(150 <= len(x) <= 199 for x in three.splitlines()),
            "lines of 150-199 bytes: 38-50 tokens by bytes / 4")
    st, f2 = a.upload(two)           # at most 100 by bytes / 4
    st, b2 = a.create(f2["id"])
    got = a.wait(b2["id"], until=("in_progress", "completed", "failed"))
    h.check(got["status"] != "failed", "two lines fit: %s" % got.get("errors"))
    a.wait(b2["id"], timeout=120)
    st, f3 = a.upload(three)         # 114 or more by bytes / 4 (36 by tokens)
    st, b3 = a.create(f3["id"])
    refused(a, b3["id"], "three lines by bytes / 4")
    s.kill()
    with open(os.path.join(tmp, "server.log")) as f:
        log = f.read()
    h.check("input tokens are counted as bytes / 4" in log, "the log says bytes / 4")


CASES = {"limit": case_limit, "bytes": case_bytes}

if __name__ == "__main__":
    sys.exit(h.main(CASES, "server_enqueued"))
