#!/usr/bin/env python3
"""mock_server.py - a scripted HTTP server for the library's transport tests.

Usage: mock_server.py CASE.json [--spec openai-batch-openapi.yaml]
                                [--body-file PATH]

Listens on 127.0.0.1 on a free port and prints the port as the first line
of stdout. The case file (JSON) lists the requests the client must send,
in order, each with its canned reply:

  {"name": "...", "prefix": "/v1",
   "requests": [
     {"repeat": 1,
      "expect": {"method": "POST", "path": "/v1/batches",
                 "query": {"limit": "2"},          # exact set of parameters
                 "headers": {"Authorization": "Bearer sk-test",
                             "OpenAI-Organization": null},  # null: absent
                 "json": {...},                    # exact body
                 "body_empty": true,               # no body bytes
                 "multipart": {"purpose": "batch",
                               "file": {"filename": "a.jsonl",
                                        "content": "...", "size": 12,
                                        "sha256": "..."}},
                 "range": "bytes=10-"},           # Range header; null: absent
      "reply": {"status": 200, "headers": {...},
                "json": {...} | "body": "text" |
                "body_repeat": {"text": "x", "count": 10} |
                "body_file": "@arg" (the --body-file) | "path",
                "ranges": true,      # honour Range with 206
                "fault": "reset" | "truncate" | "stall" | "close",
                "after_bytes": 100,  # reset/truncate after this many body bytes
                "stall_s": 2.0}}]}

Every request is also checked against the spec (--spec, by default
tests/data/openapi/openai-batch-openapi.yaml; the server refuses to start
when it cannot read it): operation exists
(method + path), POST /batches body and POST /files fields against the
CreateBatchRequest / CreateFileRequest schemas, GET /batches query names.

GET /__mock/report answers {"mismatches": [...], "served": N,
"expected": M, "connections": K, "log": [...], "uploads": [{field:
{filename, size, sha256}}, ...], "spec_checked": true}; the test asserts that there
are no mismatches and that every expected request came. /__mock/ requests
are not counted. The server stops on SIGTERM, when its parent process
ends, or after 10 minutes.
"""
import hashlib
import json
import os
import re
import signal
import socket
import socketserver
import struct
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler

# The OpenAPI description of the Files + Batches API (tests/data/README.md).
DEFAULT_SPEC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                            "data", "openapi", "openai-batch-openapi.yaml")

# ---------------------------------------------------------------- spec


class Spec:
    """The few facts of the OpenAPI file the checks need, read with a
    line scanner (no YAML library in the standard library)."""

    def __init__(self, path):
        self.ops = set()          # (METHOD, "/batches/{batch_id}")
        self.query = {}           # (METHOD, template) -> set of names
        self.schemas = {}         # name -> {"props": set, "required": set,
                                  #          "enums": {prop: [..]}}
        if path:
            self._read(path)

    def _read(self, path):
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
        section = None
        cur_path = None
        cur_op = None
        param = None
        schema = None
        prop = None
        in_required = in_props = in_enum = False
        for ln in lines:
            if not ln.strip():
                continue
            ind = len(ln) - len(ln.lstrip(" "))
            text = ln.strip()
            if ind == 0:
                section = text.rstrip(":")
                continue
            if section == "paths":
                if ind == 2 and text.endswith(":"):
                    cur_path = text[:-1]
                    cur_op = None
                elif ind == 4 and text[:-1] in ("get", "post", "delete", "put", "patch"):
                    cur_op = (text[:-1].upper(), cur_path)
                    self.ops.add(cur_op)
                    self.query.setdefault(cur_op, set())
                elif cur_op and ind == 6:
                    param = {} if text.startswith("- ") else None
                    if param is not None:
                        k, _, v = text[2:].partition(":")
                        param[k.strip()] = v.strip()
                elif cur_op and ind == 8 and param is not None and ":" in text:
                    k, _, v = text.partition(":")
                    param[k.strip()] = v.strip()
                if param and param.get("in") == "query" and "name" in param:
                    self.query[cur_op].add(param["name"])
            elif section == "components":
                if ind == 4 and text.endswith(":"):
                    schema = {"props": set(), "required": set(), "enums": {}}
                    self.schemas[text[:-1]] = schema
                    prop = None
                    in_required = in_props = in_enum = False
                elif schema is None or ind < 4:
                    continue
                elif ind == 6:
                    if text.startswith("- ") and in_required:
                        schema["required"].add(text[2:])
                    else:
                        in_required = text == "required:"
                        in_props = text == "properties:"
                        prop = None
                elif ind == 8 and in_props and text.endswith(":"):
                    prop = text[:-1]
                    schema["props"].add(prop)
                    in_enum = False
                elif ind == 10 and prop:
                    if text == "enum:":
                        in_enum = True
                        schema["enums"][prop] = []
                    elif in_enum and text.startswith("- "):
                        schema["enums"][prop].append(text[2:])
                    else:
                        in_enum = False

    def template(self, method, path):
        for (m, t) in self.ops:
            if m != method:
                continue
            rx = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(t)) + "$"
            if re.match(rx, path):
                return t
        return None


