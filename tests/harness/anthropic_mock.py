#!/usr/bin/env python3
"""anthropic_mock.py - a mock of Anthropic's Message Batches API for the
library's tests (tests/test_anthropic_client.c).

Usage: anthropic_mock.py --key KEY [--polls N]

Listens on 127.0.0.1 on a free port and prints the port as the first line
of stdout. Serves POST/GET /v1/messages/batches, GET/DELETE
/v1/messages/batches/{id}, POST .../cancel and GET .../results with
Anthropic's object and error shapes. Every request is checked:
  - headers: x-api-key is KEY (else 401 authentication_error, counted in
    auth_failures), anthropic-version is 2023-06-01, no Authorization;
  - the create body, exactly: {"requests":[{"custom_id","params"}]} with
    custom_ids of 1-64 [A-Za-z0-9_-] and unique, params with only the
    Messages API's keys, model, max_tokens >= 1, messages alternating
    content of the known block shapes (tool_result after a matching
    tool_use), tools {name, description?, input_schema object},
    tool_choice {type auto|any|tool|none, name with tool}.
Anything else is a mismatch. A batch is in_progress for N retrieves
(default 1), then ended. Answers come from a tiny model: a forced tool
(tool_choice tool or any, or auto with tools and a user question) is
called with an input made from its schema; a system prompt holding a
schema ("...compatible with this schema:\\n\\n<schema>\\n\\nDon't...")
gets that JSON in a ```json fence; otherwise "Echo: <last user text>".
A custom_id with "bad" is errored, one with "expire" expired. Results
are served in reverse request order (Anthropic documents no order).

GET /__mock/report answers {"mismatches": [...], "creates": [bodies],
"log": ["METHOD path"], "auth_failures": N}. The server stops on SIGTERM,
when its parent process ends, or after 10 minutes.
"""
import json
import os
import re
import socketserver
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mock_server import serve  # noqa: E402  (the same lifetime rules)

ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
PARAMS_KEYS = {"model", "max_tokens", "messages", "system", "tools", "tool_choice",
               "temperature", "top_p", "top_k", "stop_sequences", "metadata",
               "thinking", "service_tier", "container", "mcp_servers"}
BLOCK_KEYS = {
    "text": ({"type", "text"}, {"cache_control", "citations"}),
    "image": ({"type", "source"}, {"cache_control"}),
    "tool_use": ({"type", "id", "name", "input"}, {"cache_control"}),
    "tool_result": ({"type", "tool_use_id"}, {"content", "is_error", "cache_control"}),
}
ALLOWED_BLOCKS = {"user": {"text", "image", "tool_result"},
                  "assistant": {"text", "tool_use"}}
PROMPT_HEAD = "compatible with this schema:\n\n"
PROMPT_TAIL = "\n\nDon't include"


class State:
    def __init__(self, key, polls):
        self.key = key
        self.polls = polls
        self.lock = threading.RLock()
        self.batches = {}      # id -> dict
        self.order = []        # ids, oldest first
        self.mismatches = []
        self.creates = []
        self.log = []
        self.auth_failures = 0
        self.n = 0


def now_iso(offset=0):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() + offset)) + ".000000Z"


# ------------------------------------------------------------ checks

def check_block(bad, where, role, b, prev_tool_ids):
    if not isinstance(b, dict) or b.get("type") not in ALLOWED_BLOCKS[role]:
        bad(f"{where}: block type {b.get('type') if isinstance(b, dict) else b!r} "
            f"not allowed in a {role} turn")
        return
    req, opt = BLOCK_KEYS[b["type"]]
    keys = set(b)
    if not req <= keys or keys - req - opt:
        bad(f"{where}: {b['type']} block keys {sorted(keys)}")
    t = b["type"]
    if t == "text" and not isinstance(b.get("text"), str):
        bad(f"{where}: text not a string")
    if t == "image":
        s = b.get("source") or {}
        if s.get("type") == "base64":
            if set(s) != {"type", "media_type", "data"} or not s["media_type"].startswith("image/"):
                bad(f"{where}: base64 source {s}")
        elif s.get("type") == "url":
            if set(s) != {"type", "url"}:
                bad(f"{where}: url source {s}")
        else:
            bad(f"{where}: image source {s}")
    if t == "tool_use" and not isinstance(b.get("input"), dict):
        bad(f"{where}: tool_use input not an object")
    if t == "tool_result":
        if b.get("tool_use_id") not in prev_tool_ids:
            bad(f"{where}: tool_result for {b.get('tool_use_id')} without a tool_use "
                f"in the turn before")
        c = b.get("content")
        if c is not None and not isinstance(c, (str, list)):
            bad(f"{where}: tool_result content {c!r}")


