#!/usr/bin/env python3
"""`oaibatch tokens` against the npm packages as oracles: on every line of
the committed corpus sample, the token ids (--ids) and the count equal
js-tiktoken's and tiktoken's (WASM), for o200k_base and cl100k_base.

Usage: test_tokenizer_oracle.py OAIBATCH NODE ORACLE.mjs CORPUS.jsonl
"""
import subprocess
import sys

cli, node, oracle, corpus = sys.argv[1:5]
lines = [l for l in open(corpus, encoding="utf-8").read().split("\n") if l]
assert len(lines) >= 30, "the corpus sample is too small: %d" % len(lines)


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
    if p.returncode != 0:
        sys.exit("%s failed (%d): %s" % (cmd[:3], p.returncode, p.stderr))
    return p.stdout.splitlines()


failures = 0
for enc in ("o200k_base", "cl100k_base"):
    ours_ids = run([cli, "tokens", "--encoding", enc, "--ids", corpus])
    ours_counts = run([cli, "tokens", "--encoding", enc, corpus])
    for flag in ([], ["--wasm"]):
        theirs = run([node, oracle, enc, corpus] + flag)
        name = "tiktoken (wasm)" if flag else "js-tiktoken"
        assert len(theirs) == len(lines), (name, len(theirs), len(lines))
        assert len(ours_ids) == len(lines), (len(ours_ids), len(lines))
        for i, (a, b) in enumerate(zip(ours_ids, theirs)):
            if a != b:
                failures += 1
                if failures <= 5:
                    print("%s %s line %d differs:\n  text %s\n  ours %s\n  "
                          "theirs %s" % (enc, name, i + 1, lines[i][:200],
                                         a[:300], b[:300]))
    for i, (ids, count) in enumerate(zip(ours_ids, ours_counts)):
        n = 0 if ids == "[]" else ids.count(",") + 1
        if int(count) != n:
            failures += 1
            print("%s line %d: count %s, but %d ids" % (enc, i + 1, count, n))
    total = sum(int(c) for c in ours_counts)
    print("%s: %d lines, %d tokens, all equal" % (enc, len(lines), total)
          if not failures else "%s: %d failures so far" % (enc, failures))
sys.exit(1 if failures else 0)
