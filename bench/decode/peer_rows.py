#!/usr/bin/env python3
"""Peer for `oaibatch results --format jsonl` (issue 11's speed target):
Python's json doing the same extraction *and writing*: one JSON row per
result on stdout with the fields of docs/cli.md (custom_id, status,
input_line, status_code, output, finish_reason, tool_calls with their
arguments parsed when they are a JSON object, error, usage, duplicate,
batch_id, request_id), what a user would write instead of the command.
run_results.sh checks that its rows equal the command's, as JSON values.

Usage: peer_rows.py OUTPUT_FILE [ERROR_FILE...] > rows.jsonl"""
import json, sys

STATUS = {"batch_expired": "expired", "batch_cancelled": "cancelled"}
dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def row(d, seen):
    err, resp = d.get("error"), d.get("response")
    cid = d.get("custom_id")
    out = finish = usage = error = None
    calls = None
    code = resp.get("status_code") if resp else None
    body = (resp or {}).get("body") or {}
    if err:
        st = STATUS.get(err.get("code"), "error")
        error = {"code": err.get("code"), "message": err.get("message")}
    elif code is not None and code >= 400:
        st = "http_error"
        e = body.get("error") or {}
        error = {"code": e.get("code"), "message": e.get("message")}
    else:
        st = "succeeded"
        ch = body.get("choices") or []
        if ch:
            msg = ch[0].get("message") or {}
            out = msg.get("content")
            finish = ch[0].get("finish_reason")
            tcs = msg.get("tool_calls")
            if tcs:
                calls = []
                for tc in tcs:
                    fn = tc.get("function") or {}
                    a = fn.get("arguments", "")
                    try:
                        v = json.loads(a)
                        if isinstance(v, dict):
                            a = v
                    except ValueError:
                        pass
                    calls.append({"id": tc.get("id"), "name": fn.get("name"),
                                  "arguments": a})
    u = body.get("usage")
    if u:
        usage = {"prompt_tokens": u.get("prompt_tokens", 0),
                 "completion_tokens": u.get("completion_tokens", 0),
                 "total_tokens": u.get("total_tokens", 0)}
    r = {"custom_id": cid, "status": st, "input_line": None,
         "status_code": code, "output": out, "finish_reason": finish}
    if calls:
        r["tool_calls"] = calls
    r["error"] = error
    r["usage"] = usage
    if cid in seen:
        r["duplicate"] = True
    seen.add(cid)
    r["batch_id"] = None
    r["request_id"] = (resp or {}).get("request_id")
    return dumps(r)


def main():
    seen = set()
    w = sys.stdout.write
    for path in sys.argv[1:]:
        with open(path, "rb") as f:
            for line in f:
                if line.strip():
                    w(row(json.loads(line), seen) + "\n")


main()
