#!/usr/bin/env python3
"""The C code in the docs is the code CI compiles.

Every ```c block of README.md and docs/guide.md must appear, verbatim, in one
of docs/snippets/*.c (which examples/CMakeLists.txt compiles); the
README's block must be the whole of docs/snippets/quickstart.c. Every
snippet a document links to must exist.

Usage: test_docs_snippets.py [ROOT]
"""
import glob
import os
import re
import sys


def norm(text):
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


def c_blocks(text):
    return re.findall(r"^```c\n(.*?)^```", text, flags=re.S | re.M)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    snippets = {}
    for path in sorted(glob.glob(os.path.join(root, "docs", "snippets", "*.c"))):
        with open(path, encoding="utf-8") as f:
            snippets[os.path.basename(path)] = norm(f.read())
    failures = []
    if not snippets:
        failures.append("no docs/snippets/*.c")
    # (docs/api.md's C blocks are prototypes: test_api_docs.py checks them)
    docs = [os.path.join(root, "README.md"), os.path.join(root, "docs", "guide.md")]
    n_blocks = 0
    for doc in docs:
        with open(doc, encoding="utf-8") as f:
            text = f.read()
        rel = os.path.relpath(doc, root)
        for i, block in enumerate(c_blocks(text), 1):
            n_blocks += 1
            b = norm(block)
            if not any(b in s for s in snippets.values()):
                first = b.splitlines()[0] if b else ""
                failures.append("%s: C block %d (%r...) is in no docs/snippets/*.c"
                                % (rel, i, first[:60]))
        for link in re.findall(r"\(((?:docs/)?snippets/[A-Za-z0-9_]+\.c)\)", text):
            if os.path.basename(link) not in snippets:
                failures.append("%s links to %s, which does not exist" % (rel, link))
    with open(os.path.join(root, "README.md"), encoding="utf-8") as f:
        readme_blocks = c_blocks(f.read())
    if not readme_blocks:
        failures.append("README.md has no C block")
    elif norm(readme_blocks[0]) != snippets.get("quickstart.c"):
        failures.append("README.md's C block differs from docs/snippets/quickstart.c")
    for f in failures:
        print("FAIL:", f)
    print("docs_snippets: %d C blocks checked against %d snippets, %d problems"
          % (n_blocks, len(snippets), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
