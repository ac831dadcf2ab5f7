#!/usr/bin/env python3
"""A JSON \\u0000 inside a schema string of a batch line (issue 12): the
server's JSON parser (cJSON) would cut the string there ("^\\u0000a$"
becomes "^", which matches everything), so the batch fails validation
with the line and the field named; the regex escape \\\\x00 is taken.

usage: test_server_schema_nul.py SERVER_BINARY nul
Reuses test_server_http.py's helpers; every process started is stopped.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_server_http as h  # noqa: E402


def line(cid, pattern_json):
    # pattern_json: the pattern as JSON text, so \\u0000 stays an escape
    return ('{"custom_id":"%s","method":"POST","url":"/v1/chat/completions",'
            '"body":{"model":"gpt-4o-mini","messages":[{"role":"user",'
            '"content":"hi"}],"response_format":{"type":"json_schema",'
            '"json_schema":{"name":"r","schema":{"type":"object",'
            '"properties":{"p":{"type":"string","pattern":%s}},'
            '"required":["p"],"additionalProperties":false}}}}}'
            % (cid, pattern_json))


def case_nul(binary, tmp):
    s = h.start_server(binary, tmp, os.path.join(tmp, "data"))
    c = h.Client(s.port)
    data = (line("ok", json.dumps("^a+$")) + "\n" +
            line("cut", '"^\\u0000abc$"') + "\n").encode()
    st, f = c.upload(data)
    st, b = c.create(f["id"])
    done = c.wait(b["id"], timeout=60)
    h.check(done["status"] == "failed", "batch failed validation: %s"
            % done["status"])
    errs = (done.get("errors") or {}).get("data") or []
    h.check(len(errs) == 1 and errs[0]["line"] == 2 and
            errs[0]["param"] == "body.response_format.json_schema.schema."
                                "properties.p.pattern" and
            "\\u0000" in errs[0]["message"],
            "the line and the field are named: %s" % errs)
    # the regex escape of NUL is a different text and is taken
    data = (line("ok", json.dumps("^a+$")) + "\n" +
            line("x00", json.dumps("^\\x00?abc$")) + "\n").encode()
    st, f = c.upload(data)
    st, b = c.create(f["id"])
    done = c.wait(b["id"], timeout=60)
    h.check(done["status"] == "completed" and
            done["request_counts"]["completed"] == 2,
            "\\\\x00 in a pattern is fine: %s %s"
            % (done["status"], done.get("errors")))


if __name__ == "__main__":
    sys.exit(h.main({"nul": case_nul}, "server_schema_nul"))
