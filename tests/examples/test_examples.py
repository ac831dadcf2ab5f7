#!/usr/bin/env python3
"""Runs every example of examples/ (and the runnable docs snippets) against
the local server with the built-in test model, and checks what they print:
the custom_ids, the outputs, the tool calls, the parsed structured values.

Each server is started here on 127.0.0.1 (port 0, read back from
--port-file) in a temporary data directory, and stopped at the end, also on
failure. The structured values printed by the examples are compared with
what the server actually put in the batch's output file, fetched over HTTP.

Usage: test_examples.py --server PATH --examples DIR [--snippets DIR]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request

FAILS = []
PASSES = [0]


def check(cond, what, detail=""):
    if cond:
        PASSES[0] += 1
    else:
        FAILS.append(what)
        print("FAIL: %s%s" % (what, ("\n" + detail) if detail else ""), flush=True)
    return cond


class Server:
    """oaibatch-server on a free port, in its own data directory."""

    def __init__(self, binary, tmp, name, *flags):
        self.dir = os.path.join(tmp, name)
        os.makedirs(self.dir)
        port_file = os.path.join(self.dir, "port")
        self.log = open(os.path.join(self.dir, "server.log"), "wb")
        self.proc = subprocess.Popen(
            [binary, "--host", "127.0.0.1", "--port", "0", "--data",
             os.path.join(self.dir, "data"), "--upstream", "builtin:test",
             "--port-file", port_file, "--quiet"] + list(flags),
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        port = ""
        while time.time() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                with open(port_file) as f:
                    port = f.read().strip()
                if port:
                    break
            except OSError:
                pass
            time.sleep(0.05)
        if not port.isdigit():
            self.stop()
            raise RuntimeError("server %s did not start:\n%s" % (name, self.log_text()))
        self.base = "http://127.0.0.1:%s/v1" % port

    def log_text(self):
        try:
            with open(os.path.join(self.dir, "server.log"), "rb") as f:
                return f.read().decode("utf-8", "replace")[-3000:]
        except OSError:
            return ""

    def get(self, path):
        with urllib.request.urlopen(self.base + path, timeout=30) as r:
            return r.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class Runner:
    def __init__(self, examples, snippets):
        self.examples = examples
        self.snippets = snippets
        env = dict(os.environ)
        for k in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID",
                  "OPENAI_PROJECT_ID", "OAB_MODEL", "AZURE_OPENAI_API_KEY"):
            env.pop(k, None)
        env["OAB_POLL_INTERVAL"] = "0.1"
        env["OAB_WAIT_TIMEOUT"] = "120"
        self.env = env

    def run(self, server, prog, *args, env=None, snippet=False, timeout=240):
        e = dict(self.env)
        if server is not None:
            e["OPENAI_BASE_URL"] = server if isinstance(server, str) else server.base
        if env:
            e.update(env)
        path = os.path.join(self.snippets if snippet else self.examples, prog)
        p = subprocess.run([path] + list(args), env=e, capture_output=True,
                           timeout=timeout)
        out = p.stdout.decode("utf-8", "replace")
        err = p.stderr.decode("utf-8", "replace")
        return p.returncode, out, err


def blocks(out):
    """'\\ncustom_id:\\n  lines...' sections -> {custom_id: [lines]}."""
    res = {}
    cur = None
    for line in out.splitlines():
        m = re.match(r"^([A-Za-z0-9_.-]+)(?: \((native|tool|prompted)\))?:$", line)
        if m:
            cur = line[:-1]
            res[cur] = []
        elif line.startswith("  ") and cur is not None:
            res[cur].append(line.strip())
        elif not line.strip():
            continue
        else:
            cur = None
    return res


def batch_id(out, label):
    m = re.search(r"^%s: (batch_\S+)$" % re.escape(label), out, flags=re.M)
    return m.group(1) if m else None


def output_lines(server, bid):
    """The lines of a batch's output file, as the server holds them."""
    job = json.loads(server.get("/batches/" + bid))
    fid = job.get("output_file_id")
    if not fid:
        return {}
    lines = {}
    for raw in server.get("/files/%s/content" % fid).decode().splitlines():
        if raw.strip():
            o = json.loads(raw)
            lines[o["custom_id"]] = o
    return lines


