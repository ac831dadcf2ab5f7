#!/usr/bin/env python3
"""Tests of `oaibatch --provider anthropic` (issue 16, the command): the
real binary against tests/harness/anthropic_mock.py, which checks every
request's headers and the exact shape of each create body.

Environment: OAB_CLI = the oaibatch binary, OAB_TESTS = tests/ folder.
"""
import json
import urllib.request
import os
import sqlite3
import subprocess
import sys
import tempfile
import unittest

CLI = os.environ.get("OAB_CLI", "oaibatch")
TESTS = os.environ.get("OAB_TESTS", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KEY = "sk-ant-test-SECRET-0123456789"
MODEL = "claude-3-5-haiku-latest"
LONG_ID = "x" * 70            # over Anthropic's 64 characters
SPACE_ID = "has space"        # not of [A-Za-z0-9_-]

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_cli import PROCS, start, stop_all  # noqa: E402  (one way to stop servers)


def start_mock(polls=1):
    p = subprocess.Popen([sys.executable, os.path.join(TESTS, "harness", "anthropic_mock.py"),
                          "--key", KEY, "--polls", str(polls)],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    PROCS.append(p)
    port = p.stdout.readline().strip()
    p.stdout.close()
    if not port:
        raise RuntimeError("anthropic_mock.py did not start")
    return int(port)


def line(cid, prompt, model=MODEL, **body):
    b = {"model": model, "max_tokens": 64,
         "messages": [{"role": "user", "content": prompt}]}
    b.update(body)
    return json.dumps({"custom_id": cid, "method": "POST",
                       "url": "/v1/chat/completions", "body": b})


class Base(unittest.TestCase):
    polls = 1

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="oab_cli_anth_")
        try:
            cls.port = start_mock(cls.polls)
        except Exception:
            stop_all()
            cls.tmp.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        stop_all()
        cls.tmp.cleanup()

    def setUp(self):
        self.dir = tempfile.mkdtemp(dir=self.tmp.name)
        self.journal = os.path.join(self.dir, "state", "journal.db")

    def write(self, name, lines):
        p = os.path.join(self.dir, name)
        with open(p, "w") as f:
            f.write("".join(x + "\n" for x in lines))
        return p

    def env(self, extra=None, base=True):
        e = dict(os.environ)
        for k in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY",
                  "ANTHROPIC_BASE_URL", "OAB_PROVIDER", "OAB_CLI_CRASH_AFTER"):
            e.pop(k, None)
        e["OAB_CLI_MAX_RETRIES"] = "0"
        e["XDG_STATE_HOME"] = os.path.join(self.dir, "xdg")
        e["ANTHROPIC_API_KEY"] = KEY
        if base:
            e["ANTHROPIC_BASE_URL"] = "http://127.0.0.1:%d" % self.port
        if extra:
            e.update(extra)
        return e

    def cli(self, args, rc=None, env=None, provider=True):
        full = [CLI] + list(args) + ["--journal", self.journal]
        if provider:
            full += ["--provider", "anthropic"]
        if args[0] in ("submit", "wait", "run", "retry"):
            full += ["--interval", "0.05", "--max-interval", "0.1"]
        p = subprocess.run(full, capture_output=True, text=True,
                           env=env if env is not None else self.env(), timeout=120)
        for text in (p.stdout, p.stderr):
            self.assertNotIn(KEY, text)
            self.assertNotIn("Sanitizer", text)
            self.assertNotIn("runtime error:", text)
        if rc is not None:
            self.assertEqual(p.returncode, rc, "%r\nstdout: %s\nstderr: %s"
                             % (full, p.stdout, p.stderr))
        return p

    def report(self):
        import urllib.request
        with urllib.request.urlopen("http://127.0.0.1:%d/__mock/report" % self.port,
                                    timeout=10) as r:
            rep = json.load(r)
        self.assertEqual(rep["mismatches"], [])
        self.assertEqual(rep["auth_failures"], 0)
        return rep

    def results(self, job, extra=(), rc=None):
        p = self.cli(["results", job, "--in-input-order"] + list(extra), rc=rc)
        return [json.loads(x) for x in p.stdout.splitlines()]

    def job_id(self, submit_out):
        return submit_out.split()[0]

    def assert_key_not_in_journal(self):
        for root, _, files in os.walk(os.path.dirname(self.journal)):
            for name in files:
                with open(os.path.join(root, name), "rb") as f:
                    self.assertNotIn(KEY.encode(), f.read(), name)