# ---------------------------------------------------------------- multipart


class PartSink:
    KEEP = 1 << 20

    def __init__(self, headers):
        self.headers = headers
        disp = headers.get("content-disposition", "")
        m = re.search(r'\bname="([^"]*)"', disp)
        self.name = m.group(1) if m else None
        m = re.search(r'\bfilename="([^"]*)"', disp)
        self.filename = m.group(1) if m else None
        self.size = 0
        self.sha = hashlib.sha256()
        self.kept = bytearray()

    def feed(self, data):
        self.size += len(data)
        self.sha.update(data)
        if len(self.kept) < self.KEEP:
            self.kept += data[: self.KEEP - len(self.kept)]


def parse_multipart(chunks, boundary):
    """Streams a multipart body (an iterator of bytes); memory stays flat
    (each part keeps at most 1 MiB plus its size and sha256)."""
    delim = b"--" + boundary
    sep = b"\r\n" + delim
    buf = bytearray()
    parts = []
    it = iter(chunks)
    eof = False

    def more():
        nonlocal eof
        try:
            buf.extend(next(it))
            return True
        except StopIteration:
            eof = True
            return False

    while len(buf) < len(delim) + 2 and more():
        pass
    if not buf.startswith(delim):
        raise ValueError("body does not start with the boundary")
    del buf[: len(delim)]
    while True:
        while len(buf) < 2 and more():
            pass
        if buf.startswith(b"--"):
            return parts
        if not buf.startswith(b"\r\n"):
            raise ValueError("bad boundary line")
        del buf[:2]
        while b"\r\n\r\n" not in buf:
            if not more():
                raise ValueError("part headers cut off")
        head, _, _ = bytes(buf).partition(b"\r\n\r\n")
        del buf[: len(head) + 4]
        headers = {}
        for hl in head.decode("utf-8", "replace").split("\r\n"):
            k, _, v = hl.partition(":")
            headers[k.strip().lower()] = v.strip()
        part = PartSink(headers)
        parts.append(part)
        while True:
            i = buf.find(sep)
            if i >= 0:
                part.feed(bytes(buf[:i]))
                del buf[: i + len(sep)]
                break
            keep = len(sep) - 1
            if len(buf) > keep:
                part.feed(bytes(buf[: len(buf) - keep]))
                del buf[: len(buf) - keep]
            if not more():
                raise ValueError("part cut off")


# ---------------------------------------------------------------- server


class State:
    def __init__(self, case, spec, body_file, case_dir):
        self.lock = threading.Lock()
        self.queue = []
        for r in case.get("requests", []):
            for _ in range(int(r.get("repeat", 1))):
                self.queue.append(r)
        self.expected = len(self.queue)
        self.served = 0
        self.mismatches = []
        self.log = []
        self.connections = set()
        self.uploads = []
        self.prefix = case.get("prefix", "/v1")
        self.spec = spec
        self.body_file = body_file
        self.case_dir = case_dir

    def bad(self, n, msg):
        with self.lock:
            self.mismatches.append("request %d: %s" % (n, msg))


