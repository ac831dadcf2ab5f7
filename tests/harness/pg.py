#!/usr/bin/env python3
"""A throwaway PostgreSQL server for the tests (Debian's `postgresql`
binaries): initdb into a new temporary folder, pg_ctl start listening only
on a Unix socket in that folder (no TCP port, so nothing can clash with
another cluster), and always stopped and removed at the end. The system
cluster is never touched.

initdb and postgres refuse to run as root, and the tests run as root: then
the binaries run as the `postgres` user (runuser), with the temporary folder
chowned to it.

As a command, runs another command with $OAB_DB set to the cluster's URL
(so `oaibatch serve` keeps its state there) and returns its exit code:

    pg.py BINDIR -- COMMAND [ARGS...]

As a module: `with Cluster(bindir) as pg: ... pg.url, pg.stop(), pg.start()`;
`Cluster(bindir).init_standby(pg).start()` is a standby of pg, `promote()`
makes it a primary.
"""
import os
import pwd
import shutil
import subprocess
import sys
import tempfile


class Cluster:
    def __init__(self, bindir):
        self.bindir = bindir
        for tool in ("initdb", "pg_ctl", "postgres"):
            if not os.access(os.path.join(bindir, tool), os.X_OK):
                raise RuntimeError(
                    "PostgreSQL's %s is not in %s: install the postgresql"
                    " package (scripts/install-deps.sh)" % (tool, bindir))
        self.tmp = tempfile.mkdtemp(prefix="oab-pg-")
        self.data = os.path.join(self.tmp, "data")
        self.log = os.path.join(self.tmp, "postgres.log")
        self.as_user = []
        self.user = pwd.getpwuid(os.getuid()).pw_name
        if os.getuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.tmp, pw.pw_uid, pw.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]
            self.user = "postgres"
        self.running = False
        # the socket is TMP/.s.PGSQL.5432; no TCP
        self.url = "postgresql:///postgres?host=%s&user=%s" % (self.tmp,
                                                              self.user)

    def _run(self, tool, *args):
        r = subprocess.run(self.as_user + [os.path.join(self.bindir, tool)]
                           + list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            raise RuntimeError("%s failed: %s" % (tool, r.stdout[-2000:]))
        return r.stdout

    def init(self):
        self._run("initdb", "-D", self.data, "-U", self.user,
                  "--auth=trust", "-E", "UTF8", "--no-sync",
                  "--locale=C")
        return self

    def init_standby(self, primary):
        """This cluster as a streaming standby of primary (running): a
        base backup with its standby.signal and primary_conninfo, instead
        of init()."""
        self._run("pg_basebackup", "-D", self.data, "-h", primary.tmp,
                  "-p", "5432", "-U", primary.user, "-R", "-X", "stream",
                  "--no-sync", "-c", "fast")
        return self

    def promote(self):
        """A standby becomes a primary (takes writes)."""
        self._run("pg_ctl", "-D", self.data, "-w", "-t", "60", "promote")

    def start(self):
        opts = ("-k %s -c listen_addresses='' -p 5432 -c fsync=off"
                " -c synchronous_commit=off -c full_page_writes=off"
                " -c max_connections=200" % self.tmp)
        self._run("pg_ctl", "-D", self.data, "-l", self.log, "-o", opts,
                  "-w", "-t", "60", "start")
        self.running = True
        return self

    def stop(self, mode="fast"):
        if self.running:
            self._run("pg_ctl", "-D", self.data, "-m", mode, "-w", "stop")
            self.running = False

    def close(self):
        try:
            if self.running:
                try:
                    self.stop("fast")
                except RuntimeError:
                    self.stop("immediate")
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        try:
            self.init().start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()


def main(argv):
    if len(argv) < 4 or argv[2] != "--":
        print("usage: pg.py BINDIR -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    try:
        with Cluster(argv[1]) as pg:
            env = dict(os.environ, OAB_DB=pg.url, OAB_TEST_DB="pg",
                       OAB_PG_BIN=argv[1])
            return subprocess.call(argv[3:], env=env)
    except RuntimeError as e:
        print("pg.py: %s" % e, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
