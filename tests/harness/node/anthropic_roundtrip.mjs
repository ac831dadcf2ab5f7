// The official Anthropic TypeScript SDK against `oaibatch serve`'s
// Anthropic API (issue 16): messages.create, and a Message Batch of plain,
// tool and bad requests (create, retrieve until ended, results(): every
// custom_id once with the right type), list with pages both ways, cancel,
// delete, errors in Anthropic's shape, and the batches kept apart from
// /v1/batches. usage: node anthropic_roundtrip.mjs SERVER_BINARY
//
// The SDK is pinned (package.json, package-lock.json) to
// @anthropic-ai/sdk 0.41.0, the last release that supports Node.js 18
// (Debian 12's nodejs): 0.50.0 and later declare engines node >= 20.
import fs from 'node:fs';
import path from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { finish, sleep, startServe } from './serve_harness.mjs';

const bin = process.argv[2];
const KEY = 'sk-ant-local-0123';
const t = startServe(bin, 'oab-anth-node-', ['--latency-ms', '40', '--concurrency', '2',
  '--api-key', KEY, '--api-key', 'sk-other']);
const { check, tmp } = t;
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const MODEL = 'claude-3-5-haiku-latest';

const WEATHER = {
  name: 'get_weather', description: 'The weather of a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' },
    days: { type: 'integer', minimum: 1, maximum: 7 } }, required: ['city', 'days'],
  additionalProperties: false },
};
const plain = (text) => ({ model: MODEL, max_tokens: 64,
  messages: [{ role: 'user', content: text }] });
const withTool = () => ({ ...plain('weather in Paris?'), tools: [WEATHER],
  tool_choice: { type: 'tool', name: 'get_weather' } });

// Anthropic's error shape: {"type":"error","error":{"type","message"}}
function errorShape(e, status, type, what) {
  check(e instanceof Anthropic.APIError && e.status === status,
    `${what}: status ${e && e.status} (want ${status})`);
  const body = e && e.error;
  check(body && body.type === 'error' && body.error && body.error.type === type &&
        typeof body.error.message === 'string' && body.error.message.length > 0,
  `${what}: error shape ${JSON.stringify(body)}`);
}

async function expectError(p, status, type, what) {
  try {
    await p;
    check(false, `${what}: no error`);
  } catch (e) {
    errorShape(e, status, type, what);
  }
}

async function waitEnded(client, id) {
  for (let i = 0; i < 2400; i++) {
    const b = await client.messages.batches.retrieve(id);
    if (b.processing_status === 'ended') return b;
    await sleep(50);
  }
  throw new Error('batch did not end: ' + id);
}

async function collect(client, id) {
  const out = [];
  for await (const r of await client.messages.batches.results(id)) out.push(r);
  return out;
}

