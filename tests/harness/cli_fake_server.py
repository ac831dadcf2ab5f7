#!/usr/bin/env python3
"""A small fake of the OpenAI Files + Batches API for the command's tests
(crash/resume, splitting, retries, expiry, cancellation).

Each GET of a batch moves it one step: validating -> in_progress ->
finalizing -> completed. The output file lists lines in REVERSE input
order (the real API gives no order either). Behaviour by custom_id:
  contains "fail"   -> HTTP 400 answer in the error file, always
  contains "flaky"  -> HTTP 500 answer the first time that custom_id
                       is seen, success afterwards
Behaviour by batch metadata "fake_outcome":
  expired -> the batch expires with the first half of its lines done,
             the rest in the error file as batch_expired (a line left
             undone once runs the next time: retries succeed)
  slow    -> stays in_progress until cancelled
  failed  -> status failed with errors.data (no files)
and "fake_validate_polls": N keeps the batch validating for N GETs;
"fake_create_lost" makes a create's batch and answers 502 (its answer
lost); "fake_outcome_partN" is the outcome of part N's batch (oaibatch_part N,
a retry's too) instead of "fake_outcome"; "fake_create_delay": S answers a
create S seconds late (its batch made then); "fake_create_fails_partN"
answers part N's first create 500 (no batch made), the next ones as
usual; "fake_cancel_too_late" completes the batch as a cancel of it comes
(which then answers 409, as for any batch that has ended). An upload whose bytes hold "lose-upload-answer" is stored and
answered 502 the first time those bytes come (its answer lost); the
DELETE of a file whose bytes hold "lose-delete-answer" deletes it and
answers 502, the first time.
GET /v1/files lists the files (purpose, limit, after; newest first),
DELETE /v1/files/ID deletes one.
GET /_stats gives counts of uploads, creates, lists, cancels, file
lists and file deletes; POST /_knobs {"files_list": false} makes GET
/v1/files answer 404 (a gateway without it) until set true again, and
{"file_deletes": false} answers DELETE /v1/files/ID 403 (the file kept).

Usage: cli_fake_server.py --port-file PATH
"""
import argparse
import json
import os
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
FILES = {}      # id -> {"bytes": b"", "purpose": str, "filename": str}
BATCHES = {}    # id -> dict
ORDER = []      # batch ids, oldest first
SEEN = {}       # custom_id -> attempts
STOPPED = set() # custom_ids once left undone by an expiry or a cancel
FAILED_CREATES = set()  # (job, "fake_create_fails_partN") failed once
LOST_UPLOADS = set()    # bytes of uploads whose answer was lost once
LOST_DELETES = set()    # files whose delete's answer was lost once
KNOBS = {"files_list": True, "file_deletes": True}
STATS = {"uploads": 0, "creates": 0, "lists": 0, "cancels": 0,
         "file_lists": 0, "file_deletes": 0}
COUNTER = [0]


def new_id(prefix):
    COUNTER[0] += 1
    return "%s_fake%06d" % (prefix, COUNTER[0])


def file_obj(fid):
    f = FILES[fid]
    return {"id": fid, "object": "file", "bytes": len(f["bytes"]),
            "created_at": f["created_at"], "expires_at": None,
            "filename": f["filename"], "purpose": f["purpose"]}


def answer(line, status_code, text):
    body = {"id": "chatcmpl-" + line["custom_id"],
            "object": "chat.completion", "created": int(time.time()),
            "model": line.get("body", {}).get("model", "fake"),
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": text}}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 2,
                      "total_tokens": 3}}
    if status_code >= 400:
        body = {"error": {"message": text, "type": "invalid_request_error",
                          "code": "fake_%d" % status_code, "param": None}}
    return {"id": new_id("batch_req"), "custom_id": line["custom_id"],
            "response": {"status_code": status_code,
                         "request_id": new_id("req"), "body": body},
            "error": None}


def stop_line(line, code):
    return {"id": new_id("batch_req"), "custom_id": line["custom_id"],
            "response": None,
            "error": {"code": code, "message": "This request could not be "
                      "executed before the batch ended."}}


