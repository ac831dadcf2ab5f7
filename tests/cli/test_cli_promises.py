#!/usr/bin/env python3
"""Tests of what the `oaibatch` command promises beyond one command at a
time (issue 11): concurrent submits, runs and retries of one input end in
one job; waits ride out a server that goes away; -o never replaces what
is not a regular file; a job's state comes from its lines.

Uses the servers and helpers of tests/test_cli.py (the local server with
the built-in test model, and tests/harness/cli_fake_server.py).
Environment: as tests/test_cli.py.
"""
import json
import os
import re
import resource
import signal
import sqlite3
import stat
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_cli  # noqa: E402
from test_cli import CLI, PROCS, Base, chat_line, start, stop_all  # noqa: E402


class Promises(Base):
    def cli_args(self, args, server):
        port = self.local_port if server == "local" else self.fake_port
        return [CLI] + list(args) + [
            "--journal", self.journal, "--base-url",
            "http://127.0.0.1:%d/v1" % port, "--interval", "0.05",
            "--max-interval", "0.2"]

    def run_many(self, commands, env=None):
        """Starts every command at once; returns [(rc, stdout, stderr)]."""
        procs = []
        for args in commands:
            p = subprocess.Popen(args, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True,
                                 env=self.env(env))
            PROCS.append(p)
            procs.append(p)
        out = []
        for p in procs:
            o, e = p.communicate(timeout=120)
            self.assertNotIn("Sanitizer", e)
            self.assertNotIn("runtime error:", e)
            out.append((p.returncode, o, e))
        return out

    def server_batches(self, port):
        p = self.run_cli(["list", "--all", "--json", "--base-url",
                          "http://127.0.0.1:%d/v1" % port], server=None,
                         rc=0, journal=False)
        return len(json.loads(p.stdout))

    def job_doc(self, job, server):
        p = self.run_cli(["status", job, "--json"], server=server, rc=0)
        return json.loads(p.stdout)

    def journal_sql(self, sql, *args):
        """Runs one statement on the journal; its rows ([] while the
        journal or its tables are not made yet)."""
        if not os.path.exists(self.journal):
            return []
        db = sqlite3.connect(self.journal, timeout=10)
        try:
            with db:
                return db.execute(sql, args).fetchall()
        except sqlite3.OperationalError as e:
            if "no such table" in str(e):
                return []
            raise
        finally:
            db.close()

    def lock_rows(self):
        return self.journal_sql("SELECT name, pid FROM locks")

    def submit_holding_its_lock(self, src):
        """Starts a submit whose create the fake server answers 3 s late;
        returns it once its lock is in the journal."""
        a = subprocess.Popen(
            self.cli_args(["submit", src, "--metadata",
                           "fake_create_delay=3"], "fake"),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=self.env())
        PROCS.append(a)
        deadline = time.time() + 30
        while not self.lock_rows():
            self.assertLess(time.time(), deadline, "no lock taken")
            time.sleep(0.05)
        return a


class TestConcurrency(Promises):
    def test_eight_submits_of_one_file_make_one_job(self):
        src = self.write("in.jsonl", [chat_line("c%d" % i, "p%d" % i)
                                      for i in range(5)])
        before = self.server_batches(self.local_port)
        res = self.run_many([self.cli_args(["submit", src], "local")] * 8)
        self.assertEqual([r[0] for r in res], [0] * 8, res)
        ids = {r[1].split()[0] for r in res}
        self.assertEqual(len(ids), 1, res)
        self.assertEqual(len(self.jobs()), 1)
        self.assertEqual(self.server_batches(self.local_port) - before, 1)
        self.assertEqual(len(self.results(ids.pop(), "local")), 5)

    def test_eight_runs_of_one_file_make_one_job(self):
        src = self.write("in.jsonl", [chat_line("r%d" % i, "p%d" % i)
                                      for i in range(4)])
        before = self.server_batches(self.local_port)
        outs = [self.path("out%d.jsonl" % i) for i in range(8)]
        res = self.run_many([self.cli_args(["run", src, "-o", o], "local")
                             for o in outs])
        self.assertEqual([r[0] for r in res], [0] * 8, res)
        self.assertEqual(len(self.jobs()), 1)
        self.assertEqual(self.server_batches(self.local_port) - before, 1)
        for o in outs:
            rows = [json.loads(x) for x in test_cli.read_lines(o)]
            self.assertEqual(sorted(r["custom_id"] for r in rows),
                             ["r0", "r1", "r2", "r3"])

    def test_two_different_inputs_at_once_both_run(self):
        a = self.write("a.jsonl", [chat_line("a1", "x")])
        b = self.write("b.jsonl", [chat_line("b1", "y")])
        res = self.run_many([self.cli_args(["submit", a], "local"),
                             self.cli_args(["submit", b], "local")])
        self.assertEqual([r[0] for r in res], [0, 0], res)
        self.assertNotEqual(res[0][1].split()[0], res[1][1].split()[0])
        self.assertEqual(len(self.jobs()), 2)

    def test_a_lock_holds_whatever_pid_its_row_names(self):
        """A submit in another PID namespace (a container sharing the
        journal's folder) names a pid that is no process here: the lock
        holds all the same (before: taken as a dead holder's, and the
        input submitted twice)."""
        src = self.write("in.jsonl", [chat_line("n%d" % i, "p%d" % i)
                                      for i in range(3)])
        before = self.fake_stats()["creates"]
        a = self.submit_holding_its_lock(src)
        dead = 4194000
        while dead > 1000:
            try:
                os.kill(dead, 0)
                dead -= 1
            except ProcessLookupError:
                break
        self.journal_sql("UPDATE locks SET pid = ?", dead)
        b = self.run_cli(["submit", src, "--metadata", "fake_create_delay=3"],
                         server="fake", rc=0)
        self.assertIn("waiting for another oaibatch", b.stderr)
        out, err = a.communicate(timeout=60)
        self.assertEqual(a.returncode, 0, err)
        self.assertEqual(out.split()[0], b.stdout.split()[0])
        self.assertEqual(self.fake_stats()["creates"] - before, 1)
        self.assertEqual(self.lock_rows(), [])
        self.assertEqual(os.listdir(self.journal + "-locks"), [])

    def test_a_killed_holders_lock_is_free_though_its_pid_lives(self):
        """A holder killed with -9 leaves its row; the pid it names lives
        again (reused): the lock is free, the next submit goes on (before:
        it waited for that process forever)."""
        src = self.write("in.jsonl", [chat_line("k%d" % i, "p%d" % i)
                                      for i in range(3)])
        a = self.submit_holding_its_lock(src)
        a.kill()
        a.communicate()
        self.journal_sql("UPDATE locks SET pid = ?", os.getpid())
        p = self.run_cli(["submit", src, "--metadata", "fake_create_delay=3"],
                         server="fake", rc=0)
        self.assertNotIn("waiting", p.stderr)
        self.assertEqual(len(self.results(p.stdout.split()[0], "fake")), 3)

    def test_two_retries_at_once_make_one_retry_part(self):
        src = self.write("in.jsonl", [chat_line("ok-1", "a"),
                                      chat_line("flaky-2", "b"),
                                      chat_line("flaky-3", "c")])
        p = self.run_cli(["submit", src], server="fake", rc=0)
        job = p.stdout.split()[0]
        before = self.fake_stats()["creates"]
        res = self.run_many(
            [self.cli_args(["retry", job, "--failed"], "fake")] * 2)
        self.assertEqual([r[0] for r in res], [0, 0], res)
        self.assertEqual(self.fake_stats()["creates"] - before, 1)
        kinds = [b["kind"] for b in self.jobs()[0]["batches"]]
        self.assertEqual(kinds.count("retry"), 1)
        rows = self.results(job, "fake", rc=0)
        self.assertTrue(all(r["status"] == "succeeded" for r in rows))


