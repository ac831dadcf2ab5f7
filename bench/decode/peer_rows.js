// Peer for `oaibatch results --format jsonl` (issue 11's speed target):
// Node's JSON.parse and JSON.stringify doing the same extraction *and
// writing* as the command: one JSON row per result on stdout with the
// fields of docs/cli.md. run_results.sh checks that its rows equal the
// command's, as JSON values. Reads each file in 1 MiB chunks split into
// lines; writes rows in 1 MiB chunks.
// Usage: node peer_rows.js OUTPUT_FILE [ERROR_FILE...] > rows.jsonl
'use strict';
const fs = require('fs');
const seen = new Set();
let pending = [], pendingLen = 0;
function emit(s) {
  pending.push(s);
  pendingLen += s.length;
  if (pendingLen >= 1 << 20) flush();
}
function flush() {
  if (pending.length) fs.writeSync(1, pending.join(''));
  pending = [];
  pendingLen = 0;
}

function take(line) {
  const d = JSON.parse(line);
  const err = d.error, resp = d.response;
  const cid = d.custom_id;
  const code = resp && resp.status_code !== undefined ? resp.status_code : null;
  const body = (resp && resp.body) || {};
  let st, out = null, finish = null, error = null, usage = null, calls = null;
  if (err) {
    st = err.code === 'batch_expired' ? 'expired' : err.code === 'batch_cancelled' ? 'cancelled' : 'error';
    error = { code: err.code === undefined ? null : err.code, message: err.message === undefined ? null : err.message };
  } else if (code !== null && code >= 400) {
    st = 'http_error';
    const e = body.error || {};
    error = { code: e.code === undefined ? null : e.code, message: e.message === undefined ? null : e.message };
  } else {
    st = 'succeeded';
    const ch = body.choices || [];
    if (ch.length) {
      const msg = ch[0].message || {};
      out = msg.content === undefined ? null : msg.content;
      finish = ch[0].finish_reason === undefined ? null : ch[0].finish_reason;
      if (msg.tool_calls && msg.tool_calls.length) {
        calls = msg.tool_calls.map((tc) => {
          const fn = tc.function || {};
          let a = fn.arguments === undefined ? '' : fn.arguments;
          try {
            const v = JSON.parse(a);
            if (v && typeof v === 'object' && !Array.isArray(v)) a = v;
          } catch (e) { /* arguments kept as a string */ }
          return { id: tc.id, name: fn.name, arguments: a };
        });
      }
    }
  }
  const u = body.usage;
  if (u) usage = { prompt_tokens: u.prompt_tokens || 0, completion_tokens: u.completion_tokens || 0, total_tokens: u.total_tokens || 0 };
  const r = { custom_id: cid, status: st, input_line: null, status_code: code, output: out, finish_reason: finish };
  if (calls) r.tool_calls = calls;
  r.error = error;
  r.usage = usage;
  if (seen.has(cid)) r.duplicate = true;
  seen.add(cid);
  r.batch_id = null;
  r.request_id = resp && resp.request_id !== undefined ? resp.request_id : null;
  emit(JSON.stringify(r) + '\n');
}

for (const path of process.argv.slice(2)) {
  const fd = fs.openSync(path, 'r');
  const chunk = Buffer.allocUnsafe(1 << 20);
  let rest = Buffer.alloc(0);
  for (;;) {
    const n = fs.readSync(fd, chunk, 0, chunk.length, null);
    if (n <= 0) break;
    const buf = rest.length ? Buffer.concat([rest, chunk.subarray(0, n)]) : chunk.subarray(0, n);
    let start = 0, nl;
    while ((nl = buf.indexOf(10, start)) !== -1) {
      if (nl > start) take(buf.toString('utf8', start, nl));
      start = nl + 1;
    }
    rest = Buffer.from(buf.subarray(start));
  }
  if (rest.length) take(rest.toString('utf8'));
  fs.closeSync(fd);
}
flush();
