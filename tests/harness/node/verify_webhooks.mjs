// Verifies webhook deliveries with the official openai package's
// client.webhooks.unwrap (the check OpenAI's users run on OpenAI's own
// webhooks). The webhooks API came with openai 5, installed beside the
// 4.x line that the round trip uses (package.json: "openai-webhooks" is
// openai 5.12.0); on Node 18 (Debian 12) the Web Crypto global it needs is
// node:crypto's webcrypto. usage: node verify_webhooks.mjs EVENTS.json
// EVENTS.json: [{"headers": {...}, "body": "..."}]; the secret comes from
// $OAB_WEBHOOK_SECRET. Prints one JSON line per event: {"ok", "type",
// "id", "error"}; then also checks that a tampered body is refused.
import fs from 'node:fs';
import { webcrypto } from 'node:crypto';
import OpenAI from 'openai-webhooks';

if (typeof globalThis.crypto === 'undefined') globalThis.crypto = webcrypto;

const events = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const client = new OpenAI({ apiKey: 'unused',
  webhookSecret: process.env.OAB_WEBHOOK_SECRET });
const out = [];
for (const ev of events) {
  try {
    const e = await client.webhooks.unwrap(ev.body, ev.headers);
    let tamperedRefused = false;
    try {
      await client.webhooks.unwrap(ev.body.replace('"batch_', '"batchX'),
        ev.headers);
    } catch {
      tamperedRefused = true;
    }
    out.push({ ok: true, type: e.type, id: e.id, data: e.data,
      object: e.object, tamperedRefused });
  } catch (err) {
    out.push({ ok: false, error: String(err) });
  }
}
console.log(JSON.stringify(out));