def check_params(bad, where, p):
    if not isinstance(p, dict):
        bad(f"{where}: not an object")
        return
    extra = set(p) - PARAMS_KEYS
    if extra:
        bad(f"{where}: keys not in the Messages API: {sorted(extra)}")
    if not isinstance(p.get("model"), str) or not p["model"]:
        bad(f"{where}.model: missing")
    mt = p.get("max_tokens")
    if not isinstance(mt, int) or isinstance(mt, bool) or mt < 1:
        bad(f"{where}.max_tokens: {mt!r}")
    if "system" in p and not isinstance(p["system"], (str, list)):
        bad(f"{where}.system: {p['system']!r}")
    msgs = p.get("messages")
    if not isinstance(msgs, list) or not msgs:
        bad(f"{where}.messages: missing or empty")
        msgs = []
    prev_tool_ids = set()
    prev_role = None
    for i, m in enumerate(msgs):
        w = f"{where}.messages[{i}]"
        if not isinstance(m, dict) or set(m) != {"role", "content"}:
            bad(f"{w}: keys {sorted(m) if isinstance(m, dict) else m!r}")
            continue
        role = m["role"]
        if role not in ("user", "assistant"):
            bad(f"{w}.role: {role!r}")
            continue
        if role == prev_role and role == "assistant":
            bad(f"{w}: two assistant turns in a row")
        c = m["content"]
        ids = set()
        if isinstance(c, str):
            if not c:
                bad(f"{w}.content: empty")
        elif isinstance(c, list) and c:
            for k, b in enumerate(c):
                check_block(bad, f"{w}.content[{k}]", role, b, prev_tool_ids)
                if isinstance(b, dict) and b.get("type") == "tool_use":
                    ids.add(b.get("id"))
        else:
            bad(f"{w}.content: {c!r}")
        prev_tool_ids = ids
        prev_role = role
    for k, t in enumerate(p.get("tools") or []):
        w = f"{where}.tools[{k}]"
        if not isinstance(t, dict) or not {"name", "input_schema"} <= set(t) or \
                set(t) - {"name", "description", "input_schema", "cache_control"}:
            bad(f"{w}: keys {sorted(t) if isinstance(t, dict) else t!r}")
        elif not isinstance(t["input_schema"], dict) or t["input_schema"].get("type") != "object":
            bad(f"{w}.input_schema: not an object schema")
    tc = p.get("tool_choice")
    if tc is not None:
        names = {t.get("name") for t in p.get("tools") or [] if isinstance(t, dict)}
        if not isinstance(tc, dict) or tc.get("type") not in ("auto", "any", "tool", "none") or \
                set(tc) - {"type", "name", "disable_parallel_tool_use"}:
            bad(f"{where}.tool_choice: {tc!r}")
        elif tc["type"] == "tool" and tc.get("name") not in names:
            bad(f"{where}.tool_choice: tool {tc.get('name')!r} not in tools")
        elif not names:
            bad(f"{where}.tool_choice without tools")
    t = p.get("temperature")
    if t is not None and not (isinstance(t, (int, float)) and 0 <= t <= 1):
        bad(f"{where}.temperature: {t!r}")
    ss = p.get("stop_sequences")
    if ss is not None and not (isinstance(ss, list) and all(isinstance(s, str) for s in ss)):
        bad(f"{where}.stop_sequences: {ss!r}")


def check_create(bad, body):
    if not isinstance(body, dict) or set(body) != {"requests"} or \
            not isinstance(body["requests"], list) or not body["requests"]:
        bad("create body: not {\"requests\": [...]}")
        return []
    seen = set()
    for i, r in enumerate(body["requests"]):
        w = f"requests[{i}]"
        if not isinstance(r, dict) or set(r) != {"custom_id", "params"}:
            bad(f"{w}: keys {sorted(r) if isinstance(r, dict) else r!r}")
            continue
        cid = r["custom_id"]
        if not isinstance(cid, str) or not ID_RE.match(cid):
            bad(f"{w}.custom_id {cid!r}: not 1-64 of [A-Za-z0-9_-]")
        if cid in seen:
            bad(f"{w}.custom_id {cid!r}: given twice")
        seen.add(cid)
        check_params(bad, f"{w}.params", r["params"])
    return body["requests"]


# ------------------------------------------------------------ the model

