// The official OpenAI Node SDK against `oaibatch serve` (oaibatch-server):
// upload (streamed and from a buffer), create, list with pagination,
// retrieve until done, download output, cancel a second batch, and the
// error cases. usage: node roundtrip.mjs SERVER_BINARY
//
// The SDK is pinned (package.json, package-lock.json) to openai 4.104.0,
// the last line that supports Node.js 18 (Debian 12's nodejs): v5 and later
// need Node 20 (a global File for uploads), v7 Node 22. So this file keeps
// to the v4 API (files.del) and to what Node 18 has (no global File).
import fs from 'node:fs';
import path from 'node:path';
import OpenAI, { toFile, NotFoundError, BadRequestError } from 'openai';
import { finish, sleep, startServe } from './serve_harness.mjs';

const bin = process.argv[2];
const t = startServe(bin, 'oab-node-', ['--latency-ms', '60', '--concurrency', '2']);
const { check, tmp } = t;

function lines(n, prefix) {
  let s = '';
  for (let i = 0; i < n; i++) {
    s += JSON.stringify({ custom_id: `${prefix}${i}`, method: 'POST',
      url: '/v1/chat/completions',
      body: { model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: `question ${prefix}${i}` }] } }) + '\n';
  }
  return s;
}

async function waitDone(client, id) {
  for (let i = 0; i < 1200; i++) {
    const b = await client.batches.retrieve(id);
    if (['completed', 'failed', 'expired', 'cancelled'].includes(b.status)) return b;
    await sleep(50);
  }
  throw new Error('batch did not finish: ' + id);
}

