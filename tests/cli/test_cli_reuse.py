#!/usr/bin/env python3
"""Tests of `oaibatch run --reuse-answers` (issue 13): a line whose request
(custom_id aside, compared in canonical JSON) was answered successfully by
an earlier job in the journal is not sent again; its result is that
answer, marked "reused_from": {job, batch, line}.

Upstream requests are counted with the server's metrics
(oaibatch_lines_done_total: lines the built-in model answered) and its
files and batches lists.

Environment: OAB_CLI = the oaibatch binary.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_cli import CLI, start, stop_all  # noqa: E402


def line(cid, prompt, spaced=False):
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": prompt}]}
    obj = {"custom_id": cid, "method": "POST", "url": "/v1/chat/completions", "body": body}
    if spaced:  # the same request written with other key order and spacing
        return json.dumps({"body": {"messages": body["messages"], "model": body["model"]},
                           "url": obj["url"], "method": "POST", "custom_id": cid}, indent=None,
                          separators=(" , ", " : "))
    return json.dumps(obj)


class TestReuse(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="oab_cli_reuse_")
        self.dir = self.tmp.name
        self.journal = os.path.join(self.dir, "state", "journal.db")
        pf = os.path.join(self.dir, "serve.port")
        _, self.port = start([CLI, "serve", "--port", "0", "--port-file", pf,
                              "--data", os.path.join(self.dir, "data"),
                              "--upstream", "builtin:test", "--quiet"], pf)

    def tearDown(self):
        stop_all()
        self.tmp.cleanup()

    def write(self, name, lines):
        p = os.path.join(self.dir, name)
        with open(p, "w") as f:
            f.write("".join(x + "\n" for x in lines))
        return p

    def run_cli(self, src, *extra, rc=0):
        full = [CLI, "run", src, "--reuse-answers", "--in-input-order", "--journal", self.journal,
                "--base-url", "http://127.0.0.1:%d/v1" % self.port,
                "--interval", "0.05", "--max-interval", "0.1"] + list(extra)
        env = dict(os.environ)
        for k in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OAB_PROVIDER"):
            env.pop(k, None)
        p = subprocess.run(full, capture_output=True, text=True, env=env, timeout=120)
        self.assertNotIn("Sanitizer", p.stderr)
        self.assertEqual(p.returncode, rc, "%s\n%s" % (p.stdout, p.stderr))
        return p, [json.loads(x) for x in p.stdout.splitlines()]

    def get(self, path):
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (self.port, path)) as r:
            return r.read().decode()

    def upstream_lines(self):
        m = re.search(r'^oaibatch_lines_done_total\{endpoint="/v1/chat/completions"\} (\d+)$',
                      self.get("/metrics"), re.M)
        return int(m.group(1))

    def uploads(self):
        return len(json.loads(self.get("/v1/files"))["data"])

    @staticmethod
    def same(row):
        return {k: v for k, v in row.items() if k != "reused_from"}

    def test_second_run_sends_nothing_and_gives_the_same_results(self):
        src = self.write("in.jsonl", [line("a%d" % i, "question %d" % i) for i in range(5)])
        p1, first = self.run_cli(src)
        self.assertEqual(self.upstream_lines(), 5)
        self.assertTrue(all("reused_from" not in r for r in first))
        job = re.search(r"job (job_[0-9a-f]+)", p1.stderr).group(1)
        files = self.uploads()
        p2, second = self.run_cli(src)
        self.assertIn("nothing was sent", p2.stderr)
        self.assertEqual(self.upstream_lines(), 5)      # nothing upstream
        self.assertEqual(self.uploads(), files)          # nothing uploaded
        self.assertEqual(len(json.loads(self.get("/v1/batches"))["data"]), 1)
        self.assertEqual([self.same(r) for r in second], first)
        for i, r in enumerate(second):
            self.assertEqual(r["reused_from"], {"job": job, "batch": first[i]["batch_id"],
                                                "line": i + 1})

    def test_only_new_requests_are_sent_whatever_the_custom_id_and_spacing(self):
        src = self.write("in.jsonl", [line("a%d" % i, "question %d" % i) for i in range(3)])
        _, first = self.run_cli(src)
        self.assertEqual(self.upstream_lines(), 3)
        # new custom_ids, other key order and spacing for two old requests,
        # one new request in the middle
        src2 = self.write("in2.jsonl", [line("x0", "question 2", spaced=True),
                                        line("x1", "something new"),
                                        line("x2", "question 0", spaced=True)])
        _, rows = self.run_cli(src2)
        self.assertEqual(self.upstream_lines(), 4)      # only the new one
        self.assertEqual([r["custom_id"] for r in rows], ["x0", "x1", "x2"])
        self.assertEqual([r["input_line"] for r in rows], [1, 2, 3])
        self.assertEqual(rows[0]["output"], first[2]["output"])
        self.assertEqual(rows[0]["reused_from"]["line"], 3)
        self.assertNotIn("reused_from", rows[1])
        self.assertEqual(rows[2]["reused_from"]["line"], 1)
        self.assertEqual({r["status"] for r in rows}, {"succeeded"})
        # the new answer was indexed too: a third run sends nothing
        _, again = self.run_cli(src2)
        self.assertEqual(self.upstream_lines(), 4)
        self.assertEqual([self.same(r)["output"] for r in again], [r["output"] for r in rows])

    def test_without_the_option_answers_are_sent_again(self):
        src = self.write("in.jsonl", [line("a0", "question 0")])
        self.run_cli(src)
        full = [CLI, "run", src, "--force", "--journal", self.journal,
                "--base-url", "http://127.0.0.1:%d/v1" % self.port,
                "--interval", "0.05", "--max-interval", "0.1"]
        env = {k: v for k, v in os.environ.items() if k != "OPENAI_BASE_URL"}
        p = subprocess.run(full, capture_output=True, text=True, env=env, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.upstream_lines(), 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
