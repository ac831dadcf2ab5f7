#!/usr/bin/env python3
"""Converts the rank table that the npm packages js-tiktoken and tiktoken
ship (dist/ranks/<name>.js or encoders/<name>.json: a JSON object whose
"bpe_ranks" holds lines "<ignored> <first rank> <base64> <base64> ...")
into tiktoken's own rank-file format, "<base64 token> <rank>" per line,
the format of the files tiktoken downloads (o200k_base.tiktoken).

Usage: ranks_to_tiktoken.py SOURCE DEST.tiktoken
"""
import base64
import json
import os
import sys


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, dest = sys.argv[1], sys.argv[2]
    text = open(src, encoding="utf-8").read()
    # .js: "export default {...}"; .cjs: "module.exports = {...};"
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end < start:
        sys.exit("%s: no JSON object in the file" % src)
    ranks = json.loads(text[start:end + 1])["bpe_ranks"]
    out, seen = [], set()
    for n, line in enumerate(ranks.split("\n"), 1):
        if not line:
            continue
        fields = line.split(" ")
        if len(fields) < 2 or not fields[1].isdigit():
            sys.exit("%s: bpe_ranks line %d: no rank offset" % (src, n))
        first = int(fields[1])
        for i, tok in enumerate(fields[2:]):
            base64.b64decode(tok, validate=True)  # fails on a bad token
            if tok in seen:
                sys.exit("%s: bpe_ranks line %d: %s twice" % (src, n, tok))
            seen.add(tok)
            out.append("%s %d\n" % (tok, first + i))
    tmp = dest + ".tmp"
    with open(tmp, "w", encoding="ascii") as f:
        f.writelines(out)
    os.replace(tmp, dest)
    print("%s: %d tokens" % (dest, len(out)))


if __name__ == "__main__":
    main()
