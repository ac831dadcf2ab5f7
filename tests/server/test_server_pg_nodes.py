#!/usr/bin/env python3
"""Several `oaibatch serve` nodes sharing one PostgreSQL (issue 15), each
with its own data folder: a real cluster from harness/pg.py, no mock.

  test_server_pg_nodes.py BINARY CASE      ($OAB_PG_BIN: PostgreSQL's bin)

three_nodes: a batch created through node 1 and polled through node 3,
    node 2 killed with SIGKILL mid-batch and started again later; every
    custom_id ends exactly once in the output, request_counts equal the
    lines, upstream calls beyond one per line bounded by what node 2 had
    sent and not recorded (its requests in flight and its gathered
    commit), the files served by every node.
cancel: a batch cancelled through node 1 while three nodes run it; every
    node stops, one finalizes, every custom_id ends exactly once in the
    output or (batch_cancelled) the error file.
outage: PostgreSQL stopped for 10 s under a running node and started
    again; the node carries on, no line lost or duplicated.
upload_apart: an upload whose body cannot go into the database yet
    (file_chunks locked by another session) holds none of the node's
    other API calls, and lands whole once the lock is gone.
fetch_apart: a node with no copy of a file fetches it from the database
    while file_chunks is locked by another session: the node's other API
    calls answer meanwhile, and the file arrives whole.
final_first: a batch cancelled before any node validated it, whose
    finalization another node (a stand-in row: final_node 'ghost')
    holds while this node's validation waits for the input: the node
    records no line while that claim lasts (its lines would land after
    the other node wrote the error file), and once the claim lapses it
    validates and finalizes: every line in the error file, cancelled.
chaos: three nodes, two batches, an upstream that fails some first
    attempts; for OAB_CHAOS_S seconds (default 20) a node picked at
    random is killed with SIGKILL every second or two and started again
    at once, or after its lease lapsed (OAB_CHAOS_SEED repeats a run).
    One batch is cancelled meanwhile, another expires (a window of half
    the run); PostgreSQL is stopped for 3 s two thirds in. Each batch's
    end also reaches a webhook receiver, at least once. Every custom_id of both ends
    exactly once, the counts match the files, every node serves the same
    output, and upstream calls beyond one per line stay within what the
    kills and the faults explain.
gone: a file, a batch's output and an Anthropic batch, each served by
    two nodes (so each keeps a copy in its data folder), deleted through
    one node: the other node's copies go too (within a sweep, 5 s).
leave: two nodes with a 10-minute lease; node 2, holding claims, is
    stopped with SIGTERM: its claims are free at once (its row in nodes
    goes), node 1 takes them and ends the batch, every custom_id once
    (before, they waited for the lease to lapse).
orphans: lines leased to a live node that its engine does not hold (as
    after a claim whose answer the connection lost): the node takes them
    back as it claims, and the batch ends, every custom_id once (before,
    no node took them while the node lived: the batch never ended).
stale_spool: files of a batch's result names left in a node's data
    folder (as a finalization that lost its claim, or died, left them)
    never pass for the batch's files another node wrote: that node
    serves the output as stored (before, it served the leftover; seen in
    a chaos run as a cancelled batch with no lines).
webhook_takeover: a delivery due that a node which is gone was posting
    (a stand-in row: leased to 'ghost', which has no row in nodes) is
    posted by a live node at once (before, only after that attempt's
    120 s lease; here an hour).
final_fenced: a node whose finalizer claim another node took, and ended
    the batch with, reopens nothing (its claim held up by a trigger).
lease_alive: a node whose engine is held longer than a lease keeps its
    leases (they are renewed on a thread of their own).
engine_stuck: a node whose engine is held past the stall limit lets its
    leases go: another node ends the batch while it is still held.
webhook_fenced: a node whose webhook post outlived its claim changes
    nothing of the delivery another node made.
input_deleted: a running batch's input deleted; a node that has it open
    answers, one that has not ends its lines line_unavailable.
webhook_once: three nodes with one webhook receiver that answers slowly
    (every node's delivery thread looks while a post is in flight):
    each batch's event is posted once, by one node.
"""
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "harness"))
import pg  # noqa: E402
import test_server_http as T  # noqa: E402
from test_server_http import check, chat_lines, start_server, Client  # noqa

# a node that dies loses its claims after this (the default is 30 s)
LEASE_S = "3"
CLAIM = 16           # lines claimed at once (OAB_PG_CLAIM)
CONCURRENCY = 16     # requests in flight per node


def cluster():
    bindir = os.environ.get("OAB_PG_BIN", "")
    return pg.Cluster(bindir)


def node(binary, tmp, url, i, up_port, name=None, extra=()):
    os.environ["OAB_DB"] = url
    os.environ["OAB_PG_LEASE_S"] = LEASE_S
    os.environ["OAB_PG_CLAIM"] = str(CLAIM)
    return start_server(binary, tmp, os.path.join(tmp, "data%d" % i),
                        ["--upstream", "http://127.0.0.1:%d/v1" % up_port,
                         "--concurrency", str(CONCURRENCY),
                         "--fixed-concurrency"] + list(extra),
                        name=name or "node%d" % i)


def counts(port):
    import http.client
    import json
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", "/count")
    r = json.loads(c.getresponse().read())
    c.close()
    return r


def wait_count(c, bid, at_least):
    t = time.time()
    while time.time() - t < 120 * T.SLOW:
        st, g = c.req("GET", "/v1/batches/" + bid)
        if st == 200 and g["request_counts"]["completed"] >= at_least:
            return g
        time.sleep(0.05)
    raise RuntimeError("batch %s did not reach %d lines" % (bid, at_least))


def ids_once(c, b, n, what):
    """Every custom_id r0..r{n-1} once over the output and error files;
    returns (output ids, error lines)."""
    out = c.lines(b["output_file_id"]) if b["output_file_id"] else []
    err = c.lines(b["error_file_id"]) if b.get("error_file_id") else []
    ids = [x["custom_id"] for x in out] + [x["custom_id"] for x in err]
    check(len(ids) == n, "%s: %d result lines for %d lines" % (what, len(ids),
                                                               n))
    check(sorted(ids) == sorted("r%d" % i for i in range(n)),
          "%s: every custom_id exactly once" % what)
    return out, err


def completed_once(c, done, n, what):
    """done (a batch of n lines) completed, every line in its output once,
    no error lines."""
    check(done["status"] == "completed", "%s: completed: %s"
          % (what, done["status"]))
    check(done["request_counts"] == {"total": n, "completed": n,
                                     "failed": 0},
          "%s: request_counts %s" % (what, done["request_counts"]))
    out, err = ids_once(c, done, n, what)
    check(not err, "%s: no error lines" % what)
    return out


