#!/usr/bin/env python3
"""Tests of the `oaibatch` command: every subcommand against the local
server (`oaibatch serve`, built-in test model) and the failure paths
(crash between upload and create, crash after create, a split job, retry
of failed lines, an expired batch, Ctrl-C) against tests/harness/cli_fake_server.py.

Environment: OAB_CLI = the oaibatch binary, OAB_TESTS = tests/ folder,
OAB_DOCS = docs/ folder.
"""
import csv
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

CLI = os.environ.get("OAB_CLI", "oaibatch")
TESTS = os.environ.get("OAB_TESTS", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOCS = os.environ.get("OAB_DOCS", os.path.join(TESTS, "..", "docs"))
COMMANDS = ["validate", "build", "submit", "status", "wait", "cancel",
            "results", "retry", "list", "jobs", "run"]

PROCS = []


def start(args, port_file, **kw):
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, **kw)
    PROCS.append(p)
    for _ in range(200):
        if os.path.exists(port_file):
            with open(port_file) as f:
                txt = f.read().strip()
            if txt:
                return p, int(txt)
        if p.poll() is not None:
            raise RuntimeError("server exited: %r" % args)
        time.sleep(0.05)
    raise RuntimeError("server did not start: %r" % args)


def stop_all():
    for p in PROCS:
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    PROCS.clear()


def read_lines(path):
    with open(path) as f:
        return f.read().splitlines()


def chat_line(cid, prompt, model="gpt-4o-mini"):
    return json.dumps({"custom_id": cid, "method": "POST",
                       "url": "/v1/chat/completions",
                       "body": {"model": model, "messages": [
                           {"role": "user", "content": prompt}]}})


class Base(unittest.TestCase):
    tmp = None

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="oab_cli_")
        try:
            cls.start_servers(cls.tmp.name)
        except Exception:
            stop_all()
            cls.tmp.cleanup()
            raise

    @classmethod
    def start_servers(cls, d):
        _, cls.local_port = start(
            [CLI, "serve", "--port", "0", "--port-file",
             os.path.join(d, "local.port"), "--data",
             os.path.join(d, "serve-data"), "--upstream", "builtin:test",
             "--quiet"], os.path.join(d, "local.port"))
        _, cls.fake_port = start(
            [sys.executable, os.path.join(TESTS, "harness", "cli_fake_server.py"),
             "--port-file", os.path.join(d, "fake.port")],
            os.path.join(d, "fake.port"))

    @classmethod
    def tearDownClass(cls):
        stop_all()
        cls.tmp.cleanup()

    def setUp(self):
        self.dir = tempfile.mkdtemp(dir=self.tmp.name)
        self.journal = os.path.join(self.dir, "state", "journal.db")

    def path(self, name):
        return os.path.join(self.dir, name)

    def write(self, name, lines):
        p = self.path(name)
        with open(p, "w") as f:
            for line in lines:
                f.write(line + "\n")
        return p

    def env(self, extra=None):
        e = dict(os.environ)
        for k in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OAB_CLI_CRASH_AFTER",
                  "NO_COLOR"):
            e.pop(k, None)
        e["OAB_CLI_MAX_RETRIES"] = "0"
        e["XDG_STATE_HOME"] = os.path.join(self.dir, "xdg")
        if extra:
            e.update(extra)
        return e

    def run_cli(self, args, server="local", rc=None, env=None, journal=True,
                stdin=None):
        full = [CLI] + list(args)
        if journal:
            full += ["--journal", self.journal]
        if server == "local":
            full += ["--base-url", "http://127.0.0.1:%d/v1" % self.local_port]
        elif server == "fake":
            full += ["--base-url", "http://127.0.0.1:%d/v1" % self.fake_port]
        if server in ("local", "fake") and args and args[0] in (
                "submit", "wait", "run", "retry"):
            full += ["--interval", "0.05", "--max-interval", "0.2"]
        p = subprocess.run(full, capture_output=True, text=True,
                           env=self.env(env), timeout=120, stdin=stdin)
        self.assertNotIn("Sanitizer", p.stderr, "%r\n%s" % (full, p.stderr))
        self.assertNotIn("runtime error:", p.stderr,
                         "%r\n%s" % (full, p.stderr))
        if rc is not None:
            self.assertEqual(p.returncode, rc,
                             "%r -> %d\nstdout:\n%s\nstderr:\n%s" % (
                                 full, p.returncode, p.stdout, p.stderr))
        return p

    def set_knobs(self, **knobs):
        import urllib.request
        req = urllib.request.Request(
            "http://127.0.0.1:%d/_knobs" % self.fake_port,
            data=json.dumps(knobs).encode(), method="POST")
        with urllib.request.urlopen(req, timeout=10) as r:
            r.read()

    def fake_file_ids(self):
        """The ids of every file the fake server holds."""
        import urllib.request
        with urllib.request.urlopen(
                "http://127.0.0.1:%d/v1/files" % self.fake_port) as r:
            return {f["id"] for f in json.load(r)["data"]}

    def fake_stats(self):
        import urllib.request
        with urllib.request.urlopen(
                "http://127.0.0.1:%d/_stats" % self.fake_port) as r:
            return json.load(r)

    def jobs(self):
        p = self.run_cli(["jobs", "--json"], server=None, rc=0)
        return json.loads(p.stdout)

    def results(self, job, server, *extra, rc=0):
        p = self.run_cli(["results", job, "--in-input-order"] + list(extra),
                         server=server, rc=rc)
        return [json.loads(x) for x in p.stdout.splitlines() if x.strip()]


