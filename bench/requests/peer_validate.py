"""Python peer of `bench_requests validate`: json.loads line by line with
the same checks (custom_id unique, method POST, one url, a body object,
one model, chat messages an array of objects, no stream: true, the line
and byte limits)."""
import json
import sys

ENDPOINTS = {"/v1/responses", "/v1/chat/completions", "/v1/embeddings", "/v1/completions",
             "/v1/moderations", "/v1/images/generations", "/v1/images/edits", "/v1/videos"}


def main():
    path = sys.argv[1]
    ids = set()
    url = model = None
    problems = []
    lines = 0
    size = 0
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            size += len(raw)
            if not raw.strip():
                continue
            lines += 1
            try:
                o = json.loads(raw)
            except ValueError:
                problems.append(("invalid_json_line", lineno))
                continue
            if not isinstance(o, dict):
                problems.append(("invalid_json_line", lineno))
                continue
            cid = o.get("custom_id")
            if not isinstance(cid, str) or not cid:
                problems.append(("missing_custom_id", lineno))
            elif cid in ids:
                problems.append(("duplicate_custom_id", lineno))
            else:
                ids.add(cid)
            if o.get("method") != "POST":
                problems.append(("invalid_method", lineno))
            u = o.get("url")
            if u not in ENDPOINTS:
                problems.append(("invalid_url", lineno))
            elif url is None:
                url = u
            elif u != url:
                problems.append(("url_mismatch", lineno))
            b = o.get("body")
            if not isinstance(b, dict):
                problems.append(("missing_body", lineno))
                continue
            m = b.get("model")
            if not isinstance(m, str) or not m:
                problems.append(("missing_model", lineno))
            elif model is None:
                model = m
            elif m != model:
                problems.append(("model_mismatch", lineno))
            if u == "/v1/chat/completions":
                msgs = b.get("messages")
                if msgs is None:
                    problems.append(("missing_messages", lineno))
                elif not isinstance(msgs, list) or not msgs or not all(
                        isinstance(x, dict) for x in msgs):
                    problems.append(("invalid_messages", lineno))
            if b.get("stream") is True:
                problems.append(("stream_not_supported", lineno))
            if lines == 50001:
                problems.append(("too_many_tasks", lineno))
    if size > 200 * 1024 * 1024:
        problems.append(("file_too_large", 0))
    out = f"lines={lines} bytes={size} problems={len(problems)}"
    for code, ln in problems[:3]:
        out += f" {code}@{ln}"
    print(out)


main()