def calc_expected(expr):
    """What the example's calculator answers (for simple arithmetic)."""
    if not re.fullmatch(r"[0-9.+\-*/() \t]+", expr or ""):
        return None
    try:
        v = eval(expr, {"__builtins__": {}}, {})  # test side only, checked text
    except Exception:
        return None
    return "Result: %s" % ("%.12g" % v)


# ---------------------------------------------------------------------------


def test_basic(r, srv):
    rc, out, err = r.run(srv, "basic_batch")
    check(rc == 0, "basic_batch exits 0", err)
    bid = batch_id(out, "Batch job created")
    check(bid is not None, "basic_batch prints 'Batch job created: <id>'", out)
    if not bid:
        return None

    rc, out, err = r.run(srv, "check_status", bid)
    check(rc == 0, "check_status exits 0", err)
    m = re.search(r"^Status: (\w+)$", out, flags=re.M)
    check(m and m.group(1) in ("validating", "in_progress", "finalizing", "completed"),
          "check_status prints a Status", out)
    check(re.search(r"^Created at: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", out, flags=re.M),
          "check_status prints Created at", out)
    check("Completion window: 24h\n" in out, "check_status prints the window", out)
    check("Metadata: project=my-batch-job\n" in out and "Metadata: version=1.0\n" in out,
          "the metadata of basic_batch reached the batch", out)

    rc, out, err = r.run(srv, "get_results", bid)
    check(rc == 0, "get_results exits 0", err)
    b = blocks(out)
    want = {"math-question": "What is 2+2?",
            "creative-writing": "Write a short poem about coding",
            "explanation": "Explain quantum computing in one sentence"}
    check(sorted(b) == sorted(want), "get_results prints the three custom_ids", out)
    server_lines = output_lines(srv, bid)
    for cid, prompt in want.items():
        got = b.get(cid, [])
        body = server_lines.get(cid, {}).get("response", {}).get("body", {})
        content = body.get("choices", [{}])[0].get("message", {}).get("content")
        check(content is not None and prompt in content,
              "the test model answered %s about its prompt" % cid, repr(content))
        check(got == ["Response: %s" % content], "get_results prints %s's response" % cid,
              repr(got))
    check("3 results: 3 succeeded, 0 failed" in out, "get_results prints the summary", out)

    rc, out, err = r.run(srv, "check_status", bid)
    check("Status: completed\n" in out and "Progress: 3/3 completed, 0 failed\n" in out,
          "check_status after the end: completed, 3/3", out)
    check(re.search(r"^Output file: \S+$", out, flags=re.M), "check_status names the output file", out)

    rc, out2, err = r.run(srv, "get_results", "--no-wait", bid)
    check(rc == 0 and blocks(out2) == b, "get_results --no-wait gives the same results", out2 + err)

    rc, out, err = r.run(srv, "extract_content", bid)
    check(rc == 0, "extract_content exits 0", err)
    for cid in want:
        content = server_lines[cid]["response"]["body"]["choices"][0]["message"]["content"]
        check("Content: %s\n" % content in out, "extract_content prints %s" % cid, out)
        check(re.search(r"custom_id: %s, status: succeeded, finish_reason: stop, tokens: \d+ in, \d+ out"
                        % re.escape(cid), out), "extract_content details %s" % cid, out)
    return bid


def check_tool_line(line, what):
    """'name(args) -> answer' with the answer our local tools give."""
    m = re.match(r"^(get_weather|calculate)\((\{.*\})\) -> (.*)$", line)
    if not check(m, what + ": a tool call answered locally", line):
        return
    name, args, answer = m.group(1), json.loads(m.group(2)), m.group(3)
    if name == "get_weather":
        units = args.get("units") or "celsius"
        check(answer == "Weather in %s: 22\u00b0%s, sunny, 60%% humidity"
              % (args["location"], units[0].upper()), what + ": get_weather's answer", answer)
    else:
        exp = calc_expected(args.get("expression"))
        if exp is None:
            check(answer.startswith("Error: "), what + ": the calculator refuses non-arithmetic",
                  answer)
        else:
            check(answer == exp, what + ": the calculator's result", answer)