class TestOutages(Promises):
    def test_wait_rides_out_a_server_restart(self):
        data = os.path.join(self.dir, "serve-data")
        pf = os.path.join(self.dir, "port")
        server, port = start(
            [CLI, "serve", "--port", "0", "--port-file", pf, "--data", data,
             "--upstream", "builtin:test", "--quiet"], pf)
        url = "http://127.0.0.1:%d/v1" % port
        src = self.write("in.jsonl", [chat_line("o%d" % i, "p%d" % i)
                                      for i in range(3)])
        p = self.run_cli(["submit", src, "--no-wait", "--base-url", url],
                         server=None, rc=0)
        job = p.stdout.split()[0]
        server.terminate()
        server.wait(10)
        w = subprocess.Popen(
            [CLI, "wait", job, "--journal", self.journal, "--base-url", url,
             "--interval", "0.2", "--max-interval", "1"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=self.env())
        PROCS.append(w)
        time.sleep(20)
        self.assertIsNone(w.poll())  # still waiting, not given up
        os.remove(pf)
        start([CLI, "serve", "--port", str(port), "--port-file", pf,
               "--data", data, "--upstream", "builtin:test", "--quiet"], pf)
        out, err = w.communicate(timeout=120)
        self.assertEqual(w.returncode, 0, err)
        self.assertEqual(err.count("cannot be reached"), 1, err)
        self.assertEqual(err.count("the server is back"), 1, err)
        p = self.run_cli(["results", job, "--base-url", url], server=None,
                         rc=0)
        rows = [json.loads(x) for x in p.stdout.splitlines()]
        self.assertEqual(sorted(r["custom_id"] for r in rows),
                         ["o0", "o1", "o2"])

    def test_jobs_move_after_the_server_moved(self):
        """The job's server restarted on another port: the job's commands
        still go to the old address (named in the warning, with the
        `jobs move` that re-points it); `jobs move --to` a server without
        the job's batches refuses and changes nothing; to the new address
        it re-points the job, and status and results work with no URL."""
        data = os.path.join(self.dir, "serve-data")
        pf = os.path.join(self.dir, "port")
        server, port = start(
            [CLI, "serve", "--port", "0", "--port-file", pf, "--data", data,
             "--upstream", "builtin:test", "--quiet"], pf)
        old = "http://127.0.0.1:%d/v1" % port
        src = self.write("in.jsonl", [chat_line("mv%d" % i, "p%d" % i)
                                      for i in range(3)])
        job = self.run_cli(["submit", src, "--base-url", old], server=None,
                           rc=0).stdout.split()[0]
        server.terminate()
        server.wait(10)
        os.remove(pf)
        server, port = start(
            [CLI, "serve", "--port", "0", "--port-file", pf, "--data", data,
             "--upstream", "builtin:test", "--quiet"], pf)
        new = "http://127.0.0.1:%d/v1" % port
        p = self.run_cli(["status", job, "--base-url", new], server=None,
                         rc=3)
        self.assertIn("the job was submitted to %s; using it, not %s (if "
                      "the job's server is at %s now: oaibatch jobs move "
                      "%s --to %s)" % (old, new, new, job, new), p.stderr)
        p = self.run_cli(["jobs", "move", job, "--to", "http://127.0.0.1:%d"
                          "/v1" % self.fake_port], server=None, rc=None)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("stays at %s" % old, p.stderr)
        self.assertEqual(self.jobs()[0]["batches"][0]["status"], "completed")
        self.run_cli(["jobs", "move", job], server=None, rc=2)
        p = self.run_cli(["jobs", "move", job, "--to", new + "/"],
                         server=None, rc=0)
        self.assertIn("job %s now goes to %s (was %s)" % (job, new, old),
                      p.stderr)
        p = self.run_cli(["status", job], server=None, rc=0)
        self.assertNotIn("submitted to", p.stderr)
        rows = self.results(job, None)
        self.assertEqual(sorted(r["custom_id"] for r in rows),
                         ["mv0", "mv1", "mv2"])

    def test_timeout_and_cancel_on_timeout(self):
        src = self.write("in.jsonl", [chat_line("s1", "p")])
        p = self.run_cli(["submit", src, "--metadata", "fake_outcome=slow",
                          "--no-wait"], server="fake", rc=0)
        job = p.stdout.split()[0]
        p = self.run_cli(["wait", job, "--timeout", "0.5"], server="fake",
                         rc=3)
        self.assertIn("timed out", p.stderr)
        self.assertIn("oaibatch wait %s" % job, p.stderr)
        self.assertEqual(self.job_doc(job, "fake")["status"], "in_progress")
        before = self.fake_stats()["cancels"]
        p = self.run_cli(["wait", job, "--timeout", "0.5",
                          "--cancel-on-timeout"], server="fake", rc=3)
        self.assertEqual(self.fake_stats()["cancels"], before + 1)
        self.assertIn(self.job_doc(job, "fake")["status"],
                      ("cancelling", "cancelled"))

    def test_not_found_stops_at_once(self):
        # an unknown batch id: the table's code for an unknown id
        p = self.run_cli(["wait", "batch_doesnotexist"], server="local",
                         rc=5)
        self.assertIn("no batch batch_doesnotexist on the server", p.stderr)
        self.assertNotIn("cannot be reached", p.stderr)


class TestOutputPaths(Promises):
    N = 3

    def result_files(self):
        body = {"choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant",
                                         "content": "hello"}}]}
        return self.write("out.jsonl", [json.dumps({
            "id": "r%d" % i, "custom_id": "c%d" % i, "response": {
                "status_code": 200, "request_id": "q", "body": body},
            "error": None}) for i in range(self.N)])

    def results_to(self, target, rc=0):
        return self.run_cli(["results", "--output-file", self.result_files(),
                             "-o", target], server=None, journal=False, rc=rc)

    def leftovers(self, folder):
        return [n for n in os.listdir(folder) if n.startswith(".")
                or n.endswith(".tmp")]

    def test_symlink_target_is_written(self):
        target = self.write("target.jsonl", ["old"])
        link = self.path("link.jsonl")
        os.symlink(target, link)
        self.results_to(link)
        self.assertTrue(os.path.islink(link))
        self.assertEqual(len(test_cli.read_lines(target)), self.N)
        self.assertEqual(self.leftovers(self.dir), [])

    def test_fifo_with_a_reader(self):
        fifo = self.path("fifo")
        os.mkfifo(fifo)
        got = []
        t = threading.Thread(target=lambda: got.append(open(fifo).read()))
        t.start()
        self.results_to(fifo)
        t.join(30)
        self.assertEqual(len(got[0].splitlines()), self.N)
        self.assertTrue(stat.S_ISFIFO(os.stat(fifo).st_mode))

    def test_character_device_stays_a_device(self):
        dev = self.path("null")  # made here, in the test's own folder
        os.mknod(dev, 0o600 | stat.S_IFCHR, os.makedev(1, 3))
        self.results_to(dev)
        self.assertTrue(stat.S_ISCHR(os.lstat(dev).st_mode))
        self.assertEqual(self.leftovers(self.dir), [])

    def test_regular_file_replaced_with_its_mode(self):
        f = self.write("res.jsonl", ["old"])
        os.chmod(f, 0o640)
        self.results_to(f)
        self.assertEqual(stat.S_IMODE(os.stat(f).st_mode), 0o640)
        self.assertEqual(len(test_cli.read_lines(f)), self.N)

    def test_missing_folder(self):
        target = self.path("nowhere/res.jsonl")
        p = self.results_to(target, rc=5)
        self.assertIn(target, p.stderr)
        self.assertIn("No such file or directory", p.stderr)
        self.assertFalse(os.path.exists(self.path("nowhere")))

    def test_read_only_folder(self):
        ro = self.path("ro")
        os.mkdir(ro)
        os.chmod(ro, 0o555)
        try:
            target = os.path.join(ro, "res.jsonl")
            if os.geteuid() == 0:  # root writes anyway: all or nothing
                self.results_to(target)
                self.assertEqual(len(test_cli.read_lines(target)), self.N)
            else:
                p = self.results_to(target, rc=5)
                self.assertIn("Permission denied", p.stderr)
            self.assertEqual(self.leftovers(ro), [])
        finally:
            os.chmod(ro, 0o755)

    def test_folder_is_refused(self):
        p = self.results_to(self.dir, rc=5)
        self.assertIn("Is a directory", p.stderr)

    def test_build_writes_a_symlink_target(self):
        prompts = self.write("prompts.txt", ["one", "two"])
        target = self.write("built.jsonl", ["old"])
        link = self.path("built-link.jsonl")
        os.symlink(target, link)
        self.run_cli(["build", prompts, "--model", "m", "-o", link],
                     server=None, journal=False, rc=0)
        self.assertTrue(os.path.islink(link))
        self.assertEqual(len(test_cli.read_lines(target)), 2)

    def test_closed_pipe_leaves_no_temporary_download(self):
        src = self.write("in.jsonl", [chat_line("p%d" % i, "x" * 200)
                                      for i in range(2000)])
        p = self.run_cli(["submit", src], server="local", rc=0)
        job = p.stdout.split()[0]
        tmp = self.path("tmp")
        os.mkdir(tmp)
        args = [CLI, "results", job, "--raw", "--journal", self.journal,
                "--base-url", "http://127.0.0.1:%d/v1" % self.local_port]
        r = subprocess.Popen(args, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE,
                             env=self.env({"TMPDIR": tmp}))
        PROCS.append(r)
        self.assertTrue(r.stdout.readline())
        r.stdout.close()  # the reader goes away, like `| head -1`
        err = r.stderr.read().decode()
        r.wait(60)
        self.assertEqual(r.returncode, 5, err)
        self.assertNotIn("error", err)  # a closed pipe is not an error
        self.assertEqual(os.listdir(tmp), [])


