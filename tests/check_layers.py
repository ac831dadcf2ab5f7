#!/usr/bin/env python3
"""Checks the tree's layering rules (docs/layout.md):

  src/util   may include: util
  src/core   may include: util, core
  src/api    may include: util, core, api
  (and every layer the public header, whose types they all share)
  cli/       may include: util, core, the public header, cli/ and the
             server's entry header (serve.h); never the transport (api/)
  server/    may include: util, core, the public header, server/; never api/

and that no folder has a file-level include cycle. Prints every violation
with file:line and exits 1 if there is any."""
import os
import re
import sys

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                       os.path.join(os.path.dirname(__file__), ".."))
INC = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)

ALLOWED = {
    "src/util": {"util", "public"},
    "src/core": {"util", "core", "public"},
    "src/api": {"util", "core", "api", "public"},
    "cli": {"util", "core", "local", "public", "serve.h"},
    "server": {"util", "core", "local", "public"},
}


def files(folder):
    for dirpath, _, names in os.walk(os.path.join(ROOT, folder)):
        for n in sorted(names):
            if n.endswith((".c", ".h")):
                yield os.path.join(dirpath, n)


def kind(target, folder):
    if target == "oaibatch.h":
        return "public"
    head = target.split("/")[0]
    if "/" in target and head in ("util", "core", "api"):
        return head
    if "/" not in target and os.path.exists(
            os.path.join(ROOT, folder, target)):
        return "local"
    return target


def resolve(src_file, target):
    if "/" in target:
        p = os.path.join(ROOT, "src", target)
    else:
        p = os.path.join(os.path.dirname(src_file), target)
    return os.path.normpath(p) if os.path.exists(p) else None


problems = []
graph = {}
for folder, allowed in ALLOWED.items():
    for f in files(folder):
        rel = os.path.relpath(f, ROOT)
        text = open(f, encoding="utf-8").read()
        graph.setdefault(f, [])
        for m in INC.finditer(text):
            target = m.group(1)
            line = text.count("\n", 0, m.start()) + 1
            k = kind(target, folder)
            if k not in allowed and target not in allowed:
                problems.append("%s:%d: includes \"%s\" (%s may include %s)"
                                % (rel, line, target, folder,
                                   ", ".join(sorted(allowed))))
            r = resolve(f, target)
            if r:
                graph[f].append(r)

# file-level include cycles (a .h including, through others, itself; or
# a .c's module header including a header that includes it back)
WHITE, GREY, BLACK = 0, 1, 2
color = {}


def visit(node, stack):
    color[node] = GREY
    stack.append(node)
    for nxt in graph.get(node, []):
        c = color.get(nxt, WHITE)
        if c == GREY:
            cyc = stack[stack.index(nxt):] + [nxt]
            problems.append("include cycle: " + " -> ".join(
                os.path.relpath(x, ROOT) for x in cyc))
        elif c == WHITE:
            visit(nxt, stack)
    stack.pop()
    color[node] = BLACK


for node in sorted(graph):
    if color.get(node, WHITE) == WHITE:
        visit(node, [])

for p in problems:
    print(p)
checked = len(graph)
if problems:
    print("%d layering problems in %d files" % (len(problems), checked))
    sys.exit(1)
print("layers ok: %d files, includes point down, no cycles" % checked)