def test_tools(r, srv):
    rc, out, err = r.run(srv, "tools")
    check(rc == 0, "tools exits 0", err + out)
    first = batch_id(out, "Batch with tools submitted")
    check(first is not None, "tools prints 'Batch with tools submitted: <id>'", out)
    check(batch_id(out, "Follow-up batch submitted") is not None,
          "tools sends the tool results back in a follow-up batch", out)
    b = blocks(out)
    calls = output_lines(srv, first) if first else {}
    for cid in ("weather-tokyo", "calculation", "weather-london"):
        lines = b.get(cid, [])
        msg = calls.get(cid, {}).get("response", {}).get("body", {}).get(
            "choices", [{}])[0].get("message", {})
        tcs = msg.get("tool_calls") or []
        check(len(tcs) >= 1, "the test model called a tool for %s" % cid, json.dumps(msg))
        check(len(lines) == len(tcs), "tools prints one line per tool call of %s" % cid, repr(lines))
        for line, tc in zip(lines, tcs):
            check(line.startswith("%s(%s) -> " % (tc["function"]["name"], tc["function"]["arguments"])),
                  "tools prints %s's call as the model made it" % cid, line)
            check_tool_line(line, "tools/" + cid)
        follow = b.get(cid + "-answer")
        check(follow is not None and len(follow) == 1 and
              (follow[0].startswith("Answer: ") or follow[0].startswith("Made ")),
              "tools prints the follow-up answer of %s" % cid, repr(follow))

    rc, out, err = r.run(srv, "tools", "--no-wait")
    check(rc == 0, "tools --no-wait exits 0", err)
    bid = batch_id(out, "Batch with tools submitted")
    check(bid and "Follow-up" not in out, "tools --no-wait only submits", out)
    if not bid:
        return
    rc, out, err = r.run(srv, "tool_results", bid)
    check(rc == 0, "tool_results exits 0", err)
    b = blocks(out)
    server_lines = output_lines(srv, bid)
    check(sorted(b) == ["calculation", "weather-london", "weather-tokyo"],
          "tool_results prints the three custom_ids", out)
    for cid, lines in b.items():
        tcs = server_lines[cid]["response"]["body"]["choices"][0]["message"]["tool_calls"]
        want = ["Made %d tool calls:" % len(tcs)] + [
            "%s %s" % (tc["function"]["name"], tc["function"]["arguments"]) for tc in tcs]
        check(lines == want, "tool_results prints %s's calls: names and arguments" % cid,
              "got %r\nwant %r" % (lines, want))
        for tc in tcs:
            args = json.loads(tc["function"]["arguments"])
            key = "location" if tc["function"]["name"] == "get_weather" else "expression"
            check(isinstance(args.get(key), str), "%s: arguments fit the tool's schema" % cid,
                  tc["function"]["arguments"])


def parsed_from_line(line, mode):
    msg = line["response"]["body"]["choices"][0]["message"]
    if mode == "tool":
        text = msg["tool_calls"][0]["function"]["arguments"]
    else:
        text = msg["content"]
        m = re.search(r"\{.*\}", text, flags=re.S)  # prompted: fences, text around
        text = m.group(0) if m else text
    return json.loads(text)


