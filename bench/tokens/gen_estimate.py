#!/usr/bin/env python3
"""Writes a batch input file for the estimate benchmark: LINES chat
requests of about BYTES bytes in all, each a system prompt and a user
message of mixed content from gen_corpus.py (mostly prose and code, some
CJK, Arabic, emoji and mixed scripts), with max_tokens on most lines.

With a third argument "english", only prose and code.

Usage: gen_estimate.py LINES BYTES [english] > input.jsonl
"""
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_corpus as g  # noqa: E402

KINDS = [g.prose] * 6 + [lambda r: r.choice(g.CODE)] * 3 + [
    g.cjk, g.arabic, g.emoji, g.digits, g.mixed, g.whitespace]


def main():
    lines, total = int(sys.argv[1]), int(sys.argv[2])
    per_line = total // lines
    kinds = KINDS[:9] if sys.argv[3:] == ["english"] else KINDS
    r = random.Random(11)
    out = sys.stdout
    for i in range(lines):
        parts, size = [], 0
        while size < per_line - 300:
            s = r.choice(kinds)(r)
            parts.append(s)
            size += len(s.encode()) + 1
        body = {"model": "gpt-4o-mini",
                "messages": [{"role": "system", "content": "You are a careful assistant."},
                             {"role": "user", "content": "\n".join(parts)}]}
        if i % 10:
            body["max_tokens"] = 1000
        out.write(json.dumps({"custom_id": "req-%d" % i, "method": "POST",
                              "url": "/v1/chat/completions", "body": body},
                             ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