async function main() {
  const port = await t.port();
  const base = `http://127.0.0.1:${port}`;
  const client = new Anthropic({ apiKey: KEY, baseURL: base, maxRetries: 0 });
  const other = new Anthropic({ apiKey: 'sk-other', baseURL: base, maxRetries: 0 });

  // ---- messages.create ----
  const m = await client.messages.create(plain('hello there'));
  check(m.type === 'message' && m.role === 'assistant' && m.model === MODEL, 'message object');
  check(m.content.length === 1 && m.content[0].type === 'text' &&
        m.content[0].text.includes('hello there'), 'message text: ' + JSON.stringify(m.content));
  check(m.stop_reason === 'end_turn' && m.usage.input_tokens > 0 && m.usage.output_tokens > 0,
    'stop_reason and usage');
  const mt = await client.messages.create({ ...withTool(),
    system: 'You are a weather bot.' });
  const tu = mt.content.find((b) => b.type === 'tool_use');
  check(mt.stop_reason === 'tool_use' && tu && tu.name === 'get_weather' &&
        typeof tu.input.city === 'string' && Number.isInteger(tu.input.days) &&
        tu.input.days >= 1 && tu.input.days <= 7, 'tool_use answer: ' + JSON.stringify(mt));
  // a tool round: the tool_result goes back and is answered
  const m2 = await client.messages.create({ model: MODEL, max_tokens: 64, tools: [WEATHER],
    messages: [{ role: 'user', content: 'weather in Paris?' },
      { role: 'assistant', content: mt.content },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: tu.id,
        content: 'sunny' }] }] });
  check(m2.type === 'message' && m2.content.length > 0, 'tool_result turn answered');
  await expectError(client.messages.create({ model: MODEL,
    messages: [{ role: 'user', content: 'x' }] }), 400, 'invalid_request_error',
  'messages.create without max_tokens');
  await expectError(new Anthropic({ apiKey: 'sk-wrong', baseURL: base, maxRetries: 0 })
    .messages.create(plain('x')), 401, 'authentication_error', 'wrong key');

  // ---- a batch: plain, tools, bad requests ----
  const requests = [
    { custom_id: 'plain-1', params: plain('first question') },
    { custom_id: 'plain-2', params: { ...plain('second'), system: 'be brief',
      temperature: 0.2, stop_sequences: ['END'] } },
    { custom_id: 'tool-1', params: withTool() },
    { custom_id: 'bad-max', params: { model: MODEL, messages: [{ role: 'user', content: 'x' }] } },
    { custom_id: 'bad-role', params: { model: MODEL, max_tokens: 10,
      messages: [{ role: 'robot', content: 'x' }] } },
  ];
  const b = await client.messages.batches.create({ requests });
  check(b.type === 'message_batch' && b.id.startsWith('msgbatch_'), 'batch id ' + b.id);
  check(b.processing_status === 'in_progress' && b.results_url === null &&
        b.ended_at === null && b.archived_at === null && b.cancel_initiated_at === null,
  'new batch in_progress: ' + JSON.stringify(b));
  check(RFC3339.test(b.created_at) && RFC3339.test(b.expires_at) &&
        Date.parse(b.expires_at) - Date.parse(b.created_at) === 86400000,
  'created_at / expires_at RFC 3339, 24 h apart');
  const rcSum = (c) => c.processing + c.succeeded + c.errored + c.canceled + c.expired;
  check(rcSum(b.request_counts) === 5, 'request_counts add up: ' + JSON.stringify(b.request_counts));
  await expectError(other.messages.batches.retrieve(b.id), 404, 'not_found_error',
    "another key's batch");
  const done = await waitEnded(client, b.id);
  check(JSON.stringify(done.request_counts) === JSON.stringify(
    { processing: 0, succeeded: 3, errored: 2, canceled: 0, expired: 0 }),
  'ended counts: ' + JSON.stringify(done.request_counts));
  check(RFC3339.test(done.ended_at) && done.results_url ===
        `${base}/v1/messages/batches/${b.id}/results`, 'ended_at and results_url');
  const res = await collect(client, b.id);
  const byId = new Map(res.map((r) => [r.custom_id, r.result]));
  check(res.length === 5 && byId.size === 5, `every custom_id once: ${res.length}`);
  for (const id of ['plain-1', 'plain-2', 'tool-1']) {
    const r = byId.get(id);
    check(r && r.type === 'succeeded' && r.message.type === 'message', `${id} succeeded`);
  }
  check(byId.get('plain-1').message.content[0].text.includes('first question'), 'plain answer');
  const tb = byId.get('tool-1').message.content.find((x) => x.type === 'tool_use');
  check(tb && tb.name === 'get_weather' && typeof tb.input.city === 'string',
    'tool_use in a batch result');
  for (const [id, field] of [['bad-max', 'max_tokens'], ['bad-role', 'role']]) {
    const r = byId.get(id);
    check(r && r.type === 'errored' && r.error.type === 'error' &&
          r.error.error.type === 'invalid_request_error' &&
          r.error.error.message.includes(field), `${id} errored: ${JSON.stringify(r)}`);
  }
  // a second read gives the same lines
  check(JSON.stringify(await collect(client, b.id)) === JSON.stringify(res), 'results re-read');

  // ---- whole-body errors ----
  await expectError(client.messages.batches.create({ requests: [] }), 400,
    'invalid_request_error', 'empty requests');
  await expectError(client.messages.batches.create({ requests: [
    { custom_id: 'same', params: plain('a') }, { custom_id: 'same', params: plain('b') }] }),
  400, 'invalid_request_error', 'duplicate custom_id');
  await expectError(client.messages.batches.create({ requests: [
    { custom_id: 'has space', params: plain('a') }] }), 400, 'invalid_request_error',
  'custom_id pattern');
  await expectError(client.messages.batches.retrieve('msgbatch_nope'), 404,
    'not_found_error', 'unknown batch');

  // ---- cancel: a long batch, canceled while it runs ----
  const many = [];
  for (let i = 0; i < 120; i++) many.push({ custom_id: `c-${i}`, params: plain(`q${i}`) });
  const cb = await client.messages.batches.create({ requests: many });
  await expectError(client.messages.batches.delete(cb.id), 400, 'invalid_request_error',
    'delete while processing');
  const c1 = await client.messages.batches.cancel(cb.id);
  check(['canceling', 'ended'].includes(c1.processing_status) &&
        RFC3339.test(c1.cancel_initiated_at), 'cancel: ' + JSON.stringify(c1));
  const cdone = await waitEnded(client, cb.id);
  const cc = cdone.request_counts;
  check(cc.canceled > 0 && cc.succeeded + cc.canceled === 120 && cc.processing === 0,
    'canceled counts: ' + JSON.stringify(cc));
  const cres = await collect(client, cb.id);
  const cids = new Set(cres.map((r) => r.custom_id));
  check(cres.length === 120 && cids.size === 120, 'canceled batch: every custom_id once');
  check(cres.filter((r) => r.result.type === 'canceled').length === cc.canceled &&
        cres.filter((r) => r.result.type === 'succeeded').length === cc.succeeded,
  'result types match the counts');
  const again = await client.messages.batches.cancel(cb.id);
  check(again.processing_status === 'ended', 'cancel of an ended batch leaves it ended');

  // ---- list: newest first, pages both ways ----
  const ids = [b.id, cb.id];
  for (let i = 0; i < 3; i++)
    ids.push((await client.messages.batches.create({ requests: [
      { custom_id: 'l', params: plain(`l${i}`) }] })).id);
  const seen = [];
  for await (const x of client.messages.batches.list({ limit: 2 })) seen.push(x.id);
  check(JSON.stringify(seen) === JSON.stringify([...ids].reverse()),
    `list (auto-paged) newest first: ${seen}`);
  const p1 = await client.messages.batches.list({ limit: 2 });
  check(p1.data.length === 2 && p1.has_more === true && p1.first_id === ids[4] &&
        p1.last_id === ids[3], 'first page');
  const older = await client.messages.batches.list({ limit: 2, after_id: p1.last_id });
  check(JSON.stringify(older.data.map((x) => x.id)) === JSON.stringify([ids[2], ids[1]]),
    'after_id page');
  const newer = await client.messages.batches.list({ limit: 2, before_id: ids[1] });
  check(JSON.stringify(newer.data.map((x) => x.id)) === JSON.stringify([ids[3], ids[2]]) &&
        newer.has_more === true, 'before_id page: ' + JSON.stringify(newer.data.map((x) => x.id)));
  const otherList = await other.messages.batches.list();
  check(otherList.data.length === 0, "another key's list is empty");
  await expectError(client.messages.batches.list({ limit: 0 }), 400, 'invalid_request_error',
    'limit 0');
  // the OpenAI API of the same key does not see Anthropic batches
  const ob = await (await fetch(`${base}/v1/batches`, {
    headers: { Authorization: `Bearer ${KEY}` } })).json();
  check(ob.object === 'list' && ob.data.length === 0, '/v1/batches has no message batches');
  const of = await (await fetch(`${base}/v1/files`, {
    headers: { Authorization: `Bearer ${KEY}` } })).json();
  check(of.data.length === 0, '/v1/files has no message batch files');

  // ---- delete ----
  const del = await client.messages.batches.delete(b.id);
  check(del.id === b.id && del.type === 'message_batch_deleted', 'delete');
  await expectError(client.messages.batches.retrieve(b.id), 404, 'not_found_error',
    'retrieve after delete');
  const after = [];
  for await (const x of client.messages.batches.list()) after.push(x.id);
  check(!after.includes(b.id) && after.length === 4, 'deleted batch not listed');
}

await finish(t, 'server_anthropic_sdk', main);