def test_structured(r, srv):
    rc, out, err = r.run(srv, "structured_output")
    check(rc == 0, "structured_output exits 0", err + out)
    ids = {}
    for mode in ("native", "tool", "prompted"):
        ids[mode] = batch_id(out, "Batch (%s) submitted" % mode)
        check(ids[mode] is not None, "structured_output submits a %s batch" % mode, out)
    b = blocks(out)
    want = {"native": ["structured-paris", "structured-tokyo"],
            "tool": ["tool-mode-1", "tool-mode-2"],
            "prompted": ["prompted-1", "prompted-2"]}
    for mode, cids in want.items():
        if not ids[mode]:
            continue
        lines = output_lines(srv, ids[mode])
        for cid in cids:
            got = b.get("%s (%s)" % (cid, mode))
            if not check(got is not None and len(got) == 4,
                         "structured_output prints 4 fields for %s (%s)" % (cid, mode), repr(got)):
                continue
            vals = dict(l.split(": ", 1) for l in got)
            check(list(vals) == ["location", "temperature", "condition", "humidity"],
                  "%s: fields in order" % cid, repr(got))
            check(re.fullmatch(r"-?\d+", vals.get("humidity", "")) is not None,
                  "%s: humidity decoded as an integer" % cid, repr(got))
            try:
                float(vals.get("temperature", "x"))
                ok = True
            except ValueError:
                ok = False
            check(ok, "%s: temperature decoded as a number" % cid, repr(got))
            want_v = parsed_from_line(lines[cid], mode)
            check(vals.get("location") == want_v["location"] and
                  vals.get("condition") == want_v["condition"] and
                  int(vals.get("humidity", "0")) == want_v["humidity"] and
                  abs(float(vals.get("temperature", "nan")) - want_v["temperature"]) < 1e-6,
                  "%s (%s): the printed values are the model's answer" % (cid, mode),
                  "printed %r\nserver %r" % (vals, want_v))

    rc, out, err = r.run(srv, "structured_output", "native")
    check(rc == 0 and "Batch (native) submitted" in out and "(tool)" not in out,
          "structured_output native runs only native", out + err)
    rc, out, err = r.run(srv, "structured_output", "bogus")
    check(rc == 2 and "unknown mode" in err, "structured_output refuses an unknown mode", err)
    return ids


def test_manage(r, srv, known):
    rc, out, err = r.run(srv, "manage", "list", "100")
    check(rc == 0, "manage list exits 0", err)
    for bid in known:
        check(bid in out, "manage list shows %s" % bid, out)
    check(re.search(r"^\d+ batches", out, flags=re.M), "manage list counts", out)
    rc, out1, err = r.run(srv, "manage", "list", "1")
    check(rc == 0 and len([l for l in out1.splitlines() if l.startswith("batch_")]) == 1
          and "more: ./manage list-all" in out1, "manage list 1: one batch, more to come", out1)
    rc, out, err = r.run(srv, "manage", "list-all")
    check(rc == 0 and all(bid in out for bid in known), "manage list-all shows every batch", out)
    rc, out, err = r.run(srv, "manage", "cancel", known[0])
    check(rc == 1 and "error: cancelling the batch: HTTP 409" in err,
          "manage cancel on a completed batch fails with the server's reason", err)
    rc, out, err = r.run(srv, "manage", "frobnicate")
    check(rc == 2 and "usage:" in err, "manage usage error", err)


def test_error_handling(r, srv):
    rc, out, err = r.run(srv, "error_handling")
    check(rc == 0, "error_handling exits 0", err + out)
    check("A batch of one request: OAB_EVALIDATION\n" in out and "too_few_requests" in out,
          "error_handling shows a one-request batch refused before sending", out)
    check(batch_id(out, "Batch submitted") is not None, "error_handling submits", out)
    check("Batch ended: completed\n" in out, "error_handling waits to the end", out)
    check(re.search(r"^  example-1: succeeded \(\d+ tokens\)$", out, flags=re.M) and
          re.search(r"^  example-2: succeeded \(\d+ tokens\)$", out, flags=re.M),
          "error_handling reports each line", out)
    check(re.search(r"^Summary: succeeded 2 \(of 2\); \d+ tokens$", out, flags=re.M),
          "error_handling prints the summary", out)


def test_errors(r, srv):
    rc, out, err = r.run(srv, "check_status", "batch_does_not_exist")
    check(rc == 1 and "error: getting the batch: HTTP 404" in err,
          "check_status of an unknown id: HTTP 404 with the server's message", err)
    rc, out, err = r.run(srv, "check_status")
    check(rc == 2 and "usage:" in err, "check_status without an id: usage", err)
    # no server listening (a port that was free a moment ago)
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    dead = "http://127.0.0.1:%d/v1" % s.getsockname()[1]
    s.close()
    rc, out, err = r.run(dead, "basic_batch")
    check(rc == 1 and "error: creating the batch:" in err and "Batch job created" not in out,
          "basic_batch without a server fails and says why", err)
    # OpenAI without a key: refused before any request
    rc, out, err = r.run(None, "basic_batch")
    check(rc == 1 and "no API key" in err and "OPENAI_API_KEY" in err,
          "basic_batch against OpenAI without a key: a clear error", err)


