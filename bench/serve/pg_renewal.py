#!/usr/bin/env python3
"""bench/serve/pg_renewal.py: what keeping a node's claims costs
PostgreSQL when many lines are queued (issue 15): the schema a server
creates (its migrations, run by starting SERVER once), LINES pending lines
(default 1,000,000: twenty 50,000-line batches queued), 512 of them
claimed by one node. Times, each the median of 5 (EXPLAIN ANALYZE's
execution time, on the database):

  renewal, per line (before migration 5): UPDATE every line the node
      holds, found by a scan of the pending lines;
  renewal, per node (now): one row of nodes;
  claim of 512, per-line lease (before) and node lease (now).

  pg_renewal.py SERVER_BINARY PG_BINDIR [LINES]

Prints a Markdown table. Every statement runs on a throwaway cluster
(tests/harness/pg.py).
"""
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "harness"))
import pg  # noqa: E402

NODE = "bench-host:/data/node1"

STATEMENTS = [
    ("renewal, per line (before)",
     "UPDATE lines SET lease_until = now() + make_interval(secs => 30)"
     " WHERE lease_node = '%s' AND state = 0" % NODE),
    ("renewal, per node (now)",
     "INSERT INTO nodes(name, alive_until) VALUES ('%s', now() +"
     " make_interval(secs => 30)) ON CONFLICT (name) DO UPDATE SET"
     " alive_until = EXCLUDED.alive_until" % NODE),
    # both claims look for 512 free lines after the 512 held, in the
    # last batch, and are rolled back (each run claims the same lines)
    ("claim of 512, per-line lease (before)",
     "UPDATE lines l SET lease_node = 'other', lease_until = now() +"
     " make_interval(secs => 30), epoch = l.epoch + 1 FROM (SELECT"
     " batch_seq, idx FROM lines WHERE batch_seq = 19 AND idx >= 0 AND"
     " state = 0 AND (lease_until IS NULL OR lease_until < now())"
     " ORDER BY idx LIMIT 512 FOR UPDATE SKIP LOCKED) f WHERE"
     " l.batch_seq = f.batch_seq AND l.idx = f.idx"),
    ("claim of 512, node lease (now)",
     "UPDATE lines l SET lease_node = 'other', epoch = l.epoch + 1 FROM"
     " (SELECT batch_seq, idx FROM lines WHERE batch_seq = 19 AND idx >= 0"
     " AND state = 0 AND (lease_node IS NULL OR lease_node = 'other' OR"
     " lease_node NOT IN (SELECT name FROM nodes WHERE alive_until >="
     " now())) ORDER BY idx LIMIT 512"
     " FOR UPDATE SKIP LOCKED) f WHERE l.batch_seq = f.batch_seq AND"
     " l.idx = f.idx"),
]


def psql(bindir, url, sql):
    r = subprocess.run([os.path.join(bindir, "psql"), "-X", "-q", "-A",
                        "-t", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("psql: %s" % r.stderr.strip())
    return r.stdout.strip()


def migrate(binary, tmp, url):
    """Starts the server once on url (its migrations run), then stops it."""
    pf = os.path.join(tmp, "port")
    env = dict(os.environ)
    env.pop("OAB_DB", None)
    log = open(os.path.join(tmp, "server.log"), "w")
    p = subprocess.Popen([binary, "--port", "0", "--port-file", pf,
                          "--quiet", "--data", os.path.join(tmp, "data"),
                          "--upstream", "builtin:test", "--db", url],
                         stdout=log, stderr=log, env=env)
    try:
        for _ in range(1200):
            if os.path.exists(pf) and open(pf).read().strip():
                break
            if p.poll() is not None:
                raise RuntimeError("server exited")
            time.sleep(0.025)
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait()


def execution_ms(bindir, url, sql):
    out = psql(bindir, url, "BEGIN; EXPLAIN (ANALYZE, FORMAT JSON) %s;"
               " ROLLBACK;" % sql)
    return json.loads(out)[0]["Execution Time"]


def main():
    binary, bindir = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 1000000
    tmp = tempfile.mkdtemp(prefix="oab-bench-renewal-")
    try:
        with pg.Cluster(bindir) as cl:
            migrate(binary, tmp, cl.url)
            per = 50000
            psql(bindir, cl.url,
                 "INSERT INTO lines(batch_seq, idx, custom_id, off, len)"
                 " SELECT g / %d, g %% %d, 'req-' || g, g * 200, 200 FROM"
                 " generate_series(0, %d) g" % (per, per, n - 1))
            last = (n - 1) // per
            psql(bindir, cl.url,
                 "UPDATE lines SET lease_node = '%s', lease_until = now() +"
                 " make_interval(secs => 30) WHERE batch_seq = %d AND"
                 " idx < 512; INSERT INTO nodes VALUES ('%s', now() +"
                 " make_interval(secs => 30))" % (NODE, last, NODE))
            psql(bindir, cl.url, "VACUUM ANALYZE lines")
            print("| statement (%d pending lines, 512 held) | ms (median"
                  " of 5) |" % n)
            print("|---|---:|")
            for name, sql in STATEMENTS:
                sql = sql.replace("batch_seq = 19", "batch_seq = %d" % last)
                ms = [execution_ms(bindir, cl.url, sql) for _ in range(5)]
                print("| %s | %.2f |" % (name, statistics.median(ms)))
                sys.stdout.flush()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
