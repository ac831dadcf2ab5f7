#!/usr/bin/env python3
"""Cost in the job flow (issue 13): submit and run print the estimate
before sending, --max-cost refuses a job whose upper bound is above it
(nothing sent: the server's batch count does not move), and a model with
no price is an error naming it. Against `oaibatch serve --upstream
builtin:test` (the servers of test_cli.py).

Environment: as test_cli.py (OAB_CLI, OAB_TESTS).
"""
import json
import os
import sys
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_cli  # noqa: E402
from test_cli import Base  # noqa: E402


def line(cid, prompt, model="gpt-4o-mini", max_tokens=100):
    return json.dumps({"custom_id": cid, "method": "POST",
                       "url": "/v1/chat/completions",
                       "body": {"model": model, "max_tokens": max_tokens,
                                "messages": [{"role": "user",
                                              "content": prompt}]}})


def price_of(model):
    """(batch input, batch output) USD per 1M tokens from the built-in
    table (data/prices.tsv)."""
    path = os.path.join(test_cli.TESTS, "..", "data", "prices.tsv")
    with open(path) as f:
        for row in f:
            cols = row.split()
            if cols and not row.startswith("#") and cols[0] == model:
                return float(cols[4]), float(cols[6])
    raise AssertionError("%s not in %s" % (model, path))


class TestCostBeforeSending(Base):
    def batch_count(self):
        url = "http://127.0.0.1:%d/v1/batches?limit=100" % self.local_port
        with urllib.request.urlopen(url) as r:
            doc = json.load(r)
        self.assertFalse(doc["has_more"])
        return len(doc["data"])

    def estimate_total(self, src):
        p = self.run_cli(["estimate", src, "--json"], server=None, rc=0)
        return json.loads(p.stdout)["total"]

    def test_submit_prints_the_estimate_and_q_silences_it(self):
        src = self.write("in.jsonl", [line("a%d" % i, "hello %d" % i)
                                      for i in range(3)])
        t = self.estimate_total(src)
        bin_, bout = price_of("gpt-4o-mini")
        self.assertEqual(t["output_tokens_max"], 300)
        self.assertAlmostEqual(t["cost_max_usd"],
                               (t["input_tokens"] * bin_ + 300 * bout) / 1e6)
        p = self.run_cli(["submit", src, "--no-wait"], server="local", rc=0)
        self.assertIn("estimate: 3 lines, %d input tokens, output at most 300;"
                      " $%.6f - $%.6f at batch prices"
                      % (t["input_tokens"], t["cost_min_usd"],
                         t["cost_max_usd"]), p.stderr)
        self.assertNotIn("estimate", p.stdout)
        p = self.run_cli(["-q", "submit", src, "--force", "--no-wait"],
                         server="local", rc=0)
        self.assertNotIn("estimate", p.stderr)

    def test_max_cost_refuses_before_anything_is_sent(self):
        src = self.write("in.jsonl", [line("m%d" % i, "word " * 50,
                                           max_tokens=1000)
                                      for i in range(4)])
        t = self.estimate_total(src)
        before = self.batch_count()
        for cmd in ("submit", "run"):
            p = self.run_cli([cmd, src, "--max-cost",
                              "%.9f" % (t["cost_max_usd"] / 2)],
                             server="local", rc=4)
            self.assertIn("above --max-cost", p.stderr)
            self.assertIn("nothing sent", p.stderr)
            self.assertEqual(self.batch_count(), before)
        self.assertEqual(self.jobs(), [])
        # an upper bound at or under the limit goes through
        out = self.path("res.jsonl")
        self.run_cli(["run", src, "--max-cost",
                      "%.9f" % (t["cost_max_usd"] * 2), "-o", out],
                     server="local", rc=0)
        self.assertEqual(self.batch_count(), before + 1)
        self.assertEqual(len(test_cli.read_lines(out)), 4)

    def test_model_without_a_price(self):
        src = self.write("in.jsonl", [line("u%d" % i, "hi",
                                           model="no-such-model-x")
                                      for i in range(2)])
        before = self.batch_count()
        p = self.run_cli(["submit", src, "--max-cost", "100"],
                         server="local", rc=4)
        self.assertIn("model no-such-model-x has no price", p.stderr)
        self.assertEqual(self.batch_count(), before)
        # without --max-cost it is said, not refused
        p = self.run_cli(["submit", src, "--no-wait"], server="local", rc=0)
        self.assertIn("no price for model no-such-model-x", p.stderr)
        self.assertEqual(self.batch_count(), before + 1)

    def test_bad_max_cost(self):
        src = self.write("in.jsonl", [line("b1", "hi")])
        for bad in ("-1", "abc", "nan", ""):
            p = self.run_cli(["submit", src, "--max-cost", bad],
                             server="local", rc=2)
            self.assertIn("--max-cost takes an amount in USD", p.stderr)


class TestActualCost(Base):
    def test_run_and_results_show_the_cost_from_usage(self):
        src = self.write("in.jsonl", [line("c%d" % i, "question %d" % i)
                                      for i in range(5)])
        out = self.path("res.jsonl")
        p = self.run_cli(["run", src, "-o", out], server="local", rc=0)
        rows = [json.loads(x) for x in test_cli.read_lines(out)]
        self.assertEqual(len(rows), 5)
        prompt = sum(r["usage"]["prompt_tokens"] for r in rows)
        completion = sum(r["usage"]["completion_tokens"] for r in rows)
        self.assertGreater(completion, 0)
        bin_, bout = price_of("gpt-4o-mini")
        usd = (prompt * bin_ + completion * bout) / 1e6
        want = ("cost: %d prompt tokens (0 cached), %d completion tokens; "
                "$%.6f at batch prices (gpt-4o-mini)" % (prompt, completion,
                                                         usd))
        self.assertIn(want, p.stderr)
        job = self.jobs()[0]["id"]
        p = self.run_cli(["results", job], server="local", rc=0)
        self.assertIn(want, p.stderr)
        self.assertEqual(len(p.stdout.splitlines()), 5)
        p = self.run_cli(["-q", "results", job], server="local", rc=0)
        self.assertNotIn("cost:", p.stderr)

    def test_model_without_a_price_is_named(self):
        src = self.write("in.jsonl", [line("n%d" % i, "q", model="my-model-z")
                                      for i in range(2)])
        p = self.run_cli(["run", src, "-o", self.path("r.jsonl")],
                         server="local", rc=0)
        self.assertRegex(p.stderr, r"cost: \d+ prompt tokens \(0 cached\), "
                         r"\d+ completion tokens; no price for model "
                         r"my-model-z")


if __name__ == "__main__":
    unittest.main(verbosity=2)