def finish(b, final, done_share=1.0):
    """Runs the lines and writes the output and error files."""
    raw = FILES[b["input_file_id"]]["bytes"].decode()
    lines = [json.loads(x) for x in raw.splitlines() if x.strip()]
    n_done = len(lines) if done_share >= 1.0 else int(len(lines) * done_share)
    out, err = [], []
    completed = failed = 0
    for i, line in enumerate(lines):
        cid = line["custom_id"]
        if i >= n_done and cid not in STOPPED:
            STOPPED.add(cid)
            err.append(stop_line(line, "batch_expired" if final == "expired"
                                 else "batch_cancelled"))
            continue
        SEEN[cid] = SEEN.get(cid, 0) + 1
        last = line.get("body", {}).get("messages", [{}])[-1]
        prompt = last.get("content", "")
        if "fail" in cid:
            err.append(answer(line, 400, "refused: " + cid))
            failed += 1
        elif "flaky" in cid and SEEN[cid] == 1:
            err.append(answer(line, 500, "flaky failure: " + cid))
            failed += 1
        else:
            out.append(answer(line, 200, "echo: %s" % prompt))
            completed += 1
    out.reverse()
    if out:
        fid = new_id("file")
        FILES[fid] = {"bytes": "".join(json.dumps(x) + "\n" for x in out)
                      .encode(), "purpose": "batch_output",
                      "filename": "output.jsonl",
                      "created_at": int(time.time())}
        b["output_file_id"] = fid
    if err:
        fid = new_id("file")
        FILES[fid] = {"bytes": "".join(json.dumps(x) + "\n" for x in err)
                      .encode(), "purpose": "batch_output",
                      "filename": "errors.jsonl",
                      "created_at": int(time.time())}
        b["error_file_id"] = fid
    b["status"] = final
    b[final + "_at"] = int(time.time())
    b["request_counts"] = {"total": len(lines), "completed": completed,
                           "failed": failed}


def step(b):
    md = b.get("metadata") or {}
    # "fake_outcome_partN": the outcome of part N's batch alone (a retry
    # is a part too), else "fake_outcome"
    outcome = md.get("fake_outcome_part%s" % md.get("oaibatch_part", ""),
                     md.get("fake_outcome", ""))
    s = b["status"]
    raw = FILES[b["input_file_id"]]["bytes"].decode()
    total = len([x for x in raw.splitlines() if x.strip()])
    if s == "validating":
        hold = int((b.get("metadata") or {}).get("fake_validate_polls", 0))
        b["_polls"] = b.get("_polls", 0) + 1
        if b["_polls"] <= hold:
            return
        if outcome == "failed":
            b["status"] = "failed"
            b["failed_at"] = int(time.time())
            b["errors"] = {"object": "list", "data": [
                {"code": "invalid_request", "message": "fake failure",
                 "param": None, "line": 1}]}
            return
        b["status"] = "in_progress"
        b["in_progress_at"] = int(time.time())
        b["request_counts"] = {"total": total, "completed": 0, "failed": 0}
    elif s == "in_progress":
        if outcome == "slow":
            return
        if outcome == "expired":
            finish(b, "expired", 0.5)
            return
        b["status"] = "finalizing"
        b["finalizing_at"] = int(time.time())
        b["request_counts"] = {"total": total, "completed": total,
                               "failed": 0}
    elif s == "finalizing":
        finish(b, "completed")
    elif s == "cancelling":
        finish(b, "cancelled", 0.5)