class TestAnthropicJobs(Base):
    def test_submit_status_wait_results_map_survives_new_process(self):
        src = self.write("in.jsonl", [
            line("plain", "one"),
            line(SPACE_ID, "two"),
            line(LONG_ID, "three"),
        ])
        n_creates = len(self.report()["creates"])
        p = self.cli(["submit", src, "--no-wait"], rc=0)
        job = self.job_id(p.stdout)
        self.assertTrue(job.startswith("job_"))
        self.assertIn("msgbatch_", p.stdout)
        creates = self.report()["creates"]
        self.assertEqual(len(creates), n_creates + 1)
        sent = [r["custom_id"] for r in creates[-1]["requests"]]
        self.assertEqual(sent[0], "plain")
        for cid in sent[1:]:            # mapped to ids Anthropic takes
            self.assertRegex(cid, r"^oab-[0-9a-f]{16}-[23]$")
        # each later command is a new process; the job keeps its provider,
        # so no --provider is needed
        s = self.cli(["status", job, "--json"], rc=0, provider=False)
        doc = json.loads(s.stdout)
        self.assertEqual(doc["batches"][0]["file_id"], None)
        self.assertTrue(doc["batches"][0]["batch_id"].startswith("msgbatch_"))
        self.cli(["wait", job], rc=0, provider=False)
        rows = self.results(job, rc=0)
        self.assertEqual([r["custom_id"] for r in rows], ["plain", SPACE_ID, LONG_ID])
        self.assertEqual([r["status"] for r in rows], ["succeeded"] * 3)
        self.assertEqual(rows[1]["output"], "Echo: two")
        self.assertEqual(rows[2]["input_line"], 3)
        self.assert_key_not_in_journal()
        # the journal keeps the provider and the map
        db = sqlite3.connect(self.journal)
        try:
            prov = db.execute("SELECT provider FROM jobs WHERE id = ?", (job,)).fetchone()[0]
            amap = db.execute("SELECT anthropic_map FROM parts WHERE job_id = ?",
                              (job,)).fetchone()[0]
        finally:
            db.close()
        self.assertEqual(prov, "anthropic")
        self.assertEqual(sorted(v["custom_id"] for v in json.loads(amap).values()),
                         sorted([SPACE_ID, LONG_ID]))

    def test_run_with_system_prompt(self):
        src = self.write("in.jsonl", [
            json.dumps({"custom_id": "s1", "method": "POST", "url": "/v1/chat/completions",
                        "body": {"model": MODEL, "max_tokens": 20, "messages": [
                            {"role": "system", "content": "be short"},
                            {"role": "user", "content": "hello"}]}}),
            line("s2", "world"),
        ])
        p = self.cli(["run", src], rc=0)
        rows = [json.loads(x) for x in p.stdout.splitlines()]
        self.assertEqual(sorted(r["custom_id"] for r in rows), ["s1", "s2"])
        self.assertEqual({r["output"] for r in rows}, {"Echo: hello", "Echo: world"})
        req = [r for r in self.report()["creates"][-1]["requests"] if r["custom_id"] == "s1"][0]
        self.assertEqual(req["params"]["system"], "be short")

    def test_retry_failed_resends_only_the_errored_line(self):
        src = self.write("in.jsonl", [line("ok-1", "a"), line("bad-2", "b"),
                                      line("ok-3", "c")])
        job = self.job_id(self.cli(["submit", src], rc=0).stdout)
        rows = self.results(job, rc=1)
        self.assertEqual([r["status"] for r in rows], ["succeeded", "http_error", "succeeded"])
        self.assertIn("bad-2", rows[1]["error"]["message"])
        before = len(self.report()["creates"])
        self.cli(["retry", job, "--failed"], rc=None, provider=False)
        creates = self.report()["creates"]
        self.assertEqual(len(creates), before + 1)
        self.assertEqual([r["custom_id"] for r in creates[-1]["requests"]], ["bad-2"])
        s = json.loads(self.cli(["status", job, "--json"], rc=0, provider=False).stdout)
        self.assertEqual([b["kind"] for b in s["batches"]], ["part", "retry"])
        rows = self.results(job, rc=1)
        self.assertEqual([r["custom_id"] for r in rows], ["ok-1", "bad-2", "ok-3"])
        self.assertEqual(rows[1]["batch_id"], s["batches"][1]["batch_id"])

    def test_model_prefix_chooses_anthropic(self):
        model = "anthropic:" + MODEL
        src = self.write("in.jsonl", [line("p1", "x", model=model),
                                      line("p2", "y", model=model)])
        p = self.cli(["submit", src], rc=0, provider=False)
        self.assertIn("msgbatch_", p.stdout)
        params = [r["params"] for r in self.report()["creates"][-1]["requests"]]
        self.assertEqual({q["model"] for q in params}, {MODEL})
        rows = self.results(self.job_id(p.stdout), rc=0)
        self.assertEqual(len(rows), 2)

    def test_provider_from_environment(self):
        src = self.write("in.jsonl", [line("e1", "x")])
        p = self.cli(["submit", src], rc=0, provider=False,
                     env=self.env({"OAB_PROVIDER": "anthropic"}))
        self.assertIn("msgbatch_", p.stdout)

    def test_bad_provider_is_a_usage_error(self):
        p = self.cli(["list", "--provider", "mistral"], rc=2, provider=False)
        self.assertIn("openai or anthropic", p.stderr)

    def test_missing_key_is_named(self):
        src = self.write("in.jsonl", [line("k1", "x")])
        env = self.env(base=False)
        env.pop("ANTHROPIC_API_KEY")
        p = self.cli(["submit", src], rc=3, env=env)
        self.assertIn("ANTHROPIC_API_KEY", p.stderr)
        self.assertFalse(os.path.exists(self.journal) and self.jobs())

    def jobs(self):
        return json.loads(self.cli(["jobs", "--json"], rc=0).stdout)

    def test_untranslatable_line_refused_before_sending(self):
        src = self.write("in.jsonl", [line("t1", "x"), line("t2", "y", n=2)])
        before = len(self.report()["creates"])
        p = self.cli(["submit", src], rc=4)
        self.assertIn("line 2", p.stderr)
        self.assertIn("body.n", p.stderr)
        self.assertIn("nothing was sent", p.stderr)
        self.assertEqual(len(self.report()["creates"]), before)
        self.assertEqual(self.jobs(), [])

    def test_missing_max_tokens_and_the_default(self):
        no_max = json.dumps({"custom_id": "m1", "method": "POST",
                             "url": "/v1/chat/completions",
                             "body": {"model": MODEL, "messages": [
                                 {"role": "user", "content": "q"}]}})
        src = self.write("in.jsonl", [no_max])
        p = self.cli(["submit", src], rc=4)
        self.assertIn("max_tokens", p.stderr)
        self.assertIn("(the command's: --anthropic-max-tokens N)", p.stderr)
        self.cli(["submit", src, "--anthropic-max-tokens", "33"], rc=0)
        req = self.report()["creates"][-1]["requests"][0]
        self.assertEqual(req["params"]["max_tokens"], 33)

    def test_options_anthropic_has_not_are_refused(self):
        src = self.write("in.jsonl", [line("o1", "x")])
        p = self.cli(["submit", src, "--metadata", "team=a"], rc=2)
        self.assertIn("no metadata", p.stderr)
        p = self.cli(["files", "get", "file-abc"], rc=2)
        self.assertIn("Anthropic has no Files API", p.stderr)

    def test_split_parts_and_list_and_delete(self):
        src = self.write("in.jsonl", [line("l%d" % i, "p%d" % i) for i in range(5)])
        p = self.cli(["submit", src, "--max-lines", "2"], rc=0)
        job = self.job_id(p.stdout)
        batches = [w for w in p.stdout.split() if w.startswith("msgbatch_")]
        self.assertEqual(len(batches), 3)
        sizes = [len(c["requests"]) for c in self.report()["creates"][-3:]]
        self.assertEqual(sizes, [2, 2, 1])
        rows = self.results(job, rc=0)
        self.assertEqual([r["custom_id"] for r in rows], ["l%d" % i for i in range(5)])
        listed = json.loads(self.cli(["list", "--json", "--limit", "100"], rc=0).stdout)
        ids = [b["id"] for b in listed]
        for b in batches:
            self.assertIn(b, ids)
        # newest first: the page before the oldest holds the newer two
        newer = json.loads(self.cli(["list", "--json", "--before", batches[0]], rc=0).stdout)
        self.assertNotIn(batches[0], [b["id"] for b in newer])
        self.assertIn(batches[1], [b["id"] for b in newer])
        self.assertIn(batches[2], [b["id"] for b in newer])
        # --before is Anthropic's
        self.cli(["list", "--before", batches[2]], rc=2, provider=False,
                 env=self.env({"OAB_PROVIDER": "openai"}))
        self.cli(["delete", batches[0]], rc=0, provider=False)
        self.assertIn("DELETE /v1/messages/batches/" + batches[0], self.report()["log"])
        self.cli(["delete", "batch_openai"], rc=2, provider=False)

    def test_jobs_rm_delete_files_deletes_the_batches(self):
        """Anthropic keeps no files: jobs rm --delete-files deletes each
        of the job's batches, results and all."""
        src = self.write("in.jsonl", [line("dr%d" % i, "p") for i in range(3)])
        p = self.cli(["submit", src, "--max-lines", "2"], rc=0)
        job = self.job_id(p.stdout)
        batches = [w for w in p.stdout.split() if w.startswith("msgbatch_")]
        self.assertEqual(len(batches), 2)
        p = self.cli(["jobs", "rm", job, "--delete-files"], rc=0,
                     provider=False)
        self.assertIn("deleted 2 batches of job %s" % job, p.stderr)
        log = self.report()["log"]
        for b in batches:
            self.assertIn("DELETE /v1/messages/batches/" + b, log)
        listed = json.loads(self.cli(["list", "--json", "--limit", "100"],
                                     rc=0).stdout)
        self.assertFalse(set(batches) & {b["id"] for b in listed})
        p = self.cli(["jobs", "--json"], rc=0, provider=False)
        self.assertEqual(json.loads(p.stdout), [])

    def test_old_journal_is_migrated(self):
        os.makedirs(os.path.dirname(self.journal))
        db = sqlite3.connect(self.journal)
        db.executescript(
            "CREATE TABLE jobs(id TEXT PRIMARY KEY, created_at INTEGER NOT NULL,"
            " input_path TEXT, fingerprint TEXT, base_url TEXT, endpoint TEXT,"
            " model TEXT, n_lines INTEGER, metadata_json TEXT);"
            "CREATE TABLE parts(job_id TEXT NOT NULL REFERENCES jobs(id),"
            " idx INTEGER NOT NULL, kind TEXT NOT NULL, path TEXT, n_lines INTEGER,"
            " input_lines TEXT, file_id TEXT, batch_id TEXT, status TEXT,"
            " count_total INTEGER DEFAULT 0, count_completed INTEGER DEFAULT 0,"
            " count_failed INTEGER DEFAULT 0, updated_at INTEGER,"
            " PRIMARY KEY(job_id, idx));"
            "INSERT INTO jobs VALUES('job_00000000000000aa', 1, 'old.jsonl', 'f',"
            " 'http://127.0.0.1:9/v1', '/v1/chat/completions', 'gpt-4o-mini', 1, '{}');"
            "INSERT INTO parts(job_id, idx, kind, path, n_lines, input_lines, file_id,"
            " batch_id, status) VALUES('job_00000000000000aa', 1, 'part', 'p', 1, '1',"
            " 'file-1', 'batch_1', 'completed');")
        db.commit()
        db.close()
        jobs = self.jobs()
        self.assertEqual([j["id"] for j in jobs], ["job_00000000000000aa"])
        src = self.write("in.jsonl", [line("n1", "x")])
        self.cli(["submit", src], rc=0)
        db = sqlite3.connect(self.journal)
        try:
            rows = db.execute("SELECT id, provider FROM jobs ORDER BY created_at").fetchall()
        finally:
            db.close()
        self.assertEqual(rows[0], ("job_00000000000000aa", None))
        self.assertEqual(rows[1][1], "anthropic")


