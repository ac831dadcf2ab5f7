#!/usr/bin/env python3
"""docs/api.md documents every public function of include/oaibatch.h.

Every function declared with OAB_EXTERN must have a heading in docs/api.md
whose text is the function's name (for example "### oab_client_new"), and
every function heading in docs/api.md must name a function of the header,
so the two stay in sync. The first ```c block under a heading is the
function's prototype and must match the header's declaration (whitespace
aside). Every status code of the header's table appears in the page.

Usage: test_api_docs.py [HEADER] [API_MD]
"""
import os
import re
import sys


def squash(decl):
    d = " ".join(decl.split())
    d = re.sub(r"\s*([(),;*])\s*", r"\1", d)
    return d


def header_decls(text):
    """{name: declaration without OAB_EXTERN}, in header order."""
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    decls = {}
    for m in re.finditer(r"OAB_EXTERN\s+([^;{]*?\b(oab_[A-Za-z0-9_]+)\s*\([^;{]*\))\s*;", text):
        decls[m.group(2)] = squash(m.group(1) + ";")
    return decls


def header_functions(text):
    return list(header_decls(text))


def doc_prototypes(text):
    """{name: the first ```c block after its heading}."""
    protos = {}
    for m in re.finditer(r"^#{2,4}\s+`?(oab_[A-Za-z0-9_]+)`?[^\n]*\n(.*?)(?=^#{2,4}\s|\Z)",
                         text, flags=re.S | re.M):
        b = re.search(r"^```c\n(.*?)^```", m.group(2), flags=re.S | re.M)
        if b:
            protos[m.group(1)] = squash(b.group(1))
    return protos


def doc_headings(text):
    names = []
    for line in text.splitlines():
        m = re.match(r"^#{2,4}\s+`?(oab_[A-Za-z0-9_]+)`?\s*(\(.*\))?\s*$", line)
        if m:
            names.append(m.group(1))
    return names


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    header = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "include", "oaibatch.h")
    api = sys.argv[2] if len(sys.argv) > 2 else os.path.join(root, "docs", "api.md")
    with open(header, encoding="utf-8") as f:
        htext = f.read()
    decls = header_decls(htext)
    funcs = list(decls)
    with open(api, encoding="utf-8") as f:
        atext = f.read()
    heads = doc_headings(atext)
    protos = doc_prototypes(atext)

    failures = []
    if len(funcs) < 50:
        failures.append("found only %d OAB_EXTERN functions in %s: parser broken?" % (len(funcs), header))
    missing = [n for n in funcs if n not in heads]
    extra = [n for n in heads if n not in funcs]
    dups = sorted({n for n in heads if heads.count(n) > 1})
    for n in missing:
        failures.append("docs/api.md has no heading for %s" % n)
    for n in extra:
        failures.append("docs/api.md documents %s, which the header does not declare" % n)
    for n in dups:
        failures.append("docs/api.md has more than one heading for %s" % n)
    for n in funcs:
        if n in heads and n not in protos:
            failures.append("docs/api.md: no ```c prototype under %s" % n)
        elif n in protos and protos[n] != decls[n]:
            failures.append("docs/api.md: prototype of %s differs from the header:\n  doc:    %s\n  header: %s"
                            % (n, protos[n], decls[n]))
    for code in re.findall(r"X\((OAB_[A-Z0-9_]+),", htext):
        if "`%s`" % code not in atext:
            failures.append("docs/api.md does not list the status code %s" % code)
    for f in failures:
        print("FAIL:", f)
    print("api_docs: %d functions in the header, %d headings, %d problems"
          % (len(funcs), len(heads), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