def test_quickstart(r, srv):
    rc, out, err = r.run(srv, "snippet_quickstart", snippet=True)
    check(rc == 0, "docs quickstart exits 0", err)
    check(re.search(r"^math-question: .*What is 2\+2\?", out, flags=re.M) and
          re.search(r"^haiku: .*Write a haiku", out, flags=re.M),
          "docs quickstart prints both answers", out)


def test_big_job(r, srv, tmp):
    d = os.path.join(tmp, "bigjob")
    os.makedirs(os.path.join(d, "parts"))
    inp = os.path.join(d, "in.jsonl")
    with open(inp, "w") as f:
        for i in range(1, 4):
            f.write(json.dumps({"custom_id": "q%d" % i, "method": "POST",
                                "url": "/v1/chat/completions",
                                "body": {"model": "gpt-4o-mini", "messages": [
                                    {"role": "user", "content": "question %d" % i}]}}) + "\n")
    rc, out, err = r.run(srv, "snippet_big_job", inp, os.path.join(d, "parts"), snippet=True)
    check(rc == 0, "docs big_job exits 0", out + err)
    check(re.search(r"^part 1 \(input lines 1\.\.3\): batch_\S+$", out, flags=re.M),
          "big_job submits one part for a small file", out)
    check("  3 of 3 succeeded\n" in out, "big_job reads the part's results", out)
    check(os.path.exists(os.path.join(d, "parts", "in.part001.jsonl")),
          "big_job leaves the part file", repr(os.listdir(os.path.join(d, "parts"))))

    rc, out, err = r.run(None, "snippet_azure", snippet=True,
                         env={"AZURE_OPENAI_ENDPOINT": "https://example.openai.azure.com/openai",
                              "AZURE_OPENAI_API_KEY": "not-a-real-key"})
    check(rc == 0 and out == "using https://example.openai.azure.com/openai\n",
          "docs azure makes an Azure client (no request)", out + err)
    check("not-a-real-key" not in out + err, "the key is never printed", out + err)