async function main() {
  const port = await t.port();
  const client = new OpenAI({ apiKey: 'sk-local', baseURL: `http://127.0.0.1:${port}/v1`,
    maxRetries: 0 });

  // upload, streamed from disk and from a buffer
  const inPath = path.join(tmp, 'in.jsonl');
  fs.writeFileSync(inPath, lines(6, 'a'));
  const f1 = await client.files.create({ file: fs.createReadStream(inPath), purpose: 'batch' });
  check(f1.id.startsWith('file-') && f1.bytes === fs.statSync(inPath).size, 'streamed upload');
  const f2 = await client.files.create({
    file: await toFile(Buffer.from(lines(60, 'b')), 'b.jsonl'), purpose: 'batch' });
  check(f2.filename === 'b.jsonl' && f2.purpose === 'batch', 'buffer upload');
  const got = await client.files.retrieve(f1.id);
  check(got.id === f1.id, 'files.retrieve');

  // create and wait
  const b1 = await client.batches.create({ input_file_id: f1.id,
    endpoint: '/v1/chat/completions', completion_window: '24h',
    metadata: { run: 'node' } });
  check(b1.status === 'validating' && b1.metadata.run === 'node', 'batches.create');
  const done = await waitDone(client, b1.id);
  check(done.status === 'completed', 'completed: ' + done.status);
  check(done.request_counts.total === 6 && done.request_counts.completed === 6, 'counts');
  const content = await client.files.content(done.output_file_id);
  const text = await content.text();
  const out = text.trim().split('\n').map((l) => JSON.parse(l));
  check(out.length === 6, 'output lines');
  check(out.every((o) => o.response.status_code === 200 &&
    o.response.body.choices[0].message.content.includes('question')), 'output bodies');

  // cancel a second batch
  const b2 = await client.batches.create({ input_file_id: f2.id,
    endpoint: '/v1/chat/completions', completion_window: '24h' });
  await sleep(150);
  const c2 = await client.batches.cancel(b2.id);
  check(['cancelling', 'cancelled'].includes(c2.status), 'cancel -> ' + c2.status);
  const d2 = await waitDone(client, b2.id);
  check(d2.status === 'cancelled', 'cancelled: ' + d2.status);
  const errText = await (await client.files.content(d2.error_file_id)).text();
  const errs = errText.trim().split('\n').map((l) => JSON.parse(l));
  check(errs.length > 0 && errs.every((e) => e.error.code === 'batch_cancelled'),
    'batch_cancelled lines');
  let nOut = 0;
  if (d2.output_file_id) {
    nOut = (await (await client.files.content(d2.output_file_id)).text()).trim()
      .split('\n').filter(Boolean).length;
  }
  check(nOut + errs.length === 60, `cancel split ${nOut}+${errs.length}`);

  // a file with a non-JSON line: the batch fails with errors.data
  const bad = lines(2, 'c') + '{this is not json\n';
  const f3 = await client.files.create({ file: await toFile(Buffer.from(bad), 'bad.jsonl'),
    purpose: 'batch' });
  const b3 = await client.batches.create({ input_file_id: f3.id,
    endpoint: '/v1/chat/completions', completion_window: '24h' });
  const d3 = await waitDone(client, b3.id);
  check(d3.status === 'failed', 'bad file -> failed');
  check(d3.errors && d3.errors.data.length >= 1 && d3.errors.data[0].line === 3 &&
    typeof d3.errors.data[0].code === 'string', 'errors.data ' + JSON.stringify(d3.errors));

  // list with pagination (auto-paging uses after=)
  const seen = [];
  for await (const b of client.batches.list({ limit: 1 })) seen.push(b.id);
  check(JSON.stringify(seen) === JSON.stringify([b3.id, b2.id, b1.id]),
    'list newest first over pages: ' + seen.join(','));
  const page = await client.batches.list({ limit: 2 });
  check(page.data.length === 2 && page.hasNextPage(), 'first page has more');
  const files = [];
  for await (const f of client.files.list({ purpose: 'batch' })) files.push(f.id);
  check(files.includes(f1.id) && files.includes(f2.id), 'files.list');

  // errors
  try {
    await client.batches.retrieve('batch_does_not_exist');
    check(false, 'unknown id should throw');
  } catch (e) {
    check(e instanceof NotFoundError && e.status === 404, 'unknown id -> 404 ' + e);
  }
  try {
    await client.batches.create({ input_file_id: f1.id, endpoint: '/v1/chat/completions',
      completion_window: '1h' });
    check(false, 'bad completion_window should throw');
  } catch (e) {
    check(e instanceof BadRequestError && e.status === 400 &&
      e.param === 'completion_window', 'bad completion_window -> 400 ' + e);
  }
  // the synchronous endpoints through the SDK
  const chat = await client.chat.completions.create({ model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'hello sdk' }] });
  check(chat.choices[0].message.content.includes('hello sdk'), 'sync chat');
  const emb = await client.embeddings.create({ model: 'text-embedding-3-small',
    input: 'hi', dimensions: 16 });
  check(emb.data[0].embedding.length === 16, 'sync embeddings (base64 decoded)');
  const del = await client.files.del(f3.id);
  check(del.deleted === true, 'files.delete');

  // stream: true from the built-in model, as the SDK reads it
  const stream = await client.chat.completions.create({ model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'stream these words please' }],
    stream: true, stream_options: { include_usage: true } });
  let chunks = 0, streamed = '', usage = null;
  for await (const ch of stream) {
    chunks++;
    if (ch.choices[0]?.delta?.content) streamed += ch.choices[0].delta.content;
    if (ch.usage) usage = ch.usage;
  }
  check(chunks > 1, `streamed chat in ${chunks} chunks`);
  check(streamed.includes('stream these words please'), 'streamed text: ' + streamed);
  check(usage && usage.total_tokens > 0, 'usage chunk');
  const rs = await client.responses.create({ model: 'gpt-4o-mini',
    input: 'stream a response', stream: true });
  let deltas = 0, completed = null;
  for await (const ev of rs) {
    if (ev.type === 'response.output_text.delta') deltas++;
    if (ev.type === 'response.completed') completed = ev.response;
  }
  check(deltas > 1 && completed && completed.status === 'completed',
    `streamed response: ${deltas} deltas`);
}

await finish(t, 'server_node_sdk', main);
