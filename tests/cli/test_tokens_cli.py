#!/usr/bin/env python3
"""`oaibatch tokens` and `oaibatch estimate`: counts, errors that name the
file and the line (a bad input line, a missing or corrupt rank file, a
bad price row, an unknown model), and the estimate's figures against
values computed from the rules and the price table.

Usage: test_tokens_cli.py OAIBATCH DATA_DIR
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

CLI = sys.argv[1]
fails = 0


def check(cond, what):
    global fails
    if not cond:
        fails += 1
        print("FAIL:", what)


def run(*args, stdin=None, env=None):
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run([CLI, *args], input=stdin, capture_output=True,
                       text=True, timeout=120, env=e)
    return p.returncode, p.stdout, p.stderr


tmp = tempfile.mkdtemp(prefix="oab_tokcli_")
try:
    def write(name, text):
        path = os.path.join(tmp, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    # ---- tokens ----
    good = write("good.jsonl", '"hello world"\n"<|endoftext|>"\n\n"1234567"\n')
    rc, out, err = run("tokens", good)
    check(rc == 0 and out == "2\n7\n3\n", "tokens counts: %d %r %r" % (rc, out, err))
    rc, out, _ = run("tokens", "--encoding", "cl100k_base", "-",
                     stdin='"hello world"\n')
    check(rc == 0 and out == "2\n", "tokens from stdin: %r" % out)
    rc, out, _ = run("tokens", "--model", "gpt-4", "--ids", "-",
                     stdin='"hello world"\n')
    check(rc == 0 and out == "[15339,1917]\n", "tokens --ids: %r" % out)
    bad = write("bad.jsonl", '"ok"\n{"not": "a string"}\n"later"\n')
    rc, out, err = run("tokens", bad)
    check(rc == 4, "bad line exit %d" % rc)
    check("%s:2: not a JSON string" % bad in err, "bad line message: %r" % err)
    check(out == "1\n", "counts before the bad line: %r" % out)
    rc, _, err = run("tokens", "--encoding", "p50k_base", good)
    check(rc == 2 and "unknown encoding 'p50k_base'" in err, "unknown encoding: %r" % err)
    empty = os.path.join(tmp, "empty")
    os.mkdir(empty)
    rc, _, err = run("tokens", good, env={"OAB_ENCODINGS_DIR": empty})
    check(rc == 5 and os.path.join(empty, "o200k_base.tiktoken") in err,
          "missing rank file: %d %r" % (rc, err))
    corrupt = os.path.join(tmp, "corrupt")
    os.mkdir(corrupt)
    src = os.path.join(os.environ["OAB_ENCODINGS_DIR"], "cl100k_base.tiktoken")
    with open(src) as f:
        lines = f.read().split("\n")
    lines[41] = "not-base64! 41"
    with open(os.path.join(corrupt, "cl100k_base.tiktoken"), "w") as f:
        f.write("\n".join(lines))
    rc, _, err = run("tokens", "--encoding", "cl100k_base", "--encodings",
                     corrupt, good)
    check(rc == 5 and "cl100k_base.tiktoken:42: the token is not valid base64"
          in err, "corrupt rank file: %d %r" % (rc, err))

    # ---- estimate ----
    def line(i, url, body):
        return json.dumps({"custom_id": "r%d" % i, "method": "POST",
                           "url": url, "body": body}) + "\n"

    texts = ["first text to embed", "second one, a little longer"]
    emb = write("emb.jsonl", "".join(
        line(i, "/v1/embeddings", {"model": "text-embedding-3-small",
                                   "input": t}) for i, t in enumerate(texts)))
    rc, out, err = run("estimate", emb, "--json")
    check(rc == 0, "estimate embeddings: %d %r" % (rc, err))
    est = json.loads(out) if rc == 0 else {}
    rc2, counts, _ = run("tokens", "--model", "text-embedding-3-small", "-",
                         stdin="".join(json.dumps(t) + "\n" for t in texts))
    want = sum(int(c) for c in counts.split())
    tot = est.get("total", {})
    check(tot.get("input_tokens") == want and tot.get("lines") == 2,
          "embeddings input %r, want %d" % (tot, want))
    check(abs(tot.get("cost_max_usd", -1) - want * 0.01 / 1e6) < 1e-12,
          "embeddings cost %r" % tot)
    check(tot.get("approximate") is False, "embeddings are exact")

    chat = write("chat.jsonl", "".join([
        line(0, "/v1/chat/completions", {"model": "gpt-4o-mini", "max_tokens": 100,
             "messages": [{"role": "user", "content": "hello world"}]}),
        line(1, "/v1/chat/completions", {"model": "gpt-4o-mini-2024-07-18", "n": 2,
             "max_completion_tokens": 50,
             "messages": [{"role": "user", "content": "hello world"}]}),
        line(2, "/v1/chat/completions", {"model": "gpt-4o-mini",
             "messages": [{"role": "user", "content": "hello world"}]}),
    ]))
    rc, out, err = run("estimate", chat, "--json", "--expect-output-tokens", "60")
    check(rc == 0, "estimate chat: %d %r" % (rc, err))
    est = json.loads(out) if rc == 0 else {"models": [], "total": {}}
    per = {m["model"]: m for m in est["models"]}
    # 3 + "user" (1) + "hello world" (2) + 3 = 9 input tokens a line
    m = per.get("gpt-4o-mini", {})
    check(m.get("lines") == 2 and m.get("input_tokens") == 18, "gpt-4o-mini %r" % m)
    # bounded 100, unbounded -> the table's 16384
    check(m.get("output_tokens_max") == 100 + 16384 and m.get("unbounded_lines") == 1,
          "gpt-4o-mini output %r" % m)
    check(m.get("expected_output_tokens") == 60 + 60, "expected %r" % m)
    d = per.get("gpt-4o-mini-2024-07-18", {})
    check(d.get("output_tokens_max") == 100 and d.get("input_tokens") == 9,
          "dated model: n * max_completion_tokens %r" % d)
    check(d.get("expected_output_tokens") == 60, "expected capped? %r" % d)
    lo = 27 * 0.075 / 1e6
    hi = lo + (100 + 16384 + 100) * 0.30 / 1e6
    t = est["total"]
    check(abs(t.get("cost_min_usd", -1) - lo) < 1e-12 and
          abs(t.get("cost_max_usd", -1) - hi) < 1e-12, "total cost %r" % t)
    check(abs(t.get("cost_expected_usd", -1) - (lo + 180 * 0.30 / 1e6)) < 1e-12,
          "expected cost %r" % t)
    rc, out, _ = run("estimate", chat)
    check(rc == 0 and "gpt-4o-mini" in out and "$" in out and "total" in out,
          "estimate text: %r" % out)

    # a bad price row names the file and the line
    prices = write("prices.tsv", "# test\ngpt-4o-mini 0.15 0.075 0.60 0.075 - 0.30 16384\n"
                   "gpt-4o 2.50 1.25 10.00 cheap 0.625 5.00 16384\n")
    rc, _, err = run("estimate", chat, "--prices", prices)
    check(rc == 4 and "%s:3: column batch_input: 'cheap'" % prices in err,
          "bad price row: %d %r" % (rc, err))
    prices2 = write("prices2.tsv", "gpt-4o-mini 0.15 0.075 0.60 0.075\n")
    rc, _, err = run("estimate", chat, "--prices", prices2)
    check(rc == 4 and "%s:1:" % prices2 in err, "short price row: %r" % err)
    # an own table is used
    prices3 = write("prices3.tsv", "gpt-4o-mini 1 1 1 2 1 4 1000\n")
    rc, out, err = run("estimate", chat, "--json", "--prices", prices3)
    t = json.loads(out)["total"] if rc == 0 else {}
    check(abs(t.get("cost_max_usd", -1) - (27 * 2 + (100 + 1000 + 100) * 4) / 1e6) < 1e-12,
          "own prices %r %r" % (t, err))

    # an unknown model: an error with the line, or the fallback encoding
    unk = write("unk.jsonl", line(0, "/v1/chat/completions", {"model": "gpt-4o-mini",
                "messages": []}) + line(1, "/v1/chat/completions", {"model": "llama-3",
                "messages": [{"role": "user", "content": "hi"}]}))
    rc, _, err = run("estimate", unk)
    check(rc == 4 and "%s:2:" % unk in err and "llama-3" in err, "unknown model: %r" % err)
    rc, out, err = run("estimate", unk, "--json", "--encoding", "o200k_base")
    check(rc == 0 and "no price" in err, "fallback: %d %r" % (rc, err))
    if rc == 0:
        per = {m["model"]: m for m in json.loads(out)["models"]}
        check(per["llama-3"]["cost_max_usd"] is None, "no price gives null")
        check(per["gpt-4o-mini"]["input_tokens"] == 3, "no messages: priming only")
    notjson = write("nj.jsonl", line(0, "/v1/embeddings", {"model": "text-embedding-3-small",
                    "input": "x"}) + "{oops\n")
    rc, _, err = run("estimate", notjson)
    check(rc == 4 and "%s:2: not JSON" % notjson in err, "bad JSON line: %r" % err)

    # ---- threads: the same result on 1 and on 4 threads ----
    # 30,000 lines make several batches of parlines.c's 4,096 lines; the
    # models appear in an order that later batches change (a model first
    # seen near the end must stay last), and words repeat and vary so
    # that the tokenizer's piece cache both hits and is overwritten.
    words = ["weather", "Paris", "naïve", "東京", "don't", "IT'S", "x=1;",
             "  ", "12345", "CamelCase", "résumé", "👍🏽", "O'Neil"]
    def text(i):
        return " ".join(words[(i * 7 + k * 3) % len(words)] + str(i % (k + 2))
                        for k in range(i % 17 + 1))
    models = ["gpt-4o-mini", "gpt-4.1", "gpt-4", "o3-mini"]
    big_lines = []
    for i in range(30000):
        model = models[0 if i < 8000 else (i // 3) % 3] if i != 29000 else models[3]
        big_lines.append(line(i, "/v1/chat/completions", {
            "model": model, "max_tokens": 10 + i % 5,
            "messages": [{"role": "user", "content": text(i)}]}))
    big = write("big.jsonl", "".join(big_lines))
    outs = {}
    for n in ("1", "4"):
        rc, out, err = run("estimate", big, "--json", "--threads", n)
        check(rc == 0, "estimate --threads %s: %d %r" % (n, rc, err))
        outs[n] = json.loads(out) if rc == 0 else None
    check(outs["1"] is not None and outs["1"] == outs["4"],
          "estimate on 4 threads differs from 1")
    if outs["1"]:
        order = [m["model"] for m in outs["1"]["models"]]
        check(order == ["gpt-4o-mini", "gpt-4", "gpt-4.1", "o3-mini"],
              "models in the order they first appear: %r" % order)
        check(outs["1"]["total"]["lines"] == 30000, "all lines counted")
    strings = write("strings.jsonl", "".join(json.dumps(text(i)) + "\n"
                                             for i in range(30000)))
    rc1, out1, _ = run("tokens", strings, "--threads", "1")
    rc4, out4, _ = run("tokens", strings, "--threads", "4")
    check(rc1 == 0 and rc4 == 0 and out1 == out4 and out1.count("\n") == 30000,
          "tokens on 4 threads differs from 1")
    rc, ids1, _ = run("tokens", strings, "--ids", "--threads", "1")
    check(rc == 0 and [len(json.loads(x)) for x in ids1.split("\n") if x] ==
          [int(x) for x in out1.split()], "counts equal the number of ids")
    # the first bad line in file order is the one reported, on any thread
    bad_lines = list(big_lines)
    bad_lines[21000] = "{oops\n"
    bad_lines[9000] = line(9000, "/v1/chat/completions", {"model": "llama-3",
                           "messages": []})
    badbig = write("badbig.jsonl", "".join(bad_lines))
    for n in ("1", "4"):
        rc, _, err = run("estimate", badbig, "--threads", n)
        check(rc == 4 and "%s:9001:" % badbig in err and "llama-3" in err,
              "first bad line on %s threads: %d %r" % (n, rc, err))
    bad_strings = [json.dumps(text(i)) + "\n" for i in range(30000)]
    bad_strings[25000] = "42\n"
    bads = write("badstrings.jsonl", "".join(bad_strings))
    rc, out, err = run("tokens", bads, "--threads", "4")
    check(rc == 4 and "%s:25001: not a JSON string" % bads in err and
          out == "".join(out1.splitlines(True)[:25000]),
          "tokens: the counts before the bad line, then its error: %d %r" % (rc, err))
    for n in ("0", "9", "two"):
        rc, _, err = run("estimate", big, "--threads", n)
        check(rc == 2 and "--threads" in err, "--threads %s refused: %r" % (n, err))
finally:
    shutil.rmtree(tmp)

print("test_tokens_cli: %s" % ("ok" if not fails else "%d failures" % fails))
sys.exit(1 if fails else 0)
