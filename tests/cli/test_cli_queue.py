#!/usr/bin/env python3
"""Tests of queueing under the enqueued-token limit (issue 13): `oaibatch
run --enqueued-token-limit N` against `oaibatch serve --enqueued-token-limit
N`, which fails a batch with token_limit_exceeded when the key's batches in
flight for its model and it would hold more than N input tokens.

What is checked: a job needing 5x the limit finishes by itself, every
custom_id answered exactly once, and the server never held more than the
limit (its log says how many tokens were enqueued at each start); batches
the server refuses are sent again and never show as failed lines; a crash
in the middle of the queue resumes with every line run exactly once (the
server's batch list: the batches that ran hold each line once).

Environment: OAB_CLI = the oaibatch binary, OAB_ENCODINGS_DIR = the rank
files (both the command and the server count tokens with them).
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_cli import CLI, PROCS, stop_all  # noqa: E402

LIMIT = 300
# gpt-4o-mini's batch prices in data/prices.tsv (USD per 1M tokens)
PRICE_IN, PRICE_OUT = 0.075, 0.30


def line(cid):
    # 11 input tokens each with o200k_base (gpt-4o-mini)
    return json.dumps({"custom_id": cid, "method": "POST", "url": "/v1/chat/completions",
                       "body": {"model": "gpt-4o-mini",
                                "messages": [{"role": "user", "content": "say hello " + cid}]}})


class TestQueue(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="oab_cli_queue_")
        self.dir = self.tmp.name
        self.journal = os.path.join(self.dir, "state", "journal.db")
        self.log = os.path.join(self.dir, "serve.log")
        pf = os.path.join(self.dir, "serve.port")
        self.logf = open(self.log, "w")
        p = subprocess.Popen([CLI, "serve", "--port", "0", "--port-file", pf,
                              "--data", os.path.join(self.dir, "data"),
                              "--upstream", "builtin:test", "--quiet",
                              "--latency-ms", "5",
                              "--enqueued-token-limit", str(LIMIT)],
                             stdout=subprocess.DEVNULL, stderr=self.logf)
        PROCS.append(p)
        txt = ""
        for _ in range(200):
            if os.path.exists(pf):
                with open(pf) as f:
                    txt = f.read().strip()
            if txt:
                break
            self.assertIsNone(p.poll(), "server exited")
            time.sleep(0.05)
        self.port = int(txt)

    def tearDown(self):
        stop_all()
        self.logf.close()
        self.tmp.cleanup()

    def write(self, n, name="in.jsonl"):
        p = os.path.join(self.dir, name)
        with open(p, "w") as f:
            f.write("".join(line("c%03d" % i) + "\n" for i in range(n)))
        return p

    def cli(self, args, rc=None, env_extra=None):
        full = [CLI] + args + ["--journal", self.journal, "--base-url",
                               "http://127.0.0.1:%d/v1" % self.port]
        if args[0] in ("submit", "run", "retry", "wait"):
            full += ["--interval", "0.05", "--max-interval", "0.2"]
        env = dict(os.environ)
        for k in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OAB_PROVIDER", "OAB_CLI_CRASH_AFTER"):
            env.pop(k, None)
        env["OAB_CLI_MAX_RETRIES"] = "0"
        env.update(env_extra or {})
        p = subprocess.run(full, capture_output=True, text=True, env=env, timeout=240)
        self.assertNotIn("Sanitizer", p.stderr)
        if rc is not None:
            self.assertEqual(p.returncode, rc, "%r\n%s\n%s" % (full, p.stdout, p.stderr))
        return p

    def server_batches(self):
        url = "http://127.0.0.1:%d/v1/batches?limit=100" % self.port
        with urllib.request.urlopen(url) as r:
            return json.load(r)["data"]

    def enqueued_at_starts(self):
        self.logf.flush()
        with open(self.log) as f:
            return [int(m.group(1)) for m in
                    re.finditer(r"enqueued (\d+) of %d for gpt-4o-mini" % LIMIT, f.read())]

    def check_exactly_once(self, rows, n):
        ids = [r["custom_id"] for r in rows]
        self.assertEqual(len(ids), n)
        self.assertEqual(sorted(ids), ["c%03d" % i for i in range(n)])
        self.assertEqual({r["status"] for r in rows}, {"succeeded"})
        # every batch that ran (not refused) holds each line once
        ran = [b for b in self.server_batches() if b["status"] != "failed"]
        self.assertEqual(sum(b["request_counts"]["total"] for b in ran), n)
        for b in self.server_batches():
            if b["status"] == "failed":
                self.assertEqual([e["code"] for e in b["errors"]["data"]],
                                 ["token_limit_exceeded"])
                self.assertIsNone(b["errors"]["data"][0]["line"])
                self.assertIsNone(b["errors"]["data"][0]["param"])

    def test_job_of_5x_the_limit_finishes_by_itself(self):
        src = self.write(137)  # 1507 input tokens: 5x the limit
        est = json.loads(self.cli(["estimate", src, "--json"], rc=0).stdout)
        self.assertGreaterEqual(est["total"]["input_tokens"], 5 * LIMIT)
        p = self.cli(["run", src, "--enqueued-token-limit", str(LIMIT)], rc=0)
        rows = [json.loads(x) for x in p.stdout.splitlines()]
        self.check_exactly_once(rows, 137)
        starts = self.enqueued_at_starts()
        self.assertGreaterEqual(len(starts), 6)       # 6 parts at least ran
        self.assertLessEqual(max(starts), LIMIT)      # never more than the limit
        self.assertNotIn("refused", p.stderr)         # our queue kept under it
        self.assertIn("queue: ", p.stderr)
        # status: the actual cost from the batches' usage
        job = re.search(r"job (job_[0-9a-f]+)", p.stderr).group(1)
        st = json.loads(self.cli(["status", job, "--json"], rc=0).stdout)
        cost = st["cost"]
        self.assertEqual(cost["prompt_tokens"], sum(r["usage"]["prompt_tokens"] for r in rows))
        self.assertEqual(cost["completion_tokens"],
                         sum(r["usage"]["completion_tokens"] for r in rows))
        self.assertEqual(cost["batches_counted"], len(st["batches"]))
        self.assertEqual(cost["batches_without_usage"], 0)
        want = (cost["prompt_tokens"] * PRICE_IN + cost["completion_tokens"] * PRICE_OUT) / 1e6
        self.assertAlmostEqual(cost["usd"], want, places=9)
        text = self.cli(["status", job], rc=0).stdout
        self.assertIn("cost: %d prompt tokens" % cost["prompt_tokens"], text)
        self.assertIn("at batch prices (gpt-4o-mini)", text)

    def test_refused_batches_are_sent_again_not_failed(self):
        # the command thinks twice the server's limit is there: the server
        # refuses the second batch in flight each time
        src = self.write(100)
        p = self.cli(["run", src, "--enqueued-token-limit", str(2 * LIMIT),
                      "--max-lines", "20"], rc=0)
        self.assertIn("refused (token_limit_exceeded); queued again", p.stderr)
        rows = [json.loads(x) for x in p.stdout.splitlines()]
        self.check_exactly_once(rows, 100)
        self.assertTrue(any(b["status"] == "failed" for b in self.server_batches()))
        self.assertLessEqual(max(self.enqueued_at_starts()), LIMIT)
        job = re.search(r"job (job_[0-9a-f]+)", p.stderr).group(1)
        st = json.loads(self.cli(["status", job, "--json"], rc=0).stdout)
        self.assertEqual({b["status"] for b in st["batches"]}, {"completed"})

    def test_parts_are_merged_in_input_order_part_by_part(self):
        # --in-input-order on a job of several parts writes one part at a
        # time (each part's rows sorted): the whole job in input order
        # (40 lines are over the server's limit: queued, so that no part
        # is refused whatever the machine's speed)
        src = self.write(40)
        p = self.cli(["run", src, "--max-lines", "7", "--in-input-order",
                      "--enqueued-token-limit", str(LIMIT)], rc=0)
        rows = [json.loads(x) for x in p.stdout.splitlines()]
        self.assertEqual([r["custom_id"] for r in rows], ["c%03d" % i for i in range(40)])
        self.assertEqual([r["input_line"] for r in rows], list(range(1, 41)))
        self.assertIn("40 results: 40 succeeded", p.stderr)
        self.assertIn("cost: ", p.stderr)

    def test_tier_without_a_figure_is_refused(self):
        src = os.path.join(self.dir, "4o.jsonl")
        with open(src, "w") as f:
            f.write(line("a").replace("gpt-4o-mini", "gpt-4o") + "\n")
        p = self.cli(["run", src, "--tier", "2"], rc=2)
        self.assertIn("--tier 2: no published enqueued-token limit for model gpt-4o", p.stderr)
        self.assertEqual(self.server_batches(), [])

    def crash_and_resume(self, point):
        src = self.write(100)
        args = ["run", src, "--enqueued-token-limit", str(LIMIT)]
        self.cli(args, rc=99, env_extra={"OAB_CLI_CRASH_AFTER": point})
        jobs = json.loads(self.cli(["jobs", "--json"], rc=0).stdout)
        self.assertEqual(len(jobs), 1)
        parts = jobs[0]["batches"]
        self.assertGreaterEqual(len(parts), 4)
        self.assertTrue(all(b["batch_id"] is None for b in parts))
        self.assertIn("queued", [b["status"] for b in parts])
        st = json.loads(self.cli(["status", jobs[0]["id"], "--json"], rc=0).stdout)
        self.assertIn("queued", [b["status"] for b in st["batches"]])
        watch = self.cli(["watch", "--once"], rc=0).stdout
        self.assertIn("queued", watch)
        p = self.cli(args, rc=0)
        self.assertIn("re-attaching", p.stderr)
        rows = [json.loads(x) for x in p.stdout.splitlines()]
        self.check_exactly_once(rows, 100)
        self.assertLessEqual(max(self.enqueued_at_starts()), LIMIT)
        # one batch per part: the one created before the crash was found
        ran = [b for b in self.server_batches() if b["status"] != "failed"]
        self.assertEqual(len(ran), len(parts))

    def test_crash_after_create_resumes_exactly_once(self):
        self.crash_and_resume("create")

    def test_crash_after_upload_resumes_exactly_once(self):
        self.crash_and_resume("upload")


if __name__ == "__main__":
    unittest.main(verbosity=2)