def parse_multipart(body, ctype):
    m = re.search(r'boundary="?([^";]+)"?', ctype)
    if not m:
        return {}
    boundary = b"--" + m.group(1).encode()
    fields = {}
    for part in body.split(boundary):
        # CRLF after the boundary, CRLF before the next one: the data's
        # own line ends are kept (its size is the file's)
        if part.startswith(b"\r\n"):
            part = part[2:]
        if part.endswith(b"\r\n"):
            part = part[:-2]
        if not part or part.startswith(b"--"):
            continue
        head, _, data = part.partition(b"\r\n\r\n")
        name = re.search(rb'name="([^"]+)"', head)
        fname = re.search(rb'filename="([^"]*)"', head)
        if name:
            fields[name.group(1).decode()] = (
                data, fname.group(1).decode() if fname else None)
    return fields


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send_json(self, code, obj):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-request-id", new_id("req"))
        self.end_headers()
        self.wfile.write(data)

    def not_found(self, what):
        self.send_json(404, {"error": {"message": "No such %s" % what,
                                       "type": "invalid_request_error",
                                       "code": None, "param": None}})

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_GET(self):
        path, _, query = self.path.partition("?")
        q = dict(x.split("=", 1) for x in query.split("&") if "=" in x)
        with LOCK:
            if path == "/_stats":
                return self.send_json(200, STATS)
            if path == "/v1/files" and not KNOBS["files_list"]:
                return self.not_found("route")
            if path == "/v1/files":
                STATS["file_lists"] += 1
                limit = int(q.get("limit", 10000))
                ids = [i for i in sorted(FILES, key=lambda i: (
                    FILES[i]["created_at"], i), reverse=True)
                    if q.get("purpose") in (None, FILES[i]["purpose"])]
                if q.get("order") == "asc":
                    ids.reverse()
                if "after" in q and q["after"] in ids:
                    ids = ids[ids.index(q["after"]) + 1:]
                page = [file_obj(i) for i in ids[:limit]]
                return self.send_json(200, {
                    "object": "list", "data": page,
                    "first_id": page[0]["id"] if page else None,
                    "last_id": page[-1]["id"] if page else None,
                    "has_more": len(ids) > limit})
            m = re.fullmatch(r"/v1/files/([^/]+)(/content)?", path)
            if m:
                fid = m.group(1)
                if fid not in FILES:
                    return self.not_found("file")
                if not m.group(2):
                    return self.send_json(200, file_obj(fid))
                data = FILES[fid]["bytes"]
                start = 0
                rng = self.headers.get("Range")
                if rng and rng.startswith("bytes="):
                    start = int(rng[6:].split("-")[0] or 0)
                chunk = data[start:]
                self.send_response(206 if start else 200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(chunk)))
                self.end_headers()
                self.wfile.write(chunk)
                return
            m = re.fullmatch(r"/v1/batches/([^/]+)", path)
            if m:
                b = BATCHES.get(m.group(1))
                if not b:
                    return self.not_found("batch")
                step(b)
                return self.send_json(200, {k: v for k, v in b.items()
                                            if not k.startswith("_")})
            if path == "/v1/batches":
                STATS["lists"] += 1
                limit = int(q.get("limit", 20))
                ids = list(reversed(ORDER))
                if "after" in q and q["after"] in ids:
                    ids = ids[ids.index(q["after"]) + 1:]
                page = [BATCHES[i] for i in ids[:limit]]
                return self.send_json(200, {
                    "object": "list", "data": page,
                    "first_id": page[0]["id"] if page else None,
                    "last_id": page[-1]["id"] if page else None,
                    "has_more": len(ids) > limit})
        self.not_found("route")

    def do_POST(self):
        path = self.path.partition("?")[0]
        body = self.read_body()
        with LOCK:
            if path == "/_knobs":
                KNOBS.update(json.loads(body or b"{}"))
                return self.send_json(200, KNOBS)
            if path == "/v1/files":
                fields = parse_multipart(body,
                                         self.headers.get("Content-Type", ""))
                if "file" not in fields:
                    return self.send_json(400, {"error": {
                        "message": "no file", "type": "invalid_request_error",
                        "code": None, "param": "file"}})
                STATS["uploads"] += 1
                fid = new_id("file")
                data, fname = fields["file"]
                purpose = fields.get("purpose", (b"batch", None))[0].decode()
                FILES[fid] = {"bytes": data, "purpose": purpose,
                              "filename": fname or "upload.jsonl",
                              "created_at": int(time.time())}
                if b"lose-upload-answer" in data and data not in LOST_UPLOADS:
                    LOST_UPLOADS.add(data)
                    return self.send_json(502, {"error": {
                        "message": "answer lost", "type": "server_error",
                        "code": None, "param": None}})
                return self.send_json(200, file_obj(fid))
            if path == "/v1/batches":
                req = json.loads(body or b"{}")
                if req.get("input_file_id") not in FILES:
                    return self.not_found("file")
                md = req.get("metadata") or {}
                time.sleep(float(md.get("fake_create_delay", 0)))
                key = "fake_create_fails_part%s" % md.get("oaibatch_part", "")
                once = (md.get("oaibatch_job"), key)
                if md.get(key) and once not in FAILED_CREATES:
                    FAILED_CREATES.add(once)
                    return self.send_json(500, {"error": {
                        "message": "create failed", "type": "server_error",
                        "code": None, "param": None}})
                STATS["creates"] += 1
                bid = new_id("batch")
                now = int(time.time())
                b = {"id": bid, "object": "batch",
                     "endpoint": req.get("endpoint"), "errors": None,
                     "input_file_id": req["input_file_id"],
                     "completion_window": req.get("completion_window", "24h"),
                     "status": "validating", "output_file_id": None,
                     "error_file_id": None, "created_at": now,
                     "in_progress_at": None, "expires_at": now + 86400,
                     "finalizing_at": None, "completed_at": None,
                     "failed_at": None, "expired_at": None,
                     "cancelling_at": None, "cancelled_at": None,
                     "request_counts": {"total": 0, "completed": 0,
                                        "failed": 0},
                     "metadata": req.get("metadata")}
                BATCHES[bid] = b
                ORDER.append(bid)
                if (req.get("metadata") or {}).get("fake_create_lost") and \
                        not b["metadata"].get("_lost_once"):
                    # made, and the answer lost (a gateway's 502): the
                    # batch exists although the client was told otherwise
                    b["metadata"] = dict(b["metadata"], _lost_once="1")
                    return self.send_json(502, {"error": {
                        "message": "bad gateway", "type": "server_error",
                        "code": None, "param": None}})
                return self.send_json(200, b)
            m = re.fullmatch(r"/v1/batches/([^/]+)/cancel", path)
            if m:
                b = BATCHES.get(m.group(1))
                if not b:
                    return self.not_found("batch")
                STATS["cancels"] += 1
                md = b.get("metadata") or {}
                if md.get("fake_cancel_too_late") and b["status"] in (
                        "validating", "in_progress", "finalizing"):
                    finish(b, "completed")  # it ends as the cancel comes
                if b["status"] not in ("validating", "in_progress",
                                       "finalizing", "cancelling"):
                    return self.send_json(409, {"error": {
                        "message": "Cannot cancel a batch with status"
                                   " '%s'." % b["status"],
                        "type": "invalid_request_error",
                        "code": "batch_not_cancellable", "param": None}})
                if b["status"] in ("validating", "in_progress", "finalizing"):
                    b["status"] = "cancelling"
                    b["cancelling_at"] = int(time.time())
                return self.send_json(200, b)
        self.not_found("route")

    def do_DELETE(self):
        path = self.path.partition("?")[0]
        with LOCK:
            m = re.fullmatch(r"/v1/files/([^/]+)", path)
            if m:
                if m.group(1) not in FILES:
                    return self.not_found("file")
                if not KNOBS["file_deletes"]:
                    return self.send_json(403, {"error": {
                        "message": "this key may not delete files",
                        "type": "invalid_request_error",
                        "code": "insufficient_permissions", "param": None}})
                lose = (b"lose-delete-answer" in FILES[m.group(1)]["bytes"]
                        and m.group(1) not in LOST_DELETES)
                del FILES[m.group(1)]
                STATS["file_deletes"] += 1
                if lose:
                    LOST_DELETES.add(m.group(1))
                    return self.send_json(502, {"error": {
                        "message": "answer lost", "type": "server_error",
                        "code": None, "param": None}})
                return self.send_json(200, {"id": m.group(1),
                                            "object": "file",
                                            "deleted": True})
        self.not_found("route")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    args = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, args.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
