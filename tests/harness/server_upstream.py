#!/usr/bin/env python3
"""A fake OpenAI-compatible upstream for the server tests.

Answers POST .../chat/completions with a small chat completion, counts the
calls per prompt, and can be told to be slow or to fail:

  server_upstream.py --port-file F [--delay-ms N] [--fault-every K]
                     [--always-fail WORD] [--max-inflight N]

--fault-every K: the first attempt of every K-th distinct prompt fails, in
turn with 429 (Retry-After: 0), 500, a connection reset and a stall
(longer than the server's upstream timeout); the next attempt succeeds.
--always-fail WORD: prompts containing WORD always get a 500.
--knee K: a request takes --delay-ms x max(1, in flight / K), as
continuous batching does: throughput grows with the number in flight up
to K, then stays flat (the benchmark's simulated server,
bench/serve/adaptive.py). Without --max-inflight this is the latency
knee: past K the answers only get slower, never 429.
--max-inflight N: past N requests in flight, answers 429 with Retry-After
(1) and retry-after-ms (100), as an overloaded model server does.
GET /count returns {"calls": N, "per_prompt": {prompt: calls},
"rejected": 429s of --max-inflight, "max_inflight": most seen at once
(counted with or without --max-inflight)}.
"""
import argparse
import json
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
calls = 0
per_prompt = {}
order = {}
inflight = 0
max_seen = 0
rejected = 0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send_json(self, status, obj, headers=None):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        with lock:
            self.send_json(200, {"calls": calls, "per_prompt": per_prompt,
                                 "rejected": rejected,
                                 "max_inflight": max_seen})

    def do_POST(self):
        global inflight, max_seen, rejected
        n = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(n) or b"{}")
        with lock:
            full = ARGS.max_inflight and inflight >= ARGS.max_inflight
            if full:
                rejected += 1
            else:
                inflight += 1
                max_seen = max(max_seen, inflight)
        if full:
            self.send_json(429, {"error": {"message": "queue full",
                                           "type": "requests",
                                           "param": None,
                                           "code": "rate_limit_exceeded"}},
                           {"Retry-After": "1", "retry-after-ms": "100"})
            return
        try:
            self.answer(body)
        finally:
            with lock:
                inflight -= 1

    def answer(self, body):
        global calls
        msgs = body.get("messages") or [{"content": ""}]
        prompt = str(msgs[-1].get("content"))
        with lock:
            calls += 1
            per_prompt[prompt] = per_prompt.get(prompt, 0) + 1
            attempt = per_prompt[prompt]
            if prompt not in order:
                order[prompt] = len(order)
            rank = order[prompt]
        if ARGS.delay_ms:
            scale = 1.0
            if ARGS.knee:
                with lock:
                    scale = max(1.0, inflight / float(ARGS.knee))
            time.sleep(ARGS.delay_ms / 1000.0 * scale)
        if ARGS.always_fail and ARGS.always_fail in prompt:
            self.send_json(500, {"error": {"message": "always failing",
                                           "type": "server_error",
                                           "param": None, "code": None}})
            return
        if ARGS.fault_every and attempt == 1 and rank % ARGS.fault_every == 0:
            kind = (rank // ARGS.fault_every) % 4
            if kind == 0:
                self.send_json(429, {"error": {"message": "slow down",
                                               "type": "requests",
                                               "param": None,
                                               "code": "rate_limit_exceeded"}},
                               {"Retry-After": "0"})
                return
            if kind == 1:
                self.send_json(500, {"error": {"message": "boom",
                                               "type": "server_error",
                                               "param": None, "code": None}})
                return
            if kind == 2:
                # connection reset: RST instead of an answer
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
                self.connection.close()
                self.close_connection = True
                return
            time.sleep(ARGS.stall_s)
            self.close_connection = True
            return
        words = len(prompt.split())
        self.send_json(200, {
            "id": "chatcmpl-fake", "object": "chat.completion",
            "created": int(time.time()), "model": body.get("model", "m"),
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant",
                                     "content": "echo: " + prompt}}],
            "usage": {"prompt_tokens": words, "completion_tokens": words + 1,
                      "total_tokens": 2 * words + 1}},
            {"x-request-id": "req_fake_%d" % rank})


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--delay-ms", type=int, default=0)
    ap.add_argument("--fault-every", type=int, default=0)
    ap.add_argument("--always-fail", default="")
    ap.add_argument("--stall-s", type=float, default=3.0)
    ap.add_argument("--max-inflight", type=int, default=0)
    ap.add_argument("--knee", type=int, default=0)
    ARGS = ap.parse_args()
    # a listen backlog for bursts of new connections (the default, 5,
    # drops SYNs past it and the clients wait a second to send again)
    ThreadingHTTPServer.request_queue_size = 1024
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    with open(ARGS.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(ARGS.port_file + ".tmp", ARGS.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