class TestAnthropicCancel(Base):
    polls = 20     # in_progress long enough to be cancelled first

    def test_cancel_then_results(self):
        src = self.write("in.jsonl", [line("c1", "x"), line("c2", "y")])
        job = self.job_id(self.cli(["submit", src, "--no-wait"], rc=0).stdout)
        p = self.cli(["cancel", job, "--json"], rc=None, provider=False)
        self.assertIn(p.returncode, (0, 1))
        batch = json.loads(p.stdout)["batches"][0]["batch_id"]
        self.assertIn("POST /v1/messages/batches/%s/cancel" % batch, self.report()["log"])
        self.cli(["wait", job], rc=1, provider=False)
        s = json.loads(self.cli(["status", job, "--json"], rc=0, provider=False).stdout)
        self.assertEqual(s["batches"][0]["status"], "cancelled")
        rows = self.results(job, rc=1)
        self.assertEqual([r["custom_id"] for r in rows], ["c1", "c2"])
        # the mock had answered the first request before the cancel
        self.assertEqual([r["status"] for r in rows], ["succeeded", "cancelled"])
        self.assertEqual(rows[1]["error"]["code"], "batch_cancelled")


    def test_jobs_rm_cancel_finds_a_batch_the_journal_missed(self):
        """A crash between the create and the journal write: `jobs rm
        --cancel` finds the batch (created since the create was sent,
        with the part's number of requests), cancels it and removes the
        job (before: the job was removed and the batch left running,
        billed, with no job that knows it)."""
        # three lines: no other test's batch has as many requests
        src = self.write("in.jsonl", [line("r%d" % i, "x") for i in range(3)])
        self.cli(["submit", src, "--no-wait"], rc=99,
                 env=self.env({"OAB_CLI_CRASH_AFTER": "create"}))
        p = self.cli(["jobs", "--json"], rc=0, provider=False)
        job = json.loads(p.stdout)[0]["id"]
        p = self.cli(["jobs", "rm", job], rc=1)
        self.assertIn("found batch", p.stderr)
        self.assertIn("still running", p.stderr)
        s = json.loads(self.cli(["status", job, "--json"], rc=0,
                                provider=False).stdout)
        bid = s["batches"][0]["batch_id"]
        self.assertTrue(bid)
        self.cli(["jobs", "rm", job, "--cancel"], rc=0)
        self.assertIn("POST /v1/messages/batches/%s/cancel" % bid,
                      self.report()["log"])
        p = self.cli(["jobs", "--json"], rc=0, provider=False)
        self.assertEqual(json.loads(p.stdout), [])


