#!/usr/bin/env python3
"""scripts/demo.sh (the README's first command) against a build that is
already there: it starts the local server, runs the basic and the
structured-output examples through it, prints their results, and stops the
server, also when a step fails.

Usage: test_demo.py SOURCE_DIR BUILD_DIR
"""
import os
import re
import socket
import stat
import subprocess
import sys
import tempfile

FAILS = []


def check(cond, what, detail=""):
    if not cond:
        FAILS.append(what)
        print("FAIL: %s\n%s" % (what, detail[-4000:]), flush=True)
    return cond


def refused(base_url):
    m = re.match(r"http://127\.0\.0\.1:(\d+)/v1$", base_url or "")
    if not m:
        return False
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect(("127.0.0.1", int(m.group(1))))
        return False
    except OSError:
        return True
    finally:
        s.close()


def run_demo(src, build):
    env = dict(os.environ)
    for k in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OAB_MODEL"):
        env.pop(k, None)
    env.update(OAB_SKIP_DEPS="1", OAB_DEMO_NO_BUILD="1", OAB_BUILD_DIR=build,
               OAB_WAIT_TIMEOUT="120")
    p = subprocess.run(["bash", os.path.join(src, "scripts", "demo.sh")], env=env,
                       capture_output=True, timeout=300)
    out = p.stdout.decode("utf-8", "replace")
    err = p.stderr.decode("utf-8", "replace")
    m = re.search(r"^OPENAI_BASE_URL=(\S+)$", out, flags=re.M)
    return p.returncode, out, err, m.group(1) if m else None


def main():
    src, build = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])

    rc, out, err, base = run_demo(src, build)
    both = out + err
    check(rc == 0, "demo.sh exits 0", both)
    check(base is not None, "demo.sh says where the server is", both)
    check(re.search(r"^Batch job created: batch_\S+$", out, flags=re.M), "the basic example ran", both)
    check("Status: " in out and "Completion window: 24h" in out, "the status was shown", both)
    for cid in ("math-question", "creative-writing", "explanation"):
        check(re.search(r"^%s:\n  Response: .+$" % cid, out, flags=re.M),
              "the result of %s was printed" % cid, both)
    for cid, mode in (("structured-paris", "native"), ("tool-mode-1", "tool"),
                      ("prompted-2", "prompted")):
        check(re.search(r"^%s \(%s\):\n  location: .*\n  temperature: .*\n  condition: .*\n"
                        r"  humidity: -?\d+$" % (cid, mode), out, flags=re.M),
              "the structured result of %s was printed" % cid, both)
    check(base is None or refused(base), "the server is stopped after the demo", both)

    # A step that fails: the server must still be stopped, the temp dir gone.
    with tempfile.TemporaryDirectory(prefix="oab-demo-") as fake:
        os.makedirs(os.path.join(fake, "server"))
        os.makedirs(os.path.join(fake, "examples"))
        server = os.path.join(build, "server", "oaibatch-server")
        os.symlink(server, os.path.join(fake, "server", "oaibatch-server"))
        bad = os.path.join(fake, "examples", "basic_batch")
        with open(bad, "w") as f:
            f.write("#!/bin/sh\necho 'error: simulated failure' >&2\nexit 3\n")
        os.chmod(bad, os.stat(bad).st_mode | stat.S_IXUSR)
        before = set(os.listdir(tempfile.gettempdir()))
        rc, out, err, base = run_demo(src, fake)
        both = out + err
        check(rc != 0, "demo.sh fails when an example fails", both)
        check("simulated failure" in err, "the example's error is shown", both)
        check(base is not None and refused(base), "the server is stopped after a failure", both)
        left = [d for d in set(os.listdir(tempfile.gettempdir())) - before
                if d.startswith("oaibatch-demo.")]
        check(not left, "the demo's temporary directory is removed", repr(left))

    print("demo: %d problems" % len(FAILS))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