def case_three_nodes(binary, tmp):
    n = 3000
    with cluster() as db:
        up = T.start_upstream(tmp, ["--delay-ms", "15"])
        nodes = [node(binary, tmp, db.url, i, up.port) for i in (1, 2, 3)]
        c1, c3 = Client(nodes[0].port), Client(nodes[2].port)
        st, f = c1.upload(chat_lines(n))
        check(st == 200, "upload through node 1")
        st, b = c1.create(f["id"])
        check(st == 200, "create through node 1")
        # node 3 sees the batch node 1 created, and its progress
        g = wait_count(c3, b["id"], n // 4)
        check(g["status"] == "in_progress", "node 3 polls it: in_progress")
        nodes[1].kill(signal.SIGKILL)
        before = counts(up.port)["calls"]
        g = wait_count(c3, b["id"], n // 2)
        nodes[1] = node(binary, tmp, db.url, 2, up.port, name="node2b")
        done = c3.wait(b["id"], timeout=300 * T.SLOW)
        check(done["status"] == "completed", "completed: %s" % done["status"])
        check(done["request_counts"] == {"total": n, "completed": n,
                                         "failed": 0},
              "request_counts %s" % done["request_counts"])
        out, err = ids_once(c3, done, n, "three nodes")
        check(not err, "no error lines")
        check_validated_once(tmp, n)
        cnt = counts(up.port)
        extra = cnt["calls"] - n
        # what node 2 had sent and not recorded when it died: its requests
        # in flight and the finished lines gathered for its next commit
        # (at most --concurrency each; its claimed lines not sent yet cost
        # nothing upstream)
        bound = 2 * CONCURRENCY
        check(0 <= extra <= bound,
              "upstream calls beyond one per line: %d (bound %d; %d calls"
              " when node 2 died)" % (extra, bound, before))
        twice = sum(1 for v in cnt["per_prompt"].values() if v > 1)
        check(twice <= bound, "prompts sent twice: %d" % twice)
        # any node serves any file: the output through the restarted node 2
        c2 = Client(nodes[1].port)
        st, h, body = c2.req("GET", "/v1/files/%s/content"
                             % done["output_file_id"], raw=True)
        st3, h3, body3 = c3.req("GET", "/v1/files/%s/content"
                                % done["output_file_id"], raw=True)
        check(st == 200 and st3 == 200 and body == body3 and
              body.count(b"\n") == n, "node 2 and node 3 serve the output")
        st, h, inp = c2.req("GET", "/v1/files/%s/content" % f["id"], raw=True)
        check(st == 200 and inp == chat_lines(n),
              "node 2 serves the input node 1 took")
        st, g2 = c2.req("GET", "/v1/batches/" + b["id"])
        check(st == 200 and g2 == done, "node 2 answers the same batch")
        for p in nodes:
            p.kill(signal.SIGTERM)


def check_validated_once(tmp, n):
    """One node validated the batch and recorded its lines; the others
    found it taken (each used to read and COPY it too, and all but one
    failed on the lines' keys)."""
    logs = ""
    for name in ("node1", "node2", "node3", "node2b"):
        path = os.path.join(tmp, name + ".log")
        if os.path.exists(path):
            with open(path, errors="replace") as lf:
                logs += lf.read()
    ran = logs.count("in_progress (%d lines)" % n)
    check(ran == 1 and "cannot record its lines" not in logs and
          "duplicate key" not in logs,
          "one node validated the batch: %d 'in_progress', %d 'cannot record'"
          % (ran, logs.count("cannot record its lines")))


def case_validate_once(binary, tmp):
    # a batch big enough that validating it (reading, checking and
    # copying 40,000 lines) spans more than one scan of the other nodes
    n = 40000
    with cluster() as db:
        up = T.start_upstream(tmp, ["--delay-ms", "30"])
        nodes = [node(binary, tmp, db.url, i, up.port) for i in (1, 2, 3)]
        c1 = Client(nodes[0].port)
        st, f = c1.upload(chat_lines(n))
        st, b = c1.create(f["id"])
        check(st == 200, "create through node 1")
        wait_count(c1, b["id"], 1)
        st, x = c1.req("POST", "/v1/batches/%s/cancel" % b["id"])
        done = c1.wait(b["id"], timeout=120 * T.SLOW)
        check(done["status"] == "cancelled", "cancelled: %s" % done["status"])
        check(done["request_counts"]["total"] == n, "total %s"
              % done["request_counts"])
        for p in nodes:
            p.kill(signal.SIGTERM)
    check_validated_once(tmp, n)


def case_cancel(binary, tmp):
    n = 3000
    with cluster() as db:
        up = T.start_upstream(tmp, ["--delay-ms", "30"])
        nodes = [node(binary, tmp, db.url, i, up.port) for i in (1, 2, 3)]
        c1, c2 = Client(nodes[0].port), Client(nodes[1].port)
        st, f = c1.upload(chat_lines(n))
        st, b = c1.create(f["id"])
        wait_count(c2, b["id"], 200)
        st, x = c1.req("POST", "/v1/batches/%s/cancel" % b["id"])
        check(st == 200 and x["status"] == "cancelling", "cancelling")
        done = c2.wait(b["id"], timeout=120 * T.SLOW)
        check(done["status"] == "cancelled", "cancelled: %s" % done["status"])
        out, err = ids_once(c2, done, n, "cancel")
        check(len(out) == done["request_counts"]["completed"],
              "output lines = completed (%d)" % len(out))
        check(all(e["error"]["code"] == "batch_cancelled" for e in err),
              "the rest: batch_cancelled")
        # the upstream goes quiet: every node sees the end (within its
        # next scans) and stops sending the batch
        a, quiet, t = counts(up.port)["calls"], False, time.time()
        while not quiet and time.time() - t < 60 * T.SLOW:
            time.sleep(1)
            b2 = counts(up.port)["calls"]
            quiet, a = b2 == a, b2
        check(quiet, "no node keeps sending after the end")
        check(a < n, "calls stopped short of the whole batch: %d" % a)
        for p in nodes:
            p.kill(signal.SIGTERM)


def one_node_batch(binary, tmp, db, n, delay_ms, sql=None):
    """An upstream answering after delay_ms, node 1, and a batch of n
    lines created through it (sql run first, when given, once the input
    is uploaded): (node, client, batch)."""
    up = T.start_upstream(tmp, ["--delay-ms", str(delay_ms)])
    s = node(binary, tmp, db.url, 1, up.port)
    c = Client(s.port)
    st, f = c.upload(chat_lines(n))
    check(st == 200, "uploaded through node 1: %s" % st)
    if sql:
        sql1(db, sql)
    st, b = c.create(f["id"])
    check(st == 200, "create through node 1: %s" % st)
    return s, c, b


def case_outage(binary, tmp):
    n = 2000
    with cluster() as db:
        s, c, b = one_node_batch(binary, tmp, db, n, 20)
        wait_count(c, b["id"], 300)
        db.stop("fast")
        t0 = time.time()
        # every lookup answers 500 meanwhile, never 404: the objects are
        # there (before, a client was told the batch and its file did
        # not exist)
        from test_server_anthropic import AClient
        for what, st in (
                ("GET the batch", c.req("GET", "/v1/batches/" + b["id"])[0]),
                ("GET its input file",
                 c.req("GET", "/v1/files/" + b["input_file_id"])[0]),
                ("GET its input's content", c.req(
                    "GET", "/v1/files/%s/content" % b["input_file_id"])[0]),
                ("GET its lines",
                 c.req("GET", "/v1/batches/%s/lines" % b["id"])[0]),
                ("a batch of its input", c.create(b["input_file_id"])[0]),
                ("GET a message batch", AClient(s.port, key=None).areq(
                    "GET", "/v1/messages/batches/msgbatch_x")[0])):
            check(st == 500, "%s during the outage: 500, not 404: %s"
                  % (what, st))
        time.sleep(max(0, 10 - (time.time() - t0)))
        check(s.p.poll() is None, "the node lives through the outage")
        db.start()
        done = c.wait(b["id"], timeout=300 * T.SLOW)
        completed_once(c, done, n, "outage")
        s.kill(signal.SIGTERM)


def case_webhook_once(binary, tmp):
    from test_server_hooks import Receiver, SECRET
    # 1.5 s an answer: past a quarter second, every node's delivery
    # thread looks again while one post is in flight
    rcv = Receiver(delay=1.5)
    n_batches = 4
    with cluster() as db:
        up = T.start_upstream(tmp)
        hook = ["--webhook-url", rcv.url(), "--webhook-secret", SECRET]
        nodes = [node(binary, tmp, db.url, i, up.port, extra=hook)
                 for i in (1, 2, 3)]
        cs = [Client(p.port) for p in nodes]
        ids = []
        for k in range(n_batches):
            c = cs[k % 3]
            st, f = c.upload(chat_lines(20, "hook%d" % k))
            st, b = c.create(f["id"])
            check(st == 200, "create %d through node %d" % (k, k % 3 + 1))
            ids.append(b["id"])
        for bid in ids:
            check(cs[2].wait(bid, timeout=120 * T.SLOW)["status"] ==
                  "completed", "batch %s completed" % bid)
        got = rcv.wait(n_batches, timeout=60)
        # time for a second or third node to post an event again
        time.sleep(4 * T.SLOW)
        with rcv.lock:
            posted = [json.loads(g["body"])["data"]["id"] for g in rcv.got]
        check(sorted(posted) == sorted(ids),
              "each batch's event posted once: %d posts for %d batches"
              " (%s)" % (len(posted), n_batches,
                         {b: posted.count(b) for b in ids}))
        check(len(got) == n_batches, "all delivered: %d" % len(got))
        for p in nodes:
            p.kill(signal.SIGTERM)
    rcv.stop()


def psql(db, *args, **kw):
    exe = os.path.join(os.environ.get("OAB_PG_BIN", ""), "psql")
    return subprocess.Popen([exe, "-X", "-q", "-A", "-t", "-d", db.url]
                            + list(args), stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, **kw)


def quick_get(port, path):
    """GET with a short timeout: (status, body) or (None, error)."""
    import http.client
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=15 * T.SLOW)
        c.request("GET", path)
        r = c.getresponse()
        d = r.read()
        c.close()
        return r.status, d
    except OSError as e:
        return None, str(e)


def held_apart(db, port, mode, query, work, what):
    """Runs work() (an API call) on a thread while another session holds
    file_chunks in mode; once work waits on that lock (its statement,
    query, waits in pg_stat_activity), the node at port must answer other
    API calls. Returns work's result, after the lock is gone."""
    lock = psql(db)
    lock.stdin.write("BEGIN; LOCK TABLE file_chunks IN %s MODE;"
                     " SELECT 'locked';\n" % mode)
    lock.stdin.flush()
    res = {}
    t = None
    try:
        check(lock.stdout.readline().strip() == "locked",
              "file_chunks locked by another session")
        t = threading.Thread(target=lambda: res.update(r=work()))
        t.start()
        waiting, t0 = False, time.time()
        while not waiting and time.time() - t0 < 30 * T.SLOW:
            q = psql(db, "-c", "SELECT count(*) FROM pg_stat_activity"
                     " WHERE wait_event_type = 'Lock' AND query LIKE"
                     " '%s%%'" % query)
            waiting = q.communicate()[0].strip() == "1"
            time.sleep(0.05)
        check(waiting, "the %s waits for file_chunks" % what)
        # the node's other API calls answer meanwhile
        for path in ("/v1/files", "/v1/batches"):
            st, body = quick_get(port, path)
            check(st == 200, "GET %s during the %s: %s %s"
                  % (path, what, st, body if st is None else ""))
        check(t.is_alive() and "r" not in res, "the %s still waits" % what)
    finally:
        lock.stdin.write("COMMIT;\n")
        lock.stdin.close()
        lock.wait()
    t.join(60 * T.SLOW)
    return res.get("r")


def case_upload_apart(binary, tmp):
    data = chat_lines(50, "apart")
    with cluster() as db:
        up = T.start_upstream(tmp)
        s = node(binary, tmp, db.url, 1, up.port)
        c = Client(s.port)
        # an upload's INSERT of its body waits for a SHARE lock
        st, f = held_apart(db, s.port, "SHARE", "INSERT INTO file_chunks",
                           lambda: c.upload(data), "upload") or (None, None)
        check(st == 200, "the upload lands once the lock is gone: %s" % st)
        st, h, body = c.req("GET", "/v1/files/%s/content" % f["id"], raw=True)
        check(st == 200 and body == data, "its body whole")
        s.kill(signal.SIGTERM)


def case_fetch_apart(binary, tmp):
    data = chat_lines(50, "fetched")
    with cluster() as db:
        up = T.start_upstream(tmp)
        n1 = node(binary, tmp, db.url, 1, up.port)
        n2 = node(binary, tmp, db.url, 2, up.port)
        st, f = Client(n1.port).upload(data)
        check(st == 200, "uploaded through node 1")
        c2 = Client(n2.port)
        # node 2 has no copy: its read of the chunks waits for an ACCESS
        # EXCLUSIVE lock
        got = held_apart(db, n2.port, "ACCESS EXCLUSIVE",
                         "SELECT data FROM file_chunks",
                         lambda: c2.req("GET", "/v1/files/%s/content"
                                        % f["id"], raw=True), "fetch")
        check(got is not None and got[0] == 200 and got[2] == data,
              "node 2 serves the file whole once the lock is gone")
        for p in (n1, n2):
            p.kill(signal.SIGTERM)


def sql1(db, query):
    q = psql(db, "-c", query)
    out = q.communicate()[0].strip()
    check(q.returncode == 0, "psql %s" % query)
    return out


def wait_sql(db, query, want, timeout):
    """Polls query until it answers want: True, or False after timeout
    seconds."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        if sql1(db, query) == want:
            return True
        time.sleep(0.02)
    return False


SLEEPING = "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'"


def uploaded_elsewhere(binary, tmp, db, data, sql=None):
    """data uploaded through node 1, which stops; then (sql run first,
    when given) node 2 starts, with no copy of the file: (file, node 2,
    its client)."""
    up = T.start_upstream(tmp)
    n1 = node(binary, tmp, db.url, 1, up.port)
    st, f = Client(n1.port).upload(data)
    check(st == 200, "uploaded through node 1")
    n1.kill(signal.SIGTERM)
    n1.p.wait(30)
    if sql:
        sql1(db, sql)
    n2 = node(binary, tmp, db.url, 2, up.port)
    return f, n2, Client(n2.port)


def case_final_first(binary, tmp):
    n = 30
    with cluster() as db:
        # node 2 has no copy of the input: its validation fetches it, and
        # waits while another session holds file_chunks
        f, n2, c2 = uploaded_elsewhere(binary, tmp, db, chat_lines(n))
        lock = psql(db)
        lock.stdin.write("BEGIN; LOCK TABLE file_chunks IN ACCESS EXCLUSIVE"
                         " MODE; SELECT 'locked';\n")
        lock.stdin.flush()
        try:
            check(lock.stdout.readline().strip() == "locked",
                  "file_chunks locked by another session")
            st, b = c2.create(f["id"])
            check(st == 200, "create through node 2: %s" % st)
            waiting, t0 = False, time.time()
            while not waiting and time.time() - t0 < 30 * T.SLOW:
                waiting = sql1(db, "SELECT count(*) FROM pg_stat_activity"
                               " WHERE wait_event_type = 'Lock' AND query"
                               " LIKE 'SELECT data FROM file_chunks%'") == "1"
                time.sleep(0.05)
            check(waiting, "node 2's validation waits for the input")
            st, x = c2.req("POST", "/v1/batches/%s/cancel" % b["id"])
            check(st == 200 and x["status"] == "cancelling", "cancelling")
            # another node claims its finalization (as a node that won
            # the claim an instant before this one took the validation)
            sql1(db, "UPDATE batches SET final_node = 'ghost', final_until ="
                 " now() + interval '1 hour' WHERE id = '%s'" % b["id"])
        finally:
            lock.stdin.write("COMMIT;\n")
            lock.stdin.close()
            lock.wait()
        lines = ("SELECT count(*) FROM lines l JOIN batches b ON b.seq ="
                 " l.batch_seq WHERE b.id = '%s'" % b["id"])
        # several scans of node 2 (each a second or less apart)
        time.sleep(3 * T.SLOW)
        got = sql1(db, lines)
        check(got == "0", "no line recorded under another node's"
              " finalization: %s" % got)
        st, g = c2.req("GET", "/v1/batches/" + b["id"])
        check(g["status"] == "cancelling", "still cancelling: %s"
              % g["status"])
        # the other node's claim lapses: node 2 validates, then finalizes
        sql1(db, "UPDATE batches SET final_until = now() - interval '1 s'"
             " WHERE id = '%s'" % b["id"])
        done = c2.wait(b["id"], timeout=60 * T.SLOW)
        check(done["status"] == "cancelled", "cancelled: %s" % done["status"])
        check(done["request_counts"]["total"] == n, "total %s"
              % done["request_counts"])
        out, err = ids_once(c2, done, n, "final_first")
        check(len(err) == n and all(e["error"]["code"] == "batch_cancelled"
                                    for e in err),
              "every line in the error file, cancelled")
        n2.kill(signal.SIGTERM)


def case_chaos(binary, tmp):
    import random
    from test_server_hooks import Receiver, SECRET
    rcv = Receiver()
    try:
        chaos_nodes(binary, tmp, rcv, ["--webhook-url", rcv.url(),
                                       "--webhook-secret", SECRET])
    finally:
        rcv.stop()


def chaos_nodes(binary, tmp, rcv, hook):
    import random
    seed = int(os.environ.get("OAB_CHAOS_SEED") or time.time() * 1000)
    rnd = random.Random(seed)
    print("chaos seed %d (OAB_CHAOS_SEED repeats it)" % seed)
    span = float(os.environ.get("OAB_CHAOS_S", "20"))
    fault_every = 7
    # answers take 100 ms: the three nodes' 48 in flight answer ~480
    # lines a second, so the batches run through the kills (the first
    # ends about when they stop, the second is cancelled a third in, the
    # third, created through a node whose window is half the run,
    # expires mid-way)
    n = (int(span * 400), int(span * 200), int(span * 200))
    with cluster() as db:
        up = T.start_upstream(tmp, ["--delay-ms", "100", "--fault-every",
                                    str(fault_every), "--stall-s", "1"])
        nodes = [node(binary, tmp, db.url, i, up.port,
                      extra=hook + (["--window-seconds", str(int(span / 2))]
                                    if i == 3 else [])) for i in (1, 2, 3)]
        gen = [0, 0, 0]
        st, f1 = Client(nodes[0].port).upload(chat_lines(n[0], words="keep"))
        st2, f2 = Client(nodes[1].port).upload(chat_lines(n[1], words="stop"))
        st3, f3 = Client(nodes[2].port).upload(chat_lines(n[2], words="late"))
        check(st == 200 and st2 == 200 and st3 == 200, "uploads")
        st, b1 = Client(nodes[0].port).create(f1["id"])
        st2, b2 = Client(nodes[1].port).create(f2["id"])
        st3, b3 = Client(nodes[2].port).create(f3["id"])
        check(st == 200 and st2 == 200 and st3 == 200, "creates")
        kills, cancelled, t0 = 0, False, time.time()
        down = {}                 # node index -> when to start it again

        def live():
            return [i for i in range(3) if i not in down]

        running = 0               # kills while batch 1 ran
        outage = False            # PostgreSQL stopped once, 3 s
        while time.time() - t0 < span:
            time.sleep(rnd.uniform(0.5, 2.0))
            if not outage and time.time() - t0 > span * 2 / 3:
                # every node loses the database at once (nodes down stay
                # down until it is back: a node does not start without it)
                db.stop("fast")
                time.sleep(3)
                db.start()
                outage = True
            now = time.time()
            for i, when in list(down.items()):
                if now >= when:
                    gen[i] += 1
                    nodes[i] = node(binary, tmp, db.url, i + 1, up.port,
                                    name="node%d.%d" % (i + 1, gen[i]),
                                    extra=hook)
                    del down[i]
            if not cancelled and now - t0 > span / 3:
                c = Client(nodes[rnd.choice(live())].port)
                st, x = c.req("POST", "/v1/batches/%s/cancel" % b2["id"])
                check(st == 200, "cancel through a live node: %s" % st)
                cancelled = True
            if len(down) < 2:
                i = rnd.choice(live())
                st, g = Client(nodes[i].port).req("GET", "/v1/batches/"
                                                  + b1["id"])
                running += st == 200 and g["status"] == "in_progress"
                nodes[i].kill(signal.SIGKILL)
                kills += 1
                # mostly back at once (its claims are its own again);
                # sometimes after its lease lapsed (others take them)
                down[i] = now + (rnd.uniform(0, 0.5) if rnd.random() < 0.7
                                 else float(LEASE_S) + 1)
        for i in list(down):
            gen[i] += 1
            nodes[i] = node(binary, tmp, db.url, i + 1, up.port,
                            name="node%d.%d" % (i + 1, gen[i]), extra=hook)
        if not cancelled:
            Client(nodes[0].port).req("POST",
                                      "/v1/batches/%s/cancel" % b2["id"])
        cs = [Client(p.port) for p in nodes]
        d1 = cs[2].wait(b1["id"], timeout=300 * T.SLOW)
        d2 = cs[1].wait(b2["id"], timeout=300 * T.SLOW)
        d3 = cs[0].wait(b3["id"], timeout=300 * T.SLOW)
        print("chaos: %d kills in %.0f s, %d while batch 1 ran; %s, %s, %s"
              % (kills, span, running, d1["request_counts"],
                 d2["request_counts"], d3["request_counts"]))
        check(running >= 3, "kills while batch 1 ran: %d" % running)
        check(d1["status"] == "completed", "batch 1 completed: %s"
              % d1["status"])
        check(d1["request_counts"] == {"total": n[0], "completed": n[0],
                                       "failed": 0},
              "batch 1 request_counts %s" % d1["request_counts"])
        out1, err1 = ids_once(cs[0], d1, n[0], "batch 1")
        check(not err1, "batch 1: no error lines")
        # batch 2: cancelled (or completed, if it ran out before the
        # cancel); either way each line once
        check(d2["status"] in ("cancelled", "completed"), "batch 2 ended: %s"
              % d2["status"])
        out2, err2 = ids_once(cs[0], d2, n[1], "batch 2")
        rc = d2["request_counts"]
        check(rc["total"] == n[1] and len(out2) == rc["completed"],
              "batch 2: output lines = completed (%d, %s)" % (len(out2), rc))
        check(all(e["error"]["code"] == "batch_cancelled" for e in err2),
              "batch 2: the rest batch_cancelled")
        # batch 3: expired by the database's clock (or completed, had it
        # run out first), each line once
        check(d3["status"] in ("expired", "completed"), "batch 3 ended: %s"
              % d3["status"])
        out3, err3 = ids_once(cs[0], d3, n[2], "batch 3")
        check(len(out3) == d3["request_counts"]["completed"],
              "batch 3: output lines = completed (%d, %s)"
              % (len(out3), d3["request_counts"]))
        check(all(e["error"]["code"] == "batch_expired" for e in err3),
              "batch 3: the rest batch_expired")
        bodies = set()
        for c in cs:
            st, h, body = c.req("GET", "/v1/files/%s/content"
                                % d1["output_file_id"], raw=True)
            check(st == 200, "output served by node at %d" % c.port)
            bodies.add(body)
        check(len(bodies) == 1, "every node serves the same output")
        # each batch's end is posted to the webhook at least once (a node
        # killed mid-post: again by another, once its lease lapsed)
        want = {d["id"]: "batch." + d["status"] for d in (d1, d2, d3)}
        t = time.time()
        while time.time() - t < 60 * T.SLOW:
            got = {}
            for g in rcv.delivered():
                e = json.loads(g["body"])
                got[e["data"]["id"]] = e["type"]
            if all(got.get(k) == v for k, v in want.items()):
                break
            time.sleep(0.2)
        check(all(got.get(k) == v for k, v in want.items()),
              "every batch's end posted: %s, want %s" % (got, want))
        # calls beyond one per line: each kill re-sends at most what that
        # node had in flight and gathered (2 x --concurrency), each fault
        # one retry of that line; the outage may cost each node's leases
        # as a kill does (3 s without renewal is the lease)
        cnt = counts(up.port)
        sent = len(out1) + len(out2) + len(out3)
        extra = cnt["calls"] - sent
        faults = sum(n) // fault_every + 1
        bound = (kills + 3 * outage) * 2 * CONCURRENCY + faults
        check(0 <= extra <= bound, "upstream calls beyond one per answered"
              " line: %d (bound %d: %d kills, %d faults)"
              % (extra, bound, kills, faults))
        for p in nodes:
            p.kill(signal.SIGTERM)


def copies(tmp, i, body):
    """Names of the files in node i's files folder holding body."""
    d = os.path.join(tmp, "data%d" % i, "files")
    out = []
    for name in sorted(os.listdir(d)):
        path = os.path.join(d, name)
        if os.path.isfile(path):
            with open(path, "rb") as fh:
                if fh.read() == body:
                    out.append(name)
    return out


def case_gone(binary, tmp):
    from test_server_anthropic import AClient, params
    data = chat_lines(10, words="gone")
    with cluster() as db:
        up = T.start_upstream(tmp)
        n1 = node(binary, tmp, db.url, 1, up.port)
        n2 = node(binary, tmp, db.url, 2, up.port)
        c1, c2 = Client(n1.port), Client(n2.port)
        st, f = c1.upload(data)
        check(st == 200, "uploaded through node 1")
        st, b = c1.create(f["id"])
        check(st == 200, "batch created through node 1")
        done = c2.wait(b["id"], timeout=60 * T.SLOW)
        check(done["status"] == "completed", "completed: %s" % done["status"])
        oid = done["output_file_id"]
        bodies = {}
        for c in (c1, c2):
            for fid in (f["id"], oid):
                st, h, bodies[fid] = c.req("GET", "/v1/files/%s/content"
                                           % fid, raw=True)
                check(st == 200, "%s served by node at %d" % (fid, c.port))
        a1, a2 = AClient(n1.port, key=None), AClient(n2.port, key=None)
        st, ab = a1.areq("POST", "/v1/messages/batches", {"requests": [
            {"custom_id": "a%d" % i, "params": params("gone a%d" % i)}
            for i in range(3)]})
        check(st == 200, "message batch created through node 1: %s" % st)
        t = time.time()
        while (a2.batch(ab["id"])["processing_status"] != "ended" and
               time.time() - t < 60 * T.SLOW):
            time.sleep(0.1)
        for a in (a1, a2):
            check(len(a.results(ab["id"])) == 3, "results served by node at"
                  " %d" % a.port)
        cache = "%s_anthropic_results.jsonl" % ab["id"]

        def held(i):
            names = copies(tmp, i, bodies[f["id"]]) + copies(tmp, i,
                                                             bodies[oid])
            if os.path.exists(os.path.join(tmp, "data%d" % i, "files",
                                           cache)):
                names.append(cache)
            return names
        for i in (1, 2):
            check(len(held(i)) >= 3, "node %d keeps copies: %s" % (i,
                                                                   held(i)))
        st, x = c2.req("DELETE", "/v1/files/" + f["id"])
        check(st == 200 and x.get("deleted"), "input deleted through node 2")
        st, x = c1.req("DELETE", "/v1/files/" + oid)
        check(st == 200 and x.get("deleted"), "output deleted through node 1")
        st, x = a2.areq("DELETE", "/v1/messages/batches/" + ab["id"])
        check(st == 200, "message batch deleted through node 2: %s" % st)
        t = time.time()
        while (held(1) or held(2)) and time.time() - t < 30 * T.SLOW:
            time.sleep(0.2)
        check(not held(1) and not held(2), "no copy left on either node:"
              " node 1 %s, node 2 %s" % (held(1), held(2)))
        for c in (c1, c2):
            st, e = c.req("GET", "/v1/files/%s/content" % f["id"])
            check(st == 404, "the input is gone for node at %d: %s"
                  % (c.port, st))
        for p in (n1, n2):
            p.kill(signal.SIGTERM)


def two_with_copies(binary, tmp, db, datas):
    """Nodes 1 and 2 (node 2 without a fetch yet) and the files of datas
    uploaded through node 1: (n1, n2, c1, c2, ids)."""
    up = T.start_upstream(tmp)
    n1 = node(binary, tmp, db.url, 1, up.port)
    n2 = node(binary, tmp, db.url, 2, up.port)
    c1, c2 = Client(n1.port), Client(n2.port)
    ids = []
    for d in datas:
        st, f = c1.upload(d)
        check(st == 200, "uploaded through node 1")
        ids.append(f["id"])
    return n1, n2, c1, c2, ids


def wait_for(cond, secs):
    t = time.time()
    while not cond() and time.time() - t < secs * T.SLOW:
        time.sleep(0.2)
    return cond()


def case_gone_late(binary, tmp):
    """A name gone whose transaction commits behind a later one (a
    sequence's numbers are taken in order, commits land in any): the
    sweep that read the later one must still see it."""
    a, b = chat_lines(5, words="late"), chat_lines(5, words="early")
    with cluster() as db:
        n1, n2, c1, c2, (fa, fb) = two_with_copies(binary, tmp, db, (a, b))
        for fid, body in ((fa, a), (fb, b)):
            st, h, got = c2.req("GET", "/v1/files/%s/content" % fid,
                                raw=True)
            check(st == 200 and got == body, "node 2 serves %s" % fid)
            check(copies(tmp, 2, body), "node 2 keeps a copy of %s" % fid)
        # a session deletes file a and holds its transaction open (its
        # name's number is taken first)
        held = psql(db)
        held.stdin.write("BEGIN; WITH d AS (DELETE FROM files WHERE id ="
                         " '%s' RETURNING path) INSERT INTO files_gone(name)"
                         " SELECT path FROM d; SELECT 'held';\n" % fa)
        held.stdin.flush()
        try:
            check(held.stdout.readline().strip() == "held",
                  "file a deleted in an open transaction")
            st, x = c1.req("DELETE", "/v1/files/" + fb)
            check(st == 200 and x.get("deleted"), "file b deleted, committed")
            check(wait_for(lambda: not copies(tmp, 2, b), 30),
                  "node 2's sweep read b's name: its copy went")
        finally:
            held.stdin.write("COMMIT;\n")
            held.stdin.close()
            held.wait()
        check(wait_for(lambda: not copies(tmp, 2, a), 30),
              "node 2's copy of a goes too once its delete commits (it"
              " stayed before): %s" % copies(tmp, 2, a))
        for p in (n1, n2):
            p.kill(signal.SIGTERM)


def case_fetch_cut(binary, tmp):
    """A body whose chunks do not add up to its row's size (as a delete
    between two chunk reads looked) is never served as whole."""
    data = chat_lines(12000, words="a body of several chunks")
    check(len(data) > 2 << 20, "%d bytes: 3 chunks of 1 MiB" % len(data))
    with cluster() as db:
        n1, n2, c1, c2, (fid,) = two_with_copies(binary, tmp, db, (data,))
        sql1(db, "DELETE FROM file_chunks WHERE file_id = '%s' AND n >= 1"
             % fid)
        st, h, got = c2.req("GET", "/v1/files/%s/content" % fid, raw=True)
        check(st != 200, "node 2 does not serve a cut body: %s, %d of %d"
              " bytes" % (st, len(got or b""), len(data)))
        left = [n for n in os.listdir(os.path.join(tmp, "data2", "files"))]
        check(left == [], "nothing kept on node 2: %s" % left)
        st, h, got = c1.req("GET", "/v1/files/%s/content" % fid, raw=True)
        check(st == 200 and got == data, "node 1 serves its own copy")
        for p in (n1, n2):
            p.kill(signal.SIGTERM)


def case_fetch_deleted(binary, tmp):
    """A file deleted while a node fetches it: the node answers 404 and
    keeps no copy (before, a fetch that finished after the delete kept
    one until the node's data folder was cleared)."""
    data = chat_lines(50, words="deleted while fetched")
    with cluster() as db:
        n1, n2, c1, c2, (fid,) = two_with_copies(binary, tmp, db, (data,))
        lock = psql(db)
        lock.stdin.write("BEGIN; LOCK TABLE file_chunks IN ACCESS EXCLUSIVE"
                         " MODE; SELECT 'locked';\n")
        lock.stdin.flush()
        res = {}
        t = threading.Thread(target=lambda: res.update(r=c2.req(
            "GET", "/v1/files/%s/content" % fid, raw=True)))
        try:
            check(lock.stdout.readline().strip() == "locked",
                  "file_chunks locked by another session")
            t.start()
            check(wait_for(lambda: sql1(
                db, "SELECT count(*) FROM pg_stat_activity WHERE"
                " wait_event_type = 'Lock' AND query LIKE"
                " 'SELECT data FROM file_chunks%'") == "1", 30),
                "node 2's fetch waits for the chunks")
            # the file goes, in the locking session, as the API deletes it
            lock.stdin.write("WITH d AS (DELETE FROM files WHERE id = '%s'"
                             " RETURNING path) INSERT INTO files_gone(name)"
                             " SELECT path FROM d;\n" % fid)
        finally:
            lock.stdin.write("COMMIT;\n")
            lock.stdin.close()
            lock.wait()
        t.join(60 * T.SLOW)
        st = res.get("r", (None,))[0]
        check(st == 404, "node 2 answers 404 for the file deleted while it"
              " was fetched: %s" % st)
        left = os.listdir(os.path.join(tmp, "data2", "files"))
        check(left == [], "no copy on node 2 once it answered: %s" % left)
        for p in (n1, n2):
            p.kill(signal.SIGTERM)


@contextlib.contextmanager
def replicated():
    """A primary and its streaming standby: (primary, standby)."""
    with cluster() as prim:
        stby = cluster()
        try:
            stby.init_standby(prim).start()
            check(wait_for(lambda: sql1(
                prim, "SELECT count(*) FROM pg_stat_replication WHERE"
                " state = 'streaming'") == "1", 30), "the standby streams")
            yield prim, stby
        finally:
            stby.close()


def hosts_url(*dbs):
    """A URL naming the clusters dbs, in that order (libpq tries them in
    order)."""
    return ("postgresql:///postgres?host=%s&port=%s&user=%s"
            % (",".join(d.tmp for d in dbs), ",".join("5432" for d in dbs),
               dbs[0].user))


def case_failover(binary, tmp):
    """A primary and its streaming standby, the URL naming the standby
    first: the nodes run on the primary (a server that takes writes;
    before, they connected to the standby and could not start); the
    primary dies mid-batch and the standby is promoted: both nodes carry
    on there, every line once. Replication is asynchronous, so the last
    commits before the primary died may be lost with it: their lines run
    again, never twice in the files."""
    n = 2000
    with replicated() as (prim, stby):
        url = hosts_url(stby, prim)
        up = T.start_upstream(tmp, ["--delay-ms", "20"])
        n1 = node(binary, tmp, url, 1, up.port)
        n2 = node(binary, tmp, url, 2, up.port)
        c = Client(n1.port)
        st, f = c.upload(chat_lines(n))
        check(st == 200, "upload through node 1")
        st, b = c.create(f["id"])
        check(st == 200, "create through node 1: %s" % st)
        wait_count(c, b["id"], n // 4)
        prim.stop("immediate")
        time.sleep(2)
        check(n1.p.poll() is None and n2.p.poll() is None,
              "the nodes live without a primary")
        stby.promote()
        # 500 (never 404) until a node's connection is back
        done = Client(n2.port).wait(b["id"], timeout=300 * T.SLOW,
                                    transient=(500,))
        completed_once(c, done, n, "failover")
        for p in (n1, n2):
            p.kill(signal.SIGTERM)


def case_switchover(binary, tmp):
    """A planned switchover: the primary made read-only (its connections
    stay open), the standby caught up and promoted. A node whose server
    turned read-only connects again and goes on on the new primary, its
    API's reads too (before, those stayed on the old one and showed the
    batch running forever)."""
    n = 2000
    with replicated() as (prim, stby):
        up = T.start_upstream(tmp, ["--delay-ms", "20"])
        n1 = node(binary, tmp, hosts_url(prim, stby), 1, up.port)
        c = Client(n1.port)
        st, f = c.upload(chat_lines(n))
        st, b = c.create(f["id"])
        check(st == 200, "create through node 1: %s" % st)
        wait_count(c, b["id"], n // 4)
        sql1(prim, "ALTER SYSTEM SET default_transaction_read_only = on")
        sql1(prim, "SELECT pg_reload_conf()")
        lsn = sql1(prim, "SELECT pg_current_wal_lsn()")
        check(wait_for(lambda: sql1(
            stby, "SELECT pg_last_wal_replay_lsn() >= '%s'" % lsn) == "t",
            30), "the standby caught up")
        stby.promote()
        done = c.wait(b["id"], timeout=300 * T.SLOW, transient=(500,))
        completed_once(c, done, n, "switchover")
        n1.kill(signal.SIGTERM)
        log = open(os.path.join(tmp, "node1.log")).read()
        check("the server is read-only now" in log, "node 1 said why it"
              " connected again")


def case_input_later(binary, tmp):
    """A node that cannot fetch a batch's input now (here: the chunks'
    table renamed away) leaves the batch validating and tries again at
    later scans (before, it failed the batch as if the file were gone)."""
    n = 40
    with cluster() as db:
        f, n2, c2 = uploaded_elsewhere(binary, tmp, db, chat_lines(n),
                                       "ALTER TABLE file_chunks RENAME TO"
                                       " file_chunks_away")
        st, b = c2.create(f["id"])
        check(st == 200, "create through node 2 (no copy of the input)")
        time.sleep(2 * T.SLOW)
        st, g = c2.req("GET", "/v1/batches/" + b["id"])
        check(st == 200 and g["status"] == "validating", "still validating"
              " while its input cannot be fetched: %s %s"
              % (g.get("status"), g.get("errors")))
        sql1(db, "ALTER TABLE file_chunks_away RENAME TO file_chunks")
        done = c2.wait(b["id"], timeout=60 * T.SLOW)
        completed_once(c2, done, n, "input fetched later")
        n2.kill(signal.SIGTERM)


def case_cancel_unrecorded(binary, tmp):
    """A batch cancelled before it was validated, whose lines the database
    refuses to record for now (here: a CHECK no line passes), stays
    cancelling; once they can be recorded it ends cancelled with every
    line in its error file (before, the failed recording counted as done:
    the batch ended cancelled with no line in any file)."""
    n = 12
    with cluster() as db:
        up = T.start_upstream(tmp)
        n1 = node(binary, tmp, db.url, 1, up.port)
        c1 = Client(n1.port)
        st, f = c1.upload(chat_lines(n))
        check(st == 200, "uploaded")
        sql1(db, "ALTER TABLE lines ADD CONSTRAINT no_line CHECK (idx < 0)"
                 " NOT VALID")
        st, b = c1.create(f["id"])
        check(st == 200, "created")
        st, x = c1.req("POST", "/v1/batches/%s/cancel" % b["id"])
        check(st == 200, "cancel: %s %s" % (st, x))
        time.sleep(2 * T.SLOW)
        st, g = c1.req("GET", "/v1/batches/" + b["id"])
        check(st == 200 and g["status"] == "cancelling", "still cancelling"
              " while its lines cannot be recorded: %s %s"
              % (g.get("status"), g.get("request_counts")))
        sql1(db, "ALTER TABLE lines DROP CONSTRAINT no_line")
        done = c1.wait(b["id"], timeout=60 * T.SLOW)
        check(done["status"] == "cancelled", "cancelled: %s" % done["status"])
        out, err = ids_once(c1, done, n, "cancelled unrecorded")
        check(len(err) == n and all(
            e["error"]["code"] == "batch_cancelled" for e in err),
            "every line in the error file as cancelled")
        n1.kill(signal.SIGTERM)


def case_final_fenced(binary, tmp):
    """A node whose finalizer claim another node took and ended the batch
    with (as when it stalled past its lease: here its claim is held up
    in the database, by a trigger, while a stand-in node 'ghost' ends the
    batch) reopens nothing: the batch stays completed as 'ghost' ended
    it (before, its next statement set the ended batch finalizing again,
    and it stayed so: the files it wrote could not end it)."""
    with cluster() as db:
        # the node's first claim of a finalization waits 4 s before it
        # commits, holding the batch's row
        n1, c1, b = one_node_batch(binary, tmp, db, 8, 0, sql=(
                 "CREATE TABLE final_gate(armed bool); INSERT INTO"
                 " final_gate VALUES (true);"
                 " CREATE FUNCTION final_stall() RETURNS trigger LANGUAGE"
                 " plpgsql AS $$ BEGIN IF EXISTS (SELECT 1 FROM final_gate"
                 " WHERE armed) THEN UPDATE final_gate SET armed = false;"
                 " PERFORM pg_sleep(4); END IF; RETURN NULL; END $$;"
                 " CREATE TRIGGER final_stall AFTER UPDATE OF final_node ON"
                 " batches FOR EACH ROW WHEN (NEW.final_node IS DISTINCT"
                 " FROM OLD.final_node AND NEW.final_node <> 'ghost')"
                 " EXECUTE FUNCTION final_stall()"))
        check(wait_sql(db, SLEEPING, "1", 60 * T.SLOW),
              "the node's finalizer claim held up")
        # 'ghost' takes the claim and ends the batch: its statement waits
        # for the row, and goes first once the node's claim commits
        ghost = psql(db, "-c", "UPDATE batches SET final_node = 'ghost',"
                     " final_until = now() + interval '1 hour', status ="
                     " 'completed', completed_at = 12345 WHERE id = '%s'"
                     % b["id"])
        check(wait_sql(db, "SELECT count(*) FROM pg_stat_activity WHERE"
                       " wait_event_type = 'Lock' AND query LIKE"
                       " 'UPDATE batches SET final_node = ''ghost''%'", "1",
                       3), "the stand-in's end waits for the node's claim")
        ghost.communicate()
        check(ghost.returncode == 0, "the stand-in ended the batch")
        # several of the node's scans
        time.sleep(3 * T.SLOW)
        row = sql1(db, "SELECT status, completed_at, final_node FROM batches"
                   " WHERE id = '%s'" % b["id"])
        check(row == "completed|12345|ghost", "the batch stays as the"
              " stand-in ended it: %s" % row)
        st, g = c1.req("GET", "/v1/batches/" + b["id"])
        check(st == 200 and g["status"] == "completed", "the API says"
              " completed: %s" % g.get("status"))
        n1.kill(signal.SIGTERM)


def case_lease_alive(binary, tmp):
    """A node whose engine is held longer than a lease (here, by a trigger,
    its statement that stores a batch's result file, for 8 s against a
    3 s lease: as the finalization of a big batch takes) keeps its leases
    meanwhile, and ends the batch (before, only the engine's scan renewed
    them: they lapsed, and another node could take the finalization,
    lose it the same way, and so on)."""
    n = 8
    with cluster() as db:
        n1, c1, b = one_node_batch(binary, tmp, db, n, 0, sql=(
            "CREATE FUNCTION final_stall() RETURNS trigger LANGUAGE"
            " plpgsql AS $$ BEGIN PERFORM pg_sleep(8); RETURN NULL;"
            " END $$; CREATE TRIGGER final_stall AFTER INSERT ON files"
            " FOR EACH ROW WHEN (NEW.purpose = 'batch_output')"
            " EXECUTE FUNCTION final_stall()"))
        check(wait_sql(db, SLEEPING, "1", 60 * T.SLOW),
              "the node's engine held up")
        # two leases later, still held
        time.sleep(6)
        alive = sql1(db, "SELECT count(*) FROM nodes WHERE alive_until >"
                     " now()")
        check(alive == "1", "the node is live while its engine is held: %s"
              % alive)
        held = sql1(db, "SELECT final_until > now() FROM batches WHERE"
                    " id = '%s'" % b["id"])
        check(held == "t", "its finalization is still its own: %s" % held)
        done = c1.wait(b["id"], timeout=60 * T.SLOW)
        completed_once(c1, done, n, "lease_alive")
        n1.kill(signal.SIGTERM)


def case_engine_stuck(binary, tmp):
    """A node whose engine is held past the stall limit (OAB_PG_STALL_S,
    here 4 s against a 3 s lease; by a trigger, its statement that stores
    a batch's result file, for a minute) stops renewing its leases: a
    second node takes the finalization and ends the batch while the first
    is still held, every line once (before, the heartbeat renewed them
    for as long as the engine was stuck, and the batch waited on it).
    Once let go, the first node says so and carries on."""
    n = 8
    with cluster() as db:
        os.environ["OAB_PG_STALL_S"] = "4"
        try:
            n1, c1, b = one_node_batch(binary, tmp, db, n, 0, sql=(
                "CREATE SEQUENCE stall_once; CREATE FUNCTION final_stall()"
                " RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF"
                " nextval('stall_once') = 1 THEN PERFORM pg_sleep(%d);"
                " END IF; RETURN NULL; END $$; CREATE TRIGGER final_stall"
                " AFTER INSERT ON files FOR EACH ROW WHEN (NEW.purpose ="
                " 'batch_output') EXECUTE FUNCTION final_stall()"
                % int(60 * T.SLOW)))
        finally:
            del os.environ["OAB_PG_STALL_S"]
        check(wait_sql(db, SLEEPING, "1", 60 * T.SLOW),
              "the node's engine held up")
        up = T.start_upstream(tmp, name="upstream2")
        n2 = node(binary, tmp, db.url, 2, up.port)
        c2 = Client(n2.port)
        done = c2.wait(b["id"], timeout=50 * T.SLOW)
        check(sql1(db, SLEEPING) == "1", "node 1 is still held when the"
              " batch ends")
        completed_once(c2, done, n, "engine_stuck")
        final = sql1(db, "SELECT final_node FROM batches WHERE id = '%s'"
                     % b["id"])
        check(final.endswith("/data2"), "node 2 ended it: %s" % final)
        # node 1 let go and said so; freed, it goes on and stops cleanly
        psql(db, "-c", "SELECT pg_cancel_backend(pid) FROM"
             " pg_stat_activity WHERE wait_event = 'PgSleep'").communicate()
        log = os.path.join(tmp, "node1.log")
        deadline = time.time() + 30 * T.SLOW
        while "goes on again" not in open(log).read():
            check(time.time() < deadline, "node 1 says its engine goes on")
            time.sleep(0.1)
        text = open(log).read()
        check("leases are no longer renewed" in text,
              "node 1 says it let its leases go")
        st, g = c1.req("GET", "/v1/batches/" + b["id"])
        check(st == 200 and g["status"] == "completed",
              "node 1 sees it completed: %s" % g.get("status"))
        n1.kill(signal.SIGTERM)
        n2.kill(signal.SIGTERM)


def case_input_deleted(binary, tmp):
    """A running batch's input deleted: node 1, which has it open, goes on
    answering its lines; node 2, started after (no copy, and none to
    fetch), ends the lines it claims as line_unavailable; the batch
    completes, every custom_id once, its counts adding up to its total
    (before, a node with no copy could finalize the batch as soon as no
    line was leased to another node, ending as unavailable lines node 1
    would have answered)."""
    n = 400
    with cluster() as db:
        n1, c1, b = one_node_batch(binary, tmp, db, n, 50)
        wait_count(c1, b["id"], 10)
        st, x = c1.req("DELETE", "/v1/files/" + b["input_file_id"])
        check(st == 200, "input deleted: %s" % st)
        up2 = T.start_upstream(tmp, name="upstream2")
        n2 = node(binary, tmp, db.url, 2, up2.port)
        c2 = Client(n2.port)
        done = c2.wait(b["id"], timeout=120 * T.SLOW)
        rc = done["request_counts"]
        check(done["status"] == "completed" and rc["total"] == n and
              rc["completed"] + rc["failed"] == n,
              "completed, the counts add up: %s %s" % (done["status"], rc))
        out, err = ids_once(c2, done, n, "input_deleted")
        check(len(out) == rc["completed"] and len(err) == rc["failed"],
              "the files hold the counts: %d %d" % (len(out), len(err)))
        check(all(x["error"]["code"] == "line_unavailable" for x in err),
              "every error line_unavailable")
        check(len(out) > 10, "node 1 answered lines after the delete: %d"
              % len(out))
        check(counts(up2.port)["calls"] == 0, "node 2 sent nothing upstream")
        for p in (n1, n2):
            p.kill(signal.SIGTERM)


def case_input_damaged(binary, tmp):
    """A batch whose input's stored body is damaged (its chunks do not
    add up to the file's size: no retry mends that) fails at once, saying
    so, and its content answers 500 saying so (before, the batch stayed
    validating until its window had passed)."""
    with cluster() as db:
        f, n2, c2 = uploaded_elsewhere(binary, tmp, db, chat_lines(5),
                                       "UPDATE files SET bytes = bytes + 1")
        st, b = c2.create(f["id"])
        check(st == 200, "create through node 2 (no copy of the input)")
        done = c2.wait(b["id"], timeout=30 * T.SLOW)
        errs = (done.get("errors") or {}).get("data") or [{}]
        check(done["status"] == "failed" and "damaged" in
              errs[0].get("message", ""), "failed as damaged: %s %s"
              % (done["status"], errs))
        st, g = c2.req("GET", "/v1/files/%s/content" % f["id"])
        check(st == 500 and "damaged" in json.dumps(g), "content: %s %s"
              % (st, g))
        left = os.listdir(os.path.join(tmp, "data2", "files"))
        check(left == [], "no copy kept on node 2: %s" % left)
        n2.kill(signal.SIGTERM)


def case_orphan_copies(binary, tmp):
    """Copies in a node's files folder that no file names (a body put in
    place whose row never committed, a file whose row went while the node
    was down past the names gone are kept) leave at the node's start;
    copies of files that exist and names of other forms stay."""
    with cluster() as db:
        up = T.start_upstream(tmp)
        n1 = node(binary, tmp, db.url, 1, up.port)
        c1 = Client(n1.port)
        kept, went = b"kept body\n", b"deleted while down\n"
        st, fk = c1.upload(kept, purpose="user_data")
        st2, fw = c1.upload(went, purpose="user_data")
        check(st == 200 and st2 == 200, "two uploads")
        n1.kill(signal.SIGTERM)
        n1.p.wait(30)
        # the row goes behind the node's back, no name recorded as gone
        sql1(db, "DELETE FROM files WHERE id = '%s'" % fw["id"])
        files1 = os.path.join(tmp, "data1", "files")
        orphan = "file-" + "Q" * 22
        for name in (orphan, "notes.txt"):
            with open(os.path.join(files1, name), "wb") as fh:
                fh.write(b"left\n")
        n1 = node(binary, tmp, db.url, 1, up.port)
        left = sorted(os.listdir(files1))
        check(left == sorted([fk["id"], "notes.txt"]), "left: %s" % left)
        st, h, got = Client(n1.port).req("GET", "/v1/files/%s/content"
                                         % fk["id"], raw=True)
        check(st == 200 and got == kept, "the kept copy serves: %s" % st)
        n1.kill(signal.SIGTERM)


def case_leave(binary, tmp):
    n = 3000
    with cluster() as db:
        up = T.start_upstream(tmp, ["--delay-ms", "20"])
        os.environ["OAB_PG_LEASE_S"] = "600"
        n1 = node(binary, tmp, db.url, 1, up.port)
        n2 = node(binary, tmp, db.url, 2, up.port)
        os.environ["OAB_PG_LEASE_S"] = LEASE_S
        c1 = Client(n1.port)
        st, f = c1.upload(chat_lines(n))
        st, b = c1.create(f["id"])
        check(st == 200, "create through node 1")
        held, t = "0", time.time()
        while held == "0" and time.time() - t < 60 * T.SLOW:
            held = sql1(db, "SELECT count(*) FROM lines WHERE state = 0 AND"
                        " lease_node LIKE '%%/data2'")
            time.sleep(0.05)
        check(held != "0", "node 2 holds claims: %s" % held)
        check(sql1(db, "SELECT count(*) FROM nodes WHERE name LIKE"
                   " '%/data2'") == "1", "node 2 is a live node")
        # its name holds its folder's own random id, made at its first
        # start: two machines of one host name and one data path are two
        # nodes (before, host:path was the name, and they were one)
        with open(os.path.join(tmp, "data2", "node-id")) as fh:
            nid = fh.read().strip()
        check(len(nid) == 20 and nid.isalnum(), "a node id: %r" % nid)
        name = sql1(db, "SELECT name FROM nodes WHERE name LIKE '%/data2'")
        check(name.startswith("%s#%s:" % (os.uname().nodename, nid)),
              "the node's name is host#id:path: %s" % name)
        n2.kill(signal.SIGTERM)
        check(sql1(db, "SELECT count(*) FROM nodes WHERE name LIKE"
                   " '%/data2'") == "0", "node 2's row went when it stopped")
        # the lease is 600 s: only a claim freed at the stop lets node 1
        # end the batch within this wait
        done = c1.wait(b["id"], timeout=120 * T.SLOW)
        check(done["status"] == "completed", "completed by node 1: %s"
              % done["status"])
        out, err = ids_once(c1, done, n, "leave")
        check(not err, "no error lines")
        n1.kill(signal.SIGTERM)


def case_orphans(binary, tmp):
    n = 2000
    with cluster() as db:
        n1, c1, b = one_node_batch(binary, tmp, db, n, 10)
        wait_count(c1, b["id"], 100)
        # the last 300 pending lines, far past what the node claimed
        # (16 at a time), now leased to it behind its engine's back
        got = sql1(db, "WITH u AS (UPDATE lines SET lease_node = (SELECT"
                   " name FROM nodes LIMIT 1) WHERE batch_seq = (SELECT seq"
                   " FROM batches WHERE id = '%s') AND idx >= %d AND state"
                   " = 0 RETURNING 1) SELECT count(*) FROM u"
                   % (b["id"], n - 300))
        check(got == "300", "300 lines leased to the node: %s" % got)
        done = c1.wait(b["id"], timeout=120 * T.SLOW)
        completed_once(c1, done, n, "orphans")
        n1.kill(signal.SIGTERM)


def case_stale_spool(binary, tmp):
    n = 40
    data = chat_lines(n)
    with cluster() as db:
        up = T.start_upstream(tmp)
        n2 = node(binary, tmp, db.url, 2, up.port)
        c2 = Client(n2.port)
        st, f = c2.upload(data)
        st, b = c2.create(f["id"])
        check(st == 200, "create through node 2")
        # what an attempt of node 1's left, under the batch's result names
        files1 = os.path.join(tmp, "data1", "files")
        os.makedirs(files1, mode=0o700)
        for k in ("output", "error"):
            with open(os.path.join(files1, "%s_%s.jsonl" % (b["id"], k)),
                      "wb") as fh:
                fh.write(b'{"custom_id": "left over"}\n')
        done = c2.wait(b["id"], timeout=60 * T.SLOW)
        check(done["status"] == "completed" and done["request_counts"] ==
              {"total": n, "completed": n, "failed": 0},
              "completed by node 2: %s %s" % (done["status"],
                                              done["request_counts"]))
        n1 = node(binary, tmp, db.url, 1, up.port)
        c1 = Client(n1.port)
        for key in ("output_file_id",):
            st2, h2, want = c2.req("GET", "/v1/files/%s/content" % done[key],
                                   raw=True)
            st1, h1, got = c1.req("GET", "/v1/files/%s/content" % done[key],
                                  raw=True)
            check(st1 == 200 and st2 == 200 and got == want and
                  b"left over" not in got,
                  "node 1 serves the %s as stored (%d bytes, %d wanted)"
                  % (key, len(got), len(want)))
        ids_once(c1, done, n, "stale_spool")
        for p in (n1, n2):
            p.kill(signal.SIGTERM)


def node_with_delivery(binary, tmp, db, url, event, leased):
    """The schema (a node started and stopped), a delivery of event to url
    due now (leased to 'ghost' for an hour when leased), then node 1 with
    url as its webhook: the node."""
    from test_server_hooks import SECRET
    up = T.start_upstream(tmp)
    n1 = node(binary, tmp, db.url, 1, up.port)
    n1.kill(signal.SIGTERM)
    body = json.dumps({"type": "batch.completed", "data": {"id": event}})
    sql1(db, "INSERT INTO deliveries(event_id, msg_id, url, body,"
         " created_at, next_at, lease_node, lease_until) VALUES"
         " ('evt_%s', 'msg_%s', '%s', '%s', extract(epoch FROM"
         " now())::bigint, extract(epoch FROM now()), %s)"
         % (event, event, url, body,
            "'ghost', now() + interval '1 hour'" if leased else "NULL, NULL"))
    return node(binary, tmp, db.url, 1, up.port, name="node1b",
                extra=["--webhook-url", url, "--webhook-secret", SECRET])


def case_webhook_takeover(binary, tmp):
    from test_server_hooks import Receiver
    rcv = Receiver()
    with cluster() as db:
        # a delivery a dead node held when it died
        n1 = node_with_delivery(binary, tmp, db, rcv.url(), "batch_ghost",
                                True)
        got = rcv.wait(1, timeout=30 * T.SLOW)
        check(len(got) == 1 and json.loads(got[0]["body"])["data"]["id"] ==
              "batch_ghost", "the dead node's delivery posted: %d" % len(got))
        t = time.time()
        state = ""
        while state != "1" and time.time() - t < 10 * T.SLOW:
            state = sql1(db, "SELECT state FROM deliveries WHERE"
                         " event_id = 'evt_batch_ghost'")
            time.sleep(0.1)
        check(state == "1", "and marked delivered: state %s" % state)
        n1.kill(signal.SIGTERM)
    rcv.stop()


def case_webhook_fenced(binary, tmp):
    """A node whose webhook post outlived its claim (another node took the
    delivery and posted it: a stand-in, 'ghost', marks it delivered while
    the node's post is in flight) changes nothing when its post fails
    (before, its "try again later" set the delivered event pending: it
    was posted twice)."""
    import http.server
    arrived, release = threading.Event(), threading.Event()

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            arrived.set()
            release.wait(30)
            self.send_response(500)
            self.send_header("Content-Length", "0")
            self.end_headers()

    rcv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=rcv.serve_forever, daemon=True).start()
    url = "http://127.0.0.1:%d/hook" % rcv.server_address[1]
    try:
        with cluster() as db:
            n1 = node_with_delivery(binary, tmp, db, url, "batch_fenced",
                                    False)
            check(arrived.wait(30 * T.SLOW), "the node posts the event")
            sql1(db, "UPDATE deliveries SET lease_node = 'ghost', state = 1,"
                 " last_status = 299 WHERE event_id = 'evt_batch_fenced'")
            release.set()
            time.sleep(2 * T.SLOW)
            row = sql1(db, "SELECT state, last_status, lease_node FROM"
                       " deliveries WHERE event_id = 'evt_batch_fenced'")
            check(row == "1|299|ghost", "the other node's delivery stands:"
                  " %s" % row)
            n1.kill(signal.SIGTERM)
    finally:
        release.set()
        rcv.shutdown()
        rcv.server_close()


CASES = {k[5:]: v for k, v in globals().items() if k.startswith("case_")}

if __name__ == "__main__":
    sys.exit(T.main(CASES, "server_pg_nodes"))
