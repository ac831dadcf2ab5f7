// The peer for bench/serve: what people do today to run a batch file
// against a local model server - read the JSONL and send each line's body
// with the official openai SDK, N requests in flight, writing one output
// line per request. usage: node node_peer.mjs BASE_URL IN.jsonl OUT.jsonl N
// BASE_URL may be several, comma-separated: the workers share them round
// robin (worker i sends to URL i mod count), as a hand-made pool does.
import fs from 'node:fs';
import readline from 'node:readline';
import { createRequire } from 'node:module';
import { pathToFileURL, fileURLToPath } from 'node:url';

// the SDK installed for the tests (tests/harness/node, by scripts/test-deps.sh)
const here = fileURLToPath(new URL('.', import.meta.url));
const req = createRequire(here + '../../tests/harness/node/package.json');
const OpenAI = (await import(pathToFileURL(req.resolve('openai')))).default;

const [baseURL, inPath, outPath, conc] = process.argv.slice(2);
const clients = baseURL.split(',').map((u) =>
  new OpenAI({ apiKey: 'sk-local', baseURL: u, maxRetries: 5 }));
const out = fs.createWriteStream(outPath);
const rl = readline.createInterface({ input: fs.createReadStream(inPath) });
const it = rl[Symbol.asyncIterator]();
let ok = 0, failed = 0;

async function worker(_, i) {
  const client = clients[i % clients.length];
  for (;;) {
    const { value, done } = await it.next();
    if (done) return;
    if (!value.trim()) continue;
    const line = JSON.parse(value);
    try {
      const body = await client.chat.completions.create(line.body);
      out.write(JSON.stringify({ custom_id: line.custom_id,
        response: { status_code: 200, body }, error: null }) + '\n');
      ok++;
    } catch (e) {
      out.write(JSON.stringify({ custom_id: line.custom_id, response: null,
        error: { message: String(e) } }) + '\n');
      failed++;
    }
  }
}

const t0 = performance.now();
await Promise.all(Array.from({ length: parseInt(conc, 10) }, worker));
await new Promise((r) => out.end(r));
const secs = (performance.now() - t0) / 1000;
console.log(JSON.stringify({ ok, failed, seconds: secs }));
