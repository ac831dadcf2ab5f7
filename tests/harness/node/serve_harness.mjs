// serve_harness.mjs - what the Node SDK tests share (roundtrip.mjs,
// anthropic_roundtrip.mjs): `oaibatch serve` started in a temporary folder,
// checks counted, and the end: a clean stop (SIGTERM, exit code 0: under
// ASan no leak report), the server's log on failure, the folder removed,
// the exit code.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Starts bin with --port 0 --data TMP/data --port-file TMP/port and args.
export function startServe(bin, prefix, args) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const portFile = path.join(tmp, 'port');
  const log = fs.openSync(path.join(tmp, 'server.log'), 'a');
  const server = spawn(bin, ['--port', '0', '--data', path.join(tmp, 'data'),
    '--port-file', portFile, ...args], { stdio: ['ignore', log, log] });
  const t = { tmp, server, passes: 0, failures: 0 };
  t.check = (cond, what) => {
    if (cond) t.passes++;
    else { t.failures++; console.error('CHECK failed: ' + what); }
  };
  t.kill = () => { try { server.kill('SIGKILL'); } catch {} };
  process.on('exit', t.kill);
  // the port, once the server has written it (15 s at most)
  t.port = async () => {
    for (let i = 0; i < 600; i++) {
      if (fs.existsSync(portFile)) return parseInt(fs.readFileSync(portFile, 'utf8'), 10);
      await sleep(25);
    }
    throw new Error('server did not start');
  };
  return t;
}

// Runs main, stops the server cleanly, reports as `name` and exits.
export async function finish(t, name, main) {
  let code = 0;
  try {
    await main();
    const exited = new Promise((r) => t.server.once('exit', (c, sig) => r([c, sig])));
    t.server.kill('SIGTERM');
    const [c, sig] = await Promise.race([exited, sleep(60000).then(() => [null, 'timeout'])]);
    t.check(c === 0, `server exit ${c} ${sig}`);
  } catch (e) {
    console.error(e);
    code = 1;
  } finally {
    t.kill();
  }
  if (t.failures || code) {
    try { console.error(fs.readFileSync(path.join(t.tmp, 'server.log'), 'utf8').slice(-3000)); } catch {}
  }
  fs.rmSync(t.tmp, { recursive: true, force: true });
  console.log(`${name}: ${t.passes} passed, ${t.failures} failed`);
  process.exit(t.failures || code ? 1 : 0);
}