class TestJobState(Promises):
    def test_cancel_then_retry_is_completed(self):
        src = self.write("in.jsonl", [chat_line("k%d" % i, "p%d" % i)
                                      for i in range(4)])
        p = self.run_cli(["submit", src, "--no-wait", "--metadata",
                          "fake_validate_polls=3"], server="fake", rc=0)
        job = p.stdout.split()[0]
        self.run_cli(["cancel", job], server="fake", rc=0)
        self.run_cli(["wait", job], server="fake", rc=1)
        self.assertEqual(self.job_doc(job, "fake")["status"], "cancelled")
        self.run_cli(["retry", job, "--cancelled"], server="fake", rc=0)
        doc = self.job_doc(job, "fake")
        self.assertEqual(doc["status"], "completed")
        self.assertEqual(doc["job"]["retries"], 1)
        self.run_cli(["wait", job], server="fake", rc=0)
        p = self.run_cli(["status", job], server="fake", rc=0)
        self.assertIn("completed (after 1 retry)", p.stdout)
        rows = self.results(job, "fake", rc=0)
        self.assertEqual(len(rows), 4)
        # `jobs` says what `status` said (before: "cancelled", the first
        # part's own status)
        self.assertEqual([j["status"] for j in self.jobs()], ["completed"])

    def test_a_create_whose_answer_is_lost_makes_one_batch(self):
        """A create the server made but whose answer was lost (a 502) is
        not sent again blind: submit finds the part's batch on the server
        and goes on with it (before: the library sent the create again,
        and the first batch ran, paid for and never collected)."""
        src = self.write("in.jsonl", [chat_line("l%d" % i, "p%d" % i)
                                      for i in range(3)])
        before = self.fake_stats()["creates"]
        p = self.run_cli(["submit", src, "--metadata", "fake_create_lost=1"],
                         server="fake", rc=0)
        self.assertIn("found batch", p.stderr)
        self.assertEqual(self.fake_stats()["creates"] - before, 1,
                         "one create sent")
        job = p.stdout.split()[0]
        self.assertEqual(len(self.results(job, "fake", rc=0)), 3)

    def test_a_retry_whose_batch_failed_exits_1(self):
        """retry waits for its batch and exits as `wait` would: 1 when that
        batch failed (before: 0, as if the job were complete)."""
        src = self.write("in.jsonl", [chat_line("f%d" % i, "p%d" % i)
                                      for i in range(4)])
        p = self.run_cli(["submit", src, "--metadata", "fake_outcome=expired",
                          "--metadata", "fake_outcome_part2=failed"],
                         server="fake", rc=1)
        job = p.stdout.split()[0]
        p = self.run_cli(["retry", job, "--expired"], server="fake", rc=1)
        doc = self.job_doc(job, "fake")
        retry = [u for u in doc["batches"] if u["kind"] == "retry"]
        self.assertEqual([u["status"] for u in retry], ["failed"])
        self.run_cli(["wait", job], server="fake", rc=1)

    def test_a_retry_part_whose_create_failed_is_started_later(self):
        """A retry part journaled but left without its batch (the create
        failed) is started by the next `wait` and `retry` (before: both
        said to run `submit` again, which standard input cannot)."""
        for then in ("wait", "retry"):
            lines = [chat_line("%s-%d" % (then, i), "p%d" % i)
                     for i in range(4)]
            src = self.write(then + ".jsonl", lines)
            with open(src) as f:
                p = self.run_cli(
                    ["submit", "-", "--metadata", "fake_outcome_part1=expired",
                     "--metadata", "fake_create_fails_part2=1"],
                    server="fake", rc=1, stdin=f)
            job = p.stdout.split()[0]
            before = self.fake_stats()["creates"]
            p = self.run_cli(["retry", job, "--expired"], server="fake",
                             rc=None)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("cannot create the batch of part 2", p.stderr)
            retry = [u for u in self.job_doc(job, "fake")["batches"]
                     if u["kind"] == "retry"]
            self.assertEqual(len(retry), 1)
            self.assertIsNone(retry[0].get("batch_id"))
            args = ["wait", job] if then == "wait" else [
                "retry", job, "--expired"]
            p = self.run_cli(args, server="fake", rc=0)
            self.assertIn("has no batch yet: starting it", p.stderr)
            doc = self.job_doc(job, "fake")
            retry = [u for u in doc["batches"] if u["kind"] == "retry"]
            self.assertEqual([u["status"] for u in retry], ["completed"])
            # one batch made: the failed create made none
            self.assertEqual(self.fake_stats()["creates"] - before, 1)
            rows = self.results(job, "fake", rc=0)
            self.assertEqual(sorted(r["custom_id"] for r in rows),
                             sorted(json.loads(x)["custom_id"]
                                    for x in lines))
            self.assertTrue(all(r["status"] == "succeeded" for r in rows))

    def test_results_of_an_unfinished_job_leave_the_file_alone(self):
        """`results -o FILE` of a job with a batch still running writes
        nothing and keeps FILE (before: FILE was replaced by the lines of
        the parts that had ended, exit 1 as for a failed line); --partial
        writes those lines; a retry still running is not a missing part
        (its lines have their earlier answers)."""
        lines = [chat_line("u%d" % i, "p%d" % i) for i in range(4)]
        src = self.write("in.jsonl", lines)
        p = self.run_cli(["submit", src, "--max-lines", "2", "--no-wait",
                          "--metadata", "fake_outcome_part2=slow",
                          "--metadata", "fake_outcome_part3=slow"],
                         server="fake", rc=0)
        job = p.stdout.split()[0]
        # part 1 completes; part 2 stays in progress
        self.run_cli(["wait", job, "--timeout", "1"], server="fake", rc=3)
        out = self.write("results.jsonl", ["kept"])
        p = self.run_cli(["results", job, "-o", out], server="fake", rc=1)
        self.assertIn("is not finished", p.stderr)
        self.assertIn("--partial", p.stderr)
        self.assertEqual(test_cli.read_lines(out), ["kept"])
        p = self.run_cli(["results", job], server="fake", rc=1)
        self.assertEqual(p.stdout, "")
        self.run_cli(["results", job, "--partial", "-o", out],
                     server="fake", rc=1)
        rows = [json.loads(x) for x in test_cli.read_lines(out)]
        self.assertEqual(sorted(r["custom_id"] for r in rows), ["u0", "u1"])
        # the part ends (cancelled): its lines are there, as cancelled
        self.run_cli(["cancel", job], server="fake")
        self.run_cli(["wait", job], server="fake", rc=1)
        self.run_cli(["results", job, "-o", out], server="fake", rc=1)
        rows = [json.loads(x) for x in test_cli.read_lines(out)]
        self.assertEqual(sorted(r["custom_id"] for r in rows),
                         ["u0", "u1", "u2", "u3"])
        # a retry still running: the results are the earlier answers
        self.run_cli(["retry", job, "--cancelled", "--no-wait"],
                     server="fake", rc=0)
        p = self.run_cli(["results", job, "-o", out], server="fake", rc=1)
        self.assertNotIn("is not finished", p.stderr)
        self.assertEqual(len(test_cli.read_lines(out)), 4)
        self.run_cli(["results", "--output-file", out, "--partial"],
                     server=None, journal=False, rc=2)

    def test_expiry_then_retry_is_completed(self):
        src = self.write("in.jsonl", [chat_line("x%d" % i, "p%d" % i)
                                      for i in range(4)])
        p = self.run_cli(["submit", src, "--metadata",
                          "fake_outcome=expired"], server="fake", rc=1)
        job = p.stdout.split()[0]
        self.assertEqual(self.job_doc(job, "fake")["status"], "expired")
        # the retry's own batch expires too, but answers both its lines
        self.run_cli(["retry", job, "--expired"], server="fake", rc=0)
        self.assertEqual(self.job_doc(job, "fake")["status"], "completed")
        self.run_cli(["wait", job], server="fake", rc=0)

    def test_progress_counts_each_line_once(self):
        src = self.write("in.jsonl", [chat_line("g%d" % i, "p%d" % i)
                                      for i in range(4)])
        p = self.run_cli(["submit", src, "--metadata",
                          "fake_outcome=expired"], server="fake", rc=1)
        job = p.stdout.split()[0]
        code, text = self.run_in_pty(
            ["retry", job, "--expired", "--journal", self.journal,
             "--base-url", "http://127.0.0.1:%d/v1" % self.fake_port,
             "--interval", "0.05", "--max-interval", "0.05"],
            {"TERM": "xterm"})
        self.assertEqual(code, 0, text)
        self.assertIn("4/4", text)
        self.assertNotIn("/6", text)

    run_in_pty = test_cli.TestFakeServer.run_in_pty


class TestBeforeSending(Promises):
    def lines(self, n):
        return self.write("in.jsonl", [chat_line("b%d" % i, "p%d" % i)
                                       for i in range(n)])

    def test_dry_run_shows_the_parts_and_sends_nothing(self):
        src = self.lines(7)
        before = self.fake_stats()
        p = self.run_cli(["submit", src, "--dry-run", "--max-lines", "3"],
                         server="fake", rc=0)
        self.assertIn("7 requests", p.stdout)
        rows = [r.split() for r in p.stdout.splitlines()[2:]]
        self.assertEqual(rows, [["1", "3", rows[0][2], "1", "3"],
                                ["2", "3", rows[1][2], "4", "6"],
                                ["3", "1", rows[2][2], "7", "7"]])
        self.assertIn("nothing was sent", p.stderr)
        after = self.fake_stats()
        self.assertEqual(after["uploads"], before["uploads"])
        self.assertEqual(after["creates"], before["creates"])
        self.assertEqual(self.jobs(), [])

    def test_endpoint_is_checked_before_upload(self):
        src = self.lines(2)
        before = self.fake_stats()["uploads"]
        p = self.run_cli(["submit", src, "--endpoint", "/v1/embeddings"],
                         server="fake", rc=2)
        self.assertIn("does not match", p.stderr)
        self.assertEqual(self.fake_stats()["uploads"], before)
        self.assertEqual(self.jobs(), [])

    def test_metadata_problems_are_found_before_upload(self):
        src = self.lines(1)
        before = self.fake_stats()["uploads"]
        for md in ("oaibatch_job=x", "k" * 65 + "=v", "novalue"):
            self.run_cli(["submit", src, "--metadata", md], server="fake",
                         rc=2)
        self.assertEqual(self.fake_stats()["uploads"], before)

    def test_max_bytes_over_the_api_limit_warns(self):
        src = self.lines(1)
        p = self.run_cli(["submit", src, "--dry-run", "--max-bytes",
                          "300000000"], server="fake", rc=0)
        self.assertIn("warning: --max-bytes 300000000 is over 200000000",
                      p.stderr)


class TestStandardInput(Promises):
    def feed(self, args, text, server, rc):
        full = self.cli_args(args, server) if server else [CLI] + args
        p = subprocess.run(full, input=text, capture_output=True, text=True,
                           env=self.env({"TMPDIR": self.dir}), timeout=120)
        self.assertEqual(p.returncode, rc, p.stderr)
        return p

    def test_dash_reads_standard_input(self):
        text = "".join(chat_line("s%d" % i, "p") + "\n" for i in range(3))
        p = self.feed(["validate", "-"], text, None, 0)
        self.assertIn("-: valid: 3 requests", p.stdout)
        p = self.feed(["build", "-", "--model", "m"], "one\ntwo\n", None, 0)
        self.assertEqual(len(p.stdout.splitlines()), 2)
        first = self.feed(["submit", "-"], text, "local", 0)
        again = self.feed(["submit", "-"], text, "local", 0)
        self.assertEqual(first.stdout.split()[0], again.stdout.split()[0])
        self.assertIn("re-attaching", again.stderr)
        out = self.path("res.jsonl")
        self.feed(["run", "-", "-o", out], text, "local", 0)
        self.assertEqual(len(test_cli.read_lines(out)), 3)
        # the copies of standard input are gone
        self.assertEqual([n for n in os.listdir(self.dir)
                          if n.startswith("oaibatch_stdin")], [])