def test_offline_snippets(r, tmp):
    rc, out, err = r.run(None, "snippet_requests", snippet=True)
    check(rc == 0, "snippet requests exits 0", err)
    lines = [json.loads(l) for l in out.splitlines()]
    check(len(lines) == 5, "snippet requests prints 5 lines", out)
    if len(lines) == 5:
        check(lines[0]["url"] == "/v1/chat/completions" and lines[0]["body"]["seed"] == 42
              and lines[0]["body"]["messages"][0]["role"] == "system"
              and "top_p" not in lines[0]["body"], "chat line: set fields in, unset out", out)
        check(lines[1]["body"]["tools"][0]["function"]["name"] == "get_weather"
              and lines[1]["body"]["tool_choice"] == "auto"
              and lines[1]["body"]["parallel_tool_calls"] is False, "tools line", out)
        check(lines[2]["body"]["service_tier"] == "default"
              and lines[2]["body"]["messages"][1]["content"][1]["type"] == "image_url",
              "messages + content parts + extra body", out)
        check(lines[3]["url"] == "/v1/responses" and lines[4]["url"] == "/v1/embeddings"
              and lines[4]["body"]["dimensions"] == 256, "responses and embeddings lines", out)

    rc, out, err = r.run(None, "snippet_structured", snippet=True)
    check(rc == 0, "snippet structured exits 0", err)
    ls = out.splitlines()
    if check(len(ls) == 6, "snippet structured prints 6 lines", out):
        sch = json.loads(ls[0].split(": ", 1)[1])
        check(sch.get("additionalProperties") is False, "strict schema: additionalProperties false", ls[0])
        native, tool, prompted = (json.loads(l)["body"] for l in ls[1:4])
        check(native["response_format"]["type"] == "json_schema", "native mode line", ls[1])
        check(tool["tools"][0]["function"]["name"] == "WeatherResult" and "tool_choice" in tool,
              "tool mode line", ls[2])
        check(prompted["messages"][0]["role"] == "system" and "humidity" in prompted["messages"][0]["content"],
              "prompted mode line", ls[3])
        check(ls[4] == "good: OAB_OK", "a valid answer validates", ls[4])
        check(ls[5] == "bad: OAB_EVALIDATION: /humidity: expected integer, got string",
              "an invalid answer says where and why", ls[5])

    # results on disk: every way a line can end
    d = os.path.join(tmp, "files")
    os.makedirs(d)
    inp = os.path.join(d, "input.jsonl")
    outp = os.path.join(d, "output.jsonl")
    errp = os.path.join(d, "error.jsonl")
    ids = ["ok", "http", "err", "exp", "can", "gone"]
    with open(inp, "w") as f:
        for cid in ids:
            f.write(json.dumps({"custom_id": cid, "method": "POST", "url": "/v1/chat/completions",
                                "body": {"model": "gpt-4o-mini", "messages": [
                                    {"role": "user", "content": cid}]}}) + "\n")

    def chat_ok(text):
        return {"status_code": 200, "request_id": "req_1", "body": {
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}}}
    with open(outp, "w") as f:
        f.write(json.dumps({"id": "l1", "custom_id": "ok", "response": chat_ok("fine"), "error": None}) + "\n")
        f.write(json.dumps({"id": "l2", "custom_id": "http", "response": {
            "status_code": 400, "request_id": "req_2", "body": {"error": {
                "message": "bad thing", "type": "invalid_request_error", "code": "bad_code"}}},
            "error": None}) + "\n")
    with open(errp, "w") as f:
        f.write(json.dumps({"id": "l3", "custom_id": "err", "response": None,
                            "error": {"code": "server_error", "message": "boom"}}) + "\n")
        f.write(json.dumps({"id": "l4", "custom_id": "exp", "response": None,
                            "error": {"code": "batch_expired", "message": "expired"}}) + "\n")
        f.write(json.dumps({"id": "l5", "custom_id": "can", "response": None,
                            "error": {"code": "batch_cancelled", "message": "cancelled"}}) + "\n")
    rc, out, err = r.run(None, "snippet_read_results", outp, errp, inp, snippet=True)
    check(rc == 1, "read_results exits 1 when a line failed", out + err)
    for want in ("ok: ok: fine", "http: http_error 400 bad_code: bad thing",
                 "err: error 0 server_error: boom",
                 "exp: expired (input line 4): submit again",
                 "can: cancelled (input line 5): submit again",
                 "gone: missing (input line 6): submit again",
                 "succeeded: 1", "http_error: 1", "error: 1", "expired: 1", "cancelled: 1",
                 "missing: 1", "total: 6, tokens: 5"):
        check(want + "\n" in out, "read_results prints %r" % want, out + err)

    retry = os.path.join(d, "retry.jsonl")
    rc, out, err = r.run(None, "snippet_retry_failed", inp, outp, errp, retry, snippet=True)
    check(rc == 0 and "5 lines to retry" in out, "retry_failed finds the 5 lines to retry", out + err)
    try:
        with open(retry) as f:
            got = [json.loads(l)["custom_id"] for l in f]
    except OSError:
        got = []
    check(got == ["http", "err", "exp", "can", "gone"], "retry_failed writes them in input order",
          repr(got))


def test_slow(r, srv):
    """A slow test model: cancel part-way, and a wait that times out."""
    rc, out, err = r.run(srv, "basic_batch")
    bid = batch_id(out, "Batch job created")
    if not check(rc == 0 and bid, "basic_batch on the slow server", out + err):
        return
    rc, out, err = r.run(srv, "manage", "cancel", "--wait", bid)
    check(rc == 0, "manage cancel --wait exits 0", err)
    check(re.search(r"^Cancel requested: %s \(status: (cancelling|cancelled)\)$" % bid, out, flags=re.M),
          "manage cancel prints the new status", out)
    check("Status: cancelled\n" in out or "(status: cancelled)" in out, "the batch ends cancelled", out)
    rc, out, err = r.run(srv, "get_results", bid)
    check(rc == 1, "get_results of a cancelled batch exits 1", out + err)
    check("Batch ended with status cancelled; reading what it produced." in out,
          "get_results reads a cancelled batch", out)
    b = blocks(out)
    check(sorted(b) == ["creative-writing", "explanation", "math-question"],
          "every custom_id of the cancelled batch is accounted for", out)
    for cid, lines in b.items():
        check(len(lines) == 1 and (lines[0].startswith("Response: ") or
                                   lines[0].startswith("Error: cancelled")),
              "%s: a response or 'cancelled'" % cid, repr(lines))

    rc, out, err = r.run(srv, "error_handling", env={"OAB_WAIT_TIMEOUT": "0.5"})
    check(rc == 1, "error_handling with a short timeout exits 1", out + err)
    check("Timed out after 0.5 s: cancelled; reading what it finished\n" in out,
          "error_handling cancels on timeout", out)
    check("Batch ended: cancelled\n" in out, "then waits for 'cancelled'", out)
    m = re.search(r"^Summary:(.*) \(of 2\)", out, flags=re.M)
    check(m is not None, "and reads the partial results of both lines", out)
    for cid in ("example-1", "example-2"):
        check(re.search(r"^  %s: (succeeded \(\d+ tokens\)|cancelled \(not run: submit this line again\).*)$"
                        % cid, out, flags=re.M), "%s: succeeded or cancelled" % cid, out)


