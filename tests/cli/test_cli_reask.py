#!/usr/bin/env python3
"""Tests of re-asking (issue 13): `retry --invalid`, `retry --truncated` and
`run --reask N`, against `oaibatch serve` whose built-in model spoils its
first answers on demand ($OAB_TESTMODEL_INVALID_FIRST: structured answers
that do not parse; $OAB_TESTMODEL_LENGTH_FIRST: text answers cut with
finish_reason "length"; server/README.md "Test knobs").

Environment: OAB_CLI = the oaibatch binary.
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_cli import CLI, PROCS, start, stop_all  # noqa: E402

SCHEMA = {"type": "object", "properties": {"a": {"type": "string"}},
          "required": ["a"], "additionalProperties": False}


def structured(cid):
    return json.dumps({"custom_id": cid, "method": "POST", "url": "/v1/chat/completions",
                       "body": {"model": "gpt-4o-mini",
                                "messages": [{"role": "user", "content": "q " + cid}],
                                "response_format": {"type": "json_schema", "json_schema": {
                                    "name": "answer", "schema": SCHEMA, "strict": True}}}})


def plain(cid):
    return json.dumps({"custom_id": cid, "method": "POST", "url": "/v1/chat/completions",
                       "body": {"model": "gpt-4o-mini",
                                "messages": [{"role": "user", "content": "say " + cid}]}})


class TestReask(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="oab_cli_reask_")
        self.dir = self.tmp.name
        self.journal = os.path.join(self.dir, "state", "journal.db")

    def tearDown(self):
        stop_all()
        self.tmp.cleanup()

    def serve(self, invalid=0, length=0):
        env = dict(os.environ)
        env["OAB_TESTMODEL_INVALID_FIRST"] = str(invalid)
        env["OAB_TESTMODEL_LENGTH_FIRST"] = str(length)
        pf = os.path.join(self.dir, "serve.port")
        _, self.port = start([CLI, "serve", "--port", "0", "--port-file", pf,
                              "--data", os.path.join(self.dir, "data"),
                              "--upstream", "builtin:test", "--quiet"], pf, env=env)

    def write(self, lines):
        p = os.path.join(self.dir, "in.jsonl")
        with open(p, "w") as f:
            f.write("".join(x + "\n" for x in lines))
        return p

    def cli(self, args, rc=None):
        full = [CLI] + args + ["--journal", self.journal, "--base-url",
                               "http://127.0.0.1:%d/v1" % self.port]
        if args[0] in ("submit", "run", "retry", "wait"):
            full += ["--interval", "0.05", "--max-interval", "0.1"]
        env = dict(os.environ)
        for k in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OAB_PROVIDER"):
            env.pop(k, None)
        env["OAB_CLI_MAX_RETRIES"] = "0"
        p = subprocess.run(full, capture_output=True, text=True, env=env, timeout=120)
        self.assertNotIn("Sanitizer", p.stderr)
        if rc is not None:
            self.assertEqual(p.returncode, rc, "%r\n%s\n%s" % (full, p.stdout, p.stderr))
        return p

    def results(self, job):
        p = self.cli(["results", job, "--in-input-order"])
        return {r["custom_id"]: r for r in map(json.loads, p.stdout.splitlines())}

    def retry_lines(self, job):
        s = json.loads(self.cli(["status", job, "--json"], rc=0).stdout)
        return [b["lines"] for b in s["batches"] if b["kind"] == "retry"]

    def test_run_reask_fixes_invalid_answers(self):
        self.serve(invalid=2)
        src = self.write([structured("s%d" % i) for i in range(5)])
        p = self.cli(["run", src, "--reask", "3"], rc=0)
        rows = [json.loads(x) for x in p.stdout.splitlines()]
        self.assertEqual(sorted(r["custom_id"] for r in rows), ["s%d" % i for i in range(5)])
        self.assertEqual({r["status"] for r in rows}, {"succeeded"})
        self.assertEqual({json.dumps(r["parsed"]) for r in rows}, {'{"a": "test"}'})
        self.assertIn("re-ask round 1: 2 lines sent, 2 fixed, 0 still invalid", p.stderr)
        self.assertNotIn("re-ask round 2", p.stderr)   # nothing left to re-ask

    def test_run_without_reask_keeps_invalid_answers(self):
        self.serve(invalid=2)
        src = self.write([structured("s%d" % i) for i in range(4)])
        p = self.cli(["run", src], rc=1)
        rows = [json.loads(x) for x in p.stdout.splitlines()]
        self.assertEqual(sorted(r["status"] for r in rows),
                         ["invalid_output"] * 2 + ["succeeded"] * 2)
        self.assertNotIn("re-ask", p.stderr)

    def test_reask_rounds_stop_at_n(self):
        # 3 spoiled answers: the first run spoils 2 of 2 lines, the first
        # re-ask round spoils 1 of 2, the second round fixes the last
        self.serve(invalid=3)
        src = self.write([structured("a"), structured("b")])
        p = self.cli(["run", src, "--reask", "1"], rc=1)
        self.assertIn("re-ask round 1: 2 lines sent, 1 fixed, 1 still invalid", p.stderr)
        job = [w for w in p.stderr.split() if w.startswith("job_")][0]
        self.cli(["retry", job, "--invalid"], rc=0)
        rows = self.results(job)
        self.assertEqual({r["status"] for r in rows.values()}, {"succeeded"})
        self.assertEqual(self.retry_lines(job), [2, 1])

    def test_retry_truncated_and_invalid_each_take_their_lines(self):
        self.serve(invalid=1, length=2)
        src = self.write([structured("j1"), plain("t1"), plain("t2"), plain("t3"),
                          structured("j2")])
        job = self.cli(["submit", src], rc=0).stdout.split()[0]
        rows = self.results(job)
        cut = sorted(c for c, r in rows.items() if r["finish_reason"] == "length")
        bad = sorted(c for c, r in rows.items() if r["status"] == "invalid_output")
        self.assertEqual(len(cut), 2)
        self.assertEqual(len(bad), 1)
        # --truncated: only the two cut answers
        self.cli(["retry", job, "--truncated"], rc=0)
        self.assertEqual(self.retry_lines(job), [2])
        rows = self.results(job)
        for c in cut:
            self.assertEqual(rows[c]["finish_reason"], "stop")   # newest answer won
            self.assertTrue(rows[c]["output"])
        self.assertEqual(rows[bad[0]]["status"], "invalid_output")
        # --invalid: only the one that failed its schema
        self.cli(["retry", job, "--invalid"], rc=0)
        self.assertEqual(self.retry_lines(job), [2, 1])
        rows = self.results(job)
        self.assertEqual(rows[bad[0]]["status"], "succeeded")
        self.assertEqual(rows[bad[0]]["parsed"], {"a": "test"})
        self.assertEqual(len(rows), 5)
        # nothing left
        p = self.cli(["retry", job, "--invalid", "--truncated"], rc=0)
        self.assertIn("nothing to retry", p.stderr)
        self.assertEqual(self.retry_lines(job), [2, 1])

    def test_reask_option_checked(self):
        self.serve()
        src = self.write([structured("x")])
        p = self.cli(["run", src, "--reask", "-1"], rc=2)
        self.assertIn("--reask", p.stderr)
        self.assertEqual(PROCS[0].poll(), None)


if __name__ == "__main__":
    suite = unittest.TestLoader().loadTestsFromTestCase(TestReask)
    res = unittest.TextTestRunner(verbosity=2).run(suite)
    stop_all()
    sys.exit(0 if res.wasSuccessful() else 1)
