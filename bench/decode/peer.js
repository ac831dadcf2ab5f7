// Peer for the decode benchmark: Node's JSON.parse doing the same work as
// bench_decode, reading each file in 1 MiB chunks and splitting lines.
'use strict';
const fs = require('fs');
const counts = {};
let outputs = 0, toolCalls = 0, argsOk = 0;
let prompt = 0, completion = 0, total = 0, cached = 0, reasoning = 0;

function take(line) {
  let d;
  try { d = JSON.parse(line); } catch (e) { counts.malformed = (counts.malformed || 0) + 1; return; }
  const err = d.error, resp = d.response;
  let st;
  if (err) {
    st = err.code === 'batch_expired' ? 'expired' : err.code === 'batch_cancelled' ? 'cancelled' : 'error';
  } else if (resp && (resp.status_code || 0) >= 400) {
    st = 'http_error';
  } else {
    st = 'succeeded';
    const body = (resp && resp.body) || {};
    const ch = body.choices || [];
    if (ch.length) {
      const msg = ch[0].message || {};
      if (msg.content !== null && msg.content !== undefined) outputs++;
      for (const tc of msg.tool_calls || []) {
        toolCalls++;
        const fn = tc.function || {};
        try {
          const a = JSON.parse(fn.arguments || '');
          if (a && typeof a === 'object' && !Array.isArray(a)) argsOk++;
        } catch (e) { /* invalid arguments */ }
      }
    }
    const u = body.usage;
    if (u) {
      prompt += u.prompt_tokens || 0;
      completion += u.completion_tokens || 0;
      total += u.total_tokens || 0;
      cached += (u.prompt_tokens_details || {}).cached_tokens || 0;
      reasoning += (u.completion_tokens_details || {}).reasoning_tokens || 0;
    }
  }
  counts[st] = (counts[st] || 0) + 1;
}

for (const path of process.argv.slice(2)) {
  const fd = fs.openSync(path, 'r');
  const chunk = Buffer.allocUnsafe(1 << 20);
  let rest = Buffer.alloc(0);
  for (;;) {
    const n = fs.readSync(fd, chunk, 0, chunk.length, null);
    if (n <= 0) break;
    let buf = rest.length ? Buffer.concat([rest, chunk.subarray(0, n)]) : chunk.subarray(0, n);
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
const sum = Object.values(counts).reduce((a, b) => a + b, 0);
console.log(`results=${sum} succeeded=${counts.succeeded || 0} http_error=${counts.http_error || 0} ` +
  `error=${counts.error || 0} expired=${counts.expired || 0} outputs=${outputs} ` +
  `tool_calls=${toolCalls} args_ok=${argsOk} prompt=${prompt} completion=${completion} ` +
  `total=${total} cached=${cached} reasoning=${reasoning}`);