def instance(schema, root):
    if not isinstance(schema, dict):
        return None
    if "$ref" in schema:
        ref = schema["$ref"]
        node = root
        for part in ref.lstrip("#/").split("/"):
            node = node.get(part, {})
        return instance(node, root)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return next((e for e in schema["enum"] if e is not None), None)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            opts = [s for s in schema[key] if s.get("type") != "null"] or schema[key]
            return instance(opts[0], root)
    t = schema.get("type")
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), "null")
    if t == "object" or "properties" in schema:
        return {k: instance(v, root) for k, v in (schema.get("properties") or {}).items()}
    if t == "array":
        return [instance(schema.get("items") or {}, root)]
    if t == "integer":
        return 21
    if t == "number":
        return 1.5
    if t == "boolean":
        return True
    if t == "null":
        return None
    if schema.get("format") == "date":
        return "2024-01-01"
    return "x"


def last_user_text(msgs):
    for m in reversed(msgs):
        if m["role"] != "user":
            continue
        c = m["content"]
        if isinstance(c, str):
            return c
        return " ".join(b.get("text", "") for b in c if b.get("type") == "text")
    return ""


def answer(params, n):
    tools = params.get("tools") or []
    tc = params.get("tool_choice") or {"type": "auto"}
    msgs = params["messages"]
    last = msgs[-1]
    after_result = isinstance(last["content"], list) and any(
        b.get("type") == "tool_result" for b in last["content"])
    tool = None
    if tc["type"] == "tool":
        tool = next(t for t in tools if t["name"] == tc["name"])
    elif tools and (tc["type"] == "any" or (tc["type"] == "auto" and not after_result)):
        tool = tools[0]
    if tool:
        content = [{"type": "tool_use", "id": f"toolu_{n:04d}", "name": tool["name"],
                    "input": instance(tool["input_schema"], tool["input_schema"])}]
        stop = "tool_use"
    else:
        system = params.get("system") or ""
        if isinstance(system, list):
            system = "\n\n".join(b.get("text", "") for b in system)
        if PROMPT_HEAD in system and PROMPT_TAIL in system:
            schema = json.loads(system.split(PROMPT_HEAD, 1)[1].split(PROMPT_TAIL, 1)[0])
            text = "```json\n" + json.dumps(instance(schema, schema)) + "\n```"
        else:
            text = "Echo: " + last_user_text(msgs)
        content = [{"type": "text", "text": text}]
        stop = "end_turn"
    return {"id": f"msg_{n:04d}", "type": "message", "role": "assistant",
            "model": params["model"], "content": content, "stop_reason": stop,
            "stop_sequence": None,
            "usage": {"input_tokens": 10 + n, "output_tokens": 5,
                      "cache_creation_input_tokens": 0, "cache_read_input_tokens": 2}}


def result_of(req, n, canceled):
    cid = req["custom_id"]
    if canceled:
        return {"type": "canceled"}
    if "bad" in cid:
        return {"type": "errored", "error": {"type": "error", "error": {
            "type": "invalid_request_error", "message": f"{cid}: this request is bad"}}}
    if "expire" in cid:
        return {"type": "expired"}
    return {"type": "succeeded", "message": answer(req["params"], n)}


# ------------------------------------------------------------ batches