def json_equal(a, b):
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mock/1"

    def log_message(self, *args):  # quiet
        pass

    def setup(self):
        super().setup()
        st = self.server.state
        with st.lock:
            st.connections.add(self.client_address)

    # -- body reading (streamed) --
    def body_chunks(self):
        te = self.headers.get("Transfer-Encoding", "")
        if "chunked" in te.lower():
            while True:
                line = self.rfile.readline()
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return
                left = size
                while left:
                    d = self.rfile.read(min(left, 1 << 20))
                    if not d:
                        return
                    left -= len(d)
                    yield d
                self.rfile.readline()
        else:
            left = int(self.headers.get("Content-Length") or 0)
            while left > 0:
                d = self.rfile.read(min(left, 1 << 20))
                if not d:
                    return
                left -= len(d)
                yield d

    def handle_one(self, method):
        st = self.server.state
        url = urllib.parse.urlsplit(self.path)
        if url.path.startswith("/__mock/"):
            for _ in self.body_chunks():
                pass
            with st.lock:
                rep = {"mismatches": st.mismatches, "served": st.served,
                       "expected": st.expected,
                       "connections": len(st.connections), "log": st.log,
                       "uploads": st.uploads,
                       "spec_checked": bool(st.spec.ops)}
            self.send_json(200, rep, {})
            return
        with st.lock:
            n = st.served + 1
            entry = st.queue.pop(0) if st.queue else None
            st.served += 1
            st.log.append("%s %s" % (method, self.path))
        if entry is None:
            for _ in self.body_chunks():
                pass
            st.bad(n, "unexpected request %s %s" % (method, self.path))
            self.send_json(500, {"error": {"message": "mock: unexpected request",
                                           "type": "mock"}}, {})
            return
        self.check(n, method, url, entry.get("expect", {}))
        self.reply(entry.get("reply", {}))

    # -- checks --
    def check(self, n, method, url, exp):
        st = self.server.state
        query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        if "method" in exp and exp["method"] != method:
            st.bad(n, "method %s, expected %s" % (method, exp["method"]))
        if "path" in exp and exp["path"] != url.path:
            st.bad(n, "path %s, expected %s" % (url.path, exp["path"]))
        if "query" in exp and exp["query"] != query:
            st.bad(n, "query %r, expected %r" % (query, exp["query"]))
        for k, v in exp.get("headers", {}).items():
            got = self.headers.get(k)
            if v is None and got is not None:
                st.bad(n, "header %s present (should be absent)" % k)
            elif v is not None and got != v:
                st.bad(n, "header %s: %r, expected %r" % (k, got, v))
        if "range" in exp:
            got = self.headers.get("Range")
            if got != exp["range"]:
                st.bad(n, "Range %r, expected %r" % (got, exp["range"]))
        ctype = self.headers.get("Content-Type", "")
        body = None
        parts = None
        if ctype.startswith("multipart/form-data"):
            m = re.search(r"boundary=\"?([^\";]+)", ctype)
            try:
                parts = parse_multipart(self.body_chunks(), m.group(1).encode())
            except (ValueError, AttributeError) as e:
                st.bad(n, "multipart: %s" % e)
                parts = []
            with st.lock:
                st.uploads.append({p.name: {"filename": p.filename, "size": p.size,
                                            "sha256": p.sha.hexdigest()}
                                   for p in parts})
        else:
            data = bytearray()
            for d in self.body_chunks():
                if len(data) < (64 << 20):
                    data += d
            body = bytes(data)
        if exp.get("body_empty") and (body or parts):
            st.bad(n, "a body was sent (%d bytes)" % len(body or b""))
        if "json" in exp:
            if not ctype.startswith("application/json"):
                st.bad(n, "Content-Type %r for a JSON body" % ctype)
            try:
                got = json.loads(body or b"")
                if not json_equal(got, exp["json"]):
                    st.bad(n, "JSON body %s, expected %s" %
                           (json.dumps(got, sort_keys=True),
                            json.dumps(exp["json"], sort_keys=True)))
            except ValueError:
                st.bad(n, "body is not JSON: %r" % (body[:200],))
        if "multipart" in exp:
            self.check_multipart(n, parts, exp["multipart"])
        self.check_spec(n, method, url.path, query, body, parts)

    def check_multipart(self, n, parts, exp):
        st = self.server.state
        if parts is None:
            st.bad(n, "not a multipart body")
            return
        names = [p.name for p in parts]
        if sorted(names) != sorted(exp.keys()):
            st.bad(n, "multipart fields %r, expected %r" % (names, sorted(exp.keys())))
        for p in parts:
            want = exp.get(p.name)
            if want is None:
                continue
            if isinstance(want, str):
                if p.filename is not None or bytes(p.kept).decode("utf-8", "replace") != want:
                    st.bad(n, "field %s = %r, expected %r" % (p.name, bytes(p.kept[:100]), want))
                continue
            if "filename" in want and p.filename != want["filename"]:
                st.bad(n, "file name %r, expected %r" % (p.filename, want["filename"]))
            if "content" in want and bytes(p.kept).decode("utf-8", "replace") != want["content"]:
                st.bad(n, "file content %r, expected %r" % (bytes(p.kept[:100]), want["content"][:100]))
            if "size" in want and p.size != want["size"]:
                st.bad(n, "file size %d, expected %d" % (p.size, want["size"]))
            if "sha256" in want and p.sha.hexdigest() != want["sha256"]:
                st.bad(n, "file sha256 %s, expected %s" % (p.sha.hexdigest(), want["sha256"]))

    def check_spec(self, n, method, path, query, body, parts):
        st = self.server.state
        spec = st.spec
        if not spec.ops:
            return
        if not path.startswith(st.prefix + "/"):
            st.bad(n, "spec: path %s is not under %s" % (path, st.prefix))
            return
        tpl = spec.template(method, path[len(st.prefix):])
        if tpl is None:
            st.bad(n, "spec: no operation %s %s" % (method, path))
            return
        allowed = spec.query.get((method, tpl), set()) | {"api-version"}
        for k in query:
            if k not in allowed:
                st.bad(n, "spec: query parameter %r not in %s %s" % (k, method, tpl))
        if "limit" in query:
            try:
                if not 1 <= int(query["limit"]) <= 100:
                    raise ValueError
            except ValueError:
                st.bad(n, "spec: limit %r not in 1..100" % query["limit"])
        if (method, tpl) == ("POST", "/batches"):
            self.check_schema(n, "CreateBatchRequest", body)
        elif (method, tpl) == ("POST", "/files"):
            if parts is None:
                st.bad(n, "spec: POST /files must be multipart/form-data")
                return
            sch = spec.schemas.get("CreateFileRequest")
            fields = {p.name: p for p in parts}
            for r in sch["required"]:
                if r not in fields:
                    st.bad(n, "spec: multipart field %r missing" % r)
            for name, p in fields.items():
                base = name.split("[")[0]
                if base not in sch["props"]:
                    st.bad(n, "spec: multipart field %r not in CreateFileRequest" % name)
                if name == "purpose" and bytes(p.kept).decode() not in sch["enums"].get("purpose", []):
                    st.bad(n, "spec: purpose %r not allowed" % bytes(p.kept))
                if name == "expires_after[anchor]" and bytes(p.kept) != b"created_at":
                    st.bad(n, "spec: expires_after[anchor] must be created_at")
                if name == "expires_after[seconds]":
                    s = int(bytes(p.kept) or b"0")
                    if not 3600 <= s <= 2592000:
                        st.bad(n, "spec: expires_after[seconds] %d out of range" % s)
        elif body and method in ("GET", "DELETE") or (tpl.endswith("/cancel") and body):
            st.bad(n, "spec: %s %s takes no body" % (method, tpl))

    def check_schema(self, n, name, body):
        st = self.server.state
        sch = st.spec.schemas.get(name)
        try:
            obj = json.loads(body or b"")
        except ValueError:
            st.bad(n, "spec: %s body is not JSON" % name)
            return
        if not isinstance(obj, dict):
            st.bad(n, "spec: %s body is not an object" % name)
            return
        for r in sch["required"]:
            if r not in obj:
                st.bad(n, "spec: %s.%s missing" % (name, r))
        for k, v in obj.items():
            if k not in sch["props"]:
                st.bad(n, "spec: %s has no property %r" % (name, k))
            enum = sch["enums"].get(k)
            if enum and v not in enum:
                st.bad(n, "spec: %s.%s = %r not in %r" % (name, k, v, enum))
        md = obj.get("metadata")
        if md is not None:
            if not isinstance(md, dict) or len(md) > 16 or any(
                    len(k) > 64 or not isinstance(v, str) or len(v) > 512
                    for k, v in md.items()):
                st.bad(n, "spec: metadata breaks its limits")
        oea = obj.get("output_expires_after")
        if oea is not None:
            if oea.get("anchor") != "created_at" or not 3600 <= oea.get("seconds", 0) <= 2592000:
                st.bad(n, "spec: output_expires_after %r" % (oea,))

    # -- replies --
    def send_json(self, status, obj, headers):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def body_source(self, rep):
        """(size, reader(start) -> iterator of bytes)."""
        st = self.server.state
        if "body_file" in rep:
            path = st.body_file if rep["body_file"] == "@arg" else \
                os.path.join(st.case_dir, rep["body_file"])
            size = os.path.getsize(path)

            def read_file(start):
                with open(path, "rb") as f:
                    f.seek(start)
                    while True:
                        d = f.read(1 << 20)
                        if not d:
                            return
                        yield d
            return size, read_file
        if "body_repeat" in rep:
            unit = rep["body_repeat"]["text"].encode()
            count = int(rep["body_repeat"]["count"])
            size = len(unit) * count

            def read_rep(start):
                block = unit * max(1, (1 << 20) // len(unit))
                pos = start
                while pos < size:
                    off = pos % len(unit)
                    d = block[off: off + min(len(block) - off, size - pos)]
                    pos += len(d)
                    yield d
            return size, read_rep
        if "json" in rep:
            data = json.dumps(rep["json"]).encode()
        else:
            data = rep.get("body", "").encode()
        return len(data), lambda start: iter([data[start:]])

    def reply(self, rep):
        fault = rep.get("fault")
        if fault == "stall":
            time.sleep(float(rep.get("stall_s", 2)))
            self.close_connection = True
            return
        if fault == "close":
            self.close_connection = True
            return
        size, reader = self.body_source(rep)
        status = int(rep.get("status", 200))
        start = 0
        rng = self.headers.get("Range")
        if rep.get("ranges") and rng and status == 200:
            m = re.match(r"bytes=(\d+)-$", rng)
            if m and int(m.group(1)) < size:
                start = int(m.group(1))
                status = 206
            elif m:
                self.send_response(416)
                self.send_header("Content-Range", "bytes */%d" % size)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        self.send_response(status)
        headers = dict(rep.get("headers", {}))
        if "json" in rep:
            headers.setdefault("Content-Type", "application/json")
        for k, v in headers.items():
            self.send_header(k, str(v))
        self.send_header("Content-Length", str(size - start))
        if status == 206:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, size - 1, size))
        if rep.get("close"):
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        limit = None
        if fault in ("reset", "truncate"):
            limit = int(rep.get("after_bytes", 0))
        sent = 0
        for d in reader(start):
            if limit is not None and sent + len(d) > limit:
                d = d[: limit - sent]
            if d:
                self.wfile.write(d)
                sent += len(d)
            if limit is not None and sent >= limit:
                break
        self.wfile.flush()
        if fault == "reset":
            # RST instead of FIN
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.close_connection = True
        elif fault == "truncate":
            self.connection.shutdown(socket.SHUT_WR)
            self.close_connection = True

    def do_GET(self):
        self.handle_one("GET")

    def do_POST(self):
        self.handle_one("POST")

    def do_DELETE(self):
        self.handle_one("DELETE")

    def do_PUT(self):
        self.handle_one("PUT")


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # a client that drops the connection is part of some tests
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


