// The peer for bench/scale: what a user of the official openai package
// writes to run a job bigger than one batch file - split the JSONL into
// files of at most 50,000 lines, upload each (files.create), create a
// batch per file, poll until every batch has ended, download the output
// files and write the results merged in input order.
// usage: node node_peer.mjs BASE_URL IN.jsonl OUT.jsonl WORKDIR
import fs from 'node:fs';
import readline from 'node:readline';
import { createRequire } from 'node:module';
import { pathToFileURL, fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const req = createRequire(here + '../../tests/harness/node/package.json');
const OpenAI = (await import(pathToFileURL(req.resolve('openai')))).default;

const [baseURL, inPath, outPath, work] = process.argv.slice(2);
const client = new OpenAI({ apiKey: 'sk-local', baseURL, maxRetries: 5 });
const MAX = 50000;

// split, remembering each custom_id's input line
const order = new Map();
const parts = [];
let n = 0, cur = null, inPart = 0;
const rl = readline.createInterface({ input: fs.createReadStream(inPath) });
for await (const line of rl) {
  if (!line.trim()) continue;
  if (!cur || inPart === MAX) {
    if (cur) await new Promise((r) => cur.end(r));
    const p = `${work}/part_${parts.length + 1}.jsonl`;
    parts.push(p);
    cur = fs.createWriteStream(p);
    inPart = 0;
  }
  order.set(JSON.parse(line).custom_id, n++);
  if (!cur.write(line + '\n')) await new Promise((r) => cur.once('drain', r));
  inPart++;
}
if (cur) await new Promise((r) => cur.end(r));

// upload and create
const batches = [];
for (const p of parts) {
  const f = await client.files.create({ file: fs.createReadStream(p), purpose: 'batch' });
  const b = await client.batches.create({ input_file_id: f.id,
    endpoint: '/v1/chat/completions', completion_window: '24h' });
  batches.push(b.id);
}

// poll
const ended = new Set(['completed', 'failed', 'expired', 'cancelled']);
const done = new Map();
while (done.size < batches.length) {
  for (const id of batches) {
    if (done.has(id)) continue;
    const b = await client.batches.retrieve(id);
    if (ended.has(b.status)) done.set(id, b);
  }
  if (done.size < batches.length) await new Promise((r) => setTimeout(r, 1000));
}

// download and merge in input order
const rows = new Array(n);
for (const id of batches) {
  const b = done.get(id);
  for (const fid of [b.output_file_id, b.error_file_id]) {
    if (!fid) continue;
    const text = await (await client.files.content(fid)).text();
    for (const l of text.split('\n')) {
      if (!l) continue;
      const r = JSON.parse(l);
      rows[order.get(r.custom_id)] = l;
    }
  }
}
const out = fs.createWriteStream(outPath);
let missing = 0;
for (const l of rows) {
  if (l === undefined) { missing++; continue; }
  if (!out.write(l + '\n')) await new Promise((r) => out.once('drain', r));
}
await new Promise((r) => out.end(r));
console.log(JSON.stringify({ lines: n, parts: parts.length, missing }));