class TestCleanUp(Promises):
    def test_files_get_download_delete(self):
        src = self.write("in.jsonl", [chat_line("f%d" % i, "p%d" % i)
                                      for i in range(3)])
        p = self.run_cli(["submit", src], server="local", rc=0)
        job, batch = p.stdout.split()[:2]
        p = self.run_cli(["files", "download", batch], server="local", rc=0)
        raw = [json.loads(x) for x in p.stdout.splitlines()]
        self.assertEqual(sorted(r["custom_id"] for r in raw),
                         ["f0", "f1", "f2"])
        out = self.path("raw.jsonl")
        self.run_cli(["files", "download", batch, "-o", out],
                     server="local", rc=0)
        self.assertEqual(len(test_cli.read_lines(out)), 3)
        p = self.run_cli(["files", "download", batch, "--error"],
                         server="local", rc=1)
        self.assertIn("has no error file", p.stderr)
        fid = self.job_doc(job, "local")["batches"][0]["file_id"]
        p = self.run_cli(["files", "get", fid, "--json"], server="local",
                         rc=0)
        self.assertEqual(json.loads(p.stdout)["id"], fid)
        self.run_cli(["files", "delete", fid], server="local", rc=0)
        self.run_cli(["files", "get", fid], server="local", rc=5)

    def test_files_list(self):
        src = self.write("in.jsonl", [chat_line("l%d" % i, "p%d" % i)
                                      for i in range(2)])
        p = self.run_cli(["submit", src], server="local", rc=0)
        job = p.stdout.split()[0]
        fid = self.job_doc(job, "local")["batches"][0]["file_id"]
        p = self.run_cli(["files", "list", "--json"], server="local", rc=0)
        every = json.loads(p.stdout)
        ids = [f["id"] for f in every]
        self.assertIn(fid, ids)
        self.assertGreaterEqual(len(ids), 2)  # the input and its output
        # newest first
        created = [f["created_at"] for f in every]
        self.assertEqual(created, sorted(created, reverse=True))
        p = self.run_cli(["files", "list", "--purpose", "batch", "--json"],
                         server="local", rc=0)
        inputs = json.loads(p.stdout)
        self.assertIn(fid, [f["id"] for f in inputs])
        self.assertEqual({f["purpose"] for f in inputs}, {"batch"})
        p = self.run_cli(["files", "list", "--purpose", "batch_output",
                          "--json"], server="local", rc=0)
        outputs = json.loads(p.stdout)
        self.assertNotIn(fid, [f["id"] for f in outputs])
        self.assertEqual({f["purpose"] for f in outputs}, {"batch_output"})
        # one page of one, then the page after it
        p = self.run_cli(["files", "list", "--limit", "1"], server="local",
                         rc=0)
        rows = p.stdout.splitlines()
        self.assertEqual(rows[0].split()[:3], ["FILE", "PURPOSE", "BYTES"])
        self.assertEqual(len(rows), 2)
        self.assertEqual(rows[1].split()[0], ids[0])
        self.assertIn("more files on the server: --after %s" % ids[0],
                      p.stderr)
        p = self.run_cli(["files", "list", "--limit", "1", "--after", ids[0],
                          "--json"], server="local", rc=0)
        self.assertEqual([f["id"] for f in json.loads(p.stdout)], [ids[1]])
        p = self.run_cli(["files", "list", "--limit", "0"], server="local",
                         rc=2)
        self.assertIn("--limit takes 1 to 10000", p.stderr)
        p = self.run_cli(["files", "get", fid, "--purpose", "batch"],
                         server="local", rc=2)
        self.assertIn("--purpose goes with 'files list'", p.stderr)
        p = self.run_cli(["files", "list", "--purpose", "nothing-has-this"],
                         server="local", rc=0)
        self.assertEqual(p.stdout, "")
        self.assertIn("no files", p.stderr)

    def test_jobs_rm_refuses_running_jobs_unless_cancel(self):
        src = self.write("in.jsonl", [chat_line("r1", "p")])
        p = self.run_cli(["submit", src, "--metadata", "fake_outcome=slow",
                          "--no-wait"], server="fake", rc=0)
        job = p.stdout.split()[0]
        parts = os.path.join(self.dir, "state", "parts", job)
        self.assertTrue(os.path.isdir(parts))
        p = self.run_cli(["jobs", "rm", job], server="fake", rc=1)
        self.assertIn("still running", p.stderr)
        self.assertEqual(len(self.jobs()), 1)
        before = self.fake_stats()["cancels"]
        self.run_cli(["jobs", "rm", job, "--cancel"], server="fake", rc=0)
        self.assertEqual(self.fake_stats()["cancels"], before + 1)
        self.assertEqual(self.jobs(), [])
        self.assertFalse(os.path.exists(parts))

    def test_jobs_rm_cancel_finds_a_batch_the_journal_missed(self):
        """A crash between the create and the journal write leaves a part
        with a file and no batch: `jobs rm --cancel` finds its batch on
        the server and cancels it (before: removed the job and left the
        batch running, billed, known to nothing)."""
        src = self.write("in.jsonl", [chat_line("m1", "p")])
        self.run_cli(["submit", src, "--metadata", "fake_outcome=slow",
                      "--no-wait"], server="fake", rc=99,
                     env={"OAB_CLI_CRASH_AFTER": "create"})
        job = self.jobs()[0]
        self.assertIsNone(job["batches"][0].get("batch_id"))
        before = self.fake_stats()["cancels"]
        p = self.run_cli(["jobs", "rm", job["id"], "--cancel"],
                         server="fake", rc=0)
        self.assertIn("found batch", p.stderr)
        self.assertEqual(self.fake_stats()["cancels"], before + 1)
        self.assertEqual(self.jobs(), [])

    def test_jobs_rm_leaves_a_job_another_process_is_submitting(self):
        """jobs rm of a job whose submit is running (its input's lock
        held) refuses at once and removes nothing (before: removed the
        job under the submit, whose batch then had no job)."""
        src = self.write("in.jsonl", [chat_line("h%d" % i, "p%d" % i)
                                      for i in range(2)])
        a = self.submit_holding_its_lock(src)
        deadline = time.time() + 30
        while not self.jobs():
            self.assertLess(time.time(), deadline, "no job journaled")
            time.sleep(0.05)
        job = self.jobs()[0]["id"]
        p = self.run_cli(["jobs", "rm", job, "--cancel"], server="fake",
                         rc=1)
        self.assertIn("is being submitted by another oaibatch", p.stderr)
        out, err = a.communicate(timeout=60)
        self.assertEqual(a.returncode, 0, err)
        self.assertEqual([j["id"] for j in self.jobs()], [job])
        self.assertEqual(len(self.results(job, "fake")), 2)

    def test_jobs_prune_removes_old_finished_jobs(self):
        done = self.write("done.jsonl", [chat_line("d1", "p")])
        slow = self.write("slow.jsonl", [chat_line("s1", "p")])
        self.run_cli(["submit", done], server="fake", rc=0)
        p = self.run_cli(["submit", slow, "--metadata", "fake_outcome=slow",
                          "--no-wait"], server="fake", rc=0)
        running = p.stdout.split()[0]
        time.sleep(2.1)  # both are now over a whole second old
        p = self.run_cli(["jobs", "prune", "--older-than", "1s"],
                         server=None, rc=0)
        self.assertIn("removed 1 finished job", p.stderr)
        self.assertEqual([j["id"] for j in self.jobs()], [running])
        self.run_cli(["jobs", "prune", "--older-than", "soon"], server=None,
                     rc=2)


    def test_jobs_rm_delete_files(self):
        """jobs rm --delete-files deletes the job's input, output and
        error files on the server; a file the server refuses to delete
        keeps the job in the journal (exit 3), and the same command
        again deletes the rest and removes the job."""
        before = self.fake_file_ids()
        src = self.write("in.jsonl", [chat_line("df-ok", "p"),
                                      chat_line("df-fail", "p")])
        job = self.run_cli(["submit", src], server="fake").stdout.split()[0]
        made = self.fake_file_ids() - before
        self.assertEqual(len(made), 3)  # input, output, errors
        self.set_knobs(file_deletes=False)
        try:
            p = self.run_cli(["jobs", "rm", job, "--delete-files"],
                             server="fake", rc=3)
        finally:
            self.set_knobs(file_deletes=True)
        self.assertIn("cannot delete the input file", p.stderr)
        self.assertIn("stays in the journal", p.stderr)
        self.assertEqual([j["id"] for j in self.jobs()], [job])
        self.assertEqual(self.fake_file_ids() - before, made)
        p = self.run_cli(["jobs", "rm", job, "--delete-files"],
                         server="fake", rc=0)
        self.assertIn("deleted 3 files of job %s" % job, p.stderr)
        self.assertEqual(self.fake_file_ids() & made, set())
        self.assertEqual(self.jobs(), [])

    def test_jobs_rm_of_a_job_that_never_got_a_batch(self):
        """A job whose create failed has no batch: jobs rm removes it with
        no --cancel, saying that its uploaded input file stays on the
        server (before: refused, 'has batches still running'); with
        --delete-files the file goes too."""
        for delete in (False, True):
            src = self.write("nb%d.jsonl" % delete,
                             [chat_line("nb%d" % delete, "p")])
            before = self.fake_file_ids()
            p = self.run_cli(["submit", src, "--no-wait", "--metadata",
                              "fake_create_fails_part1=1"], server="fake",
                             rc=3)
            job = p.stdout.split()[0] if p.stdout.strip() else \
                self.jobs()[0]["id"]
            fid = (self.fake_file_ids() - before).pop()
            args = ["jobs", "rm", job] + (["--delete-files"] if delete else [])
            p = self.run_cli(args, server="fake", rc=0)
            self.assertNotIn("still running", p.stderr)
            self.assertEqual(self.jobs(), [])
            if delete:
                self.assertNotIn(fid, self.fake_file_ids())
            else:
                self.assertIn("input file %s stays on the server" % fid,
                              p.stderr)
                self.assertIn(fid, self.fake_file_ids())

    def test_jobs_rm_cancel_delete_files_waits_for_the_last_files(self):
        """--cancel --delete-files: the cancelled batch's error file comes
        once it ended; rm waits for it and deletes it with the input."""
        before = self.fake_file_ids()
        src = self.write("in.jsonl", [chat_line("dc1", "p")])
        p = self.run_cli(["submit", src, "--metadata", "fake_outcome=slow",
                          "--no-wait"], server="fake", rc=0)
        job = p.stdout.split()[0]
        p = self.run_cli(["jobs", "rm", job, "--cancel", "--delete-files",
                          "--interval", "0.05", "--max-interval", "0.2"],
                         server="fake", rc=0)
        self.assertIn("waiting for the cancelled batches to end", p.stderr)
        self.assertIn("deleted 2 files", p.stderr)  # input, errors
        self.assertEqual(self.fake_file_ids() - before, set())
        self.assertEqual(self.jobs(), [])

    def hold_job_lock(self, job):
        """Takes job's lock as another oaibatch would (the flock on its
        file in JOURNAL-locks, named by the FNV-1a hash of "job:ID");
        returns the descriptor that holds it."""
        import fcntl
        h = 1469598103934665603
        for c in ("job:" + job).encode():
            h = ((h ^ c) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
        folder = self.journal + "-locks"
        os.makedirs(folder, mode=0o700, exist_ok=True)
        fd = os.open(os.path.join(folder, "%016x" % h),
                     os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        return fd

    def test_jobs_prune_leaves_a_job_in_use_and_deletes_files(self):
        """prune --delete-files removes the old finished jobs with their
        files, but not one that another oaibatch holds (retrying or
        waiting for it): that one is said and left (exit 1), and goes in
        a later prune (before: prune took no lock and removed a job
        under its retry)."""
        before = self.fake_file_ids()
        a = self.write("a.jsonl", [chat_line("pa1", "p")])
        b = self.write("b.jsonl", [chat_line("pb1", "p")])
        free = self.run_cli(["submit", a], server="fake",
                            rc=0).stdout.split()[0]
        busy = self.run_cli(["submit", b], server="fake",
                            rc=0).stdout.split()[0]
        time.sleep(2.1)  # both over a whole second old
        fd = self.hold_job_lock(busy)
        try:
            p = self.run_cli(["jobs", "prune", "--older-than", "1s",
                              "--delete-files"], server=None, rc=1)
        finally:
            os.close(fd)
        self.assertIn("job %s is being retried or waited for" % busy,
                      p.stderr)
        self.assertIn("deleted 2 files of job %s" % free, p.stderr)
        self.assertIn("removed 1 finished job", p.stderr)
        self.assertIn("1 finished job is left", p.stderr)
        self.assertEqual([j["id"] for j in self.jobs()], [busy])
        self.assertEqual(len(self.fake_file_ids() - before), 2)
        p = self.run_cli(["jobs", "prune", "--older-than", "1s",
                          "--delete-files"], server=None, rc=0)
        self.assertIn("removed 1 finished job", p.stderr)
        self.assertEqual(self.jobs(), [])
        self.assertEqual(self.fake_file_ids() - before, set())


class TestJournalAndServer(Promises):
    def test_a_job_uses_the_base_url_it_was_submitted_to(self):
        src = self.write("in.jsonl", [chat_line("u1", "p")])
        p = self.run_cli(["submit", src], server="fake", rc=0)
        job = p.stdout.split()[0]
        # the environment now points at the other server
        p = self.run_cli(["status", job, "--json"], server="local", rc=0)
        self.assertIn("the job was submitted to http://127.0.0.1:%d/v1"
                      % self.fake_port, p.stderr)
        self.assertEqual(json.loads(p.stdout)["status"], "completed")
        self.assertEqual(len(self.results(job, "local")), 1)

    def test_a_job_is_followed_on_its_server_with_no_url_given(self):
        """A job submitted to a server that wants no key (a local one) is
        followed later with no --base-url and no key: its journaled URL
        is used, without a word (before: 'no API key', exit 3, as the
        default URL was tried first); $OPENAI_BASE_URL naming another
        server is named in the warning."""
        src = self.write("in.jsonl", [chat_line("nk1", "p")])
        job = self.run_cli(["submit", src], server="local",
                           rc=0).stdout.split()[0]
        for args in (["status", job], ["results", job], ["jobs", "rm", job]):
            p = self.run_cli(args, server=None, rc=0)
            self.assertNotIn("API key", p.stderr)
            self.assertNotIn("submitted to", p.stderr)
        job = self.run_cli(["submit", src], server="local",
                           rc=0).stdout.split()[0]
        other = "http://127.0.0.1:%d/v1" % self.fake_port
        p = self.run_cli(["status", job], server=None, rc=0,
                         env={"OPENAI_BASE_URL": other + "/"})
        self.assertIn("the job was submitted to http://127.0.0.1:%d/v1; "
                      "using it, not %s" % (self.local_port, other), p.stderr)

    def test_a_create_the_server_refuses_is_not_to_be_run_again(self):
        """A create refused with a 400 (a completion window the server
        does not take) says that running the command again asks the same,
        and how to go on (before: 'run the same command again to carry
        on', which failed the same way for ever)."""
        src = self.write("in.jsonl", [chat_line("cw1", "p")])
        p = self.run_cli(["submit", src, "--no-wait", "--completion-window",
                          "48h"], server="local", rc=3)
        self.assertIn("the server refused it (HTTP 400): running the same "
                      "command again asks the same", p.stderr)
        self.assertNotIn("to carry on", p.stderr)
        job = self.jobs()[0]["id"]
        self.assertIn("oaibatch jobs rm %s --delete-files" % job, p.stderr)
        self.run_cli(["jobs", "rm", job, "--delete-files"], server="local",
                     rc=0)
        self.assertEqual(self.jobs(), [])

    def test_json_of_a_dry_run_and_of_a_retry_with_nothing_to_retry(self):
        """--json gives JSON also for submit --dry-run (before: the text
        table) and for a retry with nothing to retry (before: nothing)."""
        src = self.write("in.jsonl", [chat_line("dj%d" % i, "p")
                                      for i in range(5)])
        p = self.run_cli(["submit", src, "--dry-run", "--max-lines", "2",
                          "--json"], server=None, rc=0)
        doc = json.loads(p.stdout)
        self.assertEqual([x["lines"] for x in doc["parts"]], [2, 2, 1])
        self.assertEqual([x["first_line"] for x in doc["parts"]], [1, 3, 5])
        self.assertEqual(doc["requests"], 5)
        self.assertTrue(doc["dry_run"])
        job = self.run_cli(["submit", src], server="fake",
                           rc=0).stdout.split()[0]
        p = self.run_cli(["retry", job, "--failed", "--json"], server="fake",
                         rc=0)
        self.assertEqual(json.loads(p.stdout)["status"], "completed")
        self.assertIn("nothing to retry", p.stderr)

    def test_a_wrong_key_is_said_once(self):
        """An upload refused with a 401 stored nothing: it is said once
        (before: the files were listed too, a second 401 said first)."""
        pf = os.path.join(self.dir, "key.port")
        server, port = start(
            [CLI, "serve", "--port", "0", "--port-file", pf, "--data",
             os.path.join(self.dir, "key-data"), "--api-key", "sk-good",
             "--quiet"], pf)
        self.addCleanup(lambda: (server.terminate(), server.wait(10)))
        src = self.write("in.jsonl", [chat_line("wk1", "p")])
        p = self.run_cli(["submit", src, "--no-wait", "--base-url",
                          "http://127.0.0.1:%d/v1" % port], server=None,
                         rc=3, env={"OPENAI_API_KEY": "sk-wrong"})
        self.assertEqual(p.stderr.count("HTTP 401"), 1, p.stderr)
        self.assertIn("cannot upload", p.stderr)
        self.assertNotIn("cannot list the files", p.stderr)

    def test_a_copy_reattaches_naming_the_file_submitted(self):
        """A copy of a submitted file under another name is the same job
        (the fingerprint is the content's): the message names the file
        that was submitted (before: it said the copy was submitted)."""
        src = self.write("orig.jsonl", [chat_line("cp1", "p")])
        job = self.run_cli(["submit", src], server="fake",
                           rc=0).stdout.split()[0]
        copy = self.path("copy.jsonl")
        with open(src) as a, open(copy, "w") as b:
            b.write(a.read())
        p = self.run_cli(["submit", copy], server="fake", rc=0)
        self.assertIn("%s holds what %s held when it was submitted as %s"
                      % (copy, src, job), p.stderr)
        p = self.run_cli(["submit", src], server="fake", rc=0)
        self.assertIn("%s was submitted before as %s" % (src, job), p.stderr)

    def test_credentials_in_the_base_url_are_kept_nowhere(self):
        """A base URL with a user name and password (a gateway's): the
        journal, the JSON and the messages hold it without them, and a
        later command given the same URL uses it, credentials and all,
        with no warning (before: the journal held the password)."""
        src = self.write("in.jsonl", [chat_line("s1", "p")])
        url = "http://gw:sk-SECRET-in-url@127.0.0.1:%d/v1" % self.fake_port
        p = self.run_cli(["submit", src, "--json", "--base-url", url,
                          "--interval", "0.05"], server=None, rc=0)
        self.assertNotIn("sk-SECRET", p.stdout + p.stderr)
        doc = json.loads(p.stdout)
        self.assertEqual(doc["job"]["base_url"],
                         "http://127.0.0.1:%d/v1" % self.fake_port)
        job = doc["job"]["id"]
        p = self.run_cli(["status", job, "--json", "--base-url", url],
                         server=None, rc=0)
        self.assertNotIn("sk-SECRET", p.stdout + p.stderr)
        self.assertNotIn("submitted to", p.stderr)
        for top, _, names in os.walk(os.path.dirname(self.journal)):
            for name in names:
                with open(os.path.join(top, name), "rb") as fh:
                    self.assertNotIn(b"sk-SECRET", fh.read(), name)

    def test_list_status_after_and_jobs_refresh(self):
        a = self.write("a.jsonl", [chat_line("l1", "p")])
        b = self.write("b.jsonl", [chat_line("l2", "p")])
        self.run_cli(["submit", a], server="fake", rc=0)
        p = self.run_cli(["submit", b, "--metadata", "fake_outcome=slow",
                          "--no-wait"], server="fake", rc=0)
        slow_job, slow_batch = p.stdout.split()[:2]
        p = self.run_cli(["list", "--json", "--status", "in_progress",
                          "--limit", "100"], server="fake", rc=0)
        ids = [x["id"] for x in json.loads(p.stdout)]
        self.assertIn(slow_batch, ids)
        p = self.run_cli(["list", "--json", "--limit", "100"], server="fake",
                         rc=0)
        every = [x["id"] for x in json.loads(p.stdout)]
        self.assertTrue(all(x["status"] == "in_progress" for x in
                            json.loads(self.run_cli(
                                ["list", "--json", "--status", "in_progress",
                                 "--limit", "100"], server="fake",
                                rc=0).stdout)))
        after = json.loads(self.run_cli(
            ["list", "--json", "--after", every[0], "--limit", "100"],
            server="fake", rc=0).stdout)
        self.assertEqual([x["id"] for x in after], every[1:])
        self.run_cli(["list", "--status", "sleeping"], server="fake", rc=2)
        # the journal saw the slow batch in_progress; cancel it behind
        # the journal's back, then refresh
        self.run_cli(["cancel", slow_batch, "--journal",
                      self.path("other.db")], server="fake", journal=False,
                     rc=0)
        stale = {j["id"]: j["status"] for j in self.jobs()}
        self.assertEqual(stale[slow_job], "in_progress")
        p = self.run_cli(["jobs", "--refresh", "--json"], server="fake",
                         rc=0)
        fresh = {j["id"]: j["status"] for j in json.loads(p.stdout)}
        self.assertIn(fresh[slow_job], ("cancelling", "cancelled"))

    def test_delete_inputs_after_and_output_expiry(self):
        src = self.write("in.jsonl", [chat_line("e1", "p")])
        self.run_cli(["submit", src, "--output-expires-after", "60"],
                     server="local", rc=2)
        p = self.run_cli(["submit", src, "--delete-inputs-after",
                          "--output-expires-after", "3600"], server="local",
                         rc=0)
        self.assertIn("deleted 1 uploaded input file", p.stderr)
        job = p.stdout.split()[0]
        fid = self.job_doc(job, "local")["batches"][0]["file_id"]
        self.run_cli(["files", "get", fid], server="local", rc=5)
        self.assertEqual(len(self.results(job, "local")), 1)


class TestLineMaps(Promises):
    """The journal keeps a line map per part, not a copy of its lines."""

    def big_input(self, name, n, pad=3000):
        # a blank line and a CRLF line in the middle: offsets must skip
        # them as the reader does
        lines = [chat_line("m%d" % i, "prompt %d " % i + "x" * pad)
                 for i in range(1, n + 1)]
        p = self.path(name)
        with open(p, "w", newline="") as f:
            for i, line in enumerate(lines):
                f.write(line + ("\r\n" if i == 3 else "\n"))
                if i == 5:
                    f.write("\n")
        return p

    def parts_dir(self, job):
        return os.path.join(os.path.dirname(self.journal), "parts", job)

    def copies(self, job):
        d = self.parts_dir(job)
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def maps(self):
        import sqlite3
        db = sqlite3.connect(self.journal)
        try:
            return db.execute("SELECT idx, n_lines, length(map) FROM"
                              " line_maps ORDER BY job_id, idx").fetchall()
        finally:
            db.close()

    def journal_bytes(self):
        d = os.path.dirname(self.journal)
        total = 0
        for root, _, files in os.walk(d):
            for f in files:
                total += os.path.getsize(os.path.join(root, f))
        return total

    def check_rows(self, job, server, n):
        rows = self.results(job, server)
        self.assertEqual([r["custom_id"] for r in rows],
                         ["m%d" % i for i in range(1, n + 1)])
        # physical lines: the blank line after the sixth shifts the rest
        self.assertEqual([r["input_line"] for r in rows],
                         [i if i <= 6 else i + 1 for i in range(1, n + 1)])
        return rows

    def test_copies_are_gone_and_results_map_back(self):
        src = self.big_input("in.jsonl", 60)
        p = self.run_cli(["submit", src, "--max-lines", "25"],
                         server="local", rc=0)
        job = p.stdout.split()[0]
        self.assertEqual(self.copies(job), [])
        self.assertEqual([(m[0], m[1]) for m in self.maps()],
                         [(1, 25), (2, 25), (3, 10)])
        size = os.path.getsize(src)
        self.assertLess(sum(m[2] for m in self.maps()), size // 50)
        self.assertLess(self.journal_bytes(), size // 2)
        rows = self.check_rows(job, "local", 60)
        self.assertTrue(all(r["status"] == "succeeded" for r in rows))

    def test_retry_reads_lines_through_the_map(self):
        lines = [chat_line("ok-1", "a" * 500), chat_line("flaky-2", "b"),
                 chat_line("ok-3", "c"), chat_line("flaky-4", "d")]
        src = self.write("in.jsonl", lines)
        p = self.run_cli(["submit", src], server="fake", rc=0)
        job = p.stdout.split()[0]
        self.assertEqual(self.copies(job), [])
        p = self.run_cli(["retry", job, "--failed", "--json"],
                         server="fake", rc=0)
        self.assertEqual(self.copies(job), [])
        self.assertEqual([(m[0], m[1]) for m in self.maps()],
                         [(1, 4), (2, 2)])
        rows = self.results(job, "fake", rc=0)
        self.assertEqual([(r["custom_id"], r["input_line"], r["status"])
                          for r in rows],
                         [("ok-1", 1, "succeeded"), ("flaky-2", 2,
                                                     "succeeded"),
                          ("ok-3", 3, "succeeded"), ("flaky-4", 4,
                                                     "succeeded")])

    def test_a_changed_input_is_a_clear_error(self):
        src = self.write("in.jsonl", [chat_line("c%d" % i, "p%d" % i)
                                      for i in range(3)])
        job = self.run_cli(["submit", src], server="fake",
                           rc=0).stdout.split()[0]
        with open(src, "r+b") as f:  # same size, one byte changed
            f.seek(os.path.getsize(src) - 5)
            f.write(b"X")
        p = self.run_cli(["results", job], server="fake", rc=5)
        self.assertIn(src + " has changed since job " + job, p.stderr)
        self.assertIn("lines of part 1 differ", p.stderr)
        with open(src, "a") as f:
            f.write(chat_line("c9", "more") + "\n")
        p = self.run_cli(["retry", job], server="fake", rc=5)
        self.assertIn("has changed since job", p.stderr)
        os.remove(src)
        p = self.run_cli(["results", job], server="fake", rc=5)
        self.assertIn("No such file or directory", p.stderr)

    def test_crash_at_each_point_then_resume_is_exactly_once(self):
        for point in ("map", "upload", "create", "release"):
            with self.subTest(point=point):
                self.journal = os.path.join(self.dir, point, "journal.db")
                src = self.big_input("in-%s.jsonl" % point, 8, pad=100)
                before = self.fake_stats()
                p = self.run_cli(["submit", src, "--max-lines", "5",
                                  "--no-wait"], server="fake", rc=99,
                                 env={"OAB_CLI_CRASH_AFTER": point})
                self.assertIn("crash injected after " + point, p.stderr)
                p = self.run_cli(["submit", src, "--max-lines", "5"],
                                 server="fake", rc=0)
                job = p.stdout.split()[0]
                s = self.fake_stats()
                self.assertEqual(s["uploads"] - before["uploads"], 2)
                self.assertEqual(s["creates"] - before["creates"], 2)
                self.assertEqual(len(self.jobs()), 1)
                self.assertEqual(self.copies(job), [])
                self.check_rows(job, "fake", 8)

    def test_standard_input_keeps_its_copies(self):
        # no input file to point at: the part's copy is the only one
        text = "".join(chat_line("m%d" % i, "p%d" % i) + "\n"
                       for i in range(1, 4))
        p = subprocess.run(self.cli_args(["submit", "-"], "fake"),
                           input=text, capture_output=True, text=True,
                           env=self.env({"TMPDIR": self.dir}), timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        job = p.stdout.split()[0]
        self.assertEqual(len(self.copies(job)), 1)
        self.assertEqual(self.maps(), [])
        rows = self.results(job, "fake")
        self.assertEqual([(r["custom_id"], r["input_line"]) for r in rows],
                         [("m1", 1), ("m2", 2), ("m3", 3)])

    def test_a_journal_from_before_maps_is_migrated(self):
        src = self.big_input("in.jsonl", 8, pad=100)
        self.run_cli(["submit", src, "--no-wait"], server="fake", rc=99,
                     env={"OAB_CLI_CRASH_AFTER": "upload"})
        import sqlite3
        db = sqlite3.connect(self.journal)
        db.execute("DROP TABLE line_maps")  # as a journal made before
        db.commit()
        db.close()
        job = self.jobs()[0]["id"]
        self.assertEqual(self.copies(job), ["in.part001.jsonl"])
        self.run_cli(["submit", src], server="fake", rc=0)
        self.assertEqual(self.copies(job), [])
        self.assertEqual([(m[0], m[1]) for m in self.maps()], [(1, 8)])
        self.check_rows(job, "fake", 8)


class TestWatch(Promises):
    def test_watch_once_and_until_done(self):
        slow = self.write("slow.jsonl", [chat_line("w1", "p")])
        quick = self.write("quick.jsonl", [chat_line("w2", "p")])
        p = self.run_cli(["submit", slow, "--metadata", "fake_outcome=slow",
                          "--no-wait"], server="fake", rc=0)
        slow_job, slow_batch = p.stdout.split()[:2]
        p = self.run_cli(["submit", quick, "--no-wait", "--metadata",
                          "fake_validate_polls=5"], server="fake", rc=0)
        quick_job = p.stdout.split()[0]
        p = self.run_cli(["watch", "--once"], server="fake", rc=0)
        self.assertIn("unfinished job", p.stdout)
        row = [r for r in p.stdout.splitlines() if slow_batch in r]
        self.assertEqual(len(row), 1, p.stdout)
        self.assertIn("in_progress", row[0])
        self.assertIn(slow_job, row[0])
        self.run_cli(["cancel", slow_job], server="fake", rc=0)
        # off a terminal it ends once every job has finished
        p = self.run_cli(["watch", "--interval", "0.05"], server="fake",
                         rc=0)
        self.assertIn("every job has finished", p.stderr)
        self.assertIn(quick_job, p.stdout)  # seen while it ran
        self.assertNotIn("\033", p.stdout)
        p = self.run_cli(["watch", "--once"], server="fake", rc=0)
        self.assertIn("0 unfinished jobs", p.stdout)


    def test_watch_counts_a_job_it_cannot_read_as_unfinished(self):
        """A job whose server is away is shown as last seen and counts as
        unfinished: --once exits 3, and off a terminal watch goes on
        until the server is back and the job ends (before: "0 unfinished
        jobs" and "every job has finished", exit 0, the job running)."""
        data = os.path.join(self.dir, "serve-data")
        pf = os.path.join(self.dir, "port")
        args = [CLI, "serve", "--port", "0", "--port-file", pf, "--data",
                data, "--upstream", "builtin:test", "--latency-ms", "1500",
                "--concurrency", "1", "--fixed-concurrency", "--quiet"]
        server, port = start(args, pf)
        url = "http://127.0.0.1:%d/v1" % port
        src = self.write("in.jsonl", [chat_line("wu%d" % i, "p")
                                      for i in range(2)])
        job = self.run_cli(["submit", src, "--no-wait", "--base-url", url],
                           server=None, rc=0).stdout.split()[0]
        server.terminate()
        server.wait(10)
        p = self.run_cli(["watch", "--once"], server=None, rc=3)
        self.assertIn("1 unfinished job", p.stdout)
        self.assertIn(job, p.stdout)
        self.assertIn("1 job not read now, shown as last seen", p.stdout)
        # jobs --refresh lists every job all the same, exit 3 (before: no
        # list at all)
        p = self.run_cli(["jobs", "--refresh", "--json"], server=None, rc=3)
        self.assertEqual([j["id"] for j in json.loads(p.stdout)], [job])
        w = subprocess.Popen(
            [CLI, "watch", "--interval", "0.2", "--journal", self.journal],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=self.env())
        PROCS.append(w)
        time.sleep(2)
        self.assertIsNone(w.poll())  # not "finished"
        os.remove(pf)
        args[3] = str(port)
        start(args, pf)
        out, err = w.communicate(timeout=120)
        self.assertEqual(w.returncode, 0, err)
        self.assertIn("every job has finished", err)
        self.assertEqual(self.jobs()[0]["status"], "completed")


class TestWaitLines(Promises):
    """What a wait prints off a terminal, the watch's q, and options that
    must reach the server."""

    def slow_server(self):
        """A local server whose built-in model takes 100 ms a line, one
        line at a time: a batch of 30 runs for about 3 s."""
        pf = os.path.join(self.dir, "slow.port")
        server, port = start(
            [CLI, "serve", "--port", "0", "--port-file", pf, "--data",
             os.path.join(self.dir, "slow-data"), "--upstream",
             "builtin:test", "--latency-ms", "100", "--concurrency", "1",
             "--fixed-concurrency", "--quiet"], pf)
        self.addCleanup(lambda: (server.terminate(), server.wait(10)))
        return "http://127.0.0.1:%d/v1" % port

    def status_lines(self, url, name, env):
        src = self.write(name, [chat_line("%s%d" % (name, i), "p%d" % i)
                                for i in range(30)])
        p = self.run_cli(["submit", src, "--no-wait", "--base-url", url],
                         server=None, rc=0)
        job = p.stdout.split()[0]
        p = self.run_cli(["wait", job, "--base-url", url, "--interval",
                          "0.1", "--max-interval", "0.1"], server=None,
                         rc=0, env=env)
        pat = re.compile(r"^%s: \[[#.]+\] (\d+)/30" % job)
        return [x for x in p.stderr.splitlines() if pat.match(x)]

    def test_status_line_with_eta_off_a_terminal(self):
        url = self.slow_server()
        lines = self.status_lines(url, "a", {"OAB_CLI_STATUS_EVERY": "0.2"})
        # a line every 0.2 s of a ~3 s batch, counts going up, and an ETA
        # once a rate is known
        self.assertGreaterEqual(len(lines), 3, lines)
        done = [int(re.match(r".*\] (\d+)/30", x).group(1)) for x in lines]
        self.assertEqual(done, sorted(done))
        self.assertGreater(done[-1], done[0])
        eta = [x for x in lines if re.search(r", [\d.]+/s, .*, ETA \d+s$",
                                             x)]
        self.assertTrue(eta, lines)
        # the default (120 s): only the first poll's line in such a wait
        self.assertEqual(len(self.status_lines(url, "b", {})), 1)

    def test_watch_q_leaves_and_restores_the_terminal(self):
        import pty
        import select
        import termios
        src = self.write("in.jsonl", [chat_line("w1", "p")])
        p = self.run_cli(["submit", src, "--no-wait", "--metadata",
                          "fake_outcome=slow"], server="fake", rc=0)
        job = p.stdout.split()[0]
        master, slave = pty.openpty()
        self.addCleanup(os.close, master)
        self.addCleanup(os.close, slave)
        before = termios.tcgetattr(slave)
        w = subprocess.Popen(
            [CLI, "watch", "--interval", "0.2", "--journal", self.journal,
             "--base-url", "http://127.0.0.1:%d/v1" % self.fake_port],
            stdin=slave, stdout=slave, stderr=slave,
            env=self.env({"TERM": "xterm"}))
        PROCS.append(w)
        data = b""
        deadline = time.monotonic() + 60
        while (b"(q to leave)" not in data or b"in_progress" not in data) \
                and time.monotonic() < deadline:
            if select.select([master], [], [], 0.5)[0]:
                data += os.read(master, 65536)
        text = data.decode(errors="replace")
        self.assertIn("(q to leave)", text)
        self.assertIn(job, text)
        self.assertIsNone(w.poll())  # live: it stays until q
        os.write(master, b"q")
        self.assertEqual(w.wait(30), 0)
        # raw mode (no echo, no line editing) was undone on the way out
        after = termios.tcgetattr(slave)
        self.assertEqual(after[3] & (termios.ECHO | termios.ICANON),
                         before[3] & (termios.ECHO | termios.ICANON))
        self.run_cli(["cancel", job], server="fake", rc=None)

    def test_output_expires_after_reaches_the_server(self):
        src = self.write("in.jsonl", [chat_line("x1", "p")])
        p = self.run_cli(["submit", src, "--output-expires-after", "7200"],
                         server="local", rc=0)
        job = p.stdout.split()[0]
        fid = self.job_doc(job, "local")["batches"][0]["output_file_id"]
        p = self.run_cli(["files", "get", fid, "--json"], server="local",
                         rc=0, journal=False)
        f = json.loads(p.stdout)
        # the server set the output file's expiry from the batch's
        # output_expires_after (anchor created_at, 7200 s)
        self.assertEqual(f["expires_at"] - f["created_at"], 7200)
        p = self.run_cli(["submit", src, "--force"], server="local", rc=0)
        fid = self.job_doc(p.stdout.split()[0],
                           "local")["batches"][0]["output_file_id"]
        p = self.run_cli(["files", "get", fid, "--json"], server="local",
                         rc=0, journal=False)
        self.assertIsNone(json.loads(p.stdout)["expires_at"])


class TestCompletion(Promises):
    def complete(self, script, words):
        prog = ("source %s\nCOMP_WORDS=(%s)\nCOMP_CWORD=%d\n_oaibatch\n"
                "printf '%%s\\n' \"${COMPREPLY[@]}\"\n" % (
                    script, " ".join(words), len(words) - 1))
        p = subprocess.run(["bash", "-c", prog], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout.split()

    def test_bash_script_loads_and_completes(self):
        p = self.run_cli(["completion", "bash"], server=None, journal=False,
                         rc=0)
        script = self.write("oaibatch.bash", [p.stdout])
        self.assertEqual(self.complete(script, ["oaibatch", "sub"]),
                         ["submit"])
        # options come from the same tables as the parser
        self.assertEqual(self.complete(script, ["oaibatch", "wait",
                                                "--cancel-on-t"]),
                         ["--cancel-on-timeout"])
        self.assertIn("--dry-run", self.complete(script, ["oaibatch", "run",
                                                          "--d"]))
        self.assertEqual(self.complete(script, ["oaibatch", "completion",
                                                "f"]), ["fish"])

    def test_zsh_and_fish_scripts(self):
        p = self.run_cli(["completion", "zsh"], server=None, journal=False,
                         rc=0)
        self.assertIn("bashcompinit", p.stdout)
        p = self.run_cli(["completion", "fish"], server=None, journal=False,
                         rc=0)
        self.assertIn("__fish_seen_subcommand_from wait' -l timeout -r",
                      p.stdout)
        self.run_cli(["completion", "tcsh"], server=None, journal=False,
                     rc=2)


class TestMessages(Promises):
    def test_file_errors_name_the_path_and_the_reason(self):
        missing = self.path("missing.jsonl")
        for cmd in (["validate", missing], ["submit", missing],
                    ["run", missing], ["build", missing, "--model", "m"]):
            p = self.run_cli(cmd, server="local", rc=5)
            self.assertIn("%s: No such file or directory" % missing, p.stderr)
        p = self.run_cli(["validate", self.dir], server=None, rc=5)
        self.assertIn("%s: Is a directory" % self.dir, p.stderr)

    def test_utf8_bom_has_its_own_message(self):
        p = self.path("bom.jsonl")
        with open(p, "w", encoding="utf-8-sig") as f:
            f.write(chat_line("a", "x") + "\n")
        for cmd in (["validate", p], ["submit", p]):
            r = self.run_cli(cmd, server="local", rc=4)
            self.assertIn("byte order mark", r.stderr)
        self.assertEqual(self.jobs(), [])

    def test_no_escape_sequences_on_a_dumb_terminal(self):
        src = self.write("in.jsonl", [chat_line("d1", "p")])
        code, text = self.run_in_pty(
            ["submit", src, "--journal", self.journal, "--base-url",
             "http://127.0.0.1:%d/v1" % self.fake_port, "--interval", "0.05",
             "--max-interval", "0.05"], {"TERM": "dumb"})
        self.assertEqual(code, 0, text)
        self.assertNotIn("\033", text)
        self.assertNotIn("\r[", text)
        self.assertIn("completed", text)

    def test_duplicate_custom_ids_are_flagged_and_counted(self):
        inp = self.write("in.jsonl", [chat_line("a", "x"),
                                      chat_line("b", "y")])
        body = {"choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant",
                                         "content": "hi"}}]}
        line = lambda i, cid: json.dumps({
            "id": "r%d" % i, "custom_id": cid, "response": {
                "status_code": 200, "request_id": "q", "body": body},
            "error": None})
        out = self.write("out.jsonl", [line(1, "a"), line(2, "b"),
                                       line(3, "a")])
        p = self.run_cli(["results", "--output-file", out, "--input", inp],
                         server=None, journal=False, rc=0)
        rows = [json.loads(x) for x in p.stdout.splitlines()]
        self.assertEqual([r.get("duplicate", False) for r in rows],
                         [False, False, True])
        self.assertIn("1 duplicate custom_id", p.stderr)

    def test_quiet_silences_every_command(self):
        src = self.write("in.jsonl", [chat_line("q%d" % i, "p")
                                      for i in range(2)])
        out = self.path("res.jsonl")
        p = self.run_cli(["submit", src, "-q", "--no-wait"], server="fake",
                         rc=0)
        job = p.stdout.split()[0]
        for args, rc in ((["wait", job, "-q"], 0),
                         (["status", job, "-q"], 0),
                         (["results", job, "-q", "-o", out], 0),
                         (["retry", job, "-q"], 0),
                         (["cancel", job, "-q"], 0),
                         (["jobs", "-q"], 0),
                         (["submit", src, "-q", "--dry-run"], 0),
                         (["run", src, "-q", "-o", out], 0)):
            p = self.run_cli(args, server="fake", rc=rc)
            self.assertEqual(p.stderr, "", args)
        p = self.run_cli(["cancel", job, "-q"], server="fake", rc=0)
        self.assertEqual(p.stdout, "")

    def test_cancel_of_a_finished_job_says_so(self):
        src = self.write("in.jsonl", [chat_line("f1", "p")])
        p = self.run_cli(["submit", src], server="fake", rc=0)
        job = p.stdout.split()[0]
        before = self.fake_stats()["cancels"]
        p = self.run_cli(["cancel", job], server="fake", rc=0)
        self.assertIn("has finished (completed); nothing to cancel", p.stderr)
        self.assertEqual(self.fake_stats()["cancels"], before)

    run_in_pty = test_cli.TestFakeServer.run_in_pty


# Runs argv[2:] as a child of this small interpreter and writes the
# child's peak RSS (KB) to argv[1]. A child of the test itself would
# count the test's own pages: the kernel's peak of a process includes
# what it had when it was forked, before its exec.
PEAK_RSS = r"""
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, st, ru = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    f.write(str(ru.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(st))
"""


class TestMemory(Promises):
    """Merging results (a job with a retry part), sorting them and
    settling a job hold each line's state, not its text: the texts wait
    in a temporary file (before: in memory, tens of GB for a million
    embeddings)."""
    LINES = 2000

    def argv(self, args):
        """The command line of args on the fake server (no --interval:
        results takes none)."""
        return [CLI] + list(args) + [
            "--journal", self.journal, "--base-url",
            "http://127.0.0.1:%d/v1" % self.fake_port]

    def expired_job(self, name, prompt):
        """A job whose batch expired with half its lines undone, and the
        retry that answered them: two parts to merge. The job's id."""
        # custom_ids of its own: the fake server runs a line it left
        # undone once, whatever the job
        src = self.write("in.jsonl", [
            chat_line("%s%d" % (name, i), "%d:%s" % (i, prompt))
            for i in range(self.LINES)])
        p = self.run_cli(["submit", src, "--metadata",
                          "fake_outcome=expired"], server="fake", rc=1)
        job = p.stdout.split()[0]
        self.run_cli(["retry", job, "--expired"], server="fake", rc=0)
        retry = [u for u in self.job_doc(job, "fake")["batches"]
                 if u["kind"] == "retry"]
        self.assertEqual(len(retry), 1)
        return job

    def peak(self, args, rc, env=None):
        """Peak RSS in KB of the command, and its stdout size."""
        out = self.path("peak")
        e = self.env(env)
        # ASan keeps freed blocks (256 MB) to catch their use: the peak
        # would count every block ever freed
        if "ASAN_OPTIONS" in e:
            e["ASAN_OPTIONS"] += ":quarantine_size_mb=0"
        p = subprocess.run([sys.executable, "-S", "-c", PEAK_RSS, out] +
                           self.argv(args), capture_output=True,
                           env=e, timeout=300)
        err = p.stderr.decode(errors="replace")
        self.assertNotIn("Sanitizer", err)
        self.assertEqual(p.returncode, rc, "%r: %s" % (args, err))
        with open(out) as f:
            return int(f.read()), len(p.stdout)

    def test_memory_does_not_grow_with_the_result_texts(self):
        commands = (["results", "--in-input-order"], ["results"],
                    ["status"], ["retry", "--expired"])
        small = self.expired_job("small", "s")
        base = {tuple(c): self.peak([c[0], small] + c[1:], 0)[0]
                for c in commands}
        self.setUp()  # a journal of its own: the same overheads
        big = self.expired_job("big", "b" * 8000)
        text = self.peak(["results", big], 0)[1]
        self.assertGreater(text, self.LINES * 8000)
        for c in commands:
            kb, _ = self.peak([c[0], big] + c[1:], 0)
            grew = kb - base[tuple(c)]
            # before: about the size of the texts (16 MB here) more
            self.assertLess(grew * 1024, text / 8,
                            "%r grew by %d KB for %d bytes of results"
                            % (c, grew, text))

    def test_a_full_disk_fails_the_command_and_leaves_nothing(self):
        job = self.expired_job("full", "f" * 4000)
        tmp = self.path("tmp")
        os.mkdir(tmp)
        full = self.run_cli(["results", job, "--raw"], server="fake",
                            rc=0).stdout
        # with --raw a row holds its answer twice (output, body): the
        # file of every row's text is the largest one the command
        # writes, about twice the part's input copied to TMPDIR and four
        # times each downloaded file, and the one that meets the limit
        size = os.path.getsize(self.path("in.jsonl"))
        self.assertGreater(len(full), 1.8 * size)
        limit = (size + len(full)) // 2

        def small_files():
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

        res = self.path("res.jsonl")
        for extra in ([], ["--in-input-order"], ["-o", res]):
            args = self.argv(["results", job, "--raw"] + extra)
            p = subprocess.run(args, capture_output=True, text=True,
                               env=self.env({"TMPDIR": tmp}), timeout=120,
                               preexec_fn=small_files,
                               restore_signals=False)
            self.assertNotIn("Sanitizer", p.stderr)
            self.assertEqual(p.returncode, 5, p.stderr)
            self.assertIn("cannot write the temporary file of the results "
                          "in %s: File too large" % tmp, p.stderr)
            self.assertEqual(p.stdout, "")
            self.assertEqual(os.listdir(tmp), [])
            self.assertFalse(os.path.exists(res))
        p = self.run_cli(["results", job], server="fake", rc=5,
                         env={"TMPDIR": self.path("nowhere")})
        self.assertIn("cannot create a temporary file in %s for the results"
                      % self.path("nowhere"), p.stderr)


if __name__ == "__main__":
    try:
        unittest.main(verbosity=2)
    finally:
        stop_all()