def main():
    args = sys.argv[1:]
    spec_path = None
    body_file = None
    case_path = None
    while args:
        a = args.pop(0)
        if a == "--spec":
            spec_path = args.pop(0)
        elif a == "--body-file":
            body_file = args.pop(0)
        else:
            case_path = a
    if not case_path:
        sys.exit("usage: mock_server.py CASE.json [--spec FILE] [--body-file FILE]")
    with open(case_path, encoding="utf-8") as f:
        case = json.load(f)
    if spec_path is None:
        spec_path = DEFAULT_SPEC
    try:
        spec = Spec(spec_path)
    except OSError as e:
        sys.exit("mock_server.py: cannot read the OpenAPI description: %s" % e)
    if not spec.ops or "CreateBatchRequest" not in spec.schemas \
            or "CreateFileRequest" not in spec.schemas:
        sys.exit("mock_server.py: %s has no Files + Batches operations "
                 "and schemas to check requests against" % spec_path)
    srv = Server(("127.0.0.1", 0), Handler)
    srv.state = State(case, spec, body_file, os.path.dirname(os.path.abspath(case_path)))
    serve(srv)


def serve(srv):
    """Prints the port, serves until SIGTERM, the parent's end, or 10
    minutes (shared with anthropic_mock.py)."""
    signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
    threading.Timer(600, lambda: os._exit(3)).start()
    parent = os.getppid()

    def watch_parent():
        # the test that started us died: do not outlive it
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(4)
    threading.Thread(target=watch_parent, daemon=True).start()
    print(srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