def batch_object(b):
    counts = {"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
    if b["status"] == "ended":
        for r in b["results"]:
            counts[r["result"]["type"]] += 1
    else:
        counts["processing"] = len(b["requests"])
    return {"id": b["id"], "type": "message_batch", "processing_status": b["status"],
            "request_counts": counts,
            "ended_at": b.get("ended_at"), "created_at": b["created_at"],
            "expires_at": b["expires_at"], "archived_at": None,
            "cancel_initiated_at": b.get("cancel_initiated_at"),
            "results_url": (f"https://api.anthropic.com/v1/messages/batches/{b['id']}/results"
                            if b["status"] == "ended" else None)}


def end(state, b):
    b["status"] = "ended"
    b["ended_at"] = now_iso()
    canceled = b.get("cancel_initiated_at") is not None
    b["results"] = [{"custom_id": r["custom_id"],
                     "result": result_of(r, state.n + i, canceled and i > 0)}
                    for i, r in enumerate(b["requests"])]
    state.n += len(b["requests"])


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def send(self, status, obj, ctype="application/json"):
        st = self.server.state
        data = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        with st.lock:
            st.n += 1
            self.send_header("request-id", f"req_{st.n:04d}")
        self.end_headers()
        self.wfile.write(data)

    def error(self, status, etype, message):
        self.send(status, {"type": "error", "error": {"type": etype, "message": message}})

    def handle_any(self, method):
        st = self.server.state
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        if url.path == "/__mock/report":
            with st.lock:
                return self.send(200, {"mismatches": st.mismatches, "creates": st.creates,
                                       "log": st.log, "auth_failures": st.auth_failures})
        with st.lock:
            st.log.append(f"{method} {url.path}" + (f"?{url.query}" if url.query else ""))

        def bad(msg):
            with st.lock:
                st.mismatches.append(f"{method} {url.path}: {msg}")
        if self.headers.get("x-api-key") != st.key:
            with st.lock:
                st.auth_failures += 1
            return self.error(401, "authentication_error", "invalid x-api-key")
        if self.headers.get("anthropic-version") != "2023-06-01":
            bad(f"anthropic-version {self.headers.get('anthropic-version')!r}")
        if self.headers.get("Authorization") is not None:
            bad("an Authorization header was sent")
        parts = url.path.split("/")  # ['', 'v1', 'messages', 'batches', id, sub]
        if parts[:4] != ["", "v1", "messages", "batches"] or len(parts) > 6:
            return self.error(404, "not_found_error", f"no route {url.path}")
        bid = parts[4] if len(parts) > 4 else None
        sub = parts[5] if len(parts) > 5 else None
        if bid is None and method == "POST":
            return self.create(raw, bad)
        if bid is None and method == "GET":
            return self.list(q)
        with st.lock:
            b = st.batches.get(bid)
        if not b:
            return self.error(404, "not_found_error", f"no message batch {bid}")
        if method == "GET" and sub is None:
            with st.lock:
                b["polls"] += 1
                if b["status"] != "ended" and b["polls"] > st.polls:
                    end(st, b)
                obj = batch_object(b)
            return self.send(200, obj)
        if method == "POST" and sub == "cancel":
            if raw:
                bad("cancel with a body")
            with st.lock:
                if b["status"] == "in_progress":
                    b["status"] = "canceling"
                    b["cancel_initiated_at"] = now_iso()
                obj = batch_object(b)
            return self.send(200, obj)
        if method == "GET" and sub == "results":
            if b["status"] != "ended":
                return self.error(400, "invalid_request_error",
                                  f"batch {bid} is still processing")
            lines = "".join(json.dumps(r) + "\n" for r in reversed(b["results"]))
            return self.send(200, lines.encode(), "application/binary")
        if method == "DELETE" and sub is None:
            if b["status"] != "ended":
                return self.error(400, "invalid_request_error",
                                  f"batch {bid} must end before it is deleted")
            with st.lock:
                del st.batches[bid]
                st.order.remove(bid)
            return self.send(200, {"id": bid, "type": "message_batch_deleted"})
        return self.error(404, "not_found_error", f"no route {method} {url.path}")

    def create(self, raw, bad):
        st = self.server.state
        if self.headers.get("Content-Type") != "application/json":
            bad(f"Content-Type {self.headers.get('Content-Type')!r}")
        try:
            body = json.loads(raw)
        except ValueError:
            bad("create body is not JSON")
            return self.error(400, "invalid_request_error", "body is not JSON")
        reqs = check_create(bad, body)
        with st.lock:
            st.creates.append(body)
            bid = f"msgbatch_{len(st.order) + 1:04d}"
            st.batches[bid] = {"id": bid, "status": "in_progress", "requests": reqs,
                               "created_at": now_iso(), "expires_at": now_iso(86400),
                               "polls": 0}
            st.order.append(bid)
            obj = batch_object(st.batches[bid])
        return self.send(200, obj)

    def list(self, q):
        st = self.server.state
        with st.lock:
            ids = list(reversed(st.order))  # most recent first
            limit = int(q.get("limit", 20))
            if "after_id" in q:
                ids = ids[ids.index(q["after_id"]) + 1:] if q["after_id"] in ids else []
            if "before_id" in q:
                ids = ids[:ids.index(q["before_id"])] if q["before_id"] in ids else []
                page = ids[-limit:]
                more = len(ids) > limit
            else:
                page = ids[:limit]
                more = len(ids) > limit
            data = [batch_object(st.batches[i]) for i in page]
        return self.send(200, {"data": data, "has_more": more,
                               "first_id": page[0] if page else None,
                               "last_id": page[-1] if page else None})

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_DELETE(self):
        self.handle_any("DELETE")


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    args = sys.argv[1:]
    key, polls = None, 1
    while args:
        a = args.pop(0)
        if a == "--key":
            key = args.pop(0)
        elif a == "--polls":
            polls = int(args.pop(0))
    if not key:
        sys.exit("usage: anthropic_mock.py --key KEY [--polls N]")
    srv = Server(("127.0.0.1", 0), Handler)
    srv.state = State(key, polls)
    serve(srv)


if __name__ == "__main__":
    main()