SCHEMA = {"type": "object", "properties": {
    "answer": {"type": "string"},
    "score": {"type": "integer", "minimum": 1, "maximum": 5},
    "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}}},
    "required": ["answer", "score", "tags"]}
TOOLS = [{"type": "function", "function": {
    "name": "get_weather", "description": "The weather of a city",
    "parameters": {"type": "object", "properties": {
        "city": {"type": "string"}, "unit": {"type": "string", "enum": ["C", "F"]}},
        "required": ["city", "unit"], "additionalProperties": False}}}]


class TestAnthropicServe(Base):
    """The command (and the library under it) with --provider anthropic
    against `oaibatch serve`'s own Anthropic API, not a mock: the seed's
    examples (basic, tools, structured output in native, tool and prompted
    modes) built with `oaibatch build`, run both ways against the same
    server; the rows read as they do from its OpenAI API."""
    SKEY = "sk-serve-local"

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="oab_cli_anth_serve_")
        pf = os.path.join(cls.tmp.name, "port")
        try:
            start([CLI, "serve", "--port", "0", "--data", os.path.join(cls.tmp.name, "data"),
                   "--port-file", pf, "--api-key", cls.SKEY, "--quiet"], pf)
            with open(pf) as f:
                cls.port = int(f.read().strip())
        except Exception:
            stop_all()
            cls.tmp.cleanup()
            raise

    def env(self, extra=None, base=True):
        e = Base.env(self, extra, base)
        e["ANTHROPIC_API_KEY"] = self.SKEY
        return e

    def build(self, name, *args):
        src = self.write("prompts.txt", ["What is 2+2?", "Name a colour", "Weather in Paris?"])
        out = os.path.join(self.dir, name + ".jsonl")
        p = subprocess.run([CLI, "build", src, "--model", "claude-3-5-haiku-latest",
                            "--max-tokens", "64", "-o", out] + list(args),
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        return out

    def both(self, src):
        """Rows of `run` through the Anthropic API and through the OpenAI API."""
        anth = self.cli(["run", src], rc=0)
        oenv = self.env()
        for k in ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"):
            oenv.pop(k)
        oenv["OPENAI_API_KEY"] = self.SKEY
        oenv["OPENAI_BASE_URL"] = "http://127.0.0.1:%d/v1" % self.port
        oai = self.cli(["run", src], rc=0, env=oenv, provider=False)
        rows = [[json.loads(x) for x in p.stdout.splitlines()] for p in (anth, oai)]
        self.assertTrue(all(r["batch_id"].startswith("msgbatch_") for r in rows[0]))
        self.assertTrue(all(r["batch_id"].startswith("batch_") for r in rows[1]))
        return rows

    # what an answer's row says, whichever API carried it (ids and token
    # counts differ: a tool call's arguments are counted differently)
    KEYS = ("custom_id", "status", "input_line", "status_code", "output", "parsed",
            "invalid_reason", "finish_reason", "error", "tool_calls")

    def same(self, rows):
        a, o = rows
        self.assertEqual(len(a), 3)
        self.assertEqual([{k: r.get(k) for k in self.KEYS} for r in a],
                         [{k: r.get(k) for k in self.KEYS} for r in o])
        for r in a:
            self.assertGreater(r["usage"]["prompt_tokens"], 0)
        return a

    def test_basic(self):
        a = self.same(self.both(self.build("basic", "--system", "be brief")))
        self.assertEqual([r["status"] for r in a], ["succeeded"] * 3)
        self.assertIn("What is 2+2?", a[0]["output"])
        self.assertEqual(a[0]["finish_reason"], "stop")

    def test_tools(self):
        tools = os.path.join(self.dir, "tools.json")
        with open(tools, "w") as f:
            json.dump(TOOLS, f)
        src = self.build("tools", "--tools", tools)
        rows = self.both(src)
        a = self.same(rows)
        calls = [r for r in a if r.get("tool_calls")]
        self.assertTrue(calls, a)
        for r in calls:
            c = r["tool_calls"][0]
            self.assertEqual(c["name"], "get_weather")
            self.assertIn(c["arguments"]["unit"], ("C", "F"))
            self.assertIsInstance(c["arguments"]["city"], str)
            self.assertEqual(r["finish_reason"], "tool_calls")

    def structured(self, mode):
        schema = os.path.join(self.dir, "schema.json")
        with open(schema, "w") as f:
            json.dump(SCHEMA, f)
        a = self.same(self.both(self.build(mode, "--schema", schema, "--mode", mode)))
        for r in a:
            self.assertEqual(r["status"], "succeeded", r)
            self.assertIsNone(r["invalid_reason"])
            self.assertEqual(sorted(r["parsed"]), ["answer", "score", "tags"])
            self.assertTrue(1 <= r["parsed"]["score"] <= 5)

    def test_structured_native(self):
        self.structured("native")

    def test_structured_tool(self):
        self.structured("tool")

    def test_structured_prompted(self):
        self.structured("prompted")

    def server_batch_ids(self):
        req = urllib.request.Request(
            "http://127.0.0.1:%d/v1/messages/batches?limit=1000" % self.port,
            headers={"x-api-key": self.SKEY, "anthropic-version": "2023-06-01"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return {b["id"] for b in json.load(r)["data"]}

    def test_crash_between_create_and_journal_adopts_the_batch(self):
        # custom_ids Anthropic refuses are mapped to generated ones: the map
        # is journaled before the create, so the adopted batch reads back
        lines = [json.dumps({"custom_id": "q/%d" % i, "method": "POST",
                             "url": "/v1/chat/completions",
                             "body": {"model": "claude-3-5-haiku-latest", "max_tokens": 16,
                                      "messages": [{"role": "user", "content": "crash %d" % i}]}})
                 for i in range(4)]
        src = self.write("crash.jsonl", lines)
        before = self.server_batch_ids()
        self.cli(["run", src], rc=99, env=self.env({"OAB_CLI_CRASH_AFTER": "create"}))
        created = self.server_batch_ids() - before
        self.assertEqual(len(created), 1)
        p = self.cli(["run", src], rc=0)
        bid = created.pop()
        self.assertIn("found batch %s of part 1 on the server" % bid, p.stderr)
        self.assertEqual(self.server_batch_ids() - before, {bid})
        rows = [json.loads(x) for x in p.stdout.splitlines()]
        self.assertEqual(sorted(r["custom_id"] for r in rows), ["q/%d" % i for i in range(4)])
        self.assertTrue(all(r["status"] == "succeeded" and r["batch_id"] == bid for r in rows))

    def test_status_list_and_results_commands(self):
        src = self.build("basic2")
        p = self.cli(["submit", src], rc=0)
        job = self.job_id(p.stdout)
        s = json.loads(self.cli(["status", job, "--json"], rc=0, provider=False).stdout)
        bid = s["batches"][0]["batch_id"]
        self.assertTrue(bid.startswith("msgbatch_"))
        rows = self.results(job, rc=0)
        self.assertEqual([r["custom_id"] for r in rows],
                         ["request-1", "request-2", "request-3"])
        listed = json.loads(self.cli(["list", "--json", "--limit", "100"], rc=0).stdout)
        self.assertIn(bid, [b["id"] for b in listed])
        self.cli(["delete", bid], rc=0, provider=False)
        listed = json.loads(self.cli(["list", "--json", "--limit", "100"], rc=0).stdout)
        self.assertNotIn(bid, [b["id"] for b in listed])


if __name__ == "__main__":
    names = sys.argv[1:]
    suite = unittest.TestSuite()
    loader = unittest.TestLoader()
    for n in names or ["TestAnthropicJobs", "TestAnthropicCancel", "TestAnthropicServe"]:
        suite.addTests(loader.loadTestsFromTestCase(globals()[n]))
    res = unittest.TextTestRunner(verbosity=2).run(suite)
    stop_all()
    sys.exit(0 if res.wasSuccessful() else 1)
