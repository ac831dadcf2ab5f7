#!/usr/bin/env python3
"""The web view of `oaibatch serve` (/ui/) in headless Chromium, driven
through chromedriver's W3C WebDriver protocol (plain HTTP on 127.0.0.1).

usage: server_ui_test.py SERVER_BINARY CHROMEDRIVER CHROMIUM
The server has an API key: the page asks for it once, keeps it in
sessionStorage, lists a batch made here and shows it reach 100%, shows a
second one's finished and pending lines while it runs and cancels it with
its button; a batch's detail lists its lines (GET
/v1/batches/{id}/lines), finds one by custom_id and pages with Next and
Previous. Runs on SQLite (server_ui) and on PostgreSQL (server_pg_ui). A screenshot is written to
$OAB_TEST_ARTIFACTS/ui.png when that folder is given (else only to the
test's temporary folder). Every process started is stopped.
"""
import base64
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import test_server_http as T  # noqa: E402
from test_server_http import check, chat_lines, start_server, Client  # noqa: E402

KEY = "ui-test-key-123"


class Driver:
    def __init__(self, driver, chromium, tmp):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        self.log = open(os.path.join(tmp, "chromedriver.log"), "ab")
        self.p = subprocess.Popen([driver, "--port=%d" % self.port],
                                  stdout=self.log, stderr=self.log)
        t = time.time()
        while time.time() - t < 30:
            try:
                if self.call("GET", "/status")[1]["value"]["ready"]:
                    break
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.1)
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox",
                         "--disable-gpu", "--disable-dev-shm-usage",
                         "--user-data-dir=" + os.path.join(tmp, "profile"),
                         "--window-size=1280,900"]}}}}
        st, r = self.call("POST", "/session", caps)
        if st != 200:
            raise RuntimeError("no session: %s" % r)
        self.sid = r["value"]["sessionId"]

    def call(self, method, path, body=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        data = json.dumps(body).encode() if body is not None else None
        c.request(method, path, body=data,
                  headers={"Content-Type": "application/json"})
        r = c.getresponse()
        out = json.loads(r.read() or b"{}")
        c.close()
        return r.status, out

    def s(self, method, path, body=None):
        st, r = self.call(method, "/session/%s%s" % (self.sid, path), body)
        if st != 200:
            raise RuntimeError("%s %s: %s" % (method, path, r))
        return r.get("value")

    def go(self, url):
        self.s("POST", "/url", {"url": url})

    def js(self, script, *args):
        return self.s("POST", "/execute/sync",
                      {"script": script, "args": list(args)})

    def find(self, css):
        v = self.s("POST", "/element", {"using": "css selector",
                                        "value": css})
        return list(v.values())[0]

    def click(self, css):
        self.s("POST", "/element/%s/click" % self.find(css), {})

    def type(self, css, text):
        self.s("POST", "/element/%s/value" % self.find(css), {"text": text})

    def wait_js(self, script, timeout=60):
        t = time.time()
        while time.time() - t < timeout * T.SLOW:
            try:
                v = self.js(script)
                if v:
                    return v
            except RuntimeError:
                pass
            time.sleep(0.1)
        return None

    def screenshot(self, path):
        with open(path, "wb") as f:
            f.write(base64.b64decode(self.s("GET", "/screenshot")))

    def quit(self):
        try:
            self.call("DELETE", "/session/%s" % self.sid)
        except Exception:  # noqa
            pass
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.log.close()


def case_ui(binary, tmp, driver_bin, chromium):
    s = start_server(binary, tmp, os.path.join(tmp, "data"),
                     ["--api-key", KEY, "--latency-ms", "100",
                      "--concurrency", "2"])
    c = Client(s.port, KEY)
    st, f = c.upload(chat_lines(6, "fast"))
    st, quick = c.create(f["id"], metadata={"name": "quick"})
    check(st == 200, "create quick")
    st, f2 = c.upload(chat_lines(400, "slow"))
    st, slow = c.create(f2["id"])
    check(st == 200, "create slow")

    # the page's files need no key; the API does
    st, h, body = c.req("GET", "/ui/", raw=True)
    check(st == 200 and h.get("Content-Type", "").startswith("text/html"),
          "index %s" % st)
    check("default-src 'self'" in h.get("Content-Security-Policy", ""),
          "CSP header")
    st, _, _ = Client(s.port).req("GET", "/ui/app.js", raw=True)
    check(st == 200, "app.js without a key %s" % st)
    st, _ = Client(s.port).req("GET", "/ui/nothing.js")
    check(st == 404, "unknown file 404 (%s)" % st)

    d = Driver(driver_bin, chromium, tmp)
    try:
        base = "http://127.0.0.1:%d" % s.port
        d.go(base + "/ui/")
        check(d.wait_js("return !document.querySelector('#keyform').hidden"),
              "the page asks for the key")
        d.type("#key", KEY)
        d.click("#keysave")
        row = "document.querySelector('tr[data-id=\"%s\"]')"
        check(d.wait_js("return !!" + row % quick["id"]),
              "the quick batch is listed")
        check(d.wait_js("return !!" + row % slow["id"]),
              "the slow batch is listed")
        pct = d.wait_js(
            "var r = " + row % quick["id"] + "; return r &&"
            " r.dataset.status === 'completed' &&"
            " r.querySelector('.pct').dataset.pct === '100' && r.innerText;")
        check(bool(pct) and "6 / 0 / 6" in pct,
              "the quick batch reaches 100%%: %r" % pct)
        check(d.js("return sessionStorage.getItem('oaibatch.key')") == KEY,
              "key in sessionStorage")
        check(KEY not in d.js("return location.href"), "key not in the URL")
        # the running batch's detail lists its finished lines (status 200)
        # first, then its pending ones (on PostgreSQL too: there they are
        # rows of results, not spools)
        lr = ("return Array.from(document.querySelectorAll('#lines tbody tr'))"
              ".map(function (r) { return [r.dataset.cid, r.dataset.state,"
              " r.children[2].innerText]; })")
        d.go(base + "/ui/#" + slow["id"])
        running = d.wait_js(
            "var v = (function () {" + lr + "})(); return v.length === 50"
            " && v[0][1] === 'completed' && v;")
        check(bool(running) and all(
                  r[2] == "200" for r in running if r[1] == "completed") and
              [r[1] for r in running] == sorted(
                  (r[1] for r in running),
                  key=["completed", "pending"].index),
              "the running batch lists finished, then pending lines: %r"
              % running)
        st, cur = c.req("GET", "/v1/batches/" + slow["id"])
        check(cur["status"] == "in_progress",
              "finished lines shown while the batch still runs: %s"
              % cur["status"])
        d.go(base + "/ui/")
        check(d.wait_js("return !!document.querySelector('tr[data-id=\"%s\"]"
                        " button.cancel')" % slow["id"]),
              "a cancel button on the running batch")
        d.click('tr[data-id="%s"] button.cancel' % slow["id"])
        b = c.wait(slow["id"], timeout=60)
        check(b["status"] == "cancelled", "cancelled from the page: %s" %
              b["status"])
        check(d.wait_js("var r = " + row % slow["id"] +
                        "; return r && r.dataset.status === 'cancelled'"),
              "the page shows it cancelled")
        # one batch's detail, with its metadata
        d.go(base + "/ui/#" + quick["id"])
        text = d.wait_js("var e = document.querySelector('#detail');"
                         " return !e.hidden && e.innerText.includes('quick')"
                         " && e.innerText;")
        check(bool(text) and "6 done, 0 failed, 6 in all" in text,
              "detail view: %r" % text)
        # its lines (GET /v1/batches/{id}/lines): 6 completed, status 200
        rows = d.wait_js("var v = (function () {" + lr + "})();"
                         " return v.length === 6 && v;")
        check(bool(rows) and sorted(r[0] for r in rows) ==
              sorted("fast%d" % i for i in range(6)) and
              all(r[1] == "completed" and r[2] == "200" for r in rows),
              "the detail lists the batch's 6 lines: %r" % rows)
        d.type("#linesq", "fast3")
        d.click("#linesfind")
        rows = d.wait_js("var v = (function () {" + lr + "})();"
                         " return v.length === 1 && v;")
        check(bool(rows) and rows[0][0] == "fast3",
              "the custom_id search finds one line: %r" % rows)
        # the cancelled batch's 400 lines, 50 a page: Next, Previous
        d.go(base + "/ui/#" + slow["id"])
        first = d.wait_js("var v = (function () {" + lr + "})();"
                          " return v.length === 50 && v[0][0].startsWith("
                          "'slow') && v;")
        check(bool(first), "the slow batch's first page: 50 lines")
        d.wait_js("return !document.querySelector('#linesnext').disabled")
        d.click("#linesnext")
        second = d.wait_js("var v = (function () {" + lr + "})();"
                           " return v.length === 50 && v[0][0] !== %s && v;"
                           % json.dumps(first[0][0] if first else ""))
        check(bool(second) and not set(r[0] for r in second) &
              set(r[0] for r in (first or [])),
              "Next shows 50 other lines")
        check(all(r[1] in ("completed", "failed")
                  for r in (first or []) + (second or [])),
              "a cancelled batch's lines are completed or failed")
        d.click("#linesprev")
        back = d.wait_js("var v = (function () {" + lr + "})();"
                         " return v.length === 50 && v[0][0] === %s && v;"
                         % json.dumps(first[0][0] if first else ""))
        check(bool(back), "Previous goes back to the first page")
        shot = os.path.join(tmp, "ui.png")
        d.screenshot(shot)
        with open(shot, "rb") as fh:
            check(fh.read(8) == b"\x89PNG\r\n\x1a\n", "screenshot is a PNG")
        art = os.environ.get("OAB_TEST_ARTIFACTS")
        if art and os.path.isdir(art):
            shutil.copy(shot, os.path.join(art, "ui.png"))
    finally:
        d.quit()
    s.kill()


if __name__ == "__main__":
    binary, drv, chrome = sys.argv[1], sys.argv[2], sys.argv[3]
    sys.argv = [sys.argv[0], binary, "ui"]
    sys.exit(T.main({"ui": lambda b, t: case_ui(b, t, drv, chrome)},
                    "server_ui"))
