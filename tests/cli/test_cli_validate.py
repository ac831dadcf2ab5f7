#!/usr/bin/env python3
"""Tests of `oaibatch validate` on what an outside review found it let
through or printed wrong: a line with stream: true (the server fails the
whole batch), a chat completion without usable messages, a file with a
byte order mark under --json (the report must still be JSON), and the
form of a whole-file problem (no line number). Also that a submit, which
validates first, still takes the inputs the other tests send.

Uses the helpers of tests/cli/test_cli.py; needs no server (the validate
command sends nothing).
Environment: as tests/cli/test_cli.py.
"""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_cli import Base, chat_line, stop_all  # noqa: E402

BOM = b"\xef\xbb\xbf"


def line(cid, url, body):
    return json.dumps({"custom_id": cid, "method": "POST", "url": url,
                       "body": body})


def chat(cid, **body):
    b = {"model": "gpt-4o-mini",
         "messages": [{"role": "user", "content": "hi"}]}
    b.update(body)
    return line(cid, "/v1/chat/completions",
                {k: v for k, v in b.items() if v is not OMIT})


OMIT = object()


class TestValidateFindings(Base):
    @classmethod
    def start_servers(cls, d):
        pass  # validate sends nothing

    def validate(self, path, rc, *extra):
        p = self.run_cli(["validate", path] + list(extra), server=None,
                         journal=False, rc=rc)
        return p

    def report(self, path, rc):
        p = self.validate(path, rc, "--json")
        self.assertTrue(p.stdout.strip(), "no JSON on stdout; stderr:\n%s"
                        % p.stderr)
        return json.loads(p.stdout)

    def problems(self, rep):
        return [(x["line"], x["code"], x.get("param")) for x in
                rep["problems"]]

    def test_stream_true_is_refused(self):
        f = self.write("stream.jsonl", [
            chat("a"),
            chat("h", stream=True),
            chat("f", stream=False),
            chat("n", stream=None),
            line("r", "/v1/chat/completions",
                 {"stream": True, "model": "gpt-4o-mini",
                  "messages": [{"role": "user", "content": "x"}]}),
        ])
        rep = self.report(f, 4)
        self.assertFalse(rep["valid"])
        self.assertEqual(self.problems(rep),
                         [(2, "stream_not_supported", "body.stream"),
                          (5, "stream_not_supported", "body.stream")])
        p = self.validate(f, 4)
        self.assertIn("stream.jsonl:2: stream_not_supported: ", p.stdout)
        self.assertIn("[body.stream]", p.stdout)
        # the reviewer's line, alone
        one = self.write("one.jsonl", [
            '{"custom_id":"h","method":"POST","url":"/v1/chat/completions",'
            '"body":{"model":"gpt-4o-mini","messages":[{"role":"user",'
            '"content":"hi"}],"stream":true}}'])
        p = self.validate(one, 4)
        self.assertNotIn("valid: 1 request", p.stdout)
        self.assertIn("one.jsonl:1: stream_not_supported", p.stdout)

    def test_stream_true_on_every_endpoint_that_streams(self):
        for url, body in (("/v1/responses", {"model": "gpt-4o-mini",
                                             "input": "hi"}),
                          ("/v1/completions", {"model": "gpt-3.5-turbo-"
                                               "instruct", "prompt": "hi"}),
                          ("/v1/chat/completions", {
                              "model": "gpt-4o-mini", "messages": [
                                  {"role": "user", "content": "hi"}]})):
            f = self.write("s.jsonl", [
                line("a", url, body), line("b", url, dict(body, stream=True)),
                line("c", url, dict(body, stream=False))])
            rep = self.report(f, 4)
            self.assertEqual(self.problems(rep),
                             [(2, "stream_not_supported", "body.stream")],
                             url)
            ok = self.write("ok.jsonl", [line("a", url, body),
                                         line("c", url,
                                              dict(body, stream=False))])
            self.assertTrue(self.report(ok, 0)["valid"], url)

    def test_chat_messages_are_required(self):
        f = self.write("msgs.jsonl", [
            chat("ok"),
            chat("none", messages=OMIT),
            chat("null", messages=None),
            chat("str", messages="hi"),
            chat("obj", messages={"role": "user", "content": "hi"}),
            chat("empty", messages=[]),
            chat("elem", messages=[{"role": "user", "content": "hi"}, "x"]),
        ])
        rep = self.report(f, 4)
        self.assertFalse(rep["valid"])
        self.assertEqual(self.problems(rep), [
            (2, "missing_messages", "body.messages"),
            (3, "missing_messages", "body.messages"),
            (4, "invalid_messages", "body.messages"),
            (5, "invalid_messages", "body.messages"),
            (6, "invalid_messages", "body.messages"),
            (7, "invalid_messages", "body.messages")])
        self.assertEqual(rep["problems_total"], 6)
        self.assertIn("body.messages[1]", rep["problems"][5]["message"])
        p = self.validate(f, 4)
        self.assertIn("msgs.jsonl:2: missing_messages: ", p.stdout)
        self.assertIn("msgs.jsonl:6: invalid_messages: ", p.stdout)
        self.assertIn("6 problems in 7 lines", p.stdout)

    def test_message_contents_are_not_judged(self):
        # roles, content types and other fields come back per line from
        # the API (it evolves): validate leaves them alone
        f = self.write("odd.jsonl", [
            chat("a", messages=[{"role": "wizard", "content": 7}]),
            chat("b", messages=[{}], temperature="hot", frobnicate=True),
            chat("c"),
        ])
        rep = self.report(f, 0)
        self.assertTrue(rep["valid"], rep)
        self.assertEqual(rep["problems"], [])

    def test_bom_with_json_is_a_report(self):
        f = self.path("bom.jsonl")
        with open(f, "wb") as fh:
            fh.write(BOM + (chat_line("a", "x") + "\n" +
                            chat_line("b", "y") + "\n").encode())
        rep = self.report(f, 4)
        self.assertFalse(rep["valid"])
        self.assertEqual(rep["file"], f)
        self.assertEqual(self.problems(rep), [(1, "bom", None)])
        self.assertEqual(rep["lines"], 2)
        self.assertIn("byte order mark", rep["problems"][0]["message"])
        # without --json: the message on stderr, as before
        p = self.validate(f, 4)
        self.assertEqual(p.stdout, "")
        self.assertIn("%s:1: the file starts with a UTF-8 byte order mark"
                      % f, p.stderr)
        # a mark alone, and through standard input
        alone = self.path("alone.jsonl")
        with open(alone, "wb") as fh:
            fh.write(BOM)
        rep = self.report(alone, 4)
        self.assertEqual(self.problems(rep),
                         [(1, "bom", None), (0, "empty_file", None)])
        with open(f, "rb") as fh:
            p = self.run_cli(["validate", "-", "--json"], server=None,
                             journal=False, rc=4, stdin=fh)
        self.assertEqual(self.problems(json.loads(p.stdout)),
                         [(1, "bom", None)])
        # a missing file is still a local error, with nothing on stdout
        p = self.validate(self.path("missing.jsonl"), 5, "--json")
        self.assertEqual(p.stdout, "")

    def test_whole_file_problem_has_no_line_number(self):
        f = self.write("empty.jsonl", [])
        p = self.validate(f, 4)
        self.assertIn("%s: empty_file: " % f, p.stdout)
        self.assertNotIn(":0:", p.stdout)
        rep = self.report(f, 4)
        self.assertEqual(self.problems(rep), [(0, "empty_file", None)])
        # line problems keep their number
        bad = self.write("bad.jsonl", [chat_line("a", "x"), "{nope"])
        p = self.validate(bad, 4)
        self.assertIn("%s:2: invalid_json_line: " % bad, p.stdout)

    def test_help_does_not_overclaim(self):
        p = self.run_cli(["validate", "--help"], server=None, journal=False,
                         rc=0)
        self.assertNotIn("the way the Batch API will", p.stdout)
        self.assertIn("not checked", p.stdout)
        self.assertIn("stream", p.stdout)
        self.assertIn("messages", p.stdout)


class TestSubmitTakesTheUsualInputs(Base):
    """submit validates before sending: the lines every other test sends
    (chat_line) still go through, and a stream: true line is refused
    before anything is sent."""

    def test_chat_lines_submit(self):
        good = self.write("good.jsonl", [chat_line("a", "x"),
                                         chat_line("b", "y")])
        p = self.run_cli(["submit", good, "--json"], rc=0)
        self.assertTrue(p.stdout.strip())
        bad = self.write("bad.jsonl", [chat_line("a", "x"),
                                       chat("b", stream=True)])
        p = self.run_cli(["submit", bad], rc=4)
        self.assertIn("stream_not_supported", p.stdout + p.stderr)


if __name__ == "__main__":
    try:
        unittest.main(verbosity=2)
    finally:
        stop_all()