class TestCommandLine(Base):
    def test_version_and_help(self):
        p = subprocess.run([CLI, "--version"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0)
        self.assertRegex(p.stdout, r"^oaibatch \d+\.\d+\.\d+\n$")
        p = subprocess.run([CLI, "--help"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0)
        for c in COMMANDS + ["serve"]:
            self.assertIn("  %s " % c, p.stdout)
        for c in COMMANDS:
            p = subprocess.run([CLI, c, "--help"], capture_output=True,
                               text=True)
            self.assertEqual(p.returncode, 0, c)
            self.assertTrue(p.stdout.startswith("Usage: oaibatch %s" % c), c)
        p = subprocess.run([CLI, "help", "wait"], capture_output=True,
                           text=True)
        self.assertIn("Usage: oaibatch wait", p.stdout)

    def test_docs_match_help(self):
        with open(os.path.join(DOCS, "cli.md")) as f:
            doc = f.read()
        for c in [None] + COMMANDS:
            args = [CLI, "--help"] if c is None else [CLI, c, "--help"]
            text = subprocess.run(args, capture_output=True,
                                  text=True).stdout
            self.assertIn("```text\n" + text + "```", doc,
                          "docs/cli.md differs from the help of %s" % c)

    def test_usage_errors(self):
        for args in (["nosuch"], ["validate"], ["build", "x.txt"],
                     ["results"], ["list", "--limit", "abc"],
                     ["status", "--bogus", "x"], ["submit"],
                     ["results", "--format", "xml", "job_x"],
                     ["results", "job_x", "--only", "nonsense"]):
            p = self.run_cli(args, server=None, journal=False)
            self.assertEqual(p.returncode, 2, args)
            self.assertIn("oaibatch", p.stderr)
            self.assertEqual(p.stdout, "")

    def test_unknown_job_is_local_error(self):
        p = self.run_cli(["status", "job_0000000000000000"], rc=5)
        self.assertIn("no job", p.stderr)

    def test_connection_refused_is_api_error(self):
        import socket
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        p = self.run_cli(["list", "--base-url",
                          "http://127.0.0.1:%d/v1" % port], server=None,
                         rc=3)
        self.assertIn("error", p.stderr)

    def test_api_key_env(self):
        p = self.run_cli(["list", "--api-key-env", "OAB_NO_SUCH_VAR_X"],
                         rc=3)
        self.assertIn("OAB_NO_SUCH_VAR_X", p.stderr)
        self.run_cli(["list", "--api-key-env", "MY_KEY"], rc=0,
                     env={"MY_KEY": "sk-test"})


class TestValidateBuild(Base):
    def test_validate_good_and_bad(self):
        good = self.write("good.jsonl", [chat_line("a", "x"),
                                         chat_line("b", "y")])
        p = self.run_cli(["validate", good], server=None, rc=0)
        self.assertIn("valid", p.stdout)
        p = self.run_cli(["validate", good, "--json"], server=None, rc=0)
        rep = json.loads(p.stdout)
        self.assertTrue(rep["valid"])
        self.assertEqual(rep["lines"], 2)
        self.assertEqual(rep["model"], "gpt-4o-mini")
        bad = self.write("bad.jsonl", [chat_line("a", "x"), "{not json",
                                       chat_line("a", "dup"),
                                       json.dumps({"method": "POST"})])
        p = self.run_cli(["validate", bad], server=None, rc=4)
        for n in (2, 3, 4):
            self.assertIn("bad.jsonl:%d:" % n, p.stdout)
        p = self.run_cli(["validate", bad, "--json"], server=None, rc=4)
        rep = json.loads(p.stdout)
        self.assertFalse(rep["valid"])
        lines = sorted({x["line"] for x in rep["problems"]})
        self.assertEqual(lines[:3], [2, 3, 4])
        self.assertTrue(any(x["code"] == "duplicate_custom_id" or
                            "duplicate" in x["message"]
                            for x in rep["problems"]))
        p = self.run_cli(["validate", self.path("missing.jsonl")],
                         server=None, rc=5)

    def test_build_text(self):
        src = self.write("p.txt", ["first prompt", "", "second, with comma"])
        out = self.path("b.jsonl")
        self.run_cli(["build", src, "--model", "gpt-4o-mini", "--system",
                      "be brief", "--max-tokens", "50", "--temperature",
                      "0.5", "-o", out], server=None, rc=0)
        rows = [json.loads(x) for x in read_lines(out)]
        self.assertEqual([r["custom_id"] for r in rows],
                         ["request-1", "request-2"])
        b = rows[1]["body"]
        self.assertEqual(b["model"], "gpt-4o-mini")
        self.assertEqual(b["messages"][0], {"role": "system",
                                            "content": "be brief"})
        self.assertEqual(b["messages"][-1]["content"], "second, with comma")
        self.assertEqual(b["max_tokens"], 50)
        self.assertEqual(b["temperature"], 0.5)
        self.run_cli(["validate", out], server=None, rc=0)

    def test_build_csv_and_jsonl_columns(self):
        src = self.path("p.csv")
        with open(src, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["id", "question"])
            w.writerow(["q-a", "what is 2+2?"])
            w.writerow(["q-b", 'a "quoted", multi\nline question'])
        p = self.run_cli(["build", src, "--model", "m", "--column",
                          "question", "--id-column", "id"], server=None,
                         rc=0)
        rows = [json.loads(x) for x in p.stdout.splitlines()]
        self.assertEqual([r["custom_id"] for r in rows], ["q-a", "q-b"])
        self.assertEqual(rows[1]["body"]["messages"][-1]["content"],
                         'a "quoted", multi\nline question')
        src = self.write("p.jsonl", [json.dumps({"text": "hi", "k": 7}),
                                     json.dumps({"text": "yo", "k": 8})])
        p = self.run_cli(["build", src, "--model", "m", "--column", "text",
                          "--id-column", "k", "--endpoint", "embeddings"],
                         server=None, rc=0)
        rows = [json.loads(x) for x in p.stdout.splitlines()]
        self.assertEqual([r["custom_id"] for r in rows], ["7", "8"])
        self.assertEqual(rows[0]["url"], "/v1/embeddings")
        p = self.run_cli(["build", src, "--model", "m", "--column", "nope"],
                         server=None, rc=4)

    def test_build_schema_tools_modes(self):
        schema = self.path("s.json")
        with open(schema, "w") as f:
            json.dump({"type": "object", "properties": {
                "city": {"type": "string"}}, "required": ["city"]}, f)
        tools = self.path("t.json")
        with open(tools, "w") as f:
            json.dump([{"type": "function", "function": {
                "name": "lookup", "description": "look up",
                "parameters": {"type": "object", "properties": {}}}}], f)
        src = self.write("p.txt", ["where?"])
        p = self.run_cli(["build", src, "--model", "m", "--schema", schema],
                         server=None, rc=0)
        body = json.loads(p.stdout)["body"]
        self.assertEqual(body["response_format"]["type"], "json_schema")
        p = self.run_cli(["build", src, "--model", "m", "--schema", schema,
                          "--mode", "tool"], server=None, rc=0)
        body = json.loads(p.stdout)["body"]
        self.assertIn("tools", body)
        p = self.run_cli(["build", src, "--model", "m", "--schema", schema,
                          "--mode", "prompted"], server=None, rc=0)
        body = json.loads(p.stdout)["body"]
        self.assertIn("schema", body["messages"][0]["content"])
        p = self.run_cli(["build", src, "--model", "m", "--tools", tools],
                         server=None, rc=0)
        body = json.loads(p.stdout)["body"]
        self.assertEqual(body["tools"][0]["function"]["name"], "lookup")
        p = self.run_cli(["build", src, "--model", "m", "--endpoint",
                          "responses", "--system", "sys"], server=None, rc=0)
        line = json.loads(p.stdout)
        self.assertEqual(line["url"], "/v1/responses")

    def write_bytes(self, name, data):
        p = self.path(name)
        with open(p, "wb") as f:
            f.write(data)
        return p

    def test_build_skips_a_byte_order_mark(self):
        bom = b"\xef\xbb\xbf"
        src = self.write_bytes("qbom.csv", bom + b"id,question\nq1,hi\n")
        out = self.path("qb.jsonl")
        p = self.run_cli(["build", src, "--column", "question",
                          "--id-column", "id", "--model", "m", "-o", out],
                         server=None, rc=0)
        self.assertNotIn("error", p.stderr)
        rows = [json.loads(x) for x in read_lines(out)]
        self.assertEqual([r["custom_id"] for r in rows], ["q1"])
        src = self.write_bytes("pbom.txt", bom + b"hello\r\nworld\r\n")
        p = self.run_cli(["build", src, "--model", "m"], server=None, rc=0)
        self.assertNotIn("error", p.stderr)
        rows = [json.loads(x) for x in p.stdout.splitlines()]
        self.assertEqual([r["body"]["messages"][-1]["content"] for r in rows],
                         ["hello", "world"])
        src = self.write_bytes("pbom.jsonl",
                               bom + b'{"prompt": "a"}\n{"prompt": "b"}\n')
        p = self.run_cli(["build", src, "--model", "m"], server=None, rc=0)
        self.assertNotIn("error", p.stderr)
        self.assertEqual(len(p.stdout.splitlines()), 2)
        with open(self.path("pbom.txt"), "rb") as f:
            p = self.run_cli(["build", "-", "--model", "m"], server=None,
                             rc=0, stdin=f)
        self.assertEqual(len(p.stdout.splitlines()), 2)
        # the Batch API's own files still may not start with one
        bad = self.write_bytes("bom.jsonl",
                               bom + chat_line("a", "x").encode() + b"\n")
        p = self.run_cli(["validate", bad], server=None, rc=4)
        self.assertIn("byte order mark", p.stdout + p.stderr)

    def test_build_refuses_a_custom_id_used_twice(self):
        src = self.write_bytes("q.csv", b"id,question\r\nq1,a\r\nq2,b\r\n"
                               b"q1,dup\r\n")
        out = self.path("q.jsonl")
        p = self.run_cli(["build", src, "--column", "question",
                          "--id-column", "id", "--model", "m", "-o", out],
                         server=None, rc=4)
        self.assertIn("q.csv:4:", p.stderr)
        self.assertIn('"q1"', p.stderr)
        self.assertIn("line 2", p.stderr)
        self.assertFalse(os.path.exists(out))
        with open(out, "w") as f:
            f.write("kept\n")
        self.run_cli(["build", src, "--column", "question", "--id-column",
                      "id", "--model", "m", "-o", out], server=None, rc=4)
        self.assertEqual(read_lines(out), ["kept"])
        src = self.write("ids.jsonl", [json.dumps({"prompt": "a", "k": 7}),
                                       json.dumps({"prompt": "b", "k": 8}),
                                       json.dumps({"prompt": "c", "k": "7"})])
        p = self.run_cli(["build", src, "--id-column", "k", "--model", "m"],
                         server=None, rc=4)
        self.assertIn("ids.jsonl:3:", p.stderr)
        self.assertIn("line 1", p.stderr)

    def test_build_refuses_an_input_without_prompts(self):
        out = self.path("e.jsonl")
        for name, data in (("e.txt", b""), ("blank.txt", b"\n  \n\r\n"),
                           ("head.csv", b"id,prompt\n"),
                           ("none.jsonl", b"\n")):
            src = self.write_bytes(name, data)
            p = self.run_cli(["build", src, "--model", "m", "-o", out],
                             server=None, rc=4)
            self.assertIn("%s: no prompts" % name, p.stderr)
            self.assertNotIn("built", p.stderr)
            self.assertFalse(os.path.exists(out), name)

    def test_build_mode_needs_a_schema(self):
        src = self.write("w.txt", ["hi"])
        for mode in ("tool", "prompted", "native"):
            p = self.run_cli(["build", src, "--model", "m", "--mode", mode],
                             server=None, rc=2)
            self.assertIn("--mode goes with --schema", p.stderr)
            self.assertEqual(p.stdout, "")
        for opt in (["--schema-name", "answer"], ["--no-strict"]):
            p = self.run_cli(["build", src, "--model", "m"] + opt,
                             server=None, rc=2)
            self.assertIn("%s goes with --schema" % opt[0], p.stderr)
            self.assertEqual(p.stdout, "")

    def test_build_messages_name_the_file_and_the_option(self):
        src = self.write("p.jsonl", [json.dumps({"prompt": "a", "id": 1}),
                                     json.dumps({"prompt": "b", "id": 2}),
                                     json.dumps({"id": 3})])
        p = self.run_cli(["build", src, "--id-column", "id", "--model", "m"],
                         server=None, rc=4)
        self.assertIn('p.jsonl:3: no "prompt" field', p.stderr)
        src = self.write_bytes("pnon.txt", b"\xff\xfe bad\n")
        p = self.run_cli(["build", src, "--model", "m"], server=None, rc=4)
        self.assertIn("pnon.txt:1: prompt: not valid UTF-8", p.stderr)
        src = self.write("w.txt", ["hi"])
        for n in ("0", "-1", "-5"):
            p = self.run_cli(["build", self.path("missing.txt"), "--model",
                              "m", "--max-tokens", n], server=None, rc=2)
            self.assertIn("--max-tokens takes 1 or more", p.stderr)
            self.assertNotIn("line", p.stderr)
        # an option the request refuses is the command line's fault
        p = self.run_cli(["build", src, "--model", "m", "--system",
                          os.fsdecode(b"\xff")], server=None, rc=2)
        self.assertNotIn("line", p.stderr)
        self.assertNotIn("w.txt:", p.stderr)
        self.assertEqual(p.stdout, "")

    def test_build_messages_count_in_the_singular(self):
        src = self.write("one.txt", ["only"])
        p = self.run_cli(["build", src, "--model", "m"], server=None, rc=0)
        self.assertIn("built 1 request\n", p.stderr)
        src = self.write("two.txt", ["a", "b"])
        p = self.run_cli(["build", src, "--model", "m"], server=None, rc=0)
        self.assertIn("built 2 requests\n", p.stderr)
        src = self.write("short.csv", ["a,b", "x"])
        p = self.run_cli(["build", src, "--column", "b", "--model", "m"],
                         server=None, rc=4)
        self.assertIn("short.csv:2: the row has 1 field\n", p.stderr)


class TestLocalServer(Base):
    def test_submit_wait_results_status_list_jobs(self):
        src = self.write("in.jsonl", [chat_line("c%d" % i, "prompt %d" % i)
                                      for i in range(1, 6)])
        p = self.run_cli(["submit", src, "--metadata", "team=cli"], rc=0)
        job = p.stdout.split()[0]
        self.assertTrue(job.startswith("job_"))
        batch = p.stdout.split()[1]
        self.assertTrue(batch.startswith("batch_"))
        st = json.loads(self.run_cli(["status", job, "--json"], rc=0).stdout)
        self.assertEqual(st["job"]["id"], job)
        self.assertEqual(st["status"], "completed")
        self.assertEqual(st["job"]["metadata"], {"team": "cli"})
        self.assertEqual(st["batches"][0]["batch_id"], batch)
        self.assertEqual(st["batches"][0]["request_counts"]["total"], 5)
        # status of the batch id finds the job too
        st2 = json.loads(self.run_cli(["status", batch, "--json"],
                                      rc=0).stdout)
        self.assertEqual(st2["job"]["id"], job)
        rows = self.results(job, "local")
        self.assertEqual([r["custom_id"] for r in rows],
                         ["c%d" % i for i in range(1, 6)])
        self.assertTrue(all(r["status"] == "succeeded" for r in rows))
        self.assertIn("prompt 3", rows[2]["output"])
        self.assertEqual(rows[2]["input_line"], 3)
        # csv and table
        p = self.run_cli(["results", job, "--format", "csv",
                          "--in-input-order"], rc=0)
        recs = list(csv.DictReader(io.StringIO(p.stdout)))
        self.assertEqual(len(recs), 5)
        self.assertEqual(recs[0]["custom_id"], "c1")
        p = self.run_cli(["results", job, "--format", "table"], rc=0)
        self.assertIn("CUSTOM_ID", p.stdout)
        self.assertNotIn("\033[", p.stdout)
        # -o file
        out = self.path("res.jsonl")
        self.run_cli(["results", job, "-o", out], rc=0)
        self.assertEqual(len(read_lines(out)), 5)
        # list shows the batch
        lst = json.loads(self.run_cli(["list", "--json", "--limit", "100"],
                                      rc=0).stdout)
        self.assertIn(batch, [b["id"] for b in lst])
        lst_all = json.loads(self.run_cli(["list", "--all", "--json"],
                                          rc=0).stdout)
        self.assertIn(batch, [b["id"] for b in lst_all])
        p = self.run_cli(["list"], rc=0)
        self.assertIn(batch, p.stdout)
        # jobs
        jobs = self.jobs()
        self.assertEqual(jobs[0]["id"], job)
        self.assertEqual(jobs[0]["batches"][0]["batch_id"], batch)
        p = self.run_cli(["jobs"], server=None, rc=0)
        self.assertIn(job, p.stdout)
        # wait on a finished job returns at once; cancel is a no-op
        w = json.loads(self.run_cli(["wait", job, "--json"], rc=0).stdout)
        self.assertEqual(w["status"], "completed")
        self.run_cli(["cancel", job], rc=0)
        # the same file again re-attaches; --force makes a new job
        p = self.run_cli(["submit", src, "--metadata", "team=cli"], rc=0)
        self.assertEqual(p.stdout.split()[0], job)
        self.assertIn("re-attaching", p.stderr)
        self.assertEqual(len(self.jobs()), 1)
        p = self.run_cli(["submit", src, "--metadata", "team=cli",
                          "--force", "--no-wait"], rc=0)
        self.assertNotEqual(p.stdout.split()[0], job)
        self.assertEqual(len(self.jobs()), 2)

    def test_run_and_structured_output(self):
        schema = self.path("s.json")
        with open(schema, "w") as f:
            json.dump({"type": "object", "properties": {
                "answer": {"type": "string"}}, "required": ["answer"]}, f)
        src = self.write("p.txt", ["one", "two", "three"])
        built = self.path("b.jsonl")
        self.run_cli(["build", src, "--model", "gpt-4o-mini", "--schema",
                      schema, "-o", built], server=None, rc=0)
        out = self.path("out.jsonl")
        p = self.run_cli(["run", built, "-o", out, "--in-input-order"], rc=0)
        rows = [json.loads(x) for x in read_lines(out)]
        self.assertEqual([r["custom_id"] for r in rows],
                         ["request-1", "request-2", "request-3"])
        for r in rows:
            self.assertEqual(r["status"], "succeeded", r)
            self.assertIsInstance(r["parsed"], dict)
            self.assertIn("answer", r["parsed"])
        self.assertIn("3 succeeded", p.stderr)

    def test_default_journal_location(self):
        src = self.write("in.jsonl", [chat_line("a", "x")])
        p = self.run_cli(["submit", src, "--no-wait"], rc=0, journal=False)
        self.assertTrue(os.path.exists(os.path.join(
            self.dir, "xdg", "oaibatch", "journal.db")))

    def test_submit_invalid_sends_nothing(self):
        bad = self.write("bad.jsonl", [chat_line("a", "x"), "{oops"])
        p = self.run_cli(["submit", bad], rc=4)
        self.assertIn("bad.jsonl:2:", p.stderr)
        self.assertEqual(self.jobs(), [])


class TestFakeServer(Base):
    def test_progress_bar_on_a_terminal(self):
        import pty
        src = self.write("in.jsonl", [chat_line("g%d" % i, "p") for i in
                                      range(3)])
        p = self.run_cli(["submit", src, "--no-wait", "--metadata",
                          "fake_validate_polls=3"], server="fake", rc=0)
        job = p.stdout.split()[0]
        master, slave = pty.openpty()
        full = [CLI, "wait", job, "--journal", self.journal, "--base-url",
                "http://127.0.0.1:%d/v1" % self.fake_port, "--interval",
                "0.05", "--max-interval", "0.05"]
        w = subprocess.Popen(full, stdout=subprocess.PIPE, stderr=slave,
                             env=self.env({"TERM": "xterm"}))
        PROCS.append(w)
        os.close(slave)
        out, _ = w.communicate(timeout=60)
        data = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            data += chunk
        os.close(master)
        self.assertEqual(w.returncode, 0, data)
        text = data.decode(errors="replace")
        self.assertIn("\r[", text)          # the bar is redrawn in place
        self.assertIn("3/3", text)
        self.assertIn("finalizing: every line has run", text)
        self.assertIn("validating: the provider is checking", text)
        self.assertIn("\033[K", text)

    def run_in_pty(self, args, env):
        import pty
        master, slave = pty.openpty()
        p = subprocess.Popen([CLI] + args, stdout=slave, stderr=slave,
                             env=self.env(env))
        PROCS.append(p)
        os.close(slave)
        data = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            data += chunk
        os.close(master)
        p.wait(30)
        return p.returncode, data.decode(errors="replace")

    def test_colour_on_a_terminal_and_no_color(self):
        bad = self.write("bad.jsonl", [chat_line("a", "x"), "{oops"])
        rc, text = self.run_in_pty(["validate", bad], {"TERM": "xterm"})
        self.assertEqual(rc, 4)
        self.assertIn("\033[31m", text)
        rc, text = self.run_in_pty(["validate", bad],
                                   {"TERM": "xterm", "NO_COLOR": "1"})
        self.assertEqual(rc, 4)
        self.assertNotIn("\033[", text)
        self.assertIn("bad.jsonl:2:", text)

    def test_colour_quiet_and_lone_batch(self):
        src = self.write("in.jsonl", [chat_line("h1", "p"),
                                      chat_line("h2", "q")])
        p = self.run_cli(["submit", src, "--quiet"], server="fake", rc=0)
        self.assertEqual(p.stderr, "")
        job, batch = p.stdout.split()[:2]
        p = self.run_cli(["results", job, "--format", "table"],
                         server="fake", rc=0)
        self.assertNotIn("\033[", p.stdout)
        p = self.run_cli(["results", job, "--format", "table", "--color",
                          "always"], server="fake", rc=0)
        self.assertIn("\033[", p.stdout)
        # a batch the journal does not know: status and results still work
        other = ["--journal", self.path("other.db")]
        p = self.run_cli(["status", batch, "--json"] + other, server="fake",
                         rc=0, journal=False)
        st = json.loads(p.stdout)
        self.assertIsNone(st["job"])
        self.assertEqual(st["batches"][0]["batch_id"], batch)
        self.assertEqual(st["batches"][0]["kind"], "batch")
        p = self.run_cli(["results", batch, "--input", src,
                          "--in-input-order"] + other, server="fake", rc=0,
                         journal=False)
        rows = [json.loads(x) for x in p.stdout.splitlines()]
        self.assertEqual([r["custom_id"] for r in rows], ["h1", "h2"])
        self.assertEqual([r["input_line"] for r in rows], [1, 2])
        p = self.run_cli(["wait", batch] + other, server="fake", rc=0,
                         journal=False)
        p = self.run_cli(["retry", batch] + other, server="fake", rc=5,
                         journal=False)
        self.assertIn("not in the journal", p.stderr)

    def test_crash_between_upload_and_create(self):
        src = self.write("in.jsonl", [chat_line("u%d" % i, "p") for i in
                                      range(3)])
        before = self.fake_stats()
        p = self.run_cli(["submit", src, "--no-wait"], server="fake", rc=99,
                         env={"OAB_CLI_CRASH_AFTER": "upload"})
        s = self.fake_stats()
        self.assertEqual(s["uploads"] - before["uploads"], 1)
        self.assertEqual(s["creates"] - before["creates"], 0)
        jobs = self.jobs()
        self.assertEqual(len(jobs), 1)
        self.assertIsNotNone(jobs[0]["batches"][0]["file_id"])
        self.assertIsNone(jobs[0]["batches"][0]["batch_id"])
        p = self.run_cli(["submit", src], server="fake", rc=0)
        s = self.fake_stats()
        self.assertEqual(s["uploads"] - before["uploads"], 1)
        self.assertEqual(s["creates"] - before["creates"], 1)
        self.assertEqual(p.stdout.split()[0], jobs[0]["id"])
        rows = self.results(jobs[0]["id"], "fake")
        self.assertEqual(len(rows), 3)

    def batch_files(self):
        import urllib.request
        with urllib.request.urlopen(
                "http://127.0.0.1:%d/v1/files?purpose=batch" % self.fake_port,
                timeout=10) as r:
            return json.load(r)["data"]

    def test_an_upload_whose_answer_never_reached_the_journal_is_found(self):
        """A crash after the upload's answer came and before its file id
        was journaled: the next submit finds the file by its name (the
        job's id and the part's number) and size, sends no second copy
        (before: a second upload, the first left on the server)."""
        src = self.write("in.jsonl", [chat_line("v%d" % i, "p") for i in
                                      range(3)])
        before = self.fake_stats()
        self.run_cli(["submit", src, "--no-wait"], server="fake", rc=99,
                     env={"OAB_CLI_CRASH_AFTER": "upload-answer"})
        job = self.jobs()[0]
        self.assertIsNone(job["batches"][0]["file_id"])
        named = [f for f in self.batch_files()
                 if f["filename"] == job["id"] + ".part001.jsonl"]
        self.assertEqual(len(named), 1)
        p = self.run_cli(["submit", src], server="fake", rc=0)
        self.assertIn("found the file of part 1", p.stderr)
        s = self.fake_stats()
        self.assertEqual(s["uploads"] - before["uploads"], 1)
        self.assertEqual(s["creates"] - before["creates"], 1)
        self.assertEqual(self.jobs()[0]["batches"][0]["file_id"],
                         named[0]["id"])
        self.assertEqual(len(self.results(job["id"], "fake")), 3)

    def test_an_upload_whose_answer_was_lost_is_taken_and_copies_deleted(self):
        """The upload was stored but its answer lost (502): the command
        looks for the file before giving up and takes it (before: exit 3,
        the file left on the server and uploaded again by the next
        submit). A copy from an earlier try (same name and bytes) is
        deleted."""
        src = self.write("in.jsonl", [chat_line("lose-upload-answer-%d" % i,
                                                "p") for i in range(2)])
        before = self.fake_stats()
        self.run_cli(["submit", src, "--no-wait"], server="fake", rc=99,
                     env={"OAB_CLI_CRASH_AFTER": "upload-answer"})
        # the crashed try's copy is on the server; the next upload's
        # answer is lost (the fake answers 502 once for these bytes)
        p = self.run_cli(["submit", src], server="fake", rc=0)
        job = self.jobs()[0]
        self.assertIn("found the file of part 1", p.stderr)
        s = self.fake_stats()
        self.assertEqual(s["creates"] - before["creates"], 1)
        named = [f for f in self.batch_files()
                 if f["filename"] == job["id"] + ".part001.jsonl"]
        self.assertEqual([f["id"] for f in named],
                         [job["batches"][0]["file_id"]])
        self.assertEqual(len(self.results(job["id"], "fake")), 2)

    def test_no_file_listing_means_uploading_again(self):
        """A server with no GET /files (404): the part whose upload's
        answer never reached the journal is uploaded again, said in a
        warning, rather than the job stuck on an error for good."""
        src = self.write("in.jsonl", [chat_line("nolist%d" % i, "p")
                                      for i in range(2)])
        before = self.fake_stats()
        self.run_cli(["submit", src, "--no-wait"], server="fake", rc=99,
                     env={"OAB_CLI_CRASH_AFTER": "upload-answer"})
        self.set_knobs(files_list=False)
        try:
            p = self.run_cli(["submit", src], server="fake", rc=0)
        finally:
            self.set_knobs(files_list=True)
        self.assertIn("uploading it again", p.stderr)
        s = self.fake_stats()
        self.assertEqual(s["uploads"] - before["uploads"], 2)
        self.assertEqual(len(self.results(self.jobs()[0]["id"], "fake")), 2)

    def test_a_retried_upload_leaves_no_copy(self):
        """The library tries an upload again after a 5xx: the first try
        may have been stored (here it was, its answer lost). The command
        sees the upload took two tries and deletes the other copy of the
        part's name and size (before: it stayed on the server)."""
        src = self.write("in.jsonl", [chat_line("lose-upload-answer-r%d" % i,
                                                "p") for i in range(2)])
        before = self.fake_stats()
        p = self.run_cli(["submit", src], server="fake", rc=0,
                         env={"OAB_CLI_MAX_RETRIES": "1"})
        job = self.jobs()[0]
        s = self.fake_stats()
        self.assertEqual(s["uploads"] - before["uploads"], 2)
        self.assertEqual(s["file_deletes"] - before["file_deletes"], 1)
        self.assertIn("another copy of part 1's file", p.stderr)
        named = [f["id"] for f in self.batch_files()
                 if f["filename"] == job["id"] + ".part001.jsonl"]
        self.assertEqual(named, [job["batches"][0]["file_id"]])
        self.assertEqual(len(self.results(job["id"], "fake")), 2)

    def test_a_delete_whose_answer_was_lost_is_done(self):
        """`files delete`: the first try deleted the file but its answer
        was lost (502); the library's second try gets 404. That is the
        first try's deletion: exit 0 (before: exit 3, 'No such file', for
        a file this command had just deleted). Without the retry, the
        404 of a file that is not there stays an error."""
        src = self.write("in.jsonl", [chat_line("lose-delete-answer-%d" % i,
                                                "p") for i in range(2)])
        p = self.run_cli(["submit", src, "--no-wait"], server="fake", rc=0)
        fid = self.jobs()[0]["batches"][0]["file_id"]
        p = self.run_cli(["files", "delete", fid], server="fake", rc=0,
                         journal=False, env={"OAB_CLI_MAX_RETRIES": "1"})
        self.assertIn("by an earlier try", p.stderr)
        self.assertNotIn(fid, [f["id"] for f in self.batch_files()])
        p = self.run_cli(["files", "delete", fid], server="fake", rc=5,
                         journal=False, env={"OAB_CLI_MAX_RETRIES": "1"})
        self.assertIn(fid, p.stderr)

    def test_cancel_of_a_batch_that_ends_meanwhile(self):
        """The batch ends between the status read and the cancel (the
        server answers 409 batch_not_cancellable): `cancel` reads it
        again, says it ended and exits 0 (before: exit 3, the 409 as an
        error, for a job with nothing left to cancel)."""
        src = self.write("in.jsonl", [chat_line("late%d" % i, "p")
                                      for i in range(2)])
        p = self.run_cli(["submit", src, "--no-wait", "--metadata",
                          "fake_cancel_too_late=1"], server="fake", rc=0)
        job = p.stdout.split()[0]
        p = self.run_cli(["cancel", job], server="fake", rc=0)
        self.assertIn("before it could be cancelled", p.stderr)
        self.assertEqual(self.jobs()[0]["batches"][0]["status"],
                         "completed")
        # an ended batch the command already knows ended: nothing sent
        before = self.fake_stats()["cancels"]
        self.run_cli(["cancel", job], server="fake", rc=0)
        self.assertEqual(self.fake_stats()["cancels"], before)

    def test_crash_after_create(self):
        src = self.write("in.jsonl", [chat_line("k%d" % i, "p") for i in
                                      range(2)])
        before = self.fake_stats()
        self.run_cli(["submit", src, "--no-wait"], server="fake", rc=99,
                     env={"OAB_CLI_CRASH_AFTER": "create"})
        s = self.fake_stats()
        self.assertEqual(s["creates"] - before["creates"], 1)
        self.assertIsNone(self.jobs()[0]["batches"][0]["batch_id"])
        p = self.run_cli(["submit", src], server="fake", rc=0)
        self.assertIn("found batch", p.stderr)
        s = self.fake_stats()
        self.assertEqual(s["creates"] - before["creates"], 1)
        self.assertEqual(s["uploads"] - before["uploads"], 1)
        job = self.jobs()[0]
        self.assertIsNotNone(job["batches"][0]["batch_id"])
        self.assertEqual(job["status"], "completed")

    def test_split_in_three_merged_in_input_order(self):
        src = self.write("in.jsonl", [chat_line("s%d" % i, "prompt %d" % i)
                                      for i in range(1, 10)])
        before = self.fake_stats()
        p = self.run_cli(["submit", src, "--max-lines", "3", "--json"],
                         server="fake", rc=0)
        st = json.loads(p.stdout)
        self.assertEqual(len(st["batches"]), 3)
        self.assertEqual([b["lines"] for b in st["batches"]], [3, 3, 3])
        self.assertEqual(self.fake_stats()["creates"] - before["creates"], 3)
        rows = self.results(st["job"]["id"], "fake")
        self.assertEqual([r["custom_id"] for r in rows],
                         ["s%d" % i for i in range(1, 10)])
        self.assertEqual([r["input_line"] for r in rows], list(range(1, 10)))
        self.assertEqual(rows[4]["output"], "echo: prompt 5")
        self.assertEqual(len({r["batch_id"] for r in rows}), 3)

    def test_retry_failed_lines(self):
        lines = [chat_line("ok-1", "a"), chat_line("flaky-2", "b"),
                 chat_line("ok-3", "c"), chat_line("flaky-4", "d")]
        src = self.write("in.jsonl", lines)
        # the batch completed (exit 0) though two lines failed
        p = self.run_cli(["submit", src], server="fake", rc=0)
        job = p.stdout.split()[0]
        rows = self.results(job, "fake", rc=1)
        self.assertEqual([r["status"] for r in rows],
                         ["succeeded", "http_error", "succeeded",
                          "http_error"])
        self.assertEqual(rows[1]["status_code"], 500)
        failed = self.results(job, "fake", "--only", "failed", rc=1)
        self.assertEqual([r["custom_id"] for r in failed],
                         ["flaky-2", "flaky-4"])
        before = self.fake_stats()
        p = self.run_cli(["retry", job, "--failed", "--json"],
                         server="fake", rc=0)
        st = json.loads(p.stdout)
        self.assertEqual(self.fake_stats()["creates"] - before["creates"], 1)
        retry = [b for b in st["batches"] if b["kind"] == "retry"]
        self.assertEqual(len(retry), 1)
        self.assertEqual(retry[0]["lines"], 2)
        rows = self.results(job, "fake", rc=0)
        self.assertEqual([r["custom_id"] for r in rows],
                         ["ok-1", "flaky-2", "ok-3", "flaky-4"])
        self.assertTrue(all(r["status"] == "succeeded" for r in rows))
        self.assertEqual([r["input_line"] for r in rows], [1, 2, 3, 4])
        # nothing left to retry
        before = self.fake_stats()
        p = self.run_cli(["retry", job], server="fake", rc=0)
        self.assertIn("nothing to retry", p.stderr)
        self.assertEqual(self.fake_stats()["creates"], before["creates"])

    def test_expired_batch_partial_results(self):
        src = self.write("in.jsonl", [chat_line("e%d" % i, "p%d" % i)
                                      for i in range(1, 5)])
        p = self.run_cli(["submit", src, "--metadata", "fake_outcome=expired"],
                         server="fake", rc=1)
        job = p.stdout.split()[0]
        st = json.loads(self.run_cli(["status", job, "--json"],
                                     server="fake", rc=0).stdout)
        self.assertEqual(st["status"], "expired")
        rows = self.results(job, "fake", rc=1)
        self.assertEqual([r["status"] for r in rows],
                         ["succeeded", "succeeded", "expired", "expired"])
        self.assertEqual(rows[2]["error"]["code"], "batch_expired")
        # retry just the expired lines
        p = self.run_cli(["retry", job, "--expired", "--no-wait", "--json"],
                         server="fake", rc=0)
        st = json.loads(p.stdout)
        retry = [b for b in st["batches"] if b["kind"] == "retry"]
        self.assertEqual(retry[0]["lines"], 2)
        # part 1 expired, but the retry answered its lines: completed
        self.run_cli(["wait", job], server="fake", rc=0)
        rows = self.results(job, "fake", rc=0)
        self.assertTrue(all(r["status"] == "succeeded" for r in rows))
        self.assertEqual(rows[3]["output"], "echo: p4")

    def test_failed_batch(self):
        src = self.write("in.jsonl", [chat_line("f1", "x")])
        p = self.run_cli(["submit", src, "--metadata", "fake_outcome=failed",
                          "--json"], server="fake", rc=1)
        st = json.loads(p.stdout)
        self.assertEqual(st["status"], "failed")
        self.assertEqual(st["batches"][0]["errors"][0]["line"], 1)

    def test_cancel_and_interrupt(self):
        src = self.write("in.jsonl", [chat_line("x%d" % i, "p") for i in
                                      range(4)])
        p = self.run_cli(["submit", src, "--metadata", "fake_outcome=slow",
                          "--no-wait"], server="fake", rc=0)
        job = p.stdout.split()[0]
        # Ctrl-C while waiting leaves it running and says how to resume
        full = [CLI, "wait", job, "--journal", self.journal, "--base-url",
                "http://127.0.0.1:%d/v1" % self.fake_port, "--interval",
                "0.05", "--max-interval", "0.1"]
        w = subprocess.Popen(full, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True,
                             env=self.env())
        PROCS.append(w)
        time.sleep(1.0)
        w.send_signal(signal.SIGINT)
        out, err = w.communicate(timeout=30)
        self.assertEqual(w.returncode, 130, err)
        self.assertIn("oaibatch wait %s" % job, err)
        st = json.loads(self.run_cli(["status", job, "--json"],
                                     server="fake", rc=0).stdout)
        self.assertEqual(st["status"], "in_progress")
        # with --cancel-on-interrupt the batch is cancelled
        w = subprocess.Popen(full + ["--cancel-on-interrupt"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=self.env())
        PROCS.append(w)
        time.sleep(1.0)
        before = self.fake_stats()["cancels"]
        w.send_signal(signal.SIGINT)
        out, err = w.communicate(timeout=30)
        self.assertEqual(w.returncode, 130, err)
        self.assertEqual(self.fake_stats()["cancels"], before + 1)
        # cancelled: half the lines done, the rest cancelled
        self.run_cli(["wait", job], server="fake", rc=1)
        rows = self.results(job, "fake", rc=1)
        self.assertEqual(sorted(r["status"] for r in rows),
                         ["cancelled", "cancelled", "succeeded",
                          "succeeded"])
        # cancel command on another slow job
        src2 = self.write("in2.jsonl", [chat_line("y1", "p")])
        p = self.run_cli(["submit", src2, "--metadata", "fake_outcome=slow",
                          "--no-wait"], server="fake", rc=0)
        job2 = p.stdout.split()[0]
        st = json.loads(self.run_cli(["cancel", job2, "--json"],
                                     server="fake", rc=0).stdout)
        self.assertIn(st["status"], ("cancelling", "cancelled"))

    def test_results_from_files_offline(self):
        inp = self.write("in.jsonl", [chat_line("a", "x"),
                                      chat_line("b", "y"),
                                      chat_line("c", "z")])
        body = {"choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant",
                                         "content": "hello"}}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1,
                          "total_tokens": 2}}
        out = self.write("out.jsonl", [json.dumps({
            "id": "r1", "custom_id": "b", "response": {
                "status_code": 200, "request_id": "q", "body": body},
            "error": None})])
        err = self.write("err.jsonl", [json.dumps({
            "id": "r2", "custom_id": "a", "response": None,
            "error": {"code": "batch_expired", "message": "expired"}})])
        p = self.run_cli(["results", "--output-file", out, "--error-file",
                          err, "--input", inp, "--in-input-order",
                          "--format", "csv"], server=None, journal=False,
                         rc=1)
        recs = list(csv.DictReader(io.StringIO(p.stdout)))
        self.assertEqual([(r["custom_id"], r["status"]) for r in recs],
                         [("a", "expired"), ("b", "succeeded"),
                          ("c", "missing")])
        self.assertEqual(recs[1]["output"], "hello")
        p = self.run_cli(["results", "--output-file", out, "--only",
                          "succeeded"], server=None, journal=False, rc=0)
        self.assertEqual(json.loads(p.stdout)["custom_id"], "b")


if __name__ == "__main__":
    try:
        unittest.main(verbosity=2)
    finally:
        stop_all()