def test_expired(r, srv):
    rc, out, err = r.run(srv, "error_handling")
    check(rc == 1, "error_handling on an expiring batch exits 1", out + err)
    check("Batch ended: expired\n" in out, "the batch expires", out)
    for cid in ("example-1", "example-2"):
        check(re.search(r"^  %s: (succeeded \(\d+ tokens\)|expired \(not run: submit this line again\).*)$"
                        % cid, out, flags=re.M), "%s: succeeded or expired" % cid, out)
    check(re.search(r"^Summary:.* expired \d.* \(of 2\)", out, flags=re.M),
          "the summary counts the expired lines", out)


def test_failing(r, srv):
    rc, out, err = r.run(srv, "basic_batch")
    bid = batch_id(out, "Batch job created")
    if not check(rc == 0 and bid, "basic_batch on the failing server", out + err):
        return
    rc, out, err = r.run(srv, "get_results", bid)
    check(rc == 1, "get_results exits 1 when lines failed", out + err)
    b = blocks(out)
    check(len(b) == 3, "get_results prints the three failed custom_ids", out)
    for cid, lines in b.items():
        check(len(lines) == 1 and lines[0].startswith("Error: http_error: HTTP 500"),
              "%s: an http_error with its status" % cid, repr(lines))
    check("3 results: 0 succeeded, 3 failed" in out, "get_results counts the failures", out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--examples", required=True)
    ap.add_argument("--snippets")
    a = ap.parse_args()
    r = Runner(a.examples, a.snippets or a.examples)
    servers = []
    with tempfile.TemporaryDirectory(prefix="oab-examples-") as tmp:
        try:
            fast = Server(a.server, tmp, "fast")
            servers.append(fast)
            known = []
            bid = test_basic(r, fast)
            if bid:
                known.append(bid)
            test_tools(r, fast)
            ids = test_structured(r, fast)
            known += [v for v in ids.values() if v]
            test_manage(r, fast, known)
            test_error_handling(r, fast)
            test_errors(r, fast)
            test_quickstart(r, fast)
            test_big_job(r, fast, tmp)
            test_offline_snippets(r, tmp)

            slow = Server(a.server, tmp, "slow", "--latency-ms", "4000")
            servers.append(slow)
            test_slow(r, slow)

            # one request at a time: the first, sent, is answered within
            # --stop-grace; the second, never sent, expires
            exp = Server(a.server, tmp, "expiring", "--latency-ms", "4000",
                         "--window-seconds", "1", "--concurrency", "1",
                         "--fixed-concurrency")
            servers.append(exp)
            test_expired(r, exp)

            failing = Server(a.server, tmp, "failing", "--fail-rate", "500:1",
                             "--max-retries", "0")
            servers.append(failing)
            test_failing(r, failing)
        except Exception as e:  # a crash of the harness is a failure too
            import traceback
            traceback.print_exc()
            check(False, "test harness: %s" % e)
        finally:
            for s in servers:
                s.stop()
            if FAILS:
                for s in servers:
                    print("--- server log (%s) ---\n%s" % (os.path.basename(s.dir), s.log_text()))
    print("examples: %d passed, %d failed" % (PASSES[0], len(FAILS)))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
