#!/usr/bin/env python3
"""Peer for the decode benchmark: Python's json doing the same work as
bench_decode (classify, output text, tool calls with parsed arguments,
usage), streamed line by line. Prints the same summary line."""
import json, sys

counts = {}
outputs = tool_calls = args_ok = 0
prompt = completion = total = cached = reasoning = 0

def take(line):
    global outputs, tool_calls, args_ok, prompt, completion, total, cached, reasoning
    try:
        d = json.loads(line)
    except ValueError:
        counts["malformed"] = counts.get("malformed", 0) + 1
        return
    err = d.get("error")
    resp = d.get("response")
    if err:
        code = err.get("code")
        st = {"batch_expired": "expired", "batch_cancelled": "cancelled"}.get(code, "error")
    elif resp and resp.get("status_code", 0) >= 400:
        st = "http_error"
    else:
        st = "succeeded"
        body = resp.get("body") or {}
        ch = body.get("choices") or []
        if ch:
            msg = ch[0].get("message") or {}
            if msg.get("content") is not None:
                outputs += 1
            for tc in msg.get("tool_calls") or []:
                tool_calls += 1
                fn = tc.get("function") or {}
                try:
                    if isinstance(json.loads(fn.get("arguments", "")), dict):
                        args_ok += 1
                except ValueError:
                    pass
        u = body.get("usage")
        if u:
            prompt += u.get("prompt_tokens", 0)
            completion += u.get("completion_tokens", 0)
            total += u.get("total_tokens", 0)
            cached += (u.get("prompt_tokens_details") or {}).get("cached_tokens", 0)
            reasoning += (u.get("completion_tokens_details") or {}).get("reasoning_tokens", 0)
    counts[st] = counts.get(st, 0) + 1

for path in sys.argv[1:]:
    with open(path, "rb") as f:
        for line in f:
            if line.strip():
                take(line)

print("results=%d succeeded=%d http_error=%d error=%d expired=%d outputs=%d "
      "tool_calls=%d args_ok=%d prompt=%d completion=%d total=%d cached=%d reasoning=%d"
      % (sum(counts.values()), counts.get("succeeded", 0), counts.get("http_error", 0),
         counts.get("error", 0), counts.get("expired", 0), outputs, tool_calls, args_ok,
         prompt, completion, total, cached, reasoning))
